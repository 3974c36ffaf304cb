/*
 * rpb/codec.h - the I/O-free protobuf codec of librpb.
 *
 * One descriptor-driven decoder and one canonical encoder serve every v1
 * message (rpb/messages.h lists them).  Decoding is zero-copy: string and
 * bytes fields are rpb_slice views into the caller's input, which must stay
 * alive while the decoded struct is used.  Repeated strings and map entries
 * are linked nodes carved from a caller-owned rpb_arena; messages without
 * such fields (Frame, Hello, HandoffOffer, ...) never touch the arena.
 *
 * Accept/reject behaviour is that of prost 0.14 (spec/wire.md WIRE-001 to
 * WIRE-017); the one place where rpb offers a stricter choice is the option
 * RPB_DECODE_STRICT_MAP_WIRE_TYPE (WIRE-009), off by default.
 */
#ifndef RPB_CODEC_H
#define RPB_CODEC_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A view of bytes owned by someone else.  Strings are not NUL-terminated
 * and may contain NUL (valid UTF-8). */
typedef struct rpb_slice {
    const uint8_t *data;
    size_t len;
} rpb_slice;

/* Slice helpers. */
RPB_API rpb_slice rpb_slice_cstr(const char *s);
RPB_API bool rpb_slice_eq(rpb_slice a, rpb_slice b);
RPB_API bool rpb_slice_eq_cstr(rpb_slice a, const char *s);

/* repeated string: nodes in wire order. */
typedef struct rpb_str_node {
    rpb_slice value;
    struct rpb_str_node *next;
} rpb_str_node;

typedef struct rpb_strlist {
    rpb_str_node *head;
    rpb_str_node *tail;
    size_t count;
} rpb_strlist;

/* map<string,string>: entries in wire order, duplicates kept; the last entry
 * with a given key is the effective one (WIRE-013), see rpb_map_get(). */
typedef struct rpb_map_node {
    rpb_slice key;
    rpb_slice value;
    struct rpb_map_node *next;
} rpb_map_node;

typedef struct rpb_map {
    rpb_map_node *head;
    rpb_map_node *tail;
    size_t count;
} rpb_map;

/* The effective value of key (the last entry with that key), or NULL. */
RPB_API const rpb_slice *rpb_map_get(const rpb_map *map, rpb_slice key);

/* True when node is the last entry for its key (iteration without duplicates). */
RPB_API bool rpb_map_node_is_effective(const rpb_map_node *node);

/* Caller-owned scratch memory for list and map nodes.  Decoding a message
 * of n input bytes needs at most rpb_arena_bound(n) bytes of it.  Not
 * thread-safe: a decode allocates from it, so one arena per thread.
 * Descriptors (rpb_msg_desc, rpb_enum_desc) are immutable and may be
 * shared by any number of threads. */
typedef struct rpb_arena {
    uint8_t *mem;
    size_t cap;
    size_t used;
} rpb_arena;

RPB_API void rpb_arena_init(rpb_arena *arena, void *mem, size_t cap);
RPB_API size_t rpb_arena_bound(size_t input_len);

/* Builders for code that fills messages to encode them.  They take nodes
 * from arena; RPB_ERR_SCRATCH_EXHAUSTED when it is full. */
RPB_API int rpb_strlist_append(rpb_strlist *list, rpb_arena *arena, rpb_slice value);
RPB_API int rpb_map_append(rpb_map *map, rpb_arena *arena, rpb_slice key, rpb_slice value);

/* ---- descriptors ---- */

enum rpb_field_type {
    RPB_FT_UINT32,
    RPB_FT_UINT64,
    RPB_FT_ENUM, /* int32 storage, open: unknown values are kept (WIRE-007) */
    RPB_FT_BOOL,
    RPB_FT_STRING,
    RPB_FT_BYTES,
    RPB_FT_MESSAGE,
    RPB_FT_STRING_LIST, /* repeated string */
    RPB_FT_STRING_MAP,  /* map<string,string> */
};

typedef struct rpb_enum_value {
    int32_t number;
    const char *name;
} rpb_enum_value;

typedef struct rpb_enum_desc {
    const char *name;
    size_t n_values;
    const rpb_enum_value *values;
} rpb_enum_desc;

/* The name of value in e, or NULL when e has no such value. */
RPB_API const char *rpb_enum_name(const rpb_enum_desc *e, int32_t value);
/* Looks name up in e; returns true and sets *value when found. */
RPB_API bool rpb_enum_value_of(const rpb_enum_desc *e, const char *name, size_t name_len, int32_t *value);

struct rpb_msg_desc;

/* Field flags. */
#define RPB_FIELD_ONEOF 0x1u    /* member of the message's one oneof */
#define RPB_FIELD_PRESENCE 0x2u /* has a bool at presence_offset (optional, message) */

typedef struct rpb_field_desc {
    uint32_t number;
    const char *name;
    uint8_t type;  /* enum rpb_field_type */
    uint8_t flags; /* RPB_FIELD_* */
    uint16_t offset;
    uint16_t presence_offset;
    const struct rpb_msg_desc *message;
    const rpb_enum_desc *enumeration;
} rpb_field_desc;

typedef struct rpb_msg_desc {
    const char *name;      /* "Hello" */
    const char *full_name; /* "running_process.broker.v1.Hello" */
    size_t size;           /* sizeof the C struct */
    size_t n_fields;
    const rpb_field_desc *fields; /* ascending field number */
    const char *oneof_name;       /* NULL when the message has no oneof */
    uint16_t oneof_case_offset;   /* uint32_t holding the set arm's number, 0 = unset */
    const struct rpb_msg_encoder *encoder; /* librpb-internal: the message's generated encoder */
} rpb_msg_desc;

/* The descriptor of the field named name, or NULL. */
RPB_API const rpb_field_desc *rpb_field_by_name(const rpb_msg_desc *desc, const char *name, size_t name_len);

/* ---- decoding ---- */

/* Decode option bits. */
#define RPB_DECODE_STRICT_MAP_WIRE_TYPE 0x1u /* reject map entries whose key is not wire type 2 (WIRE-009) */

#define RPB_RECURSION_LIMIT 100

/*
 * Decodes the message body in[0..len) as desc into msg, which the caller has
 * zeroed (rpb_msg_init) or which holds an earlier decode to merge into.
 *
 * Returns RPB_OK, or one of RPB_ERR_INVALID_VARINT, RPB_ERR_INVALID_KEY,
 * RPB_ERR_INVALID_TAG, RPB_ERR_INVALID_WIRE_TYPE, RPB_ERR_WIRE_TYPE_MISMATCH,
 * RPB_ERR_BUFFER_UNDERFLOW, RPB_ERR_DELIMITED_OVERRUN, RPB_ERR_INVALID_UTF8,
 * RPB_ERR_GROUP_MISMATCH, RPB_ERR_RECURSION_LIMIT,
 * RPB_ERR_SCRATCH_EXHAUSTED (arena full or NULL while a list or map entry
 * was met) or RPB_ERR_INVALID_ARGUMENT.  err, when not NULL, receives the
 * code, the offset in `in` and the field number.  On error msg holds a
 * partial result that must not be used.
 */
RPB_API int rpb_decode(const rpb_msg_desc *desc, const uint8_t *in, size_t len, void *msg,
               rpb_arena *arena, unsigned options, rpb_errinfo *err);

/* A message decoded into heap memory it owns: the struct and the arena of
 * its list and map nodes.  String and bytes slices still point into the
 * input, which must outlive it. */
typedef struct rpb_decoded {
    const rpb_msg_desc *desc;
    void *msg; /* a struct of type desc */
    void *scratch;
} rpb_decoded;

/*
 * rpb_decode() of in[0..len) as desc into a struct and an arena allocated
 * for it (rpb_arena_bound(len) bytes, so the arena never runs out).  Returns
 * rpb_decode()'s results or RPB_ERR_NO_MEMORY; on any error out owns
 * nothing.  Release with rpb_decoded_free().  For tools and tests: the hot
 * paths use rpb_decode() with caller-owned memory.
 */
RPB_API int rpb_decode_alloc(const rpb_msg_desc *desc, const uint8_t *in, size_t len,
                             unsigned options, rpb_decoded *out, rpb_errinfo *err);

/* Frees what d owns and empties it; safe on an empty or failed rpb_decoded. */
RPB_API void rpb_decoded_free(rpb_decoded *d);

/* Zeroes msg (every field at its proto3 default, nothing present). */
RPB_API void rpb_msg_init(const rpb_msg_desc *desc, void *msg);

/* ---- encoding (WIRE-020) ---- */

/* The exact number of bytes rpb_encode() writes for msg. */
RPB_API size_t rpb_encoded_len(const rpb_msg_desc *desc, const void *msg);

/*
 * Writes the canonical prost encoding of msg into out[0..cap) and sets
 * *written.  Returns RPB_OK or RPB_ERR_BUFFER_TOO_SMALL; then nothing
 * useful is in out and *written is the size the encoding needs.
 */
RPB_API int rpb_encode(const rpb_msg_desc *desc, const void *msg, uint8_t *out, size_t cap,
               size_t *written);

/* ---- wire primitives, shared by the codec, the framing layer and tools ---- */

/* Reads a prost varint from in[*pos..len): RPB_OK and *value, or
 * RPB_ERR_INVALID_VARINT (truncated, longer than 10 bytes, 10th byte > 1). */
RPB_API int rpb_varint_read(const uint8_t *in, size_t len, size_t *pos, uint64_t *value);
/* Writes value as a varint into out (at least 10 bytes); returns its length. */
RPB_API size_t rpb_varint_write(uint8_t *out, uint64_t value);
RPB_API size_t rpb_varint_len(uint64_t value);

/* True when s[0..len) is strict UTF-8 (WIRE-012). */
RPB_API bool rpb_utf8_valid(const uint8_t *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
