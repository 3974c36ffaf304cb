/*
 * The per-pid Hello rate limiter (spec/hello.md HELLO-020, SEC-008): a fixed
 * window per OS-verified pid in an open-addressing table.  Unlike upstream,
 * entries whose window has passed are reclaimed when the table fills, so
 * memory is bounded by the pids seen within one window.
 */
#include "rpb/hello.h"

#include "../core/mem.h"

typedef struct rate_slot {
    uint32_t pid; /* 0 = free */
    uint32_t count;
    int64_t window_start;
} rate_slot;

struct rpb_rate_limiter {
    uint32_t max;       /* 0 disables the limiter */
    uint32_t window_ms; /* at least 1 */
    rate_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t used;
};

rpb_rate_limiter *rpb_rate_limiter_new(uint32_t max, uint32_t window_ms)
{
    rpb_rate_limiter *rl = rpb_mem_calloc(1, sizeof *rl);
    if (rl == NULL)
        return NULL;
    rl->max = max;
    rl->window_ms = window_ms ? window_ms : 1;
    return rl;
}

void rpb_rate_limiter_free(rpb_rate_limiter *rl)
{
    if (rl == NULL)
        return;
    rpb_mem_free(rl->slots);
    rpb_mem_free(rl);
}

void rpb_rate_settings(const rpb_rate_limiter *rl, uint32_t *max, uint32_t *window_ms)
{
    *max = rl->max;
    *window_ms = rl->window_ms;
}

void rpb_rate_usage(const rpb_rate_limiter *rl, size_t *pids, size_t *slots)
{
    *pids = rl->used;
    *slots = rl->cap;
}

static size_t slot_of(uint32_t pid, size_t cap)
{
    /* Multiply by Knuth's golden-ratio constant to spread nearby pids, then
     * keep the low bits (cap is a power of two). */
    uint32_t h = pid * 2654435761u;
    return (size_t)h & (cap - 1);
}

static bool expired(const rpb_rate_limiter *rl, const rate_slot *s, int64_t now)
{
    return now - s->window_start >= (int64_t)rl->window_ms;
}

/* Rebuilds the table at ncap slots, dropping entries whose window passed;
 * false when out of memory. */
static bool rebuild(rpb_rate_limiter *rl, size_t ncap, int64_t now)
{
    rate_slot *n = rpb_mem_calloc(ncap, sizeof *n);
    if (n == NULL)
        return false;
    size_t used = 0;
    for (size_t i = 0; i < rl->cap; i++) {
        const rate_slot *s = &rl->slots[i];
        if (s->pid == 0 || expired(rl, s, now))
            continue;
        size_t j = slot_of(s->pid, ncap);
        while (n[j].pid != 0)
            j = (j + 1) & (ncap - 1);
        n[j] = *s;
        used++;
    }
    rpb_mem_free(rl->slots);
    rl->slots = n;
    rl->cap = ncap;
    rl->used = used;
    return true;
}

/* The slot of pid, inserting a fresh one when absent; NULL when out of memory. */
static rate_slot *lookup(rpb_rate_limiter *rl, uint32_t pid, int64_t now)
{
    if (rl->cap > 0) {
        for (size_t j = slot_of(pid, rl->cap);; j = (j + 1) & (rl->cap - 1)) {
            if (rl->slots[j].pid == pid)
                return &rl->slots[j];
            if (rl->slots[j].pid == 0)
                break;
        }
    }
    /* keep the load at most 1/2: first reclaim, then grow */
    if ((rl->used + 1) * 2 > rl->cap) {
        size_t ncap = rl->cap ? rl->cap : 16;
        if (!rebuild(rl, ncap, now))
            return NULL;
        if ((rl->used + 1) * 2 > rl->cap && !rebuild(rl, rl->cap * 2, now))
            return NULL;
    }
    size_t j = slot_of(pid, rl->cap);
    while (rl->slots[j].pid != 0)
        j = (j + 1) & (rl->cap - 1);
    rl->slots[j].pid = pid;
    rl->slots[j].count = 0;
    rl->slots[j].window_start = now;
    rl->used++;
    return &rl->slots[j];
}

rpb_rate_verdict rpb_rate_check(rpb_rate_limiter *rl, uint32_t pid, int64_t now_ms,
                                uint64_t *retry_ms)
{
    /* HELLO-028: pid 0 (unknown verified pid) is exempt; max 0 = off */
    if (rl->max == 0 || pid == 0)
        return RPB_RATE_ALLOWED;
    rate_slot *s = lookup(rl, pid, now_ms);
    if (s == NULL) {
        *retry_ms = rl->window_ms;
        return RPB_RATE_UNTRACKED;
    }
    int64_t elapsed = now_ms - s->window_start;
    if (elapsed >= (int64_t)rl->window_ms || elapsed < 0) {
        s->window_start = now_ms;
        s->count = 0;
        elapsed = 0;
    }
    if (s->count < rl->max) {
        s->count++;
        return RPB_RATE_ALLOWED;
    }
    uint64_t rest = (uint64_t)((int64_t)rl->window_ms - elapsed);
    *retry_ms = rest ? rest : 1;
    return RPB_RATE_REFUSED;
}
