/*
 * rpb/blake3.h - the BLAKE3 hash, as far as canonical names need it: the
 * unkeyed hash of one byte string, with the default 32-byte output or any
 * longer or shorter extendable output.
 *
 * Written from the BLAKE3 specification (Aumasson, Neves, O'Connor,
 * Wilcox-O'Hearn, 2020); keyed hashing, key derivation and incremental
 * input are left out because nothing in rpb uses them.  Portable C, no SIMD:
 * names hash a few dozen bytes.
 */
#ifndef RPB_BLAKE3_H
#define RPB_BLAKE3_H

#include "rpb/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_BLAKE3_OUT_LEN 32 /* the default output length, in bytes */

/* Write the first out_len bytes of BLAKE3(in[0..in_len)) to out.  Any
 * out_len is valid (0 writes nothing); a shorter output is a prefix of a
 * longer one.  in may be NULL when in_len is 0.  Cannot fail. */
RPB_API void rpb_blake3(const void *in, size_t in_len, uint8_t *out, size_t out_len);

#ifdef __cplusplus
}
#endif

#endif
