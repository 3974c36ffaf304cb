/*
 * client_cli.h - what the rpb-client subcommands share.
 */
#ifndef RPB_CLIENT_CLI_H
#define RPB_CLIENT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "rpb/io.h"

#define PROG "rpb-client"

#define EXIT_TRANSPORT 1
#define EXIT_PROTOCOL 3
#define EXIT_REFUSED_BASE 10 /* + ErrorCode (0..9); unknown codes count as 0 */

/* Where the request goes: a socket, through the rendezvous when autostart
 * is not NULL ("" for the default broker command). */
typedef struct client_target {
    const char *socket_path;
    const char *autostart;
} client_target;

/* One request/reply exchange with the target (autostart.c). */
int client_exchange(const client_target *t, const uint8_t *req, size_t len, int64_t deadline, rpb_buf *reply);

/* `rpb-client names ...` (argv[0] is "names"). */
int rpb_client_names_main(int argc, char **argv);

/* `rpb-client probe ...` (argv[0] is "probe"). */
int probe_main(int argc, char **argv);

#endif
