/*
 * fuzz_frame_decode - rpb_frame_decode(): framing plus the Frame body
 * decoder (FRAME-*, WIRE-001..WIRE-016) on an arbitrary byte stream.
 *
 * Input: the stream (a framed Frame, possibly followed by more bytes).
 *
 * Oracles:
 *  - composition: the result is rpb_frame_split()'s when that is not ok,
 *    otherwise exactly rpb_decode(Frame) of the body (same code; error
 *    offsets shifted by the 5 header bytes), and consumed is the split's;
 *  - caps: under the 64 KiB Hello cap the result equals the 16 MiB one
 *    except that bodies over 65,536 bytes are frame-too-large (FRAME-004);
 *  - round trip (WIRE-020): a decoded Frame re-encodes canonically
 *    (fz_roundtrip), and rpb_frame_encode() writes the 5-byte header plus
 *    that encoding into exactly its size, into 7 bytes more (a frame below
 *    the floor goes back to front, then moves down) and with room to spare
 *    (the unsized path), refuses a buffer one byte short, and decodes back
 *    to an equal Frame consuming exactly what it wrote.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static void check_reencode(const rpb_frame *frame)
{
    uint8_t *body;
    size_t body_len;
    fz_roundtrip(&rpb_frame_desc, frame, &body, &body_len);

    size_t framed_len = rpb_frame_encoded_len(frame);
    FZ_CHECK(framed_len == RPB_FRAME_HEADER_BYTES + body_len,
             "rpb_frame_encoded_len %zu for a %zu-byte body", framed_len, body_len);
    /* Room for the unsized path: a Frame's bound is at most 11 bytes per
     * field over its content. */
    size_t room = framed_len + 9 * 11;
    uint8_t *out = malloc(room);
    if (!out)
        fz_fail("out of memory");
    size_t written = 0;
    int rc;
    const size_t caps[] = {framed_len, framed_len + 7, room};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        size_t cap = caps[k];
        rc = rpb_frame_encode(frame, out, cap, &written);
        FZ_CHECK(rc == RPB_OK && written == framed_len,
                 "rpb_frame_encode into %zu bytes: %s, wrote %zu of %zu", cap, rpb_errname(rc),
                 written, framed_len);
        FZ_CHECK(out[0] == RPB_FRAMING_VERSION && rpb_frame_header_length(out) == body_len &&
                     memcmp(out + RPB_FRAME_HEADER_BYTES, body, body_len) == 0,
                 "rpb_frame_encode into %zu bytes is not header + rpb_encode(Frame)", cap);
    }
    rc = rpb_frame_encode(frame, out, framed_len - 1, &written);
    FZ_CHECK(rc == RPB_ERR_BUFFER_TOO_SMALL, "rpb_frame_encode one byte short: %s",
             rpb_errname(rc));

    /* rpb_frame_encode() may have scribbled on out when it refused; redo. */
    rc = rpb_frame_encode(frame, out, framed_len, &written);
    FZ_CHECK(rc == RPB_OK, "rpb_frame_encode again: %s", rpb_errname(rc));
    rpb_frame again;
    size_t consumed = 0;
    rc = rpb_frame_decode(out, framed_len, RPB_MAX_FRAME_BYTES, &again, &consumed, NULL);
    FZ_CHECK(rc == RPB_OK && consumed == framed_len,
             "decoding rpb_frame_encode output: %s, consumed %zu of %zu", rpb_errname(rc),
             consumed, framed_len);
    const char *diff = fz_msg_diff(&rpb_frame_desc, frame, &again);
    FZ_CHECK(diff == NULL, "Frame.%s changed through rpb_frame_encode/rpb_frame_decode", diff);
    free(out);
    free(body);
}

/* Decodes data under cap and checks it against split + rpb_decode. */
static int decode_checked(const uint8_t *data, size_t size, uint32_t cap, rpb_frame *frame)
{
    rpb_errinfo err = {0};
    size_t consumed = 0;
    int rc = rpb_frame_decode(data, size, cap, frame, &consumed, &err);

    rpb_slice body = {NULL, 0};
    size_t split_consumed = 0;
    int split_rc = rpb_frame_split(data, size, cap, &body, &split_consumed, NULL);
    if (split_rc != RPB_OK) {
        FZ_CHECK(rc == split_rc, "cap %u: rpb_frame_decode %s but rpb_frame_split %s", cap,
                 rpb_errname(rc), rpb_errname(split_rc));
        return rc;
    }

    rpb_frame direct;
    rpb_errinfo direct_err = {0};
    rpb_msg_init(&rpb_frame_desc, &direct);
    int direct_rc = rpb_decode(&rpb_frame_desc, body.data, body.len, &direct, NULL, 0, &direct_err);
    FZ_CHECK(rc == direct_rc, "cap %u: rpb_frame_decode %s but rpb_decode(body) %s", cap,
             rpb_errname(rc), rpb_errname(direct_rc));
    if (rc != RPB_OK) {
        FZ_CHECK(err.code == rc && err.offset == direct_err.offset + RPB_FRAME_HEADER_BYTES,
                 "cap %u: error offset %zu, body decoder said %zu (+5 expected)", cap, err.offset,
                 direct_err.offset);
        return rc;
    }
    FZ_CHECK(consumed == split_consumed, "consumed %zu, split said %zu", consumed, split_consumed);
    const char *diff = fz_msg_diff(&rpb_frame_desc, frame, &direct);
    FZ_CHECK(diff == NULL, "Frame.%s differs between rpb_frame_decode and rpb_decode", diff);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpb_frame frame, hello_frame;
    int rc = decode_checked(data, size, RPB_MAX_FRAME_BYTES, &frame);
    int hello_rc = decode_checked(data, size, RPB_MAX_HELLO_BYTES, &hello_frame);

    if (size >= RPB_FRAME_HEADER_BYTES && data[0] == RPB_FRAMING_VERSION &&
        rpb_frame_header_length(data) > RPB_MAX_HELLO_BYTES)
        FZ_CHECK(hello_rc == RPB_ERR_FRAME_TOO_LARGE, "body over 64 KiB under the Hello cap: %s",
                 rpb_errname(hello_rc));
    else
        FZ_CHECK(hello_rc == rc, "Hello cap %s, default cap %s", rpb_errname(hello_rc),
                 rpb_errname(rc));

    if (rc == RPB_OK)
        check_reencode(&frame);
    return 0;
}
