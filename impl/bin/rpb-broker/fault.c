/* Test-only fault switch of rpb-broker-faulty (see rpb_fault.h). */
#include "rpb_fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[RPB_FAULT_COUNT] = {
    [RPB_FAULT_NONE] = NULL,
#define RPB_FAULT_NAME(id, name) [RPB_FAULT_##id] = name,
    RPB_FAULT_LIST(RPB_FAULT_NAME)
#undef RPB_FAULT_NAME
};

static enum rpb_fault active = RPB_FAULT_NONE;

int rpb_fault_init(void)
{
    const char *want = getenv("RPB_BROKER_FAULT");
    if (want == NULL || *want == '\0')
        return 0;
    for (int f = 1; f < RPB_FAULT_COUNT; f++) {
        if (strcmp(fault_names[f], want) == 0) {
            active = (enum rpb_fault)f;
            return 0;
        }
    }
    return -1;
}

bool rpb_fault_is(enum rpb_fault f) { return f != RPB_FAULT_NONE && active == f; }

const char *rpb_fault_active_name(void) { return fault_names[active]; }

void rpb_fault_list(void)
{
    for (int f = 1; f < RPB_FAULT_COUNT; f++)
        printf("%s\n", fault_names[f]);
}
