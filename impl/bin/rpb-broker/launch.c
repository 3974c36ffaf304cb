/*
 * Backends launched on demand (rpb-broker --launch, spec/discovery.md §3):
 * starting the child, the readiness wait and identity probe of its
 * endpoint, its exit through its pidfd, and stopping them all.  Every step
 * is non-blocking and driven by the event loop (LAUNCH-008): the loop hands
 * this module the events of the descriptors it registered (pidfds, probe
 * sockets, the inotify watch of the backends' directory) and the time.
 * The registry decisions (budget, single-flight) are librpb's
 * rpb/launch.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "rpb/error.h"
#include "rpb/ident.h"
#include "rpb/json.h"
#include "rpb/probe.h"
#include "rpb/rendezvous.h"

extern char **environ;

#define ENDPOINT_DRAWS 16       /* LAUNCH-003 */
#define READY_PAUSE_MAX_MS 16u  /* LAUNCH-005 */
#define PROBE_REPLY_MAX 16384u  /* a DaemonProcess with two 4 KiB paths fits */
#define STOP_GRACE_MS 1000      /* LAUNCH-012 */
#define ENV_PREFIX "RUNNING_PROCESS_BROKER_V1_"

typedef enum child_state { CHILD_PROBING, CHILD_READY, CHILD_GONE } child_state;

typedef struct child {
    struct child *next;
    rpb_launch_slot *slot;
    child_state state;
    pid_t pid;
    int pidfd;
    int probe_fd; /* -1 while not connected */
    bool watched; /* its endpoint's directory is watched (LAUNCH-005) */
    int64_t started_ms, ready_deadline_ms, next_try_ms;
    uint32_t pause_ms;
    rpb_identity expected; /* LAUNCH-004 */
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    uint8_t *in;
    size_t in_len;
    /* the launch's phases, us, for the "launched" log line; hash_us
     * overlaps the child's start-up (LAUNCH-004) */
    int64_t prepare_us, spawn_us, hash_us, spawned_at_us, connected_at_us;
} child;

struct broker_launcher {
    const broker_config *cfg;
    int ep;
    /* LAUNCH-005: endpoints appearing in the backends' directory wake the
     * readiness wait; -1 when inotify is unavailable (then it polls) */
    int inotify_fd;
    /* LAUNCH-015: the broker's log file without ".log"; "" when the broker
     * does not log to a file (the backends then share its stderr) */
    char log_stem[PATH_MAX];
    /* the reason of the last launch that failed before its child ran */
    char why[PATH_MAX + 2 * RPB_LAUNCH_KEY_MAX + 128];
    rpb_launch_registry *reg;
    child *children;
    launch_done_fn done;
    void *ctx;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int pidfd_open_(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void pidfd_kill(const child *ch, int sig)
{
    if (syscall(SYS_pidfd_send_signal, ch->pidfd, sig, NULL, 0) != 0 && errno != ESRCH)
        kill(ch->pid, sig);
}

/* LAUNCH-015: the broker's log file (--log FILE, or a regular file as
 * standard error, as the rendezvous starts it) without its ".log"; ""
 * when the broker logs to no file. */
static void log_stem(const broker_config *cfg, char *out, size_t cap)
{
    char path[PATH_MAX] = "";
    struct stat st;
    if (cfg->log_path != NULL && strcmp(cfg->log_path, "-") != 0) {
        if (realpath(cfg->log_path, path) == NULL)
            path[0] = '\0';
    } else if (cfg->log_path == NULL && fstat(2, &st) == 0 && S_ISREG(st.st_mode)) {
        ssize_t n = readlink("/proc/self/fd/2", path, sizeof path - 1);
        path[n > 0 ? n : 0] = '\0';
    }
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".log") == 0)
        n -= 4;
    snprintf(out, cap, "%.*s", (int)n, path);
}

broker_launcher *launcher_new(const broker_config *cfg, int ep, launch_done_fn done, void *ctx)
{
    broker_launcher *L = calloc(1, sizeof *L);
    if (L == NULL)
        return NULL;
    L->reg = rpb_launch_registry_new(RPB_LAUNCH_BUDGET_DEFAULT, RPB_LAUNCH_WINDOW_MS_DEFAULT, 1024);
    if (L->reg == NULL) {
        free(L);
        return NULL;
    }
    L->cfg = cfg;
    L->ep = ep;
    L->done = done;
    L->ctx = ctx;
    log_stem(cfg, L->log_stem, sizeof L->log_stem);
    L->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = L->inotify_fd};
    if (L->inotify_fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, L->inotify_fd, &ev) != 0) {
        close(L->inotify_fd);
        L->inotify_fd = -1;
    }
    return L;
}

/* One line about ch; with timings, the phases of its launch. */
static void log_child(const char *event, const child *ch, const char *why, bool timings)
{
    blog_field f[12];
    size_t n = 0;
    f[n++] = BLOG_S("service", ch->slot->service);
    f[n++] = BLOG_S("version", ch->slot->version);
    f[n++] = BLOG_N("pid", ch->pid);
    f[n++] = BLOG_S("endpoint", ch->expected.endpoint_path);
    f[n++] = BLOG_S("ready_wait", ch->watched ? "inotify" : "poll"); /* LAUNCH-005 */
    if (why)
        f[n++] = BLOG_S("reason", why);
    if (timings) {
        f[n++] = BLOG_N("prepare_us", ch->prepare_us);
        f[n++] = BLOG_N("spawn_us", ch->spawn_us);
        f[n++] = BLOG_N("hash_us", ch->hash_us);
        f[n++] = BLOG_N("ready_us", ch->connected_at_us - ch->spawned_at_us);
        f[n++] = BLOG_N("probe_us", now_us() - ch->connected_at_us);
    }
    blog_event(event, f, n);
}

static void probe_close(broker_launcher *L, child *ch)
{
    if (ch->probe_fd >= 0) {
        epoll_ctl(L->ep, EPOLL_CTL_DEL, ch->probe_fd, NULL);
        close(ch->probe_fd);
        ch->probe_fd = -1;
    }
    free(ch->in);
    ch->in = NULL;
    ch->in_len = 0;
}

/* LAUNCH-004: the launch failed; the child is killed (and reaped when its
 * pidfd reports the exit), the waiting Hellos refused. */
static void launch_failed(broker_launcher *L, child *ch, const char *why)
{
    log_child("launch-failed", ch, why, false);
    probe_close(L, ch);
    ch->state = CHILD_GONE;
    pidfd_kill(ch, SIGKILL);
    rpb_launch_idle(ch->slot);
    L->done(L->ctx, ch->slot, false);
}

/* ---- starting the child ---- */

/* LAUNCH-003: a fresh -be-<32 hex> endpoint that does not exist yet. */
static int allocate_endpoint(char *out, size_t cap, const char **why)
{
    rpb_names names;
    int rc = rpb_names_for_current_user(&names);
    if (rc != RPB_OK) {
        *why = rpb_strerror(rc);
        return -1;
    }
    for (int i = 0; i < ENDPOINT_DRAWS; i++) {
        uint8_t r[16];
        char hex[33];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
            *why = "no random bytes for the endpoint";
            return -1;
        }
        rpb_hex_encode(r, sizeof r, hex);
        if ((rc = rpb_names_path(&names, RPB_NAME_BACKEND, hex, out, cap)) != RPB_OK) {
            *why = rpb_strerror(rc);
            return -1;
        }
        struct stat st;
        if (lstat(out, &st) != 0 && errno == ENOENT)
            return 0;
    }
    *why = "no free backend endpoint after 16 draws";
    return -1;
}

/* "NAME=value" for the child's environment, or NULL (out of memory). */
static char *env_entry(const char *name, const char *value, size_t len)
{
    char *e = malloc(strlen(ENV_PREFIX) + strlen(name) + 1 + len + 1);
    if (e != NULL)
        sprintf(e, ENV_PREFIX "%s=%.*s", name, (int)len, value);
    return e;
}

static void free_vector(char **v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

/* LAUNCH-002: the broker's environment without the launch variables, then
 * the launch variables of this child; NULL when out of memory. */
static char **child_env(const child *ch, const rpb_frame *req)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc(n + 8, sizeof *env);
    if (env == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], ENV_PREFIX, strlen(ENV_PREFIX)) == 0)
            continue;
        if ((env[k++] = strdup(environ[i])) == NULL)
            goto oom;
    }
    const rpb_launch_slot *s = ch->slot;
    const struct { const char *name, *value; size_t len; } vars[] = {
        {"SERVICE_NAME", s->service, strlen(s->service)},
        {"SERVICE_VERSION", s->version, strlen(s->version)},
        {"BACKEND_PIPE", ch->expected.endpoint_path, strlen(ch->expected.endpoint_path)},
        {"BACKEND_NAMESPACE", s->instance, strlen(s->instance)},
        {"INSTANCE", s->instance, strlen(s->instance)},
        {"TRACEPARENT", (const char *)req->traceparent.data, req->traceparent.len},
        {"TRACESTATE", (const char *)req->tracestate.data, req->tracestate.len},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        if (i >= 5 && vars[i].len == 0)
            continue; /* the trace only when the Hello carries one */
        if ((env[k++] = env_entry(vars[i].name, vars[i].value, vars[i].len)) == NULL)
            goto oom;
    }
    return env;
oom:
    free_vector(env);
    return NULL;
}

/* argv: the canonical binary, then the definition's arg lines. */
static char **child_argv(const char *binary, const rpb_service *svc)
{
    char **argv = calloc(svc->launch_args.count + 2, sizeof *argv);
    if (argv == NULL || (argv[0] = strdup(binary)) == NULL) {
        free(argv);
        return NULL;
    }
    size_t i = 1;
    for (const rpb_str_node *a = svc->launch_args.head; a != NULL; a = a->next, i++)
        if ((argv[i] = strndup((const char *)a->value.data, a->value.len)) == NULL) {
            free_vector(argv);
            return NULL;
        }
    return argv;
}

/* LAUNCH-011: own session, stdin /dev/null, default signal mask and
 * dispositions, no descriptor but 0..2; LAUNCH-015: stdout and stderr
 * the open log_fd when it is not -1. */
static int spawn(pid_t *pid, char **argv, char **env, int log_fd)
{
    posix_spawnattr_t at;
    posix_spawn_file_actions_t fa;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (log_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    }
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    int rc = posix_spawn(pid, argv[0], &fa, &at, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

/* The expected identity but for its SHA-256 and pid, and the endpoint
 * (LAUNCH-001, LAUNCH-003, LAUNCH-004), before the child exists; the
 * SHA-256 is computed while the child starts (start_child). */
static int prepare(child *ch, const rpb_service *svc, char *binary, size_t cap, const char **why)
{
    char path[PATH_MAX], dir[PATH_MAX];
    snprintf(path, sizeof path, "%.*s", (int)svc->binary_path.len, (const char *)svc->binary_path.data);
    snprintf(dir, sizeof dir, "%.*s", (int)svc->per_version_binary_dir.len,
             (const char *)svc->per_version_binary_dir.data);
    int rc = rpb_launch_binary_resolve(path, dir, binary, cap);
    if (rc != RPB_OK) {
        *why = rpb_strerror(rc);
        return -1;
    }
    rpb_identity *id = &ch->expected;
    if (allocate_endpoint(id->endpoint_path, sizeof id->endpoint_path, why) != 0)
        return -1;
    snprintf(id->exe_path, sizeof id->exe_path, "%s", binary);
    snprintf(id->namespace_id, sizeof id->namespace_id, "%s", ch->slot->instance);
    rpb_boot_id(id->boot_id, sizeof id->boot_id);
    id->dp = (rpb_daemon_process){
        .exe_path = rpb_slice_cstr(id->exe_path),
        .exe_sha256 = {id->exe_sha256, RPB_SHA256_BYTES},
        .has_ipc_endpoint = true,
        .ipc_endpoint = {rpb_slice_cstr(id->namespace_id), rpb_slice_cstr(id->endpoint_path)},
        .boot_id = rpb_slice_cstr(id->boot_id),
    };
    return 0;
}

/* LAUNCH-005: watches the directory of endpoint (which exists: RDV-002)
 * for the socket the child creates, before the child exists, so that no
 * creation is missed; false without inotify: then the readiness wait
 * polls. */
static bool watch_dir(broker_launcher *L, const char *endpoint)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", endpoint);
    char *slash = strrchr(dir, '/');
    if (L->inotify_fd < 0 || slash == NULL)
        return false;
    *slash = '\0';
    return inotify_add_watch(L->inotify_fd, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) >= 0;
}

/* A child just spawned that will not be used: killed and reaped. */
static void abandon(const child *ch)
{
    kill(ch->pid, SIGKILL);
    waitpid(ch->pid, NULL, 0);
}

/* Starts the child of slot; false with *why when nothing runs. */
static bool start_child(broker_launcher *L, rpb_launch_slot *slot, const rpb_service *svc,
                        const rpb_frame *req, int64_t now, const char **why)
{
    child *ch = calloc(1, sizeof *ch);
    if (ch == NULL) {
        *why = "out of memory";
        return false;
    }
    ch->slot = slot;
    ch->probe_fd = ch->pidfd = -1;
    char binary[PATH_MAX];
    char **argv = NULL, **env = NULL;
    int log_fd = -1;
    bool ok = false;
    int64_t t0 = now_us();
    if (prepare(ch, svc, binary, sizeof binary, why) != 0)
        goto out;
    /* LAUNCH-005: the canonical directory is made (and checked) by the
     * broker, so that it exists to be watched before the child starts */
    rpb_errinfo e;
    if (rpb_rendezvous_prepare_dir(ch->expected.endpoint_path, &e) != RPB_OK) {
        snprintf(L->why, sizeof L->why, "%s", e.message);
        *why = L->why;
        goto out;
    }
    ch->prepare_us = now_us() - t0;
    ch->watched = watch_dir(L, ch->expected.endpoint_path);
    argv = child_argv(binary, svc);
    env = argv ? child_env(ch, req) : NULL;
    if (env == NULL) {
        *why = "out of memory";
        goto out;
    }
    /* LAUNCH-015: opened here, so that a failure names the file */
    if (L->log_stem[0] != '\0') {
        char log[PATH_MAX + 2 * RPB_LAUNCH_KEY_MAX + 8];
        snprintf(log, sizeof log, "%s-%s-%s.log", L->log_stem, slot->service, slot->version);
        log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (log_fd < 0) {
            snprintf(L->why, sizeof L->why, "cannot open the backend log %s: %s", log, strerror(errno));
            *why = L->why;
            goto out;
        }
    }
    int64_t t1 = now_us();
    int rc = spawn(&ch->pid, argv, env, log_fd);
    if (rc != 0) {
        snprintf(L->why, sizeof L->why, "cannot run %s: %s", binary, strerror(rc));
        *why = L->why;
        goto out;
    }
    ch->spawned_at_us = now_us();
    ch->spawn_us = ch->spawned_at_us - t1;
    ch->expected.dp.pid = (uint32_t)ch->pid;
    /* LAUNCH-004: the binary's SHA-256 the probe must answer with, hashed
     * while the child starts (it hashes itself too, IDENT-003) */
    if (rpb_sha256_file(binary, ch->expected.exe_sha256) != RPB_OK) {
        *why = "cannot hash the backend binary";
        abandon(ch);
        goto out;
    }
    ch->hash_us = now_us() - ch->spawned_at_us;
    /* LAUNCH-009: the exit is watched through the pidfd; the child is
     * ours and unreaped, so the pid cannot have been reused yet */
    ch->pidfd = pidfd_open_(ch->pid);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ch->pidfd};
    if (ch->pidfd < 0 || epoll_ctl(L->ep, EPOLL_CTL_ADD, ch->pidfd, &ev) != 0) {
        *why = "cannot watch the child (pidfd)";
        if (ch->pidfd >= 0)
            close(ch->pidfd);
        abandon(ch);
        goto out;
    }
    ch->state = CHILD_PROBING;
    ch->started_ms = now;
    ch->next_try_ms = now;
    ch->ready_deadline_ms = now + L->cfg->launch_timeout_ms; /* LAUNCH-005 */
    ch->pause_ms = 1;
    ch->next = L->children;
    L->children = ch;
    log_child("launch", ch, NULL, false);
    ok = true;
out:
    if (log_fd >= 0)
        close(log_fd);
    free_vector(argv);
    free_vector(env);
    if (!ok)
        free(ch);
    return ok;
}

static void reap(broker_launcher *L, child *ch);

/* LAUNCH-009: true when the backend of a READY slot has exited, though its
 * pidfd's event has not been handled yet; it is then reaped. */
static bool exited_unnoticed(broker_launcher *L, const rpb_launch_slot *slot)
{
    for (child *ch = L->children; ch != NULL; ch = ch->next)
        if (ch->slot == slot && ch->state == CHILD_READY) {
            struct pollfd p = {.fd = ch->pidfd, .events = POLLIN};
            if (poll(&p, 1, 0) != 1)
                return false;
            reap(L, ch);
            return true;
        }
    return false;
}

launch_answer launcher_hello(broker_launcher *L, const rpb_service *svc, const rpb_frame *req,
                             rpb_slice version, int64_t now, rpb_launch_slot **slot, uint64_t *retry_ms)
{
    static const char instance[] = "shared";
    rpb_launch_verdict v =
        rpb_launch_acquire(L->reg, rpb_slice_cstr(instance), svc->name, version, now, slot, retry_ms);
    if (v == RPB_LAUNCH_USE && exited_unnoticed(L, *slot))
        v = rpb_launch_acquire(L->reg, rpb_slice_cstr(instance), svc->name, version, now, slot, retry_ms);
    const char *why = "too many launched backends";
    switch (v) {
    case RPB_LAUNCH_USE:
        return LAUNCH_ANSWER_USE;
    case RPB_LAUNCH_WAIT:
        return LAUNCH_ANSWER_WAIT; /* LAUNCH-007 */
    case RPB_LAUNCH_BUDGET:
        return LAUNCH_ANSWER_BUDGET; /* LAUNCH-006 */
    case RPB_LAUNCH_START:
        if (start_child(L, *slot, svc, req, now, &why)) {
            launcher_tick(L, now); /* a fast backend may be listening already */
            return (*slot)->state == RPB_LAUNCH_READY      ? LAUNCH_ANSWER_USE
                   : (*slot)->state == RPB_LAUNCH_STARTING ? LAUNCH_ANSWER_WAIT
                                                           : LAUNCH_ANSWER_FAILED;
        }
        blog_event("launch-failed", (blog_field[]){BLOG_S("service", (*slot)->service),
                                                   BLOG_S("version", (*slot)->version),
                                                   BLOG_S("reason", why)}, 3);
        rpb_launch_idle(*slot);
        return LAUNCH_ANSWER_FAILED;
    case RPB_LAUNCH_FULL:
        break;
    }
    char name[RPB_SERVICE_NAME_MAX + 1];
    snprintf(name, sizeof name, "%.*s", (int)svc->name.len, (const char *)svc->name.data);
    blog_event("launch-failed", (blog_field[]){BLOG_S("service", name), BLOG_S("reason", why)}, 2);
    return LAUNCH_ANSWER_FAILED;
}

/* ---- readiness and probe (LAUNCH-004, LAUNCH-005) ---- */

/* One connection attempt to the child's endpoint; on success the probe
 * request is on its way.  Returns false when the launch failed. */
static bool try_probe(broker_launcher *L, child *ch, int64_t now)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t plen = strlen(ch->expected.endpoint_path); /* < 108: NAME-005 */
    memcpy(a.sun_path, ch->expected.endpoint_path, plen < sizeof a.sun_path ? plen : sizeof a.sun_path - 1);
    if (fd < 0) {
        launch_failed(L, ch, strerror(errno));
        return false;
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT && ch->watched) {
            /* LAUNCH-005: no socket yet; its creation wakes us (inotify) */
            ch->next_try_ms = INT64_MAX;
            return true;
        }
        if (e == ENOENT || e == ECONNREFUSED || e == EAGAIN) {
            /* LAUNCH-005: bound but not listening yet (or not watched);
             * again after a short pause */
            ch->next_try_ms = now + ch->pause_ms;
            ch->pause_ms = ch->pause_ms * 2 > READY_PAUSE_MAX_MS ? READY_PAUSE_MAX_MS : ch->pause_ms * 2;
            return true;
        }
        launch_failed(L, ch, strerror(e));
        return false;
    }
    uint8_t req[RPB_PROBE_REQUEST_MAX_BYTES];
    size_t n;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
    if (getrandom(ch->nonce, sizeof ch->nonce, 0) != (ssize_t)sizeof ch->nonce ||
        rpb_probe_request_encode(ch->nonce, req, sizeof req, &n) != RPB_OK ||
        send(fd, req, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n ||
        (ch->in = malloc(PROBE_REPLY_MAX)) == NULL || epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        launch_failed(L, ch, "cannot send the identity probe");
        return false;
    }
    ch->probe_fd = fd;
    ch->connected_at_us = now_us();
    return true;
}

/* Probe reply bytes arrived (or EOF). */
static void probe_read(broker_launcher *L, child *ch)
{
    ssize_t n = recv(ch->probe_fd, ch->in + ch->in_len, PROBE_REPLY_MAX - ch->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        launch_failed(L, ch, "the backend closed the probe connection without a reply");
        return;
    }
    ch->in_len += (size_t)n;
    rpb_slice body;
    size_t used;
    int rc = rpb_frame_split(ch->in, ch->in_len, PROBE_REPLY_MAX - RPB_FRAME_HEADER_BYTES, &body, &used, NULL);
    if (rc == RPB_NEED_MORE)
        return;
    rpb_probe_reply reply;
    if (rc == RPB_OK)
        rc = rpb_probe_response_check(body.data, body.len, ch->nonce, &ch->expected.dp, &reply, NULL);
    if (rc != RPB_OK) {
        char why[160];
        snprintf(why, sizeof why, "identity probe: %s%s%s", rpb_errname(rc),
                 rc == RPB_ERR_IDENTITY_MISMATCH ? ": " : "",
                 rc == RPB_ERR_IDENTITY_MISMATCH ? reply.mismatch : "");
        launch_failed(L, ch, why);
        return;
    }
    /* LAUNCH-004: probed; from now on Hellos are negotiated with it */
    probe_close(L, ch);
    ch->state = CHILD_READY;
    rpb_launch_ready(ch->slot, ch->expected.endpoint_path, ch->pid);
    log_child("launched", ch, NULL, true);
    L->done(L->ctx, ch->slot, true);
}

void launcher_tick(broker_launcher *L, int64_t now)
{
    for (child *ch = L->children; ch != NULL; ch = ch->next) {
        if (ch->state != CHILD_PROBING)
            continue;
        if (now >= ch->ready_deadline_ms)
            launch_failed(L, ch, "no identity probe answer within the readiness wait (--launch-timeout)");
        else if (ch->probe_fd < 0 && now >= ch->next_try_ms)
            try_probe(L, ch, now);
    }
}

const rpb_launch_registry *launcher_registry(const broker_launcher *L)
{
    return L->reg;
}

bool launcher_busy(const broker_launcher *L)
{
    for (const child *ch = L->children; ch != NULL; ch = ch->next)
        if (ch->state == CHILD_PROBING)
            return true;
    return false;
}

int launcher_poll_ms(const broker_launcher *L, int64_t now)
{
    int64_t next = INT64_MAX;
    for (const child *ch = L->children; ch != NULL; ch = ch->next) {
        if (ch->state != CHILD_PROBING)
            continue;
        if (ch->ready_deadline_ms < next)
            next = ch->ready_deadline_ms;
        if (ch->probe_fd < 0 && ch->next_try_ms < next)
            next = ch->next_try_ms;
    }
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now);
}

/* ---- exits (LAUNCH-009) ---- */

static void reap(broker_launcher *L, child *ch)
{
    int status = 0;
    waitpid(ch->pid, &status, 0); /* the pidfd said it exited: does not block */
    char why[64];
    if (WIFEXITED(status))
        snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(why, sizeof why, "signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (ch->state == CHILD_PROBING) {
        launch_failed(L, ch, why);
    } else if (ch->state == CHILD_READY) {
        log_child("backend-exited", ch, why, false);
        rpb_launch_idle(ch->slot); /* the next Hello launches a new one */
    }
    probe_close(L, ch);
    epoll_ctl(L->ep, EPOLL_CTL_DEL, ch->pidfd, NULL);
    close(ch->pidfd);
    for (child **p = &L->children; *p != NULL; p = &(*p)->next)
        if (*p == ch) {
            *p = ch->next;
            break;
        }
    free(ch);
}

/* LAUNCH-005: names created in a watched directory; a child whose
 * endpoint appeared is probed at once. */
static void endpoints_appeared(broker_launcher *L)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(L->inotify_fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            for (child *ch = L->children; ch != NULL; ch = ch->next) {
                const char *leaf = strrchr(ch->expected.endpoint_path, '/');
                /* an overflowed queue may have lost any name */
                bool hit = (e->mask & IN_Q_OVERFLOW) || (e->len > 0 && leaf && strcmp(leaf + 1, e->name) == 0);
                if (hit && ch->state == CHILD_PROBING && ch->probe_fd < 0)
                    ch->next_try_ms = 0; /* due: the loop's launcher_tick probes it */
            }
        }
    }
}

bool launcher_event(broker_launcher *L, int fd)
{
    if (fd == L->inotify_fd) {
        endpoints_appeared(L);
        return true;
    }
    for (child *ch = L->children; ch != NULL; ch = ch->next) {
        if (fd == ch->pidfd) {
            reap(L, ch);
            return true;
        }
        if (fd == ch->probe_fd) {
            probe_read(L, ch);
            return true;
        }
    }
    return false;
}

/* ---- stop (LAUNCH-012) ---- */

void launcher_free(broker_launcher *L)
{
    if (L == NULL)
        return;
    for (child *ch = L->children; ch != NULL; ch = ch->next) {
        probe_close(L, ch);
        pidfd_kill(ch, SIGTERM);
    }
    int64_t end = rpb_monotonic_ms() + STOP_GRACE_MS;
    while (L->children != NULL) {
        child *ch = L->children;
        struct pollfd p = {.fd = ch->pidfd, .events = POLLIN};
        int64_t left = end - rpb_monotonic_ms();
        if (poll(&p, 1, left > 0 ? (int)left : 0) == 0) {
            log_child("backend-killed", ch, "still running after SIGTERM and 1000 ms", false);
            pidfd_kill(ch, SIGKILL);
        }
        waitpid(ch->pid, NULL, 0);
        close(ch->pidfd);
        L->children = ch->next;
        free(ch);
    }
    if (L->inotify_fd >= 0)
        close(L->inotify_fd);
    rpb_launch_registry_free(L->reg);
    free(L);
}
