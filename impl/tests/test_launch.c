/*
 * test_launch.c - the launch registry (spec/discovery.md §3): spawn budget
 * (LAUNCH-006), single-flight (LAUNCH-007), exit and relaunch (LAUNCH-009),
 * and the per-version directory check of the binary (LAUNCH-001).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

#define S(x) rpb_slice_cstr(x)

static rpb_launch_verdict acquire(rpb_launch_registry *r, const char *svc, const char *ver, int64_t now,
                                  rpb_launch_slot **slot, uint64_t *retry)
{
    return rpb_launch_acquire(r, S("shared"), S(svc), S(ver), now, slot, retry);
}

/* LAUNCH-006: three attempts per 30 s window from the first; the fourth is
 * refused with the rest of the window; the window's end gives a new budget. */
static void test_budget(void)
{
    rpb_launch_registry *r = rpb_launch_registry_new(RPB_LAUNCH_BUDGET_DEFAULT, RPB_LAUNCH_WINDOW_MS_DEFAULT, 16);
    rpb_launch_slot *s;
    uint64_t retry;
    CU_ASSERT_FATAL(r != NULL);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 1000 + i * 100, &s, &retry), RPB_LAUNCH_START);
        CU_ASSERT_EQUAL(s->state, RPB_LAUNCH_STARTING);
        rpb_launch_idle(s); /* the launch failed */
    }
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 1500, &s, &retry), RPB_LAUNCH_BUDGET);
    CU_ASSERT_EQUAL(retry, 29500);
    CU_ASSERT_EQUAL(s->state, RPB_LAUNCH_IDLE);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 30999, &s, &retry), RPB_LAUNCH_BUDGET);
    CU_ASSERT_EQUAL(retry, 1);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 31000, &s, &retry), RPB_LAUNCH_START);
    CU_ASSERT_EQUAL(retry, 0);
    rpb_launch_registry_free(r);
}

/* LAUNCH-006: the budget is per key: another version or service, or
 * another instance, has its own. */
static void test_budget_per_key(void)
{
    rpb_launch_registry *r = rpb_launch_registry_new(1, 10000, 16);
    rpb_launch_slot *s;
    uint64_t retry;
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 0, &s, &retry), RPB_LAUNCH_START);
    rpb_launch_idle(s);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 1, &s, &retry), RPB_LAUNCH_BUDGET);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.1", 1, &s, &retry), RPB_LAUNCH_START);
    CU_ASSERT_EQUAL(acquire(r, "other", "1.0.0", 1, &s, &retry), RPB_LAUNCH_START);
    CU_ASSERT_EQUAL(rpb_launch_acquire(r, S("private-echo"), S("echo"), S("1.0.0"), 1, &s, &retry),
                    RPB_LAUNCH_START);
    CU_ASSERT_EQUAL(rpb_launch_count(r), 4);
    rpb_launch_registry_free(r);
}

/* LAUNCH-006: a successful launch resets the budget; LAUNCH-009: after the
 * backend exits the key launches again. */
static void test_success_resets_budget(void)
{
    rpb_launch_registry *r = rpb_launch_registry_new(2, 10000, 16);
    rpb_launch_slot *s, *s2;
    uint64_t retry;
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 0, &s, &retry), RPB_LAUNCH_START);
    rpb_launch_idle(s);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 1, &s, &retry), RPB_LAUNCH_START);
    CU_ASSERT_EQUAL(rpb_launch_ready(s, "/run/x/be.sock", 4242), RPB_OK);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 2, &s2, &retry), RPB_LAUNCH_USE);
    CU_ASSERT_PTR_EQUAL(s2, s);
    CU_ASSERT_STRING_EQUAL(s->endpoint, "/run/x/be.sock");
    CU_ASSERT_EQUAL(s->pid, 4242);
    rpb_launch_idle(s); /* the backend exited */
    CU_ASSERT_EQUAL(s->endpoint[0], '\0');
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 3, &s, &retry), RPB_LAUNCH_START);
    rpb_launch_idle(s);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 4, &s, &retry), RPB_LAUNCH_START);
    rpb_launch_idle(s);
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 5, &s, &retry), RPB_LAUNCH_BUDGET);
    rpb_launch_registry_free(r);
}

/* LAUNCH-007: while a launch is in flight its key answers WAIT and counts
 * nothing; ready only from STARTING. */
static void test_single_flight(void)
{
    rpb_launch_registry *r = rpb_launch_registry_new(1, 10000, 16);
    rpb_launch_slot *s, *s2;
    uint64_t retry;
    CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", 0, &s, &retry), RPB_LAUNCH_START);
    for (int i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(acquire(r, "echo", "1.0.0", i, &s2, &retry), RPB_LAUNCH_WAIT);
        CU_ASSERT_PTR_EQUAL(s2, s);
    }
    CU_ASSERT_EQUAL(s->attempts, 1);
    CU_ASSERT_EQUAL(rpb_launch_ready(s, "/x.sock", 7), RPB_OK);
    CU_ASSERT_EQUAL(rpb_launch_ready(s, "/y.sock", 8), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(s->endpoint, "/x.sock");
    rpb_launch_registry_free(r);
}

/* The number of keys is bounded; an idle key whose window passed is reused,
 * an over-long key is refused. */
static void test_bounded_keys(void)
{
    rpb_launch_registry *r = rpb_launch_registry_new(1, 1000, 2);
    rpb_launch_slot *s;
    uint64_t retry;
    CU_ASSERT_EQUAL(acquire(r, "a", "1.0.0", 0, &s, &retry), RPB_LAUNCH_START);
    CU_ASSERT_EQUAL(acquire(r, "b", "1.0.0", 0, &s, &retry), RPB_LAUNCH_START);
    rpb_launch_idle(s);
    CU_ASSERT_EQUAL(acquire(r, "c", "1.0.0", 10, &s, &retry), RPB_LAUNCH_FULL);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(acquire(r, "c", "1.0.0", 1000, &s, &retry), RPB_LAUNCH_START);
    CU_ASSERT_STRING_EQUAL(s->service, "c");
    CU_ASSERT_EQUAL(rpb_launch_count(r), 2);
    char longv[RPB_LAUNCH_KEY_MAX + 2];
    memset(longv, '1', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    CU_ASSERT_EQUAL(acquire(r, "a", longv, 0, &s, &retry), RPB_LAUNCH_FULL);
    rpb_launch_registry_free(r);
}

/* LAUNCH-001: the canonical binary must lie inside the canonical
 * directory, by whole components; symlinks are resolved first. */
static void test_binary_resolve(void)
{
    char tmpl[] = "/tmp/rpb-launch-XXXXXX";
    char *root = mkdtemp(tmpl);
    CU_ASSERT_FATAL(root != NULL);
    char dir[PATH_MAX], dir2[PATH_MAX], bin[PATH_MAX], bin2[PATH_MAX], link[PATH_MAX], out[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/v1", root);
    snprintf(dir2, sizeof dir2, "%s/v12", root);
    snprintf(bin, sizeof bin, "%s/v1/backend", root);
    snprintf(bin2, sizeof bin2, "%s/v12/backend", root);
    snprintf(link, sizeof link, "%s/v1/escape", root);
    CU_ASSERT_FATAL(mkdir(dir, 0700) == 0 && mkdir(dir2, 0700) == 0);
    FILE *f = fopen(bin, "w");
    FILE *g = fopen(bin2, "w");
    CU_ASSERT_FATAL(f != NULL && g != NULL);
    fclose(f);
    fclose(g);
    CU_ASSERT_FATAL(symlink(bin2, link) == 0);

    CU_ASSERT_EQUAL(rpb_launch_binary_resolve(bin, dir, out, sizeof out), RPB_OK);
    char *canon = realpath(bin, NULL);
    CU_ASSERT_STRING_EQUAL(out, canon);
    free(canon);
    char dotted[2 * PATH_MAX];
    snprintf(dotted, sizeof dotted, "%s/../v1/./backend", dir);
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve(dotted, dir, out, sizeof out), RPB_OK);
    /* a sibling directory sharing the prefix "v1" is outside */
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve(bin2, dir, out, sizeof out), RPB_ERR_LAUNCH_OUTSIDE_DIR);
    /* a symlink inside pointing outside is outside */
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve(link, dir, out, sizeof out), RPB_ERR_LAUNCH_OUTSIDE_DIR);
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve("/bin/sh", dir, out, sizeof out), RPB_ERR_LAUNCH_OUTSIDE_DIR);
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve(bin, "", out, sizeof out), RPB_ERR_LAUNCH_BINARY);
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve("/nonexistent/x", dir, out, sizeof out), RPB_ERR_LAUNCH_BINARY);
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve(bin, "/nonexistent", out, sizeof out), RPB_ERR_LAUNCH_BINARY);
    CU_ASSERT_EQUAL(rpb_launch_binary_resolve(bin, dir, out, 4), RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_STRING_EQUAL(rpb_errname(RPB_ERR_LAUNCH_OUTSIDE_DIR), "launch-outside-dir");
    CU_ASSERT_STRING_EQUAL(rpb_err_requirement(RPB_ERR_LAUNCH_BINARY), "LAUNCH-001");

    unlink(link);
    unlink(bin);
    unlink(bin2);
    rmdir(dir);
    rmdir(dir2);
    rmdir(root);
}

/* A launched service's text definition: binary_path, per_version_binary_dir
 * and arg lines instead of backend_pipe; the table keeps copies of all. */
static void test_definition(void)
{
    static const char text[] = "binary_path = /opt/echo/1.0/echo-backend\n"
                               "per_version_binary_dir = /opt/echo/1.0\n"
                               "arg = --echo-protocol\n"
                               "arg = 0x7001\n"
                               "allow = 1.0.0\n";
    uint8_t mem[512];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_service svc;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(rpb_servicedef_parse_text(text, strlen(text), S("echo"), &arena, &svc, &err), RPB_OK);
    rpb_service_table *t = rpb_service_table_new();
    CU_ASSERT_EQUAL_FATAL(rpb_service_table_add(t, &svc, &err), RPB_OK);
    memset(mem, 0, sizeof mem); /* the table owns its copy */
    const rpb_service *got = rpb_service_table_find(t, S("echo"));
    CU_ASSERT_FATAL(got != NULL);
    CU_ASSERT_EQUAL(got->backend_pipe.len, 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(got->binary_path, "/opt/echo/1.0/echo-backend"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(got->per_version_binary_dir, "/opt/echo/1.0"));
    CU_ASSERT_EQUAL_FATAL(got->launch_args.count, 2);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(got->launch_args.head->value, "--echo-protocol"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(got->launch_args.head->next->value, "0x7001"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(got->allow_list.head->value, "1.0.0"));
    rpb_service_table_free(t);

    static const char relative[] = "binary_path = echo-backend\n";
    rpb_arena_init(&arena, mem, sizeof mem);
    CU_ASSERT_EQUAL(rpb_servicedef_parse_text(relative, strlen(relative), S("echo"), &arena, &svc, &err),
                    RPB_ERR_INVALID_ARGUMENT);
    static const char neither[] = "allow = 1.0.0\n";
    rpb_arena_init(&arena, mem, sizeof mem);
    CU_ASSERT_EQUAL(rpb_servicedef_parse_text(neither, strlen(neither), S("echo"), &arena, &svc, &err),
                    RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(err.message, "backend_pipe is required");
}

int main(void)
{
    static const tu_test tests[] = {
        {"spawn budget (LAUNCH-006)", test_budget},
        {"budget per key (LAUNCH-006)", test_budget_per_key},
        {"success resets the budget, exit relaunches (LAUNCH-006, LAUNCH-009)", test_success_resets_budget},
        {"single-flight (LAUNCH-007)", test_single_flight},
        {"bounded keys", test_bounded_keys},
        {"launched service definition", test_definition},
        {"binary inside per_version_binary_dir (LAUNCH-001)", test_binary_resolve},
        {NULL, NULL},
    };
    return tu_run("launch", tests);
}
