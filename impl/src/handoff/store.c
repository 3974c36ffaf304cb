/*
 * store.c - the broker's handoff token store and ACK registry, I/O-free
 * (spec/handoff.md HANDOFF-010..HANDOFF-016, security.md SEC-017).
 *
 * One slot per pending token; a slot's ACK registration lives in the same
 * slot, so revoking a token always removes its registration too
 * (HANDOFF-016).  Lookups visit every slot in use (below the highest
 * slot holding a token) and compare each pending token in constant time,
 * so the time taken does not depend on which bytes of a presented token
 * match (SEC-017).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "rpb/handoff.h"

bool rpb_handoff_token_equal(const uint8_t a[RPB_HANDOFF_TOKEN_BYTES],
                             const uint8_t b[RPB_HANDOFF_TOKEN_BYTES])
{
    /* SEC-017: every byte is looked at, no early exit: the differences of
     * the two 8-byte halves are OR-ed before the one test. */
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    volatile uint64_t diff = (a0 ^ b0) | (a1 ^ b1);
    return diff == 0;
}

int rpb_handoff_store_init(rpb_handoff_store *store, rpb_handoff_slot *slots, size_t n_slots,
                           const rpb_handoff_config *cfg)
{
    if (!store || !slots || n_slots == 0) /* HANDOFF-017: no store of zero slots */
        return RPB_ERR_INVALID_ARGUMENT;
    memset(slots, 0, n_slots * sizeof *slots);
    store->slots = slots;
    store->n_slots = n_slots;
    store->n_used = 0;
    memset(&store->cfg, 0, sizeof store->cfg);
    if (cfg)
        store->cfg = *cfg;
    if (store->cfg.token_ttl_ms <= 0) /* HANDOFF-012, HANDOFF-017: the default */
        store->cfg.token_ttl_ms = RPB_HANDOFF_TOKEN_TTL_MS;
    if (store->cfg.ack_deadline_ms <= 0) /* HANDOFF-015, HANDOFF-017: the default */
        store->cfg.ack_deadline_ms = RPB_HANDOFF_ACK_DEADLINE_MS;
    if (store->cfg.ack_deadline_ms >= store->cfg.token_ttl_ms) /* HANDOFF-015 */
        return RPB_ERR_INVALID_ARGUMENT;
    return RPB_OK;
}

/* now + delta, or now when that overflows (an entry then counts as expired
 * at once, as upstream's Instant overflow does). */
static int64_t later(int64_t now, int64_t delta)
{
    return now > INT64_MAX - delta ? now : now + delta;
}

/* The slot holding the pending token, or NULL; visits every slot in use. */
static rpb_handoff_slot *find(rpb_handoff_store *store, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES])
{
    rpb_handoff_slot *hit = NULL;
    for (size_t i = 0; i < store->n_used; i++) {
        rpb_handoff_slot *s = &store->slots[i];
        bool eq = rpb_handoff_token_equal(s->token, token);
        if (s->pending && eq)
            hit = s;
    }
    return hit;
}

static void revoke(rpb_handoff_store *store, rpb_handoff_slot *s)
{
    memset(s, 0, sizeof *s);
    while (store->n_used > 0 && !store->slots[store->n_used - 1].pending)
        store->n_used--;
}

/* HANDOFF-012: a token is expired when now >= expires_at. */
static bool expired(const rpb_handoff_slot *s, int64_t now)
{
    return now >= s->expires_at;
}

/* Revokes every expired pending token but keep (may be NULL). */
static void prune(rpb_handoff_store *store, int64_t now, const rpb_handoff_slot *keep)
{
    for (size_t i = 0; i < store->n_used; i++) {
        rpb_handoff_slot *s = &store->slots[i];
        if (s != keep && s->pending && expired(s, now))
            revoke(store, s);
    }
}

size_t rpb_handoff_expire(rpb_handoff_store *store, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < store->n_used; i++) {
        rpb_handoff_slot *s = &store->slots[i];
        if (s->pending && (expired(s, now) || (s->ack_registered && now >= s->ack_deadline_at))) {
            revoke(store, s);
            n++;
        }
    }
    return n;
}

size_t rpb_handoff_pending(const rpb_handoff_store *store)
{
    size_t n = 0;
    for (size_t i = 0; i < store->n_used; i++)
        n += store->slots[i].pending;
    return n;
}

static int draw(const rpb_handoff_store *store, uint8_t *out)
{
    if (store->cfg.random)
        return store->cfg.random(store->cfg.random_ctx, out, RPB_HANDOFF_TOKEN_BYTES) == 0
                   ? RPB_OK
                   : RPB_ERR_IO;
    /* HANDOFF-010: the OS CSPRNG; 16 bytes never come back short from
     * getrandom(2) unless interrupted before any byte. */
    ssize_t n;
    do
        n = getrandom(out, RPB_HANDOFF_TOKEN_BYTES, 0);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)RPB_HANDOFF_TOKEN_BYTES ? RPB_OK : RPB_ERR_IO;
}

int rpb_handoff_issue(rpb_handoff_store *store, int64_t now, uint8_t token[RPB_HANDOFF_TOKEN_BYTES])
{
    if (!store || !token)
        return RPB_ERR_INVALID_ARGUMENT;
    prune(store, now, NULL); /* HANDOFF-013: prune, then apply the bound */
    rpb_handoff_slot *free_slot = NULL;
    for (size_t i = 0; i < store->n_slots && !free_slot; i++)
        if (!store->slots[i].pending)
            free_slot = &store->slots[i];
    if (!free_slot)
        return RPB_ERR_HANDOFF_PENDING_LIMIT;
    /* HANDOFF-010: redraw bytes equal to a pending token. */
    uint8_t t[RPB_HANDOFF_TOKEN_BYTES];
    for (unsigned attempt = 0; attempt < RPB_HANDOFF_DRAWS; attempt++) {
        int rc = draw(store, t);
        if (rc != RPB_OK)
            return rc;
        if (find(store, t))
            continue;
        memcpy(free_slot->token, t, sizeof t);
        free_slot->pending = true;
        free_slot->ack_registered = false;
        free_slot->expires_at = later(now, store->cfg.token_ttl_ms);
        if ((size_t)(free_slot - store->slots) >= store->n_used)
            store->n_used = (size_t)(free_slot - store->slots) + 1;
        memcpy(token, t, sizeof t);
        return RPB_OK;
    }
    return RPB_ERR_HANDOFF_COLLISION;
}

int rpb_handoff_consume(rpb_handoff_store *store, const uint8_t expected[RPB_HANDOFF_TOKEN_BYTES],
                        const uint8_t presented[RPB_HANDOFF_TOKEN_BYTES], int64_t now)
{
    if (!store || !expected || !presented)
        return RPB_ERR_INVALID_ARGUMENT;
    rpb_handoff_slot *s = find(store, expected);
    prune(store, now, s); /* the expected token is judged below */
    if (!s) /* HANDOFF-011 */
        return RPB_ERR_HANDOFF_TOKEN_NOT_PENDING;
    if (expired(s, now)) { /* HANDOFF-012: whatever was presented */
        revoke(store, s);
        return RPB_ERR_HANDOFF_TOKEN_EXPIRED;
    }
    if (!rpb_handoff_token_equal(s->token, presented)) /* HANDOFF-014: kept */
        return RPB_ERR_HANDOFF_TOKEN_MISMATCH;
    revoke(store, s); /* HANDOFF-011: single use */
    return RPB_OK;
}

int rpb_handoff_register(rpb_handoff_store *store, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                         int64_t now)
{
    if (!store || !token)
        return RPB_ERR_INVALID_ARGUMENT;
    rpb_handoff_slot *s = find(store, token);
    if (!s || expired(s, now))
        return RPB_ERR_HANDOFF_TOKEN_NOT_PENDING;
    s->ack_registered = true;
    s->ack_deadline_at = later(now, store->cfg.ack_deadline_ms); /* HANDOFF-015 */
    return RPB_OK;
}

int rpb_handoff_acknowledge(rpb_handoff_store *store, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                            int64_t now)
{
    if (!store || !token)
        return RPB_ERR_INVALID_ARGUMENT;
    rpb_handoff_slot *s = find(store, token);
    if (s && expired(s, now)) { /* HANDOFF-012: not pending, pruned or not */
        revoke(store, s);
        s = NULL;
    }
    if (!s || !s->ack_registered) /* HANDOFF-015: duplicate, unknown or expired */
        return RPB_ERR_HANDOFF_TOKEN_NOT_PENDING;
    bool late = now >= s->ack_deadline_at;
    revoke(store, s); /* HANDOFF-016: the attempt ends either way */
    return late ? RPB_ERR_HANDOFF_ACK_DEADLINE : RPB_OK;
}

bool rpb_handoff_abandon(rpb_handoff_store *store, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES])
{
    if (!store || !token)
        return false;
    rpb_handoff_slot *s = find(store, token);
    if (!s)
        return false;
    revoke(store, s); /* HANDOFF-016 */
    return true;
}
