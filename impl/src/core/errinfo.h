/*
 * errinfo.h - an rpb_errinfo with a message (rpb/error.h); internal, not
 * installed.
 */
#ifndef RPB_CORE_ERRINFO_H
#define RPB_CORE_ERRINFO_H

#include "rpb/error.h"

/* rpb_errinfo_set() plus line and a printf-style message.  Returns code. */
int rpb_errinfo_printf(rpb_errinfo *err, int code, size_t offset, unsigned line, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));

#endif
