/* case_util.c - helpers shared by the cases (see cases.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases.h"

uint32_t self_pid(void)
{
    return (uint32_t)getpid();
}

void hello_base(rpb_frame *f, rpb_hello *h)
{
    stim_frame_base(f);
    stim_hello_base(h, self_pid());
}

void unknown_service_hello(sbuf *s, rpb_frame *f)
{
    rpb_hello h;
    hello_base(f, &h);
    h.service_name = rpb_slice_cstr("nosuch");
    stim_hello_frame(s, f, &h);
}

void put_hex(sbuf *b, const char *hex)
{
    size_t at = b->len, n = strlen(hex), written;
    sb_fill(b, 0, n / 2);
    if (rpb_hex_decode(hex, n, b->data + at, n / 2, &written) != RPB_OK)
        abort(); /* a typo in a case table */
}

void run_refused(cctx *c, const char *label, const sbuf *stimulus, const refusal *want, echo e)
{
    hreply r;
    hc_exchange(c, NULL, label, stimulus, &r);
    expect_refused(c, &r, want, e);
    hr_free(&r);
}

bool run_negotiated(cctx *c, const char *label, const sbuf *stimulus, echo e)
{
    hreply r;
    hc_exchange(c, NULL, label, stimulus, &r);
    bool ok = expect_negotiated(c, &r, e) != NULL;
    hr_free(&r);
    return ok;
}

const rpb_negotiated *exchange_negotiated(cctx *c, const char *label, const rpb_frame *f, const rpb_hello *h,
                                          hreply *r)
{
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, f, h);
    hc_exchange(c, NULL, label, &s, r);
    sb_free(&s);
    return expect_negotiated(c, r, echo_of(f));
}

bool start_origin(cctx *c, horigin *o, bool foreign_uid)
{
    int rc = origin_start(o, c->cfg->socket_path, c->cfg->reply_ms, foreign_uid);
    if (rc < 0)
        c_fail(c, "harness: cannot start a helper process: %s", strerror(-rc));
    return rc == 0;
}

void expect_still_serving(cctx *c, const char *after)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    hreply r;
    hc_exchange(c, NULL, "baseline Hello afterwards", &s, &r);
    if (r.end != H_REPLY || !r.frame_ok || r.payload_err != RPB_OK ||
        r.hello.result != RPB_HELLO_REPLY_NEGOTIATED) {
        sbuf obs = SBUF_INIT;
        describe_reply(&obs, &r);
        c_fail(c, "expected the broker to keep serving after %s (a baseline Hello negotiates); observed %s",
               after, sb_str(&obs));
        sb_free(&obs);
    }
    hr_free(&r);
    sb_free(&s);
}

void expect_closed_after_reply(cctx *c, hconn *hc)
{
    int end = hc_wait_close(hc, c->cfg->reply_ms);
    if (end == H_GARBAGE)
        c_fail(c, "expected one reply then a close (one request per connection); observed more bytes after the reply");
    else if (end == H_TIMEOUT)
        c_fail(c, "expected the broker to close after its reply; observed the connection still open after %d ms",
               c->cfg->reply_ms);
}

void beside_stalled(cctx *c, size_t n_idle, const sbuf *partial, void (*served)(cctx *c))
{
    enum { MAX_IDLE = 64 };
    hconn stalled[MAX_IDLE + 1];
    size_t opened = 0;
    if (n_idle > MAX_IDLE)
        n_idle = MAX_IDLE;
    while (opened < n_idle && hc_open(c, &stalled[opened], NULL, "idle connection (no bytes)") == 0)
        opened++;
    if (opened < n_idle)
        c_note(c, "only %zu of %zu idle connections were accepted", opened, n_idle);
    if (partial && hc_open(c, &stalled[opened], NULL, "half a frame, then silence") == 0)
        hc_send(&stalled[opened++], partial->data, partial->len / 2);
    served(c);
    for (size_t i = 0; i < opened; i++)
        hc_close(&stalled[i]);
}

void hang_up_early(cctx *c, const sbuf *stimulus, const char *label)
{
    for (int i = 0; i < 20; i++) {
        hconn hc;
        if (hc_open(c, &hc, NULL, label) == 0) {
            shutdown(hc.fd, SHUT_RD);
            hc_send(&hc, stimulus->data, stimulus->len);
            hc_close(&hc);
        }
    }
}

bool trickle(cctx *c, hconn *hc, const sbuf *stimulus, int64_t t0)
{
    int limit = c->cfg->handshake_ms + 1000;
    for (size_t i = 0; i + 1 < stimulus->len && rpb_monotonic_ms() - t0 < limit; i++) {
        if (hc_send(hc, stimulus->data + i, 1) < 0)
            return true;
        /* the 100 ms pause, ended early by the daemon's close */
        if (hc_wait_close(hc, 100) != H_TIMEOUT)
            return true;
    }
    return false;
}

void case_socket_mode(cctx *c)
{
    struct stat st;
    if (stat(c->cfg->socket_path, &st) < 0)
        c_skip(c, "cannot stat %s: %s", c->cfg->socket_path, strerror(errno));
    else if (!S_ISSOCK(st.st_mode))
        c_fail(c, "expected %s to be a socket; observed mode %o", c->cfg->socket_path, st.st_mode);
    else if (st.st_mode & 077)
        c_fail(c, "expected socket mode 0600 (no group or other bits); observed %04o", st.st_mode & 07777);
}

pid_t sigterm_spawned(cctx *c)
{
    const char *who = role_name(c->cfg->role);
    pid_t pid = c->cfg->broker_pid;
    if (pid <= 0) {
        c_skip(c, "needs --spawn (the harness signals the %s it started)", who);
        return 0;
    }
    if (kill(pid, SIGTERM) < 0) {
        c_fail(c, "harness: cannot signal the %s: %s", who, strerror(errno));
        return 0;
    }
    return pid;
}

bool open_foreign(cctx *c, horigin *o, hconn *hc, const char *label)
{
    if (!c->cfg->root) {
        c_skip(c, "needs root (to connect as another uid)");
        return false;
    }
    if (!start_origin(c, o, true))
        return false;
    int rc = hc_open(c, hc, o, label);
    if (rc == -EACCES)
        /* the kernel refused the connect (socket or directory mode): the
         * foreign peer is not served either way */
        c_note(c, "the connect as uid 65534 failed (socket permissions), so the %s's own uid check was not reached",
               role_name(c->cfg->role));
    else if (rc < 0)
        /* EPIPE: the helper could not become uid 65534 and exited */
        c_fail(c, "harness: the uid 65534 helper could not connect: %s", strerror(-rc));
    if (rc < 0)
        origin_stop(o);
    return rc == 0;
}
