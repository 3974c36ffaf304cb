/*
 * payload.c - which message Frame.payload carries, per payload protocol and
 * frame kind (spec/envelope.md ENV-008).
 */
#include <string.h>

#include "dump.h"

payload_type payload_type_for(uint32_t pp, int32_t kind)
{
    payload_type t = {PAYLOAD_UNKNOWN, NULL, NULL};
    if (pp == RPB_PP_PROBE) {
        if (kind == RPB_FRAME_KIND_REQUEST)
            payload_type_by_name("probe-request", strlen("probe-request"), &t);
        else if (kind == RPB_FRAME_KIND_RESPONSE)
            payload_type_by_name("probe-response", strlen("probe-response"), &t);
        return t;
    }
    const rpb_msg_desc *d = rpb_payload_message(pp, kind);
    if (d != NULL) {
        t.kind = PAYLOAD_MESSAGE;
        t.desc = d;
        t.name = d->name;
    }
    return t;
}

bool payload_type_by_name(const char *name, size_t len, payload_type *out)
{
    static const struct {
        const char *name;
        payload_kind kind;
    } probe[] = {
        {"probe-request", PAYLOAD_PROBE_REQUEST},
        {"probe-response", PAYLOAD_PROBE_RESPONSE},
    };
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        if (strlen(probe[i].name) == len && memcmp(probe[i].name, name, len) == 0) {
            *out = (payload_type){probe[i].kind, NULL, probe[i].name};
            return true;
        }
    }
    for (const rpb_msg_desc *const *d = rpb_all_messages; *d != NULL; d++) {
        if (strlen((*d)->name) == len && memcmp((*d)->name, name, len) == 0) {
            *out = (payload_type){PAYLOAD_MESSAGE, *d, (*d)->name};
            return true;
        }
    }
    return false;
}
