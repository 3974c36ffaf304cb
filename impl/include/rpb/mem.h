/*
 * rpb/mem.h - the allocator librpb uses, in the manner of nghttp2's
 * nghttp2_mem.  Every heap allocation librpb makes (decoded messages, JSON
 * documents and buffers, service tables, the rate limiter, the Hello
 * handler, frame buffers of the fd layer, admin replies, the identity
 * sidecar) goes through the four functions of the current rpb_mem; the
 * default is the C library's.
 *
 * Every librpb function that allocates documents RPB_ERR_NO_MEMORY (or a
 * NULL result) for a failed allocation, frees what it had allocated for the
 * call, and leaves the objects it was given usable (impl/tests/test_alloc.c
 * fails each allocation of each such function in turn and checks this).
 */
#ifndef RPB_MEM_H
#define RPB_MEM_H

#include "rpb/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rpb_mem {
    void *user_data; /* passed to every function below */
    void *(*malloc)(size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
    void *(*calloc)(size_t nmemb, size_t size, void *user_data);
    void *(*realloc)(void *ptr, size_t size, void *user_data);
} rpb_mem;

/*
 * Makes a copy of *mem librpb's allocator; NULL restores the C library's.
 * Process-wide: set it before librpb allocates anything that will be freed
 * under the other allocator (a block is freed by the allocator that gave
 * it), and not while another thread is inside librpb.
 */
RPB_API void rpb_mem_set(const rpb_mem *mem);

/* The allocator librpb uses now. */
RPB_API const rpb_mem *rpb_mem_get(void);

#ifdef __cplusplus
}
#endif
#endif
