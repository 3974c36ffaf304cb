/*
 * fuzz_message - the descriptor-driven decoder and canonical encoder on
 * every v1 message (WIRE-001..WIRE-021).
 *
 * Input: byte 0 picks the message (fz_pick_message: index into
 * rpb_all_messages, modulo its length; fuzz/seed_corpus.py uses the same
 * order), the rest is the bare message body.
 *
 * Oracles:
 *  - option: the strict map wire-type option (WIRE-009) only ever turns an
 *    accept into wire-type-mismatch; it never accepts what the default
 *    rejects, nor changes another error;
 *  - round trip (WIRE-020): fz_roundtrip, decode -> encode -> decode equal,
 *    encode(decode(encode(x))) == encode(x);
 *  - fused encode: fz_frame_msg_check, rpb_frame_encode_msg() of the message
 *    (both its paths) is rpb_frame_encode() of a frame carrying its
 *    encoding.  This target alone runs it: it reaches every message with
 *    arbitrary field values, which the others' messages are a subset of;
 *  - differential with protobuf-c (independent decoder from proto/):
 *    librpb (strict map option) accepts => protobuf-c accepts, unless the
 *    input holds a group or a key/length varint over 5 bytes (protobuf-c
 *    rejects those, prost does not); when both accept and no message field
 *    repeats (merge rules differ), every field has the same value;
 *    protobuf-c accepts librpb's canonical encoding, reads the same values
 *    from it, and packs exactly those bytes again (both canonical forms
 *    agree) unless a string holds a NUL (protobuf-c truncates at NUL).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pbc_oracle.h"

/* protobuf-c must read canonical bytes exactly as librpb does and write
 * them back unchanged.  (Compared with librpb's decode of enc, not with the
 * original message: a map with a repeated key keeps every entry when
 * decoded but is encoded with its effective entries only.) */
static void check_canonical_with_pbc(const rpb_msg_desc *desc, const uint8_t *enc, size_t len)
{
    const ProtobufCMessageDescriptor *pd = pbc_descriptor(desc);
    ProtobufCMessage *p = protobuf_c_message_unpack(pd, NULL, len, enc);
    FZ_CHECK(p != NULL, "%s: protobuf-c rejects librpb's canonical encoding", desc->name);
    void *msg = malloc(desc->size), *arena;
    if (!msg)
        fz_fail("out of memory");
    FZ_CHECK(fz_decode(desc, enc, len, msg, 0, &arena) == RPB_OK,
             "%s: librpb rejects its own encoding", desc->name);
    bool saw_nul = false;
    const char *diff = pbc_diff(desc, msg, p, &saw_nul);
    FZ_CHECK(diff == NULL, "%s.%s: protobuf-c reads another value from librpb's encoding",
             desc->name, diff);
    if (!saw_nul) {
        size_t plen = protobuf_c_message_get_packed_size(p);
        uint8_t *packed = malloc(plen ? plen : 1);
        if (!packed)
            fz_fail("out of memory");
        size_t wrote = protobuf_c_message_pack(p, packed);
        FZ_CHECK(wrote == len && memcmp(packed, enc, len) == 0,
                 "%s: protobuf-c packs %zu bytes, librpb's canonical encoding has %zu or differs",
                 desc->name, wrote, len);
        free(packed);
    }
    protobuf_c_message_free_unpacked(p, NULL);
    free(arena);
    free(msg);
}

/* The accept/reject and value relation on the fuzzer's own input. */
static void check_input_with_pbc(const rpb_msg_desc *desc, const void *msg, const uint8_t *in,
                                 size_t len)
{
    pbc_wire_facts facts;
    pbc_scan(desc, in, len, &facts);
    if (facts.group || facts.long_varint)
        return;
    ProtobufCMessage *p = protobuf_c_message_unpack(pbc_descriptor(desc), NULL, len, in);
    FZ_CHECK(p != NULL, "%s: librpb accepts, protobuf-c rejects", desc->name);
    if (!facts.repeated_message) {
        bool saw_nul = false;
        const char *diff = pbc_diff(desc, msg, p, &saw_nul);
        FZ_CHECK(diff == NULL, "%s.%s: librpb and protobuf-c decode different values", desc->name,
                 diff);
    }
    protobuf_c_message_free_unpacked(p, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const rpb_msg_desc *desc = fz_pick_message(data[0]);
    const uint8_t *in = data + 1;
    size_t len = size - 1;

    void *msg = malloc(desc->size), *strict = malloc(desc->size);
    void *arena, *strict_arena;
    if (!msg || !strict)
        fz_fail("out of memory");
    int rc = fz_decode(desc, in, len, msg, 0, &arena);
    int strict_rc = fz_decode(desc, in, len, strict, RPB_DECODE_STRICT_MAP_WIRE_TYPE, &strict_arena);

    /* WIRE-009: the option only adds wire-type-mismatch rejections. */
    FZ_CHECK(strict_rc == rc || strict_rc == RPB_ERR_WIRE_TYPE_MISMATCH,
             "%s: default %s, strict map wire type %s", desc->name, rpb_errname(rc),
             rpb_errname(strict_rc));
    if (strict_rc == RPB_OK) {
        const char *diff = fz_msg_diff(desc, msg, strict);
        FZ_CHECK(diff == NULL, "%s.%s: strict option changed a decoded value", desc->name, diff);
    }

    if (rc == RPB_OK) {
        uint8_t *enc;
        size_t enc_len;
        fz_roundtrip(desc, msg, &enc, &enc_len);
        fz_frame_msg_check(desc, msg, enc, enc_len);
        check_canonical_with_pbc(desc, enc, enc_len);
        free(enc);
        if (strict_rc == RPB_OK)
            check_input_with_pbc(desc, msg, in, len);
    }

    free(strict_arena);
    free(arena);
    free(strict);
    free(msg);
    return 0;
}
