/*
 * SHA-256 from FIPS 180-4 §4.1.2, §5.1.1, §6.2: 64-byte blocks, each
 * expanded into a 64-word message schedule and mixed into eight 32-bit
 * state words in 64 rounds; the message is padded with 0x80, zeros and its
 * bit length as a big-endian 64-bit number.  Written for librpb so that no
 * process needs a cryptographic library loaded to state its identity
 * (IDENT-003): loading and initialising one cost more than the hash.
 * Where the CPU has the x86 SHA extensions the blocks go through them
 * (about ten times faster than the portable rounds), else through the
 * portable C of FIPS 180-4 §6.2.2.
 */
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define RPB_SHA256_X86 1
#endif

/* The first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes (§4.2.2). */
static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u,
    0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u,
    0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu,
    0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u,
    0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u,
    0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u,
    0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* The first 32 bits of the fractional parts of the square roots of the
 * first 8 primes (§5.3.3). */
static const uint32_t H0[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* §6.2.2: one block into the state. */
static void compress_block(uint32_t state[8], const uint8_t *block)
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a, state[1] += b, state[2] += c, state[3] += d;
    state[4] += e, state[5] += f, state[6] += g, state[7] += h;
}

#ifdef RPB_SHA256_X86
/* CPUID: SSSE3 and SSE4.1 (leaf 1, ECX bits 9 and 19) and SHA (leaf 7,
 * EBX bit 29). */
static bool cpuid_has_sha(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
        return false;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
}

/* cpuid_has_sha(), asked once per process: under a hypervisor CPUID traps,
 * and the pair costs about 5 us, more than hashing 4 KiB.  Threads racing on
 * the first call store the same answer. */
static bool cpu_has_sha(void)
{
    static int known; /* 0 not asked yet, 1 no, 2 yes */
    int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (v == 0) {
        v = cpuid_has_sha() ? 2 : 1;
        __atomic_store_n(&known, v, __ATOMIC_RELAXED);
    }
    return v == 2;
}

/* The same rounds with the SHA instructions.  They keep the state as two
 * vectors, ABEF and CDGH; each SHA256RNDS2 does two rounds, and
 * SHA256MSG1/MSG2 extend the message schedule four words at a time:
 * W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16]. */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_shani(uint32_t state[8], const uint8_t *p,
                                                                        size_t blocks)
{
    const __m128i be = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1);
    __m128i cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B);
    __m128i abef = _mm_alignr_epi8(dcba, cdgh, 8);
    cdgh = _mm_blend_epi16(cdgh, dcba, 0xF0);
    for (; blocks > 0; blocks--, p += RPB_SHA256_BLOCK_BYTES) {
        __m128i abef0 = abef, cdgh0 = cdgh, w[4];
        for (int g = 0; g < 16; g++) { /* rounds 4g .. 4g+3 */
            if (g < 4)
                w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), be);
            else
                w[g % 4] = _mm_sha256msg2_epu32(
                    _mm_add_epi32(_mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]),
                                  _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4)),
                    w[(g + 3) % 4]);
            __m128i wk = _mm_add_epi32(w[g % 4], _mm_loadu_si128((const __m128i *)&K[4 * g]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}
#endif

/* blocks whole blocks at p into ctx's state. */
static void compress(rpb_sha256_ctx *ctx, const uint8_t *p, size_t blocks)
{
#ifdef RPB_SHA256_X86
    if (ctx->shani) {
        compress_shani(ctx->state, p, blocks);
        return;
    }
#endif
    for (; blocks > 0; blocks--, p += RPB_SHA256_BLOCK_BYTES)
        compress_block(ctx->state, p);
}

void rpb_sha256_init(rpb_sha256_ctx *ctx)
{
    memcpy(ctx->state, H0, sizeof H0);
    ctx->total = 0;
    ctx->filled = 0;
#ifdef RPB_SHA256_X86
    ctx->shani = cpu_has_sha();
#else
    ctx->shani = false;
#endif
}

void rpb_sha256_update(rpb_sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    ctx->total += len;
    if (ctx->filled > 0) {
        size_t take = RPB_SHA256_BLOCK_BYTES - ctx->filled;
        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->filled, p, take);
        ctx->filled += take;
        p += take;
        len -= take;
        if (ctx->filled < RPB_SHA256_BLOCK_BYTES)
            return;
        compress(ctx, ctx->block, 1);
        ctx->filled = 0;
    }
    size_t blocks = len / RPB_SHA256_BLOCK_BYTES;
    compress(ctx, p, blocks);
    p += blocks * RPB_SHA256_BLOCK_BYTES;
    len -= blocks * RPB_SHA256_BLOCK_BYTES;
    if (len > 0)
        memcpy(ctx->block, p, len);
    ctx->filled = len;
}

void rpb_sha256_final(rpb_sha256_ctx *ctx, uint8_t out[32])
{
    /* §5.1.1: 0x80, zeros up to 56 mod 64, the length in bits */
    uint64_t bits = ctx->total * 8;
    ctx->block[ctx->filled++] = 0x80;
    if (ctx->filled > RPB_SHA256_BLOCK_BYTES - 8) {
        memset(ctx->block + ctx->filled, 0, RPB_SHA256_BLOCK_BYTES - ctx->filled);
        compress(ctx, ctx->block, 1);
        ctx->filled = 0;
    }
    memset(ctx->block + ctx->filled, 0, RPB_SHA256_BLOCK_BYTES - 8 - ctx->filled);
    store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
    store_be32(ctx->block + 60, (uint32_t)bits);
    compress(ctx, ctx->block, 1);
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, ctx->state[i]);
}
