/*
 * test_probe_waits.c - how the probe requester and process verification
 * wait, observed from inside: the program is linked with --wrap for poll,
 * the sleep calls and librpb's SHA-256 finaliser rpb_sha256_final
 * (impl/tests/CMakeLists.txt), so librpb's calls to them come here first.
 *
 * - PROBE-031: rpb_probe_endpoint() waits for the response with poll(2) on
 *   the socket and never sleeps.  The responder holds its answer until the
 *   requester has started to wait (a wrapped poll or sleep tells it), so
 *   the requester must wait, and the counts say how it did.
 * - PROBE-033: a connect to a listener whose backlog is full waits in a
 *   blocking connect(2) until the listener accepts, never sleeps, and ends
 *   at the deadline when the listener never does.  The wrapped connect
 *   tells the listener when the requester connects again after EAGAIN.
 * - IDENT-013 (strict): a process that exits while it is being verified
 *   fails with verify-process-exited.  The wrapped digest finaliser kills
 *   the child being verified after its executable was checked and hashed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "rpb/rpb.h"
#include "testutil.h"

/* ---- the wrapped calls ---- */

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __real_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem);
int __real_usleep(useconds_t us);
void __real_rpb_sha256_final(void *ctx, uint8_t out[32]);
int __real_connect(int fd, const struct sockaddr *sa, socklen_t len);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem);
int __wrap_usleep(useconds_t us);
void __wrap_rpb_sha256_final(void *ctx, uint8_t out[32]);
int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len);

static _Thread_local bool observed; /* this thread's calls are counted */
static int polls, sleeps, connects; /* by the observed thread */
static int waiting_fd = -1;         /* written once the observed thread waits */
static pid_t kill_on_digest;        /* killed when a digest is finished */

/* Tells the peer thread (once) that the observed thread is about to wait. */
static void tell_waiting(void)
{
    if (waiting_fd >= 0 && write(waiting_fd, "w", 1) == 1) {
        close(waiting_fd);
        waiting_fd = -1;
    }
}

/* The observed thread is about to wait: count it and tell the responder. */
static void waits(bool by_sleeping)
{
    if (!observed)
        return;
    if (by_sleeping)
        sleeps++;
    else
        polls++;
    tell_waiting();
}

/* A second connect by the observed thread is its wait for the backlog. */
int __wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (observed && ++connects == 2)
        tell_waiting();
    return __real_connect(fd, sa, len);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    /* a poll on no descriptor, or with no time to wait, is not a wait for
     * readiness: the first is a sleep, the second a check */
    if (n == 0)
        waits(true);
    else if (timeout != 0)
        waits(false);
    return __real_poll(fds, n, timeout);
}

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
    waits(true);
    return __real_nanosleep(req, rem);
}

int __wrap_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
    waits(true);
    return __real_clock_nanosleep(clock, flags, req, rem);
}

int __wrap_usleep(useconds_t us)
{
    waits(true);
    return __real_usleep(us);
}

void __wrap_rpb_sha256_final(void *ctx, uint8_t out[32])
{
    if (kill_on_digest > 0) {
        /* the process ends between the digest and the final check; waited
         * for (not reaped) so it has exited when verification looks */
        siginfo_t si;
        kill(kill_on_digest, SIGKILL);
        waitid(P_PID, (id_t)kill_on_digest, &si, WEXITED | WNOWAIT);
        kill_on_digest = 0;
    }
    __real_rpb_sha256_final(ctx, out);
}

/* ---- PROBE-031 ---- */

typedef struct responder {
    int lfd, waiting; /* listening socket; read end of the requester's signal */
    const rpb_daemon_process *self;
    int answered;     /* RPB_OK when the response was written */
} responder;

/* Accepts one connection, reads the probe request, waits until the
 * requester waits, then answers. */
static void *respond(void *arg)
{
    responder *r = arg;
    r->answered = RPB_ERR_IO;
    int fd = accept(r->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    rpb_buf body = {0};
    rpb_frame req;
    size_t used;
    int64_t deadline = rpb_monotonic_ms() + 10000;
    if (rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, deadline, &body, NULL) == RPB_OK &&
        rpb_decode(&rpb_frame_desc, body.data, body.len, &req, NULL, 0, NULL) == RPB_OK) {
        struct pollfd p = {r->waiting, POLLIN, 0};
        __real_poll(&p, 1, 10000); /* the requester started to wait (or 10 s: it never did) */
        uint8_t out[4096];
        if (rpb_probe_response_encode(&req, r->self, out, sizeof out, &used) == RPB_OK &&
            send(fd, out, used, MSG_NOSIGNAL) == (ssize_t)used)
            r->answered = RPB_OK;
    }
    rpb_buf_free(&body);
    close(fd);
    return NULL;
}

static void test_requester_polls(void)
{
    char dir[] = "/tmp/rpb-probe-waits-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/b.sock", dir);
    const char *path = sa.sun_path;
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(lfd, 4) == 0);
    rpb_identity self;
    CU_ASSERT_FATAL(rpb_identity_current(&self, "ns", path, false, 0) == RPB_OK);
    int sig[2];
    CU_ASSERT_FATAL(pipe2(sig, O_CLOEXEC) == 0);
    responder r = {.lfd = lfd, .waiting = sig[0], .self = &self.dp};
    pthread_t t;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, respond, &r) == 0);

    polls = sleeps = 0;
    waiting_fd = sig[1];
    observed = true;
    rpb_probe_outcome out;
    int rc = rpb_probe_endpoint(&self.dp.ipc_endpoint, &self.dp, 10000, 0, &out, NULL);
    observed = false;
    pthread_join(t, NULL);

    CU_ASSERT_EQUAL(r.answered, RPB_OK);
    CU_ASSERT_EQUAL(rc, RPB_OK);
    /* PROBE-031: the requester waited, with poll on the socket only */
    CU_ASSERT(polls >= 1);
    CU_ASSERT_EQUAL(sleeps, 0);
    if (sleeps || !polls)
        fprintf(stderr, "\n  the requester waited with %d polls and %d sleeps\n", polls, sleeps);
    rpb_probe_outcome_free(&out);
    if (waiting_fd >= 0)
        close(waiting_fd);
    waiting_fd = -1;
    close(sig[0]);
    close(lfd);
    unlink(path);
    rmdir(dir);
}

/* ---- PROBE-033 ---- */

typedef struct backlog {
    char dir[32];
    struct sockaddr_un sa;
    int lfd;
    int queued[8]; /* the connections that fill the backlog */
    size_t n_queued;
} backlog;

/* A listener with backlog 0, filled: the next non-blocking connect to it
 * fails with EAGAIN. */
static void backlog_fill(backlog *b)
{
    snprintf(b->dir, sizeof b->dir, "/tmp/rpb-backlog-XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(b->dir) != NULL);
    b->sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    snprintf(b->sa.sun_path, sizeof b->sa.sun_path, "%s/b.sock", b->dir);
    b->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(b->lfd >= 0 && bind(b->lfd, (struct sockaddr *)&b->sa, sizeof b->sa) == 0 &&
                    listen(b->lfd, 0) == 0);
    b->n_queued = 0;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        CU_ASSERT_FATAL(fd >= 0);
        if (connect(fd, (struct sockaddr *)&b->sa, sizeof b->sa) < 0) {
            CU_ASSERT_EQUAL_FATAL(errno, EAGAIN);
            close(fd);
            break;
        }
        CU_ASSERT_FATAL(b->n_queued < sizeof b->queued / sizeof *b->queued);
        b->queued[b->n_queued++] = fd;
    }
}

static void backlog_close(backlog *b)
{
    for (size_t i = 0; i < b->n_queued; i++)
        close(b->queued[i]);
    close(b->lfd);
    unlink(b->sa.sun_path);
    rmdir(b->dir);
}

typedef struct acceptor {
    int lfd, waiting; /* listening socket; read end of the requester's signal */
    int accepted;     /* the connection it took from the backlog, or -1 */
} acceptor;

/* Once the requester connects again, takes one connection from the
 * backlog, which makes room for the requester's. */
static void *accept_one(void *arg)
{
    acceptor *a = arg;
    struct pollfd p = {a->waiting, POLLIN, 0};
    __real_poll(&p, 1, 10000); /* the requester connects again (or 10 s: it never did) */
    a->accepted = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
    return NULL;
}

/* Runs rpb_client_connect(path, deadline) as the observed thread; the
 * counts say how it waited. */
static int observed_connect(const char *path, int64_t deadline_ms)
{
    polls = sleeps = connects = 0;
    observed = true;
    int fd = rpb_client_connect(path, deadline_ms);
    observed = false;
    if (sleeps || polls)
        fprintf(stderr, "\n  the connect waited with %d polls and %d sleeps\n", polls, sleeps);
    return fd;
}

static void test_connect_waits_for_accept(void)
{
    backlog b;
    backlog_fill(&b);
    int sig[2];
    CU_ASSERT_FATAL(pipe2(sig, O_CLOEXEC) == 0);
    acceptor a = {.lfd = b.lfd, .waiting = sig[0], .accepted = -1};
    pthread_t t;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, accept_one, &a) == 0);
    waiting_fd = sig[1];
    int fd = observed_connect(b.sa.sun_path, rpb_monotonic_ms() + 10000);
    pthread_join(t, NULL);

    CU_ASSERT(fd >= 0);
    CU_ASSERT(a.accepted >= 0);
    /* EAGAIN, then the connect that waited for the accept */
    CU_ASSERT_EQUAL(connects, 2);
    CU_ASSERT_EQUAL(sleeps, 0);
    CU_ASSERT_EQUAL(polls, 0);
    if (fd >= 0) {
        /* connected, and blocking with no send timeout left behind */
        struct timeval tv = {1, 1};
        socklen_t len = sizeof tv;
        CU_ASSERT_EQUAL(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len), 0);
        CU_ASSERT(tv.tv_sec == 0 && tv.tv_usec == 0);
        CU_ASSERT_EQUAL(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
        close(fd);
    }
    if (a.accepted >= 0)
        close(a.accepted);
    if (waiting_fd >= 0)
        close(waiting_fd);
    waiting_fd = -1;
    close(sig[0]);
    backlog_close(&b);
}

static void test_connect_deadline_on_full_backlog(void)
{
    backlog b;
    backlog_fill(&b);
    int fd = observed_connect(b.sa.sun_path, rpb_monotonic_ms() + 50);
    CU_ASSERT_EQUAL(fd, RPB_ERR_TIMEOUT);
    CU_ASSERT_EQUAL(sleeps, 0);
    CU_ASSERT_EQUAL(polls, 0);
    if (fd >= 0)
        close(fd);
    backlog_close(&b);
}

/* ---- IDENT-013 ---- */

static void test_exit_during_verification(void)
{
    int hold[2];
    CU_ASSERT_FATAL(pipe2(hold, O_CLOEXEC) == 0);
    pid_t child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        char c;
        close(hold[1]);
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(hold[0]);
    /* the child runs this program: our identity with its pid */
    rpb_identity id;
    CU_ASSERT_FATAL(rpb_identity_current(&id, "", "/unused.sock", false, 0) == RPB_OK);
    id.dp.pid = (uint32_t)child;
    rpb_process proc;

    /* the child alive throughout: verified */
    int rc = rpb_verify_process(&id.dp, &proc);
    CU_ASSERT_EQUAL(rc, RPB_OK);
    if (rc == RPB_OK)
        rpb_process_close(&proc);

    /* the child killed after its executable was hashed (IDENT-013) */
    kill_on_digest = child;
    rc = rpb_verify_process(&id.dp, &proc);
    if (rc != RPB_ERR_VERIFY_PROCESS_EXITED)
        fprintf(stderr, "\n  verification of a process that exited during it: %s\n", rpb_errname(rc));
    CU_ASSERT_EQUAL(rc, RPB_ERR_VERIFY_PROCESS_EXITED);
    CU_ASSERT_EQUAL(kill_on_digest, 0); /* the digest step ran */
    close(hold[1]);
    waitpid(child, NULL, 0);
}

int main(void)
{
    static const tu_test tests[] = {
        {"the requester waits with poll, never sleeps (PROBE-031)", test_requester_polls},
        {"a connect on a full backlog waits for the accept, never sleeps (PROBE-033)",
         test_connect_waits_for_accept},
        {"a connect on a full backlog ends at the deadline (PROBE-033)", test_connect_deadline_on_full_backlog},
        {"a process that exits during verification fails (IDENT-013)", test_exit_during_verification},
        {NULL, NULL},
    };
    signal(SIGPIPE, SIG_IGN);
    return tu_run("probe-waits", tests);
}
