/*
 * cases_admin.c - broker/admin/...: admin verbs on the control socket
 * (payload_protocol 0xAD01, spec/hello.md ADMIN-*): the reply envelope,
 * kind, exit code and body of each verb.
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"

static bool body_ends_with(rpb_slice body, const char *tail)
{
    size_t n = strlen(tail);
    return body.len >= n && memcmp(body.data + body.len - n, tail, n) == 0;
}

static bool body_contains(rpb_slice body, const char *needle)
{
    size_t n = strlen(needle);
    if (n > body.len)
        return false;
    for (size_t i = 0; i + n <= body.len; i++)
        if (memcmp(body.data + i, needle, n) == 0)
            return true;
    return false;
}

void admin_exchange(cctx *c, int32_t verb, bool json, rpb_frame *req, hreply *r)
{
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = verb;
    ar.json = json;
    sbuf payload = SBUF_INIT, s = SBUF_INIT;
    stim_encode(&payload, &rpb_admin_request_desc, &ar);
    stim_frame_base(req);
    req->payload_protocol = RPB_PP_ADMIN;
    req->request_id = 44;
    req->payload.data = payload.data;
    req->payload.len = payload.len;
    stim_frame(&s, req);
    req->payload.data = NULL; /* payload is freed below */
    req->payload.len = 0;
    char label[80];
    const char *vn = rpb_enum_name(&rpb_admin_verb_enum, verb);
    snprintf(label, sizeof label, "admin request %s%s", vn ? vn : "(unknown verb)", json ? " json" : "");
    hc_exchange(c, NULL, label, &s, r);
    sb_free(&payload);
    sb_free(&s);
}

void case_admin(cctx *c)
{
    const admin_variant *v = c->cs->arg;
    rpb_frame f;
    hreply r;
    admin_exchange(c, v->verb, v->json, &f, &r);
    if (r.ex) {
        sb_printf(&r.ex->expect_text, "AdminReply{kind %s, exit_code %u%s%s%s}",
                  rpb_enum_name(&rpb_admin_reply_kind_enum, v->want_kind), v->want_exit,
                  v->want_body ? ", body \"" : "", v->want_body ? v->want_body : "", v->want_body ? "\"" : "");
    }
    if (!expect_response_frame(c, &r, RPB_PP_ADMIN, echo_of(&f)))
        goto out;
    if (r.payload_err != RPB_OK) {
        c_fail(c, "expected an AdminReply payload; observed one that does not decode (%s)",
               rpb_errname(r.payload_err));
        goto out;
    }
    const rpb_admin_reply *a = &r.admin;
    if (v->optional && a->exit_code == 2 && rpb_slice_eq_cstr(a->body, "unsupported admin verb\n")) {
        c_skip(c, "feature not offered: the broker answers this optional verb with \"unsupported admin verb\"");
        goto out;
    }
    if (a->kind != v->want_kind) {
        const char *k = rpb_enum_name(&rpb_admin_reply_kind_enum, a->kind);
        c_fail(c, "expected reply kind %s; observed %s", rpb_enum_name(&rpb_admin_reply_kind_enum, v->want_kind),
               k ? k : "an unknown kind");
    }
    if (a->exit_code != v->want_exit)
        c_fail(c, "expected exit_code %u; observed %u", v->want_exit, a->exit_code);
    if (v->want_body && !rpb_slice_eq_cstr(a->body, v->want_body)) {
        sbuf q = SBUF_INIT, w = SBUF_INIT;
        sb_quoted(&q, a->body.data, a->body.len, 120);
        sb_quoted(&w, (const uint8_t *)v->want_body, strlen(v->want_body), 120);
        c_fail(c, "expected body %s; observed %s", sb_str(&w), sb_str(&q));
        sb_free(&q);
        sb_free(&w);
    }
    for (int i = 0; i < 4 && v->contains[i]; i++)
        if (!body_contains(a->body, v->contains[i]))
            c_fail(c, "expected the body to contain %s; observed a body of %zu bytes without it", v->contains[i],
                   a->body.len);
    if (v->ends_with && !body_ends_with(a->body, v->ends_with)) {
        sbuf q = SBUF_INIT;
        sb_quoted(&q, (const uint8_t *)v->ends_with, strlen(v->ends_with), 40);
        c_fail(c, "expected the body to end with %s; observed a body of %zu bytes that does not", sb_str(&q),
               a->body.len);
        sb_free(&q);
    }
    if (v->content_type && !rpb_slice_eq_cstr(a->content_type, v->content_type)) {
        sbuf q = SBUF_INIT;
        sb_quoted(&q, a->content_type.data, a->content_type.len, 80);
        c_fail(c, "expected content_type \"%s\"; observed %s", v->content_type, sb_str(&q));
        sb_free(&q);
    }
out:
    hr_free(&r);
}
