/*
 * The event loop of rpb-broker: one epoll loop, non-blocking sockets, no
 * thread per connection (SEC-005).  Every connection gets the handshake
 * deadline (SEC-006); nothing a client does ends the loop (SEC-007).  The
 * protocol decisions are all made by the I/O-free rpb_control_step().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "rpb/control.h"
#include "rpb/error.h"
#include "rpb/io.h"

#define IN_INITIAL 512u

typedef struct conn {
    dl_node dl; /* first: the deadline FIFO's node is the connection */
    int fd;
    uint64_t seq;
    rpb_peer peer;
    int64_t started_ms;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out; /* unsent rest of the reply */
    size_t out_len, out_off;
    /* outcome for the log line */
    const char *outcome;
    rpb_refusal refusal;
    int32_t admin_verb;
    uint32_t admin_exit;
    uint64_t connection_id;
    uint64_t request_id;
    char service[RPB_SERVICE_NAME_MAX + 1];
    char version[RPB_WANTED_VERSION_MAX + 1];
    /* waiting for the launch of its backend (LAUNCH-007) */
    rpb_launch_slot *waiting;
    rpb_hello_decision *pending;
    handoff_attempt *handoff; /* its Negotiated carries a token (HANDOFF-001) */
    bool watched;             /* in the epoll set (see conn_new) */
} conn;

typedef struct broker {
    const broker_config *cfg;
    broker_listener *l;
    broker_services *s;
    rpb_hello_handler *h;
    int ep, sigfd, reserve_fd;
    conn **by_fd;
    size_t by_fd_cap;
    dl_list dl;
    uint64_t seq;
    rpb_admin_context admin;
    broker_timers t;
    int64_t (*now)(void);
    uint8_t *reply;
    broker_launcher *launch; /* --launch only */
    broker_handoff *handoff;
} broker;

static void update_flags(broker *b)
{
    rpb_hello_handler_set_flags(b->h, (b->t.demoted ? RPB_HELLO_FD_PRESSURE : 0) |
                                          (b->t.draining ? RPB_HELLO_DRAINING : 0));
}

/* ---- logging of outcomes (SEC-015); no token or auth field of the Hello
 * is ever a log field (SEC-016) ---- */

/* The code and reason fields of refusal r; returns their number. */
static size_t refusal_fields(blog_field *f, rpb_refusal r)
{
    f[0] = BLOG_S("code", rpb_enum_name(&rpb_error_code_enum, rpb_refusal_code(r)));
    f[1] = BLOG_S("reason", rpb_refusal_reason(r));
    return 2;
}

static void log_conn(broker *b, const conn *c, const char *write_status)
{
    blog_field f[16];
    size_t n = 0;
    f[n++] = BLOG_N("conn", c->seq);
    f[n++] = BLOG_N("pid", c->peer.pid);
    f[n++] = BLOG_N("uid", c->peer.uid);
    f[n++] = BLOG_S("outcome", c->outcome);
    if (c->refusal != RPB_REFUSAL_NONE) {
        n += refusal_fields(f + n, c->refusal);
        f[n++] = BLOG_S("requirement", rpb_refusal_requirement(c->refusal));
    }
    if (c->service[0])
        f[n++] = BLOG_S("service", c->service);
    if (c->version[0])
        f[n++] = BLOG_S("version", c->version);
    if (c->connection_id)
        f[n++] = BLOG_N("connection_id", c->connection_id);
    if (c->admin_verb >= 0) {
        const char *verb = rpb_enum_name(&rpb_admin_verb_enum, c->admin_verb);
        if (verb)
            f[n++] = BLOG_S("verb", verb);
        else
            f[n++] = BLOG_N("verb", c->admin_verb);
        f[n++] = BLOG_N("exit_code", c->admin_exit);
    }
    f[n++] = BLOG_N("request_id", c->request_id);
    f[n++] = BLOG_N("ms", b->now() - c->started_ms);
    if (write_status)
        f[n++] = BLOG_S("write", write_status);
    blog_event("connection", f, n);
}

/* A connection closed before it was registered (dropped, over capacity). */
static void log_early(uint64_t seq, const rpb_peer *peer, const char *outcome, rpb_refusal r)
{
    blog_field f[8];
    size_t n = 0;
    f[n++] = BLOG_N("conn", seq);
    f[n++] = BLOG_N("pid", peer->pid);
    f[n++] = BLOG_N("uid", peer->uid);
    f[n++] = BLOG_S("outcome", outcome);
    if (r != RPB_REFUSAL_NONE)
        n += refusal_fields(f + n, r);
    blog_event("connection", f, n);
}

/* ---- connections ---- */

/* Logs and forgets c; its fd stays open. */
static void conn_release(broker *b, conn *c, const char *write_status)
{
    log_conn(b, c, write_status);
    dl_remove(&b->dl, &c->dl);
    b->by_fd[c->fd] = NULL;
    b->admin.connections_open--;
    free(c->in);
    free(c->out);
    free(c->pending);
    free(c);
}

static void conn_close(broker *b, conn *c, const char *write_status)
{
    if (c->handoff) /* the Negotiated did not go: nor does its handoff */
        handoff_cancel(b->handoff, c->handoff);
    close(c->fd); /* also leaves the epoll set */
    conn_release(b, c, write_status);
}

/* Watches c for events: added to the epoll set the first time, modified
 * after.  False when epoll_ctl failed. */
static bool conn_watch(broker *b, conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = c->fd};
    if (epoll_ctl(b->ep, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0)
        return false;
    c->watched = true;
    return true;
}

/* The reply is written: the connection is closed (HELLO-001), or passed
 * on to the backend when it was a Negotiated carrying a token (HANDOFF-001;
 * a launch can still turn it into a refusal). */
static void conn_done(broker *b, conn *c)
{
    handoff_attempt *a = c->handoff;
    int fd = c->fd;
    if (a == NULL || c->refusal != RPB_REFUSAL_NONE) {
        conn_close(b, c, "ok");
        return;
    }
    if (c->watched) /* the client says nothing now */
        epoll_ctl(b->ep, EPOLL_CTL_DEL, fd, NULL);
    handoff_start(b->handoff, a, fd);
    conn_release(b, c, "ok"); /* its log line once the backend has the offer */
}

/* Writes a Refused without reading anything (over capacity, fd pressure,
 * deadline, shutdown); best effort, never blocks. */
static void refuse_now(int fd, rpb_refusal r)
{
    uint8_t buf[256];
    size_t n;
    uint64_t retry = r == RPB_REFUSAL_FD_PRESSURE     ? RPB_RETRY_FD_PRESSURE_MS
                     : r == RPB_REFUSAL_SHUTTING_DOWN ? RPB_RETRY_SHUTTING_DOWN_MS
                                                      : 0;
    if (rpb_hello_refusal_encode(r, retry, NULL, buf, sizeof buf, &n) == RPB_OK)
        (void)!send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void fill_admin(broker *b)
{
    b->admin.now_unix_ms = unix_now_ms();
    b->admin.now_ms = b->now();
    b->admin.services_rejected = b->s->rejected;
}

/* Records what the reply answers, for the log line. */
static void note_outcome(conn *c, const rpb_control_outcome *oc)
{
    c->request_id = oc->request_id;
    c->refusal = oc->hello.refusal;
    if (oc->kind == RPB_CONTROL_ADMIN) {
        c->outcome = oc->admin.error == RPB_OK ? "admin" : "admin-malformed";
        c->admin_verb = oc->admin.verb;
        c->admin_exit = oc->admin.exit_code;
        c->refusal = RPB_REFUSAL_NONE;
        return;
    }
    c->outcome = oc->hello.refusal == RPB_REFUSAL_NONE ? "negotiated" : "refused";
    c->connection_id = oc->hello.connection_id;
    if (oc->hello.hello_decoded) {
        rpb_slice s = oc->hello.hello.service_name, v = oc->hello.hello.wanted_version;
        size_t sn = s.len < RPB_SERVICE_NAME_MAX ? s.len : RPB_SERVICE_NAME_MAX;
        size_t vn = v.len < RPB_WANTED_VERSION_MAX ? v.len : RPB_WANTED_VERSION_MAX;
        if (sn > 0)
            memcpy(c->service, s.data, sn);
        c->service[sn] = '\0';
        if (vn > 0)
            memcpy(c->version, v.data, vn);
        c->version[vn] = '\0';
    }
}


/* Sends reply[0..len); keeps the rest for EPOLLOUT when the socket is full. */
static void conn_send(broker *b, conn *c, const uint8_t *reply, size_t len)
{
    ssize_t n = send(c->fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        /* SEC-007: a peer that hung up costs its own connection only */
        conn_close(b, c, "peer-gone");
        return;
    }
    size_t sent = n > 0 ? (size_t)n : 0;
    if (sent == len) {
        conn_done(b, c); /* HELLO-001: one request per connection */
        return;
    }
    c->out = malloc(len - sent);
    if (c->out == NULL) {
        conn_close(b, c, "no-memory");
        return;
    }
    memcpy(c->out, reply + sent, len - sent);
    c->out_len = len - sent;
    c->out_off = 0;
    if (!conn_watch(b, c, EPOLLOUT))
        conn_close(b, c, "epoll-failed");
}

static void conn_flush(broker *b, conn *c)
{
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        conn_close(b, c, "peer-gone");
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off == c->out_len)
        conn_done(b, c);
}

/* ---- Hellos for launched backends (spec/discovery.md §3) ---- */

/* The request Frame of c again (the decision's slices point into c->in). */
static bool request_frame(const conn *c, rpb_frame *req)
{
    size_t used;
    return rpb_frame_decode(c->in, c->in_len, RPB_MAX_HELLO_BYTES, req, &used, NULL) == RPB_OK;
}

static void refuse_launch(broker *b, conn *c, const rpb_frame *req, rpb_refusal r, uint64_t retry_ms)
{
    size_t n;
    c->outcome = "refused";
    c->refusal = r;
    c->connection_id = 0;
    rpb_hello_handler_count(b->h, r); /* LAUNCH-014 */
    if (rpb_hello_refusal_encode(r, retry_ms, req, b->reply, RPB_CONTROL_REPLY_MAX, &n) != RPB_OK) {
        conn_close(b, c, "internal-error");
        return;
    }
    conn_send(b, c, b->reply, n);
}

/* Negotiated d with the endpoint of the backend launched for slot
 * (LAUNCH-004: it answered the probe). */
static void answer_launched(broker *b, conn *c, const rpb_hello_decision *d, const rpb_frame *req,
                            const rpb_launch_slot *slot)
{
    /* the table may have been reloaded while the Hello waited */
    const rpb_service *cur = rpb_service_table_find(rpb_hello_handler_services(b->h), d->hello.service_name);
    if (cur == NULL) {
        refuse_launch(b, c, req, RPB_REFUSAL_SERVICE_UNKNOWN, 0);
        return;
    }
    rpb_service svc = *cur;
    svc.backend_pipe = rpb_slice_cstr(slot->endpoint);
    rpb_hello_decision nd = *d;
    nd.service = &svc;
    c->outcome = "negotiated";
    /* LAUNCH-014; HELLO-036: the id is drawn now that Negotiated is sent */
    nd.connection_id = c->connection_id = rpb_hello_handler_count(b->h, RPB_REFUSAL_NONE);
    if (c->handoff)
        handoff_correlate(c->handoff, nd.connection_id);
    size_t n;
    if (rpb_hello_reply_encode(&nd, req, b->reply, RPB_CONTROL_REPLY_MAX, &n) != RPB_OK) {
        conn_close(b, c, "internal-error");
        return;
    }
    conn_send(b, c, b->reply, n);
}

static void launch_hello(broker *b, conn *c, const rpb_hello_decision *d)
{
    rpb_frame req;
    rpb_launch_slot *slot;
    uint64_t retry;
    if (!request_frame(c, &req)) {
        conn_close(b, c, "internal-error");
        return;
    }
    switch (launcher_hello(b->launch, d->service, &req, d->hello.wanted_version, b->now(), &slot, &retry)) {
    case LAUNCH_ANSWER_USE:
        answer_launched(b, c, d, &req, slot);
        return;
    case LAUNCH_ANSWER_BUDGET:
        refuse_launch(b, c, &req, RPB_REFUSAL_SPAWN_BUDGET, retry);
        return;
    case LAUNCH_ANSWER_FAILED:
        refuse_launch(b, c, &req, RPB_REFUSAL_SPAWN_FAILED, RPB_LAUNCH_RETRY_MS);
        return;
    case LAUNCH_ANSWER_WAIT:
        break;
    }
    /* LAUNCH-007: answered when the launch ends; meanwhile only a hang-up
     * of the client is of interest */
    c->pending = malloc(sizeof *c->pending);
    if (c->pending == NULL) {
        conn_close(b, c, "no-memory");
        return;
    }
    *c->pending = *d;
    c->waiting = slot;
    c->outcome = "launch-wait";
    /* the Hello is read: the handshake deadline ends, the launch's
     * readiness wait bounds the rest (LAUNCH-007) */
    dl_remove(&b->dl, &c->dl);
    if (!conn_watch(b, c, EPOLLRDHUP))
        conn_close(b, c, "epoll-failed");
}

/* launch_done_fn: answers every Hello waiting for slot. */
static void launch_done(void *ctx, rpb_launch_slot *slot, bool ok)
{
    broker *b = ctx;
    for (size_t fd = 0; fd < b->by_fd_cap; fd++) {
        conn *c = b->by_fd[fd];
        rpb_frame req;
        if (c == NULL || c->waiting != slot)
            continue;
        c->waiting = NULL;
        /* a reply the client does not read is dropped at the deadline (SEC-026) */
        dl_append(&b->dl, &c->dl, b->now() + b->cfg->handshake_timeout_ms);
        if (!request_frame(c, &req))
            conn_close(b, c, "internal-error");
        else if (ok)
            answer_launched(b, c, c->pending, &req, slot);
        else
            refuse_launch(b, c, &req, RPB_REFUSAL_SPAWN_FAILED, RPB_LAUNCH_RETRY_MS);
    }
}

static void conn_step(broker *b, conn *c, bool eof)
{
    rpb_control_outcome oc;
    size_t written;
    fill_admin(b);
    int rc = rpb_control_step(b->h, &b->admin, c->in, c->in_len, eof, &c->peer, b->now(),
                              b->reply, RPB_CONTROL_REPLY_MAX, &written, &oc);
    if (rc == RPB_NEED_MORE)
        return;
    if (oc.kind == RPB_CONTROL_FRAMING)
        b->admin.framing_refused++;
    if (oc.kind == RPB_CONTROL_ADMIN)
        b->admin.admin_requests++;
    note_outcome(c, &oc);
    if (oc.kind == RPB_CONTROL_HELLO && oc.hello.token_len == RPB_HANDOFF_TOKEN_BYTES)
        c->handoff = handoff_prepare(b->handoff, &oc.hello, c->seq);
    if (rc != RPB_OK) {
        c->outcome = "internal-error";
        conn_close(b, c, rpb_errname(rc));
        return;
    }
    /* LAUNCH-010: only a Hello decided Negotiated reaches a launch */
    if (b->launch && oc.kind == RPB_CONTROL_HELLO && oc.hello.refusal == RPB_REFUSAL_NONE &&
        oc.hello.service->backend_pipe.len == 0) {
        launch_hello(b, c, &oc.hello);
        return;
    }
    conn_send(b, c, b->reply, written);
}

/* The most a connection buffers: one frame at the Hello cap. */
static size_t in_limit(void)
{
    return RPB_FRAME_HEADER_BYTES + RPB_MAX_HELLO_BYTES;
}

static void conn_read(broker *b, conn *c)
{
    if (c->in_len == c->in_cap) {
        /* FRAME-011, SEC-014: memory grows with bytes that arrived, never
         * the claim, and never beyond one frame at the Hello cap */
        size_t ncap = c->in_cap ? c->in_cap * 2 : IN_INITIAL;
        if (ncap > in_limit())
            ncap = in_limit();
        if (ncap == c->in_cap) {
            conn_step(b, c, true); /* cannot happen below the cap: decided */
            return;
        }
        uint8_t *n = realloc(c->in, ncap);
        if (n == NULL) {
            c->outcome = "no-memory";
            conn_close(b, c, NULL);
            return;
        }
        c->in = n;
        c->in_cap = ncap;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > 0) {
        c->in_len += (size_t)n;
        conn_step(b, c, false);
        return;
    }
    /* EOF or a reset: the frame is incomplete for good (HELLO-005) */
    conn_step(b, c, true);
}

/* Makes b->by_fd long enough to index fd; false when out of memory. */
static bool by_fd_reserve(broker *b, int fd)
{
    if ((size_t)fd < b->by_fd_cap)
        return true;
    size_t ncap = b->by_fd_cap ? b->by_fd_cap : 256;
    while (ncap <= (size_t)fd)
        ncap *= 2;
    conn **n = realloc(b->by_fd, ncap * sizeof *n);
    if (n == NULL)
        return false;
    memset(n + b->by_fd_cap, 0, (ncap - b->by_fd_cap) * sizeof *n);
    b->by_fd = n;
    b->by_fd_cap = ncap;
    return true;
}

/* Reads the kernel-verified peer of a just-accepted fd into *peer.  Returns
 * false, with fd closed and the event logged, when the credentials cannot
 * be read or the uid is not allowed (SEC-004: closed before a byte is read
 * or written). */
static bool admit_peer(broker *b, int fd, uint64_t seq, rpb_peer *peer)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    *peer = (rpb_peer){0, 0};
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
        /* SEC-007: unlike upstream, never fatal */
        log_early(seq, peer, "no-credentials", RPB_REFUSAL_NONE);
        close(fd);
        return false;
    }
    peer->pid = (uint32_t)cr.pid;
    peer->uid = (uint32_t)cr.uid;
    bool allowed = false;
    for (size_t i = 0; i < b->cfg->n_allowed_uids; i++)
        allowed |= b->cfg->allowed_uids[i] == cr.uid;
    if (!allowed) {
        b->admin.connections_dropped++;
        log_early(seq, peer, "dropped", RPB_REFUSAL_NONE);
        close(fd);
    }
    return allowed;
}

static void conn_new(broker *b, int fd)
{
    uint64_t seq = ++b->seq;
    rpb_peer peer;
    if (!admit_peer(b, fd, seq, &peer))
        return;
    /* SEC-013: over capacity, refused without reading */
    if (b->admin.connections_open >= b->cfg->max_connections) {
        refuse_now(fd, RPB_REFUSAL_FD_PRESSURE);
        log_early(seq, &peer, "over-capacity", RPB_REFUSAL_FD_PRESSURE);
        close(fd);
        return;
    }
    conn *c = by_fd_reserve(b, fd) ? calloc(1, sizeof *c) : NULL;
    if (c == NULL) {
        /* SEC-015: this connection gets its log line too */
        log_early(seq, &peer, "no-memory", RPB_REFUSAL_NONE);
        close(fd);
        return;
    }
    c->fd = fd;
    c->seq = seq;
    c->peer = peer;
    c->admin_verb = -1;
    c->started_ms = b->now();
    c->outcome = "unknown";
    b->by_fd[fd] = c;
    b->admin.connections_open++;
    b->admin.connections_total++;
    /* SEC-006: every connection has the handshake deadline */
    dl_append(&b->dl, &c->dl, c->started_ms + b->cfg->handshake_timeout_ms);
    /* The Hello usually arrived with the connect: it is read at once, and
     * the connection watched only when it must wait (for more of it, for
     * room, for a launch), so one answered and closed or handed off here
     * costs no epoll_ctl. */
    conn_read(b, c);
    c = b->by_fd[fd]; /* NULL once closed or handed off */
    if (c != NULL && !c->watched && !conn_watch(b, c, EPOLLIN | EPOLLRDHUP)) {
        c->outcome = "epoll-failed";
        conn_close(b, c, NULL);
    }
}

/* ---- the listener ---- */

static void listen_arm(broker *b, bool on)
{
    struct epoll_event ev = {.events = on ? EPOLLIN : 0, .data.fd = b->l->fd};
    epoll_ctl(b->ep, EPOLL_CTL_MOD, b->l->fd, &ev);
}

/* SEC-011, SEC-022: out of descriptors.  Demote, answer the waiting peer with
 * FD_PRESSURE through the reserve descriptor, back off briefly. */
static void fd_pressure(broker *b)
{
    if (timers_fd_pressure(&b->t, b->now()))
        blog_msg("out of file descriptors: demoted (Hellos get ERROR_FD_PRESSURE)");
    update_flags(b);
    if (b->reserve_fd >= 0) {
        close(b->reserve_fd);
        int fd = accept4(b->l->fd, NULL, NULL, SOCK_CLOEXEC);
        rpb_peer peer;
        uint64_t seq = fd >= 0 ? ++b->seq : 0;
        if (fd >= 0 && admit_peer(b, fd, seq, &peer)) { /* SEC-004 here too */
            refuse_now(fd, RPB_REFUSAL_FD_PRESSURE);
            log_early(seq, &peer, "fd-pressure", RPB_REFUSAL_FD_PRESSURE);
            close(fd);
        }
        b->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    listen_arm(b, false);
}

/* One connection per readiness of the listener: the epoll set is level
 * triggered, so the next round reports those still waiting, and no
 * accept(2) ends in EAGAIN.  The connection is accepted blocking: every
 * read and write of the broker on it says MSG_DONTWAIT, and a handed-off
 * one reaches the backend blocking as it is (HANDOFF-020, note). */
static void accept_one(broker *b)
{
    if (b->t.listen_resume_ms != 0)
        return;
    int fd = accept4(b->l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
            fd_pressure(b);
        else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            blog_msg("accept: %s", strerror(errno));
        return;
    }
    if (timers_accepted(&b->t)) {
        update_flags(b);
        blog_msg("file descriptors available again: demotion cleared");
    }
    conn_new(b, fd);
}

/* ---- signals, reload, timers ---- */

static void reload(broker *b)
{
    rpb_service_table *t = services_load(b->s);
    if (t != NULL)
        rpb_hello_handler_set_services(b->h, t);
}

/* Returns false when the broker must stop now. */
static bool on_signal(broker *b)
{
    struct signalfd_siginfo si;
    while (read(b->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            blog_msg("SIGHUP: re-reading %s", b->s->dir);
            services_watch(b->s); /* the directory may have been replaced */
            reload(b);
            continue;
        }
        /* SEC-012: keep answering, with ERROR_SHUTTING_DOWN, for the drain */
        if (!timers_drain(&b->t, b->now(), b->cfg->drain_timeout_ms))
            return false; /* SEC-025: a second SIGTERM/SIGINT stops at once */
        update_flags(b);
        blog_msg("signal %u: draining for %u ms", si.ssi_signo, b->cfg->drain_timeout_ms);
    }
    return true;
}

static void expire(broker *b, int64_t now)
{
    dl_node *n;
    while ((n = dl_expired(&b->dl, now)) != NULL) {
        conn *c = (conn *)n;
        b->admin.deadline_expired++;
        if (c->out == NULL) {
            /* SEC-006: told why, then closed */
            refuse_now(c->fd, RPB_REFUSAL_DEADLINE);
            c->outcome = "refused";
            c->refusal = RPB_REFUSAL_DEADLINE;
        }
        conn_close(b, c, c->out ? "deadline" : NULL); /* SEC-026 for an unread reply */
    }
}

static int setup(broker *b)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    b->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    b->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    b->reply = malloc(RPB_CONTROL_REPLY_MAX);
    if (b->sigfd < 0 || b->ep < 0 || b->reply == NULL)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.fd = b->l->fd;
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->l->fd, &ev) != 0)
        return -1;
    ev.data.fd = b->sigfd;
    if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->sigfd, &ev) != 0)
        return -1;
    if (b->s->inotify_fd >= 0) {
        ev.data.fd = b->s->inotify_fd;
        if (epoll_ctl(b->ep, EPOLL_CTL_ADD, b->s->inotify_fd, &ev) != 0)
            return -1;
    }
    return 0;
}

/* SEC-012: when the drain ends, the connections still waiting in the
 * listen backlog are accepted and answered like the others instead of
 * being reset by the listener's close; the socket file goes first, so no
 * new connection joins them by its path. */
static void drain_backlog(broker *b)
{
    listener_unlink(b->l);
    for (int i = 0; i < SOMAXCONN; i++) {
        int fd = accept4(b->l->fd, NULL, NULL, SOCK_CLOEXEC); /* blocking, as accept_one() */
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0)
            return;
        conn_new(b, fd);
    }
}

static void teardown(broker *b)
{
    for (size_t fd = 0; fd < b->by_fd_cap; fd++)
        if (b->by_fd[fd] != NULL) {
            conn *c = b->by_fd[fd];
            bool unanswered = strcmp(c->outcome, "unknown") == 0 || c->waiting != NULL;
            if (b->t.draining && c->out == NULL && unanswered) {
                /* SEC-012: still waiting for its Hello: told why, then closed */
                refuse_now(c->fd, RPB_REFUSAL_SHUTTING_DOWN);
                c->outcome = "refused";
                c->refusal = RPB_REFUSAL_SHUTTING_DOWN;
            } else if (unanswered) {
                c->outcome = "shutdown";
            }
            conn_close(b, c, NULL);
        }
    launcher_free(b->launch); /* LAUNCH-012 */
    handoff_free(b->handoff);
    free(b->by_fd);
    free(b->reply);
    if (b->reserve_fd >= 0)
        close(b->reserve_fd);
    if (b->sigfd >= 0)
        close(b->sigfd);
    if (b->ep >= 0)
        close(b->ep);
    rpb_hello_handler_free(b->h);
}

int broker_run(const broker_config *cfg, broker_listener *l, broker_services *s)
{
    broker b;
    memset(&b, 0, sizeof b);
    b.cfg = cfg;
    b.l = l;
    b.s = s;
    b.ep = b.sigfd = b.reserve_fd = -1;
    b.now = cfg->clock_ms ? cfg->clock_ms : rpb_monotonic_ms;
    rpb_admin_context_init(&b.admin);
    b.admin.broker_instance = "shared";
    b.admin.broker_pid = (uint32_t)getpid();
    b.admin.started_unix_ms = unix_now_ms();
    b.admin.socket_path = l->activated ? "" : l->path;
    b.admin.services_dir = s->dir;
    b.admin.handshake_timeout_ms = cfg->handshake_timeout_ms;
    b.admin.max_connections = cfg->max_connections;
    b.admin.drain_timeout_ms = cfg->drain_timeout_ms;
    bool ok = setup(&b) == 0 && (b.handoff = handoff_new(&cfg->handoff, b.ep, b.now)) != NULL;
    if (ok) {
        rpb_hello_config hc;
        rpb_hello_config_default(&hc);
        hc.rate_max = cfg->rate_max;
        hc.rate_window_ms = cfg->rate_window_ms;
        hc.token_source = handoff_token; /* HELLO-034, HELLO-035 */
        hc.token_ctx = b.handoff;
        b.h = rpb_hello_handler_new(&hc);
        b.admin.hello = b.h;
    }
    if (b.h == NULL ||
        (cfg->launch && (b.launch = launcher_new(cfg, b.ep, launch_done, &b)) == NULL)) {
        blog_msg("cannot set up the event loop: %s", strerror(errno));
        teardown(&b);
        return EXIT_BROKER_RUNTIME;
    }
    b.admin.launch = b.launch ? launcher_registry(b.launch) : NULL; /* LAUNCH-013 */
    reload(&b);
    blog_msg("listening on %s (pid %u)", l->activated ? "socket-activated fd 3" : l->path,
             (unsigned)getpid());

    int status = EXIT_BROKER_OK;
    struct epoll_event evs[128];
    b.t.idle_exit_ms = cfg->idle_exit_ms;
    timers_active(&b.t, b.now());
    for (;;) {
        int64_t now = b.now();
        if (timers_drain_over(&b.t, now))
            break;
        /* RDV-011: open connections keep the broker alive; after
         * --idle-exit seconds without one it stops as after a drain */
        if (b.dl.head != NULL || handoff_busy(b.handoff) || (b.launch && launcher_busy(b.launch)))
            timers_active(&b.t, now);
        else if (timers_idle_over(&b.t, now)) {
            blog_msg("idle for %u s: exiting", cfg->idle_exit_ms / 1000);
            break;
        }
        if (timers_listen_due(&b.t, now))
            listen_arm(&b, true);
        expire(&b, now);
        handoff_tick(b.handoff, now);
        int wait_ms = timers_poll_ms(&b.t, &b.dl, now);
        int hw = handoff_poll_ms(b.handoff, now);
        if (hw >= 0 && (wait_ms < 0 || hw < wait_ms))
            wait_ms = hw;
        if (b.launch) {
            launcher_tick(b.launch, now);
            int lw = launcher_poll_ms(b.launch, now);
            if (lw >= 0 && (wait_ms < 0 || lw < wait_ms))
                wait_ms = lw;
        }
        int n = epoll_wait(b.ep, evs, 128, wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            blog_msg("epoll_wait: %s", strerror(errno));
            status = EXIT_BROKER_RUNTIME;
            break;
        }
        /* control events first, so a reload precedes the Hellos after it */
        bool stop = false, listener_ready = false;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == b.sigfd)
                stop |= !on_signal(&b);
            else if (fd == s->inotify_fd && services_changed(s))
                reload(&b);
            else if (fd == l->fd)
                listener_ready = true;
        }
        if (stop)
            break;
        if (listener_ready)
            timers_active(&b.t, b.now());
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == b.sigfd || fd == s->inotify_fd || fd == l->fd)
                continue;
            if (b.launch && launcher_event(b.launch, fd))
                continue;
            conn *c = (size_t)fd < b.by_fd_cap ? b.by_fd[fd] : NULL;
            if (c == NULL) {
                handoff_event(b.handoff, fd);
                continue;
            }
            if (c->waiting != NULL)
                conn_close(&b, c, "peer-gone"); /* hung up while its launch runs */
            else if (c->out != NULL)
                conn_flush(&b, c);
            else
                conn_read(&b, c);
        }
        if (listener_ready)
            accept_one(&b);
    }
    if (b.t.draining)
        drain_backlog(&b);
    blog_msg("stopped: %llu connection(s) served", (unsigned long long)b.admin.connections_total);
    teardown(&b);
    return status;
}
