/*
 * testutil.c - helpers shared by the CUnit programs in impl/tests/.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/json.h"
#include "rpb/rpb.h"
#include "testutil.h"

uint8_t *tu_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex), digits = 0;
    char *packed = malloc(n + 1);
    uint8_t *out = malloc(n / 2 + 1);
    if (!packed || !out)
        abort();
    for (const char *p = hex; *p; p++)
        if (*p != ' ' && *p != '\n')
            packed[digits++] = *p;
    if (rpb_hex_decode(packed, digits, out, n / 2 + 1, len) != RPB_OK) {
        fprintf(stderr, "tu_hex: bad hex input \"%s\"\n", hex);
        abort();
    }
    free(packed);
    return out;
}

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t guarded_span(size_t len)
{
    size_t pg = page_size();
    return ((len + pg - 1) / pg + 1) * pg;
}

uint8_t *tu_guarded_copy(const uint8_t *data, size_t len)
{
    size_t pg = page_size();
    size_t span = guarded_span(len);
    uint8_t *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        abort();
    if (mprotect(base + span - pg, pg, PROT_NONE) != 0)
        abort();
    uint8_t *p = base + span - pg - len;
    if (len)
        memcpy(p, data, len);
    return p;
}

void tu_guarded_free(uint8_t *p, size_t len)
{
    size_t pg = page_size();
    size_t span = guarded_span(len);
    munmap(p + len + pg - span, span);
}

static unsigned skipped;

void tu_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("\n    SKIPPED: ");
    vprintf(fmt, ap);
    printf(" ");
    va_end(ap);
    skipped++;
}

int tu_run_only(const char *suite_name, const tu_test *tests, const tu_alone *alone,
                const char *only)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    bool found = only == NULL;
    for (const tu_test *t = tests; suite && only == NULL && t->name; t++)
        CU_add_test(suite, t->name, t->fn);
    for (const tu_alone *a = alone; suite && only && a && a->id; a++)
        if (strcmp(a->id, only) == 0) {
            CU_add_test(suite, a->name, a->fn);
            found = true;
        }
    if (!found) {
        fprintf(stderr, "%s: no test with the id %s\n", suite_name, only);
        CU_cleanup_registry();
        return 2;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    if (failed)
        return 1;
    if (skipped && only == NULL) {
        fprintf(stderr, "%s: a test run with the others skipped; register it alone (tu_alone) "
                        "with its own ctest entry\n",
                suite_name);
        return 1;
    }
    return skipped ? TU_SKIP_EXIT : 0;
}

int tu_run(const char *suite_name, const tu_test *tests)
{
    return tu_run_only(suite_name, tests, NULL, NULL);
}

int tu_wait_exit(pid_t pid, int ms)
{
    /* the pidfd becomes readable when the process exits */
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        struct pollfd p = {pfd, POLLIN, 0};
        poll(&p, 1, ms);
        close(pfd);
    } else {
        fprintf(stderr, "\n    pidfd_open: %s ", strerror(errno));
    }
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid)
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int tu_run_capture(const char *const *argv, char *out, size_t cap, int ms)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        close(p[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    size_t got = 0;
    ssize_t k;
    while (got + 1 < cap && (k = read(p[0], out + got, cap - 1 - got)) > 0)
        got += (size_t)k;
    out[got] = '\0';
    close(p[0]);
    return tu_wait_exit(pid, ms);
}

bool tu_send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

void tu_read_text(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
}

size_t tu_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

bool tu_write_service(const char *dir, const char *name, const char *pipe, const char *handoff)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.service", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "backend_pipe = %s\ndaemon_version = 1.0.0\n", pipe);
    if (handoff)
        fprintf(f, "handoff_socket = %s\n", handoff);
    return fclose(f) == 0;
}

/* ---- log files ---- */

bool tu_tail_open(tu_tail *t, const char *path)
{
    t->off = t->len = 0;
    t->fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    t->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->fd < 0 || t->ino < 0 || inotify_add_watch(t->ino, path, IN_MODIFY) < 0) {
        fprintf(stderr, "cannot follow %s: %s\n", path, strerror(errno));
        return false;
    }
    lseek(t->fd, 0, SEEK_END);
    return true;
}

void tu_tail_close(tu_tail *t)
{
    close(t->fd);
    close(t->ino);
}

char *tu_tail_next(tu_tail *t, int64_t end)
{
    for (;;) {
        char *nl = memchr(t->buf + t->off, '\n', t->len - t->off);
        if (nl != NULL) {
            char *line = t->buf + t->off;
            *nl = '\0';
            t->off = (size_t)(nl + 1 - t->buf);
            return line;
        }
        memmove(t->buf, t->buf + t->off, t->len - t->off);
        t->len -= t->off;
        t->off = 0;
        if (t->len == sizeof t->buf)
            t->len = 0; /* a line longer than the buffer: not one we wait for */
        ssize_t n = read(t->fd, t->buf + t->len, sizeof t->buf - t->len);
        if (n > 0) {
            t->len += (size_t)n;
            continue;
        }
        int64_t left = end - rpb_monotonic_ms();
        if (left <= 0)
            return NULL;
        struct pollfd p = {t->ino, POLLIN, 0};
        if (poll(&p, 1, (int)left) > 0) {
            char ev[4096];
            while (read(t->ino, ev, sizeof ev) > 0)
                ;
        }
    }
}

pid_t tu_start_daemon(const char *const *argv, const char *log_path, const char *a, const char *b,
                      int ms)
{
    tu_tail log;
    if (!tu_tail_open(&log, log_path))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    bool ready = pid > 0 && tu_tail_wait(&log, a, b, ms);
    tu_tail_close(&log);
    if (pid > 0 && !ready) {
        kill(pid, SIGKILL);
        tu_wait_exit(pid, ms);
    }
    return ready ? pid : -1;
}

bool tu_tail_wait(tu_tail *t, const char *a, const char *b, int ms)
{
    int64_t end = rpb_monotonic_ms() + ms;
    char *line;
    while ((line = tu_tail_next(t, end)) != NULL)
        if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
            return true;
    fprintf(stderr, "\n    no log line with %s%s%s within %d ms ", a, b ? " and " : "", b ? b : "",
            ms);
    return false;
}

bool tu_send_fds(int sock, const void *data, size_t len, const int *fds, size_t n)
{
    struct iovec iov = {(void *)data, len};
    union {
        char buf[CMSG_SPACE(16 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 16)
        return false;
    if (n > 0) {
        memset(&ctl, 0, sizeof ctl);
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len;
}

int tu_finish(pid_t pid, const char *root, int status)
{
    kill(pid, SIGTERM);
    if (tu_wait_exit(pid, 10000) != 0)
        status = 1;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root ? root : "");
    if (root && status == 0 && system(cmd) != 0)
        status = 1;
    return status;
}
