/*
 * The event loop of rpb-backend: one thread, epoll over non-blocking
 * sockets.  Every connection goes through librpb's mux (spec/probe.md
 * MUX-001..MUX-005): probes are answered, the echo protocol is served
 * (MUX-008), anything else closes the connection.  Every connection has
 * a deadline for its next frame and for writing its replies (MUX-006).
 * Connections on the handoff socket go to the receiver (receiver.c) in
 * the same loop, each under its own deadline (HANDOFF-046).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

#define READ_CHUNK 65536u

/* One line per connection: "connection" (served), or "handoff" (a
 * handoff connection; an adopted descriptor is logged as the served
 * connection adopted_conn). */
static void log_conn(const backend *b, const conn *c, const char *outcome, int rc,
                     const char *requirement)
{
    blog_field f[10];
    size_t n = 0;
    f[n++] = BLOG_N("conn", c->seq);
    f[n++] = BLOG_N("pid", c->pid);
    f[n++] = BLOG_N("uid", c->uid);
    bool handoff = c->kind == CONN_HANDOFF;
    if (!handoff)
        f[n++] = BLOG_S("via", c->kind == CONN_ADOPTED ? "handoff" : "socket");
    f[n++] = BLOG_S("outcome", outcome);
    if (rc < 0) {
        f[n++] = BLOG_S("class", rpb_errname(rc));
        f[n++] = BLOG_S("requirement", requirement ? requirement : rpb_err_requirement(rc));
    }
    if (handoff && strcmp(outcome, "adopted") == 0)
        f[n++] = BLOG_N("adopted_conn", b->seq + 1);
    if (!handoff) {
        f[n++] = BLOG_N("probes", c->probes);
        f[n++] = BLOG_N("payloads", c->payloads);
    }
    f[n++] = BLOG_N("ms", rpb_monotonic_ms() - c->opened_ms);
    blog_event(handoff ? "handoff" : "connection", f, n);
}

void conn_close(backend *b, conn *c, const char *outcome, int rc, const char *requirement)
{
    log_conn(b, c, outcome, rc, requirement);
    dl_remove(c->kind == CONN_HANDOFF ? &b->hdl : &b->dl, &c->dl);
    if (c->kind == CONN_ADOPTED) /* the broker may still hold the open file: it would stay watched */
        epoll_ctl(b->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd); /* the last descriptor of an accepted socket also leaves the epoll set */
    if (c->received_fd >= 0) /* HANDOFF-041, HANDOFF-045: never kept */
        close(c->received_fd);
    rpb_buf_free(&c->in);
    rpb_buf_free(&c->out);
    free(c);
    if (--b->n_conns == 0)
        b->idle_since_ms = rpb_monotonic_ms();
}

/* Watches c for events: added to the epoll set the first time, modified
 * only when they change.  False when epoll_ctl failed. */
static bool conn_watch(backend *b, conn *c, uint32_t events)
{
    if (c->watched && c->events == events)
        return true;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(b->ep, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0)
        return false;
    c->watched = true;
    c->events = events;
    return true;
}

void conn_wait_input(backend *b, conn *c)
{
    if (!conn_watch(b, c, EPOLLIN | EPOLLRDHUP))
        conn_close(b, c, "epoll-failed", RPB_ERR_IO, NULL);
}

/* MUX-008: a REQUEST on the echo protocol is answered with its payload. */
static int echo(conn *c, const rpb_frame *request)
{
    if (request->kind != RPB_FRAME_KIND_REQUEST)
        return RPB_OK;
    rpb_frame response = rpb_frame_response_to(request, request->payload);
    size_t need = rpb_frame_encoded_len(&response), written;
    int rc = rpb_buf_reserve(&c->out, need);
    if (rc != RPB_OK)
        return rc;
    rc = rpb_frame_encode(&response, c->out.data + c->out.len, need, &written);
    if (rc == RPB_OK)
        c->out.len += written;
    return rc;
}

/* MUX-001..MUX-005: classifies every complete frame received so far.
 * Returns RPB_OK (need more bytes) or the connection-fatal class. */
static int classify(backend *b, conn *c)
{
    size_t off = 0;
    int rc = RPB_OK;
    while (rc == RPB_OK) {
        rpb_mux_result r;
        rc = rpb_mux_poll(&b->mux, c->in.data + off, c->in.len - off, b->reply.data,
                          b->reply.cap, &r, NULL);
        if (rc == RPB_ERR_BUFFER_TOO_SMALL) {
            rc = rpb_buf_reserve(&b->reply, r.reply_len);
            continue;
        }
        if (rc != RPB_OK)
            break;
        if (r.kind == RPB_MUX_PROBE_ANSWERED) {
            c->probes++;
            rc = rpb_buf_append(&c->out, b->reply.data, r.reply_len);
        } else {
            c->payloads++;
            rc = echo(c, &r.frame);
        }
        off += r.consumed;
    }
    if (off > 0) { /* MUX-006: the deadline is for the next frame */
        dl_remove(&b->dl, &c->dl);
        dl_append(&b->dl, &c->dl, rpb_monotonic_ms() + b->cfg->frame_timeout_ms);
    }
    memmove(c->in.data, c->in.data + off, c->in.len - off);
    c->in.len -= off;
    return rc == RPB_NEED_MORE ? RPB_OK : rc;
}

/* Writes what is pending; switches the connection between reading and
 * waiting for write space (no reading while replies are unread). */
void conn_flush(backend *b, conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            if (!conn_watch(b, c, EPOLLOUT))
                conn_close(b, c, "epoll-failed", RPB_ERR_IO, NULL);
            return;
        }
        if (w < 0) {
            conn_close(b, c, "peer-gone", RPB_ERR_IO, NULL);
            return;
        }
        c->out_off += (size_t)w;
    }
    c->out.len = c->out_off = 0;
    if (c->kind == CONN_HANDOFF) {
        receiver_acked(b, c);
        return;
    }
    if (c->fatal) {
        conn_close(b, c, "error", c->fatal, NULL);
        return;
    }
    if (c->eof) {
        conn_close(b, c, c->in.len ? "eof-mid-frame" : "closed",
                   c->in.len ? RPB_ERR_UNEXPECTED_EOF : RPB_OK, NULL);
        return;
    }
    conn_wait_input(b, c);
}

static void conn_read(backend *b, conn *c)
{
    if (rpb_buf_reserve(&c->in, READ_CHUNK) != RPB_OK) {
        conn_close(b, c, "no-memory", RPB_ERR_NO_MEMORY, NULL);
        return;
    }
    ssize_t n = recv(c->fd, c->in.data + c->in.len, READ_CHUNK, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        conn_wait_input(b, c); /* watched from now, if it was not yet */
        return;
    }
    if (n < 0) {
        conn_close(b, c, "peer-gone", RPB_ERR_IO, NULL);
        return;
    }
    if (n == 0)
        c->eof = true;
    c->in.len += (size_t)n;
    int rc = classify(b, c);
    if (rc != RPB_OK) {
        /* MUX-005: a mux error closes the connection without a reply to the
         * bad frame; the answers to the frames before it are still written */
        c->fatal = rc;
        c->in.len = 0;
    }
    conn_flush(b, c);
}

/* MUX-007: only peers of our own uid are served, on either socket. */
conn *conn_open(backend *b, int fd, conn_kind kind)
{
    conn *c = calloc(1, sizeof *c);
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->received_fd = -1;
    c->kind = kind;
    c->seq = ++b->seq;
    c->opened_ms = rpb_monotonic_ms();
    if (kind == CONN_HANDOFF) /* HANDOFF-046: one deadline for the whole exchange */
        dl_append(&b->hdl, &c->dl, c->opened_ms + b->cfg->handoff_timeout_ms);
    else
        dl_append(&b->dl, &c->dl, c->opened_ms + b->cfg->frame_timeout_ms);
    b->n_conns++;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
        c->pid = cr.pid;
        c->uid = cr.uid;
    }
    if (len != sizeof cr || cr.uid != b->euid)
        conn_close(b, c, "dropped", RPB_OK, NULL);
    else if (b->n_conns > b->cfg->max_connections)
        conn_close(b, c, "over-capacity", RPB_OK, NULL);
    else
        return c;
    return NULL;
}

/* Reads what connection c has brought and advances it; a read that would
 * block puts it into the epoll set. */
static void conn_input(backend *b, conn *c)
{
    if (c->kind == CONN_HANDOFF)
        receiver_read(b, c);
    else
        conn_read(b, c);
}

/* One connection per readiness of listener l: the epoll set is level
 * triggered, so the next round reports the ones still waiting, and no
 * accept(2) ends in EAGAIN.  The connection is read at once, before it
 * is watched: a client's first frame (an echo after a reconnect, a probe)
 * and a broker's descriptor and offer (HANDOFF-040) come with the
 * connect, and an exchange that is all there costs no epoll round. */
static void accept_one(backend *b, const broker_listener *l, conn_kind kind)
{
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return; /* EAGAIN, or EMFILE: the next round retries */
    conn *c = conn_open(b, fd, kind);
    if (c)
        conn_input(b, c);
}

/* MUX-006, HANDOFF-046: connections past their deadline are closed. */
static void expire(backend *b, int64_t now)
{
    dl_node *n;
    while ((n = dl_expired(&b->dl, now)) != NULL || (n = dl_expired(&b->hdl, now)) != NULL) {
        conn *c = (conn *)n;
        conn_close(b, c, "deadline", RPB_ERR_TIMEOUT, c->kind == CONN_HANDOFF ? "HANDOFF-046" : "MUX-006");
    }
}

static int next_timeout(const backend *b, int64_t now)
{
    int64_t wake = b->dl.head ? b->dl.head->deadline_ms : INT64_MAX;
    if (b->hdl.head && b->hdl.head->deadline_ms < wake)
        wake = b->hdl.head->deadline_ms;
    if (b->n_conns == 0 && b->cfg->idle_timeout_s)
        wake = b->idle_since_ms + (int64_t)b->cfg->idle_timeout_s * 1000;
    if (wake == INT64_MAX)
        return -1;
    return wake <= now ? 0 : wake - now > 60000 ? 60000 : (int)(wake - now);
}

static int setup(backend *b)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    b->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    if (b->sigfd < 0 || b->ep < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &b->sigfd};
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->sigfd, &ev) != 0)
        return -1;
    ev.data.ptr = b->l;
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->l->fd, &ev) != 0)
        return -1;
    if (!b->hl)
        return 0;
    b->recent = calloc(BACKEND_RECENT_TOKENS, sizeof *b->recent);
    ev.data.ptr = b->hl;
    return b->recent ? epoll_ctl(b->ep, EPOLL_CTL_ADD, b->hl->fd, &ev) : -1;
}

int backend_run(const backend_config *cfg, broker_listener *l, broker_listener *hl,
                const rpb_daemon_process *self)
{
    backend b = {.cfg = cfg, .l = l, .hl = hl, .ep = -1, .sigfd = -1, .euid = geteuid()};
    b.served[0] = cfg->echo_protocol;
    b.mux = (rpb_mux){self, b.served, cfg->has_echo ? 1 : 0, BACKEND_MAX_FRAME};
    b.idle_since_ms = rpb_monotonic_ms();
    int status = EXIT_BACKEND_OK;
    if (setup(&b) != 0) {
        blog_msg("event loop set-up failed: %s", strerror(errno));
        status = EXIT_BACKEND_RUNTIME;
        b.stop = true;
    }
    while (!b.stop) {
        struct epoll_event evs[64];
        int64_t now = rpb_monotonic_ms();
        int n = epoll_wait(b.ep, evs, 64, next_timeout(&b, now));
        if (n < 0 && errno != EINTR) {
            blog_msg("epoll_wait: %s", strerror(errno));
            status = EXIT_BACKEND_RUNTIME;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &b.sigfd) {
                struct signalfd_siginfo si;
                if (read(b.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                    blog_event("exit", (blog_field[]){BLOG_S("reason", "signal"),
                                                        BLOG_N("signal", si.ssi_signo)}, 2);
                    b.stop = true;
                }
            } else if (evs[i].data.ptr == b.l) {
                accept_one(&b, b.l, CONN_SOCKET);
            } else if (evs[i].data.ptr == b.hl) {
                accept_one(&b, b.hl, CONN_HANDOFF);
            } else {
                conn *c = evs[i].data.ptr;
                if (evs[i].events & EPOLLOUT)
                    conn_flush(&b, c);
                else
                    conn_input(&b, c);
            }
        }
        now = rpb_monotonic_ms();
        expire(&b, now);
        if (b.n_conns == 0 && cfg->idle_timeout_s &&
            now - b.idle_since_ms >= (int64_t)cfg->idle_timeout_s * 1000) {
            blog_event("exit", (blog_field[]){BLOG_S("reason", "idle"),
                                                BLOG_N("idle_timeout_secs", cfg->idle_timeout_s)}, 2);
            b.stop = true;
        }
    }
    while (b.dl.head || b.hdl.head)
        conn_close(&b, (conn *)(b.dl.head ? b.dl.head : b.hdl.head), "shutdown", RPB_OK, NULL);
    rpb_buf_free(&b.reply);
    free(b.recent);
    if (b.ep >= 0)
        close(b.ep);
    if (b.sigfd >= 0)
        close(b.sigfd);
    return status;
}
