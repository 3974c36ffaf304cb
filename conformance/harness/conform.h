/*
 * conform.h - core types of rpb-conform: the case table, the per-case
 * context and result, and the check helpers every case uses.
 *
 * A case is a row {id, tier, requirement IDs, title, function, data} in
 * the table of its area (cases_<area>.c, listed by cases.c).  The runner
 * (main.c) gives each selected case a cctx; the case talks to the broker
 * through conn.h, records failures with c_fail() (expected vs observed),
 * reason-string differences with c_note() and, when it cannot run, c_skip()
 * with the reason.
 */
#ifndef CONFORM_H
#define CONFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rpb/rpb.h>

#include "sbuf.h"

enum tier { TIER_CORE = 0, TIER_STRICT = 1 };
enum verdict { V_PASS = 0, V_FAIL, V_SKIP };

struct cctx;

/* The data of a table row, typed by the row kind (the row macros of
 * cases.h set the member their kind reads). */
struct mutation;
struct admin_variant;
typedef union case_arg {
    const struct mutation *mut;           /* MUTATE rows: the generic kind */
    const struct admin_variant *admin;    /* ADMIN rows */
    const struct probe_variant *probe;    /* PROBE rows (the backend suite) */
    const char *word;                     /* a variant named by a word */
    unsigned number;                      /* a variant named by a number */
} case_arg;

typedef struct hcase {
    const char *id;    /* stable hierarchical id, e.g. broker/hello/shape/... */
    enum tier tier;
    const char *reqs;  /* requirement IDs it checks, space separated */
    const char *title; /* what it checks, one sentence; NULL: derived by describe */
    void (*run)(struct cctx *c);
    case_arg arg;
    /* Writes the title of a row whose title only restates its data. */
    void (*describe)(const struct hcase *cs, sbuf *title);
    unsigned flags;    /* CASE_* */
} hcase;

/* The case stops the broker on purpose (it runs last; --spawn only). */
#define CASE_ENDS_BROKER 0x1u

/* One area's rows, kept in its cases_<area>.c beside the functions. */
typedef struct case_table {
    const hcase *rows;
    size_t n;
} case_table;
#define CASE_TABLE(name, rows) const case_table name = {rows, sizeof rows / sizeof rows[0]}

/* Every case in run order (cases.c): the area tables in order, the cases
 * that end the broker last, derived titles filled in.  Built on the first
 * call; the array lives until exit. */
const hcase *case_list(size_t *n);

/* The two suites: the role of the daemon under test.  Case ids start with
 * its name ("broker/", "backend/"). */
enum role { ROLE_BROKER = 0, ROLE_BACKEND = 1 };
const char *role_name(enum role r);

/* How the harness reaches the daemon and what the fixture promises. */
typedef struct hconfig {
    enum role role;
    const char *socket_path;
    int reply_ms;      /* wait for a reply that must come */
    int prompt_ms;     /* wait for a reply that must come without more input */
    int handshake_ms;  /* the daemon's deadline: the broker's handshake deadline, the
                        * backend's deadline for each next frame (MUX-006) */
    unsigned rate_n;   /* fixture rate limit: rate_n Hellos per rate_window_ms; 0 = not configured */
    unsigned rate_window_ms;
    bool root;         /* the harness runs as root (foreign-uid cases) */
    pid_t broker_pid;  /* the daemon's pid, known in --spawn mode, else 0 */
    const char *services_dir; /* the fixture's directory in --spawn mode, else NULL */
    const struct fixture_set *fixture; /* the services the broker was given */
    const char *identity_file; /* backend: its identity sidecar ({identity} or --identity), else NULL */
    bool has_echo;             /* backend: it serves echo_protocol (MUX-008, --echo-protocol) */
    uint32_t echo_protocol;
    const char *handoff_socket; /* broker: conform-handoff's handoff endpoint, where the harness
                                   plays the backend (--spawn, or --handoff-socket); backend: its
                                   handoff socket, where the harness plays the broker ({handoff},
                                   or --handoff-socket); NULL: none */
    int handoff_ms;             /* backend: its deadline for a handoff connection (HANDOFF-046) */
    const char *broker_log;     /* the broker's output in --spawn mode, else NULL */
} hconfig;

/* One connection as shown in the reports: what was sent, what came back. */
#define EXCH_KEEP_BYTES 4096u
typedef struct exchange {
    size_t n;           /* the case's nth connection (from 1) */
    bool cited;         /* a failure or note refers to it: always reported */
    char label[96];
    sbuf sent;          /* the first EXCH_KEEP_BYTES bytes sent */
    size_t sent_total;
    sbuf recv;          /* the first EXCH_KEEP_BYTES bytes received */
    size_t recv_total;
    char end[48];       /* how the connection ended as observed */
    sbuf expect_bytes;  /* the reply the case expects, when it is exact */
    sbuf expect_text;   /* the expectation in words */
} exchange;

/* The reports show a case's first CASE_FIRST_EXCHANGES connections for
 * context and every connection a failure or note refers to (the one whose
 * reply was read last when c_fail() or c_note() was called); the others are
 * counted as left out. */
#define CASE_FIRST_EXCHANGES 4
typedef struct cresult {
    enum verdict verdict;
    sbuf failures; /* one "expected ...; observed ..." line per failed check */
    sbuf notes;    /* reason-string differences and other remarks */
    sbuf skip;     /* why the case could not run */
    exchange **ex; /* every connection while the case runs; cresult_prune() keeps the reported ones */
    size_t n_ex, cap_ex;
    size_t n_connections;
    exchange *last;   /* the connection whose reply was read last */
    bool record_next; /* report the next connection whatever happens */
    double ms;
} cresult;

typedef struct cctx {
    const hconfig *cfg;
    const hcase *cs;
    cresult *r;
} cctx;

__attribute__((format(printf, 2, 3))) void c_fail(cctx *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void c_note(cctx *c, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void c_skip(cctx *c, const char *fmt, ...);
bool c_failed(const cctx *c);

/* The next connection is shown in the reports even when nothing refers to
 * it: for the one exchange that matters after many similar ones. */
void c_record_next(cctx *c);

/* A new connection of the case, numbered and recorded (aborts when out of
 * memory). */
exchange *c_new_exchange(cctx *c, const char *label);

/* Frees the connections the reports leave out (see CASE_FIRST_EXCHANGES). */
void cresult_prune(cresult *r);

void cresult_free(cresult *r);

#endif
