/*
 * rpb/frame.h - v1 framing (spec/wire.md FRAME-*), the Frame envelope and
 * its per-site validation (spec/envelope.md ENV-*), and the payload-protocol
 * registry.  All I/O-free: bytes in, bytes or structs out.
 */
#ifndef RPB_FRAME_H
#define RPB_FRAME_H

#include "rpb/export.h"

#include "rpb/messages.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_FRAMING_VERSION 1u     /* the byte at offset 0 (FRAME-001) */
#define RPB_PROTOCOL_VERSION 1u    /* Frame.envelope_version, Hello protocol range */
#define RPB_FRAME_HEADER_BYTES 5u  /* framing byte + u32 LE body length (FRAME-002) */
#define RPB_MAX_FRAME_BYTES 16777216u /* body cap, 16 MiB (FRAME-003) */
#define RPB_MAX_HELLO_BYTES 65536u    /* first-Hello body cap, 64 KiB (FRAME-004) */

/* Payload-protocol registry (ENV-008). */
#define RPB_PP_CONTROL 0x0000u
#define RPB_PP_ADMIN 0xAD01u
#define RPB_PP_PROBE 0xB232u
#define RPB_PP_HANDOFF 0xD0FFu
#define RPB_PP_ZCCACHE 0x7A63u
#define RPB_PP_CLUD 0x7C4Cu
#define RPB_PP_FBUILD 0x7EB1u
#define RPB_PP_CONSUMER_MIN 0x7000u
#define RPB_PP_CONSUMER_MAX 0x7EFFu
#define RPB_PP_PRIVATE_MIN 0xF000u
#define RPB_PP_PRIVATE_MAX 0xFFFFu

/* "control", "admin", "probe", "handoff", "zccache", "clud", "fbuild",
 * "consumer" (other 0x7000-0x7EFF), "private" (0xF000-0xFFFF), "first-party"
 * (other 0x0000-0x6FFF), or "reserved". */
RPB_API const char *rpb_payload_protocol_class(uint32_t payload_protocol);

/* The protobuf message that Frame.payload carries on payload_protocol for a
 * frame of this kind (ENV-008): Hello / HelloReply on 0x0000, AdminRequest /
 * AdminReply on 0xAD01, HandoffOffer (REQUEST) and HandoffAck (RESPONSE, and
 * the broker's EVENT relay) on 0xD0FF.  NULL for every other pair, the probe
 * (0xB232) included: its payload is a raw nonce (request) or a nonce
 * followed by a DaemonProcess (response), not one message. */
RPB_API const rpb_msg_desc *rpb_payload_message(uint32_t payload_protocol, int32_t kind);

/*
 * Incremental frame splitter (FRAME-001..FRAME-009).  Looks at in[0..len),
 * which holds the start of a byte stream, and never consumes it.
 *
 * Returns
 *   RPB_OK         a whole frame is there: *body views its body and
 *                  *consumed is 5 + body length; later bytes are untouched;
 *   RPB_NEED_MORE  no decision yet (a strict prefix of a valid frame);
 *   RPB_ERR_FRAMING_VERSION  in[0] != 0x01, decided from 1 byte;
 *   RPB_ERR_FRAME_TOO_LARGE  the length exceeds cap, decided from 5 bytes,
 *                  before any body byte (cap is RPB_MAX_FRAME_BYTES or
 *                  RPB_MAX_HELLO_BYTES, or any smaller value).
 * err (may be NULL) gets the code and the offset (0 or 1).
 */
RPB_API int rpb_frame_split(const uint8_t *in, size_t len, uint32_t cap, rpb_slice *body,
                    size_t *consumed, rpb_errinfo *err);

/* Reads the body length of a complete 5-byte header (no checks). */
RPB_API uint32_t rpb_frame_header_length(const uint8_t header[5]);

/* Writes the 5-byte header for a body of body_len bytes. */
RPB_API void rpb_frame_header_write(uint8_t header[5], uint32_t body_len);

/*
 * rpb_frame_split() followed by rpb_decode() of the body as a Frame.  On
 * success frame's slices point into in.  Errors from the body decoder carry
 * offsets counted from in[0].  Frame has no list or map fields, so no arena.
 */
RPB_API int rpb_frame_decode(const uint8_t *in, size_t len, uint32_t cap, rpb_frame *frame,
                     size_t *consumed, rpb_errinfo *err);

/*
 * Encodes frame framed (header + body) into out[0..cap).  Returns RPB_OK,
 * RPB_ERR_FRAME_TOO_LARGE when the body would exceed 16 MiB (FRAME-008;
 * nothing is written) or RPB_ERR_BUFFER_TOO_SMALL (out's contents are
 * unspecified, rpb/error.h).  Neither room to spare nor a buffer of
 * exactly the frame's size needs a sizing pass: when cap holds the frame's
 * upper bound (its byte fields plus about 100 bytes) the frame is written
 * at once, and a buffer below about 100 bytes is filled back to front;
 * other buffers are sized first.
 */
RPB_API int rpb_frame_encode(const rpb_frame *frame, uint8_t *out, size_t cap, size_t *written);

/* The framed size rpb_frame_encode() writes. */
RPB_API size_t rpb_frame_encoded_len(const rpb_frame *frame);

/*
 * Encodes frame framed, with the canonical encoding of msg (a struct of
 * type desc) as its payload in place of frame->payload: header, Frame and
 * payload written in one pass into out[0..cap), with no intermediate
 * buffer.  The bytes are those of rpb_encode() of msg followed by
 * rpb_frame_encode() of frame carrying them.  Returns RPB_OK,
 * RPB_ERR_INVALID_ARGUMENT, RPB_ERR_FRAME_TOO_LARGE (body over 16 MiB,
 * FRAME-008; nothing is written) or RPB_ERR_BUFFER_TOO_SMALL (nothing is
 * written).  As rpb_frame_encode(), faster with room to spare (the bound
 * counts 11 bytes per field of msg beside its byte fields).
 */
RPB_API int rpb_frame_encode_msg(const rpb_frame *frame, const rpb_msg_desc *desc,
                                 const void *msg, uint8_t *out, size_t cap, size_t *written);

/* The framed size rpb_frame_encode_msg() writes. */
RPB_API size_t rpb_frame_encoded_len_msg(const rpb_frame *frame, const rpb_msg_desc *desc,
                                         const void *msg);

/* Frame constructors (ENV-007): a v1 REQUEST on payload_protocol, and a
 * RESPONSE that echoes request's payload_protocol, request_id and trace
 * context.  Both leave deadline 0 and encoding NONE. */
RPB_API rpb_frame rpb_frame_request(uint32_t payload_protocol, rpb_slice payload);
RPB_API rpb_frame rpb_frame_response_to(const rpb_frame *request, rpb_slice payload);

/* Upstream call sites, each with its own validation order (ENV-009). */
typedef enum rpb_site {
    RPB_SITE_HELLO,          /* broker receiving a Hello: REQUEST, 0x0000 */
    RPB_SITE_HELLO_REPLY,    /* client receiving a HelloReply: RESPONSE, 0x0000 */
    RPB_SITE_ADMIN_REQUEST,  /* broker receiving an admin verb: REQUEST, 0xAD01 */
    RPB_SITE_ADMIN_REPLY,    /* client receiving an admin reply: RESPONSE, 0xAD01 */
    RPB_SITE_PROBE_REQUEST,  /* backend receiving a probe: REQUEST, 0xB232 */
    RPB_SITE_PROBE_RESPONSE, /* prober: RESPONSE, 0xB232, request_id before encoding */
    RPB_SITE_HANDOFF_OFFER,  /* backend receiving an offer: REQUEST, 0xD0FF */
    RPB_SITE_HANDOFF_ACK,    /* broker awaiting the ack: RESPONSE, 0xD0FF, request_id */
    RPB_SITE_HANDOFF_READY,  /* client receiving the relayed ack: EVENT, 0xD0FF */
    RPB_SITE_COUNT
} rpb_site;

/* "hello", "hello-reply", "admin-request", ... ; NULL when out of range. */
RPB_API const char *rpb_site_name(rpb_site site);
/* The site called name, or RPB_SITE_COUNT. */
RPB_API rpb_site rpb_site_from_name(const char *name);

/*
 * Validates frame's envelope as site does (ENV-001..ENV-006, ENV-009).
 * expected_request_id is used only by the sites that correlate it
 * (PROBE_RESPONSE, HANDOFF_ACK).  Returns RPB_OK or the first failure of
 * RPB_ERR_ENVELOPE_VERSION, RPB_ERR_ENVELOPE_KIND,
 * RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL, RPB_ERR_ENVELOPE_REQUEST_ID,
 * RPB_ERR_ENVELOPE_PAYLOAD_ENCODING in the site's order.
 */
RPB_API int rpb_envelope_check(const rpb_frame *frame, rpb_site site, uint64_t expected_request_id);

#ifdef __cplusplus
}
#endif
#endif
