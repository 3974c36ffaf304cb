/*
 * rpb-bench-start - time from a client's first call to the first echo
 * reply of a backend the broker launched for it (spec/discovery.md §2 and
 * §3), beside process start-up measured in the same run.
 *
 * cold: no broker runs.  One call: rpb_rendezvous_connect() starts
 * rpb-broker --launch (detached; it answers a HEALTHZ first, RDV-007),
 * the Hello makes the broker launch rpb-backend and probe it (LAUNCH-004,
 * LAUNCH-005), the client connects to the negotiated endpoint and gets one
 * echo reply.  The broker is then stopped (it stops its backend,
 * LAUNCH-012) before the next run.
 * warm: the same call with broker and backend running.
 * floor: posix_spawn of rpb-backend --version until it exits, the cost of
 * starting one of the two processes a cold start needs.
 *
 * The share of a cold start spent in the broker's start, the launch's
 * preparation (binary check, endpoint), the backend's spawn, its
 * readiness wait (during which the broker hashes the binary) and the probe
 * comes from the timings the broker logs with
 * each "launched" event.  Target: cold P50 <= 25 ms.
 *
 * usage: rpb-bench-start [--runs N] [--check]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "rpb/rpb.h"

#define ECHO_PROTOCOL 0x7001u
#define TARGET_COLD_P50_US 25000.0
#define CALL_TIMEOUT_MS 10000

extern char **environ;

static char broker_bin[PATH_MAX], backend_bin[PATH_MAX], bin_dir[PATH_MAX], svc_dir[96];

/* Phases of one call, ns. */
typedef struct call_times {
    int64_t rendezvous, hello, echo, total;
} call_times;

/* The launch phases the broker logged, us (0: not found). */
typedef struct launch_times {
    int64_t prepare, spawn, hash, ready, probe;
} launch_times;

static void die(const char *what)
{
    fprintf(stderr, "rpb-bench-start: %s\n", what);
    exit(1);
}

/* One echo exchange with the backend at path. */
static bool echo(const char *path)
{
    static const uint8_t ping[] = "ping";
    rpb_frame f = rpb_frame_request(ECHO_PROTOCOL, (rpb_slice){ping, sizeof ping - 1});
    f.request_id = 1;
    uint8_t req[64];
    size_t n;
    rpb_buf reply = {0};
    bool ok = rpb_frame_encode(&f, req, sizeof req, &n) == RPB_OK &&
              rpb_client_exchange(path, req, n, rpb_monotonic_ms() + CALL_TIMEOUT_MS, &reply, NULL) == RPB_OK;
    rpb_frame back;
    ok = ok && rpb_decode(&rpb_frame_desc, reply.data, reply.len, &back, NULL, 0, NULL) == RPB_OK &&
         back.payload.len == sizeof ping - 1 && memcmp(back.payload.data, ping, back.payload.len) == 0;
    rpb_buf_free(&reply);
    return ok;
}

/* The client's call: rendezvous (starting the broker when needed), Hello,
 * echo.  *broker_pid is set when this call started the broker. */
static bool call(const char *sock, call_times *t, pid_t *broker_pid)
{
    char *const argv[] = {broker_bin, "--socket", (char *)sock, "--launch", svc_dir, "--drain-timeout", "0", NULL};
    rpb_rdv_options o = {.socket_path = sock, .broker_argv = argv,
                         .deadline_ms = rpb_monotonic_ms() + CALL_TIMEOUT_MS};
    rpb_rdv_result r;
    rpb_errinfo err;
    int64_t t0 = bench_now_ns();
    int fd = rpb_rendezvous_connect(&o, &r, &err);
    if (fd < 0) {
        fprintf(stderr, "rpb-bench-start: rendezvous: %s\n", err.message);
        return false;
    }
    if (r.how == RPB_RDV_STARTED)
        *broker_pid = r.broker_pid;
    int64_t t1 = bench_now_ns();
    rpb_hello h;
    rpb_hello_init(&h, "echo", "1.0.0", (uint32_t)getpid());
    uint8_t req[512], arena_mem[4096];
    size_t n;
    rpb_buf reply = {0};
    rpb_arena arena;
    rpb_arena_init(&arena, arena_mem, sizeof arena_mem);
    rpb_hello_result res;
    bool ok = rpb_hello_request_encode(&h, 1, req, sizeof req, &n) == RPB_OK &&
              rpb_client_exchange_fd(fd, req, n, o.deadline_ms, &reply, NULL) == RPB_OK &&
              rpb_hello_reply_classify(reply.data, reply.len, &arena, &res) == RPB_OK &&
              res.kind == RPB_HELLO_RESULT_NEGOTIATED;
    close(fd);
    char pipe[RPB_SUN_PATH_MAX] = "";
    if (ok)
        snprintf(pipe, sizeof pipe, "%.*s", (int)res.reply.negotiated.backend_pipe.len,
                 (const char *)res.reply.negotiated.backend_pipe.data);
    rpb_buf_free(&reply);
    int64_t t2 = bench_now_ns();
    ok = ok && echo(pipe);
    int64_t t3 = bench_now_ns();
    *t = (call_times){t1 - t0, t2 - t1, t3 - t2, t3 - t0};
    if (!ok)
        fprintf(stderr, "rpb-bench-start: the Hello or the echo failed (see %s.log)\n", sock);
    return ok;
}

/* The number after "key=" in line, or 0. */
static int64_t log_field(const char *line, const char *key)
{
    char k[32];
    snprintf(k, sizeof k, " %s=", key);
    const char *p = strstr(line, k);
    return p ? atoll(p + strlen(k)) : 0;
}

/* The timings of the broker's "launched" event in log. */
static launch_times read_launch(const char *log)
{
    launch_times lt = {0};
    FILE *f = fopen(log, "r");
    char line[2048];
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strstr(line, "rpb-broker: launched ") != NULL)
            lt = (launch_times){log_field(line, "prepare_us"), log_field(line, "spawn_us"),
                                log_field(line, "hash_us"), log_field(line, "ready_us"),
                                log_field(line, "probe_us")};
    if (f != NULL)
        fclose(f);
    return lt;
}

/* SIGTERM to a broker that is not our child, then wait for it (pidfd). */
static void stop_broker(pid_t pid)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    kill(pid, SIGTERM);
    if (pfd >= 0) {
        struct pollfd p = {pfd, POLLIN, 0};
        poll(&p, 1, 10000);
        close(pfd);
    }
}

/* floor: one process start and exit, ns. */
static int64_t spawn_once(void)
{
    char *const argv[] = {backend_bin, "--version", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int64_t t0 = bench_now_ns();
    int rc = posix_spawn(&pid, backend_bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die("cannot start rpb-backend --version");
    waitpid(pid, NULL, 0);
    return bench_now_ns() - t0;
}

static void write_definition(void)
{
    char path[160];
    snprintf(path, sizeof path, "%s/echo.service", svc_dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die("cannot write the service definition");
    fprintf(f, "binary_path = %s\nper_version_binary_dir = %s\narg = --echo-protocol\narg = 0x%x\n",
            backend_bin, bin_dir, ECHO_PROTOCOL);
    fclose(f);
}

static double us(int64_t ns) { return ns / 1000.0; }

#define PROG "rpb-bench-start"

static void usage(void)
{
    printf("usage: " PROG " [--runs N] [--check]\n"
           "  --runs N   cold and warm calls each (default 50, at least 50)\n"
           "  --check    exit 1 when the cold-start P50 exceeds 25 ms\n"
           "rpb-broker and rpb-backend are taken from this program's directory.\n"
           "Exit codes: 0 done (and, with --check, target met); 1 target missed or a\n"
           "call failed; 2 usage.\n");
}

int main(int argc, char **argv)
{
    bench_args a = {.count = 50, .count_min = 50};
    static const struct option opts[] = {
        {"runs", required_argument, NULL, BENCH_OPT_COUNT},
        {NULL, 0, NULL, 0},
    };
    int rc = bench_parse_args(PROG, argc, argv, opts, usage, &a);
    if (rc >= 0)
        return rc;
    size_t runs = a.count;
    signal(SIGPIPE, SIG_IGN);
    char sib[PATH_MAX];
    bench_sibling(argv[0], "rpb-broker", sib, sizeof sib);
    if (realpath(sib, broker_bin) == NULL)
        die("no rpb-broker next to this program");
    bench_sibling(argv[0], "rpb-backend", sib, sizeof sib);
    if (realpath(sib, backend_bin) == NULL)
        die("no rpb-backend next to this program");
    snprintf(bin_dir, sizeof bin_dir, "%.*s", (int)(strrchr(backend_bin, '/') - backend_bin), backend_bin);

    char dir[] = "/tmp/rbs-XXXXXX", run[64], sock[96];
    if (mkdtemp(dir) == NULL)
        die("mkdtemp failed");
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(svc_dir, sizeof svc_dir, "%s/svc", dir);
    mkdir(run, 0700);
    mkdir(svc_dir, 0700);
    setenv("XDG_RUNTIME_DIR", run, 1); /* where the backends' endpoints go (NAME-004) */
    write_definition();

    int64_t *floor_ns = calloc(runs, sizeof *floor_ns), *cold = calloc(runs, sizeof *cold),
            *warm = calloc(runs, sizeof *warm);
    if (!floor_ns || !cold || !warm)
        die("out of memory");
    double sum_rdv = 0, sum_hello = 0, sum_echo = 0, sum_total = 0, sum_prep = 0, sum_spawn = 0,
           sum_hash = 0, sum_ready = 0, sum_probe = 0;
    size_t failures = 0;
    for (size_t i = 0; i < runs; i++)
        floor_ns[i] = spawn_once();
    pid_t broker = 0;
    for (size_t i = 0; i < runs; i++) {
        snprintf(sock, sizeof sock, "%s/%zu/b.sock", dir, i);
        call_times t = {0};
        broker = 0;
        if (!call(sock, &t, &broker) || broker == 0) {
            failures++;
        } else {
            char log[128];
            snprintf(log, sizeof log, "%s.log", sock);
            launch_times lt = read_launch(log);
            sum_prep += lt.prepare, sum_spawn += lt.spawn, sum_hash += lt.hash, sum_ready += lt.ready;
            sum_probe += lt.probe;
        }
        cold[i] = t.total;
        sum_rdv += us(t.rendezvous), sum_hello += us(t.hello), sum_echo += us(t.echo), sum_total += us(t.total);
        if (i + 1 < runs && broker != 0)
            stop_broker(broker);
    }
    for (size_t i = 0; i < runs; i++) { /* the last cold run's broker and backend */
        call_times t = {0};
        pid_t none = 0;
        failures += !call(sock, &t, &none);
        warm[i] = t.total;
    }
    if (broker != 0)
        stop_broker(broker);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)!system(cmd);

    double f50 = bench_percentile_us(floor_ns, runs, 50), f99 = bench_percentile_us(floor_ns, runs, 99);
    double c50 = bench_percentile_us(cold, runs, 50), c99 = bench_percentile_us(cold, runs, 99);
    double w50 = bench_percentile_us(warm, runs, 50), w99 = bench_percentile_us(warm, runs, 99);
    printf("rpb-bench-start: first call to first echo reply, %zu runs each; %ld CPU(s)\n\n", runs,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  %-44s %11s %11s %9s\n", "", "P50", "P99", "P50/floor");
    printf("  %-44s %8.2f ms %8.2f ms %8.2fx\n", "floor: start + exit of one process", f50 / 1000, f99 / 1000, 1.0);
    printf("  %-44s %8.2f ms %8.2f ms %8.2fx\n", "cold: no broker, no backend running", c50 / 1000, c99 / 1000,
           c50 / f50);
    printf("  %-44s %8.2f ms %8.2f ms %8.2fx\n", "warm: broker and backend running", w50 / 1000, w99 / 1000,
           w50 / f50);
    printf("\n  where a cold start goes (means over the runs):\n");
    struct { const char *what; double v; } share[] = {
        {"broker start (rendezvous: spawn, bind, HEALTHZ)", sum_rdv},
        {"Hello, launch included", sum_hello},
        {"  launch: binary check, endpoint", sum_prep},
        {"  launch: backend process start (posix_spawn)", sum_spawn},
        {"  launch: readiness (until the endpoint accepts)", sum_ready},
        {"    of it the broker's SHA-256 of the binary", sum_hash},
        {"  launch: identity probe", sum_probe},
        {"echo: connect to the backend, one exchange", sum_echo},
    };
    for (size_t k = 0; k < sizeof share / sizeof share[0]; k++)
        printf("  %-50s %8.2f ms %5.1f%%\n", share[k].what, share[k].v / runs / 1000, 100 * share[k].v / sum_total);
    printf("  failed calls: %zu\n\n", failures);
    bool met = c50 <= TARGET_COLD_P50_US;
    printf("targets:\n  cold start P50 <= 25 ms (%.2f ms)  %s\n", c50 / 1000, met ? "met" : "NOT MET");
    if (failures > 0)
        return 1;
    return a.check && !met ? 1 : 0;
}
