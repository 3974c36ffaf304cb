/*
 * test_broker_timers.c - rpb-broker's event-loop time decisions
 * (impl/bin/rpb-broker/timers.c) against a fake clock: handshake deadlines
 * (SEC-006), fd-pressure back-off and recovery (SEC-011), drain (SEC-012).
 */
#include <string.h>

#include "broker.h"
#include "testutil.h"

static void test_deadlines_expire_oldest_first(void) /* SEC-006 */
{
    dl_list dl = {0};
    dl_node a = {0}, b = {0}, c = {0};
    broker_timers t = {0};
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 0), -1); /* nothing to wait for */
    dl_append(&dl, &a, 1000);
    dl_append(&dl, &b, 1010);
    dl_append(&dl, &c, 1020);
    CU_ASSERT_PTR_NULL(dl_expired(&dl, 999));
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 400), 600);
    CU_ASSERT_PTR_EQUAL(dl_expired(&dl, 1000), &a);
    /* a connection that finished leaves the FIFO, wherever it is */
    dl_remove(&dl, &b);
    CU_ASSERT_FALSE(b.linked);
    dl_remove(&dl, &b); /* twice is harmless */
    dl_remove(&dl, &a);
    CU_ASSERT_PTR_NULL(dl_expired(&dl, 1019));
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 1019), 1);
    CU_ASSERT_PTR_EQUAL(dl_expired(&dl, 5000), &c);
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 5000), 0); /* overdue: no wait */
    dl_remove(&dl, &c);
    CU_ASSERT_PTR_NULL(dl.head);
    CU_ASSERT_PTR_NULL(dl.tail);
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 5000), -1);
    /* a far deadline is waited for in steps of at most a minute */
    dl_append(&dl, &a, 10 * 60 * 1000);
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 0), TIMERS_POLL_MAX_MS);
}

static void test_fd_pressure_backoff_and_recovery(void) /* SEC-011 */
{
    broker_timers t = {0};
    dl_list dl = {0};
    CU_ASSERT_FALSE(timers_listen_due(&t, 0)); /* accepting: nothing to resume */
    CU_ASSERT_TRUE(timers_fd_pressure(&t, 10000)); /* demotes */
    CU_ASSERT_TRUE(t.demoted);
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 10000), FD_PRESSURE_BACKOFF_MS);
    CU_ASSERT_FALSE(timers_listen_due(&t, 10000 + FD_PRESSURE_BACKOFF_MS - 1));
    CU_ASSERT_TRUE(timers_listen_due(&t, 10000 + FD_PRESSURE_BACKOFF_MS));
    CU_ASSERT_FALSE(timers_listen_due(&t, 20000)); /* once */
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 20000), -1);
    /* two accepts, then EMFILE again: the streak starts over */
    CU_ASSERT_FALSE(timers_accepted(&t));
    CU_ASSERT_FALSE(timers_accepted(&t));
    CU_ASSERT_FALSE(timers_fd_pressure(&t, 20000)); /* already demoted */
    CU_ASSERT_TRUE(timers_listen_due(&t, 20000 + FD_PRESSURE_BACKOFF_MS));
    CU_ASSERT_FALSE(timers_accepted(&t));
    CU_ASSERT_FALSE(timers_accepted(&t));
    CU_ASSERT_TRUE(t.demoted);
    CU_ASSERT_TRUE(timers_accepted(&t)); /* the third in a row clears it */
    CU_ASSERT_FALSE(t.demoted);
    CU_ASSERT_FALSE(timers_accepted(&t)); /* not demoted: nothing to clear */
}

static void test_drain(void) /* SEC-012 */
{
    broker_timers t = {0};
    dl_list dl = {0};
    dl_node a = {0};
    CU_ASSERT_FALSE(timers_drain_over(&t, 1000000)); /* not draining */
    CU_ASSERT_TRUE(timers_drain(&t, 5000, 400));
    CU_ASSERT_FALSE(timers_drain_over(&t, 5399));
    CU_ASSERT_TRUE(timers_drain_over(&t, 5400));
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 5100), 300);
    dl_append(&dl, &a, 5200); /* the earlier of deadline and drain end */
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 5100), 100);
    /* the second signal stops at once and does not move the end */
    CU_ASSERT_FALSE(timers_drain(&t, 5300, 400));
    CU_ASSERT_EQUAL(t.drain_end_ms, 5400);
    /* a zero drain is over when it starts */
    broker_timers z = {0};
    CU_ASSERT_TRUE(timers_drain(&z, 7, 0));
    CU_ASSERT_TRUE(timers_drain_over(&z, 7));
}

static void test_idle_exit(void) /* RDV-011 */
{
    broker_timers t = {0};
    dl_list dl = {0};
    dl_node a = {0};
    timers_active(&t, 1000);
    CU_ASSERT_FALSE(timers_idle_over(&t, 1000000)); /* idle_exit_ms 0: never */
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 2000), -1);
    t.idle_exit_ms = 3000;
    CU_ASSERT_FALSE(timers_idle_over(&t, 3999));
    CU_ASSERT_TRUE(timers_idle_over(&t, 4000));
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 2000), 2000);
    /* an open connection: its deadline is the next wake-up, and activity
     * restarts the idle period */
    dl_append(&dl, &a, 2500);
    CU_ASSERT_EQUAL(timers_poll_ms(&t, &dl, 2000), 500);
    timers_active(&t, 2600);
    dl_remove(&dl, &a);
    CU_ASSERT_FALSE(timers_idle_over(&t, 5599));
    CU_ASSERT_TRUE(timers_idle_over(&t, 5600));
    /* a draining broker ends by the drain, not the idle timer */
    CU_ASSERT_TRUE(timers_drain(&t, 5000, 10000));
    CU_ASSERT_FALSE(timers_idle_over(&t, 9000));
}

int main(void)
{
    static const tu_test tests[] = {
        {"handshake deadlines expire oldest first (SEC-006)", test_deadlines_expire_oldest_first},
        {"fd-pressure back-off and recovery streak (SEC-011)", test_fd_pressure_backoff_and_recovery},
        {"drain end and the second signal (SEC-012)", test_drain},
        {"idle exit (RDV-011)", test_idle_exit},
        {NULL, NULL},
    };
    return tu_run("broker-timers", tests);
}
