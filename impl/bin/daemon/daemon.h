/*
 * daemon.h - what the reference daemons (rpb-broker, rpb-backend) share:
 * the log (one line per event, text or JSON), the private listening
 * socket and the connections' deadline FIFO.
 */
#ifndef RPB_DAEMON_H
#define RPB_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- log.c: one line per event, text or JSON ---- */

/* Wall-clock milliseconds since the Unix epoch (log timestamps, admin). */
int64_t unix_now_ms(void);

/* Opens the log: path NULL is stderr, "-" stdout.  prog prefixes text
 * lines ("rpb-broker: event key=value ..."). */
int blog_open(const char *prog, const char *path, bool json);
void blog_close(void);

/* A log field: key and either a string or a number. */
typedef struct blog_field {
    const char *key;
    const char *str; /* when NULL, num is used */
    int64_t num;
} blog_field;

static inline blog_field blog_s(const char *key, const char *value)
{
    return (blog_field){key, value ? value : "", 0};
}
#define BLOG_S(k, v) blog_s((k), (v))
#define BLOG_N(k, v) ((blog_field){(k), NULL, (int64_t)(v)})

/* Writes one line: event name and fields. */
void blog_event(const char *event, const blog_field *fields, size_t n);
/* A free-form message line (event "message"). */
void blog_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- listener.c ---- */

typedef struct broker_listener {
    int fd;
    bool activated; /* from systemd: not ours to unlink */
    char path[108];
    dev_t dev;
    ino_t ino;
} broker_listener;

/* Takes a systemd-activated socket (LISTEN_FDS/LISTEN_PID) when there is
 * one: 1 taken, 0 none, -1 invalid (message logged). */
int listener_from_systemd(broker_listener *l);

/* Creates the private directory and binds path 0600 (SEC-001..SEC-003,
 * MUX-007).  Returns 0, or -1 with the reason logged. */
int listener_bind(broker_listener *l, const char *path);

/* Removes the socket file when we created it and it is still ours, so no
 * new connection reaches the listener by its path; once. */
void listener_unlink(broker_listener *l);

/* Closes the listener and unlinks the socket (listener_unlink). */
void listener_close(broker_listener *l);

/* ---- deadline.c: the connections' deadline FIFO ---- */

/* A connection's place in a dl_list.  Every connection of a daemon has the
 * same timeout, and a deadline that moves is set again from now, so a
 * node appended at its deadline keeps the list oldest first: the head is
 * the first to expire. */
typedef struct dl_node {
    int64_t deadline_ms;
    struct dl_node *prev, *next;
    bool linked;
} dl_node;

typedef struct dl_list {
    dl_node *head, *tail;
} dl_list;

/* Links n last, due at deadline_ms (n must not be linked). */
void dl_append(dl_list *l, dl_node *n, int64_t deadline_ms);
/* Unlinks n; nothing when it is not linked. */
void dl_remove(dl_list *l, dl_node *n);
/* The oldest node whose deadline is at or before now, or NULL. */
dl_node *dl_expired(const dl_list *l, int64_t now);

#endif
