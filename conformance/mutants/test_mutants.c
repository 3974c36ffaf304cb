/*
 * test_mutants.c - the conformance suite must catch every broker fault in
 * mutants.txt: for each, rpb-conform runs the whole strict suite against
 * rpb-broker-faulty with RPB_BROKER_FAULT=<fault>, and the test requires
 * exit status 1 with every case named for the fault failing on its own.
 * Also: the faulty build without a fault passes, an unknown fault name
 * cannot pass, and every fault the broker offers has a mutant.
 *
 * The runs are independent (one broker and temp dir each) and run two at
 * a time (ctest runs this test alone) before the CUnit tests judge them.
 *
 * usage: test_mutants RPB-CONFORM RPB-BROKER-FAULTY MUTANTS-FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "testrun.h"

#define MAX_MUTANTS 64
#define MAX_CASES 4
#define PARALLEL 2

typedef struct mutant {
    char fault[64];
    char cases[MAX_CASES][160];
    int n_cases;
    int needs_root;
    int status;  /* rpb-conform's exit status */
    char json[320];
    char out[320];
    char name[300]; /* its CUnit test's name */
    CU_pTest cu;    /* its CUnit test */
} mutant;

static const char *conform_bin, *faulty_bin;
static mutant mutants[MAX_MUTANTS];
static int n_mutants;
static char tmp[256];
static int baseline_status = -1, unknown_status = -1;

static int load(const char *path)
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
    }
    fclose(f);
    return 0;
}

static char spawn[1024];

static pid_t start(const char *fault, const char *json, const char *out)
{
    char *argv[] = {(char *)conform_bin, "broker", "--tier", "strict", "--spawn", spawn, "--json", (char *)json, NULL};
    return run_start(argv, fault, out);
}

/* Runs every mutant, PARALLEL at a time. */
static int run_all(void)
{
    pid_t pids[MAX_MUTANTS];
    int next = 0, done = 0, running = 0;
    while (done < n_mutants) {
        while (running < PARALLEL && next < n_mutants) {
            mutant *m = &mutants[next];
            snprintf(m->json, sizeof m->json, "%s/%s.json", tmp, m->fault);
            snprintf(m->out, sizeof m->out, "%s/%s.out", tmp, m->fault);
            pids[next++] = start(m->fault, m->json, m->out);
            running++;
        }
        /* wait for the oldest still running */
        mutants[done].status = run_wait(pids[done]);
        done++;
        running--;
    }
    char json[300];
    snprintf(json, sizeof json, "%s/baseline.json", tmp);
    baseline_status = run_wait(start(NULL, json, NULL));
    unknown_status = run_wait(start("no-such-fault", json, NULL));
    return 0;
}

static void check_mutant(mutant *m)
{
    if (m->needs_root && geteuid() != 0) {
        printf("\n  skipped: %s needs root for its case\n", m->fault);
        return;
    }
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
    /* the faulty build with no fault set is the reference broker */
    CU_ASSERT_EQUAL(baseline_status, 0);
}

static void test_unknown_fault(void)
{
    /* a typo in a fault name must not look like a passing broker */
    CU_ASSERT_EQUAL(unknown_status, 3);
}

static void test_every_fault_has_a_mutant(void)
{
    char *argv[] = {(char *)faulty_bin, "--list-faults", NULL};
    sbuf out = SBUF_INIT;
    CU_ASSERT_EQUAL(run_cmd(argv, NULL, &out), 0);
    int offered = 0;
    for (char *line = strtok((char *)out.data, "\n"); line; line = strtok(NULL, "\n")) {
        offered++;
        bool listed = false;
        for (int i = 0; i < n_mutants && !listed; i++)
            listed = strcmp(mutants[i].fault, line) == 0;
        if (!listed)
            fprintf(stderr, "\n  fault %s has no mutant in mutants.txt\n", line);
        CU_ASSERT(listed);
    }
    CU_ASSERT(offered >= 20);
    CU_ASSERT(n_mutants >= 20);
    sb_free(&out);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_mutants RPB-CONFORM RPB-BROKER-FAULTY MUTANTS-FILE\n");
        return 2;
    }
    conform_bin = argv[1];
    faulty_bin = argv[2];
    if (load(argv[3]) < 0)
        return 2;
    if (!make_temp_dir(tmp, sizeof tmp)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(spawn, sizeof spawn,
             "%s --socket {socket} --services {services} --rate-limit 500/10000 --handshake-timeout 1000", faulty_bin);
    printf("running the strict suite against %d mutants, %d at a time ...\n", n_mutants, PARALLEL);
    fflush(stdout);
    run_all();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("mutants", NULL, NULL);
    CU_add_test(s, "rpb-broker-faulty without a fault passes", test_baseline);
    CU_add_test(s, "an unknown fault name stops the broker (exit 3)", test_unknown_fault);
    CU_add_test(s, "every fault the broker offers has a mutant", test_every_fault_has_a_mutant);
    for (int i = 0; i < n_mutants; i++) {
        mutant *m = &mutants[i];
        snprintf(m->name, sizeof m->name, "%.63s is caught by %.159s%s", m->fault, m->cases[0],
                 m->n_cases > 1 ? " and others" : "");
        m->cu = CU_add_test(s, m->name, check_current);
    }
    return cunit_run(tmp);
}
