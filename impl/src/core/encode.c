/*
 * encode.c - the canonical encoder (spec/wire.md WIRE-020): the exact bytes
 * prost 0.14 writes.  Fields go out in ascending number order; proto3
 * defaults are omitted; optional scalars, message fields and the set oneof
 * arm are written whenever present; list elements get one tag each; a map
 * writes one entry per key and omits a default key or value inside it.
 *
 * One walker serves both rpb_encoded_len() and rpb_encode(): with a NULL
 * output it only counts.  rpb_encode() writes in one pass with bounds
 * checks; only a nested message is counted first, for its length prefix.
 */
#include <string.h>

#include "rpb/codec.h"

typedef struct writer {
    uint8_t *out; /* NULL: count only */
    size_t n;     /* bytes written or counted so far */
    size_t cap;   /* room in out; past it, counting goes on and writing stops */
} writer;

/* True when k more bytes may be written; counts them in either case. */
static bool reserve(writer *w, size_t k)
{
    if (w->out && w->cap - w->n < k)
        w->out = NULL; /* keep counting, stop writing */
    return w->out != NULL;
}

static void put_varint(writer *w, uint64_t v)
{
    if (w->out && w->cap - w->n >= 10) { /* room for any varint: no sizing */
        w->n += rpb_varint_write(w->out + w->n, v);
        return;
    }
    if (reserve(w, rpb_varint_len(v)))
        w->n += rpb_varint_write(w->out + w->n, v);
    else
        w->n += rpb_varint_len(v);
}

static void put_key(writer *w, uint32_t number, unsigned wire_type)
{
    put_varint(w, ((uint64_t)number << 3) | wire_type);
}

static void put_bytes(writer *w, uint32_t number, rpb_slice s)
{
    put_key(w, number, 2);
    put_varint(w, s.len);
    if (reserve(w, s.len) && s.len)
        memcpy(w->out + w->n, s.data, s.len);
    w->n += s.len;
}

static size_t message_len(const rpb_msg_desc *desc, const void *msg);

static void put_message(writer *w, const rpb_msg_desc *desc, const void *msg);

static bool field_present(const rpb_msg_desc *desc, const rpb_field_desc *f, const void *msg)
{
    const uint8_t *base = msg;
    if (f->flags & RPB_FIELD_ONEOF)
        return *(const uint32_t *)(base + desc->oneof_case_offset) == f->number;
    if (f->flags & RPB_FIELD_PRESENCE)
        return *(const bool *)(base + f->presence_offset);
    return false;
}

static void put_field(writer *w, const rpb_msg_desc *desc, const rpb_field_desc *f,
                      const void *msg)
{
    const uint8_t *slot = (const uint8_t *)msg + f->offset;
    bool present = field_present(desc, f, msg);
    uint64_t v;

    switch ((enum rpb_field_type)f->type) {
    case RPB_FT_UINT32:
    case RPB_FT_UINT64:
    case RPB_FT_ENUM:
    case RPB_FT_BOOL:
        if (f->type == RPB_FT_UINT32)
            v = *(const uint32_t *)slot;
        else if (f->type == RPB_FT_UINT64)
            v = *(const uint64_t *)slot;
        else if (f->type == RPB_FT_ENUM)
            v = (uint64_t)(int64_t) * (const int32_t *)slot; /* negative: 10 bytes */
        else
            v = *(const bool *)slot ? 1 : 0;
        if (v != 0 || present) {
            put_key(w, f->number, 0);
            put_varint(w, v);
        }
        return;
    case RPB_FT_STRING:
    case RPB_FT_BYTES:
        if (((const rpb_slice *)slot)->len != 0 || present)
            put_bytes(w, f->number, *(const rpb_slice *)slot);
        return;
    case RPB_FT_STRING_LIST:
        for (const rpb_str_node *n = ((const rpb_strlist *)slot)->head; n; n = n->next)
            put_bytes(w, f->number, n->value);
        return;
    case RPB_FT_STRING_MAP:
        /* A map holds one entry per key: a key that occurs again later is
         * written once, where its last (effective) entry stands.  This
         * costs O(k^2) for k entries; v1 maps hold a handful. */
        for (const rpb_map_node *n = ((const rpb_map *)slot)->head; n; n = n->next) {
            if (!rpb_map_node_is_effective(n))
                continue;
            size_t entry = 0;
            if (n->key.len)
                entry += 1 + rpb_varint_len(n->key.len) + n->key.len;
            if (n->value.len)
                entry += 1 + rpb_varint_len(n->value.len) + n->value.len;
            put_key(w, f->number, 2);
            put_varint(w, entry);
            if (n->key.len)
                put_bytes(w, 1, n->key);
            if (n->value.len)
                put_bytes(w, 2, n->value);
        }
        return;
    case RPB_FT_MESSAGE:
        if (present) {
            put_key(w, f->number, 2);
            put_varint(w, message_len(f->message, slot));
            put_message(w, f->message, slot);
        }
        return;
    }
}

static void put_message(writer *w, const rpb_msg_desc *desc, const void *msg)
{
    for (size_t i = 0; i < desc->n_fields; i++)
        put_field(w, desc, &desc->fields[i], msg);
}

static size_t message_len(const rpb_msg_desc *desc, const void *msg)
{
    writer counter = {NULL, 0, 0};
    put_message(&counter, desc, msg);
    return counter.n;
}

size_t rpb_encoded_len(const rpb_msg_desc *desc, const void *msg)
{
    return message_len(desc, msg);
}

int rpb_encode(const rpb_msg_desc *desc, const void *msg, uint8_t *out, size_t cap,
               size_t *written)
{
    if (!desc || !msg || (!out && cap))
        return RPB_ERR_INVALID_ARGUMENT;
    writer w = {out, 0, cap};
    put_message(&w, desc, msg);
    *written = w.n;
    return w.n > cap ? RPB_ERR_BUFFER_TOO_SMALL : RPB_OK;
}
