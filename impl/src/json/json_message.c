/*
 * json_message.c - the JSON mapping of v1 messages, both directions,
 * driven by the message descriptors of rpb/messages.h.
 */
#include <string.h>

#include "json_internal.h"

/* Field storage inside a message struct. */
#define FIELD_PTR(base, f, type) ((type *)((char *)(base) + (f)->offset))
#define FIELD_CPTR(base, f, type) ((const type *)((const char *)(base) + (f)->offset))

/* True when f is set in msg or has no presence (always written). */
static bool field_shown(const rpb_msg_desc *desc, const rpb_field_desc *f, const void *msg)
{
    if (f->flags & RPB_FIELD_ONEOF) {
        uint32_t arm = *(const uint32_t *)((const char *)msg + desc->oneof_case_offset);
        return arm == f->number;
    }
    if (f->flags & RPB_FIELD_PRESENCE)
        return *(const bool *)((const char *)msg + f->presence_offset);
    return true;
}

static void write_field(rpb_json_writer *w, const rpb_field_desc *f, const void *msg)
{
    switch ((enum rpb_field_type)f->type) {
    case RPB_FT_UINT32:
        rpb_json_uint(w, *FIELD_CPTR(msg, f, uint32_t));
        return;
    case RPB_FT_UINT64:
        rpb_json_uint(w, *FIELD_CPTR(msg, f, uint64_t));
        return;
    case RPB_FT_ENUM: {
        int32_t v = *FIELD_CPTR(msg, f, int32_t);
        const char *name = rpb_enum_name(f->enumeration, v);
        if (name != NULL)
            rpb_json_cstring(w, name);
        else
            rpb_json_int(w, v);
        return;
    }
    case RPB_FT_BOOL:
        rpb_json_bool(w, *FIELD_CPTR(msg, f, bool));
        return;
    case RPB_FT_STRING:
        rpb_json_string(w, *FIELD_CPTR(msg, f, rpb_slice));
        return;
    case RPB_FT_BYTES:
        rpb_json_hex(w, *FIELD_CPTR(msg, f, rpb_slice));
        return;
    case RPB_FT_MESSAGE:
        rpb_json_write_message(w, f->message, FIELD_CPTR(msg, f, char));
        return;
    case RPB_FT_STRING_LIST:
        rpb_json_begin_array(w);
        for (const rpb_str_node *n = FIELD_CPTR(msg, f, rpb_strlist)->head; n; n = n->next)
            rpb_json_string(w, n->value);
        rpb_json_end_array(w);
        return;
    case RPB_FT_STRING_MAP:
        /* WIRE-013: only the effective (last) entry of each key. */
        rpb_json_begin_object(w);
        for (const rpb_map_node *n = FIELD_CPTR(msg, f, rpb_map)->head; n; n = n->next) {
            if (!rpb_map_node_is_effective(n))
                continue;
            rpb_json_key_slice(w, n->key);
            rpb_json_string(w, n->value);
        }
        rpb_json_end_object(w);
        return;
    }
    /* a descriptor with a field type this module does not know */
    rpb_json_writer_fail(w, RPB_ERR_INVALID_ARGUMENT);
}

int rpb_json_write_message(rpb_json_writer *w, const rpb_msg_desc *desc, const void *msg)
{
    rpb_json_begin_object(w);
    for (size_t i = 0; i < desc->n_fields; i++) {
        const rpb_field_desc *f = &desc->fields[i];
        if (!field_shown(desc, f, msg))
            continue;
        rpb_json_key(w, f->name);
        write_field(w, f, msg);
    }
    rpb_json_end_object(w);
    return rpb_json_writer_status(w);
}

/* ---- JSON -> message ---- */

typedef struct reader {
    rpb_json_doc *doc;
    rpb_arena *arena;
    rpb_errinfo *err;
} reader;

/* Reports a bad value of field f of desc. */
static int bad(reader *r, const rpb_json_value *v, const rpb_msg_desc *desc,
               const rpb_field_desc *f, const char *expected)
{
    return rpb_errinfo_printf(r->err, RPB_ERR_INVALID_ARGUMENT, v->offset, 0, "%s.%s: expected %s",
                              desc->name, f->name, expected);
}

static int no_scratch(reader *r, const rpb_json_value *v)
{
    return rpb_errinfo_printf(r->err, RPB_ERR_SCRATCH_EXHAUSTED, v->offset, 0, "arena exhausted");
}

static int read_message(reader *r, const rpb_json_value *obj, const rpb_msg_desc *desc, void *msg);

static int read_bytes(reader *r, const rpb_json_value *v, const rpb_msg_desc *desc,
                      const rpb_field_desc *f, rpb_slice *out)
{
    if (v->type != RPB_JSON_STRING)
        return bad(r, v, desc, f, "a hex string");
    size_t n = v->u.string.len / 2;
    uint8_t *mem = NULL;
    if (n > 0 && (mem = rpb_json_doc_alloc(r->doc, n)) == NULL)
        return rpb_errinfo_printf(r->err, RPB_ERR_NO_MEMORY, v->offset, 0, "out of memory");
    size_t written;
    if (rpb_hex_decode((const char *)v->u.string.data, v->u.string.len, mem, n, &written) !=
        RPB_OK)
        return bad(r, v, desc, f, "a hex string of even length");
    out->data = mem;
    out->len = written;
    return RPB_OK;
}

static int read_field(reader *r, const rpb_json_value *v, const rpb_msg_desc *desc,
                      const rpb_field_desc *f, void *msg)
{
    uint64_t u;
    int64_t i;
    switch ((enum rpb_field_type)f->type) {
    case RPB_FT_UINT32:
        if (!rpb_json_as_u64(v, &u) || u > UINT32_MAX)
            return bad(r, v, desc, f, "an integer in 0..4294967295");
        *FIELD_PTR(msg, f, uint32_t) = (uint32_t)u;
        return RPB_OK;
    case RPB_FT_UINT64:
        if (!rpb_json_as_u64(v, &u))
            return bad(r, v, desc, f, "an integer in 0..18446744073709551615");
        *FIELD_PTR(msg, f, uint64_t) = u;
        return RPB_OK;
    case RPB_FT_ENUM: {
        int32_t e;
        if (v->type == RPB_JSON_STRING) {
            if (!rpb_enum_value_of(f->enumeration, (const char *)v->u.string.data,
                                   v->u.string.len, &e))
                return bad(r, v, desc, f, "a value name of the enum or an integer");
        } else if (rpb_json_as_i64(v, &i) && i >= INT32_MIN && i <= INT32_MAX) {
            e = (int32_t)i; /* WIRE-007: enums are open */
        } else {
            return bad(r, v, desc, f, "a value name of the enum or an int32");
        }
        *FIELD_PTR(msg, f, int32_t) = e;
        return RPB_OK;
    }
    case RPB_FT_BOOL:
        if (v->type != RPB_JSON_BOOL)
            return bad(r, v, desc, f, "true or false");
        *FIELD_PTR(msg, f, bool) = v->u.boolean;
        return RPB_OK;
    case RPB_FT_STRING:
        /* the parser has already required valid UTF-8 (WIRE-012) */
        if (v->type != RPB_JSON_STRING)
            return bad(r, v, desc, f, "a string");
        *FIELD_PTR(msg, f, rpb_slice) = v->u.string;
        return RPB_OK;
    case RPB_FT_BYTES:
        return read_bytes(r, v, desc, f, FIELD_PTR(msg, f, rpb_slice));
    case RPB_FT_MESSAGE:
        return read_message(r, v, f->message, FIELD_PTR(msg, f, char));
    case RPB_FT_STRING_LIST:
        if (v->type != RPB_JSON_ARRAY)
            return bad(r, v, desc, f, "an array of strings");
        for (const rpb_json_value *e = v->u.children.head; e != NULL; e = e->next) {
            if (e->type != RPB_JSON_STRING)
                return bad(r, e, desc, f, "a string element");
            rpb_strlist *list = FIELD_PTR(msg, f, rpb_strlist);
            if (rpb_strlist_append(list, r->arena, e->u.string) != RPB_OK)
                return no_scratch(r, e);
        }
        return RPB_OK;
    case RPB_FT_STRING_MAP:
        if (v->type != RPB_JSON_OBJECT)
            return bad(r, v, desc, f, "an object of strings");
        for (const rpb_json_value *e = v->u.children.head; e != NULL; e = e->next) {
            if (e->type != RPB_JSON_STRING)
                return bad(r, e, desc, f, "a string value");
            /* a key given twice: only its last member counts */
            if (rpb_json_member(v, e->key) != e)
                continue;
            if (rpb_map_append(FIELD_PTR(msg, f, rpb_map), r->arena, e->key, e->u.string) != RPB_OK)
                return no_scratch(r, e);
        }
        return RPB_OK;
    }
    return bad(r, v, desc, f, "a field type known to the JSON mapping");
}

static int read_message(reader *r, const rpb_json_value *obj, const rpb_msg_desc *desc, void *msg)
{
    if (obj->type != RPB_JSON_OBJECT)
        return rpb_errinfo_printf(r->err, RPB_ERR_INVALID_ARGUMENT, obj->offset, 0,
                                  "%s: expected an object", desc->name);
    for (const rpb_json_value *m = obj->u.children.head; m != NULL; m = m->next) {
        int key_len = m->key.len > 64 ? 64 : (int)m->key.len;
        const rpb_field_desc *f =
            rpb_field_by_name(desc, (const char *)m->key.data, m->key.len);
        if (f == NULL)
            return rpb_errinfo_printf(r->err, RPB_ERR_INVALID_ARGUMENT, m->offset, 0,
                                      "%s has no field \"%.*s\"", desc->name, key_len,
                                      (const char *)m->key.data);
        for (const rpb_json_value *o = obj->u.children.head; o != m; o = o->next) {
            if (rpb_slice_eq(o->key, m->key))
                return rpb_errinfo_printf(r->err, RPB_ERR_INVALID_ARGUMENT, m->offset, 0,
                                          "%s: key \"%s\" given twice", desc->name, f->name);
        }
        if (f->flags & RPB_FIELD_ONEOF) {
            uint32_t *arm = (uint32_t *)((char *)msg + desc->oneof_case_offset);
            if (*arm != 0)
                return rpb_errinfo_printf(r->err, RPB_ERR_INVALID_ARGUMENT, m->offset, 0,
                                          "%s: more than one arm of oneof %s", desc->name,
                                          desc->oneof_name);
            *arm = f->number;
        } else if (f->flags & RPB_FIELD_PRESENCE) {
            *(bool *)((char *)msg + f->presence_offset) = true;
        }
        int rc = read_field(r, m, desc, f, msg);
        if (rc != RPB_OK)
            return rc;
    }
    return RPB_OK;
}

int rpb_json_to_message(rpb_json_doc *doc, const rpb_json_value *obj, const rpb_msg_desc *desc,
                        void *msg, rpb_arena *arena, rpb_errinfo *err)
{
    if (doc == NULL || obj == NULL || desc == NULL || msg == NULL)
        return rpb_errinfo_printf(err, RPB_ERR_INVALID_ARGUMENT, 0, 0, "invalid argument");
    rpb_msg_init(desc, msg);
    reader r = {.doc = doc, .arena = arena, .err = err};
    return read_message(&r, obj, desc, msg);
}
