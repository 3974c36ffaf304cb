/*
 * fuzz_probe_response - the requester's response validator (spec/probe.md
 * PROBE-023..PROBE-028) with the fixed nonce 32 x 5A and the fixed
 * expected identity (fz_probe_identity).
 *
 * Input: a response Frame body (no framing header).
 *
 * Oracles:
 *  - model: the result of rpb_probe_response_check() equals an independent
 *    model of the requester's order: Frame decode, probe-response envelope
 *    (request_id before encoding), payload length, nonce echo,
 *    DaemonProcess decode, endpoint presence, digest length, and the first
 *    mismatching field in the order pid, exe_path (by components),
 *    exe_sha256, boot_id, ipc_endpoint;
 *  - errors carry an offset inside the input;
 *  - without an expected identity the same input differs only in that an
 *    identity mismatch becomes success; every accepted identity has an
 *    endpoint and a 32-byte digest (upstream's fuzz_probe_identity_decode).
 */
#include <string.h>

#include "fuzz.h"

/* IDENT-002 model: components compared after normalisation into a list. */
static size_t components(rpb_slice p, rpb_slice *out, size_t max)
{
    size_t n = 0, i = 0;
    if (p.len && p.data[0] == '/')
        out[n++] = (rpb_slice){(const uint8_t *)"/", 1};
    while (i < p.len && n < max) {
        size_t j = i;
        while (j < p.len && p.data[j] != '/')
            j++;
        rpb_slice c = {p.data + i, j - i};
        bool dot = c.len == 1 && c.data[0] == '.';
        if (c.len && (!dot || i == 0))
            out[n++] = c;
        i = j + 1;
    }
    return n;
}

static bool model_path_equal(rpb_slice a, rpb_slice b)
{
    rpb_slice ca[64], cb[64];
    size_t na = components(a, ca, 64), nb = components(b, cb, 64);
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!rpb_slice_eq(ca[i], cb[i]))
            return false;
    return true;
}

static int model(const uint8_t *data, size_t size, const rpb_daemon_process *want,
                 const char **field)
{
    rpb_frame f;
    rpb_msg_init(&rpb_frame_desc, &f);
    int rc = rpb_decode(&rpb_frame_desc, data, size, &f, NULL, 0, NULL);
    if (rc != RPB_OK)
        return rc;
    if (f.envelope_version != 1)
        return RPB_ERR_ENVELOPE_VERSION;
    if (f.kind != 1)
        return RPB_ERR_ENVELOPE_KIND;
    if (f.payload_protocol != 0xB232)
        return RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL;
    if (f.request_id != 0x5A5A5A5A5A5A5A5Aull)
        return RPB_ERR_ENVELOPE_REQUEST_ID;
    if (f.payload_encoding != 0)
        return RPB_ERR_ENVELOPE_PAYLOAD_ENCODING;
    if (f.payload.len < 32)
        return RPB_ERR_PROBE_PAYLOAD_SHORT;
    if (memcmp(f.payload.data, fz_probe_nonce, 32) != 0)
        return RPB_ERR_PROBE_NONCE_MISMATCH;
    rpb_daemon_process d;
    rpb_msg_init(&rpb_daemon_process_desc, &d);
    rc = rpb_decode(&rpb_daemon_process_desc, f.payload.data + 32, f.payload.len - 32, &d, NULL, 0,
                    NULL);
    if (rc != RPB_OK)
        return rc;
    if (!d.has_ipc_endpoint)
        return RPB_ERR_IDENTITY_MISSING_ENDPOINT;
    if (d.exe_sha256.len != 32)
        return RPB_ERR_IDENTITY_SHA256_LENGTH;
    if (!want)
        return RPB_OK;
    *field = d.pid != want->pid                                  ? "pid"
             : !model_path_equal(d.exe_path, want->exe_path)      ? "exe_path"
             : !rpb_slice_eq(d.exe_sha256, want->exe_sha256)      ? "exe_sha256"
             : !rpb_slice_eq(d.boot_id, want->boot_id)            ? "boot_id"
             : !rpb_slice_eq(d.ipc_endpoint.namespace_id, want->ipc_endpoint.namespace_id) ||
                     !rpb_slice_eq(d.ipc_endpoint.path, want->ipc_endpoint.path)
                 ? "ipc_endpoint"
                 : NULL;
    return *field ? RPB_ERR_IDENTITY_MISMATCH : RPB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const rpb_daemon_process *want = fz_probe_identity();
    rpb_probe_reply r;
    rpb_errinfo e;
    const char *field = NULL;
    int got = rpb_probe_response_check(data, size, fz_probe_nonce, want, &r, &e);
    int expect = model(data, size, want, &field);
    FZ_CHECK(got == expect, "response check %s, model %s", rpb_errname(got), rpb_errname(expect));
    FZ_CHECK(got != RPB_ERR_IDENTITY_MISMATCH || strcmp(r.mismatch, field) == 0,
             "mismatch field %s, model %s", r.mismatch, field);
    FZ_CHECK(got == RPB_OK || e.offset <= size, "error offset %zu beyond %zu", e.offset, size);

    int any = rpb_probe_response_check(data, size, fz_probe_nonce, NULL, &r, &e);
    FZ_CHECK(any == (got == RPB_ERR_IDENTITY_MISMATCH ? RPB_OK : got),
             "without an expected identity: %s, with: %s", rpb_errname(any), rpb_errname(got));
    if (any == RPB_OK)
        FZ_CHECK(r.identity.has_ipc_endpoint && r.identity.exe_sha256.len == 32,
                 "accepted identity without endpoint or digest");
    return 0;
}
