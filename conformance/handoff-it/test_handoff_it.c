/*
 * test_handoff_it.c - the connection handoff of the real rpb-broker over
 * real sockets (spec/handoff.md): clients use rpb_connect_backend(); the
 * backend's handoff socket is played by this program (a peer thread that
 * receives with librpb's rpb_handoff_recv_fd and answers scripted ACKs);
 * the backend_pipe of every service is a real rpb-backend serving the echo
 * protocol, so a fallback is seen working too.  Every wait is on an event:
 * a reply, a broker log line, a socket closing.
 *
 * Usage: test_handoff_it RPB_BROKER RPB_BACKEND
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "fdcount.h"
#include "testutil.h"

#define ECHO_PROTOCOL 0x7001u
#define WAIT_MS 15000          /* generous: sanitizer builds on a loaded machine */
#define ACK_TIMEOUT "2500"     /* the broker's --handoff-ack-timeout */
#define PAUSE_FAILURES 8       /* HANDOFF-061 */
#define PAUSE_WINDOW "4000"

static const char *broker_bin, *backend_bin;
static char root[64], broker_sock[128], backend_sock[128], svc_dir[128], log_path[128];
static char peer_sock[128], gone_sock[128], flaky_sock[128];
static pid_t broker_pid;
static int peer_listener = -1;

/* ---- the backend's handoff socket, played by a thread ---- */

typedef enum peer_mode {
    PEER_ACCEPT,      /* accepted ACK, then echo one chunk on the adopted fd */
    PEER_REFUSE,      /* refused ACK (handoff token mismatch), fd closed */
    PEER_BAD_TOKEN,   /* accepted ACK echoing another token */
    PEER_BAD_ID,      /* accepted ACK with another correlation id */
    PEER_NO_ACK,      /* no ACK: waits for the broker to give up, then ACKs late */
    PEER_HOLD,        /* waits for the test's go, then an accepted ACK */
    PEER_BAD_FRAME,   /* a frame header of version 0xFF where the ACK belongs */
    PEER_HANG_UP,     /* closes the handoff connection instead of an ACK */
} peer_mode;

typedef struct peer {
    peer_mode mode;
    pthread_t thread;
    int go[2];               /* PEER_HOLD: the test writes a byte */
    int offered[2];          /* the peer writes a byte once it has the offer */
    /* what the peer saw */
    int recv_rc, offer_rc;
    bool fd_nonblocking;     /* the received descriptor had O_NONBLOCK */
    bool broker_closed;      /* PEER_NO_ACK: EOF before the late ACK */
} peer;

static void write_ack(int conn, rpb_handoff_offer offer, int verdict)
{
    uint8_t ack[RPB_HANDOFF_ACK_MAX_BYTES];
    size_t n;
    if (rpb_handoff_ack_encode(&offer, verdict, ack, sizeof ack, &n) == RPB_OK)
        (void)!send(conn, ack, n, MSG_NOSIGNAL);
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    int64_t deadline = rpb_monotonic_ms() + WAIT_MS;
    struct pollfd pf = {peer_listener, POLLIN, 0};
    int conn = poll(&pf, 1, WAIT_MS) == 1 ? accept4(peer_listener, NULL, NULL, SOCK_CLOEXEC) : -1;
    if (conn < 0)
        return NULL;
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    int fd = -1;
    rpb_buf body = {0};
    rpb_frame frame;
    rpb_handoff_offer offer;
    p->recv_rc = rpb_handoff_recv_fd(conn, deadline, token, &fd); /* HANDOFF-040 */
    p->fd_nonblocking = fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
    p->offer_rc = p->recv_rc == RPB_OK
                      ? rpb_read_frame(conn, RPB_MAX_FRAME_BYTES, deadline, &body, NULL)
                      : p->recv_rc;
    if (p->offer_rc == RPB_OK)
        p->offer_rc = rpb_handoff_offer_check(body.data, body.len, &frame, &offer, NULL);
    (void)!write(p->offered[1], "o", 1);
    if (p->offer_rc != RPB_OK)
        goto out;
    uint8_t other[RPB_HANDOFF_TOKEN_BYTES];
    char c;
    switch (p->mode) {
    case PEER_ACCEPT: {
        write_ack(conn, offer, RPB_OK);
        uint8_t buf[64];
        ssize_t n = read(fd, buf, sizeof buf); /* the client speaks first (HANDOFF-045) */
        if (n > 0)
            (void)!write(fd, buf, (size_t)n);
        break;
    }
    case PEER_REFUSE:
        write_ack(conn, offer, RPB_ERR_HANDOFF_TOKEN_MISMATCH);
        break;
    case PEER_BAD_TOKEN:
        memcpy(other, offer.token.data, sizeof other);
        other[0] ^= 0xFF;
        offer.token = (rpb_slice){other, sizeof other};
        write_ack(conn, offer, RPB_OK);
        break;
    case PEER_BAD_ID:
        offer.correlation_id++;
        write_ack(conn, offer, RPB_OK);
        break;
    case PEER_NO_ACK:
        close(fd); /* the client's connection lives on in the broker only */
        fd = -1;
        p->broker_closed = read(conn, &c, 1) == 0; /* the broker's deadline */
        write_ack(conn, offer, RPB_OK);          /* too late */
        break;
    case PEER_HOLD:
        if (read(p->go[0], &c, 1) == 1)
            write_ack(conn, offer, RPB_OK);
        break;
    case PEER_BAD_FRAME:
        (void)!send(conn, "\xff\xff\xff\xff\xff\xff", 6, MSG_NOSIGNAL);
        break;
    case PEER_HANG_UP:
        break;
    }
    if (p->mode != PEER_NO_ACK && p->mode != PEER_HANG_UP)
        (void)!read(conn, &c, 1); /* the broker closes the handoff connection */
out:
    if (fd >= 0)
        close(fd);
    close(conn);
    rpb_buf_free(&body);
    return NULL;
}

static void peer_start(peer *p, peer_mode mode)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    p->recv_rc = p->offer_rc = 1;
    CU_ASSERT_FATAL(pipe2(p->go, O_CLOEXEC) == 0 && pipe2(p->offered, O_CLOEXEC) == 0);
    CU_ASSERT_FATAL(pthread_create(&p->thread, NULL, peer_main, p) == 0);
}

/* Waits for the peer to have read the offer. */
static bool peer_offered(peer *p)
{
    struct pollfd pf = {p->offered[0], POLLIN, 0};
    char c;
    return poll(&pf, 1, WAIT_MS) == 1 && read(p->offered[0], &c, 1) == 1;
}

static void peer_join(peer *p)
{
    (void)!write(p->go[1], "g", 1);
    pthread_join(p->thread, NULL);
    for (int i = 0; i < 2; i++) {
        close(p->go[i]);
        close(p->offered[i]);
    }
}

/* ---- clients ---- */

/* rpb_connect_backend() for service with adoption; the ready wait is
 * generous so only the broker's behaviour decides the route. */
static int connect_adopting(const char *service, rpb_backend_conn *c)
{
    rpb_hello h;
    rpb_hello_init(&h, service, "1.0.0", (uint32_t)getpid());
    rpb_connect_options opt = {RPB_CONNECT_ADOPT, WAIT_MS, rpb_monotonic_ms() + WAIT_MS};
    return rpb_connect_backend(broker_sock, &h, &opt, c, NULL);
}

/* One echo-protocol round trip with rpb-backend on fd. */
static void echo_frame(int fd)
{
    rpb_frame ping = rpb_frame_request(ECHO_PROTOCOL, rpb_slice_cstr("ping"));
    ping.request_id = 3;
    int64_t deadline = rpb_monotonic_ms() + WAIT_MS;
    CU_ASSERT_EQUAL(rpb_write_frame_msg(fd, &ping, deadline), RPB_OK);
    rpb_buf body = {0};
    rpb_frame f;
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, deadline, &body, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_decode(&rpb_frame_desc, body.data, body.len, &f, NULL, 0, NULL), RPB_OK);
    CU_ASSERT_EQUAL(f.request_id, 3);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(f.payload, "ping"));
    rpb_buf_free(&body);
}

static bool agreed(const rpb_backend_conn *c)
{
    return c->result.kind == RPB_HELLO_RESULT_NEGOTIATED &&
           rpb_handoff_agreed(&c->result.reply.negotiated);
}

/* HANDOFF-032, HANDOFF-052: the client of a failed attempt reaches the
 * service through backend_pipe, and the broker logs the stage and class
 * (HANDOFF-062). */
static void expect_fallback(const char *service, peer_mode mode, const char *stage,
                            const char *error)
{
    tu_tail t;
    CU_ASSERT_FATAL(tu_tail_open(&t, log_path));
    peer p;
    if (mode != (peer_mode)-1)
        peer_start(&p, mode);
    rpb_backend_conn c;
    CU_ASSERT_EQUAL_FATAL(connect_adopting(service, &c), RPB_OK);
    CU_ASSERT_TRUE(agreed(&c)); /* a token was issued: an attempt was made */
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    CU_ASSERT_NOT_EQUAL(c.handoff_status, RPB_OK);
    echo_frame(c.fd);
    char want[96];
    snprintf(want, sizeof want, "outcome=fallback stage=%s error=%s", stage, error);
    CU_ASSERT_TRUE(tu_tail_wait(&t, "handoff conn=", want, WAIT_MS));
    if (mode != (peer_mode)-1) {
        peer_join(&p);
        CU_ASSERT_EQUAL(p.recv_rc, RPB_OK);
        CU_ASSERT_EQUAL(p.offer_rc, RPB_OK);
        if (mode == PEER_NO_ACK)
            CU_ASSERT_TRUE(p.broker_closed);
    }
    close(c.fd);
    rpb_backend_conn_free(&c);
    tu_tail_close(&t);
}

/* ---- the tests ---- */

/* HANDOFF-001, HANDOFF-052, HELLO-035: a service without a handoff
 * endpoint gets no token: an adopting client does not wait, and its
 * backend_pipe connection carries the service. */
static void test_no_endpoint_no_token(void)
{
    rpb_backend_conn c;
    CU_ASSERT_EQUAL_FATAL(connect_adopting("echo", &c), RPB_OK);
    CU_ASSERT_EQUAL(c.result.kind, RPB_HELLO_RESULT_NEGOTIATED);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    CU_ASSERT_EQUAL(c.handoff_status, RPB_OK);
    const rpb_negotiated *n = &c.result.reply.negotiated;
    CU_ASSERT_EQUAL(n->handle_passed_token.len, 0);
    CU_ASSERT_EQUAL(n->server_capabilities & RPB_CAP_HANDLE_PASSING, 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(n->backend_pipe, backend_sock));
    echo_frame(c.fd);
    close(c.fd);
    rpb_backend_conn_free(&c);
}

/* HANDOFF-020, HANDOFF-021, HANDOFF-030, HANDOFF-031: the accepted handoff:
 * the client adopts its broker connection and talks to the peer over it. */
static void test_handed_off(void)
{
    tu_tail t;
    CU_ASSERT_FATAL(tu_tail_open(&t, log_path));
    peer p;
    peer_start(&p, PEER_ACCEPT);
    rpb_backend_conn c;
    CU_ASSERT_EQUAL_FATAL(connect_adopting("peer", &c), RPB_OK);
    CU_ASSERT_TRUE(agreed(&c));
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_HANDOFF);
    CU_ASSERT_EQUAL(c.handoff_status, RPB_OK);
    /* the bytes go through the descriptor the peer received */
    CU_ASSERT_EQUAL(write(c.fd, "over the handoff", 16), 16);
    char buf[32] = "";
    struct pollfd pf = {c.fd, POLLIN, 0};
    CU_ASSERT_EQUAL(poll(&pf, 1, WAIT_MS), 1);
    CU_ASSERT_EQUAL(read(c.fd, buf, sizeof buf), 16);
    CU_ASSERT_EQUAL(memcmp(buf, "over the handoff", 16), 0);
    peer_join(&p);
    CU_ASSERT_EQUAL(p.recv_rc, RPB_OK);
    CU_ASSERT_EQUAL(p.offer_rc, RPB_OK);
    CU_ASSERT_FALSE(p.fd_nonblocking); /* HANDOFF-020 note: passed blocking */
    CU_ASSERT_TRUE(tu_tail_wait(&t, "handoff conn=", "service=peer", WAIT_MS));
    close(c.fd);
    rpb_backend_conn_free(&c);
    tu_tail_close(&t);
}

/* HANDOFF-030 step 6, HANDOFF-032 */
static void test_refused(void)
{
    expect_fallback("peer", PEER_REFUSE, "ack-check", "handoff-refused");
}

/* HANDOFF-030 step 5 */
static void test_token_mismatch(void)
{
    expect_fallback("peer", PEER_BAD_TOKEN, "ack-check", "handoff-token-mismatch");
}

/* HANDOFF-030 step 2 (request_id) before step 4 (correlation_id) */
static void test_correlation_mismatch(void)
{
    expect_fallback("peer", PEER_BAD_ID, "ack-check", "envelope-request-id");
}

/* HANDOFF-030 step 1, HANDOFF-062: bytes that are no frame where the
 * ACK belongs fail its check (stage ack-check), not its read */
static void test_malformed_ack(void)
{
    expect_fallback("peer", PEER_BAD_FRAME, "ack-check", "framing-version");
}

/* HANDOFF-032, HANDOFF-062: the end of stream instead of an ACK is a
 * failure to read it (stage ack-read) */
static void test_hang_up_before_ack(void)
{
    expect_fallback("peer", PEER_HANG_UP, "ack-read", "unexpected-eof");
}

/* HANDOFF-015, HANDOFF-060: a missing ACK, and one that comes after the
 * broker gave up: the client falls back at the broker's close. */
static void test_missing_and_late_ack(void)
{
    expect_fallback("peer", PEER_NO_ACK, "deadline", "timeout");
}

/* HANDOFF-032: the endpoint is configured but nobody listens there. */
static void test_endpoint_not_listening(void)
{
    expect_fallback("gone", (peer_mode)-1, "connect", "io");
}

/* Sends a Hello for service on a new connection and reads the reply;
 * returns the connection, or -1. */
static int raw_hello(const char *service, rpb_hello_result *res, rpb_buf *reply)
{
    static uint8_t arena_mem[4096];
    rpb_arena arena;
    rpb_arena_init(&arena, arena_mem, sizeof arena_mem);
    rpb_hello h;
    rpb_hello_init(&h, service, "1.0.0", (uint32_t)getpid());
    h.client_capabilities = RPB_CAP_HANDLE_PASSING;
    uint8_t req[1024];
    size_t n;
    int64_t deadline = rpb_monotonic_ms() + WAIT_MS;
    int fd = rpb_client_connect(broker_sock, deadline);
    if (fd < 0 || rpb_hello_request_encode(&h, 1, req, sizeof req, &n) != RPB_OK ||
        rpb_client_exchange_fd(fd, req, n, deadline, reply, NULL) != RPB_OK ||
        rpb_hello_reply_classify(reply->data, reply->len, &arena, res) != RPB_OK) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* HANDOFF-060: while an attempt waits for its ACK, other clients are
 * served; the held attempt then completes normally. */
static void test_slow_ack_does_not_stall(void)
{
    peer p;
    peer_start(&p, PEER_HOLD);
    rpb_hello_result res;
    rpb_buf reply = {0};
    int held = raw_hello("peer", &res, &reply);
    CU_ASSERT_FATAL(held >= 0);
    CU_ASSERT_TRUE(rpb_handoff_agreed(&res.reply.negotiated));
    CU_ASSERT_TRUE(peer_offered(&p)); /* the attempt now waits for the ACK */

    rpb_backend_conn c;
    CU_ASSERT_EQUAL(connect_adopting("echo", &c), RPB_OK);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    echo_frame(c.fd);
    close(c.fd);
    rpb_backend_conn_free(&c);
    /* the held attempt was not touched: nothing came on its connection */
    struct pollfd pf = {held, POLLIN, 0};
    CU_ASSERT_EQUAL(poll(&pf, 1, 0), 0);

    peer_join(&p); /* the ACK goes */
    rpb_buf body = {0};
    rpb_handoff_ack ack;
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(held, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + WAIT_MS,
                                         &body, NULL),
                          RPB_OK);
    const rpb_negotiated *n = &res.reply.negotiated;
    CU_ASSERT_EQUAL(rpb_handoff_ready_check(body.data, body.len, n->handle_passed_token.data,
                                            n->handle_passed_token.len, &ack, NULL),
                    RPB_OK);
    rpb_buf_free(&body);
    rpb_buf_free(&reply);
    close(held);
}

/* HANDOFF-061: after 8 failed attempts of a backend within the window no
 * token is issued for it; once the window ends they are issued again. */
static void test_failures_pause_tokens(void)
{
    tu_tail t;
    CU_ASSERT_FATAL(tu_tail_open(&t, log_path));
    for (int i = 0; i < PAUSE_FAILURES; i++) {
        rpb_backend_conn c;
        CU_ASSERT_EQUAL_FATAL(connect_adopting("flaky", &c), RPB_OK);
        CU_ASSERT_TRUE(agreed(&c));
        CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
        close(c.fd);
        rpb_backend_conn_free(&c);
    }
    CU_ASSERT_TRUE_FATAL(tu_tail_wait(&t, "handoff-paused", flaky_sock, WAIT_MS));
    rpb_backend_conn c;
    CU_ASSERT_EQUAL_FATAL(connect_adopting("flaky", &c), RPB_OK);
    CU_ASSERT_FALSE(agreed(&c)); /* paused: no token, no wait */
    CU_ASSERT_EQUAL(c.handoff_status, RPB_OK);
    close(c.fd);
    rpb_backend_conn_free(&c);
    /* other backends are not paused */
    expect_fallback("gone", (peer_mode)-1, "connect", "io");

    CU_ASSERT_TRUE_FATAL(tu_tail_wait(&t, "handoff-resumed", flaky_sock, WAIT_MS));
    CU_ASSERT_EQUAL_FATAL(connect_adopting("flaky", &c), RPB_OK);
    CU_ASSERT_TRUE(agreed(&c));
    close(c.fd);
    rpb_backend_conn_free(&c);
    tu_tail_close(&t);
}

/* HANDOFF-031, HANDOFF-032: the broker's copy of every handed-off or
 * fallen-back connection is closed, and so is each handoff connection. */
static void test_no_fd_leak(void)
{
    int before = fd_count(broker_pid);
    CU_ASSERT_FATAL(before > 0);
    tu_tail t;
    CU_ASSERT_FATAL(tu_tail_open(&t, log_path));
    for (int i = 0; i < 40; i++) {
        peer p;
        peer_start(&p, i % 2 ? PEER_REFUSE : PEER_ACCEPT); /* successes keep it unpaused */
        rpb_backend_conn c;
        CU_ASSERT_EQUAL_FATAL(connect_adopting("peer", &c), RPB_OK);
        CU_ASSERT_EQUAL(c.route, i % 2 ? RPB_ROUTE_RECONNECT : RPB_ROUTE_HANDOFF);
        if (c.route == RPB_ROUTE_HANDOFF)
            CU_ASSERT_EQUAL(write(c.fd, "x", 1), 1);
        CU_ASSERT_TRUE(tu_tail_wait(&t, "handoff conn=", i % 2 ? "fallback" : "handed-off", WAIT_MS));
        peer_join(&p);
        close(c.fd);
        rpb_backend_conn_free(&c);
    }
    CU_ASSERT_EQUAL(fd_count(broker_pid), before);
    tu_tail_close(&t);
}

static int listen_at(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0)
        return -1;
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_handoff_it RPB_BROKER RPB_BACKEND\n");
        return 2;
    }
    broker_bin = argv[1];
    backend_bin = argv[2];
    signal(SIGPIPE, SIG_IGN);
    snprintf(root, sizeof root, "/tmp/rpb-handoff-it-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    snprintf(broker_sock, sizeof broker_sock, "%s/broker.sock", root);
    snprintf(backend_sock, sizeof backend_sock, "%s/backend.sock", root);
    snprintf(peer_sock, sizeof peer_sock, "%s/peer-handoff.sock", root);
    snprintf(gone_sock, sizeof gone_sock, "%s/nobody-listens.sock", root);
    snprintf(flaky_sock, sizeof flaky_sock, "%s/flaky-handoff.sock", root);
    snprintf(svc_dir, sizeof svc_dir, "%s/services", root);
    snprintf(log_path, sizeof log_path, "%s/daemons.log", root);
    if (mkdir(svc_dir, 0700) != 0 || !tu_write_service(svc_dir, "echo", backend_sock, NULL) ||
        !tu_write_service(svc_dir, "peer", backend_sock, peer_sock) ||
        !tu_write_service(svc_dir, "gone", backend_sock, gone_sock) ||
        !tu_write_service(svc_dir, "flaky", backend_sock, flaky_sock) || (peer_listener = listen_at(peer_sock)) < 0)
        return 1;

    char socket_field[160];
    snprintf(socket_field, sizeof socket_field, " socket=%s ", backend_sock);
    pid_t backend = tu_start_daemon((const char *[]){backend_bin, "--socket", backend_sock,
                                                     "--namespace", "test", "--echo-protocol",
                                                     "0x7001", "--log", log_path, NULL},
                                    log_path, ": ready ", socket_field, 10000);
    broker_pid = tu_start_daemon(
        (const char *[]){broker_bin, "--socket", broker_sock, "--services", svc_dir, "--log",
                         log_path, "--handoff-ack-timeout", ACK_TIMEOUT, "--handoff-failures",
                         "8/" PAUSE_WINDOW, NULL},
        log_path, "listening on", NULL, 10000);
    int status = 1;
    if (backend > 0 && broker_pid > 0) {
        static const tu_test tests[] = {
            {"no handoff endpoint: no token, backend_pipe (HELLO-035, HANDOFF-001, HANDOFF-052)",
             test_no_endpoint_no_token},
            {"handed off: traffic over the adopted connection (HANDOFF-020, HANDOFF-031)",
             test_handed_off},
            {"refused ACK: fallback, stage logged (HANDOFF-030, HANDOFF-032, HANDOFF-062)",
             test_refused},
            {"ACK echoing another token: fallback (HANDOFF-030)", test_token_mismatch},
            {"ACK with another correlation id: fallback (HANDOFF-030)", test_correlation_mismatch},
            {"bytes that are no frame instead of the ACK: stage ack-check (HANDOFF-030, HANDOFF-062)",
             test_malformed_ack},
            {"end of stream instead of the ACK: stage ack-read (HANDOFF-032, HANDOFF-062)",
             test_hang_up_before_ack},
            {"missing then late ACK: fallback at the deadline (HANDOFF-015, HANDOFF-060)",
             test_missing_and_late_ack},
            {"handoff endpoint not listening: fallback (HANDOFF-032)", test_endpoint_not_listening},
            {"a slow ACK does not stall other clients (HANDOFF-060)", test_slow_ack_does_not_stall},
            {"8 failures pause tokens until the window ends (HANDOFF-061)",
             test_failures_pause_tokens},
            {"no descriptor leak in the broker (HANDOFF-031, HANDOFF-032)", test_no_fd_leak},
            {NULL, NULL},
        };
        status = tu_run("handoff-it", tests);
    } else {
        fprintf(stderr, "test_handoff_it: the daemons did not start (see %s)\n", log_path);
    }
    for (int i = 0; i < 2; i++) {
        pid_t pid = i ? broker_pid : backend;
        if (pid > 0) {
            kill(pid, SIGTERM);
            if (tu_wait_exit(pid, 10000) != 0)
                status = 1;
        }
    }
    close(peer_listener);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (status == 0 && system(cmd) != 0)
        status = 1;
    return status;
}
