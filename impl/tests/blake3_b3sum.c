/*
 * blake3_b3sum - cross-checks rpb_blake3 against Debian's b3sum command
 * (the Rust reference crate) on random inputs whose lengths sit on and
 * around the block (64), chunk (1024) and tree (2^k chunks) boundaries, up
 * to 1 MiB + 1, with default and extended output lengths.
 *
 * Exit status: 0 every input agrees; 1 a mismatch or a failure to run
 * b3sum; 77 (ctest SKIP_RETURN_CODE) b3sum is not installed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "rpb/blake3.h"

#define SKIP 77

static const size_t LENGTHS[] = {
    0, 1, 2, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 2047, 2048, 2049,
    3072, 3073, 4095, 4096, 4097, 5120, 7168, 8191, 8192, 8193, 16384, 31744,
    65535, 65536, 65537, 102400, 1048575, 1048576, 1048577,
};
static const size_t OUT_LENGTHS[] = {32, 1, 65, 131};

static int b3sum_present(void)
{
    return system("b3sum --version >/dev/null 2>&1") == 0;
}

/* Hex of b3sum --length out_len over path, into want (2*out_len+1). */
static int run_b3sum(const char *path, size_t out_len, char *want, size_t want_size)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "b3sum --no-names --length %zu %s", out_len, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fgets(want, (int)want_size, p) != NULL;
    int status = pclose(p);
    if (!ok || status != 0)
        return -1;
    want[strcspn(want, "\n")] = '\0';
    return 0;
}

static int fill_random(uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "usage: %s\n(compares rpb_blake3 with b3sum; exit 0 ok, 1 mismatch, 77 no b3sum)\n",
                argv[0]);
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (!b3sum_present()) {
        printf("SKIP: b3sum is not installed (Debian package b3sum; tools/install-deps installs it)\n");
        return SKIP;
    }
    char path[] = "/tmp/rpb-b3sum-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    size_t max = LENGTHS[sizeof LENGTHS / sizeof LENGTHS[0] - 1];
    uint8_t *buf = malloc(max);
    int failures = 0, checks = 0;
    for (size_t i = 0; buf && i < sizeof LENGTHS / sizeof LENGTHS[0]; i++) {
        size_t len = LENGTHS[i];
        if (fill_random(buf, len) != 0 || ftruncate(fd, 0) != 0 || pwrite(fd, buf, len, 0) != (ssize_t)len) {
            perror("writing the input");
            failures++;
            break;
        }
        for (size_t j = 0; j < sizeof OUT_LENGTHS / sizeof OUT_LENGTHS[0]; j++) {
            size_t out_len = OUT_LENGTHS[j];
            uint8_t out[131];
            char got[2 * 131 + 1], want[2 * 131 + 2];
            rpb_blake3(buf, len, out, out_len);
            for (size_t k = 0; k < out_len; k++)
                sprintf(got + 2 * k, "%02x", out[k]);
            if (run_b3sum(path, out_len, want, sizeof want) != 0) {
                fprintf(stderr, "b3sum failed on a %zu-byte input\n", len);
                failures++;
                continue;
            }
            checks++;
            if (strcmp(got, want) != 0) {
                printf("MISMATCH input %zu bytes, output %zu bytes:\n  rpb   %s\n  b3sum %s\n", len, out_len,
                       got, want);
                failures++;
            }
        }
    }
    if (!buf) {
        fprintf(stderr, "out of memory\n");
        failures++;
    }
    free(buf);
    close(fd);
    unlink(path);
    printf("%d inputs x outputs compared with b3sum, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
