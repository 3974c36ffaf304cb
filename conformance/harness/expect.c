/* expect.c - expected-failure lists (see expect.h). */
#include "expect.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        fputs("rpb-conform: out of memory\n", stderr);
        exit(2);
    }
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static int is_case(const char *id)
{
    size_t n;
    const hcase *cases = case_list(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(cases[i].id, id) == 0)
            return 1;
    return 0;
}

int expect_load(expect_list *l, const char *path, sbuf *err)
{
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "r");
    if (!f) {
        sb_printf(err, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0;
    size_t cap = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            sb_printf(err, "%s:%d: line longer than %zu bytes", path, lineno, sizeof line - 2);
            goto fail;
        }
        char *hash = strchr(line, '#');
        const char *reason = "";
        if (hash) {
            *hash = 0;
            reason = hash + 1;
        }
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (n == 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (isspace((unsigned char)s[i])) {
                sb_printf(err, "%s:%d: one case id per line (a reason goes after '#')", path, lineno);
                goto fail;
            }
        }
        s[n] = 0;
        if (!is_case(s)) {
            sb_printf(err, "%s:%d: no case has the id %s (run --list)", path, lineno, s);
            goto fail;
        }
        if (expect_find(l, s)) {
            sb_printf(err, "%s:%d: %s is listed twice", path, lineno, s);
            goto fail;
        }
        while (isspace((unsigned char)*reason))
            reason++;
        size_t rn = strlen(reason);
        while (rn && isspace((unsigned char)reason[rn - 1]))
            rn--;
        if (l->n == cap) {
            cap = cap ? cap * 2 : 16;
            expect_entry *v = realloc(l->v, cap * sizeof *v);
            if (!v) {
                fputs("rpb-conform: out of memory\n", stderr);
                exit(2);
            }
            l->v = v;
        }
        expect_entry *e = &l->v[l->n++];
        e->id = dup_range(s, n);
        e->reason = dup_range(reason, rn);
        e->line = lineno;
        e->used = 0;
    }
    fclose(f);
    return 0;
fail:
    fclose(f);
    expect_free(l);
    return -1;
}

expect_entry *expect_find(expect_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0)
            return &l->v[i];
    return NULL;
}

void expect_free(expect_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].id);
        free(l->v[i].reason);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}
