/*
 * messages.c - descriptors of the v1 messages (the .proto files in proto/, WIRE-018).
 * The field tables are expanded from the X-macro lists of fields.h, in
 * ascending field-number order, which is also the canonical encoding order
 * (WIRE-020).
 */
#include <stddef.h>
#include <string.h>

#include "rpb/messages.h"

#include "fields.h"

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

/* One rpb_field_desc per X-macro row of fields.h. */
#define PLAIN(S, n, m, type) {n, #m, type, 0, offsetof(S, m), 0, NULL, NULL},
#define DESC_U32(S, n, m, x) PLAIN(S, n, m, RPB_FT_UINT32)
#define DESC_U64(S, n, m, x) PLAIN(S, n, m, RPB_FT_UINT64)
#define DESC_BOOL(S, n, m, x) PLAIN(S, n, m, RPB_FT_BOOL)
#define DESC_STRING(S, n, m, x) PLAIN(S, n, m, RPB_FT_STRING)
#define DESC_BYTES(S, n, m, x) PLAIN(S, n, m, RPB_FT_BYTES)
#define DESC_STRLIST(S, n, m, x) PLAIN(S, n, m, RPB_FT_STRING_LIST)
#define DESC_STRMAP(S, n, m, x) PLAIN(S, n, m, RPB_FT_STRING_MAP)
#define DESC_ENUM(S, n, m, e) {n, #m, RPB_FT_ENUM, 0, offsetof(S, m), 0, NULL, &rpb_##e##_enum},
#define DESC_OPT_U32(S, n, m, x) \
    {n, #m, RPB_FT_UINT32, RPB_FIELD_PRESENCE, offsetof(S, m), offsetof(S, has_##m), NULL, NULL},
#define DESC_OPT_MSG(S, n, m, sub) \
    {n, #m, RPB_FT_MESSAGE, RPB_FIELD_PRESENCE, offsetof(S, m), offsetof(S, has_##m), \
     &rpb_##sub##_desc, NULL},
#define DESC_ONEOF_MSG(S, n, m, sub) \
    {n, #m, RPB_FT_MESSAGE, RPB_FIELD_ONEOF, offsetof(S, m), 0, &rpb_##sub##_desc, NULL},
#define DESC_FIELD(S, KIND, n, m, x) DESC_##KIND(S, n, m, x)

/* The oneof's name and the offset of its case member, from the ONEOF
 * column of RPB_MESSAGES. */
#define ONEOF_NAME__ NULL
#define ONEOF_NAME_result "result"
#define ONEOF_OFFSET__(S) 0
#define ONEOF_OFFSET_result(S) offsetof(S, result)

#define MSG_DESC(name, proto_name, LIST, oneof)                                    \
    static const rpb_field_desc name##_fields[] = {LIST(DESC_FIELD, rpb_##name)}; \
    const rpb_msg_desc rpb_##name##_desc = {                                       \
        proto_name,                                                                \
        "running_process.broker.v1." proto_name,                                   \
        sizeof(rpb_##name),                                                        \
        sizeof name##_fields / sizeof name##_fields[0],                            \
        name##_fields,                                                             \
        ONEOF_NAME_##oneof,                                                        \
        ONEOF_OFFSET_##oneof(rpb_##name),                                          \
        &rpb_##name##_encoder};
RPB_MESSAGES(MSG_DESC)

#define MSG_DESC_ADDRESS(name, proto_name, LIST, oneof) &rpb_##name##_desc,
const rpb_msg_desc *const rpb_all_messages[] = {RPB_MESSAGES(MSG_DESC_ADDRESS) NULL};

const rpb_msg_desc *rpb_msg_by_name(const char *name)
{
    for (size_t i = 0; rpb_all_messages[i]; i++)
        if (strcmp(rpb_all_messages[i]->name, name) == 0 ||
            strcmp(rpb_all_messages[i]->full_name, name) == 0)
            return rpb_all_messages[i];
    return NULL;
}
