/*
 * wire_inline.h - librpb-internal: the wire primitives the encoder and
 * decoder use per field, as static inline functions so that they are
 * inlined rather than called (rpb_varint_read(), rpb_varint_write(),
 * rpb_varint_len() and rpb_frame_header_write() are the exported wrappers).
 */
#ifndef RPB_CORE_WIRE_INLINE_H
#define RPB_CORE_WIRE_INLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the varint encoding of v: 1 for v < 2^7, up to 10. */
static inline size_t varint_size(uint64_t v)
{
    /* bit length b (v | 1 makes it >= 1), then ceil(b / 7) = (b * 9 + 64) / 64 */
    unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
    return (bits * 9 + 64) / 64;
}

/* Writes v at p (room for varint_size(v) bytes); returns the byte after. */
static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* WIRE-005: reads a varint from in[*pos..len): at most 10 bytes, the 10th
 * only 0x00 or 0x01, cut off by the end of the input is invalid; overlong
 * encodings that terminate (80 00) are accepted.  Returns false when
 * invalid (then *pos and *value are unchanged). */
static inline bool varint_get(const uint8_t *in, size_t len, size_t *pos, uint64_t *value)
{
    size_t p = *pos;
    if (p < len && in[p] < 0x80) { /* one byte: tags, small numbers, short lengths */
        *value = in[p];
        *pos = p + 1;
        return true;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (p >= len)
            return false;
        uint8_t b = in[p++];
        if (i == 9 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *pos = p;
            *value = v;
            return true;
        }
    }
    return false;
}

/* FRAME-002: the framing byte 0x01, then the body length as u32
 * little-endian; returns the byte after the 5-byte header. */
static inline uint8_t *frame_header_put(uint8_t *p, uint32_t body_len)
{
    p[0] = 0x01;
    p[1] = (uint8_t)body_len;
    p[2] = (uint8_t)(body_len >> 8);
    p[3] = (uint8_t)(body_len >> 16);
    p[4] = (uint8_t)(body_len >> 24);
    return p + 5;
}

#endif
