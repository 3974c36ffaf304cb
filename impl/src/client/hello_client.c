/*
 * The client side of the Hello handshake, I/O-free (spec/hello.md
 * HELLO-060..HELLO-062, HELLO-064, HELLO-066..HELLO-068): defaults, request
 * encoding, reply classification.
 */
#include "rpb/client.h"

#include <string.h>

#include "rpb/error.h"
#include "rpb/rpb.h"

void rpb_hello_init(rpb_hello *hello, const char *service_name, const char *wanted_version,
                    uint32_t peer_pid)
{
    rpb_msg_init(&rpb_hello_desc, hello);
    hello->client_min_protocol = RPB_PROTOCOL_VERSION;
    hello->client_max_protocol = RPB_PROTOCOL_VERSION;
    hello->service_name = rpb_slice_cstr(service_name);
    hello->wanted_version = rpb_slice_cstr(wanted_version);
    hello->request_id = rpb_slice_cstr("hello");
    hello->peer_pid = peer_pid;
    hello->client_lib_name = rpb_slice_cstr(RPB_CLIENT_LIB_NAME);
    hello->client_lib_version = rpb_slice_cstr(RPB_VERSION_STRING);
}

int rpb_hello_request_encode(const rpb_hello *hello, uint64_t request_id, uint8_t *out, size_t cap,
                             size_t *written)
{
    rpb_frame frame = rpb_frame_request(RPB_PP_CONTROL, (rpb_slice){NULL, 0});
    frame.request_id = request_id;
    /* HELLO-068, FRAME-004: a body over the Hello cap would be refused unread */
    if (rpb_frame_encoded_len_msg(&frame, &rpb_hello_desc, hello) >
        RPB_FRAME_HEADER_BYTES + RPB_MAX_HELLO_BYTES)
        return RPB_ERR_FRAME_TOO_LARGE;
    return rpb_frame_encode_msg(&frame, &rpb_hello_desc, hello, out, cap, written);
}

static const char *const result_names[] = {
    [RPB_HELLO_RESULT_NEGOTIATED] = "negotiated",
    [RPB_HELLO_RESULT_VERSION_UNSUPPORTED] = "version-unsupported",
    [RPB_HELLO_RESULT_SERVICE_UNKNOWN] = "service-unknown",
    [RPB_HELLO_RESULT_VERSION_BLOCKED] = "version-blocked",
    [RPB_HELLO_RESULT_RATE_LIMITED] = "rate-limited",
    [RPB_HELLO_RESULT_SHUTTING_DOWN] = "shutting-down",
    [RPB_HELLO_RESULT_OTHER] = "refused",
};

const char *rpb_hello_result_name(rpb_hello_result_kind kind)
{
    if ((unsigned)kind > RPB_HELLO_RESULT_OTHER)
        return NULL;
    return result_names[kind];
}

/* HELLO-062: codes grouped as upstream's RefusalKind. */
static rpb_hello_result_kind refusal_kind(int32_t code)
{
    switch (code) {
    case RPB_CODE_VERSION_UNSUPPORTED:
        return RPB_HELLO_RESULT_VERSION_UNSUPPORTED;
    case RPB_CODE_SERVICE_UNKNOWN:
        return RPB_HELLO_RESULT_SERVICE_UNKNOWN;
    case RPB_CODE_VERSION_BLOCKED:
        return RPB_HELLO_RESULT_VERSION_BLOCKED;
    case RPB_CODE_RATE_LIMITED:
        return RPB_HELLO_RESULT_RATE_LIMITED;
    case RPB_CODE_SHUTTING_DOWN:
        return RPB_HELLO_RESULT_SHUTTING_DOWN;
    default:
        return RPB_HELLO_RESULT_OTHER;
    }
}

int rpb_hello_reply_classify(const uint8_t *body, size_t len, rpb_arena *arena,
                             rpb_hello_result *res)
{
    memset(res, 0, sizeof *res);
    rpb_msg_init(&rpb_frame_desc, &res->frame);
    rpb_msg_init(&rpb_hello_reply_desc, &res->reply);
    /* HELLO-061: the hello-reply envelope is checked before the payload is
     * decoded; HELLO-066: any failure here is returned as that error, never
     * as a Refused; HELLO-067: request_id is not compared. */
    int rc = rpb_decode(&rpb_frame_desc, body, len, &res->frame, NULL, 0, NULL);
    if (rc == RPB_OK)
        rc = rpb_envelope_check(&res->frame, RPB_SITE_HELLO_REPLY, 0);
    if (rc == RPB_OK)
        rc = rpb_decode(&rpb_hello_reply_desc, res->frame.payload.data, res->frame.payload.len,
                        &res->reply, arena, 0, NULL);
    if (rc != RPB_OK)
        return rc;
    switch (res->reply.result) {
    case RPB_HELLO_REPLY_NEGOTIATED:
        /* HELLO-064: a Negotiated naming no backend is a protocol error */
        if (res->reply.negotiated.backend_pipe.len == 0)
            return RPB_ERR_INVALID_ARGUMENT;
        res->kind = RPB_HELLO_RESULT_NEGOTIATED;
        return RPB_OK;
    case RPB_HELLO_REPLY_REFUSED:
        res->code = res->reply.refused.code;
        res->kind = refusal_kind(res->code);
        res->retry_after_ms = res->reply.refused.retry_after_ms;
        return RPB_OK;
    default:
        return RPB_ERR_INVALID_ARGUMENT; /* missing HelloReply result */
    }
}
