/*
 * hello_connect.c - the whole client exchange of spec/hello.md §6 over
 * sockets: Hello to the broker, reply classified, and after a Negotiated
 * the connection to backend_pipe (HELLO-064, HELLO-065).  No retries
 * (HELLO-069): a refusal goes back to the caller with its retry_after_ms.
 */
#include <errno.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpb/client.h"
#include "rpb/error.h"
#include "rpb/rpb.h"
#include "reply.h"

int rpb_hello_connect_backend(const rpb_hello_result *res, int64_t deadline_ms)
{
    /* HELLO-064: no backend to connect to; HELLO-065: backend_pipe is a
     * filesystem path byte for byte, so a NUL anywhere (an abstract-namespace
     * name starts with one) or a path sun_path cannot hold is refused
     * before any connect */
    rpb_slice pipe = res->reply.negotiated.backend_pipe;
    char path[sizeof((struct sockaddr_un *)0)->sun_path];
    if (res->kind != RPB_HELLO_RESULT_NEGOTIATED || pipe.len == 0 || pipe.len >= sizeof path ||
        memchr(pipe.data, '\0', pipe.len) != NULL)
        return RPB_ERR_INVALID_ARGUMENT;
    memcpy(path, pipe.data, pipe.len);
    path[pipe.len] = '\0';
    return rpb_client_connect(path, deadline_ms);
}

/* rpb_hello_reply_classify() of body into res, with the arena of its
 * warnings and details in nodes (rpb_arena_bound(body->len) bytes). */
static int classify(const rpb_buf *body, rpb_buf *nodes, rpb_hello_result *res, rpb_errinfo *err)
{
    size_t arena_cap = rpb_arena_bound(body->len);
    if (rpb_buf_reserve(nodes, arena_cap ? arena_cap : 1) != RPB_OK)
        return rpb_errinfo_set(err, RPB_ERR_NO_MEMORY, 0);
    rpb_arena arena;
    rpb_arena_init(&arena, nodes->data, arena_cap);
    return rpb_errinfo_set(err, rpb_hello_reply_classify(body->data, body->len, &arena, res), 0);
}

int rpb_client_hello_exchange(int fd, const char *broker_path, const rpb_hello *hello,
                              uint64_t request_id, int64_t deadline_ms, rpb_buf *body,
                              rpb_buf *nodes, rpb_hello_result *res, rpb_errinfo *err)
{
    rpb_errinfo_set(err, RPB_OK, 0);
    uint8_t small[1024]; /* most Hellos; the longest (64 KiB) goes to big */
    rpb_buf big = {0};
    uint8_t *req = small;
    size_t len;
    int rc = rpb_hello_request_encode(hello, request_id, small, sizeof small, &len); /* HELLO-068 */
    if (rc == RPB_ERR_BUFFER_TOO_SMALL && (rc = rpb_buf_reserve(&big, len)) == RPB_OK) {
        req = big.data;
        rc = rpb_hello_request_encode(hello, request_id, req, len, &len);
    }
    if (rc == RPB_OK)
        rc = fd >= 0 ? rpb_client_exchange_fd(fd, req, len, deadline_ms, body, err)
                     : rpb_client_exchange(broker_path, req, len, deadline_ms, body, err);
    rpb_buf_free(&big);
    if (rc != RPB_OK) /* read errors carry their offset already */
        return err && err->code == rc ? rc : rpb_errinfo_set(err, rc, 0);
    return classify(body, nodes, res, err);
}

void rpb_hello_outcome_free(rpb_hello_outcome *out)
{
    if (out == NULL)
        return;
    rpb_buf_free(&out->body);
    rpb_buf_free(&out->nodes);
    if (out->backend_fd >= 0)
        close(out->backend_fd);
    out->backend_fd = -1;
}

int rpb_client_hello(const char *broker_path, const rpb_hello *hello, uint64_t request_id,
                     int64_t deadline_ms, rpb_hello_outcome *out, rpb_errinfo *err)
{
    memset(out, 0, sizeof *out);
    out->backend_fd = -1;
    /* HELLO-063: connect, write, read under one deadline; the broker
     * connection is closed before the backend is connected (HELLO-065);
     * HELLO-061, HELLO-064, HELLO-066, HELLO-067: the reply classified */
    int rc = rpb_client_hello_exchange(-1, broker_path, hello, request_id, deadline_ms, &out->body,
                                       &out->nodes, &out->res, err);
    if (rc != RPB_OK)
        return rc;
    out->replied = true;
    if (out->res.kind != RPB_HELLO_RESULT_NEGOTIATED)
        return RPB_OK; /* HELLO-062, HELLO-069: the caller decides whether and when to retry */
    int fd = rpb_hello_connect_backend(&out->res, deadline_ms);
    if (fd < 0)
        return rpb_errinfo_set(err, fd, 0); /* HELLO-065: reported, no new Hello */
    out->backend_fd = fd;
    return RPB_OK;
}
