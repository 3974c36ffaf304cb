/*
 * fields.h - librpb-internal: the field lists of the v1 messages (proto/,
 * WIRE-018), written once as X-macros.  messages.c expands them into the
 * public descriptors, encode.c into straight-line sizers and encoders.
 *
 * Each list is LIST(X, S) and calls X(S, KIND, NUMBER, MEMBER, EXTRA) once
 * per field in ascending field number, which is also the canonical
 * encoding order (WIRE-020).  S is the C struct; KIND is one of
 *   U32 U64 ENUM BOOL STRING BYTES STRLIST STRMAP   plain proto3 fields;
 *   OPT_U32   `optional uint32`, presence in the bool has_<MEMBER>;
 *   OPT_MSG   a message field, presence in the bool has_<MEMBER>;
 *   ONEOF_MSG a message arm of the oneof whose case is the struct's
 *             uint32_t `result` (HelloReply's is v1's only oneof).
 * EXTRA names the enum (rpb_<EXTRA>_enum) of ENUM fields and the message
 * (rpb_<EXTRA>_desc, rpb_<EXTRA>) of OPT_MSG and ONEOF_MSG fields; `_`
 * otherwise.  Every v1 field number is at most 15, so every tag is one
 * byte (encode.c checks it at compile time).
 */
#ifndef RPB_CORE_FIELDS_H
#define RPB_CORE_FIELDS_H

#include <stddef.h>
#include <stdint.h>

/* Frame, split around the payload so that rpb_frame_encode_msg() can write
 * a payload message in place between the two halves. */
#define RPB_FRAME_HEAD_FIELDS(X, S)                    \
    X(S, U32, 1, envelope_version, _)                  \
    X(S, ENUM, 2, kind, frame_kind)                    \
    X(S, U32, 3, payload_protocol, _)
#define RPB_FRAME_PAYLOAD_NUMBER 4
#define RPB_FRAME_TAIL_FIELDS(X, S)                    \
    X(S, U64, 5, request_id, _)                        \
    X(S, ENUM, 6, payload_encoding, payload_encoding)  \
    X(S, U64, 7, deadline_unix_ms, _)                  \
    X(S, STRING, 8, traceparent, _)                    \
    X(S, STRING, 9, tracestate, _)
#define RPB_FRAME_FIELDS(X, S)                         \
    RPB_FRAME_HEAD_FIELDS(X, S)                        \
    X(S, BYTES, 4, payload, _)                         \
    RPB_FRAME_TAIL_FIELDS(X, S)

#define RPB_HELLO_FIELDS(X, S)                         \
    X(S, U32, 1, client_min_protocol, _)               \
    X(S, U32, 2, client_max_protocol, _)               \
    X(S, STRING, 3, service_name, _)                   \
    X(S, STRING, 4, wanted_version, _)                 \
    X(S, STRING, 5, client_version, _)                 \
    X(S, U64, 6, client_capabilities, _)               \
    X(S, BYTES, 7, auth_token, _)                      \
    X(S, STRING, 8, request_id, _)                     \
    X(S, U64, 9, connection_id, _)                     \
    X(S, U32, 10, peer_pid, _)                         \
    X(S, STRING, 11, client_lib_name, _)               \
    X(S, STRING, 12, client_lib_version, _)            \
    X(S, BYTES, 13, peer_attestation_nonce, _)         \
    X(S, BYTES, 14, capability_token, _)               \
    X(S, U64, 15, client_keepalive_secs, _)

#define RPB_NEGOTIATED_FIELDS(X, S)                    \
    X(S, U32, 1, negotiated_protocol, _)               \
    X(S, STRING, 2, daemon_version, _)                 \
    X(S, STRING, 3, backend_pipe, _)                   \
    X(S, STRLIST, 4, warnings, _)                      \
    X(S, U64, 5, server_capabilities, _)               \
    X(S, U64, 6, keepalive_interval_secs, _)           \
    X(S, BYTES, 7, handle_passed_token, _)             \
    X(S, U64, 8, connection_id, _)

#define RPB_REFUSED_FIELDS(X, S)                       \
    X(S, STRING, 1, reason, _)                         \
    X(S, U32, 2, daemon_min_protocol, _)               \
    X(S, U32, 3, daemon_max_protocol, _)               \
    X(S, ENUM, 4, code, error_code)                    \
    X(S, STRMAP, 5, details, _)                        \
    X(S, U64, 6, retry_after_ms, _)

#define RPB_HELLO_REPLY_FIELDS(X, S)                   \
    X(S, ONEOF_MSG, 1, negotiated, negotiated)         \
    X(S, ONEOF_MSG, 2, refused, refused)

#define RPB_HANDOFF_OFFER_FIELDS(X, S)                 \
    X(S, U64, 1, handle_value, _)                      \
    X(S, BYTES, 2, token, _)                           \
    X(S, STRING, 3, service_name, _)                   \
    X(S, U64, 4, correlation_id, _)

#define RPB_HANDOFF_ACK_FIELDS(X, S)                   \
    X(S, BYTES, 1, token, _)                           \
    X(S, BOOL, 2, accepted, _)                         \
    X(S, STRING, 3, error_detail, _)                   \
    X(S, U64, 4, correlation_id, _)

#define RPB_ENDPOINT_FIELDS(X, S)                      \
    X(S, STRING, 1, namespace_id, _)                   \
    X(S, STRING, 2, path, _)

#define RPB_DAEMON_PROCESS_FIELDS(X, S)                \
    X(S, U32, 1, pid, _)                               \
    X(S, STRING, 2, exe_path, _)                       \
    X(S, BYTES, 3, exe_sha256, _)                      \
    X(S, OPT_MSG, 4, ipc_endpoint, endpoint)           \
    X(S, U64, 5, started_at_unix_ms, _)                \
    X(S, STRING, 6, boot_id, _)                        \
    X(S, OPT_U32, 7, idle_timeout_secs, _)

#define RPB_HOST_IDENTITY_FIELDS(X, S)                 \
    X(S, STRING, 1, hostname, _)                       \
    X(S, STRING, 2, machine_id, _)                     \
    X(S, STRING, 3, boot_id, _)                        \
    X(S, U64, 4, fs_dev_id, _)                         \
    X(S, STRING, 5, namespace_id, _)

#define RPB_SERVICE_DEFINITION_FIELDS(X, S)            \
    X(S, STRING, 1, service_name, _)                   \
    X(S, STRING, 2, binary_path, _)                    \
    X(S, ENUM, 3, isolation, broker_isolation)         \
    X(S, STRING, 4, explicit_instance, _)              \
    X(S, STRING, 5, per_version_binary_dir, _)         \
    X(S, STRING, 6, min_version, _)                    \
    X(S, STRLIST, 7, version_allow_list, _)            \
    X(S, STRMAP, 8, labels, _)

#define RPB_ADMIN_REQUEST_FIELDS(X, S)                 \
    X(S, ENUM, 1, verb, admin_verb)                    \
    X(S, BOOL, 2, json, _)                             \
    X(S, STRING, 3, service_name, _)                   \
    X(S, STRING, 4, output_path, _)

#define RPB_ADMIN_REPLY_FIELDS(X, S)                   \
    X(S, ENUM, 1, kind, admin_reply_kind)              \
    X(S, STRING, 2, body, _)                           \
    X(S, U32, 3, exit_code, _)                         \
    X(S, STRING, 4, content_type, _)

/* Every v1 message: M(name, "ProtoName", LIST, ONEOF) for struct rpb_<name>,
 * descriptor rpb_<name>_desc and encoder rpb_<name>_encoder; ONEOF is
 * `result` for the message with a oneof, `_` for the others. */
#define RPB_MESSAGES(M)                                                          \
    M(frame, "Frame", RPB_FRAME_FIELDS, _)                                       \
    M(hello, "Hello", RPB_HELLO_FIELDS, _)                                       \
    M(hello_reply, "HelloReply", RPB_HELLO_REPLY_FIELDS, result)                 \
    M(negotiated, "Negotiated", RPB_NEGOTIATED_FIELDS, _)                        \
    M(refused, "Refused", RPB_REFUSED_FIELDS, _)                                 \
    M(handoff_offer, "HandoffOffer", RPB_HANDOFF_OFFER_FIELDS, _)                \
    M(handoff_ack, "HandoffAck", RPB_HANDOFF_ACK_FIELDS, _)                      \
    M(endpoint, "Endpoint", RPB_ENDPOINT_FIELDS, _)                              \
    M(daemon_process, "DaemonProcess", RPB_DAEMON_PROCESS_FIELDS, _)             \
    M(host_identity, "HostIdentity", RPB_HOST_IDENTITY_FIELDS, _)                \
    M(service_definition, "ServiceDefinition", RPB_SERVICE_DEFINITION_FIELDS, _) \
    M(admin_request, "AdminRequest", RPB_ADMIN_REQUEST_FIELDS, _)                \
    M(admin_reply, "AdminReply", RPB_ADMIN_REPLY_FIELDS, _)

/* The generated encoder of one message (encode.c), reached from its
 * descriptor. */
struct rpb_msg_encoder {
    size_t (*size)(const void *msg);                /* exact encoded length */
    size_t (*bound)(const void *msg);               /* at least that, found without sizing */
    size_t bound_floor;                             /* bound() with no bytes, list or map */
    uint8_t *(*put)(const void *msg, uint8_t *out); /* writes it, returns the end */
};

#define RPB_DECLARE_ENCODER(name, proto_name, LIST, oneof) \
    extern const struct rpb_msg_encoder rpb_##name##_encoder;
RPB_MESSAGES(RPB_DECLARE_ENCODER)

#endif
