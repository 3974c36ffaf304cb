/*
 * fdcount.h - how many descriptors a process has open, for the leak checks
 * of the tests and benchmarks (they count before and after).
 */
#ifndef RPB_FDCOUNT_H
#define RPB_FDCOUNT_H

#include <sys/types.h>

/* The number of descriptors pid has open (its /proc/PID/fd entries), or
 * -1 when they cannot be read. */
int fd_count(pid_t pid);

#endif
