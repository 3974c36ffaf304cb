/*
 * consumer.c - a program outside the rpb tree, built against an INSTALLED
 * librpb (pkg-config or find_package(rpb)).  It proves the installed headers
 * and library work together: it builds upstream's GOLDEN_HELLO from its
 * documented field values, encodes it (must equal the golden bytes), frames
 * it as a Hello request, splits and decodes the frame back, validates the
 * envelope at the Hello site and decodes the payload again.
 *
 * Prints "OK" and exits 0; on the first failed check prints what failed
 * and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include <rpb/rpb.h>

/* GOLDEN_HELLO: upstream 4.5.5 tests/broker/golden_bytes.rs, 100 bytes. */
static const uint8_t golden_hello[100] = {
    0x08, 0x01, 0x10, 0x03, 0x1a, 0x0b, 0x62, 0x75, 0x69, 0x6c, 0x64, 0x2d,
    0x63, 0x61, 0x63, 0x68, 0x65, 0x22, 0x0a, 0x31, 0x2e, 0x32, 0x2e, 0x33,
    0x2d, 0x72, 0x63, 0x2e, 0x31, 0x2a, 0x06, 0x33, 0x2e, 0x30, 0x2e, 0x31,
    0x35, 0x30, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
    0x3a, 0x03, 0x01, 0x02, 0x03, 0x42, 0x08, 0x72, 0x65, 0x71, 0x2d, 0x30,
    0x30, 0x30, 0x31, 0x50, 0x92, 0x21, 0x5a, 0x0f, 0x72, 0x75, 0x6e, 0x6e,
    0x69, 0x6e, 0x67, 0x2d, 0x70, 0x72, 0x6f, 0x63, 0x65, 0x73, 0x73, 0x62,
    0x06, 0x33, 0x2e, 0x30, 0x2e, 0x31, 0x35, 0x6a, 0x02, 0xaa, 0xbb, 0x72,
    0x01, 0xcc, 0x78, 0x1e,
};

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "consumer: %s:%d: check failed: %s\n", __FILE__, \
                    __LINE__, #cond);                                      \
            return 1;                                                      \
        }                                                                  \
    } while (0)

#define CHECK_RC(call)                                                        \
    do {                                                                      \
        int rc_ = (call);                                                     \
        if (rc_ != RPB_OK) {                                                  \
            fprintf(stderr, "consumer: %s:%d: %s returned %d (%s)\n", __FILE__, \
                    __LINE__, #call, rc_, rpb_errname(rc_) ? rpb_errname(rc_) : "?"); \
            return 1;                                                         \
        }                                                                     \
    } while (0)

static rpb_slice bytes(const void *p, size_t n)
{
    rpb_slice s = {(const uint8_t *)p, n};
    return s;
}

/* The field values of GOLDEN_HELLO as upstream's golden_bytes.rs builds it. */
static rpb_hello golden_hello_fields(void)
{
    static const uint8_t auth[] = {0x01, 0x02, 0x03};
    static const uint8_t nonce[] = {0xaa, 0xbb};
    static const uint8_t cap_token[] = {0xcc};
    rpb_hello h;

    rpb_msg_init(&rpb_hello_desc, &h);
    h.client_min_protocol = 1;
    h.client_max_protocol = 3;
    h.service_name = rpb_slice_cstr("build-cache");
    h.wanted_version = rpb_slice_cstr("1.2.3-rc.1");
    h.client_version = rpb_slice_cstr("3.0.15");
    h.client_capabilities = UINT64_C(0x8000000000000001);
    h.auth_token = bytes(auth, sizeof auth);
    h.request_id = rpb_slice_cstr("req-0001");
    h.peer_pid = 4242;
    h.client_lib_name = rpb_slice_cstr("running-process");
    h.client_lib_version = rpb_slice_cstr("3.0.15");
    h.peer_attestation_nonce = bytes(nonce, sizeof nonce);
    h.capability_token = bytes(cap_token, sizeof cap_token);
    h.client_keepalive_secs = 30;
    return h;
}

/* 0 when every check passed, 1 after the first failed check. */
static int run(void)
{
    rpb_hello hello = golden_hello_fields();
    uint8_t body[sizeof golden_hello];
    size_t body_len = 0;

    /* Canonical encoding reproduces upstream's bytes exactly (WIRE-020). */
    CHECK(rpb_encoded_len(&rpb_hello_desc, &hello) == sizeof golden_hello);
    CHECK_RC(rpb_encode(&rpb_hello_desc, &hello, body, sizeof body, &body_len));
    CHECK(body_len == sizeof golden_hello && memcmp(body, golden_hello, body_len) == 0);

    /* Frame it as a Hello request and check the 5-byte header (FRAME-001/002). */
    rpb_frame req = rpb_frame_request(RPB_PP_CONTROL, bytes(golden_hello, sizeof golden_hello));
    uint8_t wire[256];
    size_t wire_len = 0;
    CHECK(rpb_frame_encoded_len(&req) <= sizeof wire);
    CHECK_RC(rpb_frame_encode(&req, wire, sizeof wire, &wire_len));
    CHECK(wire_len == rpb_frame_encoded_len(&req));
    CHECK(wire[0] == RPB_FRAMING_VERSION);
    CHECK(rpb_frame_header_length(wire) == wire_len - RPB_FRAME_HEADER_BYTES);

    /* Every strict prefix is need-more (FRAME-009). */
    for (size_t n = 0; n < wire_len; n++) {
        rpb_slice part;
        size_t used = 0;
        CHECK(rpb_frame_split(wire, n, RPB_MAX_HELLO_BYTES, &part, &used, NULL) == RPB_NEED_MORE);
    }

    /* Decode it back under the first-Hello cap and validate the envelope. */
    rpb_frame got;
    size_t consumed = 0;
    rpb_errinfo err = {0};
    CHECK_RC(rpb_frame_decode(wire, wire_len, RPB_MAX_HELLO_BYTES, &got, &consumed, &err));
    CHECK(consumed == wire_len);
    CHECK(got.envelope_version == RPB_PROTOCOL_VERSION);
    CHECK(got.kind == RPB_FRAME_KIND_REQUEST);
    CHECK(got.payload_protocol == RPB_PP_CONTROL);
    CHECK_RC(rpb_envelope_check(&got, RPB_SITE_HELLO, 0));
    CHECK(got.payload.len == sizeof golden_hello &&
          memcmp(got.payload.data, golden_hello, sizeof golden_hello) == 0);

    /* The payload decodes to the documented values and re-encodes identically. */
    rpb_hello back;
    rpb_msg_init(&rpb_hello_desc, &back);
    CHECK_RC(rpb_decode(&rpb_hello_desc, got.payload.data, got.payload.len, &back, NULL, 0, &err));
    CHECK(back.client_min_protocol == 1 && back.client_max_protocol == 3);
    CHECK(rpb_slice_eq_cstr(back.service_name, "build-cache"));
    CHECK(rpb_slice_eq_cstr(back.wanted_version, "1.2.3-rc.1"));
    CHECK(back.client_capabilities == UINT64_C(0x8000000000000001));
    CHECK(back.connection_id == 0);
    CHECK(back.peer_pid == 4242);
    CHECK(rpb_slice_eq(back.peer_attestation_nonce, hello.peer_attestation_nonce));
    CHECK(back.client_keepalive_secs == 30);
    body_len = 0;
    memset(body, 0, sizeof body);
    CHECK_RC(rpb_encode(&rpb_hello_desc, &back, body, sizeof body, &body_len));
    CHECK(body_len == sizeof golden_hello && memcmp(body, golden_hello, body_len) == 0);

    /* The error taxonomy is reachable from the installed library too. */
    CHECK(strcmp(rpb_errname(RPB_ERR_FRAME_TOO_LARGE), "frame-too-large") == 0);
    /* The installed (generated) version header matches the library. */
    CHECK(strcmp(rpb_version(), RPB_VERSION_STRING) == 0);
    return 0;
}

int main(void)
{
    if (run() != 0)
        return 1;
    printf("OK librpb %s: GOLDEN_HELLO framed, split, decoded and re-encoded\n",
           RPB_VERSION_STRING);
    return 0;
}
