/*
 * json_internal.h - shared internals of impl/src/json (not installed).
 */
#ifndef RPB_JSON_INTERNAL_H
#define RPB_JSON_INTERNAL_H

#include "../core/errinfo.h"
#include "rpb/json.h"

/* size bytes of doc-owned memory, aligned for any type; NULL when out of
 * memory.  Freed with the doc. */
void *rpb_json_doc_alloc(rpb_json_doc *doc, size_t size);

/* The last member of the object obj whose key equals key (which may hold
 * NUL), or NULL. */
const rpb_json_value *rpb_json_member(const rpb_json_value *obj, rpb_slice key);

/* Records status as w's error unless an earlier one is recorded. */
void rpb_json_writer_fail(rpb_json_writer *w, int status);

#endif
