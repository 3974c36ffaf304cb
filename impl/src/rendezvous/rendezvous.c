/*
 * The rendezvous (rpb/rendezvous.h, spec/discovery.md §2): connect to the
 * user's broker, or take the lock beside its socket and start it.
 */
#define _GNU_SOURCE
#include "rpb/rendezvous.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/admin.h"
#include "rpb/client.h"
#include "rpb/error.h"
#include "rpb/io.h"
#include "rpb/messages.h"
#include "../core/errinfo.h"
#include "../io/wait.h"

extern char **environ;

#define PATH_CAP 4096
#define BACKOFF_MAX_MS 20 /* longest pause between two looks at the socket or lock */

const char *rpb_rdv_how_name(rpb_rdv_how how)
{
    switch (how) {
    case RPB_RDV_CONNECTED: return "connected";
    case RPB_RDV_STARTED_BY_OTHER: return "started-by-other";
    case RPB_RDV_STARTED: return "started";
    }
    return "unknown";
}

/* True once deadline (RPB_NO_DEADLINE: never) has passed. */
static bool expired(int64_t deadline)
{
    int unused;
    return !rpb_io_timeout(deadline, &unused);
}

/* Pauses up to *backoff ms (doubling it, bounded) or until fd is readable
 * (fd < 0: no fd), never past deadline. */
static void pause_for(int fd, int *backoff, int64_t deadline)
{
    int wait;
    if (!rpb_io_timeout(deadline, &wait))
        wait = 0;
    else if (wait < 0 || wait > *backoff)
        wait = *backoff;
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, fd >= 0 ? 1 : 0, wait);
    if (*backoff < BACKOFF_MAX_MS)
        *backoff *= 2;
}

enum { ABSENT = 1 }; /* try_connect: nobody listens at the path */

/* RDV-001, RDV-010: a connection to the path whose peer runs as our euid;
 * ABSENT when nothing listens there (no file, or a file nobody accepts
 * on); RPB_ERR_SQUATTED for a listener of another uid. */
static int try_connect(const char *path, int64_t deadline, int *fd_out, rpb_errinfo *err)
{
    int fd = rpb_client_connect(path, deadline);
    if (fd == RPB_ERR_IO && (errno == ENOENT || errno == ECONNREFUSED))
        return ABSENT;
    if (fd == RPB_ERR_TIMEOUT)
        return rpb_errinfo_printf(err, fd, 0, 0,
                                  "%s: the broker's listen backlog stayed full until the deadline", path);
    if (fd < 0)
        return rpb_errinfo_printf(err, fd, 0, 0, "cannot connect to %s: %s", path, strerror(errno));
    struct ucred cred = {0, (uid_t)-1, (gid_t)-1};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid()) {
        close(fd);
        return rpb_errinfo_printf(err, RPB_ERR_SQUATTED, 0, 0,
                                  "%s is served by pid %d of uid %u, not by a broker of uid %u: remove it, "
                                  "or use another --socket",
                                  path, (int)cred.pid, (unsigned)cred.uid, (unsigned)geteuid());
    }
    *fd_out = fd;
    return RPB_OK;
}

/* RDV-002: dir exists (created 0700 when missing), is no symlink and is
 * ours; private: no group/other bits at all; else (the parent) owned by us
 * or root, and sticky if others may write (like /tmp). */
static int check_dir(const char *dir, bool private, rpb_errinfo *err)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT || (mkdir(dir, 0700) != 0 && errno != EEXIST) || lstat(dir, &st) != 0)
            return rpb_errinfo_printf(err, RPB_ERR_IO, 0, 0,
                                      "cannot create the directory %s: %s", dir, strerror(errno));
    }
    uid_t me = geteuid();
    if (S_ISLNK(st.st_mode))
        return rpb_errinfo_printf(err, RPB_ERR_UNSAFE_PATH, 0, 0,
                                  "%s is a symlink; the broker directory must be a real "
                                  "directory of uid %u: remove the link", dir, (unsigned)me);
    if (!S_ISDIR(st.st_mode))
        return rpb_errinfo_printf(err, RPB_ERR_UNSAFE_PATH, 0, 0, "%s is not a directory: remove it", dir);
    if (private) {
        if (st.st_uid != me || (st.st_mode & 077) != 0)
            return rpb_errinfo_printf(err, RPB_ERR_UNSAFE_PATH, 0, 0,
                                      "%s has owner uid %u and mode %04o; it must be owned by uid %u with "
                                      "mode 0700 (chmod 700, or remove it)",
                                      dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)me);
    } else if ((st.st_uid != me && st.st_uid != 0) ||
               ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0)) {
        return rpb_errinfo_printf(err, RPB_ERR_UNSAFE_PATH, 0, 0,
                                  "%s has owner uid %u and mode %04o; it must be owned by uid %u (or root) "
                                  "and not writable by others: remove it",
                                  dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)me);
    }
    return RPB_OK;
}

/* RDV-002 for the socket's directory and its parent. */
int rpb_rendezvous_prepare_dir(const char *socket_path, rpb_errinfo *err)
{
    char dir[PATH_CAP];
    snprintf(dir, sizeof dir, "%s", socket_path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return rpb_errinfo_printf(err, RPB_ERR_INVALID_ARGUMENT, 0, 0,
                                  "%s: the socket path needs a directory of its own",
                                  socket_path);
    *slash = '\0';
    char *parent_end = strrchr(dir, '/');
    if (parent_end != NULL && parent_end != dir) {
        *parent_end = '\0';
        int rc = check_dir(dir, false, err);
        *parent_end = '/';
        if (rc != RPB_OK)
            return rc;
    }
    return check_dir(dir, true, err);
}

/* RDV-003: the lock file beside the socket: created 0600, never followed
 * through a symlink, a regular file of ours with one link and no
 * group/other bits. */
static int open_lock(const char *lock_path, rpb_errinfo *err)
{
    int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
        if (errno == ELOOP)
            return rpb_errinfo_printf(err, RPB_ERR_UNSAFE_PATH, 0, 0,
                                      "%s is a symlink: remove it", lock_path);
        return rpb_errinfo_printf(err, RPB_ERR_IO, 0, 0,
                                  "cannot open the lock file %s: %s", lock_path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0 || st.st_nlink != 1) {
        close(fd);
        return rpb_errinfo_printf(err, RPB_ERR_UNSAFE_PATH, 0, 0,
                                  "the lock file %s must be a regular file of uid %u with mode 0600 and one "
                                  "link (it has uid %u, mode %04o): remove it",
                                  lock_path, (unsigned)geteuid(), (unsigned)st.st_uid,
                                  (unsigned)(st.st_mode & 07777));
    }
    return fd;
}

/* The pid the lock holder wrote into the lock file, 0 when unknown. */
static long lock_holder(int lock_fd)
{
    char buf[32] = "";
    ssize_t n = pread(lock_fd, buf, sizeof buf - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

/* RDV-008: until the deadline, connect when a broker listens, else take
 * the lock.  RPB_OK with *fd_out >= 0 (connected; *waited says whether
 * someone else held the lock meanwhile) or *fd_out == -1 (lock held). */
static int connect_or_lock(const char *path, int lock_fd, int64_t deadline, int *fd_out, bool *waited,
                           rpb_errinfo *err)
{
    int backoff = 1;
    *waited = false;
    for (;;) {
        int rc = try_connect(path, deadline, fd_out, err);
        if (rc != ABSENT)
            return rc;
        if (flock(lock_fd, LOCK_EX | LOCK_NB) == 0) {
            *fd_out = -1;
            return RPB_OK;
        }
        if (errno != EWOULDBLOCK && errno != EINTR)
            return rpb_errinfo_printf(err, RPB_ERR_IO, 0, 0,
                                      "cannot lock %s.lock: %s", path, strerror(errno));
        *waited = true;
        if (expired(deadline))
            return rpb_errinfo_printf(err, RPB_ERR_TIMEOUT, 0, 0,
                                      "timed out waiting for %s.lock, held by pid %ld, which is starting "
                                      "the broker; if that process hangs, kill it",
                                      path, lock_holder(lock_fd));
        pause_for(-1, &backoff, deadline);
    }
}

/* RDV-005: what is left at the path when nobody listens there: nothing, a
 * stale socket of ours (removed), or a squatter (refused). */
static int clear_path(const char *path, rpb_rdv_result *r, rpb_errinfo *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? RPB_OK : rpb_errinfo_printf(err, RPB_ERR_IO, 0, 0,
                                                             "%s: %s", path, strerror(errno));
    if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
        return rpb_errinfo_printf(err, RPB_ERR_SQUATTED, 0, 0,
                                  "%s is %s of uid %u, not a socket of a broker of uid %u; refusing to "
                                  "remove it: find out who made it, then remove it",
                                  path, S_ISSOCK(st.st_mode) ? "a socket" : "a file that is not a socket",
                                  (unsigned)st.st_uid, (unsigned)geteuid());
    if (unlink(path) != 0 && errno != ENOENT)
        return rpb_errinfo_printf(err, RPB_ERR_IO, 0, 0,
                                  "cannot remove the stale socket %s: %s", path, strerror(errno));
    r->stale_removed = true;
    return RPB_OK;
}

/* What the middle process reports through the pipe: the broker's pid,
 * or the error of posix_spawnp (the command could not be executed). */
struct start_report {
    pid_t pid;
    int err;
};

/* RDV-006: the middle process, a vfork child of the client (sharing its
 * memory while the client's thread waits): a new session, the broker
 * started in it (so it is no session leader and, once the middle has
 * exited, no child of the client), the outcome written to report_fd.
 * Only system calls and posix_spawnp, which returns after the broker's
 * exec and allocates nothing: nothing here touches the client's state. */
__attribute__((noinline, noreturn)) static void start_middle(char *const *argv,
                                                             const posix_spawn_file_actions_t *fa,
                                                             const posix_spawnattr_t *at, int report_fd)
{
    struct start_report rep = {-1, 0};
    if (setsid() < 0)
        rep.err = errno;
    else
        rep.err = posix_spawnp(&rep.pid, argv[0], fa, at, argv, environ);
    ssize_t ignored = write(report_fd, &rep, sizeof rep);
    (void)ignored;
    _exit(0);
}

/* RDV-006: starts argv detached: a middle process (vfork: no copy of the
 * client's memory) makes a new session and starts the broker in it with
 * posix_spawnp, then exits, so the broker is neither a session leader
 * nor the client's child.  Returns RPB_OK with r->broker_pid set, or
 * RPB_ERR_START_FAILED / RPB_ERR_IO. */
static int start_broker(char *const *argv, const char *log_path, rpb_rdv_result *r, rpb_errinfo *err)
{
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
    if (log_fd < 0)
        return rpb_errinfo_printf(err, RPB_ERR_START_FAILED, 0, 0, "cannot open the broker log %s: %s",
                                  log_path, strerror(errno));
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int p[2] = {-1, -1};
    if (null_fd < 0 || pipe2(p, O_CLOEXEC) != 0) {
        int e = errno;
        close(log_fd);
        if (null_fd >= 0)
            close(null_fd);
        return rpb_errinfo_printf(err, RPB_ERR_IO, 0, 0, "cannot prepare the broker's start: %s", strerror(e));
    }
    /* the broker: stdin /dev/null, stdout and stderr the log, no other
     * descriptor; no blocked signal, every disposition the default */
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all, old;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, null_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    /* no signal handler of the client may run in the middle process */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t mid = vfork();
    if (mid == 0)
        start_middle(argv, &fa, &at, p[1]);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(p[1]);
    close(log_fd);
    close(null_fd);
    struct start_report rep = {-1, 0};
    ssize_t n = mid < 0 ? 0 : read(p[0], &rep, sizeof rep);
    close(p[0]);
    if (mid < 0)
        return rpb_errinfo_printf(err, RPB_ERR_IO, 0, 0, "vfork: %s", strerror(fork_errno));
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
    }
    if (n != (ssize_t)sizeof rep || (rep.err == 0 && rep.pid <= 0))
        return rpb_errinfo_printf(err, RPB_ERR_START_FAILED, 0, 0, "cannot start the broker process");
    if (rep.err != 0)
        return rpb_errinfo_printf(err, RPB_ERR_START_FAILED, 0, 0, "cannot run the broker command %s: %s",
                                  argv[0], strerror(rep.err));
    r->broker_pid = rep.pid;
    return RPB_OK;
}

/* An admin HEALTHZ exchange on fd (RDV-007): the broker decoded a request
 * and answered with an admin reply. */
static bool answers_admin(int fd, int64_t deadline)
{
    uint8_t req[128];
    size_t len;
    if (rpb_admin_request_encode(RPB_ADMIN_VERB_HEALTHZ, false, rpb_slice_cstr(""), 1, req, sizeof req,
                                 &len) != RPB_OK)
        return false;
    rpb_buf reply = {0};
    bool ok = rpb_client_exchange_fd(fd, req, len, deadline, &reply, NULL) == RPB_OK;
    if (ok) {
        rpb_frame frame;
        rpb_admin_reply ar;
        ok = rpb_admin_reply_decode(reply.data, reply.len, &frame, &ar) == RPB_OK;
    }
    rpb_buf_free(&reply);
    return ok;
}

/* An inotify descriptor watching the directory of path for names created
 * or moved in (the broker's socket appearing), or -1. */
static int watch_socket_dir(const char *path)
{
    char dir[PATH_CAP];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return -1;
    *slash = '\0';
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 && inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* RDV-007: the pause of the readiness wait.  While nothing is at path and
 * its directory is watched (inotify_fd), until the socket appears or the
 * broker exits (pidfd); else (no watch, or a socket bound but not yet
 * listening) up to *backoff ms.  Never past deadline. */
static void pause_ready(const char *path, int inotify_fd, int pidfd, int *backoff, int64_t deadline)
{
    struct stat st;
    if (inotify_fd < 0 || lstat(path, &st) == 0 || pidfd < 0) {
        pause_for(pidfd, backoff, deadline);
        return;
    }
    int wait;
    if (!rpb_io_timeout(deadline, &wait))
        wait = 0;
    struct pollfd p[2] = {{pidfd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
    if (poll(p, 2, wait) > 0 && (p[1].revents & POLLIN)) {
        char buf[4096];
        while (read(inotify_fd, buf, sizeof buf) > 0) {
        }
    }
}

/* RDV-007: waits, holding the lock, until the broker just started answers
 * an admin exchange, it exits, or the deadline passes. */
static int wait_ready(const char *path, const char *log_path, int64_t deadline, rpb_rdv_result *r,
                      rpb_errinfo *err, int inotify_fd)
{
    int pidfd = (int)syscall(SYS_pidfd_open, r->broker_pid, 0);
    int backoff = 1, rc = RPB_ERR_TIMEOUT;
    for (;;) {
        int fd;
        int c = try_connect(path, deadline, &fd, err);
        if (c == RPB_OK) {
            bool ok = answers_admin(fd, deadline);
            close(fd);
            if (ok) {
                rc = RPB_OK;
                break;
            }
        } else if (c != ABSENT) {
            rc = c;
            break;
        }
        bool gone = pidfd >= 0 ? poll(&(struct pollfd){pidfd, POLLIN, 0}, 1, 0) == 1
                               : kill(r->broker_pid, 0) != 0 && errno == ESRCH;
        if (gone) {
            rc = rpb_errinfo_printf(err, RPB_ERR_START_FAILED, 0, 0,
                                    "the broker (pid %d) exited before it answered on %s; "
                                    "its output is in %s", (int)r->broker_pid, path, log_path);
            break;
        }
        if (expired(deadline)) {
            rc = rpb_errinfo_printf(err, RPB_ERR_TIMEOUT, 0, 0,
                                    "the broker (pid %d) did not answer on %s before the "
                                    "deadline; its output is in %s", (int)r->broker_pid, path, log_path);
            break;
        }
        pause_ready(path, inotify_fd, pidfd, &backoff, deadline);
    }
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

int rpb_rendezvous_connect(const rpb_rdv_options *o, rpb_rdv_result *r, rpb_errinfo *err)
{
    memset(r, 0, sizeof *r);
    rpb_errinfo_set(err, RPB_OK, 0);
    if (o == NULL || o->socket_path == NULL || o->socket_path[0] == '\0' ||
        strlen(o->socket_path) >= sizeof((struct sockaddr_un *)0)->sun_path)
        return rpb_errinfo_printf(err, RPB_ERR_INVALID_ARGUMENT, 0, 0,
                                  "the socket path must be 1..107 bytes");
    const char *path = o->socket_path;

    /* RDV-001: a broker that answers is used as it is */
    int fd;
    int rc = try_connect(path, o->deadline_ms, &fd, err);
    if (rc == RPB_OK) {
        r->how = RPB_RDV_CONNECTED;
        return fd;
    }
    if (rc != ABSENT)
        return rc;
    if (o->broker_argv == NULL || o->broker_argv[0] == NULL)
        return rpb_errinfo_printf(err, RPB_ERR_START_FAILED, 0, 0,
                                  "no broker listens on %s (and none may be started)", path);

    rc = rpb_rendezvous_prepare_dir(path, err);
    if (rc != RPB_OK)
        return rc;
    char lock_path[PATH_CAP], log_path[PATH_CAP];
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    if (o->log_path != NULL)
        snprintf(log_path, sizeof log_path, "%s", o->log_path);
    else
        snprintf(log_path, sizeof log_path, "%s.log", path);
    int lock_fd = open_lock(lock_path, err);
    if (lock_fd < 0)
        return lock_fd;

    bool waited;
    rc = connect_or_lock(path, lock_fd, o->deadline_ms, &fd, &waited, err);
    if (rc == RPB_OK && fd >= 0) {
        r->how = waited ? RPB_RDV_STARTED_BY_OTHER : RPB_RDV_CONNECTED;
    } else if (rc == RPB_OK && (rc = try_connect(path, o->deadline_ms, &fd, err)) == RPB_OK) {
        /* RDV-004: a broker started between our last look and the lock */
        r->how = RPB_RDV_STARTED_BY_OTHER;
    } else if (rc == ABSENT) {
        /* we hold the lock and nobody listens: no other starter can race
         * us.  RDV-003: our pid for the waiters' messages (best effort) */
        if (ftruncate(lock_fd, 0) == 0)
            dprintf(lock_fd, "%ld\n", (long)getpid());
        rc = clear_path(path, r, err);
        /* watched before the broker starts, so its socket's creation is
         * seen (RDV-007) */
        int inotify_fd = rc == RPB_OK ? watch_socket_dir(path) : -1;
        if (rc == RPB_OK)
            rc = start_broker(o->broker_argv, log_path, r, err);
        if (rc == RPB_OK)
            rc = wait_ready(path, log_path, o->deadline_ms, r, err, inotify_fd);
        if (inotify_fd >= 0)
            close(inotify_fd);
        if (rc == RPB_OK)
            rc = try_connect(path, o->deadline_ms, &fd, err);
        if (rc == ABSENT)
            rc = rpb_errinfo_printf(err, RPB_ERR_START_FAILED, 0, 0,
                                    "the broker (pid %d) stopped listening on %s at once",
                                    (int)r->broker_pid, path);
        r->how = RPB_RDV_STARTED;
    }
    close(lock_fd); /* releases the lock (RDV-009: so does the holder's death) */
    return rc == RPB_OK ? fd : rc;
}
