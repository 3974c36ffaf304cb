/*
 * client_cli.h - what the rpb-client subcommands share.
 */
#ifndef RPB_CLIENT_CLI_H
#define RPB_CLIENT_CLI_H

#define EXIT_TRANSPORT 1
#define EXIT_USAGE 2
#define EXIT_PROTOCOL 3
#define EXIT_REFUSED_BASE 10 /* + ErrorCode (0..9); unknown codes count as 0 */

/* Prints "rpb-client: <msg><arg>" and the --help hint; returns EXIT_USAGE. */
int usage_error(const char *msg, const char *arg);

/* `rpb-client names ...` (argv[0] is "names"). */
int rpb_client_names_main(int argc, char **argv);

#endif
