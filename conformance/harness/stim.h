/*
 * stim.h - stimulus construction: the baseline Hello and Frame of the suite,
 * canonical encoding through librpb, and a raw protobuf writer for the
 * malformed, non-canonical and unknown-field inputs librpb will not produce.
 */
#ifndef CONFORM_STIM_H
#define CONFORM_STIM_H

#include <rpb/rpb.h>

#include "sbuf.h"

/* Baseline values (conformance/README.md, "The baseline Hello"). */
#define STIM_REQUEST_ID UINT64_C(42)
#define STIM_TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define STIM_TRACESTATE "rp=1,conform=7"
#define STIM_SERVICE "zccache"
#define STIM_VERSION "1.11.20"
#define STIM_KEEPALIVE 60u

/* ---- raw protobuf writer (fixed-width and group fields are written as
 * hex in the case tables) ---- */
void pb_varint(sbuf *b, uint64_t v);
void pb_key(sbuf *b, uint32_t field, unsigned wire_type);
void pb_uint(sbuf *b, uint32_t field, uint64_t v);       /* written even when 0 */
void pb_bytes(sbuf *b, uint32_t field, const void *p, size_t n);
void pb_str(sbuf *b, uint32_t field, const char *s);

/* ---- baseline messages ---- */

/* The baseline Hello: protocol 1..1, zccache 1.11.20, client_version
 * "zccache-cli/1.11.20", lib "running-process" "4.5.5", keepalive 60 and
 * peer_pid as given (the pid of the connecting process, or 0). */
void stim_hello_base(rpb_hello *h, uint32_t peer_pid);

/* The baseline envelope of a Hello: v1 REQUEST on 0x0000, request_id 42,
 * traceparent/tracestate set, empty payload. */
void stim_frame_base(rpb_frame *f);

/* ---- encoding ---- */

/* Appends the canonical encoding of msg (aborts on codec failure). */
void stim_encode(sbuf *out, const rpb_msg_desc *desc, const void *msg);

/* Appends a frame header for body_len bytes followed by body. */
void stim_framed(sbuf *out, const uint8_t *body, size_t body_len);

/* Appends frame (its payload replaced by the encoding of hello) framed. */
void stim_hello_frame(sbuf *out, const rpb_frame *frame, const rpb_hello *hello);

/* Appends the framed baseline Hello from peer_pid. */
void stim_base_frame(sbuf *out, uint32_t peer_pid);

/* Appends frame (payload as given) framed. */
void stim_frame(sbuf *out, const rpb_frame *frame);

/* Appends frame (payload replaced by the encoding of msg, of type desc)
 * framed, with the bytes or string field *pad of msg set to fill bytes so
 * that the Frame body is exactly body_len bytes (*pad is cleared again).
 * Returns 0, or -1 when body_len cannot be reached exactly. */
int stim_padded_frame(sbuf *out, const rpb_frame *frame, const rpb_msg_desc *desc, void *msg, rpb_slice *pad,
                      uint8_t fill, size_t body_len);

/* A Hello frame whose Frame body is exactly body_len bytes, padded through
 * Hello.auth_token (a bytes field brokers ignore).  Returns 0, or -1 when
 * body_len cannot be reached exactly. */
int stim_padded_hello_frame(sbuf *out, uint32_t peer_pid, size_t body_len);

#endif
