/*
 * The listening socket of the daemons: systemd socket activation, or a
 * private directory (SEC-001), a 0600 socket bound under umask 0177 so no
 * other permission ever exists (SEC-002), stale-socket replacement
 * (SEC-003) and removal on exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

#define SD_LISTEN_FDS_START 3

int listener_from_systemd(broker_listener *l)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (pid == NULL || fds == NULL)
        return 0;
    char *end;
    long p = strtol(pid, &end, 10);
    if (*end != '\0' || p != (long)getpid())
        return 0;
    long n = strtol(fds, &end, 10);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (*end != '\0' || n < 1) {
        blog_msg("LISTEN_FDS=%s is not a positive count", fds);
        return -1;
    }
    if (n > 1)
        blog_msg("socket activation passed %ld sockets; serving the first (fd 3)", n);
    int fd = SD_LISTEN_FDS_START;
    int domain = 0, type = 0, listening = 0;
    socklen_t len = sizeof domain;
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    len = sizeof type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    len = sizeof listening;
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    if (domain != AF_UNIX || type != SOCK_STREAM || !listening) {
        blog_msg("socket-activated fd 3 is not a listening Unix stream socket");
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    memset(l, 0, sizeof *l);
    l->fd = fd;
    l->activated = true;
    return 1;
}

/* mkdir -p with 0700 for every directory created. */
static int make_private_dirs(char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0)
        return 0;
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        int rc = make_private_dirs(dir);
        *slash = '/';
        if (rc != 0)
            return rc;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* SEC-001: the socket's directory exists (created 0700), is ours and is
 * not accessible to group or others.  It must be an absolute path below a
 * top-level directory: a relative path depends on the working directory,
 * and "/rpb/broker.sock" is what "$XDG_RUNTIME_DIR/rpb/broker.sock" becomes
 * when XDG_RUNTIME_DIR is unset (the broker would create /rpb). */
static int private_dir(const char *path)
{
    if (path[0] != '/') {
        blog_msg("socket path %s is relative; give an absolute path such as "
                 "$XDG_RUNTIME_DIR/rpb/broker.sock", path);
        return -1;
    }
    char dir[sizeof((struct sockaddr_un *)0)->sun_path];
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    if (strchr(dir + 1, '/') == NULL) {
        blog_msg("socket directory %s is %s; is XDG_RUNTIME_DIR unset? give a path in a private "
                 "directory such as /run/user/%u/rpb/broker.sock",
                 dir[0] ? dir : "/", dir[0] ? "at the filesystem root" : "the filesystem root",
                 (unsigned)geteuid());
        return -1;
    }
    if (make_private_dirs(dir) != 0) {
        blog_msg("cannot create socket directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        blog_msg("socket directory %s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        blog_msg("socket directory %s must be owned by uid %u with mode 0700 (it has uid %u, "
                 "mode %04o); use a private directory",
                 dir, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* SEC-003: an existing path is replaced only when it is a socket nobody
 * listens on. */
static int clear_stale(const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(sa->sun_path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(st.st_mode)) {
        blog_msg("%s exists and is not a socket; refusing to replace it", sa->sun_path);
        return -1;
    }
    /* non-blocking: a live listener with a full backlog answers EAGAIN
     * instead of holding the start-up in connect() */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN) {
        blog_msg("another process is listening on %s; refusing to start", sa->sun_path);
        return -1;
    }
    if (e != ECONNREFUSED) {
        blog_msg("cannot probe existing socket %s: %s", sa->sun_path, strerror(e));
        return -1;
    }
    if (unlink(sa->sun_path) != 0) {
        blog_msg("cannot remove stale socket %s: %s", sa->sun_path, strerror(errno));
        return -1;
    }
    blog_msg("replaced stale socket %s", sa->sun_path);
    return 0;
}

int listener_bind(broker_listener *l, const char *path)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) == 0 || strlen(path) >= sizeof sa.sun_path) {
        blog_msg("socket path must be 1..%zu bytes", sizeof sa.sun_path - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (private_dir(path) != 0 || clear_stale(&sa) != 0)
        return -1;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        blog_msg("socket: %s", strerror(errno));
        return -1;
    }
    /* SEC-002: the file is created 0600; no window with other modes */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    umask(old);
    if (rc != 0) {
        blog_msg("bind %s: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    struct stat st;
    if (listen(fd, SOMAXCONN) != 0 || stat(path, &st) != 0) {
        blog_msg("listen %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    l->fd = fd;
    strcpy(l->path, path);
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    return 0;
}

void listener_unlink(broker_listener *l)
{
    struct stat st;
    if (!l->activated && l->path[0] != '\0' && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
        st.st_ino == l->ino)
        unlink(l->path);
    l->path[0] = '\0';
}

void listener_close(broker_listener *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    listener_unlink(l);
}
