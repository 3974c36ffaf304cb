/*
 * encode.c - the canonical encoder (spec/wire.md WIRE-020): the exact bytes
 * prost 0.14 writes.  Fields go out in ascending number order; proto3
 * defaults are omitted; optional scalars, message fields and the set oneof
 * arm are written whenever present; list elements get one tag each; a map
 * writes one entry per key and omits a default key or value inside it.
 *
 * Every message gets a straight-line sizer, bound and writer generated
 * from its field list (fields.h): constant one-byte tags, inline varints, a
 * local cursor.  rpb_encode() sizes the message once, checks the caller's
 * capacity once against that exact size, and then writes without further
 * checks.  The framed entry points (FRAME-002, FRAME-008) write header,
 * Frame and a payload message in place in one pass; when the caller's
 * buffer holds the frame's upper bound (found by adding lengths, no varint
 * sized) they skip the sizing pass and take the lengths from the cursor.
 * rpb_frame_encode() fills a buffer below the bound's constant part (the
 * floor: every byte field empty, about 100 bytes), such as one of exactly
 * a small frame's size, back to front from its end with a check per field
 * and no sizing pass (the same field lists, expanded as nested calls whose
 * innermost, the last field's, runs first).  rpb_frame_encode_msg() sizes
 * first in such a buffer, without adding up the bound.
 */
#include <string.h>

#include "rpb/frame.h"

#include "fields.h"
#include "wire_inline.h"

/* The one-byte key of field n with wire type wt (every v1 field is <= 15). */
#define TAG(n, wt) ((uint8_t)((n) << 3 | (wt)) + 0 * sizeof(char[(n) <= 15 ? 1 : -1]))
#define WT_VARINT 0
#define WT_LEN 2

/* Inlined wherever called: the framed writers' hot path. */
#define INLINE inline __attribute__((always_inline))
#define NOINLINE __attribute__((noinline))

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

/* ---- upper bounds, found without sizing a varint: every tag and length
 * counted at 11 bytes (a tag byte and the longest varint) ---- */

#define VARINT_FIELD_MAX 11u

static size_t strlist_bound(const rpb_strlist *list)
{
    size_t n = 0;
    for (const rpb_str_node *e = list->head; e; e = e->next)
        n += VARINT_FIELD_MAX + e->value.len;
    return n;
}

/* Every entry, whether effective or not: entry, key and value fields. */
static size_t strmap_bound(const rpb_map *map)
{
    size_t n = 0;
    for (const rpb_map_node *e = map->head; e; e = e->next)
        n += 3 * VARINT_FIELD_MAX + e->key.len + e->value.len;
    return n;
}

/* ---- writers: p has room for everything the sizer counted ---- */

static INLINE uint8_t *put_varint_field(uint8_t *p, uint8_t tag, uint64_t v)
{
    if (!v)
        return p;
    *p++ = tag;
    return varint_put(p, v);
}

/* Copies n <= 128 bytes without a call, as two overlapping moves of a
 * fixed width, the shortest tested first. */
static INLINE void copy_short(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n <= 16) {
        if (n >= 8) {
            memcpy(d, s, 8);
            memcpy(d + n - 8, s + n - 8, 8);
        } else if (n >= 4) {
            memcpy(d, s, 4);
            memcpy(d + n - 4, s + n - 4, 4);
        } else if (n >= 2) {
            memcpy(d, s, 2);
            memcpy(d + n - 2, s + n - 2, 2);
        } else if (n) {
            *d = *s;
        }
    } else if (n <= 32) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n <= 64) {
        memcpy(d, s, 32);
        memcpy(d + n - 32, s + n - 32, 32);
    } else {
        memcpy(d, s, 64);
        memcpy(d + n - 64, s + n - 64, 64);
    }
}

/* Copies n bytes: most v1 strings and the probe nonce without a call. */
static INLINE void copy_bytes(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n <= 128)
        copy_short(d, s, n);
    else
        memcpy(d, s, n);
}

static INLINE uint8_t *put_len_field(uint8_t *p, uint8_t tag, rpb_slice s)
{
    *p++ = tag;
    p = varint_put_bytewise(p, s.len);
    copy_bytes(p, s.data, s.len);
    return p + s.len;
}

static INLINE uint8_t *put_bytes_field(uint8_t *p, uint8_t tag, rpb_slice s)
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
        p = varint_put_bytewise(p, map_entry_size(e));
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

/* The floor: the bound of a message whose byte fields, lists and maps are
 * empty and whose message fields are unset, a constant. */
#define FLOOR_U32 VARINT_FIELD_MAX
#define FLOOR_U64 VARINT_FIELD_MAX
#define FLOOR_ENUM VARINT_FIELD_MAX
#define FLOOR_BOOL 2u
#define FLOOR_STRING VARINT_FIELD_MAX
#define FLOOR_BYTES VARINT_FIELD_MAX
#define FLOOR_STRLIST 0u
#define FLOOR_STRMAP 0u
#define FLOOR_OPT_U32 VARINT_FIELD_MAX
#define FLOOR_OPT_MSG 0u
#define FLOOR_ONEOF_MSG 0u
#define FLOOR_FIELD(S, KIND, n, f, x) +FLOOR_##KIND

#define BOUND_U32(n, m, f, x) FLOOR_U32
#define BOUND_U64(n, m, f, x) FLOOR_U64
#define BOUND_ENUM(n, m, f, x) FLOOR_ENUM
#define BOUND_BOOL(n, m, f, x) FLOOR_BOOL
#define BOUND_STRING(n, m, f, x) (FLOOR_STRING + m->f.len)
#define BOUND_BYTES(n, m, f, x) (FLOOR_BYTES + m->f.len)
#define BOUND_STRLIST(n, m, f, x) strlist_bound(&m->f)
#define BOUND_STRMAP(n, m, f, x) strmap_bound(&m->f)
#define BOUND_OPT_U32(n, m, f, x) FLOOR_OPT_U32
#define BOUND_OPT_MSG(n, m, f, sub) (m->has_##f ? VARINT_FIELD_MAX + bound_##sub(&m->f) : 0u)
#define BOUND_ONEOF_MSG(n, m, f, sub) (m->result == n ? VARINT_FIELD_MAX + bound_##sub(&m->f) : 0u)
#define BOUND_FIELD(S, KIND, n, f, x) +BOUND_##KIND(n, m, f, x)

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
#define PUT_OPT_U32(n, m, f, x)           \
    if (m->has_##f) {                     \
        *p++ = TAG(n, WT_VARINT);         \
        p = varint_put_bytewise(p, m->f); \
    }
#define PUT_MESSAGE(n, m, f, sub)                      \
    {                                                  \
        *p++ = TAG(n, WT_LEN);                         \
        p = varint_put_bytewise(p, size_##sub(&m->f)); \
        p = put_##sub(&m->f, p);                       \
    }
#define PUT_OPT_MSG(n, m, f, sub) \
    if (m->has_##f)               \
        PUT_MESSAGE(n, m, f, sub)
#define PUT_ONEOF_MSG(n, m, f, sub) \
    if (m->result == n)             \
        PUT_MESSAGE(n, m, f, sub)
#define PUT_FIELD(S, KIND, n, f, x) PUT_##KIND(n, m, f, x)

/* size_<name>(), bound_<name>(), floor_<name> and put_<name>() for the
 * fields LIST of struct S, with the function attributes ATTR. */
#define SIZER_AND_WRITER(name, S, LIST, ATTR)               \
    enum { floor_##name = 0 LIST(FLOOR_FIELD, S) };         \
    static ATTR size_t size_##name(const S *m)              \
    {                                                       \
        return 0 LIST(SIZE_FIELD, S);                       \
    }                                                       \
    static ATTR size_t bound_##name(const S *m)             \
    {                                                       \
        (void)m; /* unused when LIST has only scalars */    \
        return 0 LIST(BOUND_FIELD, S);                      \
    }                                                       \
    static ATTR uint8_t *put_##name(const S *m, uint8_t *p) \
    {                                                       \
        LIST(PUT_FIELD, S)                                  \
        return p;                                           \
    }

/* Nested messages call each other's sizers and writers: declare all first. */
#define DECLARE(name, proto_name, LIST, oneof)           \
    static size_t size_##name(const rpb_##name *m);     \
    static size_t bound_##name(const rpb_##name *m);    \
    static uint8_t *put_##name(const rpb_##name *m, uint8_t *p);
RPB_MESSAGES(DECLARE)

/* rpb_<name>_encoder, the descriptor's entry to the typed functions. */
#define ENCODER(name, proto_name, LIST, oneof)                                   \
    SIZER_AND_WRITER(name, rpb_##name, LIST, )                                   \
    static size_t size_any_##name(const void *m)                                 \
    {                                                                            \
        return size_##name(m);                                                   \
    }                                                                            \
    static size_t bound_any_##name(const void *m)                                \
    {                                                                            \
        return bound_##name(m);                                                  \
    }                                                                            \
    static uint8_t *put_any_##name(const void *m, uint8_t *p)                    \
    {                                                                            \
        return put_##name(m, p);                                                 \
    }                                                                            \
    const struct rpb_msg_encoder rpb_##name##_encoder = {size_any_##name, bound_any_##name, \
                                                         floor_##name, put_any_##name};
RPB_MESSAGES(ENCODER)

/* The Frame without its payload field, for writing a payload in place:
 * inlined into the framed writers below, whose speed they are. */
SIZER_AND_WRITER(frame_head, rpb_frame, RPB_FRAME_HEAD_FIELDS, INLINE)
SIZER_AND_WRITER(frame_tail, rpb_frame, RPB_FRAME_TAIL_FIELDS, INLINE)

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

/* ---- framed writers (FRAME-002, FRAME-008) ---- */

/* A Frame's tail is usually all default: then one test stands for five. */
#define SET_U64(m, f) m->f
#define SET_ENUM(m, f) (uint32_t)m->f
#define SET_STRING(m, f) m->f.len
#define SET_FIELD(S, KIND, n, f, x) | SET_##KIND(m, f)
static INLINE bool frame_tail_set(const rpb_frame *m)
{
    return (0 RPB_FRAME_TAIL_FIELDS(SET_FIELD, _)) != 0;
}

/* The exact size of the Frame body of m with a payload of payload_len bytes
 * in place of m's. */
static INLINE size_t frame_body_size(const rpb_frame *m, size_t payload_len)
{
    return size_frame_head(m) + bytes_field_size(payload_len) +
           (frame_tail_set(m) ? size_frame_tail(m) : 0);
}

/* An upper bound of the same body, without sizing a field. */
static INLINE size_t frame_body_bound(const rpb_frame *m, size_t payload_len)
{
    return bound_frame_head(m) + VARINT_FIELD_MAX + payload_len + bound_frame_tail(m);
}

/* The least frame_body_bound() of any Frame whose payload is a message of
 * bound_floor (struct rpb_msg_encoder): below it a buffer cannot pass
 * frame_fits(), and the bound need not be added up. */
static INLINE size_t frame_body_floor(size_t msg_floor)
{
    return floor_frame_head + VARINT_FIELD_MAX + msg_floor + floor_frame_tail;
}

/* Whether a body of at most bound bytes certainly fits out[0..cap) after
 * the header within 16 MiB.  Then the frame is written at once and the
 * writer's cursor gives its length (finish_frame()): callers with room skip
 * the sizing pass, which frame_check() does only for the others. */
static INLINE bool frame_fits(size_t bound, size_t cap)
{
    return bound <= RPB_MAX_FRAME_BYTES && cap >= RPB_FRAME_HEADER_BYTES &&
           cap - RPB_FRAME_HEADER_BYTES >= bound;
}

/* FRAME-008: a body of body bytes over 16 MiB is refused and nothing is
 * written; a buffer too small gets *written = the size needed
 * (rpb/error.h). */
static int frame_check(size_t body, size_t cap, size_t *written)
{
    if (body > RPB_MAX_FRAME_BYTES)
        return RPB_ERR_FRAME_TOO_LARGE;
    if (cap < RPB_FRAME_HEADER_BYTES || cap - RPB_FRAME_HEADER_BYTES < body) {
        *written = RPB_FRAME_HEADER_BYTES + body;
        return RPB_ERR_BUFFER_TOO_SMALL;
    }
    return RPB_OK;
}

/* Writes the Frame's tail after p (nothing when it is all default), then
 * the header in front of the body; returns the frame's length. */
static INLINE size_t finish_frame(const rpb_frame *m, uint8_t *out, uint8_t *p)
{
    if (frame_tail_set(m))
        p = put_frame_tail(m, p);
    size_t body = (size_t)(p - out) - RPB_FRAME_HEADER_BYTES;
    frame_header_put(out, (uint32_t)body);
    return RPB_FRAME_HEADER_BYTES + body;
}

size_t rpb_frame_encoded_len(const rpb_frame *frame)
{
    return RPB_FRAME_HEADER_BYTES + frame_body_size(frame, frame->payload.len);
}

/* Writes frame into out, which has room for it. */
static INLINE int frame_put(const rpb_frame *frame, uint8_t *out, size_t *written)
{
    uint8_t *p = put_frame_head(frame, out + RPB_FRAME_HEADER_BYTES);
    p = put_bytes_field(p, TAG(RPB_FRAME_PAYLOAD_NUMBER, WT_LEN), frame->payload);
    *written = finish_frame(frame, out, p);
    return RPB_OK;
}

/* Out of line, as the other two paths, so that rpb_frame_encode() saves
 * no registers before it picks one. */
static NOINLINE int frame_encode_forward(const rpb_frame *frame, uint8_t *out, size_t *written)
{
    return frame_put(frame, out, written);
}

/* rpb_frame_encode() into a buffer that may be too small: sized first. */
static NOINLINE int frame_encode_sized(const rpb_frame *frame, uint8_t *out, size_t cap,
                                       size_t *written)
{
    int rc = frame_check(frame_body_size(frame, frame->payload.len), cap, written);
    return rc == RPB_OK ? frame_put(frame, out, written) : rc;
}

/* ---- back-to-front writers, for buffers too tight for the bound ----
 *
 * A field is written just below p, after every field that follows it, and
 * only when it fits above lo: the writer needs no sizing pass, and a
 * buffer of exactly the frame's size is filled from its end to its start.
 * Each returns the new p, or lo - 1 when the field does not fit; below lo
 * no later field fits either, so a failure passes on without a test. */

static INLINE uint8_t *rput_varint_field(uint8_t tag, uint64_t v, const uint8_t *lo, uint8_t *p)
{
    if (!v)
        return p;
    if (v < 0x80) { /* tag and value, two stores */
        if (p - lo < 2)
            return (uint8_t *)lo - 1;
        p[-1] = (uint8_t)v;
        p[-2] = tag;
        return p - 2;
    }
    ptrdiff_t k = (ptrdiff_t)varint_size(v);
    if (p - lo <= k)
        return (uint8_t *)lo - 1;
    p -= k;
    varint_put(p, v);
    *--p = tag;
    return p;
}

/* The field is passed by address and read after the later fields were
 * written: a value read before would be held in a register all along. */
static INLINE uint8_t *rput_u32(uint8_t tag, const uint32_t *v, const uint8_t *lo, uint8_t *p)
{
    return rput_varint_field(tag, *v, lo, p);
}

static INLINE uint8_t *rput_u64(uint8_t tag, const uint64_t *v, const uint8_t *lo, uint8_t *p)
{
    return rput_varint_field(tag, *v, lo, p);
}

static INLINE uint8_t *rput_enum(uint8_t tag, const int32_t *v, const uint8_t *lo, uint8_t *p)
{
    return rput_varint_field(tag, ENUM_VALUE(*v), lo, p);
}

/* The caller's slices are shorter than its buffer, which is below 128
 * bytes: one length byte, and copy_short() copies. */
static INLINE uint8_t *rput_bytes(uint8_t tag, const rpb_slice *s, const uint8_t *lo, uint8_t *p)
{
    size_t len = s->len;
    if (!len)
        return p;
    if (p - lo - (ptrdiff_t)len < 2)
        return (uint8_t *)lo - 1;
    p -= len;
    copy_short(p, s->data, len);
    p[-1] = (uint8_t)len;
    p[-2] = tag;
    return p - 2;
}

/* RPUT_OPEN opens the call writing one field, whose p is the expression
 * that follows; the list of those, then p, then as many closing
 * parentheses (RPUT_CLOSE) is one nested expression whose innermost call,
 * the last field's, runs first. */
#define RPUT_U32(n, m, f) rput_u32(TAG(n, WT_VARINT), &m->f, lo,
#define RPUT_U64(n, m, f) rput_u64(TAG(n, WT_VARINT), &m->f, lo,
#define RPUT_ENUM(n, m, f) rput_enum(TAG(n, WT_VARINT), &m->f, lo,
#define RPUT_STRING(n, m, f) rput_bytes(TAG(n, WT_LEN), &m->f, lo,
#define RPUT_BYTES(n, m, f) RPUT_STRING(n, m, f)
#define RPUT_OPEN(S, KIND, n, f, x) RPUT_##KIND(n, m, f)
#define RPUT_CLOSE(S, KIND, n, f, x) )

/* Moves the body p..end down to follow out's header and writes the
 * header. */
static NOINLINE int frame_move_down(uint8_t *out, const uint8_t *p, const uint8_t *end,
                                    size_t *written)
{
    size_t body = (size_t)(end - p);
    memmove(out + RPB_FRAME_HEADER_BYTES, p, body);
    frame_header_put(out, (uint32_t)body);
    *written = RPB_FRAME_HEADER_BYTES + body;
    return RPB_OK;
}

/* The back-to-front writer takes buffers below the Frame's floor, and
 * rput_bytes() writes one length byte. */
_Static_assert(RPB_FRAME_HEADER_BYTES + floor_frame_head + VARINT_FIELD_MAX + floor_frame_tail <= 128,
               "a length below the Frame's floor is one varint byte");

/* rpb_frame_encode() into out[0..cap), cap below the Frame's floor and
 * above its byte fields: the body is written back to front from out + cap
 * and moved down to follow the header when it ends short of it. */
static NOINLINE int frame_encode_back(const rpb_frame *m, uint8_t *out, size_t cap,
                                      size_t *written)
{
    uint8_t *lo = out + RPB_FRAME_HEADER_BYTES;
    uint8_t *end = out + cap;
    uint8_t *p = end;
    if (frame_tail_set(m))
        p = RPB_FRAME_TAIL_FIELDS(RPUT_OPEN, _) p RPB_FRAME_TAIL_FIELDS(RPUT_CLOSE, _);
    p = RPB_FRAME_HEAD_FIELDS(RPUT_OPEN, _) RPUT_BYTES(RPB_FRAME_PAYLOAD_NUMBER, m, payload) p)
        RPB_FRAME_HEAD_FIELDS(RPUT_CLOSE, _);
    if (p < lo) /* too small: sized, for *written */
        return frame_encode_sized(m, out, cap, written);
    if (p != lo) /* out of line: the call would cost the exact fit a frame */
        return frame_move_down(out, p, end, written);
    frame_header_put(out, (uint32_t)(cap - RPB_FRAME_HEADER_BYTES));
    *written = cap;
    return RPB_OK;
}

int rpb_frame_encode(const rpb_frame *frame, uint8_t *out, size_t cap, size_t *written)
{
    if (!frame || (!out && cap))
        return RPB_ERR_INVALID_ARGUMENT;
    size_t bound = frame_body_bound(frame, frame->payload.len);
    /* A buffer below the floor takes the frame back to front when it holds
     * a header and is longer than the byte fields (the bound above the
     * floor): then the frame is not over 16 MiB (FRAME-008: nothing is
     * written then).  Above the floor, frame_fits() without its test of
     * the header's 5 bytes. */
    if (cap < RPB_FRAME_HEADER_BYTES + frame_body_floor(0)) {
        if (cap >= RPB_FRAME_HEADER_BYTES && bound - frame_body_floor(0) < cap)
            return frame_encode_back(frame, out, cap, written);
    } else if (bound <= RPB_MAX_FRAME_BYTES && cap - RPB_FRAME_HEADER_BYTES >= bound) {
        return frame_encode_forward(frame, out, written);
    }
    return frame_encode_sized(frame, out, cap, written);
}

size_t rpb_frame_encoded_len_msg(const rpb_frame *frame, const rpb_msg_desc *desc,
                                 const void *msg)
{
    return RPB_FRAME_HEADER_BYTES + frame_body_size(frame, desc->encoder->size(msg));
}

/* The payload field carrying msg, its length not known in advance: the
 * message is written after a one-byte length (payloads are mostly under 128
 * bytes) and moved up when its length needs more.  p has room for the
 * field at its longest (frame_body_bound()).  Canonical: an empty payload
 * is omitted. */
static uint8_t *put_payload_unsized(uint8_t *p, const rpb_msg_desc *desc, const void *msg)
{
    uint8_t *body = p + 2;
    uint8_t *end = desc->encoder->put(msg, body);
    size_t len = (size_t)(end - body);
    if (len == 0)
        return p;
    size_t more = varint_size(len) - 1;
    if (more)
        memmove(body + more, body, len);
    *p++ = TAG(RPB_FRAME_PAYLOAD_NUMBER, WT_LEN);
    varint_put_bytewise(p, len);
    return end + more;
}

int rpb_frame_encode_msg(const rpb_frame *frame, const rpb_msg_desc *desc, const void *msg,
                         uint8_t *out, size_t cap, size_t *written)
{
    if (!frame || !desc || !desc->encoder || !msg || (!out && cap))
        return RPB_ERR_INVALID_ARGUMENT;
    const struct rpb_msg_encoder *enc = desc->encoder;
    uint8_t *p;
    if (frame_fits(frame_body_floor(enc->bound_floor), cap) &&
        frame_fits(frame_body_bound(frame, enc->bound(msg)), cap)) {
        p = put_frame_head(frame, out + RPB_FRAME_HEADER_BYTES);
        p = put_payload_unsized(p, desc, msg);
    } else {
        size_t payload = enc->size(msg);
        int rc = frame_check(frame_body_size(frame, payload), cap, written);
        if (rc != RPB_OK)
            return rc;
        p = put_frame_head(frame, out + RPB_FRAME_HEADER_BYTES);
        if (payload) { /* canonical: an empty payload is omitted */
            *p++ = TAG(RPB_FRAME_PAYLOAD_NUMBER, WT_LEN);
            p = varint_put_bytewise(p, payload);
            p = enc->put(msg, p);
        }
    }
    *written = finish_frame(frame, out, p);
    return RPB_OK;
}
