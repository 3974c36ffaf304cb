/*
 * rpb/probe.h - the backend endpoint identity probe (spec/probe.md
 * PROBE-*), identity comparison (IDENT-002) and the backend mux (MUX-*).
 * All I/O-free: bytes and structs in, bytes and structs out.  The probe
 * over a socket is rpb_probe_endpoint() in rpb/client.h; identities of
 * live processes and the sidecar file are in rpb/ident.h.
 */
#ifndef RPB_PROBE_H
#define RPB_PROBE_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/frame.h"
#include "rpb/messages.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_PROBE_NONCE_BYTES 32u
#define RPB_SHA256_BYTES 32u
#define RPB_PROBE_DEFAULT_TIMEOUT_MS 500
/* The largest framed probe request rpb_probe_request_encode() writes. */
#define RPB_PROBE_REQUEST_MAX_BYTES 56u

/* PROBE-002: the first 8 nonce bytes as a little-endian u64. */
RPB_API uint64_t rpb_probe_request_id(const uint8_t nonce[RPB_PROBE_NONCE_BYTES]);

/*
 * Writes the framed probe request for nonce (PROBE-001, request_id by
 * PROBE-002) into out[0..cap); RPB_PROBE_REQUEST_MAX_BYTES always suffice.
 * Returns RPB_OK or RPB_ERR_BUFFER_TOO_SMALL.
 */
RPB_API int rpb_probe_request_encode(const uint8_t nonce[RPB_PROBE_NONCE_BYTES], uint8_t *out,
                                     size_t cap, size_t *written);

/*
 * The responder's checks of a decoded request frame (PROBE-010 steps 3
 * and 4): RPB_OK, an RPB_ERR_ENVELOPE_* code of the probe-request site, or
 * RPB_ERR_PROBE_NONCE_LENGTH.  request_id, deadline and trace are not
 * looked at (PROBE-011).
 */
RPB_API int rpb_probe_request_check(const rpb_frame *request);

/* The framed size of the response rpb_probe_response_encode() writes. */
RPB_API size_t rpb_probe_response_len(const rpb_frame *request, const rpb_daemon_process *self);

/*
 * Writes the framed response to a checked request (PROBE-005): the nonce
 * echo followed by self encoded canonically.  Returns RPB_OK,
 * RPB_ERR_BUFFER_TOO_SMALL (*written is then the size needed) or
 * RPB_ERR_FRAME_TOO_LARGE.
 */
RPB_API int rpb_probe_response_encode(const rpb_frame *request, const rpb_daemon_process *self,
                                      uint8_t *out, size_t cap, size_t *written);

/* A validated probe response.  Slices point into the body passed in. */
typedef struct rpb_probe_reply {
    rpb_frame frame;
    rpb_daemon_process identity;
    const char *mismatch; /* RPB_ERR_IDENTITY_MISMATCH: "pid", "exe_path", ... */
} rpb_probe_reply;

/*
 * The requester's checks of a response frame body (PROBE-023 to PROBE-028)
 * for the request made with nonce: Frame decode, the probe-response
 * envelope site with request_id = rpb_probe_request_id(nonce), payload
 * length, nonce echo, DaemonProcess decode, identity conversion and, when
 * expected is not NULL, comparison with it.
 *
 * Returns RPB_OK, a decode class, an RPB_ERR_ENVELOPE_* code,
 * RPB_ERR_PROBE_PAYLOAD_SHORT, RPB_ERR_PROBE_NONCE_MISMATCH,
 * RPB_ERR_IDENTITY_MISSING_ENDPOINT, RPB_ERR_IDENTITY_SHA256_LENGTH or
 * RPB_ERR_IDENTITY_MISMATCH (out->mismatch names the first field).  err
 * (may be NULL) gets the class and, for decode errors, the offset in body.
 */
RPB_API int rpb_probe_response_check(const uint8_t *body, size_t len,
                                     const uint8_t nonce[RPB_PROBE_NONCE_BYTES],
                                     const rpb_daemon_process *expected, rpb_probe_reply *out,
                                     rpb_errinfo *err);

/* PROBE-027: RPB_OK, RPB_ERR_IDENTITY_MISSING_ENDPOINT or
 * RPB_ERR_IDENTITY_SHA256_LENGTH, in that order. */
RPB_API int rpb_identity_check(const rpb_daemon_process *dp);

/* PROBE-028: the name of the first field in which got differs from
 * expected ("pid", "exe_path", "exe_sha256", "boot_id", "ipc_endpoint"), or
 * NULL when they match. */
RPB_API const char *rpb_identity_first_mismatch(const rpb_daemon_process *got,
                                                const rpb_daemon_process *expected);

/* PROBE-020: RPB_OK or RPB_ERR_PROBE_ENDPOINT_MISMATCH. */
RPB_API int rpb_probe_endpoint_check(const rpb_endpoint *endpoint, const rpb_daemon_process *expected);

/* IDENT-002: path equality by components. */
RPB_API bool rpb_path_equal(rpb_slice a, rpb_slice b);

/* ---- the backend mux (MUX-001..MUX-005) ---- */

typedef struct rpb_mux {
    const rpb_daemon_process *self; /* the identity probes are answered with */
    const uint32_t *served;         /* payload protocols handed to the service */
    size_t n_served;
    uint32_t cap; /* body cap: RPB_MAX_FRAME_BYTES or smaller */
} rpb_mux;

typedef enum rpb_mux_kind {
    RPB_MUX_PROBE_ANSWERED = 1, /* reply[0..reply_len) is the response to write */
    RPB_MUX_PAYLOAD = 2,        /* frame is for the service */
} rpb_mux_kind;

typedef struct rpb_mux_result {
    rpb_mux_kind kind;
    size_t consumed;  /* bytes to drop from the front of the buffer */
    rpb_frame frame;  /* the decoded frame; slices point into the buffer */
    size_t reply_len; /* PROBE_ANSWERED; with BUFFER_TOO_SMALL the size needed */
} rpb_mux_result;

/*
 * Classifies the bytes in[0..len) received so far on a backend connection
 * (MUX-001); never consumes them.  Returns RPB_NEED_MORE, RPB_OK with res
 * filled, RPB_ERR_BUFFER_TOO_SMALL (a probe whose reply does not fit
 * reply[0..reply_cap): res->reply_len is the size needed), or a
 * connection-fatal error (MUX-005): a framing or decode class, a
 * probe-request class (MUX-002), RPB_ERR_MUX_FIRST_PARTY or
 * RPB_ERR_MUX_UNSERVED.
 */
RPB_API int rpb_mux_poll(const rpb_mux *mux, const uint8_t *in, size_t len, uint8_t *reply,
                         size_t reply_cap, rpb_mux_result *res, rpb_errinfo *err);

#ifdef __cplusplus
}
#endif
#endif
