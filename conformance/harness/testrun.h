/*
 * testrun.h - helpers for the harness's own tests (test_harness.c and
 * conformance/mutants/test_mutants.c): run rpb-conform as a child process,
 * collect its output and exit status, read its JSON report, and run the
 * registered CUnit tests.
 */
#ifndef CONFORM_TESTRUN_H
#define CONFORM_TESTRUN_H

#include <stdbool.h>
#include <sys/types.h>

#include <rpb/json.h>

#include "sbuf.h"

/* Starts argv[0] with argv; stdout and stderr go to out_path (or /dev/null
 * when NULL).  Returns the pid, or -1. */
pid_t run_start(char *const argv[], const char *out_path);

/* Waits for pid: its exit status, 128 + signal, or -1. */
int run_wait(pid_t pid);

/* run_start + run_wait, with the output read back into out (may be NULL). */
int run_cmd(char *const argv[], sbuf *out);

/* Reads a whole file into b; false when it cannot be read. */
bool read_file(const char *path, sbuf *b);

/* Parses the JSON report at path into doc; false (and a message on stderr)
 * when unreadable or invalid. */
bool read_report(const char *path, rpb_json_doc *doc);

/* The entry of case id in a report's "cases" array, or NULL. */
const rpb_json_value *report_case(const rpb_json_value *report, const char *id);

/* The first failure line of a case entry, or "". */
const char *report_first_failure(const rpb_json_value *entry);

/* A fresh private temp dir (mkdtemp) in out[cap]; false on failure. */
bool make_temp_dir(char *out, size_t cap);

/* Removes dir and the plain files directly in it. */
void remove_temp_dir(const char *dir);

/* Runs the tests registered with CUnit (verbose), cleans up the registry,
 * then removes tmp_dir (remove_temp_dir(); none when NULL).  Returns the
 * exit status for main(): 0 when every test and assertion passed, else 1. */
int cunit_run(const char *tmp_dir);

#endif
