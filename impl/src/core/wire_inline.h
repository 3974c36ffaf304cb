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
#include <string.h>

/* Bytes of the varint encoding of v: 1 for v < 2^7, up to 10. */
static inline size_t varint_size(uint64_t v)
{
    if (v < 0x80) /* the common case, without a bit scan */
        return 1;
    /* bit length b, then ceil(b / 7) = (b * 9 + 64) / 64 */
    unsigned bits = 64 - (unsigned)__builtin_clzll(v);
    return (bits * 9 + 64) / 64;
}

/* The low 56 bits of v as eight 7-bit groups, one per byte, least
 * significant first, every continuation bit set: the first 8 bytes of a
 * varint of 9 or 10 bytes. */
static inline uint64_t varint_low8(uint64_t v)
{
#define GROUP(i) ((v << (i)) & (UINT64_C(0x7f) << (8 * (i))))
    return GROUP(0) | GROUP(1) | GROUP(2) | GROUP(3) | GROUP(4) | GROUP(5) | GROUP(6) |
           GROUP(7) | UINT64_C(0x8080808080808080);
#undef GROUP
}

/* Writes v at p (room for varint_size(v) bytes) a byte at a time, up to
 * three bytes (payload protocols, lengths up to 2 MiB) without the loop;
 * returns the byte after.  For values known to be short: lengths, uint32
 * fields. */
static inline uint8_t *varint_put_bytewise(uint8_t *p, uint64_t v)
{
    if (v < 0x80) {
        p[0] = (uint8_t)v;
        return p + 1;
    }
    if (v < 0x4000) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7);
        return p + 2;
    }
    if (v < 0x200000) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7 | 0x80);
        p[2] = (uint8_t)(v >> 14);
        return p + 3;
    }
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Writes v at p (room for varint_size(v) bytes); returns the byte after.
 * A value of 2^56 or more (9 or 10 bytes: a set top bit, a negative enum)
 * goes out as one 8-byte store and one or two bytes rather than a loop of
 * ten. */
static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
    if (v >= UINT64_C(1) << 56) {
        uint64_t low = varint_low8(v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        low = __builtin_bswap64(low); /* the first group goes first */
#endif
        memcpy(p, &low, 8);
        p += 8;
        v >>= 56;
    }
    return varint_put_bytewise(p, v);
}

/* WIRE-005: reads a varint from in[*pos..len): at most 10 bytes, the 10th
 * only 0x00 or 0x01, cut off by the end of the input is invalid; overlong
 * encodings that terminate (80 00) are accepted.  Returns false when
 * invalid (then *pos and *value are unchanged). */
static inline bool varint_get(const uint8_t *in, size_t len, size_t *pos, uint64_t *value)
{
    size_t p = *pos;
    if (p >= len)
        return false;
    if (in[p] < 0x80) { /* one byte: tags, small numbers, short lengths */
        *value = in[p];
        *pos = p + 1;
        return true;
    }
    /* Two and three bytes (payload protocols, lengths up to 2 MiB) without
     * the loop. */
    if (len - p >= 2 && in[p + 1] < 0x80) {
        *value = (uint64_t)(in[p] & 0x7f) | (uint64_t)in[p + 1] << 7;
        *pos = p + 2;
        return true;
    }
    if (len - p >= 3 && in[p + 2] < 0x80) { /* in[p + 1] >= 0x80 */
        *value = (uint64_t)(in[p] & 0x7f) | (uint64_t)(in[p + 1] & 0x7f) << 7 |
                 (uint64_t)in[p + 2] << 14;
        *pos = p + 3;
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
