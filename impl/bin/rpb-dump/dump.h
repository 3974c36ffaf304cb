/*
 * dump.h - internals of rpb-dump: the payload table, decoding to JSON and
 * encoding from JSON.
 */
#ifndef RPB_DUMP_H
#define RPB_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rpb/rpb.h"
#include "rpb/json.h"

/* Exit codes (documented in --help). */
#define DUMP_EXIT_OK 0
#define DUMP_EXIT_DECODE 1 /* input did not decode / encode */
#define DUMP_EXIT_USAGE 2  /* bad command line or unreadable input */

/* What Frame.payload holds for a (payload_protocol, kind) pair. */
typedef enum payload_kind {
    PAYLOAD_UNKNOWN,        /* not decoded */
    PAYLOAD_MESSAGE,        /* a protobuf message of type desc */
    PAYLOAD_PROBE_REQUEST,  /* 0xB232 REQUEST: exactly 32 nonce bytes */
    PAYLOAD_PROBE_RESPONSE, /* 0xB232 RESPONSE: 32 nonce bytes, then a DaemonProcess */
} payload_kind;

typedef struct payload_type {
    payload_kind kind;
    const rpb_msg_desc *desc; /* PAYLOAD_MESSAGE only */
    const char *name;         /* "payload_message" value; NULL when unknown */
} payload_type;

#define PROBE_NONCE_BYTES 32u

/* The payload carried by a frame with payload_protocol pp and kind (ENV-008). */
payload_type payload_type_for(uint32_t pp, int32_t kind);

/* The payload type called name (a message short name, "probe-request" or
 * "probe-response"); false when there is none. */
bool payload_type_by_name(const char *name, size_t len, payload_type *out);

/* How to read the input. */
typedef enum dump_mode {
    MODE_FRAMED,  /* 5-byte header + Frame body */
    MODE_BODY,    /* a bare Frame body */
    MODE_MESSAGE, /* a bare message of type dump_options.message */
} dump_mode;

typedef struct dump_options {
    dump_mode mode;
    const rpb_msg_desc *message; /* MODE_MESSAGE */
    uint32_t cap;                /* MODE_FRAMED */
    bool check_envelope;
    rpb_site site;
    uint64_t request_id;
    unsigned decode_options; /* RPB_DECODE_* */
    unsigned json_flags;     /* RPB_JSON_PRETTY */
    bool hex_output;         /* encode: print hex instead of raw bytes */
} dump_options;

/* Decodes in[0..len) and prints the JSON document to out; returns an exit
 * code. */
int dump_decode(const dump_options *opt, const uint8_t *in, size_t len, FILE *out);

/* Decodes body, the Frame body of the input (after its 5-byte header in
 * MODE_FRAMED, the whole input in MODE_BODY), and prints the JSON document
 * to out; returns an exit code. */
int dump_frame_body(const dump_options *opt, rpb_slice body, FILE *out);

/* Prints {"error": CLASS, "requirement": ID, "offset": N} and returns
 * DUMP_EXIT_DECODE. */
int dump_print_error(const dump_options *opt, FILE *out, int code, size_t offset);

/* Encodes the JSON text[0..len) and writes the bytes to out; returns an
 * exit code (errors are reported on stderr). */
int dump_encode(const dump_options *opt, const char *text, size_t len, FILE *out);

#endif
