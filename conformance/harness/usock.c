/* usock.c - Unix-socket plumbing of the harness (see usock.h). */
#define _GNU_SOURCE
#include "usock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rpb/rpb.h>

static size_t connections;

size_t usock_connections(void)
{
    return connections;
}

void usock_note_connection(void)
{
    connections++;
}

int usock_connect(const char *path, int timeout_ms)
{
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + timeout_ms);
    if (fd >= 0) {
        connections++;
        return fd;
    }
    switch (fd) {
    case RPB_ERR_INVALID_ARGUMENT: return path[0] ? -ENAMETOOLONG : -EINVAL;
    case RPB_ERR_TIMEOUT: return -ETIMEDOUT;
    default: return errno ? -errno : -EIO; /* RPB_ERR_IO keeps connect()'s errno */
    }
}

/* Room for a few fds, so that a sender passing more than one is seen (and
 * its extras closed) rather than cut off by MSG_CTRUNC alone. */
#define USOCK_MAX_FDS 4

int usock_send_fd(int sock, int fd_or_err)
{
    int status = fd_or_err < 0 ? -fd_or_err : 0;
    struct iovec iov = {&status, sizeof status};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (fd_or_err >= 0) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.buf;
        m.msg_controllen = sizeof u.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd_or_err, sizeof fd_or_err);
    }
    while (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

int usock_recv_fd(int sock)
{
    int status = 0;
    struct iovec iov = {&status, sizeof status};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(USOCK_MAX_FDS * sizeof(int))];
    } u;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    ssize_t n;
    while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    /* collect every fd that arrived, whatever else is wrong */
    int fds[USOCK_MAX_FDS], n_fds = 0;
    if (n >= 0) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k && n_fds < USOCK_MAX_FDS; i++)
                memcpy(&fds[n_fds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
        }
    }
    int rc;
    if (n != (ssize_t)sizeof status)
        rc = -EPIPE;
    else if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        rc = -EPROTO;
    else if (status)
        rc = status > 0 ? -status : -EPROTO; /* a negative one is no errno */
    else if (n_fds != 1)
        rc = -EPROTO;
    else
        return fds[0];
    for (int i = 0; i < n_fds; i++)
        close(fds[i]);
    return rc;
}
