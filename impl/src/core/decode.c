/*
 * decode.c - the descriptor-driven protobuf decoder with prost 0.14
 * accept/reject parity (spec/wire.md WIRE-001..WIRE-017).
 *
 * Like prost, every read is bounded by the end of the whole input, and a
 * nested message or map entry is checked to end exactly at its declared
 * length after its fields were read (WIRE-011).  The recursion budget
 * starts at RPB_RECURSION_LIMIT and is spent by nested messages, map
 * entries and skipped groups (WIRE-016).
 */
#include <string.h>

#include "rpb/codec.h"

#include "decode.h"
#include "fields.h"
#include "wire_inline.h"

enum wire_type {
    WT_VARINT = 0,
    WT_FIXED64 = 1,
    WT_LEN = 2,
    WT_START_GROUP = 3,
    WT_END_GROUP = 4,
    WT_FIXED32 = 5,
};

typedef struct decoder {
    const uint8_t *in;
    size_t end; /* length of the whole input */
    rpb_arena *arena;
    unsigned options;
    rpb_errinfo *err;
} decoder;

static int fail(decoder *d, int code, size_t offset, uint32_t field)
{
    rpb_errinfo_set(d->err, code, offset);
    if (d->err)
        d->err->field = field;
    return code;
}

/* The per-key and per-field primitives are inlined into every caller
 * (gcc keeps them out of line otherwise, at a third of the decode time). */
#define PER_FIELD static inline __attribute__((always_inline))

PER_FIELD int read_varint(decoder *d, size_t *pos, uint64_t *value, uint32_t field)
{
    if (!varint_get(d->in, d->end, pos, value))
        return fail(d, RPB_ERR_INVALID_VARINT, *pos, field);
    return RPB_OK;
}

/* WIRE-002, WIRE-004, WIRE-003, in prost's order. */
PER_FIELD int read_key(decoder *d, size_t *pos, uint32_t *number, unsigned *wt)
{
    size_t start = *pos;
    uint64_t key;
    int rc = read_varint(d, pos, &key, 0);
    if (rc != RPB_OK)
        return rc;
    if (key > UINT32_MAX)
        return fail(d, RPB_ERR_INVALID_KEY, start, 0);
    *wt = (unsigned)(key & 7);
    if (*wt > WT_FIXED32)
        return fail(d, RPB_ERR_INVALID_WIRE_TYPE, start, (uint32_t)(key >> 3));
    *number = (uint32_t)(key >> 3);
    if (*number == 0)
        return fail(d, RPB_ERR_INVALID_TAG, start, 0);
    return RPB_OK;
}

/* Reads a length prefix and checks it against the rest of the input
 * (WIRE-010); *pos is left at the first byte of the value. */
PER_FIELD int read_length(decoder *d, size_t *pos, size_t *len, uint32_t field)
{
    size_t start = *pos;
    uint64_t n;
    int rc = read_varint(d, pos, &n, field);
    if (rc != RPB_OK)
        return rc;
    if (n > d->end - *pos)
        return fail(d, RPB_ERR_BUFFER_UNDERFLOW, start, field);
    *len = (size_t)n;
    return RPB_OK;
}

/* WIRE-014, WIRE-015: validates and skips one unknown field whose key was
 * just read. */
static int skip_field(decoder *d, size_t *pos, unsigned wt, uint32_t number, int budget)
{
    size_t start = *pos;
    size_t len;
    uint64_t ignored;
    int rc;

    if (budget == 0)
        return fail(d, RPB_ERR_RECURSION_LIMIT, start, number);
    switch (wt) {
    case WT_VARINT:
        return read_varint(d, pos, &ignored, number);
    case WT_FIXED64:
    case WT_FIXED32:
        len = wt == WT_FIXED64 ? 8 : 4;
        if (d->end - *pos < len)
            return fail(d, RPB_ERR_BUFFER_UNDERFLOW, start, number);
        *pos += len;
        return RPB_OK;
    case WT_LEN:
        rc = read_length(d, pos, &len, number);
        if (rc == RPB_OK)
            *pos += len;
        return rc;
    case WT_START_GROUP:
        for (;;) {
            size_t key_at = *pos;
            uint32_t inner;
            unsigned inner_wt;
            rc = read_key(d, pos, &inner, &inner_wt);
            if (rc != RPB_OK)
                return rc;
            if (inner_wt == WT_END_GROUP) {
                if (inner != number)
                    return fail(d, RPB_ERR_GROUP_MISMATCH, key_at, inner);
                return RPB_OK;
            }
            rc = skip_field(d, pos, inner_wt, inner, budget - 1);
            if (rc != RPB_OK)
                return rc;
        }
    default: /* WT_END_GROUP without a start */
        return fail(d, RPB_ERR_GROUP_MISMATCH, start, number);
    }
}

static const rpb_field_desc *find_field(const rpb_msg_desc *desc, uint32_t number)
{
    if (number <= desc->n_fields && desc->fields[number - 1].number == number)
        return &desc->fields[number - 1];
    for (size_t i = 0; i < desc->n_fields; i++)
        if (desc->fields[i].number == number)
            return &desc->fields[i];
    return NULL;
}

static int decode_fields(decoder *d, const rpb_msg_desc *desc, void *msg, size_t *pos,
                         size_t limit, int budget);

/* Reads a length-delimited string or bytes value; strings must be strict
 * UTF-8 (WIRE-012). */
PER_FIELD int read_bytes(decoder *d, size_t *pos, rpb_slice *out, bool is_string, uint32_t field)
{
    size_t len;
    int rc = read_length(d, pos, &len, field);
    if (rc != RPB_OK)
        return rc;
    if (is_string && !rpb_utf8_valid(d->in + *pos, len))
        return fail(d, RPB_ERR_INVALID_UTF8, *pos, field);
    out->data = d->in + *pos;
    out->len = len;
    *pos += len;
    return RPB_OK;
}

typedef struct map_entry {
    rpb_slice key;
    rpb_slice value;
} map_entry;

static int decode_map_entry_fields(decoder *d, map_entry *entry, size_t *pos, size_t limit,
                                   int budget, uint32_t field)
{
    while (*pos < limit) {
        uint32_t number;
        unsigned wt;
        size_t key_at = *pos;
        int rc = read_key(d, pos, &number, &wt);
        if (rc != RPB_OK)
            return rc;
        if (number == 1 || number == 2) {
            if (wt != WT_LEN)
                return fail(d, RPB_ERR_WIRE_TYPE_MISMATCH, key_at, field);
            rc = read_bytes(d, pos, number == 1 ? &entry->key : &entry->value, true, field);
        } else {
            rc = skip_field(d, pos, wt, number, budget);
        }
        if (rc != RPB_OK)
            return rc;
    }
    return RPB_OK;
}

/* Enters a length-delimited region (a nested message, or a map entry when
 * desc is NULL) and checks it ends on its boundary (WIRE-011). */
static int decode_region(decoder *d, const rpb_msg_desc *desc, void *msg, map_entry *entry,
                         size_t *pos, int budget, uint32_t field)
{
    size_t start = *pos;
    size_t len;
    int rc;

    if (budget == 0)
        return fail(d, RPB_ERR_RECURSION_LIMIT, start, field);
    rc = read_length(d, pos, &len, field);
    if (rc != RPB_OK)
        return rc;
    size_t limit = *pos + len;
    if (desc)
        rc = decode_fields(d, desc, msg, pos, limit, budget - 1);
    else
        rc = decode_map_entry_fields(d, entry, pos, limit, budget - 1, field);
    if (rc != RPB_OK)
        return rc;
    if (*pos != limit)
        return fail(d, RPB_ERR_DELIMITED_OVERRUN, start, field);
    return RPB_OK;
}

static int decode_field(decoder *d, const rpb_field_desc *f, void *msg, unsigned wt,
                        size_t key_at, size_t *pos, int budget)
{
    uint8_t *slot = (uint8_t *)msg + f->offset;
    uint64_t v;
    int rc;

    /* WIRE-008, with the map exception of WIRE-009. */
    unsigned expected = (f->type <= RPB_FT_BOOL) ? WT_VARINT : WT_LEN;
    bool lenient_map = f->type == RPB_FT_STRING_MAP &&
                       !(d->options & RPB_DECODE_STRICT_MAP_WIRE_TYPE);
    if (wt != expected && !lenient_map)
        return fail(d, RPB_ERR_WIRE_TYPE_MISMATCH, key_at, f->number);

    if (f->flags & RPB_FIELD_PRESENCE)
        *(bool *)((uint8_t *)msg + f->presence_offset) = true;

    switch ((enum rpb_field_type)f->type) {
    case RPB_FT_UINT32:
    case RPB_FT_UINT64:
    case RPB_FT_ENUM:
    case RPB_FT_BOOL:
        rc = read_varint(d, pos, &v, f->number);
        if (rc != RPB_OK)
            return rc;
        /* WIRE-006: narrowing keeps the low 32 bits; bool is "not zero". */
        if (f->type == RPB_FT_UINT32)
            *(uint32_t *)slot = (uint32_t)v;
        else if (f->type == RPB_FT_UINT64)
            *(uint64_t *)slot = v;
        else if (f->type == RPB_FT_ENUM)
            *(int32_t *)slot = (int32_t)(uint32_t)v; /* WIRE-007: open */
        else
            *(bool *)slot = v != 0;
        return RPB_OK;
    case RPB_FT_STRING:
    case RPB_FT_BYTES: /* WIRE-013: last occurrence wins */
        return read_bytes(d, pos, (rpb_slice *)slot, f->type == RPB_FT_STRING, f->number);
    case RPB_FT_STRING_LIST: {
        rpb_slice s;
        rc = read_bytes(d, pos, &s, true, f->number);
        if (rc != RPB_OK)
            return rc;
        rc = rpb_strlist_append((rpb_strlist *)slot, d->arena, s);
        return rc == RPB_OK ? rc : fail(d, rc, key_at, f->number);
    }
    case RPB_FT_STRING_MAP: {
        map_entry entry = {{NULL, 0}, {NULL, 0}};
        rc = decode_region(d, NULL, NULL, &entry, pos, budget, f->number);
        if (rc != RPB_OK)
            return rc;
        rc = rpb_map_append((rpb_map *)slot, d->arena, entry.key, entry.value);
        return rc == RPB_OK ? rc : fail(d, rc, key_at, f->number);
    }
    case RPB_FT_MESSAGE:
        /* WIRE-013: a message seen again merges into the first (the
         * oneof arm switch is handled by decode_fields). */
        return decode_region(d, f->message, slot, NULL, pos, budget, f->number);
    }
    return fail(d, RPB_ERR_INVALID_ARGUMENT, key_at, f->number);
}

/* Reads one field (key and value) of desc at *pos into msg. */
static int decode_one(decoder *d, const rpb_msg_desc *desc, void *msg, size_t *pos, int budget)
{
    size_t key_at = *pos;
    uint32_t number;
    unsigned wt;
    int rc = read_key(d, pos, &number, &wt);
    if (rc != RPB_OK)
        return rc;
    const rpb_field_desc *f = find_field(desc, number);
    if (!f)
        return skip_field(d, pos, wt, number, budget);
    /* WIRE-013: the same oneof arm merges, another arm replaces. */
    if ((f->flags & RPB_FIELD_ONEOF) && wt == WT_LEN) {
        uint32_t *which = (uint32_t *)((uint8_t *)msg + desc->oneof_case_offset);
        if (*which != f->number) {
            rpb_msg_init(f->message, (uint8_t *)msg + f->offset);
            *which = f->number;
        }
    }
    return decode_field(d, f, msg, wt, key_at, pos, budget);
}

static int decode_fields(decoder *d, const rpb_msg_desc *desc, void *msg, size_t *pos,
                         size_t limit, int budget)
{
    while (*pos < limit) {
        int rc = decode_one(d, desc, msg, pos, budget);
        if (rc != RPB_OK)
            return rc;
    }
    return RPB_OK;
}

/* ---- the Frame, straight-line ----
 *
 * Every frame read is a Frame, so it gets a decoder of its own, expanded
 * from its field list (fields.h): a field whose one-byte key carries its
 * expected wire type is read in place (with the generic path's primitives
 * and errors); any other key (unknown field, other wire type, longer
 * key) goes through decode_one(), so the result and every error are
 * rpb_decode()'s (the frame fuzz target compares the two). */

#define KEY(n, wt) ((n) << 3 | (wt))
#define FAST_VARINT(n, m, f, CAST)                   \
    case KEY(n, WT_VARINT):                          \
        at++;                                        \
        rc = read_varint(d, &at, &v, n);             \
        if (rc != RPB_OK)                            \
            return rc;                               \
        m->f = CAST v; /* WIRE-006, WIRE-007 */      \
        break;
#define FAST_U32(n, m, f) FAST_VARINT(n, m, f, (uint32_t))
#define FAST_U64(n, m, f) FAST_VARINT(n, m, f, (uint64_t))
#define FAST_ENUM(n, m, f) FAST_VARINT(n, m, f, (int32_t)(uint32_t))
#define FAST_LEN(n, m, f, is_string)                 \
    case KEY(n, WT_LEN):                             \
        at++;                                        \
        rc = read_bytes(d, &at, &m->f, is_string, n); \
        if (rc != RPB_OK)                            \
            return rc;                               \
        break;
#define FAST_STRING(n, m, f) FAST_LEN(n, m, f, true)
#define FAST_BYTES(n, m, f) FAST_LEN(n, m, f, false)
#define FAST_CASE(S, KIND, n, f, x) FAST_##KIND(n, m, f)
#define ZERO_FIELD(S, KIND, n, f, x) m->f = (__typeof__(m->f)){0};

/* The decoder and the position are locals whose addresses only the
 * generic path gets, as copies: they stay in registers. */
int rpb_frame_body_decode(const uint8_t *in, size_t len, rpb_frame *m, rpb_errinfo *err)
{
    decoder dec = {in, len, NULL, 0, err}, *d = &dec;
    RPB_FRAME_FIELDS(ZERO_FIELD, _) /* rpb_msg_init(), as stores */
    size_t at = 0;
    while (at < len) {
        uint64_t v;
        int rc;
        switch (in[at]) {
            RPB_FRAME_FIELDS(FAST_CASE, _)
        default: {
            decoder generic = dec;
            size_t pos = at;
            rc = decode_one(&generic, &rpb_frame_desc, m, &pos, RPB_RECURSION_LIMIT);
            if (rc != RPB_OK)
                return rc;
            at = pos;
        }
        }
    }
    if (err)
        rpb_errinfo_set(err, RPB_OK, at);
    return RPB_OK;
}

void rpb_msg_init(const rpb_msg_desc *desc, void *msg)
{
    memset(msg, 0, desc->size);
}

/* WIRE-001: an empty input is the all-default message. */
int rpb_decode(const rpb_msg_desc *desc, const uint8_t *in, size_t len, void *msg,
               rpb_arena *arena, unsigned options, rpb_errinfo *err)
{
    decoder d = {in, len, arena, options, err};
    if (!desc || !msg || (!in && len))
        return fail(&d, RPB_ERR_INVALID_ARGUMENT, 0, 0);
    size_t pos = 0;
    int rc = decode_fields(&d, desc, msg, &pos, len, RPB_RECURSION_LIMIT);
    if (rc == RPB_OK)
        rpb_errinfo_set(err, RPB_OK, pos);
    return rc;
}
