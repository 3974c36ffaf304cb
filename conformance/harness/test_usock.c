/*
 * test_usock.c - tests of usock.c: connecting with a deadline and its
 * errno results; passing one fd or an errno through a SOCK_SEQPACKET pair,
 * with malformed messages (no fd, two fds, more fds than the receiver has
 * room for, a short message) refused and every received fd closed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "testrun.h"
#include "usock.h"

static int pair[2] = {-1, -1};

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Sends status with n copies of fd attached, bypassing usock_send_fd(). */
static void send_raw(const void *data, size_t len, int fd, int n)
{
    struct iovec iov = {(void *)data, len};
    char buf[CMSG_SPACE(16 * sizeof(int))];
    memset(buf, 0, sizeof buf);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (n > 0) {
        m.msg_control = buf;
        m.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(n * sizeof(int));
        for (int i = 0; i < n; i++)
            memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof fd);
    }
    CU_ASSERT_EQUAL(sendmsg(pair[0], &m, 0), (ssize_t)len);
}

static int setup(void)
{
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0 ? 0 : -1;
}

static int teardown(void)
{
    close(pair[0]);
    close(pair[1]);
    return 0;
}

static void test_pass_fd(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe(p) == 0);
    CU_ASSERT_EQUAL(usock_send_fd(pair[0], p[1]), 0);
    close(p[1]);
    int fd = usock_recv_fd(pair[1]);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CU_ASSERT_EQUAL(write(fd, "x", 1), 1);
    char ch = 0;
    CU_ASSERT_EQUAL(read(p[0], &ch, 1), 1);
    CU_ASSERT_EQUAL(ch, 'x');
    close(fd);
    close(p[0]);
}

static void test_pass_error(void)
{
    CU_ASSERT_EQUAL(usock_send_fd(pair[0], -ECONNREFUSED), 0);
    CU_ASSERT_EQUAL(usock_recv_fd(pair[1]), -ECONNREFUSED);
}

static void test_malformed(void)
{
    int before = open_fds();
    int zero = 0, neg = -5;
    send_raw(&zero, sizeof zero, -1, 0); /* success without an fd */
    CU_ASSERT_EQUAL(usock_recv_fd(pair[1]), -EPROTO);
    send_raw(&zero, sizeof zero, 0, 2); /* two fds */
    CU_ASSERT_EQUAL(usock_recv_fd(pair[1]), -EPROTO);
    send_raw(&zero, sizeof zero, 0, 9); /* more than the receiver takes: MSG_CTRUNC */
    CU_ASSERT_EQUAL(usock_recv_fd(pair[1]), -EPROTO);
    send_raw(&neg, sizeof neg, -1, 0); /* a status that is no errno */
    CU_ASSERT_EQUAL(usock_recv_fd(pair[1]), -EPROTO);
    send_raw("ab", 2, 0, 1); /* short message, one fd */
    CU_ASSERT_EQUAL(usock_recv_fd(pair[1]), -EPIPE);
    int err = ENOENT;
    send_raw(&err, sizeof err, 0, 1); /* an error with an fd attached */
    CU_ASSERT_EQUAL(usock_recv_fd(pair[1]), -ENOENT);
    /* every fd that arrived was closed again */
    CU_ASSERT_EQUAL(open_fds(), before);
}

static void test_recv_after_close(void)
{
    int sp[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
    close(sp[0]);
    CU_ASSERT_EQUAL(usock_recv_fd(sp[1]), -EPIPE);
    close(sp[1]);
}

static void test_connect(void)
{
    char dir[256], path[300];
    CU_ASSERT_FATAL(make_temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/s.sock", dir);
    CU_ASSERT_EQUAL(usock_connect(path, 100), -ENOENT);
    CU_ASSERT_EQUAL(usock_connect("", 100), -EINVAL);
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    CU_ASSERT_EQUAL(usock_connect(longpath, 100), -ENAMETOOLONG);

    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    CU_ASSERT_FATAL(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path));
    CU_ASSERT_FATAL(bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0);
    CU_ASSERT_FATAL(listen(ls, 4) == 0);
    int fd = usock_connect(path, 1000);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CU_ASSERT_FALSE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    close(fd);
    close(ls);
    CU_ASSERT_EQUAL(usock_connect(path, 100), -ECONNREFUSED);
    remove_temp_dir(dir);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("usock", setup, teardown);
    CU_add_test(s, "an fd passes, close-on-exec, same file", test_pass_fd);
    CU_add_test(s, "an errno passes as -errno", test_pass_error);
    CU_add_test(s, "no fd, extra fds, truncated control, bad status, short message: refused, no fd leaked",
                test_malformed);
    CU_add_test(s, "the sender gone: -EPIPE", test_recv_after_close);
    CU_add_test(s, "connect: ENOENT, EINVAL, ENAMETOOLONG, a blocking fd, ECONNREFUSED", test_connect);
    return cunit_run(NULL);
}
