/*
 * wait.c - deadlines of the blocking socket helpers (FRAME-010).
 */
#include "wait.h"

#include <errno.h>
#include <poll.h>

#include "rpb/io.h"

bool rpb_io_timeout(int64_t deadline_ms, int *timeout_ms)
{
    if (deadline_ms < 0) { /* RPB_NO_DEADLINE */
        *timeout_ms = -1;
        return true;
    }
    int64_t left = deadline_ms - rpb_monotonic_ms();
    if (left <= 0)
        return false;
    *timeout_ms = left > INT32_MAX ? INT32_MAX : (int)left;
    return true;
}

int rpb_io_wait(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int timeout;
        if (!rpb_io_timeout(deadline_ms, &timeout))
            return RPB_ERR_TIMEOUT;
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, timeout);
        if (n > 0)
            return RPB_OK;
        if (n == 0)
            return RPB_ERR_TIMEOUT;
        if (errno != EINTR)
            return RPB_ERR_IO;
    }
}
