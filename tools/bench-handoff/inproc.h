/*
 * inproc.h - the socket work each route does beyond the other, measured
 * in one process: no process boundary and no wake-up, so what remains is
 * the system calls and librpb's work alone.  This is the handoff's
 * best case: a broker and a backend in one process, as upstream deploys
 * them (facts/handoff.md §14), doing steps 3-10 of spec/handoff.md §1
 * back to back.
 */
#ifndef RPB_BENCH_INPROC_H
#define RPB_BENCH_INPROC_H

#include <stdbool.h>

#include "bench.h"

typedef struct inproc_figures {
    bench_latency reconnect; /* the control connection closed, HELLO-064's connect to
                                backend_pipe, the backend's accept */
    bench_latency handoff;   /* token, HANDOFF-020 dial and accept, descriptor and offer,
                                the receiver's checks and ACK, the broker's checks,
                                handoff-ready written, the broker's copy closed, the
                                handoff-ready read and checked */
} inproc_figures;

/* Measures both (BENCH_WARMUP untimed rounds, then count timed ones each)
 * with listening sockets under dir; false when the sockets cannot be set
 * up (a failed round counts in failures instead). */
bool inproc_measure(const char *dir, size_t count, inproc_figures *out);

#endif
