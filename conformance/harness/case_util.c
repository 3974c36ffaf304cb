/* case_util.c - helpers shared by the cases (see cases.h). */
#include <stdlib.h>
#include <string.h>
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
