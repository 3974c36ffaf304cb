/*
 * mem.c - librpb's allocator hook (rpb/mem.h): the C library's functions by
 * default, a caller's rpb_mem after rpb_mem_set().
 */
#include <stdlib.h>

#include "rpb/mem.h"

#include "mem.h"

static void *libc_malloc(size_t size, void *user_data)
{
    (void)user_data;
    return malloc(size);
}

static void libc_free(void *ptr, void *user_data)
{
    (void)user_data;
    free(ptr);
}

static void *libc_calloc(size_t nmemb, size_t size, void *user_data)
{
    (void)user_data;
    return calloc(nmemb, size);
}

static void *libc_realloc(void *ptr, size_t size, void *user_data)
{
    (void)user_data;
    return realloc(ptr, size);
}

#define LIBC_MEM {NULL, libc_malloc, libc_free, libc_calloc, libc_realloc}
static const rpb_mem libc_mem = LIBC_MEM;
static rpb_mem current = LIBC_MEM;

void rpb_mem_set(const rpb_mem *mem)
{
    current = mem ? *mem : libc_mem;
}

const rpb_mem *rpb_mem_get(void)
{
    return &current;
}

void *rpb_mem_malloc(size_t size)
{
    return current.malloc(size, current.user_data);
}

void *rpb_mem_calloc(size_t nmemb, size_t size)
{
    return current.calloc(nmemb, size, current.user_data);
}

void *rpb_mem_realloc(void *ptr, size_t size)
{
    return current.realloc(ptr, size, current.user_data);
}

void rpb_mem_free(void *ptr)
{
    current.free(ptr, current.user_data);
}
