/*
 * rpb/admin.h - admin verbs over the control socket (payload_protocol
 * 0xAD01, spec/hello.md ADMIN-*): the broker-side responder and the
 * client-side request encoder and reply decoder.  I/O-free.
 */
#ifndef RPB_ADMIN_H
#define RPB_ADMIN_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rpb/frame.h"
#include "rpb/hello.h"
#include "rpb/launch.h"
#include "rpb/messages.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What the broker tells the admin responder about itself.  Size-versioned:
 * initialise it with rpb_admin_context_init(), which sets size to the
 * sizeof the caller was compiled with, then fill the fields.  Fields are
 * only ever appended; the library reads only the fields that lie within
 * size (later ones count as 0), so a program built against older headers
 * keeps working with a newer library.  The responder only reads it; the
 * caller owns it and must not change it during rpb_admin_respond() or
 * rpb_control_step().
 */
typedef struct rpb_admin_context {
    size_t size;                    /* set by rpb_admin_context_init() */
    const rpb_hello_handler *hello; /* services, flags, counters, rate limit */
    const char *broker_instance;    /* "shared" */
    uint32_t broker_pid;
    int64_t now_unix_ms;
    int64_t started_unix_ms;
    const char *socket_path;        /* "" under socket activation */
    const char *services_dir;
    uint32_t handshake_timeout_ms;
    uint32_t max_connections;
    uint32_t drain_timeout_ms;
    uint64_t connections_open;
    uint64_t connections_total;     /* accepted since start */
    uint64_t connections_dropped;   /* foreign uid (SEC-004) */
    uint64_t framing_refused;       /* framing / Frame decode refusals */
    uint64_t deadline_expired;      /* SEC-006 */
    uint64_t admin_requests;
    uint64_t services_rejected;     /* definition files that did not load */
    /* Backends launched on demand (spec/discovery.md §3, LAUNCH-013):
     * their registry, NULL when the broker launches none, and now_ms, the
     * monotonic clock the registry's times are on. */
    const rpb_launch_registry *launch;
    int64_t now_ms;
} rpb_admin_context;

/* The size of the first version of rpb_admin_context (the fields up to
 * services_rejected): the least size rpb_admin_respond() accepts. */
#define RPB_ADMIN_CONTEXT_V1_SIZE \
    (offsetof(rpb_admin_context, services_rejected) + sizeof(uint64_t))

/* Zeroes ctx and sets ctx->size to the size of the caller's struct
 * (inline, so it is the caller's headers that count). */
static inline void rpb_admin_context_init(rpb_admin_context *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->size = sizeof *ctx;
}

/* How an admin request ended (for the broker's log line). */
typedef struct rpb_admin_outcome {
    int32_t verb;       /* AdminRequest.verb; -1 when the request was malformed */
    uint32_t exit_code;
    int error;          /* RPB_OK, or why the request was malformed (ADMIN-008) */
} rpb_admin_outcome;

/*
 * Answers the admin request carried by request (a decoded Frame whose
 * payload_protocol is 0xAD01) into out[0..cap) as a framed AdminReply
 * (ADMIN-001: v1, RESPONSE, 0xAD01, request_id and trace echoed).  A
 * request failing the admin-request envelope or the AdminRequest decode is
 * answered with TEXT "malformed admin request: <class>\n", exit_code 2
 * (ADMIN-008).  Returns RPB_OK, RPB_ERR_BUFFER_TOO_SMALL,
 * RPB_ERR_NO_MEMORY or RPB_ERR_INVALID_ARGUMENT (ctx->size below
 * RPB_ADMIN_CONTEXT_V1_SIZE: ctx was not initialised with
 * rpb_admin_context_init()).
 */
RPB_API int rpb_admin_respond(const rpb_admin_context *ctx, const rpb_frame *request, uint8_t *out,
                      size_t cap, size_t *written, rpb_admin_outcome *oc);

/* The largest framed reply rpb_admin_respond() writes. */
#define RPB_ADMIN_REPLY_MAX (256u * 1024u)

/* ---- client side ---- */

/*
 * Writes a framed admin request (v1, REQUEST, 0xAD01, request_id) for
 * AdminRequest{verb, json, service_name} into out[0..cap).  Returns RPB_OK,
 * RPB_ERR_BUFFER_TOO_SMALL or RPB_ERR_INVALID_ARGUMENT (service_name longer
 * than 256 bytes: service names have at most 64, HELLO-011).
 */
RPB_API int rpb_admin_request_encode(int32_t verb, bool json, rpb_slice service_name, uint64_t request_id,
                             uint8_t *out, size_t cap, size_t *written);

/*
 * Decodes a reply frame body (as read by rpb_read_frame) into frame and
 * reply (slices into body): Frame decode, the admin-reply envelope
 * (RESPONSE, 0xAD01), then AdminReply.  Returns RPB_OK, a decode error or
 * an RPB_ERR_ENVELOPE_* code (a Hello-style Refused on payload_protocol 0
 * gives RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL).
 */
RPB_API int rpb_admin_reply_decode(const uint8_t *body, size_t len, rpb_frame *frame,
                           rpb_admin_reply *reply);

#ifdef __cplusplus
}
#endif
#endif
