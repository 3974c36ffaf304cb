/* conform.c - per-case result recording (see conform.h). */
#include "conform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void add_line(sbuf *b, const char *fmt, va_list ap)
{
    if (b->len)
        sb_putc(b, '\n');
    sb_vprintf(b, fmt, ap);
}

/* A failure or note refers to the connection whose reply came last. */
static void cite_last(cctx *c)
{
    if (c->r->last)
        c->r->last->cited = true;
}

void c_fail(cctx *c, const char *fmt, ...)
{
    cite_last(c);
    va_list ap;
    va_start(ap, fmt);
    add_line(&c->r->failures, fmt, ap);
    va_end(ap);
}

void c_note(cctx *c, const char *fmt, ...)
{
    cite_last(c);
    va_list ap;
    va_start(ap, fmt);
    add_line(&c->r->notes, fmt, ap);
    va_end(ap);
}

void c_skip(cctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_line(&c->r->skip, fmt, ap);
    va_end(ap);
}

bool c_failed(const cctx *c)
{
    return c->r->failures.len != 0;
}

void c_record_next(cctx *c)
{
    c->r->record_next = true;
}

exchange *c_new_exchange(cctx *c, const char *label)
{
    cresult *r = c->r;
    if (r->n_ex == r->cap_ex) {
        size_t cap = r->cap_ex ? 2 * r->cap_ex : 8;
        exchange **v = realloc(r->ex, cap * sizeof *v);
        if (!v)
            abort();
        r->ex = v;
        r->cap_ex = cap;
    }
    exchange *x = calloc(1, sizeof *x);
    if (!x)
        abort();
    x->n = ++r->n_connections;
    x->cited = r->record_next;
    r->record_next = false;
    snprintf(x->label, sizeof x->label, "%s", label);
    snprintf(x->end, sizeof x->end, "open");
    r->ex[r->n_ex++] = x;
    return x;
}

static void exchange_free(exchange *x)
{
    sb_free(&x->sent);
    sb_free(&x->recv);
    sb_free(&x->expect_bytes);
    sb_free(&x->expect_text);
    free(x);
}

void cresult_prune(cresult *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n_ex; i++) {
        exchange *x = r->ex[i];
        if (x->n <= CASE_FIRST_EXCHANGES || x->cited)
            r->ex[kept++] = x;
        else
            exchange_free(x);
    }
    r->n_ex = kept;
    r->last = NULL;
}

void cresult_free(cresult *r)
{
    sb_free(&r->failures);
    sb_free(&r->notes);
    sb_free(&r->skip);
    for (size_t i = 0; i < r->n_ex; i++)
        exchange_free(r->ex[i]);
    free(r->ex);
    r->ex = NULL;
    r->n_ex = r->cap_ex = 0;
}

const char *role_name(enum role r)
{
    return r == ROLE_BACKEND ? "backend" : "broker";
}
