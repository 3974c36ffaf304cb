/*
 * messages.c - descriptors of the v1 messages (the .proto files in proto/, WIRE-018).
 * Fields are listed in ascending field-number order, which is also the
 * canonical encoding order (WIRE-020).
 */
#include <stddef.h>
#include <string.h>

#include "rpb/messages.h"

#define ENUM_DESC(var, proto_name, table) \
    const rpb_enum_desc var = {proto_name, sizeof table / sizeof table[0], table}

static const rpb_enum_value frame_kind_values[] = {
    {0, "FRAME_KIND_REQUEST"}, {1, "FRAME_KIND_RESPONSE"},
    {2, "FRAME_KIND_EVENT"},   {3, "FRAME_KIND_CANCEL"},
};
ENUM_DESC(rpb_frame_kind_enum, "FrameKind", frame_kind_values);

static const rpb_enum_value payload_encoding_values[] = {
    {0, "PAYLOAD_ENCODING_NONE"},   {1, "PAYLOAD_ENCODING_ZSTD"},
    {2, "PAYLOAD_ENCODING_SNAPPY"}, {3, "PAYLOAD_ENCODING_LZ4"},
};
ENUM_DESC(rpb_payload_encoding_enum, "PayloadEncoding", payload_encoding_values);

static const rpb_enum_value error_code_values[] = {
    {0, "ERROR_CODE_UNSPECIFIED"},     {1, "ERROR_VERSION_UNSUPPORTED"},
    {2, "ERROR_SERVICE_UNKNOWN"},      {3, "ERROR_BACKEND_SPAWN_FAILED"},
    {4, "ERROR_RATE_LIMITED"},         {5, "ERROR_SHUTTING_DOWN"},
    {6, "ERROR_PEER_REJECTED"},        {7, "ERROR_INTERNAL"},
    {8, "ERROR_VERSION_BLOCKED"},      {9, "ERROR_FD_PRESSURE"},
};
ENUM_DESC(rpb_error_code_enum, "ErrorCode", error_code_values);

static const rpb_enum_value broker_isolation_values[] = {
    {0, "PRIVATE_BROKER"}, {1, "SHARED_BROKER"}, {2, "EXPLICIT_INSTANCE"},
};
ENUM_DESC(rpb_broker_isolation_enum, "BrokerIsolation", broker_isolation_values);

static const rpb_enum_value admin_verb_values[] = {
    {0, "ADMIN_VERB_UNSPECIFIED"},    {1, "ADMIN_VERB_STATUS"},
    {2, "ADMIN_VERB_DUMP"},           {3, "ADMIN_VERB_LIST_INSTANCES"},
    {4, "ADMIN_VERB_HEALTHZ"},        {5, "ADMIN_VERB_READYZ"},
    {6, "ADMIN_VERB_BACKEND_HEALTH"}, {7, "ADMIN_VERB_CONFIG"},
    {8, "ADMIN_VERB_DIAGNOSE"},       {9, "ADMIN_VERB_METRICS"},
};
ENUM_DESC(rpb_admin_verb_enum, "AdminVerb", admin_verb_values);

static const rpb_enum_value admin_reply_kind_values[] = {
    {0, "ADMIN_REPLY_KIND_TEXT"},
    {1, "ADMIN_REPLY_KIND_JSON"},
    {2, "ADMIN_REPLY_KIND_OPENMETRICS"},
};
ENUM_DESC(rpb_admin_reply_kind_enum, "AdminReplyKind", admin_reply_kind_values);

/* A plain field of struct st. */
#define FIELD(st, num, member, ftype) \
    {num, #member, ftype, 0, offsetof(st, member), 0, NULL, NULL}
#define ENUM_FIELD(st, num, member, e) \
    {num, #member, RPB_FT_ENUM, 0, offsetof(st, member), 0, NULL, &e}
/* A field with explicit presence recorded in the bool `has_<member>`. */
#define PRESENT_FIELD(st, num, member, ftype, sub) \
    {num, #member, ftype, RPB_FIELD_PRESENCE, offsetof(st, member), offsetof(st, has_##member), sub, NULL}
#define ONEOF_FIELD(st, num, member, sub) \
    {num, #member, RPB_FT_MESSAGE, RPB_FIELD_ONEOF, offsetof(st, member), 0, &sub, NULL}

#define MSG_DESC(var, short_name, st, table) \
    const rpb_msg_desc var = {short_name, "running_process.broker.v1." short_name, sizeof(st), \
                              sizeof table / sizeof table[0], table, NULL, 0}

static const rpb_field_desc frame_fields[] = {
    FIELD(rpb_frame, 1, envelope_version, RPB_FT_UINT32),
    ENUM_FIELD(rpb_frame, 2, kind, rpb_frame_kind_enum),
    FIELD(rpb_frame, 3, payload_protocol, RPB_FT_UINT32),
    FIELD(rpb_frame, 4, payload, RPB_FT_BYTES),
    FIELD(rpb_frame, 5, request_id, RPB_FT_UINT64),
    ENUM_FIELD(rpb_frame, 6, payload_encoding, rpb_payload_encoding_enum),
    FIELD(rpb_frame, 7, deadline_unix_ms, RPB_FT_UINT64),
    FIELD(rpb_frame, 8, traceparent, RPB_FT_STRING),
    FIELD(rpb_frame, 9, tracestate, RPB_FT_STRING),
};
MSG_DESC(rpb_frame_desc, "Frame", rpb_frame, frame_fields);

static const rpb_field_desc hello_fields[] = {
    FIELD(rpb_hello, 1, client_min_protocol, RPB_FT_UINT32),
    FIELD(rpb_hello, 2, client_max_protocol, RPB_FT_UINT32),
    FIELD(rpb_hello, 3, service_name, RPB_FT_STRING),
    FIELD(rpb_hello, 4, wanted_version, RPB_FT_STRING),
    FIELD(rpb_hello, 5, client_version, RPB_FT_STRING),
    FIELD(rpb_hello, 6, client_capabilities, RPB_FT_UINT64),
    FIELD(rpb_hello, 7, auth_token, RPB_FT_BYTES),
    FIELD(rpb_hello, 8, request_id, RPB_FT_STRING),
    FIELD(rpb_hello, 9, connection_id, RPB_FT_UINT64),
    FIELD(rpb_hello, 10, peer_pid, RPB_FT_UINT32),
    FIELD(rpb_hello, 11, client_lib_name, RPB_FT_STRING),
    FIELD(rpb_hello, 12, client_lib_version, RPB_FT_STRING),
    FIELD(rpb_hello, 13, peer_attestation_nonce, RPB_FT_BYTES),
    FIELD(rpb_hello, 14, capability_token, RPB_FT_BYTES),
    FIELD(rpb_hello, 15, client_keepalive_secs, RPB_FT_UINT64),
};
MSG_DESC(rpb_hello_desc, "Hello", rpb_hello, hello_fields);

static const rpb_field_desc negotiated_fields[] = {
    FIELD(rpb_negotiated, 1, negotiated_protocol, RPB_FT_UINT32),
    FIELD(rpb_negotiated, 2, daemon_version, RPB_FT_STRING),
    FIELD(rpb_negotiated, 3, backend_pipe, RPB_FT_STRING),
    FIELD(rpb_negotiated, 4, warnings, RPB_FT_STRING_LIST),
    FIELD(rpb_negotiated, 5, server_capabilities, RPB_FT_UINT64),
    FIELD(rpb_negotiated, 6, keepalive_interval_secs, RPB_FT_UINT64),
    FIELD(rpb_negotiated, 7, handle_passed_token, RPB_FT_BYTES),
    FIELD(rpb_negotiated, 8, connection_id, RPB_FT_UINT64),
};
MSG_DESC(rpb_negotiated_desc, "Negotiated", rpb_negotiated, negotiated_fields);

static const rpb_field_desc refused_fields[] = {
    FIELD(rpb_refused, 1, reason, RPB_FT_STRING),
    FIELD(rpb_refused, 2, daemon_min_protocol, RPB_FT_UINT32),
    FIELD(rpb_refused, 3, daemon_max_protocol, RPB_FT_UINT32),
    ENUM_FIELD(rpb_refused, 4, code, rpb_error_code_enum),
    FIELD(rpb_refused, 5, details, RPB_FT_STRING_MAP),
    FIELD(rpb_refused, 6, retry_after_ms, RPB_FT_UINT64),
};
MSG_DESC(rpb_refused_desc, "Refused", rpb_refused, refused_fields);

static const rpb_field_desc hello_reply_fields[] = {
    ONEOF_FIELD(rpb_hello_reply, 1, negotiated, rpb_negotiated_desc),
    ONEOF_FIELD(rpb_hello_reply, 2, refused, rpb_refused_desc),
};
const rpb_msg_desc rpb_hello_reply_desc = {
    "HelloReply", "running_process.broker.v1.HelloReply", sizeof(rpb_hello_reply),
    sizeof hello_reply_fields / sizeof hello_reply_fields[0], hello_reply_fields,
    "result", offsetof(rpb_hello_reply, result)};

static const rpb_field_desc handoff_offer_fields[] = {
    FIELD(rpb_handoff_offer, 1, handle_value, RPB_FT_UINT64),
    FIELD(rpb_handoff_offer, 2, token, RPB_FT_BYTES),
    FIELD(rpb_handoff_offer, 3, service_name, RPB_FT_STRING),
    FIELD(rpb_handoff_offer, 4, correlation_id, RPB_FT_UINT64),
};
MSG_DESC(rpb_handoff_offer_desc, "HandoffOffer", rpb_handoff_offer, handoff_offer_fields);

static const rpb_field_desc handoff_ack_fields[] = {
    FIELD(rpb_handoff_ack, 1, token, RPB_FT_BYTES),
    FIELD(rpb_handoff_ack, 2, accepted, RPB_FT_BOOL),
    FIELD(rpb_handoff_ack, 3, error_detail, RPB_FT_STRING),
    FIELD(rpb_handoff_ack, 4, correlation_id, RPB_FT_UINT64),
};
MSG_DESC(rpb_handoff_ack_desc, "HandoffAck", rpb_handoff_ack, handoff_ack_fields);

static const rpb_field_desc endpoint_fields[] = {
    FIELD(rpb_endpoint, 1, namespace_id, RPB_FT_STRING),
    FIELD(rpb_endpoint, 2, path, RPB_FT_STRING),
};
MSG_DESC(rpb_endpoint_desc, "Endpoint", rpb_endpoint, endpoint_fields);

static const rpb_field_desc daemon_process_fields[] = {
    FIELD(rpb_daemon_process, 1, pid, RPB_FT_UINT32),
    FIELD(rpb_daemon_process, 2, exe_path, RPB_FT_STRING),
    FIELD(rpb_daemon_process, 3, exe_sha256, RPB_FT_BYTES),
    PRESENT_FIELD(rpb_daemon_process, 4, ipc_endpoint, RPB_FT_MESSAGE, &rpb_endpoint_desc),
    FIELD(rpb_daemon_process, 5, started_at_unix_ms, RPB_FT_UINT64),
    FIELD(rpb_daemon_process, 6, boot_id, RPB_FT_STRING),
    PRESENT_FIELD(rpb_daemon_process, 7, idle_timeout_secs, RPB_FT_UINT32, NULL),
};
MSG_DESC(rpb_daemon_process_desc, "DaemonProcess", rpb_daemon_process, daemon_process_fields);

static const rpb_field_desc host_identity_fields[] = {
    FIELD(rpb_host_identity, 1, hostname, RPB_FT_STRING),
    FIELD(rpb_host_identity, 2, machine_id, RPB_FT_STRING),
    FIELD(rpb_host_identity, 3, boot_id, RPB_FT_STRING),
    FIELD(rpb_host_identity, 4, fs_dev_id, RPB_FT_UINT64),
    FIELD(rpb_host_identity, 5, namespace_id, RPB_FT_STRING),
};
MSG_DESC(rpb_host_identity_desc, "HostIdentity", rpb_host_identity, host_identity_fields);

static const rpb_field_desc service_definition_fields[] = {
    FIELD(rpb_service_definition, 1, service_name, RPB_FT_STRING),
    FIELD(rpb_service_definition, 2, binary_path, RPB_FT_STRING),
    ENUM_FIELD(rpb_service_definition, 3, isolation, rpb_broker_isolation_enum),
    FIELD(rpb_service_definition, 4, explicit_instance, RPB_FT_STRING),
    FIELD(rpb_service_definition, 5, per_version_binary_dir, RPB_FT_STRING),
    FIELD(rpb_service_definition, 6, min_version, RPB_FT_STRING),
    FIELD(rpb_service_definition, 7, version_allow_list, RPB_FT_STRING_LIST),
    FIELD(rpb_service_definition, 8, labels, RPB_FT_STRING_MAP),
};
MSG_DESC(rpb_service_definition_desc, "ServiceDefinition", rpb_service_definition,
         service_definition_fields);

static const rpb_field_desc admin_request_fields[] = {
    ENUM_FIELD(rpb_admin_request, 1, verb, rpb_admin_verb_enum),
    FIELD(rpb_admin_request, 2, json, RPB_FT_BOOL),
    FIELD(rpb_admin_request, 3, service_name, RPB_FT_STRING),
    FIELD(rpb_admin_request, 4, output_path, RPB_FT_STRING),
};
MSG_DESC(rpb_admin_request_desc, "AdminRequest", rpb_admin_request, admin_request_fields);

static const rpb_field_desc admin_reply_fields[] = {
    ENUM_FIELD(rpb_admin_reply, 1, kind, rpb_admin_reply_kind_enum),
    FIELD(rpb_admin_reply, 2, body, RPB_FT_STRING),
    FIELD(rpb_admin_reply, 3, exit_code, RPB_FT_UINT32),
    FIELD(rpb_admin_reply, 4, content_type, RPB_FT_STRING),
};
MSG_DESC(rpb_admin_reply_desc, "AdminReply", rpb_admin_reply, admin_reply_fields);

const rpb_msg_desc *const rpb_all_messages[] = {
    &rpb_frame_desc,          &rpb_hello_desc,          &rpb_hello_reply_desc,
    &rpb_negotiated_desc,     &rpb_refused_desc,        &rpb_handoff_offer_desc,
    &rpb_handoff_ack_desc,    &rpb_endpoint_desc,       &rpb_daemon_process_desc,
    &rpb_host_identity_desc,  &rpb_service_definition_desc, &rpb_admin_request_desc,
    &rpb_admin_reply_desc,    NULL,
};

const rpb_msg_desc *rpb_msg_by_name(const char *name)
{
    for (size_t i = 0; rpb_all_messages[i]; i++)
        if (strcmp(rpb_all_messages[i]->name, name) == 0 ||
            strcmp(rpb_all_messages[i]->full_name, name) == 0)
            return rpb_all_messages[i];
    return NULL;
}
