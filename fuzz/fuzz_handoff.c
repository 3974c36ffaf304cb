/*
 * fuzz_handoff - the connection handoff's I/O-free pieces (spec/handoff.md).
 *
 * Input: byte 0 picks the part.
 *  - even: the token store and ACK registry (HANDOFF-010..HANDOFF-016).
 *    Byte 0 >> 1 sets the number of slots (1..4), byte 1 the TTL (2..65
 *    ms), byte 2 the ACK deadline (1..TTL-1 ms); every later byte is one
 *    operation, low 3 bits the verb, the rest its argument: issue,
 *    consume (right or flipped token), register, acknowledge, abandon,
 *    expire, advance the clock, and steer the random source (its value,
 *    or failing).  Tokens come from a tiny generator (few distinct
 *    values), so collisions and the pending bound are reached.
 *  - odd: the rest is a Frame body given to the three validators
 *    (rpb_handoff_offer_check, rpb_handoff_ack_check and
 *    rpb_handoff_ready_check for the token 00..0F and correlation 1).
 *
 * Oracles:
 *  - store: every result and the pending count after every operation
 *    equal a simple model (a list of pending tokens with expiry and ACK
 *    deadline; spec/handoff.md §2 semantics: prune before the bound,
 *    redraw on collision at most 16 times, inclusive expiry, a mismatch
 *    keeps the token, every end of an attempt revokes it);
 *  - frames: each validator's result equals an independent model (Frame
 *    decode, the site's envelope order, payload decode, then correlation,
 *    token and accepted as HANDOFF-030, HANDOFF-042 and HANDOFF-051 order
 *    them); an offer that passes is answered by rpb_handoff_ack_encode,
 *    whose ACK passes the broker's check exactly when the verdict accepts
 *    (refused with a detail otherwise), and the handoff-ready frame for
 *    its token passes the client's check; error offsets stay inside the
 *    input.
 */
#include <string.h>

#include "fuzz.h"

/* ---- the store and its model ---- */

#define MAX_SLOTS 4
#define HISTORY 32

typedef struct source {
    uint8_t value; /* the next token is 16 bytes of value % 5 */
    bool fail;
} source;

static void next_token(source *s, uint8_t out[16])
{
    memset(out, s->value % 5, 16);
    s->value = (uint8_t)(s->value * 3 + 1);
}

static int draw(void *ctx, uint8_t *out, size_t n)
{
    source *s = ctx;
    if (s->fail || n != 16)
        return -1;
    next_token(s, out);
    return 0;
}

typedef struct entry {
    uint8_t token[16];
    int64_t expires, ack_at;
    bool registered;
} entry;

typedef struct model {
    entry e[MAX_SLOTS];
    size_t n, cap;
    int64_t ttl, ack;
    source src; /* a copy advanced in step with the store's */
} model;

static int find(model *m, const uint8_t t[16])
{
    for (size_t i = 0; i < m->n; i++)
        if (memcmp(m->e[i].token, t, 16) == 0)
            return (int)i;
    return -1;
}

static void drop(model *m, size_t i)
{
    m->e[i] = m->e[--m->n];
}

static void prune_except(model *m, int64_t now, int keep)
{
    uint8_t kept[16];
    if (keep >= 0)
        memcpy(kept, m->e[keep].token, 16);
    for (size_t i = m->n; i-- > 0;)
        if (now >= m->e[i].expires && (keep < 0 || memcmp(m->e[i].token, kept, 16) != 0))
            drop(m, i);
}

static int m_issue(model *m, int64_t now, uint8_t out[16])
{
    prune_except(m, now, -1);
    if (m->n >= m->cap)
        return RPB_ERR_HANDOFF_PENDING_LIMIT;
    for (int i = 0; i < 16; i++) {
        if (m->src.fail)
            return RPB_ERR_IO;
        uint8_t t[16];
        next_token(&m->src, t);
        if (find(m, t) >= 0)
            continue;
        entry *e = &m->e[m->n++];
        memcpy(e->token, t, 16);
        e->expires = now + m->ttl;
        e->registered = false;
        memcpy(out, t, 16);
        return RPB_OK;
    }
    return RPB_ERR_HANDOFF_COLLISION;
}

static int m_consume(model *m, const uint8_t *exp, const uint8_t *pres, int64_t now)
{
    int i = find(m, exp);
    prune_except(m, now, i);
    i = find(m, exp);
    if (i < 0)
        return RPB_ERR_HANDOFF_TOKEN_NOT_PENDING;
    if (now >= m->e[i].expires) {
        drop(m, (size_t)i);
        return RPB_ERR_HANDOFF_TOKEN_EXPIRED;
    }
    if (memcmp(exp, pres, 16) != 0)
        return RPB_ERR_HANDOFF_TOKEN_MISMATCH;
    drop(m, (size_t)i);
    return RPB_OK;
}

static int m_register(model *m, const uint8_t *t, int64_t now)
{
    int i = find(m, t);
    if (i < 0 || now >= m->e[i].expires)
        return RPB_ERR_HANDOFF_TOKEN_NOT_PENDING;
    m->e[i].registered = true;
    m->e[i].ack_at = now + m->ack;
    return RPB_OK;
}

static int m_acknowledge(model *m, const uint8_t *t, int64_t now)
{
    int i = find(m, t);
    if (i >= 0 && now >= m->e[i].expires) {
        drop(m, (size_t)i);
        i = -1;
    }
    if (i < 0 || !m->e[i].registered)
        return RPB_ERR_HANDOFF_TOKEN_NOT_PENDING;
    bool late = now >= m->e[i].ack_at;
    drop(m, (size_t)i);
    return late ? RPB_ERR_HANDOFF_ACK_DEADLINE : RPB_OK;
}

static size_t m_expire(model *m, int64_t now)
{
    size_t n = 0;
    for (size_t i = m->n; i-- > 0;)
        if (now >= m->e[i].expires || (m->e[i].registered && now >= m->e[i].ack_at)) {
            drop(m, i);
            n++;
        }
    return n;
}

static void run_store(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    model m = {0};
    m.cap = 1 + (data[0] >> 1) % MAX_SLOTS;
    m.ttl = 2 + data[1] % 64;
    m.ack = 1 + data[2] % (m.ttl - 1);
    source src = {0};
    rpb_handoff_slot slots[MAX_SLOTS];
    rpb_handoff_store st;
    rpb_handoff_config cfg = {m.ttl, m.ack, draw, &src};
    FZ_CHECK(rpb_handoff_store_init(&st, slots, m.cap, &cfg) == RPB_OK, "store init");
    uint8_t issued[HISTORY][16];
    size_t n_issued = 0;
    int64_t now = 1000;
    for (size_t at = 3; at < size; at++) {
        unsigned verb = data[at] & 7, arg = data[at] >> 3;
        const uint8_t *t = n_issued ? issued[arg % n_issued] : (const uint8_t[16]){9};
        int got = RPB_OK, want = RPB_OK;
        switch (verb) {
        case 0: {
            uint8_t a[16], b[16];
            m.src = src;
            got = rpb_handoff_issue(&st, now, a);
            want = m_issue(&m, now, b);
            FZ_CHECK(got != RPB_OK || memcmp(a, b, 16) == 0, "issued another token");
            if (got == RPB_OK && n_issued < HISTORY)
                memcpy(issued[n_issued++], a, 16);
            break;
        }
        case 1: {
            uint8_t p[16];
            memcpy(p, t, 16);
            p[arg % 16] ^= (uint8_t)((arg & 1) << 3); /* odd args present a wrong token */
            got = rpb_handoff_consume(&st, t, p, now);
            want = m_consume(&m, t, p, now);
            break;
        }
        case 2:
            got = rpb_handoff_register(&st, t, now);
            want = m_register(&m, t, now);
            break;
        case 3:
            got = rpb_handoff_acknowledge(&st, t, now);
            want = m_acknowledge(&m, t, now);
            break;
        case 4: {
            int i = find(&m, t);
            if (i >= 0)
                drop(&m, (size_t)i);
            got = rpb_handoff_abandon(&st, t);
            want = i >= 0;
            break;
        }
        case 5:
            got = (int)rpb_handoff_expire(&st, now);
            want = (int)m_expire(&m, now);
            break;
        case 6:
            now += arg;
            break;
        case 7:
            src.fail = arg == 31;
            src.value = (uint8_t)arg;
            break;
        }
        FZ_CHECK(got == want, "op %u at byte %zu: store %d (%s), model %d (%s)", verb, at, got,
                 rpb_errname(got) ? rpb_errname(got) : "-", want,
                 rpb_errname(want) ? rpb_errname(want) : "-");
        FZ_CHECK(rpb_handoff_pending(&st) == m.n, "op %u at byte %zu: %zu pending, model %zu", verb,
                 at, rpb_handoff_pending(&st), m.n);
    }
}

/* ---- the frames and their models ---- */

static const uint8_t T0[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* Frame decode, then the envelope in the site's order (envelope.md §3),
 * then the payload decoded as msg. */
static int model_site(const uint8_t *in, size_t len, int32_t kind, bool request_id_last,
                      uint64_t want_id, const rpb_msg_desc *desc, void *msg, rpb_frame *f)
{
    rpb_msg_init(&rpb_frame_desc, f);
    rpb_msg_init(desc, msg);
    int rc = rpb_decode(&rpb_frame_desc, in, len, f, NULL, 0, NULL);
    if (rc != RPB_OK)
        return rc;
    if (f->envelope_version != 1)
        return RPB_ERR_ENVELOPE_VERSION;
    if (f->kind != kind)
        return RPB_ERR_ENVELOPE_KIND;
    if (f->payload_protocol != 0xD0FF)
        return RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL;
    if (f->payload_encoding != 0)
        return RPB_ERR_ENVELOPE_PAYLOAD_ENCODING;
    if (request_id_last && f->request_id != want_id)
        return RPB_ERR_ENVELOPE_REQUEST_ID;
    return rpb_decode(desc, f->payload.data, f->payload.len, msg, NULL, 0, NULL);
}

static bool token_is(rpb_slice s, const uint8_t *t, size_t n)
{
    return s.len == n && (n == 0 || memcmp(s.data, t, n) == 0);
}

static void run_frames(const uint8_t *in, size_t len)
{
    rpb_frame f;
    rpb_handoff_offer o, mo;
    rpb_handoff_ack a, ma;
    rpb_errinfo e;

    /* HANDOFF-042 */
    int got = rpb_handoff_offer_check(in, len, &f, &o, &e);
    int want = model_site(in, len, 0, false, 0, &rpb_handoff_offer_desc, &mo, &f);
    if (want == RPB_OK && f.request_id != mo.correlation_id)
        want = RPB_ERR_HANDOFF_CORRELATION;
    FZ_CHECK(got == want, "offer check %s, model %s", rpb_errname(got), rpb_errname(want));
    FZ_CHECK(got == RPB_OK || e.offset <= len, "offer error offset %zu beyond %zu", e.offset, len);
    if (got == RPB_OK) {
        /* HANDOFF-043: the answer, and the broker's view of it */
        int verdict = rpb_handoff_offer_verdict(&o, NULL);
        int vmodel = o.token.len == 0 ? RPB_ERR_HANDOFF_TOKEN_MISSING
                     : o.token.len != 16 ? RPB_ERR_HANDOFF_TOKEN_LENGTH
                                         : RPB_OK;
        FZ_CHECK(verdict == vmodel, "verdict %s, model %s", rpb_errname(verdict),
                 rpb_errname(vmodel));
        static uint8_t ack[RPB_MAX_FRAME_BYTES / 1024];
        size_t n;
        int rc = rpb_handoff_ack_encode(&o, verdict, ack, sizeof ack, &n);
        FZ_CHECK(rc == RPB_OK || (rc == RPB_ERR_BUFFER_TOO_SMALL && n > sizeof ack), "ack encode %s",
                 rpb_errname(rc));
        if (rc == RPB_OK && o.token.len == 16) {
            rc = rpb_handoff_ack_check(ack + 5, n - 5, o.correlation_id, o.token.data, &a, &e);
            FZ_CHECK(rc == (verdict == RPB_OK ? RPB_OK : RPB_ERR_HANDOFF_REFUSED),
                     "own ACK checks %s for verdict %s", rpb_errname(rc), rpb_errname(verdict));
            uint8_t ready[RPB_HANDOFF_READY_MAX_BYTES];
            FZ_CHECK(rpb_handoff_ready_encode(o.token.data, o.correlation_id, ready, sizeof ready,
                                              &n) == RPB_OK, "ready encode");
            rc = rpb_handoff_ready_check(ready + 5, n - 5, o.token.data, 16, &a, &e);
            FZ_CHECK(rc == RPB_OK, "own handoff-ready frame checks %s", rpb_errname(rc));
        }
    }

    /* HANDOFF-030 steps 1 to 6, correlation 1, token T0 */
    got = rpb_handoff_ack_check(in, len, 1, T0, &a, &e);
    want = model_site(in, len, 1, true, 1, &rpb_handoff_ack_desc, &ma, &f);
    if (want == RPB_OK)
        want = ma.correlation_id != 1        ? RPB_ERR_HANDOFF_CORRELATION
               : !token_is(ma.token, T0, 16) ? RPB_ERR_HANDOFF_TOKEN_MISMATCH
               : !ma.accepted                ? RPB_ERR_HANDOFF_REFUSED
                                             : RPB_OK;
    FZ_CHECK(got == want, "ack check %s, model %s", rpb_errname(got), rpb_errname(want));
    FZ_CHECK(got == RPB_OK || e.offset <= len, "ack error offset %zu beyond %zu", e.offset, len);

    /* HANDOFF-051, with the 16-byte T0 and with its 15-byte prefix */
    for (size_t tl = 15; tl <= 16; tl++) {
        got = rpb_handoff_ready_check(in, len, T0, tl, &a, &e);
        want = model_site(in, len, 2, false, 0, &rpb_handoff_ack_desc, &ma, &f);
        if (want == RPB_OK)
            want = !token_is(ma.token, T0, tl) ? RPB_ERR_HANDOFF_TOKEN_MISMATCH
                   : !ma.accepted              ? RPB_ERR_HANDOFF_REFUSED
                                               : RPB_OK;
        FZ_CHECK(got == want, "ready check (%zu-byte token) %s, model %s", tl, rpb_errname(got),
                 rpb_errname(want));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        run_frames(data + 1, size - 1);
    else
        run_store(data, size);
    return 0;
}
