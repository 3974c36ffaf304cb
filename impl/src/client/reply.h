/*
 * reply.h - the reply step the client calls share (hello_connect.c,
 * connect_backend.c); internal, not installed.
 */
#ifndef RPB_CLIENT_REPLY_H
#define RPB_CLIENT_REPLY_H

#include "rpb/client.h"

/* rpb_hello_reply_classify() of body into res, with the arena of its
 * warnings and details in nodes (rpb_arena_bound(body->len) bytes):
 * RPB_OK, RPB_ERR_NO_MEMORY or a classify error; err gets the code. */
int rpb_client_classify(const rpb_buf *body, rpb_buf *nodes, rpb_hello_result *res,
                        rpb_errinfo *err);

#endif
