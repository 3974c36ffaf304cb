/*
 * BLAKE3, hash mode only (rpb/blake3.h), from the BLAKE3 specification:
 * the input is cut into 1024-byte chunks of sixteen 64-byte blocks; each
 * chunk is compressed into a chaining value; chaining values are merged
 * pairwise into a binary tree (left subtrees always hold a power of two
 * chunks); the root node is compressed once more per 64 output bytes with
 * an output block counter, which gives the extendable output.
 */
#include "rpb/blake3.h"

#include <string.h>

enum {
    BLOCK_LEN = 64,
    CHUNK_LEN = 1024,
    /* A tree over at most 2^64 bytes has at most 2^54 chunks: 54 pending
     * left subtrees. */
    MAX_DEPTH = 54,
};

/* Domain-separation flags of the compression function (spec §2.1). */
enum {
    CHUNK_START = 1u << 0,
    CHUNK_END = 1u << 1,
    PARENT = 1u << 2,
    ROOT = 1u << 3,
};

/* The initialisation vector is SHA-256's; in hash mode it is also the key. */
static const uint32_t IV[8] = {
    0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
    0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u,
};

/* The message word permutation applied between rounds (spec §2.2). */
static const uint8_t PERMUTATION[16] = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};

static uint32_t rotr32(uint32_t w, unsigned n) { return (w >> n) | (w << (32 - n)); }

static uint32_t load32_le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t w)
{
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
}

/* The quarter-round G mixing two message words into four state words. */
static void g(uint32_t s[16], int a, int b, int c, int d, uint32_t mx, uint32_t my)
{
    s[a] = s[a] + s[b] + mx;
    s[d] = rotr32(s[d] ^ s[a], 16);
    s[c] = s[c] + s[d];
    s[b] = rotr32(s[b] ^ s[c], 12);
    s[a] = s[a] + s[b] + my;
    s[d] = rotr32(s[d] ^ s[a], 8);
    s[c] = s[c] + s[d];
    s[b] = rotr32(s[b] ^ s[c], 7);
}

static void round_fn(uint32_t s[16], const uint32_t m[16])
{
    /* columns */
    g(s, 0, 4, 8, 12, m[0], m[1]);
    g(s, 1, 5, 9, 13, m[2], m[3]);
    g(s, 2, 6, 10, 14, m[4], m[5]);
    g(s, 3, 7, 11, 15, m[6], m[7]);
    /* diagonals */
    g(s, 0, 5, 10, 15, m[8], m[9]);
    g(s, 1, 6, 11, 12, m[10], m[11]);
    g(s, 2, 7, 8, 13, m[12], m[13]);
    g(s, 3, 4, 9, 14, m[14], m[15]);
}

/* The compression function: 16 output words from a chaining value, one
 * block, the 64-bit counter, the block's length and the flags. */
static void compress(const uint32_t cv[8], const uint8_t block[BLOCK_LEN], uint64_t counter,
                     uint32_t block_len, uint32_t flags, uint32_t out[16])
{
    uint32_t m[16], s[16];
    for (int i = 0; i < 16; i++)
        m[i] = load32_le(block + 4 * i);
    memcpy(s, cv, 8 * sizeof s[0]);
    memcpy(s + 8, IV, 4 * sizeof s[0]);
    s[12] = (uint32_t)counter;
    s[13] = (uint32_t)(counter >> 32);
    s[14] = block_len;
    s[15] = flags;
    for (int r = 0; r < 7; r++) {
        round_fn(s, m);
        if (r == 6)
            break;
        uint32_t p[16];
        for (int i = 0; i < 16; i++)
            p[i] = m[PERMUTATION[i]];
        memcpy(m, p, sizeof m);
    }
    for (int i = 0; i < 8; i++) {
        out[i] = s[i] ^ s[i + 8];
        out[i + 8] = s[i + 8] ^ cv[i];
    }
}

/* A node not yet compressed: what the last compression of a chunk or a
 * parent takes.  Its first 8 output words are the node's chaining value;
 * compressed with ROOT and successive counters, it is the hash output. */
struct node {
    uint32_t cv[8];
    uint8_t block[BLOCK_LEN];
    uint64_t counter;
    uint32_t block_len;
    uint32_t flags;
};

static void node_cv(const struct node *n, uint32_t cv[8])
{
    uint32_t out[16];
    compress(n->cv, n->block, n->counter, n->block_len, n->flags, out);
    memcpy(cv, out, 8 * sizeof cv[0]);
}

/* All blocks of one chunk but the last are compressed here; the last one
 * (which holds 1..64 bytes, or 0 for the empty input) is left in *n. */
static void chunk_node(const uint8_t *in, size_t len, uint64_t chunk_index, struct node *n)
{
    uint32_t cv[8];
    memcpy(cv, IV, sizeof cv);
    uint32_t start = CHUNK_START;
    while (len > BLOCK_LEN) {
        uint32_t out[16];
        compress(cv, in, chunk_index, BLOCK_LEN, start, out);
        memcpy(cv, out, sizeof cv);
        start = 0;
        in += BLOCK_LEN;
        len -= BLOCK_LEN;
    }
    memcpy(n->cv, cv, sizeof cv);
    memset(n->block, 0, sizeof n->block);
    if (len > 0)
        memcpy(n->block, in, len);
    n->counter = chunk_index;
    n->block_len = (uint32_t)len;
    n->flags = start | CHUNK_END;
}

static void parent_node(const uint32_t left[8], const uint32_t right[8], struct node *n)
{
    memcpy(n->cv, IV, sizeof n->cv);
    for (int i = 0; i < 8; i++) {
        store32_le(n->block + 4 * i, left[i]);
        store32_le(n->block + 32 + 4 * i, right[i]);
    }
    n->counter = 0;
    n->block_len = BLOCK_LEN;
    n->flags = PARENT;
}

void rpb_blake3(const void *in, size_t in_len, uint8_t *out, size_t out_len)
{
    const uint8_t *p = in;
    /* Chaining values of complete left subtrees, largest first.  After
     * chunk k (1-based) is pushed, the stack holds one entry per set bit
     * of k: merge while the chunk count is even. */
    uint32_t stack[MAX_DEPTH][8];
    size_t depth = 0;
    uint64_t chunk_index = 0;
    struct node n;

    /* Every chunk but the last goes into the tree now; the last one stays
     * a node, because the root flag is only known at the end. */
    while (in_len > CHUNK_LEN) {
        chunk_node(p, CHUNK_LEN, chunk_index, &n);
        uint32_t cv[8];
        node_cv(&n, cv);
        chunk_index++;
        for (uint64_t total = chunk_index; (total & 1) == 0; total >>= 1) {
            struct node parent;
            parent_node(stack[--depth], cv, &parent);
            node_cv(&parent, cv);
        }
        memcpy(stack[depth++], cv, sizeof cv);
        p += CHUNK_LEN;
        in_len -= CHUNK_LEN;
    }
    chunk_node(p, in_len, chunk_index, &n);

    /* Fold the pending left subtrees into the right edge, smallest first. */
    while (depth > 0) {
        uint32_t right[8];
        node_cv(&n, right);
        parent_node(stack[--depth], right, &n);
    }

    /* The root: one compression per 64 output bytes, counter = block index. */
    for (uint64_t block = 0; out_len > 0; block++) {
        uint32_t words[16];
        uint8_t bytes[BLOCK_LEN];
        compress(n.cv, n.block, block, n.block_len, n.flags | ROOT, words);
        for (int i = 0; i < 16; i++)
            store32_le(bytes + 4 * i, words[i]);
        size_t take = out_len < BLOCK_LEN ? out_len : BLOCK_LEN;
        memcpy(out, bytes, take);
        out += take;
        out_len -= take;
    }
}
