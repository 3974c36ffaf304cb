/*
 * deadline.c - the deadline FIFO of the reference daemons (daemon.h).
 */
#include "daemon.h"

void dl_append(dl_list *l, dl_node *n, int64_t deadline_ms)
{
    n->deadline_ms = deadline_ms;
    n->prev = l->tail;
    n->next = NULL;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
    n->linked = true;
}

void dl_remove(dl_list *l, dl_node *n)
{
    if (!n->linked)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
    n->linked = false;
}

dl_node *dl_expired(const dl_list *l, int64_t now)
{
    return l->head != NULL && l->head->deadline_ms <= now ? l->head : NULL;
}
