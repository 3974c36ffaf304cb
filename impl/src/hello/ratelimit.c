/*
 * The per-pid Hello rate limiter (spec/hello.md HELLO-020, SEC-008): a fixed
 * window per OS-verified pid in an open-addressing table.  Unlike upstream,
 * entries whose window has passed are reclaimed when the table fills, so
 * memory is bounded by the pids seen within one window.
 */
#include "rpb/hello.h"

#include <stdlib.h>

#include "rpb/error.h"

void rpb_rate_init(rpb_rate_limiter *rl, uint32_t max, uint32_t window_ms)
{
    rl->max = max;
    rl->window_ms = window_ms ? window_ms : 1;
    rl->slots = NULL;
    rl->cap = 0;
    rl->used = 0;
}

void rpb_rate_free(rpb_rate_limiter *rl)
{
    free(rl->slots);
    rl->slots = NULL;
    rl->cap = 0;
    rl->used = 0;
}

static size_t slot_of(uint32_t pid, size_t cap)
{
    /* Multiply by Knuth's golden-ratio constant to spread nearby pids, then
     * keep the low bits (cap is a power of two). */
    uint32_t h = pid * 2654435761u;
    return (size_t)h & (cap - 1);
}

static bool expired(const rpb_rate_limiter *rl, const rpb_rate_slot *s, int64_t now)
{
    return now - s->window_start >= (int64_t)rl->window_ms;
}

/* Rebuilds the table at ncap slots, dropping entries whose window passed. */
static int rebuild(rpb_rate_limiter *rl, size_t ncap, int64_t now)
{
    rpb_rate_slot *n = calloc(ncap, sizeof *n);
    if (n == NULL)
        return RPB_ERR_NO_MEMORY;
    size_t used = 0;
    for (size_t i = 0; i < rl->cap; i++) {
        const rpb_rate_slot *s = &rl->slots[i];
        if (s->pid == 0 || expired(rl, s, now))
            continue;
        size_t j = slot_of(s->pid, ncap);
        while (n[j].pid != 0)
            j = (j + 1) & (ncap - 1);
        n[j] = *s;
        used++;
    }
    free(rl->slots);
    rl->slots = n;
    rl->cap = ncap;
    rl->used = used;
    return RPB_OK;
}

/* The slot of pid, inserting a fresh one when absent; NULL when out of memory. */
static rpb_rate_slot *lookup(rpb_rate_limiter *rl, uint32_t pid, int64_t now)
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
        if (rebuild(rl, ncap, now) != RPB_OK)
            return NULL;
        if ((rl->used + 1) * 2 > rl->cap && rebuild(rl, rl->cap * 2, now) != RPB_OK)
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

int rpb_rate_check(rpb_rate_limiter *rl, uint32_t pid, int64_t now_ms, uint64_t *retry_ms)
{
    /* HELLO-020: pid 0 (unknown verified pid) is exempt; max 0 = off */
    if (rl->max == 0 || pid == 0)
        return RPB_OK;
    rpb_rate_slot *s = lookup(rl, pid, now_ms);
    if (s == NULL) {
        *retry_ms = rl->window_ms;
        return RPB_ERR_NO_MEMORY;
    }
    int64_t elapsed = now_ms - s->window_start;
    if (elapsed >= (int64_t)rl->window_ms || elapsed < 0) {
        s->window_start = now_ms;
        s->count = 0;
        elapsed = 0;
    }
    if (s->count < rl->max) {
        s->count++;
        return RPB_OK;
    }
    uint64_t rest = (uint64_t)((int64_t)rl->window_ms - elapsed);
    *retry_ms = rest ? rest : 1;
    return RPB_RATE_REFUSED;
}
