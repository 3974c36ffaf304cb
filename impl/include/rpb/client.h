/*
 * rpb/client.h - the client side of the Hello handshake (spec/hello.md
 * HELLO-060..HELLO-069): a Hello builder with defaults, the request
 * encoder, the reply classifier (I/O-free), a blocking one-shot exchange
 * over a Unix socket, and the whole client exchange ending on the
 * backend's socket.
 */
#ifndef RPB_CLIENT_H
#define RPB_CLIENT_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/frame.h"
#include "rpb/ident.h"
#include "rpb/io.h"
#include "rpb/messages.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_CLIENT_LIB_NAME "rpb"

/*
 * Fills hello with the defaults (HELLO-060): protocol range 1..1,
 * service_name and wanted_version as given, client_version "",
 * capabilities 0 (rpb clients do not adopt handed-off connections),
 * request_id "hello", peer_pid as given (the caller's getpid(); 0 =
 * unknown), client_lib_name "rpb", client_lib_version RPB_VERSION_STRING,
 * keepalive 0 (the broker answers 1800).  Slices point at the given
 * NUL-terminated strings and at static strings.
 */
RPB_API void rpb_hello_init(rpb_hello *hello, const char *service_name, const char *wanted_version,
                    uint32_t peer_pid);

/*
 * Writes hello framed as a v1 REQUEST on payload_protocol 0 with
 * Frame.request_id request_id into out[0..cap).  Returns RPB_OK,
 * RPB_ERR_BUFFER_TOO_SMALL, or RPB_ERR_FRAME_TOO_LARGE when the body would
 * exceed the 64 KiB Hello cap (a broker would refuse it).
 */
RPB_API int rpb_hello_request_encode(const rpb_hello *hello, uint64_t request_id, uint8_t *out, size_t cap,
                             size_t *written);

/* What a reply means to a client (HELLO-062): upstream's RefusalKind. */
typedef enum rpb_hello_result_kind {
    RPB_HELLO_RESULT_NEGOTIATED = 0,
    RPB_HELLO_RESULT_VERSION_UNSUPPORTED, /* ERROR_VERSION_UNSUPPORTED */
    RPB_HELLO_RESULT_SERVICE_UNKNOWN,     /* ERROR_SERVICE_UNKNOWN */
    RPB_HELLO_RESULT_VERSION_BLOCKED,     /* ERROR_VERSION_BLOCKED */
    RPB_HELLO_RESULT_RATE_LIMITED,        /* ERROR_RATE_LIMITED */
    RPB_HELLO_RESULT_SHUTTING_DOWN,       /* ERROR_SHUTTING_DOWN */
    RPB_HELLO_RESULT_OTHER,               /* any other code, unknown ones included */
} rpb_hello_result_kind;

typedef struct rpb_hello_result {
    rpb_hello_result_kind kind;
    int32_t code;            /* Refused.code (0 when negotiated) */
    uint64_t retry_after_ms; /* Refused.retry_after_ms: when to try again (0: do not) */
    rpb_frame frame;         /* the decoded reply frame */
    rpb_hello_reply reply;   /* the decoded HelloReply */
} rpb_hello_result;

/* "negotiated", "version-unsupported", "service-unknown", "version-blocked",
 * "rate-limited", "shutting-down", "refused"; NULL when out of range. */
RPB_API const char *rpb_hello_result_name(rpb_hello_result_kind kind);

/*
 * Classifies a reply frame body (HELLO-061): Frame decode, the hello-reply
 * envelope (v1, RESPONSE, payload_protocol 0, encoding NONE), HelloReply
 * decode (warnings and details nodes from arena: rpb_arena_bound(len)
 * bytes suffice), then the oneof.  Slices in res point into body.
 *
 * Returns RPB_OK, a decode error, an RPB_ERR_ENVELOPE_* code, or
 * RPB_ERR_INVALID_ARGUMENT when the HelloReply has no result (neither
 * negotiated nor refused) or is a Negotiated with an empty backend_pipe
 * (HELLO-064).  The response request_id is not checked (HELLO-067: a
 * broker answers some requests with request_id 0); compare
 * res->frame.request_id yourself to log a mismatch.
 *
 * After RPB_HELLO_RESULT_NEGOTIATED the caller closes the broker
 * connection and connects to res->reply.negotiated.backend_pipe
 * (rpb_hello_connect_backend(), HELLO-065); rpb_client_hello() does it all.
 */
RPB_API int rpb_hello_reply_classify(const uint8_t *body, size_t len, rpb_arena *arena,
                             rpb_hello_result *res);

/* ---- blocking socket helpers ---- */

/*
 * Connects to the Unix stream socket at path, bounded by deadline_ms on the
 * rpb_monotonic_ms() clock (RPB_NO_DEADLINE waits): a listener whose
 * backlog is full is waited for in a blocking connect until it accepts
 * (PROBE-033), never with sleeps.
 * Returns the fd (blocking, close-on-exec) or a negative RPB_ERR_*:
 * RPB_ERR_INVALID_ARGUMENT (path too long), RPB_ERR_TIMEOUT or RPB_ERR_IO
 * (errno kept: ENOENT, ECONNREFUSED, ...).
 */
RPB_API int rpb_client_connect(const char *path, int64_t deadline_ms);

/*
 * One request/reply exchange on a fresh connection to path: connect, write
 * request[0..len) (already framed), read one reply frame (16 MiB cap) into
 * reply, close.  Returns RPB_OK or the first error of rpb_client_connect(),
 * a write (RPB_ERR_IO, RPB_ERR_TIMEOUT) or rpb_read_frame().
 */
RPB_API int rpb_client_exchange(const char *path, const uint8_t *request, size_t len, int64_t deadline_ms,
                        rpb_buf *reply, rpb_errinfo *err);

/* The same exchange on an fd already connected (e.g. by
 * rpb_rendezvous_connect()); fd stays open. */
RPB_API int rpb_client_exchange_fd(int fd, const uint8_t *request, size_t len, int64_t deadline_ms,
                                   rpb_buf *reply, rpb_errinfo *err);

/*
 * After a Negotiated (res from rpb_hello_reply_classify()), connects to
 * res->reply.negotiated.backend_pipe as the filesystem path of a Unix
 * stream socket, byte for byte (HELLO-065; never the abstract namespace).
 * Returns the fd as rpb_client_connect() does, or RPB_ERR_INVALID_ARGUMENT
 * without connecting when res is no Negotiated or backend_pipe is empty
 * (HELLO-064), holds a NUL byte, or does not fit sun_path.
 */
RPB_API int rpb_hello_connect_backend(const rpb_hello_result *res, int64_t deadline_ms);

/* What rpb_client_hello() got.  res's slices point into body and nodes. */
typedef struct rpb_hello_outcome {
    rpb_buf body;         /* the reply frame body */
    rpb_buf nodes;        /* the arena of res's warnings and details */
    bool replied;         /* a reply was read and classified: res is valid */
    rpb_hello_result res; /* the classified reply */
    int backend_fd;       /* Negotiated: the connection to backend_pipe; else -1 */
} rpb_hello_outcome;

/*
 * The client exchange of spec/hello.md §6 for a client that does not adopt
 * handed-off connections: encodes hello framed with request_id (HELLO-068),
 * exchanges it with the broker at broker_path under deadline_ms
 * (HELLO-063), closes the broker connection, classifies the reply
 * (HELLO-061, HELLO-064, HELLO-066, HELLO-067) and, on a Negotiated,
 * connects to backend_pipe with rpb_hello_connect_backend() (HELLO-065).
 *
 * Returns RPB_OK with out->replied set: on a Negotiated out->backend_fd is
 * the backend connection (the service's own protocol runs on it); on a
 * Refused out->backend_fd is -1 and out->res carries the code and
 * retry_after_ms.  The call sends exactly one Hello: retrying a refusal,
 * no sooner than retry_after_ms and never after a retry_after_ms of 0, is
 * the caller's decision (HELLO-069).
 *
 * Errors: RPB_ERR_FRAME_TOO_LARGE (hello over the 64 KiB cap), the errors
 * of rpb_client_exchange() and rpb_hello_reply_classify() with
 * out->replied false; with out->replied true (a Negotiated was received)
 * the error of rpb_hello_connect_backend().  Release out with
 * rpb_hello_outcome_free() whatever the result (it closes backend_fd).
 */
RPB_API int rpb_client_hello(const char *broker_path, const rpb_hello *hello, uint64_t request_id,
                             int64_t deadline_ms, rpb_hello_outcome *out, rpb_errinfo *err);

RPB_API void rpb_hello_outcome_free(rpb_hello_outcome *out);

/* ---- the backend connection, adopted or reconnected (spec/handoff.md §6) ---- */

/* How rpb_connect_backend() reached the backend. */
typedef enum rpb_backend_route {
    RPB_ROUTE_NONE = 0,  /* refused: no backend connection */
    RPB_ROUTE_RECONNECT, /* connected to Negotiated.backend_pipe */
    RPB_ROUTE_HANDOFF,   /* adopted the broker connection (HANDOFF-051) */
} rpb_backend_route;

/* "none", "reconnect", "handoff"; NULL when out of range. */
RPB_API const char *rpb_backend_route_name(rpb_backend_route route);

#define RPB_CONNECT_ADOPT 0x1u /* advertise CAP_HANDLE_PASSING and adopt a handoff */

typedef struct rpb_connect_options {
    unsigned flags;       /* RPB_CONNECT_ADOPT */
    int ready_timeout_ms; /* the wait for the handoff-ready frame; <= 0: 2000 (HANDOFF-050) */
    int64_t deadline_ms;  /* the whole call: the Hello exchange, the wait for the
                           * handoff-ready frame (which ends at the earlier of the two
                           * deadlines) and the backend_pipe connect (rpb_monotonic_ms()
                           * clock; RPB_NO_DEADLINE waits) */
} rpb_connect_options;

/* What rpb_connect_backend() got.  result's slices point into reply. */
typedef struct rpb_backend_conn {
    int fd;                  /* the backend connection (the caller's to close), or -1 */
    rpb_backend_route route;
    int handoff_status;      /* RPB_OK, or why an agreed handoff was not adopted (for logs) */
    bool replied;            /* a reply was read and classified: result is valid */
    rpb_hello_result result; /* the classified HelloReply: Negotiated, or code and retry */
    rpb_buf reply;           /* the HelloReply frame body */
    rpb_buf scratch;         /* arena memory of result */
} rpb_backend_conn;

/*
 * A client's whole route to the backend of one service (hello.md §6,
 * handoff.md §6) over broker_fd, a fresh connection to the broker's
 * control socket, which this call owns and closes unless it becomes the
 * backend connection.  Writes hello (CAP_HANDLE_PASSING added with
 * RPB_CONNECT_ADOPT, HELLO-060) with request_id 1, reads and classifies
 * the reply (rpb_hello_reply_classify).  Then:
 *   - a refusal: RPB_OK, route NONE, fd -1; result holds the code and
 *     retry_after_ms (HELLO-062);
 *   - a Negotiated with an agreed handoff (HANDOFF-001) and
 *     RPB_CONNECT_ADOPT: waits for the handoff-ready frame until
 *     opt->ready_timeout_ms passed or opt->deadline_ms, whichever comes
 *     first, and checks it (HANDOFF-050, HANDOFF-051); when it passes, fd
 *     is the broker connection, now the backend's, route HANDOFF;
 *   - otherwise, and after any failure of that wait (HANDOFF-052, silent:
 *     handoff_status keeps the class), closes the broker connection and
 *     connects to backend_pipe: route RECONNECT (HELLO-064, HELLO-065).
 * Returns RPB_OK or the failure of the Hello exchange
 * (RPB_ERR_FRAME_TOO_LARGE for a hello over the 64 KiB cap, HELLO-068; a
 * write's RPB_ERR_IO / RPB_ERR_TIMEOUT, a rpb_read_frame() or
 * rpb_hello_reply_classify() class, RPB_ERR_NO_MEMORY) or of the
 * backend_pipe connect (out->replied true; rpb_client_connect()'s:
 * RPB_ERR_IO with errno, RPB_ERR_TIMEOUT, RPB_ERR_INVALID_ARGUMENT for a
 * path that does not fit sun_path); RPB_ERR_INVALID_ARGUMENT for a NULL hello, opt or out or a
 * negative broker_fd; never a handoff failure.  err (may be NULL) gets
 * the code.  Release out with rpb_backend_conn_free() whatever the
 * result.
 */
RPB_API int rpb_connect_backend_fd(int broker_fd, const rpb_hello *hello,
                                   const rpb_connect_options *opt, rpb_backend_conn *out,
                                   rpb_errinfo *err);

/* rpb_connect_backend_fd() on a new connection to the broker socket at
 * broker_path (rpb_client_connect() within opt->deadline_ms; its
 * failures are returned). */
RPB_API int rpb_connect_backend(const char *broker_path, const rpb_hello *hello,
                                const rpb_connect_options *opt, rpb_backend_conn *out,
                                rpb_errinfo *err);

/* Frees out's buffers; the fd is not closed. */
RPB_API void rpb_backend_conn_free(rpb_backend_conn *out);

/* ---- the identity probe over a socket (spec/probe.md) ---- */

#define RPB_PROBE_VERIFY 0x1u /* also verify the process (IDENT-010..IDENT-018) */

/* What rpb_probe_endpoint() got.  reply's slices point into body. */
typedef struct rpb_probe_outcome {
    rpb_buf body;          /* the response frame body */
    rpb_probe_reply reply; /* frame, identity, and the mismatching field */
    rpb_process process;   /* RPB_PROBE_VERIFY: the verified process (pidfd) */
} rpb_probe_outcome;

/*
 * Probes the backend at endpoint->path (PROBE-001..PROBE-034): draws a
 * nonce (getrandom), connects, writes the request and reads one response
 * under one deadline of timeout_ms (<= 0: RPB_PROBE_DEFAULT_TIMEOUT_MS),
 * waiting with poll, and validates the response.
 *
 * With expected: the endpoint must equal expected's (PROBE-020), with
 * RPB_PROBE_VERIFY expected is verified against the system before any I/O
 * (PROBE-021), and the response identity must match it (PROBE-028).
 * Without expected (NULL): any well-formed identity is accepted, and with
 * RPB_PROBE_VERIFY the received identity is verified after the exchange.
 *
 * Returns RPB_OK or the class of the first failure:
 * RPB_ERR_INVALID_ARGUMENT (empty path or one holding NUL),
 * RPB_ERR_PROBE_ENDPOINT_MISMATCH, an RPB_ERR_VERIFY_* code,
 * RPB_ERR_PROBE_CONNECT (errno kept), RPB_ERR_TIMEOUT, RPB_ERR_IO (errno
 * kept: nonce, EPIPE, ECONNRESET), RPB_ERR_UNEXPECTED_EOF (at once,
 * PROBE-032), a framing or decode class, or a rpb_probe_response_check()
 * class.  Release out with rpb_probe_outcome_free() whatever the result.
 */
RPB_API int rpb_probe_endpoint(const rpb_endpoint *endpoint, const rpb_daemon_process *expected,
                               int timeout_ms, unsigned flags, rpb_probe_outcome *out,
                               rpb_errinfo *err);

RPB_API void rpb_probe_outcome_free(rpb_probe_outcome *out);

#ifdef __cplusplus
}
#endif
#endif
