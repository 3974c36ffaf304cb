/* report.c - human, TAP, JSON, JUnit and HTML reporters (see report.h). */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rpb/json.h>

const char *status_name(enum status st)
{
    switch (st) {
    case ST_PASS: return "pass";
    case ST_FAIL: return "fail";
    case ST_SKIP: return "skip";
    case ST_XFAIL: return "expected-fail";
    case ST_XPASS: return "unexpected-pass";
    default: return "unexpected-skip";
    }
}

bool status_unexpected(enum status st)
{
    return st == ST_FAIL || st == ST_XPASS || st == ST_XSKIP;
}

void run_count(run_info *ri)
{
    ri->passed = ri->failed = ri->skipped = ri->xfailed = 0;
    for (size_t i = 0; i < ri->n; i++) {
        switch (ri->v[i].st) {
        case ST_PASS: ri->passed++; break;
        case ST_SKIP: ri->skipped++; break;
        case ST_XFAIL: ri->xfailed++; break;
        default: ri->failed++; break;
        }
    }
}

static const char *tier_name(enum tier t)
{
    return t == TIER_CORE ? "core" : "strict";
}

/* Calls fn(line, len, ctx) for every line of text. */
static void each_line(const char *text, void (*fn)(const char *, size_t, void *), void *ctx)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        fn(text, n, ctx);
        text += n + (nl ? 1 : 0);
    }
}

/* ---- human view ---- */

struct prefixed {
    FILE *out;
    const char *prefix;
};

static void print_prefixed(const char *line, size_t n, void *ctx)
{
    struct prefixed *p = ctx;
    fprintf(p->out, "%s%.*s\n", p->prefix, (int)n, line);
}

void report_human_case(FILE *out, const outcome *o, bool verbose)
{
    static const char *const label[] = {"PASS ", "FAIL ", "SKIP ", "XFAIL", "XPASS", "XSKIP"};
    fprintf(out, "%s %-62s %s\n", label[o->st], o->cs->id, tier_name(o->cs->tier));
    struct prefixed p = {out, "        "};
    if (o->r.verdict == V_FAIL)
        each_line(sb_str(&o->r.failures), print_prefixed, &p);
    if (o->r.verdict == V_SKIP) {
        p.prefix = "        skipped: ";
        each_line(sb_str(&o->r.skip), print_prefixed, &p);
    }
    if (o->st == ST_XPASS)
        fprintf(out, "        listed as an expected failure (%s) but passed: remove it from the list\n",
                o->expect_reason && *o->expect_reason ? o->expect_reason : "no reason given");
    if (o->st == ST_XSKIP)
        fprintf(out, "        listed as an expected failure but skipped: the list cannot be verified\n");
    if (o->st == ST_XFAIL && o->expect_reason && *o->expect_reason)
        fprintf(out, "        expected failure: %s\n", o->expect_reason);
    if (verbose)
        fprintf(out, "        %s [%s] %.1f ms\n", o->cs->title, o->cs->reqs, o->r.ms);
    if (o->r.notes.len) {
        p.prefix = "        note: ";
        each_line(sb_str(&o->r.notes), print_prefixed, &p);
    }
}

void report_summary_line(FILE *out, const run_info *ri)
{
    fprintf(out, "%zu passed, %zu failed, %zu skipped", ri->passed, ri->failed, ri->skipped);
    if (ri->xfailed)
        fprintf(out, ", %zu expected failures", ri->xfailed);
    fputc('\n', out);
}

/* ---- TAP ---- */

void report_tap_begin(FILE *out, size_t n)
{
    fprintf(out, "TAP version 13\n1..%zu\n", n);
}

void report_tap_case(FILE *out, size_t index, const outcome *o)
{
    struct prefixed p = {out, "# "};
    switch (o->st) {
    case ST_PASS:
        fprintf(out, "ok %zu - %s\n", index, o->cs->id);
        break;
    case ST_SKIP:
        fprintf(out, "ok %zu - %s # SKIP %s\n", index, o->cs->id, sb_str(&o->r.skip));
        break;
    case ST_XFAIL:
        fprintf(out, "not ok %zu - %s # TODO expected failure%s%s\n", index, o->cs->id,
                o->expect_reason && *o->expect_reason ? ": " : "", o->expect_reason ? o->expect_reason : "");
        break;
    case ST_XPASS:
        fprintf(out, "not ok %zu - %s\n# listed as an expected failure but passed\n", index, o->cs->id);
        break;
    case ST_XSKIP:
        fprintf(out, "not ok %zu - %s\n# listed as an expected failure but skipped: %s\n", index, o->cs->id,
                sb_str(&o->r.skip));
        break;
    default:
        fprintf(out, "not ok %zu - %s\n", index, o->cs->id);
        each_line(sb_str(&o->r.failures), print_prefixed, &p);
        break;
    }
    fflush(out);
}

/* ---- decoded view of a frame, shared by JSON and HTML ---- */

/* The payload message a frame carries (ENV-008, rpb_payload_message), or
 * NULL: not a known message, or compressed. */
static const rpb_msg_desc *payload_desc(const rpb_frame *f)
{
    if (f->payload_encoding != RPB_PAYLOAD_ENCODING_NONE)
        return NULL;
    return rpb_payload_message(f->payload_protocol, f->kind);
}

static void write_decode_error(rpb_json_writer *w, int rc, size_t offset)
{
    rpb_json_key(w, "error");
    rpb_json_cstring(w, rpb_errname(rc) ? rpb_errname(rc) : "unknown");
    rpb_json_key(w, "offset");
    rpb_json_uint(w, offset);
}

/* Writes {"frame":{...},"payload_message":..,"payload":{...}} for the first
 * frame in bytes, or {"error":class,...}. */
static void write_decoded(rpb_json_writer *w, const uint8_t *bytes, size_t len)
{
    rpb_json_begin_object(w);
    rpb_frame f;
    size_t consumed = 0;
    rpb_errinfo ei = {0};
    int rc = rpb_frame_decode(bytes, len, RPB_MAX_FRAME_BYTES, &f, &consumed, &ei);
    if (rc == RPB_NEED_MORE) {
        rpb_json_key(w, "error");
        rpb_json_cstring(w, "incomplete frame");
    } else if (rc != RPB_OK) {
        write_decode_error(w, rc, ei.offset);
    } else {
        rpb_json_key(w, "frame");
        rpb_json_write_message(w, &rpb_frame_desc, &f);
        const rpb_msg_desc *pd = payload_desc(&f);
        if (pd && f.payload.len <= (1u << 20)) {
            rpb_decoded payload = {0};
            rpb_errinfo pe = {0};
            int prc = rpb_decode_alloc(pd, f.payload.data, f.payload.len, 0, &payload, &pe);
            rpb_json_key(w, "payload_message");
            rpb_json_cstring(w, pd->name);
            rpb_json_key(w, "payload");
            if (prc == RPB_OK) {
                rpb_json_write_message(w, pd, payload.msg);
            } else {
                rpb_json_begin_object(w);
                write_decode_error(w, prc, pe.offset);
                rpb_json_end_object(w);
            }
            rpb_decoded_free(&payload);
        }
        if (consumed < len) {
            rpb_json_key(w, "trailing_bytes");
            rpb_json_uint(w, len - consumed);
        }
    }
    rpb_json_end_object(w);
}

/* A string made safe for JSON (UTF-8) and XML: invalid UTF-8 and control
 * characters other than \n and \t become '?'. */
static void sanitize(sbuf *out, const uint8_t *s, size_t len)
{
    bool utf8 = rpb_utf8_valid(s, len);
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = s[i];
        if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f || (!utf8 && ch >= 0x80))
            sb_putc(out, '?');
        else
            sb_putc(out, ch);
    }
}

/* ---- JSON ---- */

/* "key": text made valid UTF-8 (text from outside the harness: the spawn
 * command, the daemon's output, the expected-failure list). */
static void json_clean(rpb_json_writer *w, const char *key, const uint8_t *text, size_t len)
{
    sbuf clean = SBUF_INIT;
    sanitize(&clean, text, len);
    rpb_json_key(w, key);
    rpb_json_cstring(w, sb_str(&clean));
    sb_free(&clean);
}

static void json_line(const char *line, size_t n, void *w)
{
    sbuf clean = SBUF_INIT;
    sanitize(&clean, (const uint8_t *)line, n);
    rpb_json_string(w, (rpb_slice){clean.data, clean.len});
    sb_free(&clean);
}

/* "key": [one string per line of text, made valid UTF-8] */
static void json_lines(rpb_json_writer *w, const char *key, const sbuf *text)
{
    rpb_json_key(w, key);
    rpb_json_begin_array(w);
    each_line(sb_str(text), json_line, w);
    rpb_json_end_array(w);
}

static void json_bytes(rpb_json_writer *w, const char *prefix, const sbuf *b, size_t total)
{
    char key[64];
    snprintf(key, sizeof key, "%s_hex", prefix);
    rpb_json_key(w, key);
    rpb_slice s = {b->data, b->len};
    rpb_json_hex(w, s);
    snprintf(key, sizeof key, "%s_bytes", prefix);
    rpb_json_key(w, key);
    rpb_json_uint(w, total);
    if (b->len) {
        snprintf(key, sizeof key, "%s_decoded", prefix);
        rpb_json_key(w, key);
        write_decoded(w, b->data, b->len);
    }
}

/* The connection number of a daemon log line: its first text field
 * " conn=N" or JSON member "conn":N; 0 when it has none. */
static size_t line_conn(const char *line, size_t len)
{
    static const char *const keys[] = {" conn=", "\"conn\":"};
    for (size_t k = 0; k < 2; k++) {
        const char *at = memmem(line, len, keys[k], strlen(keys[k]));
        if (at == NULL)
            continue;
        size_t n = 0;
        for (at += strlen(keys[k]); at < line + len && *at >= '0' && *at <= '9' && n < SIZE_MAX / 10; at++)
            n = n * 10 + (size_t)(*at - '0');
        return n;
    }
    return 0;
}

/* The daemon log lines of o into out: a line naming a connection number
 * belongs to the case that made that connection, wherever the daemon
 * wrote it (it logs a connection when it closes it, often after the case
 * ended); a line naming none belongs to the case during which it was
 * written. */
static void case_log(const run_info *ri, const outcome *o, sbuf *out)
{
    const sbuf *log = ri->peer_log;
    size_t len = log ? log->len : 0;
    for (size_t at = 0; at < len;) {
        const char *line = (const char *)log->data + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) + 1 : len - at;
        size_t conn = line_conn(line, n);
        if (conn ? conn > o->conn_from && conn <= o->conn_to : at >= o->log_from && at < o->log_to)
            sb_put(out, line, n);
        at += n;
    }
}

int report_json(const char *path, const run_info *ri)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    rpb_json_writer w;
    rpb_json_writer_init_file(&w, f, RPB_JSON_PRETTY);
    rpb_json_begin_object(&w);
    rpb_json_key(&w, "tool");
    rpb_json_cstring(&w, "rpb-conform");
    rpb_json_key(&w, "version");
    rpb_json_cstring(&w, RPB_VERSION_STRING);
    rpb_json_key(&w, "role");
    rpb_json_cstring(&w, ri->role);
    json_clean(&w, "target", (const uint8_t *)ri->target, strlen(ri->target));
    rpb_json_key(&w, "tier");
    rpb_json_cstring(&w, ri->tier);
    rpb_json_key(&w, "started");
    rpb_json_cstring(&w, ri->started);
    rpb_json_key(&w, "wall_ms");
    rpb_json_uint(&w, (uint64_t)ri->wall_ms);
    rpb_json_key(&w, "summary");
    rpb_json_begin_object(&w);
    rpb_json_key(&w, "passed");
    rpb_json_uint(&w, ri->passed);
    rpb_json_key(&w, "failed");
    rpb_json_uint(&w, ri->failed);
    rpb_json_key(&w, "skipped");
    rpb_json_uint(&w, ri->skipped);
    rpb_json_key(&w, "expected_failures");
    rpb_json_uint(&w, ri->xfailed);
    rpb_json_end_object(&w);
    if (ri->peer_log)
        json_clean(&w, "peer_log", ri->peer_log->data, ri->peer_log->len);
    if (ri->peer_exit) {
        rpb_json_key(&w, "peer_exit");
        rpb_json_cstring(&w, ri->peer_exit);
    }
    rpb_json_key(&w, "cases");
    rpb_json_begin_array(&w);
    for (size_t i = 0; i < ri->n; i++) {
        const outcome *o = &ri->v[i];
        rpb_json_begin_object(&w);
        rpb_json_key(&w, "id");
        rpb_json_cstring(&w, o->cs->id);
        rpb_json_key(&w, "tier");
        rpb_json_cstring(&w, tier_name(o->cs->tier));
        rpb_json_key(&w, "requirements");
        rpb_json_begin_array(&w);
        for (const char *s = o->cs->reqs; *s;) {
            size_t n = strcspn(s, " ");
            if (n) {
                rpb_slice sl = {(const uint8_t *)s, n};
                rpb_json_string(&w, sl);
            }
            s += n;
            while (*s == ' ')
                s++;
        }
        rpb_json_end_array(&w);
        rpb_json_key(&w, "title");
        rpb_json_cstring(&w, o->cs->title);
        rpb_json_key(&w, "status");
        rpb_json_cstring(&w, status_name(o->st));
        rpb_json_key(&w, "ms");
        rpb_json_uint(&w, (uint64_t)o->r.ms);
        json_lines(&w, "failures", &o->r.failures);
        json_lines(&w, "notes", &o->r.notes);
        if (o->r.skip.len)
            json_clean(&w, "skip_reason", o->r.skip.data, o->r.skip.len);
        if (o->expect_reason)
            json_clean(&w, "expect_fail_reason", (const uint8_t *)o->expect_reason, strlen(o->expect_reason));
        rpb_json_key(&w, "connections");
        rpb_json_uint(&w, o->r.n_connections);
        rpb_json_key(&w, "connections_left_out");
        rpb_json_uint(&w, o->r.n_connections - o->r.n_ex);
        sbuf log = SBUF_INIT;
        case_log(ri, o, &log);
        if (log.len)
            json_clean(&w, "peer_log_lines", log.data, log.len);
        sb_free(&log);
        rpb_json_key(&w, "exchanges");
        rpb_json_begin_array(&w);
        for (size_t k = 0; k < o->r.n_ex; k++) {
            const exchange *x = o->r.ex[k];
            rpb_json_begin_object(&w);
            rpb_json_key(&w, "connection");
            rpb_json_uint(&w, x->n);
            rpb_json_key(&w, "label");
            rpb_json_cstring(&w, x->label);
            json_bytes(&w, "sent", &x->sent, x->sent_total);
            if (x->expect_text.len) {
                rpb_json_key(&w, "expected");
                rpb_json_cstring(&w, sb_str(&x->expect_text));
            }
            if (x->expect_bytes.len)
                json_bytes(&w, "expected", &x->expect_bytes, x->expect_bytes.len);
            json_bytes(&w, "received", &x->recv, x->recv_total);
            rpb_json_key(&w, "end");
            rpb_json_cstring(&w, x->end);
            rpb_json_end_object(&w);
        }
        rpb_json_end_array(&w);
        rpb_json_end_object(&w);
    }
    rpb_json_end_array(&w);
    rpb_json_end_object(&w);
    int rc = rpb_json_writer_finish(&w);
    int write_errno = errno; /* fwrite's, when rc is RPB_ERR_IO */
    bool ok = fputc('\n', f) != EOF;
    ok = fclose(f) == 0 && ok;
    if (rc != RPB_OK) {
        /* the writer's reason: the failed write, no memory, or a string
         * that is not UTF-8 */
        errno = rc == RPB_ERR_IO ? write_errno : rc == RPB_ERR_NO_MEMORY ? ENOMEM : EILSEQ;
        return -1;
    }
    return ok ? 0 : -1;
}

/* ---- XML / HTML escaping ---- */

static void esc(sbuf *out, const char *s, size_t n)
{
    sbuf clean = SBUF_INIT;
    sanitize(&clean, (const uint8_t *)s, n);
    for (size_t i = 0; i < clean.len; i++) {
        char ch = (char)clean.data[i];
        switch (ch) {
        case '&': sb_puts(out, "&amp;"); break;
        case '<': sb_puts(out, "&lt;"); break;
        case '>': sb_puts(out, "&gt;"); break;
        case '"': sb_puts(out, "&quot;"); break;
        case '\'': sb_puts(out, "&#39;"); break;
        default: sb_putc(out, (uint8_t)ch); break;
        }
    }
    sb_free(&clean);
}

static void escs(sbuf *out, const char *s)
{
    esc(out, s, strlen(s));
}

static int write_file(const char *path, const sbuf *b)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = fwrite(b->data, 1, b->len, f);
    if (fclose(f) != 0 || n != b->len)
        return -1;
    return 0;
}

/* ---- JUnit ---- */

int report_junit(const char *path, const run_info *ri)
{
    sbuf x = SBUF_INIT;
    sb_puts(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb_printf(&x, "<testsuites name=\"rpb-conform\" tests=\"%zu\" failures=\"%zu\" time=\"%.3f\">\n", ri->n,
              ri->failed, ri->wall_ms / 1000.0);
    sb_printf(&x, "  <testsuite name=\"rpb-conform %s %s\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n",
              ri->role, ri->tier, ri->n, ri->failed, ri->skipped + ri->xfailed, ri->wall_ms / 1000.0, ri->started);
    for (size_t i = 0; i < ri->n; i++) {
        const outcome *o = &ri->v[i];
        /* classname: the id without its last component, dots for slashes */
        const char *last = strrchr(o->cs->id, '/');
        sbuf cls = SBUF_INIT;
        sb_put(&cls, o->cs->id, last ? (size_t)(last - o->cs->id) : strlen(o->cs->id));
        for (size_t k = 0; k < cls.len; k++)
            if (cls.data[k] == '/')
                cls.data[k] = '.';
        sb_puts(&x, "    <testcase classname=\"");
        escs(&x, sb_str(&cls));
        sb_puts(&x, "\" name=\"");
        escs(&x, o->cs->id);
        sb_printf(&x, "\" time=\"%.3f\">\n", o->r.ms / 1000.0);
        sb_free(&cls);
        switch (o->st) {
        case ST_PASS:
            break;
        case ST_SKIP:
            sb_puts(&x, "      <skipped message=\"");
            escs(&x, sb_str(&o->r.skip));
            sb_puts(&x, "\"/>\n");
            break;
        case ST_XFAIL:
            sb_puts(&x, "      <skipped message=\"expected failure: ");
            escs(&x, o->expect_reason ? o->expect_reason : "");
            sb_puts(&x, "\"/>\n");
            break;
        case ST_XPASS:
            sb_puts(&x, "      <failure message=\"listed as an expected failure but passed\"/>\n");
            break;
        case ST_XSKIP:
            sb_puts(&x, "      <failure message=\"listed as an expected failure but skipped: ");
            escs(&x, sb_str(&o->r.skip));
            sb_puts(&x, "\"/>\n");
            break;
        default: {
            const char *first = sb_str(&o->r.failures);
            size_t n = strcspn(first, "\n");
            sb_puts(&x, "      <failure message=\"");
            esc(&x, first, n);
            sb_puts(&x, "\">");
            escs(&x, sb_str(&o->r.failures));
            sb_puts(&x, "</failure>\n");
            break;
        }
        }
        if (o->r.notes.len) {
            sb_puts(&x, "      <system-out>");
            escs(&x, sb_str(&o->r.notes));
            sb_puts(&x, "</system-out>\n");
        }
        sb_puts(&x, "    </testcase>\n");
    }
    sb_puts(&x, "  </testsuite>\n</testsuites>\n");
    int rc = write_file(path, &x);
    sb_free(&x);
    return rc;
}

/* ---- HTML ---- */

static void hexdump(sbuf *out, const sbuf *b, size_t total)
{
    sb_puts(out, "<pre class=\"hex\">");
    if (!b->len)
        sb_puts(out, "(nothing)");
    for (size_t off = 0; off < b->len; off += 16) {
        sb_printf(out, "%08zx  ", off);
        for (size_t i = 0; i < 16; i++) {
            if (off + i < b->len)
                sb_printf(out, "%02x ", b->data[off + i]);
            else
                sb_puts(out, "   ");
            if (i == 7)
                sb_putc(out, ' ');
        }
        sb_puts(out, " |");
        for (size_t i = 0; i < 16 && off + i < b->len; i++) {
            uint8_t ch = b->data[off + i];
            char s[2] = {ch >= 0x20 && ch < 0x7f ? (char)ch : '.', 0};
            escs(out, s);
        }
        sb_puts(out, "|\n");
    }
    if (total > b->len)
        sb_printf(out, "... %zu bytes in all, the first %zu shown\n", total, b->len);
    sb_puts(out, "</pre>");
}

static void decoded(sbuf *out, const sbuf *b)
{
    if (!b->len)
        return;
    rpb_buf jb = {NULL, 0, 0};
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, &jb, RPB_JSON_PRETTY);
    write_decoded(&w, b->data, b->len);
    int rc = rpb_json_writer_finish(&w);
    sb_puts(out, "<pre class=\"dec\">");
    if (rc == RPB_OK)
        esc(out, (const char *)jb.data, jb.len);
    else
        sb_puts(out, "(fields not representable as JSON: a string is not valid UTF-8)");
    sb_puts(out, "</pre>");
    rpb_buf_free(&jb);
}

/* The report area of an id: its second component, and for hello/... the
 * third as well ("hello/shape"). */
static void area_of(const char *id, char *out, size_t cap)
{
    const char *s = strchr(id, '/');
    s = s ? s + 1 : id;
    size_t n = strcspn(s, "/");
    if (strncmp(s, "hello/", 6) == 0 && s[n] == '/')
        n += 1 + strcspn(s + n + 1, "/");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

static const char html_style[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}td a{color:inherit}"
    ".pass{color:#176f2c}.fail,.unexpected-pass,.unexpected-skip{color:#b00020;font-weight:bold}"
    ".skip{color:#777}.expected-fail{color:#a36b00}"
    ".headline{font-size:1.3em;font-weight:bold;padding:.4em .8em;border-radius:4px;color:#fff}"
    ".headline.ok{background:#176f2c}.headline.bad{background:#b00020}"
    ".failures li{margin:.2em 0}.failures .msgs{color:#444}"
    "details{border-top:1px solid #ddd;padding:.2em 0}summary{cursor:pointer;font-family:monospace}"
    "pre{background:#f6f6f6;padding:.5em;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".ex{margin-left:1.5em}.ex h4{margin:.6em 0 .2em}.req{color:#555}"
    ".msgs{font-family:monospace;white-space:pre-wrap}";

/* The summary column of a status: 0 pass, 1 fail (unexpected), 2 skip. */
static int summary_col(enum status st)
{
    return st == ST_PASS ? 0 : (st == ST_SKIP || st == ST_XFAIL) ? 2 : 1;
}

/* One line saying why case o is an unexpected result. */
static void why_unexpected(sbuf *h, const outcome *o)
{
    if (o->st == ST_XPASS) {
        sb_puts(h, "listed as an expected failure but passed");
    } else if (o->st == ST_XSKIP) {
        sb_puts(h, "listed as an expected failure but skipped: ");
        escs(h, sb_str(&o->r.skip));
    } else {
        const char *first = sb_str(&o->r.failures);
        esc(h, first, strcspn(first, "\n"));
    }
}

static void html_summary_table(sbuf *h, const run_info *ri)
{
    sb_puts(h, "<h2>Summary by area and tier</h2>\n<table><tr><th>area</th>"
               "<th>core pass</th><th>core fail</th><th>core skip</th>"
               "<th>strict pass</th><th>strict fail</th><th>strict skip</th></tr>\n");
    for (size_t i = 0; i < ri->n; i++) {
        char area[64];
        area_of(ri->v[i].cs->id, area, sizeof area);
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) {
            char other[64];
            area_of(ri->v[k].cs->id, other, sizeof other);
            seen = strcmp(area, other) == 0;
        }
        if (seen)
            continue;
        /* counts, and the first case of each cell for its link */
        size_t cnt[2][3] = {{0}}, first[2][3] = {{0}};
        for (size_t k = i; k < ri->n; k++) {
            char other[64];
            area_of(ri->v[k].cs->id, other, sizeof other);
            if (strcmp(area, other) != 0)
                continue;
            int t = ri->v[k].cs->tier, col = summary_col(ri->v[k].st);
            if (cnt[t][col]++ == 0)
                first[t][col] = k;
        }
        sb_puts(h, "<tr><td>");
        escs(h, area);
        sb_puts(h, "</td>");
        static const char *const cls[3] = {"pass", "fail", "skip"};
        for (int t = 0; t < 2; t++)
            for (int col = 0; col < 3; col++) {
                /* a fail cell is red only when it counts something */
                if (col == 1 && !cnt[t][col])
                    sb_puts(h, "<td>");
                else
                    sb_printf(h, "<td class=\"%s\">", cls[col]);
                if (cnt[t][col])
                    sb_printf(h, "<a href=\"#c%zu\">%zu</a></td>", first[t][col], cnt[t][col]);
                else
                    sb_puts(h, "0</td>");
            }
        sb_puts(h, "</tr>\n");
    }
    sb_puts(h, "</table>\n");
}

static void html_exchange(sbuf *h, const exchange *x)
{
    sb_printf(h, "<h4>connection %zu: ", x->n);
    escs(h, x->label);
    sb_puts(h, " &mdash; ");
    escs(h, x->end);
    sb_puts(h, "</h4>\n<b>sent</b>");
    hexdump(h, &x->sent, x->sent_total);
    decoded(h, &x->sent);
    if (x->expect_text.len || x->expect_bytes.len) {
        sb_puts(h, "<b>expected</b> ");
        escs(h, sb_str(&x->expect_text));
        if (x->expect_bytes.len) {
            hexdump(h, &x->expect_bytes, x->expect_bytes.len);
            decoded(h, &x->expect_bytes);
        }
        sb_puts(h, "\n");
    }
    sb_puts(h, "<b>observed</b>");
    hexdump(h, &x->recv, x->recv_total);
    decoded(h, &x->recv);
}

/* <p class="msgs CLASS">prefix text</p>, text escaped. */
static void html_msgs(sbuf *h, const char *cls, const char *prefix, const char *text)
{
    sb_printf(h, "<p class=\"msgs%s\">%s", cls, prefix);
    escs(h, text);
    sb_puts(h, "</p>\n");
}

static void html_case(sbuf *h, const run_info *ri, size_t i)
{
    const outcome *o = &ri->v[i];
    bool bad = status_unexpected(o->st);
    sb_printf(h, "<details id=\"c%zu\"%s><summary><span class=\"%s\">%-15s</span> ", i, bad ? " open" : "",
              status_name(o->st), status_name(o->st));
    escs(h, o->cs->id);
    sb_printf(h, " <span class=\"req\">[%s] ", tier_name(o->cs->tier));
    escs(h, o->cs->reqs);
    sb_puts(h, "</span></summary>\n<div class=\"ex\"><p>");
    escs(h, o->cs->title);
    sb_printf(h, " (%.1f ms, %zu connection%s)</p>\n", o->r.ms, o->r.n_connections,
              o->r.n_connections == 1 ? "" : "s");
    if (o->r.failures.len)
        html_msgs(h, " fail", "", sb_str(&o->r.failures));
    if (o->r.skip.len)
        html_msgs(h, " skip", "skipped: ", sb_str(&o->r.skip));
    if (o->expect_reason)
        html_msgs(h, " expected-fail", "listed as an expected failure: ", o->expect_reason);
    if (o->r.notes.len)
        html_msgs(h, "", "notes:\n", sb_str(&o->r.notes));
    sbuf log = SBUF_INIT;
    case_log(ri, o, &log);
    if (o->r.verdict == V_FAIL && log.len) {
        sb_printf(h, "<b>%s log of the case's connections</b><pre>", ri->role);
        esc(h, (const char *)log.data, log.len);
        sb_puts(h, "</pre>\n");
    }
    sb_free(&log);
    for (size_t k = 0; k < o->r.n_ex; k++)
        html_exchange(h, o->r.ex[k]);
    if (o->r.n_connections > o->r.n_ex)
        sb_printf(h, "<p>%zu connection%s left out (shown: the first %d and every one a failure or note refers to).</p>\n",
                  o->r.n_connections - o->r.n_ex, o->r.n_connections - o->r.n_ex == 1 ? "" : "s",
                  CASE_FIRST_EXCHANGES);
    sb_puts(h, "</div></details>\n");
}

int report_html(const char *path, const run_info *ri)
{
    sbuf h = SBUF_INIT;
    sb_puts(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<title>rpb-conform ");
    sb_puts(&h, ri->role);
    sb_puts(&h, " report</title><style>");
    sb_puts(&h, html_style);
    sb_printf(&h, "</style></head><body>\n<h1>rpb-conform %s report</h1>\n<p>Target: <code>", ri->role);
    escs(&h, ri->target);
    sb_printf(&h, "</code><br>Tier: %s &middot; started %s &middot; %.1f s</p>\n", ri->tier, ri->started,
              ri->wall_ms / 1000.0);
    sb_printf(&h, "<p class=\"headline %s\">%zu passed, %zu failed, %zu skipped", ri->failed ? "bad" : "ok",
              ri->passed, ri->failed, ri->skipped);
    if (ri->xfailed)
        sb_printf(&h, ", %zu expected failures", ri->xfailed);
    sb_puts(&h, "</p>\n");
    if (ri->failed) {
        sb_puts(&h, "<h2>Failures</h2>\n<ol class=\"failures\">\n");
        for (size_t i = 0; i < ri->n; i++) {
            if (!status_unexpected(ri->v[i].st))
                continue;
            sb_printf(&h, "<li><a href=\"#c%zu\">", i);
            escs(&h, ri->v[i].cs->id);
            sb_puts(&h, "</a><br><span class=\"msgs\">");
            why_unexpected(&h, &ri->v[i]);
            sb_puts(&h, "</span></li>\n");
        }
        sb_puts(&h, "</ol>\n");
    }
    html_summary_table(&h, ri);
    sb_puts(&h, "<h2>Cases</h2>\n");
    for (size_t i = 0; i < ri->n; i++)
        html_case(&h, ri, i);
    if (ri->peer_log) {
        sb_printf(&h, "<h2>Output of the %s</h2>\n", ri->role);
        if (ri->peer_exit) {
            sb_puts(&h, "<p>");
            escs(&h, ri->peer_exit);
            sb_puts(&h, "</p>");
        }
        sb_puts(&h, "<pre>");
        escs(&h, sb_str(ri->peer_log));
        sb_puts(&h, "</pre>\n");
    }
    sb_puts(&h, "</body></html>\n");
    int rc = write_file(path, &h);
    sb_free(&h);
    return rc;
}
