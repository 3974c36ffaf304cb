/*
 * fuzz_envelope - rpb_envelope_check() at every call site (ENV-001..ENV-010,
 * WIRE-017), then the site's payload decode.
 *
 * Input: a Frame body (no framing header).
 *
 * Oracles, for each site and for an expected request_id equal to and
 * different from the frame's:
 *  - model: the result equals an independent model of the per-site rules
 *    (spec/envelope.md sections 2 and 3: version, kind, payload protocol,
 *    encoding in that order; the probe response compares request_id before the
 *    encoding, the handoff ack after the envelope; nothing else is looked
 *    at, ENV-006);
 *  - names: rpb_site_name / rpb_site_from_name agree with the model's;
 *  - payload: once the envelope passes, the payload is decoded as the
 *    site's message on its own (fresh recursion budget, WIRE-017) and, if
 *    it decodes, round-trips canonically (fz_roundtrip).  The probe
 *    response payload is a 32-byte nonce followed by a DaemonProcess.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

enum id_check { ID_NONE, ID_BEFORE_ENCODING, ID_AFTER_ENVELOPE };

typedef struct site_model {
    rpb_site site;
    const char *name;
    int32_t kind;
    uint32_t payload_protocol;
    enum id_check id_check;
    const rpb_msg_desc *payload; /* NULL: not protobuf (probe nonce) */
    size_t payload_skip;         /* raw bytes before the message */
} site_model;

static const site_model sites[] = {
    {RPB_SITE_HELLO, "hello", RPB_FRAME_KIND_REQUEST, 0x0000, ID_NONE, &rpb_hello_desc, 0},
    {RPB_SITE_HELLO_REPLY, "hello-reply", RPB_FRAME_KIND_RESPONSE, 0x0000, ID_NONE,
     &rpb_hello_reply_desc, 0},
    {RPB_SITE_ADMIN_REQUEST, "admin-request", RPB_FRAME_KIND_REQUEST, 0xAD01, ID_NONE,
     &rpb_admin_request_desc, 0},
    {RPB_SITE_ADMIN_REPLY, "admin-reply", RPB_FRAME_KIND_RESPONSE, 0xAD01, ID_NONE,
     &rpb_admin_reply_desc, 0},
    {RPB_SITE_PROBE_REQUEST, "probe-request", RPB_FRAME_KIND_REQUEST, 0xB232, ID_NONE, NULL, 0},
    {RPB_SITE_PROBE_RESPONSE, "probe-response", RPB_FRAME_KIND_RESPONSE, 0xB232,
     ID_BEFORE_ENCODING, &rpb_daemon_process_desc, 32},
    {RPB_SITE_HANDOFF_OFFER, "handoff-offer", RPB_FRAME_KIND_REQUEST, 0xD0FF, ID_NONE,
     &rpb_handoff_offer_desc, 0},
    {RPB_SITE_HANDOFF_ACK, "handoff-ack", RPB_FRAME_KIND_RESPONSE, 0xD0FF, ID_AFTER_ENVELOPE,
     &rpb_handoff_ack_desc, 0},
    {RPB_SITE_HANDOFF_READY, "handoff-ready", RPB_FRAME_KIND_EVENT, 0xD0FF, ID_NONE,
     &rpb_handoff_ack_desc, 0},
};

static int model(const site_model *s, const rpb_frame *f, uint64_t expected_id)
{
    if (f->envelope_version != 1)
        return RPB_ERR_ENVELOPE_VERSION;
    if (f->kind != s->kind)
        return RPB_ERR_ENVELOPE_KIND;
    if (f->payload_protocol != s->payload_protocol)
        return RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL;
    if (s->id_check == ID_BEFORE_ENCODING && f->request_id != expected_id)
        return RPB_ERR_ENVELOPE_REQUEST_ID;
    if (f->payload_encoding != 0)
        return RPB_ERR_ENVELOPE_PAYLOAD_ENCODING;
    if (s->id_check == ID_AFTER_ENVELOPE && f->request_id != expected_id)
        return RPB_ERR_ENVELOPE_REQUEST_ID;
    return RPB_OK;
}

static void decode_payload(const site_model *s, const rpb_frame *f)
{
    if (!s->payload || f->payload.len < s->payload_skip)
        return;
    void *msg = malloc(s->payload->size), *arena;
    if (!msg)
        fz_fail("out of memory");
    size_t len = f->payload.len - s->payload_skip;
    int rc = fz_decode(s->payload, len ? f->payload.data + s->payload_skip : NULL, len, msg, 0,
                       &arena);
    if (rc == RPB_OK) {
        uint8_t *enc;
        size_t enc_len;
        fz_roundtrip(s->payload, msg, &enc, &enc_len);
        free(enc);
    }
    free(arena);
    free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FZ_CHECK(sizeof sites / sizeof sites[0] == RPB_SITE_COUNT,
             "librpb has %d sites, the model %zu", (int)RPB_SITE_COUNT,
             sizeof sites / sizeof sites[0]);

    rpb_frame frame;
    rpb_msg_init(&rpb_frame_desc, &frame);
    if (rpb_decode(&rpb_frame_desc, data, size, &frame, NULL, 0, NULL) != RPB_OK)
        return 0;

    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        const site_model *s = &sites[i];
        const char *name = rpb_site_name(s->site);
        FZ_CHECK(name && strcmp(name, s->name) == 0, "site %d is named %s, expected %s",
                 (int)s->site, name ? name : "(null)", s->name);
        FZ_CHECK(rpb_site_from_name(s->name) == s->site, "rpb_site_from_name(%s)", s->name);

        const uint64_t ids[2] = {frame.request_id, frame.request_id + 1};
        for (size_t k = 0; k < 2; k++) {
            int got = rpb_envelope_check(&frame, s->site, ids[k]);
            int want = model(s, &frame, ids[k]);
            FZ_CHECK(got == want, "site %s, expected request_id %s: %s, model says %s", s->name,
                     k ? "different" : "equal", rpb_errname(got), rpb_errname(want));
        }
        /* ENV-010: the payload is decoded only after the envelope passed. */
        if (rpb_envelope_check(&frame, s->site, frame.request_id) == RPB_OK)
            decode_payload(s, &frame);
    }
    return 0;
}
