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
#include <sys/un.h>
#include <unistd.h>

#include "../io/wait.h"
#include "rpb/error.h"

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
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    /* a Unix connect completes at once or fails with EAGAIN (backlog full) */
    while (rc < 0 && errno == EAGAIN) {
        /* nothing to poll a Unix connect on: retry every 10 ms */
        int timeout;
        if (!rpb_io_timeout(deadline_ms, &timeout)) {
            close(fd);
            return RPB_ERR_TIMEOUT;
        }
        poll(NULL, 0, timeout >= 0 && timeout < 10 ? timeout : 10);
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    /* connected, or failed: a non-blocking Unix connect never sleeps, so
     * there is no EINPROGRESS or EINTR to wait out */
    int flags = rc == 0 ? fcntl(fd, F_GETFL) : -1;
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return RPB_ERR_IO;
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
