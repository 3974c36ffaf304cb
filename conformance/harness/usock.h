/*
 * usock.h - the harness's Unix-socket plumbing: connecting to the broker
 * with a deadline (for the runner, the attach probe and the helper
 * processes alike) and passing one connected fd, or the errno of a failed
 * connect, from a helper process back to the harness (SCM_RIGHTS).
 */
#ifndef CONFORM_USOCK_H
#define CONFORM_USOCK_H

#include <stddef.h>

/*
 * Connects to the Unix stream socket at path within timeout_ms (a full
 * backlog is retried until then), through rpb_client_connect().  Returns
 * the fd (blocking, close-on-exec) or -errno: -ENAMETOOLONG (path longer
 * than sun_path), -EINVAL (empty path), -ETIMEDOUT, or the connect()
 * error (-ENOENT, -ECONNREFUSED, ...).
 */
int usock_connect(const char *path, int timeout_ms);

/*
 * The connections to the broker this process has made so far: its
 * successful usock_connect() calls plus those a helper process made for it
 * (usock_note_connection()).  A broker accepts them in the same order, so
 * the k-th is the broker's k-th connection when the harness is its only
 * client (rpb-broker logs it as conn=k): how the report picks the log
 * lines of a case.
 */
size_t usock_connections(void);
void usock_note_connection(void);

/*
 * Sends fd_or_err over the datagram-preserving socket sock (SOCK_SEQPACKET):
 * an fd >= 0 is passed with SCM_RIGHTS (the caller still owns and closes
 * its copy), a negative value is passed as the error -errno.  Returns 0 or
 * -errno of sendmsg().
 */
int usock_send_fd(int sock, int fd_or_err);

/*
 * Receives one usock_send_fd() message from sock.  Returns the received fd
 * (close-on-exec), the sender's -errno, or -EPIPE when the message is
 * missing or short, -EPROTO when it was truncated (MSG_TRUNC, MSG_CTRUNC)
 * or did not carry exactly one fd.  Every fd that arrived and is not
 * returned is closed.
 */
int usock_recv_fd(int sock);

#endif
