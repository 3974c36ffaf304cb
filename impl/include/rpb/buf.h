/*
 * rpb/buf.h - rpb_buf, the growable byte buffer that librpb's writers
 * append to (the JSON writer, the admin responder, the fd reader).
 * I/O-free.  Not thread-safe: one buffer per thread.
 */
#ifndef RPB_BUF_H
#define RPB_BUF_H

#include "rpb/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A growable byte buffer owned by the caller: data[0..len) is the content,
 * cap the allocated size.  {0} is an empty buffer; free with rpb_buf_free(). */
typedef struct rpb_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} rpb_buf;

/* Makes room for at least extra more bytes after len (the capacity at
 * least doubles when it grows, so appending is amortised O(1)).  Returns
 * RPB_OK or RPB_ERR_NO_MEMORY (buf unchanged). */
RPB_API int rpb_buf_reserve(rpb_buf *buf, size_t extra);

/* Appends data[0..n): RPB_OK or RPB_ERR_NO_MEMORY (buf unchanged). */
RPB_API int rpb_buf_append(rpb_buf *buf, const void *data, size_t n);

/* Frees the memory and leaves an empty buffer. */
RPB_API void rpb_buf_free(rpb_buf *buf);

#ifdef __cplusplus
}
#endif
#endif
