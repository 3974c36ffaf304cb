/*
 * mutation.c - the generic row kind of the case tables (MUTATE in cases.h):
 * build the baseline Hello, apply the row's mutation, send it on a new
 * connection and expect the row's outcome.  The exchange label and, for
 * rows without a title, the title are written from the same data.
 */
#include <stdlib.h>
#include <string.h>

#include "cases.h"

static rpb_slice bslice(bstr b)
{
    rpb_slice s = {(const uint8_t *)b.s, b.len};
    return s;
}

static const char *fill_name(enum fill_field f)
{
    switch (f) {
    case FILL_WANTED_VERSION:
        return "wanted_version";
    case FILL_CLIENT_VERSION:
        return "client_version";
    case FILL_CLIENT_LIB_NAME:
        return "client_lib_name";
    case FILL_CLIENT_LIB_VERSION:
        return "client_lib_version";
    case FILL_NONE:
        break;
    }
    return "?";
}

/* A string of exactly m->fill_len bytes for m->fill (caller frees). */
static char *fill_value(const mutation *m)
{
    char *buf = malloc(m->fill_len + 1);
    if (!buf)
        abort();
    memset(buf, 'x', m->fill_len);
    buf[m->fill_len] = 0;
    for (size_t at = 0; m->fill_unit.len && at + m->fill_unit.len <= m->fill_len; at += m->fill_unit.len)
        memcpy(buf + at, m->fill_unit.s, m->fill_unit.len);
    if (m->fill == FILL_WANTED_VERSION && m->fill_len >= 8) {
        /* "1.11.20-" then [a-z]: valid grammar at any length */
        memcpy(buf, "1.11.20-", 8);
        memset(buf + 8, 'a', m->fill_len - 8);
    }
    return buf;
}

static void apply_fill(const mutation *m, rpb_hello *h, rpb_slice v)
{
    switch (m->fill) {
    case FILL_WANTED_VERSION:
        /* conform-open has no allow-list, so only the cap decides */
        h->service_name = rpb_slice_cstr(FIXTURE_SVC_OPEN);
        h->wanted_version = v;
        break;
    case FILL_CLIENT_VERSION:
        h->client_version = v;
        break;
    case FILL_CLIENT_LIB_NAME:
        h->client_lib_name = v;
        break;
    case FILL_CLIENT_LIB_VERSION:
        h->client_lib_version = v;
        break;
    case FILL_NONE:
        break;
    }
}

/* Applies the Hello and envelope members of m to the baseline f, h. */
static void apply(const mutation *m, rpb_frame *f, rpb_hello *h)
{
    static uint8_t blob[4096];
    if (m->service.s)
        h->service_name = bslice(m->service);
    if (m->version.s)
        h->wanted_version = bslice(m->version);
    if (m->client_version.s)
        h->client_version = bslice(m->client_version);
    if (m->set_range) {
        h->client_min_protocol = m->min_protocol;
        h->client_max_protocol = m->max_protocol;
    }
    if (m->pid == PID_ZERO)
        h->peer_pid = 0;
    else if (m->pid == PID_OTHER)
        h->peer_pid = self_pid() + 1;
    if (m->big_ignored) {
        memset(blob, 0xa5, sizeof blob);
        rpb_slice big = {blob, sizeof blob};
        h->auth_token = big;
        h->request_id =
            rpb_slice_cstr("any string at all: ../../etc; $(x) \xe2\x9c\x93 and more than sixty-four bytes of it");
        h->connection_id = UINT64_MAX;
        h->peer_attestation_nonce = big;
        h->capability_token = big;
    }
    if (m->set_keepalive)
        h->client_keepalive_secs = m->keepalive;
    if (m->set_envelope) {
        f->envelope_version = m->envelope_version;
        f->kind = m->kind;
        f->payload_protocol = m->payload_protocol;
        f->payload_encoding = m->payload_encoding;
    }
    if (m->request_id)
        f->request_id = m->request_id;
    if (m->deadline_unix_ms)
        f->deadline_unix_ms = m->deadline_unix_ms;
    if (m->tracestate.s)
        f->tracestate = bslice(m->tracestate);
}

/* The framed stimulus with m's raw bytes placed in the encoding of f, h. */
static void build_raw(sbuf *s, const mutation *m, const rpb_frame *f, const rpb_hello *h)
{
    sbuf hello = SBUF_INIT, body = SBUF_INIT;
    if (m->where == RAW_HELLO_PREFIX)
        put_hex(&hello, m->hex);
    stim_encode(&hello, &rpb_hello_desc, h);
    if (m->where == RAW_HELLO_APPEND)
        put_hex(&hello, m->hex);
    rpb_frame g = *f;
    g.payload.data = hello.data;
    g.payload.len = hello.len;
    if (m->where == RAW_FRAME_BODY) {
        put_hex(&body, m->hex);
    } else if (m->where == RAW_FRAME_PREFIX) {
        sbuf rest = SBUF_INIT;
        stim_encode(&rest, &rpb_frame_desc, &g);
        put_hex(&body, m->hex);
        sb_put(&body, rest.data + 2, rest.len - 2);
        sb_free(&rest);
    } else {
        stim_encode(&body, &rpb_frame_desc, &g);
        if (m->where == RAW_FRAME_APPEND)
            put_hex(&body, m->hex);
    }
    stim_framed(s, body.data, body.len);
    sb_free(&hello);
    sb_free(&body);
}

/* What the response must echo: nothing when the Frame cannot decode. */
static echo expected_echo(const mutation *m, const rpb_frame *f)
{
    if (m->where == RAW_FRAME_BODY)
        return ECHO_NOTHING;
    if ((m->where == RAW_FRAME_PREFIX || m->where == RAW_FRAME_APPEND) && m->want && !m->raw_decodes)
        return ECHO_NOTHING;
    return echo_of(f);
}

static void sep(sbuf *out)
{
    if (out->len)
        sb_puts(out, ", ");
}

/* "kind RESPONSE": the value's name without the enum's prefix. */
static void describe_enum(sbuf *out, const char *field, const rpb_enum_desc *e, const char *prefix, int32_t v)
{
    const char *name = rpb_enum_name(e, v);
    sep(out);
    if (name && strncmp(name, prefix, strlen(prefix)) == 0)
        name += strlen(prefix);
    if (name)
        sb_printf(out, "%s %s", field, name);
    else
        sb_printf(out, "%s %d", field, (int)v);
}

static void describe_string(sbuf *out, const char *field, bstr v)
{
    sep(out);
    if (v.len == 0) {
        sb_printf(out, "an empty %s", field);
        return;
    }
    sb_printf(out, "%s ", field);
    sb_quoted(out, (const uint8_t *)v.s, v.len, 70);
}

/* "service_name \"Zccache\"", "client protocol range 2..3", ... */
static void describe_mutation(const mutation *m, sbuf *out)
{
    if (m->service.s)
        describe_string(out, "service_name", m->service);
    if (m->version.s)
        describe_string(out, "wanted_version", m->version);
    if (m->client_version.s)
        describe_string(out, "client_version", m->client_version);
    if (m->set_range) {
        sep(out);
        sb_printf(out, "client protocol range %u..%u", m->min_protocol, m->max_protocol);
    }
    if (m->fill) {
        sep(out);
        sb_printf(out, "a %zu-byte %s", m->fill_len, fill_name(m->fill));
        if (m->fill_unit.len) {
            size_t n = m->fill_len / m->fill_unit.len, rest = m->fill_len % m->fill_unit.len;
            sb_printf(out, " of %zu x ", n);
            sb_quoted(out, (const uint8_t *)m->fill_unit.s, m->fill_unit.len, 20);
            if (rest)
                sb_printf(out, " and %zu x \"x\"", rest);
        }
    }
    if (m->pid != PID_SELF) {
        sep(out);
        sb_puts(out, m->pid == PID_ZERO ? "peer_pid 0" : "peer_pid of another process");
    }
    if (m->big_ignored) {
        sep(out);
        sb_puts(out, "large auth_token, nonce, capability_token, request_id, connection_id");
    }
    if (m->set_keepalive) {
        sep(out);
        sb_printf(out, "client_keepalive_secs %llu", (unsigned long long)m->keepalive);
    }
    if (m->set_envelope) {
        if (m->envelope_version != 1) {
            sep(out);
            sb_printf(out, "envelope_version %u", m->envelope_version);
        }
        if (m->kind != RPB_FRAME_KIND_REQUEST)
            describe_enum(out, "kind", &rpb_frame_kind_enum, "FRAME_KIND_", m->kind);
        if (m->payload_protocol != RPB_PP_CONTROL) {
            sep(out);
            sb_printf(out, "payload_protocol 0x%04X", m->payload_protocol);
        }
        if (m->payload_encoding != RPB_PAYLOAD_ENCODING_NONE)
            describe_enum(out, "payload_encoding", &rpb_payload_encoding_enum, "PAYLOAD_ENCODING_", m->payload_encoding);
    }
    if (m->garbage_payload) {
        sep(out);
        sb_puts(out, "payload ff ff ff");
    }
    if (m->request_id) {
        sep(out);
        sb_printf(out, "request_id 0x%llx", (unsigned long long)m->request_id);
    }
    if (m->deadline_unix_ms) {
        sep(out);
        sb_printf(out, "deadline_unix_ms %llu", (unsigned long long)m->deadline_unix_ms);
    }
    if (m->tracestate.s)
        describe_string(out, "tracestate", m->tracestate);
    if (m->where) {
        static const char *const where[] = {"", "Frame body", "Frame body starting", "Frame followed by",
                                            "Hello payload starting", "Hello payload followed by"};
        sep(out);
        sb_printf(out, "%s %s", where[m->where], m->hex[0] ? m->hex : "(empty)");
    }
    if (!out->len)
        sb_puts(out, "the baseline");
}

void mutation_title(const hcase *cs, sbuf *title)
{
    const mutation *m = cs->arg.mut;
    describe_mutation(m, title);
    if (m->want) {
        char tmp[16];
        const char *code = code_name(m->want->code, tmp);
        if (strncmp(code, "ERROR_", 6) == 0)
            code += 6;
        sb_printf(title, " gets Refused %s", code);
    } else {
        sb_puts(title, " negotiates");
    }
}

void case_mutation(cctx *c)
{
    const mutation *m = c->cs->arg.mut;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    char *filled = NULL;
    if (m->fill) {
        filled = fill_value(m);
        rpb_slice v = {(const uint8_t *)filled, m->fill_len};
        apply_fill(m, &h, v);
    }
    apply(m, &f, &h);
    sbuf s = SBUF_INIT, label = SBUF_INIT;
    if (m->where) {
        build_raw(&s, m, &f, &h);
    } else if (m->garbage_payload) {
        f.payload.data = (const uint8_t *)"\xff\xff\xff";
        f.payload.len = 3;
        stim_frame(&s, &f);
    } else {
        stim_hello_frame(&s, &f, &h);
    }
    sb_puts(&label, "Hello with ");
    describe_mutation(m, &label);
    hreply r;
    hc_exchange(c, NULL, sb_str(&label), &s, &r);
    echo e = expected_echo(m, &f);
    const rpb_negotiated *n = m->want ? NULL : expect_negotiated(c, &r, e);
    bool ok = m->want ? expect_refused(c, &r, m->want, e) : n != NULL;
    /* HELLO-032: echoed unchanged when non-zero (no clamping, no narrowing) */
    uint64_t keepalive = m->keepalive ? m->keepalive : 1800;
    if (n && m->set_keepalive && n->keepalive_interval_secs != keepalive)
        c_fail(c, "expected keepalive_interval_secs %llu; observed %llu", (unsigned long long)keepalive,
               (unsigned long long)n->keepalive_interval_secs);
    if (ok && m->canonical)
        expect_canonical(c, &r);
    hr_free(&r);
    sb_free(&s);
    sb_free(&label);
    free(filled);
}
