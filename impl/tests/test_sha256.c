/*
 * test_sha256.c - librpb's SHA-256 (impl/src/ident/sha256.c, internal:
 * this program includes its header and links the static librpb):
 * FIPS 180-4's example digests, and coreutils' sha256sum on inputs of
 * every length around the padding boundaries, of many blocks, and fed in
 * pieces of odd sizes.  The portable rounds are checked in every run; the
 * x86 SHA instructions by the entry "sha-instructions", registered alone,
 * which reports a skip on a CPU without them.
 *
 * usage: test_sha256 [sha-instructions]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "sha256.h"
#include "testutil.h"

/* Whether the blocks go through the SHA instructions (the entry
 * "sha-instructions") or the portable rounds. */
static bool use_shani;

/* The digest of data[0..len) as 64 lowercase hex digits, fed in pieces
 * of piece bytes (0: at once). */
static void digest_hex(const uint8_t *data, size_t len, size_t piece, char hex[65])
{
    rpb_sha256_ctx ctx;
    rpb_sha256_init(&ctx);
    ctx.shani = use_shani;
    for (size_t off = 0; off < len;) {
        size_t n = piece == 0 || piece > len - off ? len - off : piece;
        rpb_sha256_update(&ctx, data + off, n);
        off += n;
    }
    uint8_t out[32];
    rpb_sha256_final(&ctx, out);
    rpb_hex_encode(out, sizeof out, hex);
}

static uint8_t buf[1000000];

/* IDENT-016: FIPS 180-4's examples: the empty message, one block, two
 * blocks, a million 'a'. */
static void test_fips_examples(void)
{
    static const struct { const char *text; size_t repeat; const char *hex; } fips[] = {
        {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };
    for (size_t i = 0; i < sizeof fips / sizeof fips[0]; i++) {
        size_t n = strlen(fips[i].text), len = n * fips[i].repeat;
        for (size_t k = 0; k < fips[i].repeat; k++)
            memcpy(buf + k * n, fips[i].text, n);
        char hex[65];
        digest_hex(buf, len, 0, hex);
        CU_ASSERT_STRING_EQUAL(hex, fips[i].hex);
    }
}

/* IDENT-016: pseudo-random inputs of lengths around every padding
 * boundary and of many blocks, at once and in 7-byte pieces, against
 * sha256sum. */
static void test_against_sha256sum(void)
{
    uint32_t x = 0x9e3779b9u; /* xorshift: the same inputs in every run */
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    static const size_t lens[] = {1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 4095, 65536, 65537,
                                  999999};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        char path[] = "/tmp/rpb-test-sha-XXXXXX";
        int fd = mkstemp(path);
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_FATAL(write(fd, buf, lens[i]) == (ssize_t)lens[i]);
        close(fd);
        char cmd[64], want[65] = "";
        snprintf(cmd, sizeof cmd, "sha256sum %s", path);
        FILE *p = popen(cmd, "r");
        CU_ASSERT_FATAL(p != NULL);
        CU_ASSERT(fscanf(p, "%64s", want) == 1);
        pclose(p);
        char hex[65];
        digest_hex(buf, lens[i], 0, hex);
        CU_ASSERT_STRING_EQUAL(hex, want);
        digest_hex(buf, lens[i], 7, hex);
        CU_ASSERT_STRING_EQUAL(hex, want);
        uint8_t sha[32]; /* whichever rounds this CPU gets */
        CU_ASSERT_EQUAL(rpb_sha256_file(path, sha), RPB_OK);
        rpb_hex_encode(sha, sizeof sha, hex);
        CU_ASSERT_STRING_EQUAL(hex, want);
        unlink(path);
    }
}

/* Both checks through the x86 SHA instructions; a skip without them. */
static void test_sha_instructions(void)
{
    rpb_sha256_ctx probe;
    rpb_sha256_init(&probe);
    if (!probe.shani) {
        tu_skip("this CPU has no x86 SHA instructions (or is not x86)");
        return;
    }
    use_shani = true;
    test_fips_examples();
    test_against_sha256sum();
}

int main(int argc, char **argv)
{
    static const tu_test tests[] = {
        {"FIPS 180-4 examples, portable rounds (IDENT-016)", test_fips_examples},
        {"against sha256sum, portable rounds (IDENT-016)", test_against_sha256sum},
        {NULL, NULL},
    };
    /* its id is a ctest entry of CMakeLists.txt */
    static const tu_alone alone[] = {
        {"sha-instructions", "FIPS 180-4 examples and sha256sum, SHA instructions (IDENT-016)",
         test_sha_instructions},
        {NULL, NULL, NULL},
    };
    return tu_run_only("sha256", tests, alone, argc > 1 ? argv[1] : NULL);
}
