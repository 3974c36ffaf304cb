/* conform.c - per-case result recording (see conform.h). */
#include "conform.h"

#include <stdarg.h>

static void add_line(sbuf *b, const char *fmt, va_list ap)
{
    if (b->len)
        sb_putc(b, '\n');
    sb_vprintf(b, fmt, ap);
}

void c_fail(cctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_line(&c->r->failures, fmt, ap);
    va_end(ap);
}

void c_note(cctx *c, const char *fmt, ...)
{
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

void cresult_free(cresult *r)
{
    sb_free(&r->failures);
    sb_free(&r->notes);
    sb_free(&r->skip);
    for (size_t i = 0; i < r->n_ex; i++) {
        sb_free(&r->ex[i].sent);
        sb_free(&r->ex[i].recv);
        sb_free(&r->ex[i].expect_bytes);
        sb_free(&r->ex[i].expect_text);
    }
    r->n_ex = 0;
}
