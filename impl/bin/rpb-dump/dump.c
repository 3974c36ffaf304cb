/*
 * dump.c - rpb-dump's decoding direction: bytes -> JSON document.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

/* The requirement code enforces; frame-too-large under the first-Hello cap
 * is FRAME-004 rather than the general FRAME-003. */
static const char *requirement(int code, uint32_t cap)
{
    if (code == RPB_ERR_FRAME_TOO_LARGE && cap == RPB_MAX_HELLO_BYTES)
        return "FRAME-004";
    return rpb_err_requirement(code);
}

/* "<class_key>": CLASS, "requirement": ID|null, "offset": N */
static void write_error_fields(rpb_json_writer *w, const char *class_key, int code, size_t offset,
                               uint32_t cap)
{
    rpb_json_key(w, class_key);
    rpb_json_cstring(w, rpb_errname(code));
    rpb_json_key(w, "requirement");
    const char *req = requirement(code, cap);
    if (req != NULL)
        rpb_json_cstring(w, req);
    else
        rpb_json_null(w);
    rpb_json_key(w, "offset");
    rpb_json_uint(w, offset);
}

static int finish(rpb_json_writer *w, FILE *out, int exit_code)
{
    if (rpb_json_writer_finish(w) != RPB_OK || fputc('\n', out) == EOF || fflush(out) != 0) {
        fprintf(stderr, "rpb-dump: writing the output failed\n");
        return DUMP_EXIT_USAGE;
    }
    return exit_code;
}

/* A note on stderr when bytes[0..len) is not the canonical encoding of msg
 * (what it decoded to): --encode of the JSON will give other bytes. */
static void note_if_not_canonical(const rpb_msg_desc *desc, const void *msg, const uint8_t *bytes,
                                  size_t len)
{
    size_t n = rpb_encoded_len(desc, msg);
    uint8_t *again = n == len ? malloc(n ? n : 1) : NULL;
    bool same = again != NULL && rpb_encode(desc, msg, again, n, &n) == RPB_OK &&
                (n == 0 || memcmp(again, bytes, n) == 0);
    free(again);
    if (!same)
        fprintf(stderr,
                "rpb-dump: note: the %s input (%zu bytes) is not the canonical encoding of what it "
                "decodes to: unknown fields are dropped (JSON does not keep them), and repeated "
                "scalars or long varints are normalised, so --encode gives other bytes\n",
                desc->name, len);
}

int dump_print_error(const dump_options *opt, FILE *out, int code, size_t offset)
{
    rpb_json_writer w;
    rpb_json_writer_init_file(&w, out, opt->json_flags);
    rpb_json_begin_object(&w);
    write_error_fields(&w, "error", code, offset, opt->cap);
    rpb_json_end_object(&w);
    return finish(&w, out, DUMP_EXIT_DECODE);
}

/* "payload_error": {"class": CLASS, "requirement": ID, "offset": N[, "message": M]} */
static void write_payload_error(rpb_json_writer *w, int code, size_t offset, const char *message)
{
    rpb_json_key(w, "payload_error");
    rpb_json_begin_object(w);
    write_error_fields(w, "class", code, offset, 0);
    if (message != NULL) {
        rpb_json_key(w, "message");
        rpb_json_cstring(w, message);
    }
    rpb_json_end_object(w);
}

/*
 * Writes "payload_message" and then "payload" or "payload_error" for a
 * payload of type t.  payload_error offsets count from the first payload
 * byte.  The payload is decoded as its own message with a fresh recursion
 * budget (WIRE-017).  Returns false when it did not decode.
 */
static bool write_payload(rpb_json_writer *w, const payload_type *t, rpb_slice payload,
                          unsigned options)
{
    rpb_json_key(w, "payload_message");
    rpb_json_cstring(w, t->name);

    const rpb_msg_desc *desc = t->desc;
    size_t skip = 0; /* raw bytes in front of the protobuf part */
    if (t->kind == PAYLOAD_PROBE_REQUEST) {
        if (payload.len != PROBE_NONCE_BYTES) {
            char msg[64];
            snprintf(msg, sizeof msg, "probe nonce must be 32 bytes, got %zu", payload.len);
            write_payload_error(w, RPB_ERR_INVALID_ARGUMENT, 0, msg);
            return false;
        }
        rpb_json_key(w, "payload");
        rpb_json_begin_object(w);
        rpb_json_key(w, "nonce");
        rpb_json_hex(w, payload);
        rpb_json_end_object(w);
        return true;
    }
    if (t->kind == PAYLOAD_PROBE_RESPONSE) {
        if (payload.len < PROBE_NONCE_BYTES) {
            write_payload_error(w, RPB_ERR_BUFFER_UNDERFLOW, payload.len,
                                "payload shorter than the 32-byte nonce");
            return false;
        }
        desc = &rpb_daemon_process_desc;
        skip = PROBE_NONCE_BYTES;
    }

    rpb_decoded d = {0};
    rpb_errinfo ei = {0};
    /* An absent payload is {NULL, 0}: no pointer arithmetic on it. */
    const uint8_t *body = payload.len ? payload.data + skip : payload.data;
    int rc = rpb_decode_alloc(desc, body, payload.len - skip, options, &d, &ei);
    if (rc != RPB_OK) {
        write_payload_error(w, rc, skip + ei.offset, NULL);
        return false;
    }
    note_if_not_canonical(desc, d.msg, body, payload.len - skip);
    rpb_json_key(w, "payload");
    if (t->kind == PAYLOAD_PROBE_RESPONSE) {
        rpb_json_begin_object(w);
        rpb_json_key(w, "nonce");
        rpb_json_hex(w, (rpb_slice){payload.data, PROBE_NONCE_BYTES});
        rpb_json_key(w, "daemon_process");
        rpb_json_write_message(w, desc, d.msg);
        rpb_json_end_object(w);
    } else {
        rpb_json_write_message(w, desc, d.msg);
    }
    rpb_decoded_free(&d);
    return true;
}

/* Prints the document for a decoded Frame ("framing" with body_length when
 * framed). */
static int print_frame(const dump_options *opt, FILE *out, const rpb_frame *frame,
                       bool framed, size_t body_length)
{
    int exit_code = DUMP_EXIT_OK;
    rpb_json_writer w;
    rpb_json_writer_init_file(&w, out, opt->json_flags);
    rpb_json_begin_object(&w);
    if (framed) {
        rpb_json_key(&w, "framing");
        rpb_json_begin_object(&w);
        rpb_json_key(&w, "version");
        rpb_json_uint(&w, RPB_FRAMING_VERSION);
        rpb_json_key(&w, "body_length");
        rpb_json_uint(&w, body_length);
        rpb_json_end_object(&w);
    }
    rpb_json_key(&w, "frame");
    rpb_json_write_message(&w, &rpb_frame_desc, frame);

    bool decode_payload = true;
    if (opt->check_envelope) {
        int rc = rpb_envelope_check(frame, opt->site, opt->request_id);
        rpb_json_key(&w, "envelope");
        rpb_json_begin_object(&w);
        rpb_json_key(&w, "site");
        rpb_json_cstring(&w, rpb_site_name(opt->site));
        if (rc == RPB_OK) {
            rpb_json_key(&w, "result");
            rpb_json_cstring(&w, "ok");
        } else {
            rpb_json_key(&w, "error");
            rpb_json_cstring(&w, rpb_errname(rc));
            rpb_json_key(&w, "requirement");
            rpb_json_cstring(&w, rpb_err_requirement(rc));
            /* ENV-010: the payload is decoded only after the envelope passes */
            decode_payload = false;
            exit_code = DUMP_EXIT_DECODE;
        }
        rpb_json_end_object(&w);
    }
    payload_type t = payload_type_for(frame->payload_protocol, frame->kind);
    if (decode_payload && t.kind != PAYLOAD_UNKNOWN) {
        if (frame->payload_encoding != RPB_PAYLOAD_ENCODING_NONE)
            fprintf(stderr, "rpb-dump: payload_encoding is not NONE: payload not decoded\n");
        else if (!write_payload(&w, &t, frame->payload, opt->decode_options))
            exit_code = DUMP_EXIT_DECODE;
    }
    rpb_json_end_object(&w);
    return finish(&w, out, exit_code);
}

int dump_frame_body(const dump_options *opt, rpb_slice body, FILE *out)
{
    bool framed = opt->mode == MODE_FRAMED;
    size_t base = framed ? RPB_FRAME_HEADER_BYTES : 0; /* offset of the body in the input */
    rpb_errinfo ei = {0};
    rpb_frame frame;
    rpb_msg_init(&rpb_frame_desc, &frame);
    /* Frame has no list or map fields: no arena */
    int rc = rpb_decode(&rpb_frame_desc, body.data, body.len, &frame, NULL, opt->decode_options,
                        &ei);
    if (rc != RPB_OK)
        return dump_print_error(opt, out, rc, base + ei.offset);
    note_if_not_canonical(&rpb_frame_desc, &frame, body.data, body.len);
    return print_frame(opt, out, &frame, framed, body.len);
}

int dump_decode(const dump_options *opt, const uint8_t *in, size_t len, FILE *out)
{
    rpb_errinfo ei = {0};
    if (opt->mode == MODE_MESSAGE) {
        rpb_decoded d = {0};
        int rc = rpb_decode_alloc(opt->message, in, len, opt->decode_options, &d, &ei);
        if (rc != RPB_OK)
            return dump_print_error(opt, out, rc, ei.offset);
        note_if_not_canonical(opt->message, d.msg, in, len);
        rpb_json_writer w;
        rpb_json_writer_init_file(&w, out, opt->json_flags);
        rpb_json_write_message(&w, opt->message, d.msg);
        rpb_decoded_free(&d);
        return finish(&w, out, DUMP_EXIT_OK);
    }

    rpb_slice body = {in, len};
    if (opt->mode == MODE_FRAMED) {
        size_t consumed;
        int rc = rpb_frame_split(in, len, opt->cap, &body, &consumed, &ei);
        bool has_header = len >= RPB_FRAME_HEADER_BYTES;
        uint32_t announced = has_header ? rpb_frame_header_length(in) : 0;
        /* FRAME-007: the input ended inside the frame */
        if (rc == RPB_NEED_MORE) {
            if (has_header)
                fprintf(stderr, "rpb-dump: truncated frame: the header announces %" PRIu32
                                " body bytes, the input has %zu\n",
                        announced, len - RPB_FRAME_HEADER_BYTES);
            else
                fprintf(stderr, "rpb-dump: truncated frame: %zu of the 5 header bytes\n", len);
            return dump_print_error(opt, out, RPB_ERR_UNEXPECTED_EOF, len);
        }
        if (rc == RPB_ERR_FRAME_TOO_LARGE)
            fprintf(stderr, "rpb-dump: oversized frame: the header announces %" PRIu32
                            " body bytes, the cap is %" PRIu32 "\n",
                    announced, opt->cap);
        if (rc != RPB_OK)
            return dump_print_error(opt, out, rc, ei.offset);
        if (consumed < len)
            fprintf(stderr, "rpb-dump: %zu bytes after the frame ignored\n", len - consumed);
    }
    return dump_frame_body(opt, body, out);
}
