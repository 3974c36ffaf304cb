/*
 * json_dom.c - memory of a parsed JSON document and DOM queries.
 */
#include <stdalign.h>
#include <string.h>

#include "json_internal.h"
#include "../core/mem.h"

/* The doc's memory: a list of bump-allocated chunks. */
struct rpb_json_chunk {
    struct rpb_json_chunk *next;
    size_t cap;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

#define CHUNK_BYTES 65536u

void *rpb_json_doc_alloc(rpb_json_doc *doc, size_t size)
{
    const size_t align = alignof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    struct rpb_json_chunk *c = doc->chunks;
    if (c == NULL || c->cap - c->used < size) {
        size_t cap = size > CHUNK_BYTES ? size : CHUNK_BYTES;
        struct rpb_json_chunk *n = rpb_mem_malloc(sizeof *n + cap);
        if (n == NULL)
            return NULL;
        n->cap = cap;
        n->used = 0;
        /* A dedicated oversized chunk goes behind the current one so the
         * current chunk's free space stays usable. */
        if (c != NULL && cap > CHUNK_BYTES) {
            n->next = c->next;
            c->next = n;
        } else {
            n->next = c;
            doc->chunks = n;
        }
        c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

void rpb_json_doc_free(rpb_json_doc *doc)
{
    struct rpb_json_chunk *c = doc->chunks;
    while (c != NULL) {
        struct rpb_json_chunk *next = c->next;
        rpb_mem_free(c);
        c = next;
    }
    doc->chunks = NULL;
    doc->root = NULL;
}

const rpb_json_value *rpb_json_member(const rpb_json_value *obj, rpb_slice key)
{
    const rpb_json_value *found = NULL;
    for (const rpb_json_value *m = obj->u.children.head; m != NULL; m = m->next)
        if (rpb_slice_eq(m->key, key))
            found = m;
    return found;
}

const rpb_json_value *rpb_json_get(const rpb_json_value *obj, const char *key)
{
    if (obj == NULL || obj->type != RPB_JSON_OBJECT)
        return NULL;
    return rpb_json_member(obj, rpb_slice_cstr(key));
}

bool rpb_json_as_u64(const rpb_json_value *v, uint64_t *out)
{
    if (v == NULL || v->type != RPB_JSON_INTEGER || v->u.integer.negative)
        return false;
    *out = v->u.integer.magnitude;
    return true;
}

bool rpb_json_as_i64(const rpb_json_value *v, int64_t *out)
{
    if (v == NULL || v->type != RPB_JSON_INTEGER)
        return false;
    uint64_t m = v->u.integer.magnitude;
    if (v->u.integer.negative) {
        if (m > (uint64_t)INT64_MAX + 1u)
            return false;
        *out = m == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)m;
    }
    return true;
}

bool rpb_json_is_string(const rpb_json_value *v, const char *s)
{
    return v != NULL && v->type == RPB_JSON_STRING && rpb_slice_eq_cstr(v->u.string, s);
}

/* True when every effective member of a has an equal member in b. */
static bool object_covers(const rpb_json_value *a, const rpb_json_value *b)
{
    for (const rpb_json_value *m = a->u.children.head; m != NULL; m = m->next) {
        if (rpb_json_member(a, m->key) != m)
            continue; /* shadowed by a later duplicate */
        const rpb_json_value *o = rpb_json_member(b, m->key);
        if (o == NULL || !rpb_json_equal(m, o))
            return false;
    }
    return true;
}

bool rpb_json_equal(const rpb_json_value *a, const rpb_json_value *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case RPB_JSON_NULL:
        return true;
    case RPB_JSON_BOOL:
        return a->u.boolean == b->u.boolean;
    case RPB_JSON_INTEGER:
        return a->u.integer.negative == b->u.integer.negative &&
               a->u.integer.magnitude == b->u.integer.magnitude;
    case RPB_JSON_REAL:
        return a->u.real == b->u.real;
    case RPB_JSON_STRING:
        return rpb_slice_eq(a->u.string, b->u.string);
    case RPB_JSON_ARRAY: {
        if (a->u.children.count != b->u.children.count)
            return false;
        const rpb_json_value *x = a->u.children.head, *y = b->u.children.head;
        for (; x != NULL && y != NULL; x = x->next, y = y->next)
            if (!rpb_json_equal(x, y))
                return false;
        return true;
    }
    case RPB_JSON_OBJECT:
        return object_covers(a, b) && object_covers(b, a);
    }
    return false;
}
