/*
 * envelope.c - Frame envelope validation as each upstream call site does
 * it (spec/envelope.md ENV-001..ENV-006, ENV-009).  Each site is a row: the
 * expected kind and payload protocol, and the order of its checks.
 */
#include <string.h>

#include "rpb/frame.h"

enum check {
    END = 0,
    VERSION,    /* ENV-001 */
    KIND,       /* ENV-002 */
    PROTOCOL,   /* ENV-003 */
    ENCODING,   /* ENV-004 */
    REQUEST_ID, /* ENV-009: correlating sites only */
};

typedef struct site_rule {
    const char *name;
    int32_t kind;
    uint32_t payload_protocol;
    enum check order[6];
} site_rule;

/* ENV-005: version, kind, protocol, encoding; ENV-009: the probe response
 * checks request_id before the encoding, the handoff ack after it. */
static const site_rule site_rules[RPB_SITE_COUNT] = {
    [RPB_SITE_HELLO] = {"hello", RPB_FRAME_KIND_REQUEST, RPB_PP_CONTROL,
                        {VERSION, KIND, PROTOCOL, ENCODING}},
    [RPB_SITE_HELLO_REPLY] = {"hello-reply", RPB_FRAME_KIND_RESPONSE, RPB_PP_CONTROL,
                              {VERSION, KIND, PROTOCOL, ENCODING}},
    [RPB_SITE_ADMIN_REQUEST] = {"admin-request", RPB_FRAME_KIND_REQUEST, RPB_PP_ADMIN,
                                {VERSION, KIND, PROTOCOL, ENCODING}},
    [RPB_SITE_ADMIN_REPLY] = {"admin-reply", RPB_FRAME_KIND_RESPONSE, RPB_PP_ADMIN,
                              {VERSION, KIND, PROTOCOL, ENCODING}},
    [RPB_SITE_PROBE_REQUEST] = {"probe-request", RPB_FRAME_KIND_REQUEST, RPB_PP_PROBE,
                                {VERSION, KIND, PROTOCOL, ENCODING}},
    [RPB_SITE_PROBE_RESPONSE] = {"probe-response", RPB_FRAME_KIND_RESPONSE, RPB_PP_PROBE,
                                 {VERSION, KIND, PROTOCOL, REQUEST_ID, ENCODING}},
    [RPB_SITE_HANDOFF_OFFER] = {"handoff-offer", RPB_FRAME_KIND_REQUEST, RPB_PP_HANDOFF,
                                {VERSION, KIND, PROTOCOL, ENCODING}},
    [RPB_SITE_HANDOFF_ACK] = {"handoff-ack", RPB_FRAME_KIND_RESPONSE, RPB_PP_HANDOFF,
                              {VERSION, KIND, PROTOCOL, ENCODING, REQUEST_ID}},
    [RPB_SITE_HANDOFF_READY] = {"handoff-ready", RPB_FRAME_KIND_EVENT, RPB_PP_HANDOFF,
                                {VERSION, KIND, PROTOCOL, ENCODING}},
};

const char *rpb_site_name(rpb_site site)
{
    return (unsigned)site < RPB_SITE_COUNT ? site_rules[site].name : NULL;
}

rpb_site rpb_site_from_name(const char *name)
{
    for (unsigned i = 0; i < RPB_SITE_COUNT; i++)
        if (strcmp(site_rules[i].name, name) == 0)
            return (rpb_site)i;
    return RPB_SITE_COUNT;
}

/* ENV-006: request_id (outside correlating sites), deadline_unix_ms and the
 * trace fields are not looked at. */
int rpb_envelope_check(const rpb_frame *frame, rpb_site site, uint64_t expected_request_id)
{
    if (!frame || (unsigned)site >= RPB_SITE_COUNT)
        return RPB_ERR_INVALID_ARGUMENT;
    const site_rule *rule = &site_rules[site];
    for (const enum check *c = rule->order; *c != END; c++) {
        switch (*c) {
        case VERSION:
            if (frame->envelope_version != RPB_PROTOCOL_VERSION)
                return RPB_ERR_ENVELOPE_VERSION;
            break;
        case KIND: /* unknown kinds (open enum) fail here */
            if (frame->kind != rule->kind)
                return RPB_ERR_ENVELOPE_KIND;
            break;
        case PROTOCOL:
            if (frame->payload_protocol != rule->payload_protocol)
                return RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL;
            break;
        case ENCODING: /* v1 never accepts compression, not even ZSTD */
            if (frame->payload_encoding != RPB_PAYLOAD_ENCODING_NONE)
                return RPB_ERR_ENVELOPE_PAYLOAD_ENCODING;
            break;
        case REQUEST_ID:
            if (frame->request_id != expected_request_id)
                return RPB_ERR_ENVELOPE_REQUEST_ID;
            break;
        case END:
            break;
        }
    }
    return RPB_OK;
}
