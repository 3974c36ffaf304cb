/*
 * error.c - names, sentences and requirement IDs of the rpb_status codes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errinfo.h"
#include "rpb/error.h"

typedef struct error_entry {
    int code;
    const char *name;
    const char *requirement;
    const char *text;
} error_entry;

static const error_entry error_table[] = {
    {RPB_OK, "ok", NULL, "success"},
    {RPB_NEED_MORE, "need-more", "FRAME-009", "more input is needed to decide"},
    {RPB_ERR_FRAMING_VERSION, "framing-version", "FRAME-001", "unsupported framing version byte"},
    {RPB_ERR_FRAME_TOO_LARGE, "frame-too-large", "FRAME-003", "frame body length exceeds the cap"},
    {RPB_ERR_UNEXPECTED_EOF, "unexpected-eof", "FRAME-007", "stream ended inside a frame"},
    {RPB_ERR_INVALID_VARINT, "invalid-varint", "WIRE-005", "invalid varint"},
    {RPB_ERR_INVALID_KEY, "invalid-key", "WIRE-002", "field key above 2^32-1"},
    {RPB_ERR_INVALID_TAG, "invalid-tag", "WIRE-003", "field number 0"},
    {RPB_ERR_INVALID_WIRE_TYPE, "invalid-wire-type", "WIRE-004", "wire type 6 or 7"},
    {RPB_ERR_WIRE_TYPE_MISMATCH, "wire-type-mismatch", "WIRE-008",
     "known field sent with the wrong wire type"},
    {RPB_ERR_BUFFER_UNDERFLOW, "buffer-underflow", "WIRE-010",
     "length or fixed-width value runs past the end of the input"},
    {RPB_ERR_DELIMITED_OVERRUN, "delimited-overrun", "WIRE-011",
     "nested field runs past the end of its enclosing message"},
    {RPB_ERR_INVALID_UTF8, "invalid-utf8", "WIRE-012", "string field is not valid UTF-8"},
    {RPB_ERR_GROUP_MISMATCH, "group-mismatch", "WIRE-015",
     "end-group tag without a matching start-group"},
    {RPB_ERR_RECURSION_LIMIT, "recursion-limit", "WIRE-016", "recursion limit of 100 reached"},
    {RPB_ERR_ENVELOPE_VERSION, "envelope-version", "ENV-001", "frame envelope_version is not v1"},
    {RPB_ERR_ENVELOPE_KIND, "envelope-kind", "ENV-002", "frame kind is not the expected kind"},
    {RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL, "envelope-payload-protocol", "ENV-003",
     "frame payload_protocol is not the expected protocol"},
    {RPB_ERR_ENVELOPE_PAYLOAD_ENCODING, "envelope-payload-encoding", "ENV-004",
     "frame payload is compressed"},
    {RPB_ERR_ENVELOPE_REQUEST_ID, "envelope-request-id", "ENV-009",
     "frame request_id does not match the request"},
    {RPB_ERR_IO, "io", NULL, "I/O error (see errno)"},
    {RPB_ERR_TIMEOUT, "timeout", "FRAME-010", "deadline passed"},
    {RPB_ERR_PROBE_NONCE_LENGTH, "probe-nonce-length", "PROBE-010",
     "probe request payload is not a 32-byte nonce"},
    {RPB_ERR_PROBE_ENDPOINT_MISMATCH, "probe-endpoint-mismatch", "PROBE-020",
     "endpoint does not match the expected daemon identity"},
    {RPB_ERR_PROBE_PAYLOAD_SHORT, "probe-payload-short", "PROBE-024",
     "probe response payload is shorter than the nonce"},
    {RPB_ERR_PROBE_NONCE_MISMATCH, "probe-nonce-mismatch", "PROBE-025",
     "probe response does not echo the request nonce"},
    {RPB_ERR_IDENTITY_MISSING_ENDPOINT, "identity-missing-endpoint", "PROBE-027",
     "daemon process is missing ipc_endpoint"},
    {RPB_ERR_IDENTITY_SHA256_LENGTH, "identity-sha256-length", "PROBE-027",
     "daemon process exe_sha256 is not 32 bytes"},
    {RPB_ERR_IDENTITY_MISMATCH, "identity-mismatch", "PROBE-028",
     "probe response identity does not match the expected daemon identity"},
    {RPB_ERR_PROBE_CONNECT, "probe-connect", "PROBE-033", "could not connect to the endpoint"},
    {RPB_ERR_MUX_FIRST_PARTY, "mux-first-party", "MUX-003",
     "first-party payload protocol sent to a backend"},
    {RPB_ERR_MUX_UNSERVED, "mux-unserved", "MUX-004",
     "payload protocol not served by this backend"},
    {RPB_ERR_VERIFY_INVALID_PID, "verify-invalid-pid", "IDENT-010", "invalid daemon pid"},
    {RPB_ERR_VERIFY_BOOT_ID, "verify-boot-id", "IDENT-011", "daemon boot id mismatch"},
    {RPB_ERR_VERIFY_NOT_FOUND, "verify-not-found", "IDENT-012", "process not found"},
    {RPB_ERR_VERIFY_PROCESS_EXITED, "verify-process-exited", "IDENT-013",
     "process exited during verification"},
    {RPB_ERR_VERIFY_EXE_PATH, "verify-exe-path", "IDENT-014",
     "failed to resolve the process's executable path"},
    {RPB_ERR_VERIFY_EXE_PATH_MISMATCH, "verify-exe-path-mismatch", "IDENT-015",
     "daemon executable path mismatch"},
    {RPB_ERR_VERIFY_EXE_HASH, "verify-exe-hash", "IDENT-016", "failed to hash the executable"},
    {RPB_ERR_VERIFY_SHA256_MISMATCH, "verify-sha256-mismatch", "IDENT-016",
     "daemon executable sha256 mismatch"},
    {RPB_ERR_SIDECAR_MISSING, "sidecar-missing", "IDENT-031", "identity sidecar file does not exist"},
    {RPB_ERR_SIDECAR_MALFORMED, "sidecar-malformed", "IDENT-031",
     "identity sidecar is not a valid daemon identity"},
    {RPB_ERR_SIDECAR_UNSAFE, "sidecar-unsafe", "IDENT-034",
     "identity sidecar is a symbolic link or not a regular file"},
    {RPB_ERR_SIDECAR_TOO_LARGE, "sidecar-too-large", "IDENT-034",
     "identity sidecar exceeds 64 KiB"},
    {RPB_ERR_NAME_INVALID, "name-invalid", "NAME-002",
     "service, instance or backend suffix outside the [a-z0-9-]{1,64} / 32-hex grammar"},
    {RPB_ERR_NAME_TOO_LONG, "name-too-long", "NAME-005",
     "canonical socket path is 108 bytes or longer (sun_path)"},
    {RPB_ERR_NO_MACHINE_ID, "no-machine-id", "NAME-003",
     "no machine id in /etc/machine-id or /var/lib/dbus/machine-id"},
    {RPB_ERR_UNSAFE_PATH, "unsafe-path", "RDV-002",
     "broker directory or lock file is a symlink, not ours, or open to group/others"},
    {RPB_ERR_SQUATTED, "squatted", "RDV-005",
     "the broker socket path is held by something other than this user's broker"},
    {RPB_ERR_START_FAILED, "start-failed", "RDV-007",
     "the broker could not be started, or exited before it answered"},
    {RPB_ERR_LAUNCH_OUTSIDE_DIR, "launch-outside-dir", "LAUNCH-001",
     "the backend binary does not lie inside its per_version_binary_dir"},
    {RPB_ERR_LAUNCH_BINARY, "launch-binary", "LAUNCH-001",
     "the backend binary or its per_version_binary_dir cannot be resolved"},
    {RPB_ERR_HANDOFF_TOKEN_MISSING, "handoff-token-missing", "HANDOFF-043",
     "handoff token is missing"},
    {RPB_ERR_HANDOFF_TOKEN_LENGTH, "handoff-token-length", "HANDOFF-041",
     "handoff token is not 16 bytes"},
    {RPB_ERR_HANDOFF_TOKEN_MISMATCH, "handoff-token-mismatch", "HANDOFF-014",
     "handoff token mismatch"},
    {RPB_ERR_HANDOFF_TOKEN_EXPIRED, "handoff-token-expired", "HANDOFF-012",
     "handoff token expired"},
    {RPB_ERR_HANDOFF_TOKEN_NOT_PENDING, "handoff-token-not-pending", "HANDOFF-011",
     "handoff token is not pending"},
    {RPB_ERR_HANDOFF_PENDING_LIMIT, "handoff-pending-limit", "HANDOFF-013",
     "handoff token pending limit reached"},
    {RPB_ERR_HANDOFF_COLLISION, "handoff-collision", "HANDOFF-010",
     "handoff token allocation exhausted its collision attempts"},
    {RPB_ERR_HANDOFF_CORRELATION, "handoff-correlation", "HANDOFF-030",
     "handoff correlation id does not match"},
    {RPB_ERR_HANDOFF_REFUSED, "handoff-refused", "HANDOFF-030", "backend refused the handoff"},
    {RPB_ERR_HANDOFF_ACK_DEADLINE, "handoff-ack-deadline", "HANDOFF-015",
     "backend HandoffAck arrived after the ACK deadline"},
    {RPB_ERR_HANDOFF_CTRUNC, "handoff-ctrunc", "HANDOFF-041",
     "handoff control message truncated (MSG_CTRUNC)"},
    {RPB_ERR_HANDOFF_FD_COUNT, "handoff-fd-count", "HANDOFF-041",
     "handoff message did not carry exactly one descriptor"},
    {RPB_ERR_INVALID_ARGUMENT, "invalid-argument", NULL, "invalid argument"},
    {RPB_ERR_BUFFER_TOO_SMALL, "buffer-too-small", NULL, "output buffer too small"},
    {RPB_ERR_NO_MEMORY, "no-memory", NULL, "out of memory"},
    {RPB_ERR_SCRATCH_EXHAUSTED, "scratch-exhausted", NULL, "decode scratch arena exhausted"},
};

#define ERROR_TABLE_LEN (sizeof error_table / sizeof error_table[0])

static const error_entry *find_code(int code)
{
    for (size_t i = 0; i < ERROR_TABLE_LEN; i++)
        if (error_table[i].code == code)
            return &error_table[i];
    return NULL;
}

int rpb_errinfo_set(rpb_errinfo *err, int code, size_t offset)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        err->field = 0;
        err->line = 0;
        err->message[0] = '\0';
    }
    return code;
}

int rpb_errinfo_printf(rpb_errinfo *err, int code, size_t offset, unsigned line, const char *fmt,
                       ...)
{
    if (err != NULL) {
        rpb_errinfo_set(err, code, offset);
        err->line = line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *rpb_strerror(int code)
{
    const error_entry *e = find_code(code);
    return e ? e->text : "unknown error";
}

const char *rpb_errname(int code)
{
    const error_entry *e = find_code(code);
    return e ? e->name : NULL;
}

const char *rpb_err_requirement(int code)
{
    const error_entry *e = find_code(code);
    return e ? e->requirement : NULL;
}

int rpb_err_from_name(const char *name, int *code)
{
    for (size_t i = 0; i < ERROR_TABLE_LEN; i++) {
        if (strcmp(error_table[i].name, name) == 0) {
            *code = error_table[i].code;
            return RPB_OK;
        }
    }
    return RPB_ERR_INVALID_ARGUMENT;
}
