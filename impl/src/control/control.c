/*
 * One control-socket connection, I/O-free (spec/hello.md HELLO-001..
 * HELLO-006, ADMIN-001): received bytes in, the single reply out.
 */
#include "rpb/control.h"

#include <string.h>

#include "rpb/error.h"

static int framing_reply(rpb_refusal r, const rpb_frame *request, uint8_t *out, size_t cap,
                         size_t *written, rpb_control_outcome *oc)
{
    oc->kind = RPB_CONTROL_FRAMING;
    oc->hello.refusal = r;
    return rpb_hello_refusal_encode(r, 0, request, out, cap, written);
}

int rpb_control_step(rpb_hello_handler *h, const rpb_admin_context *admin, const uint8_t *in,
                     size_t len, bool eof, const rpb_peer *peer, int64_t now_ms, uint8_t *out,
                     size_t cap, size_t *written, rpb_control_outcome *oc)
{
    memset(oc, 0, sizeof *oc);

    /* HELLO-003, HELLO-004, FRAME-004, FRAME-005: the first frame of a
     * connection is read with the Hello cap, decided from its header
     * (admin included) */
    rpb_slice body;
    size_t consumed;
    int rc = rpb_frame_split(in, len, RPB_MAX_HELLO_BYTES, &body, &consumed, NULL);
    if (rc == RPB_NEED_MORE) {
        if (!eof)
            return RPB_NEED_MORE;
        rc = RPB_ERR_UNEXPECTED_EOF; /* HELLO-005 */
    }
    if (rc != RPB_OK) /* HELLO-002, HELLO-003, HELLO-005 */
        return framing_reply(rpb_refusal_for_read_error(rc), NULL, out, cap, written, oc);
    oc->consumed = consumed;

    /* HELLO-006: an undecodable Frame echoes nothing */
    rpb_frame frame;
    rpb_msg_init(&rpb_frame_desc, &frame);
    if (rpb_decode(&rpb_frame_desc, body.data, body.len, &frame, NULL, 0, NULL) != RPB_OK)
        return framing_reply(RPB_REFUSAL_MALFORMED_FRAME, NULL, out, cap, written, oc);
    oc->request_id = frame.request_id;

    /* ADMIN-001: routed on payload_protocol alone */
    if (frame.payload_protocol == RPB_PP_ADMIN) {
        oc->kind = RPB_CONTROL_ADMIN;
        return rpb_admin_respond(admin, &frame, out, cap, written, &oc->admin);
    }
    oc->kind = RPB_CONTROL_HELLO;
    rpb_hello_decide(h, &frame, peer, now_ms, &oc->hello);
    return rpb_hello_reply_encode(&oc->hello, &frame, out, cap, written);
}
