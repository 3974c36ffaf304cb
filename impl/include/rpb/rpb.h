/*
 * rpb/rpb.h - umbrella header of librpb, the C reference implementation of
 * the running-process broker v1 protocol.
 *
 * error.h    the one error taxonomy (rpb_strerror, rpb_errname)
 * codec.h    descriptor-driven prost-parity decoder, canonical encoder
 * messages.h the v1 messages as C structs, their descriptors and enums
 * frame.h    framing, Frame envelope, per-site validation, registry
 * io.h       frames over file descriptors (capped, deadline-bound)
 * json.h     JSON parser/writer and the message <-> JSON mapping
 * hello.h    Hello grammars, service table, rate limiter, pure handler
 * admin.h    admin verbs (payload protocol 0xAD01)
 * control.h  one broker connection, I/O-free
 * client.h   Hello builder and reply classifier, client socket helpers,
 *            rpb_probe_endpoint()
 * probe.h    identity probe builders and validators, backend mux (I/O-free)
 * ident.h    process and host identities, process verification, sidecar
 * blake3.h   the BLAKE3 hash (canonical names)
 * names.h    canonical socket names (user hash, directory, leaves)
 */
#ifndef RPB_RPB_H
#define RPB_RPB_H

#include "rpb/error.h"
#include "rpb/codec.h"
#include "rpb/messages.h"
#include "rpb/frame.h"
#include "rpb/io.h"
#include "rpb/json.h"
#include "rpb/hello.h"
#include "rpb/admin.h"
#include "rpb/control.h"
#include "rpb/client.h"
#include "rpb/probe.h"
#include "rpb/ident.h"
#include "rpb/blake3.h"
#include "rpb/names.h"

#define RPB_VERSION_STRING "0.1.0"

#endif
