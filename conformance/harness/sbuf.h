/*
 * sbuf.h - growable byte and text buffer of the conformance harness.
 *
 * Every string and stimulus the harness builds lives in an sbuf.  Allocation
 * failure aborts the harness (exit 2): a conformance run that silently loses
 * a stimulus or a failure line would report wrong results.
 */
#ifndef CONFORM_SBUF_H
#define CONFORM_SBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sbuf {
    uint8_t *data; /* NUL-terminated after every append (not counted in len) */
    size_t len;
    size_t cap;
} sbuf;

#define SBUF_INIT {NULL, 0, 0}

void sb_free(sbuf *b);
void sb_reset(sbuf *b);
void sb_put(sbuf *b, const void *data, size_t len);
void sb_putc(sbuf *b, uint8_t byte);
void sb_puts(sbuf *b, const char *s);
void sb_fill(sbuf *b, uint8_t byte, size_t count);
__attribute__((format(printf, 2, 3))) void sb_printf(sbuf *b, const char *fmt, ...);
void sb_vprintf(sbuf *b, const char *fmt, va_list ap);
/* The contents as a C string ("" when empty). */
const char *sb_str(const sbuf *b);

/* Appends data as lowercase hex with no separators. */
void sb_hex(sbuf *b, const uint8_t *data, size_t len);
/* Appends s[0..len) as a printable, quoted C-like literal ("a\x00b"),
 * at most max bytes of it followed by "..." when longer. */
void sb_quoted(sbuf *b, const uint8_t *s, size_t len, size_t max);

#endif
