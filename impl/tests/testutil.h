/*
 * testutil.h - helpers shared by the CUnit programs in impl/tests/ and the
 * integration tests in conformance/ (broker-it, backend-it, handoff-it,
 * launch-it, rendezvous-it).
 */
#ifndef RPB_TESTUTIL_H
#define RPB_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <CUnit/Basic.h>

/* Parses hex (spaces allowed) into a malloc'd buffer; aborts on bad input. */
uint8_t *tu_hex(const char *hex, size_t *len);

/* Copies data to the very end of a read/write page that is followed by a
 * PROT_NONE page, so any read past len faults at once (the picohttpparser
 * trick).  Release with tu_guarded_free(). */
uint8_t *tu_guarded_copy(const uint8_t *data, size_t len);
void tu_guarded_free(uint8_t *p, size_t len);

/* ctest's SKIP_RETURN_CODE for every test program. */
#define TU_SKIP_EXIT 77

/* The exit status of pid within ms milliseconds (128 + signal number when
 * it was killed), or -1 when it had not exited (it is then killed). */
int tu_wait_exit(pid_t pid, int ms);

/* Runs argv[0] with argv (stderr to /dev/null), collects its stdout into
 * out[0..cap) NUL-terminated, and returns tu_wait_exit(pid, ms). */
int tu_run_capture(const char *const *argv, char *out, size_t cap, int ms);

/* Follows a log file as it grows: a read that finds nothing waits for the
 * file's next IN_MODIFY, so a test waits for the line it needs instead of
 * sleeping. */
typedef struct tu_tail {
    int fd, ino;
    size_t off, len;
    char buf[65536];
} tu_tail;

/* Follows path (created when missing) from its current end; false with
 * the reason printed when it cannot. */
bool tu_tail_open(tu_tail *t, const char *path);
void tu_tail_close(tu_tail *t);

/* The next complete line (valid until the next call), or NULL when none
 * is written by the monotonic time end (ms). */
char *tu_tail_next(tu_tail *t, int64_t end);

/* Waits up to ms for a line holding a and (when not NULL) b; prints what
 * it waited for when none came. */
bool tu_tail_wait(tu_tail *t, const char *a, const char *b, int ms);

/* Starts a daemon: forks, execs argv (argv[0] the binary) and waits up to
 * ms for a line of the log at log_path holding a and b (tu_tail_wait);
 * returns its pid, or -1 (it is killed) when no such line comes. */
pid_t tu_start_daemon(const char *const *argv, const char *log_path, const char *a, const char *b,
                      int ms);

/* Sends all of p[0..n) on a stream socket (MSG_NOSIGNAL), in as many
 * sends as it takes: true when all of it went. */
bool tu_send_all(int fd, const void *p, size_t n);

/* Reads the file at path into buf[0..cap), NUL-terminated (at most cap - 1
 * bytes); "" when it cannot be read. */
void tu_read_text(const char *path, char *buf, size_t cap);

/* How many times needle occurs in text (not overlapping). */
size_t tu_count(const char *text, const char *needle);

/* Writes dir/name.service for rpb-broker: backend_pipe = pipe,
 * daemon_version = 1.0.0 and, when handoff is not NULL, handoff_socket =
 * handoff.  True when written. */
bool tu_write_service(const char *dir, const char *name, const char *pipe, const char *handoff);

/* One sendmsg of data[0..len) with the descriptors fds[0..n) (n <= 16)
 * in one SCM_RIGHTS message, none when n is 0: true when all of data
 * went. */
bool tu_send_fds(int sock, const void *data, size_t len, const int *fds, size_t n);

/* Stops the daemon pid (SIGTERM) and, when root is not NULL, removes the
 * test's directory root if status is 0 and the daemon exited 0 within
 * 10 s: returns status, or 1 when either failed. */
int tu_finish(pid_t pid, const char *root, int status);

/* One suite: its name and NULL-terminated tests. */
typedef struct tu_test {
    const char *name;
    void (*fn)(void);
} tu_test;

/* A test that is its own ctest entry: the program started with its id
 * runs it and nothing else.  Only such a test may skip (tu_skip), so a
 * skip never hides the results of other tests. */
typedef struct tu_alone {
    const char *id;
    const char *name;
    void (*fn)(void);
} tu_alone;

/* Registers the suites, runs them in verbose mode, prints CUnit's summary
 * and returns the process exit code (0 only when every assertion passed). */
int tu_run(const char *suite_name, const tu_test *tests);

/* Runs tests when only is NULL, else the test of alone (NULL-id
 * terminated) whose id is only.  Exit code: 0 passed, TU_SKIP_EXIT the
 * alone test skipped, 1 a failure or a skip among tests, 2 no such id. */
int tu_run_only(const char *suite_name, const tu_test *tests, const tu_alone *alone,
                const char *only);

/* Marks the running test skipped and prints why; the test returns at once
 * after calling it. */
void tu_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
