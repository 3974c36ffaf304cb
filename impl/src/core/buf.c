/*
 * buf.c - rpb_buf growth, the one place librpb grows an output buffer.
 */
#include "rpb/buf.h"

#include <stdlib.h>
#include <string.h>

#include "rpb/error.h"
#include "mem.h"

#define BUF_MIN_CAP 64u

int rpb_buf_reserve(rpb_buf *buf, size_t extra)
{
    if (buf->cap - buf->len >= extra)
        return RPB_OK;
    if (extra > SIZE_MAX - buf->len)
        return RPB_ERR_NO_MEMORY;
    size_t need = buf->len + extra;
    size_t cap = buf->cap <= SIZE_MAX / 2 ? buf->cap * 2 : SIZE_MAX;
    if (cap < need)
        cap = need;
    if (cap < BUF_MIN_CAP)
        cap = BUF_MIN_CAP;
    uint8_t *d = rpb_mem_realloc(buf->data, cap);
    if (d == NULL)
        return RPB_ERR_NO_MEMORY;
    buf->data = d;
    buf->cap = cap;
    return RPB_OK;
}

int rpb_buf_append(rpb_buf *buf, const void *data, size_t n)
{
    int rc = rpb_buf_reserve(buf, n);
    if (rc != RPB_OK)
        return rc;
    if (n > 0)
        memcpy(buf->data + buf->len, data, n);
    buf->len += n;
    return RPB_OK;
}

void rpb_buf_free(rpb_buf *buf)
{
    rpb_mem_free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
