/*
 * testutil.h - helpers shared by the CUnit programs in impl/tests/.
 */
#ifndef RPB_TESTUTIL_H
#define RPB_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/Basic.h>

/* Parses hex (spaces allowed) into a malloc'd buffer; aborts on bad input. */
uint8_t *tu_hex(const char *hex, size_t *len);

/* Copies data to the very end of a read/write page that is followed by a
 * PROT_NONE page, so any read past len faults at once (the picohttpparser
 * trick).  Release with tu_guarded_free(). */
uint8_t *tu_guarded_copy(const uint8_t *data, size_t len);
void tu_guarded_free(uint8_t *p, size_t len);

/* One suite: its name and NULL-terminated tests. */
typedef struct tu_test {
    const char *name;
    void (*fn)(void);
} tu_test;

/* Registers the suites, runs them in verbose mode, prints CUnit's summary
 * and returns the process exit code (0 only when every assertion passed). */
int tu_run(const char *suite_name, const tu_test *tests);

#endif
