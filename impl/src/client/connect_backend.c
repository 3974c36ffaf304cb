/*
 * connect_backend.c - a client's route to its backend (spec/hello.md §6,
 * spec/handoff.md §6): the Hello, then the handed-off broker connection
 * when one is agreed and checks out, else backend_pipe.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rpb/client.h"
#include "rpb/handoff.h"
#include "reply.h"

#define HELLO_REQUEST_ID 1 /* upstream's client */

const char *rpb_backend_route_name(rpb_backend_route route)
{
    switch (route) {
    case RPB_ROUTE_NONE:
        return "none";
    case RPB_ROUTE_RECONNECT:
        return "reconnect";
    case RPB_ROUTE_HANDOFF:
        return "handoff";
    }
    return NULL;
}

void rpb_backend_conn_free(rpb_backend_conn *out)
{
    if (!out)
        return;
    rpb_buf_free(&out->reply);
    rpb_buf_free(&out->scratch);
}

/* Writes the Hello, reads and classifies the reply into out. */
static int hello_exchange(int fd, const rpb_hello *hello, const rpb_connect_options *opt,
                          rpb_backend_conn *out, rpb_errinfo *err)
{
    rpb_hello h = *hello;
    if (opt->flags & RPB_CONNECT_ADOPT) /* HELLO-060: bit 0 when adopting */
        h.client_capabilities |= RPB_CAP_HANDLE_PASSING;
    return rpb_client_hello_exchange(fd, NULL, &h, HELLO_REQUEST_ID, opt->deadline_ms, &out->reply,
                                     &out->scratch, &out->result, err);
}

/* HANDOFF-050, HANDOFF-051: one frame within the ready deadline, checked.
 * The wait ends at the ready deadline or at the call's overall deadline,
 * whichever comes first. */
static int await_ready(int fd, const rpb_negotiated *neg, const rpb_connect_options *opt)
{
    int wait_ms = opt->ready_timeout_ms > 0 ? opt->ready_timeout_ms : RPB_HANDOFF_READY_TIMEOUT_MS;
    int64_t deadline = rpb_monotonic_ms() + wait_ms;
    if (opt->deadline_ms >= 0 && opt->deadline_ms < deadline) /* RPB_NO_DEADLINE: none */
        deadline = opt->deadline_ms;
    rpb_buf body = {0};
    rpb_handoff_ack ack;
    int rc = rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, deadline, &body, NULL);
    if (rc == RPB_OK)
        rc = rpb_handoff_ready_check(body.data, body.len, neg->handle_passed_token.data,
                                     neg->handle_passed_token.len, &ack, NULL);
    rpb_buf_free(&body);
    return rc;
}

int rpb_connect_backend_fd(int broker_fd, const rpb_hello *hello, const rpb_connect_options *opt,
                           rpb_backend_conn *out, rpb_errinfo *err)
{
    if (!out)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (broker_fd < 0 || !hello || !opt) {
        if (broker_fd >= 0)
            close(broker_fd);
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    }
    int rc = hello_exchange(broker_fd, hello, opt, out, err);
    out->replied = rc == RPB_OK;
    if (rc != RPB_OK || out->result.kind != RPB_HELLO_RESULT_NEGOTIATED) {
        close(broker_fd);
        return rc;
    }
    const rpb_negotiated *neg = &out->result.reply.negotiated;
    if ((opt->flags & RPB_CONNECT_ADOPT) && rpb_handoff_agreed(neg)) { /* HANDOFF-001 */
        out->handoff_status = await_ready(broker_fd, neg, opt);
        if (out->handoff_status == RPB_OK) {
            out->fd = broker_fd;
            out->route = RPB_ROUTE_HANDOFF;
            return rpb_errinfo_set(err, RPB_OK, 0);
        }
    }
    /* HANDOFF-052: every other outcome is silent: backend_pipe. */
    close(broker_fd);
    int fd = rpb_hello_connect_backend(&out->result, opt->deadline_ms); /* HELLO-064/065 */
    if (fd < 0) {
        int e = errno;
        rpb_errinfo_set(err, fd, 0);
        errno = e;
        return fd;
    }
    out->fd = fd;
    out->route = RPB_ROUTE_RECONNECT;
    return rpb_errinfo_set(err, RPB_OK, 0);
}

int rpb_connect_backend(const char *broker_path, const rpb_hello *hello,
                        const rpb_connect_options *opt, rpb_backend_conn *out, rpb_errinfo *err)
{
    if (!out)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (!broker_path || !opt)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    int fd = rpb_client_connect(broker_path, opt->deadline_ms);
    if (fd < 0) {
        int e = errno;
        rpb_errinfo_set(err, fd, 0);
        errno = e;
        return fd;
    }
    return rpb_connect_backend_fd(fd, hello, opt, out, err);
}
