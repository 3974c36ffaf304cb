/*
 * fault_hook.h - FAULT(name) is true when the test-only fault name is active
 * in rpb-broker-faulty (built with -DRPB_FAULT_INJECTION, see
 * impl/bin/rpb-broker/rpb_fault.h); in librpb it is the constant 0 and the
 * guarded branches compile away.
 */
#ifndef RPB_FAULT_HOOK_H
#define RPB_FAULT_HOOK_H

#ifdef RPB_FAULT_INJECTION
#include "rpb_fault.h"
#define FAULT(name) rpb_fault_is(RPB_FAULT_##name)
#else
#define FAULT(name) 0
#endif

#endif
