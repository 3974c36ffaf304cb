/*
 * The registry of backends launched by the broker (spec/discovery.md §3):
 * one slot per (instance, service, version) with its state, spawn budget
 * (LAUNCH-006) and single-flight (LAUNCH-007).  I/O-free; the time is
 * passed in.  rpb_launch_binary_resolve (LAUNCH-001) reads the file system.
 */
#define _GNU_SOURCE
#include "rpb/launch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "rpb/error.h"

struct rpb_launch_registry {
    rpb_launch_slot **slots;
    size_t count, max;
    uint32_t budget, window_ms;
};

rpb_launch_registry *rpb_launch_registry_new(uint32_t budget, uint32_t window_ms, size_t max_keys)
{
    rpb_launch_registry *reg = rpb_mem_calloc(1, sizeof *reg);
    if (reg == NULL)
        return NULL;
    reg->budget = budget ? budget : 1;
    reg->window_ms = window_ms ? window_ms : 1;
    reg->max = max_keys;
    return reg;
}

void rpb_launch_registry_free(rpb_launch_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->count; i++)
        rpb_mem_free(reg->slots[i]);
    rpb_mem_free(reg->slots);
    rpb_mem_free(reg);
}

static bool key_eq(const char *s, rpb_slice k)
{
    return strlen(s) == k.len && (k.len == 0 || memcmp(s, k.data, k.len) == 0);
}

static void key_set(char *dst, rpb_slice k)
{
    if (k.len > 0)
        memcpy(dst, k.data, k.len);
    dst[k.len] = '\0';
}

static bool window_over(const rpb_launch_registry *reg, const rpb_launch_slot *s, int64_t now)
{
    return s->attempts == 0 || now - s->window_start_ms >= (int64_t)reg->window_ms;
}

/* A slot for a new key: a fresh one while there is room, else an idle one
 * whose budget window has passed; NULL when none. */
static rpb_launch_slot *new_slot(rpb_launch_registry *reg, int64_t now)
{
    if (reg->count < reg->max) {
        rpb_launch_slot **n = rpb_mem_realloc(reg->slots, (reg->count + 1) * sizeof *n);
        if (n == NULL)
            return NULL;
        reg->slots = n;
        rpb_launch_slot *s = rpb_mem_calloc(1, sizeof *s);
        if (s != NULL)
            reg->slots[reg->count++] = s;
        return s;
    }
    for (size_t i = 0; i < reg->count; i++) {
        rpb_launch_slot *s = reg->slots[i];
        if (s->state == RPB_LAUNCH_IDLE && window_over(reg, s, now)) {
            memset(s, 0, sizeof *s);
            return s;
        }
    }
    return NULL;
}

rpb_launch_verdict rpb_launch_acquire(rpb_launch_registry *reg, rpb_slice instance, rpb_slice service,
                                      rpb_slice version, int64_t now_ms, rpb_launch_slot **slot,
                                      uint64_t *retry_ms)
{
    *slot = NULL;
    *retry_ms = 0;
    if (instance.len > RPB_LAUNCH_KEY_MAX || service.len > RPB_LAUNCH_KEY_MAX ||
        version.len > RPB_LAUNCH_KEY_MAX)
        return RPB_LAUNCH_FULL;
    rpb_launch_slot *s = NULL;
    for (size_t i = 0; i < reg->count && s == NULL; i++)
        if (key_eq(reg->slots[i]->instance, instance) && key_eq(reg->slots[i]->service, service) &&
            key_eq(reg->slots[i]->version, version))
            s = reg->slots[i];
    if (s == NULL) {
        if ((s = new_slot(reg, now_ms)) == NULL)
            return RPB_LAUNCH_FULL;
        key_set(s->instance, instance);
        key_set(s->service, service);
        key_set(s->version, version);
    }
    *slot = s;
    if (s->state == RPB_LAUNCH_READY)
        return RPB_LAUNCH_USE;
    if (s->state == RPB_LAUNCH_STARTING)
        return RPB_LAUNCH_WAIT; /* LAUNCH-007: never a second launch */
    /* LAUNCH-006: the window starts at its first attempt */
    if (window_over(reg, s, now_ms)) {
        s->attempts = 0;
        s->window_start_ms = now_ms;
    }
    if (s->attempts >= reg->budget) {
        int64_t rest = s->window_start_ms + (int64_t)reg->window_ms - now_ms;
        *retry_ms = rest > 1 ? (uint64_t)rest : 1;
        return RPB_LAUNCH_BUDGET;
    }
    s->attempts++;
    s->state = RPB_LAUNCH_STARTING;
    return RPB_LAUNCH_START;
}

int rpb_launch_ready(rpb_launch_slot *slot, const char *endpoint, int32_t pid)
{
    size_t n = strlen(endpoint);
    if (slot->state != RPB_LAUNCH_STARTING || n == 0 || n >= sizeof slot->endpoint)
        return RPB_ERR_INVALID_ARGUMENT;
    memcpy(slot->endpoint, endpoint, n + 1);
    slot->pid = pid;
    slot->state = RPB_LAUNCH_READY;
    slot->attempts = 0; /* LAUNCH-006: a successful launch resets the budget */
    slot->launches++;
    return RPB_OK;
}

void rpb_launch_idle(rpb_launch_slot *slot)
{
    slot->state = RPB_LAUNCH_IDLE;
    slot->endpoint[0] = '\0';
    slot->pid = 0;
}

uint32_t rpb_launch_budget_left(const rpb_launch_registry *reg, const rpb_launch_slot *slot, int64_t now_ms,
                                uint64_t *resets_in_ms)
{
    *resets_in_ms = 0;
    if (window_over(reg, slot, now_ms))
        return reg->budget;
    *resets_in_ms = (uint64_t)(slot->window_start_ms + (int64_t)reg->window_ms - now_ms);
    return slot->attempts < reg->budget ? reg->budget - slot->attempts : 0;
}

size_t rpb_launch_count(const rpb_launch_registry *reg)
{
    return reg->count;
}

rpb_launch_slot *rpb_launch_at(const rpb_launch_registry *reg, size_t i)
{
    return i < reg->count ? reg->slots[i] : NULL;
}

int rpb_launch_binary_resolve(const char *binary_path, const char *dir, char *out, size_t cap)
{
    if (dir == NULL || dir[0] == '\0') {
        errno = EINVAL;
        return RPB_ERR_LAUNCH_BINARY;
    }
    char *bin = realpath(binary_path, NULL);
    char *root = bin ? realpath(dir, NULL) : NULL;
    int rc = RPB_OK;
    if (root == NULL) {
        rc = RPB_ERR_LAUNCH_BINARY;
    } else {
        /* LAUNCH-001: inside by whole components; "/" contains everything */
        size_t n = strlen(root);
        if (n == 1)
            n = 0;
        if (strncmp(bin, root, n) != 0 || bin[n] != '/')
            rc = RPB_ERR_LAUNCH_OUTSIDE_DIR;
        else if (strlen(bin) >= cap)
            rc = RPB_ERR_BUFFER_TOO_SMALL;
        else
            strcpy(out, bin);
    }
    int saved = errno;
    free(bin);
    free(root);
    errno = saved;
    return rc;
}
