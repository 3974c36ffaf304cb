/*
 * fuzz_read_frame - rpb_read_frame() (FRAME-001..FRAME-010) over a real
 * socket: the input is written into one end of a socketpair, the write end
 * is shut down, and frames are read from the other end until one fails.
 *
 * Input: byte 0 picks the cap (0: 16 MiB, 1: 64 KiB, 2: 0, 3: 1024, then
 * repeating); the rest is the byte stream (at most 64 KiB of it is sent).
 *
 * Oracles, per frame read:
 *  - model: the result is what rpb_frame_split() says about the bytes left
 *    in the stream: ok -> ok with the same body; need-more -> unexpected-eof
 *    (FRAME-007) with err.offset = the bytes that were left; framing-version
 *    and frame-too-large -> the same error;
 *  - no over-read: after an ok frame exactly the bytes after it are still
 *    in the socket (FRAME-009), and after frame-too-large exactly the bytes
 *    after the 5-byte header (FRAME-005: no body byte read);
 *  - memory: the body buffer's capacity never exceeds twice the bytes sent
 *    plus 4 KiB, whatever length a header claims (rpb/io.h).
 * The same rpb_buf is reused for every frame (its contents are replaced).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_STREAM 65536u

static const uint32_t caps[] = {RPB_MAX_FRAME_BYTES, RPB_MAX_HELLO_BYTES, 0, 1024};

/* Sends as much of in as the socket takes without blocking; returns it. */
static size_t send_stream(int fd, const uint8_t *in, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, in + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fz_fail("send: %s", strerror(errno));
        }
        sent += (size_t)n;
    }
    return sent;
}

/* Reads what is left in the socket until end of stream. */
static size_t drain(int fd, uint8_t *out, size_t cap)
{
    size_t got = 0;
    for (;;) {
        uint8_t scratch[4096];
        ssize_t n = read(fd, scratch, sizeof scratch);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fz_fail("read: %s", strerror(errno));
        if (n == 0)
            return got;
        FZ_CHECK(got + (size_t)n <= cap, "more bytes in the socket than were sent");
        memcpy(out + got, scratch, (size_t)n);
        got += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint32_t cap = caps[data[0] % (sizeof caps / sizeof caps[0])];
    const uint8_t *stream = data + 1;
    size_t len = size - 1 > MAX_STREAM ? MAX_STREAM : size - 1;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        fz_fail("socketpair: %s", strerror(errno));
    int sndbuf = 4 * MAX_STREAM;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    len = send_stream(sv[0], stream, len);
    shutdown(sv[0], SHUT_WR);

    rpb_buf buf = {NULL, 0, 0};
    size_t pos = 0; /* stream bytes consumed by earlier frames */
    for (;;) {
        const uint8_t *left = stream + pos;
        size_t left_len = len - pos;
        rpb_slice body = {NULL, 0};
        size_t consumed = 0;
        int want = rpb_frame_split(left, left_len, cap, &body, &consumed, NULL);

        rpb_errinfo err = {0};
        int rc = rpb_read_frame(sv[1], cap, rpb_monotonic_ms() + 5000, &buf, &err);
        FZ_CHECK(buf.cap <= 2 * len + 4096,
                 "body buffer of %zu bytes after %zu bytes arrived (claim %u, cap %u)", buf.cap,
                 len, left_len >= 5 ? rpb_frame_header_length(left) : 0, cap);

        if (want == RPB_OK) {
            FZ_CHECK(rc == RPB_OK, "rpb_read_frame %s, the frame is complete", rpb_errname(rc));
            FZ_CHECK(buf.len == body.len && (body.len == 0 || memcmp(buf.data, body.data, body.len) == 0),
                     "body of %zu bytes read, %zu expected or contents differ", buf.len, body.len);
            pos += consumed;
            continue;
        }

        if (want == RPB_NEED_MORE) {
            FZ_CHECK(rc == RPB_ERR_UNEXPECTED_EOF, "stream ends inside a frame: %s",
                     rpb_errname(rc));
            FZ_CHECK(err.offset == left_len, "unexpected-eof after %zu frame bytes, reported %zu",
                     left_len, err.offset);
        } else {
            FZ_CHECK(rc == want, "rpb_read_frame %s, the splitter says %s", rpb_errname(rc),
                     rpb_errname(want));
        }
        if (want == RPB_ERR_FRAME_TOO_LARGE) {
            uint8_t *rest = malloc(left_len);
            if (!rest)
                fz_fail("out of memory");
            size_t n = drain(sv[1], rest, left_len);
            FZ_CHECK(n == left_len - 5 && memcmp(rest, left + 5, n) == 0,
                     "after frame-too-large %zu bytes remain, %zu expected (no body byte read)", n,
                     left_len - 5);
            free(rest);
        }
        break;
    }

    rpb_buf_free(&buf);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
