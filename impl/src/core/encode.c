/*
 * encode.c - the canonical encoder (spec/wire.md WIRE-020): the exact bytes
 * prost 0.14 writes.  Fields go out in ascending number order; proto3
 * defaults are omitted; optional scalars, message fields and the set oneof
 * arm are written whenever present; list elements get one tag each; a map
 * writes one entry per key and omits a default key or value inside it.
 *
 * Every message gets a straight-line sizer and writer generated from its
 * field list (fields.h): constant one-byte tags, inline varints, a local
 * cursor.  The public entry points size the message once, check the
 * caller's capacity once against that exact size, and then write without
 * further checks.  The framed entry points (FRAME-002, FRAME-008) write
 * header, Frame and a payload message in place in one pass.
 */
#include <string.h>

#include "rpb/frame.h"

#include "fields.h"
#include "wire_inline.h"

/* The one-byte key of field n with wire type wt (every v1 field is <= 15). */
#define TAG(n, wt) ((uint8_t)((n) << 3 | (wt)) + 0 * sizeof(char[(n) <= 15 ? 1 : -1]))
#define WT_VARINT 0
#define WT_LEN 2

/* ---- sizes ---- */

static inline size_t varint_field_size(uint64_t v)
{
    return v ? 1 + varint_size(v) : 0;
}

/* A length-delimited field that is always written (list element, message). */
static inline size_t len_field_size(size_t len)
{
    return 1 + varint_size(len) + len;
}

static inline size_t bytes_field_size(size_t len)
{
    return len ? len_field_size(len) : 0;
}

static size_t strlist_size(const rpb_strlist *list)
{
    size_t n = 0;
    for (const rpb_str_node *e = list->head; e; e = e->next)
        n += len_field_size(e->value.len);
    return n;
}

/* A map entry: key (1) and value (2), each omitted when empty. */
static inline size_t map_entry_size(const rpb_map_node *e)
{
    return bytes_field_size(e->key.len) + bytes_field_size(e->value.len);
}

/* A map holds one entry per key: a key that occurs again later is written
 * once, where its last (effective) entry stands (WIRE-013).  O(k^2) for k
 * entries; v1 maps hold a handful. */
static size_t strmap_size(const rpb_map *map)
{
    size_t n = 0;
    for (const rpb_map_node *e = map->head; e; e = e->next)
        if (rpb_map_node_is_effective(e))
            n += len_field_size(map_entry_size(e));
    return n;
}

/* ---- writers: p has room for everything the sizer counted ---- */

static inline uint8_t *put_varint_field(uint8_t *p, uint8_t tag, uint64_t v)
{
    if (!v)
        return p;
    *p++ = tag;
    return varint_put(p, v);
}

/* Copies n bytes; short copies (most v1 strings) without a call. */
static inline void copy_bytes(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n > 16) {
        memcpy(d, s, n);
    } else if (n >= 8) { /* two overlapping 8-byte moves */
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

static inline uint8_t *put_len_field(uint8_t *p, uint8_t tag, rpb_slice s)
{
    *p++ = tag;
    p = varint_put(p, s.len);
    copy_bytes(p, s.data, s.len);
    return p + s.len;
}

static inline uint8_t *put_bytes_field(uint8_t *p, uint8_t tag, rpb_slice s)
{
    return s.len ? put_len_field(p, tag, s) : p;
}

static uint8_t *put_strlist(uint8_t *p, uint8_t tag, const rpb_strlist *list)
{
    for (const rpb_str_node *e = list->head; e; e = e->next)
        p = put_len_field(p, tag, e->value);
    return p;
}

static uint8_t *put_strmap(uint8_t *p, uint8_t tag, const rpb_map *map)
{
    for (const rpb_map_node *e = map->head; e; e = e->next) {
        if (!rpb_map_node_is_effective(e))
            continue;
        *p++ = tag;
        p = varint_put(p, map_entry_size(e));
        p = put_bytes_field(p, TAG(1, WT_LEN), e->key);
        p = put_bytes_field(p, TAG(2, WT_LEN), e->value);
    }
    return p;
}

/* ---- one sizer and one writer per field kind of fields.h ---- */

#define ENUM_VALUE(v) ((uint64_t)(int64_t)(v)) /* negative: 10 bytes */

#define SIZE_U32(n, m, f, x) varint_field_size(m->f)
#define SIZE_U64(n, m, f, x) varint_field_size(m->f)
#define SIZE_ENUM(n, m, f, x) varint_field_size(ENUM_VALUE(m->f))
#define SIZE_BOOL(n, m, f, x) (m->f ? 2u : 0u)
#define SIZE_STRING(n, m, f, x) bytes_field_size(m->f.len)
#define SIZE_BYTES(n, m, f, x) bytes_field_size(m->f.len)
#define SIZE_STRLIST(n, m, f, x) strlist_size(&m->f)
#define SIZE_STRMAP(n, m, f, x) strmap_size(&m->f)
#define SIZE_OPT_U32(n, m, f, x) (m->has_##f ? 1 + varint_size(m->f) : 0)
#define SIZE_OPT_MSG(n, m, f, sub) (m->has_##f ? len_field_size(size_##sub(&m->f)) : 0)
#define SIZE_ONEOF_MSG(n, m, f, sub) (m->result == n ? len_field_size(size_##sub(&m->f)) : 0)
#define SIZE_FIELD(S, KIND, n, f, x) +SIZE_##KIND(n, m, f, x)

#define PUT_U32(n, m, f, x) p = put_varint_field(p, TAG(n, WT_VARINT), m->f);
#define PUT_U64(n, m, f, x) PUT_U32(n, m, f, x)
#define PUT_ENUM(n, m, f, x) p = put_varint_field(p, TAG(n, WT_VARINT), ENUM_VALUE(m->f));
#define PUT_BOOL(n, m, f, x) \
    if (m->f) {              \
        *p++ = TAG(n, WT_VARINT); \
        *p++ = 1;            \
    }
#define PUT_STRING(n, m, f, x) p = put_bytes_field(p, TAG(n, WT_LEN), m->f);
#define PUT_BYTES(n, m, f, x) PUT_STRING(n, m, f, x)
#define PUT_STRLIST(n, m, f, x) p = put_strlist(p, TAG(n, WT_LEN), &m->f);
#define PUT_STRMAP(n, m, f, x) p = put_strmap(p, TAG(n, WT_LEN), &m->f);
#define PUT_OPT_U32(n, m, f, x)       \
    if (m->has_##f) {                 \
        *p++ = TAG(n, WT_VARINT);     \
        p = varint_put(p, m->f);      \
    }
#define PUT_MESSAGE(n, m, f, sub)             \
    {                                         \
        *p++ = TAG(n, WT_LEN);                \
        p = varint_put(p, size_##sub(&m->f)); \
        p = put_##sub(&m->f, p);              \
    }
#define PUT_OPT_MSG(n, m, f, sub) \
    if (m->has_##f)               \
        PUT_MESSAGE(n, m, f, sub)
#define PUT_ONEOF_MSG(n, m, f, sub) \
    if (m->result == n)             \
        PUT_MESSAGE(n, m, f, sub)
#define PUT_FIELD(S, KIND, n, f, x) PUT_##KIND(n, m, f, x)

/* size_<name>() and put_<name>() for the fields LIST of struct S. */
#define SIZER_AND_WRITER(name, S, LIST)        \
    static size_t size_##name(const S *m)      \
    {                                          \
        return 0 LIST(SIZE_FIELD, S);          \
    }                                          \
    static uint8_t *put_##name(const S *m, uint8_t *p) \
    {                                          \
        LIST(PUT_FIELD, S)                     \
        return p;                              \
    }

/* Nested messages call each other's sizers and writers: declare all first. */
#define DECLARE(name, proto_name, LIST, oneof)           \
    static size_t size_##name(const rpb_##name *m);     \
    static uint8_t *put_##name(const rpb_##name *m, uint8_t *p);
RPB_MESSAGES(DECLARE)

/* rpb_<name>_encoder, the descriptor's entry to the typed functions. */
#define ENCODER(name, proto_name, LIST, oneof)                                   \
    SIZER_AND_WRITER(name, rpb_##name, LIST)                                     \
    static size_t size_any_##name(const void *m)                                 \
    {                                                                            \
        return size_##name(m);                                                   \
    }                                                                            \
    static uint8_t *put_any_##name(const void *m, uint8_t *p)                    \
    {                                                                            \
        return put_##name(m, p);                                                 \
    }                                                                            \
    const struct rpb_msg_encoder rpb_##name##_encoder = {size_any_##name, put_any_##name};
RPB_MESSAGES(ENCODER)

/* The Frame without its payload field, for writing a payload in place. */
SIZER_AND_WRITER(frame_head, rpb_frame, RPB_FRAME_HEAD_FIELDS)
SIZER_AND_WRITER(frame_tail, rpb_frame, RPB_FRAME_TAIL_FIELDS)

/* ---- public entry points ---- */

size_t rpb_encoded_len(const rpb_msg_desc *desc, const void *msg)
{
    return desc->encoder->size(msg);
}

int rpb_encode(const rpb_msg_desc *desc, const void *msg, uint8_t *out, size_t cap,
               size_t *written)
{
    if (!desc || !desc->encoder || !msg || (!out && cap))
        return RPB_ERR_INVALID_ARGUMENT;
    size_t n = desc->encoder->size(msg);
    *written = n;
    if (n > cap)
        return RPB_ERR_BUFFER_TOO_SMALL;
    desc->encoder->put(msg, out);
    return RPB_OK;
}

size_t rpb_frame_encoded_len(const rpb_frame *frame)
{
    return RPB_FRAME_HEADER_BYTES + size_frame(frame);
}

/* FRAME-008: a body over 16 MiB is refused and nothing is written.  A
 * buffer too small gets *written = the size needed (rpb/error.h). */
static int check_framed(size_t body, size_t cap, size_t *written)
{
    if (body > RPB_MAX_FRAME_BYTES)
        return RPB_ERR_FRAME_TOO_LARGE;
    if (cap < RPB_FRAME_HEADER_BYTES || cap - RPB_FRAME_HEADER_BYTES < body) {
        *written = RPB_FRAME_HEADER_BYTES + body;
        return RPB_ERR_BUFFER_TOO_SMALL;
    }
    return RPB_OK;
}

int rpb_frame_encode(const rpb_frame *frame, uint8_t *out, size_t cap, size_t *written)
{
    if (!frame || (!out && cap))
        return RPB_ERR_INVALID_ARGUMENT;
    size_t body = size_frame(frame);
    int rc = check_framed(body, cap, written);
    if (rc != RPB_OK)
        return rc;
    put_frame(frame, frame_header_put(out, (uint32_t)body));
    *written = RPB_FRAME_HEADER_BYTES + body;
    return RPB_OK;
}

/* The Frame body with a payload of payload_len bytes in place of frame's. */
static size_t frame_body_size(const rpb_frame *frame, size_t payload_len)
{
    return size_frame_head(frame) + bytes_field_size(payload_len) + size_frame_tail(frame);
}

size_t rpb_frame_encoded_len_msg(const rpb_frame *frame, const rpb_msg_desc *desc,
                                 const void *msg)
{
    return RPB_FRAME_HEADER_BYTES + frame_body_size(frame, desc->encoder->size(msg));
}

int rpb_frame_encode_msg(const rpb_frame *frame, const rpb_msg_desc *desc, const void *msg,
                         uint8_t *out, size_t cap, size_t *written)
{
    if (!frame || !desc || !desc->encoder || !msg || (!out && cap))
        return RPB_ERR_INVALID_ARGUMENT;
    size_t payload = desc->encoder->size(msg);
    size_t body = frame_body_size(frame, payload);
    int rc = check_framed(body, cap, written);
    if (rc != RPB_OK)
        return rc;
    uint8_t *p = put_frame_head(frame, frame_header_put(out, (uint32_t)body));
    if (payload) { /* canonical: an empty payload is omitted */
        *p++ = TAG(RPB_FRAME_PAYLOAD_NUMBER, WT_LEN);
        p = varint_put(p, payload);
        p = desc->encoder->put(msg, p);
    }
    put_frame_tail(frame, p);
    *written = RPB_FRAME_HEADER_BYTES + body;
    return RPB_OK;
}
