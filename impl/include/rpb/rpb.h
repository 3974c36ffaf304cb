/*
 * rpb/rpb.h - umbrella header of librpb, the C reference implementation of
 * the running-process broker v1 protocol.
 */
#ifndef RPB_RPB_H
#define RPB_RPB_H

#include "rpb/error.h"
#include "rpb/codec.h"
#include "rpb/messages.h"
#include "rpb/frame.h"
#include "rpb/io.h"

#define RPB_VERSION_STRING "0.1.0"

#endif
