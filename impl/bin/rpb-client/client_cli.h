/*
 * client_cli.h - what the rpb-client subcommands share.
 */
#ifndef RPB_CLIENT_CLI_H
#define RPB_CLIENT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/error.h"
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

/* A call on a fresh connection fd to the broker, which it owns (closes or
 * keeps).  Returns RPB_OK or a class; sets *no_reply when the connection
 * ended before any reply byte (client_no_reply). */
typedef int (*client_call_fn)(int fd, void *ctx, bool *no_reply);

/* Connects to the target's broker (through the rendezvous with autostart,
 * saying on stderr how it got there) and runs call on the connection; a
 * call that ends with *no_reply after a rendezvous runs once more on a new
 * one (RDV-012).  Returns call's result or the connect's failure
 * (autostart.c). */
int client_call(const client_target *t, int64_t deadline, client_call_fn call, void *ctx);

/* Whether rc (err, errno e) of a call means no reply byte was read. */
bool client_no_reply(int rc, const rpb_errinfo *err, int e);

/* One request/reply exchange with the target. */
int client_exchange(const client_target *t, const uint8_t *req, size_t len, int64_t deadline, rpb_buf *reply);

/* `rpb-client names ...` (argv[0] is "names"). */
int rpb_client_names_main(int argc, char **argv);

/* `rpb-client probe ...` (argv[0] is "probe"). */
int probe_main(int argc, char **argv);

#endif
