/*
 * vectors.h - internals of rpb-vectors, the CUnit replay runner of the
 * golden vectors in vectors/ (format: vectors/README.md).
 */
#ifndef RPB_VECTORS_H
#define RPB_VECTORS_H

#include <stdbool.h>

#include <CUnit/CUnit.h>

#include "rpb/rpb.h"
#include "rpb/json.h"

/* One test of a vector file, with its group. */
typedef struct vec_test {
    const char *file;             /* file name, for messages */
    rpb_json_doc *doc;            /* the parsed file, owner of group and test */
    const char *id;               /* the test's "id" */
    const char *problem;          /* a problem of the file's format instead of a test */
    const rpb_json_value *group;  /* the group object */
    const rpb_json_value *test;   /* the test object */
    CU_pTest cu;                  /* its CUnit test */
    unsigned failures;            /* failed checks */
    bool ran;
} vec_test;

/* Runs every check of t, reporting failures through vec_fail(). */
void vec_run(vec_test *t);

/* Records a failed check of t as a CUnit assertion failure whose text
 * starts with the test id. */
void vec_fail(vec_test *t, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prints per-check details when --verbose is given. */
extern bool vec_verbose;

#endif
