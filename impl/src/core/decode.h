/*
 * decode.h - librpb-internal: the Frame's own body decoder (decode.c), for
 * the framed decoder of frame.c.
 */
#ifndef RPB_CORE_DECODE_H
#define RPB_CORE_DECODE_H

#include "rpb/messages.h"

/* rpb_msg_init() and rpb_decode() of the Frame body in[0..len) into frame,
 * with the same result, errors and err; faster. */
int rpb_frame_body_decode(const uint8_t *in, size_t len, rpb_frame *frame, rpb_errinfo *err);

#endif
