/* sbuf.c - growable buffers (see sbuf.h). */
#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpb/json.h>

static void sb_reserve(sbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        fputs("rpb-conform: out of memory\n", stderr);
        exit(2);
    }
    b->data = p;
    b->cap = cap;
}

void sb_free(sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sb_reset(sbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void sb_put(sbuf *b, const void *data, size_t len)
{
    sb_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

void sb_putc(sbuf *b, uint8_t byte)
{
    sb_put(b, &byte, 1);
}

void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

void sb_fill(sbuf *b, uint8_t byte, size_t count)
{
    sb_reserve(b, count);
    memset(b->data + b->len, byte, count);
    b->len += count;
    b->data[b->len] = 0;
}

void sb_vprintf(sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    sb_reserve(b, (size_t)n);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *sb_str(const sbuf *b)
{
    return b->data ? (const char *)b->data : "";
}

void sb_hex(sbuf *b, const uint8_t *data, size_t len)
{
    sb_reserve(b, 2 * len);
    /* writes the terminating NUL too, in the byte sb_reserve keeps for it */
    rpb_hex_encode(data, len, (char *)b->data + b->len);
    b->len += 2 * len;
}

void sb_quoted(sbuf *b, const uint8_t *s, size_t len, size_t max)
{
    sb_putc(b, '"');
    size_t n = len < max ? len : max;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (ch == '"' || ch == '\\')
            sb_printf(b, "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            sb_putc(b, ch);
        else
            sb_printf(b, "\\x%02x", ch);
    }
    sb_putc(b, '"');
    if (len > max)
        sb_printf(b, "... (%zu bytes)", len);
}
