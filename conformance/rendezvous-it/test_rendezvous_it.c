/*
 * test_rendezvous_it.c - the rendezvous (spec/discovery.md §2) with real
 * processes: rpb-client --autostart and rpb_rendezvous_connect() against
 * no broker, a stale socket and lock, a killed lock holder, squatters,
 * unsafe directories, a broker that dies or idles out.
 *
 * usage: test_rendezvous_it RPB_BROKER RPB_CLIENT
 *
 * Every case runs in a fresh directory under one private temporary root
 * and stops every broker it started.  Waits are on events: a child's exit
 * or a detached broker's exit (pidfd), a reply.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

#define CLIENTS 50
#define NOBODY 65534

static const char *broker_bin, *client_bin;
static char root[64], svc_dir[128];
static int case_no;

/* The paths of one case: <root>/<n>/run/broker/b.sock and its companions. */
typedef struct case_paths {
    char base[128], dir[160], sock[192], lock[200], log[200];
} case_paths;

static void new_case(case_paths *c)
{
    snprintf(c->base, sizeof c->base, "%s/%d", root, ++case_no);
    mkdir(c->base, 0700);
    snprintf(c->dir, sizeof c->dir, "%s/run/broker", c->base);
    snprintf(c->sock, sizeof c->sock, "%s/b.sock", c->dir);
    snprintf(c->lock, sizeof c->lock, "%s.lock", c->sock);
    snprintf(c->log, sizeof c->log, "%s.log", c->sock);
}

static void make_dirs(const case_paths *c)
{
    char run[160];
    snprintf(run, sizeof run, "%s/run", c->base);
    mkdir(run, 0700);
    mkdir(c->dir, 0700);
}

/* The broker command the rendezvous runs, as rpb-client's CMD string. */
static void broker_cmd(char *buf, size_t cap, const char *extra)
{
    snprintf(buf, cap, "%s --socket {socket} --services %s %s", broker_bin, svc_dir, extra ? extra : "");
}

/* Runs rpb-client --autostart CMD for one Hello on c->sock, stderr into
 * err_path.  Returns the pid (not waited). */
static pid_t spawn_client(const case_paths *c, const char *cmd, const char *timeout_ms, const char *err_path)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int out = open("/dev/null", O_WRONLY);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    execl(client_bin, client_bin, "--socket", c->sock, "--autostart", cmd, "--service", "echo", "--wanted-version",
          "1.0.0", "--timeout", timeout_ms, (char *)NULL);
    _exit(127);
}

/* The exit status of a child (128 + signal), -1 when it has not exited
 * within a minute (it is then killed). */
static int wait_status(pid_t pid) { return tu_wait_exit(pid, 60000); }

/* One client run to completion: exit status, stderr in err. */
static int run_client(const case_paths *c, const char *cmd, const char *timeout_ms, char *err, size_t cap)
{
    char err_path[256];
    snprintf(err_path, sizeof err_path, "%s/client.err", c->base);
    int st = wait_status(spawn_client(c, cmd, timeout_ms, err_path));
    tu_read_text(err_path, err, cap);
    return st;
}

/* The pid in "started broker pid N" of a client's stderr, or 0. */
static pid_t started_pid(const char *err)
{
    const char *p = strstr(err, "started broker pid ");
    return p ? (pid_t)atoi(p + strlen("started broker pid ")) : 0;
}

/* Stops a detached broker (not our child) and waits for it through a
 * pidfd; true when it exited within 10 s. */
static bool stop_broker(pid_t pid)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0)
        return false;
    kill(pid, SIGTERM);
    struct pollfd p = {pfd, POLLIN, 0};
    bool gone = poll(&p, 1, 10000) == 1;
    close(pfd);
    return gone;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Forks a child that runs setup(c) and then waits to be killed; returns
 * its pid once setup has succeeded (the child says so on a pipe), or -1. */
static pid_t fork_holding(bool (*setup)(const case_paths *), const case_paths *c)
{
    int ready[2];
    if (pipe(ready) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        if (!setup(c))
            _exit(1);
        ssize_t w = write(ready[1], "x", 1);
        (void)w;
        pause();
        _exit(0);
    }
    close(ready[1]);
    char x;
    bool ok = pid > 0 && read(ready[0], &x, 1) == 1;
    close(ready[0]);
    return ok ? pid : -1;
}

/* A starter holding the lock, its pid written in the lock file. */
static bool hold_lock(const case_paths *c)
{
    int fd = open(c->lock, O_RDWR | O_CREAT, 0600);
    return fd >= 0 && flock(fd, LOCK_EX) == 0 && dprintf(fd, "%d\n", (int)getpid()) > 0;
}

/* A listener at the socket path running as another uid: bound as root in
 * the private directory, listening as nobody (the peer credentials are
 * taken at listen()). */
static bool listen_as_nobody(const case_paths *c)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, c->sock);
    return bind(s, (struct sockaddr *)&sa, sizeof sa) == 0 && setresuid(NOBODY, NOBODY, NOBODY) == 0 &&
           listen(s, 8) == 0;
}

/* RDV-004, RDV-007, RDV-008, RDV-001: 50 clients started at once against
 * no broker: one starts it, every client is Negotiated, exactly one broker
 * process ever listened; it exits cleanly and removes its socket. */
static void test_fifty_clients_one_broker(void)
{
    case_paths c;
    new_case(&c);
    char cmd[512];
    broker_cmd(cmd, sizeof cmd, NULL);
    pid_t pids[CLIENTS];
    char err_paths[CLIENTS][256];
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(err_paths[i], sizeof err_paths[i], "%s/client-%d.err", c.base, i);
        pids[i] = spawn_client(&c, cmd, "30000", err_paths[i]);
    }
    int negotiated = 0, started = 0;
    pid_t broker = 0;
    for (int i = 0; i < CLIENTS; i++) {
        int st = wait_status(pids[i]);
        char err[1024];
        tu_read_text(err_paths[i], err, sizeof err);
        negotiated += st == 0;
        if (st != 0)
            printf("\n  client %d exit %d: %s", i, st, err);
        if (started_pid(err)) {
            started++;
            broker = started_pid(err);
        }
    }
    CU_ASSERT_EQUAL(negotiated, CLIENTS);
    CU_ASSERT_EQUAL(started, 1);
    char log[65536];
    tu_read_text(c.log, log, sizeof log);
    CU_ASSERT_EQUAL(tu_count(log, "listening on"), 1);
    CU_ASSERT_EQUAL(tu_count(log, "outcome=negotiated"), CLIENTS);
    CU_ASSERT_FATAL(broker > 0);
    CU_ASSERT(stop_broker(broker));
    CU_ASSERT(!exists(c.sock));
}

/* RDV-006: the broker runs detached: another session, no controlling
 * terminal, not the caller's child, the lock not among its descriptors;
 * its output goes to the log. */
static void test_detached_start(void)
{
    case_paths c;
    new_case(&c);
    char *argv[] = {(char *)broker_bin, "--socket", c.sock, "--services", svc_dir, NULL};
    rpb_rdv_options o = {c.sock, argv, NULL, rpb_monotonic_ms() + 20000};
    rpb_rdv_result r;
    int fd = rpb_rendezvous_connect(&o, &r, NULL);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL(r.how, RPB_RDV_STARTED);
    pid_t broker = r.broker_pid;
    CU_ASSERT_FATAL(broker > 0);
    char path[64], stat_line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)broker);
    tu_read_text(path, stat_line, sizeof stat_line);
    /* fields after "(comm)": state ppid pgrp session tty_nr */
    const char *p = strrchr(stat_line, ')');
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    int ppid = 0, pgrp = 0, session = 0, tty = -1;
    char state;
    CU_ASSERT(sscanf(p + 2, "%c %d %d %d %d", &state, &ppid, &pgrp, &session, &tty) == 5);
    CU_ASSERT_NOT_EQUAL(ppid, getpid());
    CU_ASSERT_NOT_EQUAL(session, getsid(0));
    CU_ASSERT_NOT_EQUAL(session, broker); /* not a session leader: no terminal can attach */
    CU_ASSERT_EQUAL(tty, 0);
    char fd_dir[64], link[256], target[512];
    snprintf(fd_dir, sizeof fd_dir, "/proc/%d/fd", (int)broker);
    for (int i = 0; i < 64; i++) {
        snprintf(link, sizeof link, "%s/%d", fd_dir, i);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        CU_ASSERT(strcmp(target, c.lock) != 0);
    }
    char log[8192];
    tu_read_text(c.log, log, sizeof log);
    CU_ASSERT(strstr(log, "listening on") != NULL);
    /* RDV-001: the next call finds it */
    fd = rpb_rendezvous_connect(&o, &r, NULL);
    CU_ASSERT(fd >= 0 && r.how == RPB_RDV_CONNECTED);
    if (fd >= 0)
        close(fd);
    CU_ASSERT(stop_broker(broker));
}

/* RDV-007: with RPB_NO_DEADLINE the starter waits for the broker it
 * started for as long as it takes (it used to time out at once). */
static void test_no_deadline(void)
{
    case_paths c;
    new_case(&c);
    char *argv[] = {(char *)broker_bin, "--socket", c.sock, "--services", svc_dir, NULL};
    rpb_rdv_options o = {c.sock, argv, NULL, RPB_NO_DEADLINE};
    rpb_rdv_result r;
    rpb_errinfo err;
    int fd = rpb_rendezvous_connect(&o, &r, &err);
    if (fd < 0)
        printf("(%s) ", err.message);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL(r.how, RPB_RDV_STARTED);
    CU_ASSERT_FATAL(r.broker_pid > 0);
    CU_ASSERT(stop_broker(r.broker_pid));
}

/* RDV-009: a starter killed while holding the lock (a client already
 * running meanwhile) leaves a lock file and its pid behind; the client
 * takes the lock and starts the broker. */
static void test_starter_killed_holding_lock(void)
{
    case_paths c;
    new_case(&c);
    make_dirs(&c);
    pid_t holder = fork_holding(hold_lock, &c);
    CU_ASSERT_FATAL(holder > 0); /* the holder has the lock */
    char cmd[512], err_path[256], err[1024];
    broker_cmd(cmd, sizeof cmd, NULL);
    snprintf(err_path, sizeof err_path, "%s/client.err", c.base);
    pid_t client = spawn_client(&c, cmd, "30000", err_path);
    kill(holder, SIGKILL);
    CU_ASSERT_EQUAL(wait_status(holder), 128 + SIGKILL);
    CU_ASSERT_EQUAL(wait_status(client), 0);
    tu_read_text(err_path, err, sizeof err);
    CU_ASSERT(started_pid(err) > 0);
    CU_ASSERT(exists(c.lock));
    if (started_pid(err) > 0)
        CU_ASSERT(stop_broker(started_pid(err)));
}

/* RDV-005, RDV-009: a stale socket (its broker gone) and a stale lock file
 * with a dead pid: the socket is replaced, the broker started. */
static void test_stale_socket_and_lock(void)
{
    case_paths c;
    new_case(&c);
    make_dirs(&c);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, c.sock);
    CU_ASSERT_FATAL(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(s); /* a socket file nobody listens on */
    FILE *f = fopen(c.lock, "w");
    fputs("999999\n", f);
    fclose(f);
    chmod(c.lock, 0600);
    char cmd[512], err[1024];
    broker_cmd(cmd, sizeof cmd, NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "30000", err, sizeof err), 0);
    CU_ASSERT(strstr(err, "stale socket removed") != NULL);
    if (started_pid(err) > 0)
        CU_ASSERT(stop_broker(started_pid(err)));
}

/* RDV-005: a file that is not a socket at the path is a squatter: refused
 * with a message naming it, and left in place. */
static void test_squatter_file(void)
{
    case_paths c;
    new_case(&c);
    make_dirs(&c);
    FILE *f = fopen(c.sock, "w");
    fclose(f);
    char cmd[512], err[1024];
    broker_cmd(cmd, sizeof cmd, NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "5000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "not a socket") != NULL && strstr(err, c.sock) != NULL);
    CU_ASSERT(exists(c.sock));
    char log[256];
    tu_read_text(c.log, log, sizeof log);
    CU_ASSERT_EQUAL(log[0], '\0'); /* no broker was started */
}

/* The root-only tests: registered alone (main's table), so without root
 * they exit SKIP_RETURN_CODE with the reason instead of passing. */
static bool skip_unless_root(void)
{
    if (geteuid() == 0)
        return false;
    tu_skip("needs root to act as uid %d (running as uid %u)", NOBODY, (unsigned)geteuid());
    return true;
}

/* RDV-001, RDV-010: a listener of another uid at the path is refused, by
 * its peer credentials (root only: it needs a second uid). */
static void test_squatter_foreign_listener(void)
{
    if (skip_unless_root())
        return;
    case_paths c;
    new_case(&c);
    make_dirs(&c);
    pid_t squatter = fork_holding(listen_as_nobody, &c);
    CU_ASSERT_FATAL(squatter > 0);
    char cmd[512], err[1024];
    broker_cmd(cmd, sizeof cmd, NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "5000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "uid 65534") != NULL && strstr(err, c.sock) != NULL);
    CU_ASSERT(exists(c.sock));
    kill(squatter, SIGKILL);
    wait_status(squatter);
}

/* RDV-002: a symlinked broker directory and one open to others are
 * refused before anything is created in them. */
static void test_unsafe_directories(void)
{
    case_paths c;
    new_case(&c);
    char real[192], run[160], cmd[512], err[1024];
    snprintf(real, sizeof real, "%s/elsewhere", c.base);
    snprintf(run, sizeof run, "%s/run", c.base);
    mkdir(real, 0700);
    mkdir(run, 0700);
    CU_ASSERT_FATAL(symlink(real, c.dir) == 0);
    broker_cmd(cmd, sizeof cmd, NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "5000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "is a symlink") != NULL && strstr(err, c.dir) != NULL);
    char lock_there[256];
    snprintf(lock_there, sizeof lock_there, "%s/b.sock.lock", real);
    CU_ASSERT(!exists(lock_there));

    unlink(c.dir);
    mkdir(c.dir, 0755);
    chmod(c.dir, 0755);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "5000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "mode 0755") != NULL && strstr(err, "chmod 700") != NULL);
    CU_ASSERT(!exists(c.lock));

    /* the lock file itself: a symlink is refused, not followed */
    rmdir(c.dir);
    mkdir(c.dir, 0700);
    CU_ASSERT_FATAL(symlink(lock_there, c.lock) == 0);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "5000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "is a symlink") != NULL && strstr(err, c.lock) != NULL);
    CU_ASSERT(!exists(lock_there));
}

/* RDV-002 (root only: it needs a second uid): a broker directory owned by
 * another uid is refused before anything is created in it. */
static void test_foreign_owner_directory(void)
{
    if (skip_unless_root())
        return;
    case_paths c;
    new_case(&c);
    make_dirs(&c);
    CU_ASSERT_FATAL(chown(c.dir, NOBODY, NOBODY) == 0);
    char cmd[512], err[1024];
    broker_cmd(cmd, sizeof cmd, NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "5000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "owner uid 65534") != NULL);
    CU_ASSERT(!exists(c.lock));
}

/* RDV-008: a lock holder that hangs is reported by its pid when the
 * client's deadline passes; nothing is started. */
static void test_hung_lock_holder(void)
{
    case_paths c;
    new_case(&c);
    make_dirs(&c);
    int fd = open(c.lock, O_RDWR | O_CREAT, 0600);
    CU_ASSERT_FATAL(fd >= 0 && flock(fd, LOCK_EX) == 0);
    dprintf(fd, "%d\n", (int)getpid());
    char cmd[512], err[1024], want[64];
    broker_cmd(cmd, sizeof cmd, NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "300", err, sizeof err), 1);
    snprintf(want, sizeof want, "held by pid %d", (int)getpid());
    CU_ASSERT(strstr(err, "timed out") != NULL && strstr(err, want) != NULL);
    CU_ASSERT(!exists(c.log));
    close(fd);
}

/* RDV-006, RDV-007: a command that cannot run, a log that cannot be
 * opened, and a broker that exits before it answers, end the call at once
 * with the reason and the log. */
static void test_start_failures(void)
{
    case_paths c;
    new_case(&c);
    char err[1024];
    CU_ASSERT_EQUAL(run_client(&c, "/nonexistent/rpb-broker --socket {socket}", "5000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "cannot run the broker command /nonexistent/rpb-broker") != NULL);
    /* the library reports the same through its rpb_errinfo */
    char *bad_argv[] = {"/nonexistent/rpb-broker", NULL};
    rpb_rdv_options o = {c.sock, bad_argv, NULL, rpb_monotonic_ms() + 5000};
    rpb_rdv_result r;
    rpb_errinfo info;
    CU_ASSERT_EQUAL(rpb_rendezvous_connect(&o, &r, &info), RPB_ERR_START_FAILED);
    CU_ASSERT_EQUAL(info.code, RPB_ERR_START_FAILED);
    CU_ASSERT(strstr(info.message, "cannot run the broker command /nonexistent/rpb-broker") != NULL);
    /* RDV-006: a log that cannot be opened, before anything is started */
    char *good_argv[] = {(char *)broker_bin, "--socket", c.sock, "--services", svc_dir, NULL};
    rpb_rdv_options no_log = {c.sock, good_argv, "/nonexistent/broker.log", rpb_monotonic_ms() + 5000};
    CU_ASSERT_EQUAL(rpb_rendezvous_connect(&no_log, &r, &info), RPB_ERR_START_FAILED);
    CU_ASSERT(strstr(info.message, "cannot open the broker log /nonexistent/broker.log") != NULL);
    CU_ASSERT_EQUAL(r.broker_pid, 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --socket {socket} --services %s/missing", broker_bin, c.base);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "30000", err, sizeof err), 1);
    CU_ASSERT(strstr(err, "exited before it answered") != NULL && strstr(err, c.log) != NULL);
    char log[4096];
    tu_read_text(c.log, log, sizeof log);
    CU_ASSERT(strstr(log, "services directory") != NULL); /* the broker's reason, in its log */
    /* the lock is free again: a good command now starts */
    broker_cmd(cmd, sizeof cmd, NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "30000", err, sizeof err), 0);
    if (started_pid(err) > 0)
        CU_ASSERT(stop_broker(started_pid(err)));
}

/* RDV-011: --idle-exit S: the broker exits 0 after S idle seconds and
 * removes its socket; the next client starts a new one. */
static void test_idle_exit(void)
{
    case_paths c;
    new_case(&c);
    char cmd[512], err[1024];
    broker_cmd(cmd, sizeof cmd, "--idle-exit 1");
    CU_ASSERT_EQUAL_FATAL(run_client(&c, cmd, "30000", err, sizeof err), 0);
    pid_t broker = started_pid(err);
    CU_ASSERT_FATAL(broker > 0);
    int pfd = (int)syscall(SYS_pidfd_open, broker, 0);
    CU_ASSERT_FATAL(pfd >= 0);
    struct pollfd p = {pfd, POLLIN, 0};
    CU_ASSERT_EQUAL(poll(&p, 1, 20000), 1); /* it exits on its own */
    close(pfd);
    CU_ASSERT(!exists(c.sock));
    char log[8192];
    tu_read_text(c.log, log, sizeof log);
    CU_ASSERT(strstr(log, "idle for 1 s: exiting") != NULL);
    CU_ASSERT_EQUAL(run_client(&c, cmd, "30000", err, sizeof err), 0);
    CU_ASSERT(started_pid(err) > 0 && started_pid(err) != broker);
    if (started_pid(err) > 0)
        CU_ASSERT(stop_broker(started_pid(err)));
}

/* The default broker command (no CMD after --autostart) is rpb-broker
 * from the client's directory in launch mode on the services directory of
 * RUNNING_PROCESS_SERVICE_DEF_DIR: one call with no broker running starts
 * the broker (RDV-006), which launches the service's backend (LAUNCH-001),
 * and the backend echoes over the negotiated route. */
static void test_default_command_launches(void)
{
    case_paths c;
    new_case(&c);
    char bin_dir[PATH_MAX], svc[200], def[PATH_MAX + 64], err_path[256];
    CU_ASSERT_FATAL(realpath(client_bin, bin_dir) != NULL);
    *strrchr(bin_dir, '/') = '\0';
    snprintf(svc, sizeof svc, "%s/svc", c.base);
    CU_ASSERT_FATAL(mkdir(svc, 0700) == 0);
    snprintf(def, sizeof def, "%s/echo.service", svc);
    FILE *f = fopen(def, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "binary_path = %s/rpb-backend\nper_version_binary_dir = %s\n"
               "daemon_version = 1.0.0\narg = --echo-protocol\narg = 0x7001\n",
            bin_dir, bin_dir);
    fclose(f);
    snprintf(err_path, sizeof err_path, "%s/client.err", c.base);
    pid_t pid = fork();
    if (pid == 0) {
        int out = open("/dev/null", O_WRONLY);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out, 1);
        dup2(err, 2);
        setenv("RUNNING_PROCESS_SERVICE_DEF_DIR", svc, 1);
        execl(client_bin, client_bin, "--socket", c.sock, "--autostart", "--service", "echo", "--wanted-version",
              "1.0.0", "--adopt", "--echo", "0x7001", "--timeout", "30000", (char *)NULL);
        _exit(127);
    }
    char err[4096];
    int st = wait_status(pid);
    tu_read_text(err_path, err, sizeof err);
    if (st != 0)
        fprintf(stderr, "rpb-client exited %d: %s\n", st, err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "echoed by the backend on 0x7001"));
    pid_t broker = started_pid(err);
    CU_ASSERT_FATAL(broker > 0);
    char cmdline[64], args[1024] = "";
    snprintf(cmdline, sizeof cmdline, "/proc/%d/cmdline", (int)broker);
    FILE *cl = fopen(cmdline, "r");
    CU_ASSERT_PTR_NOT_NULL(cl); /* not fatal: the broker is stopped below either way */
    if (cl) {
        size_t n = fread(args, 1, sizeof args - 1, cl);
        fclose(cl);
        args[n] = '\0';
        for (size_t i = 0; i < n; i++) /* its arguments, NUL-separated */
            if (args[i] == '\0')
                args[i] = ' ';
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(args, "--launch"));
    CU_ASSERT_PTR_NOT_NULL(strstr(args, "--idle-exit 600"));
    CU_ASSERT(stop_broker(broker));
}

/* RDV-012: a listener that closes with the client's connection still in
 * its backlog (a broker leaving on idle exit) answers nothing; the client
 * repeats the rendezvous once, finds no broker, starts one and is
 * Negotiated. */
static void test_closed_in_backlog(void)
{
    case_paths c;
    new_case(&c);
    make_dirs(&c);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    CU_ASSERT_FATAL(strlen(c.sock) < sizeof a.sun_path);
    memcpy(a.sun_path, c.sock, strlen(c.sock));
    CU_ASSERT_FATAL(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 8) == 0);
    char cmd[512], err_path[256], err[2048];
    broker_cmd(cmd, sizeof cmd, NULL);
    snprintf(err_path, sizeof err_path, "%s/client.err", c.base);
    pid_t client = spawn_client(&c, cmd, "30000", err_path);
    /* the client's connection is in the backlog; it is never accepted */
    struct pollfd p = {l, POLLIN, 0};
    CU_ASSERT(poll(&p, 1, 20000) == 1);
    unlink(c.sock);
    close(l);
    CU_ASSERT_EQUAL(wait_status(client), 0);
    tu_read_text(err_path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "rendezvous: connected"));
    pid_t broker = started_pid(err);
    CU_ASSERT(broker > 0);
    if (broker > 0)
        CU_ASSERT(stop_broker(broker));
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: test_rendezvous_it RPB_BROKER RPB_CLIENT [TEST-ID]\n");
        return 2;
    }
    broker_bin = argv[1];
    client_bin = argv[2];
    signal(SIGPIPE, SIG_IGN);
    strcpy(root, "/tmp/rpb-rdv-XXXXXX");
    if (mkdtemp(root) == NULL)
        return 1;
    snprintf(svc_dir, sizeof svc_dir, "%s/svc", root);
    mkdir(svc_dir, 0700);
    char def[256];
    snprintf(def, sizeof def, "%s/echo.service", svc_dir);
    FILE *f = fopen(def, "w");
    fputs("backend_pipe = /run/echo-backend.sock\n", f);
    fclose(f);
    static const tu_test tests[] = {
        {"50 clients, no broker: one broker, all Negotiated (RDV-004, RDV-007, RDV-008)",
         test_fifty_clients_one_broker},
        {"detached start (RDV-006)", test_detached_start},
        {"no deadline: the start is waited for (RDV-007)", test_no_deadline},
        {"starter killed holding the lock (RDV-009)", test_starter_killed_holding_lock},
        {"stale socket and stale lock (RDV-005, RDV-009)", test_stale_socket_and_lock},
        {"squatter file refused (RDV-005)", test_squatter_file},
        {"unsafe directories and lock refused (RDV-002, RDV-003)", test_unsafe_directories},
        {"hung lock holder reported at the deadline (RDV-008)", test_hung_lock_holder},
        {"start failures reported (RDV-007)", test_start_failures},
        {"idle exit (RDV-011)", test_idle_exit},
        {"connection closed in the backlog: one more rendezvous (RDV-012)", test_closed_in_backlog},
        {"default command: the broker in launch mode starts the backend (RDV-006, LAUNCH-001)",
         test_default_command_launches},
        {NULL, NULL},
    };
    /* their ids are the ctest entries of CMakeLists.txt */
    static const tu_alone alone[] = {
        {"squatter-foreign-listener", "squatter listener of another uid refused (RDV-001, RDV-010)",
         test_squatter_foreign_listener},
        {"foreign-owner-directory", "broker directory of another uid refused (RDV-002)",
         test_foreign_owner_directory},
        {NULL, NULL, NULL},
    };
    int rc = tu_run_only("rendezvous-it", tests, alone, argc == 4 ? argv[3] : NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return rc;
}
