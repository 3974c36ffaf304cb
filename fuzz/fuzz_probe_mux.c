/*
 * fuzz_probe_mux - the backend mux (spec/probe.md MUX-001..MUX-005) over a
 * connection's byte stream.
 *
 * Input: what a client sends on one backend connection.  The mux serves
 * protocol 0x7001 and answers probes with fz_probe_identity().
 *
 * Oracles, frame after frame until the first error or need-more:
 *  - model: the decision equals an independent model: the frame splitter
 *    and Frame decode, then by payload protocol: probe checks, first-party
 *    0x0000/0xAD01/0xD0FF, unserved, served;
 *  - incremental: every strict prefix of the frame (each its own
 *    exactly-sized heap copy, so ASan sees reads past the arrived bytes)
 *    is need-more, except a prefix on which framing already fails (the
 *    same class);
 *  - answered probes pass fz_check_probe_reply; a reply buffer one byte
 *    short gives buffer-too-small with the size needed;
 *  - a payload frame equals the decoded frame and consumed = 5 + body.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const uint32_t served[] = {0x7001};

static int model(const uint8_t *in, size_t len, rpb_frame *f, size_t *consumed)
{
    if (len == 0)
        return RPB_NEED_MORE;
    int rc = rpb_frame_decode(in, len, RPB_MAX_FRAME_BYTES, f, consumed, NULL);
    if (rc != RPB_OK)
        return rc;
    switch (f->payload_protocol) {
    case 0xB232:
        return rpb_probe_request_check(f);
    case 0x0000:
    case 0xAD01:
    case 0xD0FF:
        return RPB_ERR_MUX_FIRST_PARTY;
    case 0x7001:
        return RPB_OK;
    default:
        return RPB_ERR_MUX_UNSERVED;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const rpb_mux mux = {fz_probe_identity(), served, 1, RPB_MAX_FRAME_BYTES};
    static uint8_t reply[4096];
    size_t at = 0;
    for (;;) {
        const uint8_t *in = data + at;
        size_t len = size - at;
        rpb_mux_result r;
        rpb_frame f;
        size_t consumed = 0;
        int got = rpb_mux_poll(&mux, in, len, reply, sizeof reply, &r, NULL);
        int want = model(in, len, &f, &consumed);
        FZ_CHECK(got == want, "mux %s, model %s at %zu", rpb_errname(got), rpb_errname(want), at);
        size_t decided = got == RPB_OK ? r.consumed : got == RPB_NEED_MORE ? 0 : len;
        for (size_t k = 0; k < decided && k < 512; k++) {
            uint8_t *copy = malloc(k ? k : 1);
            FZ_CHECK(copy != NULL, "out of memory");
            memcpy(copy, in, k);
            rpb_mux_result pr;
            int part = rpb_mux_poll(&mux, copy, k, reply, sizeof reply, &pr, NULL);
            free(copy);
            FZ_CHECK(part == RPB_NEED_MORE || (got != RPB_OK && part == got) ||
                         part == RPB_ERR_FRAMING_VERSION || part == RPB_ERR_FRAME_TOO_LARGE,
                     "prefix %zu of a frame: %s", k, rpb_errname(part));
        }
        if (got != RPB_OK)
            return 0;
        FZ_CHECK(r.consumed == consumed, "consumed %zu, model %zu", r.consumed, consumed);
        if (r.kind == RPB_MUX_PROBE_ANSWERED) {
            fz_check_probe_reply(&r.frame, reply, r.reply_len, mux.self);
            rpb_mux_result small;
            FZ_CHECK(rpb_mux_poll(&mux, in, len, reply, r.reply_len - 1, &small, NULL) ==
                             RPB_ERR_BUFFER_TOO_SMALL && small.reply_len == r.reply_len,
                     "short reply buffer");
        } else {
            FZ_CHECK(r.kind == RPB_MUX_PAYLOAD && !fz_msg_diff(&rpb_frame_desc, &r.frame, &f),
                     "payload frame differs from the decoded frame");
        }
        at += r.consumed;
    }
}
