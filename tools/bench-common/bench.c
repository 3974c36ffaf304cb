/*
 * bench.c - the shared parts of the round-trip benchmarks (bench.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "rpb/client.h"

#define FLOOR_MSG 16

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads exactly len bytes; false at end of stream or on an error. */
static bool read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* One FLOOR_MSG-byte message to the peer on fd and its echo back. */
static bool ping(int fd)
{
    uint8_t msg[FLOOR_MSG] = "ping-ping-ping!";
    return send(fd, msg, sizeof msg, MSG_NOSIGNAL) == (ssize_t)sizeof msg &&
           read_full(fd, msg, sizeof msg);
}

/* Reads one FLOOR_MSG-byte message on fd and sends it back; false when
 * the peer stopped. */
static bool echo_one(int fd)
{
    uint8_t buf[FLOOR_MSG];
    return read_full(fd, buf, sizeof buf) &&
           send(fd, buf, sizeof buf, MSG_NOSIGNAL) == (ssize_t)sizeof buf;
}

bool bench_floor_once(const char *path)
{
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 5000);
    if (fd < 0)
        return false;
    bool ok = ping(fd);
    close(fd);
    return ok;
}

int bench_listen(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l >= 0 && (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, SOMAXCONN) != 0)) {
        close(l);
        l = -1;
    }
    return l;
}

pid_t bench_start_floor(const char *path)
{
    int l = bench_listen(path);
    if (l < 0) {
        perror("floor server");
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) {
            int c = accept(l, NULL, NULL);
            if (c < 0)
                continue;
            (void)echo_one(c);
            close(c);
        }
    }
    close(l);
    return pid;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile (upstream's perf guard): index ceil(n*p/100)-1. */
double bench_percentile_us(int64_t *samples, size_t n, unsigned p)
{
    qsort(samples, n, sizeof *samples, cmp_i64);
    size_t idx = (n * p + 99) / 100;
    return samples[idx ? idx - 1 : 0] / 1000.0;
}

bench_latency bench_measure_rounds(bench_round round, void *ctx, size_t count)
{
    bench_latency l = {0, 0, 0};
    int64_t *t = malloc(count * sizeof *t), ns;
    if (!t) {
        l.failures = count;
        return l;
    }
    for (int i = 0; i < BENCH_WARMUP; i++)
        l.failures += !round(ctx, &ns);
    for (size_t i = 0; i < count; i++)
        l.failures += !round(ctx, &t[i]);
    l.p50 = bench_percentile_us(t, count, 50);
    l.p99 = bench_percentile_us(t, count, 99);
    free(t);
    return l;
}

/* bench_measure_latency's round: one whole trip, timed. */
typedef struct timed_trip {
    bench_trip trip;
    const char *path;
} timed_trip;

static bool trip_round(void *ctx, int64_t *ns)
{
    const timed_trip *tt = ctx;
    int64_t t0 = bench_now_ns();
    bool ok = tt->trip(tt->path);
    *ns = bench_now_ns() - t0;
    return ok;
}

bench_latency bench_measure_latency(bench_trip trip, const char *path, size_t count)
{
    timed_trip tt = {trip, path};
    return bench_measure_rounds(trip_round, &tt, count);
}

static int hop_fd; /* the socketpair end of bench_measure_hop() */

static bool hop_trip(const char *unused)
{
    (void)unused;
    return ping(hop_fd);
}

bench_latency bench_measure_hop(size_t count)
{
    bench_latency l = {0, 0, count};
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return l;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        while (echo_one(sv[1]))
            ;
        _exit(0);
    }
    close(sv[1]);
    if (pid > 0) {
        hop_fd = sv[0];
        l = bench_measure_latency(hop_trip, NULL, count);
        l.p50 /= 2; /* one way: half of the round trip */
        l.p99 /= 2;
    }
    close(sv[0]); /* the peer reads the end of stream and exits */
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return l;
}

double bench_measure_throughput(bench_trip trip, const char *path, int clients, int duration_ms,
                                size_t *failures)
{
    int p[2];
    if (pipe(p) != 0)
        return 0;
    int64_t start = rpb_monotonic_ms() + 50; /* common start line */
    pid_t pids[64];
    for (int c = 0; c < clients && c < 64; c++) {
        if ((pids[c] = fork()) == 0) {
            close(p[0]);
            while (rpb_monotonic_ms() < start)
                ;
            uint64_t done[2] = {0, 0};
            while (rpb_monotonic_ms() < start + duration_ms) {
                if (trip(path))
                    done[0]++;
                else
                    done[1]++;
            }
            (void)!write(p[1], done, sizeof done);
            _exit(0);
        }
    }
    close(p[1]);
    uint64_t total = 0, done[2];
    *failures = 0;
    while (read(p[0], done, sizeof done) == (ssize_t)sizeof done) {
        total += done[0];
        *failures += done[1];
    }
    close(p[0]);
    for (int c = 0; c < clients && c < 64; c++)
        waitpid(pids[c], NULL, 0);
    return total * 1000.0 / duration_ms;
}

pid_t bench_start_daemon(const char *who, char *const argv[], const char *ready)
{
    int p[2];
    if (pipe(p) != 0) {
        perror(who);
        exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(argv[0], argv);
        fprintf(stderr, "%s: exec %s: %s\n", who, argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    FILE *log = fdopen(p[0], "r");
    char line[1024];
    bool up = false;
    while (!up && log != NULL && fgets(line, sizeof line, log) != NULL)
        up = strstr(line, ready) != NULL;
    if (log != NULL)
        fclose(log);
    else
        close(p[0]);
    if (up)
        return pid;
    fprintf(stderr, "%s: %s did not start\n", who, argv[0]);
    kill(pid, SIGKILL);
    exit(1);
}

void bench_finish(pid_t floor_pid, pid_t daemon_pid, const char *dir)
{
    kill(floor_pid, SIGKILL);
    kill(daemon_pid, SIGTERM);
    waitpid(floor_pid, NULL, 0);
    waitpid(daemon_pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)!system(cmd);
}

void bench_sibling(const char *argv0, const char *name, char *out, size_t cap)
{
    const char *slash = strrchr(argv0, '/');
    if (slash == NULL)
        snprintf(out, cap, "%s", name);
    else
        snprintf(out, cap, "%.*s/%s", (int)(slash - argv0), argv0, name);
}

/* "--NAME" of the option whose val is c, into out. */
static const char *option_name(const struct option *opts, int c, char *out, size_t cap)
{
    while (opts->name && opts->val != c)
        opts++;
    snprintf(out, cap, "--%s", opts->name ? opts->name : "?");
    return out;
}

int bench_parse_args(const char *prog, int argc, char **argv, const struct option *opts,
                     void (*usage)(void), bench_args *a)
{
    struct option all[15];
    size_t n = 0;
    while (opts[n].name && n < 12) {
        all[n] = opts[n];
        n++;
    }
    all[n++] = (struct option){"check", no_argument, NULL, BENCH_OPT_CHECK};
    all[n++] = (struct option){"help", no_argument, NULL, BENCH_OPT_HELP};
    all[n] = (struct option){NULL, 0, NULL, 0};
    char name[64];
    uint64_t v;
    int c;
    opterr = 0; /* usage errors are worded by cli_option_error */
    while ((c = getopt_long(argc, argv, ":", all, NULL)) != -1) {
        switch (c) {
        case BENCH_OPT_COUNT:
            if (cli_option_range(prog, option_name(opts, c, name, sizeof name), optarg, a->count_min,
                                 BENCH_MAX_COUNT, &a->count) != 0)
                return CLI_EXIT_USAGE;
            break;
        case BENCH_OPT_DURATION:
            if (cli_option_range(prog, "--duration", optarg, 100, BENCH_MAX_MS, &v) != 0)
                return CLI_EXIT_USAGE;
            a->duration = (int)v;
            break;
        case BENCH_OPT_LEAK_RUNS:
            if (cli_option_range(prog, "--leak-runs", optarg, 1, BENCH_MAX_COUNT, &a->leak_runs) != 0)
                return CLI_EXIT_USAGE;
            break;
        case BENCH_OPT_DAEMON: snprintf(a->daemon, sizeof a->daemon, "%s", optarg); break;
        case BENCH_OPT_CHECK: a->check = true; break;
        case BENCH_OPT_HELP: usage(); return 0;
        default: return cli_option_error(prog, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    return -1;
}
