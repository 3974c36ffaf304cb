/*
 * rpb/error.h - the one error taxonomy of librpb.
 *
 * Every librpb function that can fail returns an int: RPB_OK (0) on success,
 * RPB_NEED_MORE (1) where an incremental parser needs more input, or one of
 * the negative RPB_ERR_* codes below.  Each code has a stable class name
 * (rpb_errname(), used in vectors, JSON output and conformance reports), a
 * sentence (rpb_strerror()) and the spec requirement it enforces
 * (rpb_err_requirement()).
 *
 * The numeric values are part of the ABI: new codes are appended inside
 * their band, never renumbered.  Results that are not library statuses
 * (a rate-limit verdict, a Hello refusal, a wire ErrorCode RPB_CODE_*) have
 * enums of their own and are never returned as an int status.
 *
 * Output sizes: every function that writes into a caller's buffer out[0..cap)
 * and reports the size through size_t *written follows one rule.  On RPB_OK
 * *written is the number of bytes written.  On RPB_ERR_BUFFER_TOO_SMALL
 * *written is the number of bytes the complete output needs (call again
 * with at least that cap) and the contents of out are unspecified.  On any
 * other error *written is unspecified unless the function says otherwise.
 *
 * Threads: librpb's one global mutable state is the allocator that
 * rpb_mem_set() installs (rpb/mem.h: set it before other threads use
 * librpb).  Every other function may be called from any thread; an
 * object (handler, limiter, writer, table, doc, buffer) must not be used
 * by two threads at once unless its header says so.  Functions taking only
 * const pointers may run concurrently on the same object.
 */
#ifndef RPB_ERROR_H
#define RPB_ERROR_H

#include "rpb/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rpb_status {
    RPB_OK = 0,
    RPB_NEED_MORE = 1,

    /* -100 band: framing (spec/wire.md FRAME-*) */
    RPB_ERR_FRAMING_VERSION = -100, /* first byte is not 0x01 */
    RPB_ERR_FRAME_TOO_LARGE = -101, /* header claims more than the cap */
    RPB_ERR_UNEXPECTED_EOF = -102,  /* stream ended inside a frame */

    /* -200 band: protobuf body decoding (spec/wire.md WIRE-*) */
    RPB_ERR_INVALID_VARINT = -200,     /* truncated, >10 bytes, or 10th byte > 1 */
    RPB_ERR_INVALID_KEY = -201,        /* key varint above 2^32-1 */
    RPB_ERR_INVALID_TAG = -202,        /* field number 0 */
    RPB_ERR_INVALID_WIRE_TYPE = -203,  /* wire type 6 or 7 */
    RPB_ERR_WIRE_TYPE_MISMATCH = -204, /* known field sent with another wire type */
    RPB_ERR_BUFFER_UNDERFLOW = -205,   /* length or fixed width runs past the end */
    RPB_ERR_DELIMITED_OVERRUN = -206,  /* nested field crosses its parent's end */
    RPB_ERR_INVALID_UTF8 = -207,       /* string field is not strict UTF-8 */
    RPB_ERR_GROUP_MISMATCH = -208,     /* end-group without its start, or wrong number */
    RPB_ERR_RECURSION_LIMIT = -209,    /* nesting deeper than the budget of 100 */

    /* -300 band: envelope validation (spec/envelope.md ENV-*) */
    RPB_ERR_ENVELOPE_VERSION = -300,
    RPB_ERR_ENVELOPE_KIND = -301,
    RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL = -302,
    RPB_ERR_ENVELOPE_PAYLOAD_ENCODING = -303,
    RPB_ERR_ENVELOPE_REQUEST_ID = -304, /* sites that correlate request_id */

    /* -400 band: transport (impl/src/io) */
    RPB_ERR_IO = -400,      /* errno holds the cause */
    RPB_ERR_TIMEOUT = -401, /* the deadline passed */

    /* -500 band: identity probe and backend mux (spec/probe.md PROBE-*, MUX-*) */
    RPB_ERR_PROBE_NONCE_LENGTH = -500,        /* probe request payload is not 32 bytes */
    RPB_ERR_PROBE_ENDPOINT_MISMATCH = -501,   /* endpoint is not the expected identity's */
    RPB_ERR_PROBE_PAYLOAD_SHORT = -502,       /* response payload shorter than the nonce */
    RPB_ERR_PROBE_NONCE_MISMATCH = -503,      /* response does not echo the nonce */
    RPB_ERR_IDENTITY_MISSING_ENDPOINT = -504, /* DaemonProcess has no ipc_endpoint */
    RPB_ERR_IDENTITY_SHA256_LENGTH = -505,    /* exe_sha256 is not 32 bytes */
    RPB_ERR_IDENTITY_MISMATCH = -506,         /* identity differs from the expected one */
    RPB_ERR_PROBE_CONNECT = -507,             /* endpoint could not be connected (errno kept) */
    RPB_ERR_MUX_FIRST_PARTY = -508,           /* first-party protocol sent to a backend */
    RPB_ERR_MUX_UNSERVED = -509,              /* protocol the backend does not serve */

    /* -600 band: process verification (spec/probe.md IDENT-010..IDENT-018) */
    RPB_ERR_VERIFY_INVALID_PID = -600,
    RPB_ERR_VERIFY_BOOT_ID = -601,
    RPB_ERR_VERIFY_NOT_FOUND = -602,
    RPB_ERR_VERIFY_PROCESS_EXITED = -603,
    RPB_ERR_VERIFY_EXE_PATH = -604,
    RPB_ERR_VERIFY_EXE_PATH_MISMATCH = -605,
    RPB_ERR_VERIFY_EXE_HASH = -606,
    RPB_ERR_VERIFY_SHA256_MISMATCH = -607,

    /* -700 band: identity sidecar file (spec/probe.md IDENT-030..IDENT-034) */
    RPB_ERR_SIDECAR_MISSING = -700,
    RPB_ERR_SIDECAR_MALFORMED = -701,
    RPB_ERR_SIDECAR_UNSAFE = -702,
    RPB_ERR_SIDECAR_TOO_LARGE = -703,

    /* -800 band: canonical names and the rendezvous (spec/discovery.md) */
    RPB_ERR_NAME_INVALID = -800,  /* service/instance/suffix outside its grammar (NAME-002) */
    RPB_ERR_NAME_TOO_LONG = -801, /* derived path does not fit sun_path (NAME-005) */
    RPB_ERR_NO_MACHINE_ID = -802, /* no machine id to derive the user hash from (NAME-003) */
    RPB_ERR_UNSAFE_PATH = -803,   /* rendezvous directory or lock file not safely ours (RDV-002/003) */
    RPB_ERR_SQUATTED = -804,      /* something else holds the broker socket path (RDV-005) */
    RPB_ERR_START_FAILED = -805,  /* the broker could not be started or exited first (RDV-007) */
    RPB_ERR_LAUNCH_OUTSIDE_DIR = -806, /* backend binary outside per_version_binary_dir (LAUNCH-001) */
    RPB_ERR_LAUNCH_BINARY = -807, /* binary_path or per_version_binary_dir unresolvable (LAUNCH-001) */

    /* -1000 band: connection handoff (spec/handoff.md HANDOFF-*) */
    RPB_ERR_HANDOFF_TOKEN_MISSING = -1000,     /* offer token is empty */
    RPB_ERR_HANDOFF_TOKEN_LENGTH = -1001,      /* token is not 16 bytes */
    RPB_ERR_HANDOFF_TOKEN_MISMATCH = -1002,    /* token differs from the expected one */
    RPB_ERR_HANDOFF_TOKEN_EXPIRED = -1003,     /* token TTL passed */
    RPB_ERR_HANDOFF_TOKEN_NOT_PENDING = -1004, /* token not pending (used, revoked, unknown) */
    RPB_ERR_HANDOFF_PENDING_LIMIT = -1005,     /* max_pending_tokens tokens pending */
    RPB_ERR_HANDOFF_COLLISION = -1006,         /* every draw collided with a pending token */
    RPB_ERR_HANDOFF_CORRELATION = -1007,       /* correlation id differs */
    RPB_ERR_HANDOFF_REFUSED = -1008,           /* HandoffAck accepted is false */
    RPB_ERR_HANDOFF_ACK_DEADLINE = -1009,      /* ACK at or after its deadline */
    RPB_ERR_HANDOFF_CTRUNC = -1010,            /* recvmsg control data truncated */
    RPB_ERR_HANDOFF_FD_COUNT = -1011,          /* recvmsg brought no fd or more than one */

    /* -900 band: caller errors and resources */
    RPB_ERR_INVALID_ARGUMENT = -900,
    RPB_ERR_BUFFER_TOO_SMALL = -901, /* caller's output buffer cannot hold the result */
    RPB_ERR_NO_MEMORY = -902,
    RPB_ERR_SCRATCH_EXHAUSTED = -903, /* caller's rpb_arena is full */
};

/*
 * Where and why an operation failed: the one error-detail struct of librpb
 * (decoders, framing, the fd reader, the JSON parser and mapping, the
 * service-definition readers and the service table).  A function taking
 * rpb_errinfo *err accepts NULL; otherwise it fills every field when it
 * fails:
 *   code     the status it returns;
 *   offset   bytes from the start of the input it was given (the buffer,
 *            from the framing byte for framed input; the JSON text; the
 *            definition file);
 *   field    the protobuf field number being decoded, 0 outside a field;
 *   line     the 1-based line of a text input, 0 when not about one line;
 *   message  a sentence with the specifics (the unknown key, the JSON member
 *            at fault), "" when rpb_strerror(code) says it all.
 * Decoders also fill it on success: code RPB_OK, offset = bytes consumed.
 */
#define RPB_ERRINFO_MESSAGE_BYTES 512 /* a sentence naming two socket paths (the rendezvous) */
typedef struct rpb_errinfo {
    int code;
    size_t offset;
    unsigned field;
    unsigned line;
    char message[RPB_ERRINFO_MESSAGE_BYTES];
} rpb_errinfo;

/* Fills err (when not NULL) with code and offset, field and line 0 and an
 * empty message; returns code.  The one way librpb's functions report
 * where they stopped. */
RPB_API int rpb_errinfo_set(rpb_errinfo *err, int code, size_t offset);

/* A sentence describing code, never NULL ("unknown error" for unknown codes). */
RPB_API const char *rpb_strerror(int code);

/* The stable class name of code, e.g. "invalid-utf8"; NULL for unknown codes
 * and "ok" / "need-more" for the two non-error statuses. */
RPB_API const char *rpb_errname(int code);

/* The status whose class name (rpb_errname()) is name: RPB_OK with *code
 * set, or RPB_ERR_INVALID_ARGUMENT when no status has that name. */
RPB_API int rpb_err_from_name(const char *name, int *code);

/* The spec requirement ID that code enforces (e.g. "WIRE-012"), or NULL. */
RPB_API const char *rpb_err_requirement(int code);

#ifdef __cplusplus
}
#endif
#endif
