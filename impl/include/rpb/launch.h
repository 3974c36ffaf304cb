/*
 * rpb/launch.h - backends launched by the broker on demand
 * (spec/discovery.md §3, LAUNCH-*): the registry of launched backends with
 * its spawn budget and single-flight (I/O-free: the caller passes the
 * time), and the check that a binary lies inside its per-version directory
 * (reads the file system).  Starting, probing and reaping the child is the
 * broker's (rpb-broker --launch).
 */
#ifndef RPB_LAUNCH_H
#define RPB_LAUNCH_H

#include "rpb/export.h"

#include <stddef.h>
#include <stdint.h>

#include "rpb/codec.h"
#include "rpb/names.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_LAUNCH_BUDGET_DEFAULT 3          /* LAUNCH-006: attempts per window */
#define RPB_LAUNCH_WINDOW_MS_DEFAULT 30000u  /* LAUNCH-006 */
#define RPB_LAUNCH_RETRY_MS 1000u            /* LAUNCH-006: retry of a failed launch */
#define RPB_LAUNCH_KEY_MAX 64u               /* instance, service and version, bytes each */

/* Where one key stands. */
typedef enum rpb_launch_state {
    RPB_LAUNCH_IDLE,     /* no backend */
    RPB_LAUNCH_STARTING, /* a launch is in flight (LAUNCH-007) */
    RPB_LAUNCH_READY,    /* a probed backend serves the key (LAUNCH-004) */
} rpb_launch_state;

/* What rpb_launch_acquire() tells the caller to do. */
typedef enum rpb_launch_verdict {
    RPB_LAUNCH_USE,    /* READY: negotiate with the slot's endpoint */
    RPB_LAUNCH_START,  /* now STARTING, one attempt counted: start the child */
    RPB_LAUNCH_WAIT,   /* a launch is in flight: wait for its outcome (LAUNCH-007) */
    RPB_LAUNCH_BUDGET, /* budget used up: refuse, *retry_ms (LAUNCH-006) */
    RPB_LAUNCH_FULL,   /* no room for another key (or out of memory): refuse */
} rpb_launch_verdict;

/* One key of the registry and its backend.  Stays at its address until
 * the registry is freed. */
typedef struct rpb_launch_slot {
    char instance[RPB_LAUNCH_KEY_MAX + 1];
    char service[RPB_LAUNCH_KEY_MAX + 1];
    char version[RPB_LAUNCH_KEY_MAX + 1];
    rpb_launch_state state;
    char endpoint[RPB_SUN_PATH_MAX]; /* READY: the backend's socket */
    int32_t pid;                     /* READY: the backend's pid */
    uint32_t attempts;               /* launches counted in the current window */
    int64_t window_start_ms;
    uint64_t launches;               /* successful launches, ever */
} rpb_launch_slot;

/* The registry.  Not thread-safe: the broker's event loop owns it. */
typedef struct rpb_launch_registry rpb_launch_registry;

/* A registry allowing budget attempts per window_ms per key (budget 0 is
 * taken as 1, window_ms 0 as 1) and at most max_keys keys, or NULL when
 * out of memory. */
RPB_API rpb_launch_registry *rpb_launch_registry_new(uint32_t budget, uint32_t window_ms,
                                                     size_t max_keys);
RPB_API void rpb_launch_registry_free(rpb_launch_registry *reg);

/*
 * The decision for a Hello that needs the backend of (instance, service,
 * version) at now_ms (any monotonic milliseconds).  *slot is the key's
 * slot for every verdict but RPB_LAUNCH_FULL.  A key over
 * RPB_LAUNCH_KEY_MAX bytes is RPB_LAUNCH_FULL.  When the table is full an
 * idle key whose window has passed is reused.  On RPB_LAUNCH_BUDGET
 * *retry_ms is the rest of the window, at least 1; otherwise 0.
 */
RPB_API rpb_launch_verdict rpb_launch_acquire(rpb_launch_registry *reg, rpb_slice instance,
                                              rpb_slice service, rpb_slice version,
                                              int64_t now_ms, rpb_launch_slot **slot,
                                              uint64_t *retry_ms);

/* The launch of slot succeeded (LAUNCH-004): READY with endpoint and pid,
 * budget reset (LAUNCH-006).  RPB_OK, or RPB_ERR_INVALID_ARGUMENT when slot
 * is not STARTING or endpoint does not fit. */
RPB_API int rpb_launch_ready(rpb_launch_slot *slot, const char *endpoint, int32_t pid);

/* The launch of slot failed, or its backend exited (LAUNCH-009): IDLE; the
 * attempts stay counted. */
RPB_API void rpb_launch_idle(rpb_launch_slot *slot);

/* LAUNCH-006: the launch attempts slot has left at now_ms; *resets_in_ms
 * gets the time until its window ends and the whole budget is back (0
 * when it has ended already). */
RPB_API uint32_t rpb_launch_budget_left(const rpb_launch_registry *reg, const rpb_launch_slot *slot,
                                        int64_t now_ms, uint64_t *resets_in_ms);

/* Slots in creation order, i < count. */
RPB_API size_t rpb_launch_count(const rpb_launch_registry *reg);
RPB_API rpb_launch_slot *rpb_launch_at(const rpb_launch_registry *reg, size_t i);

/*
 * LAUNCH-001: resolves binary_path and dir to canonical paths and checks
 * that the binary lies inside the directory, by whole components; the
 * canonical binary goes to out (cap bytes).  Returns RPB_OK,
 * RPB_ERR_LAUNCH_BINARY (a path cannot be resolved or dir is empty; errno
 * kept), RPB_ERR_LAUNCH_OUTSIDE_DIR or RPB_ERR_BUFFER_TOO_SMALL.
 */
RPB_API int rpb_launch_binary_resolve(const char *binary_path, const char *dir, char *out,
                                      size_t cap);

#ifdef __cplusplus
}
#endif
#endif
