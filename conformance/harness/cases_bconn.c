/*
 * cases_bconn.c - backend/robustness/..., backend/security/... and
 * backend/lifecycle/...: the backend's resilience to abuse (malformed
 * floods, early hang-ups, silent and trickling clients, idle herds,
 * concurrency; spec/probe.md MUX-005, MUX-006), its socket and peer rules
 * and its exit (MUX-007).
 */
#include <signal.h>
#include <unistd.h>

#include "attach.h"
#include "cases.h"

/* 64 concurrent connections, each sending a different malformed frame:
 * each closed without a reply, then a probe is still answered. */
static void case_malformed_flood(cctx *c)
{
    enum { N = 64 };
    static const char *const bad[] = {"0203000000ffffff", "0103000000ffffff", "0101000001",
                                      "0106000000080118b3e402"};
    hconn hc[N];
    size_t opened = 0;
    for (int i = 0; i < N; i++) {
        if (hc_open(c, &hc[i], NULL, "one of 64 malformed frames") < 0) {
            c_fail(c, "expected 64 concurrent connections to be accepted; connection %d failed", i + 1);
            break;
        }
        opened++;
    }
    for (size_t i = 0; i < opened; i++) {
        sbuf s = SBUF_INIT;
        put_hex(&s, bad[i % 4]);
        hc_send(&hc[i], s.data, s.len);
        hc_shut_wr(&hc[i]);
        sb_free(&s);
    }
    for (size_t i = 0; i < opened; i++) {
        if (!c_failed(c))
            expect_closed_unanswered(c, &hc[i], c->cfg->reply_ms, "a malformed frame");
        hc_close(&hc[i]);
    }
    expect_backend_serving(c, "a flood of 64 malformed frames");
}

/* Clients that shut their reading side and hang up right after a probe. */
static void case_early_hangup(cctx *c)
{
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    probe_random_nonce(nonce);
    sbuf s = SBUF_INIT;
    for (int i = 0; i < 8; i++)
        probe_stim(&s, nonce);
    hang_up_early(c, &s, "reading side shut down, eight probes, then a close");
    sb_free(&s);
    expect_backend_serving(c, "20 clients that hung up before their answers");
}

/* The backend ends a connection that does not complete its next frame
 * within its deadline (the fixture's, +1 s margin). */
static void expect_deadline_close(cctx *c, hconn *hc, int64_t t0, const char *what)
{
    int margin = 1000, limit = c->cfg->handshake_ms + margin;
    int left = (int)(t0 + limit - rpb_monotonic_ms());
    int end = hc_wait_close(hc, left > 0 ? left : 0);
    if (end == H_TIMEOUT)
        c_fail(c, "expected the backend to close %s within its %d ms frame deadline (+%d ms); observed the connection "
                  "open after %lld ms; hint: pass --frame-timeout with the backend's deadline",
               what, c->cfg->handshake_ms, margin, (long long)(rpb_monotonic_ms() - t0));
    else if (end == H_GARBAGE)
        c_fail(c, "expected no reply to %s; observed bytes", what);
}

static void case_deadline_silent(cctx *c)
{
    hconn hc;
    int64_t t0 = rpb_monotonic_ms();
    if (hc_open(c, &hc, NULL, "connect, then silence") == 0)
        expect_deadline_close(c, &hc, t0, "a silent connection");
    hc_close(&hc);
}

/* One byte every 100 ms: the deadline is for the whole next frame, not
 * for each byte. */
static void case_deadline_trickle(cctx *c)
{
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    rpb_frame f;
    sbuf s = SBUF_INIT;
    probe_fresh(nonce, &f, &s);
    hconn hc;
    int64_t t0 = rpb_monotonic_ms();
    if (hc_open(c, &hc, NULL, "a probe sent one byte per 100 ms") == 0 && !trickle(c, &hc, &s, t0))
        expect_deadline_close(c, &hc, t0, "a probe trickled one byte per 100 ms");
    hc_close(&hc);
    sb_free(&s);
}

void probe_promptly(cctx *c)
{
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    rpb_frame f;
    sbuf s = SBUF_INIT;
    probe_fresh(nonce, &f, &s);
    hreply r;
    hc_exchange_within(c, NULL, "a probe beside stalled connections", &s, c->cfg->prompt_ms, &r);
    if (r.end == H_TIMEOUT)
        c_fail(c, "expected a probe beside stalled connections to be answered within %d ms; observed no reply",
               c->cfg->prompt_ms);
    else
        expect_probe_answer(c, &r, &f, NULL);
    hr_free(&r);
    sb_free(&s);
}

/* An idle and a half-sent connection do not delay a probe on a third. */
static void case_slowloris(cctx *c)
{
    uint8_t nonce[RPB_PROBE_NONCE_BYTES] = {0};
    sbuf s = SBUF_INIT;
    probe_stim(&s, nonce);
    beside_stalled(c, 1, &s, probe_promptly);
    sb_free(&s);
}

/* 64 idle connections open at once: a probe is still answered promptly. */
static void case_idle_herd(cctx *c)
{
    beside_stalled(c, 64, NULL, probe_promptly);
}

/* 32 connections each send a probe with its own nonce before any answer
 * is read: every one is answered with its own nonce. */
static void case_concurrent(cctx *c)
{
    enum { N = 32 };
    hconn hc[N];
    uint8_t nonce[N][RPB_PROBE_NONCE_BYTES];
    rpb_frame f[N];
    size_t opened = 0;
    for (int i = 0; i < N && hc_open(c, &hc[i], NULL, "one of 32 concurrent probes") == 0; i++)
        opened++;
    if (opened < N)
        c_fail(c, "expected 32 concurrent connections to be accepted; observed %zu", opened);
    for (size_t i = 0; i < opened; i++) {
        sbuf s = SBUF_INIT;
        probe_fresh(nonce[i], &f[i], &s);
        hc_send(&hc[i], s.data, s.len);
        sb_free(&s);
    }
    /* the first wrong answer is recorded; the later ones are not read */
    for (size_t i = 0; i < opened && !c_failed(c); i++) {
        hreply r;
        hc_read_reply(&hc[i], c->cfg->reply_ms, &r);
        if (!expect_probe_answer(c, &r, &f[i], NULL))
            c_fail(c, "expected each of 32 concurrent probes to be answered; observed probe %zu not", i + 1);
        hr_free(&r);
    }
    for (size_t i = 0; i < opened; i++)
        hc_close(&hc[i]);
}

/* A peer of another uid gets no byte (root only). */
static void case_foreign_uid(cctx *c)
{
    horigin o;
    hconn hc;
    if (!open_foreign(c, &o, &hc, "probe from uid 65534"))
        return;
    uint8_t nonce[RPB_PROBE_NONCE_BYTES] = {0};
    sbuf s = SBUF_INIT;
    probe_stim(&s, nonce);
    hc_send(&hc, s.data, s.len);
    expect_closed_unanswered(c, &hc, c->cfg->reply_ms, "a probe from a peer of another uid");
    hc_close(&hc);
    origin_stop(&o);
    sb_free(&s);
    expect_backend_serving(c, "a foreign-uid peer");
}

/* --spawn only, runs last: SIGTERM ends the backend with status 0, and its
 * socket and sidecar are gone. */
static void case_sigterm(cctx *c)
{
    pid_t pid = sigterm_spawned(c);
    if (pid <= 0)
        return;
    int limit = 3000;
    siginfo_t si;
    if (!attach_await_exit(pid, limit, &si))
        c_fail(c, "expected the backend to exit on SIGTERM; observed it running %d ms later", limit);
    else if (si.si_code != CLD_EXITED || si.si_status != 0)
        c_fail(c, "expected exit status 0 after SIGTERM; observed %s %d",
               si.si_code == CLD_EXITED ? "exit status" : "signal", si.si_status);
    else if (access(c->cfg->socket_path, F_OK) == 0)
        c_fail(c, "expected the backend to remove its socket on exit; observed %s still there", c->cfg->socket_path);
    else if (c->cfg->identity_file && access(c->cfg->identity_file, F_OK) == 0)
        c_fail(c, "expected the backend to remove its sidecar on exit (IDENT-032); observed %s still there",
               c->cfg->identity_file);
}

static const hcase rows[] = {
    ROW("backend/robustness/malformed-flood", CORE, "MUX-005 PROBE-010", "64 concurrent malformed frames are each closed without a reply; a probe is answered afterwards", case_malformed_flood),
    ROW("backend/robustness/early-hangup", STRICT, "MUX-006", "20 clients hanging up before their answers do not stop the backend", case_early_hangup),
    ROW("backend/robustness/deadline/silent", STRICT, "MUX-006", "a client that sends nothing is closed within the frame deadline", case_deadline_silent),
    ROW("backend/robustness/deadline/trickle", STRICT, "MUX-006", "a probe sent one byte per 100 ms is closed within the frame deadline", case_deadline_trickle),
    ROW("backend/robustness/slowloris/others-served", STRICT, "MUX-006", "an idle and a half-sent connection do not delay a probe on a third", case_slowloris),
    ROW("backend/robustness/idle-herd", STRICT, "MUX-006", "64 idle connections do not delay a probe", case_idle_herd),
    ROW("backend/robustness/concurrent", STRICT, "MUX-006 PROBE-005", "32 probes sent on 32 connections before any answer is read: each answered with its own nonce", case_concurrent),
    ROW("backend/security/foreign-uid", STRICT, "MUX-007", "a probe from a peer of another uid gets no byte; the owner is still served (root only)", case_foreign_uid),
    ROW("backend/security/socket-mode", STRICT, "MUX-007", "the socket has no group or other permission bits", case_socket_mode),
    {"backend/lifecycle/sigterm", STRICT, "MUX-007 IDENT-032", "SIGTERM: exit 0, socket and sidecar removed (--spawn)", case_sigterm, {NULL}, NULL, CASE_ENDS_BROKER},
};

CASE_TABLE(cases_bconn, rows);
