/*
 * cases_launch.c - the launch area: brokers that start backends on demand
 * (spec/discovery.md §3; upstream --serve-launch, rpb-broker --launch).
 * The fixture's launched service conform-launch names rpb-backend as its
 * binary (fixture.h); a broker that does not serve it is not a launching
 * broker, and every case of the area is skipped with the reason.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cases.h"

/* One Hello for conform-launch at version; the Negotiated, or NULL (the
 * failure or the skip recorded). */
static const rpb_negotiated *launch_hello(cctx *c, const char *version, hreply *r)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.service_name = rpb_slice_cstr(FIXTURE_SVC_LAUNCH);
    h.wanted_version = rpb_slice_cstr(version);
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    hc_exchange(c, NULL, "Hello for the launched service conform-launch", &s, r);
    sb_free(&s);
    /* no such service, or upstream --serve's "backend is not registered":
     * not a launching broker */
    if (r->end == H_REPLY && r->payload_err == RPB_OK && r->hello.result == RPB_HELLO_REPLY_REFUSED &&
        (r->hello.refused.code == RPB_CODE_SERVICE_UNKNOWN ||
         rpb_slice_eq_cstr(r->hello.refused.reason, "backend is not registered"))) {
        char tmp[16];
        c_skip(c, "the broker does not launch backends: conform-launch got Refused %s (rpb-broker: --launch "
                  "DIR; upstream: --serve-launch; --spawn writes conform-launch when rpb-backend is beside "
                  "rpb-conform)",
               code_name(r->hello.refused.code, tmp));
        return NULL;
    }
    return expect_negotiated(c, r, echo_of(&f));
}

/* The pid answering the identity probe at pipe, with its identity
 * verified against the system; 0 with the failure recorded. */
static int32_t probe_backend(cctx *c, rpb_slice pipe)
{
    char path[RPB_SUN_PATH_MAX];
    snprintf(path, sizeof path, "%.*s", (int)pipe.len, (const char *)pipe.data);
    rpb_endpoint ep = {rpb_slice_cstr(""), rpb_slice_cstr(path)};
    rpb_probe_outcome o;
    memset(&o, 0, sizeof o);
    int rc = rpb_probe_endpoint(&ep, NULL, c->cfg->reply_ms, RPB_PROBE_VERIFY, &o, NULL);
    int32_t pid = 0;
    if (rc != RPB_OK)
        c_fail(c, "expected the negotiated endpoint %s to answer the identity probe as a verified process; "
                  "observed %s", path, rpb_errname(rc));
    else if (!rpb_slice_eq_cstr(o.reply.identity.ipc_endpoint.path, path))
        c_fail(c, "expected the backend's identity to name its endpoint %s", path);
    else
        pid = (int32_t)o.reply.identity.pid;
    rpb_probe_outcome_free(&o);
    return pid;
}

/* Kills pid (not our child) and waits up to ms for it to be gone, on its
 * pidfd; true when it is. */
static bool kill_and_wait(pid_t pid, int ms)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0)
        return false;
    kill(pid, SIGKILL);
    struct pollfd p = {pfd, POLLIN, 0};
    bool gone = poll(&p, 1, ms) == 1;
    close(pfd);
    return gone;
}

/* LAUNCH-003: the endpoint is a fresh -be-<32 hex> leaf. */
static void check_backend_leaf(cctx *c, rpb_slice pipe)
{
    const char *p = (const char *)pipe.data;
    const char *be = memmem(p, pipe.len, "-be-", 4);
    size_t rest = be ? pipe.len - (size_t)(be - p) : 0;
    bool hex = rest == 4 + 32 + 5;
    for (size_t i = 4; hex && i < 36; i++)
        hex = strchr("0123456789abcdef", be[i]) != NULL && be[i] != '\0';
    if (!hex || memcmp(be + 36, ".sock", 5) != 0)
        c_fail(c, "expected backend_pipe to end in -be-<32 lowercase hex>.sock (NAME-001); observed %.*s",
               (int)pipe.len, p);
}

static void case_launch_negotiates(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = launch_hello(c, "1.0.0", &r);
    if (n) {
        check_backend_leaf(c, n->backend_pipe);
        probe_backend(c, n->backend_pipe);
    }
    hr_free(&r);
}

/* The second Hello gets the running backend, not a new one. */
static void case_launch_reuse(cctx *c)
{
    hreply r1, r2;
    const rpb_negotiated *a = launch_hello(c, "1.0.0", &r1);
    const rpb_negotiated *b = a ? launch_hello(c, "1.0.0", &r2) : NULL;
    if (b && !rpb_slice_eq(a->backend_pipe, b->backend_pipe))
        c_fail(c, "expected the second Hello to get the running backend %.*s; observed %.*s",
               (int)a->backend_pipe.len, (const char *)a->backend_pipe.data, (int)b->backend_pipe.len,
               (const char *)b->backend_pipe.data);
    if (a)
        hr_free(&r2);
    hr_free(&r1);
}

/* A backend killed between two Hellos: the second launches a new one.  The
 * killed backend's socket, which this case made stale, is removed: it lies
 * in the user's canonical directory, not in the run's. */
static void case_launch_relaunch(cctx *c)
{
    hreply r1, r2;
    const rpb_negotiated *a = launch_hello(c, "1.0.0", &r1);
    int32_t pid = a ? probe_backend(c, a->backend_pipe) : 0;
    if (pid > 0) {
        if (kill_and_wait(pid, c->cfg->reply_ms)) {
            char path[RPB_SUN_PATH_MAX];
            snprintf(path, sizeof path, "%.*s", (int)a->backend_pipe.len, (const char *)a->backend_pipe.data);
            unlink(path);
        } else {
            c_fail(c, "the backend pid %d did not exit after SIGKILL", (int)pid);
        }
        const rpb_negotiated *b = launch_hello(c, "1.0.0", &r2);
        if (b && rpb_slice_eq(a->backend_pipe, b->backend_pipe))
            c_fail(c, "expected a new backend after the first one was killed; observed the dead one's %.*s",
                   (int)b->backend_pipe.len, (const char *)b->backend_pipe.data);
        else if (b && probe_backend(c, b->backend_pipe) == pid)
            c_fail(c, "expected a new backend process; observed the killed pid %d", (int)pid);
        hr_free(&r2);
    }
    hr_free(&r1);
}

/* Eight Hellos for a key nobody launched yet, sent together: one backend
 * for all of them (single-flight, no refusal). */
static void case_launch_concurrent(cctx *c)
{
    enum { N = 8 };
    hreply probe;
    if (!launch_hello(c, "1.0.0", &probe)) { /* launching at all, else skipped */
        hr_free(&probe);
        return;
    }
    hr_free(&probe);
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.service_name = rpb_slice_cstr(FIXTURE_SVC_LAUNCH);
    h.wanted_version = rpb_slice_cstr("1.0.1");
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    hconn hc[N];
    hreply r[N];
    memset(r, 0, sizeof r);
    size_t opened = 0;
    for (; opened < N; opened++)
        if (hc_open(c, &hc[opened], NULL, "one of 8 concurrent Hellos for conform-launch 1.0.1") < 0)
            break;
    for (size_t i = 0; i < opened; i++)
        hc_send(&hc[i], s.data, s.len);
    char first[RPB_SUN_PATH_MAX] = "";
    for (size_t i = 0; i < opened; i++) {
        hc_read_reply(&hc[i], c->cfg->reply_ms, &r[i]);
        const rpb_negotiated *n = c_failed(c) ? NULL : expect_negotiated(c, &r[i], echo_of(&f));
        if (n && i == 0)
            snprintf(first, sizeof first, "%.*s", (int)n->backend_pipe.len, (const char *)n->backend_pipe.data);
        else if (n && !rpb_slice_eq_cstr(n->backend_pipe, first))
            c_fail(c, "expected every concurrent Hello to get the one backend %s; observed %.*s", first,
                   (int)n->backend_pipe.len, (const char *)n->backend_pipe.data);
        hc_close(&hc[i]);
        hr_free(&r[i]);
    }
    if (opened < N)
        c_fail(c, "expected 8 concurrent connections to be accepted; %zu were", opened);
    sb_free(&s);
}

/* The JSON body of admin verb (json true, AdminRequest.service_name
 * service), parsed into doc; false with the failure recorded, or the skip
 * when the broker does not offer the verb (an optional one, ADMIN-009). */
static bool admin_json_for(cctx *c, int32_t verb, const char *service, rpb_json_doc *doc)
{
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = verb;
    ar.json = true;
    ar.service_name = rpb_slice_cstr(service);
    rpb_frame f;
    hreply r;
    admin_exchange_request(c, &ar, &f, &r);
    bool ok = r.end == H_REPLY && r.payload_err == RPB_OK && r.frame.payload_protocol == RPB_PP_ADMIN;
    const char *vn = rpb_enum_name(&rpb_admin_verb_enum, verb);
    if (ok && r.admin.exit_code == 2 && rpb_slice_eq_cstr(r.admin.body, "unsupported admin verb\n")) {
        c_skip(c, "feature not offered: the broker answers %s with \"unsupported admin verb\"", vn);
        ok = false;
    } else if (!ok || rpb_json_parse((const char *)r.admin.body.data, r.admin.body.len, doc, NULL) != RPB_OK) {
        c_fail(c, "expected a JSON body in the reply to %s (json true)", vn);
        ok = false;
    }
    hr_free(&r);
    return ok;
}

/* admin_json_for() with an empty service_name. */
static bool admin_json(cctx *c, int32_t verb, rpb_json_doc *doc)
{
    return admin_json_for(c, verb, "", doc);
}

/* The first object of the array member list of root whose string member
 * name is value, or NULL. */
static const rpb_json_value *entry_with(const rpb_json_value *root, const char *list, const char *name,
                                        rpb_slice value)
{
    const rpb_json_value *a = rpb_json_get(root, list);
    for (const rpb_json_value *e = a && a->type == RPB_JSON_ARRAY ? a->u.children.head : NULL; e; e = e->next) {
        const rpb_json_value *m = e->type == RPB_JSON_OBJECT ? rpb_json_get(e, name) : NULL;
        if (m && m->type == RPB_JSON_STRING && rpb_slice_eq(m->u.string, value))
            return e;
    }
    return NULL;
}

/* The object of STATUS json's backends whose backend_pipe is pipe, in
 * doc (parsed); NULL when there is none or the reply is no JSON (the
 * failure recorded). */
static const rpb_json_value *status_backend(cctx *c, rpb_json_doc *doc, rpb_slice pipe)
{
    if (!admin_json(c, RPB_ADMIN_VERB_STATUS, doc))
        return NULL;
    const rpb_json_value *found = entry_with(doc->root, "backends", "backend_pipe", pipe);
    if (!found)
        c_fail(c, "expected STATUS json backends to list the launched backend %.*s (LAUNCH-013); observed no "
                  "entry with that backend_pipe",
               (int)pipe.len, (const char *)pipe.data);
    return found;
}

/* The member name of object o equals the string want, else a failure. */
static void expect_member_string(cctx *c, const rpb_json_value *o, const char *name, const char *want)
{
    const rpb_json_value *m = rpb_json_get(o, name);
    if (!m || m->type != RPB_JSON_STRING || !rpb_slice_eq_cstr(m->u.string, want))
        c_fail(c, "expected the entry's %s to be \"%s\"", name, want);
}

/* LAUNCH-013: STATUS lists the backend launched for a Hello: its pid
 * (the process answering the probe), endpoint, state ready, launches and
 * budget. */
static void case_launch_status(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = launch_hello(c, "1.0.2", &r);
    int32_t pid = n ? probe_backend(c, n->backend_pipe) : 0;
    rpb_json_doc doc = {NULL, NULL};
    const rpb_json_value *b = pid > 0 ? status_backend(c, &doc, n->backend_pipe) : NULL;
    if (b) {
        uint64_t v;
        expect_member_string(c, b, "service_name", FIXTURE_SVC_LAUNCH);
        expect_member_string(c, b, "service_version", "1.0.2");
        expect_member_string(c, b, "state", "ready");
        if (!rpb_json_as_u64(rpb_json_get(b, "pid"), &v) || v != (uint64_t)pid)
            c_fail(c, "expected the launched backend's pid to be %d, the process answering its probe", (int)pid);
        if (!rpb_json_as_u64(rpb_json_get(b, "launches"), &v) || v < 1)
            c_fail(c, "expected the launched backend's launches to be at least 1");
        if (!rpb_json_as_u64(rpb_json_get(b, "spawn_budget_remaining"), &v))
            c_fail(c, "expected the launched backend's spawn_budget_remaining, an integer");
    }
    rpb_json_doc_free(&doc);
    hr_free(&r);
}

/* LAUNCH-013: beside a launched backend, the launched service's own
 * STATUS entry stays as its definition says: state on-demand, pid 0 and
 * an empty backend_pipe. */
static void case_launch_status_own_entry(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = launch_hello(c, "1.0.2", &r);
    rpb_json_doc doc = {NULL, NULL};
    if (n && admin_json(c, RPB_ADMIN_VERB_STATUS, &doc)) {
        /* the definitions come first: the service's first entry is its own */
        const rpb_json_value *own =
            entry_with(doc.root, "backends", "service_name", rpb_slice_cstr(FIXTURE_SVC_LAUNCH));
        uint64_t pid;
        if (!own) {
            c_fail(c, "expected STATUS json backends to hold %s's own entry; observed none", FIXTURE_SVC_LAUNCH);
        } else {
            expect_member_string(c, own, "state", "on-demand");
            expect_member_string(c, own, "backend_pipe", "");
            if (!rpb_json_as_u64(rpb_json_get(own, "pid"), &pid) || pid != 0)
                c_fail(c, "expected the on-demand entry's pid to be 0; observed another value");
        }
    }
    rpb_json_doc_free(&doc);
    hr_free(&r);
}

/* LAUNCH-013: DUMP spawn_budgets has an object for every key launched:
 * for each launched backend STATUS lists (the one just launched for
 * 1.0.4 among them), its instance, service and version, state ready and
 * the two budget members. */
static void case_launch_dump_budgets(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = launch_hello(c, "1.0.4", &r);
    rpb_json_doc status = {NULL, NULL}, dump = {NULL, NULL};
    if (n && status_backend(c, &status, n->backend_pipe) && admin_json(c, RPB_ADMIN_VERB_DUMP, &dump)) {
        const rpb_json_value *list = rpb_json_get(status.root, "backends");
        for (const rpb_json_value *b = list->u.children.head; b; b = b->next) {
            const rpb_json_value *instance = rpb_json_get(b, "instance");
            const rpb_json_value *version = rpb_json_get(b, "service_version");
            if (!instance) /* a service definition */
                continue;
            if (instance->type != RPB_JSON_STRING || !version || version->type != RPB_JSON_STRING) {
                c_fail(c, "expected each launched backend's instance and service_version, strings");
                break;
            }
            const rpb_json_value *k = entry_with(dump.root, "spawn_budgets", "service_version", version->u.string);
            uint64_t v;
            if (!k) {
                c_fail(c, "expected DUMP spawn_budgets to hold the key of the launched backend %s %.*s; observed none",
                       FIXTURE_SVC_LAUNCH, (int)version->u.string.len, (const char *)version->u.string.data);
                break;
            }
            expect_member_string(c, k, "service_name", FIXTURE_SVC_LAUNCH);
            expect_member_string(c, k, "state", "ready");
            const rpb_json_value *ki = rpb_json_get(k, "instance");
            if (!ki || ki->type != RPB_JSON_STRING || !rpb_slice_eq(ki->u.string, instance->u.string))
                c_fail(c, "expected the key's instance to be \"%.*s\", as STATUS names it",
                       (int)instance->u.string.len, (const char *)instance->u.string.data);
            if (!rpb_json_as_u64(rpb_json_get(k, "spawn_budget_remaining"), &v) ||
                !rpb_json_as_u64(rpb_json_get(k, "spawn_budget_resets_in_ms"), &v))
                c_fail(c, "expected the key's spawn_budget_remaining and spawn_budget_resets_in_ms, integers");
            if (c_failed(c))
                break;
        }
    }
    rpb_json_doc_free(&dump);
    rpb_json_doc_free(&status);
    hr_free(&r);
}

/* LAUNCH-013: METRICS launched_backends counts the launched backends
 * running (those STATUS lists ready, asked just before) and
 * launches_total the successful launches, at least the sum of their
 * launches. */
static void case_launch_metrics(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = launch_hello(c, "1.0.2", &r);
    rpb_json_doc status = {NULL, NULL};
    if (n && status_backend(c, &status, n->backend_pipe)) {
        const rpb_json_value *list = rpb_json_get(status.root, "backends");
        uint64_t ready = 0, launches = 0, v;
        for (const rpb_json_value *b = list->u.children.head; b; b = b->next) {
            const rpb_json_value *state = rpb_json_get(b, "state");
            if (rpb_json_get(b, "instance") && state && state->type == RPB_JSON_STRING &&
                rpb_slice_eq_cstr(state->u.string, "ready")) {
                ready++;
                launches += rpb_json_as_u64(rpb_json_get(b, "launches"), &v) ? v : 0;
            }
        }
        rpb_frame f;
        hreply m;
        admin_exchange(c, RPB_ADMIN_VERB_METRICS, false, &f, &m);
        double gauge = -1, total = -1;
        if (expect_response_frame(c, &m, RPB_PP_ADMIN, echo_of(&f)) && m.payload_err == RPB_OK) {
            if (!metric_value(m.admin.body, "running_process_broker_v1_launched_backends", &gauge) ||
                gauge != (double)ready)
                c_fail(c, "expected launched_backends %llu (the launched backends STATUS lists ready); observed %g",
                       (unsigned long long)ready, gauge);
            if (!metric_value(m.admin.body, "running_process_broker_v1_launches_total", &total) ||
                total < (double)launches)
                c_fail(c, "expected launches_total at least %llu (their launches); observed %g",
                       (unsigned long long)launches, total);
        }
        hr_free(&m);
    }
    rpb_json_doc_free(&status);
    hr_free(&r);
}

/* ADMIN-009, LAUNCH-013: BACKEND_HEALTH for zccache, with launched
 * backends running, lists that one service only. */
static void case_launch_health_filter(cctx *c)
{
    hreply r;
    rpb_json_doc doc = {NULL, NULL};
    if (launch_hello(c, "1.0.2", &r) && admin_json_for(c, RPB_ADMIN_VERB_BACKEND_HEALTH, FIXTURE_SVC_PINNED, &doc)) {
        const rpb_json_value *list = rpb_json_get(doc.root, "backends");
        const rpb_json_value *e = list && list->type == RPB_JSON_ARRAY ? list->u.children.head : NULL;
        const rpb_json_value *name = e ? rpb_json_get(e, "service_name") : NULL;
        if (!e || e->next || !name || name->type != RPB_JSON_STRING ||
            !rpb_slice_eq_cstr(name->u.string, FIXTURE_SVC_PINNED))
            c_fail(c, "expected BACKEND_HEALTH for %s to list that service alone beside launched backends of %s; "
                      "observed %zu entries",
                   FIXTURE_SVC_PINNED, FIXTURE_SVC_LAUNCH, list && list->type == RPB_JSON_ARRAY ? list->u.children.count : 0);
    }
    rpb_json_doc_free(&doc);
    hr_free(&r);
}

static const hcase rows[] = {
    ROW("broker/launch/negotiates", CORE, "LAUNCH-003 LAUNCH-004", "the first Hello for a launched service is Negotiated with a fresh -be- endpoint whose process answers the identity probe", case_launch_negotiates),
    ROW("broker/launch/reuse", CORE, "LAUNCH-004", "a second Hello gets the backend already running", case_launch_reuse),
    ROW("broker/launch/relaunch", CORE, "LAUNCH-009", "a backend killed between two Hellos is replaced: the second Hello gets a new endpoint and process", case_launch_relaunch),
    ROW("broker/launch/status", STRICT, "LAUNCH-013", "STATUS json lists the launched backend: its endpoint, the pid answering its probe, state ready, launches, budget", case_launch_status),
    ROW("broker/launch/status/own-entry", STRICT, "LAUNCH-013", "beside its launched backend, the launched service's own STATUS entry has state on-demand, pid 0, an empty backend_pipe", case_launch_status_own_entry),
    ROW("broker/launch/dump/spawn-budgets", STRICT, "LAUNCH-013", "DUMP spawn_budgets has a key for every launched backend STATUS lists: its instance, service, version, state ready, budget members", case_launch_dump_budgets),
    ROW("broker/launch/metrics", STRICT, "LAUNCH-013", "METRICS launched_backends counts the launched backends STATUS lists ready, launches_total at least their launches", case_launch_metrics),
    ROW("broker/launch/backend-health/filter", STRICT, "ADMIN-009 LAUNCH-013", "BACKEND_HEALTH (optional) for zccache lists that service alone while launched backends run", case_launch_health_filter),
    ROW("broker/launch/concurrent", STRICT, "LAUNCH-007", "8 Hellos sent together for a version not yet launched all get the one backend launched for them", case_launch_concurrent),
};

CASE_TABLE(cases_launch, rows);
