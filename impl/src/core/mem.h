/*
 * mem.h - librpb-internal: the allocation functions every module of librpb
 * calls instead of the C library's, routed through the rpb_mem of
 * rpb_mem_set() (rpb/mem.h).
 */
#ifndef RPB_CORE_MEM_H
#define RPB_CORE_MEM_H

#include <stddef.h>

void *rpb_mem_malloc(size_t size);
void *rpb_mem_calloc(size_t nmemb, size_t size);
void *rpb_mem_realloc(void *ptr, size_t size);
void rpb_mem_free(void *ptr);

#endif
