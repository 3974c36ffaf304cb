/*
 * rpb-conform - the conformance harness for running-process broker v1
 * brokers and backends (conformance/README.md).  This file: the command
 * line, case selection, the run loop and the exit codes
 *   0 every case as expected, 1 unexpected results, 2 usage error,
 *   3 the broker or backend could not be attached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rpb/rpb.h>

#include "attach.h"
#include "cli.h"
#include "conform.h"
#include "conn.h"
#include "expect.h"
#include "fixture.h"
#include "report.h"
#include "stim.h"
#include "usock.h"

#define EXIT_OK 0
#define EXIT_UNEXPECTED 1
#define EXIT_USAGE CLI_EXIT_USAGE
#define EXIT_ATTACH 3
#define PROG "rpb-conform"

static const char usage_text[] =
    "usage: rpb-conform broker (--connect PATH | --spawn CMD) [options]\n"
    "       rpb-conform backend (--connect PATH [--identity FILE] [--handoff-socket PATH]\n"
    "                            | --spawn CMD) [options]\n"
    "       rpb-conform broker|backend --list [--tier T] [--only P] [--skip P]\n"
    "       rpb-conform fixture DIR\n"
    "       rpb-conform --help | --version\n"
    "\n"
    "Runs the broker or the backend conformance suite of the running-process\n"
    "broker v1 protocol against a daemon over its Unix socket and reports one\n"
    "result per case.\n"
    "\n"
    "Attaching the broker under test (one of):\n"
    "  --connect PATH        a broker already serving PATH, configured with the\n"
    "                        suite's fixture (write it with `rpb-conform fixture DIR`)\n"
    "  --spawn CMD           run CMD with /bin/sh; {socket} and {services} are\n"
    "                        replaced by a socket path and a 0700 directory holding\n"
    "                        the fixture's .servicedef files, both in a private temp\n"
    "                        dir; the harness waits until the socket accepts, runs\n"
    "                        the suite, then stops the broker (SIGTERM, SIGKILL after\n"
    "                        --grace) and keeps its output for the reports.  Example:\n"
    "                        --spawn 'rpb-broker --socket {socket} --launch {services}\n"
    "                                 --rate-limit 500/10000 --handshake-timeout 1000\n"
    "                                 --handoff-ack-timeout 1000 --handoff-failures 1000/1000'\n"
    "\n"
    "Attaching the backend under test (one of; the harness first makes one\n"
    "identity probe):\n"
    "  --connect PATH        a backend already serving PATH\n"
    "  --identity FILE       with --connect: the backend's identity sidecar, which\n"
    "                        its answers must match (else the sidecar cases skip)\n"
    "  --handoff-socket PATH with --connect: the backend's handoff socket, where the\n"
    "                        harness plays the broker (else the handoff cases skip)\n"
    "  --spawn CMD           as for a broker; {socket}, {identity} and {handoff} are\n"
    "                        replaced by a socket path, the path of the sidecar the\n"
    "                        backend is to write and the path of the handoff socket\n"
    "                        it is to create (without {handoff} the handoff cases\n"
    "                        skip).  Example:\n"
    "                        --spawn 'rpb-backend --socket {socket} --identity-file\n"
    "                                 {identity} --frame-timeout 1000 --handoff-socket\n"
    "                                 {handoff} --handoff-timeout 1000'\n"
    "  --frame-timeout MS    the backend's deadline for each next frame (default 1000)\n"
    "  --handoff-timeout MS  the backend's deadline for a handoff connection's whole\n"
    "                        exchange (default 1000)\n"
    "  --echo-protocol N     the backend serves payload protocol N (0x hex or\n"
    "                        decimal) as an echo service (MUX-008); without it the\n"
    "                        echo cases skip\n"
    "\n"
    "Selecting cases:\n"
    "  --tier core|strict    core: the interoperability contract (default);\n"
    "                        strict: core plus the hardening cases\n"
    "  --only PREFIX         run only cases whose id starts with PREFIX (repeatable)\n"
    "  --skip PREFIX         leave out cases whose id starts with PREFIX (repeatable)\n"
    "  --list                print the selected case ids with tier and requirement\n"
    "                        IDs, then exit\n"
    "  --expect-fail FILE    expected failures: one case id per line, optional\n"
    "                        '# reason'; a listed case that passes or is skipped,\n"
    "                        or an unlisted case that fails, fails the run\n"
    "  --fail-fast           stop after the first unexpected failure (the cases\n"
    "                        after it are not run or reported; mutation testing)\n"
    "\n"
    "Output (the human view, one line per case, always goes to stdout unless --tap):\n"
    "  --tap                 TAP version 13 on stdout instead of the human view\n"
    "  --json FILE           machine-readable results with every exchange\n"
    "  --junit FILE          JUnit XML\n"
    "  --html FILE           one self-contained page: summary by area and tier,\n"
    "                        per case the stimulus, expected and observed bytes as\n"
    "                        hexdumps with their decoded fields\n"
    "  --failing-list FILE   write every failing case as an --expect-fail list (its\n"
    "                        first failure as the reason), to start a list from\n"
    "  -v, --verbose         print each case's title and requirement IDs too\n"
    "\n"
    "What the fixture promises (see conformance/README.md):\n"
    "  --rate-limit N/MS     the broker refuses the (N+1)th Hello of one pid within\n"
    "                        MS ms (default 500/10000); 'off' or 0/MS (as the\n"
    "                        broker takes it) skips the rate-limit cases\n"
    "  --handshake-timeout MS  the broker's handshake deadline (default 1000)\n"
    "  --handoff-socket PATH (broker, --connect) the handoff endpoint the broker got\n"
    "                        for the service conform-handoff: the harness listens\n"
    "                        there as the backend (--spawn names one itself);\n"
    "                        without it the handoff cases are skipped\n"
    "\n"
    "Timing:\n"
    "  --reply-timeout MS    how long to wait for a reply that must come (2000)\n"
    "  --prompt-timeout MS   how long to wait for a reply that must come without\n"
    "                        further input, e.g. to an oversize header (400; must be\n"
    "                        below the handshake deadline)\n"
    "  --attach-timeout MS   how long to wait for the socket to accept (5000)\n"
    "  --grace MS            SIGTERM to SIGKILL grace for --spawn (2000)\n"
    "  --keep-temp           keep the --spawn temp dir (fixture, socket, broker log)\n"
    "\n"
    "Exit status: 0 every case as expected; 1 unexpected results; 2 usage error\n"
    "(including a report file that cannot be written, checked before connecting);\n"
    "3 the broker or backend could not be attached (spawn failed, socket never\n"
    "accepted) or the broker does not serve the fixture's services.\n";

typedef struct options {
    const char *connect_path;
    const char *spawn_cmd;
    const char *handoff_socket;
    enum tier tier;
    const char *only[64];
    size_t n_only;
    const char *skip[64];
    size_t n_skip;
    bool list;
    const char *expect_file;
    bool tap;
    const char *json, *junit, *html, *failing_list;
    bool verbose;
    bool keep_temp;
    bool fail_fast;
    int attach_ms, grace_ms;
    hconfig cfg;
} options;

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_rate(const char *s, hconfig *cfg)
{
    if (strcmp(s, "off") == 0) {
        cfg->rate_n = 0;
        cfg->rate_window_ms = 0;
        return true;
    }
    /* N is copied out to end it at the slash; MS is parsed in place (a
     * copy of the whole argument could cut MS short) */
    const char *slash = strchr(s, '/');
    char n_text[16];
    long n, ms;
    if (!slash || (size_t)(slash - s) >= sizeof n_text)
        return false;
    memcpy(n_text, s, (size_t)(slash - s));
    n_text[slash - s] = 0;
    if (!parse_int(n_text, 0, 100000, &n) || !parse_int(slash + 1, 1, 3600000, &ms))
        return false;
    /* 0/MS: no limit, as rpb-broker reads it */
    cfg->rate_n = (unsigned)n;
    cfg->rate_window_ms = n ? (unsigned)ms : 0;
    return true;
}

static bool selected(const options *o, const hcase *cs)
{
    const char *role = role_name(o->cfg.role);
    size_t n = strlen(role);
    if (strncmp(cs->id, role, n) != 0 || cs->id[n] != '/' || cs->tier > o->tier)
        return false;
    if (o->n_only) {
        bool any = false;
        for (size_t i = 0; i < o->n_only && !any; i++)
            any = strncmp(cs->id, o->only[i], strlen(o->only[i])) == 0;
        if (!any)
            return false;
    }
    for (size_t i = 0; i < o->n_skip; i++)
        if (strncmp(cs->id, o->skip[i], strlen(o->skip[i])) == 0)
            return false;
    return true;
}

/* The millisecond option a: where its value goes and its minimum (the
 * maximum is 600000), or NULL when a is none of them. */
static int *ms_option(options *o, const char *a, long *min)
{
    *min = 1;
    if (strcmp(a, o->cfg.role == ROLE_BACKEND ? "--frame-timeout" : "--handshake-timeout") == 0)
        return &o->cfg.handshake_ms;
    if (strcmp(a, "--handoff-timeout") == 0 && o->cfg.role == ROLE_BACKEND)
        return &o->cfg.handoff_ms;
    if (strcmp(a, "--reply-timeout") == 0)
        return &o->cfg.reply_ms;
    if (strcmp(a, "--prompt-timeout") == 0)
        return &o->cfg.prompt_ms;
    if (strcmp(a, "--attach-timeout") == 0)
        return &o->attach_ms;
    *min = 0;
    if (strcmp(a, "--grace") == 0)
        return &o->grace_ms;
    return NULL;
}

static int parse_broker_args(int argc, char **argv, options *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n, min;
        int *ms;
#define NEED_VALUE() \
    do { \
        if (!v) \
            return cli_usage_error(PROG, "%s needs a value", a); \
        i++; \
    } while (0)
        if (strcmp(a, "--connect") == 0) {
            NEED_VALUE();
            o->connect_path = v;
        } else if (strcmp(a, "--spawn") == 0) {
            NEED_VALUE();
            o->spawn_cmd = v;
        } else if (strcmp(a, "--tier") == 0) {
            NEED_VALUE();
            if (strcmp(v, "core") == 0)
                o->tier = TIER_CORE;
            else if (strcmp(v, "strict") == 0)
                o->tier = TIER_STRICT;
            else
                return cli_usage_error(PROG, "--tier takes core or strict, not %s", v);
        } else if (strcmp(a, "--only") == 0) {
            NEED_VALUE();
            if (o->n_only == 64)
                return cli_usage_error(PROG, "too many %s options", a);
            o->only[o->n_only++] = v;
        } else if (strcmp(a, "--skip") == 0) {
            NEED_VALUE();
            if (o->n_skip == 64)
                return cli_usage_error(PROG, "too many %s options", a);
            o->skip[o->n_skip++] = v;
        } else if (strcmp(a, "--list") == 0) {
            o->list = true;
        } else if (strcmp(a, "--expect-fail") == 0) {
            NEED_VALUE();
            o->expect_file = v;
        } else if (strcmp(a, "--tap") == 0) {
            o->tap = true;
        } else if (strcmp(a, "--json") == 0) {
            NEED_VALUE();
            o->json = v;
        } else if (strcmp(a, "--junit") == 0) {
            NEED_VALUE();
            o->junit = v;
        } else if (strcmp(a, "--html") == 0) {
            NEED_VALUE();
            o->html = v;
        } else if (strcmp(a, "--failing-list") == 0) {
            NEED_VALUE();
            o->failing_list = v;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--fail-fast") == 0) {
            o->fail_fast = true;
        } else if (strcmp(a, "--keep-temp") == 0) {
            o->keep_temp = true;
        } else if (strcmp(a, "--identity") == 0 && o->cfg.role == ROLE_BACKEND) {
            NEED_VALUE();
            o->cfg.identity_file = v;
        } else if (strcmp(a, "--echo-protocol") == 0 && o->cfg.role == ROLE_BACKEND) {
            NEED_VALUE();
            char *end;
            errno = 0;
            unsigned long pp = strtoul(v, &end, 0);
            if (errno || end == v || *end || pp > UINT32_MAX)
                return cli_usage_error(PROG, "bad --echo-protocol %s", v);
            o->cfg.has_echo = true;
            o->cfg.echo_protocol = (uint32_t)pp;
        } else if (strcmp(a, "--handoff-socket") == 0) {
            NEED_VALUE();
            o->handoff_socket = v;
        } else if (strcmp(a, "--rate-limit") == 0 && o->cfg.role == ROLE_BROKER) {
            NEED_VALUE();
            if (!parse_rate(v, &o->cfg))
                return cli_usage_error(PROG, "--rate-limit takes N/MS (0/MS: none) or off, not %s", v);
        } else if ((ms = ms_option(o, a, &min)) != NULL) {
            NEED_VALUE();
            if (!parse_int(v, min, 600000, &n))
                return cli_usage_error(PROG, "bad %s %s", a, v);
            *ms = (int)n;
        } else {
            return cli_usage_error(PROG, "unknown option '%s'", a);
        }
#undef NEED_VALUE
    }
    if (!o->list && !o->connect_path == !o->spawn_cmd)
        return cli_usage_error(PROG, "give exactly one of --connect PATH and --spawn CMD");
    if (o->spawn_cmd && !strstr(o->spawn_cmd, "{socket}"))
        return cli_usage_error(PROG, "--spawn command has no {socket} placeholder: %s", o->spawn_cmd);
    if (o->spawn_cmd && o->cfg.identity_file)
        return cli_usage_error(PROG, "--identity goes with --connect (--spawn has {identity})");
    if (o->spawn_cmd && o->handoff_socket)
        return cli_usage_error(PROG, "--handoff-socket goes with --connect (--spawn has {handoff})");
    if (o->cfg.prompt_ms >= o->cfg.handshake_ms)
        return cli_usage_error(PROG, "--prompt-timeout must be below %s",
                           o->cfg.role == ROLE_BACKEND ? "--frame-timeout" : "--handshake-timeout");
    return 0;
}

static void print_list(const options *o)
{
    size_t n = 0, n_cases;
    const hcase *cases = case_list(&n_cases);
    for (size_t i = 0; i < n_cases; i++) {
        const hcase *cs = &cases[i];
        if (!selected(o, cs))
            continue;
        printf("%-64s %-6s %s\n", cs->id, cs->tier == TIER_CORE ? "core" : "strict", cs->reqs);
        if (o->verbose)
            printf("    %s\n", cs->title);
        n++;
    }
    printf("%zu cases\n", n);
}

/* Writes the failing cases of ri as an expected-failure list. */
static int write_failing_list(const char *path, const run_info *ri)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "# rpb-conform %s: cases that failed against %s (%s tier)\n", RPB_VERSION_STRING, ri->target,
            ri->tier);
    for (size_t i = 0; i < ri->n; i++) {
        const outcome *o = &ri->v[i];
        if (o->r.verdict != V_FAIL)
            continue;
        const char *first = sb_str(&o->r.failures);
        fprintf(f, "%s  # %.*s\n", o->cs->id, (int)strcspn(first, "\n"), first);
    }
    return fclose(f);
}

static void iso_now(char *out, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void describe_exit(char *out, size_t cap, const attach *a)
{
    int st = a->exit_status;
    const char *who = role_name(a->role);
    if (a->killed)
        snprintf(out, cap, "the %s did not stop on SIGTERM and was killed", who);
    else if (WIFEXITED(st))
        snprintf(out, cap, "the %s exited with status %d", who, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(out, cap, "the %s ended by signal %d", who, WTERMSIG(st));
    else
        snprintf(out, cap, "the %s ended (status %d)", who, st);
}

static int cmd_fixture(int argc, char **argv)
{
    if (argc != 1)
        return cli_usage_error(PROG, "fixture takes one argument: the directory to write into");
    if (mkdir(argv[0], 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "rpb-conform: cannot create %s: %s\n", argv[0], strerror(errno));
        return EXIT_USAGE;
    }
    fixture_set written;
    int rc = fixture_write(argv[0], NULL, NULL, &written);
    if (rc < 0) {
        fprintf(stderr, "rpb-conform: cannot write the fixture into %s: %s\n", argv[0], strerror(-rc));
        return EXIT_USAGE;
    }
    for (const char *const *s = written.names; *s; s++)
        printf("%s/%s.servicedef\n", argv[0], *s);
    return EXIT_OK;
}

/* path can be created or overwritten: it is writable, or it does not
 * exist and its directory is. */
static bool writable(const char *path)
{
    if (access(path, W_OK) == 0)
        return true;
    if (errno != ENOENT)
        return false;
    const char *slash = strrchr(path, '/');
    if (!slash)
        return access(".", W_OK) == 0;
    if (slash == path)
        return access("/", W_OK) == 0;
    char dir[4096];
    if ((size_t)(slash - path) >= sizeof dir)
        return false;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    return access(dir, W_OK) == 0;
}

/* Every report path of o is writable; else a usage error is printed. */
static bool reports_writable(const options *o)
{
    const char *paths[] = {o->json, o->junit, o->html, o->failing_list};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (paths[i] && !writable(paths[i])) {
            fprintf(stderr, "rpb-conform: cannot write the report %s: %s\n", paths[i], strerror(errno));
            return false;
        }
    return true;
}

/* One baseline Hello for each fixture service before the suite: a broker
 * that answers SERVICE_UNKNOWN was not given the fixture, and every case
 * would fail for that one reason.  False, with the message in err. */
static bool preflight(const hconfig *cfg, sbuf *err)
{
    static const hcase pre = {"preflight", TIER_CORE, "", "fixture preflight", NULL, {NULL}, NULL, 0};
    bool ok = true;
    for (const char *const *svc = fixture_services; *svc && ok; svc++) {
        cresult res;
        memset(&res, 0, sizeof res);
        cctx c = {cfg, &pre, &res};
        rpb_frame f;
        rpb_hello h;
        stim_frame_base(&f);
        stim_hello_base(&h, (uint32_t)getpid());
        h.service_name = rpb_slice_cstr(*svc);
        sbuf s = SBUF_INIT;
        stim_hello_frame(&s, &f, &h);
        hreply r;
        hc_exchange(&c, NULL, "fixture preflight", &s, &r);
        if (r.end == H_REPLY && r.frame_ok && r.payload_err == RPB_OK && r.hello.result == RPB_HELLO_REPLY_REFUSED &&
            r.hello.refused.code == RPB_CODE_SERVICE_UNKNOWN) {
            sb_printf(err, "the broker does not serve fixture service %s %s: load the files written by "
                           "`rpb-conform fixture DIR` (conformance/README.md, \"The fixture\")",
                      *svc, STIM_VERSION);
            ok = false;
        }
        hr_free(&r);
        sb_free(&s);
        cresult_free(&res);
    }
    return ok;
}

/* The size of the spawned broker's log (0 in --connect mode). */
static size_t log_size(const attach *a)
{
    struct stat st;
    return a->pid > 0 && stat(a->log, &st) == 0 ? (size_t)st.st_size : 0;
}

static int run_suite(options *o)
{
    expect_list el = {NULL, 0};
    sbuf err = SBUF_INIT;
    if (o->expect_file && expect_load(&el, o->expect_file, &err) < 0) {
        fprintf(stderr, "rpb-conform: %s\n", sb_str(&err));
        sb_free(&err);
        return EXIT_USAGE;
    }
    if (o->list) {
        print_list(o);
        expect_free(&el);
        return EXIT_OK;
    }
    size_t n_sel = 0, n_cases;
    const hcase *cases = case_list(&n_cases);
    for (size_t i = 0; i < n_cases; i++)
        n_sel += selected(o, &cases[i]);
    if (n_sel == 0) {
        expect_free(&el);
        return cli_usage_error(PROG, "no case matches the selection");
    }

    if (!reports_writable(o)) {
        expect_free(&el);
        return EXIT_USAGE;
    }
    /* before a daemon is spawned, so that failing here leaves none behind */
    outcome *results = calloc(n_sel, sizeof *results);
    if (!results) {
        fputs("rpb-conform: out of memory\n", stderr);
        expect_free(&el);
        return EXIT_USAGE;
    }

    attach a;
    enum role role = o->cfg.role;
    int rc = o->spawn_cmd ? attach_spawn(&a, role, o->spawn_cmd, o->attach_ms, &err)
                          : attach_connect(&a, role, o->connect_path, o->handoff_socket, o->attach_ms, &err);
    if (rc == 0) {
        o->cfg.socket_path = a.socket;
        o->cfg.broker_pid = a.pid > 0 ? a.pid : 0;
        o->cfg.services_dir = o->spawn_cmd && role == ROLE_BROKER ? a.services : NULL;
        o->cfg.fixture = &a.fixture;
        if (o->spawn_cmd && role == ROLE_BACKEND && strstr(o->spawn_cmd, "{identity}"))
            o->cfg.identity_file = a.identity;
        o->cfg.handoff_socket = a.handoff[0] ? a.handoff : NULL;
        o->cfg.broker_log = o->spawn_cmd && role == ROLE_BROKER ? a.log : NULL;
    }
    if (rc < 0 || (role == ROLE_BROKER && !preflight(&o->cfg, &err))) {
        fprintf(stderr, "rpb-conform: %s%s\n", rc < 0 ? "could not attach the daemon: " : "", sb_str(&err));
        if (o->spawn_cmd)
            attach_stop(&a, o->grace_ms, o->keep_temp);
        sb_free(&a.command);
        sb_free(&a.stderr_text);
        sb_free(&err);
        expect_free(&el);
        free(results);
        return EXIT_ATTACH;
    }

    sbuf target = SBUF_INIT;
    if (o->spawn_cmd)
        sb_printf(&target, "spawn: %s", o->spawn_cmd);
    else
        sb_printf(&target, "connect: %s", o->connect_path);
    char started[32];
    iso_now(started, sizeof started);
    run_info ri;
    memset(&ri, 0, sizeof ri);
    ri.role = role_name(role);
    ri.target = sb_str(&target);
    ri.tier = o->tier == TIER_CORE ? "core" : "strict";
    ri.started = started;
    ri.v = results;
    if (o->tap)
        report_tap_begin(stdout, n_sel);
    else
        printf("rpb-conform %s: %zu cases (%s tier) against %s\n", RPB_VERSION_STRING, n_sel, ri.tier,
               ri.target);

    int64_t t0 = rpb_monotonic_ms();
    const char *died_in = NULL; /* the case during which the daemon ended unexpectedly */
    const char *gone_after = NULL; /* the case after which no daemon is left */
    for (size_t i = 0; i < n_cases; i++) {
        const hcase *cs = &cases[i];
        if (!selected(o, cs))
            continue;
        outcome *out = &ri.v[ri.n++];
        out->cs = cs;
        cctx c = {&o->cfg, cs, &out->r};
        struct timespec s0, s1;
        clock_gettime(CLOCK_MONOTONIC, &s0);
        out->log_from = log_size(&a);
        out->conn_from = usock_connections();
        if (gone_after) {
            c_fail(&c, "not run: no %s after %s", role_name(role), gone_after);
        } else {
            cs->run(&c);
            if (cs->flags & CASE_ENDS_BROKER) {
                gone_after = cs->id;
            } else if (!attach_alive(&a)) {
                char how[96];
                describe_exit(how, sizeof how, &a);
                c_fail(&c, "expected the %s to keep serving; observed: %s during this case", role_name(role), how);
                died_in = gone_after = cs->id;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &s1);
        out->log_to = log_size(&a);
        out->conn_to = usock_connections();
        cresult_prune(&out->r);
        out->r.ms = (double)(s1.tv_sec - s0.tv_sec) * 1e3 + (double)(s1.tv_nsec - s0.tv_nsec) / 1e6;
        out->r.verdict = out->r.failures.len ? V_FAIL : out->r.skip.len ? V_SKIP : V_PASS;
        expect_entry *e = expect_find(&el, cs->id);
        if (e) {
            e->used = 1;
            out->expect_reason = e->reason;
            out->st = out->r.verdict == V_FAIL ? ST_XFAIL : out->r.verdict == V_PASS ? ST_XPASS : ST_XSKIP;
        } else {
            out->st = out->r.verdict == V_FAIL ? ST_FAIL : out->r.verdict == V_PASS ? ST_PASS : ST_SKIP;
        }
        if (o->tap)
            report_tap_case(stdout, ri.n, out);
        else
            report_human_case(stdout, out, o->verbose);
        fflush(stdout);
        if (o->fail_fast && out->st == ST_FAIL)
            break;
    }
    ri.wall_ms = (double)(rpb_monotonic_ms() - t0);

    char how[96] = "";
    if (o->spawn_cmd) {
        attach_stop(&a, o->grace_ms, o->keep_temp);
        describe_exit(how, sizeof how, &a);
        ri.peer_log = &a.stderr_text;
        ri.peer_exit = how;
        if (o->keep_temp)
            fprintf(o->tap ? stderr : stdout, "temp dir kept: %s\n", a.dir);
    }
    run_count(&ri);
    int status = ri.failed ? EXIT_UNEXPECTED : EXIT_OK;
    if (o->json && report_json(o->json, &ri) < 0) {
        fprintf(stderr, "rpb-conform: cannot write %s: %s\n", o->json, strerror(errno));
        status = EXIT_USAGE;
    }
    if (o->junit && report_junit(o->junit, &ri) < 0) {
        fprintf(stderr, "rpb-conform: cannot write %s: %s\n", o->junit, strerror(errno));
        status = EXIT_USAGE;
    }
    if (o->html && report_html(o->html, &ri) < 0) {
        fprintf(stderr, "rpb-conform: cannot write %s: %s\n", o->html, strerror(errno));
        status = EXIT_USAGE;
    }
    if (o->failing_list && write_failing_list(o->failing_list, &ri) < 0) {
        fprintf(stderr, "rpb-conform: cannot write %s: %s\n", o->failing_list, strerror(errno));
        status = EXIT_USAGE;
    }
    FILE *sum = o->tap ? stderr : stdout;
    if (!o->tap && died_in)
        fprintf(sum, "%s after %s; its output:\n%s\n", how, died_in, sb_str(&a.stderr_text));
    report_summary_line(sum, &ri);
    if (o->tap)
        printf("# %zu passed, %zu failed, %zu skipped\n", ri.passed, ri.failed, ri.skipped);

    for (size_t i = 0; i < ri.n; i++)
        cresult_free(&ri.v[i].r);
    free(ri.v);
    sb_free(&target);
    sb_free(&a.command);
    sb_free(&a.stderr_text);
    sb_free(&err);
    expect_free(&el);
    return status;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return cli_usage_error(PROG, "missing command (broker, backend or fixture)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("rpb-conform %s\n", RPB_VERSION_STRING);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "fixture") == 0)
        return cmd_fixture(argc - 2, argv + 2);
    if (strcmp(argv[1], "broker") != 0 && strcmp(argv[1], "backend") != 0)
        return argv[1][0] == '-' ? cli_usage_error(PROG, "unknown option '%s'", argv[1])
                                 : cli_usage_error(PROG, "unknown command %s (broker, backend or fixture)", argv[1]);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
    }
    options o;
    memset(&o, 0, sizeof o);
    o.tier = TIER_CORE;
    o.attach_ms = 5000;
    o.grace_ms = 2000;
    o.cfg.reply_ms = 2000;
    o.cfg.prompt_ms = 400;
    o.cfg.role = strcmp(argv[1], "backend") == 0 ? ROLE_BACKEND : ROLE_BROKER;
    o.cfg.handshake_ms = o.cfg.role == ROLE_BACKEND ? FIXTURE_FRAME_MS : FIXTURE_HANDSHAKE_MS;
    o.cfg.handoff_ms = FIXTURE_HANDOFF_MS;
    o.cfg.rate_n = FIXTURE_RATE_N;
    o.cfg.rate_window_ms = FIXTURE_RATE_WINDOW_MS;
    o.cfg.root = geteuid() == 0;
    int rc = parse_broker_args(argc - 2, argv + 2, &o);
    if (rc)
        return rc;
    return run_suite(&o);
}
