/*
 * probe_client.c - the identity probe over a Unix socket (spec/probe.md
 * PROBE-003, PROBE-004, PROBE-020..PROBE-034): one connection, one
 * deadline, poll-based waiting, validation by the I/O-free rpb/probe.h.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "rpb/client.h"

static int fill_nonce(uint8_t nonce[RPB_PROBE_NONCE_BYTES])
{
    /* PROBE-003: the kernel CSPRNG; 32 bytes never return short. */
    ssize_t n;
    do
        n = getrandom(nonce, RPB_PROBE_NONCE_BYTES, 0);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)RPB_PROBE_NONCE_BYTES ? RPB_OK : RPB_ERR_IO;
}

void rpb_probe_outcome_free(rpb_probe_outcome *out)
{
    if (!out)
        return;
    rpb_buf_free(&out->body);
    rpb_process_close(&out->process);
}

int rpb_probe_endpoint(const rpb_endpoint *endpoint, const rpb_daemon_process *expected,
                       int timeout_ms, unsigned flags, rpb_probe_outcome *out, rpb_errinfo *err)
{
    if (!out)
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    memset(out, 0, sizeof *out);
    rpb_errinfo_set(err, RPB_OK, 0);
    out->process.pidfd = -1;
    /* PROBE-004: an empty path (or one C cannot name) fails before I/O. */
    char path[RPB_IDENT_PATH_MAX];
    if (!endpoint || endpoint->path.len == 0 || endpoint->path.len >= sizeof path ||
        memchr(endpoint->path.data, '\0', endpoint->path.len))
        return rpb_errinfo_set(err, RPB_ERR_INVALID_ARGUMENT, 0);
    memcpy(path, endpoint->path.data, endpoint->path.len);
    path[endpoint->path.len] = '\0';

    int rc;
    if (expected) {
        if ((rc = rpb_probe_endpoint_check(endpoint, expected)) != RPB_OK) /* PROBE-020 */
            return rpb_errinfo_set(err, rc, 0);
        /* PROBE-021: verification before connecting, outside the deadline. */
        if ((flags & RPB_PROBE_VERIFY) &&
            (rc = rpb_verify_process(expected, &out->process)) != RPB_OK)
            return rpb_errinfo_set(err, rc, 0);
    }

    uint8_t nonce[RPB_PROBE_NONCE_BYTES], request[RPB_PROBE_REQUEST_MAX_BYTES];
    size_t request_len;
    if ((rc = fill_nonce(nonce)) != RPB_OK)
        return rpb_errinfo_set(err, rc, 0);
    rpb_probe_request_encode(nonce, request, sizeof request, &request_len);
    /* PROBE-030: one deadline, set after the nonce, over the exchange. */
    int64_t deadline = rpb_monotonic_ms() +
                       (timeout_ms > 0 ? timeout_ms : RPB_PROBE_DEFAULT_TIMEOUT_MS);
    /* PROBE-031..PROBE-034: the exchange waits with poll on the deadline,
     * reports end of stream at once, bounds connect by the same deadline
     * and sends with MSG_NOSIGNAL. */
    rc = rpb_client_exchange(path, request, request_len, deadline, &out->body, err);
    if (rc == RPB_ERR_INVALID_ARGUMENT || /* path longer than sun_path */
        (rc == RPB_ERR_IO && (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTSOCK ||
                              errno == EACCES || errno == ENOTDIR)))
        return rpb_errinfo_set(err, RPB_ERR_PROBE_CONNECT, 0);
    if (rc != RPB_OK) /* read errors carry their offset already */
        return err && err->code == rc ? rc : rpb_errinfo_set(err, rc, 0);
    rc = rpb_probe_response_check(out->body.data, out->body.len, nonce, expected, &out->reply, err);
    if (rc == RPB_OK && !expected && (flags & RPB_PROBE_VERIFY))
        rc = rpb_errinfo_set(err, rpb_verify_process(&out->reply.identity, &out->process), 0);
    return rc;
}
