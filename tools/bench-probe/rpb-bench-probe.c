/*
 * rpb-bench-probe - identity probe round trips against a real rpb-backend
 * over a Unix socket (spec/probe.md), beside the raw Unix-socket floor
 * measured in the same run (connect + 16-byte request + 16-byte reply +
 * close, no protobuf).
 *
 * A round trip is rpb_probe_endpoint(): nonce, connect, request, response,
 * validation against the expected identity (the backend's sidecar).  It is
 * measured without process verification and with it (RPB_PROBE_VERIFY:
 * pid, boot id, /proc/PID/exe, SHA-256 of the executable, pidfd), so the
 * verification cost shows separately.  Target: P50 without verification
 * <= 2x the floor's P50.  Upstream's requester waits in 5 ms sleeps.
 *
 * usage: rpb-bench-probe [--backend PATH] [--count N] [--check]
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "rpb/client.h"
#include "rpb/rpb.h"

static rpb_identity expected;
static unsigned probe_flags;

static bool probe_once(const char *path)
{
    (void)path; /* the endpoint is the expected identity's */
    rpb_probe_outcome o;
    int rc = rpb_probe_endpoint(&expected.dp.ipc_endpoint, &expected.dp, 5000, probe_flags, &o, NULL);
    rpb_probe_outcome_free(&o);
    return rc == RPB_OK;
}

/* The backend logs "ready" once its socket answers and the sidecar is
 * written (IDENT-032); the sidecar is the expected identity. */
static pid_t start_backend(const char *bin, char *sock, char *identity)
{
    char *const args[] = {(char *)bin, "--socket", sock, "--identity-file", identity,
                          "--namespace", "bench", "--log", "-", NULL};
    pid_t pid = bench_start_daemon("rpb-bench-probe", args, "rpb-backend: ready");
    if (rpb_sidecar_read(identity, &expected) != RPB_OK) {
        fprintf(stderr, "rpb-bench-probe: cannot read %s\n", identity);
        kill(pid, SIGKILL);
        exit(1);
    }
    return pid;
}

#define PROG "rpb-bench-probe"

static void usage(void)
{
    printf("usage: " PROG " [--backend PATH] [--count N] [--check]\n"
           "Starts an rpb-backend and a raw Unix-socket echo server (the floor) and measures\n"
           "identity probe round trips without and with process verification, P50/P99\n"
           "beside the floor's; prints the target with met / NOT MET.\n"
           "  --backend PATH  rpb-backend to measure (default: next to this program)\n"
           "  --count N       timed round trips per measurement (default 2000, at least 100)\n"
           "  --check         exit 1 when P50 without verification > 2x floor P50\n"
           "Exit codes: 0 done (and, with --check, target met); 1 target missed or a\n"
           "round trip failed; 2 usage.\n");
}

int main(int argc, char **argv)
{
    bench_args a = {.count = 2000, .count_min = 100};
    bench_sibling(argv[0], "rpb-backend", a.daemon, sizeof a.daemon);
    static const struct option opts[] = {
        {"backend", required_argument, NULL, BENCH_OPT_DAEMON},
        {"count", required_argument, NULL, BENCH_OPT_COUNT},
        {NULL, 0, NULL, 0},
    };
    int rc = bench_parse_args(PROG, argc, argv, opts, usage, &a);
    if (rc >= 0)
        return rc;
    size_t count = a.count;
    signal(SIGPIPE, SIG_IGN);

    char dir[] = "/tmp/rpb-bench-probe-XXXXXX", floor_sock[64], sock[64], identity[64];
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(floor_sock, sizeof floor_sock, "%s/floor.sock", dir);
    snprintf(sock, sizeof sock, "%s/run/backend.sock", dir);
    snprintf(identity, sizeof identity, "%s/identity.json", dir);
    /* the daemon first: when it does not start, no floor server is left behind */
    pid_t backend_pid = start_backend(a.daemon, sock, identity);
    pid_t floor_pid = bench_start_floor(floor_sock);

    printf("rpb-bench-probe: one new Unix-socket connection per round trip, connect included\n");
    printf("  %ld CPU(s); latency over %zu round trips (+%d warm-up) each\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), count, BENCH_WARMUP);
    bench_latency lf = bench_measure_latency(bench_floor_once, floor_sock, count);
    probe_flags = 0;
    bench_latency lp = bench_measure_latency(probe_once, sock, count);
    probe_flags = RPB_PROBE_VERIFY;
    bench_latency lv = bench_measure_latency(probe_once, sock, count);
    size_t failures = lf.failures + lp.failures + lv.failures;

    printf("  %-34s %12s %12s %8s\n", "", "P50", "P99", "P50/floor");
    printf("  %-34s %9.1f us %9.1f us %7.2fx\n", "floor (raw socket)", lf.p50, lf.p99, 1.0);
    printf("  %-34s %9.1f us %9.1f us %7.2fx\n", "probe, no verification", lp.p50, lp.p99,
           lp.p50 / lf.p50);
    printf("  %-34s %9.1f us %9.1f us %7.2fx\n", "probe + process verification", lv.p50, lv.p99,
           lv.p50 / lf.p50);
    printf("  %-34s %9.1f us\n", "verification cost (P50 difference)", lv.p50 - lp.p50);
    printf("  failed round trips: %zu\n\n", failures);
    bool met = lp.p50 <= 2 * lf.p50;
    printf("targets:\n  P50 without verification <= 2x floor P50 (%.1f us <= %.1f us)  %s\n",
           lp.p50, 2 * lf.p50, met ? "met" : "NOT MET");
    printf("  upstream's requester sleeps 5 ms per wait; one wait costs 5000 us\n");

    bench_finish(floor_pid, backend_pid, dir);
    if (failures > 0)
        return 1;
    return a.check && !met ? 1 : 0;
}
