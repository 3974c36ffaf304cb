/*
 * report.h - the reporters of rpb-conform: the human view (one line per
 * case, failures as expected vs observed, a closing "N passed, N failed,
 * N skipped" line), TAP on stdout, and JSON, JUnit XML and a self-contained
 * HTML page written to files.
 */
#ifndef CONFORM_REPORT_H
#define CONFORM_REPORT_H

#include <stdio.h>

#include "conform.h"

/* A case's result judged against the expected-failure list. */
enum status {
    ST_PASS,  /* passed, not listed */
    ST_FAIL,  /* failed, not listed: unexpected */
    ST_SKIP,  /* could not run, not listed */
    ST_XFAIL, /* failed, listed: expected */
    ST_XPASS, /* passed, listed: unexpected (the list is stale) */
    ST_XSKIP, /* skipped, listed: unexpected (the list cannot be verified) */
};
const char *status_name(enum status st); /* "pass", "fail", ... */
bool status_unexpected(enum status st);

typedef struct outcome {
    const hcase *cs;
    cresult r;
    enum status st;
    const char *expect_reason; /* the list's "# reason", when listed */
    size_t log_from, log_to;   /* the daemon's log written while it ran (offsets; --spawn) */
    size_t conn_from, conn_to; /* its connections: the daemon's conn_from+1..conn_to */
} outcome;

typedef struct run_info {
    const char *role;     /* the suite: "broker" or "backend" (role_name()) */
    const char *target;   /* "spawn: CMD" or "connect: PATH" */
    const char *tier;     /* "core" or "strict" */
    const char *started;  /* ISO 8601 UTC */
    double wall_ms;
    outcome *v;
    size_t n;
    size_t passed, failed, skipped, xfailed; /* failed: every unexpected result */
    const sbuf *peer_log;   /* the spawned daemon's stderr, or NULL */
    const char *peer_exit;  /* how the spawned daemon ended, or NULL */
} run_info;

void run_count(run_info *ri);

/* Human view. */
void report_human_case(FILE *out, const outcome *o, bool verbose);
void report_summary_line(FILE *out, const run_info *ri);

/* TAP version 13 on out. */
void report_tap_begin(FILE *out, size_t n);
void report_tap_case(FILE *out, size_t index, const outcome *o);

/* Files: 0, or -1 with errno set. */
int report_json(const char *path, const run_info *ri);
int report_junit(const char *path, const run_info *ri);
int report_html(const char *path, const run_info *ri);

#endif
