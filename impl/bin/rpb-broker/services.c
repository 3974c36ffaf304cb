/*
 * The services directory of rpb-broker (spec/hello.md "Service
 * definitions", SEC-009): `<name>.servicedef` (prost ServiceDefinition) and
 * `<name>.service` (text) files, re-read whenever inotify reports a change,
 * in the directory now at the path when it was replaced (SEC-019).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "rpb/error.h"

#define SERVICE_FILE_MAX (64u * 1024u)
#define DIR_EVENTS                                                                                 \
    (IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB |          \
     IN_DELETE_SELF | IN_MOVE_SELF)
/* in the parent: a directory appearing under the services directory's name */
#define PARENT_EVENTS (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)

/* SEC-009: the directory must be ours and closed to group and others. */
static int check_private(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        blog_msg("services directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        blog_msg("services directory %s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        blog_msg("services directory %s has insecure permissions (uid %u, mode %04o): it must be "
                 "owned by uid %u and not group/other accessible (chmod 700)",
                 dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
        return -1;
    }
    return 0;
}

/* Splits s->dir into the directory holding it and its last component. */
static void split_dir(broker_services *s)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", s->dir);
    snprintf(s->name, sizeof s->name, "%s", basename(copy));
    snprintf(copy, sizeof copy, "%s", s->dir);
    snprintf(s->parent, sizeof s->parent, "%s", dirname(copy));
}

/* SEC-019 */
void services_watch(broker_services *s)
{
    if (s->inotify_fd < 0)
        return;
    if (s->parent_wd < 0)
        s->parent_wd = inotify_add_watch(s->inotify_fd, s->parent, PARENT_EVENTS);
    /* a directory moved away keeps its watch: drop it; then watch whatever
     * is at the path now (nothing while it is missing: the parent's watch
     * reports its return) */
    if (s->dir_wd >= 0)
        inotify_rm_watch(s->inotify_fd, s->dir_wd);
    s->dir_wd = inotify_add_watch(s->inotify_fd, s->dir, DIR_EVENTS);
}

int services_open(broker_services *s, const char *dir)
{
    s->dir = dir;
    s->rejected = 0;
    s->dir_wd = s->parent_wd = -1;
    split_dir(s);
    if (check_private(dir) != 0) {
        s->inotify_fd = -1;
        return -1;
    }
    s->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    services_watch(s);
    if (s->inotify_fd >= 0 && s->dir_wd < 0) {
        close(s->inotify_fd);
        s->inotify_fd = -1;
    }
    if (s->inotify_fd < 0)
        blog_msg("cannot watch %s (%s): definitions are re-read on SIGHUP only", dir,
                 strerror(errno));
    return 0;
}

void services_close(broker_services *s)
{
    if (s->inotify_fd >= 0)
        close(s->inotify_fd);
    s->inotify_fd = -1;
}

bool services_changed(broker_services *s)
{
    bool changed = false, replaced = false;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(s->inotify_fd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (e->wd == s->dir_wd) {
                changed = true;
                replaced |= (e->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED)) != 0;
            } else if (e->wd == s->parent_wd && e->len > 0 && strcmp(e->name, s->name) == 0) {
                changed = replaced = true;
            }
        }
    }
    if (replaced) {
        services_watch(s);
        blog_msg("services directory %s was replaced: %s", s->dir,
                 s->dir_wd >= 0 ? "watching the new one" : "missing; waiting for it");
    }
    return changed;
}

/* Reads a regular file of at most SERVICE_FILE_MAX bytes (no symlinks).
 * Returns 0, or -1 with errno set (EINVAL not a regular file or too large
 * by its size, EFBIG grew past the limit, or the open/read error). */
static int read_file(int dirfd, const char *name, uint8_t *buf, size_t *len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > SERVICE_FILE_MAX) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, SERVICE_FILE_MAX + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* a read error is not the end of the file: reject, keep errno */
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > SERVICE_FILE_MAX)
            break;
    }
    close(fd);
    if (got > SERVICE_FILE_MAX) {
        errno = EFBIG;
        return -1;
    }
    *len = got;
    return 0;
}

/* Loads one directory entry when its name is a definition file's; a file
 * that does not load is logged and counted as rejected. */
static void load_entry(broker_services *s, int dirfd, const char *name, rpb_service_table *t,
                       uint8_t *buf, uint8_t *arena_mem, size_t arena_cap)
{
    size_t n = strlen(name);
    bool proto = n > 11 && strcmp(name + n - 11, ".servicedef") == 0;
    bool text = n > 8 && strcmp(name + n - 8, ".service") == 0;
    if (name[0] == '.' || (!proto && !text))
        return;
    rpb_slice stem = {(const uint8_t *)name, n - (proto ? 11 : 8)};
    size_t len;
    rpb_errinfo err = {0};
    rpb_service svc;
    rpb_arena arena;
    rpb_arena_init(&arena, arena_mem, arena_cap);
    int rc;
    if (read_file(dirfd, name, buf, &len) != 0) {
        snprintf(err.message, sizeof err.message, "%s", strerror(errno));
        rc = RPB_ERR_IO;
    } else if (proto) {
        rc = rpb_servicedef_parse_proto(buf, len, stem, &arena, &svc, &err);
    } else {
        rc = rpb_servicedef_parse_text((const char *)buf, len, stem, &arena, &svc, &err);
    }
    if (rc == RPB_OK && svc.backend_pipe.len == 0 && !s->launch) {
        snprintf(err.message, sizeof err.message,
                 "no backend_pipe: a launched service (binary_path) needs rpb-broker --launch");
        rc = RPB_ERR_INVALID_ARGUMENT;
    }
    if (rc == RPB_OK)
        rc = rpb_service_table_add(t, &svc, &err);
    if (rc == RPB_OK)
        return;
    s->rejected++;
    const char *why = err.message[0] ? err.message : rpb_strerror(rc);
    if (err.line)
        blog_msg("service file %s/%s rejected: line %u: %s", s->dir, name, err.line, why);
    else
        blog_msg("service file %s/%s rejected: %s", s->dir, name, why);
}

rpb_service_table *services_load(broker_services *s)
{
    rpb_service_table *t = rpb_service_table_new();
    if (t == NULL)
        return NULL;
    s->rejected = 0;
    if (check_private(s->dir) != 0) {
        blog_msg("serving no services until %s is private again", s->dir);
        return t;
    }
    DIR *d = opendir(s->dir);
    if (d == NULL) {
        blog_msg("cannot read services directory %s: %s", s->dir, strerror(errno));
        return t;
    }
    size_t arena_cap = rpb_arena_bound(SERVICE_FILE_MAX);
    uint8_t *buf = malloc(SERVICE_FILE_MAX + 1);
    uint8_t *arena_mem = malloc(arena_cap);
    if (buf == NULL || arena_mem == NULL) {
        free(buf);
        free(arena_mem);
        closedir(d);
        rpb_service_table_free(t);
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        load_entry(s, dirfd(d), e->d_name, t, buf, arena_mem, arena_cap);
    free(buf);
    free(arena_mem);
    closedir(d);
    blog_msg("loaded %zu service(s) from %s, %llu file(s) rejected", rpb_service_table_count(t),
             s->dir, (unsigned long long)s->rejected);
    return t;
}
