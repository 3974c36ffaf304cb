/*
 * frames.c - the handoff's three frames, I/O-free (spec/handoff.md): the
 * offer (HANDOFF-021), the ACK (HANDOFF-043) and the handoff-ready EVENT
 * (HANDOFF-031), and the checks the receiver (HANDOFF-042, HANDOFF-044),
 * the broker (HANDOFF-030) and the adopting client (HANDOFF-051) apply.
 */
#include <stdio.h>
#include <string.h>

#include "rpb/handoff.h"

bool rpb_handoff_agreed(const rpb_negotiated *negotiated)
{
    /* HANDOFF-001: the bit and a non-empty token, both. */
    return negotiated && (negotiated->server_capabilities & RPB_CAP_HANDLE_PASSING) &&
           negotiated->handle_passed_token.len > 0;
}

/* A v1 frame of kind on 0xD0FF with request_id = correlation_id, encoding
 * NONE, no deadline or trace fields; the payload is filled in by
 * rpb_frame_encode_msg(). */
static rpb_frame handoff_frame(int32_t kind, uint64_t correlation_id)
{
    rpb_frame f = rpb_frame_request(RPB_PP_HANDOFF, (rpb_slice){NULL, 0});
    f.kind = kind;
    f.request_id = correlation_id;
    return f;
}

int rpb_handoff_offer_encode(const uint8_t token[RPB_HANDOFF_TOKEN_BYTES], rpb_slice service_name,
                             uint64_t correlation_id, uint8_t *out, size_t cap, size_t *written)
{
    if (!token || !written || (!service_name.data && service_name.len))
        return RPB_ERR_INVALID_ARGUMENT;
    /* HANDOFF-021: handle_value 0 on Unix. */
    rpb_handoff_offer offer = {0, {token, RPB_HANDOFF_TOKEN_BYTES}, service_name, correlation_id};
    rpb_frame f = handoff_frame(RPB_FRAME_KIND_REQUEST, correlation_id);
    return rpb_frame_encode_msg(&f, &rpb_handoff_offer_desc, &offer, out, cap, written);
}

int rpb_handoff_offer_verdict(const rpb_handoff_offer *offer, const uint8_t *fd_token)
{
    if (!offer)
        return RPB_ERR_INVALID_ARGUMENT;
    /* HANDOFF-043: upstream's parse_handoff_token order. */
    if (offer->token.len == 0)
        return RPB_ERR_HANDOFF_TOKEN_MISSING;
    if (offer->token.len != RPB_HANDOFF_TOKEN_BYTES)
        return RPB_ERR_HANDOFF_TOKEN_LENGTH;
    /* HANDOFF-044 (strict): the offer and the descriptor carry one token. */
    if (fd_token && !rpb_handoff_token_equal(offer->token.data, fd_token))
        return RPB_ERR_HANDOFF_TOKEN_MISMATCH;
    return RPB_OK;
}

int rpb_handoff_ack_encode(const rpb_handoff_offer *offer, int verdict, uint8_t *out, size_t cap,
                           size_t *written)
{
    if (!offer || !written)
        return RPB_ERR_INVALID_ARGUMENT;
    /* HANDOFF-043: upstream's HandoffRejectionReason texts. */
    char detail[64] = "";
    switch (verdict) {
    case RPB_OK:
        break;
    case RPB_ERR_HANDOFF_TOKEN_MISSING:
        strcpy(detail, "handoff token is missing");
        break;
    case RPB_ERR_HANDOFF_TOKEN_LENGTH:
        snprintf(detail, sizeof detail, "handoff token length was %zu bytes; expected %u",
                 offer->token.len, RPB_HANDOFF_TOKEN_BYTES);
        break;
    case RPB_ERR_HANDOFF_TOKEN_MISMATCH:
        strcpy(detail, "handoff token mismatch");
        break;
    case RPB_ERR_HANDOFF_TOKEN_NOT_PENDING: /* HANDOFF-047 */
        strcpy(detail, "handoff token is not pending");
        break;
    default:
        return RPB_ERR_INVALID_ARGUMENT;
    }
    rpb_handoff_ack ack = {offer->token, verdict == RPB_OK, rpb_slice_cstr(detail),
                           offer->correlation_id};
    rpb_frame f = handoff_frame(RPB_FRAME_KIND_RESPONSE, offer->correlation_id);
    return rpb_frame_encode_msg(&f, &rpb_handoff_ack_desc, &ack, out, cap, written);
}

int rpb_handoff_ready_encode(const uint8_t token[RPB_HANDOFF_TOKEN_BYTES], uint64_t correlation_id,
                             uint8_t *out, size_t cap, size_t *written)
{
    if (!token || !written)
        return RPB_ERR_INVALID_ARGUMENT;
    /* HANDOFF-031: the broker builds the relayed ACK itself. */
    rpb_handoff_ack ack = {{token, RPB_HANDOFF_TOKEN_BYTES}, true, {NULL, 0}, correlation_id};
    rpb_frame f = handoff_frame(RPB_FRAME_KIND_EVENT, correlation_id);
    return rpb_frame_encode_msg(&f, &rpb_handoff_ack_desc, &ack, out, cap, written);
}

/* Frame decode, the envelope site, then the payload decoded as desc into
 * msg: the steps the three validators share.  Decode offsets count from
 * body. */
static int decode_at_site(const uint8_t *body, size_t len, rpb_site site, uint64_t request_id,
                          rpb_frame *frame, const rpb_msg_desc *desc, void *msg, rpb_errinfo *err)
{
    rpb_msg_init(&rpb_frame_desc, frame);
    rpb_msg_init(desc, msg);
    int rc = rpb_decode(&rpb_frame_desc, body, len, frame, NULL, 0, err);
    if (rc != RPB_OK)
        return rc;
    rc = rpb_envelope_check(frame, site, request_id);
    if (rc != RPB_OK)
        return rpb_errinfo_set(err, rc, 0);
    size_t at = (size_t)(frame->payload.data ? frame->payload.data - body : 0);
    rc = rpb_decode(desc, frame->payload.data, frame->payload.len, msg, NULL, 0, err);
    if (rc != RPB_OK && err)
        err->offset += at;
    return rc;
}

int rpb_handoff_offer_check(const uint8_t *body, size_t len, rpb_frame *frame,
                            rpb_handoff_offer *offer, rpb_errinfo *err)
{
    if ((!body && len) || !frame || !offer)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    /* HANDOFF-042 steps 1 to 3 */
    int rc = decode_at_site(body, len, RPB_SITE_HANDOFF_OFFER, 0, frame, &rpb_handoff_offer_desc,
                            offer, err);
    if (rc != RPB_OK)
        return rc;
    if (frame->request_id != offer->correlation_id) /* step 4 */
        return rpb_errinfo_set(err, RPB_ERR_HANDOFF_CORRELATION, 0);
    return rpb_errinfo_set(err, RPB_OK, len);
}

int rpb_handoff_ack_check(const uint8_t *body, size_t len, uint64_t correlation_id,
                          const uint8_t token[RPB_HANDOFF_TOKEN_BYTES], rpb_handoff_ack *ack,
                          rpb_errinfo *err)
{
    if ((!body && len) || !token || !ack)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    rpb_frame frame;
    /* HANDOFF-030 steps 1 to 3 (the site checks request_id last) */
    int rc = decode_at_site(body, len, RPB_SITE_HANDOFF_ACK, correlation_id, &frame,
                            &rpb_handoff_ack_desc, ack, err);
    if (rc != RPB_OK)
        return rc;
    if (ack->correlation_id != correlation_id) /* step 4 */
        return rpb_errinfo_set(err, RPB_ERR_HANDOFF_CORRELATION, 0);
    if (ack->token.len != RPB_HANDOFF_TOKEN_BYTES ||
        !rpb_handoff_token_equal(ack->token.data, token)) /* step 5, SEC-017 */
        return rpb_errinfo_set(err, RPB_ERR_HANDOFF_TOKEN_MISMATCH, 0);
    if (!ack->accepted) /* step 6 */
        return rpb_errinfo_set(err, RPB_ERR_HANDOFF_REFUSED, 0);
    return rpb_errinfo_set(err, RPB_OK, len);
}

int rpb_handoff_ack_decide(rpb_handoff_store *store, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                           uint64_t correlation_id, const uint8_t *body, size_t len, int64_t now,
                           uint8_t *ready, size_t cap, size_t *written, rpb_handoff_ack *ack,
                           rpb_errinfo *err)
{
    if (!store || !token || !ready || !written || !ack)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    if (cap < RPB_HANDOFF_READY_MAX_BYTES) {
        rpb_handoff_abandon(store, token); /* HANDOFF-016 even then */
        *written = RPB_HANDOFF_READY_MAX_BYTES; /* the room it asks for (rpb/error.h) */
        return rpb_errinfo_set(err, RPB_ERR_BUFFER_TOO_SMALL, 0);
    }
    /* HANDOFF-030 steps 1 to 6; HANDOFF-032: any failure is silent and
     * ends the attempt. */
    int rc = rpb_handoff_ack_check(body, len, correlation_id, token, ack, err);
    if (rc != RPB_OK) {
        rpb_handoff_abandon(store, token);
        return rc;
    }
    rc = rpb_handoff_acknowledge(store, token, now); /* step 7; revokes */
    if (rc != RPB_OK)
        return rpb_errinfo_set(err, rc, 0);
    /* HANDOFF-031 */
    return rpb_errinfo_set(err, rpb_handoff_ready_encode(token, correlation_id, ready, cap, written),
                           0);
}

int rpb_handoff_ready_check(const uint8_t *body, size_t len, const uint8_t *token,
                            size_t token_len, rpb_handoff_ack *ack, rpb_errinfo *err)
{
    if ((!body && len) || (!token && token_len) || !ack)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    rpb_frame frame;
    /* HANDOFF-051: request_id, correlation_id and error_detail unchecked. */
    int rc = decode_at_site(body, len, RPB_SITE_HANDOFF_READY, 0, &frame, &rpb_handoff_ack_desc,
                            ack, err);
    if (rc != RPB_OK)
        return rc;
    /* Byte-exact, length included; SEC-017 for the 16-byte case. */
    bool same = ack->token.len == token_len &&
                (token_len == RPB_HANDOFF_TOKEN_BYTES
                     ? rpb_handoff_token_equal(ack->token.data, token)
                     : token_len == 0 || memcmp(ack->token.data, token, token_len) == 0);
    if (!same)
        return rpb_errinfo_set(err, RPB_ERR_HANDOFF_TOKEN_MISMATCH, 0);
    if (!ack->accepted)
        return rpb_errinfo_set(err, RPB_ERR_HANDOFF_REFUSED, 0);
    return rpb_errinfo_set(err, RPB_OK, len);
}
