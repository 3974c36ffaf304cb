/*
 * The time decisions of rpb-broker's event loop, free of I/O and of the
 * clock: every function is given the time, so the loop passes its clock's
 * reading and the unit tests a fake one.  Handshake deadlines (SEC-006),
 * the fd-pressure back-off and recovery (SEC-011), the drain (SEC-012)
 * and the idle exit (RDV-011).
 */
#include "broker.h"

bool timers_fd_pressure(broker_timers *t, int64_t now)
{
    bool newly = !t->demoted;
    t->demoted = true;
    t->ok_streak = 0;
    t->listen_resume_ms = now + FD_PRESSURE_BACKOFF_MS;
    return newly;
}

bool timers_accepted(broker_timers *t)
{
    if (!t->demoted || ++t->ok_streak < FD_PRESSURE_RECOVERY_STREAK)
        return false;
    t->demoted = false;
    return true;
}

bool timers_listen_due(broker_timers *t, int64_t now)
{
    if (t->listen_resume_ms == 0 || now < t->listen_resume_ms)
        return false;
    t->listen_resume_ms = 0;
    return true;
}

bool timers_drain(broker_timers *t, int64_t now, uint32_t drain_ms)
{
    if (t->draining)
        return false;
    t->draining = true;
    t->drain_end_ms = now + drain_ms;
    return true;
}

bool timers_drain_over(const broker_timers *t, int64_t now)
{
    return t->draining && now >= t->drain_end_ms;
}

void timers_active(broker_timers *t, int64_t now)
{
    t->idle_since_ms = now;
}

bool timers_idle_over(const broker_timers *t, int64_t now)
{
    return t->idle_exit_ms != 0 && !t->draining && now - t->idle_since_ms >= t->idle_exit_ms;
}

int timers_poll_ms(const broker_timers *t, const dl_list *dl, int64_t now)
{
    int64_t next = INT64_MAX;
    if (dl->head)
        next = dl->head->deadline_ms;
    else if (t->idle_exit_ms && !t->draining)
        next = t->idle_since_ms + t->idle_exit_ms;
    if (t->listen_resume_ms && t->listen_resume_ms < next)
        next = t->listen_resume_ms;
    if (t->draining && t->drain_end_ms < next)
        next = t->drain_end_ms;
    if (next == INT64_MAX)
        return -1;
    if (next <= now)
        return 0;
    return next - now > TIMERS_POLL_MAX_MS ? TIMERS_POLL_MAX_MS : (int)(next - now);
}
