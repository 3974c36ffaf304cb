/*
 * check.h - expectations shared by the cases: the shape of every broker
 * response frame (ENV-007), the refusals of spec/hello.md with their
 * codes, reason strings and retry ranges, and Negotiated.
 *
 * Codes and retry values are checked; a different reason string is only a
 * note (spec: reason strings are informational).
 */
#ifndef CONFORM_CHECK_H
#define CONFORM_CHECK_H

#include "conn.h"

typedef struct refusal {
    int32_t code;
    const char *reason; /* upstream's exact text */
    uint64_t retry_min;
    uint64_t retry_max;
} refusal;

extern const refusal R_FRAMING_VERSION, R_TOO_LARGE, R_INCOMPLETE, R_MALFORMED_FRAME, R_ENV_VERSION,
    R_ENV_KIND, R_ENV_PROTOCOL, R_ENV_ENCODING, R_MALFORMED_HELLO, R_PROTOCOL_RANGE, R_SERVICE_NAME,
    R_WANTED_VERSION, R_CLIENT_VERSION, R_CLIENT_LIB, R_PEER_PID, R_SERVICE_UNKNOWN, R_BELOW_MIN,
    R_NOT_ALLOWED;

/* What a response must echo (ENV-007): the request's request_id and trace
 * context, nothing (a request that did not decode: 0 and ""), or either. */
typedef struct echo {
    enum { ECHO_REQUEST, ECHO_ZERO, ECHO_ANY } mode;
    const rpb_frame *req;
} echo;
echo echo_of(const rpb_frame *req);
extern const echo ECHO_NOTHING; /* request_id 0, empty trace */
extern const echo ECHO_UNCHECKED;

/* A one-line description of what came back ("Refused{...}", "closed"...). */
void describe_reply(sbuf *out, const hreply *r);

/* The response frame is a v1 RESPONSE on payload_protocol pp, encoding
 * NONE, deadline 0, echoing as e says.  Records failures; true when ok. */
bool expect_response_frame(cctx *c, const hreply *r, uint32_t pp, echo e);

/* A framed HelloReply with the refused arm: code, daemon range 1..1,
 * retry_after_ms in [retry_min, retry_max] as want says, an empty details
 * map (HELLO-040) and a canonical encoding (HELLO-052); the reason is
 * compared as a note.  Records the exact expected reply bytes. */
bool expect_refused(cctx *c, const hreply *r, const refusal *want, echo e);

/* A framed HelloReply with the negotiated arm, negotiated_protocol 1, no
 * warnings (HELLO-033) and a canonical encoding (HELLO-052); returns it, or
 * NULL after recording the failure. */
const rpb_negotiated *expect_negotiated(cctx *c, const hreply *r, echo e);

/* The broker answered with a refusal of want->code or closed without a
 * reply; both are allowed where the spec allows a plain close. */
bool expect_refused_or_closed(cctx *c, const hreply *r, const refusal *want);

/* The reply is the canonical encoding of what it holds (HELLO-052,
 * WIRE-020): the frame body and the payload re-encode to the same bytes. */
bool expect_canonical(cctx *c, const hreply *r);

/* Name of an ErrorCode value ("ERROR_PEER_REJECTED" or the number). */
const char *code_name(int32_t code, char tmp[16]);

#endif
