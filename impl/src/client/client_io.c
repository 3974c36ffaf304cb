/*
 * Blocking client socket helpers: connect to a Unix socket with a deadline
 * and run one framed request/reply exchange (HELLO-063).
 */
#include "rpb/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "../io/wait.h"
#include "rpb/error.h"

/* Makes fd, a socket rpb_client_connect() created with O_NONBLOCK as its
 * one status flag, blocking: RPB_OK or RPB_ERR_IO (errno kept).  F_SETFL
 * leaves the access mode alone, so no F_GETFL is needed. */
static int set_blocking(int fd)
{
    return fcntl(fd, F_SETFL, 0) == 0 ? RPB_OK : RPB_ERR_IO;
}

/* SO_SNDTIMEO of fd: timeout_ms, or none for -1. */
static int set_send_timeout(int fd, int timeout_ms)
{
    struct timeval tv = {0, 0};
    if (timeout_ms > 0) {
        tv.tv_sec = timeout_ms / 1000;
        tv.tv_usec = (timeout_ms % 1000) * 1000;
    }
    return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 ? RPB_OK : RPB_ERR_IO;
}

/*
 * PROBE-033: the connect to a listener whose backlog is full.  A
 * non-blocking Unix connect then fails with EAGAIN, and poll(2) cannot wait
 * for room: it reports the unconnected socket ready at once.  A blocking
 * connect(2) waits in the kernel until the listener accepts a connection
 * and bounds that wait by SO_SNDTIMEO, so fd is made blocking and connected
 * with SO_SNDTIMEO set to the time left; EAGAIN (SO_SNDTIMEO ran out) and
 * EINTR (a signal; the socket is still unconnected) retry with the time
 * left then.  SO_SNDTIMEO is cleared once connected.
 */
static int connect_when_accepted(int fd, const struct sockaddr_un *sa, int64_t deadline_ms)
{
    int rc = set_blocking(fd);
    while (rc == RPB_OK) {
        int timeout;
        if (!rpb_io_timeout(deadline_ms, &timeout))
            return RPB_ERR_TIMEOUT;
        if ((rc = set_send_timeout(fd, timeout)) != RPB_OK)
            break;
        if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
            return set_send_timeout(fd, -1);
        if (errno != EAGAIN && errno != EINTR)
            rc = RPB_ERR_IO;
    }
    return rc;
}

int rpb_client_connect(const char *path, int64_t deadline_ms)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof sa.sun_path)
        return RPB_ERR_INVALID_ARGUMENT;
    memcpy(sa.sun_path, path, n);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return RPB_ERR_IO;
    /* a non-blocking Unix connect completes at once (no EINPROGRESS) or
     * fails; EAGAIN is a full backlog */
    int rc;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        rc = set_blocking(fd);
    else
        rc = errno == EAGAIN ? connect_when_accepted(fd, &sa, deadline_ms) : RPB_ERR_IO;
    if (rc != RPB_OK) {
        int e = errno;
        close(fd);
        errno = e;
        return rc;
    }
    return fd;
}

/* Writes data[0..len) to the blocking socket fd, waiting for room no
 * longer than deadline_ms (FRAME-010): RPB_OK, RPB_ERR_TIMEOUT or
 * RPB_ERR_IO (errno kept). */
static int send_all(int fd, const uint8_t *data, size_t len, int64_t deadline_ms)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w >= 0) {
            off += (size_t)w;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return RPB_ERR_IO;
        int rc = rpb_io_wait(fd, POLLOUT, deadline_ms);
        if (rc != RPB_OK)
            return rc;
    }
    return RPB_OK;
}

int rpb_client_exchange_fd(int fd, const uint8_t *request, size_t len, int64_t deadline_ms, rpb_buf *reply,
                           rpb_errinfo *err)
{
    int write_rc = send_all(fd, request, len, deadline_ms);
    /* a broker may answer before taking the whole request (an over-cap
     * header): read the reply even when the write failed */
    int rc = rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, deadline_ms, reply, err);
    if (rc != RPB_OK && write_rc != RPB_OK)
        rc = write_rc;
    return rc;
}

int rpb_client_exchange(const char *path, const uint8_t *request, size_t len, int64_t deadline_ms,
                        rpb_buf *reply, rpb_errinfo *err)
{
    int fd = rpb_client_connect(path, deadline_ms);
    if (fd < 0)
        return fd;
    int rc = rpb_client_exchange_fd(fd, request, len, deadline_ms, reply, err);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}
