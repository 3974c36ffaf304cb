/*
 * test_blake3.c - rpb_blake3 against the official BLAKE3 test vectors
 * (impl/tests/data/blake3_vectors.txt, hash mode, 35 input lengths from 0
 * to 102400 bytes: block, chunk and tree boundaries), each as the 131-byte
 * extended output and as the default 32-byte output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpb/blake3.h"
#include "testutil.h"

#define MAX_OUT 131

static void fill_pattern(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i % 251);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_official_vectors(void)
{
    FILE *f = fopen(RPB_TEST_DATA_DIR "/blake3_vectors.txt", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[512];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        size_t len;
        char want[2 * MAX_OUT + 1];
        CU_ASSERT_FATAL(sscanf(line, "%zu %262s", &len, want) == 2 && strlen(want) == 2 * MAX_OUT);
        uint8_t *in = malloc(len ? len : 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(in);
        fill_pattern(in, len);

        uint8_t out[MAX_OUT];
        char got[2 * MAX_OUT + 1];
        rpb_blake3(in, len, out, MAX_OUT);
        hex(out, MAX_OUT, got);
        if (strcmp(got, want) != 0)
            printf("\n  input_len %zu: extended output differs\n", len);
        CU_ASSERT_STRING_EQUAL(got, want);

        /* the default length is a prefix of the extended output */
        uint8_t out32[RPB_BLAKE3_OUT_LEN];
        rpb_blake3(in, len, out32, sizeof out32);
        CU_ASSERT(memcmp(out32, out, sizeof out32) == 0);
        free(in);
        cases++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(cases, 35);
}

/* Output lengths that end inside, at and past a 64-byte output block give
 * prefixes of one another; 0 writes nothing. */
static void test_output_lengths(void)
{
    static const uint8_t abc[] = {'a', 'b', 'c'};
    uint8_t full[200], part[200];
    rpb_blake3(abc, sizeof abc, full, sizeof full);
    static const size_t lens[] = {1, 8, 31, 32, 33, 63, 64, 65, 128, 129, 200};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(part, 0xEE, sizeof part);
        rpb_blake3(abc, sizeof abc, part, lens[i]);
        CU_ASSERT(memcmp(part, full, lens[i]) == 0);
        if (lens[i] < sizeof part)
            CU_ASSERT_EQUAL(part[lens[i]], 0xEE);
    }
    memset(part, 0xEE, sizeof part);
    rpb_blake3(NULL, 0, part, 0);
    CU_ASSERT_EQUAL(part[0], 0xEE);
}

int main(void)
{
    static const tu_test tests[] = {
        {"official test vectors (hash mode)", test_official_vectors},
        {"output lengths are prefixes", test_output_lengths},
        {NULL, NULL},
    };
    return tu_run("blake3", tests);
}
