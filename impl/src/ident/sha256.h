/*
 * SHA-256 (FIPS 180-4), librpb's own: the digest of executables in process
 * identities (spec/probe.md IDENT-003, IDENT-016).  Internal to librpb;
 * rpb_sha256_file() (rpb/ident.h) is the public entry.
 */
#ifndef RPB_IDENT_SHA256_H
#define RPB_IDENT_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPB_SHA256_BLOCK_BYTES 64

typedef struct rpb_sha256_ctx {
    uint32_t state[8];
    uint64_t total;                        /* bytes hashed so far */
    uint8_t block[RPB_SHA256_BLOCK_BYTES]; /* a partial block */
    size_t filled;                         /* bytes in block */
    /* the blocks go through the CPU's SHA instructions (x86 SHA
     * extensions); rpb_sha256_init() sets it when the CPU has them, and a
     * caller may clear it to use the portable code (the tests compare both) */
    bool shani;
} rpb_sha256_ctx;

void rpb_sha256_init(rpb_sha256_ctx *ctx);
void rpb_sha256_update(rpb_sha256_ctx *ctx, const void *data, size_t len);
/* Pads, writes the 32-byte digest to out; ctx is spent. */
void rpb_sha256_final(rpb_sha256_ctx *ctx, uint8_t out[32]);

#endif
