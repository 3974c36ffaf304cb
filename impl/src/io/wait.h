/*
 * wait.h - deadlines for the blocking socket helpers of librpb (fdio.c and
 * client_io.c); internal, not installed.
 */
#ifndef RPB_IO_WAIT_H
#define RPB_IO_WAIT_H

#include <stdbool.h>
#include <stdint.h>

/* The poll() timeout that ends at deadline_ms (an rpb_monotonic_ms()
 * value; negative, as RPB_NO_DEADLINE, for none): true and *timeout_ms
 * (-1 = none, else at least 1), or false when the deadline has passed
 * (FRAME-010). */
bool rpb_io_timeout(int64_t deadline_ms, int *timeout_ms);

/* Waits until fd is ready for events or deadline_ms passes: RPB_OK,
 * RPB_ERR_TIMEOUT or RPB_ERR_IO (errno kept). */
int rpb_io_wait(int fd, short events, int64_t deadline_ms);

#endif
