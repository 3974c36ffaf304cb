/*
 * envelope.c - Frame envelope validation as each upstream call site does
 * it (spec/envelope.md ENV-001..ENV-006, ENV-009).  Each site is a row: the
 * expected kind and payload protocol, and the order of its checks.
 */
#include <string.h>

#include "rpb/frame.h"

/* Where a site compares request_id with the one it expects (ENV-009). */
enum request_id_check {
    UNCORRELATED = 0,
    BEFORE_ENCODING,
    AFTER_ENCODING,
};

typedef struct site_rule {
    const char *name;
    int32_t kind;
    uint32_t payload_protocol;
    enum request_id_check request_id;
} site_rule;

/* ENV-005: version, kind, protocol, encoding; ENV-009: the probe response
 * checks request_id before the encoding, the handoff ack after it. */
static const site_rule site_rules[RPB_SITE_COUNT] = {
    [RPB_SITE_HELLO] = {"hello", RPB_FRAME_KIND_REQUEST, RPB_PP_CONTROL, UNCORRELATED},
    [RPB_SITE_HELLO_REPLY] = {"hello-reply", RPB_FRAME_KIND_RESPONSE, RPB_PP_CONTROL,
                              UNCORRELATED},
    [RPB_SITE_ADMIN_REQUEST] = {"admin-request", RPB_FRAME_KIND_REQUEST, RPB_PP_ADMIN,
                                UNCORRELATED},
    [RPB_SITE_ADMIN_REPLY] = {"admin-reply", RPB_FRAME_KIND_RESPONSE, RPB_PP_ADMIN,
                              UNCORRELATED},
    [RPB_SITE_PROBE_REQUEST] = {"probe-request", RPB_FRAME_KIND_REQUEST, RPB_PP_PROBE,
                                UNCORRELATED},
    [RPB_SITE_PROBE_RESPONSE] = {"probe-response", RPB_FRAME_KIND_RESPONSE, RPB_PP_PROBE,
                                 BEFORE_ENCODING},
    [RPB_SITE_HANDOFF_OFFER] = {"handoff-offer", RPB_FRAME_KIND_REQUEST, RPB_PP_HANDOFF,
                                UNCORRELATED},
    [RPB_SITE_HANDOFF_ACK] = {"handoff-ack", RPB_FRAME_KIND_RESPONSE, RPB_PP_HANDOFF,
                              AFTER_ENCODING},
    [RPB_SITE_HANDOFF_READY] = {"handoff-ready", RPB_FRAME_KIND_EVENT, RPB_PP_HANDOFF,
                                UNCORRELATED},
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
 * trace fields are not looked at.  ENV-009: the site's order, the first
 * failure reported. */
int rpb_envelope_check(const rpb_frame *frame, rpb_site site, uint64_t expected_request_id)
{
    if (!frame || (unsigned)site >= RPB_SITE_COUNT)
        return RPB_ERR_INVALID_ARGUMENT;
    const site_rule *rule = &site_rules[site];
    bool request_id_differs = frame->request_id != expected_request_id;
    if (frame->envelope_version != RPB_PROTOCOL_VERSION) /* ENV-001 */
        return RPB_ERR_ENVELOPE_VERSION;
    if (frame->kind != rule->kind) /* ENV-002: unknown kinds (open enum) fail here */
        return RPB_ERR_ENVELOPE_KIND;
    if (frame->payload_protocol != rule->payload_protocol) /* ENV-003 */
        return RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL;
    if (rule->request_id == BEFORE_ENCODING && request_id_differs)
        return RPB_ERR_ENVELOPE_REQUEST_ID;
    if (frame->payload_encoding != RPB_PAYLOAD_ENCODING_NONE) /* ENV-004: not even ZSTD */
        return RPB_ERR_ENVELOPE_PAYLOAD_ENCODING;
    if (rule->request_id == AFTER_ENCODING && request_id_differs)
        return RPB_ERR_ENVELOPE_REQUEST_ID;
    return RPB_OK;
}
