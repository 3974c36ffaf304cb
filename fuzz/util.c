/*
 * util.c - helpers shared by the fuzz targets: failure reporting, a
 * deterministic input-seeded PRNG, descriptor-driven message comparison and
 * the decode -> encode -> decode round-trip oracle (fuzz/fuzz.h).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("oracle failed: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void fz_rng_seed(fz_rng *rng, const uint8_t *data, size_t size)
{
    /* FNV-1a over the input, then never zero (xorshift's fixed point). */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < size; i++) {
        h ^= data[i];
        h *= UINT64_C(0x100000001b3);
    }
    rng->state = h ? h : UINT64_C(0x9e3779b97f4a7c15);
}

uint64_t fz_rng_below(fz_rng *rng, uint64_t bound)
{
    /* xorshift64*; the modulo bias is irrelevant for choosing chunk sizes. */
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return (x * UINT64_C(0x2545f4914f6cdd1d)) % bound;
}

const rpb_msg_desc *fz_pick_message(uint8_t selector)
{
    size_t n = 0;
    while (rpb_all_messages[n])
        n++;
    return rpb_all_messages[selector % n];
}

bool fz_field_present(const rpb_msg_desc *desc, const rpb_field_desc *f, const void *msg)
{
    const uint8_t *base = msg;
    if (f->flags & RPB_FIELD_ONEOF)
        return *(const uint32_t *)(base + desc->oneof_case_offset) == f->number;
    if (f->flags & RPB_FIELD_PRESENCE)
        return *(const bool *)(base + f->presence_offset);
    return true;
}

static bool strlist_equal(const rpb_strlist *a, const rpb_strlist *b)
{
    if (a->count != b->count)
        return false;
    const rpb_str_node *x = a->head, *y = b->head;
    for (; x && y; x = x->next, y = y->next)
        if (!rpb_slice_eq(x->value, y->value))
            return false;
    return x == NULL && y == NULL;
}

static size_t map_effective_count(const rpb_map *m)
{
    size_t n = 0;
    for (const rpb_map_node *x = m->head; x; x = x->next)
        n += rpb_map_node_is_effective(x);
    return n;
}

/* Maps are equal when they hold the same effective key -> value pairs
 * (WIRE-013: last wins); duplicates and order do not matter. */
static bool map_equal(const rpb_map *a, const rpb_map *b)
{
    if (map_effective_count(a) != map_effective_count(b))
        return false;
    for (const rpb_map_node *x = a->head; x; x = x->next) {
        if (!rpb_map_node_is_effective(x))
            continue;
        const rpb_slice *v = rpb_map_get(b, x->key);
        if (!v || !rpb_slice_eq(*v, x->value))
            return false;
    }
    return true;
}

const char *fz_msg_diff(const rpb_msg_desc *desc, const void *a, const void *b)
{
    if (desc->oneof_name &&
        *(const uint32_t *)((const uint8_t *)a + desc->oneof_case_offset) !=
            *(const uint32_t *)((const uint8_t *)b + desc->oneof_case_offset))
        return desc->oneof_name;

    for (size_t i = 0; i < desc->n_fields; i++) {
        const rpb_field_desc *f = &desc->fields[i];
        bool pa = fz_field_present(desc, f, a), pb = fz_field_present(desc, f, b);
        if (pa != pb)
            return f->name;
        if (!pa)
            continue;
        const void *x = (const uint8_t *)a + f->offset;
        const void *y = (const uint8_t *)b + f->offset;
        bool same = true;
        switch ((enum rpb_field_type)f->type) {
        case RPB_FT_UINT32:
            same = *(const uint32_t *)x == *(const uint32_t *)y;
            break;
        case RPB_FT_UINT64:
            same = *(const uint64_t *)x == *(const uint64_t *)y;
            break;
        case RPB_FT_ENUM:
            same = *(const int32_t *)x == *(const int32_t *)y;
            break;
        case RPB_FT_BOOL:
            same = *(const bool *)x == *(const bool *)y;
            break;
        case RPB_FT_STRING:
        case RPB_FT_BYTES:
            same = rpb_slice_eq(*(const rpb_slice *)x, *(const rpb_slice *)y);
            break;
        case RPB_FT_MESSAGE: {
            const char *inner = fz_msg_diff(f->message, x, y);
            if (inner)
                return inner;
            break;
        }
        case RPB_FT_STRING_LIST:
            same = strlist_equal(x, y);
            break;
        case RPB_FT_STRING_MAP:
            same = map_equal(x, y);
            break;
        }
        if (!same)
            return f->name;
    }
    return NULL;
}

int fz_decode(const rpb_msg_desc *desc, const uint8_t *in, size_t len, void *msg,
              unsigned options, void **arena_mem)
{
    size_t cap = rpb_arena_bound(len);
    rpb_arena arena;
    *arena_mem = malloc(cap ? cap : 1);
    if (!*arena_mem)
        fz_fail("out of memory for a %zu-byte arena", cap);
    rpb_arena_init(&arena, *arena_mem, cap);
    rpb_msg_init(desc, msg);
    rpb_errinfo err = {0};
    int rc = rpb_decode(desc, in, len, msg, &arena, options, &err);
    /* rpb_arena_bound() is a promise: decoding never runs out of it. */
    FZ_CHECK(rc != RPB_ERR_SCRATCH_EXHAUSTED, "%s: arena of rpb_arena_bound(%zu) = %zu exhausted",
             desc->name, len, cap);
    FZ_CHECK(rc == RPB_OK || rc == err.code, "%s: rpb_decode returned %d but errinfo says %d",
             desc->name, rc, err.code);
    FZ_CHECK(rc == RPB_OK || err.offset <= len, "%s: error offset %zu beyond input of %zu",
             desc->name, err.offset, len);
    return rc;
}

/* Encodes msg into a fresh buffer, checking rpb_encoded_len() against what
 * rpb_encode() writes and that a buffer one byte short is refused. */
static uint8_t *encode_checked(const rpb_msg_desc *desc, const void *msg, size_t *len)
{
    size_t need = rpb_encoded_len(desc, msg), written = 0;
    uint8_t *out = malloc(need ? need : 1);
    if (!out)
        fz_fail("out of memory for a %zu-byte encoding", need);
    int rc = rpb_encode(desc, msg, out, need, &written);
    FZ_CHECK(rc == RPB_OK, "%s: rpb_encode into exactly rpb_encoded_len bytes: %s", desc->name,
             rpb_errname(rc));
    FZ_CHECK(written == need, "%s: rpb_encode wrote %zu, rpb_encoded_len said %zu", desc->name,
             written, need);
    if (need > 0) {
        rc = rpb_encode(desc, msg, out, need - 1, &written);
        FZ_CHECK(rc == RPB_ERR_BUFFER_TOO_SMALL, "%s: rpb_encode into %zu of %zu bytes gave %s",
                 desc->name, need - 1, need, rpb_errname(rc));
    }
    *len = need;
    return out;
}

void fz_frame_msg_check(const rpb_msg_desc *desc, const void *msg, const uint8_t *enc,
                        size_t len)
{
    rpb_frame frame = rpb_frame_request(RPB_PP_CONSUMER_MIN, (rpb_slice){enc, len});
    frame.request_id = len; /* a field after the payload */
    size_t need = rpb_frame_encoded_len(&frame), n1 = 0, n2 = 0;
    /* Room for the unsized path: every field's bound is at most 11 bytes
     * over its content, each present one takes at least 2. */
    size_t room = 6 * need + 1024;
    uint8_t *two_step = malloc(need), *fused = malloc(room);
    if (!two_step || !fused)
        fz_fail("out of memory for a %zu-byte frame", room);
    int rc = rpb_frame_encode(&frame, two_step, need, &n2);
    FZ_CHECK(rc == RPB_OK, "%s: rpb_frame_encode: %s", desc->name, rpb_errname(rc));
    FZ_CHECK(rpb_frame_encoded_len_msg(&frame, desc, msg) == need,
             "%s: rpb_frame_encoded_len_msg != rpb_frame_encoded_len", desc->name);
    static const char *const how[] = {"into exactly its size", "with room to spare"};
    for (int k = 0; k < 2; k++) {
        rc = rpb_frame_encode_msg(&frame, desc, msg, fused, k ? room : need, &n1);
        FZ_CHECK(rc == RPB_OK, "%s: rpb_frame_encode_msg %s: %s", desc->name, how[k],
                 rpb_errname(rc));
        FZ_CHECK(n1 == n2 && memcmp(fused, two_step, n1) == 0,
                 "%s: rpb_frame_encode_msg %s differs from rpb_encode + rpb_frame_encode",
                 desc->name, how[k]);
    }
    rc = rpb_frame_encode_msg(&frame, desc, msg, fused, need - 1, &n1);
    FZ_CHECK(rc == RPB_ERR_BUFFER_TOO_SMALL, "%s: rpb_frame_encode_msg into %zu of %zu bytes: %s",
             desc->name, need - 1, need, rpb_errname(rc));
    free(fused);
    free(two_step);
}

void fz_roundtrip(const rpb_msg_desc *desc, const void *msg, uint8_t **out, size_t *out_len)
{
    size_t len1, len2;
    uint8_t *enc1 = encode_checked(desc, msg, &len1);

    void *again = malloc(desc->size);
    void *arena_mem;
    if (!again)
        fz_fail("out of memory");
    int rc = fz_decode(desc, enc1, len1, again, 0, &arena_mem);
    FZ_CHECK(rc == RPB_OK, "%s: decoding its own encoding failed: %s", desc->name,
             rpb_errname(rc));
    const char *diff = fz_msg_diff(desc, msg, again);
    FZ_CHECK(diff == NULL, "%s: field %s changed in decode(encode(x))", desc->name, diff);

    uint8_t *enc2 = encode_checked(desc, again, &len2);
    FZ_CHECK(len1 == len2 && memcmp(enc1, enc2, len1) == 0,
             "%s: encoding not canonical: encode(decode(encode(x))) != encode(x)", desc->name);

    free(enc2);
    free(arena_mem);
    free(again);
    *out = enc1;
    *out_len = len1;
}

static uint8_t probe_sha[RPB_SHA256_BYTES] = {
    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};

const uint8_t fz_probe_nonce[RPB_PROBE_NONCE_BYTES] = {
    0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A,
    0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A};

const rpb_daemon_process *fz_probe_identity(void)
{
    static const rpb_daemon_process dp = {
        .pid = 4242,
        .exe_path = {(const uint8_t *)"/usr/bin/mydaemon", 17},
        .exe_sha256 = {probe_sha, RPB_SHA256_BYTES},
        .has_ipc_endpoint = true,
        .ipc_endpoint = {{(const uint8_t *)"ns-1", 4}, {(const uint8_t *)"/tmp/d.sock", 11}},
        .started_at_unix_ms = 1700000000000u,
        .boot_id = {(const uint8_t *)"boot-1", 6},
        .has_idle_timeout_secs = true,
        .idle_timeout_secs = 30,
    };
    return &dp;
}

void fz_check_one_frame(const uint8_t *wire, size_t len, rpb_frame *frame)
{
    size_t used = 0;
    rpb_errinfo err = {0};
    int rc = rpb_frame_decode(wire, len, RPB_MAX_FRAME_BYTES, frame, &used, &err);
    FZ_CHECK(rc == RPB_OK, "reply of %zu bytes does not decode: %s at %zu", len, rpb_errname(rc),
             err.offset);
    FZ_CHECK(used == len, "reply holds %zu bytes after its frame", len - used);
    uint8_t *enc;
    size_t enc_len;
    fz_roundtrip(&rpb_frame_desc, frame, &enc, &enc_len);
    FZ_CHECK(enc_len + RPB_FRAME_HEADER_BYTES == used &&
                 memcmp(enc, wire + RPB_FRAME_HEADER_BYTES, enc_len) == 0,
             "reply Frame is not canonical");
    free(enc);
}

void fz_check_probe_reply(const rpb_frame *request, const uint8_t *reply, size_t len,
                          const rpb_daemon_process *identity)
{
    rpb_frame f;
    fz_check_one_frame(reply, len, &f);
    FZ_CHECK(f.kind == RPB_FRAME_KIND_RESPONSE && f.payload_protocol == RPB_PP_PROBE &&
                 f.envelope_version == 1 && f.payload_encoding == 0 && f.deadline_unix_ms == 0,
             "probe reply envelope (PROBE-005)");
    FZ_CHECK(f.request_id == request->request_id && rpb_slice_eq(f.traceparent, request->traceparent) &&
                 rpb_slice_eq(f.tracestate, request->tracestate),
             "probe reply does not echo request_id and trace (PROBE-005, PROBE-011)");
    FZ_CHECK(f.payload.len >= RPB_PROBE_NONCE_BYTES &&
                 memcmp(f.payload.data, request->payload.data, RPB_PROBE_NONCE_BYTES) == 0,
             "probe reply does not echo the nonce");
    rpb_daemon_process got;
    rpb_msg_init(&rpb_daemon_process_desc, &got);
    FZ_CHECK(rpb_decode(&rpb_daemon_process_desc, f.payload.data + RPB_PROBE_NONCE_BYTES,
                        f.payload.len - RPB_PROBE_NONCE_BYTES, &got, NULL, 0, NULL) == RPB_OK,
             "probe reply identity does not decode");
    FZ_CHECK(!fz_msg_diff(&rpb_daemon_process_desc, &got, identity),
             "probe reply identity is not the responder's");
}
