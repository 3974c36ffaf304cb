/*
 * probe.c - the identity probe exchange, I/O-free (spec/probe.md
 * PROBE-001..PROBE-028, IDENT-002): request and response builders, the
 * responder's and the requester's checks, identity comparison.
 */
#include <string.h>

#include "rpb/probe.h"

uint64_t rpb_probe_request_id(const uint8_t nonce[RPB_PROBE_NONCE_BYTES])
{
    uint64_t id = 0;
    for (unsigned i = 0; i < 8; i++) /* PROBE-002: little-endian */
        id |= (uint64_t)nonce[i] << (8 * i);
    return id;
}

int rpb_probe_request_encode(const uint8_t nonce[RPB_PROBE_NONCE_BYTES], uint8_t *out, size_t cap,
                             size_t *written)
{
    if (!nonce || !written)
        return RPB_ERR_INVALID_ARGUMENT;
    /* PROBE-001: a v1 REQUEST on 0xB232 carrying the bare nonce. */
    rpb_frame frame = rpb_frame_request(RPB_PP_PROBE,
                                        (rpb_slice){nonce, RPB_PROBE_NONCE_BYTES});
    frame.request_id = rpb_probe_request_id(nonce);
    return rpb_frame_encode(&frame, out, cap, written);
}

int rpb_probe_request_check(const rpb_frame *request)
{
    if (!request)
        return RPB_ERR_INVALID_ARGUMENT;
    /* PROBE-010 step 3 (ENV-009 probe-request site), then step 4;
     * PROBE-011: request_id, deadline and trace are not checked. */
    int rc = rpb_envelope_check(request, RPB_SITE_PROBE_REQUEST, 0);
    if (rc != RPB_OK)
        return rc;
    if (request->payload.len != RPB_PROBE_NONCE_BYTES)
        return RPB_ERR_PROBE_NONCE_LENGTH;
    return RPB_OK;
}

/* PROBE-005: the response is response_to(request) with payload nonce ||
 * DaemonProcess.  The payload is written in place rather than assembled
 * elsewhere and copied: the frame is encoded as the fields before the
 * payload (1-3), the payload field (key 0x22, length, bytes), and the
 * fields after it (5-9; 6 and 7 are always 0). */
typedef struct response_parts {
    rpb_frame head, tail;
    size_t head_len, tail_len, dp_len, payload_len, body_len;
} response_parts;

static void response_layout(const rpb_frame *request, const rpb_daemon_process *self,
                            response_parts *p)
{
    rpb_frame full = rpb_frame_response_to(request, (rpb_slice){NULL, 0});
    p->head = full;
    p->head.request_id = 0;
    p->head.traceparent = p->head.tracestate = (rpb_slice){NULL, 0};
    memset(&p->tail, 0, sizeof p->tail);
    p->tail.request_id = full.request_id;
    p->tail.traceparent = full.traceparent;
    p->tail.tracestate = full.tracestate;
    p->head_len = rpb_encoded_len(&rpb_frame_desc, &p->head);
    p->tail_len = rpb_encoded_len(&rpb_frame_desc, &p->tail);
    p->dp_len = rpb_encoded_len(&rpb_daemon_process_desc, self);
    p->payload_len = RPB_PROBE_NONCE_BYTES + p->dp_len;
    p->body_len = p->head_len + 1 + rpb_varint_len(p->payload_len) + p->payload_len + p->tail_len;
}

size_t rpb_probe_response_len(const rpb_frame *request, const rpb_daemon_process *self)
{
    response_parts p;
    response_layout(request, self, &p);
    return RPB_FRAME_HEADER_BYTES + p.body_len;
}

int rpb_probe_response_encode(const rpb_frame *request, const rpb_daemon_process *self, uint8_t *out,
                              size_t cap, size_t *written)
{
    if (!request || !self || !written || request->payload.len != RPB_PROBE_NONCE_BYTES)
        return RPB_ERR_INVALID_ARGUMENT;
    response_parts p;
    response_layout(request, self, &p);
    *written = RPB_FRAME_HEADER_BYTES + p.body_len;
    if (p.body_len > RPB_MAX_FRAME_BYTES)
        return RPB_ERR_FRAME_TOO_LARGE;
    if (*written > cap)
        return RPB_ERR_BUFFER_TOO_SMALL;
    size_t at = 0, n;
    rpb_frame_header_write(out, (uint32_t)p.body_len);
    at += RPB_FRAME_HEADER_BYTES;
    rpb_encode(&rpb_frame_desc, &p.head, out + at, p.head_len, &n);
    at += n;
    out[at++] = 0x22; /* field 4, wire type 2 */
    at += rpb_varint_write(out + at, p.payload_len);
    memcpy(out + at, request->payload.data, RPB_PROBE_NONCE_BYTES);
    at += RPB_PROBE_NONCE_BYTES;
    rpb_encode(&rpb_daemon_process_desc, self, out + at, p.dp_len, &n);
    at += n;
    rpb_encode(&rpb_frame_desc, &p.tail, out + at, p.tail_len, &n);
    return RPB_OK;
}

int rpb_identity_check(const rpb_daemon_process *dp)
{
    if (!dp)
        return RPB_ERR_INVALID_ARGUMENT;
    /* PROBE-027, in upstream's TryFrom order. */
    if (!dp->has_ipc_endpoint)
        return RPB_ERR_IDENTITY_MISSING_ENDPOINT;
    if (dp->exe_sha256.len != RPB_SHA256_BYTES)
        return RPB_ERR_IDENTITY_SHA256_LENGTH;
    return RPB_OK;
}

/* The next component of path[*pos..len), skipping separators; false at
 * the end. */
static bool next_component(rpb_slice path, size_t *pos, rpb_slice *comp)
{
    for (;;) {
        while (*pos < path.len && path.data[*pos] == '/')
            (*pos)++;
        if (*pos >= path.len)
            return false;
        size_t start = *pos;
        while (*pos < path.len && path.data[*pos] != '/')
            (*pos)++;
        *comp = (rpb_slice){path.data + start, *pos - start};
        /* IDENT-002: "." is dropped except as the first component of a
         * relative path. */
        bool leading_rel = start == 0;
        if (comp->len == 1 && comp->data[0] == '.' && !leading_rel)
            continue;
        return true;
    }
}

bool rpb_path_equal(rpb_slice a, rpb_slice b)
{
    bool abs_a = a.len > 0 && a.data[0] == '/';
    bool abs_b = b.len > 0 && b.data[0] == '/';
    if (abs_a != abs_b)
        return false;
    size_t pa = 0, pb = 0;
    rpb_slice ca, cb;
    for (;;) {
        bool more_a = next_component(a, &pa, &ca);
        bool more_b = next_component(b, &pb, &cb);
        if (!more_a || !more_b)
            return more_a == more_b;
        if (!rpb_slice_eq(ca, cb))
            return false;
    }
}

static bool same_endpoint(const rpb_endpoint *a, const rpb_endpoint *b)
{
    return rpb_slice_eq(a->namespace_id, b->namespace_id) && rpb_slice_eq(a->path, b->path);
}

const char *rpb_identity_first_mismatch(const rpb_daemon_process *got,
                                        const rpb_daemon_process *expected)
{
    /* PROBE-028: first mismatch in upstream's order. */
    if (got->pid != expected->pid)
        return "pid";
    if (!rpb_path_equal(got->exe_path, expected->exe_path))
        return "exe_path";
    if (!rpb_slice_eq(got->exe_sha256, expected->exe_sha256))
        return "exe_sha256";
    if (!rpb_slice_eq(got->boot_id, expected->boot_id))
        return "boot_id";
    if (!same_endpoint(&got->ipc_endpoint, &expected->ipc_endpoint))
        return "ipc_endpoint";
    return NULL;
}

int rpb_probe_endpoint_check(const rpb_endpoint *endpoint, const rpb_daemon_process *expected)
{
    if (!endpoint || !expected)
        return RPB_ERR_INVALID_ARGUMENT;
    /* PROBE-020: exact strings, no path normalisation. */
    return same_endpoint(endpoint, &expected->ipc_endpoint) ? RPB_OK
                                                             : RPB_ERR_PROBE_ENDPOINT_MISMATCH;
}

int rpb_probe_response_check(const uint8_t *body, size_t len,
                             const uint8_t nonce[RPB_PROBE_NONCE_BYTES],
                             const rpb_daemon_process *expected, rpb_probe_reply *out,
                             rpb_errinfo *err)
{
    if ((!body && len) || !nonce || !out)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    memset(out, 0, sizeof *out);
    /* PROBE-022: the Frame decode of the body. */
    int rc = rpb_decode(&rpb_frame_desc, body, len, &out->frame, NULL, 0, err);
    if (rc != RPB_OK)
        return rc;
    /* PROBE-023 */
    rc = rpb_envelope_check(&out->frame, RPB_SITE_PROBE_RESPONSE, rpb_probe_request_id(nonce));
    if (rc != RPB_OK)
        return rpb_errinfo_set(err, rc, 0);
    rpb_slice payload = out->frame.payload;
    size_t payload_at = (size_t)(payload.data ? payload.data - body : 0);
    if (payload.len < RPB_PROBE_NONCE_BYTES) /* PROBE-024 */
        return rpb_errinfo_set(err, RPB_ERR_PROBE_PAYLOAD_SHORT, payload_at);
    if (memcmp(payload.data, nonce, RPB_PROBE_NONCE_BYTES) != 0) /* PROBE-025 */
        return rpb_errinfo_set(err, RPB_ERR_PROBE_NONCE_MISMATCH, payload_at);
    /* PROBE-026: a fresh decode of the rest; offsets count from body. */
    size_t dp_at = payload_at + RPB_PROBE_NONCE_BYTES;
    rc = rpb_decode(&rpb_daemon_process_desc, payload.data + RPB_PROBE_NONCE_BYTES,
                    payload.len - RPB_PROBE_NONCE_BYTES, &out->identity, NULL, 0, err);
    if (rc != RPB_OK) {
        if (err)
            err->offset += dp_at;
        return rc;
    }
    rc = rpb_identity_check(&out->identity); /* PROBE-027 */
    if (rc != RPB_OK)
        return rpb_errinfo_set(err, rc, dp_at);
    if (expected) {
        out->mismatch = rpb_identity_first_mismatch(&out->identity, expected); /* PROBE-028 */
        if (out->mismatch)
            return rpb_errinfo_set(err, RPB_ERR_IDENTITY_MISMATCH, dp_at);
    }
    return rpb_errinfo_set(err, RPB_OK, 0);
}
