/*
 * rpb/io.h - frames over file descriptors: a capped, deadline-bound reader
 * and a writer.  This is the only part of librpb's codec side that performs
 * I/O; it builds on the I/O-free splitter in rpb/frame.h.
 */
#ifndef RPB_IO_H
#define RPB_IO_H

#include "rpb/export.h"

#include <stdint.h>

#include "rpb/buf.h"
#include "rpb/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds on CLOCK_MONOTONIC.  Deadlines below are absolute values of
 * this clock; RPB_NO_DEADLINE waits for ever. */
RPB_API int64_t rpb_monotonic_ms(void);
#define RPB_NO_DEADLINE INT64_C(-1)

/*
 * Reads one frame from fd into body (replacing its contents) with the body
 * cap `cap`, never reading past the frame's last byte (FRAME-001..007,
 * FRAME-010).  The framing byte is judged as soon as it arrives, the cap as
 * soon as the 4 length bytes arrive; body memory grows only with bytes that
 * actually arrived (at most twice them plus 4 KiB), never with the claim.
 * fd may be blocking or not, a socket or another descriptor (a pipe, a
 * file).  The deadline bounds the waits, not the reads: on a socket, bytes
 * already there are read at once (with MSG_DONTWAIT, whatever fd's flags)
 * and poll(2) is called only when more must be waited for, so a frame that
 * has arrived is read even past the deadline; any other descriptor is
 * polled before each read when there is a deadline (a read of a blocking
 * pipe could outlast it), so there a passed deadline gives RPB_ERR_TIMEOUT.
 *
 * Returns RPB_OK, RPB_ERR_FRAMING_VERSION, RPB_ERR_FRAME_TOO_LARGE,
 * RPB_ERR_UNEXPECTED_EOF (the stream ended inside, or before, the frame;
 * err->offset says how many frame bytes had arrived), RPB_ERR_TIMEOUT,
 * RPB_ERR_IO (errno kept) or RPB_ERR_NO_MEMORY.
 */
RPB_API int rpb_read_frame(int fd, uint32_t cap, int64_t deadline_ms, rpb_buf *body, rpb_errinfo *err);

/*
 * Writes header and body to fd completely (FRAME-008): RPB_OK,
 * RPB_ERR_FRAME_TOO_LARGE (body over 16 MiB, nothing written),
 * RPB_ERR_TIMEOUT or RPB_ERR_IO.  Sockets are written with MSG_NOSIGNAL, so
 * a peer that hung up gives RPB_ERR_IO with errno EPIPE, never SIGPIPE.
 */
RPB_API int rpb_write_frame(int fd, const uint8_t *body, size_t len, int64_t deadline_ms);

/* Encodes frame and writes it framed; same results as rpb_write_frame()
 * plus RPB_ERR_NO_MEMORY. */
RPB_API int rpb_write_frame_msg(int fd, const rpb_frame *frame, int64_t deadline_ms);

#ifdef __cplusplus
}
#endif
#endif
