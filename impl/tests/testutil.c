/*
 * testutil.c - helpers shared by the CUnit programs in impl/tests/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rpb/json.h"
#include "testutil.h"

uint8_t *tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex), digits = 0;
    char *packed = malloc(n + 1);
    uint8_t *out = malloc(n / 2 + 1);
    if (!packed || !out)
        abort();
    for (const char *p = hex; *p; p++)
        if (*p != ' ' && *p != '\n')
            packed[digits++] = *p;
    if (rpb_hex_decode(packed, digits, out, n / 2 + 1, len) != RPB_OK) {
        fprintf(stderr, "tu_hex: bad hex input \"%s\"\n", hex);
        abort();
    }
    free(packed);
    return out;
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t guarded_span(size_t len)
{
    size_t pg = page_size();
    return ((len + pg - 1) / pg + 1) * pg;
}

uint8_t *tu_guarded_copy(const uint8_t *data, size_t len)
{
    size_t pg = page_size();
    size_t span = guarded_span(len);
    uint8_t *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        abort();
    if (mprotect(base + span - pg, pg, PROT_NONE) != 0)
        abort();
    uint8_t *p = base + span - pg - len;
    if (len)
        memcpy(p, data, len);
    return p;
}

void tu_guarded_free(uint8_t *p, size_t len)
{
    size_t pg = page_size();
    size_t span = guarded_span(len);
    munmap(p + len + pg - span, span);
}

int tu_run(const char *suite_name, const tu_test *tests)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    for (const tu_test *t = tests; suite && t->name; t++)
        CU_add_test(suite, t->name, t->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
