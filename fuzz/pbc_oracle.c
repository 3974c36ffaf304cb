/*
 * pbc_oracle.c - librpb vs protobuf-c: descriptor matching, schema check,
 * wire scan and decoded-value comparison (fuzz/pbc_oracle.h).
 */
#include <stdlib.h>
#include <string.h>

#include "broker_v1_admin.pb-c.h"
#include "broker_v1_envelope.pb-c.h"
#include "broker_v1_manifest.pb-c.h"
#include "broker_v1_service.pb-c.h"
#include "fuzz.h"
#include "pbc_oracle.h"

static const ProtobufCMessageDescriptor *const pbc_messages[] = {
    &running_process__broker__v1__frame__descriptor,
    &running_process__broker__v1__hello__descriptor,
    &running_process__broker__v1__hello_reply__descriptor,
    &running_process__broker__v1__negotiated__descriptor,
    &running_process__broker__v1__refused__descriptor,
    &running_process__broker__v1__handoff_offer__descriptor,
    &running_process__broker__v1__handoff_ack__descriptor,
    &running_process__broker__v1__endpoint__descriptor,
    &running_process__broker__v1__daemon_process__descriptor,
    &running_process__broker__v1__host_identity__descriptor,
    &running_process__broker__v1__service_definition__descriptor,
    &running_process__broker__v1__admin_request__descriptor,
    &running_process__broker__v1__admin_reply__descriptor,
};

static const ProtobufCMessageDescriptor *lookup(const rpb_msg_desc *desc)
{
    for (size_t i = 0; i < sizeof pbc_messages / sizeof pbc_messages[0]; i++)
        if (strcmp(pbc_messages[i]->name, desc->full_name) == 0)
            return pbc_messages[i];
    fz_fail("no protobuf-c message %s generated from proto/", desc->full_name);
}

/* Whether the protobuf-c field shape matches the librpb field type. */
static bool same_shape(const rpb_field_desc *f, const ProtobufCFieldDescriptor *pf)
{
    bool repeated = pf->label == PROTOBUF_C_LABEL_REPEATED;
    switch ((enum rpb_field_type)f->type) {
    case RPB_FT_UINT32:
        return !repeated && pf->type == PROTOBUF_C_TYPE_UINT32;
    case RPB_FT_UINT64:
        return !repeated && pf->type == PROTOBUF_C_TYPE_UINT64;
    case RPB_FT_ENUM:
        return !repeated && pf->type == PROTOBUF_C_TYPE_ENUM;
    case RPB_FT_BOOL:
        return !repeated && pf->type == PROTOBUF_C_TYPE_BOOL;
    case RPB_FT_STRING:
        return !repeated && pf->type == PROTOBUF_C_TYPE_STRING;
    case RPB_FT_BYTES:
        return !repeated && pf->type == PROTOBUF_C_TYPE_BYTES;
    case RPB_FT_MESSAGE:
        return !repeated && pf->type == PROTOBUF_C_TYPE_MESSAGE &&
               strcmp(((const ProtobufCMessageDescriptor *)pf->descriptor)->name,
                      f->message->full_name) == 0;
    case RPB_FT_STRING_LIST:
        return repeated && pf->type == PROTOBUF_C_TYPE_STRING;
    case RPB_FT_STRING_MAP:
        /* map<string,string> is a repeated entry message {1: key, 2: value}. */
        if (!repeated || pf->type != PROTOBUF_C_TYPE_MESSAGE)
            return false;
        const ProtobufCMessageDescriptor *entry = pf->descriptor;
        const ProtobufCFieldDescriptor *k = protobuf_c_message_descriptor_get_field(entry, 1);
        const ProtobufCFieldDescriptor *v = protobuf_c_message_descriptor_get_field(entry, 2);
        return entry->n_fields == 2 && k && v && k->type == PROTOBUF_C_TYPE_STRING &&
               v->type == PROTOBUF_C_TYPE_STRING;
    }
    return false;
}

/* WIRE-018: librpb's descriptors describe exactly the messages of proto/. */
static void check_schema(void)
{
    for (size_t m = 0; rpb_all_messages[m]; m++) {
        const rpb_msg_desc *desc = rpb_all_messages[m];
        const ProtobufCMessageDescriptor *pd = lookup(desc);
        FZ_CHECK(pd->n_fields == desc->n_fields, "%s: %zu fields in librpb, %u in proto/",
                 desc->name, desc->n_fields, pd->n_fields);
        for (size_t i = 0; i < desc->n_fields; i++) {
            const rpb_field_desc *f = &desc->fields[i];
            const ProtobufCFieldDescriptor *pf =
                protobuf_c_message_descriptor_get_field(pd, f->number);
            FZ_CHECK(pf != NULL, "%s.%s: field %u not in proto/", desc->name, f->name, f->number);
            FZ_CHECK(strcmp(pf->name, f->name) == 0, "%s field %u: named %s in librpb, %s in proto/",
                     desc->name, f->number, f->name, pf->name);
            FZ_CHECK(same_shape(f, pf), "%s.%s: type differs from proto/", desc->name, f->name);
        }
    }
}

const ProtobufCMessageDescriptor *pbc_descriptor(const rpb_msg_desc *desc)
{
    static bool checked;
    if (!checked) {
        check_schema();
        checked = true;
    }
    return lookup(desc);
}

/* ---- wire scan ---- */

static const rpb_field_desc *field_by_number(const rpb_msg_desc *desc, uint32_t number)
{
    for (size_t i = 0; desc && i < desc->n_fields; i++)
        if (desc->fields[i].number == number)
            return &desc->fields[i];
    return NULL;
}

/* desc NULL: a map entry (two string fields, nothing to recurse into). */
static void scan(const rpb_msg_desc *desc, const uint8_t *in, size_t len, pbc_wire_facts *facts)
{
    uint32_t seen[16];
    size_t n_seen = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t start = pos;
        uint64_t key, v;
        if (rpb_varint_read(in, len, &pos, &key) != RPB_OK)
            fz_fail("pbc_scan: bad key at %zu in input librpb accepted", start);
        if (pos - start > 5)
            facts->long_varint = true;
        uint32_t number = (uint32_t)(key >> 3);
        switch (key & 7) {
        case 0:
            if (rpb_varint_read(in, len, &pos, &v) != RPB_OK)
                fz_fail("pbc_scan: bad varint at %zu in input librpb accepted", pos);
            break;
        case 1:
        case 5: {
            size_t width = (key & 7) == 1 ? 8 : 4;
            if (len - pos < width)
                fz_fail("pbc_scan: short fixed field at %zu in input librpb accepted", pos);
            pos += width;
            break;
        }
        case 2: {
            size_t lstart = pos;
            if (rpb_varint_read(in, len, &pos, &v) != RPB_OK || v > len - pos)
                fz_fail("pbc_scan: bad length at %zu in input librpb accepted", lstart);
            if (pos - lstart > 5)
                facts->long_varint = true;
            const rpb_field_desc *f = field_by_number(desc, number);
            if (f && f->type == RPB_FT_MESSAGE) {
                for (size_t i = 0; i < n_seen; i++)
                    if (seen[i] == number)
                        facts->repeated_message = true;
                if (n_seen < sizeof seen / sizeof seen[0])
                    seen[n_seen++] = number;
                scan(f->message, in + pos, (size_t)v, facts);
            } else if (f && f->type == RPB_FT_STRING_MAP) {
                scan(NULL, in + pos, (size_t)v, facts);
            }
            pos += (size_t)v;
            break;
        }
        default: /* 3, 4: groups (6 and 7 never pass librpb) */
            facts->group = true;
            return;
        }
    }
}

void pbc_scan(const rpb_msg_desc *desc, const uint8_t *in, size_t len, pbc_wire_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    scan(desc, in, len, facts);
}

/* ---- value comparison ---- */

static bool pbc_present(const ProtobufCFieldDescriptor *pf, const ProtobufCMessage *pmsg)
{
    const uint8_t *base = (const uint8_t *)pmsg;
    if (pf->label == PROTOBUF_C_LABEL_REPEATED)
        return true;
    if (pf->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + pf->quantifier_offset) == pf->id;
    if (pf->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(ProtobufCMessage *const *)(base + pf->offset) != NULL;
    if (pf->label == PROTOBUF_C_LABEL_OPTIONAL && pf->quantifier_offset)
        return *(const protobuf_c_boolean *)(base + pf->quantifier_offset);
    return true;
}

/* A librpb string against a protobuf-c NUL-terminated copy of it. */
static bool string_equal(rpb_slice s, const char *c, bool *saw_nul)
{
    const uint8_t *nul = s.len ? memchr(s.data, 0, s.len) : NULL;
    size_t want = s.len;
    if (nul) {
        *saw_nul = true;
        want = (size_t)(nul - s.data);
    }
    if (!c)
        c = "";
    return strlen(c) == want && (want == 0 || memcmp(c, s.data, want) == 0);
}

const char *pbc_diff(const rpb_msg_desc *desc, const void *rmsg, const ProtobufCMessage *pmsg,
                     bool *saw_nul)
{
    const ProtobufCMessageDescriptor *pd = pmsg->descriptor;
    for (size_t i = 0; i < desc->n_fields; i++) {
        const rpb_field_desc *f = &desc->fields[i];
        const ProtobufCFieldDescriptor *pf = protobuf_c_message_descriptor_get_field(pd, f->number);
        const void *r = (const uint8_t *)rmsg + f->offset;
        const void *p = (const uint8_t *)pmsg + pf->offset;
        bool rp = fz_field_present(desc, f, rmsg), pp = pbc_present(pf, pmsg);

        if (f->type == RPB_FT_MESSAGE && !(f->flags & (RPB_FIELD_ONEOF | RPB_FIELD_PRESENCE))) {
            /* librpb has no presence here: absent in protobuf-c = all defaults. */
            if (!pp) {
                if (rpb_encoded_len(f->message, r) != 0)
                    return f->name;
                continue;
            }
        } else if (rp != pp) {
            return f->name;
        }
        if (!rp)
            continue;

        bool same = true;
        switch ((enum rpb_field_type)f->type) {
        case RPB_FT_UINT32:
            same = *(const uint32_t *)r == *(const uint32_t *)p;
            break;
        case RPB_FT_UINT64:
            same = *(const uint64_t *)r == *(const uint64_t *)p;
            break;
        case RPB_FT_ENUM:
            same = *(const int32_t *)r == (int32_t) * (const int *)p;
            break;
        case RPB_FT_BOOL:
            same = *(const bool *)r == (*(const protobuf_c_boolean *)p != 0);
            break;
        case RPB_FT_STRING:
            same = string_equal(*(const rpb_slice *)r, *(char *const *)p, saw_nul);
            break;
        case RPB_FT_BYTES: {
            const rpb_slice *s = r;
            const ProtobufCBinaryData *b = p;
            same = s->len == b->len && (s->len == 0 || memcmp(s->data, b->data, s->len) == 0);
            break;
        }
        case RPB_FT_MESSAGE: {
            const char *inner = pbc_diff(f->message, r, *(ProtobufCMessage *const *)p, saw_nul);
            if (inner)
                return inner;
            break;
        }
        case RPB_FT_STRING_LIST: {
            const rpb_strlist *list = r;
            size_t n = *(const size_t *)((const uint8_t *)pmsg + pf->quantifier_offset);
            char *const *items = *(char *const *const *)p;
            same = list->count == n;
            size_t k = 0;
            for (const rpb_str_node *x = list->head; same && x; x = x->next, k++)
                same = k < n && string_equal(x->value, items[k], saw_nul);
            break;
        }
        case RPB_FT_STRING_MAP: {
            /* Both keep every entry in wire order (duplicates too). */
            const rpb_map *map = r;
            size_t n = *(const size_t *)((const uint8_t *)pmsg + pf->quantifier_offset);
            ProtobufCMessage *const *entries = *(ProtobufCMessage *const *const *)p;
            const ProtobufCMessageDescriptor *ed = pf->descriptor;
            size_t koff = protobuf_c_message_descriptor_get_field(ed, 1)->offset;
            size_t voff = protobuf_c_message_descriptor_get_field(ed, 2)->offset;
            same = map->count == n;
            size_t k = 0;
            for (const rpb_map_node *x = map->head; same && x; x = x->next, k++) {
                const uint8_t *e = (const uint8_t *)entries[k];
                same = k < n && string_equal(x->key, *(char *const *)(e + koff), saw_nul) &&
                       string_equal(x->value, *(char *const *)(e + voff), saw_nul);
            }
            break;
        }
        }
        if (!same)
            return f->name;
    }
    return NULL;
}
