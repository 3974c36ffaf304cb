/*
 * cases_conn.c - broker/connection/..., broker/security/... and
 * broker/robustness/...: one Hello per connection, the foreign-uid drop,
 * socket permissions, and the broker's resilience to abuse: early
 * hang-ups, malformed floods, silent and trickling clients (spec/hello.md
 * HELLO-* and SEC-*).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cases.h"

/* After the reply the broker closes; a second Hello gets nothing. */
static void case_one_hello(cctx *c)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    rpb_frame f;
    stim_frame_base(&f);
    hconn hc;
    hreply r;
    if (hc_open(c, &hc, NULL, "baseline Hello, then a second one after the reply") == 0)
        hc_send(&hc, s.data, s.len);
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    if (expect_negotiated(c, &r, echo_of(&f))) {
        /* the second Hello may hit a closed socket: that is the point */
        hc_send(&hc, s.data, s.len);
        int end = hc_wait_close(&hc, c->cfg->reply_ms);
        if (end == H_GARBAGE)
            c_fail(c, "expected no reply to a second Hello on the same connection; observed more bytes");
        else if (end == H_TIMEOUT)
            c_fail(c, "expected the broker to close the connection after its reply; observed it open after %d ms",
                   c->cfg->reply_ms);
    }
    hc_close(&hc);
    hr_free(&r);
    sb_free(&s);
}

/* A refusal also ends the connection. */
static void case_close_after_refusal(cctx *c)
{
    rpb_frame f;
    sbuf s = SBUF_INIT;
    unknown_service_hello(&s, &f);
    hconn hc;
    hreply r;
    if (hc_open(c, &hc, NULL, "Hello for an unknown service") == 0)
        hc_send(&hc, s.data, s.len);
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    if (expect_refused(c, &r, &R_SERVICE_UNKNOWN, echo_of(&f))) {
        int end = hc_wait_close(&hc, c->cfg->reply_ms);
        if (end == H_TIMEOUT || end == H_GARBAGE)
            c_fail(c, "expected the broker to close after a refusal; observed %s",
                   end == H_TIMEOUT ? "the connection still open" : "more bytes");
    }
    hc_close(&hc);
    hr_free(&r);
    sb_free(&s);
}

/* A peer of another uid gets no byte back, and the owner is still served. */
static void case_foreign_uid(cctx *c)
{
    horigin o;
    hconn hc;
    if (!open_foreign(c, &o, &hc, "baseline Hello from uid 65534"))
        return;
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, (uint32_t)o.pid);
    hc_send(&hc, s.data, s.len);
    hreply r;
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    if (r.end == H_REPLY || r.end == H_GARBAGE) {
        sbuf obs = SBUF_INIT;
        describe_reply(&obs, &r);
        c_fail(c, "expected a peer of another uid to get no reply (the connection dropped); observed %s", sb_str(&obs));
        sb_free(&obs);
    } else if (r.end == H_TIMEOUT) {
        c_fail(c, "expected the broker to drop a peer of another uid; observed the connection still open after %d ms",
               c->cfg->reply_ms);
    }
    hr_free(&r);
    hc_close(&hc);
    origin_stop(&o);
    sb_free(&s);
    expect_still_serving(c, "a foreign-uid peer");
}

/* Sends baseline Hellos every 50 ms until one is answered as wanted
 * (Negotiated when want is NULL) or limit_ms pass; true when it was. */
static bool poll_until(cctx *c, const refusal *want, int limit_ms, const char *label)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    int64_t t0 = rpb_monotonic_ms();
    bool got = false;
    for (;;) {
        hreply r;
        c_record_next(c);
        hc_exchange(c, NULL, label, &s, &r);
        if (r.end == H_REPLY && r.payload_err == RPB_OK) {
            if (want)
                got = r.hello.result == RPB_HELLO_REPLY_REFUSED && r.hello.refused.code == want->code;
            else
                got = r.hello.result == RPB_HELLO_REPLY_NEGOTIATED;
        }
        hr_free(&r);
        if (got || rpb_monotonic_ms() - t0 >= limit_ms)
            break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    sb_free(&s);
    return got;
}

/* SEC-009 (--spawn only): while the services directory is open to its
 * group the broker serves no service; private again, it serves them. */
static void case_services_dir_private(cctx *c)
{
    const char *dir = c->cfg->services_dir;
    if (!dir) {
        c_skip(c, "needs --spawn (the harness owns the services directory)");
        return;
    }
    if (chmod(dir, 0750) < 0) {
        c_fail(c, "harness: cannot chmod %s: %s", dir, strerror(errno));
        return;
    }
    bool refused = poll_until(c, &R_SERVICE_UNKNOWN, 2000, "baseline Hello, services directory mode 0750");
    if (chmod(dir, 0700) < 0)
        c_fail(c, "harness: cannot chmod %s back to 0700: %s", dir, strerror(errno));
    if (!refused)
        c_fail(c, "expected Refused ERROR_SERVICE_UNKNOWN within 2 s of the services directory becoming group-accessible (0750); observed the service still served");
    if (!poll_until(c, NULL, 2000, "baseline Hello, services directory private again"))
        c_fail(c, "expected the service to be served again within 2 s of the directory becoming private (0700); observed no Negotiated");
}

/* Clients that hang up before reading the reply do not hurt the broker. */
static void case_early_hangup(cctx *c)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    hang_up_early(c, &s, "reading side shut down, baseline Hello, then a close");
    sb_free(&s);
    expect_still_serving(c, "20 clients that hung up before their reply");
}

/* Clients that connect and close without a byte. */
static void case_connect_close(cctx *c)
{
    for (int i = 0; i < 20; i++) {
        hconn hc;
        if (hc_open(c, &hc, NULL, "connect, then close without sending") == 0)
            hc_close(&hc);
    }
    expect_still_serving(c, "20 clients that closed without sending");
}

/* Admin frames with a bad envelope or payload: answered or dropped, never
 * the end of the broker. */
static void case_admin_bad_envelope(cctx *c)
{
    static const char *const labels[] = {
        "admin frame with kind RESPONSE",
        "admin frame with payload_encoding ZSTD",
        "admin frame whose payload is not an AdminRequest",
    };
    /* the verdict names of registries.md §7 */
    static const char *const bodies[] = {
        "malformed admin request: envelope-kind\n",
        "malformed admin request: envelope-payload-encoding\n",
        "malformed admin request: invalid-varint\n",
    };
    for (int i = 0; i < 3; i++) {
        rpb_frame f;
        stim_frame_base(&f);
        f.payload_protocol = RPB_PP_ADMIN;
        f.payload.data = (const uint8_t *)(i == 2 ? "\xff\xff\xff" : "\x08\x04");
        f.payload.len = i == 2 ? 3 : 2;
        if (i == 0)
            f.kind = RPB_FRAME_KIND_RESPONSE;
        if (i == 1)
            f.payload_encoding = RPB_PAYLOAD_ENCODING_ZSTD;
        sbuf s = SBUF_INIT;
        stim_frame(&s, &f);
        hreply r;
        hc_exchange(c, NULL, labels[i], &s, &r);
        /* ADMIN-008: answered TEXT "malformed admin request: <class>\n", exit 2 */
        bool answered = r.end == H_REPLY && r.frame_ok && r.frame.payload_protocol == RPB_PP_ADMIN &&
                        r.payload_err == RPB_OK && r.admin.kind == RPB_ADMIN_REPLY_KIND_TEXT &&
                        r.admin.exit_code == 2 && rpb_slice_eq_cstr(r.admin.body, bodies[i]);
        if (!answered)
            c_fail(c, "expected TEXT \"%.*s\\n\" with exit_code 2 (%s); observed %s",
                   (int)strlen(bodies[i]) - 1, bodies[i], labels[i], r.end == H_REPLY ? "another reply" : "no reply");
        else
            expect_response_frame(c, &r, RPB_PP_ADMIN, echo_of(&f));
        hr_free(&r);
        sb_free(&s);
    }
    expect_still_serving(c, "malformed admin requests");
}

/* 96 concurrent malformed clients: each refused, the broker keeps serving. */
static void case_malformed_flood(cctx *c)
{
    enum { N = 96 };
    hconn hc[N];
    size_t opened = 0;
    sbuf bad_frame = SBUF_INIT, bad_payload = SBUF_INIT;
    put_hex(&bad_frame, "0103000000ffffff");
    rpb_frame f;
    stim_frame_base(&f);
    f.payload.data = (const uint8_t *)"\xff\xff\xff";
    f.payload.len = 3;
    stim_frame(&bad_payload, &f);
    for (int i = 0; i < N; i++) {
        if (hc_open(c, &hc[i], NULL, i % 2 ? "garbage Hello payload (one of 96)" : "garbage Frame body (one of 96)") < 0) {
            c_fail(c, "expected 96 concurrent connections to be accepted; connection %d failed", i + 1);
            break;
        }
        opened++;
    }
    for (size_t i = 0; i < opened; i++) {
        const sbuf *s = i % 2 ? &bad_payload : &bad_frame;
        hc_send(&hc[i], s->data, s->len);
    }
    for (size_t i = 0; i < opened; i++) {
        hreply r;
        hc_read_reply(&hc[i], c->cfg->reply_ms, &r);
        if (!c_failed(c))
            expect_refused(c, &r, i % 2 ? &R_MALFORMED_HELLO : &R_MALFORMED_FRAME,
                           i % 2 ? echo_of(&f) : ECHO_NOTHING);
        hr_free(&r);
        hc_close(&hc[i]);
    }
    sb_free(&bad_frame);
    sb_free(&bad_payload);
    expect_still_serving(c, "a flood of 96 malformed Hellos");
}

/* The broker ends a connection that never completes its frame within the
 * handshake deadline: with a Refused or a plain close. */
static void expect_deadline_close(cctx *c, hconn *hc, int64_t t0)
{
    int margin = 1000;
    int limit = c->cfg->handshake_ms + margin;
    hreply r;
    int left = (int)(t0 + limit - rpb_monotonic_ms());
    hc_read_reply(hc, left > 0 ? left : 0, &r);
    int64_t took = rpb_monotonic_ms() - t0;
    if (r.end == H_TIMEOUT) {
        c_fail(c, "expected the broker to end the handshake within its %d ms deadline (+%d ms); observed the connection "
                  "still open after %lld ms; hint: a broker with a longer deadline fails here: configure %d ms or "
                  "pass --handshake-timeout with the broker's deadline",
               c->cfg->handshake_ms, margin, (long long)took, FIXTURE_HANDSHAKE_MS);
    } else if (r.end == H_REPLY) {
        refusal want = {RPB_CODE_PEER_REJECTED, "Hello handshake deadline exceeded", 0, 0};
        expect_refused(c, &r, &want, ECHO_NOTHING);
    }
    hr_free(&r);
}

static void case_deadline_silent(cctx *c)
{
    hconn hc;
    int64_t t0 = rpb_monotonic_ms();
    if (hc_open(c, &hc, NULL, "connect, then silence") == 0)
        expect_deadline_close(c, &hc, t0);
    hc_close(&hc);
}

/* A client sending one byte every 100 ms is still bound by the deadline
 * of the whole handshake. */
static void case_deadline_trickle(cctx *c)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    hconn hc;
    int64_t t0 = rpb_monotonic_ms();
    if (hc_open(c, &hc, NULL, "a Hello sent one byte per 100 ms") == 0 && !trickle(c, &hc, &s, t0))
        expect_deadline_close(c, &hc, t0);
    hc_close(&hc);
    sb_free(&s);
}

/* The baseline Hello is answered within the prompt deadline. */
static void hello_promptly(cctx *c)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    hreply r;
    hc_exchange_within(c, NULL, "baseline Hello beside stalled connections", &s, c->cfg->prompt_ms, &r);
    if (r.end == H_TIMEOUT) {
        c_fail(c, "expected a Hello beside stalled connections to be answered within %d ms; observed no reply",
               c->cfg->prompt_ms);
    } else {
        rpb_frame f;
        stim_frame_base(&f);
        expect_negotiated(c, &r, echo_of(&f));
    }
    hr_free(&r);
    sb_free(&s);
}

/* Idle and half-sent connections do not delay a Hello on another one. */
static void case_slowloris_others_served(cctx *c)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    beside_stalled(c, 1, &s, hello_promptly);
    sb_free(&s);
}

/* 64 idle connections open at once: a Hello is still answered promptly. */
static void case_idle_herd(cctx *c)
{
    beside_stalled(c, 64, NULL, hello_promptly);
}

/* SEC-012 (--spawn only, runs last): after SIGTERM the broker answers
 * Hellos with SHUTTING_DOWN (retry 1000, request echoed) and READYZ with
 * "not ready", then exits 0 and removes its socket (SEC-003). */
static void case_drain(cctx *c)
{
    pid_t pid = sigterm_spawned(c);
    if (pid <= 0)
        return;
    rpb_frame f;
    stim_frame_base(&f);
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    /* the signal arrives asynchronously: Hellos may still negotiate for a
     * moment; the first other answer must be the drain refusal */
    int64_t t0 = rpb_monotonic_ms();
    hreply r;
    memset(&r, 0, sizeof r);
    for (;;) {
        c_record_next(c);
        hc_exchange(c, NULL, "baseline Hello after SIGTERM", &s, &r);
        bool negotiated = r.end == H_REPLY && r.payload_err == RPB_OK && r.hello.result == RPB_HELLO_REPLY_NEGOTIATED;
        if (!negotiated || rpb_monotonic_ms() - t0 > 500)
            break;
        hr_free(&r);
        struct timespec ts = {0, 2000000L};
        nanosleep(&ts, NULL);
    }
    refusal want = {RPB_CODE_SHUTTING_DOWN, "broker is shutting down", 1000, 1000};
    bool draining = expect_refused(c, &r, &want, echo_of(&f));
    hr_free(&r);
    if (draining) {
        rpb_frame af;
        admin_exchange(c, RPB_ADMIN_VERB_READYZ, false, &af, &r);
        if (r.end != H_REPLY || r.payload_err != RPB_OK || !r.frame_ok || r.frame.payload_protocol != RPB_PP_ADMIN)
            c_fail(c, "expected READYZ to be answered while draining (admin is not refused)");
        else if (!rpb_slice_eq_cstr(r.admin.body, "not ready\n") || r.admin.exit_code != 1)
            c_fail(c, "expected READYZ \"not ready\\n\" with exit_code 1 while draining; observed exit_code %u",
                   r.admin.exit_code);
        hr_free(&r);
        /* ADMIN-004: STATUS says so too */
        admin_exchange(c, RPB_ADMIN_VERB_STATUS, false, &af, &r);
        static const char tail[] = "\naccepting_hello: false\n";
        const rpb_slice b = r.admin.body;
        if (r.end != H_REPLY || r.payload_err != RPB_OK || !r.frame_ok || b.len < sizeof tail - 1 ||
            memcmp(b.data + b.len - (sizeof tail - 1), tail, sizeof tail - 1) != 0)
            c_fail(c, "expected STATUS to end \"accepting_hello: false\\n\" while draining");
        hr_free(&r);
    }
    /* the exit: waited for on the broker's pidfd, not reaped, so the
     * runner still collects it */
    int limit = 1000 + 3000;
    siginfo_t si;
    if (!attach_await_exit(pid, (int)(limit - (rpb_monotonic_ms() - t0)), &si))
        c_fail(c, "expected the broker to exit after its drain period; observed it running %d ms after SIGTERM", limit);
    else if (si.si_code != CLD_EXITED || si.si_status != 0)
        c_fail(c, "expected the broker to exit with status 0 after draining; observed %s %d",
               si.si_code == CLD_EXITED ? "exit status" : "signal", si.si_status);
    else if (access(c->cfg->socket_path, F_OK) == 0)
        c_fail(c, "expected the broker to remove its socket on exit (SEC-003); observed %s still there",
               c->cfg->socket_path);
    sb_free(&s);
}

static const hcase rows[] = {
    ROW("broker/connection/one-hello", CORE, "HELLO-001", "after its reply the broker closes; a second Hello on the connection gets nothing", case_one_hello),
    ROW("broker/connection/close-after-refusal", CORE, "HELLO-001", "after a refusal the broker closes the connection", case_close_after_refusal),
    ROW("broker/security/foreign-uid", STRICT, "SEC-004", "a peer of another uid gets no byte and is dropped; the owner is still served (root only)", case_foreign_uid),
    ROW("broker/security/services-dir-private", STRICT, "SEC-009", "a group-accessible services directory serves no service until private again (--spawn)", case_services_dir_private),
    ROW("broker/security/socket-mode", STRICT, "SEC-002", "the socket has no group or other permission bits", case_socket_mode),
    ROW("broker/robustness/malformed-flood", CORE, "HELLO-006 HELLO-009", "96 concurrent malformed Hellos are each refused and the broker keeps serving", case_malformed_flood),
    ROW("broker/robustness/early-hangup", STRICT, "SEC-007", "20 clients hanging up before their reply do not stop the broker", case_early_hangup),
    ROW("broker/robustness/connect-close", STRICT, "SEC-007", "20 clients closing without a byte do not stop the broker", case_connect_close),
    ROW("broker/robustness/admin-bad-envelope", STRICT, "SEC-007 ADMIN-008", "malformed admin requests are answered TEXT \"malformed admin request: <class>\", exit 2; the broker keeps serving", case_admin_bad_envelope),
    ROW("broker/robustness/deadline/silent", STRICT, "SEC-006 FRAME-010", "a client that sends nothing is closed within the handshake deadline", case_deadline_silent),
    ROW("broker/robustness/deadline/trickle", STRICT, "SEC-006 FRAME-010", "a client sending one byte per 100 ms is closed within the handshake deadline", case_deadline_trickle),
    ROW("broker/robustness/slowloris/others-served", STRICT, "SEC-005 SEC-007", "an idle and a half-sent connection do not delay a Hello on a third", case_slowloris_others_served),
    ROW("broker/robustness/idle-herd", STRICT, "SEC-005", "64 idle connections do not delay a Hello", case_idle_herd),
    {"broker/lifecycle/drain", STRICT, "SEC-012 SEC-023 SEC-024 SEC-003 ADMIN-003 ADMIN-004", "after SIGTERM: SHUTTING_DOWN refusals, READYZ not ready, STATUS accepting_hello false, exit 0, socket removed (--spawn)", case_drain, {NULL}, NULL, CASE_ENDS_BROKER},
};

CASE_TABLE(cases_conn, rows);
