/*
 * Hello field grammars, version comparison and the refusal table
 * (spec/hello.md HELLO-011, HELLO-012, HELLO-022, HELLO-040).
 */
#include "rpb/hello.h"

#include <string.h>

#include "rpb/error.h"

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static bool is_lower(uint8_t c) { return c >= 'a' && c <= 'z'; }

/* HELLO-011: 1..64 bytes, each of a-z, 0-9, '-'; no placement rules. */
bool rpb_service_name_valid(rpb_slice name)
{
    if (name.len == 0 || name.len > RPB_SERVICE_NAME_MAX)
        return false;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = name.data[i];
        if (!is_lower(c) && !is_digit(c) && c != '-')
            return false;
    }
    return true;
}

/* Scans the MAJOR.MINOR.PATCH core at the start of v: three non-empty digit
 * runs joined by '.'.  Returns the offset just after it, or 0 when v does
 * not start with one.  The three numbers go to nums; *fits says whether
 * every one fits a u64. */
static size_t scan_core(rpb_slice v, uint64_t nums[3], bool *fits)
{
    size_t i = 0;
    *fits = true;
    for (int p = 0; p < 3; p++) {
        if (p > 0) {
            if (i >= v.len || v.data[i] != '.')
                return 0;
            i++;
        }
        size_t start = i;
        uint64_t n = 0;
        for (; i < v.len && is_digit(v.data[i]); i++) {
            unsigned d = (unsigned)(v.data[i] - '0');
            if (n > (UINT64_MAX - d) / 10)
                *fits = false;
            n = n * 10 + d;
        }
        if (i == start)
            return 0;
        nums[p] = n;
    }
    return i;
}

/* HELLO-012: split at the first '-'; the core is exactly three non-empty
 * digit runs joined by '.' (numbers of any size), the tail (when a '-' is
 * present) is non-empty [a-z0-9.] (empty dot segments allowed, upstream
 * parity). */
bool rpb_version_valid(rpb_slice v)
{
    uint64_t nums[3];
    bool fits;
    size_t i = scan_core(v, nums, &fits);
    if (i == 0)
        return false;
    if (i == v.len)
        return true;
    if (v.data[i] != '-' || i + 1 == v.len)
        return false;
    for (i++; i < v.len; i++) {
        uint8_t c = v.data[i];
        if (!is_lower(c) && !is_digit(c) && c != '.')
            return false;
    }
    return true;
}

/* The MAJOR.MINOR.PATCH core (up to the first '-') as three u64; false on
 * anything else, an overflowing number included (then no comparison,
 * HELLO-022). */
static bool version_core(rpb_slice v, uint64_t out[3])
{
    bool fits;
    size_t i = scan_core(v, out, &fits);
    return i > 0 && fits && (i == v.len || v.data[i] == '-');
}

/* HELLO-022: numeric comparison of the cores; the prerelease is ignored. */
int rpb_version_compare(rpb_slice a, rpb_slice b, int *cmp)
{
    uint64_t x[3], y[3];
    if (!version_core(a, x) || !version_core(b, y))
        return RPB_ERR_INVALID_ARGUMENT;
    *cmp = 0;
    for (int i = 0; i < 3 && *cmp == 0; i++)
        if (x[i] != y[i])
            *cmp = x[i] < y[i] ? -1 : 1;
    return RPB_OK;
}

/* ---- refusals (HELLO-040: exact upstream reasons) ---- */

typedef struct refusal_row {
    const char *name;
    int32_t code;
    const char *reason;
    const char *requirement;
} refusal_row;

static const refusal_row refusal_rows[RPB_REFUSAL_COUNT] = {
    [RPB_REFUSAL_FRAMING_VERSION] = {"framing-version", RPB_CODE_VERSION_UNSUPPORTED,
                                     "unsupported framing version", "HELLO-002"},
    [RPB_REFUSAL_FRAME_TOO_LARGE] = {"frame-too-large", RPB_CODE_PEER_REJECTED,
                                     "initial Hello frame exceeds 64 KiB", "HELLO-003"},
    [RPB_REFUSAL_INCOMPLETE_FRAME] = {"incomplete-frame", RPB_CODE_PEER_REJECTED,
                                      "incomplete Hello frame", "HELLO-005"},
    [RPB_REFUSAL_MALFORMED_FRAME] = {"malformed-frame", RPB_CODE_PEER_REJECTED,
                                     "malformed broker Frame", "HELLO-006"},
    [RPB_REFUSAL_DEADLINE] = {"deadline", RPB_CODE_PEER_REJECTED,
                              "Hello handshake deadline exceeded", "SEC-006"},
    [RPB_REFUSAL_FD_PRESSURE] = {"fd-pressure", RPB_CODE_FD_PRESSURE,
                                 "broker is low on file descriptors; retry shortly", "SEC-011"},
    [RPB_REFUSAL_SHUTTING_DOWN] = {"shutting-down", RPB_CODE_SHUTTING_DOWN,
                                   "broker is shutting down", "SEC-012"},
    [RPB_REFUSAL_ENVELOPE_VERSION] = {"envelope-version", RPB_CODE_VERSION_UNSUPPORTED,
                                      "frame envelope_version is not v1", "HELLO-008"},
    [RPB_REFUSAL_ENVELOPE_KIND] = {"envelope-kind", RPB_CODE_PEER_REJECTED,
                                   "Hello frame kind must be REQUEST", "HELLO-008"},
    [RPB_REFUSAL_ENVELOPE_PROTOCOL] = {"envelope-payload-protocol", RPB_CODE_PEER_REJECTED,
                                       "Hello frame payload_protocol must be control-plane",
                                       "HELLO-008"},
    [RPB_REFUSAL_ENVELOPE_ENCODING] = {"envelope-payload-encoding", RPB_CODE_PEER_REJECTED,
                                       "Hello payload must not be compressed", "HELLO-008"},
    [RPB_REFUSAL_MALFORMED_HELLO] = {"malformed-hello", RPB_CODE_PEER_REJECTED,
                                     "malformed Hello payload", "HELLO-009"},
    [RPB_REFUSAL_PROTOCOL_RANGE] = {"protocol-range", RPB_CODE_VERSION_UNSUPPORTED,
                                    "client protocol range does not include v1", "HELLO-010"},
    [RPB_REFUSAL_SERVICE_NAME] = {"service-name", RPB_CODE_PEER_REJECTED,
                                  "invalid service_name", "HELLO-011"},
    [RPB_REFUSAL_WANTED_VERSION] = {"wanted-version", RPB_CODE_PEER_REJECTED,
                                    "invalid wanted_version", "HELLO-012"},
    [RPB_REFUSAL_CLIENT_VERSION] = {"client-version", RPB_CODE_PEER_REJECTED,
                                    "client_version exceeds 128 bytes", "HELLO-013"},
    [RPB_REFUSAL_CLIENT_LIB] = {"client-lib", RPB_CODE_PEER_REJECTED,
                                "client_lib fields exceed 64 bytes", "HELLO-014"},
    [RPB_REFUSAL_PEER_PID] = {"peer-pid", RPB_CODE_PEER_REJECTED,
                              "peer_pid does not match verified peer", "HELLO-015"},
    [RPB_REFUSAL_RATE_LIMITED] = {"rate-limited", RPB_CODE_RATE_LIMITED,
                                  "Hello rate limit exceeded", "HELLO-020"},
    [RPB_REFUSAL_SERVICE_UNKNOWN] = {"service-unknown", RPB_CODE_SERVICE_UNKNOWN,
                                     "service is not registered", "HELLO-021"},
    [RPB_REFUSAL_BELOW_MIN_VERSION] = {"below-min-version", RPB_CODE_VERSION_BLOCKED,
                                       "wanted_version is below min_version", "HELLO-022"},
    [RPB_REFUSAL_NOT_ALLOWED] = {"not-allowed", RPB_CODE_VERSION_BLOCKED,
                                 "wanted_version is not in version_allow_list", "HELLO-023"},
    [RPB_REFUSAL_SPAWN_FAILED] = {"spawn-failed", RPB_CODE_BACKEND_SPAWN_FAILED,
                                  "backend spawn failed", "LAUNCH-006"},
    [RPB_REFUSAL_SPAWN_BUDGET] = {"spawn-budget", RPB_CODE_RATE_LIMITED,
                                  "backend spawn budget exhausted", "LAUNCH-006"},
};

static const refusal_row *row(rpb_refusal r)
{
    if ((int)r <= RPB_REFUSAL_NONE || r >= RPB_REFUSAL_COUNT)
        return NULL;
    return &refusal_rows[r];
}

const char *rpb_refusal_reason(rpb_refusal r) { return row(r) ? row(r)->reason : NULL; }
const char *rpb_refusal_name(rpb_refusal r) { return row(r) ? row(r)->name : NULL; }
const char *rpb_refusal_requirement(rpb_refusal r) { return row(r) ? row(r)->requirement : NULL; }

int32_t rpb_refusal_code(rpb_refusal r)
{
    if (!row(r))
        return 0;
    return row(r)->code;
}

rpb_refusal rpb_refusal_for_read_error(int code)
{
    switch (code) {
    case RPB_ERR_FRAMING_VERSION:
        return RPB_REFUSAL_FRAMING_VERSION;
    case RPB_ERR_FRAME_TOO_LARGE:
        return RPB_REFUSAL_FRAME_TOO_LARGE;
    case RPB_ERR_UNEXPECTED_EOF:
    case RPB_ERR_IO:
        return RPB_REFUSAL_INCOMPLETE_FRAME;
    case RPB_ERR_TIMEOUT:
        return RPB_REFUSAL_DEADLINE;
    default:
        return RPB_REFUSAL_MALFORMED_FRAME;
    }
}

rpb_refusal rpb_refusal_for_envelope_error(int code)
{
    /* HELLO-008: each failed envelope check has its own refusal */
    switch (code) {
    case RPB_ERR_ENVELOPE_VERSION:
        return RPB_REFUSAL_ENVELOPE_VERSION;
    case RPB_ERR_ENVELOPE_KIND:
        return RPB_REFUSAL_ENVELOPE_KIND;
    case RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL:
        return RPB_REFUSAL_ENVELOPE_PROTOCOL;
    default:
        return RPB_REFUSAL_ENVELOPE_ENCODING;
    }
}
