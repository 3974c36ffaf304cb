/*
 * version.c - rpb_version(): the version number compiled into the library.
 */
#include "rpb/version.h"

const char *rpb_version(void)
{
    return RPB_VERSION_STRING;
}
