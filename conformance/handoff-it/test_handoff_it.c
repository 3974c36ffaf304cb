/*
 * test_handoff_it.c - rpb_connect_backend() against the real rpb-broker and
 * rpb-backend over real sockets (spec/handoff.md §6): an adopting client
 * that the broker issues no token (HELLO-035) reaches the backend through
 * backend_pipe, and the connection it gets serves the echo protocol.
 *
 * Usage: test_handoff_it RPB_BROKER RPB_BACKEND
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

#define ECHO_PROTOCOL 0x7001u

static const char *broker_bin, *backend_bin;
static char root[64], broker_sock[128], backend_sock[128], svc_dir[128], log_path[128];

/* HANDOFF-001, HANDOFF-052, HELLO-035: an adopting client of rpb-broker
 * gets a Negotiated without a token or bit 0, does not wait, and its
 * backend_pipe connection carries the service (an echo round trip). */
static void test_fallback_route(void)
{
    rpb_hello h;
    rpb_hello_init(&h, "echo", "1.0.0", (uint32_t)getpid());
    rpb_connect_options opt = {RPB_CONNECT_ADOPT, 0, rpb_monotonic_ms() + 5000};
    rpb_backend_conn c;
    CU_ASSERT_EQUAL_FATAL(rpb_connect_backend(broker_sock, &h, &opt, &c, NULL), RPB_OK);
    CU_ASSERT_EQUAL(c.result.kind, RPB_HELLO_RESULT_NEGOTIATED);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    CU_ASSERT_EQUAL(c.handoff_status, RPB_OK);
    const rpb_negotiated *n = &c.result.reply.negotiated;
    CU_ASSERT_EQUAL(n->handle_passed_token.len, 0);
    CU_ASSERT_EQUAL(n->server_capabilities & RPB_CAP_HANDLE_PASSING, 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(n->backend_pipe, backend_sock));

    rpb_frame ping = rpb_frame_request(ECHO_PROTOCOL, rpb_slice_cstr("ping"));
    ping.request_id = 3;
    int64_t deadline = rpb_monotonic_ms() + 5000;
    CU_ASSERT_EQUAL(rpb_write_frame_msg(c.fd, &ping, deadline), RPB_OK);
    rpb_buf body = {0};
    rpb_frame f;
    rpb_msg_init(&rpb_frame_desc, &f);
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(c.fd, RPB_MAX_FRAME_BYTES, deadline, &body, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_decode(&rpb_frame_desc, body.data, body.len, &f, NULL, 0, NULL), RPB_OK);
    CU_ASSERT_EQUAL(f.request_id, 3);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(f.payload, "ping"));
    rpb_buf_free(&body);
    close(c.fd);
    rpb_backend_conn_free(&c);
}

/* A refusal is returned, not a connection. */
static void test_refused(void)
{
    rpb_hello h;
    rpb_hello_init(&h, "no-such-service", "1.0.0", (uint32_t)getpid());
    rpb_connect_options opt = {RPB_CONNECT_ADOPT, 0, rpb_monotonic_ms() + 5000};
    rpb_backend_conn c;
    CU_ASSERT_EQUAL(rpb_connect_backend(broker_sock, &h, &opt, &c, NULL), RPB_OK);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_NONE);
    CU_ASSERT_EQUAL(c.fd, -1);
    CU_ASSERT_EQUAL(c.result.kind, RPB_HELLO_RESULT_SERVICE_UNKNOWN);
    rpb_backend_conn_free(&c);
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
    snprintf(svc_dir, sizeof svc_dir, "%s/services", root);
    snprintf(log_path, sizeof log_path, "%s/daemons.log", root);
    char svc[256], text[256];
    snprintf(svc, sizeof svc, "%s/echo.service", svc_dir);
    snprintf(text, sizeof text, "backend_pipe = %s\ndaemon_version = 1.0.0\n", backend_sock);
    FILE *f = mkdir(svc_dir, 0700) == 0 ? fopen(svc, "w") : NULL;
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        return 1;

    char socket_field[160];
    snprintf(socket_field, sizeof socket_field, " socket=%s ", backend_sock);
    pid_t backend = tu_start_daemon((const char *[]){backend_bin, "--socket", backend_sock,
                                                     "--namespace", "test", "--echo-protocol",
                                                     "0x7001", "--log", log_path, NULL},
                                    log_path, ": ready ", socket_field, 10000);
    pid_t broker = tu_start_daemon((const char *[]){broker_bin, "--socket", broker_sock,
                                                    "--services", svc_dir, "--log", log_path, NULL},
                                   log_path, "listening on", NULL, 10000);
    int status = 1;
    if (backend > 0 && broker > 0) {
        static const tu_test tests[] = {
            {"fallback to backend_pipe (HANDOFF-001, HANDOFF-052, HELLO-035)",
             test_fallback_route},
            {"refusal", test_refused},
            {NULL, NULL},
        };
        status = tu_run("handoff-it", tests);
    } else {
        fprintf(stderr, "test_handoff_it: the daemons did not start (see %s)\n", log_path);
    }
    for (int i = 0; i < 2; i++) {
        pid_t pid = i ? broker : backend;
        if (pid > 0) {
            kill(pid, SIGTERM);
            if (tu_wait_exit(pid, 10000) != 0)
                status = 1;
        }
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (status == 0 && system(cmd) != 0)
        status = 1;
    return status;
}
