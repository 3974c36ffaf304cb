/*
 * test_handoff.c - the connection handoff (spec/handoff.md): agreement,
 * the token store and ACK registry against a fake clock and a scripted
 * random source, the three frames' bytes against the spec's examples, the
 * receiver's, broker's and client's checks in their order, and the
 * descriptor transfer over socketpairs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "fdcount.h"
#include "testutil.h"

static const uint8_t T0[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* ---- a scripted random source ---- */

typedef struct script {
    uint8_t next; /* each draw is 16 bytes of this value, then it increments unless fixed */
    bool fixed;
    bool fail;
    unsigned draws;
} script;

static int scripted(void *ctx, uint8_t *out, size_t n)
{
    script *s = ctx;
    s->draws++;
    if (s->fail)
        return -1;
    memset(out, s->next, n);
    if (!s->fixed)
        s->next++;
    return 0;
}

static void store_with(rpb_handoff_store *st, rpb_handoff_slot *slots, size_t n, script *s,
                       int64_t ttl, int64_t ack)
{
    rpb_handoff_config cfg = {ttl, ack, s ? scripted : NULL, s};
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_store_init(st, slots, n, &cfg), RPB_OK);
}

/* HANDOFF-001: agreed only with the bit and a non-empty token. */
static void test_agreed(void)
{
    rpb_negotiated n = {0};
    CU_ASSERT_FALSE(rpb_handoff_agreed(&n));
    n.server_capabilities = RPB_CAP_HANDLE_PASSING;
    CU_ASSERT_FALSE(rpb_handoff_agreed(&n)); /* bit, empty token */
    n.handle_passed_token = (rpb_slice){T0, 16};
    CU_ASSERT_TRUE(rpb_handoff_agreed(&n));
    n.server_capabilities = 1u << 8; /* token, no bit */
    CU_ASSERT_FALSE(rpb_handoff_agreed(&n));
    CU_ASSERT_FALSE(rpb_handoff_agreed(NULL));
}

/* HANDOFF-010: 16 random bytes, redrawn on collision at most 16 times;
 * a failing source issues nothing.  Default source: getrandom. */
static void test_issue(void)
{
    rpb_handoff_slot slots[4];
    rpb_handoff_store st;
    script s = {.next = 0xAB, .fixed = true};
    store_with(&st, slots, 4, &s, 0, 0);
    uint8_t t[16], want[16];
    memset(want, 0xAB, 16);
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 0, t), RPB_OK);
    CU_ASSERT_EQUAL(memcmp(t, want, 16), 0);
    s.draws = 0;
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 0, t), RPB_ERR_HANDOFF_COLLISION);
    CU_ASSERT_EQUAL(s.draws, RPB_HANDOFF_DRAWS);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 1);
    s.fail = true;
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 0, t), RPB_ERR_IO);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 1);

    store_with(&st, slots, 4, NULL, 0, 0); /* getrandom */
    uint8_t a[16], b[16];
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 0, a), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 0, b), RPB_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, 16), 0);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 2);
}

/* HANDOFF-011: single use; HANDOFF-014: a mismatch does not consume. */
static void test_consume(void)
{
    rpb_handoff_slot slots[4];
    rpb_handoff_store st;
    script s = {.next = 1};
    store_with(&st, slots, 4, &s, 0, 0);
    uint8_t t[16], wrong[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 100, t), RPB_OK);
    memcpy(wrong, t, 16);
    wrong[15] ^= 1;
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, t, wrong, 101), RPB_ERR_HANDOFF_TOKEN_MISMATCH);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 1);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, t, t, 102), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, t, t, 103), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, wrong, wrong, 103), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
}

/* HANDOFF-012: expired at issue + ttl (inclusive), whatever is presented,
 * and removed. */
static void test_ttl(void)
{
    rpb_handoff_slot slots[2];
    rpb_handoff_store st;
    script s = {.next = 1};
    store_with(&st, slots, 2, &s, 5, 2);
    uint8_t t[16], u[16], wrong[16] = {0};
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 1000, t), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 1000, u), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, t, t, 1004), RPB_OK); /* one before */
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, u, wrong, 1005), RPB_ERR_HANDOFF_TOKEN_EXPIRED);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, u, u, 1005), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
    /* an expired token can no longer be registered either */
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 2000, t), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, t, 2005), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
}

/* HANDOFF-013: the pending bound, applied after pruning. */
static void test_pending_limit(void)
{
    rpb_handoff_slot slots[1];
    rpb_handoff_store st;
    script s = {.next = 1};
    store_with(&st, slots, 1, &s, 10, 5);
    uint8_t t[16], u[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, t), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 1, u), RPB_ERR_HANDOFF_PENDING_LIMIT);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, t, t, 2), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 3, u), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 12, t), RPB_ERR_HANDOFF_PENDING_LIMIT);
    CU_ASSERT_EQUAL(rpb_handoff_issue(&st, 13, t), RPB_OK); /* u expired at 13 */
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 1);
}

/* HANDOFF-017: a zero TTL and ACK deadline are the defaults (30 000 ms,
 * 5 000 ms), not 1 ms; a store of zero slots is refused. */
static void test_zero_config(void)
{
    rpb_handoff_slot slots[1];
    rpb_handoff_store st;
    script s = {.next = 1};
    CU_ASSERT_EQUAL(rpb_handoff_store_init(&st, slots, 0, NULL), RPB_ERR_INVALID_ARGUMENT);
    store_with(&st, slots, 1, &s, 0, 0);
    CU_ASSERT_EQUAL(st.cfg.token_ttl_ms, RPB_HANDOFF_TOKEN_TTL_MS);
    CU_ASSERT_EQUAL(st.cfg.ack_deadline_ms, RPB_HANDOFF_ACK_DEADLINE_MS);
    uint8_t t[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, t), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, t, 1000), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, t, 5999), RPB_OK);
}

/* HANDOFF-015: the ACK deadline (inclusive), duplicate, unregistered and
 * expired ACKs; the deadline must be shorter than the TTL. */
static void test_ack_deadline(void)
{
    rpb_handoff_slot slots[4];
    rpb_handoff_store st;
    script s = {.next = 1};
    rpb_handoff_config bad = {100, 100, NULL, NULL};
    CU_ASSERT_EQUAL(rpb_handoff_store_init(&st, slots, 4, &bad), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(rpb_handoff_store_init(&st, slots, 4, NULL), RPB_OK);
    CU_ASSERT_TRUE(st.cfg.ack_deadline_ms == 5000 && st.cfg.token_ttl_ms == 30000);

    store_with(&st, slots, 4, &s, 1000, 10);
    uint8_t t[16], u[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, t), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, t, 1), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, t, 100), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, t, 109), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, t, 109), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);

    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, u), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, u, 100), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, u, 110), RPB_ERR_HANDOFF_ACK_DEADLINE);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);

    /* a registration due after the TTL: at the TTL the token is no longer
     * pending (HANDOFF-012), whether or not something pruned it first */
    uint8_t v[16], w[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, v), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, w), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, v, 995), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, w, 995), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, v, 1000), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 1);
    CU_ASSERT_EQUAL(rpb_handoff_expire(&st, 1000), 1);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, w, 1000), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
}

/* HANDOFF-016: every end of an attempt revokes the token: acknowledge
 * (in time or late), abandon, expiry of the registration. */
static void test_attempt_end(void)
{
    rpb_handoff_slot slots[4];
    rpb_handoff_store st;
    script s = {.next = 1};
    store_with(&st, slots, 4, &s, 1000, 10);
    uint8_t a[16], b[16], c[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, a), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, b), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, c), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, a, 0), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, b, 0), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, c, 5), RPB_OK);

    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, a, 1), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, a, a, 2), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);

    CU_ASSERT_TRUE(rpb_handoff_abandon(&st, b));
    CU_ASSERT_FALSE(rpb_handoff_abandon(&st, b));
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, b, b, 2), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, b, 2), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);

    CU_ASSERT_EQUAL(rpb_handoff_expire(&st, 14), 0); /* c is due at 15 */
    CU_ASSERT_EQUAL(rpb_handoff_expire(&st, 15), 1);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, c, 15), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);
}

/* HANDOFF-011, HANDOFF-016: lookups find a token in whichever slot it
 * holds while the slots around it are freed and reused. */
static void test_slot_reuse(void)
{
    rpb_handoff_slot slots[4];
    rpb_handoff_store st;
    script s = {.next = 1};
    store_with(&st, slots, 4, &s, 1000, 10);
    uint8_t a[16], b[16], c[16], d[16], e[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, a), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, b), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 0, c), RPB_OK);
    CU_ASSERT_TRUE(rpb_handoff_abandon(&st, c)); /* the highest slot, then the lowest */
    CU_ASSERT_TRUE(rpb_handoff_abandon(&st, a));
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 1);
    CU_ASSERT_EQUAL(rpb_handoff_register(&st, b, 1), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 1, d), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(&st, 1, e), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 3);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, e, e, 2), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, d, d, 2), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_acknowledge(&st, b, 2), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_consume(&st, c, c, 2), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);
}

/* SEC-017: equality looks at all 16 bytes (the constant time itself is
 * the code's shape: no early exit). */
static void test_token_equal(void)
{
    uint8_t a[16], b[16];
    memcpy(a, T0, 16);
    memcpy(b, T0, 16);
    CU_ASSERT_TRUE(rpb_handoff_token_equal(a, b));
    for (int i = 0; i < 16; i++) {
        b[i] ^= 0x80;
        CU_ASSERT_FALSE(rpb_handoff_token_equal(a, b));
        b[i] ^= 0x80;
    }
}

/* ---- frames ---- */

static void assert_bytes(const uint8_t *got, size_t n, const char *hex)
{
    size_t len;
    uint8_t *want = tu_hex(hex, &len);
    CU_ASSERT_EQUAL(n, len);
    CU_ASSERT_TRUE(n == len && memcmp(got, want, len) == 0);
    free(want);
}

#define TOKEN_HEX "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
static const char *OFFER_HEX = "01 27 00 00 00 08 01 18 FF A1 03 22 1D 12 10 " TOKEN_HEX
                               " 1A 07 7A 63 63 61 63 68 65 20 01 28 01";
static const char *READY_HEX =
    "01 22 00 00 00 08 01 10 02 18 FF A1 03 22 16 0A 10 " TOKEN_HEX " 10 01 20 01 28 01";
static const char *ACK_HEX =
    "01 22 00 00 00 08 01 10 01 18 FF A1 03 22 16 0A 10 " TOKEN_HEX " 10 01 20 01 28 01";
static const char *REFUSED_HEX =
    "01 38 00 00 00 08 01 10 01 18 FF A1 03 22 2C 0A 10 " TOKEN_HEX
    " 1A 16 68 61 6E 64 6F 66 66 20 74 6F 6B 65 6E 20 6D 69 73 6D 61 74 63 68 20 01 28 01";

/* HANDOFF-021: the offer's bytes (spec example). */
static void test_offer_bytes(void)
{
    uint8_t out[128];
    size_t n;
    CU_ASSERT_EQUAL(rpb_handoff_offer_encode(T0, rpb_slice_cstr("zccache"), 1, out, sizeof out, &n),
                    RPB_OK);
    assert_bytes(out, n, OFFER_HEX);
    CU_ASSERT_EQUAL(rpb_handoff_offer_encode(T0, rpb_slice_cstr("zccache"), 1, out, 10, &n),
                    RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(n, 44);
}

/* HANDOFF-031: the handoff-ready EVENT's bytes (spec example). */
static void test_ready_bytes(void)
{
    uint8_t out[64];
    size_t n;
    CU_ASSERT_EQUAL(rpb_handoff_ready_encode(T0, 1, out, sizeof out, &n), RPB_OK);
    assert_bytes(out, n, READY_HEX);
}

/* HANDOFF-043: the ACK's bytes, accepted and refused with each of
 * upstream's detail texts; HANDOFF-044: the descriptor's token binds;
 * HANDOFF-047: a replay's text. */
static void test_ack_bytes(void)
{
    uint8_t out[RPB_HANDOFF_ACK_MAX_BYTES], other[16];
    size_t n;
    rpb_handoff_offer offer = {0, {T0, 16}, rpb_slice_cstr("zccache"), 1};
    CU_ASSERT_EQUAL(rpb_handoff_offer_verdict(&offer, T0), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_offer_verdict(&offer, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_encode(&offer, RPB_OK, out, sizeof out, &n), RPB_OK);
    assert_bytes(out, n, ACK_HEX);

    memcpy(other, T0, 16);
    other[3] ^= 0xFF;
    int v = rpb_handoff_offer_verdict(&offer, other);
    CU_ASSERT_EQUAL(v, RPB_ERR_HANDOFF_TOKEN_MISMATCH);
    CU_ASSERT_EQUAL(rpb_handoff_ack_encode(&offer, v, out, sizeof out, &n), RPB_OK);
    assert_bytes(out, n, REFUSED_HEX);

    rpb_handoff_ack ack;
    rpb_errinfo err;
    offer.token.len = 15;
    v = rpb_handoff_offer_verdict(&offer, T0);
    CU_ASSERT_EQUAL(v, RPB_ERR_HANDOFF_TOKEN_LENGTH);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_ack_encode(&offer, v, out, sizeof out, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(out + 5, n - 5, 1, T0, &ack, &err),
                    RPB_ERR_HANDOFF_TOKEN_MISMATCH); /* the echo is the 15 bytes */
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(ack.error_detail, "handoff token length was 15 bytes; expected 16"));
    CU_ASSERT_EQUAL(ack.token.len, 15);
    CU_ASSERT_FALSE(ack.accepted);

    offer.token.len = 0;
    v = rpb_handoff_offer_verdict(&offer, T0);
    CU_ASSERT_EQUAL(v, RPB_ERR_HANDOFF_TOKEN_MISSING);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_ack_encode(&offer, v, out, sizeof out, &n), RPB_OK);
    rpb_frame f;
    size_t used;
    CU_ASSERT_EQUAL_FATAL(rpb_frame_decode(out, n, RPB_MAX_FRAME_BYTES, &f, &used, NULL), RPB_OK);
    CU_ASSERT_EQUAL(f.kind, RPB_FRAME_KIND_RESPONSE);
    CU_ASSERT_EQUAL(f.request_id, 1);
    CU_ASSERT_EQUAL_FATAL(rpb_decode(&rpb_handoff_ack_desc, f.payload.data, f.payload.len, &ack,
                                     NULL, 0, NULL), RPB_OK);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(ack.error_detail, "handoff token is missing"));
    CU_ASSERT_EQUAL(rpb_handoff_ack_encode(&offer, RPB_ERR_IO, out, sizeof out, &n),
                    RPB_ERR_INVALID_ARGUMENT);

    /* HANDOFF-047: a replayed token is refused as not pending */
    offer.token.len = 16;
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_ack_encode(&offer, RPB_ERR_HANDOFF_TOKEN_NOT_PENDING, out,
                                                 sizeof out, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(out + 5, n - 5, 1, T0, &ack, &err),
                    RPB_ERR_HANDOFF_REFUSED);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(ack.error_detail, "handoff token is not pending"));
}

/* Encodes frame with msg (desc) as its payload; returns the body (after
 * the 5-byte header) in a static buffer. */
static const uint8_t *body_of(const rpb_frame *frame, const rpb_msg_desc *desc, const void *msg,
                              size_t *len)
{
    static uint8_t out[512];
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rpb_frame_encode_msg(frame, desc, msg, out, sizeof out, &n), RPB_OK);
    *len = n - 5;
    return out + 5;
}

static rpb_frame hframe(int32_t kind, uint64_t request_id)
{
    rpb_frame f = rpb_frame_request(RPB_PP_HANDOFF, (rpb_slice){NULL, 0});
    f.kind = kind;
    f.request_id = request_id;
    return f;
}

/* HANDOFF-042: the receiver's checks in order. */
static void test_offer_check(void)
{
    rpb_frame f;
    rpb_handoff_offer o;
    rpb_errinfo err;
    size_t len;
    rpb_handoff_offer good = {0, {T0, 16}, rpb_slice_cstr("svc"), 7};
    rpb_frame fr = hframe(RPB_FRAME_KIND_REQUEST, 7);
    const uint8_t *b = body_of(&fr, &rpb_handoff_offer_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_offer_check(b, len, &f, &o, &err), RPB_OK);
    CU_ASSERT_EQUAL(o.correlation_id, 7);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(o.service_name, "svc"));

    /* 1: Frame decode */
    static const uint8_t junk[] = {0xFF, 0xFF};
    CU_ASSERT_EQUAL(rpb_handoff_offer_check(junk, 2, &f, &o, &err), RPB_ERR_INVALID_VARINT);
    /* 2: envelope, kind before protocol */
    fr = hframe(RPB_FRAME_KIND_RESPONSE, 7);
    fr.payload_protocol = 0;
    b = body_of(&fr, &rpb_handoff_offer_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_offer_check(b, len, &f, &o, &err), RPB_ERR_ENVELOPE_KIND);
    fr = hframe(RPB_FRAME_KIND_REQUEST, 7);
    fr.payload_protocol = 0;
    b = body_of(&fr, &rpb_handoff_offer_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_offer_check(b, len, &f, &o, &err),
                    RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL);
    /* 3: payload decode, the offset counts from the body */
    fr = hframe(RPB_FRAME_KIND_REQUEST, 7);
    fr.payload = (rpb_slice){junk, 2};
    uint8_t raw[64];
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rpb_frame_encode(&fr, raw, sizeof raw, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_offer_check(raw + 5, n - 5, &f, &o, &err), RPB_ERR_INVALID_VARINT);
    CU_ASSERT_TRUE(err.offset >= 6);
    /* 4: request_id = correlation_id */
    fr = hframe(RPB_FRAME_KIND_REQUEST, 8);
    b = body_of(&fr, &rpb_handoff_offer_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_offer_check(b, len, &f, &o, &err), RPB_ERR_HANDOFF_CORRELATION);
}

/* HANDOFF-030: the broker's ACK checks, steps 1 to 6 in order. */
static void test_ack_check(void)
{
    rpb_handoff_ack a;
    rpb_errinfo err;
    size_t len;
    uint8_t bad_token[16];
    memcpy(bad_token, T0, 16);
    bad_token[0] ^= 0xFF;
    rpb_handoff_ack good = {{T0, 16}, true, {NULL, 0}, 7};
    rpb_frame fr = hframe(RPB_FRAME_KIND_RESPONSE, 7);
    const uint8_t *b = body_of(&fr, &rpb_handoff_ack_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err), RPB_OK);

    static const uint8_t junk[] = {0x22, 0x05}; /* payload: 5 bytes announced, 0 there */
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(junk, 2, 7, T0, &a, &err), RPB_ERR_BUFFER_UNDERFLOW);
    /* 2: the envelope, request_id after the encoding */
    fr = hframe(RPB_FRAME_KIND_EVENT, 7);
    b = body_of(&fr, &rpb_handoff_ack_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err), RPB_ERR_ENVELOPE_KIND);
    fr = hframe(RPB_FRAME_KIND_RESPONSE, 7);
    fr.payload_protocol = RPB_PP_ADMIN;
    b = body_of(&fr, &rpb_handoff_ack_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err),
                    RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL);
    fr = hframe(RPB_FRAME_KIND_RESPONSE, 8);
    fr.payload_encoding = 1;
    b = body_of(&fr, &rpb_handoff_ack_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err),
                    RPB_ERR_ENVELOPE_PAYLOAD_ENCODING);
    fr = hframe(RPB_FRAME_KIND_RESPONSE, 8);
    b = body_of(&fr, &rpb_handoff_ack_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err), RPB_ERR_ENVELOPE_REQUEST_ID);
    /* 3: HandoffAck decode (accepted as a length-delimited field) */
    fr = hframe(RPB_FRAME_KIND_RESPONSE, 7);
    static const uint8_t bad_ack[] = {0x12, 0x00};
    fr.payload = (rpb_slice){bad_ack, 2};
    uint8_t raw[64];
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rpb_frame_encode(&fr, raw, sizeof raw, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(raw + 5, n - 5, 7, T0, &a, &err),
                    RPB_ERR_WIRE_TYPE_MISMATCH);
    /* 4 before 5 before 6 */
    rpb_handoff_ack all_wrong = {{bad_token, 16}, false, rpb_slice_cstr("no"), 9};
    fr = hframe(RPB_FRAME_KIND_RESPONSE, 7);
    b = body_of(&fr, &rpb_handoff_ack_desc, &all_wrong, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err), RPB_ERR_HANDOFF_CORRELATION);
    all_wrong.correlation_id = 7;
    b = body_of(&fr, &rpb_handoff_ack_desc, &all_wrong, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err), RPB_ERR_HANDOFF_TOKEN_MISMATCH);
    all_wrong.token = (rpb_slice){T0, 15};
    b = body_of(&fr, &rpb_handoff_ack_desc, &all_wrong, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err), RPB_ERR_HANDOFF_TOKEN_MISMATCH);
    all_wrong.token = (rpb_slice){T0, 16};
    b = body_of(&fr, &rpb_handoff_ack_desc, &all_wrong, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(b, len, 7, T0, &a, &err), RPB_ERR_HANDOFF_REFUSED);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(a.error_detail, "no"));
}

/* HANDOFF-051: the adopting client's checks; request_id, correlation_id
 * and error_detail are not looked at. */
static void test_ready_check(void)
{
    rpb_handoff_ack a;
    rpb_errinfo err;
    size_t len;
    rpb_handoff_ack good = {{T0, 16}, true, rpb_slice_cstr("ignored"), 7};
    rpb_frame fr = hframe(RPB_FRAME_KIND_EVENT, 9);
    const uint8_t *b = body_of(&fr, &rpb_handoff_ack_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ready_check(b, len, T0, 16, &a, &err), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ready_check(b, len, T0, 15, &a, &err),
                    RPB_ERR_HANDOFF_TOKEN_MISMATCH);
    uint8_t flipped[16];
    memcpy(flipped, T0, 16);
    flipped[0] ^= 0xFF;
    CU_ASSERT_EQUAL(rpb_handoff_ready_check(b, len, flipped, 16, &a, &err),
                    RPB_ERR_HANDOFF_TOKEN_MISMATCH);
    good.accepted = false;
    b = body_of(&fr, &rpb_handoff_ack_desc, &good, &len);
    CU_ASSERT_EQUAL(rpb_handoff_ready_check(b, len, T0, 16, &a, &err), RPB_ERR_HANDOFF_REFUSED);
    /* upstream's malformed relay: RESPONSE on protocol 0, payload FF x 8 */
    static const uint8_t ff8[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    rpb_frame bad = rpb_frame_request(0, (rpb_slice){ff8, 8});
    bad.kind = RPB_FRAME_KIND_RESPONSE;
    uint8_t raw[64];
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rpb_frame_encode(&bad, raw, sizeof raw, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ready_check(raw + 5, n - 5, T0, 16, &a, &err),
                    RPB_ERR_ENVELOPE_KIND);
    /* the broker's own EVENT passes */
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_ready_encode(T0, 1, raw, sizeof raw, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ready_check(raw + 5, n - 5, T0, 16, &a, &err), RPB_OK);
}

static int give_t0(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    memcpy(out, T0, n);
    return 0;
}

/* A store that issues T0 at 0 and has registered its handoff at 0 (ACK
 * deadline 10). */
static void attempt_of_t0(rpb_handoff_store *st, rpb_handoff_slot *slots, size_t n)
{
    rpb_handoff_config cfg = {1000, 10, give_t0, NULL};
    uint8_t t[16];
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_store_init(st, slots, n, &cfg), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_issue(st, 0, t), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_register(st, t, 0), RPB_OK);
}

/* HANDOFF-030 (step 7 included), HANDOFF-031, HANDOFF-032: the broker's
 * decision: the handoff-ready frame only after a good ACK in time; every
 * failure gives nothing for the client and ends the attempt
 * (HANDOFF-016). */
static void test_ack_decide(void)
{
    rpb_handoff_slot slots[2];
    rpb_handoff_store st;
    uint8_t ready[RPB_HANDOFF_READY_MAX_BYTES], ackb[RPB_HANDOFF_ACK_MAX_BYTES];
    size_t n, w;
    rpb_handoff_ack a;
    rpb_handoff_offer offer = {0, {T0, 16}, rpb_slice_cstr("zccache"), 1};

    attempt_of_t0(&st, slots, 2);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_ack_encode(&offer, RPB_OK, ackb, sizeof ackb, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_decide(&st, T0, 1, ackb + 5, n - 5, 9, ready, sizeof ready, &w,
                                           &a, NULL), RPB_OK);
    assert_bytes(ready, w, READY_HEX);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);
    /* the same ACK again: the attempt is over */
    CU_ASSERT_EQUAL(rpb_handoff_ack_decide(&st, T0, 1, ackb + 5, n - 5, 9, ready, sizeof ready, &w,
                                           &a, NULL), RPB_ERR_HANDOFF_TOKEN_NOT_PENDING);

    attempt_of_t0(&st, slots, 2); /* late: at the deadline */
    CU_ASSERT_EQUAL(rpb_handoff_ack_decide(&st, T0, 1, ackb + 5, n - 5, 10, ready, sizeof ready,
                                           &w, &a, NULL), RPB_ERR_HANDOFF_ACK_DEADLINE);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);

    attempt_of_t0(&st, slots, 2); /* refused */
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_ack_encode(&offer, RPB_ERR_HANDOFF_TOKEN_MISMATCH, ackb,
                                                 sizeof ackb, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_decide(&st, T0, 1, ackb + 5, n - 5, 1, ready, sizeof ready, &w,
                                           &a, NULL), RPB_ERR_HANDOFF_REFUSED);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);

    attempt_of_t0(&st, slots, 2); /* wrong correlation */
    CU_ASSERT_EQUAL(rpb_handoff_ack_decide(&st, T0, 2, ackb + 5, n - 5, 1, ready, sizeof ready, &w,
                                           &a, NULL), RPB_ERR_ENVELOPE_REQUEST_ID);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);

    attempt_of_t0(&st, slots, 2); /* garbage */
    CU_ASSERT_NOT_EQUAL(rpb_handoff_ack_decide(&st, T0, 1, (const uint8_t *)"\xff", 1, 1, ready,
                                               sizeof ready, &w, &a, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);

    attempt_of_t0(&st, slots, 2); /* a caller's short buffer still ends it */
    CU_ASSERT_EQUAL(rpb_handoff_ack_decide(&st, T0, 1, ackb + 5, n - 5, 1, ready, 8, &w, &a, NULL),
                    RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(w, RPB_HANDOFF_READY_MAX_BYTES); /* the cap to call with (rpb/error.h) */
    CU_ASSERT_EQUAL(rpb_handoff_pending(&st), 0);
}

/* ---- the descriptor transfer ---- */

static int64_t soon(void)
{
    return rpb_monotonic_ms() + 5000;
}

/* HANDOFF-020, HANDOFF-040, HANDOFF-041: the 16 bytes and one descriptor
 * in one sendmsg; received close-on-exec as a new descriptor of the same
 * connection; the offer frame that follows arrives intact. */
static void test_fd_transfer(void)
{
    int link[2], conn[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, link), 0);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
    int before = fd_count(getpid());
    CU_ASSERT_FATAL(before >= 0); /* no /proc: the leak checks below would compare -1 with -1 */
    CU_ASSERT_EQUAL(rpb_handoff_send_fd(link[0], conn[0], T0, soon()), RPB_OK);
    uint8_t offer[128];
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_offer_encode(T0, rpb_slice_cstr("zccache"), 1, offer,
                                                   sizeof offer, &n), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(write(link[0], offer, n), (ssize_t)n);

    uint8_t tok[16];
    int fd = -1;
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_recv_fd(link[1], soon(), tok, &fd), RPB_OK);
    CU_ASSERT_EQUAL(memcmp(tok, T0, 16), 0);
    CU_ASSERT_TRUE(fd >= 0 && fd != conn[0]);
    CU_ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CU_ASSERT_EQUAL(fd_count(getpid()), before + 1);
    /* the received descriptor is the connection: the client's peer end hears it */
    CU_ASSERT_EQUAL(write(fd, "\x5A", 1), 1);
    char c = 0;
    CU_ASSERT_EQUAL(read(conn[1], &c, 1), 1);
    CU_ASSERT_EQUAL(c, 0x5A);

    rpb_buf body = {0};
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(link[1], RPB_MAX_FRAME_BYTES, soon(), &body, NULL), RPB_OK);
    rpb_frame f;
    rpb_handoff_offer o;
    CU_ASSERT_EQUAL(rpb_handoff_offer_check(body.data, body.len, &f, &o, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_offer_verdict(&o, tok), RPB_OK);
    rpb_buf_free(&body);
    close(fd);
    close(link[0]), close(link[1]), close(conn[0]), close(conn[1]);
}

/* HANDOFF-020, HANDOFF-021: the descriptor's message and the offer in one
 * call: the receiver's recvmsg ends with the 16 token bytes, and the offer
 * follows intact. */
static void test_fd_transfer_with_offer(void)
{
    int link[2], conn[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, link), 0);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
    uint8_t offer[128];
    size_t n, sent = 0;
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_offer_encode(T0, rpb_slice_cstr("zccache"), 1, offer,
                                                   sizeof offer, &n), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_send_offer(link[0], conn[0], T0, offer, n, soon(), &sent), RPB_OK);
    CU_ASSERT_EQUAL(sent, n);
    CU_ASSERT_EQUAL(rpb_handoff_send_offer(link[0], conn[0], T0, NULL, 1, soon(), &sent),
                    RPB_ERR_INVALID_ARGUMENT);

    uint8_t tok[16];
    int fd = -1;
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_recv_fd(link[1], soon(), tok, &fd), RPB_OK);
    CU_ASSERT_EQUAL(memcmp(tok, T0, 16), 0);
    rpb_buf body = {0};
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(link[1], RPB_MAX_FRAME_BYTES, soon(), &body, NULL), RPB_OK);
    CU_ASSERT_EQUAL(body.len + RPB_FRAME_HEADER_BYTES, n);
    CU_ASSERT_TRUE(body.len + RPB_FRAME_HEADER_BYTES == n &&
                   memcmp(body.data, offer + RPB_FRAME_HEADER_BYTES, body.len) == 0);
    rpb_buf_free(&body);
    close(fd);
    close(link[0]), close(link[1]), close(conn[0]), close(conn[1]);
}

/* Receives on a fresh pair after send(), expecting rc and no descriptor
 * left open. */
static void expect_recv(void (*send)(int sock, int payload_fd), int want)
{
    int link[2], conn[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, link), 0);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
    send(link[0], conn[0]);
    int before = fd_count(getpid());
    CU_ASSERT_FATAL(before >= 0); /* no /proc: the leak checks below would compare -1 with -1 */
    uint8_t tok[16];
    int fd = 7;
    CU_ASSERT_EQUAL(rpb_handoff_recv_fd(link[1], soon(), tok, &fd), want);
    CU_ASSERT_EQUAL(fd, -1);
    CU_ASSERT_EQUAL(fd_count(getpid()), before);
    close(link[0]), close(link[1]), close(conn[0]), close(conn[1]);
}

/* The token with n copies of fd (n <= 16). */
static void send_fds(int s, int fd, int n)
{
    int fds[16];
    for (int i = 0; i < n; i++)
        fds[i] = fd;
    CU_ASSERT_TRUE_FATAL(tu_send_fds(s, T0, 16, fds, (size_t)n));
}
static void send_two_fds(int s, int fd)
{
    send_fds(s, fd, 2);
}
static void send_eight_fds(int s, int fd) /* as many as the receiver has room for */
{
    send_fds(s, fd, 8);
}
static void send_nine_fds(int s, int fd) /* one more */
{
    send_fds(s, fd, 9);
}
static void send_ten_fds(int s, int fd)
{
    send_fds(s, fd, 10);
}
static void send_no_fd(int s, int fd)
{
    (void)fd;
    CU_ASSERT_TRUE_FATAL(tu_send_fds(s, T0, 16, NULL, 0));
}
static void send_short_token(int s, int fd)
{
    CU_ASSERT_TRUE_FATAL(tu_send_fds(s, T0, 10, &fd, 1));
}
static void send_long_token(int s, int fd)
{
    uint8_t t[20] = {0};
    CU_ASSERT_TRUE_FATAL(tu_send_fds(s, t, 20, &fd, 1));
}
static void send_bytes_first(int s, int fd)
{
    CU_ASSERT_TRUE_FATAL(tu_send_fds(s, "abc", 3, NULL, 0));
    CU_ASSERT_EQUAL(rpb_handoff_send_fd(s, fd, T0, soon()), RPB_OK);
}
static void send_eof(int s, int fd)
{
    (void)fd;
    shutdown(s, SHUT_WR);
}

/* HANDOFF-041: each receiver check closes every descriptor it brought;
 * room for 8 descriptors: 2 to 8 are too many, 9 overflow the room. */
static void test_fd_receiver_checks(void)
{
    expect_recv(send_two_fds, RPB_ERR_HANDOFF_FD_COUNT);
    expect_recv(send_eight_fds, RPB_ERR_HANDOFF_FD_COUNT);
    expect_recv(send_nine_fds, RPB_ERR_HANDOFF_CTRUNC);
    expect_recv(send_ten_fds, RPB_ERR_HANDOFF_CTRUNC);
    expect_recv(send_no_fd, RPB_ERR_HANDOFF_FD_COUNT);
    expect_recv(send_short_token, RPB_ERR_HANDOFF_TOKEN_LENGTH);
    expect_recv(send_long_token, RPB_ERR_HANDOFF_TOKEN_LENGTH);
    expect_recv(send_bytes_first, RPB_ERR_HANDOFF_TOKEN_LENGTH);
    expect_recv(send_eof, RPB_ERR_UNEXPECTED_EOF);
}

/* HANDOFF-041: a silent sender ends the wait at the deadline; the sender
 * toward a closed peer gets an error, not SIGPIPE (HANDOFF-020). */
static void test_fd_deadlines(void)
{
    int link[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, link), 0);
    uint8_t tok[16];
    int fd;
    CU_ASSERT_EQUAL(rpb_handoff_recv_fd(link[1], rpb_monotonic_ms() + 20, tok, &fd),
                    RPB_ERR_TIMEOUT);
    close(link[1]);
    CU_ASSERT_EQUAL(rpb_handoff_send_fd(link[0], link[0], T0, soon()), RPB_ERR_IO);
    close(link[0]);
}

/* A broker's side on link[0]: the descriptor conn with fd_token, then an
 * offer of offer_token with frame request_id rid. */
static void play_broker(int sock, int conn, const uint8_t *fd_token, rpb_slice offer_token,
                        uint64_t rid)
{
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_send_fd(sock, conn, fd_token, soon()), RPB_OK);
    rpb_handoff_offer o = {0, offer_token, rpb_slice_cstr("zccache"), 1};
    rpb_frame fr = hframe(RPB_FRAME_KIND_REQUEST, rid);
    size_t len;
    const uint8_t *b = body_of(&fr, &rpb_handoff_offer_desc, &o, &len);
    CU_ASSERT_EQUAL_FATAL(rpb_write_frame(sock, b, len, soon()), RPB_OK);
}

/* HANDOFF-040 to HANDOFF-045: the receiver's whole exchange: adopt after
 * an accepted ACK; refuse, with upstream's detail, and close the
 * descriptor on a token that is not the descriptor's; no ACK and the
 * descriptor closed on an offer that fails its checks. */
static void test_receive(void)
{
    int link[2], conn[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, link), 0);
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, conn), 0);
    int before = fd_count(getpid());
    CU_ASSERT_FATAL(before >= 0); /* no /proc: the leak checks below would compare -1 with -1 */
    rpb_handoff_received r;
    rpb_handoff_ack a;
    rpb_buf ack = {0};

    play_broker(link[0], conn[0], T0, (rpb_slice){T0, 16}, 1);
    CU_ASSERT_EQUAL_FATAL(rpb_handoff_receive(link[1], soon(), &r, NULL), RPB_OK);
    CU_ASSERT_TRUE(r.fd >= 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.offer.service_name, "zccache"));
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(link[0], RPB_MAX_FRAME_BYTES, soon(), &ack, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(ack.data, ack.len, 1, T0, &a, NULL), RPB_OK);
    close(r.fd);
    rpb_buf_free(&r.body);

    uint8_t other[16];
    memcpy(other, T0, 16);
    other[7] ^= 1;
    play_broker(link[0], conn[0], T0, (rpb_slice){other, 16}, 1);
    CU_ASSERT_EQUAL(rpb_handoff_receive(link[1], soon(), &r, NULL), RPB_ERR_HANDOFF_TOKEN_MISMATCH);
    CU_ASSERT_EQUAL(r.fd, -1);
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(link[0], RPB_MAX_FRAME_BYTES, soon(), &ack, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_handoff_ack_check(ack.data, ack.len, 1, other, &a, NULL),
                    RPB_ERR_HANDOFF_REFUSED);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(a.error_detail, "handoff token mismatch"));
    rpb_buf_free(&r.body);

    play_broker(link[0], conn[0], T0, (rpb_slice){T0, 16}, 2); /* request_id != correlation */
    CU_ASSERT_EQUAL(rpb_handoff_receive(link[1], soon(), &r, NULL), RPB_ERR_HANDOFF_CORRELATION);
    CU_ASSERT_EQUAL(r.fd, -1);
    rpb_buf_free(&r.body);
    CU_ASSERT_EQUAL(fd_count(getpid()), before);
    close(link[1]); /* nothing was written: the broker side reads end of stream */
    CU_ASSERT_EQUAL(rpb_read_frame(link[0], RPB_MAX_FRAME_BYTES, soon(), &ack, NULL),
                    RPB_ERR_UNEXPECTED_EOF);
    rpb_buf_free(&ack);
    close(link[0]), close(conn[0]), close(conn[1]);
}

/* ---- rpb_connect_backend_fd() against a scripted broker ---- */

typedef enum peer_mode {
    PEER_READY,        /* a good handoff-ready frame, then echo C3 -> 5A */
    PEER_REFUSED,      /* the EVENT with accepted false */
    PEER_WRONG_TOKEN,  /* the EVENT with token[0] ^ 0xFF */
    PEER_MALFORMED,    /* RESPONSE on protocol 0, payload FF x 8 */
    PEER_SILENT,       /* nothing; holds the connection until the client closes it */
    PEER_CLOSE,        /* closes after the Negotiated */
} peer_mode;

static char pipe_path[108];

/* The broker's side in a child: reads the Hello, answers a Negotiated
 * (caps and token as given), then acts out mode.  Exit status: 0, or 10 +
 * whether the Hello had CAP_HANDLE_PASSING when ok, 1 on a protocol error. */
static pid_t fork_peer(int sock, int client_end, peer_mode mode, uint64_t caps, size_t token_len)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    close(client_end); /* so that the client's close is seen */
    rpb_buf body = {0};
    rpb_frame req;
    uint8_t mem[4096];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_hello hello;
    rpb_msg_init(&rpb_hello_desc, &hello);
    rpb_msg_init(&rpb_frame_desc, &req);
    if (rpb_read_frame(sock, RPB_MAX_HELLO_BYTES, RPB_NO_DEADLINE, &body, NULL) != RPB_OK ||
        rpb_decode(&rpb_frame_desc, body.data, body.len, &req, NULL, 0, NULL) != RPB_OK ||
        rpb_decode(&rpb_hello_desc, req.payload.data, req.payload.len, &hello, &arena, 0, NULL) !=
            RPB_OK)
        _exit(1);
    int bit = (hello.client_capabilities & RPB_CAP_HANDLE_PASSING) != 0;

    rpb_hello_reply reply;
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    reply.result = RPB_HELLO_REPLY_NEGOTIATED;
    reply.negotiated.negotiated_protocol = 1;
    reply.negotiated.daemon_version = rpb_slice_cstr("1.0.0");
    reply.negotiated.backend_pipe = rpb_slice_cstr(pipe_path);
    reply.negotiated.server_capabilities = caps;
    reply.negotiated.handle_passed_token = (rpb_slice){T0, token_len};
    reply.negotiated.connection_id = 1;
    uint8_t out[512];
    size_t n;
    rpb_frame rf = rpb_frame_response_to(&req, (rpb_slice){NULL, 0});
    if (rpb_frame_encode_msg(&rf, &rpb_hello_reply_desc, &reply, out, sizeof out, &n) != RPB_OK ||
        write(sock, out, n) != (ssize_t)n)
        _exit(1);

    uint8_t tok[16];
    memcpy(tok, T0, 16);
    rpb_handoff_ack ack = {{tok, 16}, true, {NULL, 0}, 1};
    rpb_frame ev = hframe(RPB_FRAME_KIND_EVENT, 1);
    static const uint8_t ff8[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    switch (mode) {
    case PEER_READY:
        break;
    case PEER_REFUSED:
        ack.accepted = false;
        break;
    case PEER_WRONG_TOKEN:
        tok[0] ^= 0xFF;
        break;
    case PEER_MALFORMED:
        ev = rpb_frame_request(0, (rpb_slice){ff8, 8});
        ev.kind = RPB_FRAME_KIND_RESPONSE;
        break;
    case PEER_SILENT:
    case PEER_CLOSE:
        ev.kind = -1;
        break;
    }
    if (ev.kind != -1) {
        int rc = ev.payload.len ? rpb_frame_encode(&ev, out, sizeof out, &n)
                                : rpb_frame_encode_msg(&ev, &rpb_handoff_ack_desc, &ack, out,
                                                       sizeof out, &n);
        if (rc != RPB_OK || write(sock, out, n) != (ssize_t)n)
            _exit(1);
    }
    char c;
    if (mode == PEER_READY) { /* now the backend: the client speaks first (HANDOFF-045) */
        if (read(sock, &c, 1) != 1 || c != (char)0xC3 || write(sock, "\x5A", 1) != 1)
            _exit(1);
    }
    if (mode != PEER_CLOSE)
        while (read(sock, &c, 1) > 0) /* until the client closes */
            ;
    _exit(10 + bit);
}

/* Runs rpb_connect_backend_fd() against a peer in mode; returns the
 * peer's exit status and fills out. */
static int connect_via_peer_until(peer_mode mode, uint64_t caps, size_t token_len, unsigned flags,
                                  int ready_ms, int64_t deadline, rpb_backend_conn *out)
{
    int sp[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    pid_t pid = fork_peer(sp[1], sp[0], mode, caps, token_len);
    close(sp[1]);
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.0.0", (uint32_t)getpid());
    rpb_connect_options opt = {flags, ready_ms, deadline};
    CU_ASSERT_EQUAL(rpb_connect_backend_fd(sp[0], &h, &opt, out, NULL), RPB_OK);
    if (out->route == RPB_ROUTE_HANDOFF) { /* the adopted socket reaches the "backend" */
        char c = 0;
        CU_ASSERT_EQUAL(write(out->fd, "\xC3", 1), 1);
        CU_ASSERT_EQUAL(read(out->fd, &c, 1), 1);
        CU_ASSERT_EQUAL(c, 0x5A);
    }
    if (out->fd >= 0)
        close(out->fd);
    return tu_wait_exit(pid, 10000);
}

static int connect_via_peer(peer_mode mode, uint64_t caps, size_t token_len, unsigned flags,
                            int ready_ms, rpb_backend_conn *out)
{
    return connect_via_peer_until(mode, caps, token_len, flags, ready_ms, soon(), out);
}

/* The backend_pipe listener has exactly one connection waiting. */
static void assert_reconnected(int listener)
{
    int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    CU_ASSERT_TRUE(c >= 0);
    if (c >= 0)
        close(c);
    CU_ASSERT_EQUAL(accept4(listener, NULL, NULL, SOCK_CLOEXEC), -1); /* listener is non-blocking */
}

/* HANDOFF-050, HANDOFF-051: an adopting client keeps the broker
 * connection after a good handoff-ready frame and speaks the service on
 * it; HANDOFF-052: every other outcome goes to backend_pipe silently. */
static void test_connect_backend(void)
{
    char dir[] = "/tmp/rpb-handoff-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(pipe_path, sizeof pipe_path, "%s/backend.sock", dir);
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, pipe_path);
    CU_ASSERT_EQUAL_FATAL(bind(listener, (struct sockaddr *)&sa, sizeof sa), 0);
    CU_ASSERT_EQUAL_FATAL(listen(listener, 8), 0);
    rpb_backend_conn c;
    const uint64_t BIT = RPB_CAP_HANDLE_PASSING;

    CU_ASSERT_EQUAL(connect_via_peer(PEER_READY, BIT, 16, RPB_CONNECT_ADOPT, 0, &c), 11);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_HANDOFF);
    CU_ASSERT_EQUAL(c.handoff_status, RPB_OK);
    CU_ASSERT_STRING_EQUAL(rpb_backend_route_name(c.route), "handoff");
    rpb_backend_conn_free(&c);

    static const struct {
        peer_mode mode;
        int status;
    } fallback[] = {
        {PEER_REFUSED, RPB_ERR_HANDOFF_REFUSED},
        {PEER_WRONG_TOKEN, RPB_ERR_HANDOFF_TOKEN_MISMATCH},
        {PEER_MALFORMED, RPB_ERR_ENVELOPE_KIND},
        {PEER_SILENT, RPB_ERR_TIMEOUT},
        {PEER_CLOSE, RPB_ERR_UNEXPECTED_EOF},
    };
    for (size_t i = 0; i < sizeof fallback / sizeof fallback[0]; i++) {
        CU_ASSERT_EQUAL(connect_via_peer(fallback[i].mode, BIT, 16, RPB_CONNECT_ADOPT, 50, &c), 11);
        CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
        CU_ASSERT_EQUAL(c.handoff_status, fallback[i].status);
        CU_ASSERT_TRUE(rpb_slice_eq_cstr(c.result.reply.negotiated.backend_pipe, pipe_path));
        assert_reconnected(listener);
        rpb_backend_conn_free(&c);
    }

    /* HANDOFF-050: the wait for the ready frame ends at the call's
     * deadline when that comes first: a silent broker and a 60 s ready
     * timeout, the call's deadline 3 s away; the call returns before the
     * ready timeout would have ended (without the bound it waits 60 s)
     * and reconnects (a listener with room connects at once) */
    int64_t start = rpb_monotonic_ms();
    CU_ASSERT_EQUAL(connect_via_peer_until(PEER_SILENT, BIT, 16, RPB_CONNECT_ADOPT, 60000,
                                           start + 3000, &c), 11);
    CU_ASSERT_TRUE(rpb_monotonic_ms() - start < 60000);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    CU_ASSERT_EQUAL(c.handoff_status, RPB_ERR_TIMEOUT);
    assert_reconnected(listener);
    rpb_backend_conn_free(&c);

    /* HANDOFF-001: not agreed, or not adopting: no wait (the silent peer
     * would hold a waiting client for the whole 60 s), no bit without
     * RPB_CONNECT_ADOPT (HELLO-060) */
    CU_ASSERT_EQUAL(connect_via_peer(PEER_SILENT, BIT, 0, RPB_CONNECT_ADOPT, 60000, &c), 11);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    assert_reconnected(listener);
    rpb_backend_conn_free(&c);
    CU_ASSERT_EQUAL(connect_via_peer(PEER_SILENT, 0, 16, RPB_CONNECT_ADOPT, 60000, &c), 11);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    assert_reconnected(listener);
    rpb_backend_conn_free(&c);
    CU_ASSERT_EQUAL(connect_via_peer(PEER_SILENT, BIT, 16, 0, 60000, &c), 10);
    CU_ASSERT_EQUAL(c.route, RPB_ROUTE_RECONNECT);
    CU_ASSERT_EQUAL(c.handoff_status, RPB_OK);
    assert_reconnected(listener);
    rpb_backend_conn_free(&c);

    close(listener);
    unlink(pipe_path);
    rmdir(dir);
}

/* A Hello the client cannot send (over the 64 KiB cap, HELLO-068) fails
 * the call with err saying so; the broker connection is closed unwritten. */
static void test_connect_backend_errinfo(void)
{
    int sp[2];
    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    static uint8_t big[RPB_MAX_HELLO_BYTES];
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.0.0", (uint32_t)getpid());
    h.client_version = (rpb_slice){big, sizeof big};
    rpb_connect_options opt = {RPB_CONNECT_ADOPT, 0, soon()};
    rpb_backend_conn c;
    rpb_errinfo err = {.code = RPB_OK};
    CU_ASSERT_EQUAL(rpb_connect_backend_fd(sp[0], &h, &opt, &c, &err), RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(err.code, RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(c.fd, -1);
    char b;
    CU_ASSERT_EQUAL(read(sp[1], &b, 1), 0);
    rpb_backend_conn_free(&c);
    close(sp[1]);
}

int main(void)
{
    static const tu_test tests[] = {
        {"agreement (HANDOFF-001)", test_agreed},
        {"issue (HANDOFF-010)", test_issue},
        {"single use, mismatch (HANDOFF-011, HANDOFF-014)", test_consume},
        {"TTL (HANDOFF-012)", test_ttl},
        {"pending bound (HANDOFF-013)", test_pending_limit},
        {"ACK deadline (HANDOFF-015)", test_ack_deadline},
        {"zero TTL and ACK deadline are the defaults (HANDOFF-017)", test_zero_config},
        {"token never outlives its attempt (HANDOFF-016)", test_attempt_end},
        {"slots freed and reused (HANDOFF-011, HANDOFF-016)", test_slot_reuse},
        {"token equality (SEC-017)", test_token_equal},
        {"offer bytes (HANDOFF-021)", test_offer_bytes},
        {"handoff-ready bytes (HANDOFF-031)", test_ready_bytes},
        {"ACK bytes and details (HANDOFF-043, HANDOFF-044)", test_ack_bytes},
        {"receiver's offer checks (HANDOFF-042)", test_offer_check},
        {"broker's ACK checks (HANDOFF-030)", test_ack_check},
        {"client's handoff-ready checks (HANDOFF-051)", test_ready_check},
        {"broker's decision (HANDOFF-030, HANDOFF-031, HANDOFF-032)", test_ack_decide},
        {"receiver's exchange (HANDOFF-040..HANDOFF-045)", test_receive},
        {"rpb_connect_backend_fd (HANDOFF-001, HANDOFF-050, HANDOFF-051, HANDOFF-052)",
         test_connect_backend},
        {"rpb_connect_backend_fd: a Hello over the cap (HELLO-068)", test_connect_backend_errinfo},
        {"descriptor transfer (HANDOFF-020, HANDOFF-040, HANDOFF-041)", test_fd_transfer},
        {"descriptor and offer in one call (HANDOFF-020, HANDOFF-021)", test_fd_transfer_with_offer},
        {"receiver's descriptor checks (HANDOFF-041)", test_fd_receiver_checks},
        {"deadline and closed peer (HANDOFF-020, HANDOFF-041)", test_fd_deadlines},
        {NULL, NULL},
    };
    /* SIGPIPE keeps its default action: a send that raised it would kill
     * the test (HANDOFF-020 says MSG_NOSIGNAL). */
    return tu_run("handoff", tests);
}
