/*
 * rpb_fault.h - test-only fault injection for rpb-broker-faulty.
 *
 * Compiled only with -DRPB_FAULT_INJECTION (the rpb-broker-faulty target
 * rebuilds the Hello, admin and control modules of librpb with it).  The
 * broker reads RPB_BROKER_FAULT=<name> once at start-up; each fault breaks
 * exactly one behaviour so that the conformance harness can prove the case
 * named for it catches it (conformance/mutants/FAULTS.md).
 */
#ifndef RPB_FAULT_H
#define RPB_FAULT_H

#include <stdbool.h>

#define RPB_FAULT_LIST(X)                                                                  \
    X(FRAMING_VERSION_WRONG_CODE, "framing-version-wrong-code")                            \
    X(HELLO_CAP_OFF_BY_ONE, "hello-cap-off-by-one")                                        \
    X(HELLO_CAP_READS_BODY, "hello-cap-reads-body")                                        \
    X(ENVELOPE_VERSION_IGNORED, "envelope-version-ignored")                                \
    X(ENVELOPE_KIND_IGNORED, "envelope-kind-ignored")                                      \
    X(ENVELOPE_PROTOCOL_IGNORED, "envelope-protocol-ignored")                              \
    X(ENVELOPE_ENCODING_IGNORED, "envelope-encoding-ignored")                              \
    X(NO_REQUEST_ID_ECHO, "no-request-id-echo")                                            \
    X(NO_TRACE_ECHO, "no-trace-echo")                                                      \
    X(SERVICE_NAME_UPPERCASE, "service-name-uppercase")                                    \
    X(SERVICE_NAME_CAP_65, "service-name-cap-65")                                          \
    X(VERSION_BUILD_METADATA, "version-build-metadata")                                    \
    X(CLIENT_VERSION_CAP_OFF_BY_ONE, "client-version-cap-off-by-one")                      \
    X(PROTOCOL_RANGE_IGNORED, "protocol-range-ignored")                                    \
    X(PEER_PID_UNCHECKED, "peer-pid-unchecked")                                            \
    X(UNKNOWN_SERVICE_WRONG_CODE, "unknown-service-wrong-code")                            \
    X(MIN_VERSION_LEXICAL, "min-version-lexical")                                          \
    X(ALLOW_LIST_IGNORED, "allow-list-ignored")                                            \
    X(VERSION_BLOCKED_NO_RETRY, "version-blocked-no-retry")                                \
    X(REFUSED_DAEMON_RANGE_ZERO, "refused-daemon-range-zero")                              \
    X(KEEPALIVE_NOT_ECHOED, "keepalive-not-echoed")                                        \
    X(CONNECTION_ID_REUSED, "connection-id-reused")                                        \
    X(RATE_LIMIT_OFF, "rate-limit-off")                                                    \
    X(RATE_LIMIT_COUNTS_REFUSED, "rate-limit-counts-refused")                              \
    X(SECOND_HELLO_SERVED, "second-hello-served")                                          \
    X(FOREIGN_UID_ANSWERED, "foreign-uid-answered")                                        \
    X(DIES_ON_EARLY_HANGUP, "dies-on-early-hangup")                                        \
    X(ADMIN_BAD_ENVELOPE_EXIT, "admin-bad-envelope-exit")                                  \
    X(NO_HANDSHAKE_DEADLINE, "no-handshake-deadline")                                      \
    X(SERIAL_ACCEPT, "serial-accept")                                                      \
    X(ADMIN_HEALTHZ_WRONG, "admin-healthz-wrong")                                          \
    X(UNKNOWN_FIELD_REJECTED, "unknown-field-rejected")                                    \
    X(FIRST_OCCURRENCE_WINS, "first-occurrence-wins")                                      \
    X(UTF8_LAX, "utf8-lax")

enum rpb_fault {
    RPB_FAULT_NONE = 0,
#define RPB_FAULT_ENUM(id, name) RPB_FAULT_##id,
    RPB_FAULT_LIST(RPB_FAULT_ENUM)
#undef RPB_FAULT_ENUM
    RPB_FAULT_COUNT
};

/* Reads RPB_BROKER_FAULT.  Returns 0 (unset, or a known name) or -1 (an
 * unknown name: the broker must exit 2). */
int rpb_fault_init(void);

/* True when fault f is the active one. */
bool rpb_fault_is(enum rpb_fault f);

/* The active fault's name, or NULL. */
const char *rpb_fault_active_name(void);

/* Writes every fault name, one per line, to stdout. */
void rpb_fault_list(void);

#endif
