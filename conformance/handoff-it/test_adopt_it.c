/*
 * test_adopt_it.c - `rpb-client --adopt` end to end with the real
 * rpb-broker and rpb-backend (spec/handoff.md §1, §6): a service whose
 * definition names the backend's handoff socket is reached through the
 * handed-off broker connection, one without it through backend_pipe, and
 * when the backend no longer listens on its handoff socket the client
 * falls back to backend_pipe silently.  Each route carries an echo
 * exchange.
 *
 * Usage: test_adopt_it RPB_BROKER RPB_BACKEND RPB_CLIENT
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

#define WAIT_MS 10000

static const char *broker_bin, *backend_bin, *client_bin;
static char root[64], broker_sock[128], backend_sock[128], handoff_sock[128], svc_dir[128],
    log_path[128];
static pid_t backend;
static tu_tail tail;

/* Starts rpb-backend, with its handoff socket when handoff is true. */
static pid_t start_backend(bool handoff)
{
    char field[160];
    snprintf(field, sizeof field, " socket=%s ", backend_sock);
    const char *argv[] = {backend_bin, "--socket", backend_sock, "--echo-protocol", "0x7001",
                          "--log", log_path, handoff ? "--handoff-socket" : NULL, handoff_sock,
                          NULL};
    return tu_start_daemon(argv, log_path, ": ready ", field, WAIT_MS);
}

/* rpb-client --adopt --echo on service; its exit status, stdout in out. */
static int adopt(const char *service, bool json, char *out, size_t cap)
{
    const char *argv[] = {client_bin, "--socket", broker_sock, "--service", service,
                          "--wanted-version", "1.0.0", "--adopt", "--echo", "0x7001",
                          json ? "--json" : NULL, NULL};
    return tu_run_capture(argv, out, cap, WAIT_MS);
}

/* HANDOFF-001, HANDOFF-045, HANDOFF-051: the handoff route; the echo went
 * over the adopted broker connection (the backend logs it via=handoff). */
static void test_handoff_route(void)
{
    char out[4096];
    CU_ASSERT_EQUAL(adopt("handoff", true, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"route\": \"handoff\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"handoff_status\": \"ok\""));
    CU_ASSERT_TRUE(tu_tail_wait(&tail, "handoff conn=", "outcome=adopted", WAIT_MS));
    CU_ASSERT_TRUE(tu_tail_wait(&tail, "via=handoff", "payloads=1", WAIT_MS));

    CU_ASSERT_EQUAL(adopt("handoff", false, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  route: handoff\n"));
}

/* HANDOFF-001, HELLO-035: no handoff socket in the definition, no token:
 * the client goes to backend_pipe at once. */
static void test_reconnect_route(void)
{
    char out[4096];
    CU_ASSERT_EQUAL(adopt("plain", true, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"route\": \"reconnect\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"handoff_status\": \"ok\""));
}

/* The human output names the route too. */
static void test_route_printed(void)
{
    char out[4096];
    CU_ASSERT_EQUAL(adopt("plain", false, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "negotiated\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  route: reconnect\n"));
}

/* HELLO-065: a Negotiated whose backend_pipe does not fit sun_path is a
 * backend that cannot be connected (exit 1, the reply printed), not a
 * malformed reply (exit 3). */
static void test_backend_pipe_too_long(void)
{
    char out[4096];
    CU_ASSERT_EQUAL(adopt("longpipe", false, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "negotiated\n"));
    CU_ASSERT_PTR_NULL(strstr(out, "route:"));
}

/* rpb-client on socket (no service needed for these failures), with or
 * without --adopt; its exit status. */
static int hello_on(const char *socket, bool with_adopt)
{
    char out[1024];
    const char *argv[] = {client_bin, "--socket", socket, "--service", "plain", "--wanted-version",
                          "1.0.0", "--timeout", "10000", with_adopt ? "--adopt" : NULL, NULL};
    return tu_run_capture(argv, out, sizeof out, WAIT_MS);
}

/* A --socket too long for sun_path, and a broker that reads the Hello
 * and closes the connection without a reply, are transport errors with --adopt as
 * without it: exit 1, not a malformed reply's 3. */
static void test_transport_errors(void)
{
    char long_sock[256];
    snprintf(long_sock, sizeof long_sock, "%s/%0120d.sock", root, 0);
    CU_ASSERT_EQUAL(hello_on(long_sock, false), 1);
    CU_ASSERT_EQUAL(hello_on(long_sock, true), 1);

    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/closing.sock", root);
    const char *closing = a.sun_path;
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0);
    pid_t closer = fork();
    CU_ASSERT_FATAL(closer >= 0);
    if (closer == 0) { /* reads two Hellos and closes their connections unanswered */
        for (int i = 0; i < 2; i++) {
            int c = accept(l, NULL, NULL);
            char hello[4096];
            if (c < 0 || read(c, hello, sizeof hello) <= 0)
                _exit(1);
            close(c);
        }
        _exit(0);
    }
    CU_ASSERT_EQUAL(hello_on(closing, false), 1);
    CU_ASSERT_EQUAL(hello_on(closing, true), 1);
    CU_ASSERT_EQUAL(tu_wait_exit(closer, WAIT_MS), 0);
    close(l);
    unlink(closing);
}

/* --echo needs --adopt; --adopt goes without --admin; a Hello too large
 * to send is a usage error on either route. */
static void test_usage(void)
{
    char out[256];
    const char *no_adopt[] = {client_bin, "--socket", broker_sock, "--service", "plain",
                              "--wanted-version", "1.0.0", "--echo", "0x7001", NULL};
    CU_ASSERT_EQUAL(tu_run_capture(no_adopt, out, sizeof out, WAIT_MS), 2);
    const char *admin[] = {client_bin, "--socket", broker_sock, "--admin", "status", "--adopt",
                           NULL};
    CU_ASSERT_EQUAL(tu_run_capture(admin, out, sizeof out, WAIT_MS), 2);
    /* HELLO-068: a Hello over the 64 KiB cap, with --adopt as without */
    static char big[70000];
    memset(big, 'v', sizeof big - 1);
    for (int with_adopt = 0; with_adopt < 2; with_adopt++) {
        const char *too_large[] = {client_bin, "--socket", broker_sock, "--service", "plain",
                                   "--wanted-version", "1.0.0", "--client-version", big,
                                   with_adopt ? "--adopt" : NULL, NULL};
        CU_ASSERT_EQUAL(tu_run_capture(too_large, out, sizeof out, WAIT_MS), 2);
    }
}

/* HANDOFF-032, HANDOFF-052: the backend restarted without its handoff
 * socket; the broker's attempt fails and the client falls back to
 * backend_pipe silently (exit 0, the echo answered). */
static void test_fallback_when_stopped(void)
{
    kill(backend, SIGTERM);
    CU_ASSERT_EQUAL_FATAL(tu_wait_exit(backend, WAIT_MS), 0);
    backend = start_backend(false);
    CU_ASSERT_FATAL(backend > 0);
    char out[4096];
    CU_ASSERT_EQUAL(adopt("handoff", true, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"route\": \"reconnect\""));
    CU_ASSERT_PTR_NULL(strstr(out, "\"handoff_status\": \"ok\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"result\": \"negotiated\""));
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_adopt_it RPB_BROKER RPB_BACKEND RPB_CLIENT\n");
        return 2;
    }
    broker_bin = argv[1];
    backend_bin = argv[2];
    client_bin = argv[3];
    signal(SIGPIPE, SIG_IGN);
    snprintf(root, sizeof root, "/tmp/rpb-adopt-it-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    snprintf(broker_sock, sizeof broker_sock, "%s/broker.sock", root);
    snprintf(backend_sock, sizeof backend_sock, "%s/backend.sock", root);
    snprintf(handoff_sock, sizeof handoff_sock, "%s/handoff.sock", root);
    snprintf(svc_dir, sizeof svc_dir, "%s/services", root);
    snprintf(log_path, sizeof log_path, "%s/daemons.log", root);
    char long_pipe[256];
    snprintf(long_pipe, sizeof long_pipe, "%s/%0120d.sock", root, 0); /* over sun_path's 108 */
    if (mkdir(svc_dir, 0700) != 0 || !tu_write_service(svc_dir, "handoff", backend_sock, handoff_sock) ||
        !tu_write_service(svc_dir, "plain", backend_sock, NULL) ||
        !tu_write_service(svc_dir, "longpipe", long_pipe, NULL))
        return 1;
    backend = start_backend(true);
    pid_t broker = tu_start_daemon((const char *[]){broker_bin, "--socket", broker_sock,
                                                    "--services", svc_dir, "--log", log_path,
                                                    NULL},
                                   log_path, "listening on", NULL, WAIT_MS);
    if (backend < 0 || broker < 0 || !tu_tail_open(&tail, log_path)) {
        fprintf(stderr, "test_adopt_it: the daemons did not start (see %s)\n", log_path);
        return 1;
    }
    static const tu_test tests[] = {
        {"handoff route (HANDOFF-001, HANDOFF-045, HANDOFF-051)", test_handoff_route},
        {"reconnect route (HANDOFF-001, HELLO-035)", test_reconnect_route},
        {"route printed", test_route_printed},
        {"backend_pipe too long for sun_path: exit 1 (HELLO-065)", test_backend_pipe_too_long},
        {"transport errors: exit 1 with --adopt too", test_transport_errors},
        {"usage", test_usage},
        {"handoff socket stopped: silent fallback (HANDOFF-032, HANDOFF-052)",
         test_fallback_when_stopped},
        {NULL, NULL},
    };
    int status = tu_run("adopt-it", tests);
    tu_tail_close(&tail);
    status = tu_finish(broker, NULL, status);
    return backend > 0 ? tu_finish(backend, root, status) : 1;
}
