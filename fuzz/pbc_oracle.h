/*
 * fuzz/pbc_oracle.h - protobuf-c (generated from proto/ at build time, see
 * tools/pbc/) as an independent second decoder for differential oracles.
 *
 * protobuf-c is more lenient than prost/librpb in known ways (no UTF-8
 * check, no recursion limit, bool wire type unchecked), so only
 * "librpb accepts => protobuf-c accepts" may be asserted, and only for
 * inputs outside the places where protobuf-c is stricter or merges
 * differently (pbc_wire_facts).
 */
#ifndef RPB_FUZZ_PBC_ORACLE_H
#define RPB_FUZZ_PBC_ORACLE_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "rpb/rpb.h"

/*
 * The protobuf-c descriptor of the message desc describes (matched by full
 * name).  On first use checks that librpb's descriptors and proto/ agree
 * field by field (number, name, type, repeated-ness; WIRE-018) for every
 * message in rpb_all_messages, and aborts with the difference if not.
 */
const ProtobufCMessageDescriptor *pbc_descriptor(const rpb_msg_desc *desc);

/* What an input that librpb accepted contains that protobuf-c handles
 * differently from prost. */
typedef struct pbc_wire_facts {
    bool group;            /* a group (wire type 3/4): protobuf-c rejects every group */
    bool long_varint;      /* a key or length prefix in more than 5 bytes: protobuf-c rejects */
    bool repeated_message; /* a message field (or oneof arm) seen twice in one message:
                              prost merges field by field, protobuf-c merges with
                              "default means unset" and replaces a oneof arm */
} pbc_wire_facts;

/* Scans in[0..len), which librpb decoded as desc without error, for the
 * facts above (recursing into known message fields and map entries). */
void pbc_scan(const rpb_msg_desc *desc, const uint8_t *in, size_t len, pbc_wire_facts *facts);

/*
 * Compares librpb's decoded rmsg with protobuf-c's pmsg of the same type.
 * protobuf-c strings stop at the first NUL, so a string with an embedded
 * NUL is compared up to it and *saw_nul is set.  Returns NULL when they
 * agree, else the name of the first field that differs.
 */
const char *pbc_diff(const rpb_msg_desc *desc, const void *rmsg, const ProtobufCMessage *pmsg,
                     bool *saw_nul);

#endif
