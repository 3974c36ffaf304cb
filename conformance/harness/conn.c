/* conn.c - the connection helper layer (see conn.h). */
#define _GNU_SOURCE
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "usock.h"

#ifndef SECBIT_NO_SETUID_FIXUP
#define SECBIT_NO_SETUID_FIXUP (1 << 2)
#endif

#define NOBODY_ID 65534

const char *hend_name(int end)
{
    switch (end) {
    case H_REPLY: return "reply";
    case H_EOF: return "closed (EOF)";
    case H_RESET: return "reset";
    case H_TIMEOUT: return "no reply before the deadline";
    case H_GARBAGE: return "bytes that are not a v1 frame";
    default: return "local error";
    }
}

static int64_t now_ms(void)
{
    return rpb_monotonic_ms();
}

static int remaining(int64_t deadline)
{
    int64_t left = deadline - now_ms();
    return left < 0 ? 0 : (int)left;
}

/* ---- helper processes ---- */

static void child_loop(int ctl, const char *path, int timeout_ms)
{
    for (;;) {
        char cmd;
        ssize_t n = read(ctl, &cmd, 1);
        if (n <= 0)
            _exit(0);
        int fd = usock_connect(path, timeout_ms);
        if (usock_send_fd(ctl, fd) < 0)
            _exit(1);
        if (fd >= 0)
            close(fd);
    }
}

int origin_start(horigin *o, const char *socket_path, int timeout_ms, bool foreign_uid)
{
    int sp[2];
    memset(o, 0, sizeof *o);
    o->ctl = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        return -errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sp[0]);
        close(sp[1]);
        return -e;
    }
    if (pid == 0) {
        close(sp[0]);
        if (foreign_uid) {
            /* Keep CAP_DAC_OVERRIDE across the uid change so the connect()
             * reaches the broker's 0600 socket: the broker must then refuse
             * the peer by its SO_PEERCRED uid, not rely on file modes. */
            prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0);
            if (setgroups(0, NULL) < 0 || setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0 ||
                setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID) < 0)
                _exit(3);
        }
        child_loop(sp[1], socket_path, timeout_ms);
        _exit(0);
    }
    close(sp[1]);
    o->pid = pid;
    o->ctl = sp[0];
    o->foreign = foreign_uid;
    return 0;
}

void origin_stop(horigin *o)
{
    if (o->ctl >= 0)
        close(o->ctl);
    if (o->pid > 0) {
        int st;
        while (waitpid(o->pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    o->ctl = -1;
    o->pid = 0;
}

/* Asks o for a connection; returns the fd it connected or -errno. */
static int origin_connect(const horigin *o)
{
    char cmd = 'c';
    if (write(o->ctl, &cmd, 1) != 1)
        return -EPIPE;
    int fd = usock_recv_fd(o->ctl);
    if (fd >= 0)
        usock_note_connection(); /* made in the helper, counted here */
    return fd;
}

/* ---- connections ---- */

static void keep(sbuf *b, size_t *total, const void *data, size_t len)
{
    *total += len;
    if (b->len < EXCH_KEEP_BYTES) {
        size_t room = EXCH_KEEP_BYTES - b->len;
        sb_put(b, data, len < room ? len : room);
    }
}

static void set_end(hconn *hc, const char *what)
{
    if (hc->ex)
        snprintf(hc->ex->end, sizeof hc->ex->end, "%s", what);
}

/* A new recorded connection on fd (or the connect's -errno). */
static int hc_take(cctx *c, hconn *hc, const char *label, int fd)
{
    hc->c = c;
    hc->fd = -1;
    hc->ex = c_new_exchange(c, label);
    if (fd < 0) {
        char what[48];
        snprintf(what, sizeof what, "connect failed: %s", strerror(-fd));
        set_end(hc, what);
        return fd;
    }
    /* non-blocking, so that hc_send() keeps to its deadline */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    hc->fd = fd;
    return 0;
}

int hc_open(cctx *c, hconn *hc, const horigin *o, const char *label)
{
    return hc_take(c, hc, label, o ? origin_connect(o) : usock_connect(c->cfg->socket_path, c->cfg->reply_ms));
}

int hc_open_at(cctx *c, hconn *hc, const char *path, const char *label)
{
    return hc_take(c, hc, label, usock_connect(path, c->cfg->reply_ms));
}

void hc_adopt(cctx *c, hconn *hc, int fd, const char *label)
{
    usock_note_connection();
    hc_take(c, hc, label, fd);
}

int hc_send(hconn *hc, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t off = 0;
    int64_t deadline = now_ms() + hc->c->cfg->reply_ms;
    if (hc->fd < 0)
        return -EBADF;
    while (off < len) {
        ssize_t n = send(hc->fd, p + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            if (hc->ex)
                keep(&hc->ex->sent, &hc->ex->sent_total, p + off, (size_t)n);
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {hc->fd, POLLOUT, 0};
            int left = remaining(deadline);
            if (left == 0)
                return -ETIMEDOUT;
            poll(&pfd, 1, left);
            continue;
        }
        return n < 0 ? -errno : -EIO;
    }
    return 0;
}

void hc_shut_wr(hconn *hc)
{
    if (hc->fd >= 0)
        shutdown(hc->fd, SHUT_WR);
}

void hr_free(hreply *r)
{
    sb_free(&r->raw);
    free(r->arena_mem);
    memset(r, 0, sizeof *r);
}

static void decode_reply(hreply *r)
{
    size_t consumed = 0;
    r->payload_err = RPB_ERR_INVALID_ARGUMENT;
    if (rpb_frame_decode(r->raw.data, r->raw.len, RPB_MAX_FRAME_BYTES, &r->frame, &consumed, NULL) !=
        RPB_OK)
        return;
    r->frame_ok = true;
    size_t n = rpb_arena_bound(r->frame.payload.len);
    r->arena_mem = malloc(n); /* NULL: an empty arena (list or map fields fail) */
    rpb_arena arena;
    rpb_arena_init(&arena, r->arena_mem, n);
    if (r->frame.payload_protocol == RPB_PP_CONTROL) {
        rpb_msg_init(&rpb_hello_reply_desc, &r->hello);
        r->payload_err = rpb_decode(&rpb_hello_reply_desc, r->frame.payload.data, r->frame.payload.len,
                                    &r->hello, &arena, 0, NULL);
    } else if (r->frame.payload_protocol == RPB_PP_ADMIN) {
        rpb_msg_init(&rpb_admin_reply_desc, &r->admin);
        r->payload_err = rpb_decode(&rpb_admin_reply_desc, r->frame.payload.data, r->frame.payload.len,
                                    &r->admin, &arena, 0, NULL);
    }
}

int hc_read_reply(hconn *hc, int timeout_ms, hreply *r)
{
    memset(r, 0, sizeof *r);
    r->end = H_ERROR;
    r->ex = hc->ex;
    hc->c->r->last = hc->ex;
    if (hc->fd < 0)
        return r->end;
    int64_t deadline = now_ms() + timeout_ms;
    uint8_t chunk[16384];
    for (;;) {
        if (r->raw.len) {
            rpb_slice body;
            size_t consumed;
            int rc = rpb_frame_split(r->raw.data, r->raw.len, RPB_MAX_FRAME_BYTES, &body, &consumed, NULL);
            if (rc == RPB_OK) {
                /* the reader stops at the frame end, so raw is exactly the frame */
                r->raw.len = consumed;
                r->end = H_REPLY;
                break;
            }
            if (rc != RPB_NEED_MORE) {
                r->end = H_GARBAGE;
                break;
            }
        }
        struct pollfd pfd = {hc->fd, POLLIN, 0};
        int left = remaining(deadline);
        int pr = poll(&pfd, 1, left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            r->end = H_TIMEOUT;
            break;
        }
        /* Read no further than the end of the first frame when its length
         * is known, so a trailing second frame is not swallowed. */
        size_t want = sizeof chunk;
        if (r->raw.len >= RPB_FRAME_HEADER_BYTES) {
            size_t total = RPB_FRAME_HEADER_BYTES + rpb_frame_header_length(r->raw.data);
            if (total > r->raw.len && total - r->raw.len < want)
                want = total - r->raw.len;
        } else {
            want = RPB_FRAME_HEADER_BYTES - r->raw.len;
        }
        ssize_t n = recv(hc->fd, chunk, want, 0);
        if (n > 0) {
            sb_put(&r->raw, chunk, (size_t)n);
            if (hc->ex)
                keep(&hc->ex->recv, &hc->ex->recv_total, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n == 0)
            r->end = r->raw.len ? H_GARBAGE : H_EOF;
        else
            r->end = errno == ECONNRESET ? H_RESET : H_ERROR;
        break;
    }
    if (r->end == H_REPLY)
        decode_reply(r);
    set_end(hc, hend_name(r->end));
    return r->end;
}

int hc_read_expected(hconn *hc, int timeout_ms, hreply *r, const uint8_t *want, size_t n, const char *text, ...)
{
    hc_read_reply(hc, timeout_ms, r);
    if (r->ex) {
        sb_put(&r->ex->expect_bytes, want, n);
        va_list ap;
        va_start(ap, text);
        sb_vprintf(&r->ex->expect_text, text, ap);
        va_end(ap);
    }
    return r->end;
}

int hc_wait_close(hconn *hc, int timeout_ms)
{
    if (hc->fd < 0)
        return H_ERROR;
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pollfd pfd = {hc->fd, POLLIN, 0};
        int pr = poll(&pfd, 1, remaining(deadline));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            return H_TIMEOUT;
        uint8_t chunk[4096];
        ssize_t n = recv(hc->fd, chunk, sizeof chunk, 0);
        if (n > 0) {
            if (hc->ex)
                keep(&hc->ex->recv, &hc->ex->recv_total, chunk, (size_t)n);
            set_end(hc, "more bytes after the reply");
            return H_GARBAGE;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        int end = n == 0 ? H_EOF : errno == ECONNRESET ? H_RESET : H_ERROR;
        set_end(hc, hend_name(end));
        return end;
    }
}

void hc_close(hconn *hc)
{
    if (hc->fd >= 0)
        close(hc->fd);
    hc->fd = -1;
}

int hc_exchange_within(cctx *c, const horigin *o, const char *label, const sbuf *stimulus, int timeout_ms,
                       hreply *r)
{
    hconn hc;
    memset(r, 0, sizeof *r);
    if (hc_open(c, &hc, o, label) < 0) {
        r->end = H_ERROR;
        return r->end;
    }
    /* A send error is not final: the broker may have answered already. */
    hc_send(&hc, stimulus->data, stimulus->len);
    hc_read_reply(&hc, timeout_ms, r);
    hc_close(&hc);
    return r->end;
}

int hc_exchange(cctx *c, const horigin *o, const char *label, const sbuf *stimulus, hreply *r)
{
    return hc_exchange_within(c, o, label, stimulus, c->cfg->reply_ms, r);
}
