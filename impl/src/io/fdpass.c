/*
 * fdpass.c - the handoff's descriptor transfer over a Unix stream socket
 * (spec/handoff.md HANDOFF-020, HANDOFF-040, HANDOFF-041).
 */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC, sendmmsg */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rpb/handoff.h"
#include "rpb/io.h"
#include "wait.h"

/* HANDOFF-041: room for this many descriptors, so that a message with a
 * few too many (2 to 8) is reported as handoff-fd-count and its
 * descriptors closed; beyond it the kernel truncates (handoff-ctrunc) and
 * closes the rest itself. */
#define RECV_FD_ROOM 8

/* HANDOFF-020: one message, the 16 token bytes and one SCM_RIGHTS fd;
 * then, in the same sendmmsg(2), the first of after_len bytes of after
 * (HANDOFF-021: the offer), whose count sent goes to *after_sent.  The
 * kernel keeps the descriptor's message apart: a receiver's recvmsg ends
 * with it. */
static int send_token(int sock, int fd, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                      const uint8_t *after, size_t after_len, int64_t deadline_ms,
                      size_t *after_sent)
{
    *after_sent = 0;
    if (sock < 0 || fd < 0 || !token || (!after && after_len))
        return RPB_ERR_INVALID_ARGUMENT;
    uint8_t data[RPB_HANDOFF_TOKEN_BYTES];
    memcpy(data, token, sizeof data);
    struct iovec iov[2] = {{data, sizeof data}, {(void *)after, after_len}};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct mmsghdr msgs[2];
    memset(msgs, 0, sizeof msgs);
    struct msghdr *msg = &msgs[0].msg_hdr;
    msg->msg_iov = &iov[0];
    msg->msg_iovlen = 1;
    msg->msg_control = ctl.buf;
    msg->msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    msgs[1].msg_hdr.msg_iov = &iov[1];
    msgs[1].msg_hdr.msg_iovlen = 1;
    for (;;) {
        int sent = sendmmsg(sock, msgs, after_len ? 2 : 1, MSG_NOSIGNAL);
        if (sent > 0 && msgs[0].msg_len == sizeof data) {
            /* the second message's failure is the caller's next write's */
            *after_sent = sent == 2 ? msgs[1].msg_len : 0;
            return RPB_OK;
        }
        if (sent > 0) { /* a stream never splits 16 bytes, but say so if it does */
            errno = EMSGSIZE;
            return RPB_ERR_IO;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return RPB_ERR_IO;
        int rc = rpb_io_wait(sock, POLLOUT, deadline_ms);
        if (rc != RPB_OK)
            return rc;
    }
}

int rpb_handoff_send_fd(int sock, int fd, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                        int64_t deadline_ms)
{
    size_t none;
    return send_token(sock, fd, token, NULL, 0, deadline_ms, &none);
}

int rpb_handoff_send_offer(int sock, int fd, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                           const uint8_t *offer, size_t offer_len, int64_t deadline_ms,
                           size_t *offer_sent)
{
    size_t none;
    return send_token(sock, fd, token, offer, offer_len, deadline_ms, offer_sent ? offer_sent : &none);
}

/* Closes every descriptor the control data of msg carries; returns how
 * many there were and, when exactly one, leaves it in *fd instead. */
static size_t take_fds(struct msghdr *msg, int *fd)
{
    size_t count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int one;
            memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof one);
            if (count++ == 0)
                *fd = one;
            else
                close(one);
        }
    }
    if (count > 1) {
        close(*fd);
        *fd = -1;
    }
    return count;
}

int rpb_handoff_recv_fd(int sock, int64_t deadline_ms, uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                        int *fd)
{
    if (!fd)
        return RPB_ERR_INVALID_ARGUMENT;
    *fd = -1;
    if (sock < 0 || !token)
        return RPB_ERR_INVALID_ARGUMENT;
    /* One byte more than a token: data longer than 16 bytes in the fd's
     * segment (or merged before it) shows as a wrong length. */
    uint8_t data[RPB_HANDOFF_TOKEN_BYTES + 1];
    struct iovec iov = {data, sizeof data};
    union {
        char buf[CMSG_SPACE(RECV_FD_ROOM * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {0};
    ssize_t n;
    for (;;) {
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof ctl.buf;
        /* HANDOFF-041: close-on-exec from the start. */
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return RPB_ERR_IO;
        int rc = rpb_io_wait(sock, POLLIN, deadline_ms);
        if (rc != RPB_OK)
            return rc;
    }
    int got = -1;
    size_t count = take_fds(&msg, &got);
    /* HANDOFF-041, in this order: truncated control data, end of stream,
     * descriptor count, token length. */
    int rc = RPB_OK;
    if (msg.msg_flags & MSG_CTRUNC)
        rc = RPB_ERR_HANDOFF_CTRUNC;
    else if (n == 0 && count == 0)
        rc = RPB_ERR_UNEXPECTED_EOF;
    else if (count != 1)
        rc = RPB_ERR_HANDOFF_FD_COUNT;
    else if (n != (ssize_t)RPB_HANDOFF_TOKEN_BYTES)
        rc = RPB_ERR_HANDOFF_TOKEN_LENGTH;
    if (rc != RPB_OK) {
        if (got >= 0)
            close(got);
        return rc;
    }
    memcpy(token, data, RPB_HANDOFF_TOKEN_BYTES);
    *fd = got;
    return RPB_OK;
}

int rpb_handoff_receive(int conn, int64_t deadline_ms, rpb_handoff_received *out, rpb_errinfo *err)
{
    if (!out)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    memset(out, 0, sizeof *out);
    out->fd = -1;
    /* HANDOFF-040: the descriptor before any other byte. */
    uint8_t fd_token[RPB_HANDOFF_TOKEN_BYTES];
    int fd;
    int rc = rpb_handoff_recv_fd(conn, deadline_ms, fd_token, &fd);
    if (rc != RPB_OK)
        return rpb_errinfo_set(err, rc, 0);
    /* HANDOFF-042: no ACK for an offer that fails its checks. */
    rc = rpb_read_frame(conn, RPB_MAX_FRAME_BYTES, deadline_ms, &out->body, err);
    if (rc == RPB_OK)
        rc = rpb_handoff_offer_check(out->body.data, out->body.len, &out->frame, &out->offer, err);
    if (rc != RPB_OK) {
        close(fd);
        return rc;
    }
    /* HANDOFF-043, HANDOFF-044 */
    int verdict = rpb_handoff_offer_verdict(&out->offer, fd_token);
    uint8_t small[RPB_HANDOFF_ACK_MAX_BYTES];
    rpb_buf big = {0}; /* the echo of an offer's over-long token */
    uint8_t *ack = small;
    size_t n;
    rc = rpb_handoff_ack_encode(&out->offer, verdict, small, sizeof small, &n);
    if (rc == RPB_ERR_BUFFER_TOO_SMALL && (rc = rpb_buf_reserve(&big, n)) == RPB_OK) {
        ack = big.data;
        rc = rpb_handoff_ack_encode(&out->offer, verdict, ack, n, &n);
    }
    if (rc == RPB_OK)
        rc = rpb_write_frame(conn, ack + RPB_FRAME_HEADER_BYTES, n - RPB_FRAME_HEADER_BYTES,
                             deadline_ms);
    rpb_buf_free(&big);
    if (rc == RPB_OK)
        rc = verdict;
    if (rc != RPB_OK) { /* HANDOFF-045: a refused descriptor is closed */
        close(fd);
        return rpb_errinfo_set(err, rc, 0);
    }
    out->fd = fd;
    return rpb_errinfo_set(err, RPB_OK, 0);
}
