/*
 * test_launch_it.c - backends launched on demand (spec/discovery.md §3)
 * with real processes: rpb-broker --launch starting rpb-backend for
 * rpb-client Hellos.
 *
 * usage: test_launch_it RPB_BROKER RPB_CLIENT
 *
 * rpb-backend is taken from RPB_BROKER's directory, which is also the
 * per_version_binary_dir of the definitions.  Every case has its own
 * directory, services and broker under one private temporary root, whose
 * run/ is XDG_RUNTIME_DIR (the backends' canonical directory).  Waits are
 * on events: the broker's log lines, a process's exit through its pidfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

#define CONCURRENT 20

static const char *broker_bin, *client_bin;
static char backend_bin[PATH_MAX + 16], bin_dir[PATH_MAX];
static char root[64];
static int case_no;

/* One case: its directory, definitions, broker and log. */
typedef struct lcase {
    char base[96], svc[128], sock[128], log[128];
    pid_t broker;
    tu_tail tail;
} lcase;

/* Writes the definition of service name into c's services directory: the
 * backend binary, per-version directory dir and arg lines (NULL-ended). */
static void define(const lcase *c, const char *name, const char *binary, const char *dir, ...)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.service", c->svc, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "binary_path = %s\nper_version_binary_dir = %s\n", binary, dir);
    va_list ap;
    va_start(ap, dir);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        fprintf(f, "arg = %s\n", a);
    va_end(ap);
    fclose(f);
}

static void new_case(lcase *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->base, sizeof c->base, "%s/%d", root, ++case_no);
    snprintf(c->svc, sizeof c->svc, "%s/svc", c->base);
    snprintf(c->sock, sizeof c->sock, "%s/b.sock", c->base);
    snprintf(c->log, sizeof c->log, "%s/broker.log", c->base);
    CU_ASSERT_FATAL(mkdir(c->base, 0700) == 0 && mkdir(c->svc, 0700) == 0);
}

/* Starts the broker of c with up to two more options and their values
 * (NULL-ended pairs) and waits for its "listening" line.  Its readiness
 * wait and handshake deadline are generous unless a case sets them: a
 * loaded machine (sanitizers, parallel builds) may take seconds to start
 * a backend, and only the cases about the bound may depend on it. */
static bool start_broker(lcase *c, ...)
{
    const char *argv[20] = {broker_bin, "--socket", c->sock, "--launch", c->svc, "--log", c->log,
                            "--launch-timeout", "30000", "--handshake-timeout", "60000"};
    size_t n = 11;
    va_list ap;
    va_start(ap, c);
    for (const char *o; n < 15 && (o = va_arg(ap, const char *)) != NULL;) {
        argv[n++] = o;
        argv[n++] = va_arg(ap, const char *);
    }
    va_end(ap);
    if (!tu_tail_open(&c->tail, c->log))
        return false;
    c->broker = fork();
    if (c->broker == 0) {
        execv(broker_bin, (char *const *)argv);
        _exit(127);
    }
    return tu_tail_wait(&c->tail, "listening on", NULL, 10000);
}

/* SIGTERM, then the broker's exit status (-1 when it hung). */
static int stop_broker(lcase *c)
{
    kill(c->broker, SIGTERM);
    int st = tu_wait_exit(c->broker, 20000);
    tu_tail_close(&c->tail);
    return st;
}

/* One Hello for service/1.0.0 with rpb-client; its exit status, its
 * output in out. */
static int hello(const lcase *c, const char *service, char *out, size_t cap)
{
    const char *argv[] = {client_bin, "--socket", c->sock, "--service", service, "--wanted-version", "1.0.0",
                          "--timeout", "10000", NULL};
    return tu_run_capture(argv, out, cap, 30000);
}

/* The value after "key: " in rpb-client's output, into v. */
static bool field(const char *out, const char *key, char *v, size_t cap)
{
    char k[64];
    snprintf(k, sizeof k, "%s: ", key);
    const char *p = strstr(out, k);
    if (p == NULL)
        return false;
    p += strlen(k);
    size_t n = strcspn(p, "\n");
    snprintf(v, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    return true;
}

/* The pid that answers the identity probe at endpoint, verified (pidfd),
 * with its exe_path in exe; 0 when the probe fails. */
static int32_t probe_pid(const char *endpoint, char *exe, size_t cap)
{
    rpb_endpoint ep = {rpb_slice_cstr("shared"), rpb_slice_cstr(endpoint)};
    rpb_probe_outcome o;
    memset(&o, 0, sizeof o);
    int rc = rpb_probe_endpoint(&ep, NULL, 2000, RPB_PROBE_VERIFY, &o, NULL);
    int32_t pid = 0;
    if (rc == RPB_OK) {
        pid = (int32_t)o.reply.identity.pid;
        if (exe)
            snprintf(exe, cap, "%.*s", (int)o.reply.identity.exe_path.len,
                     (const char *)o.reply.identity.exe_path.data);
    } else {
        fprintf(stderr, "\n    probe of %s: %s ", endpoint, rpb_errname(rc));
    }
    rpb_probe_outcome_free(&o);
    return pid;
}

/* The JSON body of admin verb (rpb-client --admin VERB --json), parsed
 * into doc; false when the request or the parse fails. */
static bool admin_doc(const lcase *c, const char *verb, rpb_json_doc *doc)
{
    const char *argv[] = {client_bin, "--socket", c->sock, "--admin", verb, "--json", NULL};
    static char out[65536];
    return tu_run_capture(argv, out, sizeof out, 30000) == 0 &&
           rpb_json_parse(out, strlen(out), doc, NULL) == RPB_OK;
}

/* STATUS json's integer member name (UINT64_MAX when missing). */
static uint64_t status_count(const lcase *c, const char *name)
{
    rpb_json_doc doc;
    uint64_t v = UINT64_MAX;
    if (admin_doc(c, "status", &doc)) {
        if (!rpb_json_as_u64(rpb_json_get(doc.root, name), &v))
            v = UINT64_MAX;
        rpb_json_doc_free(&doc);
    }
    return v;
}

/* The string member name of object o equals want. */
static bool member_is(const rpb_json_value *o, const char *name, const char *want)
{
    const rpb_json_value *m = o ? rpb_json_get(o, name) : NULL;
    return m && m->type == RPB_JSON_STRING && rpb_slice_eq_cstr(m->u.string, want);
}

/* The integer member name of object o (UINT64_MAX when missing). */
static uint64_t member_u64(const rpb_json_value *o, const char *name)
{
    uint64_t v;
    return o && rpb_json_as_u64(rpb_json_get(o, name), &v) ? v : UINT64_MAX;
}

/* The element of the array member list of doc whose string member key is
 * value, or NULL. */
static const rpb_json_value *find_entry(const rpb_json_doc *doc, const char *list, const char *key,
                                        const char *value)
{
    const rpb_json_value *a = rpb_json_get(doc->root, list);
    for (const rpb_json_value *e = a && a->type == RPB_JSON_ARRAY ? a->u.children.head : NULL; e; e = e->next)
        if (e->type == RPB_JSON_OBJECT && member_is(e, key, value))
            return e;
    return NULL;
}

/* How many times needle occurs in the file at path (its first 64 KiB). */
static size_t count(const char *path, const char *needle)
{
    static char buf[65536];
    tu_read_text(path, buf, sizeof buf);
    return tu_count(buf, needle);
}

static bool pid_gone(pid_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

/* LAUNCH-002, LAUNCH-003, LAUNCH-004: the first Hello starts the backend
 * with the launch environment on a fresh -be- endpoint and is Negotiated
 * with it once it answers the probe as the launched binary; the second
 * Hello reuses it.  LAUNCH-012: the broker's stop ends the backend. */
static void test_launch_and_reuse(void)
{
    lcase c;
    new_case(&c);
    char blog[160];
    snprintf(blog, sizeof blog, "%s/backend.log", c.base);
    define(&c, "echo", backend_bin, bin_dir, "--echo-protocol", "0x7001", "--log", blog, NULL);
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    char out[4096], pipe1[256] = "", pipe2[256] = "";
    CU_ASSERT_EQUAL(hello(&c, "echo", out, sizeof out), 0);
    CU_ASSERT(field(out, "backend_pipe", pipe1, sizeof pipe1));
    /* LAUNCH-003: <XDG_RUNTIME_DIR>/running-process/broker/rpb-v1-<h>-be-<32 hex>.sock */
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/run/running-process/broker/rpb-v1-", root);
    CU_ASSERT_EQUAL(strncmp(pipe1, prefix, strlen(prefix)), 0);
    const char *be = strstr(pipe1, "-be-");
    CU_ASSERT_FATAL(be != NULL);
    CU_ASSERT_EQUAL(strspn(be + 4, "0123456789abcdef"), 32);
    CU_ASSERT_STRING_EQUAL(be + 36, ".sock");
    /* LAUNCH-004: the endpoint is served by the launched binary */
    char exe[PATH_MAX];
    int32_t pid = probe_pid(pipe1, exe, sizeof exe);
    CU_ASSERT(pid > 0);
    CU_ASSERT_STRING_EQUAL(exe, backend_bin);
    /* LAUNCH-002: what the backend found in its environment */
    CU_ASSERT_EQUAL(count(blog, "launched_service=echo launched_version=1.0.0 launched_instance=shared"), 1);
    CU_ASSERT_EQUAL(count(blog, "namespace=shared"), 1);
    CU_ASSERT_EQUAL(hello(&c, "echo", out, sizeof out), 0);
    CU_ASSERT(field(out, "backend_pipe", pipe2, sizeof pipe2));
    CU_ASSERT_STRING_EQUAL(pipe1, pipe2);
    CU_ASSERT_EQUAL(count(c.log, "launch service=echo"), 1);
    /* LAUNCH-013: STATUS lists the launched backend beside the definition,
     * DUMP its budget; LAUNCH-014: both Hellos were answered Negotiated */
    rpb_json_doc doc;
    CU_ASSERT_FATAL(admin_doc(&c, "status", &doc));
    const rpb_json_value *e = find_entry(&doc, "backends", "backend_pipe", pipe1);
    CU_ASSERT(member_is(e, "service_name", "echo") && member_is(e, "service_version", "1.0.0"));
    CU_ASSERT(member_is(e, "state", "ready") && member_is(e, "instance", "shared"));
    CU_ASSERT_EQUAL(member_u64(e, "pid"), (uint64_t)pid);
    CU_ASSERT_EQUAL(member_u64(e, "launches"), 1);
    CU_ASSERT_EQUAL(member_u64(e, "spawn_budget_remaining"), 3); /* a success resets it (LAUNCH-006) */
    CU_ASSERT(member_is(find_entry(&doc, "backends", "state", "on-demand"), "service_name", "echo"));
    CU_ASSERT_EQUAL(member_u64(doc.root, "hellos_negotiated"), 2);
    CU_ASSERT_EQUAL(member_u64(doc.root, "hellos_refused"), 0);
    rpb_json_doc_free(&doc);
    CU_ASSERT_FATAL(admin_doc(&c, "dump", &doc));
    e = find_entry(&doc, "spawn_budgets", "service_name", "echo");
    CU_ASSERT(member_is(e, "service_version", "1.0.0") && member_is(e, "state", "ready"));
    CU_ASSERT_EQUAL(member_u64(e, "spawn_budget_remaining"), 3);
    CU_ASSERT(find_entry(&doc, "backend_table", "backend_pipe", pipe1) != NULL);
    rpb_json_doc_free(&doc);
    /* LAUNCH-012 */
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
    CU_ASSERT(pid > 0 && pid_gone(pid));
    CU_ASSERT_EQUAL(access(pipe1, F_OK), -1); /* the backend removed its socket */
}

/* LAUNCH-009: a backend killed between two Hellos is noticed through its
 * pidfd; the next Hello launches a new one, with a new endpoint and
 * identity.  LAUNCH-015: the backends' output goes to their log file. */
static void test_killed_backend_relaunched(void)
{
    lcase c;
    new_case(&c);
    define(&c, "echo", backend_bin, bin_dir, NULL);
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    char out[4096], pipe1[256] = "", pipe2[256] = "";
    CU_ASSERT_EQUAL(hello(&c, "echo", out, sizeof out), 0);
    CU_ASSERT(field(out, "backend_pipe", pipe1, sizeof pipe1));
    int32_t pid1 = probe_pid(pipe1, NULL, 0);
    CU_ASSERT_FATAL(pid1 > 0);
    kill(pid1, SIGKILL);
    CU_ASSERT(tu_tail_wait(&c.tail, "backend-exited", "signal 9", 10000));
    CU_ASSERT_EQUAL(hello(&c, "echo", out, sizeof out), 0);
    CU_ASSERT(field(out, "backend_pipe", pipe2, sizeof pipe2));
    CU_ASSERT_STRING_NOT_EQUAL(pipe1, pipe2);
    int32_t pid2 = probe_pid(pipe2, NULL, 0);
    CU_ASSERT(pid2 > 0 && pid2 != pid1);
    CU_ASSERT_EQUAL(count(c.log, "launched service=echo"), 2);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
    /* LAUNCH-015: both backends wrote their output (here the log rpb-backend
     * writes to stderr) to their key's file beside the broker's log */
    char blog[192];
    snprintf(blog, sizeof blog, "%s/broker-echo-1.0.0.log", c.base);
    CU_ASSERT_EQUAL(count(blog, "rpb-backend: ready "), 2);
    CU_ASSERT_EQUAL(count(c.log, "rpb-backend:"), 0);
    struct stat st;
    CU_ASSERT(stat(blog, &st) == 0 && (st.st_mode & 0777) == 0600);
}

/* LAUNCH-006: a backend that exits at once fails each launch
 * (BACKEND_SPAWN_FAILED, retry 1000); after three attempts the budget is
 * used up (RATE_LIMITED "backend spawn budget exhausted", the rest of the
 * 30 s window) and nothing more is started. */
static void test_budget_exhausted(void)
{
    lcase c;
    new_case(&c);
    define(&c, "broken", backend_bin, bin_dir, "--no-such-option", NULL);
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    char out[4096], v[128];
    /* the window starts at the first attempt, between t0 and t1 (the
     * broker's clock is CLOCK_MONOTONIC, as rpb_monotonic_ms) */
    int64_t t0 = rpb_monotonic_ms(), t1 = 0;
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(hello(&c, "broken", out, sizeof out), 10 + RPB_CODE_BACKEND_SPAWN_FAILED);
        if (i == 0)
            t1 = rpb_monotonic_ms();
        CU_ASSERT(field(out, "reason", v, sizeof v) && strcmp(v, "backend spawn failed") == 0);
        CU_ASSERT(field(out, "retry_after_ms", v, sizeof v) && strcmp(v, "1000") == 0);
    }
    /* upstream's answer to a used-up budget: RATE_LIMITED, not
     * BACKEND_SPAWN_FAILED, and the rest of the window, not 1000 */
    for (int i = 0; i < 2; i++) {
        int64_t t2 = rpb_monotonic_ms();
        CU_ASSERT_EQUAL(hello(&c, "broken", out, sizeof out), 10 + RPB_CODE_RATE_LIMITED);
        int64_t t3 = rpb_monotonic_ms();
        CU_ASSERT(field(out, "reason", v, sizeof v) && strcmp(v, "backend spawn budget exhausted") == 0);
        CU_ASSERT(field(out, "retry_after_ms", v, sizeof v));
        long retry = atol(v);
        /* window start + 30000 - refusal time, the refusal between t2 and t3 */
        CU_ASSERT(retry >= 1 && retry >= t0 + 30000 - t3 && retry <= t1 + 30000 - t2);
    }
    CU_ASSERT_EQUAL(count(c.log, "launch service=broken"), 3);
    /* LAUNCH-014: no Negotiated was sent; every Hello counts as refused */
    CU_ASSERT_EQUAL(status_count(&c, "hellos_negotiated"), 0);
    CU_ASSERT_EQUAL(status_count(&c, "hellos_refused"), 5);
    rpb_json_doc doc;
    CU_ASSERT_FATAL(admin_doc(&c, "dump", &doc));
    const rpb_json_value *b = find_entry(&doc, "spawn_budgets", "service_name", "broken");
    CU_ASSERT(member_is(b, "state", "idle"));
    CU_ASSERT_EQUAL(member_u64(b, "spawn_budget_remaining"), 0);
    uint64_t resets = member_u64(b, "spawn_budget_resets_in_ms");
    CU_ASSERT(resets >= 1 && resets <= 30000);
    rpb_json_doc_free(&doc);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* LAUNCH-001: a binary outside per_version_binary_dir, including one that
 * a symlink inside the directory points to, is refused and never run. */
static void test_outside_dir_refused(void)
{
    lcase c;
    new_case(&c);
    char linkdir[160], link[192];
    snprintf(linkdir, sizeof linkdir, "%s/bin", c.base);
    snprintf(link, sizeof link, "%s/rpb-backend", linkdir);
    CU_ASSERT_FATAL(mkdir(linkdir, 0700) == 0 && symlink(backend_bin, link) == 0);
    define(&c, "outside", "/bin/sh", bin_dir, NULL);
    define(&c, "escape", link, linkdir, NULL);
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    char out[4096], v[128];
    CU_ASSERT_EQUAL(hello(&c, "outside", out, sizeof out), 10 + RPB_CODE_BACKEND_SPAWN_FAILED);
    CU_ASSERT(field(out, "retry_after_ms", v, sizeof v) && strcmp(v, "1000") == 0);
    CU_ASSERT_EQUAL(hello(&c, "escape", out, sizeof out), 10 + RPB_CODE_BACKEND_SPAWN_FAILED);
    CU_ASSERT_EQUAL(count(c.log, "launch-failed"), 2);
    CU_ASSERT_EQUAL(count(c.log, "per_version_binary_dir"), 2);
    CU_ASSERT_EQUAL(count(c.log, "launch service="), 0);
    /* LAUNCH-014: decided Negotiated, answered spawn-failed: refused */
    CU_ASSERT_EQUAL(status_count(&c, "hellos_negotiated"), 0);
    CU_ASSERT_EQUAL(status_count(&c, "hellos_refused"), 2);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* LAUNCH-005: a backend that binds its socket 300 ms after it started is
 * used (upstream's single immediate probe fails it). */
static void test_slow_bind(void)
{
    lcase c;
    new_case(&c);
    define(&c, "slow", backend_bin, bin_dir, "--bind-delay", "300", NULL);
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    char out[4096], pipe1[256] = "";
    CU_ASSERT_EQUAL(hello(&c, "slow", out, sizeof out), 0);
    CU_ASSERT(field(out, "backend_pipe", pipe1, sizeof pipe1));
    CU_ASSERT(probe_pid(pipe1, NULL, 0) > 0);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* LAUNCH-005: a backend that does not bind within the readiness wait
 * fails the launch (and is killed): the wait is bounded. */
static void test_readiness_bounded(void)
{
    lcase c;
    new_case(&c);
    define(&c, "hung", backend_bin, bin_dir, "--bind-delay", "600000", NULL);
    CU_ASSERT_FATAL(start_broker(&c, "--launch-timeout", "300", NULL));
    char out[4096];
    CU_ASSERT_EQUAL(hello(&c, "hung", out, sizeof out), 10 + RPB_CODE_BACKEND_SPAWN_FAILED);
    CU_ASSERT_EQUAL(count(c.log, "readiness wait"), 1);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* LAUNCH-005, RDV-002: with the canonical directory not there yet, the
 * broker creates it (0700, with its parent) before the child starts and
 * waits for the endpoint through its watch of it, not by polling; the
 * backend that binds late is used. */
static void test_canonical_dir_created_and_watched(void)
{
    lcase c;
    new_case(&c);
    char run[128], dir[192];
    snprintf(run, sizeof run, "%s/r%d", root, case_no); /* as short as run/: NAME-005 */
    snprintf(dir, sizeof dir, "%s/running-process/broker", run);
    CU_ASSERT_FATAL(mkdir(run, 0700) == 0);
    define(&c, "slow", backend_bin, bin_dir, "--bind-delay", "300", NULL);
    char *saved = strdup(getenv("XDG_RUNTIME_DIR"));
    setenv("XDG_RUNTIME_DIR", run, 1); /* the broker's; NAME-004 */
    bool started = start_broker(&c, NULL);
    setenv("XDG_RUNTIME_DIR", saved, 1);
    free(saved);
    CU_ASSERT_FATAL(started);
    struct stat st;
    CU_ASSERT_EQUAL(lstat(dir, &st), -1);
    char out[4096], pipe[256] = "";
    CU_ASSERT_EQUAL(hello(&c, "slow", out, sizeof out), 0);
    CU_ASSERT(field(out, "backend_pipe", pipe, sizeof pipe));
    CU_ASSERT_EQUAL(strncmp(pipe, dir, strlen(dir)), 0);
    CU_ASSERT(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    CU_ASSERT_EQUAL(count(c.log, "launch service=slow"), 1);
    CU_ASSERT_EQUAL(count(c.log, "ready_wait=inotify"), 2); /* the launch and launched lines */
    CU_ASSERT_EQUAL(count(c.log, "ready_wait=poll"), 0);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* LAUNCH-015: a backend log file that cannot be opened fails the launch
 * (LAUNCH-006) with a reason naming the file, before any child runs.
 * HELLO-036: the refused Hello takes no connection_id, so the ids of the
 * Negotiated that follow are 1 and 2. */
static void test_log_open_failure_and_dense_ids(void)
{
    lcase c;
    new_case(&c);
    define(&c, "nolog", backend_bin, bin_dir, NULL);
    define(&c, "echo", backend_bin, bin_dir, NULL);
    char blog[192];
    snprintf(blog, sizeof blog, "%s/broker-nolog-1.0.0.log", c.base);
    CU_ASSERT_FATAL(mkdir(blog, 0700) == 0); /* a directory: open(2) fails with EISDIR */
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    char out[4096], v[128], want[320];
    CU_ASSERT_EQUAL(hello(&c, "nolog", out, sizeof out), 10 + RPB_CODE_BACKEND_SPAWN_FAILED);
    CU_ASSERT(field(out, "reason", v, sizeof v) && strcmp(v, "backend spawn failed") == 0);
    snprintf(want, sizeof want, "cannot open the backend log %s: %s", blog, strerror(EISDIR));
    CU_ASSERT_EQUAL(count(c.log, want), 1);
    CU_ASSERT_EQUAL(count(c.log, "launch service=nolog"), 0); /* nothing ran */
    for (int i = 1; i <= 2; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i);
        CU_ASSERT_EQUAL(hello(&c, "echo", out, sizeof out), 0);
        CU_ASSERT(field(out, "connection_id", v, sizeof v) && strcmp(v, id) == 0);
    }
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* rpb-client for service/1.0.0 started in the background, its stdout in
 * out_path. */
static pid_t hello_async(const lcase *c, const char *service, const char *out_path)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        execl(client_bin, client_bin, "--socket", c->sock, "--service", service, "--wanted-version", "1.0.0",
              "--timeout", "60000", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The pid in the broker's "launch service=<service> ... pid=N" line. */
static pid_t launched_pid(lcase *c, const char *service)
{
    char want[96];
    snprintf(want, sizeof want, "launch service=%s ", service);
    for (char *line; (line = tu_tail_next(&c->tail, rpb_monotonic_ms() + 20000)) != NULL;) {
        const char *p = strstr(line, want) ? strstr(line, " pid=") : NULL;
        if (p)
            return (pid_t)atoi(p + 5);
    }
    return 0;
}

/* LAUNCH-007: Hellos arriving together start exactly one backend and all
 * get it. */
static void test_concurrent_hellos(void)
{
    lcase c;
    new_case(&c);
    define(&c, "echo", backend_bin, bin_dir, "--bind-delay", "500", NULL);
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    pid_t kids[CONCURRENT];
    char outp[CONCURRENT][200];
    for (int i = 0; i < CONCURRENT; i++) {
        snprintf(outp[i], sizeof outp[i], "%s/client-%d.out", c.base, i);
        kids[i] = hello_async(&c, "echo", outp[i]);
    }
    char first[256] = "";
    for (int i = 0; i < CONCURRENT; i++) {
        CU_ASSERT_EQUAL(tu_wait_exit(kids[i], 60000), 0);
        char text[4096], pipe[256] = "";
        tu_read_text(outp[i], text, sizeof text);
        CU_ASSERT(field(text, "backend_pipe", pipe, sizeof pipe));
        if (i == 0)
            snprintf(first, sizeof first, "%s", pipe);
        CU_ASSERT_STRING_EQUAL(pipe, first);
    }
    CU_ASSERT_EQUAL(count(c.log, "launch service=echo"), 1);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* LAUNCH-008: while a launch is in flight (its backend never binds), an
 * admin request and a Hello for another service are answered; the waiting
 * Hello gets the launch's failure when its child dies. */
static void test_launch_does_not_block(void)
{
    lcase c;
    new_case(&c);
    define(&c, "hung", backend_bin, bin_dir, "--bind-delay", "600000", NULL);
    define(&c, "echo", backend_bin, bin_dir, NULL);
    CU_ASSERT_FATAL(start_broker(&c, "--launch-timeout", "600000", NULL));
    char outp[200], out[4096], pipe[256];
    snprintf(outp, sizeof outp, "%s/hung.out", c.base);
    pid_t waiting = hello_async(&c, "hung", outp);
    pid_t child = launched_pid(&c, "hung");
    CU_ASSERT_FATAL(child > 0);
    const char *argv[] = {client_bin, "--socket", c.sock, "--admin", "healthz", NULL};
    CU_ASSERT_EQUAL(tu_run_capture(argv, out, sizeof out, 60000), 0);
    CU_ASSERT_EQUAL(hello(&c, "echo", out, sizeof out), 0);
    CU_ASSERT(field(out, "backend_pipe", pipe, sizeof pipe));
    /* the launch is still in flight: its Hello has had no answer */
    CU_ASSERT_EQUAL(waitpid(waiting, NULL, WNOHANG), 0);
    kill(child, SIGKILL);
    CU_ASSERT_EQUAL(tu_wait_exit(waiting, 60000), 10 + RPB_CODE_BACKEND_SPAWN_FAILED);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

/* LAUNCH-010: a Hello refused by the version policy starts nothing. */
static void test_refused_hello_starts_nothing(void)
{
    lcase c;
    new_case(&c);
    define(&c, "echo", backend_bin, bin_dir, NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/echo.service", c.svc);
    FILE *f = fopen(path, "a");
    CU_ASSERT_FATAL(f != NULL);
    fputs("min_version = 2.0.0\n", f);
    fclose(f);
    CU_ASSERT_FATAL(start_broker(&c, NULL));
    char out[4096];
    CU_ASSERT_EQUAL(hello(&c, "echo", out, sizeof out), 10 + RPB_CODE_VERSION_BLOCKED);
    CU_ASSERT_EQUAL(count(c.log, "launch"), 0);
    CU_ASSERT_EQUAL(stop_broker(&c), 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_launch_it RPB_BROKER RPB_CLIENT\n");
        return 2;
    }
    broker_bin = argv[1];
    client_bin = argv[2];
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", broker_bin);
    if (realpath(dirname(tmp), bin_dir) == NULL) {
        perror(broker_bin);
        return 1;
    }
    snprintf(backend_bin, sizeof backend_bin, "%s/rpb-backend", bin_dir);
    snprintf(root, sizeof root, "/tmp/rl-XXXXXX"); /* short: a backend path is 80 bytes past it (NAME-005) */
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char run[96];
    snprintf(run, sizeof run, "%s/run", root);
    mkdir(run, 0700);
    setenv("XDG_RUNTIME_DIR", run, 1); /* NAME-004: where the backends' endpoints go */
    static const tu_test tests[] = {
        {"launch, reuse, admin, stop (LAUNCH-002..004, LAUNCH-012..014)", test_launch_and_reuse},
        {"killed backend relaunched, backend log file (LAUNCH-009, LAUNCH-015)", test_killed_backend_relaunched},
        {"spawn budget exhausted (LAUNCH-006, LAUNCH-013, LAUNCH-014)", test_budget_exhausted},
        {"binary outside per_version_binary_dir (LAUNCH-001, LAUNCH-014)", test_outside_dir_refused},
        {"slow bind within the readiness wait (LAUNCH-005)", test_slow_bind},
        {"readiness wait bounded (LAUNCH-005)", test_readiness_bounded},
        {"canonical directory created, then watched (LAUNCH-005, RDV-002)", test_canonical_dir_created_and_watched},
        {"backend log not openable; dense connection ids (LAUNCH-015, HELLO-036)",
         test_log_open_failure_and_dense_ids},
        {"concurrent Hellos, one backend (LAUNCH-007)", test_concurrent_hellos},
        {"a launch in flight blocks nobody (LAUNCH-008)", test_launch_does_not_block},
        {"refused Hello starts nothing (LAUNCH-010)", test_refused_hello_starts_nothing},
        {NULL, NULL},
    };
    int rc = tu_run("launch-it", tests);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (rc == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return rc;
}
