/*
 * fuzz_frame_split - the incremental frame splitter rpb_frame_split()
 * (FRAME-001..FRAME-009) on an arbitrary byte stream.
 *
 * Input: the stream itself (frames back to back, or garbage).
 *
 * Oracles, for each cap in {16 MiB, 64 KiB, 1024, 0}:
 *  - model: the result on the whole stream equals an independent model of
 *    the framing rules (FRAME-001 version byte decided from 1 byte, FRAME-002
 *    u32 LE length, FRAME-003/004 cap with "= cap accepted", FRAME-005 cap
 *    decided from the 5 header bytes, FRAME-009 consumed = 5 + N);
 *  - chunks: the stream is fed as it would arrive from a socket, in chunk
 *    sizes drawn from a PRNG seeded by the input; every prefix that ends a
 *    chunk is split from its own exactly-sized heap copy (so ASan catches a
 *    read past the bytes that arrived), must be need-more until the
 *    decision point, and the first decision must equal the whole-stream
 *    result (code, consumed, body);
 *  - after a whole frame the splitter continues on the bytes after it
 *    (FRAME-009: they are untouched and start the next frame).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

typedef struct split_result {
    int rc;
    size_t consumed;
    size_t body_off; /* body.data - in */
    size_t body_len;
} split_result;

/* The framing rules, written out independently of librpb. */
static split_result model(const uint8_t *in, size_t len, uint32_t cap)
{
    split_result r = {RPB_NEED_MORE, 0, 0, 0};
    if (len == 0)
        return r;
    if (in[0] != 0x01) {
        r.rc = RPB_ERR_FRAMING_VERSION;
        return r;
    }
    if (len < 5)
        return r;
    uint32_t n = (uint32_t)in[1] | (uint32_t)in[2] << 8 | (uint32_t)in[3] << 16 |
                 (uint32_t)in[4] << 24;
    if (n > cap) {
        r.rc = RPB_ERR_FRAME_TOO_LARGE;
        return r;
    }
    if (len - 5 < n)
        return r;
    r.rc = RPB_OK;
    r.consumed = 5 + (size_t)n;
    r.body_off = 5;
    r.body_len = n;
    return r;
}

static split_result run_split(const uint8_t *in, size_t len, uint32_t cap)
{
    split_result r = {0, 0, 0, 0};
    rpb_slice body = {NULL, 0};
    rpb_errinfo err = {.offset = 99, .field = 99};
    r.rc = rpb_frame_split(in, len, cap, &body, &r.consumed, &err);
    if (r.rc == RPB_OK) {
        FZ_CHECK(body.data >= in && body.data <= in + len, "body outside the input");
        r.body_off = (size_t)(body.data - in);
        r.body_len = body.len;
    } else {
        r.consumed = 0;
    }
    if (r.rc == RPB_ERR_FRAMING_VERSION)
        FZ_CHECK(err.code == r.rc && err.offset == 0, "framing-version reported at offset %zu",
                 err.offset);
    if (r.rc == RPB_ERR_FRAME_TOO_LARGE)
        FZ_CHECK(err.code == r.rc && err.offset == 1, "frame-too-large reported at offset %zu",
                 err.offset);
    return r;
}

static void expect_same(split_result got, split_result want, const char *what, size_t len,
                        uint32_t cap)
{
    FZ_CHECK(got.rc == want.rc, "%s: %zu bytes, cap %u: %s, expected %s", what, len, cap,
             rpb_errname(got.rc), rpb_errname(want.rc));
    FZ_CHECK(got.consumed == want.consumed && got.body_off == want.body_off &&
                 got.body_len == want.body_len,
             "%s: %zu bytes, cap %u: consumed %zu body %zu+%zu, expected %zu body %zu+%zu", what,
             len, cap, got.consumed, got.body_off, got.body_len, want.consumed, want.body_off,
             want.body_len);
}

/* Feeds in[0..len) in chunks; returns the whole-stream result. */
static split_result check_one_frame(const uint8_t *in, size_t len, uint32_t cap, fz_rng *rng)
{
    split_result whole = run_split(in, len, cap);
    expect_same(whole, model(in, len, cap), "whole stream vs model", len, cap);

    size_t have = 0;
    while (have < len) {
        /* Mostly small chunks (header bytes one by one), now and then a big one. */
        size_t left = len - have;
        size_t step = fz_rng_below(rng, 4) == 0 ? 1 + fz_rng_below(rng, left)
                                                 : 1 + fz_rng_below(rng, left < 7 ? left : 7);
        have += step;

        uint8_t *copy = malloc(have);
        if (!copy)
            fz_fail("out of memory");
        memcpy(copy, in, have);
        split_result part = run_split(copy, have, cap);
        free(copy);

        expect_same(part, model(in, have, cap), "prefix vs model", have, cap);
        if (part.rc != RPB_NEED_MORE) {
            expect_same(part, whole, "first decision vs whole stream", have, cap);
            break;
        }
    }
    return whole;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t caps[] = {RPB_MAX_FRAME_BYTES, RPB_MAX_HELLO_BYTES, 1024, 0};
    fz_rng rng;
    fz_rng_seed(&rng, data, size);

    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        size_t pos = 0;
        while (pos < size) {
            split_result r = check_one_frame(data + pos, size - pos, caps[c], &rng);
            if (r.rc != RPB_OK)
                break;
            FZ_CHECK(r.consumed >= 5 && r.body_len <= caps[c], "frame of %zu bytes under cap %u",
                     r.body_len, caps[c]);
            pos += r.consumed;
        }
    }
    return 0;
}
