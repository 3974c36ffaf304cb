/*
 * bench.h - what the round-trip benchmarks share: their command line, the
 * raw Unix-socket floor server and the one-way cross-process message cost
 * measured in the same run, latency percentiles, starting the daemon under
 * test and tearing the run down.
 */
#ifndef RPB_BENCH_H
#define RPB_BENCH_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_WARMUP 256
/* The largest --count (trips, runs) and --duration (ms) a benchmark takes. */
#define BENCH_MAX_COUNT 10000000
#define BENCH_MAX_MS 3600000

/* The command line of a benchmark: each option of its own is an entry of
 * its getopt_long table whose val is one of these; --check and --help,
 * which every benchmark has, bench_parse_args adds. */
enum {
    BENCH_OPT_COUNT = 'n',     /* --count N, --runs N: at least count_min */
    BENCH_OPT_DURATION = 'd',  /* --duration MS: at least 100 */
    BENCH_OPT_LEAK_RUNS = 'l', /* --leak-runs N: at least 1 */
    BENCH_OPT_DAEMON = 'b',    /* --broker PATH, --backend PATH */
    BENCH_OPT_CHECK = 'c',     /* --check */
    BENCH_OPT_HELP = 'h',      /* --help: the usage on stdout */
};

/* The options' values, the defaults set by the caller. */
typedef struct bench_args {
    uint64_t count, count_min, leak_runs;
    int duration;
    char daemon[512];
    bool check;
} bench_args;

/* Parses argv by opts (at most 12 options) plus --check and --help into a;
 * a bad option, value or a stray argument is the usage error of rpb_cli
 * ("PROG: ...", "Try 'PROG --help'.").  Returns -1 to go on, 0 after
 * --help (usage called) or CLI_EXIT_USAGE. */
int bench_parse_args(const char *prog, int argc, char **argv, const struct option *opts,
                     void (*usage)(void), bench_args *a);

int64_t bench_now_ns(void);

/* One round trip against the server at path; false on any failure. */
typedef bool (*bench_trip)(const char *path);

/* A listening Unix stream socket bound to path (SOCK_CLOEXEC, backlog
 * SOMAXCONN), or -1 with errno set. */
int bench_listen(const char *path);

/* Forks the floor server on path: a blocking accept loop that reads 16
 * bytes, writes them back and closes (connect + request + reply, no
 * protobuf).  Kill it with SIGKILL. */
pid_t bench_start_floor(const char *path);

/* One round trip against the floor server. */
bool bench_floor_once(const char *path);

typedef struct bench_latency {
    double p50, p99; /* microseconds, nearest rank */
    size_t failures;
} bench_latency;

/* The nearest-rank percentile p of samples[0..n) (ns), in microseconds;
 * sorts samples. */
double bench_percentile_us(int64_t *samples, size_t n, unsigned p);

/* One measured round of work on ctx: false on any failure; *ns the time
 * of the part it measures (a round may set up and tear down untimed). */
typedef bool (*bench_round)(void *ctx, int64_t *ns);

/* BENCH_WARMUP untimed rounds, then count timed ones. */
bench_latency bench_measure_rounds(bench_round round, void *ctx, size_t count);

/* bench_measure_rounds() of whole round trips: BENCH_WARMUP untimed
 * round trips, then count timed ones. */
bench_latency bench_measure_latency(bench_trip trip, const char *path, size_t count);

/* The cost of one cross-process message: this process and a forked peer
 * ping-pong a 16-byte message over a Unix stream socketpair (blocking
 * read and send, no protobuf), BENCH_WARMUP untimed round trips, then
 * count timed ones; p50 and p99 are half a round trip. */
bench_latency bench_measure_hop(size_t count);

/* clients (at most 64) processes loop round trips from a common start
 * for duration_ms; returns round trips/s and the failed ones in
 * *failures.  The trips run in forked children: what trip needs must be
 * set up before, or in a pthread_atfork() child handler (what depends on
 * the client's own pid). */
double bench_measure_throughput(bench_trip trip, const char *path, int clients, int duration_ms,
                                size_t *failures);

/* Forks and execs argv (argv[0] the executable) with its stdout on a pipe,
 * and returns its pid once it has logged a line containing ready (the
 * daemon is then listening); afterwards the pipe is closed and its log
 * writes fail quietly (the daemons ignore SIGPIPE), as cheap as /dev/null.
 * The daemon must log to stdout (--log -).  Exits the benchmark with a
 * message naming who when the daemon ends or closes stdout first. */
pid_t bench_start_daemon(const char *who, char *const argv[], const char *ready);

/* The end of a run: SIGKILL to the floor server, SIGTERM to the daemon,
 * both reaped, and the scratch directory dir removed. */
void bench_finish(pid_t floor_pid, pid_t daemon_pid, const char *dir);

/* The sibling executable name next to argv0 (build/bin/), into out. */
void bench_sibling(const char *argv0, const char *name, char *out, size_t cap);

#endif
