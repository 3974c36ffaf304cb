/*
 * rpb/json.h - JSON for librpb: a strict RFC 8259 parser (DOM), a streaming
 * writer, and the JSON mapping of the v1 messages used by rpb-dump, the
 * golden vectors (vectors/) and conformance reports.
 *
 * The message mapping (the one in vectors/README.md):
 *   - a message is an object keyed by the proto field names;
 *   - every singular uint32/uint64/bool/enum/string/bytes field is always
 *     present, defaults included; integers are JSON integers (uint64 exact);
 *   - enum: the value name when the enum knows the value, else the integer;
 *   - bytes: lowercase hex ("" when empty); string: a JSON string;
 *   - repeated string: an array (always present); map<string,string>: an
 *     object (always present) holding the effective entry of every key;
 *   - a field with presence (message field with RPB_FIELD_PRESENCE, proto3
 *     optional scalar) is present only when set; a oneof shows only the set
 *     arm, nothing when unset.
 *
 * Nothing here performs I/O except the FILE* writer.
 */
#ifndef RPB_JSON_H
#define RPB_JSON_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rpb/codec.h"
#include "rpb/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of arrays and objects the parser accepts (the top-level
 * value is depth 1) and the writer can produce. */
#define RPB_JSON_MAX_DEPTH 64

/* ---- DOM ---- */

typedef enum rpb_json_type {
    RPB_JSON_NULL,
    RPB_JSON_BOOL,
    RPB_JSON_INTEGER, /* a number without fraction or exponent that fits int64 or uint64 */
    RPB_JSON_REAL,    /* any other number (finite) */
    RPB_JSON_STRING,
    RPB_JSON_ARRAY,
    RPB_JSON_OBJECT,
} rpb_json_type;

typedef struct rpb_json_value rpb_json_value;

struct rpb_json_value {
    rpb_json_type type;
    size_t offset;        /* offset of the value's first byte in the text */
    rpb_slice key;        /* member name (unescaped) when the parent is an object */
    rpb_json_value *next; /* next element or member of the parent, in text order */
    union {
        bool boolean;
        struct {
            bool negative;      /* true only for values below zero */
            uint64_t magnitude; /* |value|; at most 2^63 when negative */
        } integer;
        double real;
        rpb_slice string; /* unescaped UTF-8, may hold NUL; data[len] is '\0' */
        struct {
            rpb_json_value *head;
            size_t count;
        } children; /* ARRAY elements or OBJECT members, in text order */
    } u;
};

/* A parsed document.  It owns every value, key and string of the tree and
 * the bytes rpb_json_to_message() decodes from hex; all of them stay valid
 * until rpb_json_doc_free().  The text passed to rpb_json_parse() is not
 * referenced after it returns.  Reading a parsed doc is thread-safe;
 * rpb_json_to_message() allocates from it, so it needs the doc alone. */
typedef struct rpb_json_doc {
    rpb_json_value *root;
    struct rpb_json_chunk *chunks; /* private: the doc's memory */
} rpb_json_doc;

/*
 * Parses text[0..len) as exactly one JSON value (RFC 8259, strict: no
 * comments, trailing commas, leading zeros, unescaped control characters,
 * invalid UTF-8 or lone surrogate escapes; nesting at most
 * RPB_JSON_MAX_DEPTH).  doc is overwritten; on success doc->root is the
 * value and the caller frees doc with rpb_json_doc_free().
 *
 * Returns RPB_OK, RPB_ERR_INVALID_ARGUMENT (not valid JSON; err, when not
 * NULL, gets the offset in the text and the reason as its message; doc is
 * left empty) or RPB_ERR_NO_MEMORY.
 */
RPB_API int rpb_json_parse(const char *text, size_t len, rpb_json_doc *doc, rpb_errinfo *err);

/* Frees everything doc owns and empties it.  Safe on an empty doc. */
RPB_API void rpb_json_doc_free(rpb_json_doc *doc);

/* The last member of obj called key (NULL-terminated), or NULL when obj is
 * not an object or has no such member. */
RPB_API const rpb_json_value *rpb_json_get(const rpb_json_value *obj, const char *key);

/* Integer accessors: true and *out when v is an INTEGER in range. */
RPB_API bool rpb_json_as_u64(const rpb_json_value *v, uint64_t *out);
RPB_API bool rpb_json_as_i64(const rpb_json_value *v, int64_t *out);

/* True when v is a STRING equal to the NUL-terminated s. */
RPB_API bool rpb_json_is_string(const rpb_json_value *v, const char *s);

/*
 * JSON value equality: same type; integers and reals by value (an INTEGER
 * never equals a REAL); strings byte for byte; arrays element-wise in
 * order; objects as key sets regardless of order (each key compared by its
 * last member).
 */
RPB_API bool rpb_json_equal(const rpb_json_value *a, const rpb_json_value *b);

/* ---- writer ---- */

#define RPB_JSON_PRETTY 0x1u /* newline + two-space indentation, "key": value */

/* Streaming writer with deterministic output.  Errors are sticky: after
 * the first one every call does nothing and rpb_json_writer_finish()
 * reports it.
 *
 * The caller provides the storage (a local variable will do) and
 * initialises it with rpb_json_writer_init_buf() or _init_file(); its
 * contents are private.  The storage is larger than today's state so the
 * state can grow without changing the ABI (the library checks at compile
 * time that it fits).  Not thread-safe: one writer per thread. */
#define RPB_JSON_WRITER_BYTES 512
typedef struct rpb_json_writer {
    union {
        void *align_pointer;
        uint64_t align_u64;
        unsigned char bytes[RPB_JSON_WRITER_BYTES];
    } opaque;
} rpb_json_writer;

/* Writers appending to buf (which may be empty: {0}) or writing to file. */
RPB_API void rpb_json_writer_init_buf(rpb_json_writer *w, rpb_buf *buf, unsigned flags);
RPB_API void rpb_json_writer_init_file(rpb_json_writer *w, FILE *file, unsigned flags);

/*
 * Status of everything written so far: RPB_OK, RPB_ERR_NO_MEMORY (buffer
 * growth failed), RPB_ERR_IO (fwrite failed, errno kept) or
 * RPB_ERR_INVALID_ARGUMENT (misuse: a second top-level value, a value where
 * a key is due, a key outside an object, unbalanced end, nesting beyond RPB_JSON_MAX_DEPTH; or
 * containers still open at finish).  finish also NUL-terminates a buffer
 * (the NUL is not counted in buf->len) and flushes a file.
 */
RPB_API int rpb_json_writer_status(const rpb_json_writer *w);
RPB_API int rpb_json_writer_finish(rpb_json_writer *w);

RPB_API void rpb_json_begin_object(rpb_json_writer *w);
RPB_API void rpb_json_end_object(rpb_json_writer *w);
RPB_API void rpb_json_begin_array(rpb_json_writer *w);
RPB_API void rpb_json_end_array(rpb_json_writer *w);
/* The next member's key; must be followed by exactly one value. */
RPB_API void rpb_json_key(rpb_json_writer *w, const char *key);
RPB_API void rpb_json_key_slice(rpb_json_writer *w, rpb_slice key);
/* s must be valid UTF-8 (RPB_ERR_INVALID_ARGUMENT otherwise); control
 * characters, '"' and '\\' are escaped, \b \f \n \r \t by name, the others
 * as \u00XX; non-ASCII is written as UTF-8. */
RPB_API void rpb_json_string(rpb_json_writer *w, rpb_slice s);
RPB_API void rpb_json_cstring(rpb_json_writer *w, const char *s);
/* bytes as a lowercase hex string */
RPB_API void rpb_json_hex(rpb_json_writer *w, rpb_slice bytes);
RPB_API void rpb_json_uint(rpb_json_writer *w, uint64_t v);
RPB_API void rpb_json_int(rpb_json_writer *w, int64_t v);
RPB_API void rpb_json_bool(rpb_json_writer *w, bool v);
RPB_API void rpb_json_null(rpb_json_writer *w);
/* A whole DOM value (reals with 17 significant digits). */
RPB_API void rpb_json_value_write(rpb_json_writer *w, const rpb_json_value *v);

/* ---- message mapping ---- */

/* Writes msg (of type desc) as one JSON object.  Returns the writer's
 * status (see rpb_json_writer_status; RPB_ERR_INVALID_ARGUMENT also when a
 * string field of msg is not valid UTF-8). */
RPB_API int rpb_json_write_message(rpb_json_writer *w, const rpb_msg_desc *desc, const void *msg);

/*
 * Fills msg (of type desc; initialised here with rpb_msg_init) from the JSON
 * object obj, a value of doc.  Accepted per field type: uint32/uint64 JSON
 * integers in range; enum a value name or an integer in int32 range; bool
 * true/false; string any JSON string; bytes an even-length hex string
 * (either case); message an object; repeated string an array of strings;
 * map an object of strings (a duplicated key: the last wins).  Missing keys
 * leave the default; a present presence field or oneof arm is set (two arms
 * of one oneof are an error).  Unknown and duplicated keys are errors.
 *
 * String slices in msg point into doc, hex-decoded bytes are allocated from
 * doc, list and map nodes from arena (rpb_arena_bound(text length) bytes
 * always suffice); msg is valid while both doc and the arena live.
 *
 * Returns RPB_OK, RPB_ERR_INVALID_ARGUMENT (err names the key or value and
 * its offset in the text), RPB_ERR_SCRATCH_EXHAUSTED (arena full) or
 * RPB_ERR_NO_MEMORY.
 */
RPB_API int rpb_json_to_message(rpb_json_doc *doc, const rpb_json_value *obj, const rpb_msg_desc *desc,
                        void *msg, rpb_arena *arena, rpb_errinfo *err);

/* ---- hex, the bytes encoding of the mapping ---- */

/*
 * Decodes hex[0..len) (pairs of [0-9a-fA-F], no separators) into
 * out[0..cap).  Returns RPB_OK with *written = len / 2,
 * RPB_ERR_INVALID_ARGUMENT (odd length or a non-hex character; *written is
 * the offset of the bad character) or RPB_ERR_BUFFER_TOO_SMALL.
 */
RPB_API int rpb_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap, size_t *written);

/* Writes 2 * len lowercase hex digits and a NUL to out (2 * len + 1 bytes). */
RPB_API void rpb_hex_encode(const uint8_t *in, size_t len, char *out);

#ifdef __cplusplus
}
#endif
#endif
