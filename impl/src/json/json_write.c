/*
 * json_write.c - streaming JSON writer to a growable buffer or a FILE*.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"

/* The state behind rpb_json_writer's opaque storage. */
typedef struct writer_state {
    rpb_buf *buf; /* exactly one of buf and file is set */
    FILE *file;
    unsigned flags;
    unsigned depth;
    bool after_key;
    bool in_object[RPB_JSON_MAX_DEPTH + 1]; /* per open container: object or array */
    bool has_items[RPB_JSON_MAX_DEPTH + 1]; /* per open container: written anything yet */
    int status;
} writer_state;

_Static_assert(sizeof(writer_state) <= RPB_JSON_WRITER_BYTES,
               "writer_state outgrew rpb_json_writer's storage: the ABI would change");
_Static_assert(_Alignof(writer_state) <= _Alignof(rpb_json_writer),
               "writer_state needs more alignment than rpb_json_writer gives");

static writer_state *ws(const rpb_json_writer *w)
{
    return (writer_state *)(void *)w->opaque.bytes;
}

void rpb_json_writer_fail(rpb_json_writer *w, int status)
{
    writer_state *st = ws(w);
    if (st->status == RPB_OK)
        st->status = status;
}

/* Makes room for n more bytes plus the NUL written by finish. */
static bool reserve(rpb_json_writer *w, size_t n)
{
    if (n < SIZE_MAX && rpb_buf_reserve(ws(w)->buf, n + 1) == RPB_OK)
        return true;
    rpb_json_writer_fail(w, RPB_ERR_NO_MEMORY);
    return false;
}

static void emit(rpb_json_writer *w, const void *s, size_t n)
{
    writer_state *st = ws(w);
    if (st->status != RPB_OK || n == 0)
        return;
    if (st->file != NULL) {
        if (fwrite(s, 1, n, st->file) != n)
            rpb_json_writer_fail(w, RPB_ERR_IO);
        return;
    }
    if (!reserve(w, n))
        return;
    memcpy(st->buf->data + st->buf->len, s, n);
    st->buf->len += n;
}

static void emit_str(rpb_json_writer *w, const char *s)
{
    emit(w, s, strlen(s));
}

static void newline_indent(rpb_json_writer *w, unsigned depth)
{
    if (!(ws(w)->flags & RPB_JSON_PRETTY))
        return;
    emit(w, "\n", 1);
    for (unsigned i = 0; i < depth; i++)
        emit(w, "  ", 2);
}

/* Separator and indentation before a value; false on misuse. */
static bool begin_value(rpb_json_writer *w)
{
    writer_state *st = ws(w);
    if (st->status != RPB_OK)
        return false;
    if (st->depth == 0) {
        /* exactly one top-level value */
        if (st->has_items[0]) {
            rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
            return false;
        }
        st->has_items[0] = true;
        return true;
    }
    if (st->in_object[st->depth]) {
        if (!st->after_key) {
            rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
            return false;
        }
        st->after_key = false;
        return true;
    }
    if (st->has_items[st->depth])
        emit(w, ",", 1);
    st->has_items[st->depth] = true;
    newline_indent(w, st->depth);
    return true;
}

static void init(rpb_json_writer *w, rpb_buf *buf, FILE *file, unsigned flags)
{
    writer_state *st = ws(w);
    memset(st, 0, sizeof *st);
    st->buf = buf;
    st->file = file;
    st->flags = flags;
    st->status = RPB_OK;
}

void rpb_json_writer_init_buf(rpb_json_writer *w, rpb_buf *buf, unsigned flags)
{
    init(w, buf, NULL, flags);
    if (buf == NULL)
        ws(w)->status = RPB_ERR_INVALID_ARGUMENT;
}

void rpb_json_writer_init_file(rpb_json_writer *w, FILE *file, unsigned flags)
{
    init(w, NULL, file, flags);
    if (file == NULL)
        ws(w)->status = RPB_ERR_INVALID_ARGUMENT;
}

int rpb_json_writer_status(const rpb_json_writer *w)
{
    return ws(w)->status;
}

int rpb_json_writer_finish(rpb_json_writer *w)
{
    writer_state *st = ws(w);
    if (st->depth != 0 || st->after_key)
        rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
    if (st->status != RPB_OK)
        return st->status;
    if (st->file != NULL) {
        if (fflush(st->file) != 0)
            rpb_json_writer_fail(w, RPB_ERR_IO);
    } else {
        if (reserve(w, 0))
            st->buf->data[st->buf->len] = '\0';
    }
    return st->status;
}

static void open_container(rpb_json_writer *w, bool object)
{
    writer_state *st = ws(w);
    if (!begin_value(w))
        return;
    if (st->depth == RPB_JSON_MAX_DEPTH) {
        rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
        return;
    }
    st->depth++;
    st->in_object[st->depth] = object;
    st->has_items[st->depth] = false;
    emit(w, object ? "{" : "[", 1);
}

static void close_container(rpb_json_writer *w, bool object)
{
    writer_state *st = ws(w);
    if (st->status != RPB_OK)
        return;
    if (st->depth == 0 || st->in_object[st->depth] != object || st->after_key) {
        rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
        return;
    }
    if (st->has_items[st->depth])
        newline_indent(w, st->depth - 1);
    emit(w, object ? "}" : "]", 1);
    st->depth--;
}

void rpb_json_begin_object(rpb_json_writer *w)
{
    open_container(w, true);
}

void rpb_json_end_object(rpb_json_writer *w)
{
    close_container(w, true);
}

void rpb_json_begin_array(rpb_json_writer *w)
{
    open_container(w, false);
}

void rpb_json_end_array(rpb_json_writer *w)
{
    close_container(w, false);
}

/* Writes s as a quoted, escaped JSON string (s already validated). */
static void quoted(rpb_json_writer *w, rpb_slice s)
{
    emit(w, "\"", 1);
    size_t run = 0; /* start of the pending run of bytes needing no escape */
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.data[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        emit(w, s.data + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            rpb_hex_encode(&c, 1, esc + 4); /* two digits and a NUL: esc[4..6] */
            emit(w, esc, 6);
            continue;
        }
        emit(w, esc, 2);
    }
    if (s.len > run) /* an empty slice may have a NULL data pointer */
        emit(w, s.data + run, s.len - run);
    emit(w, "\"", 1);
}

void rpb_json_key_slice(rpb_json_writer *w, rpb_slice key)
{
    writer_state *st = ws(w);
    if (st->status != RPB_OK)
        return;
    if (st->depth == 0 || !st->in_object[st->depth] || st->after_key ||
        !rpb_utf8_valid(key.data, key.len)) {
        rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
        return;
    }
    if (st->has_items[st->depth])
        emit(w, ",", 1);
    st->has_items[st->depth] = true;
    newline_indent(w, st->depth);
    quoted(w, key);
    if (st->flags & RPB_JSON_PRETTY)
        emit(w, ": ", 2);
    else
        emit(w, ":", 1);
    st->after_key = true;
}

void rpb_json_key(rpb_json_writer *w, const char *key)
{
    rpb_json_key_slice(w, rpb_slice_cstr(key));
}

void rpb_json_string(rpb_json_writer *w, rpb_slice s)
{
    if (ws(w)->status == RPB_OK && !rpb_utf8_valid(s.data, s.len)) {
        rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
        return;
    }
    if (begin_value(w))
        quoted(w, s);
}

void rpb_json_cstring(rpb_json_writer *w, const char *s)
{
    rpb_json_string(w, rpb_slice_cstr(s));
}

void rpb_json_hex(rpb_json_writer *w, rpb_slice bytes)
{
    if (!begin_value(w))
        return;
    emit(w, "\"", 1);
    char chunk[2 * 64 + 1]; /* 64 bytes per emit, not one */
    for (size_t i = 0; i < bytes.len; i += 64) {
        size_t n = bytes.len - i < 64 ? bytes.len - i : 64;
        rpb_hex_encode(bytes.data + i, n, chunk);
        emit(w, chunk, 2 * n);
    }
    emit(w, "\"", 1);
}

void rpb_json_uint(rpb_json_writer *w, uint64_t v)
{
    if (!begin_value(w))
        return;
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    emit(w, tmp, (size_t)n);
}

void rpb_json_int(rpb_json_writer *w, int64_t v)
{
    if (!begin_value(w))
        return;
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    emit(w, tmp, (size_t)n);
}

void rpb_json_bool(rpb_json_writer *w, bool v)
{
    if (begin_value(w))
        emit_str(w, v ? "true" : "false");
}

void rpb_json_null(rpb_json_writer *w)
{
    if (begin_value(w))
        emit_str(w, "null");
}

/* A real with 17 significant digits, kept recognisable as a real. */
static void write_real(rpb_json_writer *w, double d)
{
    if (!begin_value(w))
        return;
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", d);
    emit(w, tmp, (size_t)n);
    if (strpbrk(tmp, ".eE") == NULL)
        emit(w, ".0", 2);
}

void rpb_json_value_write(rpb_json_writer *w, const rpb_json_value *v)
{
    switch (v->type) {
    case RPB_JSON_NULL:
        rpb_json_null(w);
        return;
    case RPB_JSON_BOOL:
        rpb_json_bool(w, v->u.boolean);
        return;
    case RPB_JSON_INTEGER:
        if (!v->u.integer.negative) {
            rpb_json_uint(w, v->u.integer.magnitude);
        } else if (begin_value(w)) {
            char tmp[24];
            int n = snprintf(tmp, sizeof tmp, "-%" PRIu64, v->u.integer.magnitude);
            emit(w, tmp, (size_t)n);
        }
        return;
    case RPB_JSON_REAL:
        write_real(w, v->u.real);
        return;
    case RPB_JSON_STRING:
        rpb_json_string(w, v->u.string);
        return;
    case RPB_JSON_ARRAY:
    case RPB_JSON_OBJECT: {
        bool object = v->type == RPB_JSON_OBJECT;
        open_container(w, object);
        for (const rpb_json_value *c = v->u.children.head; c != NULL; c = c->next) {
            if (object)
                rpb_json_key_slice(w, c->key);
            rpb_json_value_write(w, c);
        }
        close_container(w, object);
        return;
    }
    }
    rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
}
