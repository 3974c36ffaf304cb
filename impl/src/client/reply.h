/*
 * reply.h - the Hello round trip the client calls share (hello_connect.c,
 * connect_backend.c); internal, not installed.
 */
#ifndef RPB_CLIENT_REPLY_H
#define RPB_CLIENT_REPLY_H

#include "rpb/client.h"

/*
 * Frames hello with request_id (HELLO-068) and exchanges it with the broker
 * under deadline_ms (HELLO-063): on fd, or when fd < 0 on a new connection
 * to broker_path, closed after the reply (nothing is connected when hello
 * cannot be encoded).  The reply body goes to body and is classified into
 * res (rpb_hello_reply_classify) with the arena of its warnings and details
 * in nodes.  The request is built on the stack, or in an rpb_buf (rpb_mem)
 * when it is longer.  Returns RPB_OK or the first failure:
 * RPB_ERR_FRAME_TOO_LARGE, RPB_ERR_NO_MEMORY, rpb_client_exchange()'s, or a
 * classify error; err gets the code (and a read error's offset).
 */
int rpb_client_hello_exchange(int fd, const char *broker_path, const rpb_hello *hello,
                              uint64_t request_id, int64_t deadline_ms, rpb_buf *body,
                              rpb_buf *nodes, rpb_hello_result *res, rpb_errinfo *err);

#endif
