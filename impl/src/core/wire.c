/*
 * wire.c - protobuf wire primitives (varints, strict UTF-8), slices, the
 * caller-owned arena and the list/map containers built on it.
 */
#include <string.h>

#include "rpb/codec.h"

#include "wire_inline.h"

int rpb_varint_read(const uint8_t *in, size_t len, size_t *pos, uint64_t *value)
{
    return varint_get(in, len, pos, value) ? RPB_OK : RPB_ERR_INVALID_VARINT;
}

size_t rpb_varint_write(uint8_t *out, uint64_t value)
{
    return (size_t)(varint_put(out, value) - out);
}

size_t rpb_varint_len(uint64_t value)
{
    return varint_size(value);
}

/* WIRE-012: well-formed UTF-8 as Unicode defines it (and Rust's
 * str::from_utf8 checks it): no overlong forms, no surrogates, nothing above
 * U+10FFFF, no truncated sequence.  NUL is a valid character. */
bool rpb_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0)
                lo = 0xA0; /* overlong below U+0800 */
            else if (b == 0xED)
                hi = 0x9F; /* surrogates U+D800..U+DFFF */
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0)
                lo = 0x90; /* overlong below U+10000 */
            else if (b == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return false; /* 80..C1 (continuation or overlong lead), F5..FF */
        }
        if (len - i - 1 < need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

rpb_slice rpb_slice_cstr(const char *s)
{
    rpb_slice r = {(const uint8_t *)s, s ? strlen(s) : 0};
    return r;
}

bool rpb_slice_eq(rpb_slice a, rpb_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

bool rpb_slice_eq_cstr(rpb_slice a, const char *s)
{
    return rpb_slice_eq(a, rpb_slice_cstr(s));
}

void rpb_arena_init(rpb_arena *arena, void *mem, size_t cap)
{
    arena->mem = mem;
    arena->cap = mem ? cap : 0;
    arena->used = 0;
}

/* Every list element or map entry costs at least 2 input bytes (tag and
 * length), so n input bytes make at most n/2 nodes, plus alignment slack. */
size_t rpb_arena_bound(size_t input_len)
{
    return (input_len / 2 + 1) * (sizeof(rpb_map_node) + _Alignof(max_align_t));
}

static void *arena_alloc(rpb_arena *arena, size_t size)
{
    if (!arena || !arena->mem)
        return NULL;
    size_t align = _Alignof(max_align_t);
    uintptr_t base = (uintptr_t)arena->mem;
    size_t start = ((base + arena->used + align - 1) & ~(uintptr_t)(align - 1)) - base;
    if (start > arena->cap || arena->cap - start < size)
        return NULL;
    arena->used = start + size;
    return arena->mem + start;
}

int rpb_strlist_append(rpb_strlist *list, rpb_arena *arena, rpb_slice value)
{
    rpb_str_node *node = arena_alloc(arena, sizeof *node);
    if (!node)
        return RPB_ERR_SCRATCH_EXHAUSTED;
    node->value = value;
    node->next = NULL;
    if (list->tail)
        list->tail->next = node;
    else
        list->head = node;
    list->tail = node;
    list->count++;
    return RPB_OK;
}

int rpb_map_append(rpb_map *map, rpb_arena *arena, rpb_slice key, rpb_slice value)
{
    rpb_map_node *node = arena_alloc(arena, sizeof *node);
    if (!node)
        return RPB_ERR_SCRATCH_EXHAUSTED;
    node->key = key;
    node->value = value;
    node->next = NULL;
    if (map->tail)
        map->tail->next = node;
    else
        map->head = node;
    map->tail = node;
    map->count++;
    return RPB_OK;
}

/* WIRE-013: a repeated map key replaces the earlier value. */
const rpb_slice *rpb_map_get(const rpb_map *map, rpb_slice key)
{
    const rpb_slice *found = NULL;
    for (const rpb_map_node *n = map->head; n; n = n->next)
        if (rpb_slice_eq(n->key, key))
            found = &n->value;
    return found;
}

bool rpb_map_node_is_effective(const rpb_map_node *node)
{
    for (const rpb_map_node *n = node->next; n; n = n->next)
        if (rpb_slice_eq(n->key, node->key))
            return false;
    return true;
}

const char *rpb_enum_name(const rpb_enum_desc *e, int32_t value)
{
    for (size_t i = 0; i < e->n_values; i++)
        if (e->values[i].number == value)
            return e->values[i].name;
    return NULL;
}

bool rpb_enum_value_of(const rpb_enum_desc *e, const char *name, size_t name_len, int32_t *value)
{
    for (size_t i = 0; i < e->n_values; i++) {
        const char *n = e->values[i].name;
        if (strlen(n) == name_len && memcmp(n, name, name_len) == 0) {
            *value = e->values[i].number;
            return true;
        }
    }
    return false;
}

const rpb_field_desc *rpb_field_by_name(const rpb_msg_desc *desc, const char *name, size_t name_len)
{
    for (size_t i = 0; i < desc->n_fields; i++) {
        const char *n = desc->fields[i].name;
        if (strlen(n) == name_len && memcmp(n, name, name_len) == 0)
            return &desc->fields[i];
    }
    return NULL;
}
