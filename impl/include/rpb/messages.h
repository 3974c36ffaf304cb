/*
 * rpb/messages.h - the v1 messages of package running_process.broker.v1
 * (the .proto files in proto/) as C structs, with their descriptors and enums.
 *
 * Field names, numbers and types follow proto/ exactly; spec/wire.md
 * WIRE-018 lists the schemas.  Initialise with rpb_msg_init() or `= {0}`.
 */
#ifndef RPB_MESSAGES_H
#define RPB_MESSAGES_H

#include "rpb/export.h"

#include "rpb/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- enums ---- */

enum rpb_frame_kind {
    RPB_FRAME_KIND_REQUEST = 0,
    RPB_FRAME_KIND_RESPONSE = 1,
    RPB_FRAME_KIND_EVENT = 2,
    RPB_FRAME_KIND_CANCEL = 3,
};

enum rpb_payload_encoding {
    RPB_PAYLOAD_ENCODING_NONE = 0,
    RPB_PAYLOAD_ENCODING_ZSTD = 1,
    RPB_PAYLOAD_ENCODING_SNAPPY = 2,
    RPB_PAYLOAD_ENCODING_LZ4 = 3,
};

enum rpb_error_code {
    RPB_CODE_UNSPECIFIED = 0,
    RPB_CODE_VERSION_UNSUPPORTED = 1,
    RPB_CODE_SERVICE_UNKNOWN = 2,
    RPB_CODE_BACKEND_SPAWN_FAILED = 3,
    RPB_CODE_RATE_LIMITED = 4,
    RPB_CODE_SHUTTING_DOWN = 5,
    RPB_CODE_PEER_REJECTED = 6,
    RPB_CODE_INTERNAL = 7,
    RPB_CODE_VERSION_BLOCKED = 8,
    RPB_CODE_FD_PRESSURE = 9,
};

enum rpb_broker_isolation {
    RPB_PRIVATE_BROKER = 0,
    RPB_SHARED_BROKER = 1,
    RPB_EXPLICIT_INSTANCE = 2,
};

enum rpb_admin_verb {
    RPB_ADMIN_VERB_UNSPECIFIED = 0,
    RPB_ADMIN_VERB_STATUS = 1,
    RPB_ADMIN_VERB_DUMP = 2,
    RPB_ADMIN_VERB_LIST_INSTANCES = 3,
    RPB_ADMIN_VERB_HEALTHZ = 4,
    RPB_ADMIN_VERB_READYZ = 5,
    RPB_ADMIN_VERB_BACKEND_HEALTH = 6,
    RPB_ADMIN_VERB_CONFIG = 7,
    RPB_ADMIN_VERB_DIAGNOSE = 8,
    RPB_ADMIN_VERB_METRICS = 9,
};

enum rpb_admin_reply_kind {
    RPB_ADMIN_REPLY_KIND_TEXT = 0,
    RPB_ADMIN_REPLY_KIND_JSON = 1,
    RPB_ADMIN_REPLY_KIND_OPENMETRICS = 2,
};

/* Capability bits (Hello.client_capabilities, Negotiated.server_capabilities). */
#define RPB_CAP_HANDLE_PASSING (UINT64_C(1) << 0)

/* ---- broker_v1_envelope.proto ---- */

typedef struct rpb_frame {
    uint32_t envelope_version;
    int32_t kind; /* enum rpb_frame_kind */
    uint32_t payload_protocol;
    rpb_slice payload;
    uint64_t request_id;
    int32_t payload_encoding; /* enum rpb_payload_encoding */
    uint64_t deadline_unix_ms;
    rpb_slice traceparent;
    rpb_slice tracestate;
} rpb_frame;

typedef struct rpb_hello {
    uint32_t client_min_protocol;
    uint32_t client_max_protocol;
    rpb_slice service_name;
    rpb_slice wanted_version;
    rpb_slice client_version;
    uint64_t client_capabilities;
    rpb_slice auth_token;
    rpb_slice request_id; /* a string, unlike Frame.request_id */
    uint64_t connection_id;
    uint32_t peer_pid;
    rpb_slice client_lib_name;
    rpb_slice client_lib_version;
    rpb_slice peer_attestation_nonce;
    rpb_slice capability_token;
    uint64_t client_keepalive_secs;
} rpb_hello;

typedef struct rpb_negotiated {
    uint32_t negotiated_protocol;
    rpb_slice daemon_version;
    rpb_slice backend_pipe;
    rpb_strlist warnings;
    uint64_t server_capabilities;
    uint64_t keepalive_interval_secs;
    rpb_slice handle_passed_token;
    uint64_t connection_id;
} rpb_negotiated;

typedef struct rpb_refused {
    rpb_slice reason;
    uint32_t daemon_min_protocol;
    uint32_t daemon_max_protocol;
    int32_t code; /* enum rpb_error_code */
    rpb_map details;
    uint64_t retry_after_ms;
} rpb_refused;

/* HelloReply.result oneof: which arm is set. */
enum rpb_hello_reply_result {
    RPB_HELLO_REPLY_UNSET = 0,
    RPB_HELLO_REPLY_NEGOTIATED = 1,
    RPB_HELLO_REPLY_REFUSED = 2,
};

typedef struct rpb_hello_reply {
    uint32_t result; /* enum rpb_hello_reply_result */
    rpb_negotiated negotiated;
    rpb_refused refused;
} rpb_hello_reply;

typedef struct rpb_handoff_offer {
    uint64_t handle_value;
    rpb_slice token;
    rpb_slice service_name;
    uint64_t correlation_id;
} rpb_handoff_offer;

typedef struct rpb_handoff_ack {
    rpb_slice token;
    bool accepted;
    rpb_slice error_detail;
    uint64_t correlation_id;
} rpb_handoff_ack;

/* ---- broker_v1_manifest.proto (the subset v1 puts on the wire) ---- */

typedef struct rpb_endpoint {
    rpb_slice namespace_id;
    rpb_slice path;
} rpb_endpoint;

typedef struct rpb_daemon_process {
    uint32_t pid;
    rpb_slice exe_path;
    rpb_slice exe_sha256;
    bool has_ipc_endpoint;
    rpb_endpoint ipc_endpoint;
    uint64_t started_at_unix_ms;
    rpb_slice boot_id;
    bool has_idle_timeout_secs; /* proto3 optional: explicit presence */
    uint32_t idle_timeout_secs;
} rpb_daemon_process;

typedef struct rpb_host_identity {
    rpb_slice hostname;
    rpb_slice machine_id;
    rpb_slice boot_id;
    uint64_t fs_dev_id;
    rpb_slice namespace_id;
} rpb_host_identity;

/* ---- broker_v1_service.proto ---- */

typedef struct rpb_service_definition {
    rpb_slice service_name;
    rpb_slice binary_path;
    int32_t isolation; /* enum rpb_broker_isolation */
    rpb_slice explicit_instance;
    rpb_slice per_version_binary_dir;
    rpb_slice min_version;
    rpb_strlist version_allow_list;
    rpb_map labels;
} rpb_service_definition;

/* ---- broker_v1_admin.proto ---- */

typedef struct rpb_admin_request {
    int32_t verb; /* enum rpb_admin_verb */
    bool json;
    rpb_slice service_name;
    rpb_slice output_path;
} rpb_admin_request;

typedef struct rpb_admin_reply {
    int32_t kind; /* enum rpb_admin_reply_kind */
    rpb_slice body;
    uint32_t exit_code;
    rpb_slice content_type;
} rpb_admin_reply;

/* ---- descriptors ---- */

extern RPB_API const rpb_msg_desc rpb_frame_desc;
extern RPB_API const rpb_msg_desc rpb_hello_desc;
extern RPB_API const rpb_msg_desc rpb_hello_reply_desc;
extern RPB_API const rpb_msg_desc rpb_negotiated_desc;
extern RPB_API const rpb_msg_desc rpb_refused_desc;
extern RPB_API const rpb_msg_desc rpb_handoff_offer_desc;
extern RPB_API const rpb_msg_desc rpb_handoff_ack_desc;
extern RPB_API const rpb_msg_desc rpb_endpoint_desc;
extern RPB_API const rpb_msg_desc rpb_daemon_process_desc;
extern RPB_API const rpb_msg_desc rpb_host_identity_desc;
extern RPB_API const rpb_msg_desc rpb_service_definition_desc;
extern RPB_API const rpb_msg_desc rpb_admin_request_desc;
extern RPB_API const rpb_msg_desc rpb_admin_reply_desc;

extern RPB_API const rpb_enum_desc rpb_frame_kind_enum;
extern RPB_API const rpb_enum_desc rpb_payload_encoding_enum;
extern RPB_API const rpb_enum_desc rpb_error_code_enum;
extern RPB_API const rpb_enum_desc rpb_broker_isolation_enum;
extern RPB_API const rpb_enum_desc rpb_admin_verb_enum;
extern RPB_API const rpb_enum_desc rpb_admin_reply_kind_enum;

/* Every message descriptor above, NULL-terminated, and lookup by short
 * name ("Hello") or full name. */
extern RPB_API const rpb_msg_desc *const rpb_all_messages[];
RPB_API const rpb_msg_desc *rpb_msg_by_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
