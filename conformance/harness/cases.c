/*
 * cases.c - the suites in run order: the area tables of cases_<area>.c, one
 * after another (the broker's, then the backend's; rpb-conform runs the ids
 * of one role), then the cases that stop the daemon.  Ids never change
 * meaning; a new check gets a new id (conformance/README.md, "Adding a
 * case").
 */
#include <stdlib.h>
#include <string.h>

#include "cases.h"

static const case_table *const areas[] = {
    &cases_framing, &cases_envelope, &cases_wire, &cases_hello, &cases_conn, &cases_admin, &cases_launch,
    &cases_handoff,
    &cases_probe, &cases_ident, &cases_bconn, &cases_receiver,
};

/* Appends the rows of every area whose CASE_ENDS_BROKER flag is ends. */
static void append_rows(hcase *out, size_t *n, bool ends)
{
    for (size_t a = 0; a < sizeof areas / sizeof areas[0]; a++)
        for (size_t i = 0; i < areas[a]->n; i++)
            if (((areas[a]->rows[i].flags & CASE_ENDS_BROKER) != 0) == ends)
                out[(*n)++] = areas[a]->rows[i];
}

const hcase *case_list(size_t *n)
{
    static hcase *list;
    static size_t count;
    if (!list) {
        size_t total = 0;
        for (size_t a = 0; a < sizeof areas / sizeof areas[0]; a++)
            total += areas[a]->n;
        list = calloc(total, sizeof *list);
        if (!list)
            abort();
        append_rows(list, &count, false);
        append_rows(list, &count, true);
        for (size_t i = 0; i < count; i++) {
            if (list[i].title)
                continue;
            sbuf t = SBUF_INIT;
            list[i].describe(&list[i], &t);
            list[i].title = strdup(sb_str(&t));
            sb_free(&t);
            if (!list[i].title)
                abort();
        }
    }
    *n = count;
    return list;
}
