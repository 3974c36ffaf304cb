/*
 * test_mutants.c - the conformance suites must catch every hand-made mutant
 * of rpb-broker and rpb-backend (mutants.txt, FAULTS.md): for each,
 * rpb-conform runs the whole strict suite of its role (the role of its
 * catch cases, broker/... or backend/...) against MUTANT-DIR/<name> (built
 * by conformance/mutants/CMakeLists.txt), and the test requires exit status
 * 1 with every case named for the mutant failing on its own.  Also: the
 * broker and the backend assembled the same way without an edit
 * (MUTANT-DIR/reference, MUTANT-DIR/reference-backend) pass.
 *
 * Without NAMEs, every mutant of CATCH-FILE whose cases do not need root
 * runs; with NAMEs, those.  Exit 77 (ctest's skip) with the reason when a
 * mutant binary is missing or every selected mutant needs root and this is
 * not root.  The runs are independent (one broker and temp dir each) and
 * run two at a time (ctest runs this test alone) before the CUnit tests
 * judge them.
 *
 * usage: test_mutants RPB-CONFORM MUTANT-DIR CATCH-FILE [NAME...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "testrun.h"

#define MAX_MUTANTS 96
#define MAX_CASES 4
#define PARALLEL 2
#define EXIT_SKIP 77

typedef struct mutant {
    char fault[64]; /* the mutant's name */
    char cases[MAX_CASES][160];
    int n_cases;
    int needs_root;
    int status;  /* rpb-conform's exit status */
    char json[336]; /* tmp/<fault>.json: 255 + 1 + 63 + 5 + NUL fit */
    char out[336];
    char name[300]; /* its CUnit test's name */
    CU_pTest cu;    /* its CUnit test */
} mutant;

static const char *conform_bin, *mutant_dir;
static mutant mutants[MAX_MUTANTS];
static int n_mutants;
static char tmp[256];
static int baseline_status = -1, baseline_backend_status = -1;
static bool run_baseline;

/* Loads the mutants of the catch file: those named in want[0..n_want), or
 * every one whose cases need no root when n_want is 0. */
static int load(const char *path, char **want, int n_want)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *tok = strtok(line, " \t\r\n");
        if (!tok)
            continue;
        if (n_mutants == MAX_MUTANTS) {
            fprintf(stderr, "%s: more than %d mutants\n", path, MAX_MUTANTS);
            fclose(f);
            return -1;
        }
        mutant *m = &mutants[n_mutants++];
        memset(m, 0, sizeof *m);
        snprintf(m->fault, sizeof m->fault, "%s", tok);
        while ((tok = strtok(NULL, " \t\r\n")) != NULL) {
            if (strcmp(tok, "root") == 0)
                m->needs_root = 1;
            else if (m->n_cases < MAX_CASES)
                snprintf(m->cases[m->n_cases++], sizeof m->cases[0], "%s", tok);
            else
                break;
        }
        if (tok != NULL) {
            fprintf(stderr, "%s: %s names more than %d cases\n", path, m->fault, MAX_CASES);
            fclose(f);
            return -1;
        }
        if (m->n_cases == 0) {
            fprintf(stderr, "%s: %s names no case\n", path, m->fault);
            fclose(f);
            return -1;
        }
        bool wanted = n_want == 0 && !m->needs_root;
        for (int i = 0; i < n_want; i++)
            wanted |= strcmp(want[i], m->fault) == 0;
        if (!wanted)
            n_mutants--;
    }
    fclose(f);
    return 0;
}

/* The path of mutant name's broker. */
static void mutant_path(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%.300s/%.63s", mutant_dir, name);
}

/* Starts the strict suite of role ("broker", "backend") against the
 * mutant name, with the fixture's settings (conformance/README.md). */
static pid_t start(const char *role, const char *name, const char *json, const char *out)
{
    char daemon[400], spawn[1024];
    mutant_path(name, daemon, sizeof daemon);
    bool backend = strcmp(role, "backend") == 0;
    snprintf(spawn, sizeof spawn,
             backend ? "%s --socket {socket} --identity-file {identity} --frame-timeout 1000 --echo-protocol 0xF412"
                       " --handoff-socket {handoff} --handoff-timeout 1000"
                     : "%s --socket {socket} --services {services} --rate-limit 500/10000 --handshake-timeout 1000"
                             " --handoff-ack-timeout 1000 --handoff-failures 1000/1000",
             daemon);
    char *argv[] = {(char *)conform_bin, (char *)role, "--tier", "strict", "--spawn", spawn, "--json", (char *)json,
                    backend ? "--echo-protocol" : NULL, "0xF412", NULL};
    return run_start(argv, out);
}

/* Sets m's report paths in tmp and its CUnit test's name.  Not inlined:
 * where m is known to point into mutants[], gcc no longer tells its members
 * apart and warns that m->fault may overlap m->json (-Wrestrict). */
static __attribute__((noinline)) void name_mutant(mutant *m)
{
    snprintf(m->json, sizeof m->json, "%s/%s.json", tmp, m->fault);
    snprintf(m->out, sizeof m->out, "%s/%s.out", tmp, m->fault);
    snprintf(m->name, sizeof m->name, "%.63s is caught by %.159s%s", m->fault, m->cases[0],
             m->n_cases > 1 ? " and others" : "");
}

/* The role a mutant breaks: that of its first catch case. */
static const char *role_of(const mutant *m)
{
    return strncmp(m->cases[0], "backend/", 8) == 0 ? "backend" : "broker";
}

/* Runs every mutant, PARALLEL at a time. */
static int run_all(void)
{
    pid_t pids[MAX_MUTANTS];
    int next = 0, done = 0, running = 0;
    while (done < n_mutants) {
        while (running < PARALLEL && next < n_mutants) {
            mutant *m = &mutants[next];
            pids[next++] = start(role_of(m), m->fault, m->json, m->out);
            running++;
        }
        /* wait for the oldest still running */
        mutants[done].status = run_wait(pids[done]);
        done++;
        running--;
    }
    if (run_baseline) {
        char json[300];
        snprintf(json, sizeof json, "%s/baseline.json", tmp);
        baseline_status = run_wait(start("broker", "reference", json, NULL));
        snprintf(json, sizeof json, "%s/baseline-backend.json", tmp);
        baseline_backend_status = run_wait(start("backend", "reference-backend", json, NULL));
    }
    return 0;
}

static void check_mutant(mutant *m)
{
    if (m->status != 1) {
        sbuf out = SBUF_INIT;
        read_file(m->out, &out);
        fprintf(stderr, "\n  %s: rpb-conform exited %d (expected 1)\n%s\n", m->fault, m->status, sb_str(&out));
        sb_free(&out);
    }
    CU_ASSERT_EQUAL(m->status, 1);
    rpb_json_doc doc;
    CU_ASSERT_FATAL(read_report(m->json, &doc));
    for (int k = 0; k < m->n_cases; k++) {
        const rpb_json_value *e = report_case(doc.root, m->cases[k]);
        bool failed = e && rpb_json_is_string(rpb_json_get(e, "status"), "fail");
        const char *why = e ? report_first_failure(e) : "";
        bool own = failed && strncmp(why, "not run:", 8) != 0;
        if (!own)
            fprintf(stderr, "\n  %s: case %s %s%s\n", m->fault, m->cases[k],
                    !e ? "is not in the report" : !failed ? "did not fail" : "failed only because it did not run: ",
                    failed ? why : "");
        CU_ASSERT(own);
    }
    rpb_json_doc_free(&doc);
}

/* The one CUnit test function of the mutants: checks the mutant CUnit is
 * running. */
static void check_current(void)
{
    CU_pTest cu = CU_get_current_test();
    for (int i = 0; i < n_mutants; i++)
        if (mutants[i].cu == cu)
            check_mutant(&mutants[i]);
}

static void test_baseline(void)
{
    /* the reference daemons assembled the mutant way pass */
    CU_ASSERT_EQUAL(baseline_status, 0);
    CU_ASSERT_EQUAL(baseline_backend_status, 0);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_mutants RPB-CONFORM MUTANT-DIR CATCH-FILE [NAME...]\n");
        return 2;
    }
    conform_bin = argv[1];
    mutant_dir = argv[2];
    run_baseline = argc == 4;
    if (load(argv[3], argv + 4, argc - 4) < 0)
        return 2;
    if (n_mutants < argc - 4) {
        fprintf(stderr, "%s: a mutant named on the command line is not in it\n", argv[3]);
        return 2;
    }
    for (int i = 0; i < n_mutants; i++) {
        if (mutants[i].needs_root && geteuid() != 0) {
            printf("skipped: the case of mutant %s needs root\n", mutants[i].fault);
            return EXIT_SKIP;
        }
        char bin[400];
        mutant_path(mutants[i].fault, bin, sizeof bin);
        if (access(bin, X_OK) != 0) {
            printf("skipped: mutant %s is not built (%s)\n", mutants[i].fault, bin);
            return EXIT_SKIP;
        }
    }
    if (!make_temp_dir(tmp, sizeof tmp)) {
        perror("mkdtemp");
        return 2;
    }
    for (int i = 0; i < n_mutants; i++)
        name_mutant(&mutants[i]);
    printf("running the strict suite against %d mutants, %d at a time ...\n", n_mutants, PARALLEL);
    fflush(stdout);
    run_all();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("mutants", NULL, NULL);
    if (run_baseline)
        CU_add_test(s, "the reference broker and backend assembled as mutants pass", test_baseline);
    for (int i = 0; i < n_mutants; i++) {
        mutant *m = &mutants[i];
        m->cu = CU_add_test(s, m->name, check_current);
    }
    return cunit_run(tmp);
}
