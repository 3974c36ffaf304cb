/* stim.c - stimulus construction (see stim.h). */
#include "stim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pb_varint(sbuf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = rpb_varint_write(tmp, v);
    sb_put(b, tmp, n);
}

void pb_key(sbuf *b, uint32_t field, unsigned wire_type)
{
    pb_varint(b, ((uint64_t)field << 3) | (wire_type & 7u));
}

void pb_uint(sbuf *b, uint32_t field, uint64_t v)
{
    pb_key(b, field, 0);
    pb_varint(b, v);
}

void pb_bytes(sbuf *b, uint32_t field, const void *p, size_t n)
{
    pb_key(b, field, 2);
    pb_varint(b, n);
    sb_put(b, p, n);
}

void pb_str(sbuf *b, uint32_t field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

void stim_hello_base(rpb_hello *h, uint32_t peer_pid)
{
    rpb_msg_init(&rpb_hello_desc, h);
    h->client_min_protocol = 1;
    h->client_max_protocol = 1;
    h->service_name = rpb_slice_cstr(STIM_SERVICE);
    h->wanted_version = rpb_slice_cstr(STIM_VERSION);
    h->client_version = rpb_slice_cstr("zccache-cli/" STIM_VERSION);
    h->peer_pid = peer_pid;
    h->client_lib_name = rpb_slice_cstr("running-process");
    h->client_lib_version = rpb_slice_cstr("4.5.5");
    h->client_keepalive_secs = STIM_KEEPALIVE;
}

void stim_frame_base(rpb_frame *f)
{
    rpb_msg_init(&rpb_frame_desc, f);
    f->envelope_version = RPB_PROTOCOL_VERSION;
    f->kind = RPB_FRAME_KIND_REQUEST;
    f->payload_protocol = RPB_PP_CONTROL;
    f->request_id = STIM_REQUEST_ID;
    f->traceparent = rpb_slice_cstr(STIM_TRACEPARENT);
    f->tracestate = rpb_slice_cstr(STIM_TRACESTATE);
}

void stim_encode(sbuf *out, const rpb_msg_desc *desc, const void *msg)
{
    size_t n = rpb_encoded_len(desc, msg);
    uint8_t *tmp = malloc(n ? n : 1);
    size_t written = 0;
    if (!tmp || rpb_encode(desc, msg, tmp, n, &written) != RPB_OK || written != n) {
        fprintf(stderr, "rpb-conform: cannot encode a %s stimulus\n", desc->name);
        exit(2);
    }
    sb_put(out, tmp, n);
    free(tmp);
}

void stim_framed(sbuf *out, const uint8_t *body, size_t body_len)
{
    uint8_t hdr[RPB_FRAME_HEADER_BYTES];
    rpb_frame_header_write(hdr, (uint32_t)body_len);
    sb_put(out, hdr, sizeof hdr);
    sb_put(out, body, body_len);
}

void stim_frame(sbuf *out, const rpb_frame *frame)
{
    sbuf body = SBUF_INIT;
    stim_encode(&body, &rpb_frame_desc, frame);
    stim_framed(out, body.data, body.len);
    sb_free(&body);
}

void stim_hello_frame(sbuf *out, const rpb_frame *frame, const rpb_hello *hello)
{
    sbuf payload = SBUF_INIT;
    stim_encode(&payload, &rpb_hello_desc, hello);
    rpb_frame f = *frame;
    f.payload.data = payload.data;
    f.payload.len = payload.len;
    stim_frame(out, &f);
    sb_free(&payload);
}

void stim_base_frame(sbuf *out, uint32_t peer_pid)
{
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, peer_pid);
    stim_hello_frame(out, &f, &h);
}

int stim_padded_frame(sbuf *out, const rpb_frame *frame, const rpb_msg_desc *desc, void *msg, rpb_slice *pad,
                      uint8_t fill, size_t body_len)
{
    uint8_t *bytes = malloc(body_len ? body_len : 1);
    if (!bytes)
        return -1;
    memset(bytes, fill, body_len);
    size_t pad_len = body_len / 2;
    int rc = -1;
    /* The varint lengths around the padding shift by a byte at most per
     * step, so a few corrections converge (or oscillate, then give up). */
    for (int attempt = 0; attempt < 8; attempt++) {
        pad->data = bytes;
        pad->len = pad_len;
        sbuf payload = SBUF_INIT;
        stim_encode(&payload, desc, msg);
        rpb_frame g = *frame;
        g.payload.data = payload.data;
        g.payload.len = payload.len;
        size_t got = rpb_encoded_len(&rpb_frame_desc, &g);
        if (got == body_len) {
            stim_frame(out, &g);
            sb_free(&payload);
            rc = 0;
            break;
        }
        sb_free(&payload);
        if (got > body_len && got - body_len > pad_len)
            break;
        pad_len = got > body_len ? pad_len - (got - body_len) : pad_len + (body_len - got);
    }
    *pad = (rpb_slice){NULL, 0};
    free(bytes);
    return rc;
}

int stim_padded_hello_frame(sbuf *out, uint32_t peer_pid, size_t body_len)
{
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, peer_pid);
    return stim_padded_frame(out, &f, &rpb_hello_desc, &h, &h.auth_token, 0, body_len);
}
