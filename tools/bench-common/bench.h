/*
 * bench.h - what the round-trip benchmarks share: the raw Unix-socket
 * floor server measured in the same run, latency percentiles, and waiting
 * for a daemon's socket.
 */
#ifndef RPB_BENCH_H
#define RPB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_WARMUP 256

int64_t bench_now_ns(void);

/* One round trip against the server at path; false on any failure. */
typedef bool (*bench_trip)(const char *path);

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

/* BENCH_WARMUP untimed round trips, then count timed ones. */
bench_latency bench_measure_latency(bench_trip trip, const char *path, size_t count);

/* Waits until path accepts a connection (2 s at most); false otherwise. */
bool bench_wait_socket(const char *path);

/* The sibling executable name next to argv0 (build/bin/), into out. */
void bench_sibling(const char *argv0, const char *name, char *out, size_t cap);

#endif
