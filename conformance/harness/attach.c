/* attach.c - --connect and --spawn (see attach.h). */
#define _GNU_SOURCE
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rpb/io.h>

#include "fixture.h"
#include "stim.h"
#include "usock.h"

/* The attach exchange of role, framed: an admin HEALTHZ request for a
 * broker, an identity probe (PROBE-001) for a backend. */
static void attach_request(enum role role, sbuf *s)
{
    if (role == ROLE_BACKEND) {
        uint8_t nonce[RPB_PROBE_NONCE_BYTES] = {0};
        size_t n;
        sb_fill(s, 0, RPB_PROBE_REQUEST_MAX_BYTES);
        rpb_probe_request_encode(nonce, s->data, s->len, &n);
        s->len = n;
        return;
    }
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = RPB_ADMIN_VERB_HEALTHZ;
    sbuf payload = SBUF_INIT;
    stim_encode(&payload, &rpb_admin_request_desc, &ar);
    rpb_frame f = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){payload.data, payload.len});
    stim_frame(s, &f);
    sb_free(&payload);
}

/* The attach probe is a complete, polite exchange whose reply is read to
 * the end, so that attaching is not itself the early hang-up some cases
 * test for; a broker closes after its reply, a backend when the harness
 * half-closes.  Returns 0 when a connection was made (whatever the daemon
 * answered), or -errno. */
static int probe(enum role role, const char *path, int timeout_ms)
{
    int fd = usock_connect(path, timeout_ms);
    if (fd < 0)
        return fd;
    sbuf s = SBUF_INIT;
    attach_request(role, &s);
    int64_t deadline = rpb_monotonic_ms() + timeout_ms;
    if (rpb_write_frame(fd, s.data + RPB_FRAME_HEADER_BYTES, s.len - RPB_FRAME_HEADER_BYTES, deadline) ==
        RPB_OK) {
        rpb_buf body = {NULL, 0, 0};
        rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, deadline, &body, NULL);
        rpb_buf_free(&body);
        if (role == ROLE_BACKEND) /* MUX-005: it serves until the peer is done */
            shutdown(fd, SHUT_WR);
        /* wait for the broker's close, so the harness is not the one
         * hanging up first; a broker that keeps sending is left at the
         * deadline */
        int64_t left = deadline - rpb_monotonic_ms();
        if (left < 1)
            left = 1;
        struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[256];
        while (read(fd, buf, sizeof buf) > 0 && rpb_monotonic_ms() < deadline)
            ;
    }
    close(fd);
    sb_free(&s);
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool attach_await_exit(pid_t pid, int ms, siginfo_t *si)
{
    int64_t deadline = rpb_monotonic_ms() + ms;
    /* readable when the process exits; missing before Linux 5.3 */
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    bool gone;
    for (;;) {
        memset(si, 0, sizeof *si);
        gone = waitid(P_PID, (id_t)pid, si, WEXITED | WNOHANG | WNOWAIT) == 0 && si->si_pid == pid;
        int64_t left = deadline - rpb_monotonic_ms();
        if (gone || left <= 0)
            break;
        if (pfd >= 0) {
            struct pollfd p = {pfd, POLLIN, 0};
            poll(&p, 1, (int)left);
        } else {
            sleep_ms(left < 5 ? (int)left : 5);
        }
    }
    if (pfd >= 0)
        close(pfd);
    return gone;
}

int attach_connect(attach *a, enum role role, const char *path, const char *handoff_socket, int timeout_ms,
                   sbuf *err)
{
    memset(a, 0, sizeof *a);
    fixture_set_base(&a->fixture, handoff_socket);
    a->role = role;
    if (snprintf(a->socket, sizeof a->socket, "%s", path) >= (int)sizeof a->socket ||
        snprintf(a->handoff, sizeof a->handoff, "%s", handoff_socket ? handoff_socket : "") >=
            (int)sizeof a->handoff) {
        sb_printf(err, "socket path too long: %s", path);
        return -1;
    }
    int64_t deadline = rpb_monotonic_ms() + timeout_ms;
    int rc = probe(role, path, timeout_ms);
    if (rc != 0 && rpb_monotonic_ms() < deadline)
        fprintf(stderr, "rpb-conform: no %s answers on %s yet (%s): waiting up to %d ms\n",
                role_name(role), path, strerror(-rc), timeout_ms);
    while (rc != 0 && rpb_monotonic_ms() < deadline) {
        sleep_ms(10);
        rc = probe(role, path, timeout_ms);
    }
    if (rc != 0) {
        sb_printf(err, "cannot connect to %s: %s", path, strerror(-rc));
        return -1;
    }
    return 0;
}

/* Appends s single-quoted for /bin/sh. */
static void sh_quote(sbuf *b, const char *s)
{
    sb_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            sb_puts(b, "'\\''");
        else
            sb_putc(b, (uint8_t)*s);
    }
    sb_putc(b, '\'');
}

static void substitute(sbuf *out, const char *cmd, const attach *a)
{
    while (*cmd) {
        if (strncmp(cmd, "{socket}", 8) == 0) {
            sh_quote(out, a->socket);
            cmd += 8;
        } else if (strncmp(cmd, "{services}", 10) == 0) {
            sh_quote(out, a->services);
            cmd += 10;
        } else if (strncmp(cmd, "{identity}", 10) == 0) {
            sh_quote(out, a->identity);
            cmd += 10;
        } else if (strncmp(cmd, "{handoff}", 9) == 0) {
            sh_quote(out, a->handoff);
            cmd += 9;
        } else {
            sb_putc(out, (uint8_t)*cmd++);
        }
    }
}

static void read_log(attach *a)
{
    FILE *f = fopen(a->log, "rb");
    if (!f)
        return;
    char buf[4096];
    size_t n;
    sb_reset(&a->stderr_text);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && a->stderr_text.len < (1u << 20))
        sb_put(&a->stderr_text, buf, n);
    fclose(f);
}

/* The broker's fixture: a->services created 0700 with the base services,
 * conform-handoff with its handoff socket a->handoff and, when rpb-backend
 * is beside rpb-conform, the launch area's service;
 * a->fixture gets the services written. */
static int write_broker_fixture(attach *a, sbuf *err)
{
    snprintf(a->handoff, sizeof a->handoff, "%s/handoff.sock", a->dir);
    if (mkdir(a->services, 0700) < 0 || chmod(a->services, 0700) < 0) {
        sb_printf(err, "cannot create %s: %s", a->services, strerror(errno));
        return -1;
    }
    char backend[4096];
    ssize_t n = readlink("/proc/self/exe", backend, sizeof backend - 16);
    char *slash = n > 0 ? memrchr(backend, '/', (size_t)n) : NULL;
    if (slash)
        strcpy(slash, "/rpb-backend");
    int rc = fixture_write(a->services, slash && access(backend, X_OK) == 0 ? backend : NULL, a->handoff,
                           &a->fixture);
    if (rc < 0) {
        sb_printf(err, "cannot write the fixture into %s: %s", a->services, strerror(-rc));
        return -1;
    }
    return 0;
}

int attach_spawn(attach *a, enum role role, const char *cmd, int timeout_ms, sbuf *err)
{
    memset(a, 0, sizeof *a);
    a->role = role;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(a->dir, sizeof a->dir, "%s/rpb-conform-XXXXXX", tmp);
    if (!mkdtemp(a->dir)) {
        sb_printf(err, "cannot create a temp dir in %s: %s", tmp, strerror(errno));
        a->dir[0] = 0;
        return -1;
    }
    snprintf(a->services, sizeof a->services, "%s/services", a->dir);
    snprintf(a->identity, sizeof a->identity, "%s/identity.json", a->dir);
    snprintf(a->socket, sizeof a->socket, "%s/%s.sock", a->dir, role_name(role));
    snprintf(a->log, sizeof a->log, "%s/%s.log", a->dir, role_name(role));
    if (role == ROLE_BROKER && write_broker_fixture(a, err) < 0)
        return -1;
    if (role == ROLE_BACKEND && strstr(cmd, "{handoff}"))
        snprintf(a->handoff, sizeof a->handoff, "%s/handoff.sock", a->dir);
    sb_puts(&a->command, "exec ");
    substitute(&a->command, cmd, a);
    int logfd = open(a->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (logfd < 0) {
        sb_printf(err, "cannot create %s: %s", a->log, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        sb_printf(err, "fork: %s", strerror(errno));
        close(logfd);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execl("/bin/sh", "sh", "-c", sb_str(&a->command), (char *)NULL);
        _exit(127);
    }
    close(logfd);
    setpgid(pid, pid);
    a->pid = pid;
    int64_t deadline = rpb_monotonic_ms() + timeout_ms;
    for (;;) {
        if (probe(role, a->socket, timeout_ms) == 0)
            return 0;
        if (!attach_alive(a)) {
            read_log(a);
            sb_printf(err, "the %s exited before serving %s (status %d); its output:\n%s", role_name(role), a->socket,
                      WIFEXITED(a->exit_status) ? WEXITSTATUS(a->exit_status) : 128 + WTERMSIG(a->exit_status),
                      sb_str(&a->stderr_text));
            return -1;
        }
        if (rpb_monotonic_ms() >= deadline) {
            attach_stop(a, 500, true);
            sb_printf(err, "the %s did not accept on %s within %d ms; its output:\n%s", role_name(role),
                      a->socket, timeout_ms, sb_str(&a->stderr_text));
            return -1;
        }
        /* nothing signals a socket that starts accepting: probe again in
         * 5 ms, or at once when the daemon exits meanwhile */
        siginfo_t si;
        attach_await_exit(a->pid, 5, &si);
    }
}

bool attach_alive(attach *a)
{
    if (a->pid <= 0)
        return true;
    int st;
    pid_t w = waitpid(a->pid, &st, WNOHANG);
    if (w == a->pid) {
        a->exit_status = st;
        a->pid = -a->pid; /* reaped */
        return false;
    }
    return w == 0;
}

static void remove_tree(const attach *a)
{
    char path[600];
    for (const char *const *s = a->fixture.names; *s; s++) {
        snprintf(path, sizeof path, "%s/%s.servicedef", a->services, *s);
        unlink(path);
    }
    rmdir(a->services);
    unlink(a->identity);
    unlink(a->socket);
    unlink(a->log);
    if (a->handoff[0])
        unlink(a->handoff);
    rmdir(a->dir);
}

void attach_stop(attach *a, int grace_ms, bool keep)
{
    if (a->pid > 0) {
        kill(a->pid, SIGTERM);
        siginfo_t si;
        attach_await_exit(a->pid, grace_ms, &si);
        if (attach_alive(a)) {
            kill(-a->pid, SIGKILL);
            kill(a->pid, SIGKILL);
            a->killed = true;
            int st;
            if (waitpid(a->pid, &st, 0) == a->pid)
                a->exit_status = st;
            a->pid = -a->pid;
        }
    }
    if (a->dir[0]) {
        read_log(a);
        if (!keep)
            remove_tree(a);
    }
}
