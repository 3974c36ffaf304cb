/*
 * The I/O-free Hello handler (spec/hello.md HELLO-007 and following): a
 * decoded request Frame, the verified peer and a monotonic clock in, a
 * decision and the framed HelloReply out.
 */
#include "rpb/hello.h"

#include <string.h>

#include "rpb/error.h"
#include "../core/mem.h"

struct rpb_hello_handler {
    rpb_hello_config cfg;
    rpb_service_table *services;
    rpb_rate_limiter *rate;
    uint64_t next_connection_id; /* HELLO-036: starts at 1 */
    unsigned flags;
    rpb_hello_stats stats;
};

void rpb_hello_config_default(rpb_hello_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->rate_max = RPB_RATE_MAX_DEFAULT;
    cfg->rate_window_ms = RPB_RATE_WINDOW_MS_DEFAULT;
}

rpb_hello_handler *rpb_hello_handler_new(const rpb_hello_config *cfg)
{
    rpb_hello_handler *h = rpb_mem_calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->services = rpb_service_table_new();
    if (h->services == NULL) {
        rpb_mem_free(h);
        return NULL;
    }
    h->cfg = *cfg;
    h->rate = rpb_rate_limiter_new(cfg->rate_max, cfg->rate_window_ms);
    if (h->rate == NULL) {
        rpb_service_table_free(h->services);
        rpb_mem_free(h);
        return NULL;
    }
    h->next_connection_id = 1;
    return h;
}

void rpb_hello_handler_free(rpb_hello_handler *h)
{
    if (h == NULL)
        return;
    rpb_service_table_free(h->services);
    rpb_rate_limiter_free(h->rate);
    rpb_mem_free(h);
}

void rpb_hello_handler_set_services(rpb_hello_handler *h, rpb_service_table *table)
{
    rpb_service_table_free(h->services);
    h->services = table;
}

const rpb_service_table *rpb_hello_handler_services(const rpb_hello_handler *h)
{
    return h->services;
}

void rpb_hello_handler_set_flags(rpb_hello_handler *h, unsigned flags) { h->flags = flags; }
unsigned rpb_hello_handler_flags(const rpb_hello_handler *h) { return h->flags; }
const rpb_hello_stats *rpb_hello_handler_stats(const rpb_hello_handler *h) { return &h->stats; }

uint64_t rpb_hello_handler_count(rpb_hello_handler *h, rpb_refusal r)
{
    if (r == RPB_REFUSAL_NONE) {
        h->stats.negotiated++;
        return h->next_connection_id++; /* HELLO-036 */
    }
    if ((unsigned)r < RPB_REFUSAL_COUNT) {
        h->stats.refused++;
        h->stats.refused_by[r]++;
    }
    return 0;
}

void rpb_hello_handler_rate(const rpb_hello_handler *h, uint32_t *max, uint32_t *window_ms)
{
    rpb_rate_settings(h->rate, max, window_ms);
}

/* HELLO-010..HELLO-015: shape checks (a)..(f) in this order. */
static rpb_refusal shape_refusal(const rpb_hello *hello, const rpb_peer *peer)
{
    /* (a) HELLO-010: the range must include v1 */
    if (hello->client_min_protocol > RPB_PROTOCOL_VERSION ||
        hello->client_max_protocol < RPB_PROTOCOL_VERSION)
        return RPB_REFUSAL_PROTOCOL_RANGE;
    /* (b) HELLO-011 */
    if (!rpb_service_name_valid(hello->service_name))
        return RPB_REFUSAL_SERVICE_NAME;
    /* (c) HELLO-012: 64-byte cap, then the grammar */
    if (hello->wanted_version.len > RPB_WANTED_VERSION_MAX ||
        !rpb_version_valid(hello->wanted_version))
        return RPB_REFUSAL_WANTED_VERSION;
    /* (d) HELLO-013 */
    if (hello->client_version.len > RPB_CLIENT_VERSION_MAX)
        return RPB_REFUSAL_CLIENT_VERSION;
    /* (e) HELLO-014: both lib fields together */
    if (hello->client_lib_name.len > RPB_CLIENT_LIB_MAX ||
        hello->client_lib_version.len > RPB_CLIENT_LIB_MAX)
        return RPB_REFUSAL_CLIENT_LIB;
    /* (f) HELLO-015: cross-checked only when both pids are known */
    if (hello->peer_pid != 0 && peer->pid != 0 && hello->peer_pid != peer->pid)
        return RPB_REFUSAL_PEER_PID;
    return RPB_REFUSAL_NONE;
}

/* HELLO-022, HELLO-023, HELLO-024: the floor first, then the allow-list. */
static rpb_refusal policy_refusal(const rpb_service *svc, rpb_slice wanted)
{
    int cmp;
    if (svc->min_version.len > 0 && rpb_version_compare(wanted, svc->min_version, &cmp) == RPB_OK &&
        cmp < 0)
        return RPB_REFUSAL_BELOW_MIN_VERSION;
    if (svc->allow_list.count == 0)
        return RPB_REFUSAL_NONE;
    for (const rpb_str_node *n = svc->allow_list.head; n != NULL; n = n->next)
        if (rpb_slice_eq(n->value, wanted))
            return RPB_REFUSAL_NONE;
    return RPB_REFUSAL_NOT_ALLOWED;
}

static void refuse(rpb_hello_handler *h, rpb_hello_decision *d, rpb_refusal r, uint64_t retry)
{
    d->refusal = r;
    d->retry_after_ms = retry;
    h->stats.refused++;
    h->stats.refused_by[r]++;
}

/* HELLO-020: counts the Hello of the verified pid; true (and d refused
 * RATE_LIMITED with the rest of the window) when its budget is used up or
 * the pid cannot be tracked. */
static bool rate_limited(rpb_hello_handler *h, const rpb_peer *peer, int64_t now_ms,
                         rpb_hello_decision *d)
{
    uint64_t retry = 0;
    if (rpb_rate_check(h->rate, peer->pid, now_ms, &retry) == RPB_RATE_ALLOWED)
        return false;
    refuse(h, d, RPB_REFUSAL_RATE_LIMITED, retry);
    return true;
}

/* Decodes the Hello payload (HELLO-009).
 * HELLO-016: auth_token, request_id, connection_id, peer_attestation_nonce
 * and capability_token are decoded (UTF-8 checked) but never looked at. */
static int decode_hello(rpb_slice payload, rpb_hello *hello)
{
    rpb_msg_init(&rpb_hello_desc, hello);
    return rpb_decode(&rpb_hello_desc, payload.data, payload.len, hello, NULL, 0, NULL);
}

void rpb_hello_decide(rpb_hello_handler *h, const rpb_frame *request, const rpb_peer *peer,
                      int64_t now_ms, rpb_hello_decision *d)
{
    memset(d, 0, sizeof *d);

    /* SEC-011, SEC-012: broker state, decided before the envelope */
    if (h->flags & RPB_HELLO_FD_PRESSURE) {
        refuse(h, d, RPB_REFUSAL_FD_PRESSURE, RPB_RETRY_FD_PRESSURE_MS);
        return;
    }
    if (h->flags & RPB_HELLO_DRAINING) {
        refuse(h, d, RPB_REFUSAL_SHUTTING_DOWN, RPB_RETRY_SHUTTING_DOWN_MS);
        return;
    }
    /* HELLO-008, ENV-005: version, kind, protocol, encoding */
    int rc = rpb_envelope_check(request, RPB_SITE_HELLO, 0);
    if (rc != RPB_OK) {
        refuse(h, d, rpb_refusal_for_envelope_error(rc), 0);
        return;
    }
    /* HELLO-009, ENV-010, WIRE-017: the payload after the envelope */
    if (decode_hello(request->payload, &d->hello) != RPB_OK) {
        rpb_msg_init(&rpb_hello_desc, &d->hello);
        refuse(h, d, RPB_REFUSAL_MALFORMED_HELLO, 0);
        return;
    }
    d->hello_decoded = true;

    rpb_refusal r = shape_refusal(&d->hello, peer);
    if (r != RPB_REFUSAL_NONE) {
        refuse(h, d, r, 0);
        return;
    }
    /* HELLO-026: only shape-valid Hellos are counted */
    if (rate_limited(h, peer, now_ms, d))
        return;
    /* HELLO-021 */
    const rpb_service *svc = rpb_service_table_find(h->services, d->hello.service_name);
    if (svc == NULL) {
        refuse(h, d, RPB_REFUSAL_SERVICE_UNKNOWN, 0);
        return;
    }
    r = policy_refusal(svc, d->hello.wanted_version);
    if (r != RPB_REFUSAL_NONE) {
        refuse(h, d, r, RPB_RETRY_VERSION_BLOCKED_MS);
        return;
    }

    /* HELLO-030..HELLO-036: Negotiated */
    d->service = svc;
    /* HELLO-036: a launched service's id is drawn when its Negotiated is
     * sent (rpb_hello_handler_count): a failed launch consumes none */
    if (svc->backend_pipe.len > 0)
        d->connection_id = h->next_connection_id++;
    d->keepalive_secs =
        d->hello.client_keepalive_secs ? d->hello.client_keepalive_secs : RPB_KEEPALIVE_DEFAULT_SECS;
    d->server_capabilities = svc->server_capabilities;
    /* HELLO-034, HELLO-035: a token only for a client that can take part
     * and only when this broker can hand off; issuance failure downgrades */
    if ((d->hello.client_capabilities & RPB_CAP_HANDLE_PASSING) && h->cfg.token_source != NULL &&
        h->cfg.token_source(h->cfg.token_ctx, svc, d->token) == 0) {
        d->token_len = RPB_HANDOFF_TOKEN_BYTES;
        d->server_capabilities |= RPB_CAP_HANDLE_PASSING;
    }
    /* LAUNCH-014: a launched service's Hello is counted when the broker
     * answers it (rpb_hello_handler_count): its launch may still fail */
    if (svc->backend_pipe.len > 0)
        h->stats.negotiated++;
}

/* ---- reply encoding ---- */

/* Frame fields other than payload and trace: at most 5 varint fields of
 * <= 11 bytes each, plus 3 length prefixes. */
#define FRAME_OVERHEAD 96u

size_t rpb_hello_reply_bound(const rpb_frame *request)
{
    size_t n = RPB_FRAME_HEADER_BYTES + FRAME_OVERHEAD + RPB_HELLO_PAYLOAD_MAX;
    if (request != NULL)
        n += request->traceparent.len + request->tracestate.len;
    return n;
}

int rpb_hello_reply_encode(const rpb_hello_decision *d, const rpb_frame *request, uint8_t *out,
                           size_t cap, size_t *written)
{
    rpb_hello_reply reply;
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    if (d->refusal == RPB_REFUSAL_NONE) {
        rpb_negotiated *n = &reply.negotiated;
        reply.result = RPB_HELLO_REPLY_NEGOTIATED;
        n->negotiated_protocol = RPB_PROTOCOL_VERSION;
        /* HELLO-031: the service's daemon_version, else the wanted one */
        n->daemon_version =
            d->service->daemon_version.len ? d->service->daemon_version : d->hello.wanted_version;
        n->backend_pipe = d->service->backend_pipe;
        n->server_capabilities = d->server_capabilities;
        n->keepalive_interval_secs = d->keepalive_secs;
        n->handle_passed_token = (rpb_slice){d->token, d->token_len};
        n->connection_id = d->connection_id;
    } else {
        rpb_refused *f = &reply.refused;
        reply.result = RPB_HELLO_REPLY_REFUSED;
        /* HELLO-040: exact reason, daemon range 1..1, details empty */
        f->reason = rpb_slice_cstr(rpb_refusal_reason(d->refusal));
        f->code = rpb_refusal_code(d->refusal);
        f->daemon_min_protocol = RPB_PROTOCOL_VERSION;
        f->daemon_max_protocol = RPB_PROTOCOL_VERSION;
        f->retry_after_ms = d->retry_after_ms;
    }
    /* HELLO-050, HELLO-051: v1 RESPONSE on the control protocol, echoing
     * request_id and trace context of a decoded request */
    rpb_frame frame;
    if (request != NULL) {
        frame = rpb_frame_response_to(request, (rpb_slice){NULL, 0});
    } else {
        rpb_frame none;
        rpb_msg_init(&rpb_frame_desc, &none);
        frame = rpb_frame_response_to(&none, (rpb_slice){NULL, 0});
    }
    frame.payload_protocol = RPB_PP_CONTROL;
    /* HELLO-052, WIRE-020: canonical encoding of payload and frame, the
     * reply written in place as the frame's payload */
    return rpb_frame_encode_msg(&frame, &rpb_hello_reply_desc, &reply, out, cap, written);
}

int rpb_hello_refusal_encode(rpb_refusal r, uint64_t retry_after_ms, const rpb_frame *request,
                             uint8_t *out, size_t cap, size_t *written)
{
    if (r <= RPB_REFUSAL_NONE || r >= RPB_REFUSAL_COUNT)
        return RPB_ERR_INVALID_ARGUMENT;
    rpb_hello_decision d;
    memset(&d, 0, sizeof d);
    d.refusal = r;
    d.retry_after_ms = retry_after_ms;
    return rpb_hello_reply_encode(&d, request, out, cap, written);
}
