/*
 * encode.c - rpb-dump's encoding direction: JSON document -> bytes, the
 * inverse of dump.c (same document shape).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

typedef struct encoder {
    rpb_json_doc doc;
    rpb_arena arena;
    void *arena_mem;
    uint8_t *payload; /* encoded payload, when built from "payload" */
} encoder;

static int fail(const rpb_json_value *at, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(const rpb_json_value *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("rpb-dump: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (at != NULL)
        fprintf(stderr, " (JSON offset %zu)", at->offset);
    fputc('\n', stderr);
    return DUMP_EXIT_DECODE;
}

static int mapping_fail(int rc, const rpb_errinfo *err)
{
    fprintf(stderr, "rpb-dump: %s (JSON offset %zu)\n",
            rc == RPB_ERR_INVALID_ARGUMENT ? err->message : rpb_strerror(rc), err->offset);
    return DUMP_EXIT_DECODE;
}

/* Encodes msg of type desc into a malloc'd buffer *out of *len bytes,
 * after `prefix` bytes copied from pre. */
static int encode_message(const rpb_msg_desc *desc, const void *msg, const uint8_t *pre,
                          size_t prefix, uint8_t **out, size_t *len)
{
    size_t n = rpb_encoded_len(desc, msg);
    uint8_t *buf = malloc(prefix + n + 1);
    if (buf == NULL)
        return fail(NULL, "out of memory");
    if (prefix > 0)
        memcpy(buf, pre, prefix);
    size_t written;
    if (rpb_encode(desc, msg, buf + prefix, n, &written) != RPB_OK) {
        free(buf);
        return fail(NULL, "encoding failed");
    }
    *out = buf;
    *len = prefix + written;
    return DUMP_EXIT_OK;
}

/* Reads the 32-byte nonce of a probe payload object. */
static int read_nonce(const rpb_json_value *obj, uint8_t nonce[PROBE_NONCE_BYTES])
{
    const rpb_json_value *v = rpb_json_get(obj, "nonce");
    size_t n;
    if (v == NULL || v->type != RPB_JSON_STRING)
        return fail(obj, "probe payload needs \"nonce\": a hex string");
    if (rpb_hex_decode((const char *)v->u.string.data, v->u.string.len, nonce,
                       PROBE_NONCE_BYTES, &n) != RPB_OK ||
        n != PROBE_NONCE_BYTES)
        return fail(v, "\"nonce\" must be 64 hex digits (32 bytes)");
    return DUMP_EXIT_OK;
}

/* Builds the bytes of the payload object v of type t into e->payload. */
static int build_payload(encoder *e, const payload_type *t, const rpb_json_value *v, size_t *len)
{
    if (v->type != RPB_JSON_OBJECT)
        return fail(v, "\"payload\" must be an object");
    uint8_t nonce[PROBE_NONCE_BYTES];
    const rpb_msg_desc *desc = t->desc;
    const rpb_json_value *msg_json = v;
    size_t prefix = 0;
    if (t->kind == PAYLOAD_PROBE_REQUEST || t->kind == PAYLOAD_PROBE_RESPONSE) {
        const char *allowed = t->kind == PAYLOAD_PROBE_RESPONSE ? "daemon_process" : "nonce";
        for (const rpb_json_value *m = v->u.children.head; m != NULL; m = m->next)
            if (!rpb_slice_eq_cstr(m->key, "nonce") && !rpb_slice_eq_cstr(m->key, allowed))
                return fail(m, "unknown key in the %s payload", t->name);
        int rc = read_nonce(v, nonce);
        if (rc != DUMP_EXIT_OK)
            return rc;
        if (t->kind == PAYLOAD_PROBE_REQUEST) {
            e->payload = malloc(PROBE_NONCE_BYTES);
            if (e->payload == NULL)
                return fail(NULL, "out of memory");
            memcpy(e->payload, nonce, PROBE_NONCE_BYTES);
            *len = PROBE_NONCE_BYTES;
            return DUMP_EXIT_OK;
        }
        msg_json = rpb_json_get(v, "daemon_process");
        if (msg_json == NULL)
            return fail(v, "probe-response payload needs \"daemon_process\"");
        desc = &rpb_daemon_process_desc;
        prefix = PROBE_NONCE_BYTES;
    }
    void *msg = malloc(desc->size);
    if (msg == NULL)
        return fail(NULL, "out of memory");
    rpb_errinfo err;
    int rc = rpb_json_to_message(&e->doc, msg_json, desc, msg, &e->arena, &err);
    if (rc == RPB_OK)
        rc = encode_message(desc, msg, nonce, prefix, &e->payload, len);
    else
        rc = mapping_fail(rc, &err);
    free(msg);
    return rc;
}

/* Checks the optional "framing" object against the encoded body length. */
static int check_framing(const rpb_json_value *framing, size_t body_len)
{
    if (framing->type != RPB_JSON_OBJECT)
        return fail(framing, "\"framing\" must be an object");
    for (const rpb_json_value *m = framing->u.children.head; m != NULL; m = m->next) {
        uint64_t v;
        if (rpb_slice_eq_cstr(m->key, "version")) {
            if (!rpb_json_as_u64(m, &v) || v != RPB_FRAMING_VERSION)
                return fail(m, "framing.version must be 1");
        } else if (rpb_slice_eq_cstr(m->key, "body_length")) {
            if (!rpb_json_as_u64(m, &v) || v != body_len)
                return fail(m, "framing.body_length does not match the encoded body (%zu bytes)",
                            body_len);
        } else {
            return fail(m, "unknown key in \"framing\"");
        }
    }
    return DUMP_EXIT_OK;
}

/* Builds the Frame of a framed/body document. */
static int build_frame(encoder *e, const dump_options *opt, rpb_frame *frame,
                       const rpb_json_value **framing)
{
    const rpb_json_value *root = e->doc.root;
    if (root->type != RPB_JSON_OBJECT)
        return fail(root, "the document must be an object");
    const rpb_json_value *frame_json = NULL, *payload = NULL, *payload_message = NULL;
    for (const rpb_json_value *m = root->u.children.head; m != NULL; m = m->next) {
        if (rpb_slice_eq_cstr(m->key, "frame"))
            frame_json = m;
        else if (rpb_slice_eq_cstr(m->key, "payload"))
            payload = m;
        else if (rpb_slice_eq_cstr(m->key, "payload_message"))
            payload_message = m;
        else if (rpb_slice_eq_cstr(m->key, "framing") && opt->mode == MODE_FRAMED)
            *framing = m;
        /* informational parts of rpb-dump's output */
        else if (!rpb_slice_eq_cstr(m->key, "envelope") &&
                 !rpb_slice_eq_cstr(m->key, "payload_error"))
            return fail(m, "unknown key \"%.*s\"", (int)(m->key.len > 64 ? 64 : m->key.len),
                        (const char *)m->key.data);
    }
    if (frame_json == NULL)
        return fail(root, "the document needs \"frame\"");
    rpb_errinfo err;
    int rc = rpb_json_to_message(&e->doc, frame_json, &rpb_frame_desc, frame, &e->arena, &err);
    if (rc != RPB_OK)
        return mapping_fail(rc, &err);
    if (payload == NULL)
        return DUMP_EXIT_OK;

    payload_type t = payload_type_for(frame->payload_protocol, frame->kind);
    if (payload_message != NULL) {
        if (payload_message->type != RPB_JSON_STRING ||
            !payload_type_by_name((const char *)payload_message->u.string.data,
                                  payload_message->u.string.len, &t))
            return fail(payload_message, "unknown payload_message");
    } else if (t.kind == PAYLOAD_UNKNOWN) {
        return fail(payload, "\"payload\" given but payload_protocol %u kind %d has no known "
                             "payload message: add \"payload_message\"",
                    (unsigned)frame->payload_protocol, (int)frame->kind);
    }
    size_t len = 0;
    rc = build_payload(e, &t, payload, &len);
    if (rc != DUMP_EXIT_OK)
        return rc;
    if (frame->payload.len == 0) {
        frame->payload = (rpb_slice){e->payload, len};
    } else if (!rpb_slice_eq(frame->payload, (rpb_slice){e->payload, len})) {
        /* frame.payload keeps non-canonical payload bytes byte-exact */
        fprintf(stderr, "rpb-dump: note: frame.payload kept; \"payload\" encodes to other "
                        "bytes\n");
    }
    return DUMP_EXIT_OK;
}

/* Writes bytes raw or as one line of hex. */
static int emit(const dump_options *opt, const uint8_t *bytes, size_t len, FILE *out)
{
    bool ok;
    if (opt->hex_output) {
        char *hex = malloc(2 * len + 1);
        if (hex == NULL)
            return fail(NULL, "out of memory");
        rpb_hex_encode(bytes, len, hex);
        ok = fprintf(out, "%s\n", hex) >= 0;
        free(hex);
    } else {
        ok = fwrite(bytes, 1, len, out) == len;
    }
    if (!ok || fflush(out) != 0) {
        fprintf(stderr, "rpb-dump: writing the output failed\n");
        return DUMP_EXIT_USAGE;
    }
    return DUMP_EXIT_OK;
}

static int encode_document(encoder *e, const dump_options *opt, FILE *out)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc;
    if (opt->mode == MODE_MESSAGE) {
        void *msg = malloc(opt->message->size);
        if (msg == NULL)
            return fail(NULL, "out of memory");
        rpb_errinfo err;
        int mrc = rpb_json_to_message(&e->doc, e->doc.root, opt->message, msg, &e->arena, &err);
        rc = mrc == RPB_OK ? encode_message(opt->message, msg, NULL, 0, &bytes, &len)
                           : mapping_fail(mrc, &err);
        free(msg);
    } else {
        rpb_frame frame;
        const rpb_json_value *framing = NULL;
        rc = build_frame(e, opt, &frame, &framing);
        if (rc != DUMP_EXIT_OK)
            return rc;
        if (opt->mode == MODE_BODY) {
            rc = encode_message(&rpb_frame_desc, &frame, NULL, 0, &bytes, &len);
        } else {
            len = rpb_frame_encoded_len(&frame);
            bytes = malloc(len);
            if (bytes == NULL)
                return fail(NULL, "out of memory");
            /* FRAME-008: a body over 16 MiB is refused */
            int frc = rpb_frame_encode(&frame, bytes, len, &len);
            rc = frc == RPB_OK ? DUMP_EXIT_OK : fail(NULL, "%s", rpb_strerror(frc));
            if (rc == DUMP_EXIT_OK && framing != NULL)
                rc = check_framing(framing, len - RPB_FRAME_HEADER_BYTES);
        }
    }
    if (rc == DUMP_EXIT_OK)
        rc = emit(opt, bytes, len, out);
    free(bytes);
    return rc;
}

int dump_encode(const dump_options *opt, const char *text, size_t len, FILE *out)
{
    encoder e = {0};
    rpb_errinfo err;
    int rc = rpb_json_parse(text, len, &e.doc, &err);
    if (rc != RPB_OK) {
        fprintf(stderr, "rpb-dump: invalid JSON at offset %zu: %s\n", err.offset, err.message);
        return DUMP_EXIT_DECODE;
    }
    /* lists and maps of the document; rpb_arena_bound of the text is enough */
    size_t cap = rpb_arena_bound(len);
    e.arena_mem = malloc(cap);
    if (e.arena_mem == NULL) {
        rc = fail(NULL, "out of memory");
    } else {
        rpb_arena_init(&e.arena, e.arena_mem, cap);
        rc = encode_document(&e, opt, out);
    }
    free(e.payload);
    free(e.arena_mem);
    rpb_json_doc_free(&e.doc);
    return rc;
}
