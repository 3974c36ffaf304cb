/*
 * The SCM_RIGHTS handoff of rpb-broker (spec/handoff.md §3, §4, §7): after
 * a Negotiated that carries a token, the client's connection is passed to
 * the service's handoff endpoint and, once the backend acknowledged it,
 * the handoff-ready EVENT is written to the client.
 *
 * Every attempt is a small state machine driven by the broker's epoll loop
 * over a non-blocking handoff connection, with one deadline for all its
 * stages (HANDOFF-060): nothing here waits, so other clients are served
 * while an attempt waits for its ACK.  The protocol decisions are
 * librpb's: the token store and ACK registry, the offer, the ACK checks in
 * spec order and the handoff-ready frame (rpb_handoff_ack_decide).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"
#include "rpb/error.h"
#include "rpb/handoff.h"
#include "rpb/names.h" /* RPB_SUN_PATH_MAX */

#define ACK_IN_INITIAL 256u
#define OUT_MAX 192u /* the offer: 16-byte token, service name <= 64 bytes */
#define DETAIL_LOG_MAX 200
#define BACKENDS_MAX 256u /* HANDOFF-061 records; beyond, failures are not counted */

typedef enum stage {
    STAGE_SEND,  /* the sendmsg of token and descriptor (HANDOFF-020) */
    STAGE_OFFER, /* writing the HandoffOffer (HANDOFF-021) */
    STAGE_ACK,   /* reading the HandoffAck (HANDOFF-030) */
    STAGE_READY, /* writing the handoff-ready EVENT (HANDOFF-031) */
} stage;

struct handoff_attempt {
    dl_node dl; /* first: the deadline FIFO's node is the attempt */
    uint64_t conn_seq;
    char service[RPB_SERVICE_NAME_MAX + 1];
    char endpoint[RPB_SUN_PATH_MAX];
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    uint64_t correlation_id;
    int client, sock; /* -1 when not (yet) open */
    stage st;
    int64_t started_ms;
    bool watched;   /* the handoff connection is in the epoll set ... */
    bool waits_out; /* ... for EPOLLOUT (a write waits), else for EPOLLIN */
    uint8_t out[OUT_MAX];
    size_t out_len, out_off;
    uint8_t *in;
    size_t in_len, in_cap;
};

/* HANDOFF-061: failed attempts of one backend (its handoff endpoint). */
typedef struct backend_failures {
    char endpoint[RPB_SUN_PATH_MAX];
    uint32_t count;
    int64_t window_start_ms;
} backend_failures;

struct broker_handoff {
    handoff_config cfg;
    int ep;
    int64_t (*now)(void);
    rpb_handoff_store store;
    rpb_handoff_slot *slots;
    dl_list dl; /* every attempt in flight, oldest first */
    size_t in_flight;
    backend_failures backends[BACKENDS_MAX];
    size_t n_backends;
};

/* ---- HANDOFF-061: the per-backend pause ---- */

static backend_failures *backend_find(broker_handoff *H, const char *endpoint)
{
    for (size_t i = 0; i < H->n_backends; i++)
        if (strcmp(H->backends[i].endpoint, endpoint) == 0)
            return &H->backends[i];
    return NULL;
}

static void backend_drop(broker_handoff *H, backend_failures *f)
{
    *f = H->backends[--H->n_backends];
}

static bool window_over(const broker_handoff *H, const backend_failures *f, int64_t now)
{
    return now - f->window_start_ms >= H->cfg.pause_window_ms;
}

static bool paused(broker_handoff *H, const char *endpoint, int64_t now)
{
    backend_failures *f = backend_find(H, endpoint);
    return f && f->count >= H->cfg.pause_failures && !window_over(H, f, now);
}

static void backend_failed(broker_handoff *H, const char *endpoint, int64_t now)
{
    backend_failures *f = backend_find(H, endpoint);
    if (f == NULL) {
        if (H->n_backends == BACKENDS_MAX)
            return;
        f = &H->backends[H->n_backends++];
        memset(f, 0, sizeof *f);
        memcpy(f->endpoint, endpoint, strlen(endpoint) + 1);
    }
    if (f->count == 0 || window_over(H, f, now)) { /* a window begins with its first failure */
        f->count = 0;
        f->window_start_ms = now;
    }
    if (++f->count == H->cfg.pause_failures)
        blog_event("handoff-paused",
                   (blog_field[]){BLOG_S("backend", endpoint), BLOG_N("failures", f->count),
                                  BLOG_N("resume_in_ms", H->cfg.pause_window_ms)},
                   3);
}

static void backend_succeeded(broker_handoff *H, const char *endpoint)
{
    backend_failures *f = backend_find(H, endpoint);
    if (f)
        backend_drop(H, f); /* HANDOFF-061: a success resets the count */
}

/* Ends the windows that are over at now; a paused backend's end is logged. */
static void backends_tick(broker_handoff *H, int64_t now)
{
    for (size_t i = 0; i < H->n_backends;) {
        backend_failures *f = &H->backends[i];
        if (!window_over(H, f, now)) {
            i++;
            continue;
        }
        if (f->count >= H->cfg.pause_failures)
            blog_event("handoff-resumed", (blog_field[]){BLOG_S("backend", f->endpoint)}, 1);
        backend_drop(H, f);
    }
}

/* ---- tokens ---- */

int handoff_token(void *ctx, const rpb_service *svc, uint8_t token[RPB_HANDOFF_TOKEN_BYTES])
{
    broker_handoff *H = ctx;
    char endpoint[RPB_SUN_PATH_MAX];
    /* HELLO-035: a token only when a handoff can happen: an endpoint ... */
    if (svc->handoff_socket.len == 0 || svc->handoff_socket.len >= sizeof endpoint)
        return -1;
    memcpy(endpoint, svc->handoff_socket.data, svc->handoff_socket.len);
    endpoint[svc->handoff_socket.len] = '\0';
    int64_t now = H->now();
    /* ... that is not paused (HANDOFF-061) */
    if (paused(H, endpoint, now))
        return -1;
    int rc = rpb_handoff_issue(&H->store, now, token); /* HANDOFF-010, HANDOFF-013 */
    if (rc != RPB_OK) {
        blog_event("handoff-no-token",
                   (blog_field[]){BLOG_S("backend", endpoint), BLOG_S("error", rpb_errname(rc))}, 2);
        return -1;
    }
    return 0;
}

/* ---- attempts ---- */

static void watch(broker_handoff *H, int fd, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(H->ep, op, fd, &ev);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd); /* also leaves the epoll set */
    *fd = -1;
}

typedef enum outcome { HANDED_OFF, FALLBACK, SHUTDOWN } outcome;

/* The end of an attempt: its log line (HANDOFF-062: stage and class, never
 * the token, SEC-016), the token revoked (HANDOFF-016), both descriptors
 * closed: the broker's copy of the client's connection always
 * (HANDOFF-031, HANDOFF-032), and the backend's record (HANDOFF-061). */
static void finish(broker_handoff *H, handoff_attempt *a, outcome oc, const char *stage_name,
                   int rc, int sys_errno, const rpb_handoff_ack *ack)
{
    static const char *const names[] = {"handed-off", "fallback", "shutdown"};
    blog_field f[10];
    size_t n = 0;
    f[n++] = BLOG_N("conn", a->conn_seq);
    f[n++] = BLOG_S("service", a->service);
    f[n++] = BLOG_S("backend", a->endpoint);
    f[n++] = BLOG_S("outcome", names[oc]);
    char detail[DETAIL_LOG_MAX + 1];
    if (oc == FALLBACK) {
        f[n++] = BLOG_S("stage", stage_name);
        f[n++] = BLOG_S("error", rpb_errname(rc));
        if (sys_errno)
            f[n++] = BLOG_S("errno", strerror(sys_errno));
        if (rc == RPB_ERR_HANDOFF_REFUSED && ack) { /* HANDOFF-030 step 6: only logged */
            rpb_slice d = ack->error_detail;
            size_t len = d.len < DETAIL_LOG_MAX ? d.len : DETAIL_LOG_MAX;
            while (len < d.len && len > 0 && (d.data[len] & 0xC0) == 0x80)
                len--; /* cut at a character boundary */
            if (len)
                memcpy(detail, d.data, len);
            detail[len] = '\0';
            f[n++] = BLOG_S("detail", detail);
        }
    }
    f[n++] = BLOG_N("ms", H->now() - a->started_ms);
    rpb_handoff_abandon(&H->store, a->token); /* HANDOFF-016; a no-op once decided */
    if (oc == HANDED_OFF)
        backend_succeeded(H, a->endpoint);
    else if (oc == FALLBACK && a->st != STAGE_READY) /* the client's failure is not the backend's */
        backend_failed(H, a->endpoint, H->now());
    close_fd(&a->sock);
    close_fd(&a->client);
    blog_event("handoff", f, n); /* once the descriptors are closed */
    dl_remove(&H->dl, &a->dl);
    H->in_flight--;
    free(a->in);
    free(a);
}

static void fail(broker_handoff *H, handoff_attempt *a, const char *stage_name, int rc)
{
    finish(H, a, FALLBACK, stage_name, rc, rc == RPB_ERR_IO ? errno : 0, NULL);
}

static void write_ready(broker_handoff *H, handoff_attempt *a);

/* Writes the rest of a->out on fd; true when all of it went, false when it
 * must wait for EPOLLOUT (*rc RPB_OK) or failed (*rc RPB_ERR_IO). */
static bool flush_out(handoff_attempt *a, int fd, int *rc)
{
    *rc = RPB_OK;
    while (a->out_off < a->out_len) {
        ssize_t n = send(fd, a->out + a->out_off, a->out_len - a->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                *rc = RPB_ERR_IO;
            return false;
        }
        a->out_off += (size_t)n;
    }
    return true;
}

/* HANDOFF-030: one frame, then the checks in spec order, then HANDOFF-031
 * or HANDOFF-032. */
static void read_ack(broker_handoff *H, handoff_attempt *a)
{
    for (;;) {
        if (a->in_len == a->in_cap) {
            /* memory grows with the bytes that arrived, never with the
             * length the ACK claims; at most one frame at the 16 MiB cap */
            size_t limit = RPB_FRAME_HEADER_BYTES + RPB_MAX_FRAME_BYTES;
            size_t ncap = a->in_cap ? a->in_cap * 2 : ACK_IN_INITIAL;
            if (ncap > limit)
                ncap = limit;
            uint8_t *n = ncap > a->in_cap ? realloc(a->in, ncap) : NULL;
            if (n == NULL) {
                fail(H, a, "ack-read", RPB_ERR_NO_MEMORY);
                return;
            }
            a->in = n;
            a->in_cap = ncap;
        }
        ssize_t n = recv(a->sock, a->in + a->in_len, a->in_cap - a->in_len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            fail(H, a, "ack-read", RPB_ERR_IO);
            return;
        }
        if (n == 0) {
            fail(H, a, "ack-read", RPB_ERR_UNEXPECTED_EOF);
            return;
        }
        a->in_len += (size_t)n;
        rpb_slice body;
        size_t used;
        int rc = rpb_frame_split(a->in, a->in_len, RPB_MAX_FRAME_BYTES, &body, &used, NULL);
        if (rc == RPB_NEED_MORE)
            continue;
        if (rc != RPB_OK) { /* HANDOFF-062: bytes that are no frame fail the ACK's first check */
            fail(H, a, "ack-check", rc);
            return;
        }
        rpb_handoff_ack ack;
        rc = rpb_handoff_ack_decide(&H->store, a->token, a->correlation_id, body.data, body.len,
                                    H->now(), a->out, sizeof a->out, &a->out_len, &ack, NULL);
        if (rc != RPB_OK) {
            finish(H, a, FALLBACK, rc == RPB_ERR_HANDOFF_ACK_DEADLINE ? "deadline" : "ack-check",
                   rc, 0, &ack);
            return;
        }
        a->st = STAGE_READY;
        a->out_off = 0;
        /* the last stage gets a deadline of its own */
        dl_remove(&H->dl, &a->dl);
        dl_append(&H->dl, &a->dl, H->now() + H->cfg.ack_timeout_ms);
        write_ready(H, a);
        return;
    }
}

/* HANDOFF-031: the handoff-ready EVENT, then the broker's copy is closed
 * (and the handoff connection, which carried its one handoff). */
static void write_ready(broker_handoff *H, handoff_attempt *a)
{
    int rc;
    if (flush_out(a, a->client, &rc)) {
        finish(H, a, HANDED_OFF, NULL, RPB_OK, 0, NULL);
        return;
    }
    close_fd(&a->sock); /* its hang-up must not wake the wait for EPOLLOUT */
    if (rc != RPB_OK) {
        fail(H, a, "ready", rc);
        return;
    }
    watch(H, a->client, EPOLL_CTL_ADD, EPOLLOUT); /* EEXIST after the first time */
}

/* The handoff connection watched for EPOLLOUT (a write waits for room)
 * or for EPOLLIN (the ACK). */
static void watch_sock(broker_handoff *H, handoff_attempt *a, bool out)
{
    if (!a->watched || a->waits_out != out)
        watch(H, a->sock, a->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, out ? EPOLLOUT : EPOLLIN);
    a->watched = true;
    a->waits_out = out;
}

/* HANDOFF-021: the rest of the offer, right after the descriptor; then the
 * ACK is awaited (EPOLLIN). */
static void write_offer(broker_handoff *H, handoff_attempt *a)
{
    int rc;
    bool done = flush_out(a, a->sock, &rc);
    if (rc != RPB_OK) {
        fail(H, a, "offer", rc);
        return;
    }
    if (done)
        a->st = STAGE_ACK;
    watch_sock(H, a, !done);
}

/* HANDOFF-020: one sendmsg, the 16 token bytes and the client's
 * connection, as the first bytes on the handoff connection; the offer
 * (HANDOFF-021) goes in the same system call, so the backend wakes once
 * for both. */
static void send_descriptor(broker_handoff *H, handoff_attempt *a)
{
    int rc = rpb_handoff_offer_encode(a->token, rpb_slice_cstr(a->service), a->correlation_id,
                                      a->out, sizeof a->out, &a->out_len);
    if (rc != RPB_OK) {
        fail(H, a, "offer", rc);
        return;
    }
    /* a deadline already passed: one try, never a wait in the loop */
    rc = rpb_handoff_send_offer(a->sock, a->client, a->token, a->out, a->out_len, 0, &a->out_off);
    if (rc == RPB_ERR_TIMEOUT) {
        watch_sock(H, a, true);
        return;
    }
    if (rc != RPB_OK) {
        fail(H, a, "send", rc);
        return;
    }
    a->st = STAGE_OFFER;
    write_offer(H, a);
}

handoff_attempt *handoff_prepare(broker_handoff *H, const rpb_hello_decision *d, uint64_t conn_seq)
{
    const rpb_service *svc = d->service;
    handoff_attempt *a = calloc(1, sizeof *a);
    if (a == NULL || svc->name.len >= sizeof a->service ||
        svc->handoff_socket.len >= sizeof a->endpoint) {
        free(a);
        rpb_handoff_abandon(&H->store, d->token); /* HANDOFF-016 */
        return NULL;
    }
    a->conn_seq = conn_seq;
    memcpy(a->service, svc->name.data, svc->name.len);
    memcpy(a->endpoint, svc->handoff_socket.data, svc->handoff_socket.len);
    memcpy(a->token, d->token, sizeof a->token);
    a->correlation_id = d->connection_id; /* HANDOFF-021 */
    a->client = a->sock = -1;
    return a;
}

void handoff_correlate(handoff_attempt *a, uint64_t connection_id)
{
    a->correlation_id = connection_id; /* HANDOFF-021 */
}

void handoff_cancel(broker_handoff *H, handoff_attempt *a)
{
    rpb_handoff_abandon(&H->store, a->token); /* HANDOFF-016 */
    free(a);
}

void handoff_start(broker_handoff *H, handoff_attempt *a, int client_fd)
{
    int64_t now = H->now();
    a->client = client_fd;
    a->started_ms = now;
    a->st = STAGE_SEND;
    H->in_flight++;
    /* HANDOFF-060: every stage under the ACK deadline */
    dl_append(&H->dl, &a->dl, now + H->cfg.ack_timeout_ms);
    /* HANDOFF-020 (note): the connection is blocking, as the broker
     * accepted it (its own writes on it say MSG_DONTWAIT): the backend
     * gets it as accept(2) would give it */
    int rc = rpb_handoff_register(&H->store, a->token, now); /* HANDOFF-015 */
    if (rc != RPB_OK) {
        fail(H, a, "deadline", rc); /* the token's TTL ran out before the reply went */
        return;
    }
    /* HANDOFF-020: a new connection per attempt to the endpoint's path */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, a->endpoint, strlen(a->endpoint) + 1);
    a->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->sock < 0) {
        fail(H, a, "connect", RPB_ERR_IO);
        return;
    }
    /* a Unix stream connect never waits: it succeeds, or fails (EAGAIN
     * when the backlog is full) */
    if (connect(a->sock, (const struct sockaddr *)&sa, sizeof sa) != 0) {
        fail(H, a, "connect", RPB_ERR_IO);
        return;
    }
    send_descriptor(H, a); /* right after the connect: the backend finds both queued */
}

void handoff_event(broker_handoff *H, int fd)
{
    handoff_attempt *a = NULL;
    for (dl_node *n = H->dl.head; n != NULL && a == NULL; n = n->next)
        if (((handoff_attempt *)n)->sock == fd || ((handoff_attempt *)n)->client == fd)
            a = (handoff_attempt *)n;
    if (a == NULL)
        return;
    switch (a->st) {
    case STAGE_SEND:
        send_descriptor(H, a);
        break;
    case STAGE_OFFER:
        write_offer(H, a);
        break;
    case STAGE_ACK:
        read_ack(H, a);
        break;
    case STAGE_READY:
        write_ready(H, a);
        break;
    }
}

static const char *stage_name(stage st)
{
    switch (st) {
    case STAGE_SEND:
        return "send";
    case STAGE_OFFER:
        return "offer";
    case STAGE_ACK:
        return "deadline"; /* HANDOFF-062: the ACK did not come in time */
    case STAGE_READY:
        return "ready";
    }
    return "unknown";
}

void handoff_tick(broker_handoff *H, int64_t now)
{
    dl_node *n;
    while ((n = dl_expired(&H->dl, now)) != NULL) {
        handoff_attempt *a = (handoff_attempt *)n;
        finish(H, a, FALLBACK, stage_name(a->st), RPB_ERR_TIMEOUT, 0, NULL);
    }
    backends_tick(H, now);
}

int handoff_poll_ms(const broker_handoff *H, int64_t now)
{
    int64_t next = H->dl.head ? H->dl.head->deadline_ms : INT64_MAX;
    for (size_t i = 0; i < H->n_backends; i++) {
        int64_t end = H->backends[i].window_start_ms + H->cfg.pause_window_ms;
        if (H->backends[i].count >= H->cfg.pause_failures && end < next)
            next = end;
    }
    if (next == INT64_MAX)
        return -1;
    if (next <= now)
        return 0;
    return next - now > TIMERS_POLL_MAX_MS ? TIMERS_POLL_MAX_MS : (int)(next - now);
}

bool handoff_busy(const broker_handoff *H)
{
    return H->in_flight > 0;
}

broker_handoff *handoff_new(const handoff_config *cfg, int ep, int64_t (*now)(void))
{
    broker_handoff *H = calloc(1, sizeof *H);
    if (H == NULL)
        return NULL;
    H->cfg = *cfg;
    H->ep = ep;
    H->now = now;
    H->slots = calloc(cfg->max_pending, sizeof *H->slots);
    rpb_handoff_config sc = {.token_ttl_ms = cfg->token_ttl_ms, .ack_deadline_ms = cfg->ack_timeout_ms};
    if (H->slots == NULL ||
        rpb_handoff_store_init(&H->store, H->slots, cfg->max_pending, &sc) != RPB_OK) {
        free(H->slots);
        free(H);
        return NULL;
    }
    return H;
}

void handoff_free(broker_handoff *H)
{
    if (H == NULL)
        return;
    while (H->dl.head != NULL) {
        handoff_attempt *a = (handoff_attempt *)H->dl.head;
        finish(H, a, SHUTDOWN, NULL, RPB_OK, 0, NULL);
    }
    free(H->slots);
    free(H);
}
