/*
 * test_backend_it.c - integration tests of rpb-backend and rpb-client probe
 * over real sockets (spec/probe.md): real processes, waiting on events
 * (a socket that accepts, a reply, end of stream, process exit).
 *
 * Usage: test_backend_it RPB_BACKEND RPB_CLIENT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

#define ECHO_PROTOCOL 0x7001u

static const char *backend_bin, *client_bin;
static char root[64], sock_path[128], id_path[128], log_path[128];
static pid_t main_backend;

/* The command line of rpb-backend on path with the sidecar at identity
 * (may be NULL) and extra options, into argv[0..24). */
static void backend_argv(const char *argv[24], const char *path, const char *identity,
                         const char *const *extra)
{
    const char *base[] = {backend_bin, "--socket", path, "--namespace", "test-namespace",
                          "--echo-protocol", "0x7001", "--idle-timeout", "30",
                          "--log", log_path};
    int n = 0;
    for (; n < (int)(sizeof base / sizeof base[0]); n++)
        argv[n] = base[n];
    if (identity) {
        argv[n++] = "--identity-file";
        argv[n++] = identity;
    }
    for (int i = 0; extra && extra[i] && n < 22; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
}

/* Starts rpb-backend (backend_argv) without waiting for it. */
static pid_t spawn_backend(const char *path, const char *identity, const char *const *extra)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    const char *argv[24];
    backend_argv(argv, path, identity, extra);
    execv(backend_bin, (char *const *)argv);
    _exit(127);
}

/* Starts rpb-backend (backend_argv) and waits for its "ready" log line
 * naming path, which it writes once the socket answers and the sidecar is
 * written (IDENT-032); -1, the backend killed, when none comes. */
static pid_t start_backend(const char *path, const char *identity, const char *const *extra)
{
    const char *argv[24];
    backend_argv(argv, path, identity, extra);
    char socket_field[160];
    snprintf(socket_field, sizeof socket_field, " socket=%s ", path);
    return tu_start_daemon(argv, log_path, ": ready ", socket_field, 10000);
}

static int connect_main(void) { return rpb_client_connect(sock_path, rpb_monotonic_ms() + 2000); }

/* True when the peer closes fd (EOF or reset) within ms without sending
 * a byte. */
static bool closed_silently(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return false;
    uint8_t b;
    ssize_t n = recv(fd, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void nonce_fill(uint8_t nonce[32], uint8_t seed)
{
    for (int i = 0; i < 32; i++)
        nonce[i] = (uint8_t)(seed + i);
}

/* The expected identity of the main backend, from its sidecar. */
static rpb_identity expected;

/* Reads one response frame from fd and checks it against nonce. */
static int read_probe_reply(int fd, const uint8_t nonce[32], rpb_probe_reply *r, rpb_buf *body)
{
    int rc = rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + 5000, body, NULL);
    if (rc != RPB_OK)
        return rc;
    return rpb_probe_response_check(body->data, body->len, nonce, &expected.dp, r, NULL);
}

/* IDENT-030..IDENT-033, MUX-007: the sidecar written at start is 0600,
 * names the backend's pid, and the socket is 0600 in a 0700 directory. */
static void test_sidecar_and_socket(void)
{
    struct stat st;
    CU_ASSERT_EQUAL(stat(id_path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(expected.dp.pid, (uint32_t)main_backend);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(expected.dp.ipc_endpoint.path, sock_path));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(expected.dp.ipc_endpoint.namespace_id, "test-namespace"));
    CU_ASSERT_TRUE(expected.dp.has_idle_timeout_secs && expected.dp.idle_timeout_secs == 30);
    CU_ASSERT_EQUAL(stat(sock_path, &st), 0);
    CU_ASSERT_TRUE(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/run", root);
    CU_ASSERT_EQUAL(stat(dir, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
}

/* PROBE-005, PROBE-021, PROBE-028: a verified probe through librpb with
 * the sidecar as the expected identity. */
static void test_probe_verified(void)
{
    rpb_probe_outcome o;
    int rc = rpb_probe_endpoint(&expected.dp.ipc_endpoint, &expected.dp, 5000, RPB_PROBE_VERIFY,
                                &o, NULL);
    CU_ASSERT_EQUAL(rc, RPB_OK);
    CU_ASSERT_EQUAL(o.process.pid, main_backend);
    CU_ASSERT_TRUE(rpb_process_alive(&o.process));
    rpb_probe_outcome_free(&o);
}

/* MUX-005, MUX-008, PROBE-011: two probes and an echo request on one
 * connection, sent in one write, answered in order; request_id and trace
 * echoed whatever they are. */
static void test_several_frames_one_connection(void)
{
    uint8_t n1[32], n2[32], wire[512];
    nonce_fill(n1, 1);
    nonce_fill(n2, 100);
    size_t len = 0, w, first_len;
    CU_ASSERT_FATAL(rpb_probe_request_encode(n1, wire, sizeof wire, &first_len) == RPB_OK);
    len += first_len;
    rpb_frame odd = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){n2, 32});
    odd.request_id = 7; /* not derived from the nonce: still answered (PROBE-011) */
    odd.traceparent = rpb_slice_cstr("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    CU_ASSERT_FATAL(rpb_frame_encode(&odd, wire + len, sizeof wire - len, &w) == RPB_OK);
    len += w;
    rpb_frame ping = rpb_frame_request(ECHO_PROTOCOL, rpb_slice_cstr("ping-1"));
    ping.request_id = 1;
    CU_ASSERT_FATAL(rpb_frame_encode(&ping, wire + len, sizeof wire - len, &w) == RPB_OK);
    len += w;

    int fd = connect_main();
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_TRUE(tu_send_all(fd, wire, len));
    rpb_probe_reply r;
    rpb_buf body = {0};
    CU_ASSERT_EQUAL(read_probe_reply(fd, n1, &r, &body), RPB_OK);
    CU_ASSERT_EQUAL(rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + 5000, &body, NULL),
                    RPB_OK);
    rpb_frame f;
    CU_ASSERT_EQUAL_FATAL(rpb_decode(&rpb_frame_desc, body.data, body.len, &f, NULL, 0, NULL), RPB_OK);
    CU_ASSERT_EQUAL(f.request_id, 7);
    CU_ASSERT_TRUE(rpb_slice_eq(f.traceparent, odd.traceparent));
    CU_ASSERT_TRUE(f.payload.len > 32 && memcmp(f.payload.data, n2, 32) == 0);
    CU_ASSERT_EQUAL(rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + 5000, &body, NULL),
                    RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_decode(&rpb_frame_desc, body.data, body.len, &f, NULL, 0, NULL), RPB_OK);
    CU_ASSERT_EQUAL(f.kind, RPB_FRAME_KIND_RESPONSE);
    CU_ASSERT_EQUAL(f.payload_protocol, ECHO_PROTOCOL);
    CU_ASSERT_EQUAL(f.request_id, 1);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(f.payload, "ping-1"));
    /* the connection stays open for more */
    CU_ASSERT_TRUE(tu_send_all(fd, wire, first_len));
    CU_ASSERT_EQUAL(read_probe_reply(fd, n1, &r, &body), RPB_OK);
    rpb_buf_free(&body);
    close(fd);
}

/* Sends wire on a fresh connection and expects the backend to close it
 * without a reply. */
static bool closes_on(const uint8_t *wire, size_t len)
{
    int fd = connect_main();
    if (fd < 0)
        return false;
    bool ok = tu_send_all(fd, wire, len) && closed_silently(fd, 5000);
    close(fd);
    return ok;
}

/* MUX-001..MUX-005, MUX-006: connection-fatal input closes the connection
 * unanswered, and the backend keeps serving. */
static void test_fatal_input_closes(void)
{
    uint8_t wire[256];
    size_t n;
    rpb_frame f = rpb_frame_request(RPB_PP_CONTROL, rpb_slice_cstr("hello"));
    CU_ASSERT_FATAL(rpb_frame_encode(&f, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_TRUE(closes_on(wire, n)); /* MUX-003 */
    f = rpb_frame_request(0x7002, (rpb_slice){NULL, 0});
    CU_ASSERT_FATAL(rpb_frame_encode(&f, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_TRUE(closes_on(wire, n)); /* MUX-004 */
    uint8_t nonce[32];
    nonce_fill(nonce, 3);
    f = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){nonce, 31});
    CU_ASSERT_FATAL(rpb_frame_encode(&f, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_TRUE(closes_on(wire, n)); /* MUX-002, PROBE-010 */
    f = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){nonce, 32});
    f.payload_encoding = RPB_PAYLOAD_ENCODING_ZSTD;
    CU_ASSERT_FATAL(rpb_frame_encode(&f, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_TRUE(closes_on(wire, n)); /* PROBE-010 step 3 */
    CU_ASSERT_TRUE(closes_on((const uint8_t *)"Lhello", 6)); /* MUX-001 */
    CU_ASSERT_TRUE(closes_on((const uint8_t *)"\x01\x03\x00\x00\x00\xff\xff\xff", 8));
    /* MUX-006: decided from the header, no body byte sent */
    static const uint8_t over[5] = {0x01, 0x01, 0x00, 0x10, 0x00}; /* 1 MiB + 1 */
    CU_ASSERT_TRUE(closes_on(over, 5));
    test_probe_verified();
}

/* MUX-006: silent and trickling connections are closed at the frame
 * deadline, and meanwhile other clients are served; the log line of each
 * names MUX-006. */
static void test_slow_clients(void)
{
    tu_tail t;
    CU_ASSERT_FATAL(tu_tail_open(&t, log_path));
    int idle[32];
    for (int i = 0; i < 32; i++)
        idle[i] = connect_main();
    int trickle = connect_main();
    CU_ASSERT_FATAL(trickle >= 0);
    CU_ASSERT_TRUE(tu_send_all(trickle, (const uint8_t *)"\x01\x2a", 2));
    test_probe_verified(); /* served while the herd waits */
    for (int i = 0; i < 32; i++) {
        CU_ASSERT_TRUE(idle[i] >= 0 && closed_silently(idle[i], 10000));
        close(idle[i]);
    }
    CU_ASSERT_TRUE(closed_silently(trickle, 10000));
    close(trickle);
    CU_ASSERT_TRUE(tu_tail_wait(&t, "outcome=deadline", "class=timeout requirement=MUX-006", 10000));
    tu_tail_close(&t);
}

/* Runs rpb-client probe with args; its exit status, stdout in out. */
static int run_client(const char *const *args, char *out, size_t cap)
{
    const char *argv[16] = {client_bin, "probe", "--endpoint", sock_path};
    for (int i = 0; args[i] && i < 10; i++)
        argv[4 + i] = args[i];
    return tu_run_capture(argv, out, cap, 10000);
}

/* Writes a copy of the sidecar with one change to path. */
static void write_variant(const char *path, void (*change)(rpb_daemon_process *))
{
    rpb_identity copy = expected;
    rpb_identity_copy(&copy, &expected.dp);
    change(&copy.dp);
    CU_ASSERT_EQUAL(rpb_sidecar_write(path, &copy.dp), RPB_OK);
}

static uint8_t flipped_sha[32];
static void change_sha(rpb_daemon_process *dp)
{
    memcpy(flipped_sha, dp->exe_sha256.data, 32);
    flipped_sha[0] ^= 0xFF;
    dp->exe_sha256 = (rpb_slice){flipped_sha, 32};
}
static void change_boot_empty(rpb_daemon_process *dp) { dp->boot_id = rpb_slice_cstr(""); }
static void change_path(rpb_daemon_process *dp) { dp->ipc_endpoint.path = rpb_slice_cstr("/elsewhere"); }

/* rpb-client probe: verified (exit 0), and each wrong expectation with
 * its exit code and field (PROBE-020, PROBE-028, IDENT-016). */
static void test_client_probe(void)
{
    static char out[65536];
    CU_ASSERT_EQUAL(run_client((const char *[]){"--expect-identity", id_path, NULL}, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "verified"));
    CU_ASSERT_EQUAL(run_client((const char *[]){"--namespace", "test-namespace", "--json", NULL}, out,
                               sizeof out),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"result\": \"verified\""));
    CU_ASSERT_EQUAL(run_client((const char *[]){"--namespace", "other", NULL}, out, sizeof out), 36);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "field ipc_endpoint"));

    char wrong[160];
    snprintf(wrong, sizeof wrong, "%s/wrong.json", root);
    write_variant(wrong, change_sha);
    CU_ASSERT_EQUAL(run_client((const char *[]){"--expect-identity", wrong, NULL}, out, sizeof out), 47);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "field exe_sha256"));
    write_variant(wrong, change_boot_empty); /* verification skips it, the answer differs */
    CU_ASSERT_EQUAL(run_client((const char *[]){"--expect-identity", wrong, NULL}, out, sizeof out), 36);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "field boot_id"));
    write_variant(wrong, change_path);
    CU_ASSERT_EQUAL(run_client((const char *[]){"--expect-identity", wrong, NULL}, out, sizeof out), 37);
    unlink(wrong);
    CU_ASSERT_EQUAL(run_client((const char *[]){"--expect-identity", wrong, NULL}, out, sizeof out), 50);
    CU_ASSERT_EQUAL(run_client((const char *[]){"--bogus", NULL}, out, sizeof out), 2);
}

/* MUX-007, IDENT-032: a live socket is refused (exit 4), a stale one is
 * replaced, SIGTERM exits 0 removing socket and sidecar. */
static void test_lifecycle(void)
{
    pid_t second = spawn_backend(sock_path, NULL, NULL);
    CU_ASSERT_EQUAL(tu_wait_exit(second, 10000), 4);

    char path[100], id[160];
    snprintf(path, sizeof path, "%s/run/stale.sock", root);
    snprintf(id, sizeof id, "%s/stale-identity.json", root);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd); /* a socket file nobody listens on */
    pid_t b = start_backend(path, id, NULL);
    CU_ASSERT_FATAL(b > 0);
    kill(b, SIGTERM);
    CU_ASSERT_EQUAL(tu_wait_exit(b, 10000), 0);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    CU_ASSERT_EQUAL(access(id, F_OK), -1);

    /* --idle-timeout: exits 0 on its own when nobody connects */
    b = start_backend(path, NULL, (const char *[]){"--idle-timeout", "1", NULL});
    CU_ASSERT_FATAL(b > 0);
    CU_ASSERT_EQUAL(tu_wait_exit(b, 20000), 0);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
    /* usage errors */
    b = spawn_backend(path, NULL, (const char *[]){"--echo-protocol", "0xB232", NULL});
    CU_ASSERT_EQUAL(tu_wait_exit(b, 10000), 2);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_backend_it RPB_BACKEND RPB_CLIENT\n");
        return 2;
    }
    backend_bin = argv[1];
    client_bin = argv[2];
    signal(SIGPIPE, SIG_IGN);
    snprintf(root, sizeof root, "/tmp/rpb-backend-it-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    snprintf(sock_path, sizeof sock_path, "%s/run/backend.sock", root);
    snprintf(id_path, sizeof id_path, "%s/daemon-identity.json", root);
    snprintf(log_path, sizeof log_path, "%s/backend.log", root);
    main_backend = start_backend(sock_path, id_path, (const char *[]){"--frame-timeout", "500", NULL});
    if (main_backend < 0 || rpb_sidecar_read(id_path, &expected) != RPB_OK) {
        fprintf(stderr, "test_backend_it: rpb-backend did not start (see %s)\n", log_path);
        if (main_backend > 0)
            kill(main_backend, SIGKILL);
        return 1;
    }
    static const tu_test tests[] = {
        {"sidecar and socket (IDENT-030..IDENT-033, MUX-007)", test_sidecar_and_socket},
        {"verified probe (PROBE-005, PROBE-021, PROBE-028)", test_probe_verified},
        {"several frames on one connection (MUX-005, MUX-008, PROBE-011)",
         test_several_frames_one_connection},
        {"fatal input closes (MUX-001..MUX-006)", test_fatal_input_closes},
        {"slow clients (MUX-006)", test_slow_clients},
        {"rpb-client probe (PROBE-020, PROBE-028, IDENT-016)", test_client_probe},
        {"lifecycle (MUX-007, IDENT-032)", test_lifecycle},
        {NULL, NULL},
    };
    return tu_finish(main_backend, root, tu_run("backend-it", tests));
}
