/*
 * rpb/hello.h - the broker side of the v1 Hello handshake (spec/hello.md),
 * I/O-free: field grammars, version policy, the service table, the per-pid
 * rate limiter and the Hello handler that turns a decoded request Frame, the
 * OS-verified peer and a monotonic clock into a HelloReply frame.
 *
 * Nothing here reads a socket, a file or the clock; the caller (rpb-broker,
 * a test, a fuzzer) supplies bytes and time.
 */
#ifndef RPB_HELLO_H
#define RPB_HELLO_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/frame.h"
#include "rpb/messages.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants (spec/hello.md) ---- */

#define RPB_SERVICE_NAME_MAX 64u       /* HELLO-011 */
#define RPB_WANTED_VERSION_MAX 64u     /* HELLO-012 */
#define RPB_CLIENT_VERSION_MAX 128u    /* HELLO-013 */
#define RPB_CLIENT_LIB_MAX 64u         /* HELLO-014 */
#define RPB_KEEPALIVE_DEFAULT_SECS 1800u /* HELLO-032 */
#define RPB_HANDOFF_TOKEN_BYTES 16u    /* HELLO-034 */
#define RPB_RATE_MAX_DEFAULT 256u      /* HELLO-020 */
#define RPB_RATE_WINDOW_MS_DEFAULT 1000u
#define RPB_RETRY_VERSION_BLOCKED_MS 30000u /* HELLO-024 */
#define RPB_RETRY_FD_PRESSURE_MS 1000u      /* SEC-011 */
#define RPB_RETRY_SHUTTING_DOWN_MS 1000u    /* SEC-012 */

/* Longest backend_pipe / daemon_version a service table accepts; keeps a
 * Negotiated payload below RPB_HELLO_PAYLOAD_MAX. */
#define RPB_SERVICE_PIPE_MAX 4096u
#define RPB_SERVICE_DAEMON_VERSION_MAX 128u
#define RPB_HELLO_PAYLOAD_MAX 8192u

/* ---- field grammars (HELLO-011, HELLO-012) ---- */

/* service_name: 1..64 bytes of [a-z0-9-]. */
RPB_API bool rpb_service_name_valid(rpb_slice name);

/* The version grammar ^[0-9]+\.[0-9]+\.[0-9]+(-[a-z0-9.]+)?$ (no length
 * cap; the Hello shape check adds the 64-byte cap). */
RPB_API bool rpb_version_valid(rpb_slice version);

/*
 * Compares the MAJOR.MINOR.PATCH cores of a and b numerically, ignoring any
 * prerelease tail (HELLO-022, upstream parity).  Returns RPB_OK and sets
 * *cmp to -1, 0 or 1, or RPB_ERR_INVALID_ARGUMENT when either core is not
 * three u64 numbers (then a floor never blocks).
 */
RPB_API int rpb_version_compare(rpb_slice a, rpb_slice b, int *cmp);

/* ---- refusals (spec/hello.md §9) ---- */

typedef enum rpb_refusal {
    RPB_REFUSAL_NONE = 0,          /* negotiated */
    RPB_REFUSAL_FRAMING_VERSION,   /* VERSION_UNSUPPORTED "unsupported framing version" */
    RPB_REFUSAL_FRAME_TOO_LARGE,   /* PEER_REJECTED "initial Hello frame exceeds 64 KiB" */
    RPB_REFUSAL_INCOMPLETE_FRAME,  /* PEER_REJECTED "incomplete Hello frame" */
    RPB_REFUSAL_MALFORMED_FRAME,   /* PEER_REJECTED "malformed broker Frame" */
    RPB_REFUSAL_DEADLINE,          /* PEER_REJECTED "Hello handshake deadline exceeded" (strict) */
    RPB_REFUSAL_FD_PRESSURE,       /* FD_PRESSURE, retry 1000 */
    RPB_REFUSAL_SHUTTING_DOWN,     /* SHUTTING_DOWN, retry 1000 (strict) */
    RPB_REFUSAL_ENVELOPE_VERSION,  /* VERSION_UNSUPPORTED "frame envelope_version is not v1" */
    RPB_REFUSAL_ENVELOPE_KIND,     /* PEER_REJECTED "Hello frame kind must be REQUEST" */
    RPB_REFUSAL_ENVELOPE_PROTOCOL, /* PEER_REJECTED "Hello frame payload_protocol must be control-plane" */
    RPB_REFUSAL_ENVELOPE_ENCODING, /* PEER_REJECTED "Hello payload must not be compressed" */
    RPB_REFUSAL_MALFORMED_HELLO,   /* PEER_REJECTED "malformed Hello payload" */
    RPB_REFUSAL_PROTOCOL_RANGE,    /* VERSION_UNSUPPORTED */
    RPB_REFUSAL_SERVICE_NAME,      /* PEER_REJECTED "invalid service_name" */
    RPB_REFUSAL_WANTED_VERSION,    /* PEER_REJECTED "invalid wanted_version" */
    RPB_REFUSAL_CLIENT_VERSION,    /* PEER_REJECTED "client_version exceeds 128 bytes" */
    RPB_REFUSAL_CLIENT_LIB,        /* PEER_REJECTED "client_lib fields exceed 64 bytes" */
    RPB_REFUSAL_PEER_PID,          /* PEER_REJECTED "peer_pid does not match verified peer" */
    RPB_REFUSAL_RATE_LIMITED,      /* RATE_LIMITED, retry = rest of the window */
    RPB_REFUSAL_SERVICE_UNKNOWN,   /* SERVICE_UNKNOWN "service is not registered" */
    RPB_REFUSAL_BELOW_MIN_VERSION, /* VERSION_BLOCKED, retry 30000 */
    RPB_REFUSAL_NOT_ALLOWED,       /* VERSION_BLOCKED, retry 30000 */
    RPB_REFUSAL_SPAWN_FAILED,      /* BACKEND_SPAWN_FAILED "backend spawn failed", retry 1000 (LAUNCH-006) */
    RPB_REFUSAL_SPAWN_BUDGET,      /* RATE_LIMITED "backend spawn budget exhausted", retry = rest of window */
    RPB_REFUSAL_COUNT
} rpb_refusal;

/* The exact reason string (upstream's), the ErrorCode, a stable short name
 * for logs ("service-unknown") and the spec ID of refusal r; NULL / 0 for
 * RPB_REFUSAL_NONE or out-of-range values. */
RPB_API const char *rpb_refusal_reason(rpb_refusal r);
RPB_API int32_t rpb_refusal_code(rpb_refusal r);
RPB_API const char *rpb_refusal_name(rpb_refusal r);
RPB_API const char *rpb_refusal_requirement(rpb_refusal r);

/* The refusal a framing-level read error stands for:
 * RPB_ERR_FRAMING_VERSION, RPB_ERR_FRAME_TOO_LARGE, RPB_ERR_UNEXPECTED_EOF
 * (and RPB_ERR_IO: also "incomplete"), RPB_ERR_TIMEOUT (deadline); any other
 * code maps to RPB_REFUSAL_MALFORMED_FRAME. */
RPB_API rpb_refusal rpb_refusal_for_read_error(int code);

/* The refusal of a Hello whose envelope check (rpb_envelope_check at
 * RPB_SITE_HELLO) returned code, an RPB_ERR_ENVELOPE_* (HELLO-008):
 * version, kind, payload protocol; any other code maps to the encoding
 * refusal, the last check. */
RPB_API rpb_refusal rpb_refusal_for_envelope_error(int code);

/* ---- the service table ---- */

/* One registered service.  In a table every slice points into memory the
 * table owns. */
typedef struct rpb_service {
    rpb_slice name;            /* [a-z0-9-]{1,64} */
    rpb_slice backend_pipe;    /* Negotiated.backend_pipe; empty only for a launched service */
    rpb_slice daemon_version;  /* Negotiated.daemon_version; empty: echo wanted_version */
    rpb_slice min_version;     /* empty: no floor */
    rpb_strlist allow_list;    /* empty: every version allowed */
    uint64_t server_capabilities;
    /* A launched service (spec/discovery.md §3): backend_pipe empty and
     * binary_path set; the broker starts binary_path with launch_args. */
    rpb_slice binary_path;            /* absolute, or empty */
    rpb_slice per_version_binary_dir; /* absolute, or empty */
    rpb_strlist launch_args;          /* argv[1..] of the launched child */
    /* The backend's handoff endpoint (spec/handoff.md HANDOFF-020): an
     * absolute Unix socket path, or empty (no handoff for this service). */
    rpb_slice handoff_socket;
} rpb_service;

/* An owning set of services.  Not thread-safe while it is built; once
 * handed to a handler it is only read, and threads may read it together. */
typedef struct rpb_service_table rpb_service_table;

/* A new empty table, or NULL when out of memory. */
RPB_API rpb_service_table *rpb_service_table_new(void);
RPB_API void rpb_service_table_free(rpb_service_table *table);

/*
 * Checks svc and adds a copy of it.  Returns RPB_OK, RPB_ERR_NO_MEMORY, or
 * RPB_ERR_INVALID_ARGUMENT with err->message (err may be NULL) saying why:
 * invalid name, duplicate name, empty (without binary_path) or over-long
 * backend_pipe, over-long daemon_version, invalid min_version or allow-list
 * entry, relative binary_path or per_version_binary_dir, handoff_socket
 * not an absolute path that fits a Unix socket address.
 */
RPB_API int rpb_service_table_add(rpb_service_table *table, const rpb_service *svc, rpb_errinfo *err);

/* The service called name, or NULL. */
RPB_API const rpb_service *rpb_service_table_find(const rpb_service_table *table, rpb_slice name);
RPB_API size_t rpb_service_table_count(const rpb_service_table *table);
/* Services in insertion order, i < count. */
RPB_API const rpb_service *rpb_service_table_at(const rpb_service_table *table, size_t i);

/* ---- service definition files (spec/hello.md "Service definitions") ---- */

/* Label keys of a prost ServiceDefinition that carry what the proto has no
 * field for. */
#define RPB_LABEL_BACKEND_PIPE "rpb.backend_pipe"
#define RPB_LABEL_DAEMON_VERSION "rpb.daemon_version"
#define RPB_LABEL_SERVER_CAPABILITIES "rpb.server_capabilities"
#define RPB_LABEL_HANDOFF_SOCKET "rpb.handoff_socket"

/*
 * Reads a prost-encoded ServiceDefinition (a `<stem>.servicedef` file) into
 * svc, whose slices then point into in and whose list nodes come from arena
 * (rpb_arena_bound(len) bytes suffice).  stem is the file name without its
 * extension: service_name must equal it.
 *
 * Returns RPB_OK, a decode error of rpb_decode() (err as the decoder
 * fills it, with a message), or RPB_ERR_INVALID_ARGUMENT with err->message
 * saying why (name mismatch, missing rpb.backend_pipe label without a
 * binary_path (a launched service, spec/discovery.md §3), bad
 * rpb.server_capabilities, relative binary_path or per_version_binary_dir,
 * bad isolation).
 */
RPB_API int rpb_servicedef_parse_proto(const uint8_t *in, size_t len, rpb_slice stem, rpb_arena *arena,
                               rpb_service *svc, rpb_errinfo *err);

/*
 * Reads the text form (a `<stem>.service` file): UTF-8 lines `key = value`,
 * `#` starts a comment line, blank lines ignored, surrounding blanks
 * trimmed; the value is taken literally (quotes are part of it, no
 * escapes).  Keys: service_name (optional, must equal stem), backend_pipe
 * (required unless binary_path is given), daemon_version, min_version,
 * allow (repeatable, one version each), server_capabilities (decimal or 0x
 * hex), binary_path, per_version_binary_dir and arg (repeatable, one
 * argument each) for a launched service, handoff_socket.  svc's slices
 * point into text; allow and arg nodes come from arena.
 *
 * Returns RPB_OK, RPB_ERR_SCRATCH_EXHAUSTED, or RPB_ERR_INVALID_ARGUMENT;
 * err->message says why (an unknown key is named; a file without
 * backend_pipe or binary_path gives "backend_pipe is required"), err->line and
 * err->offset give the line at fault and its first byte (line 0 when the
 * problem is not about one line).
 */
RPB_API int rpb_servicedef_parse_text(const char *text, size_t len, rpb_slice stem, rpb_arena *arena,
                              rpb_service *svc, rpb_errinfo *err);

/*
 * Writes svc as a prost ServiceDefinition (service_name, binary_path,
 * isolation SHARED, per_version_binary_dir, min_version,
 * version_allow_list and the rpb.* labels; launch_args have no field and
 * are not written) into out[0..cap).
 * arena provides the label nodes (256 bytes suffice).  Returns RPB_OK,
 * RPB_ERR_BUFFER_TOO_SMALL or RPB_ERR_SCRATCH_EXHAUSTED.
 */
RPB_API int rpb_servicedef_encode_proto(const rpb_service *svc, rpb_arena *arena, uint8_t *out, size_t cap,
                                size_t *written);

/* ---- the per-pid rate limiter (HELLO-020) ---- */

/* Fixed window per verified pid: at most max Hellos in window_ms; pid 0 is
 * exempt.  Entries whose window has passed are reclaimed, so memory is
 * bounded by the pids active within one window (SEC-008).  Opaque: its
 * table layout is private.  Not thread-safe: one limiter per thread, or the
 * caller serialises every call on it. */
typedef struct rpb_rate_limiter rpb_rate_limiter;

/* A limiter allowing max Hellos per pid and window_ms (max 0 disables it;
 * window_ms 0 is taken as 1), or NULL when out of memory. */
RPB_API rpb_rate_limiter *rpb_rate_limiter_new(uint32_t max, uint32_t window_ms);
/* Frees rl; NULL is a no-op. */
RPB_API void rpb_rate_limiter_free(rpb_rate_limiter *rl);

/* The verdict of rpb_rate_check: its own enum, not an rpb_status, so a
 * refusal is never mistaken for (or printed as) a library status. */
typedef enum rpb_rate_verdict {
    RPB_RATE_ALLOWED = 0, /* allowed and counted */
    RPB_RATE_REFUSED,     /* budget used up; nothing counted */
    RPB_RATE_UNTRACKED,   /* a new pid cannot be tracked (out of memory); callers refuse */
} rpb_rate_verdict;

/* Counts one Hello of pid at now_ms (any monotonic milliseconds).  On
 * RPB_RATE_REFUSED and RPB_RATE_UNTRACKED *retry_ms is the time to wait:
 * max(1, rest of the window), or the whole window when untracked. */
RPB_API rpb_rate_verdict rpb_rate_check(rpb_rate_limiter *rl, uint32_t pid, int64_t now_ms,
                                        uint64_t *retry_ms);

/* The settings rl was created with (window_ms after the 0 -> 1 rule). */
RPB_API void rpb_rate_settings(const rpb_rate_limiter *rl, uint32_t *max, uint32_t *window_ms);

/* Memory use: the pids currently tracked and the slots allocated for them
 * (each slot is 16 bytes). */
RPB_API void rpb_rate_usage(const rpb_rate_limiter *rl, size_t *pids, size_t *slots);

/* ---- the Hello handler ---- */

/* The OS-verified peer of a connection (SO_PEERCRED); pid 0 = unknown. */
typedef struct rpb_peer {
    uint32_t pid;
    uint32_t uid;
} rpb_peer;

/* Fills n random bytes; returns 0 on success. */
typedef int (*rpb_random_fn)(void *ctx, uint8_t *out, size_t n);

/* Issues the handoff token of a Negotiated for service svc into token
 * (HELLO-034); returns 0 when it did, non-zero when no handoff can happen
 * for svc now (HELLO-035: no handoff endpoint, attempts paused,
 * HANDOFF-013 limit, random source failure): then the Negotiated carries
 * no token and no bit for it. */
typedef int (*rpb_hello_token_fn)(void *ctx, const rpb_service *svc,
                                  uint8_t token[RPB_HANDOFF_TOKEN_BYTES]);

typedef struct rpb_hello_config {
    uint32_t rate_max;       /* per verified pid and window; 0 disables */
    uint32_t rate_window_ms;
    /* Set only when the broker can hand connections off (HELLO-034): then
     * it is asked for the token of a client that sets CAP_HANDLE_PASSING.
     * NULL: no tokens, and the capability bit is not added. */
    rpb_hello_token_fn token_source;
    void *token_ctx;
} rpb_hello_config;

/* rate 256 per 1000 ms, no handoff. */
RPB_API void rpb_hello_config_default(rpb_hello_config *cfg);

/* The Hello handler: services, rate limiter, counters.  Not thread-safe:
 * rpb_hello_decide() and the setters change it, so one thread (the broker's
 * event loop) uses it, or the caller serialises every call.  The const
 * getters may run concurrently only when nothing changes the handler. */
typedef struct rpb_hello_handler rpb_hello_handler;

/* Broker state flags that refuse Hellos before the envelope is checked. */
#define RPB_HELLO_FD_PRESSURE 0x1u /* SEC-011 */
#define RPB_HELLO_DRAINING 0x2u    /* SEC-012 */

/* Counters for admin STATUS/METRICS: Hellos answered Negotiated, and
 * refused (in total and per refusal).  A Hello decided Negotiated for a
 * launched service (backend_pipe empty, spec/discovery.md §3) is not
 * counted by rpb_hello_decide(): its launch may still fail, and the broker
 * counts the answer it sends with rpb_hello_handler_count(). */
typedef struct rpb_hello_stats {
    uint64_t negotiated;
    uint64_t refused;
    uint64_t refused_by[RPB_REFUSAL_COUNT];
} rpb_hello_stats;

/* A new handler with an empty service table, or NULL (out of memory). */
RPB_API rpb_hello_handler *rpb_hello_handler_new(const rpb_hello_config *cfg);
/* Frees h and its service table; NULL is a no-op. */
RPB_API void rpb_hello_handler_free(rpb_hello_handler *h);

/* Replaces the service table (the handler takes ownership of table and
 * frees the previous one). */
RPB_API void rpb_hello_handler_set_services(rpb_hello_handler *h, rpb_service_table *table);
RPB_API const rpb_service_table *rpb_hello_handler_services(const rpb_hello_handler *h);

RPB_API void rpb_hello_handler_set_flags(rpb_hello_handler *h, unsigned flags);
RPB_API unsigned rpb_hello_handler_flags(const rpb_hello_handler *h);
RPB_API const rpb_hello_stats *rpb_hello_handler_stats(const rpb_hello_handler *h);
/* Counts the answer the broker sends to a Hello that rpb_hello_decide()
 * decided Negotiated for a launched service: Negotiated (r
 * RPB_REFUSAL_NONE) or refused r (a failed launch, the budget).  Returns
 * the connection_id of that Negotiated, the next of the handler's counter
 * (HELLO-036: rpb_hello_decide() leaves a launched service's
 * connection_id 0, so a refused launch consumes no id), or 0 for a
 * refusal. */
RPB_API uint64_t rpb_hello_handler_count(rpb_hello_handler *h, rpb_refusal r);
/* The rate limiter's settings (for CONFIG); max 0 = off. */
RPB_API void rpb_hello_handler_rate(const rpb_hello_handler *h, uint32_t *max, uint32_t *window_ms);

/* The decision about one Hello.  Slices point into the request, the
 * handler's service table or the decision itself. */
typedef struct rpb_hello_decision {
    rpb_refusal refusal;         /* RPB_REFUSAL_NONE: negotiated */
    uint64_t retry_after_ms;
    bool hello_decoded;          /* hello below is valid */
    rpb_hello hello;
    const rpb_service *service;  /* when negotiated */
    uint64_t connection_id;      /* when negotiated */
    uint64_t keepalive_secs;
    uint64_t server_capabilities;
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    size_t token_len;            /* 0 or RPB_HANDOFF_TOKEN_BYTES */
} rpb_hello_decision;

/*
 * Decides about the Hello carried by request, a Frame decoded from a frame
 * read with the Hello cap (FRAME-004), from the verified peer at now_ms
 * (any monotonic milliseconds).  Order (HELLO-007): broker state (fd
 * pressure, drain) -> envelope (ENV-005) -> Hello decode -> shape checks
 * (a)..(f) -> rate limit -> service lookup -> version policy -> Negotiated.
 * Always fills *d; never fails.
 */
RPB_API void rpb_hello_decide(rpb_hello_handler *h, const rpb_frame *request, const rpb_peer *peer,
                      int64_t now_ms, rpb_hello_decision *d);

/* The framed size rpb_hello_reply_encode() needs at most for request
 * (NULL: a reply that echoes nothing). */
RPB_API size_t rpb_hello_reply_bound(const rpb_frame *request);

/*
 * Writes the framed HelloReply for d (or, with d->refusal set, a Refused)
 * answering request (NULL when the request Frame did not decode: request_id
 * 0 and empty trace, HELLO-051).  The reply frame is v1, RESPONSE,
 * payload_protocol 0, encoding NONE, deadline 0, echoing request_id,
 * traceparent and tracestate (HELLO-050).  Returns RPB_OK or
 * RPB_ERR_BUFFER_TOO_SMALL.
 */
RPB_API int rpb_hello_reply_encode(const rpb_hello_decision *d, const rpb_frame *request, uint8_t *out,
                           size_t cap, size_t *written);

/* Shorthand: a Refused reply for refusal r (retry_after_ms retry); also
 * RPB_ERR_INVALID_ARGUMENT when r is not a refusal. */
RPB_API int rpb_hello_refusal_encode(rpb_refusal r, uint64_t retry_after_ms, const rpb_frame *request,
                             uint8_t *out, size_t cap, size_t *written);

#ifdef __cplusplus
}
#endif
#endif
