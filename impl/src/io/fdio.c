/*
 * fdio.c - frames over file descriptors (spec/wire.md FRAME-001..FRAME-010).
 *
 * The reader never reads past the last byte of the frame (a Hello
 * connection may carry other traffic afterwards), judges the framing byte
 * and the cap as soon as those bytes arrive, and grows the body buffer only
 * with bytes that actually arrived.
 */
#include <errno.h>
#include <poll.h> /* POLLIN, POLLOUT */
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "rpb/io.h"
#include "wait.h"
#include "../core/mem.h"

#define BODY_CHUNK 4096u

int64_t rpb_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads up to want bytes: >0 bytes read, 0 at end of stream, or a negative
 * rpb code.  Bytes already there (a reply that came before the call, a
 * frame queued behind the last one) are taken without a poll: without a
 * deadline by read(), which waits by itself on a blocking descriptor; with
 * one, a socket by recv(MSG_DONTWAIT), which never blocks whatever the
 * descriptor's flags, and the poll comes only when it would block
 * (FRAME-010: a frame that has arrived is read even past the deadline).
 * With a deadline any other descriptor (*is_socket turns false on the
 * first ENOTSOCK) is polled before each read: read() of a blocking pipe
 * could wait past the deadline, and learning its flags costs the system
 * call the poll costs. */
static ssize_t read_some(int fd, bool *is_socket, uint8_t *dst, size_t want, int64_t deadline_ms)
{
    bool wait = deadline_ms >= 0 && !*is_socket;
    for (;;) {
        if (wait) {
            int rc = rpb_io_wait(fd, POLLIN, deadline_ms);
            if (rc != RPB_OK)
                return rc;
        }
        bool dontwait = deadline_ms >= 0 && *is_socket;
        ssize_t n = dontwait ? recv(fd, dst, want, MSG_DONTWAIT) : read(fd, dst, want);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (dontwait && errno == ENOTSOCK)
            *is_socket = false;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            return RPB_ERR_IO;
        wait = true;
    }
}

int rpb_read_frame(int fd, uint32_t cap, int64_t deadline_ms, rpb_buf *body, rpb_errinfo *err)
{
    uint8_t header[RPB_FRAME_HEADER_BYTES];
    size_t got = 0;
    bool is_socket = true; /* until recv() says otherwise (read_some) */

    body->len = 0;
    while (got < RPB_FRAME_HEADER_BYTES) {
        /* A frame is never shorter than its header, so this cannot read
         * into the next frame. */
        ssize_t n = read_some(fd, &is_socket, header + got, RPB_FRAME_HEADER_BYTES - got,
                              deadline_ms);
        if (n < 0)
            return rpb_errinfo_set(err, (int)n, got);
        if (n == 0)
            return rpb_errinfo_set(err, RPB_ERR_UNEXPECTED_EOF, got); /* FRAME-007 */
        got += (size_t)n;
        if (header[0] != RPB_FRAMING_VERSION)
            return rpb_errinfo_set(err, RPB_ERR_FRAMING_VERSION, 0); /* FRAME-001 */
    }
    uint32_t body_len = rpb_frame_header_length(header);
    if (body_len > cap) /* FRAME-003/004/005: before any body byte */
        return rpb_errinfo_set(err, RPB_ERR_FRAME_TOO_LARGE, 1);

    while (body->len < body_len) {
        if (body->len == body->cap) {
            /* FRAME-011: grow with what arrived, never with the claim:
             * room for as many bytes again (at least a chunk, at most the
             * rest of the frame). */
            size_t more = body->len > BODY_CHUNK ? body->len : BODY_CHUNK;
            if (more > body_len - body->len)
                more = body_len - body->len;
            if (rpb_buf_reserve(body, more) != RPB_OK)
                return rpb_errinfo_set(err, RPB_ERR_NO_MEMORY, RPB_FRAME_HEADER_BYTES + body->len);
        }
        size_t room = body->cap - body->len;
        size_t left = body_len - body->len;
        ssize_t n = read_some(fd, &is_socket, body->data + body->len, room < left ? room : left,
                              deadline_ms);
        if (n < 0)
            return rpb_errinfo_set(err, (int)n, RPB_FRAME_HEADER_BYTES + body->len);
        if (n == 0)
            return rpb_errinfo_set(err, RPB_ERR_UNEXPECTED_EOF, RPB_FRAME_HEADER_BYTES + body->len);
        body->len += (size_t)n;
    }
    return rpb_errinfo_set(err, RPB_OK, RPB_FRAME_HEADER_BYTES + body->len);
}

/* Writes the iovecs completely; sockets use MSG_NOSIGNAL (no SIGPIPE). */
static int write_all(int fd, struct iovec *iov, int iovcnt, int64_t deadline_ms)
{
    bool is_socket = true;
    while (iovcnt > 0) {
        ssize_t n;
        if (is_socket) {
            struct msghdr msg;
            memset(&msg, 0, sizeof msg);
            msg.msg_iov = iov;
            msg.msg_iovlen = (size_t)iovcnt;
            n = sendmsg(fd, &msg, MSG_NOSIGNAL);
            if (n < 0 && errno == ENOTSOCK) {
                is_socket = false;
                continue;
            }
        } else {
            n = writev(fd, iov, iovcnt);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return RPB_ERR_IO;
            int rc = rpb_io_wait(fd, POLLOUT, deadline_ms);
            if (rc != RPB_OK)
                return rc;
            continue;
        }
        size_t done = (size_t)n;
        while (iovcnt > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return RPB_OK;
}

int rpb_write_frame(int fd, const uint8_t *body, size_t len, int64_t deadline_ms)
{
    if (len > RPB_MAX_FRAME_BYTES) /* FRAME-008: nothing written */
        return RPB_ERR_FRAME_TOO_LARGE;
    uint8_t header[RPB_FRAME_HEADER_BYTES];
    rpb_frame_header_write(header, (uint32_t)len);
    struct iovec iov[2] = {{header, sizeof header}, {(void *)body, len}};
    return write_all(fd, iov, len ? 2 : 1, deadline_ms);
}

int rpb_write_frame_msg(int fd, const rpb_frame *frame, int64_t deadline_ms)
{
    /* Small frames (every broker reply) are encoded on the stack in one
     * pass; a larger one is encoded again into a buffer of its size, which
     * the first attempt left in written (rpb/error.h). */
    uint8_t small[512];
    uint8_t *out = small;
    size_t written;
    int rc = rpb_frame_encode(frame, small, sizeof small, &written);
    if (rc == RPB_ERR_BUFFER_TOO_SMALL) {
        out = rpb_mem_malloc(written);
        if (!out)
            return RPB_ERR_NO_MEMORY;
        rc = rpb_frame_encode(frame, out, written, &written);
    }
    if (rc == RPB_OK) {
        struct iovec iov = {out, written};
        rc = write_all(fd, &iov, 1, deadline_ms);
    }
    if (out != small)
        rpb_mem_free(out);
    return rc;
}
