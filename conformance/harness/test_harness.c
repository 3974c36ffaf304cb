/*
 * test_harness.c - tests of rpb-conform itself, against the reference
 * broker: rpb-broker passes the strict tier with an empty expected-failure
 * list in under 10 s and the three reports hold every case, each with the
 * broker log lines of its own connections; the exit codes;
 * the expected-failure rules (a listed pass or an unknown id fails the run,
 * a listed failure does not); case selection; TAP; the checked-in fixture;
 * no stale backend socket left by the launch area.
 *
 * usage: test_harness RPB-CONFORM RPB-BROKER MUTANT-KEEPALIVE-NOT-ECHOED SOURCE-DIR
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "testrun.h"

static const char *conform_bin, *broker_bin, *mutant_bin, *source_dir;
static char tmp[256];

/* The --spawn command for broker binary bin with the fixture's settings. */
static void spawn_cmd(char *out, size_t cap, const char *bin)
{
    snprintf(out, cap, "%s --socket {socket} --launch {services} --rate-limit 500/10000 --handshake-timeout 1000"
             " --handoff-ack-timeout 1000 --handoff-failures 1000/1000",
             bin);
}

static bool has_line_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, n) == 0)
            return true;
    return false;
}

/* The daemon's connection numbers (" conn=N") of a case's peer_log_lines
 * as a bit set over 1..max; returns how many distinct ones. */
static size_t case_conns(const rpb_json_value *c, unsigned char *seen, size_t max, size_t *dups)
{
    const rpb_json_value *lines = rpb_json_get(c, "peer_log_lines");
    if (!lines || lines->type != RPB_JSON_STRING)
        return 0;
    size_t distinct = 0;
    static unsigned char mine[1 << 16];
    memset(mine, 0, sizeof mine);
    for (const char *p = strstr((const char *)lines->u.string.data, " conn="); p; p = strstr(p + 1, " conn=")) {
        size_t n = strtoul(p + 6, NULL, 10);
        if (n == 0 || n > max || mine[n])
            continue;
        mine[n] = 1;
        distinct++;
        *dups += seen[n];
        seen[n] = 1;
    }
    return distinct;
}

/* The report shows under each case the daemon's log lines of the
 * connections it made, found by the daemon's conn=N, wherever the daemon
 * wrote them: against rpb-broker and rpb-backend (one log line per
 * connection) every case
 * gets exactly as many connection numbers as it made connections, and no
 * number goes to two cases. */
static void check_case_log_lines(const rpb_json_value *report)
{
    static unsigned char seen[1 << 16];
    memset(seen, 0, sizeof seen);
    size_t dups = 0, wrong = 0;
    const rpb_json_value *cases = rpb_json_get(report, "cases");
    CU_ASSERT_FATAL(cases && cases->type == RPB_JSON_ARRAY);
    for (const rpb_json_value *c = cases->u.children.head; c; c = c->next) {
        uint64_t made = 0;
        rpb_json_as_u64(rpb_json_get(c, "connections"), &made);
        size_t got = case_conns(c, seen, sizeof seen - 1, &dups);
        if (got != made) {
            const rpb_json_value *id = rpb_json_get(c, "id");
            fprintf(stderr, "\n  %s: %llu connections, log lines of %zu\n",
                    id && id->type == RPB_JSON_STRING ? (const char *)id->u.string.data : "?",
                    (unsigned long long)made, got);
            wrong++;
        }
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(dups, 0);
}

/* The reference daemon of role (its --spawn command spawn, the options
 * extra[0..2) or none) passes the strict tier with its empty list
 * conformance/expect/rpb-ROLE.txt, and the reports hold every case. */
static void reference_strict(const char *role, char *spawn, char *const extra[2])
{
    char json[300], junit[300], html[300], expect[600];
    snprintf(json, sizeof json, "%s/ref-%s.json", tmp, role);
    snprintf(junit, sizeof junit, "%s/ref-%s.xml", tmp, role);
    snprintf(html, sizeof html, "%s/ref-%s.html", tmp, role);
    snprintf(expect, sizeof expect, "%s/conformance/expect/rpb-%s.txt", source_dir, role);
    char *argv[] = {(char *)conform_bin, (char *)role, "--tier", "strict", "--spawn", spawn, "--expect-fail", expect,
                    "--json", json, "--junit", junit, "--html", html, extra ? extra[0] : NULL,
                    extra ? extra[1] : NULL, NULL};
    sbuf out = SBUF_INIT;
    int rc = run_cmd(argv, &out);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", sb_str(&out));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&out), " passed, 0 failed, "));

    rpb_json_doc doc;
    CU_ASSERT_FATAL(read_report(json, &doc));
    const rpb_json_value *sum = rpb_json_get(doc.root, "summary");
    uint64_t failed = 99, passed = 0, skipped = 99, wall = 99999;
    rpb_json_as_u64(rpb_json_get(sum, "failed"), &failed);
    rpb_json_as_u64(rpb_json_get(sum, "passed"), &passed);
    rpb_json_as_u64(rpb_json_get(sum, "skipped"), &skipped);
    rpb_json_as_u64(rpb_json_get(doc.root, "wall_ms"), &wall);
    CU_ASSERT_EQUAL(failed, 0);
    /* only the foreign-uid case may skip, and only without root */
    CU_ASSERT(skipped == (geteuid() == 0 ? 0u : 1u));
    /* the wall time is reported, not asserted: timing belongs in benchmarks */
    printf("\n  reference %s run: %llu passed, %llu skipped in %llu ms\n", role, (unsigned long long)passed,
           (unsigned long long)skipped, (unsigned long long)wall);

    /* every case of --list appears in all three reports */
    char *lst[] = {(char *)conform_bin, (char *)role, "--list", "--tier", "strict", NULL};
    sbuf list = SBUF_INIT, h = SBUF_INIT, x = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(lst, &list), 0);
    CU_ASSERT(read_file(html, &h));
    CU_ASSERT(read_file(junit, &x));
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&h), "<!DOCTYPE html>"));
    CU_ASSERT_PTR_NULL(strstr(sb_str(&h), "<script src"));
    CU_ASSERT_PTR_NULL(strstr(sb_str(&h), "<link"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&x), "<testsuites"));
    /* the reports name the role: JSON role and peer_log, the JUnit suite,
     * the HTML title and the daemon's output */
    const rpb_json_value *jrole = rpb_json_get(doc.root, "role");
    CU_ASSERT(jrole && jrole->type == RPB_JSON_STRING && strcmp((const char *)jrole->u.string.data, role) == 0);
    const rpb_json_value *plog = rpb_json_get(doc.root, "peer_log");
    CU_ASSERT(plog && plog->type == RPB_JSON_STRING && plog->u.string.len > 0);
    char named[120];
    snprintf(named, sizeof named, "<testsuite name=\"rpb-conform %s strict\"", role);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&x), named));
    snprintf(named, sizeof named, "<title>rpb-conform %s report</title>", role);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&h), named));
    snprintf(named, sizeof named, "<h2>Output of the %s</h2>", role);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&h), named));
    size_t ids = 0, missing = 0;
    for (const char *p = sb_str(&list); *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = strcspn(p, " \n");
        if (strncmp(p, role, strlen(role)) == 0 && p[strlen(role)] == '/') {
            char id[200];
            snprintf(id, sizeof id, "%.*s", (int)n, p);
            char quoted[220];
            snprintf(quoted, sizeof quoted, "name=\"%s\"", id);
            ids++;
            if (!strstr(sb_str(&h), id) || !strstr(sb_str(&x), quoted) || !report_case(doc.root, id)) {
                fprintf(stderr, "\n  %s missing from a report\n", id);
                missing++;
            }
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    /* the count itself is pinned by conformance/README.md (test_readme_counts) */
    CU_ASSERT(ids > 0);
    CU_ASSERT_EQUAL(missing, 0);
    CU_ASSERT_EQUAL(ids, passed + skipped);
    check_case_log_lines(doc.root);
    rpb_json_doc_free(&doc);
    sb_free(&out);
    sb_free(&list);
    sb_free(&h);
    sb_free(&x);
}

static void test_reference_strict(void)
{
    char spawn[1024];
    spawn_cmd(spawn, sizeof spawn, broker_bin);
    reference_strict("broker", spawn, NULL);
}

/* rpb-backend beside rpb-broker in the build's bin directory. */
static void test_backend_strict(void)
{
    char spawn[1024];
    const char *slash = strrchr(broker_bin, '/');
    int dir = slash ? (int)(slash - broker_bin + 1) : 0;
    snprintf(spawn, sizeof spawn,
             "%.*srpb-backend --socket {socket} --identity-file {identity} --frame-timeout 1000 --echo-protocol 0xF412"
             " --handoff-socket {handoff} --handoff-timeout 1000",
             dir, broker_bin);
    char *extra[2] = {"--echo-protocol", "0xF412"};
    reference_strict("backend", spawn, extra);
}

static void test_exit_codes(void)
{
    char *none[] = {(char *)conform_bin, NULL};
    char *bogus[] = {(char *)conform_bin, "broker", "--bogus", NULL};
    char *both[] = {(char *)conform_bin, "broker", "--connect", "/x", "--spawn", "y {socket}", NULL};
    char *tier[] = {(char *)conform_bin, "broker", "--list", "--tier", "lenient", NULL};
    char *noconn[] = {(char *)conform_bin, "broker", "--connect", "/nonexistent/rpb.sock", "--attach-timeout", "100", NULL};
    char *dies[] = {(char *)conform_bin, "broker", "--spawn", "/bin/false {socket} {services}", "--attach-timeout",
                    "2000", NULL};
    char *help[] = {(char *)conform_bin, "--help", NULL};
    /* N/MS: no slash, and an MS that is valid only when cut after 64 bytes */
    char *rate[] = {(char *)conform_bin, "broker", "--list", "--rate-limit", "500", NULL};
    char *rate_long[] = {(char *)conform_bin, "broker", "--list", "--rate-limit",
                         "5/000000000000000000000000000000000000000000000000000000000001000x", NULL};
    CU_ASSERT_EQUAL(run_cmd(none, NULL), 2);
    CU_ASSERT_EQUAL(run_cmd(bogus, NULL), 2);
    CU_ASSERT_EQUAL(run_cmd(both, NULL), 2);
    CU_ASSERT_EQUAL(run_cmd(tier, NULL), 2);
    CU_ASSERT_EQUAL(run_cmd(rate, NULL), 2);
    CU_ASSERT_EQUAL(run_cmd(rate_long, NULL), 2);
    CU_ASSERT_EQUAL(run_cmd(noconn, NULL), 3);
    CU_ASSERT_EQUAL(run_cmd(dies, NULL), 3);
    /* 0/MS is "no limit", as rpb-broker reads it */
    char *rate_zero[] = {(char *)conform_bin, "broker", "--list", "--rate-limit", "0/1", NULL};
    CU_ASSERT_EQUAL(run_cmd(rate_zero, NULL), 0);
    /* a report path that cannot be written is a usage error before any
     * broker is started (the spawn command would fail the attach: 3) */
    char *unwritable[] = {(char *)conform_bin, "broker", "--spawn", "/bin/false {socket}", "--json",
                          "/nonexistent/report.json", NULL};
    sbuf uw = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(unwritable, &uw), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&uw), "cannot write the report /nonexistent/report.json"));
    sb_free(&uw);
    sbuf out = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(help, &out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&out), "--expect-fail"));
    sb_free(&out);
}

static void write_list(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* A listed case that passes is an unexpected pass: the run fails. */
static void test_expect_listed_pass(void)
{
    char spawn[1024], list[300], json[300];
    spawn_cmd(spawn, sizeof spawn, broker_bin);
    snprintf(list, sizeof list, "%s/list-pass.txt", tmp);
    snprintf(json, sizeof json, "%s/list-pass.json", tmp);
    write_list(list, "# cases expected to fail\n\nbroker/admin/healthz   # listed on purpose\n");
    char *argv[] = {(char *)conform_bin, "broker", "--spawn", spawn, "--only", "broker/admin/", "--expect-fail", list,
                    "--json", json, NULL};
    CU_ASSERT_EQUAL(run_cmd(argv, NULL), 1);
    rpb_json_doc doc;
    CU_ASSERT_FATAL(read_report(json, &doc));
    const rpb_json_value *e = report_case(doc.root, "broker/admin/healthz");
    CU_ASSERT(rpb_json_is_string(rpb_json_get(e, "status"), "unexpected-pass"));
    CU_ASSERT(rpb_json_is_string(rpb_json_get(e, "expect_fail_reason"), "listed on purpose"));
    rpb_json_doc_free(&doc);
}

/* An id that names no case, or a malformed line, is a usage error. */
static void test_expect_bad_list(void)
{
    char list[300];
    snprintf(list, sizeof list, "%s/list-bad.txt", tmp);
    char *argv[] = {(char *)conform_bin, "broker", "--list", "--expect-fail", list, NULL};
    write_list(list, "broker/no/such/case\n");
    CU_ASSERT_EQUAL(run_cmd(argv, NULL), 2);
    write_list(list, "broker/admin/healthz broker/admin/readyz\n");
    CU_ASSERT_EQUAL(run_cmd(argv, NULL), 2);
    write_list(list, "broker/admin/healthz\nbroker/admin/healthz\n");
    CU_ASSERT_EQUAL(run_cmd(argv, NULL), 2);
    write_list(list, "# only a comment\nbroker/admin/healthz # ok\n");
    CU_ASSERT_EQUAL(run_cmd(argv, NULL), 0);
    /* a line too long to read whole is refused, not read as two lines */
    char long_line[2100];
    snprintf(long_line, sizeof long_line, "broker/admin/healthz # %02000d\n", 0);
    write_list(list, long_line);
    sbuf out = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(argv, &out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&out), ":1: line longer than"));
    sb_free(&out);
}

/* A listed case that fails is expected: the run passes; unlisted, it fails.
 * Its own ctest entry (main): the mutant is not built without python3. */
static void test_expect_listed_failure(void)
{
    char spawn[1024], list[300], json[300];
    spawn_cmd(spawn, sizeof spawn, mutant_bin);
    snprintf(list, sizeof list, "%s/list-fail.txt", tmp);
    snprintf(json, sizeof json, "%s/list-fail.json", tmp);
    write_list(list, "broker/hello/negotiated/keepalive/echo # the broker under test ignores the client's value\n");
    /* the two rows of the keepalive-not-echoed mutant's catch line: the
     * keepalive range rows fail against it too */
#define KEEPALIVE_ROWS                                                                                        \
    "--only", "broker/hello/negotiated/keepalive/echo", "--only", "broker/hello/negotiated/keepalive/default"
    char *with[] = {(char *)conform_bin, "broker", "--spawn", spawn, KEEPALIVE_ROWS, "--expect-fail", list,
                    "--json", json, NULL};
    char written[300];
    snprintf(written, sizeof written, "%s/list-written.txt", tmp);
    char *without[] = {(char *)conform_bin, "broker", "--spawn", spawn, KEEPALIVE_ROWS, "--failing-list", written,
                       NULL};
    CU_ASSERT_EQUAL(run_cmd(with, NULL), 0);
    CU_ASSERT_EQUAL(run_cmd(without, NULL), 1);
    /* --failing-list writes a list that makes the same run pass */
    sbuf w = SBUF_INIT;
    CU_ASSERT(read_file(written, &w));
    CU_ASSERT(has_line_prefix(sb_str(&w), "broker/hello/negotiated/keepalive/echo  # expected keepalive_interval_secs 60"));
    CU_ASSERT(!has_line_prefix(sb_str(&w), "broker/hello/negotiated/keepalive/default"));
    sb_free(&w);
    char *again[] = {(char *)conform_bin, "broker", "--spawn", spawn, KEEPALIVE_ROWS, "--expect-fail", written, NULL};
#undef KEEPALIVE_ROWS
    CU_ASSERT_EQUAL(run_cmd(again, NULL), 0);
    rpb_json_doc doc;
    CU_ASSERT_FATAL(read_report(json, &doc));
    CU_ASSERT(rpb_json_is_string(rpb_json_get(report_case(doc.root, "broker/hello/negotiated/keepalive/echo"), "status"),
                                 "expected-fail"));
    CU_ASSERT(rpb_json_is_string(rpb_json_get(report_case(doc.root, "broker/hello/negotiated/keepalive/default"), "status"),
                                 "pass"));
    rpb_json_doc_free(&doc);
}

static size_t count_prefix_lines(const char *text, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    for (const char *p = text; *p;) {
        if (strncmp(p, prefix, len) == 0)
            n++;
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    return n;
}

static void test_selection(void)
{
    char *core[] = {(char *)conform_bin, "broker", "--list", NULL};
    char *strict[] = {(char *)conform_bin, "broker", "--list", "--tier", "strict", NULL};
    char *only[] = {(char *)conform_bin, "broker", "--list", "--only", "broker/admin/", NULL};
    char *skip[] = {(char *)conform_bin, "broker", "--list", "--tier", "strict", "--skip", "broker/hello/", "--skip",
                    "broker/malformed/", NULL};
    sbuf a = SBUF_INIT, b = SBUF_INIT, c = SBUF_INIT, d = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(core, &a), 0);
    CU_ASSERT_EQUAL(run_cmd(strict, &b), 0);
    CU_ASSERT_EQUAL(run_cmd(only, &c), 0);
    CU_ASSERT_EQUAL(run_cmd(skip, &d), 0);
    CU_ASSERT(strstr(sb_str(&a), " strict ") == NULL);
    CU_ASSERT(strstr(sb_str(&b), " strict ") != NULL);
    CU_ASSERT(count_prefix_lines(sb_str(&b), "broker/") > count_prefix_lines(sb_str(&a), "broker/"));
    CU_ASSERT_EQUAL(count_prefix_lines(sb_str(&c), "broker/"), count_prefix_lines(sb_str(&c), "broker/admin/"));
    CU_ASSERT(count_prefix_lines(sb_str(&c), "broker/admin/") >= 10);
    CU_ASSERT_EQUAL(count_prefix_lines(sb_str(&d), "broker/hello/"), 0);
    CU_ASSERT(count_prefix_lines(sb_str(&d), "broker/framing/") > 0);
    /* every listed case names requirement IDs */
    CU_ASSERT(has_line_prefix(sb_str(&b), "broker/framing/hello-cap/header-only"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&b), "FRAME-" "005")); /* split: not a citation */
    sb_free(&a);
    sb_free(&b);
    sb_free(&c);
    sb_free(&d);
}

static void test_tap(void)
{
    char spawn[1024];
    spawn_cmd(spawn, sizeof spawn, broker_bin);
    char *argv[] = {(char *)conform_bin, "broker", "--spawn", spawn, "--only", "broker/admin/", "--tap", NULL};
    sbuf out = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(argv, &out), 0);
    const char *s = sb_str(&out);
    CU_ASSERT(strncmp(s, "TAP version 13\n1..", 18) == 0);
    size_t plan = (size_t)strtoul(s + 18, NULL, 10);
    CU_ASSERT(plan >= 10);
    CU_ASSERT_EQUAL(count_prefix_lines(s, "ok "), plan);
    CU_ASSERT_EQUAL(count_prefix_lines(s, "not ok "), 0);
    sb_free(&out);
}

/* --connect: a broker started by hand with `rpb-conform fixture`; the
 * cases that need --spawn say so and skip. */
static void test_connect(void)
{
    char dir[300], sock[300], log[300];
    snprintf(dir, sizeof dir, "%s/services", tmp);
    snprintf(sock, sizeof sock, "%s/manual.sock", tmp);
    snprintf(log, sizeof log, "%s/manual.log", tmp);
    char *fix[] = {(char *)conform_bin, "fixture", dir, NULL};
    CU_ASSERT_EQUAL_FATAL(run_cmd(fix, NULL), 0);
    char *broker[] = {(char *)broker_bin, "--socket", sock, "--services", dir, "--rate-limit", "500/10000",
                      "--handshake-timeout", "1000", NULL};
    pid_t pid = run_start(broker, log);
    CU_ASSERT_FATAL(pid > 0);
    char json[300];
    snprintf(json, sizeof json, "%s/connect.json", tmp);
    char *argv[] = {(char *)conform_bin, "broker", "--connect", sock, "--tier", "strict", "--only", "broker/hello/policy/",
                    "--only", "broker/admin/", "--only", "broker/lifecycle/", "--only", "broker/security/services-dir",
                    "--json", json, NULL};
    sbuf out = SBUF_INIT;
    int rc = run_cmd(argv, &out);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", sb_str(&out));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&out), " passed, 0 failed, 2 skipped"));
    rpb_json_doc doc;
    if (read_report(json, &doc)) {
        const rpb_json_value *e = report_case(doc.root, "broker/lifecycle/drain");
        CU_ASSERT(rpb_json_is_string(rpb_json_get(e, "status"), "skip"));
        CU_ASSERT_PTR_NOT_NULL(rpb_json_get(e, "skip_reason"));
        rpb_json_doc_free(&doc);
    }
    kill(pid, SIGTERM);
    CU_ASSERT_EQUAL(run_wait(pid), 0);
    sb_free(&out);
    char path[400];
    for (const char *const *n = (const char *const[]){"zccache.servicedef", "conform-open.servicedef", NULL}; *n; n++) {
        snprintf(path, sizeof path, "%s/%s", dir, *n);
        unlink(path);
    }
    rmdir(dir);
}

/* The launch area leaves nothing in the canonical directory, where the
 * broker puts launched backends' sockets (LAUNCH-003): relaunch kills a
 * backend, whose socket the harness then removes, and the broker stops the
 * other.  XDG_RUNTIME_DIR is a private one for the run (NAME-004). */
static void test_launch_leaves_nothing(void)
{
    /* short: a backend's socket path there must stay under 108 bytes */
    char run[] = "/tmp/rpbx-XXXXXX", canon[64], spawn[600];
    char *old = getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(run));
    snprintf(canon, sizeof canon, "%s/running-process/broker", run);
    setenv("XDG_RUNTIME_DIR", run, 1);
    spawn_cmd(spawn, sizeof spawn, broker_bin);
    char *argv[] = {(char *)conform_bin, "broker", "--spawn", spawn, "--only", "broker/launch/", NULL};
    sbuf out = SBUF_INIT;
    int rc = run_cmd(argv, &out);
    if (old)
        setenv("XDG_RUNTIME_DIR", old, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    free(old);
    if (rc != 0)
        fprintf(stderr, "\n%s\n", sb_str(&out));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(sb_str(&out), "3 passed, 0 failed, 0 skipped"));
    sb_free(&out);
    DIR *d = opendir(canon);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        fprintf(stderr, "\nleft in %s: %s\n", canon, e->d_name);
        CU_FAIL("the launch area left a file in the canonical directory");
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    rmdir(canon);
    snprintf(canon, sizeof canon, "%s/running-process", run);
    rmdir(canon);
    rmdir(run);
}

/* conformance/fixture/ holds exactly what `rpb-conform fixture` writes. */
static void test_fixture_checked_in(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/fixture", tmp);
    char *argv[] = {(char *)conform_bin, "fixture", dir, NULL};
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, NULL), 0);
    static const char *const names[] = {"zccache.servicedef", "conform-open.servicedef"};
    for (size_t i = 0; i < 2; i++) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/%s", dir, names[i]);
        snprintf(b, sizeof b, "%s/conformance/fixture/%s", source_dir, names[i]);
        sbuf x = SBUF_INIT, y = SBUF_INIT;
        CU_ASSERT(read_file(a, &x));
        CU_ASSERT(read_file(b, &y));
        CU_ASSERT(x.len > 0 && x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
        unlink(a);
        sb_free(&x);
        sb_free(&y);
    }
    rmdir(dir);
}

static const char *next_line(const char *p)
{
    const char *nl = p ? strchr(p, '\n') : NULL;
    return nl ? nl + 1 : NULL;
}

/* The case counts of role in conformance/README.md (the number after
 * runs_marker and the per-area table under table_header) are those of
 * `--list`. */
static void readme_counts(const char *role, const char *runs_marker, const char *table_header)
{
    char path[600];
    snprintf(path, sizeof path, "%s/conformance/README.md", source_dir);
    sbuf readme = SBUF_INIT, list = SBUF_INIT;
    CU_ASSERT_FATAL(read_file(path, &readme));
    char *argv[] = {(char *)conform_bin, (char *)role, "--list", "--tier", "strict", NULL};
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, &list), 0);
    char role_prefix[32];
    snprintf(role_prefix, sizeof role_prefix, "%s/", role);
    size_t total = count_prefix_lines(sb_str(&list), role_prefix), summed = 0;
    const char *rs = sb_str(&readme);
    const char *runs = strstr(rs, runs_marker);
    CU_ASSERT_FATAL(runs != NULL);
    CU_ASSERT_EQUAL(strtoul(runs + strlen(runs_marker), NULL, 10), total);
    const char *t = strstr(rs, table_header);
    CU_ASSERT_FATAL(t != NULL);
    /* after the |---| line, each row: | `a`, `b` | what | N | */
    for (const char *row = next_line(next_line(t)); row && strncmp(row, "| `", 3) == 0; row = next_line(row)) {
        const char *end = strchr(row, '\n');
        const char *last = end - 1;
        while (last > row && *last != '|')
            last--;
        const char *num = last - 1;
        while (num > row && num[-1] != '|')
            num--;
        unsigned long want = strtoul(num, NULL, 10);
        size_t got = 0;
        const char *cell_end = strchr(row + 1, '|');
        for (const char *q = strchr(row, '`'); q && q < cell_end; q = strchr(strchr(q + 1, '`') + 1, '`')) {
            char prefix[80];
            int n = (int)(strchr(q + 1, '`') - q - 1);
            snprintf(prefix, sizeof prefix, "%s%.*s/", role_prefix, n, q + 1);
            got += count_prefix_lines(sb_str(&list), prefix);
        }
        if (got != want)
            fprintf(stderr, "\n  README row %.*s: %lu cases, --list has %zu\n", (int)(cell_end - row), row, want, got);
        CU_ASSERT_EQUAL(got, want);
        summed += got;
    }
    CU_ASSERT_EQUAL(summed, total);
    sb_free(&readme);
    sb_free(&list);
}

static void test_readme_counts(void)
{
    readme_counts("broker", "runs ", "| area | what | cases |");
    readme_counts("backend", "the backend suite runs ", "| backend area | what | cases |");
}

/* Issue 14 acceptance: against a broker limiting at 20 Hellos per 10 s the
 * rate-limit case fails at Hello 21; the JSON report holds that exchange
 * (its reply bytes) although it is past the first connections, says how
 * many were left out, and the failure names the --rate-limit that fits. */
static void test_rate_limit_hint(void)
{
    char spawn[1024], json[300];
    snprintf(spawn, sizeof spawn,
             "%s --socket {socket} --launch {services} --rate-limit 20/10000 --handshake-timeout 1000", broker_bin);
    snprintf(json, sizeof json, "%s/rate.json", tmp);
    char *argv[] = {(char *)conform_bin, "broker", "--spawn", spawn, "--only", "broker/hello/rate-limit/exceeded",
                    "--json", json, NULL};
    CU_ASSERT_EQUAL(run_cmd(argv, NULL), 1);
    rpb_json_doc doc;
    CU_ASSERT_FATAL(read_report(json, &doc));
    const rpb_json_value *c = report_case(doc.root, "broker/hello/rate-limit/exceeded");
    CU_ASSERT_FATAL(c != NULL);
    const char *failure = report_first_failure(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(failure, "Hello 21: Refused{code ERROR_RATE_LIMITED"));
    CU_ASSERT_PTR_NOT_NULL(strstr(failure, "pass --rate-limit 20/"));
    uint64_t total = 0, left_out = 0;
    rpb_json_as_u64(rpb_json_get(c, "connections"), &total);
    rpb_json_as_u64(rpb_json_get(c, "connections_left_out"), &left_out);
    CU_ASSERT_EQUAL(total, 21);
    CU_ASSERT_EQUAL(left_out, 21 - 5); /* the first four and the 21st are shown */
    bool refused_shown = false;
    const rpb_json_value *ex = rpb_json_get(c, "exchanges");
    CU_ASSERT_FATAL(ex != NULL && ex->type == RPB_JSON_ARRAY);
    for (const rpb_json_value *x = ex->u.children.head; x; x = x->next) {
        uint64_t n = 0, received = 0;
        rpb_json_as_u64(rpb_json_get(x, "connection"), &n);
        rpb_json_as_u64(rpb_json_get(x, "received_bytes"), &received);
        const rpb_json_value *hex = rpb_json_get(x, "received_hex");
        if (n == 21 && received > 0 && hex && hex->type == RPB_JSON_STRING && hex->u.string.len == 2 * received)
            refused_shown = true;
    }
    CU_ASSERT(refused_shown);
    rpb_json_doc_free(&doc);
}

/* Issue 14 acceptance: a broker serving an empty services directory stops
 * the run before the suite with one message naming the fixture service,
 * exit 3. */
static void test_preflight(void)
{
    char empty[300], spawn[1024];
    snprintf(empty, sizeof empty, "%s/empty-services", tmp);
    CU_ASSERT_FATAL(mkdir(empty, 0700) == 0);
    snprintf(spawn, sizeof spawn, "%s --socket {socket} --services %s --rate-limit 500/10000 --handshake-timeout 1000",
             broker_bin, empty);
    char *argv[] = {(char *)conform_bin, "broker", "--spawn", spawn, NULL};
    sbuf out = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(argv, &out), 3);
    const char *msg = "rpb-conform: the broker does not serve fixture service zccache 1.11.20: load the files "
                      "written by `rpb-conform fixture DIR`";
    const char *at = strstr(sb_str(&out), msg);
    CU_ASSERT_PTR_NOT_NULL(at);
    CU_ASSERT(at && strstr(at + strlen(msg), "does not serve") == NULL);
    CU_ASSERT_EQUAL(count_prefix_lines(sb_str(&out), "FAIL "), 0);
    sb_free(&out);
    rmdir(empty);
}

int main(int argc, char **argv)
{
    /* with the id expect-listed-failure: that test alone, exit 77 (ctest's
     * SKIP_RETURN_CODE) when the mutant broker it needs is not built */
    bool alone = argc == 6 && strcmp(argv[5], "expect-listed-failure") == 0;
    if (argc != 5 && !alone) {
        fprintf(stderr, "usage: test_harness RPB-CONFORM RPB-BROKER MUTANT-KEEPALIVE-NOT-ECHOED SOURCE-DIR "
                        "[expect-listed-failure]\n");
        return 2;
    }
    conform_bin = argv[1];
    broker_bin = argv[2];
    mutant_bin = argv[3];
    source_dir = argv[4];
    if (alone && access(mutant_bin, X_OK) != 0) {
        printf("SKIPPED: the mutant broker %s is not built (conformance/mutants needs python3)\n", mutant_bin);
        return 77;
    }
    if (!make_temp_dir(tmp, sizeof tmp)) {
        perror("mkdtemp");
        return 2;
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("rpb-conform", NULL, NULL);
    if (alone) {
        CU_add_test(s, "a listed failure is expected, unlisted it fails the run", test_expect_listed_failure);
        return cunit_run(tmp);
    }
    CU_add_test(s, "rpb-broker passes strict with an empty expect-fail list, reports hold every case",
                test_reference_strict);
    CU_add_test(s, "rpb-backend passes strict with an empty expect-fail list, reports hold every case",
                test_backend_strict);
    CU_add_test(s, "exit codes 0/2/3", test_exit_codes);
    CU_add_test(s, "a listed case that passes fails the run", test_expect_listed_pass);
    CU_add_test(s, "malformed expect-fail lists are usage errors", test_expect_bad_list);
    CU_add_test(s, "--tier, --only, --skip, --list", test_selection);
    CU_add_test(s, "--tap", test_tap);
    CU_add_test(s, "--connect to a broker set up by hand; --spawn-only cases skip", test_connect);
    CU_add_test(s, "the launch area leaves nothing in the canonical directory", test_launch_leaves_nothing);
    CU_add_test(s, "conformance/fixture matches `rpb-conform fixture`", test_fixture_checked_in);
    CU_add_test(s, "the case counts in conformance/README.md are those of --list", test_readme_counts);
    CU_add_test(s, "a lower broker rate limit: the refused Hello and a --rate-limit hint in the JSON", test_rate_limit_hint);
    CU_add_test(s, "a broker without the fixture: one preflight message, exit 3", test_preflight);
    return cunit_run(tmp);
}
