/*
 * mux.c - the backend mux (spec/probe.md MUX-001..MUX-005): classifies the
 * bytes received on a backend connection as need-more, an answered probe,
 * a frame for the service, or a connection-fatal error.
 */
#include <string.h>

#include "rpb/probe.h"

/* MUX-003: the first-party protocols a backend never serves (the probe is
 * answered before this is asked). */
static bool is_first_party(uint32_t pp)
{
    return pp == RPB_PP_CONTROL || pp == RPB_PP_ADMIN || pp == RPB_PP_HANDOFF;
}

static bool is_served(const rpb_mux *mux, uint32_t pp)
{
    for (size_t i = 0; i < mux->n_served; i++)
        if (mux->served[i] == pp)
            return true;
    return false;
}

int rpb_mux_poll(const rpb_mux *mux, const uint8_t *in, size_t len, uint8_t *reply,
                 size_t reply_cap, rpb_mux_result *res, rpb_errinfo *err)
{
    if (!mux || !mux->self || !res || (!in && len))
        return RPB_ERR_INVALID_ARGUMENT;
    memset(res, 0, sizeof *res);
    if (len == 0) /* MUX-001: empty buffer */
        return RPB_NEED_MORE;
    /* MUX-001: framing, then the Frame decode. */
    int rc = rpb_frame_decode(in, len, mux->cap, &res->frame, &res->consumed, err);
    if (rc != RPB_OK)
        return rc;
    uint32_t pp = res->frame.payload_protocol;
    if (pp == RPB_PP_PROBE) { /* MUX-002 */
        rc = rpb_probe_request_check(&res->frame);
        if (rc == RPB_OK) {
            res->kind = RPB_MUX_PROBE_ANSWERED;
            rc = rpb_probe_response_encode(&res->frame, mux->self, reply, reply_cap,
                                           &res->reply_len);
        }
    } else if (is_first_party(pp)) {
        rc = RPB_ERR_MUX_FIRST_PARTY;
    } else if (!is_served(mux, pp)) { /* MUX-004 */
        rc = RPB_ERR_MUX_UNSERVED;
    } else {
        res->kind = RPB_MUX_PAYLOAD;
    }
    return rc == RPB_OK ? rc : rpb_errinfo_set(err, rc, 0);
}
