/*
 * rpb-bench-hello - Hello round trips against a real rpb-broker over a Unix
 * socket, beside a floor measured in the same run: a raw Unix-socket server
 * doing connect + 16-byte request + 16-byte reply + close, no protobuf.
 *
 * Every round trip is a new connection (one Hello per connection,
 * HELLO-001), timed from before connect() to after the reply is decoded.
 * Reports P50/P99 for one client and throughput with 1, 8 and 64 concurrent
 * client processes, the broker's latency again beside 200 idle connections
 * and a slowloris (SEC-005; the unloaded broker is its baseline), then the
 * issue's targets: P50 <= 2x floor P50, P99 <= 500 us, >= 20,000 Hellos/s
 * with 8 clients.
 *
 * usage: rpb-bench-hello [--broker PATH] [--count N] [--duration MS] [--check]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "rpb/client.h"
#include "rpb/rpb.h"


/* ---- one round trip of each kind; false on any failure ---- */

static uint8_t hello_req[512];
static size_t hello_len;

/* The Hello of this process: peer_pid must be the verified pid (HELLO-015),
 * so every client process encodes its own: main() encodes it, and a
 * pthread_atfork() child handler again in each forked throughput client,
 * outside the timed trips. */
static void encode_hello(void)
{
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", (uint32_t)getpid());
    h.client_version = rpb_slice_cstr("zccache-cli/1.11.20");
    h.client_keepalive_secs = 60;
    if (rpb_hello_request_encode(&h, 1, hello_req, sizeof hello_req, &hello_len) != RPB_OK)
        abort();
}

static bool hello_once(const char *path)
{
    rpb_buf reply = {0};
    int rc = rpb_client_exchange(path, hello_req, hello_len, rpb_monotonic_ms() + 5000, &reply, NULL);
    bool ok = false;
    if (rc == RPB_OK) {
        uint8_t mem[1024];
        rpb_arena arena;
        rpb_arena_init(&arena, mem, sizeof mem);
        rpb_hello_result res;
        ok = rpb_hello_reply_classify(reply.data, reply.len, &arena, &res) == RPB_OK &&
             res.kind == RPB_HELLO_RESULT_NEGOTIATED;
    }
    rpb_buf_free(&reply);
    return ok;
}

/* The broker's latency while IDLE connections stay silent and one
 * slowloris has sent a byte of its header (SEC-005: neither delays
 * anyone); the connections are closed afterwards. */
#define IDLE 200
static bench_latency measure_beside_idle(const char *path, size_t count)
{
    int fds[IDLE + 1];
    for (int i = 0; i <= IDLE; i++)
        fds[i] = rpb_client_connect(path, rpb_monotonic_ms() + 5000);
    static const uint8_t first = 0x01;
    (void)!send(fds[IDLE], &first, 1, MSG_NOSIGNAL);
    bench_latency l = bench_measure_latency(hello_once, path, count);
    for (int i = 0; i <= IDLE; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return l;
}

/* ---- the broker under test ---- */

static pid_t start_broker(const char *bin, const char *dir, char *sock, size_t cap)
{
    char svc[256], file[300];
    snprintf(svc, sizeof svc, "%s/svc", dir);
    snprintf(sock, cap, "%s/run/broker.sock", dir);
    snprintf(file, sizeof file, "%s/zccache.service", svc);
    mkdir(svc, 0700);
    FILE *f = fopen(file, "w");
    fputs("backend_pipe = /run/zccache.sock\ndaemon_version = 1.11.20\nmin_version = 1.10.0\n"
          "allow = 1.11.20\n",
          f);
    fclose(f);
    char *const args[] = {(char *)bin, "--socket", sock, "--services", svc, "--rate-limit",
                          "0/1000", "--log", "-", "--drain-timeout", "0", NULL};
    return bench_start_daemon("rpb-bench-hello", args, "listening on");
}

#define PROG "rpb-bench-hello"

static void usage(void)
{
    printf("usage: " PROG " [--broker PATH] [--count N] [--duration MS] [--check]\n"
           "Starts an rpb-broker and a raw Unix-socket echo server (the floor) and measures\n"
           "new-connection round trips against both: P50/P99 for one client, throughput\n"
           "with 1, 8 and 64 client processes, and the broker's P50/P99 beside 200 idle\n"
           "connections and a slowloris; prints the targets with met / NOT MET.\n"
           "  --broker PATH  rpb-broker to measure (default: next to this program)\n"
           "  --count N      timed round trips per latency measurement (default 10000,\n"
           "                 at least 100)\n"
           "  --duration MS  each throughput measurement (default 1000, at least 100)\n"
           "  --check        exit 1 when a target is missed\n"
           "Exit codes: 0 done (and, with --check, every target met); 1 a target missed\n"
           "(--check) or a round trip failed; 2 usage.\n");
}

int main(int argc, char **argv)
{
    bench_args a = {.count = 10000, .count_min = 100, .duration = 1000};
    bench_sibling(argv[0], "rpb-broker", a.daemon, sizeof a.daemon);
    static const struct option opts[] = {
        {"broker", required_argument, NULL, BENCH_OPT_DAEMON},
        {"count", required_argument, NULL, BENCH_OPT_COUNT},
        {"duration", required_argument, NULL, BENCH_OPT_DURATION},
        {NULL, 0, NULL, 0},
    };
    int rc = bench_parse_args(PROG, argc, argv, opts, usage, &a);
    if (rc >= 0)
        return rc;
    size_t count = a.count;
    int duration = a.duration;
    signal(SIGPIPE, SIG_IGN);

    encode_hello();
    pthread_atfork(NULL, NULL, encode_hello);

    char dir[] = "/tmp/rpb-bench-XXXXXX", floor_sock[64], broker_sock[300];
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(floor_sock, sizeof floor_sock, "%s/floor.sock", dir);
    /* the daemon first: when it does not start, no floor server is left behind */
    pid_t broker_pid = start_broker(a.daemon, dir, broker_sock, sizeof broker_sock);
    pid_t floor_pid = bench_start_floor(floor_sock);

    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("rpb-bench-hello: one new Unix-socket connection per round trip, connect included\n");
    printf("  %ld CPU(s); latency over %zu round trips (+%d warm-up); throughput over %d ms\n\n",
           cpus, count, BENCH_WARMUP, duration);

    bench_latency lf = bench_measure_latency(bench_floor_once, floor_sock, count);
    bench_latency lb = bench_measure_latency(hello_once, broker_sock, count);
    bench_latency li = measure_beside_idle(broker_sock, count);
    static const int clients[] = {1, 8, 64};
    double tf[3], tb[3];
    size_t failures = lf.failures + lb.failures + li.failures, f;
    for (int i = 0; i < 3; i++) {
        tf[i] = bench_measure_throughput(bench_floor_once, floor_sock, clients[i], duration, &f);
        failures += f;
        tb[i] = bench_measure_throughput(hello_once, broker_sock, clients[i], duration, &f);
        failures += f;
    }

    printf("  %-28s %14s %14s %8s\n", "", "floor (raw)", "rpb-broker", "ratio");
    printf("  %-28s %11.1f us %11.1f us %7.2fx\n", "latency, 1 client, P50", lf.p50, lb.p50,
           lb.p50 / lf.p50);
    printf("  %-28s %11.1f us %11.1f us %7.2fx\n", "latency, 1 client, P99", lf.p99, lb.p99,
           lb.p99 / lf.p99);
    for (int i = 0; i < 3; i++) {
        char label[64];
        snprintf(label, sizeof label, "throughput, %d client%s", clients[i], clients[i] > 1 ? "s" : "");
        printf("  %-28s %12.0f/s %12.0f/s %7.2fx\n", label, tf[i], tb[i], tb[i] / tf[i]);
    }
    printf("  %-28s %14s %11.1f us %7.2fx (vs unloaded P50)\n", "P50 beside 200 idle + slowloris",
           "", li.p50, li.p50 / lb.p50);
    printf("  %-28s %14s %11.1f us %7.2fx (vs unloaded P99)\n", "P99 beside 200 idle + slowloris",
           "", li.p99, li.p99 / lb.p99);
    printf("  failed round trips: %zu\n\n", failures);

    bool t1 = lb.p50 <= 2 * lf.p50, t2 = lb.p99 <= 500.0, t3 = tb[1] >= 20000.0;
    printf("targets:\n");
    printf("  P50 <= 2x floor P50 (%.1f us <= %.1f us)       %s\n", lb.p50, 2 * lf.p50,
           t1 ? "met" : "NOT MET");
    printf("  P99 <= 500 us (%.1f us)                        %s\n", lb.p99, t2 ? "met" : "NOT MET");
    printf("  >= 20000 Hellos/s with 8 clients (%.0f/s)     %s%s\n", tb[1], t3 ? "met" : "NOT MET",
           cpus < 2 ? " (fewer than 2 CPUs)" : "");
    printf("  upstream budget P50 <= 200 us, P99 <= 1000 us  %s\n",
           lb.p50 <= 200 && lb.p99 <= 1000 ? "met" : "NOT MET");

    bench_finish(floor_pid, broker_pid, dir);
    if (failures > 0)
        return 1;
    return a.check && !(t1 && t2 && t3) ? 1 : 0;
}
