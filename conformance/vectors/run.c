/*
 * run.c - executes one golden vector against librpb, as vectors/README.md
 * ("How each kind is run", "Results") prescribes.
 */
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

#define FAIL(t, ...) vec_fail((t), __FILE__, __LINE__, __VA_ARGS__)

/* ---- reading the test ---- */

/* The string member key of obj (NUL-terminated by the parser), or NULL. */
static const char *get_str(const rpb_json_value *obj, const char *key)
{
    const rpb_json_value *v = rpb_json_get(obj, key);
    return v != NULL && v->type == RPB_JSON_STRING ? (const char *)v->u.string.data : NULL;
}

/* Decodes the test's "input" into a malloc'd buffer (never NULL on success). */
static bool load_input(vec_test *t, uint8_t **data, size_t *len)
{
    const rpb_json_value *hex = rpb_json_get(t->test, "input");
    if (hex == NULL || hex->type != RPB_JSON_STRING) {
        FAIL(t, "\"input\" missing or not a string");
        return false;
    }
    *data = malloc(hex->u.string.len / 2 + 1);
    if (*data == NULL ||
        rpb_hex_decode((const char *)hex->u.string.data, hex->u.string.len, *data,
                       hex->u.string.len / 2, len) != RPB_OK) {
        FAIL(t, "\"input\" is not hex");
        free(*data);
        return false;
    }
    return true;
}

/* The group's decode options as RPB_DECODE_* bits. */
static bool load_options(vec_test *t, unsigned *out)
{
    *out = 0;
    const rpb_json_value *opts = rpb_json_get(t->group, "options");
    if (opts == NULL)
        return true;
    if (opts->type != RPB_JSON_ARRAY) {
        FAIL(t, "group \"options\" is not an array");
        return false;
    }
    for (const rpb_json_value *o = opts->u.children.head; o != NULL; o = o->next) {
        if (rpb_json_is_string(o, "strict-map-wire-type")) {
            *out |= RPB_DECODE_STRICT_MAP_WIRE_TYPE; /* WIRE-009 */
        } else {
            FAIL(t, "unknown decode option in the group");
            return false;
        }
    }
    return true;
}

/* A uint64 member of obj, def when absent. */
static bool get_u64(vec_test *t, const rpb_json_value *obj, const char *key, uint64_t def,
                    uint64_t *out)
{
    const rpb_json_value *v = rpb_json_get(obj, key);
    *out = def;
    if (v == NULL)
        return true;
    if (!rpb_json_as_u64(v, out)) {
        FAIL(t, "\"%s\" is not an unsigned integer", key);
        return false;
    }
    return true;
}

static const char *class_of(int rc)
{
    const char *name = rpb_errname(rc);
    return name != NULL ? name : "(unknown code)";
}

/* Compares the result rc of an invalid test with its "error". */
static void check_error(vec_test *t, int rc, const char *what)
{
    const char *want = get_str(t->test, "error");
    if (want == NULL) {
        FAIL(t, "invalid test without \"error\"");
        return;
    }
    if (rc == RPB_OK || strcmp(class_of(rc), want) != 0)
        FAIL(t, "%s: got %s, want %s", what, class_of(rc), want);
}

/* ---- comparing decoded messages with "expected" ---- */

/* Writes v compactly into a malloc'd NUL-terminated string. */
static char *to_text(const rpb_msg_desc *desc, const void *msg, const rpb_json_value *v)
{
    rpb_buf buf = {0};
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, &buf, 0);
    if (desc != NULL)
        rpb_json_write_message(&w, desc, msg);
    else
        rpb_json_value_write(&w, v);
    if (rpb_json_writer_finish(&w) != RPB_OK) {
        rpb_buf_free(&buf);
        return NULL;
    }
    return (char *)buf.data;
}

/* msg (of type desc) maps to JSON equal to the test's "expected". */
static void check_expected(vec_test *t, const rpb_msg_desc *desc, const void *msg,
                           const char *what)
{
    const rpb_json_value *expected = rpb_json_get(t->test, "expected");
    if (expected == NULL) {
        FAIL(t, "valid test without \"expected\"");
        return;
    }
    char *got = to_text(desc, msg, NULL);
    rpb_json_doc doc = {0};
    rpb_errinfo err;
    if (got == NULL || rpb_json_parse(got, strlen(got), &doc, &err) != RPB_OK) {
        FAIL(t, "%s: the decoded %s does not map to JSON", what, desc->name);
    } else if (!rpb_json_equal(doc.root, expected)) {
        char *want = to_text(NULL, NULL, expected);
        FAIL(t, "%s: decoded %s differs\n        got  %s\n        want %s", what, desc->name,
             got, want != NULL ? want : "?");
        free(want);
    }
    rpb_json_doc_free(&doc);
    free(got);
}

/* Encodes msg into a malloc'd buffer. */
static uint8_t *encode(vec_test *t, const rpb_msg_desc *desc, const void *msg, size_t *len)
{
    size_t n = rpb_encoded_len(desc, msg);
    uint8_t *out = malloc(n + 1);
    size_t written = 0;
    if (out == NULL || rpb_encode(desc, msg, out, n, &written) != RPB_OK || written != n) {
        FAIL(t, "re-encoding the decoded %s failed", desc->name);
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}

/* WIRE-020: the canonical re-encoding enc[0..n) (framed for framed tests)
 * is the test's "reencoded"; null there means it is not unique (two or more
 * map entries) and is not compared. */
static void check_reencoded(vec_test *t, const uint8_t *enc, size_t n)
{
    const rpb_json_value *want = rpb_json_get(t->test, "reencoded");
    if (want != NULL && want->type == RPB_JSON_NULL)
        return;
    if (want == NULL || want->type != RPB_JSON_STRING) {
        FAIL(t, "\"reencoded\" missing or neither a hex string nor null");
        return;
    }
    char *hex = malloc(2 * n + 1);
    if (hex == NULL) {
        FAIL(t, "out of memory");
        return;
    }
    rpb_hex_encode(enc, n, hex);
    if (strcmp(hex, (const char *)want->u.string.data) != 0)
        FAIL(t, "the canonical re-encoding differs from \"reencoded\"\n        got  %s\n        want %s",
             hex, (const char *)want->u.string.data);
    free(hex);
}

static bool is_canonical(const vec_test *t)
{
    const rpb_json_value *c = rpb_json_get(t->test, "canonical");
    return c != NULL && c->type == RPB_JSON_BOOL && c->u.boolean;
}

/*
 * The checks every accepted message gets: it equals "expected"; its
 * canonical re-encoding (WIRE-020) is "reencoded" (unless framed: the
 * caller compares the framed encoding) and reproduces body when the test
 * says canonical; the re-encoding decodes to "expected" again; and
 * "expected" itself, read back through the JSON mapping, maps to the same
 * JSON.
 */
static void check_accepted(vec_test *t, const rpb_msg_desc *desc, const void *msg,
                           const uint8_t *body, size_t body_len, unsigned options, bool framed)
{
    check_expected(t, desc, msg, "decode");
    size_t n;
    uint8_t *enc = encode(t, desc, msg, &n);
    if (enc == NULL)
        return;
    if (!framed)
        check_reencoded(t, enc, n);
    if (is_canonical(t) && (n != body_len || memcmp(enc, body, n) != 0))
        FAIL(t, "canonical re-encoding differs from the input (%zu vs %zu bytes)", n, body_len);

    rpb_decoded again = {0};
    rpb_errinfo ei = {0};
    int rc = rpb_decode_alloc(desc, enc, n, options, &again, &ei);
    if (rc != RPB_OK)
        FAIL(t, "the re-encoding does not decode: %s at offset %zu", class_of(rc), ei.offset);
    else
        check_expected(t, desc, again.msg, "re-decode of the re-encoding");
    rpb_decoded_free(&again);

    const rpb_json_value *expected = rpb_json_get(t->test, "expected");
    size_t cap = rpb_arena_bound(body_len);
    void *arena_mem = malloc(cap);
    void *from_json = malloc(desc->size);
    if (expected != NULL && arena_mem != NULL && from_json != NULL) {
        rpb_arena arena;
        rpb_arena_init(&arena, arena_mem, cap);
        rpb_errinfo err;
        rc = rpb_json_to_message(t->doc, expected, desc, from_json, &arena, &err);
        if (rc != RPB_OK)
            FAIL(t, "\"expected\" does not map back to a %s: %s", desc->name, err.message);
        else
            check_expected(t, desc, from_json, "JSON mapping round trip");
    }
    free(from_json);
    free(arena_mem);
    free(enc);
}

/* The strict decode option an acceptable test's flag names (vectors/README.md
 * "Results"); 0 when it names none. */
static unsigned strict_option_of(const vec_test *t)
{
    const rpb_json_value *flags = rpb_json_get(t->test, "flags");
    if (flags == NULL || flags->type != RPB_JSON_ARRAY)
        return 0;
    for (const rpb_json_value *f = flags->u.children.head; f != NULL; f = f->next)
        if (rpb_json_is_string(f, "MapFieldWireType"))
            return RPB_DECODE_STRICT_MAP_WIRE_TYPE; /* WIRE-009 */
    return 0;
}

/* An acceptable input is rejected once its flag's strict option is on. */
static void check_acceptable(vec_test *t, const rpb_msg_desc *desc, const uint8_t *body,
                             size_t len, unsigned options)
{
    unsigned strict = strict_option_of(t);
    if (strict == 0) {
        FAIL(t, "acceptable test without a flag naming a strict option");
        return;
    }
    rpb_decoded d = {0};
    int rc = rpb_decode_alloc(desc, body, len, options | strict, &d, NULL);
    rpb_decoded_free(&d);
    if (rc == RPB_OK)
        FAIL(t, "accepted under its strict option too");
}

/* ---- framing (FRAME-*) ---- */

static bool get_cap(vec_test *t, uint32_t *cap)
{
    uint64_t v;
    if (!get_u64(t, t->group, "cap", RPB_MAX_FRAME_BYTES, &v))
        return false;
    if (v > UINT32_MAX) {
        FAIL(t, "group cap out of range");
        return false;
    }
    *cap = (uint32_t)v;
    return true;
}

/* FRAME-009: every strict prefix of in[0..n) (and in[0..n) itself when
 * whole is true) gives need-more. */
static void check_need_more(vec_test *t, const uint8_t *in, size_t n, uint32_t cap, bool whole)
{
    for (size_t k = 0; k < n + (whole ? 1 : 0); k++) {
        rpb_slice body;
        size_t consumed;
        int rc = rpb_frame_split(in, k, cap, &body, &consumed, NULL);
        if (rc != RPB_NEED_MORE) {
            FAIL(t, "a prefix of %zu bytes gives %s, want need-more", k, class_of(rc));
            return;
        }
    }
}

/* kind "framing": split the stream repeatedly; bodies are not decoded. */
static void run_framing(vec_test *t, const uint8_t *in, size_t len, const char *result)
{
    uint32_t cap;
    if (!get_cap(t, &cap))
        return;
    bool valid = strcmp(result, "valid") == 0;
    const rpb_json_value *frames = rpb_json_get(t->test, "frames");
    if (valid && (frames == NULL || frames->type != RPB_JSON_ARRAY)) {
        FAIL(t, "valid framing test without \"frames\"");
        return;
    }
    const rpb_json_value *want = valid ? frames->u.children.head : NULL;
    size_t pos = 0, index = 0;
    /* at least one split: an empty stream is unexpected-eof (FRAME-007) */
    do {
        rpb_slice body;
        size_t consumed = 0;
        rpb_errinfo ei = {0};
        int rc = rpb_frame_split(in + pos, len - pos, cap, &body, &consumed, &ei);
        if (rc == RPB_NEED_MORE) {
            /* FRAME-007: need-more with the stream exhausted is unexpected-eof */
            check_need_more(t, in + pos, len - pos, cap, true);
            rc = RPB_ERR_UNEXPECTED_EOF;
        }
        if (rc != RPB_OK) {
            if (valid)
                FAIL(t, "frame %zu at offset %zu: %s", index, pos, class_of(rc));
            else
                check_error(t, rc, "split");
            return;
        }
        if (valid) {
            check_need_more(t, in + pos, consumed, cap, false);
            uint64_t want_consumed;
            const char *want_body = want != NULL ? get_str(want, "body") : NULL;
            if (want_body == NULL || !get_u64(t, want, "consumed", 0, &want_consumed)) {
                FAIL(t, "more frames than \"frames\" lists, or a malformed entry");
                return;
            }
            char *hex = malloc(2 * body.len + 1);
            if (hex == NULL)
                return;
            rpb_hex_encode(body.data, body.len, hex);
            if (consumed != want_consumed || strcmp(hex, want_body) != 0)
                FAIL(t, "frame %zu: consumed %zu, want %llu; or its body differs", index,
                     consumed, (unsigned long long)want_consumed);
            free(hex);
            want = want->next;
        }
        pos += consumed;
        index++;
    } while (pos < len);
    if (!valid)
        FAIL(t, "the whole stream split without error, want %s", get_str(t->test, "error"));
    else if (want != NULL)
        FAIL(t, "the stream holds %zu frames, \"frames\" lists more", index);
}

/* kind "framed": the first frame of the stream, its body decoded as Frame. */
static void run_framed(vec_test *t, const uint8_t *in, size_t len, const char *result,
                       unsigned options)
{
    uint32_t cap;
    if (!get_cap(t, &cap))
        return;
    bool valid = strcmp(result, "invalid") != 0;
    rpb_slice body;
    size_t consumed = 0;
    rpb_errinfo ei = {0};
    int rc = rpb_frame_split(in, len, cap, &body, &consumed, &ei);
    if (rc == RPB_NEED_MORE) {
        check_need_more(t, in, len, cap, true);
        rc = RPB_ERR_UNEXPECTED_EOF; /* FRAME-007 */
    }
    if (rc != RPB_OK) {
        if (valid)
            FAIL(t, "split: %s", class_of(rc));
        else
            check_error(t, rc, "split");
        return;
    }
    rpb_frame frame;
    rpb_msg_init(&rpb_frame_desc, &frame);
    rc = rpb_decode(&rpb_frame_desc, body.data, body.len, &frame, NULL, options, &ei);
    if (!valid) {
        check_error(t, rc, "Frame decode");
        return;
    }
    if (rc != RPB_OK) {
        FAIL(t, "Frame decode: %s at body offset %zu", class_of(rc), ei.offset);
        return;
    }
    uint64_t want_consumed;
    if (get_u64(t, t->test, "consumed", 0, &want_consumed) && want_consumed != consumed)
        FAIL(t, "consumed %zu, want %llu", consumed, (unsigned long long)want_consumed);
    check_need_more(t, in, consumed, cap, false);
    check_accepted(t, &rpb_frame_desc, &frame, body.data, body.len, options, true);
    if (strcmp(result, "acceptable") == 0)
        check_acceptable(t, &rpb_frame_desc, body.data, body.len, options);
    /* the framed encoding (FRAME-002) is "reencoded", and the input itself
     * for a canonical frame */
    size_t n = rpb_frame_encoded_len(&frame), written = 0;
    uint8_t *out = malloc(n);
    if (out == NULL || rpb_frame_encode(&frame, out, n, &written) != RPB_OK) {
        FAIL(t, "rpb_frame_encode of the decoded Frame failed");
    } else {
        check_reencoded(t, out, written);
        if (is_canonical(t) && (written != consumed || memcmp(out, in, consumed) != 0))
            FAIL(t, "rpb_frame_encode does not reproduce the first %zu input bytes", consumed);
    }
    free(out);
}

/* kind "message": a bare body of the group's message type. */
static void run_message(vec_test *t, const uint8_t *in, size_t len, const char *result,
                        unsigned options)
{
    const char *name = get_str(t->group, "message");
    const rpb_msg_desc *desc = name != NULL ? rpb_msg_by_name(name) : NULL;
    if (desc == NULL) {
        FAIL(t, "group names no known \"message\"");
        return;
    }
    rpb_decoded d = {0};
    rpb_errinfo ei = {0};
    int rc = rpb_decode_alloc(desc, in, len, options, &d, &ei);
    if (strcmp(result, "invalid") == 0)
        check_error(t, rc, "decode");
    else if (rc != RPB_OK)
        FAIL(t, "decode: %s at offset %zu", class_of(rc), ei.offset);
    else
        check_accepted(t, desc, d.msg, in, len, options, false);
    if (rc == RPB_OK && strcmp(result, "acceptable") == 0)
        check_acceptable(t, desc, in, len, options);
    rpb_decoded_free(&d);
}

/* kind "envelope": a Frame body that decodes, then the site's check. */
static void run_envelope(vec_test *t, const uint8_t *in, size_t len, const char *result,
                         unsigned options)
{
    const char *site_name = get_str(t->group, "site");
    rpb_site site = site_name != NULL ? rpb_site_from_name(site_name) : RPB_SITE_COUNT;
    uint64_t request_id;
    if (site == RPB_SITE_COUNT) {
        FAIL(t, "group names no known \"site\"");
        return;
    }
    if (!get_u64(t, t->test, "request_id", 0, &request_id))
        return;
    rpb_frame frame;
    rpb_msg_init(&rpb_frame_desc, &frame);
    rpb_errinfo ei = {0};
    int rc = rpb_decode(&rpb_frame_desc, in, len, &frame, NULL, options, &ei);
    if (rc != RPB_OK) {
        FAIL(t, "the Frame body does not decode: %s at offset %zu", class_of(rc), ei.offset);
        return;
    }
    rc = rpb_envelope_check(&frame, site, request_id);
    if (strcmp(result, "invalid") == 0) {
        check_error(t, rc, site_name);
    } else if (rc != RPB_OK) {
        FAIL(t, "%s: %s", site_name, class_of(rc));
    } else {
        check_expected(t, &rpb_frame_desc, &frame, "decode");
        size_t n;
        uint8_t *enc = encode(t, &rpb_frame_desc, &frame, &n);
        if (enc != NULL)
            check_reencoded(t, enc, n);
        free(enc);
    }
}

/* ---- the probe kinds (spec/probe.md) ---- */

/* The group's "identity" as a DaemonProcess (slices into t->doc). */
static bool group_identity(vec_test *t, rpb_daemon_process *dp, rpb_arena *arena)
{
    const rpb_json_value *v = rpb_json_get(t->group, "identity");
    rpb_errinfo err;
    if (v == NULL ||
        rpb_json_to_message(t->doc, v, &rpb_daemon_process_desc, dp, arena, &err) != RPB_OK) {
        FAIL(t, "group \"identity\" missing or not a DaemonProcess");
        return false;
    }
    return true;
}

/* The bytes of the hex string member key of obj into out[0..cap). */
static bool get_hex(vec_test *t, const rpb_json_value *obj, const char *key, uint8_t *out,
                    size_t cap, size_t *len)
{
    const char *hex = get_str(obj, key);
    if (hex == NULL || rpb_hex_decode(hex, strlen(hex), out, cap, len) != RPB_OK) {
        FAIL(t, "\"%s\" missing, not hex or longer than %zu bytes", key, cap);
        return false;
    }
    return true;
}

/* kind "probe-request": a Frame body checked by the responder (PROBE-010);
 * a valid request's framed response carrying the group's identity
 * (PROBE-005) equals "response". */
static void run_probe_request(vec_test *t, const uint8_t *in, size_t len, const char *result)
{
    rpb_frame frame;
    rpb_msg_init(&rpb_frame_desc, &frame);
    if (rpb_decode(&rpb_frame_desc, in, len, &frame, NULL, 0, NULL) != RPB_OK) {
        FAIL(t, "the input does not decode as a Frame");
        return;
    }
    int rc = rpb_probe_request_check(&frame);
    if (strcmp(result, "invalid") == 0) {
        check_error(t, rc, "rpb_probe_request_check");
        return;
    }
    if (rc != RPB_OK) {
        FAIL(t, "rpb_probe_request_check: %s", class_of(rc));
        return;
    }
    uint8_t mem[1024], want[8192], got[8192];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_daemon_process self;
    size_t want_len, got_len;
    if (!group_identity(t, &self, &arena) ||
        !get_hex(t, t->test, "response", want, sizeof want, &want_len))
        return;
    rc = rpb_probe_response_encode(&frame, &self, got, sizeof got, &got_len);
    if (rc != RPB_OK || got_len != want_len || memcmp(got, want, got_len) != 0)
        FAIL(t, "rpb_probe_response_encode: %s, %zu bytes, want the %zu of \"response\"",
             class_of(rc), got_len, want_len);
}

/* kind "probe-response": a response Frame body checked by the requester
 * (PROBE-023..PROBE-028) for the group's nonce and expected identity. */
static void run_probe_response(vec_test *t, const uint8_t *in, size_t len, const char *result)
{
    uint8_t mem[1024], nonce[RPB_PROBE_NONCE_BYTES];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_daemon_process expected;
    size_t nonce_len;
    if (!group_identity(t, &expected, &arena) ||
        !get_hex(t, t->group, "nonce", nonce, sizeof nonce, &nonce_len))
        return;
    if (nonce_len != RPB_PROBE_NONCE_BYTES) {
        FAIL(t, "group \"nonce\" is not 32 bytes");
        return;
    }
    rpb_probe_reply r;
    int rc = rpb_probe_response_check(in, len, nonce, &expected, &r, NULL);
    if (strcmp(result, "invalid") == 0) {
        check_error(t, rc, "rpb_probe_response_check");
        const char *field = get_str(t->test, "field");
        if (field && (rc != RPB_ERR_IDENTITY_MISMATCH || strcmp(r.mismatch, field) != 0))
            FAIL(t, "first mismatching field %s, want %s",
                 rc == RPB_ERR_IDENTITY_MISMATCH ? r.mismatch : "(none)", field);
        return;
    }
    if (rc != RPB_OK)
        FAIL(t, "rpb_probe_response_check: %s", class_of(rc));
    else
        check_expected(t, &rpb_daemon_process_desc, &r.identity, "response identity");
}

/* kind "sidecar": the input is sidecar JSON text (IDENT-030, IDENT-031). */
static void run_sidecar(vec_test *t, const uint8_t *in, size_t len, const char *result)
{
    static rpb_identity id;
    int rc = rpb_sidecar_parse((const char *)in, len, &id);
    if (strcmp(result, "invalid") == 0)
        check_error(t, rc, "rpb_sidecar_parse");
    else if (rc != RPB_OK)
        FAIL(t, "rpb_sidecar_parse: %s", class_of(rc));
    else
        check_expected(t, &rpb_daemon_process_desc, &id.dp, "sidecar");
}

/* ---- the handoff kinds (spec/handoff.md) ---- */

/* The group's 16-byte "token". */
static bool group_token(vec_test *t, uint8_t token[RPB_HANDOFF_TOKEN_BYTES])
{
    size_t n;
    if (!get_hex(t, t->group, "token", token, RPB_HANDOFF_TOKEN_BYTES, &n))
        return false;
    if (n != RPB_HANDOFF_TOKEN_BYTES) {
        FAIL(t, "group \"token\" is not 16 bytes");
        return false;
    }
    return true;
}

/* kind "handoff-offer": the receiver's offer check (HANDOFF-042); a valid
 * offer's verdict (HANDOFF-043) equals "verdict" and its ACK "ack". */
static void run_handoff_offer(vec_test *t, const uint8_t *in, size_t len, const char *result)
{
    rpb_frame frame;
    rpb_handoff_offer offer;
    int rc = rpb_handoff_offer_check(in, len, &frame, &offer, NULL);
    if (strcmp(result, "invalid") == 0) {
        check_error(t, rc, "rpb_handoff_offer_check");
        return;
    }
    if (rc != RPB_OK) {
        FAIL(t, "rpb_handoff_offer_check: %s", class_of(rc));
        return;
    }
    check_expected(t, &rpb_handoff_offer_desc, &offer, "offer");
    int verdict = rpb_handoff_offer_verdict(&offer, NULL);
    const char *want = get_str(t->test, "verdict");
    if (want == NULL || strcmp(class_of(verdict), want) != 0)
        FAIL(t, "rpb_handoff_offer_verdict: %s, want %s", class_of(verdict), want ? want : "?");
    uint8_t ack[RPB_HANDOFF_ACK_MAX_BYTES], got[RPB_HANDOFF_ACK_MAX_BYTES];
    size_t ack_len, got_len;
    if (!get_hex(t, t->test, "ack", ack, sizeof ack, &ack_len))
        return;
    rc = rpb_handoff_ack_encode(&offer, verdict, got, sizeof got, &got_len);
    if (rc != RPB_OK || got_len != ack_len || memcmp(got, ack, ack_len) != 0)
        FAIL(t, "rpb_handoff_ack_encode: %s, %zu bytes, want the %zu of \"ack\"", class_of(rc),
             got_len, ack_len);
}

/* kinds "handoff-ack" (the broker, HANDOFF-030 steps 1 to 6, for the
 * group's token and correlation_id) and "handoff-ready" (the adopting
 * client, HANDOFF-051, for the group's token). */
static void run_handoff_ack(vec_test *t, const uint8_t *in, size_t len, const char *result,
                            bool ready)
{
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    uint64_t correlation;
    if (!group_token(t, token) || !get_u64(t, t->group, "correlation_id", 0, &correlation))
        return;
    rpb_handoff_ack ack;
    int rc = ready ? rpb_handoff_ready_check(in, len, token, sizeof token, &ack, NULL)
                   : rpb_handoff_ack_check(in, len, correlation, token, &ack, NULL);
    const char *what = ready ? "rpb_handoff_ready_check" : "rpb_handoff_ack_check";
    if (strcmp(result, "invalid") == 0)
        check_error(t, rc, what);
    else if (rc != RPB_OK)
        FAIL(t, "%s: %s", what, class_of(rc));
    else
        check_expected(t, &rpb_handoff_ack_desc, &ack, "ack");
}

void vec_run(vec_test *t)
{
    t->ran = true;
    const char *kind = get_str(t->group, "kind");
    const char *result = get_str(t->test, "result");
    if (kind == NULL || result == NULL ||
        (strcmp(result, "valid") != 0 && strcmp(result, "invalid") != 0 &&
         strcmp(result, "acceptable") != 0)) {
        FAIL(t, "group \"kind\" or test \"result\" missing or unknown");
        return;
    }
    unsigned options;
    uint8_t *in;
    size_t len;
    if (!load_options(t, &options) || !load_input(t, &in, &len))
        return;
    if (strcmp(kind, "framing") == 0)
        run_framing(t, in, len, result);
    else if (strcmp(kind, "framed") == 0)
        run_framed(t, in, len, result, options);
    else if (strcmp(kind, "message") == 0)
        run_message(t, in, len, result, options);
    else if (strcmp(kind, "envelope") == 0)
        run_envelope(t, in, len, result, options);
    else if (strcmp(kind, "probe-request") == 0)
        run_probe_request(t, in, len, result);
    else if (strcmp(kind, "probe-response") == 0)
        run_probe_response(t, in, len, result);
    else if (strcmp(kind, "sidecar") == 0)
        run_sidecar(t, in, len, result);
    else if (strcmp(kind, "handoff-offer") == 0)
        run_handoff_offer(t, in, len, result);
    else if (strcmp(kind, "handoff-ack") == 0)
        run_handoff_ack(t, in, len, result, false);
    else if (strcmp(kind, "handoff-ready") == 0)
        run_handoff_ack(t, in, len, result, true);
    else
        FAIL(t, "unknown group kind \"%s\"", kind);
    free(in);
}
