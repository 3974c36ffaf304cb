/*
 * expect.h - expected-failure lists, with the protobuf conformance runner's
 * rules: one case id per line, an optional "# reason" after it, blank and
 * comment-only lines ignored.  A listed case that passes, a listed case
 * that is skipped, or an unlisted case that fails, is an unexpected result,
 * so a list cannot go stale silently.  An entry naming no case is an error.
 */
#ifndef CONFORM_EXPECT_H
#define CONFORM_EXPECT_H

#include <stddef.h>

#include "sbuf.h"

typedef struct expect_entry {
    char *id;
    char *reason; /* "" when none */
    int line;
    int used;     /* matched a selected case */
} expect_entry;

typedef struct expect_list {
    expect_entry *v;
    size_t n;
} expect_list;

/* Parses path.  Returns 0, or -1 with a message in err (unreadable file,
 * malformed line, an id listed twice, or an id that is not a case). */
int expect_load(expect_list *l, const char *path, sbuf *err);

/* The entry for id, or NULL. */
expect_entry *expect_find(expect_list *l, const char *id);

void expect_free(expect_list *l);

#endif
