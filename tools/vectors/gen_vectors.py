#!/usr/bin/python3
"""Generate the golden byte vectors in vectors/*.json.

Run with /usr/bin/python3 (it needs google.protobuf and protoc):

    tools/vectors/gen_vectors.py            regenerate vectors/*.json
    tools/vectors/gen_vectors.py --check    regenerate into a temp dir and
                                            diff byte for byte (exit 1 on
                                            any difference)
    tools/vectors/gen_vectors.py --out DIR  write into DIR instead

Independence from librpb: valid encodings come from Google's protobuf
(SerializeToString(deterministic=True)) built from field values; expected
values come from parsing with Google's protobuf and the JSON mapping below;
invalid inputs are built by hand with the error class assigned by the rules
of spec/wire.md section 5 (prost 0.14 parity) and spec/envelope.md.  The
few places where Google's runtime is not prost (map entries, a map field's
wire type, the recursion boundary) are built by hand and flagged
GoogleDiffers.  Framing and envelope results are re-derived by small models
of the rules in this file (split(), envelope_check()) as a self-check.
"""

import argparse
import difflib
import filecmp
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_DIR = os.path.join(ROOT, "proto")
VECTOR_DIR = os.path.join(ROOT, "vectors")
PROTO_FILES = ["broker_v1_envelope.proto", "broker_v1_manifest.proto",
               "broker_v1_service.proto", "broker_v1_admin.proto"]
SCHEMA_FILE = "schema.json"
GENERATOR = "tools/vectors/gen_vectors.py"

MAX_FRAME = 16777216
MAX_HELLO = 65536


def spec_requirements():
    """The requirement IDs vectors may cite: those defined by the requirement
    headers (`**FRAME-001** · MUST · core`, spec/README.md) of spec/wire.md,
    spec/envelope.md, spec/probe.md and spec/handoff.md."""
    ids = set()
    for doc in ("wire.md", "envelope.md", "probe.md", "handoff.md"):
        with open(os.path.join(ROOT, "spec", doc), encoding="utf-8") as f:
            ids.update(re.findall(r"^\*\*([A-Z]+-\d{3})\*\* · ", f.read(), re.M))
    return ids


REQUIREMENTS = spec_requirements()

ERROR_CLASSES = {
    "framing-version", "frame-too-large", "unexpected-eof", "invalid-varint",
    "invalid-key", "invalid-tag", "invalid-wire-type", "wire-type-mismatch",
    "buffer-underflow", "delimited-overrun", "invalid-utf8", "group-mismatch",
    "recursion-limit", "envelope-version", "envelope-kind",
    "envelope-payload-protocol", "envelope-payload-encoding",
    "envelope-request-id",
}

# Flags: what they mean and what failing such a test means.
NOTES = {
    "MapFieldWireType": {
        "description": "A map field's key carries a wire type other than 2. prost 0.14 "
                       "ignores a map field's wire type and always reads a varint length "
                       "and an entry (WIRE-009); option strict-map-wire-type rejects it "
                       "as wire-type-mismatch.",
        "effect": "By default the input must be accepted (parity with upstream); a decoder "
                  "in strict-map-wire-type mode must reject it.",
    },
    "GoogleDiffers": {
        "description": "Google's protobuf runtime (C++/upb/Python) does not decode this "
                       "input the way prost 0.14 does (it treats a known field with a "
                       "foreign wire type as unknown, writes default map keys and values, "
                       "or counts recursion differently). The bytes were built by hand and "
                       "the expected result follows prost.",
        "effect": "An implementation built on Google's runtime disagrees with upstream "
                  "here.",
    },
    "MapEntryOrder": {
        "description": "A map holds two or more entries. prost writes map entries in "
                       "HashMap order, so there is no canonical byte order.",
        "effect": "canonical is false: compare the decoded values, not the re-encoded "
                  "bytes.",
    },
    "ExplicitDefault": {
        "description": "A field is written explicitly with its proto3 default value "
                       "(WIRE-021).",
        "effect": "Decoders accept it; the canonical re-encoding omits it.",
    },
    "Overlong": {
        "description": "A varint (value, length or key) uses more bytes than needed but "
                       "ends within 10 bytes with a 10th byte of 0 or 1 (WIRE-005).",
        "effect": "Accepted with its value; a decoder that rejects it refuses inputs "
                  "upstream accepts.",
    },
    "Truncated32": {
        "description": "A uint32 or enum field carries a varint above 2^32-1; only the low "
                       "32 bits are kept, enums as a two's-complement int32 (WIRE-006).",
        "effect": "A decoder that rejects the value or saturates it disagrees with "
                  "upstream.",
    },
    "OpenEnum": {
        "description": "An enum field carries a number the schema does not name; it is "
                       "kept as is (WIRE-007) and shown as an integer.",
        "effect": "Rejecting it at decode time is wrong; only later checks may.",
    },
    "UnknownField": {
        "description": "The input carries fields the message does not define (reserved "
                       "numbers included); they are validated, skipped and not kept "
                       "(WIRE-014).",
        "effect": "canonical is false: re-encoding drops them.",
    },
    "Group": {
        "description": "The input uses the group wire types 3/4 (WIRE-015).",
        "effect": "Groups in unknown fields are skipped to the matching end-group.",
    },
    "Repeated": {
        "description": "A field occurs more than once in one message (WIRE-013).",
        "effect": "Last wins for singular fields, lists append, messages merge, a oneof "
                  "keeps the last arm.",
    },
    "Truncated": {
        "description": "The stream ends inside a frame (framing byte, length or body).",
        "effect": "An incremental splitter reports need-more; at end of stream that is "
                  "unexpected-eof. Reading past the end is a bug.",
    },
    "HeaderOnly": {
        "description": "The stream holds only the header (and maybe a few body bytes) of a "
                       "frame that claims a large body; the body is deliberately not "
                       "materialised, the header alone decides (FRAME-005).",
        "effect": "Within the cap the result is unexpected-eof, above it frame-too-large.",
    },
    "TrailingBytes": {
        "description": "Bytes follow the first frame of the stream.",
        "effect": "consumed counts only the first frame; the rest is left alone "
                  "(FRAME-009).",
    },
    "EmptyBody": {
        "description": "The frame body or message body is empty (FRAME-006, WIRE-001).",
        "effect": "Decodes to the all-default message.",
    },
    "FieldOrder": {
        "description": "Fields arrive out of ascending field-number order.",
        "effect": "Decoders accept any order; the canonical re-encoding sorts them.",
    },
}

KINDS = ("framing", "framed", "message", "envelope", "probe-request", "probe-response",
         "sidecar", "handoff-offer", "handoff-ack", "handoff-ready")
SOURCES = ("upstream-literal", "upstream-test", "derived", "rpb")
OPTIONS = ("strict-map-wire-type",)

# --------------------------------------------------------------------------
# Google protobuf: compile proto/ and load the generated modules.

PB = {}       # short message name -> generated class


def load_protos(tmp):
    """Compiles proto/*.proto with protoc into tmp and imports the modules."""
    out = os.path.join(tmp, "pb")
    os.mkdir(out)
    cmd = ["protoc", "-I", PROTO_DIR, "--python_out=" + out] + PROTO_FILES
    subprocess.run(cmd, check=True)
    sys.path.insert(0, out)
    for f in PROTO_FILES:
        mod = importlib.import_module(f[:-len(".proto")] + "_pb2")
        for name, desc in mod.DESCRIPTOR.message_types_by_name.items():
            PB[name] = getattr(mod, name)


def parse(name, data):
    """Parses data as message name with Google's protobuf; raises on error."""
    msg = PB[name]()
    msg.ParseFromString(bytes(data))
    return msg


def google_accepts(name, data):
    try:
        parse(name, data)
        return True
    except Exception:  # google.protobuf.message.DecodeError and friends
        return False


def make(name, **values):
    """Builds a Google message from field values (nested messages as dicts)."""
    return PB[name](**values)


def enc(name, **values):
    """The canonical encoding of a message given by field values: Google's
    deterministic serialization, cross-checked against prost_encode()."""
    msg = make(name, **values)
    data = msg.SerializeToString(deterministic=True)
    # Google writes an empty map key or value inside the entry, prost does
    # not: such vectors are built by hand instead.
    assert not has_default_map_entry(msg), name
    assert data == prost_encode(msg), (name, data.hex(), prost_encode(msg).hex())
    return data


# --------------------------------------------------------------------------
# Wire helpers for hand-built bytes.

def varint(n):
    assert 0 <= n < 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wt):
    return varint((field << 3) | wt)


def ld(field, data):
    """A length-delimited field."""
    data = data.encode() if isinstance(data, str) else bytes(data)
    return key(field, 2) + varint(len(data)) + data


def vi(field, n):
    """A varint field (n may be negative: 10-byte two's complement)."""
    return key(field, 0) + varint(n & 0xFFFFFFFFFFFFFFFF)


def hx(s):
    return bytes.fromhex(s.replace(" ", ""))


def header(n):
    return b"\x01" + n.to_bytes(4, "little")


def framed(body):
    return header(len(body)) + body


# --------------------------------------------------------------------------
# JSON mapping (vectors/README.md) and prost's canonical encoding.

FD = None  # google.protobuf.descriptor.FieldDescriptor, set after loading


def is_map(f):
    return f.type == FD.TYPE_MESSAGE and f.message_type.GetOptions().map_entry


def fields_in_order(msg):
    return sorted(msg.DESCRIPTOR.fields, key=lambda f: f.number)


def to_json(msg):
    """The JSON mapping of a parsed Google message."""
    out = {}
    for f in fields_in_order(msg):
        v = getattr(msg, f.name)
        if f.label == FD.LABEL_REPEATED:
            if is_map(f):
                out[f.name] = {k: v[k] for k in sorted(v)}
            else:
                assert f.type == FD.TYPE_STRING, f.full_name
                out[f.name] = list(v)
            continue
        if f.type == FD.TYPE_MESSAGE:
            if f.containing_oneof is not None:
                if msg.WhichOneof(f.containing_oneof.name) == f.name:
                    out[f.name] = to_json(v)
            elif msg.HasField(f.name):
                out[f.name] = to_json(v)
            continue
        if f.has_presence and not msg.HasField(f.name):
            continue
        out[f.name] = scalar_json(f, v)
    return out


def scalar_json(f, v):
    if f.type == FD.TYPE_ENUM:
        ev = f.enum_type.values_by_number.get(v)
        return ev.name if ev is not None else v
    if f.type == FD.TYPE_BYTES:
        return v.hex()
    if f.type in (FD.TYPE_STRING, FD.TYPE_BOOL, FD.TYPE_UINT32, FD.TYPE_UINT64):
        return v
    raise AssertionError("unexpected field type in " + f.full_name)


def has_default_map_entry(msg):
    """True when a map in msg (at any depth) has an empty key or value:
    Google writes them inside the entry, prost omits them."""
    for f in msg.DESCRIPTOR.fields:
        v = getattr(msg, f.name)
        if is_map(f):
            if any(k == "" or v[k] == "" for k in v):
                return True
        elif f.type == FD.TYPE_MESSAGE and f.label != FD.LABEL_REPEATED:
            if msg.HasField(f.name) and has_default_map_entry(v):
                return True
    return False


def map_entries_max(msg):
    """The largest number of entries of any map in msg (at any depth)."""
    n = 0
    for f in msg.DESCRIPTOR.fields:
        v = getattr(msg, f.name)
        if is_map(f):
            n = max(n, len(v))
        elif f.type == FD.TYPE_MESSAGE and f.label != FD.LABEL_REPEATED:
            if msg.HasField(f.name):
                n = max(n, map_entries_max(v))
    return n


def prost_encode(msg):
    """prost's canonical encoding of msg (WIRE-020), written independently of
    Google's serializer: ascending field numbers, proto3 defaults omitted,
    presence fields written when set, one tag per list element, map entries
    with default key/value omitted (entries in key order: prost's HashMap
    order is unspecified, see MapEntryOrder)."""
    out = bytearray()
    for f in fields_in_order(msg):
        v = getattr(msg, f.name)
        if f.label == FD.LABEL_REPEATED:
            if is_map(f):
                for k in sorted(v):
                    entry = (ld(1, k) if k else b"") + (ld(2, v[k]) if v[k] else b"")
                    out += ld(f.number, entry)
            else:
                for s in v:
                    out += ld(f.number, s)
            continue
        if f.type == FD.TYPE_MESSAGE:
            if msg.HasField(f.name):
                out += ld(f.number, prost_encode(v))
            continue
        present = msg.HasField(f.name) if f.has_presence else v != f.default_value
        if not present:
            continue
        if f.type in (FD.TYPE_STRING, FD.TYPE_BYTES):
            out += ld(f.number, v)
        elif f.type in (FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_ENUM):
            out += vi(f.number, v)
        elif f.type == FD.TYPE_BOOL:
            out += vi(f.number, 1 if v else 0)
        else:
            raise AssertionError("unexpected field type in " + f.full_name)
    return bytes(out)


# --------------------------------------------------------------------------
# Models of the framing and envelope rules (self-checks of hand-made results).

def split(data, cap):
    """FRAME-001..009: ('ok', body, consumed) | ('need-more',) | (error,)."""
    if not data:
        return ("need-more",)
    if data[0] != 1:
        return ("framing-version",)
    if len(data) < 5:
        return ("need-more",)
    n = int.from_bytes(data[1:5], "little")
    if n > cap:
        return ("frame-too-large",)
    if len(data) < 5 + n:
        return ("need-more",)
    return ("ok", data[5:5 + n], 5 + n)


def split_all(data, cap):
    """Splits a whole stream: (list of (body, consumed), error or None)."""
    frames, off = [], 0
    while off < len(data) or not frames:  # an empty stream is one missing frame
        r = split(data[off:], cap)
        if r[0] != "ok":
            return frames, ("unexpected-eof" if r[0] == "need-more" else r[0])
        frames.append((r[1], r[2]))
        off += r[2]
    return frames, None


# site -> (kind, payload_protocol, where request_id is compared)
SITES = {
    "hello": (0, 0x0000, None),
    "hello-reply": (1, 0x0000, None),
    "admin-request": (0, 0xAD01, None),
    "admin-reply": (1, 0xAD01, None),
    "probe-request": (0, 0xB232, None),
    "probe-response": (1, 0xB232, "before-encoding"),
    "handoff-offer": (0, 0xD0FF, None),
    "handoff-ack": (1, 0xD0FF, "after-encoding"),
    "handoff-ready": (2, 0xD0FF, None),
}


def envelope_check(frame, site, request_id):
    """ENV-001..ENV-009 for one call site: the first failing check or None."""
    kind, pp, rid = SITES[site]
    if frame.envelope_version != 1:
        return "envelope-version"
    if frame.kind != kind:
        return "envelope-kind"
    if frame.payload_protocol != pp:
        return "envelope-payload-protocol"
    if rid == "before-encoding" and frame.request_id != request_id:
        return "envelope-request-id"
    if frame.payload_encoding != 0:
        return "envelope-payload-encoding"
    if rid == "after-encoding" and frame.request_id != request_id:
        return "envelope-request-id"
    return None


# Invalid tests whose input Google's protobuf runtime (python3-protobuf 4.21,
# C++ backend) nevertheless accepts: it treats a known field with a foreign
# wire type as unknown, ends a message at tag 0 or at a stray end-group,
# drops varint bits beyond 64 and key bits beyond 32, and counts recursion
# differently.  The generator re-checks each entry and warns when Google's
# behaviour has changed; the entries only add the GoogleDiffers flag.
GOOGLE_ACCEPTS = {
    "framed/basics/body-not-a-frame",
    "framed/basics/body-golden-hello",
    "hello/invalid/request-id-as-varint",
    "hello/invalid/peer-pid-as-bytes",
    "handoff/offer/token-as-varint",
    "handoff/ack/accepted-as-fixed32",
    "manifest/daemon-process/idle-as-bytes",
    "manifest/daemon-process/endpoint-as-varint",
    "service/definition/allow-list-as-varint",
    "service/definition/isolation-as-bytes",
    "admin/request/json-as-string",
    "varint/invalid/tenth-byte-02",
    "varint/invalid/tenth-byte-7f",
    "wiretype/key/tag-0-varint",
    "wiretype/key/tag-0-end-group",
    "wiretype/key/tag-0-after-field",
    "wiretype/key/tag-0-overlong",
    "wiretype/key/key-2p32",
    "wiretype/key/key-2p32-plus-8",
    "unknown/groups/stray-end-group",
    "unknown/groups/stray-end-reserved",
    "unknown/groups/known-field-as-end-group",
    "unknown/truncated/varint-tenth-byte-02",
    "map/entries/key-as-varint",
    "map/entries/value-as-varint",
    "map/entries/value-as-fixed32",
    "map/field-wire-type-errors/wire-type-0-entry-beyond",
    "map/field-wire-type-errors/wire-type-0-huge-varint",
    "recursion/top-level/depth-100-with-field",
    "recursion/top-level/spec-example-field-in-100th",
    "recursion/nested-message/depth-99-with-field",
    "recursion/bare-negotiated/depth-100-with-field",
    "recursion/map-entry/depth-98-with-field",
    "recursion/endpoint/depth-99-with-field",
} | {"wiretype/mismatch-%s/%s" % (m, n) for m, n in (
    ("frame", "uint32-as-length"), ("frame", "uint32-as-fixed64"),
    ("frame", "uint32-as-fixed32"), ("frame", "uint32-as-start-group"),
    ("frame", "uint32-as-end-group"),
    ("frame", "uint64-as-length"), ("frame", "uint64-as-fixed64"),
    ("frame", "enum-as-fixed32"), ("frame", "enum-as-length"),
    ("frame", "string-as-varint"), ("frame", "string-as-fixed64"),
    ("frame", "bytes-as-varint"), ("frame", "bytes-as-fixed32"),
    ("frame", "wrong-after-valid-fields"), ("handoffack", "bool-as-length"),
    ("handoffack", "bool-as-fixed64"), ("helloreply", "message-as-varint"),
    ("helloreply", "message-as-fixed32"), ("helloreply", "message-as-group"),
    ("daemonprocess", "message-field-as-fixed64"),
    ("negotiated", "repeated-string-as-varint"),
    ("negotiated", "repeated-string-second-as-varint"), ("hello", "uint32-as-fixed32"),
    ("daemonprocess", "optional-as-fixed32"), ("helloreply", "nested-field-mismatch"))}

# --------------------------------------------------------------------------
# The vector model.

WARNINGS = []


def warn(msg):
    WARNINGS.append(msg)


class Suite:
    def __init__(self):
        self.files = {}
        self.ids = set()

    def file(self, name, description):
        assert name not in self.files
        f = VFile(self, name, description)
        self.files[name] = f
        return f

    def claim(self, ident):
        assert ident not in self.ids, "duplicate id " + ident
        self.ids.add(ident)


class VFile:
    def __init__(self, suite, name, description):
        self.suite, self.name, self.description = suite, name, description
        self.groups = []

    def group(self, gid, kind, description, message=None, cap=None, site=None,
              options=()):
        assert kind in KINDS
        assert (message is not None) == (kind != "framing")
        assert (cap is not None) == (kind in ("framing", "framed"))
        assert (site is not None) == (kind == "envelope")
        assert kind not in ("framed", "envelope") or message == "Frame"
        assert message is None or message in PB, message
        assert site is None or site in SITES
        assert all(o in OPTIONS for o in options)
        self.suite.claim(gid)
        g = Group(self, gid, kind, description, message, cap, site, list(options))
        self.groups.append(g)
        return g

    def to_json(self):
        flags = sorted({fl for g in self.groups for t in g.tests for fl in t["flags"]})
        return {
            "schema": "rpb-vectors/1",
            "file": self.name,
            "generator": GENERATOR,
            "description": self.description,
            "notes": {fl: NOTES[fl] for fl in flags},
            "numberOfTests": sum(len(g.tests) for g in self.groups),
            "groups": [g.to_json() for g in self.groups],
        }


class Group:
    def __init__(self, vfile, gid, kind, description, message, cap, site, options):
        self.vfile, self.id, self.kind = vfile, gid, kind
        self.description, self.message = description, message
        self.cap, self.site, self.options = cap, site, options
        self.tests = []

    def to_json(self):
        out = {"id": self.id, "kind": self.kind, "description": self.description,
               "options": self.options}
        if self.message is not None:
            out["message"] = self.message
        if self.cap is not None:
            out["cap"] = self.cap
        if self.site is not None:
            out["site"] = self.site
        out["tests"] = self.tests
        return out

    def _test(self, name, data, result, comment, reqs, flags, source):
        assert reqs and all(r in REQUIREMENTS for r in reqs), (name, reqs)
        assert all(fl in NOTES for fl in flags), flags
        assert source in SOURCES
        tid = self.id + "/" + name
        self.vfile.suite.claim(tid)
        t = {"id": tid, "comment": comment, "requirements": list(reqs),
             "input": bytes(data).hex(), "result": result, "flags": list(flags),
             "source": source}
        self.tests.append(t)
        return t

    def _request_id(self, t, request_id):
        if self.kind == "envelope" and SITES[self.site][2] is not None:
            assert request_id is not None, t["id"]
            t["request_id"] = request_id
        else:
            assert request_id is None, t["id"]

    def _decoded(self, t, data, expected_from, acceptable):
        """Fills expected/canonical (and consumed) of a valid or acceptable test."""
        data = bytes(data)
        flags = t["flags"]
        if self.kind == "framed":
            r = split(data, self.cap)
            assert r[0] == "ok", (t["id"], r)
            body, consumed = r[1], r[2]
            prefix = data[:consumed]
        else:
            body, consumed, prefix = data, None, data
        # Google must parse the input itself unless the test documents why
        # not; with expected_from, the expected value comes from that
        # equivalent encoding instead.
        if expected_from is None:
            msg = parse(self.message, body)
        else:
            assert "GoogleDiffers" in flags or acceptable, t["id"]
            msg = parse(self.message, expected_from)
            if google_accepts(self.message, body):
                if to_json(parse(self.message, body)) != to_json(msg):
                    note = "Google decodes it to a different value"
                else:
                    note = None
            else:
                note = "Google rejects it"
            if note is not None and "GoogleDiffers" not in flags:
                warn("%s: %s but is not flagged GoogleDiffers" % (t["id"], note))
            if note is None and "GoogleDiffers" in flags:
                warn("%s: flagged GoogleDiffers but Google agrees" % t["id"])
        t["expected"] = to_json(msg)
        many = map_entries_max(msg) >= 2
        assert many == ("MapEntryOrder" in flags), t["id"]
        reenc = prost_encode(msg)
        if self.kind == "framed":
            reenc = framed(reenc)
        t["canonical"] = (reenc == prefix) and not many
        t["reencoded"] = None if many else reenc.hex()
        if consumed is not None:
            t["consumed"] = consumed
        return msg

    def valid(self, name, data, comment, reqs, flags=(), source="rpb",
              expected_from=None, request_id=None, pin=None):
        """A valid test.  pin: hex the input must equal (upstream bytes)."""
        if pin is not None:
            assert bytes(data) == hx(pin), (name, bytes(data).hex())
        t = self._test(name, data, "valid", comment, reqs, flags, source)
        if self.kind == "framing":
            frames, err = split_all(bytes(data), self.cap)
            assert err is None, (t["id"], err)
            t["frames"] = [{"body": b.hex(), "consumed": c} for b, c in frames]
        else:
            msg = self._decoded(t, data, expected_from, False)
            if self.kind == "envelope":
                assert envelope_check(msg, self.site, request_id or 0) is None, t["id"]
        self._request_id(t, request_id)
        return t

    def acceptable(self, name, data, comment, reqs, flags, expected_from,
                   source="rpb"):
        assert self.kind == "message" and not self.options
        assert "MapFieldWireType" in flags
        t = self._test(name, data, "acceptable", comment, reqs, flags, source)
        self._decoded(t, data, expected_from, True)
        return t

    def invalid(self, name, data, error, comment, reqs, flags=(), source="rpb",
                request_id=None, pin=None):
        """An invalid test.  When its id is in GOOGLE_ACCEPTS (Google's runtime
        accepts the input), the flag GoogleDiffers and a sentence are added."""
        if pin is not None:
            assert bytes(data) == hx(pin), (name, bytes(data).hex())
        assert error in ERROR_CLASSES
        data = bytes(data)
        google = self.id + "/" + name in GOOGLE_ACCEPTS
        if google:
            assert "GoogleDiffers" not in flags
            flags = list(flags) + ["GoogleDiffers"]
            comment += " Google's protobuf runtime accepts this input; prost rejects it."
        t = self._test(name, data, "invalid", comment, reqs, flags, source)
        t["error"] = error
        framing_classes = ("framing-version", "frame-too-large", "unexpected-eof")
        if self.kind == "framing":
            frames, err = split_all(data, self.cap)
            assert err == error, (t["id"], err, error)
        elif self.kind == "framed":
            r = split(data, self.cap)
            if r[0] == "ok":
                assert error not in framing_classes, t["id"]
                self._google_rejects(t, r[1], google)
            else:
                got = "unexpected-eof" if r[0] == "need-more" else r[0]
                assert got == error, (t["id"], got, error)
        elif self.kind == "message":
            assert error not in framing_classes and not error.startswith("envelope-")
            if self.options:
                assert error == "wire-type-mismatch"
            else:
                self._google_rejects(t, data, google)
        else:
            msg = parse("Frame", data)
            got = envelope_check(msg, self.site, request_id or 0)
            assert got == error, (t["id"], got, error)
        self._request_id(t, request_id)
        return t

    def _google_rejects(self, t, body, google):
        name = self.message
        accepted = google_accepts(name, body)
        if accepted and not google:
            warn("%s: Google accepts this invalid input (not flagged)" % t["id"])
        if not accepted and google:
            warn("%s: flagged GoogleDiffers but Google rejects it too" % t["id"])


# --------------------------------------------------------------------------
# Shared sample values.

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TOKEN16 = bytes(range(16))


def golden_frame_values():
    return dict(envelope_version=1, kind=1, payload_protocol=0xAD01,
                payload=hx("deadbeef"), request_id=42, payload_encoding=1,
                deadline_unix_ms=1700000000000, traceparent=TRACEPARENT,
                tracestate="rp=1")


def golden_hello_values():
    return dict(client_min_protocol=1, client_max_protocol=3,
                service_name="build-cache", wanted_version="1.2.3-rc.1",
                client_version="3.0.15", client_capabilities=0x8000000000000001,
                auth_token=hx("010203"), request_id="req-0001", connection_id=0,
                peer_pid=4242, client_lib_name="running-process",
                client_lib_version="3.0.15", peer_attestation_nonce=hx("aabb"),
                capability_token=hx("cc"), client_keepalive_secs=30)


def golden_negotiated_values():
    return dict(negotiated_protocol=2, daemon_version="3.0.15",
                backend_pipe="rp-backend-7", warnings=["w1", "w2"],
                server_capabilities=0x8000000000000001, keepalive_interval_secs=60,
                handle_passed_token=hx("102030"), connection_id=99)


def golden_refused_values():
    return dict(reason="version below floor", daemon_min_protocol=2,
                daemon_max_protocol=3, code=8, details={"floor": "2"},
                retry_after_ms=1500)


def golden_offer_values():
    return dict(handle_value=0xBEC, token=TOKEN16, service_name="build-cache",
                correlation_id=7)


def golden_ack_values():
    return dict(token=TOKEN16, accepted=True, error_detail="ok", correlation_id=7)


def frame_request(pp, payload=b"", request_id=0, **extra):
    """Frame::request(pp, payload).with_request_id(id), as upstream builds requests."""
    return enc("Frame", envelope_version=1, kind=0, payload_protocol=pp,
               payload=payload, request_id=request_id, **extra)


def frame_response(pp, payload=b"", request_id=0, **extra):
    return enc("Frame", envelope_version=1, kind=1, payload_protocol=pp,
               payload=payload, request_id=request_id, **extra)


def dp1_values(idle=30):
    v = dict(pid=4242, exe_path="/usr/bin/mydaemon", exe_sha256=b"\xaa" * 32,
             ipc_endpoint=make("Endpoint", namespace_id="ns-1", path="/tmp/d.sock"),
             started_at_unix_ms=1700000000000, boot_id="boot-1")
    if idle is not None:
        v["idle_timeout_secs"] = idle
    return v


def dp2_values():
    return dict(pid=4321, exe_path="/usr/local/bin/zccache", exe_sha256=b"\x01" * 32,
                ipc_endpoint=make("Endpoint", namespace_id="mntns:4026531840",
                                  path="/tmp/zccache.sock"),
                started_at_unix_ms=1700000000000, boot_id="boot-id-1",
                idle_timeout_secs=900)


# --------------------------------------------------------------------------
# upstream.json: the 43 byte vectors fixed by upstream 4.5.5's sources and tests.

GB = "crates/running-process/tests/broker/golden_bytes.rs"
FR = "crates/running-process/tests/broker/framing.rs"
FE = "crates/running-process/src/broker/protocol/frame_ext.rs"
MUX = "crates/running-process/src/broker/backend_sdk/mux.rs"
CONN = "crates/running-process/tests/broker/connection.rs"
KIT = "crates/running-process/tests/broker/conformance_kit.rs"
HW = "crates/running-process/src/broker/server/handoff/wire.rs"
DOCS = "docs/v1-wire-envelope.md"
HH = "crates/running-process/tests/broker/hello_handler.rs"

GOLDEN_FRAME = ("080110011881da022204deadbeef282a30013880d095ffbc31423730302d30616637"
                "363531393136636434336464383434386562323131633830333139632d6237616436"
                "62373136393230333333312d30314a0472703d31")
GOLDEN_HELLO = ("080110031a0b6275696c642d6361636865220a312e322e332d72632e312a06332e30"
                "2e313530818080808080808080013a0301020342087265712d303030315092215a0f"
                "72756e6e696e672d70726f636573736206332e302e31356a02aabb7201cc781e")
GOLDEN_NEGOTIATED = ("08021206332e302e31351a0c72702d6261636b656e642d37220277312202773228"
                     "81808080808080808001303c3a031020304063")
GOLDEN_REFUSED = ("0a1376657273696f6e2062656c6f7720666c6f6f721002180320082a0a0a05666c6f"
                  "6f7212013230dc0b")
GOLDEN_HELLO_REPLY = "0a34" + GOLDEN_NEGOTIATED
GOLDEN_OFFER = "08ec171210000102030405060708090a0b0c0d0e0f1a0b6275696c642d63616368652007"
GOLDEN_ACK = "0a10000102030405060708090a0b0c0d0e0f10011a026f6b2007"


def gen_upstream(s):
    f = s.file("upstream.json",
               "The 43 upstream 4.5.5 vectors: the 7 checked-in golden arrays of "
               "golden_bytes.rs (byte-exact) and the inputs fixed by upstream tests in "
               "golden_bytes.rs, framing.rs, frame_ext.rs, mux.rs, connection.rs, "
               "conformance_kit.rs, handoff/wire.rs, hello_handler.rs and the docs.")

    def up(src, test, text):
        return "%s :: %s: %s" % (src, test, text)

    literals = [
        ("golden-frame", "Frame", golden_frame_values(), GOLDEN_FRAME,
         "frame_encodes_to_golden_bytes / golden_frame_decodes_to_sample",
         "GOLDEN_FRAME, a Frame body with every field set (kind RESPONSE, "
         "payload_protocol 0xAD01, payload_encoding ZSTD).", ["WIRE-001", "WIRE-018", "WIRE-020"]),
        ("golden-hello", "Hello", golden_hello_values(), GOLDEN_HELLO,
         "hello_encodes_to_golden_bytes / golden_hello_decodes_to_sample",
         "GOLDEN_HELLO (100 bytes); connection_id 0 is omitted; client_capabilities "
         "2^63+1 is a full 10-byte varint ending in 01.", ["WIRE-018", "WIRE-020", "WIRE-005"]),
        ("golden-negotiated", "Negotiated", golden_negotiated_values(), GOLDEN_NEGOTIATED,
         "negotiated_encodes_to_golden_bytes / golden_negotiated_decodes_to_sample",
         "GOLDEN_NEGOTIATED, a bare Negotiated; warnings are two tags (22 02 w1 22 02 w2).",
         ["WIRE-018", "WIRE-020"]),
        ("golden-refused", "Refused", golden_refused_values(), GOLDEN_REFUSED,
         "refused_encodes_to_golden_bytes / golden_refused_decodes_to_sample",
         "GOLDEN_REFUSED with one map entry 2a 0a | 0a 05 'floor' | 12 01 '2'.",
         ["WIRE-018", "WIRE-020", "WIRE-009"]),
        ("golden-hello-reply", "HelloReply",
         dict(negotiated=make("Negotiated", **golden_negotiated_values())),
         GOLDEN_HELLO_REPLY,
         "hello_reply_encodes_to_golden_bytes / golden_hello_reply_decodes_to_sample",
         "GOLDEN_HELLO_REPLY = 0a 34 + GOLDEN_NEGOTIATED (oneof arm negotiated).",
         ["WIRE-018", "WIRE-020"]),
        ("golden-handoff-offer", "HandoffOffer", golden_offer_values(), GOLDEN_OFFER,
         "handoff_offer_encodes_to_golden_bytes / golden_handoff_offer_decodes_to_sample",
         "GOLDEN_HANDOFF_OFFER: handle_value 0xBEC, 16-byte token, correlation_id 7.",
         ["WIRE-018", "WIRE-020"]),
        ("golden-handoff-ack", "HandoffAck", golden_ack_values(), GOLDEN_ACK,
         "handoff_ack_encodes_to_golden_bytes / golden_handoff_ack_decodes_to_sample",
         "GOLDEN_HANDOFF_ACK: token echo, accepted true, error_detail 'ok'.",
         ["WIRE-018", "WIRE-020"]),
    ]
    groups = {}
    for name, msg, values, golden, test, text, reqs in literals:
        g = f.group("upstream/" + name, "message",
                    "Upstream golden %s (golden_bytes.rs, FROZEN array)." % msg, message=msg)
        groups[msg] = g
        g.valid("literal", enc(msg, **values), up(GB, test, text), reqs,
                source="upstream-literal", pin=golden)

    groups["Hello"].valid(
        "unknown-trailing-field-21", hx(GOLDEN_HELLO) + hx("a80101"),
        up(GB, "hello_decode_tolerates_unknown_trailing_field",
           "GOLDEN_HELLO + a8 01 01 (field 21, the first number past Hello's reserved "
           "16-20, varint 1) decodes to the same Hello; re-encoding drops it."),
        ["WIRE-014"], flags=["UnknownField"], source="upstream-test")
    groups["Hello"].valid(
        "docs-conceptual-hello",
        enc("Hello", client_min_protocol=1, client_max_protocol=1, service_name="zccache",
            wanted_version="1.11.20", client_version="zccache-cli/0.5.0",
            client_capabilities=1, request_id="hello-1700000000000", peer_pid=4242,
            client_lib_name="running-process", client_lib_version="4.0.3",
            client_keepalive_secs=60),
        up(DOCS, "Conceptual Hello Example",
           "the docs' conceptual Hello JSON encoded (connection_id 0 omitted)."),
        ["WIRE-018", "WIRE-020"], source="derived",
        pin="080110011a077a6363616368652207312e31312e32302a117a6363616368652d636c692f30"
            "2e352e303001421368656c6c6f2d313730303030303030303030305092215a0f72756e6e69"
            "6e672d70726f636573736205342e302e33783c")
    groups["HelloReply"].valid(
        "docs-conceptual-negotiated",
        enc("HelloReply", negotiated=make(
            "Negotiated", negotiated_protocol=1,
            daemon_version="running-process-broker-v1/4.0.3",
            backend_pipe="\\\\.\\pipe\\rpb-v1-deadbeefdeadbeef-be-" + "ab" * 16,
            server_capabilities=1, keepalive_interval_secs=60, connection_id=99)),
        up(DOCS, "Conceptual Negotiated Example",
           "HelloReply{negotiated} for the docs' Negotiated JSON (warnings empty, so "
           "absent)."),
        ["WIRE-018", "WIRE-020"], source="derived",
        pin="0a6f0801121f72756e6e696e672d70726f636573732d62726f6b65722d76312f342e302e33"
            "1a445c5c2e5c706970655c7270622d76312d646561646265656664656164626565662d6265"
            "2d61626162616261626162616261626162616261626162616261626162616261622801303c"
            "4063")
    groups["HelloReply"].valid(
        "negotiated-all-default",
        enc("HelloReply", negotiated=make("Negotiated")),
        up("(prost oneof semantics)", "(derived)",
           "HelloReply{negotiated: Negotiated::default()}: a set oneof arm holding an "
           "all-default message is still written, as 0a 00."),
        ["WIRE-020", "WIRE-013"], source="derived", pin="0a00")

    # framing.rs / golden_bytes.rs / frame_ext.rs framing tests (kind framing).
    g = f.group("upstream/framing", "framing",
                "Upstream framing tests under the default 16 MiB cap; bodies are not "
                "decoded.", cap=MAX_FRAME)
    g.valid("framed-golden-hello", framed(hx(GOLDEN_HELLO)),
            up(GB, "framed_golden_hello_has_exact_header_bytes (also "
               "framing_layout_is_version_byte_then_le_length_then_body)",
               "write_frame(GOLDEN_HELLO): header 01 64 00 00 00 then the 100-byte body."),
            ["FRAME-001", "FRAME-002"], source="upstream-test",
            pin="0164000000" + GOLDEN_HELLO)
    g.invalid("oversize-frame", hx("0101000001"), "frame-too-large",
              up(GB, "oversize_frame_maps_to_frame_too_large",
                 "header only, body_length 16777217 = cap + 1: FrameTooLarge before any "
                 "body byte."),
              ["FRAME-003", "FRAME-005"], flags=["HeaderOnly"], source="upstream-test")
    body = bytes(i & 0xFF for i in range(1024))
    g.valid("happy-path-roundtrip", framed(body),
            up(FR, "happy_path_roundtrip",
               "a 1024-byte body (byte i = i & 0xFF); write_frame returns 1029."),
            ["FRAME-002"], source="upstream-test")
    g.valid("empty-body-roundtrip", hx("0100000000"),
            up(FR, "empty_body_roundtrip", "write_frame(&[]) is exactly 01 00 00 00 00."),
            ["FRAME-006"], flags=["EmptyBody"], source="upstream-test")
    g.invalid("framing-version-mismatch", hx("0200000000"), "framing-version",
              up(FR, "framing_version_mismatch_returns_unsupported",
                 "UnsupportedFramingVersion{got: 2, expected: 1}."),
              ["FRAME-001"], source="upstream-test")
    g.invalid("short-read-on-version-byte", b"", "unexpected-eof",
              up(FR, "short_read_on_version_byte_errors_cleanly",
                 "empty stream: UnexpectedEof{\"framing byte\"}."),
              ["FRAME-007"], flags=["Truncated"], source="upstream-test")
    g.invalid("short-read-on-length-header", hx("01"), "unexpected-eof",
              up(FR, "short_read_on_length_header_errors_cleanly",
                 "only the framing byte: UnexpectedEof{\"body length header\"}."),
              ["FRAME-007"], flags=["Truncated"], source="upstream-test")
    g.invalid("short-read-on-body", hx("010a000000abcdef01"), "unexpected-eof",
              up(FR, "short_read_on_body_errors_cleanly",
                 "header claims 10 body bytes, 4 arrive: UnexpectedEof{\"frame body\"}."),
              ["FRAME-007"], flags=["Truncated"], source="upstream-test")
    g.valid("multiple-frames-back-to-back",
            framed(b"first") + framed(b"second") + framed(b"third"),
            up(FR, "multiple_frames_back_to_back",
               "three frames 'first', 'second', 'third' back to back, read in order."),
            ["FRAME-002", "FRAME-009"], source="upstream-test",
            pin="0105000000666972737401060000007365636f6e6401050000007468697264")
    g.invalid("try-decode-framed-foreign-version", hx("0200000000"), "framing-version",
              up(FE, "try_decode_framed_rejects_foreign_version_and_oversize",
                 "Err(UnsupportedFramingVersion{got: 2})."),
              ["FRAME-001"], source="upstream-test")
    g.invalid("try-decode-framed-oversize", hx("0101000001"), "frame-too-large",
              up(FE, "try_decode_framed_rejects_foreign_version_and_oversize",
                 "a 5-byte header claiming MAX_FRAME_BYTES + 1: Err(FrameTooLarge)."),
              ["FRAME-003", "FRAME-005"], flags=["HeaderOnly"], source="upstream-test")
    g.invalid("mux-legacy-header", hx("010100000f000000"), "frame-too-large",
              up(MUX, "legacy_header_wins_even_with_frame_version_first_byte",
                 "a consumer's legacy header (u32 LE length 257, u32 LE version 15) whose "
                 "byte 0 is 01. Upstream's mux asks the consumer's legacy detector first; "
                 "the v1 splitter alone reads body length 0x0f000001 > 16 MiB."),
              ["FRAME-003", "FRAME-005"], flags=["HeaderOnly"], source="upstream-test")
    g.invalid("mux-legacy-non-v1-byte", hx("2a0000000010000000"), "framing-version",
              up(MUX, "legacy_header_wins_even_with_frame_version_first_byte",
                 "first byte 2a: not a v1 frame (the mux hands it to the legacy path)."),
              ["FRAME-001"], source="upstream-test")
    g.invalid("mux-short-buffer", hx("010000"), "unexpected-eof",
              up(MUX, "empty_and_short_buffers_need_more_bytes",
                 "3 bytes starting with 01: need more bytes (at EOF: unexpected-eof)."),
              ["FRAME-007", "FRAME-009"], flags=["Truncated"], source="upstream-test")

    g = f.group("upstream/framing-hello-cap", "framing",
                "Upstream framing tests under the first-Hello cap of 65536.", cap=MAX_HELLO)
    g.invalid("oversize-hello", hx("0101000100"), "frame-too-large",
              up(GB, "oversize_hello_maps_to_frame_too_large_under_hello_cap",
                 "header only, body_length 65537 under cap 65536."),
              ["FRAME-004", "FRAME-005"], flags=["HeaderOnly"], source="upstream-test")
    g.invalid("hello-cap-enforced-separately", hx("0101000100"), "frame-too-large",
              up(FR, "hello_cap_enforced_separately",
                 "read_frame_with_cap(65536) on a header claiming 65537."),
              ["FRAME-004", "FRAME-005"], flags=["HeaderOnly"], source="upstream-test")

    g = f.group("upstream/framing-cap-1024", "framing",
                "Upstream framing test with a caller-chosen cap of 1024.", cap=1024)
    g.invalid("oversize-returns-frame-too-large", hx("0101040000"), "frame-too-large",
              up(FR, "oversize_returns_frame_too_large",
                 "read_frame_with_cap(1024) on a header claiming 1025."),
              ["FRAME-003", "FRAME-005"], flags=["HeaderOnly"], source="upstream-test")

    # Framed frames whose bodies are Frames (kind framed).
    g = f.group("upstream/framed", "framed",
                "Upstream frames with Frame bodies: split, then decode the body.",
                message="Frame", cap=MAX_FRAME)
    g.valid("request-7001-abc", framed(frame_request(0x7001, b"abc")),
            up(FE, "try_decode_framed_waits_for_complete_frames",
               "encode_framed(Frame::request(0x7001, b\"abc\")); upstream checks every "
               "strict prefix gives Ok(None) and the whole gives consumed 16."),
            ["FRAME-009", "WIRE-020"], source="derived",
            pin="010b00000008011881e0012203616263")
    g.valid("request-7001-abc-twice", framed(frame_request(0x7001, b"abc")) * 2,
            up(FE, "try_decode_framed_waits_for_complete_frames",
               "two concatenated copies: the first decode consumes 16 bytes."),
            ["FRAME-009"], flags=["TrailingBytes"], source="derived")
    g.valid("request-7a63-ping", framed(frame_request(0x7A63, b"ping", 42)),
            up(FE, "request_and_response_round_trip_through_buffer_codecs",
               "Frame::request(0x7A63, b\"ping\").with_request_id(42)."),
            ["WIRE-020"], source="derived", pin="010e000000080118e3f401220470696e67282a")
    g.valid("response-7a63-pong", framed(frame_response(0x7A63, b"pong", 42)),
            up(FE, "request_and_response_round_trip_through_buffer_codecs",
               "Frame::response_to(&request, b\"pong\"): RESPONSE echoing protocol and "
               "request_id (shown for reference, not encoded by the test)."),
            ["WIRE-020", "ENV-007"], source="derived",
            pin="01100000000801100118e3f4012204706f6e67282a")
    g.invalid("malformed-frame-body", hx("0103000000ffffff"), "invalid-varint",
              up(CONN, "malformed_frame_body_gets_refused_response_frame",
                 "body ff ff ff: a key varint cut off by the end of the body. Upstream "
                 "answers Refused PEER_REJECTED 'malformed broker Frame'."),
              ["WIRE-005"], source="upstream-test")
    refused = make("Refused", reason="malformed broker Frame", daemon_min_protocol=1,
                   daemon_max_protocol=1, code=6)
    g.valid("malformed-frame-refused-reply",
            framed(frame_response(0, enc("HelloReply", refused=refused))),
            up(CONN, "malformed_frame_body_gets_refused_response_frame",
               "the broker's reply: Frame{v1, RESPONSE, protocol 0, payload "
               "HelloReply{refused: 'malformed broker Frame', 1, 1, PEER_REJECTED}}."),
            ["WIRE-020", "ENV-007"], source="derived",
            pin="0126000000080110012220121e0a166d616c666f726d65642062726f6b6572204672616d"
                "65100118012006")
    g.valid("probe-request", framed(frame_request(0xB232, b"\x09" * 32, 7)),
            up(MUX, "probe_request_is_answered_with_identity_echo",
               "Frame::request(0xB232, [0x09; 32]).with_request_id(7)."),
            ["WIRE-020"], source="derived",
            pin="012a000000080118b2e40222200909090909090909090909090909090909090909090909"
                "0909090909090909092807")
    g.valid("consumer-7001-ping", framed(frame_request(0x7001, b"ping", 3)),
            up(MUX, "consumer_payload_frame_passes_through",
               "Frame::request(0x7001, b\"ping\").with_request_id(3)."),
            ["WIRE-020"], source="derived", pin="010e00000008011881e001220470696e672803")
    g.valid("control-hello-bytes", framed(frame_request(0, b"hello")),
            up(MUX, "first_party_and_unserved_protocols_are_rejected",
               "Frame::request(0, b\"hello\"): payload_protocol 0 is absent on the wire "
               "(the mux rejects it as a first-party frame)."),
            ["WIRE-020"], source="derived", pin="01090000000801220568656c6c6f")
    g.valid("unserved-7002-empty", framed(frame_request(0x7002)),
            up(MUX + " ; " + KIT, "first_party_and_unserved_protocols_are_rejected ; "
               "conformance_kit_covers_consumer_in_thirty_lines",
               "Frame::request(0x7002, vec![]): empty payload absent."),
            ["WIRE-020"], source="derived", pin="010600000008011882e001")
    g.valid("kit-f415-ping", framed(frame_request(0xF415, b"ping", 1)),
            up(KIT, "conformance_kit_covers_consumer_in_thirty_lines",
               "Frame::request(0xF415, b\"ping\").with_request_id(1), the kit's private "
               "lane frame."),
            ["WIRE-020"], source="derived", pin="010e00000008011895e803220470696e672801")
    g.valid("framed-golden-frame", framed(hx(GOLDEN_FRAME)),
            up(GB, "(none - derived)", "write_frame(GOLDEN_FRAME): 01 58 00 00 00 + "
               "GOLDEN_FRAME."),
            ["FRAME-002", "WIRE-001"], source="derived")
    offer, ack = hx(GOLDEN_OFFER), hx(GOLDEN_ACK)
    g.valid("handoff-offer-frame", framed(frame_request(0xD0FF, offer, 7)),
            up(HW, "(none - derived; handoff_offer_frame())",
               "Frame{v1, REQUEST, 0xD0FF, payload GOLDEN_HANDOFF_OFFER, request_id = "
               "correlation_id 7}."),
            ["WIRE-020"], source="derived",
            pin="012e000000080118ffa103222408ec171210000102030405060708090a0b0c0d0e0f1a0b"
                "6275696c642d636163686520072807")
    g.valid("handoff-ack-frame", framed(frame_response(0xD0FF, ack, 7)),
            up(HW, "(none - derived; handoff_ack_frame())",
               "Frame{v1, RESPONSE, 0xD0FF, payload GOLDEN_HANDOFF_ACK, request_id 7}."),
            ["WIRE-020"], source="derived",
            pin="01260000000801100118ffa103221a0a10000102030405060708090a0b0c0d0e0f10011a"
                "026f6b20072807")
    g.valid("handoff-ready-frame",
            framed(enc("Frame", envelope_version=1, kind=2, payload_protocol=0xD0FF,
                       payload=ack, request_id=7)),
            up(HW, "(none - derived; handoff_ready_frame())",
               "the same as the ack frame with kind EVENT (10 02)."),
            ["WIRE-020"], source="derived",
            pin="01260000000801100218ffa103221a0a10000102030405060708090a0b0c0d0e0f10011a"
                "026f6b20072807")

    g = f.group("upstream/envelope-hello", "envelope",
                "Upstream Hello-site envelope input.", message="Frame", site="hello")
    g.valid("malformed-payload-valid-envelope",
            enc("Frame", envelope_version=1, payload=hx("ffffff"), request_id=7,
                traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                tracestate="vendor=value"),
            up(HH, "hello_rejects_malformed_frame_payload",
               "a Frame body whose envelope is valid for the Hello site (the payload ff "
               "ff ff then fails Hello::decode: Refused PEER_REJECTED 'malformed Hello "
               "payload', see hello.json)."),
            ["ENV-001", "ENV-002", "ENV-003", "ENV-004", "ENV-006"], source="derived",
            pin="08012203ffffff2807423730302d34626639326633353737623334646136613363653932"
                "396430653065343733362d303066303637616130626139303262372d30314a0c76656e64"
                "6f723d76616c7565")


# --------------------------------------------------------------------------
# framing.json

def sample_hello_frame():
    """A Hello request frame as a client sends it: Frame{v1, REQUEST, 0x0000,
    payload GOLDEN_HELLO, request_id 7}, framed (111 bytes)."""
    return framed(frame_request(0, hx(GOLDEN_HELLO), 7))


def gen_framing(s):
    f = s.file("framing.json",
               "Framing (FRAME-*): the framing byte, the little-endian length header, "
               "the 16 MiB and 64 KiB caps at their boundaries, empty bodies, truncation "
               "at every offset of a Hello frame, trailing and back-to-back frames.")

    g = f.group("framing/version", "framing",
                "Byte 0 must be 0x01; any other value is refused from that one byte.",
                cap=MAX_FRAME)
    for b in (0x00, 0x02, 0x10, 0x7F, 0x80, 0xFF):
        g.invalid("byte-%02x-alone" % b, bytes([b]), "framing-version",
                  "A 1-byte stream %02x: the framing version is decided from the first "
                  "byte alone, before the length." % b, ["FRAME-001"])
    g.invalid("byte-02-then-valid-frame", b"\x02" + framed(b"abc"), "framing-version",
              "02 followed by a well-formed frame: no resynchronisation, the stream is "
              "refused at byte 0.", ["FRAME-001"])
    g.invalid("byte-00-empty-body", hx("0000000000"), "framing-version",
              "00 00 00 00 00: a zero framing byte with a zero length.", ["FRAME-001"])
    g.invalid("second-frame-bad-version", framed(b"ok") + hx("0200000000"),
              "framing-version",
              "A good frame followed by one with framing byte 02: the second split "
              "fails.", ["FRAME-001", "FRAME-002"])

    g = f.group("framing/header", "framing",
                "The 4-byte body length is little-endian and the frame is 5 + N bytes.",
                cap=MAX_FRAME)
    g.valid("length-3-little-endian", framed(b"abc"),
            "01 03 00 00 00 'abc': length 3 read little-endian.", ["FRAME-002"])
    g.invalid("length-3-big-endian", hx("0100000003") + b"abc", "frame-too-large",
              "01 00 00 00 03: read little-endian this is 0x03000000 = 50331648 > 16 MiB, "
              "so a big-endian reader would misframe.", ["FRAME-002", "FRAME-003"],
              flags=["HeaderOnly"])
    g.valid("length-256", framed(bytes(256)),
            "01 00 01 00 00 + 256 zero bytes: the second length byte is 256.",
            ["FRAME-002"])
    for n in range(1, 5):
        g.invalid("header-cut-after-%d" % n, hx("0103000000")[:n], "unexpected-eof",
                  "The stream ends after %d of the 5 header bytes." % n,
                  ["FRAME-007"], flags=["Truncated"])
    g.invalid("empty-stream", b"", "unexpected-eof",
              "No bytes at all: a reader at EOF reports unexpected-eof (the framing "
              "byte); the splitter says need-more.", ["FRAME-007"], flags=["Truncated"])

    g = f.group("framed/cap-default", "framed",
                "The 16 MiB cap (16777216): equal is accepted, one more is refused from "
                "the header alone. Big bodies are not materialised: a within-cap header "
                "with a missing body is unexpected-eof.", message="Frame", cap=MAX_FRAME)
    for n, err, what in ((MAX_FRAME - 1, "unexpected-eof", "cap - 1"),
                         (MAX_FRAME, "unexpected-eof", "exactly the cap, accepted"),
                         (MAX_FRAME + 1, "frame-too-large", "cap + 1"),
                         (MAX_FRAME + 256, "frame-too-large", "cap + 256"),
                         (0x7FFFFFFF, "frame-too-large", "2^31 - 1"),
                         (0x80000000, "frame-too-large", "2^31"),
                         (0xFFFFFFFF, "frame-too-large", "2^32 - 1")):
        g.invalid("header-only-%d" % n, header(n), err,
                  "A header claiming %d bytes (%s) and no body: %s." % (
                      n, what, "the length passes, the body is missing" if
                      err == "unexpected-eof" else "refused before any body byte"),
                  ["FRAME-003", "FRAME-005"] + (["FRAME-007"] if err == "unexpected-eof"
                                                else []),
                  flags=["HeaderOnly"] + (["Truncated"] if err == "unexpected-eof" else []))
    g.invalid("cap-with-partial-body", header(MAX_FRAME) + b"abc", "unexpected-eof",
              "A header claiming exactly 16777216 bytes followed by 3 of them.",
              ["FRAME-003", "FRAME-007"], flags=["HeaderOnly", "Truncated"])
    g.invalid("cap-plus-1-with-body-bytes", header(MAX_FRAME + 1) + b"abc",
              "frame-too-large",
              "A header claiming 16777217 bytes followed by 3 body bytes: still decided "
              "from the header.", ["FRAME-003", "FRAME-005"], flags=["HeaderOnly"])

    g = f.group("framed/cap-hello", "framed",
                "The first-Hello cap (65536): equal accepted, one more refused.",
                message="Frame", cap=MAX_HELLO)
    for n, err in ((MAX_HELLO - 1, "unexpected-eof"), (MAX_HELLO, "unexpected-eof"),
                   (MAX_HELLO + 1, "frame-too-large"), (MAX_HELLO * 2, "frame-too-large"),
                   (MAX_FRAME, "frame-too-large"), (MAX_FRAME + 1, "frame-too-large")):
        g.invalid("header-only-%d" % n, header(n), err,
                  "A header claiming %d bytes under the Hello cap and no body: %s." % (
                      n, "within the cap, the body is missing" if err == "unexpected-eof"
                      else "refused from the header"),
                  ["FRAME-004", "FRAME-005"] + (["FRAME-007"] if err == "unexpected-eof"
                                                else []),
                  flags=["HeaderOnly"] + (["Truncated"] if err == "unexpected-eof" else []))
    g.valid("hello-frame", sample_hello_frame(),
            "A 106-byte Hello request frame is well within the Hello cap.",
            ["FRAME-004"])

    g = f.group("framing/cap-16", "framing",
                "A caller-chosen cap of 16 with real bodies around the boundary.", cap=16)
    for n in (15, 16):
        g.valid("body-%d" % n, framed(bytes(range(n))),
                "A %d-byte body under cap 16 is accepted%s." % (
                    n, " (equal to the cap)" if n == 16 else ""), ["FRAME-003"])
    g.invalid("body-17", framed(bytes(range(17))), "frame-too-large",
              "A 17-byte body under cap 16 is refused from the header though the whole "
              "body is present.", ["FRAME-003", "FRAME-005"])

    g = f.group("framing/cap-0", "framing",
                "Cap 0: only empty bodies pass.", cap=0)
    g.valid("empty-body", framed(b""), "An empty body equals cap 0.", ["FRAME-003",
                                                                        "FRAME-006"],
            flags=["EmptyBody"])
    g.invalid("one-byte-body", framed(b"x"), "frame-too-large",
              "A 1-byte body exceeds cap 0.", ["FRAME-003"])

    g = f.group("framing/streams", "framing",
                "Streams of several frames: frames are back to back with no trailer.",
                cap=MAX_FRAME)
    g.valid("two-empty-frames", framed(b"") * 2,
            "Two empty frames back to back (10 bytes).", ["FRAME-002", "FRAME-006",
                                                           "FRAME-009"],
            flags=["EmptyBody"])
    g.valid("empty-then-hello", framed(b"") + sample_hello_frame(),
            "An empty frame then a Hello frame.", ["FRAME-002", "FRAME-009"])
    g.valid("three-sizes", framed(b"a") + framed(bytes(300)) + framed(b"bc"),
            "Frames of 1, 300 and 2 bytes.", ["FRAME-002", "FRAME-009"])
    g.invalid("frame-then-partial-header", framed(b"abc") + hx("0105"), "unexpected-eof",
              "A complete frame, then 2 bytes of the next header and EOF.",
              ["FRAME-007", "FRAME-009"], flags=["Truncated"])
    g.invalid("frame-then-partial-body", framed(b"abc") + hx("0104000000aa"),
              "unexpected-eof",
              "A complete frame, then a header claiming 4 bytes and 1 body byte.",
              ["FRAME-007", "FRAME-009"], flags=["Truncated"])
    g.invalid("frame-then-oversize", framed(b"abc") + header(MAX_FRAME + 1),
              "frame-too-large", "A complete frame, then an oversize header.",
              ["FRAME-003", "FRAME-009"], flags=["HeaderOnly"])

    # Framed (body decoded as Frame).
    g = f.group("framed/basics", "framed",
                "Split the first frame and decode its body as Frame.", message="Frame",
                cap=MAX_FRAME)
    g.valid("empty-body", hx("0100000000"),
            "01 00 00 00 00: a valid frame whose empty body is the all-default Frame "
            "(envelope_version 0, rejected later by ENV-001, not here).",
            ["FRAME-006", "WIRE-001"], flags=["EmptyBody"])
    g.valid("hello-frame", sample_hello_frame(),
            "A Hello request frame: Frame{v1, REQUEST, payload GOLDEN_HELLO, request_id "
            "7}.", ["FRAME-002", "WIRE-001"])
    g.invalid("version-02", b"\x02" + sample_hello_frame()[1:], "framing-version",
              "The Hello frame with its framing byte changed to 02.", ["FRAME-001"])
    g.invalid("body-not-a-frame", framed(hx("00")), "invalid-tag",
              "A 1-byte body 00: a key with field number 0.", ["WIRE-003"])
    g.invalid("body-golden-hello", framed(hx(GOLDEN_HELLO)), "wire-type-mismatch",
              "A bare Hello as the body (the v2 scaffold's mistake): 08 01 10 03 read as "
              "Frame fields, then 1a (field 3, payload_protocol, a uint32) arrives with "
              "wire type 2.", ["WIRE-001", "WIRE-008"])

    g = f.group("framed/trailing", "framed",
                "Bytes after the first frame are not examined; consumed is 5 + N.",
                message="Frame", cap=MAX_FRAME)
    body = frame_request(0x7001, b"abc")
    for name, tail, what in (("bad-version-byte", hx("02"), "a stray 02"),
                             ("partial-header", hx("0105"), "2 bytes of a header"),
                             ("oversize-header", header(MAX_FRAME + 1), "an oversize header"),
                             ("garbage", hx("ffffffff"), "ff ff ff ff"),
                             ("second-frame", framed(frame_request(0x7002)),
                              "a second complete frame")):
        g.valid("then-" + name, framed(body) + tail,
                "A request frame followed by %s: only the first frame is decoded." % what,
                ["FRAME-009"], flags=["TrailingBytes"])

    g = f.group("framed/body-bounds", "framed",
                "The body is decoded on its own: its end is the end of the input for the "
                "decoder, even when the stream continues.", message="Frame", cap=MAX_FRAME)
    g.invalid("varint-cut-by-body-end", framed(hx("08")) + hx("01"), "invalid-varint",
              "Body 08 (key of envelope_version, value missing); the next stream byte 01 "
              "must not be read as the value.", ["WIRE-005", "FRAME-009"])
    g.invalid("string-cut-by-body-end", framed(hx("4205616263")) + b"de",
              "buffer-underflow",
              "Body 42 05 'abc' (traceparent claims 5 bytes, 3 in the body); the 2 bytes "
              "after the frame do not count.", ["WIRE-010", "FRAME-009"])
    g.invalid("key-cut-by-body-end", framed(hx("080180")) + hx("01"), "invalid-varint",
              "Body 08 01 80: the second key's varint is cut off by the body's end.",
              ["WIRE-005", "FRAME-009"])

    g = f.group("framed/truncation", "framed",
                "A 111-byte Hello request frame cut at every offset 0..110: each prefix "
                "is need-more for the incremental splitter and unexpected-eof at EOF.",
                message="Frame", cap=MAX_HELLO)
    whole = sample_hello_frame()
    for n in range(len(whole)):
        part = "framing byte" if n == 0 else ("length header" if n < 5 else "body")
        g.invalid("cut-at-%03d" % n, whole[:n], "unexpected-eof",
                  "The first %d bytes of the Hello frame: the stream ends inside the %s." %
                  (n, part), ["FRAME-007", "FRAME-009"], flags=["Truncated"])
    g.valid("whole", whole, "The whole Hello frame, under the Hello cap.",
            ["FRAME-004", "FRAME-009"])


# --------------------------------------------------------------------------
# frame.json

def gen_frame(s):
    f = s.file("frame.json",
               "The Frame message (WIRE-001, WIRE-018): each field on its own, explicit "
               "defaults, open enums, 32-bit truncation and field order.")
    g = f.group("frame/fields", "message", "Each Frame field set on its own, canonical.",
                message="Frame")
    g.valid("empty", b"", "An empty body is the all-default Frame.", ["WIRE-001"],
            flags=["EmptyBody"])
    single = [
        ("envelope-version-1", dict(envelope_version=1), "envelope_version 1: 08 01."),
        ("kind-response", dict(kind=1), "kind RESPONSE: 10 01."),
        ("kind-event", dict(kind=2), "kind EVENT: 10 02."),
        ("kind-cancel", dict(kind=3), "kind CANCEL: 10 03."),
        ("payload-protocol-admin", dict(payload_protocol=0xAD01), "payload_protocol 0xAD01."),
        ("payload-protocol-probe", dict(payload_protocol=0xB232), "payload_protocol 0xB232."),
        ("payload-protocol-handoff", dict(payload_protocol=0xD0FF),
         "payload_protocol 0xD0FF."),
        ("payload-protocol-private-max", dict(payload_protocol=0xFFFF),
         "payload_protocol 0xFFFF."),
        ("payload-protocol-u32-max", dict(payload_protocol=0xFFFFFFFF),
         "payload_protocol 2^32-1: the field is a full uint32, not 16 bits."),
        ("payload-bytes", dict(payload=bytes(range(256))), "a 256-byte payload 00..ff."),
        ("request-id-u64-max", dict(request_id=(1 << 64) - 1),
         "request_id 2^64-1: a 10-byte varint ending in 01."),
        ("payload-encoding-zstd", dict(payload_encoding=1), "payload_encoding ZSTD."),
        ("payload-encoding-snappy", dict(payload_encoding=2), "payload_encoding SNAPPY."),
        ("payload-encoding-lz4", dict(payload_encoding=3), "payload_encoding LZ4."),
        ("deadline", dict(deadline_unix_ms=1700000000000), "deadline_unix_ms set."),
        ("traceparent", dict(traceparent=TRACEPARENT), "traceparent (W3C)."),
        ("tracestate", dict(tracestate="rp=1,vendor=value"), "tracestate."),
    ]
    for name, values, text in single:
        g.valid(name, enc("Frame", **values), "A Frame with only " + text,
                ["WIRE-018", "WIRE-020"])

    g = f.group("frame/explicit-defaults", "message",
                "Fields written explicitly with their default (WIRE-021): accepted, not "
                "canonical.", message="Frame")
    defaults = [("envelope-version", hx("0800")), ("kind", hx("1000")),
                ("payload-protocol", hx("1800")), ("payload", hx("2200")),
                ("request-id", hx("2800")), ("payload-encoding", hx("3000")),
                ("deadline", hx("3800")), ("traceparent", hx("4200")),
                ("tracestate", hx("4a00"))]
    for name, data in defaults:
        g.valid(name, data, "%s written as %s (its default)." % (name, data.hex(" ")),
                ["WIRE-021"], flags=["ExplicitDefault"])
    g.valid("all-nine", b"".join(d for _, d in defaults),
            "All nine fields written with their defaults.", ["WIRE-021"],
            flags=["ExplicitDefault"])
    g.valid("overlong-zero", hx("0880808000"),
            "envelope_version 0 as a 4-byte over-long varint.", ["WIRE-021", "WIRE-005"],
            flags=["ExplicitDefault", "Overlong"])

    g = f.group("frame/open-enums", "message",
                "Unnamed enum numbers are kept (WIRE-007).", message="Frame")
    for name, data, text, flags, canon in (
            ("kind-4", vi(2, 4), "kind 4", ["OpenEnum"], True),
            ("kind-99", vi(2, 99), "kind 99", ["OpenEnum"], True),
            ("kind-int32-max", vi(2, 0x7FFFFFFF), "kind 2^31-1", ["OpenEnum"], True),
            ("kind-minus-1", vi(2, -1), "kind -1 as the 10-byte sign-extended varint "
             "(canonical for a negative enum)", ["OpenEnum"], True),
            ("kind-int32-min", vi(2, -(1 << 31)), "kind -2^31 (10 bytes)", ["OpenEnum"],
             True),
            ("payload-encoding-7", vi(6, 7), "payload_encoding 7", ["OpenEnum"], True),
            ("payload-encoding-minus-2", vi(6, -2), "payload_encoding -2", ["OpenEnum"],
             True)):
        g.valid(name, data, "A Frame with %s." % text, ["WIRE-007"], flags=flags)

    g = f.group("frame/truncate-32", "message",
                "uint32 and enum fields keep the low 32 bits of the varint (WIRE-006).",
                message="Frame")
    for name, data, text in (
            ("envelope-version-2p32-plus-1", hx("0881808080" "10"),
             "envelope_version sent as 2^32+1 (08 81 80 80 80 10) decodes to 1"),
            ("envelope-version-u64-max", key(1, 0) + varint((1 << 64) - 1),
             "envelope_version sent as 2^64-1 decodes to 2^32-1"),
            ("envelope-version-2p32", key(1, 0) + varint(1 << 32),
             "envelope_version sent as 2^32 decodes to 0"),
            ("payload-protocol-2p32-plus-ad01", key(3, 0) + varint((1 << 32) + 0xAD01),
             "payload_protocol sent as 2^32+0xAD01 decodes to 0xAD01"),
            ("kind-2p32-plus-1", key(2, 0) + varint((1 << 32) + 1),
             "kind sent as 2^32+1 decodes to RESPONSE"),
            ("kind-5-byte-minus-1", hx("10ffffffff0f"),
             "kind sent as the 5-byte varint 2^32-1 decodes to -1 (int32); prost writes "
             "-1 with 10 bytes, so this is not canonical"),
            ("payload-encoding-2p33-plus-3", key(6, 0) + varint((1 << 33) + 3),
             "payload_encoding sent as 2^33+3 decodes to LZ4")):
        g.valid(name, data, text + ".", ["WIRE-006"], flags=["Truncated32"])
    g.valid("request-id-not-truncated", key(5, 0) + varint((1 << 32) + 1),
            "request_id is a uint64: 2^32+1 stays 2^32+1.", ["WIRE-006"])

    g = f.group("frame/field-order", "message",
                "Fields may arrive in any order.", message="Frame")
    gf = hx(GOLDEN_FRAME)
    parts = [vi(1, 1), vi(2, 1), vi(3, 0xAD01), ld(4, hx("deadbeef")), vi(5, 42),
             vi(6, 1), vi(7, 1700000000000), ld(8, TRACEPARENT), ld(9, "rp=1")]
    assert b"".join(parts) == gf
    g.valid("golden-frame-reversed", b"".join(reversed(parts)),
            "GOLDEN_FRAME's nine fields in descending order: same values.",
            ["WIRE-001", "WIRE-020"], flags=["FieldOrder"])
    g.valid("golden-frame-payload-first", parts[3] + b"".join(parts[:3] + parts[4:]),
            "GOLDEN_FRAME with the payload field first.", ["WIRE-001"],
            flags=["FieldOrder"])
    g.valid("payload-is-opaque", enc("Frame", envelope_version=1,
                                     payload=hx("ffc0808000ed a0 80".replace(" ", ""))),
            "The payload is bytes: invalid UTF-8 and a field-0 key inside it are not "
            "looked at by the Frame decoder (WIRE-017).", ["WIRE-017", "WIRE-012"])


# --------------------------------------------------------------------------
# Payload messages: hello.json, reply.json, handoff.json, manifest.json,
# service.json, admin.json.

def gen_hello(s):
    f = s.file("hello.json", "The Hello message (WIRE-018).")
    g = f.group("hello/valid", "message", "Hello bodies built from field values.",
                message="Hello")
    g.valid("minimal", enc("Hello", client_min_protocol=1, client_max_protocol=1,
                           service_name="svc"),
            "client_min/max_protocol 1 and service_name 'svc'.", ["WIRE-018", "WIRE-020"])
    g.valid("all-fields",
            enc("Hello", **dict(golden_hello_values(), connection_id=77)),
            "GOLDEN_HELLO's values with connection_id 77 (field 9 written: 48 4d).",
            ["WIRE-018", "WIRE-020"])
    g.valid("max-values",
            enc("Hello", client_min_protocol=0xFFFFFFFF, client_max_protocol=0xFFFFFFFF,
                client_capabilities=(1 << 64) - 1, connection_id=(1 << 64) - 1,
                peer_pid=0xFFFFFFFF, client_keepalive_secs=(1 << 64) - 1),
            "Every integer field at its maximum.", ["WIRE-018", "WIRE-020"])
    g.valid("service-name-64", enc("Hello", service_name="a" * 64),
            "A 64-character service_name (the broker's cap; the codec has none).",
            ["WIRE-018"])
    g.valid("unicode-strings",
            enc("Hello", client_version="v\u00e9rsion-\u4e2d\u6587-\U0001f600",
                client_lib_name="lib\u0000nul"),
            "Non-ASCII and an embedded NUL in string fields.", ["WIRE-012"])
    g.valid("request-id-is-string", enc("Hello", request_id="42"),
            "Hello.request_id is a string (42 is the text '42'), unlike Frame.request_id.",
            ["WIRE-018"])
    g.valid("empty", b"", "An empty Hello body: all defaults.", ["WIRE-001", "WIRE-018"],
            flags=["EmptyBody"])
    g.valid("reserved-16-to-20", hx(GOLDEN_HELLO) + vi(16, 1) + ld(17, "x") +
            vi(18, 0) + key(19, 5) + bytes(4) + key(20, 1) + bytes(8),
            "GOLDEN_HELLO followed by the reserved fields 16-20 (wire types 0, 2, 0, 5, "
            "1): skipped.", ["WIRE-014"], flags=["UnknownField"])

    g = f.group("hello/invalid", "message", "Hello bodies that must not decode.",
                message="Hello")
    g.invalid("malformed-payload-ffffff", hx("ffffff"), "invalid-varint",
              "The payload of upstream's hello_rejects_malformed_frame_payload: a key "
              "varint cut off by the end of input (upstream: Refused PEER_REJECTED "
              "'malformed Hello payload').", ["WIRE-005", "WIRE-017"])
    g.invalid("request-id-as-varint", vi(8, 42), "wire-type-mismatch",
              "request_id (field 8, a string) sent as a varint as if it were "
              "Frame.request_id.", ["WIRE-008"])
    g.invalid("peer-pid-as-bytes", ld(10, b"\x92\x21"), "wire-type-mismatch",
              "peer_pid (uint32) sent length-delimited.", ["WIRE-008"])
    g.invalid("service-name-invalid-utf8", ld(3, b"build\xff"), "invalid-utf8",
              "service_name with a byte ff.", ["WIRE-012"])


def gen_reply(s):
    f = s.file("reply.json",
               "HelloReply, Negotiated and Refused (WIRE-018): the oneof, lists, maps "
               "and every ErrorCode.")
    g = f.group("reply/hello-reply", "message", "HelloReply and its oneof result.",
                message="HelloReply")
    g.valid("unset", b"", "An empty HelloReply: the oneof is unset ({}).",
            ["WIRE-018", "WIRE-001"], flags=["EmptyBody"])
    g.valid("refused-all-default", enc("HelloReply", refused=make("Refused")),
            "HelloReply{refused: Refused::default()} is 12 00.", ["WIRE-020"])
    g.valid("refused-golden", enc("HelloReply",
                                  refused=make("Refused", **golden_refused_values())),
            "HelloReply{refused: GOLDEN_REFUSED}.", ["WIRE-018", "WIRE-020"])
    g.valid("negotiated-handoff-token",
            enc("HelloReply", negotiated=make(
                "Negotiated", negotiated_protocol=1, daemon_version="4.5.5",
                backend_pipe="/run/user/1000/rp/backend.sock",
                server_capabilities=1, keepalive_interval_secs=30,
                handle_passed_token=TOKEN16, connection_id=1)),
            "A Negotiated with a 16-byte handle_passed_token.", ["WIRE-018", "WIRE-020"])

    g = f.group("reply/negotiated", "message", "Bare Negotiated messages.",
                message="Negotiated")
    for n in (0, 1, 3):
        g.valid("warnings-%d" % n,
                enc("Negotiated", negotiated_protocol=1,
                    warnings=["warning %d" % i for i in range(n)]),
                "%d warnings, one tag per element." % n, ["WIRE-020"])
    g.valid("warnings-empty-elements", enc("Negotiated", warnings=["", "x", ""]),
            "Empty strings in a list are still elements (22 00).", ["WIRE-020"])

    g = f.group("reply/refused", "message", "Bare Refused messages, every ErrorCode.",
                message="Refused")
    for code in range(10):
        g.valid("code-%d" % code,
                enc("Refused", reason="reason %d" % code, daemon_min_protocol=1,
                    daemon_max_protocol=1, code=code),
                "A Refused with ErrorCode %d." % code, ["WIRE-018", "WIRE-020"])
    g.valid("code-reserved-10", enc("Refused", code=10),
            "ErrorCode 10 (reserved, unnamed) is kept as 10.", ["WIRE-007"],
            flags=["OpenEnum"])
    g.valid("fd-pressure-retry", enc("Refused", reason="broker is low on file descriptors;"
                                     " retry shortly", daemon_min_protocol=1,
                                     daemon_max_protocol=1, code=9, retry_after_ms=1000),
            "The broker's FD_PRESSURE refusal with retry_after_ms 1000.", ["WIRE-018"])
    g.valid("details-two-entries",
            hx("2a0a0a05666c6f6f72120132") + ld(5, ld(1, "ceiling") + ld(2, "9")),
            "details with two entries, 'floor' then 'ceiling' (no canonical order).",
            ["WIRE-009", "WIRE-020"], flags=["MapEntryOrder"])


def gen_handoff(s):
    f = s.file("handoff.json", "HandoffOffer and HandoffAck (WIRE-018), and the checks "
               "of the connection handoff (spec/handoff.md): the receiver's of an offer with "
               "its verdict and ACK bytes, the broker's of an ACK, the adopting client's of a "
               "handoff-ready frame.")
    gen_handoff_checks(s, f)
    g = f.group("handoff/offer", "message", "HandoffOffer bodies.", message="HandoffOffer")
    g.valid("unix", enc("HandoffOffer", token=bytes(range(100, 116)),
                        service_name="zccache", correlation_id=1),
            "An offer on Unix: handle_value 0 (absent).", ["WIRE-018", "WIRE-020"])
    g.valid("max-ids", enc("HandoffOffer", handle_value=(1 << 64) - 1, token=TOKEN16,
                           service_name="s", correlation_id=(1 << 64) - 1),
            "handle_value and correlation_id at 2^64-1.", ["WIRE-018", "WIRE-020"])
    g.valid("reserved-5-to-10", hx(GOLDEN_OFFER) + vi(5, 1) + ld(10, b"\x00"),
            "GOLDEN_HANDOFF_OFFER followed by reserved fields 5 and 10: skipped.",
            ["WIRE-014"], flags=["UnknownField"])
    g.invalid("token-as-varint", vi(2, 16), "wire-type-mismatch",
              "token (bytes) sent as a varint.", ["WIRE-008"])

    g = f.group("handoff/ack", "message", "HandoffAck bodies.", message="HandoffAck")
    g.valid("rejected", enc("HandoffAck", token=TOKEN16, accepted=False,
                            error_detail="token mismatch", correlation_id=7),
            "accepted false (absent) with an error_detail.", ["WIRE-018", "WIRE-020"])
    g.valid("accepted-as-2", hx("1002"),
            "accepted sent as 2: bool is 'varint != 0', true.", ["WIRE-006"])
    g.valid("accepted-as-2p32", key(2, 0) + varint(1 << 32),
            "accepted sent as 2^32: true (a bool is not truncated to 32 bits).",
            ["WIRE-006"])
    g.valid("accepted-overlong-one", hx("108100"),
            "accepted sent as 81 00 (over-long 1): true.", ["WIRE-006", "WIRE-005"],
            flags=["Overlong"])
    g.invalid("accepted-as-fixed32", key(2, 5) + hx("01000000"), "wire-type-mismatch",
              "accepted (bool) sent as fixed32.", ["WIRE-008"])


# --------------------------------------------------------------------------
# The handoff's three checks (spec/handoff.md): the receiver's of an offer
# (HANDOFF-042, its verdict and ACK, HANDOFF-043), the broker's of an ACK
# (HANDOFF-030 steps 1 to 6) and the adopting client's of a handoff-ready
# frame (HANDOFF-051).

HANDOFF_ERRORS = {"handoff-token-missing", "handoff-token-length", "handoff-token-mismatch",
                  "handoff-correlation", "handoff-refused"}


def handoff_verdict(token):
    """HANDOFF-043: the receiver's verdict on an offer's token and its detail."""
    if not token:
        return "handoff-token-missing", "handoff token is missing"
    if len(token) != 16:
        return "handoff-token-length", "handoff token length was %d bytes; expected 16" % len(token)
    return "ok", ""


def handoff_model(kind, body, token, correlation):
    """(first failing check or None, decoded payload) for a body Google parses."""
    f = parse("Frame", body)
    err = envelope_check(f, kind, correlation or 0)
    if err:
        return err, None
    m = parse("HandoffOffer" if kind == "handoff-offer" else "HandoffAck", f.payload)
    if kind == "handoff-offer":
        return ("handoff-correlation" if f.request_id != m.correlation_id else None), m
    if kind == "handoff-ack" and m.correlation_id != correlation:
        return "handoff-correlation", m
    if m.token != token:
        return "handoff-token-mismatch", m
    return (None if m.accepted else "handoff-refused"), m


class HandoffGroup(Group):
    """A group of one of the handoff kinds; the expected token and
    correlation id of the broker and client checks."""

    def __init__(self, vfile, gid, kind, description, token=None, correlation=None):
        Group.__init__(self, vfile, gid, kind, description, None, None, None, [])
        self.token, self.correlation = token, correlation

    def to_json(self):
        out = {"id": self.id, "kind": self.kind, "description": self.description,
               "options": []}
        if self.token is not None:
            out["token"] = self.token.hex()
        if self.correlation is not None:
            out["correlation_id"] = self.correlation
        out["tests"] = self.tests
        return out

    def check(self, name, body, comment, reqs, error=None, source="rpb", pin=None):
        if pin is not None:
            assert bytes(body) == hx(pin), (name, bytes(body).hex())
        if error in HANDOFF_ERRORS or error is None or error.startswith("envelope-"):
            got, m = handoff_model(self.kind, body, self.token, self.correlation)
            assert got == error, (name, got, error)
        else:  # a decode class, assigned by spec/wire.md's rules
            f = parse("Frame", body)
            assert envelope_check(f, self.kind, self.correlation or 0) is None, name
            assert not google_accepts("HandoffAck" if self.kind != "handoff-offer"
                                      else "HandoffOffer", f.payload), name
        t = self._test(name, body, "invalid" if error else "valid", comment, reqs, (), source)
        if error:
            t["error"] = error
            return t
        t["expected"] = to_json(m)
        if self.kind == "handoff-offer":
            verdict, detail = handoff_verdict(m.token)
            t["verdict"] = verdict
            ack = enc("HandoffAck", token=m.token, accepted=verdict == "ok",
                      error_detail=detail, correlation_id=m.correlation_id)
            t["ack"] = framed(frame_response(0xD0FF, ack, m.correlation_id)).hex()
        return t


def gen_handoff_checks(s, f):
    """handoff.json's groups of the handoff's checks."""

    def group(gid, kind, description, token=None, correlation=None):
        s.claim(gid)
        g = HandoffGroup(f, gid, kind, description, token, correlation)
        f.groups.append(g)
        return g

    def offer(token=TOKEN16, service="zccache", correlation=1, **values):
        return enc("HandoffOffer", token=token, service_name=service, correlation_id=correlation,
                   **values)

    def ack(token=TOKEN16, accepted=True, detail="", correlation=1):
        return enc("HandoffAck", token=token, accepted=accepted, error_detail=detail,
                   correlation_id=correlation)

    flipped = bytes([TOKEN16[0] ^ 0xFF]) + TOKEN16[1:]
    g = group("handoff/offer-check", "handoff-offer",
              "Offer Frame bodies a handoff receiver reads after the descriptor; a valid "
              "one carries the receiver's verdict on its token and the ACK it writes.")
    g.check("example", frame_request(0xD0FF, offer(), 1),
            "The offer of spec/handoff.md HANDOFF-021 (token 00..0F, zccache, correlation 1), "
            "accepted: the ACK of HANDOFF-043.", ["HANDOFF-021", "HANDOFF-042", "HANDOFF-043"],
            source="derived",
            pin="080118ffa103221d1210000102030405060708090a0b0c0d0e0f1a077a636361636865200128"
                "01")
    g.check("golden", frame_request(0xD0FF, hx(GOLDEN_OFFER), 7),
            "GOLDEN_HANDOFF_OFFER (handle_value 0xBEC, correlation 7) framed with request_id 7.",
            ["HANDOFF-042", "HANDOFF-043"], source="derived")
    g.check("token-15", frame_request(0xD0FF, offer(token=TOKEN16[:15]), 1),
            "A 15-byte token: refused with upstream's length detail.", ["HANDOFF-043"])
    g.check("token-empty", frame_request(0xD0FF, offer(token=b""), 1),
            "No token: refused as missing.", ["HANDOFF-043"])
    g.check("correlation-0", frame_request(0xD0FF, offer(correlation=0), 0),
            "correlation_id 0 and request_id 0 (both absent): they agree.", ["HANDOFF-042"])
    for name, body, err, why in (
            ("request-id-differs", frame_request(0xD0FF, offer(), 2), "handoff-correlation",
             "request_id 2 for correlation_id 1"),
            ("kind-response", frame_response(0xD0FF, offer(), 1), "envelope-kind",
             "kind RESPONSE"),
            ("protocol-0", frame_request(0, offer(), 1), "envelope-payload-protocol",
             "payload_protocol 0 (upstream's 'payload_protocol is not handoff')"),
            ("zstd", frame_request(0xD0FF, offer(), 1, payload_encoding=1),
             "envelope-payload-encoding", "a compressed payload"),
            ("version-2", enc("Frame", envelope_version=2, payload_protocol=0xD0FF,
                              payload=offer(), request_id=1), "envelope-version",
             "envelope_version 2"),
            ("offer-truncated", frame_request(0xD0FF, offer()[:10], 1), "buffer-underflow",
             "the offer cut inside its token")):
        g.check(name, body, "Refused by the receiver, no ACK: %s." % why, ["HANDOFF-042"],
                error=err)

    g = group("handoff/ack-check", "handoff-ack",
              "ACK Frame bodies a broker reads for the handoff of token 00..0F with "
              "correlation id 1.", token=TOKEN16, correlation=1)
    g.check("accepted", frame_response(0xD0FF, ack(), 1),
            "The accepted ACK of spec/handoff.md HANDOFF-043.", ["HANDOFF-030", "HANDOFF-043"],
            source="derived",
            pin="08011001""18ffa1032216""0a10000102030405060708090a0b0c0d0e0f100120012801")
    g.check("detail-ignored", frame_response(0xD0FF, ack(detail="fine"), 1),
            "An accepted ACK with an error_detail: only logged.", ["HANDOFF-030"])
    for name, body, err, why in (
            ("refused", frame_response(0xD0FF, ack(accepted=False,
                                                   detail="handoff token mismatch"), 1),
             "handoff-refused", "accepted false"),
            ("token-flipped", frame_response(0xD0FF, ack(token=flipped), 1),
             "handoff-token-mismatch", "another token echoed"),
            ("token-15", frame_response(0xD0FF, ack(token=TOKEN16[:15]), 1),
             "handoff-token-mismatch", "a 15-byte prefix of the token echoed"),
            ("correlation-2", frame_response(0xD0FF, ack(correlation=2), 1),
             "handoff-correlation", "correlation_id 2 in the payload"),
            ("correlation-before-token", frame_response(0xD0FF, ack(token=flipped,
                                                                    accepted=False,
                                                                    correlation=2), 1),
             "handoff-correlation", "correlation, token and accepted all wrong: "
             "correlation is checked first"),
            ("request-id-2", frame_response(0xD0FF, ack(), 2), "envelope-request-id",
             "request_id 2"),
            ("request-id-after-encoding", frame_response(0xD0FF, ack(), 2, payload_encoding=1),
             "envelope-payload-encoding", "request_id and encoding both wrong: the encoding "
             "is checked first"),
            ("kind-event", enc("Frame", envelope_version=1, kind=2, payload_protocol=0xD0FF,
                               payload=ack(), request_id=1), "envelope-kind",
             "the handoff-ready kind EVENT"),
            ("protocol-admin", frame_response(0xAD01, ack(), 1), "envelope-payload-protocol",
             "payload_protocol 0xAD01 (upstream's malformed_ack_frame_falls_back)"),
            ("ack-truncated", frame_response(0xD0FF, ack()[:10], 1), "buffer-underflow",
             "the ACK cut inside its token")):
        g.check(name, body, "The attempt ends, nothing for the client: %s." % why,
                ["HANDOFF-030"], error=err)

    g = group("handoff/ready-check", "handoff-ready",
              "handoff-ready Frame bodies an adopting client reads after a Negotiated "
              "with token 00..0F.", token=TOKEN16)
    ev = lambda payload, rid=1, **x: enc("Frame", envelope_version=1, kind=2,
                                         payload_protocol=0xD0FF, payload=payload,
                                         request_id=rid, **x)
    g.check("example", ev(ack()),
            "The handoff-ready frame of spec/handoff.md HANDOFF-031.",
            ["HANDOFF-031", "HANDOFF-051"], source="derived",
            pin="08011002""18ffa1032216""0a10000102030405060708090a0b0c0d0e0f100120012801")
    g.check("ids-ignored", ev(ack(detail="x", correlation=9), rid=5),
            "request_id, correlation_id and error_detail are not checked.", ["HANDOFF-051"])
    for name, body, err, why in (
            ("refused", ev(ack(accepted=False)), "handoff-refused", "accepted false"),
            ("token-flipped", ev(ack(token=flipped)), "handoff-token-mismatch",
             "token[0] ^ FF (upstream's token_echo_mismatch)"),
            ("token-15", ev(ack(token=TOKEN16[:15])), "handoff-token-mismatch",
             "a 15-byte prefix of the token"),
            ("kind-response", frame_response(0xD0FF, ack(), 1), "envelope-kind",
             "the ACK's kind RESPONSE"),
            ("upstream-malformed", frame_response(0, b"\xff" * 8), "envelope-kind",
             "upstream's malformed relay: RESPONSE on protocol 0, payload FF x 8"),
            ("zstd", ev(ack(), payload_encoding=1), "envelope-payload-encoding",
             "a compressed payload")):
        g.check(name, body, "Not adopted, the client falls back: %s." % why, ["HANDOFF-051"],
                error=err)


def gen_manifest(s):
    f = s.file("manifest.json", "DaemonProcess, Endpoint and HostIdentity (WIRE-018).")
    g = f.group("manifest/daemon-process", "message", "DaemonProcess bodies.",
                message="DaemonProcess")
    g.valid("dp1", enc("DaemonProcess", **dp1_values()),
            "DP1, upstream's probe test values (94 bytes): idle_timeout_secs Some(30) ends in 38 1e.",
            ["WIRE-018", "WIRE-020"], source="derived",
            pin="08922112112f7573722f62696e2f6d796461656d6f6e1a20" + "aa" * 32 +
                "22130a046e732d31120b2f746d702f642e736f636b2880d095ffbc313206626f6f742d"
                "31381e")
    g.valid("dp1-idle-none", enc("DaemonProcess", **dp1_values(None)),
            "DP1 with idle_timeout_secs None: field 7 absent, key absent in JSON.",
            ["WIRE-018", "WIRE-020"], source="derived")
    g.valid("dp1-idle-zero", enc("DaemonProcess", **dp1_values(0)),
            "DP1 with idle_timeout_secs Some(0): 38 00 is written (explicit presence) "
            "and canonical.", ["WIRE-018", "WIRE-020"], source="derived")
    g.valid("dp2", enc("DaemonProcess", **dp2_values()),
            "DP2, upstream's proto_roundtrip.rs values (121 bytes).",
            ["WIRE-018", "WIRE-020"], source="derived")
    g.valid("endpoint-present-empty", hx("2200"),
            "Only an empty ipc_endpoint (22 00): present, with empty strings; canonical.",
            ["WIRE-020"], source="derived")
    g.valid("endpoint-absent", b"",
            "Empty body: ipc_endpoint absent (a prober then reports MissingEndpoint).",
            ["WIRE-001"], flags=["EmptyBody"], source="derived")
    g.valid("idle-only-zero", hx("3800"),
            "Only idle_timeout_secs = 0: present.", ["WIRE-020"])
    g.valid("idle-2p32-truncated", key(7, 0) + varint(1 << 32),
            "idle_timeout_secs sent as 2^32: present with value 0.", ["WIRE-006"],
            flags=["Truncated32"])
    g.valid("sha-31-bytes", enc("DaemonProcess", exe_sha256=b"\x11" * 31,
                                ipc_endpoint=make("Endpoint", path="/p")),
            "A 31-byte exe_sha256 decodes (the length check is the prober's, not the "
            "codec's).", ["WIRE-018"])
    g.invalid("idle-as-bytes", ld(7, b"\x1e"), "wire-type-mismatch",
              "idle_timeout_secs (optional uint32) sent length-delimited.", ["WIRE-008"])
    g.invalid("endpoint-as-varint", vi(4, 0), "wire-type-mismatch",
              "ipc_endpoint (a message) sent as a varint.", ["WIRE-008"])

    g = f.group("manifest/endpoint", "message", "Endpoint bodies.", message="Endpoint")
    g.valid("unix", enc("Endpoint", namespace_id="shared", path="/run/rp/broker.sock"),
            "An Endpoint for a Unix socket.", ["WIRE-018", "WIRE-020"])
    g.valid("pipe", enc("Endpoint", namespace_id="private:zccache",
                        path="rpb-v1-deadbeefdeadbeef-be-" + "ab" * 16),
            "An Endpoint with a bare pipe name.", ["WIRE-018", "WIRE-020"])

    g = f.group("manifest/host-identity", "message", "HostIdentity bodies.",
                message="HostIdentity")
    g.valid("linux", enc("HostIdentity", hostname="build-01",
                         machine_id="0123456789abcdef0123456789abcdef",
                         boot_id="21caad04-167e-4dba-9794-9ed7e0cb3cb9",
                         fs_dev_id=2049, namespace_id="mnt:[4026531832]:pid:[4026531836]"),
            "A Linux host identity with every field set.", ["WIRE-018", "WIRE-020"])
    g.valid("unknown", enc("HostIdentity", hostname="unknown", machine_id="unknown",
                           boot_id="unknown"),
            "The fallback identity (fs_dev_id 0, namespace_id empty).", ["WIRE-018"])


def gen_service(s):
    f = s.file("service.json", "ServiceDefinition (WIRE-018).")
    g = f.group("service/definition", "message", "ServiceDefinition bodies.",
                message="ServiceDefinition")
    base = dict(service_name="zccache", binary_path="/usr/local/bin/zccache-daemon",
                per_version_binary_dir="/opt/zccache/versions", min_version="1.2.0",
                version_allow_list=["1.2.0", "1.3.0"], labels={"team": "build"})
    for iso in range(3):
        g.valid("isolation-%d" % iso, enc("ServiceDefinition", isolation=iso,
                                          explicit_instance="ci" if iso == 2 else "",
                                          **base),
                "A full definition with isolation %d." % iso, ["WIRE-018", "WIRE-020"])
    g.valid("isolation-unknown-7", enc("ServiceDefinition", service_name="x", isolation=7),
            "isolation 7 (unnamed) is kept.", ["WIRE-007"], flags=["OpenEnum"])
    g.valid("minimal", enc("ServiceDefinition", service_name="svc"),
            "Only service_name: empty list and map.", ["WIRE-018", "WIRE-020"])
    g.valid("labels-two", enc("ServiceDefinition", service_name="svc")
            + ld(8, ld(1, "a") + ld(2, "1")) + ld(8, ld(1, "b") + ld(2, "2")),
            "Two labels (no canonical order).", ["WIRE-009"], flags=["MapEntryOrder"])
    g.invalid("allow-list-as-varint", vi(7, 1), "wire-type-mismatch",
              "version_allow_list (repeated string) sent as a varint.", ["WIRE-008"])
    g.invalid("isolation-as-bytes", ld(3, b"\x01"), "wire-type-mismatch",
              "isolation (an enum) sent length-delimited.", ["WIRE-008"])


def gen_admin(s):
    f = s.file("admin.json", "AdminRequest and AdminReply (WIRE-018).")
    g = f.group("admin/request", "message", "AdminRequest bodies, every verb.",
                message="AdminRequest")
    for verb in range(10):
        g.valid("verb-%d" % verb, enc("AdminRequest", verb=verb, json=verb % 2 == 1,
                                      service_name="zccache" if verb == 6 else ""),
                "AdminRequest with verb %d." % verb, ["WIRE-018", "WIRE-020"])
    g.valid("dump-to-path", enc("AdminRequest", verb=2, output_path="/tmp/dump.json"),
            "DUMP with an output_path.", ["WIRE-018", "WIRE-020"])
    g.valid("verb-reserved-10", vi(1, 10),
            "verb 10 (reserved, unnamed) is kept.", ["WIRE-007"], flags=["OpenEnum"])
    g.valid("reserved-field-10", enc("AdminRequest", verb=4) + vi(10, 1),
            "HEALTHZ followed by reserved field 10: skipped.", ["WIRE-014"],
            flags=["UnknownField"])
    g.invalid("json-as-string", ld(2, "true"), "wire-type-mismatch",
              "json (bool) sent length-delimited.", ["WIRE-008"])

    g = f.group("admin/reply", "message", "AdminReply bodies, every kind.",
                message="AdminReply")
    for kind, body, ctype in ((0, "ok\n", "text/plain"),
                              (1, "{\"status\":\"ready\"}", "application/json"),
                              (2, "# TYPE rpb_up gauge\nrpb_up 1\n# EOF\n",
                               "application/openmetrics-text")):
        g.valid("kind-%d" % kind, enc("AdminReply", kind=kind, body=body, exit_code=0,
                                      content_type=ctype),
                "AdminReply of kind %d." % kind, ["WIRE-018", "WIRE-020"])
    g.valid("exit-code-2", enc("AdminReply", body="not ready", exit_code=2),
            "A non-zero exit_code.", ["WIRE-018", "WIRE-020"])
    g.invalid("body-invalid-utf8", ld(2, b"\xc3\x28"), "invalid-utf8",
              "body (string) holding c3 28.", ["WIRE-012"])


# --------------------------------------------------------------------------
# varint.json

def gen_varint(s):
    f = s.file("varint.json",
               "Varint edges (WIRE-005): over-long forms, the 10-byte limit and its 10th "
               "byte, truncation by the end of input; for values, lengths and keys.")
    g = f.group("varint/valid", "message", "Varints that decode.", message="Frame")
    g.valid("overlong-zero-2", hx("088000"), "envelope_version as 80 00 (0).",
            ["WIRE-005"], flags=["Overlong", "ExplicitDefault"])
    g.valid("overlong-one-2", hx("088100"), "envelope_version as 81 00 (1).",
            ["WIRE-005"], flags=["Overlong"])
    g.valid("overlong-one-10", hx("08" "81808080808080808000"),
            "envelope_version 1 as a 10-byte varint whose 10th byte is 00.",
            ["WIRE-005"], flags=["Overlong"])
    g.valid("ten-bytes-u64-max", hx("28" "ffffffffffffffffff01"),
            "request_id 2^64-1: 10 bytes, 10th byte 01.", ["WIRE-005"])
    g.valid("ten-bytes-2p63", hx("28" "80808080808080808001"),
            "request_id 2^63: 10 bytes, 10th byte 01.", ["WIRE-005"])
    g.valid("nine-bytes-2p63-minus-1", hx("28" "ffffffffffffffff7f"),
            "request_id 2^63-1: 9 bytes.", ["WIRE-005"])
    g.valid("overlong-key", hx("8800" "01"),
            "The key of envelope_version written as 88 00 (over-long 8), value 1.",
            ["WIRE-005", "WIRE-002"], flags=["Overlong"])
    g.valid("overlong-length", hx("22" "8300" "616263"),
            "payload with its length 3 written as 83 00.", ["WIRE-005"],
            flags=["Overlong"])
    g.valid("overlong-key-10", hx("88808080808080808000" "01"),
            "The key 08 as a 10-byte varint (value below 2^32): prost reads keys as "
            "ordinary varints. Google's runtime reads at most 5 key bytes and rejects it.",
            ["WIRE-005", "WIRE-002"], flags=["Overlong", "GoogleDiffers"],
            expected_from=hx("0801"))

    g = f.group("varint/invalid", "message", "Varints that fail with invalid-varint.",
                message="Frame")
    for name, data, text in (
            ("tenth-byte-02", hx("28" "ffffffffffffffffff02"),
             "request_id: 10th byte 02 (the value would exceed 64 bits)"),
            ("tenth-byte-7f", hx("28" "ffffffffffffffffff7f"), "request_id: 10th byte 7f"),
            ("tenth-byte-80", hx("28" "80808080808080808080" "00"),
             "request_id: the 10th byte has its continuation bit set (an 11-byte varint)"),
            ("eleven-bytes-zero", hx("08" "8080808080808080808000"),
             "envelope_version 0 as 11 bytes: the 10th byte is 80"),
            ("tenth-byte-81-then-01", hx("28" "ffffffffffffffffff8101"),
             "request_id whose 10th byte is 81"),
            ("value-missing", hx("08"), "the key 08 and nothing after it"),
            ("value-cut-1", hx("0880"), "08 then 80: the value's varint is cut off"),
            ("value-cut-9", hx("28" + "ff" * 9), "request_id: 9 continuation bytes, then "
             "end of input"),
            ("key-cut", hx("80"), "a lone 80: the key's varint is cut off"),
            ("key-cut-after-field", hx("0801" "a8"), "a valid field, then a cut 2-byte key"),
            ("key-tenth-byte-02", hx("80808080808080808002"),
             "a key whose 10th byte is 02: the varint fails before the key range check"),
            ("length-cut", hx("2280"), "payload's length varint cut off"),
            ("length-tenth-byte-02", hx("22" "ffffffffffffffffff02"),
             "payload's length with a 10th byte 02")):
        g.invalid(name, data, "invalid-varint", text + ".",
                  ["WIRE-005"])

    g = f.group("varint/nested", "message",
                "Varints inside a nested message are read against the whole input.",
                message="HelloReply")
    g.invalid("cut-by-input-end", hx("0a01" "08"), "invalid-varint",
              "Negotiated of length 1 holding 08; the value's varint hits the end of the "
              "whole input.", ["WIRE-005"])
    g.invalid("crossing-nested-end", hx("0a01" "08" "01"), "delimited-overrun",
              "Negotiated of length 1 holding 08; the value 01 lies after the nested end "
              "but within the input: read in full, then the boundary check fails.",
              ["WIRE-005", "WIRE-011"])


# --------------------------------------------------------------------------
# wiretype.json

def gen_wiretype(s):
    f = s.file("wiretype.json",
               "Keys and wire types: keys above 2^32-1 (WIRE-002), field number 0 "
               "(WIRE-003), wire types 6 and 7 (WIRE-004) and known fields sent with a "
               "foreign wire type (WIRE-008).")
    g = f.group("wiretype/key", "message", "Key checks, in prost's order: varint, range, "
                "wire type, field number.", message="Frame")
    for name, data, err, reqs, text in (
            ("tag-0-varint", hx("00"), "invalid-tag", ["WIRE-003"], "00: field 0, wire type 0"),
            ("tag-0-fixed64", hx("01" "0000000000000000"), "invalid-tag", ["WIRE-003"],
             "01 + 8 bytes: field 0, wire type 1"),
            ("tag-0-length", hx("0200"), "invalid-tag", ["WIRE-003"], "02 00: field 0, "
             "wire type 2"),
            ("tag-0-start-group", hx("0304"), "invalid-tag", ["WIRE-003"],
             "03 04: field 0, wire type 3"),
            ("tag-0-end-group", hx("04"), "invalid-tag", ["WIRE-003"],
             "04: field 0, wire type 4 (the tag check comes before any group logic)"),
            ("tag-0-fixed32", hx("05" "00000000"), "invalid-tag", ["WIRE-003"],
             "05 + 4 bytes: field 0, wire type 5"),
            ("tag-0-after-field", hx("0801" "00"), "invalid-tag", ["WIRE-003"],
             "a valid envelope_version, then 00"),
            ("tag-0-overlong", hx("8000" "00"), "invalid-tag", ["WIRE-003", "WIRE-005"],
             "the key 0 written over-long as 80 00"),
            ("wire-type-6-tag-0", hx("06"), "invalid-wire-type", ["WIRE-004", "WIRE-003"],
             "06: field 0 with wire type 6: the wire type is checked first"),
            ("wire-type-7-tag-0", hx("07"), "invalid-wire-type", ["WIRE-004", "WIRE-003"],
             "07: field 0 with wire type 7"),
            ("wire-type-6-known", hx("0e"), "invalid-wire-type", ["WIRE-004"],
             "0e: field 1 (envelope_version) with wire type 6"),
            ("wire-type-7-known", hx("0f" "01"), "invalid-wire-type", ["WIRE-004"],
             "0f: field 1 with wire type 7"),
            ("wire-type-6-reserved", hx("56"), "invalid-wire-type", ["WIRE-004"],
             "56: reserved field 10 with wire type 6"),
            ("wire-type-7-large-field", hx("ffffffff0f"), "invalid-wire-type", ["WIRE-004"],
             "ff ff ff ff 0f: key 2^32-1, in range, field 2^29-1 with wire type 7"),
            ("key-2p32", hx("8080808010"), "invalid-key", ["WIRE-002"],
             "80 80 80 80 10: the key 2^32"),
            ("key-2p32-plus-8", hx("8880808010" "01"), "invalid-key", ["WIRE-002"],
             "the key 2^32+8, whose low 32 bits would be field 1 wire type 0"),
            ("key-2p35-minus-1", hx("ffffffff7f"), "invalid-key", ["WIRE-002", "WIRE-004"],
             "ff ff ff ff 7f: above 2^32-1 with wire type bits 7: the range check "
             "comes first"),
            ("key-u64-max", hx("ffffffffffffffffff01"), "invalid-key", ["WIRE-002"],
             "the key 2^64-1 (a valid 10-byte varint)")):
        g.invalid(name, data, err, text + ".", reqs)
    g.valid("key-max-field-varint", hx("f8ffffff0f" "00"),
            "f8 ff ff ff 0f 00: the largest key with wire type 0 (field 2^29-1), an unknown "
            "field: skipped.", ["WIRE-002", "WIRE-014"], flags=["UnknownField"])
    g.valid("key-max-field-fixed32", hx("fdffffff0f" "00000000"),
            "The largest field number with wire type 5: skipped.",
            ["WIRE-002", "WIRE-014"], flags=["UnknownField"])

    # A known field of each kind sent with a foreign wire type.
    cases = [
        ("Frame", "uint32-as-length", ld(1, b"\x01"), "envelope_version (uint32) as "
         "length-delimited"),
        ("Frame", "uint32-as-fixed64", key(1, 1) + bytes(8), "envelope_version as fixed64"),
        ("Frame", "uint32-as-fixed32", key(1, 5) + bytes(4), "envelope_version as fixed32"),
        ("Frame", "uint32-as-start-group", key(1, 3) + key(1, 4), "envelope_version as a "
         "group 0b 0c"),
        ("Frame", "uint32-as-end-group", key(1, 4), "envelope_version with wire type 4 "
         "(0c): a mismatch, not group-mismatch"),
        ("Frame", "uint32-as-length-no-length", hx("0a"), "0a alone: the wire type is "
         "checked before a length would be read"),
        ("Frame", "uint64-as-length", ld(5, b""), "request_id (uint64) as length-delimited"),
        ("Frame", "uint64-as-fixed64", key(5, 1) + bytes(8), "request_id as fixed64"),
        ("Frame", "enum-as-fixed32", key(2, 5) + hx("01000000"), "kind (enum) as fixed32"),
        ("Frame", "enum-as-length", ld(6, b"\x00"), "payload_encoding (enum) as "
         "length-delimited"),
        ("Frame", "string-as-varint", vi(8, 1), "traceparent (string) as a varint"),
        ("Frame", "string-as-fixed64", key(9, 1) + bytes(8), "tracestate (string) as fixed64"),
        ("Frame", "bytes-as-varint", vi(4, 1), "payload (bytes) as a varint"),
        ("Frame", "bytes-as-fixed32", key(4, 5) + bytes(4), "payload (bytes) as fixed32"),
        ("Frame", "wrong-after-valid-fields", hx(GOLDEN_FRAME) + vi(9, 0),
         "GOLDEN_FRAME followed by tracestate as a varint"),
        ("HandoffAck", "bool-as-length", ld(2, b"\x01"), "accepted (bool) as "
         "length-delimited"),
        ("HandoffAck", "bool-as-fixed64", key(2, 1) + bytes(8), "accepted (bool) as fixed64"),
        ("HelloReply", "message-as-varint", vi(1, 0), "negotiated (a oneof message) as a "
         "varint"),
        ("HelloReply", "message-as-fixed32", key(2, 5) + bytes(4), "refused (a oneof "
         "message) as fixed32"),
        ("HelloReply", "message-as-group", key(1, 3) + key(1, 4), "negotiated as a group"),
        ("DaemonProcess", "message-field-as-fixed64", key(4, 1) + bytes(8), "ipc_endpoint "
         "(message) as fixed64"),
        ("Negotiated", "repeated-string-as-varint", vi(4, 0), "warnings (repeated string) "
         "as a varint"),
        ("Negotiated", "repeated-string-second-as-varint", ld(4, "w1") + vi(4, 0),
         "a valid warnings element, then one sent as a varint"),
        ("Hello", "uint32-as-fixed32", key(10, 5) + hx("92100000"), "peer_pid as fixed32"),
        ("DaemonProcess", "optional-as-fixed32", key(7, 5) + bytes(4), "idle_timeout_secs "
         "(proto3 optional uint32) as fixed32"),
        ("HelloReply", "nested-field-mismatch", ld(1, vi(2, 1)), "a Negotiated whose "
         "daemon_version (string) is sent as a varint"),
    ]
    groups = {}
    for msg, name, data, text in cases:
        if msg not in groups:
            groups[msg] = f.group("wiretype/mismatch-" + msg.lower(), "message",
                                  "Known %s fields with a foreign wire type." % msg,
                                  message=msg)
        groups[msg].invalid(name, data, "wire-type-mismatch",
                            text + ".", ["WIRE-008"])


# --------------------------------------------------------------------------
# length.json

def gen_length(s):
    f = s.file("length.json",
               "Lengths (WIRE-010) and nested boundaries (WIRE-011): a length beyond the "
               "whole input is buffer-underflow; a nested message or map entry whose "
               "fields run past its declared end (bytes present) is delimited-overrun.")
    g = f.group("length/top-level", "message", "Length-delimited fields of a Frame.",
                message="Frame")
    g.valid("payload-exact-end", ld(4, b"abc"), "payload 22 03 'abc' ending exactly at "
            "the end of input.", ["WIRE-010"])
    g.valid("payload-empty-at-end", hx("0801" "2200"), "A zero-length payload as the last "
            "field.", ["WIRE-010", "WIRE-021"], flags=["ExplicitDefault"])
    for name, data, text in (
            ("payload-one-short", hx("2204616263"), "payload claims 4 bytes, 3 remain"),
            ("payload-length-only", hx("2201"), "payload claims 1 byte, none remain"),
            ("string-one-short", hx("4205") + b"abcd", "traceparent claims 5 bytes, 4 remain"),
            ("length-2p32-minus-1", hx("22ffffffff0f") + b"abc", "payload claims 2^32-1 bytes"),
            ("length-u64-max", hx("22ffffffffffffffffff01") + b"abc",
             "payload claims 2^64-1 bytes (a valid varint)"),
            ("length-16mib", hx("2280808008"), "payload claims 16 MiB, none remain")):
        g.invalid(name, data, "buffer-underflow", text + ".",
                  ["WIRE-010"])

    g = f.group("length/nested", "message",
                "Negotiated nested in HelloReply: lengths against the whole input, "
                "boundaries checked after each field.", message="HelloReply")
    g.valid("exact", ld(1, vi(1, 1) + ld(2, "abc")),
            "A Negotiated whose fields end exactly at its declared length.",
            ["WIRE-011"])
    g.valid("empty-nested", hx("0a00"), "A zero-length Negotiated.", ["WIRE-011"])
    g.invalid("nested-length-beyond-input", hx("0a05" "0801"), "buffer-underflow",
              "Negotiated claims 5 bytes, 2 remain.", ["WIRE-010"])
    g.invalid("string-crossing-end", hx("0a02" "1203" "616263"), "delimited-overrun",
              "spec/wire.md's example: a 2-byte Negotiated whose daemon_version is 3 "
              "bytes long; the string is read from the whole input, then the boundary "
              "fails.", ["WIRE-011"])
    g.invalid("string-beyond-input", hx("0a03" "1205" "61"), "buffer-underflow",
              "Inside the Negotiated, daemon_version claims 5 bytes and only 1 remains in "
              "the whole input.", ["WIRE-010"])
    g.invalid("string-crossing-end-invalid-utf8", hx("0a02" "1203" "6162ff"),
              "invalid-utf8",
              "As string-crossing-end but the string ends in ff: the string is decoded "
              "(and fails UTF-8) before the boundary is compared.", ["WIRE-011", "WIRE-012"])
    g.invalid("varint-crossing-end", hx("0a02" "28" "ff01"), "delimited-overrun",
              "A 2-byte Negotiated: key 28, then server_capabilities' varint ff 01 whose "
              "second byte lies beyond the nested end.", ["WIRE-011", "WIRE-005"])
    g.invalid("group-crossing-end", hx("0a01" "4b" "4c"), "delimited-overrun",
              "A 1-byte Negotiated holding start-group 9 (unknown); the matching end-group "
              "is after the nested end.", ["WIRE-011", "WIRE-015"], flags=["Group"])
    g.invalid("second-field-crossing-end", hx("0a04" "0801" "1203" "616263"),
              "delimited-overrun",
              "A 4-byte Negotiated: the first field fits, the second crosses the end.",
              ["WIRE-011"])
    g.invalid("unknown-crossing-end", hx("0a03" "4a03" "616263"), "delimited-overrun",
              "A 3-byte Negotiated holding an unknown length-delimited field 9 of 3 "
              "bytes.", ["WIRE-011", "WIRE-014"])
    g.invalid("fixed32-crossing-end", hx("0a02" "4d" "00000000"), "delimited-overrun",
              "A 2-byte Negotiated holding an unknown fixed32 field 9 whose 4 bytes exist "
              "in the input.", ["WIRE-011", "WIRE-014"])
    g.invalid("fixed64-beyond-input", hx("0a08" "49" "00000000000000"),
              "buffer-underflow",
              "An unknown fixed64 field 9 in the Negotiated with 7 bytes left in the "
              "whole input.", ["WIRE-010", "WIRE-014"])

    g = f.group("length/manifest", "message", "Endpoint nested in DaemonProcess.",
                message="DaemonProcess")
    g.invalid("endpoint-crossing-end", hx("2203" "0a04" "6e732d31"), "delimited-overrun",
              "A 3-byte ipc_endpoint whose namespace_id is 4 bytes.", ["WIRE-011"])
    g.invalid("endpoint-beyond-input", hx("2210" "0a04" "6e732d31"), "buffer-underflow",
              "ipc_endpoint claims 16 bytes, 6 remain.", ["WIRE-010"])

    g = f.group("length/map-entry", "message", "Refused.details entries.",
                message="Refused")
    g.invalid("entry-crossing-end", hx("2a02" "0a05" "666c6f6f72"), "delimited-overrun",
              "A 2-byte map entry whose key is 5 bytes long (present in the input).",
              ["WIRE-011", "WIRE-009"])
    g.invalid("entry-beyond-input", hx("2a0c" "0a05" "666c6f6f72"), "buffer-underflow",
              "A map entry claiming 12 bytes, 7 remain.", ["WIRE-010", "WIRE-009"])
    g.invalid("value-beyond-input", hx("2a05" "0a01" "61" "1209" "32"),
              "buffer-underflow",
              "An entry whose value claims 9 bytes, 1 remains in the whole input.",
              ["WIRE-010", "WIRE-009"])


# --------------------------------------------------------------------------
# utf8.json

BAD_UTF8 = [
    ("overlong-c0-80", "c080", "the overlong 2-byte form of U+0000"),
    ("overlong-c1-bf", "c1bf", "the overlong 2-byte form of U+007F"),
    ("overlong-e0-80-80", "e08080", "an overlong 3-byte form (E0 80)"),
    ("overlong-e0-9f-bf", "e09fbf", "the overlong 3-byte form of U+07FF (E0 9F)"),
    ("overlong-f0-80-80-80", "f0808080", "an overlong 4-byte form (F0 80)"),
    ("overlong-f0-8f-bf-bf", "f08fbfbf", "the overlong 4-byte form of U+FFFF (F0 8F)"),
    ("surrogate-ed-a0-80", "eda080", "the surrogate U+D800"),
    ("surrogate-ed-bf-bf", "edbfbf", "the surrogate U+DFFF"),
    ("surrogate-pair", "eda0bdedb880", "a CESU-8 surrogate pair for U+1F600"),
    ("above-max-f4-90", "f4908080", "U+110000, above U+10FFFF (F4 90)"),
    ("lead-f5", "f5808080", "the lead byte F5"),
    ("lead-f8", "f888808080", "a 5-byte form (F8)"),
    ("lead-fe", "fe", "the byte FE"),
    ("lead-ff", "ff", "the byte FF"),
    ("lone-continuation-80", "80", "a lone continuation byte 80"),
    ("lone-continuation-bf", "bf", "a lone continuation byte BF"),
    ("continuation-after-ascii", "41bf", "A then a stray continuation byte"),
    ("truncated-2", "c3", "a 2-byte sequence missing its last byte, at the end"),
    ("truncated-3", "e282", "a 3-byte sequence missing its last byte, at the end"),
    ("truncated-4", "f09f98", "a 4-byte sequence missing its last byte, at the end"),
    ("truncated-2-then-ascii", "c341", "C3 followed by A instead of a continuation"),
    ("truncated-3-then-ascii", "e28241", "E2 82 followed by A"),
    ("truncated-4-then-ascii", "f09f9841", "F0 9F 98 followed by A"),
]

GOOD_UTF8 = [
    ("nul", "\u0000", "an embedded NUL (U+0000)"),
    ("u007f", "\u007f", "U+007F, the largest 1-byte code point"),
    ("u0080", "\u0080", "U+0080, the smallest 2-byte code point"),
    ("u07ff", "\u07ff", "U+07FF, the largest 2-byte code point"),
    ("u0800", "\u0800", "U+0800, the smallest 3-byte code point"),
    ("ud7ff", "\ud7ff", "U+D7FF, just below the surrogates"),
    ("ue000", "\ue000", "U+E000, just above the surrogates"),
    ("ufffd", "\ufffd", "U+FFFD, the replacement character"),
    ("uffff", "\uffff", "U+FFFF, the largest 3-byte code point"),
    ("u10000", "\U00010000", "U+10000, the smallest 4-byte code point"),
    ("u10ffff", "\U0010ffff", "U+10FFFF, the largest code point"),
]


def gen_utf8(s):
    f = s.file("utf8.json",
               "Strict UTF-8 (WIRE-012) on every string: a singular field, a repeated "
               "element, a map key and a map value, nested or not; valid edge code points.")

    # Where a string sits: (group suffix, message, builder(raw bytes) -> body, text).
    def plain(b):
        return vi(1, 1) + ld(8, b"ab" + b + b"") + ld(9, "rp=1")

    def element(b):
        return ld(4, "w1") + ld(4, b + b"") + vi(8, 99)

    def map_key(b):
        return ld(1, "reason") + ld(5, ld(1, b) + ld(2, "2"))

    def map_value(b):
        return ld(5, ld(1, "floor") + ld(2, b"v" + b))

    def nested(b):
        return ld(1, vi(1, 1) + ld(2, b))

    def labels_key(b):
        return ld(1, "svc") + ld(8, ld(1, b) + ld(2, "x"))

    places = [
        ("string", "Frame", plain, "traceparent (a singular string) holding 'ab' + %s"),
        ("list-element", "Negotiated", element,
         "the second element of warnings (repeated string) holding %s"),
        ("map-key", "Refused", map_key, "a details map key holding %s"),
        ("map-value", "Refused", map_value, "a details map value holding 'v' + %s"),
        ("nested-string", "HelloReply", nested,
         "daemon_version inside a nested Negotiated holding %s"),
        ("labels-key", "ServiceDefinition", labels_key, "a labels map key holding %s"),
    ]
    for suffix, msg, build, text in places:
        g = f.group("utf8/invalid-" + suffix, "message",
                    "Invalid UTF-8 in %s: the whole decode fails." % text.split(" holding")[0],
                    message=msg)
        # Every class in the four places the rules name; a sample in the others.
        classes = BAD_UTF8 if suffix in ("string", "list-element", "map-key", "map-value") \
            else [c for c in BAD_UTF8 if c[0] in ("overlong-c0-80", "surrogate-ed-a0-80",
                                                     "above-max-f4-90", "truncated-3")]
        for name, bad, what in classes:
            g.invalid(name, build(hx(bad)), "invalid-utf8",
                      text % ("%s (%s)" % (what, bad)) + ".", ["WIRE-012"])

    g = f.group("utf8/valid-string", "message", "Edge code points in traceparent.",
                message="Frame")
    for name, ch, what in GOOD_UTF8:
        g.valid(name, enc("Frame", envelope_version=1, traceparent="ab" + ch + "cd"),
                "traceparent 'ab' + %s + 'cd'." % what, ["WIRE-012"])
    g.valid("all-edges", enc("Frame", traceparent="".join(c for _, c, _ in GOOD_UTF8)),
            "traceparent holding every edge code point in a row.", ["WIRE-012"])
    g.valid("bytes-accept-anything", enc("Frame", payload=b"".join(
        hx(b) for _, b, _ in BAD_UTF8)),
            "payload (bytes) holding every invalid sequence above: bytes are not "
            "checked.", ["WIRE-012"])
    g = f.group("utf8/valid-other-places", "message",
                "Edge code points in a list element, a map key and a map value.",
                message="Refused")
    for name, ch, what in GOOD_UTF8:
        g.valid("map-" + name, enc("Refused", details={"k" + ch: ch + "v"}),
                "A details entry whose key is 'k' + %s and whose value is %s + 'v'." %
                (what, what), ["WIRE-012"])
    g = f.group("utf8/valid-list", "message", "Edge code points in warnings.",
                message="Negotiated")
    g.valid("every-edge", enc("Negotiated", warnings=[c for _, c, _ in GOOD_UTF8]),
            "warnings with one element per edge code point (the first is a lone NUL).",
            ["WIRE-012"])
    g = f.group("utf8/unknown-fields", "message",
                "Unknown length-delimited fields are not strings.", message="Frame")
    g.valid("invalid-utf8-in-unknown", vi(1, 1) + ld(12, hx("c080eda080ff")),
            "Reserved field 12 (length-delimited) holding invalid UTF-8: skipped unread.",
            ["WIRE-012", "WIRE-014"], flags=["UnknownField"])


# --------------------------------------------------------------------------
# unknown.json

def gen_unknown(s):
    f = s.file("unknown.json",
               "Unknown fields (WIRE-014) of every wire type, reserved numbers, groups "
               "(WIRE-015) and truncated unknowns.")
    base = frame_request(0x7001, b"abc", 5)
    g = f.group("unknown/wire-types", "message",
                "A request Frame with an unknown field of each wire type appended: "
                "skipped.", message="Frame")
    for name, extra, text in (
            ("varint-reserved-10", vi(10, 1), "reserved field 10, varint"),
            ("varint-max-value", vi(16, (1 << 64) - 1), "field 16, varint 2^64-1"),
            ("fixed64-reserved-11", key(11, 1) + bytes(range(8)), "reserved field 11, fixed64"),
            ("length-reserved-12", ld(12, b"\x00\x01\x02"), "reserved field 12, "
             "length-delimited"),
            ("length-empty", ld(100, b""), "field 100, empty length-delimited"),
            ("group-reserved-13", key(13, 3) + key(13, 4), "reserved field 13, an empty group"),
            ("fixed32-reserved-14", key(14, 5) + bytes(4), "reserved field 14, fixed32"),
            ("reserved-15-all-types", vi(15, 7) + key(15, 1) + bytes(8) + ld(15, "x") +
             key(15, 3) + key(15, 4) + key(15, 5) + bytes(4),
             "reserved field 15 five times with wire types 0, 1, 2, 3/4 and 5"),
            ("two-byte-key", vi(21, 1), "field 21 (two-byte key a8 01)"),
            ("max-field-number", key((1 << 29) - 1, 2) + varint(1) + b"z",
             "field 2^29-1, length-delimited")):
        g.valid(name, base + extra, "The request frame followed by %s." % text,
                ["WIRE-014"], flags=["UnknownField"] +
                (["Group"] if "group" in name or "all-types" in name else []))
    g.valid("interleaved", vi(1, 1) + vi(10, 1) + vi(3, 0x7001) + ld(12, "x") +
            ld(4, b"abc") + key(13, 3) + key(13, 4) + vi(5, 5),
            "Unknown fields between the known ones: the known values are kept.",
            ["WIRE-014"], flags=["UnknownField", "Group"])
    g.valid("known-number-inside-group", key(16, 3) + vi(1, 9) + key(16, 4) + vi(1, 1),
            "Field 16 as a group holding 08 09: the fields inside an unknown group are "
            "skipped, not applied (envelope_version stays 1 from the field after it).",
            ["WIRE-015"], flags=["UnknownField", "Group"])
    g.valid("only-unknown", vi(10, 1),
            "A body holding only an unknown field: the default Frame.", ["WIRE-014"],
            flags=["UnknownField"])

    g = f.group("unknown/other-messages", "message",
                "Unknown fields inside nested messages.", message="HelloReply")
    g.valid("inside-negotiated", ld(1, vi(1, 1) + vi(9, 5) + ld(10, "x")),
            "A Negotiated holding unknown fields 9 and 10.", ["WIRE-014"],
            flags=["UnknownField"])
    g.valid("inside-refused", ld(2, vi(4, 6) + key(7, 5) + bytes(4)),
            "A Refused holding unknown fixed32 field 7.", ["WIRE-014"],
            flags=["UnknownField"])
    g.valid("top-level-3", ld(1, vi(1, 1)) + vi(3, 1),
            "A HelloReply with an unknown field 3 after its arm.", ["WIRE-014"],
            flags=["UnknownField"])

    g = f.group("unknown/groups", "message", "Groups in unknown fields.", message="Frame")
    g.valid("nested-groups", key(16, 3) + key(17, 3) + vi(1, 1) + key(17, 4) +
            key(16, 4), "Group 16 holding group 17 holding a varint.", ["WIRE-015"],
            flags=["UnknownField", "Group"])
    g.valid("group-all-wire-types", key(16, 3) + vi(2, 1) + key(3, 1) + bytes(8) +
            ld(4, "x") + key(5, 5) + bytes(4) + key(16, 4),
            "A group holding fields of wire types 0, 1, 2 and 5.", ["WIRE-015"],
            flags=["UnknownField", "Group"])
    g.valid("group-with-invalid-utf8", key(16, 3) + ld(8, b"\xff") + key(16, 4),
            "A group holding field 8 (traceparent's number) with byte ff: inside a "
            "group it is just skipped bytes.", ["WIRE-015", "WIRE-012"],
            flags=["UnknownField", "Group"])
    for name, data, err, reqs, text in (
            ("stray-end-group", key(16, 4), "group-mismatch", ["WIRE-015"],
             "an end-group 16 with no group open"),
            ("stray-end-reserved", hx("7c"), "group-mismatch", ["WIRE-015"],
             "7c: an end-group of reserved field 15 with no group open"),
            ("mismatched-end", hx("7b74"), "group-mismatch", ["WIRE-015"],
             "7b 74: start-group 15 closed by end-group 14"),
            ("mismatched-nested-end", key(16, 3) + key(17, 3) + key(16, 4) + key(17, 4),
             "group-mismatch", ["WIRE-015"], "groups 16 then 17 closed in the wrong order"),
            ("unterminated", hx("7b"), "invalid-varint", ["WIRE-015", "WIRE-005"],
             "7b alone: the next key cannot be read"),
            ("unterminated-with-content", key(16, 3) + vi(1, 1), "invalid-varint",
             ["WIRE-015", "WIRE-005"], "group 16 holding a varint, never closed"),
            ("end-group-tag-0", hx("7b04"), "invalid-tag", ["WIRE-015", "WIRE-003"],
             "7b 04: inside the group, a key with field number 0"),
            ("wire-type-6-in-group", hx("7b" "0e" "7c"), "invalid-wire-type",
             ["WIRE-015", "WIRE-004"], "a group holding a key with wire type 6"),
            ("truncated-length-in-group", key(16, 3) + hx("2205" "6162"), "buffer-underflow",
             ["WIRE-015", "WIRE-010"], "a group holding a length-delimited field that "
             "claims more bytes than remain"),
            ("known-field-as-end-group", hx("0801" "0c"), "wire-type-mismatch",
             ["WIRE-008", "WIRE-015"], "0c (field 1 with wire type 4) after a valid field: "
             "a known field's wire-type mismatch, not group-mismatch")):
        g.invalid(name, data, err, text + ".", reqs,
                  flags=["Group"])

    g = f.group("unknown/truncated", "message",
                "Unknown fields cut off by the end of input.", message="Frame")
    for name, data, err, text in (
            ("varint-missing", vi(1, 1) + key(10, 0), "invalid-varint",
             "reserved field 10's key and no value"),
            ("varint-cut", key(10, 0) + hx("ff80"), "invalid-varint",
             "reserved field 10 with a cut varint ff 80"),
            ("varint-tenth-byte-02", key(10, 0) + hx("ffffffffffffffffff02"),
             "invalid-varint", "reserved field 10 with a 10th varint byte 02"),
            ("fixed64-7-bytes", key(11, 1) + bytes(7), "buffer-underflow",
             "reserved field 11, fixed64 with 7 bytes"),
            ("fixed64-0-bytes", key(11, 1), "buffer-underflow",
             "reserved field 11, fixed64 with no bytes"),
            ("fixed32-3-bytes", key(14, 5) + bytes(3), "buffer-underflow",
             "reserved field 14, fixed32 with 3 bytes"),
            ("length-beyond", key(12, 2) + varint(4) + b"abc", "buffer-underflow",
             "reserved field 12 claiming 4 bytes, 3 remain"),
            ("length-missing", key(12, 2), "invalid-varint",
             "reserved field 12's key and no length")):
        g.invalid(name, data, err, text + ".",
                  ["WIRE-014"] + (["WIRE-005"] if err == "invalid-varint" else ["WIRE-010"]))


# --------------------------------------------------------------------------
# recursion.json

def groups_nested(depth, inner=b"", field=16):
    """depth nested unknown groups of field, inner bytes inside the innermost."""
    return key(field, 3) * depth + inner + key(field, 4) * depth


def gen_recursion(s):
    f = s.file("recursion.json",
               "The recursion budget of 100 (WIRE-016) at its exact boundary: top level, "
               "inside a nested message and inside a map entry; a payload decodes with a "
               "fresh budget (WIRE-017).")
    content = vi(1, 0)

    def cases(g, wrap, top, where):
        """Valid/invalid around the boundary for groups placed by wrap(groups);
        top is the deepest level whose group may be entered (it must be empty)."""
        for depth, inner, ok in ((top - 1, content, True), (top, b"", True),
                                 (top, content, False), (top + 1, b"", False),
                                 (1, content, True)):
            name = "depth-%d-%s" % (depth, "with-field" if inner else "empty")
            data = wrap(groups_nested(depth, inner))
            text = "%d nested unknown group%s %s%s, %s." % (
                depth, "s" if depth > 1 else "", "holding a varint field in the innermost " if inner else
                "with the innermost empty ", where,
                "within the budget" if ok else "beyond the budget")
            if ok:
                g.valid(name, data, text, ["WIRE-016", "WIRE-015"],
                        flags=["UnknownField", "Group"])
            else:
                g.invalid(name, data, "recursion-limit", text, ["WIRE-016", "WIRE-015"],
                          flags=["Group"])

    g = f.group("recursion/top-level", "message",
                "Unknown groups directly in a Frame: budget 100.", message="Frame")
    base = vi(1, 1)
    cases(g, lambda grp: base + grp, 100, "at the top level of a Frame")
    g.valid("depth-100-then-field", key(15, 3) * 100 + key(15, 4) * 100 + vi(1, 1),
            "spec/wire.md's example: 100 x 7b then 100 x 7c, then a field.",
            ["WIRE-016"], flags=["UnknownField", "Group"])
    g.invalid("spec-example-field-in-100th", key(15, 3) * 100 + vi(1, 0) + key(15, 4) * 100,
              "recursion-limit", "spec/wire.md's example: 100 x 7b, 08 00, 100 x 7c.",
              ["WIRE-016"], flags=["Group"])
    g.invalid("depth-200-unterminated", key(16, 3) * 200, "recursion-limit",
              "200 start-groups and no end: the budget runs out before the input does.",
              ["WIRE-016"], flags=["Group"])

    g = f.group("recursion/nested-message", "message",
                "Unknown groups inside Negotiated, itself in a HelloReply (depth 1): "
                "budget 99.", message="HelloReply")
    head = vi(1, 1)
    cases(g, lambda grp: ld(1, head + grp), 99,
          "inside the Negotiated of a HelloReply")

    g = f.group("recursion/bare-negotiated", "message",
                "The same groups in a bare Negotiated: the budget starts at 100 again.",
                message="Negotiated")
    cases(g, lambda grp: head + grp, 100, "in a bare Negotiated")

    g = f.group("recursion/map-entry", "message",
                "Unknown groups inside a details entry of a Refused in a HelloReply "
                "(depth 2): budget 98.", message="HelloReply")
    entry = ld(1, "k") + ld(2, "v")
    cases(g, lambda grp: ld(2, ld(5, entry + grp)), 98,
          "inside a map entry of a Refused in a HelloReply")

    g = f.group("recursion/endpoint", "message",
                "Unknown groups inside the Endpoint of a DaemonProcess (depth 1).",
                message="DaemonProcess")
    ep = ld(2, "/p")
    cases(g, lambda grp: ld(4, ep + grp), 99, "inside ipc_endpoint")

    g = f.group("recursion/payload-fresh-budget", "message",
                "A payload is decoded with a fresh budget (WIRE-017).", message="Hello")
    payload = vi(1, 1) + groups_nested(100)
    g.valid("payload-depth-100-empty", payload,
            "The payload of recursion/payload-in-frame/frame-carrying-deep-payload "
            "decoded as a Hello on its own: 100 nested groups, the innermost empty, fit a "
            "fresh budget (as they would not after a Frame level).",
            ["WIRE-017", "WIRE-016"], flags=["UnknownField", "Group"])
    g = f.group("recursion/payload-in-frame", "message",
                "The Frame that carries that payload: payload is opaque bytes.",
                message="Frame")
    g.valid("frame-carrying-deep-payload", frame_request(0, payload),
            "A Hello-site Frame whose payload holds 100 nested groups: the Frame decoder "
            "does not look inside payload.", ["WIRE-017"])


# --------------------------------------------------------------------------
# merge.json

def gen_merge(s):
    f = s.file("merge.json",
               "Repeated occurrences (WIRE-013): last wins for singular fields, lists "
               "append, messages merge, a oneof's same arm merges and another arm "
               "replaces.")
    g = f.group("merge/last-wins", "message", "Singular fields seen twice: the last wins.",
                message="Frame")
    for name, data, text in (
            ("uint32", vi(1, 2) + vi(1, 1), "envelope_version 2 then 1"),
            ("uint32-to-zero", vi(1, 1) + vi(1, 0), "envelope_version 1 then an explicit 0"),
            ("enum", vi(2, 1) + vi(2, 99) + vi(2, 2), "kind RESPONSE, 99, then EVENT"),
            ("uint64", vi(5, 1) + vi(5, (1 << 64) - 1), "request_id 1 then 2^64-1"),
            ("bytes", ld(4, b"first") + ld(4, b"second"), "payload 'first' then 'second'"),
            ("bytes-to-empty", ld(4, b"first") + ld(4, b""), "payload 'first' then empty"),
            ("string", ld(8, "a") + ld(8, TRACEPARENT), "traceparent 'a' then a full one"),
            ("string-with-fields-between", ld(9, "x") + vi(1, 1) + ld(9, "y"),
             "tracestate 'x', envelope_version, tracestate 'y'")):
        g.valid(name, data, text + ".", ["WIRE-013"],
                flags=["Repeated"])
    g = f.group("merge/bool", "message", "A bool seen twice.", message="HandoffAck")
    g.valid("true-then-false", vi(2, 1) + vi(2, 0), "accepted true then false: false.",
            ["WIRE-013"], flags=["Repeated"])
    g.valid("false-then-true", vi(2, 0) + vi(2, 1), "accepted false then true: true.",
            ["WIRE-013"], flags=["Repeated"])

    g = f.group("merge/list", "message", "Repeated string elements append in wire order.",
                message="Negotiated")
    g.valid("interleaved", ld(4, "w1") + vi(1, 1) + ld(4, "w2") + vi(8, 3) + ld(4, "w3"),
            "warnings w1, w2, w3 with other fields between them.", ["WIRE-013"],
            flags=["Repeated", "FieldOrder"])
    g.valid("duplicates-kept", ld(4, "w") * 3, "The same element three times: three "
            "elements.", ["WIRE-013"], flags=["Repeated"])

    g = f.group("merge/message", "message",
                "A message field seen twice is merged field by field.",
                message="DaemonProcess")
    g.valid("endpoint-merge", ld(4, ld(1, "ns-1")) + ld(4, ld(2, "/tmp/d.sock")),
            "ipc_endpoint {namespace_id 'ns-1'} then {path '/tmp/d.sock'}: both kept.",
            ["WIRE-013"], flags=["Repeated"])
    g.valid("endpoint-merge-last-wins", ld(4, ld(1, "a") + ld(2, "/x")) + ld(4, ld(2, "/y")),
            "ipc_endpoint {'a', '/x'} then {path '/y'}: {'a', '/y'}.", ["WIRE-013"],
            flags=["Repeated"])
    g.valid("endpoint-empty-second", ld(4, ld(2, "/x")) + hx("2200"),
            "ipc_endpoint {path '/x'} then an empty occurrence: unchanged.", ["WIRE-013"],
            flags=["Repeated"])
    g.valid("optional-twice", vi(7, 5) + vi(7, 0),
            "idle_timeout_secs 5 then 0: present with 0.", ["WIRE-013"],
            flags=["Repeated"])

    g = f.group("merge/oneof", "message",
                "HelloReply.result: same arm merges, the other arm replaces.",
                message="HelloReply")
    neg_a = ld(1, vi(1, 2) + ld(4, "w1"))
    neg_b = ld(1, ld(2, "4.5.5") + ld(4, "w2"))
    ref_a = ld(2, vi(2, 5) + ld(5, ld(1, "a") + ld(2, "1")))
    ref_b = ld(2, ld(1, "busy") + ld(5, ld(1, "b") + ld(2, "2")))
    for name, data, text in (
            ("negotiated-merge", neg_a + neg_b,
             "negotiated {protocol 2, warnings [w1]} then {daemon_version, warnings [w2]}: "
             "one Negotiated with all of it, warnings [w1, w2]"),
            ("refused-merge", ref_a + ref_b,
             "refused {min 5, details a=1} then {reason 'busy', details b=2}: one Refused, "
             "details {a: 1, b: 2}"),
            ("negotiated-then-refused", neg_a + ref_b, "negotiated then refused: refused"),
            ("refused-then-negotiated", ref_a + neg_b, "refused then negotiated: negotiated"),
            ("switch-back-is-fresh", neg_a + ref_a + neg_b,
             "negotiated A, refused, negotiated B: only B's fields (A was replaced, not "
             "merged)"),
            ("empty-arm-replaces", neg_a + hx("1200"),
             "negotiated then an empty refused: refused with defaults")):
        many = "refused-merge" == name
        g.valid(name, data, text + ".", ["WIRE-013"],
                flags=["Repeated"] + (["MapEntryOrder"] if many else []))


# --------------------------------------------------------------------------
# map.json

def gen_map(s):
    f = s.file("map.json",
               "map<string,string> (WIRE-009): entry contents, defaults inside entries, "
               "duplicate keys, and the map wire-type quirk as 'acceptable'.")
    floor = ld(1, "floor")
    g = f.group("map/entries", "message", "Refused.details entry contents.",
                message="Refused")
    for name, entry, text, flags in (
            ("missing-value", floor, "only a key: the value is ''; canonical (prost omits "
             "an empty value, Google writes 12 00)", []),
            ("missing-key", ld(2, "2"), "only a value: the key is ''", []),
            ("empty-entry", b"", "2a 00: key '' and value ''", []),
            ("explicit-empty-value", floor + ld(2, ""), "the value written as 12 00 (as "
             "Google writes it): not canonical", ["ExplicitDefault"]),
            ("explicit-empty-key", ld(1, "") + ld(2, "2"), "the key written as 0a 00",
             ["ExplicitDefault"]),
            ("value-before-key", ld(2, "2") + floor, "value first, then key",
             ["FieldOrder"]),
            ("key-twice-in-entry", ld(1, "x") + floor + ld(2, "2"), "the key field twice "
             "inside one entry: the last key wins", ["Repeated"]),
            ("unknown-in-entry", floor + ld(2, "2") + vi(3, 1) + key(4, 5) + bytes(4),
             "unknown fields 3 and 4 inside the entry: skipped", ["UnknownField"])):
        g.valid(name, ld(5, entry), "A details entry with %s." % text, ["WIRE-009"],
                flags=flags)
    g.valid("duplicate-key-last-wins", ld(5, floor + ld(2, "2")) + ld(5, floor + ld(2, "3")),
            "Two entries with key 'floor' (2 then 3): the last value wins.",
            ["WIRE-009", "WIRE-013"], flags=["Repeated"])
    g.valid("duplicate-key-between", ld(5, floor + ld(2, "2")) + ld(1, "r") +
            ld(5, floor + ld(2, "3")),
            "Two 'floor' entries with the reason field between them.",
            ["WIRE-009", "WIRE-013"], flags=["Repeated", "FieldOrder"])
    for name, entry, err, text in (
            ("key-as-varint", vi(1, 1) + ld(2, "2"), "wire-type-mismatch",
             "the key field (1) sent as a varint"),
            ("value-as-varint", floor + vi(2, 2), "wire-type-mismatch",
             "the value field (2) sent as a varint"),
            ("value-as-fixed32", floor + key(2, 5) + bytes(4), "wire-type-mismatch",
             "the value field sent as fixed32"),
            ("tag-0-in-entry", floor + hx("0000"), "invalid-tag",
             "a field-0 key inside the entry"),
            ("stray-end-group-in-entry", floor + key(3, 4), "group-mismatch",
             "an end-group 3 inside the entry")):
        g.invalid(name, ld(5, entry), err, "A details entry with %s." % text,
                  ["WIRE-009"] + (["WIRE-008"] if err == "wire-type-mismatch" else []))

    # The quirk: the wire type of the map field's own key is ignored.
    quirk = [("Refused", "details", 5, ld(1, "floor") + ld(2, "2"), ld(1, "v") + vi(2, 1)),
             ("ServiceDefinition", "labels", 8, ld(1, "team") + ld(2, "build"),
              ld(1, "svc"))]
    for msg, field, num, entry, before in quirk:
        lname = msg.lower()
        ga = f.group("map/field-wire-type-" + lname, "message",
                     "%s.%s (field %d) keyed with wire types other than 2: accepted by "
                     "default (prost parity)." % (msg, field, num), message=msg)
        gs = f.group("map/field-wire-type-" + lname + "-strict", "message",
                     "The same inputs under strict-map-wire-type: wire-type-mismatch.",
                     message=msg, options=["strict-map-wire-type"])
        good = before + ld(num, entry)
        for wt in (0, 1, 3, 4, 5):
            data = before + key(num, wt) + varint(len(entry)) + entry
            text = ("%s with %s.%s keyed %02x (wire type %d) followed by a length and an "
                    "entry" % (msg, msg, field, (num << 3) | wt, wt))
            ga.acceptable("wire-type-%d" % wt, data,
                          text + ": prost ignores the map field's wire type and reads the "
                          "entry. Google's runtime skips it as an unknown field instead.",
                          ["WIRE-009"], flags=["MapFieldWireType", "GoogleDiffers"],
                          expected_from=good)
            gs.invalid("wire-type-%d" % wt, data, "wire-type-mismatch",
                       text + ": rejected under strict-map-wire-type.", ["WIRE-009"],
                       flags=["MapFieldWireType"])
        gs.valid("wire-type-2", good, "The well-formed entry is valid under the strict "
                 "option too.", ["WIRE-009"])
    g = f.group("map/field-wire-type-errors", "message",
                "Inputs that fail even with the quirk.", message="Refused")
    g.invalid("wire-type-6", key(5, 6) + hx("00"), "invalid-wire-type",
              "details keyed with wire type 6: the key itself is invalid.", ["WIRE-004",
                                                                              "WIRE-009"])
    g.invalid("wire-type-0-entry-beyond", key(5, 0) + hx("05") + ld(1, "a"),
              "buffer-underflow",
              "details keyed with wire type 0 followed by 05: read as an entry length of "
              "5 with 3 bytes left.", ["WIRE-009", "WIRE-010"])
    g.invalid("wire-type-0-huge-varint", key(5, 0) + hx("ffffffff0f"), "buffer-underflow",
              "details keyed with wire type 0 and a varint 2^32-1: it is read as a length.",
              ["WIRE-009", "WIRE-010"])


# --------------------------------------------------------------------------
# envelope.json

KIND_NAMES = {0: "REQUEST", 1: "RESPONSE", 2: "EVENT", 3: "CANCEL"}
FIRST_PARTY = (0x0000, 0xAD01, 0xB232, 0xD0FF)


def site_payloads():
    nonce_a = bytes(range(32))
    return {
        "hello": (hx(GOLDEN_HELLO), 42),
        "hello-reply": (hx(GOLDEN_HELLO_REPLY), 42),
        "admin-request": (enc("AdminRequest", verb=4), 9),
        "admin-reply": (enc("AdminReply", body="ok\n"), 9),
        "probe-request": (nonce_a, int.from_bytes(nonce_a[:8], "little")),
        "probe-response": (nonce_a + enc("DaemonProcess", **dp1_values()),
                           int.from_bytes(nonce_a[:8], "little")),
        "handoff-offer": (hx(GOLDEN_OFFER), 7),
        "handoff-ack": (hx(GOLDEN_ACK), 7),
        "handoff-ready": (hx(GOLDEN_ACK), 7),
    }


def gen_envelope(s):
    f = s.file("envelope.json",
               "Envelope validation (ENV-*) at each of the nine call sites: version, "
               "kind, payload protocol and encoding in that order, and the request_id "
               "correlation of the probe-response (before encoding) and handoff-ack "
               "(after encoding) sites.")
    payloads = site_payloads()
    for site, (kind, pp, rid_mode) in SITES.items():
        payload, rid = payloads[site]
        corr = rid if rid_mode else None
        g = f.group("envelope/" + site, "envelope",
                    "The %s site: kind %s, payload_protocol 0x%04X%s." % (
                        site, KIND_NAMES[kind], pp,
                        {None: "", "before-encoding": ", request_id checked before the "
                         "encoding", "after-encoding": ", request_id checked after the "
                         "encoding"}[rid_mode]),
                    message="Frame", site=site)

        def frame(**over):
            v = dict(envelope_version=1, kind=kind, payload_protocol=pp, payload=payload,
                     request_id=rid)
            v.update(over)
            return enc("Frame", **v)

        what = "frame for the %s site (kind %s, payload_protocol 0x%04X)" % (
            site, KIND_NAMES[kind], pp)
        g.valid("ok", frame(), "A well-formed %s." % what, ["ENV-001", "ENV-002",
                                                           "ENV-003", "ENV-004"],
                request_id=corr)
        g.valid("unchecked-fields", frame(deadline_unix_ms=1700000000000,
                                          traceparent=TRACEPARENT, tracestate="rp=1"),
                "A %s with a deadline and trace context: none of them is checked." % what,
                ["ENV-006"], request_id=corr)
        if rid_mode is None:
            g.valid("any-request-id", frame(request_id=(1 << 64) - 1),
                    "request_id 2^64-1: this site does not correlate request_id.",
                    ["ENV-006"])
        g.valid("version-2p32-plus-1", hx("0881808080" "10") + frame()[2:],
                "envelope_version sent as 2^32+1: truncated to 1, passes.",
                ["ENV-001", "WIRE-006"], flags=["Truncated32"], request_id=corr)
        g.valid("explicit-defaults", frame() + vi(2, kind) + vi(6, 0)
                if kind == 0 else frame() + vi(6, 0),
                "The frame followed by explicit default fields (kind/payload_encoding 0 "
                "written out): same values.", ["ENV-002", "ENV-004", "WIRE-021"],
                flags=["ExplicitDefault"], request_id=corr)
        for v in (0, 2, 0xFFFFFFFF):
            g.invalid("version-%d" % v, frame(envelope_version=v), "envelope-version",
                      "envelope_version %d%s." % (v, " (absent: the default)" if v == 0
                                                   else ""), ["ENV-001"],
                      request_id=corr)
        for k in (0, 1, 2, 3, 4, 99, -1):
            if k == kind:
                continue
            g.invalid("kind-%s" % KIND_NAMES.get(k, str(k)).lower().replace("-", "minus-"),
                      frame(kind=k), "envelope-kind",
                      "kind %s instead of %s%s." % (KIND_NAMES.get(k, k), KIND_NAMES[kind],
                                                   " (unknown values fail too)"
                                                   if k not in KIND_NAMES else ""),
                      ["ENV-002"] + (["WIRE-007"] if k not in KIND_NAMES else []),
                      flags=["OpenEnum"] if k not in KIND_NAMES else [], request_id=corr)
        for p in FIRST_PARTY + (0x7001, 0xF415, pp | 0x10000):
            if p == pp:
                continue
            g.invalid("protocol-%04x" % p, frame(payload_protocol=p),
                      "envelope-payload-protocol",
                      "payload_protocol 0x%04X instead of 0x%04X%s." % (
                          p, pp, " (the full u32 is compared)" if p > 0xFFFF else ""),
                      ["ENV-003", "ENV-008"], request_id=corr)
        for e in (1, 2, 3, 7, -1):
            g.invalid("encoding-%s" % {1: "zstd", 2: "snappy", 3: "lz4"}.get(
                          e, str(e)).replace("-", "minus-"),
                      frame(payload_encoding=e), "envelope-payload-encoding",
                      "payload_encoding %d: v1 accepts only NONE." % e, ["ENV-004"],
                      flags=["OpenEnum"] if e not in (1, 2, 3) else [], request_id=corr)
        other_kind = 3 if kind != 3 else 0
        other_pp = 0x7001
        for name, over, err, text in (
                ("order-version-kind", dict(envelope_version=2, kind=other_kind),
                 "envelope-version", "version and kind wrong: version is reported"),
                ("order-kind-protocol", dict(kind=other_kind, payload_protocol=other_pp),
                 "envelope-kind", "kind and payload_protocol wrong: kind is reported"),
                ("order-protocol-encoding", dict(payload_protocol=other_pp,
                                                 payload_encoding=1),
                 "envelope-payload-protocol",
                 "payload_protocol and encoding wrong: payload_protocol is reported"),
                ("order-all-four", dict(envelope_version=0, kind=other_kind,
                                        payload_protocol=other_pp, payload_encoding=2),
                 "envelope-version", "all four checks fail: version is reported")):
            g.invalid(name, frame(**over), err, text + ".",
                      ["ENV-005"], request_id=corr)
        if rid_mode is None:
            continue
        g.invalid("request-id-mismatch", frame(request_id=rid + 1), "envelope-request-id",
                  "request_id %d where %d is expected." % (rid + 1, rid),
                  ["ENV-009"], request_id=rid)
        g.invalid("request-id-absent", frame(request_id=0), "envelope-request-id",
                  "request_id absent (0) where %d is expected." % rid, ["ENV-009"],
                  request_id=rid)
        g.valid("request-id-zero-expected", frame(request_id=0),
                "request_id absent and 0 expected: a match.", ["ENV-009"], request_id=0)
        if rid_mode == "before-encoding":
            g.invalid("order-request-id-before-encoding",
                      frame(request_id=rid + 1, payload_encoding=1), "envelope-request-id",
                      "request_id mismatched and payload_encoding ZSTD: this site checks "
                      "request_id first.", ["ENV-009", "ENV-005"], request_id=rid)
        else:
            g.invalid("order-encoding-before-request-id",
                      frame(request_id=rid + 1, payload_encoding=1),
                      "envelope-payload-encoding",
                      "request_id mismatched and payload_encoding ZSTD: this site checks "
                      "the envelope first, then request_id.", ["ENV-009", "ENV-005"],
                      request_id=rid)
        g.invalid("order-protocol-before-request-id",
                  frame(request_id=rid + 1, payload_protocol=other_pp),
                  "envelope-payload-protocol",
                  "request_id and payload_protocol wrong: payload_protocol is reported.",
                  ["ENV-009", "ENV-005"], request_id=rid)

    g = f.group("envelope/probe-response-derived", "envelope",
                "The probe responses of upstream's probe tests.", message="Frame",
                site="probe-response")
    nonce_a = bytes(range(32))
    dp1 = enc("DaemonProcess", **dp1_values())
    body = frame_response(0xB232, nonce_a + dp1, int.from_bytes(nonce_a[:8], "little"))
    g.valid("response-to-a-dp1", body,
            "The response to probe request A (nonce 00..1f, request_id = the nonce's first "
            "8 bytes little-endian) carrying DP1: 146-byte body.", ["ENV-009"],
            source="derived", request_id=0x0706050403020100,
            pin="0801100118b2e402227e" + nonce_a.hex() + dp1.hex() + "28808288" "98c0a08183"
                "07")
    dp2 = enc("DaemonProcess", **dp2_values())
    g.valid("response-to-d-dp2", frame_response(0xB232, b"\x09" * 32 + dp2, 7),
            "The response to the mux test's request D (nonce 32 x 09, request_id 7) "
            "carrying DP2: 166-byte body.", ["ENV-009"], source="derived", request_id=7,
            pin="0801100118b2e40222990109" + "09" * 31 + dp2.hex() + "2807")
    g.invalid("response-to-d-wrong-id", frame_response(0xB232, b"\x09" * 32 + dp2, 7),
              "envelope-request-id",
              "The same response checked against request_id 8.", ["ENV-009"],
              source="derived", request_id=8)

    g = f.group("envelope/hello-empty-body", "envelope",
                "An empty Frame body at the Hello site.", message="Frame", site="hello")
    g.invalid("empty-body", b"", "envelope-version",
              "01 00 00 00 00's body: the default Frame has envelope_version 0 "
              "(upstream: Refused VERSION_UNSUPPORTED 'frame envelope_version is not v1').",
              ["ENV-001", "FRAME-006"], flags=["EmptyBody"])


# --------------------------------------------------------------------------
# vectors/schema.json (JSON Schema draft 2020-12), built from the same
# constants and from the proto descriptors (the shape of "expected").

U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1


def obj(props, required=None):
    return {"type": "object", "additionalProperties": False,
            "required": sorted(props) if required is None else required,
            "properties": props}


def message_schema(desc):
    """The JSON mapping of one message as a schema."""
    props, required = {}, []
    for f in sorted(desc.fields, key=lambda x: x.number):
        if f.label == FD.LABEL_REPEATED:
            if f.type == FD.TYPE_MESSAGE:
                props[f.name] = {"type": "object",
                                 "additionalProperties": {"type": "string"}}
            else:
                props[f.name] = {"type": "array", "items": {"type": "string"}}
            required.append(f.name)
            continue
        if f.type == FD.TYPE_MESSAGE:
            props[f.name] = {"$ref": "#/$defs/message/" + f.message_type.name}
            continue
        if f.type == FD.TYPE_UINT32:
            sch = {"type": "integer", "minimum": 0, "maximum": U32_MAX}
        elif f.type == FD.TYPE_UINT64:
            sch = {"type": "integer", "minimum": 0, "maximum": U64_MAX}
        elif f.type == FD.TYPE_BOOL:
            sch = {"type": "boolean"}
        elif f.type == FD.TYPE_STRING:
            sch = {"type": "string"}
        elif f.type == FD.TYPE_BYTES:
            sch = {"$ref": "#/$defs/hex"}
        elif f.type == FD.TYPE_ENUM:
            sch = {"oneOf": [{"enum": [v.name for v in f.enum_type.values]},
                             {"type": "integer", "minimum": -(1 << 31),
                              "maximum": (1 << 31) - 1}]}
        else:
            raise AssertionError(f.full_name)
        props[f.name] = sch
        if not f.has_presence:
            required.append(f.name)
    out = obj(props, required)
    if desc.oneofs and any(not o.name.startswith("_") for o in desc.oneofs):
        out["maxProperties"] = len(required) + 1
    return out


def build_schema():
    hexs = {"$ref": "#/$defs/hex"}
    tid = {"type": "string", "pattern": "^[a-z0-9]+(/[a-z0-9][a-z0-9.-]*)+$"}
    common = {
        "id": tid,
        "comment": {"type": "string", "minLength": 1},
        "requirements": {"type": "array", "minItems": 1, "uniqueItems": True,
                         "items": {"enum": sorted(REQUIREMENTS)}},
        "input": hexs,
        "flags": {"type": "array", "uniqueItems": True,
                  "items": {"enum": sorted(NOTES)}},
        "source": {"enum": list(SOURCES)},
    }
    framing_errors = ["framing-version", "frame-too-large", "unexpected-eof"]
    envelope_errors = sorted(e for e in ERROR_CLASSES if e.startswith("envelope-"))
    decode_errors = sorted(e for e in ERROR_CLASSES
                           if e not in framing_errors and e not in envelope_errors)

    def test(result, **extra):
        props = dict(common, result={"enum": result} if isinstance(result, list)
                     else {"const": result})
        props.update(extra)
        return obj(props)

    decoded = {"expected": {"type": "object"}, "canonical": {"type": "boolean"},
               "reencoded": {"type": ["string", "null"], "pattern": "^([0-9a-f]{2})*$"}}
    tests = {
        "framing": {"oneOf": [
            test("valid", frames={"type": "array", "minItems": 1, "items": obj({
                "body": hexs, "consumed": {"type": "integer", "minimum": 5}})}),
            test("invalid", error={"enum": framing_errors})]},
        "framed": {"oneOf": [
            test("valid", consumed={"type": "integer", "minimum": 5}, **decoded),
            test("invalid", error={"enum": framing_errors + decode_errors})]},
        "message": {"oneOf": [
            test(["valid", "acceptable"], **decoded),
            test("invalid", error={"enum": decode_errors})]},
        "envelope": {"oneOf": [
            test("valid", **decoded),
            test("valid", request_id={"type": "integer", "minimum": 0,
                                      "maximum": U64_MAX}, **decoded),
            test("invalid", error={"enum": envelope_errors}),
            test("invalid", error={"enum": envelope_errors},
                 request_id={"type": "integer", "minimum": 0, "maximum": U64_MAX})]},
    }
    identity = {"$ref": "#/$defs/message/DaemonProcess"}
    tests["probe-request"] = {"oneOf": [
        test("valid", response=hexs),
        test("invalid", error={"enum": envelope_errors + ["probe-nonce-length"]})]}
    tests["probe-response"] = {"oneOf": [
        test("valid", expected=identity),
        test("invalid", error={"enum": sorted(
            set(envelope_errors + decode_errors) | PROBE_ERRORS -
            {"identity-mismatch", "probe-nonce-length", "sidecar-malformed"})}),
        test("invalid", error={"const": "identity-mismatch"},
             field={"enum": list(IDENTITY_FIELDS)})]}
    handoff_errors = sorted(set(envelope_errors + decode_errors) | HANDOFF_ERRORS)
    offer_json = {"$ref": "#/$defs/message/HandoffOffer"}
    ack_json = {"$ref": "#/$defs/message/HandoffAck"}
    tests["handoff-offer"] = {"oneOf": [
        test("valid", expected=offer_json,
             verdict={"enum": ["ok", "handoff-token-missing", "handoff-token-length"]},
             ack=hexs),
        test("invalid", error={"enum": handoff_errors})]}
    for kind in ("handoff-ack", "handoff-ready"):
        tests[kind] = {"oneOf": [test("valid", expected=ack_json),
                                 test("invalid", error={"enum": handoff_errors})]}
    tests["sidecar"] = {"oneOf": [
        test("valid", expected=identity),
        test("invalid", error={"const": "sidecar-malformed"})]}
    gid = {"type": "string", "pattern": "^[a-z0-9]+(/[a-z0-9][a-z0-9.-]*)+$"}
    gcommon = {"id": gid, "description": {"type": "string", "minLength": 1},
               "options": {"type": "array", "uniqueItems": True,
                           "items": {"enum": list(OPTIONS)}}}
    cap = {"type": "integer", "minimum": 0, "maximum": MAX_FRAME}
    names = sorted(PB)

    def group(kind, **extra):
        props = dict(gcommon, kind={"const": kind},
                     tests={"type": "array", "minItems": 1,
                            "items": {"$ref": "#/$defs/test/" + kind}})
        props.update(extra)
        return obj(props)

    expected_by_message = [
        {"if": {"properties": {"message": {"const": n}}},
         "then": {"properties": {"tests": {"items": {"properties": {
             "expected": {"$ref": "#/$defs/message/" + n}}}}}}}
        for n in names]
    message_group = group("message", message={"enum": names})
    message_group["allOf"] = expected_by_message
    framed_group = group("framed", message={"const": "Frame"}, cap=cap)
    framed_group["allOf"] = [expected_by_message[names.index("Frame")]]
    envelope_group = group("envelope", message={"const": "Frame"},
                           site={"enum": list(SITES)})
    correlating = [s for s, v in SITES.items() if v[2] is not None]
    envelope_group["allOf"] = [
        expected_by_message[names.index("Frame")],
        {"if": {"properties": {"site": {"enum": correlating}}},
         "then": {"properties": {"tests": {"items": {"required": ["request_id"]}}}},
         "else": {"properties": {"tests": {"items": {"not": {"required": ["request_id"]}}}}}},
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://rpb.invalid/vectors/schema.json",
        "title": "rpb-vectors/1: golden byte vectors of the running-process broker v1 "
                 "protocol (see vectors/README.md)",
        "type": "object",
        "additionalProperties": False,
        "required": ["schema", "file", "generator", "description", "notes",
                     "numberOfTests", "groups"],
        "properties": {
            "schema": {"const": "rpb-vectors/1"},
            "file": {"type": "string", "pattern": "^[a-z0-9]+\\.json$"},
            "generator": {"const": GENERATOR},
            "description": {"type": "string", "minLength": 1},
            "notes": {"type": "object",
                      "propertyNames": {"enum": sorted(NOTES)},
                      "additionalProperties": obj({"description": {"type": "string"},
                                                   "effect": {"type": "string"}})},
            "numberOfTests": {"type": "integer", "minimum": 1},
            "groups": {"type": "array", "minItems": 1, "items": {"oneOf": [
                group("framing", cap=cap), framed_group, message_group, envelope_group,
                group("probe-request", identity=identity),
                group("probe-response", nonce=hexs, identity=identity),
                group("sidecar"),
                group("handoff-offer"),
                group("handoff-ack", token=hexs,
                      correlation_id={"type": "integer", "minimum": 0, "maximum": U64_MAX}),
                group("handoff-ready", token=hexs)]}},
        },
        "$defs": {
            "hex": {"type": "string", "pattern": "^([0-9a-f]{2})*$"},
            "test": tests,
            "message": {n: message_schema(PB[n].DESCRIPTOR) for n in names},
        },
    }


# --------------------------------------------------------------------------
# A small JSON Schema validator for the keywords schema.json uses, so that
# --check needs nothing beyond the Python standard library.


def _resolve(root, ref):
    assert ref.startswith("#/"), ref
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _type_ok(t, v):
    if isinstance(t, list):
        return any(_type_ok(x, v) for x in t)
    if t == "null":
        return v is None
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    raise AssertionError("schema type " + t)


def validate(root, sch, v, path="$"):
    """Returns a list of error strings (empty when v is valid)."""
    errs = []
    if "$ref" in sch:
        errs += validate(root, _resolve(root, sch["$ref"]), v, path)
    if "type" in sch and not _type_ok(sch["type"], v):
        return errs + ["%s: not of type %s" % (path, sch["type"])]
    if "const" in sch and v != sch["const"]:
        errs.append("%s: %r is not %r" % (path, v, sch["const"]))
    if "enum" in sch and v not in sch["enum"]:
        errs.append("%s: %r not in enum" % (path, v))
    if "pattern" in sch and isinstance(v, str) and not re.search(sch["pattern"], v):
        errs.append("%s: %r does not match %s" % (path, v, sch["pattern"]))
    if "minLength" in sch and isinstance(v, str) and len(v) < sch["minLength"]:
        errs.append("%s: too short" % path)
    if isinstance(v, int) and not isinstance(v, bool):
        if "minimum" in sch and v < sch["minimum"]:
            errs.append("%s: below minimum" % path)
        if "maximum" in sch and v > sch["maximum"]:
            errs.append("%s: above maximum" % path)
    if isinstance(v, list):
        if "minItems" in sch and len(v) < sch["minItems"]:
            errs.append("%s: too few items" % path)
        if sch.get("uniqueItems") and len({json.dumps(x, sort_keys=True) for x in v}) \
                != len(v):
            errs.append("%s: items not unique" % path)
        if "items" in sch:
            for i, x in enumerate(v):
                errs += validate(root, sch["items"], x, "%s[%d]" % (path, i))
    if isinstance(v, dict):
        for r in sch.get("required", []):
            if r not in v:
                errs.append("%s: missing %s" % (path, r))
        props = sch.get("properties", {})
        for k, x in v.items():
            if k in props:
                errs += validate(root, props[k], x, path + "." + k)
            elif sch.get("additionalProperties") is False:
                errs.append("%s: unexpected property %s" % (path, k))
            elif isinstance(sch.get("additionalProperties"), dict):
                errs += validate(root, sch["additionalProperties"], x, path + "." + k)
            if "propertyNames" in sch:
                errs += validate(root, sch["propertyNames"], k, path + " key " + k)
        if "maxProperties" in sch and len(v) > sch["maxProperties"]:
            errs.append("%s: too many properties" % path)
    for sub in sch.get("allOf", []):
        errs += validate(root, sub, v, path)
    if "oneOf" in sch:
        results = [validate(root, sub, v, path) for sub in sch["oneOf"]]
        ok = sum(1 for r in results if not r)
        if ok != 1:
            best = min(results, key=len) if ok == 0 else []
            errs.append("%s: matches %d of oneOf%s" % (
                path, ok, (" (closest: %s)" % "; ".join(best[:3])) if best else ""))
    if "not" in sch and not validate(root, sch["not"], v, path):
        errs.append("%s: matches a 'not' schema" % path)
    if "if" in sch:
        if not validate(root, sch["if"], v, path):
            if "then" in sch:
                errs += validate(root, sch["then"], v, path)
        elif "else" in sch:
            errs += validate(root, sch["else"], v, path)
    return errs


# --------------------------------------------------------------------------
# probe.json: the identity probe (spec/probe.md): the responder's request
# checks and response bytes, the requester's response checks, the sidecar.

PROBE_ERRORS = {"probe-nonce-length", "probe-payload-short", "probe-nonce-mismatch",
                "identity-missing-endpoint", "identity-sha256-length",
                "identity-mismatch", "sidecar-malformed"}
IDENTITY_FIELDS = ("pid", "exe_path", "exe_sha256", "boot_id", "ipc_endpoint")


def path_components(p):
    """IDENT-002: Rust Path components (root, then names; '.' only leading)."""
    parts = p.split("/")
    out = ["/"] if p.startswith("/") else []
    for i, c in enumerate(parts):
        if c == "" or (c == "." and (i > 0 or p.startswith("/"))):
            continue
        out.append(c)
    return out


def model_request(frame):
    """PROBE-010 steps 3 and 4 on a decoded request Frame."""
    if frame.envelope_version != 1:
        return "envelope-version"
    if frame.kind != 0:
        return "envelope-kind"
    if frame.payload_protocol != 0xB232:
        return "envelope-payload-protocol"
    if frame.payload_encoding != 0:
        return "envelope-payload-encoding"
    if len(frame.payload) != 32:
        return "probe-nonce-length"
    return None


def model_response(body, nonce, want):
    """PROBE-023..028: (class or None, mismatching field or None, identity)."""
    f = parse("Frame", body)
    rid = int.from_bytes(nonce[:8], "little")
    for bad, cls in ((f.envelope_version != 1, "envelope-version"),
                     (f.kind != 1, "envelope-kind"),
                     (f.payload_protocol != 0xB232, "envelope-payload-protocol"),
                     (f.request_id != rid, "envelope-request-id"),
                     (f.payload_encoding != 0, "envelope-payload-encoding"),
                     (len(f.payload) < 32, "probe-payload-short")):
        if bad:
            return cls, None, None
    if f.payload[:32] != nonce:
        return "probe-nonce-mismatch", None, None
    d = parse("DaemonProcess", f.payload[32:])
    if not d.HasField("ipc_endpoint"):
        return "identity-missing-endpoint", None, None
    if len(d.exe_sha256) != 32:
        return "identity-sha256-length", None, None
    diffs = [d.pid != want.pid,
             path_components(d.exe_path) != path_components(want.exe_path),
             d.exe_sha256 != want.exe_sha256, d.boot_id != want.boot_id,
             (d.ipc_endpoint.namespace_id, d.ipc_endpoint.path) !=
             (want.ipc_endpoint.namespace_id, want.ipc_endpoint.path)]
    for name, differs in zip(IDENTITY_FIELDS, diffs):
        if differs:
            return "identity-mismatch", name, d
    return None, None, d


def probe_response_wire(request, identity):
    """PROBE-005, built independently: response_to(request) carrying the
    nonce and the identity's prost encoding, framed."""
    payload = request.payload + prost_encode(identity)
    resp = make("Frame", envelope_version=1, kind=1, payload_protocol=0xB232,
                payload=payload, request_id=request.request_id,
                traceparent=request.traceparent, tracestate=request.tracestate)
    return framed(prost_encode(resp))


def sidecar_json(d):
    """IDENT-030: the sidecar of DaemonProcess d, serde_json's pretty layout."""
    doc = {"pid": d.pid, "exe_path": d.exe_path, "exe_sha256": list(d.exe_sha256),
           "boot_id": d.boot_id,
           "ipc_endpoint": {"namespace_id": d.ipc_endpoint.namespace_id,
                            "path": d.ipc_endpoint.path},
           "started_at_unix_ms": d.started_at_unix_ms,
           "idle_timeout_secs": d.idle_timeout_secs if d.HasField("idle_timeout_secs") else None}
    return json.dumps(doc, indent=2, ensure_ascii=False)


class ProbeGroup(Group):
    """A group of one of the probe kinds; nonce and identity as given."""

    def __init__(self, vfile, gid, kind, description, nonce=None, identity=None):
        Group.__init__(self, vfile, gid, kind, description, None, None, None, [])
        self.nonce, self.identity = nonce, identity

    def to_json(self):
        out = {"id": self.id, "kind": self.kind, "description": self.description,
               "options": []}
        if self.nonce is not None:
            out["nonce"] = self.nonce.hex()
        if self.identity is not None:
            out["identity"] = to_json(self.identity)
        out["tests"] = self.tests
        return out

    def request(self, name, body, comment, reqs, error=None, source="rpb", pin=None):
        f = parse("Frame", body)
        assert model_request(f) == error, (name, model_request(f), error)
        t = self._test(name, body, "invalid" if error else "valid", comment, reqs, (), source)
        if error:
            t["error"] = error
        else:
            wire = probe_response_wire(f, self.identity)
            if pin is not None:
                assert wire == hx(pin), (name, wire.hex())
            t["response"] = wire.hex()
        return t

    def response(self, name, body, comment, reqs, error=None, field=None, source="rpb",
                 pin=None):
        if pin is not None:
            assert bytes(body) == hx(pin), (name, bytes(body).hex())
        got, got_field, d = model_response(body, self.nonce, self.identity)
        assert (got, got_field) == (error, field), (name, got, got_field)
        t = self._test(name, body, "invalid" if error else "valid", comment, reqs, (), source)
        if error:
            t["error"] = error
            if field:
                t["field"] = field
        else:
            t["expected"] = to_json(d)
        return t

    def decode_error(self, name, body, error, comment, reqs):
        """A response whose DaemonProcess does not decode; the class is
        assigned by spec/wire.md's rules, Google must reject it too."""
        f = parse("Frame", body)
        assert not google_accepts("DaemonProcess", f.payload[32:]), name
        t = self._test(name, body, "invalid", comment, reqs, (), "rpb")
        t["error"] = error
        return t

    def sidecar(self, name, text, comment, reqs, expected=None, source="rpb"):
        data = text.encode() if isinstance(text, str) else text
        t = self._test(name, data, "valid" if expected is not None else "invalid", comment,
                       reqs, (), source)
        if expected is None:
            t["error"] = "sidecar-malformed"
        else:
            t["expected"] = to_json(expected)
        return t


def gen_probe(s):
    f = s.file("probe.json", "The endpoint identity probe (spec/probe.md): the responder's "
               "checks of a request and the bytes of its response, the requester's checks "
               "of a response, and the identity sidecar JSON.")
    dp1 = make("DaemonProcess", **dp1_values())
    seq = bytes(range(32))

    def probe_group(gid, kind, description, nonce=None):
        s.claim(gid)
        g = ProbeGroup(f, gid, kind, description, nonce, dp1)
        f.groups.append(g)
        return g

    g = probe_group("probe/request", "probe-request",
                    "Request Frame bodies a backend receives; a valid one is answered "
                    "with the identity DP1 (upstream's probe test values).")
    rid_seq = int.from_bytes(seq[:8], "little")
    g.request("vector-a", frame_request(0xB232, seq, rid_seq),
              "Vector A: nonce 00..1F, request_id its first 8 bytes LE; the response "
              "echoes nonce and request_id and carries DP1 (151 bytes).",
              ["PROBE-001", "PROBE-002", "PROBE-005", "IDENT-001"], source="derived",
              pin="019200000008011001""18b2e40222""7e" + seq.hex() +
                  enc("DaemonProcess", **dp1_values()).hex() + "2880828898c0a0818307")
    g.request("vector-d", frame_request(0xB232, b"\x09" * 32, 7),
              "Vector D (mux unit test): request_id 7 is not derived from the nonce; "
              "the responder does not check it and echoes it.",
              ["PROBE-011", "PROBE-005"], source="upstream-test")
    g.request("trace-echo", frame_request(0xB232, seq, rid_seq, traceparent=TRACEPARENT,
                                          tracestate="rp=1"),
              "traceparent and tracestate are echoed after the request_id.",
              ["PROBE-005", "PROBE-011"], source="derived")
    g.request("request-id-zero", frame_request(0xB232, bytes(8) + seq[8:], 0),
              "A nonce starting with 8 zero bytes: request_id 0 is left out on both sides.",
              ["PROBE-001", "PROBE-002"])
    g.request("deadline-ignored", frame_request(0xB232, seq, rid_seq,
                                                deadline_unix_ms=1700000000000),
              "deadline_unix_ms is not checked; the response carries 0.", ["PROBE-011"])
    for name, body, err, why in (
            ("nonce-31", frame_request(0xB232, seq[:31], rid_seq), "probe-nonce-length",
             "a 31-byte nonce (the mux unit test)"),
            ("nonce-33", frame_request(0xB232, seq + b"\x20", rid_seq), "probe-nonce-length",
             "a 33-byte nonce"),
            ("nonce-empty", frame_request(0xB232, b"", 0), "probe-nonce-length", "no payload"),
            ("kind-response", frame_response(0xB232, seq, rid_seq), "envelope-kind",
             "kind RESPONSE"),
            ("version-2", enc("Frame", envelope_version=2, payload_protocol=0xB232,
                              payload=seq, request_id=rid_seq), "envelope-version",
             "envelope_version 2"),
            ("protocol-7001", frame_request(0x7001, seq, rid_seq), "envelope-payload-protocol",
             "payload_protocol 0x7001"),
            ("zstd", frame_request(0xB232, seq, rid_seq, payload_encoding=1),
             "envelope-payload-encoding", "payload_encoding ZSTD"),
            ("zstd-nonce-31", frame_request(0xB232, seq[:31], rid_seq, payload_encoding=1),
             "envelope-payload-encoding", "ZSTD and a 31-byte nonce: the encoding is "
             "checked first")):
        g.request(name, body, "Refused by the responder: %s." % why, ["PROBE-010"], error=err)

    g = probe_group("probe/response", "probe-response",
                    "Response Frame bodies a requester receives for the nonce 00..1F, "
                    "checked against the expected identity DP1.", nonce=seq)
    dp1b = enc("DaemonProcess", **dp1_values())

    def resp(payload, rid=rid_seq, **extra):
        return frame_response(0xB232, payload, rid, **extra)

    def dp(**changes):
        v = dp1_values()
        v.update(changes)
        return enc("DaemonProcess", **v)

    g.response("dp1", resp(seq + dp1b),
               "The response to vector A carrying DP1 (the body of the 151-byte response "
               "of probe/request/vector-a).", ["PROBE-023", "PROBE-024", "PROBE-025", "PROBE-026", "PROBE-027",
                          "PROBE-028"], source="derived")
    g.response("trace-ignored", resp(seq + dp1b, traceparent="x", deadline_unix_ms=5),
               "deadline_unix_ms and the trace fields of a response are ignored.",
               ["PROBE-023"])
    g.response("idle-none", resp(seq + enc("DaemonProcess", **dp1_values(None))),
               "idle_timeout_secs and started_at_unix_ms are not compared.", ["PROBE-028"])
    g.response("started-differs", resp(seq + dp(started_at_unix_ms=1)),
               "started_at_unix_ms differs: not compared.", ["PROBE-028"])
    g.response("path-components", resp(seq + dp(exe_path="/usr//bin/./mydaemon/")),
               "exe_path spelled with a repeated /, a . and a trailing /: equal by "
               "components.", ["PROBE-028", "IDENT-002"])
    for name, body, err, field, why, reqs in (
            ("request-id", resp(seq + dp1b, rid_seq + 1), "envelope-request-id", None,
             "request_id is not the request's", ["PROBE-023"]),
            ("request-id-before-encoding", resp(seq + dp1b, rid_seq + 1, payload_encoding=1),
             "envelope-request-id", None, "request_id and encoding both wrong: request_id "
             "is checked first", ["PROBE-023"]),
            ("zstd", resp(seq + dp1b, payload_encoding=1), "envelope-payload-encoding", None,
             "a compressed payload", ["PROBE-023"]),
            ("kind-request", frame_request(0xB232, seq + dp1b, rid_seq), "envelope-kind", None,
             "kind REQUEST", ["PROBE-023"]),
            ("payload-31", resp(seq[:31]), "probe-payload-short", None,
             "a payload shorter than the nonce", ["PROBE-024"]),
            ("nonce-differs", resp(bytes(32) + dp1b), "probe-nonce-mismatch", None,
             "another nonce", ["PROBE-025"]),
            ("identity-empty", resp(seq), "identity-missing-endpoint", None,
             "the nonce alone: an all-default DaemonProcess", ["PROBE-026", "PROBE-027"]),
            ("endpoint-absent", resp(seq + enc("DaemonProcess", pid=4242,
                                               exe_sha256=b"\xaa" * 32)),
             "identity-missing-endpoint", None, "no ipc_endpoint", ["PROBE-027"]),
            ("endpoint-empty-no-sha", resp(seq + hx("2200")), "identity-sha256-length", None,
             "an empty but present endpoint (22 00) and no digest", ["PROBE-027"]),
            ("sha-31", resp(seq + dp(exe_sha256=b"\xaa" * 31)), "identity-sha256-length", None,
             "a 31-byte digest", ["PROBE-027"]),
            ("pid", resp(seq + dp(pid=1)), "identity-mismatch", "pid", "another pid",
             ["PROBE-028"]),
            ("exe-path", resp(seq + dp(exe_path="/usr/bin/other")), "identity-mismatch",
             "exe_path", "another executable path", ["PROBE-028", "IDENT-002"]),
            ("exe-path-relative", resp(seq + dp(exe_path="usr/bin/mydaemon")),
             "identity-mismatch", "exe_path", "a relative spelling is another path",
             ["PROBE-028", "IDENT-002"]),
            ("exe-sha256", resp(seq + dp(exe_sha256=b"\xab" * 32)), "identity-mismatch",
             "exe_sha256", "another digest", ["PROBE-028"]),
            ("boot-id", resp(seq + dp(boot_id="different-boot-id")), "identity-mismatch",
             "boot_id", "another boot id (upstream's identity-mismatch test)", ["PROBE-028"]),
            ("boot-id-before-endpoint",
             resp(seq + dp(boot_id="", ipc_endpoint=make("Endpoint", path="/x"))),
             "identity-mismatch", "boot_id", "boot id and endpoint differ: boot_id is "
             "reported first", ["PROBE-028"]),
            ("namespace", resp(seq + dp(ipc_endpoint=make("Endpoint", namespace_id="ns-2",
                                                          path="/tmp/d.sock"))),
             "identity-mismatch", "ipc_endpoint", "another namespace", ["PROBE-028"]),
            ("endpoint-path", resp(seq + dp(ipc_endpoint=make("Endpoint", namespace_id="ns-1",
                                                              path="/tmp//d.sock"))),
             "identity-mismatch", "ipc_endpoint", "the endpoint path is compared as exact "
             "bytes", ["PROBE-028"])):
        g.response(name, body, "Rejected by the requester: %s." % why, reqs, error=err,
                   field=field)
    g.decode_error("identity-truncated", resp(seq + b"\x08"), "invalid-varint",
                   "The DaemonProcess is a pid key without its varint: the decode error "
                   "of the identity (offsets past the nonce).", ["PROBE-026"])
    g.decode_error("identity-utf8", resp(seq + ld(2, b"\xff")), "invalid-utf8",
                   "exe_path is not UTF-8.", ["PROBE-026"])

    g = probe_group("probe/sidecar", "sidecar",
                    "Identity sidecar texts (upstream's JSON, IDENT-030).")
    g.identity = None
    dp2 = make("DaemonProcess", **dp2_values())
    none = make("DaemonProcess", **dp1_values(None))
    g.sidecar("dp1", sidecar_json(dp1), "DP1 as serde_json writes it (2-space indent).",
              ["IDENT-030", "IDENT-031"], expected=dp1, source="derived")
    g.sidecar("dp2", sidecar_json(dp2), "DP2 (proto_roundtrip.rs values).",
              ["IDENT-030", "IDENT-031"], expected=dp2, source="derived")
    g.sidecar("idle-null", sidecar_json(none), "idle_timeout_secs null: not set.",
              ["IDENT-031"], expected=none)
    doc = json.loads(sidecar_json(dp1))
    variants = []

    def variant(name, change, expected, why):
        d = json.loads(json.dumps(doc))
        change(d)
        variants.append((name, json.dumps(d), expected, why))

    variant("idle-missing", lambda d: d.pop("idle_timeout_secs"), none,
            "idle_timeout_secs missing: not set")
    variant("unknown-key", lambda d: d.update(extra=[1, {"a": None}]), dp1,
            "unknown keys are ignored")
    variant("pid-missing", lambda d: d.pop("pid"), None, "pid missing")
    variant("pid-negative", lambda d: d.update(pid=-1), None, "a negative pid")
    variant("pid-over-u32", lambda d: d.update(pid=1 << 32), None, "pid above 2^32-1")
    variant("pid-string", lambda d: d.update(pid="4242"), None, "pid as a string")
    variant("sha-31", lambda d: d["exe_sha256"].pop(), None, "31 digest elements")
    variant("sha-256", lambda d: d["exe_sha256"].__setitem__(0, 256), None,
            "a digest element of 256")
    variant("sha-hex", lambda d: d.update(exe_sha256="aa" * 32), None,
            "the digest as a hex string")
    variant("endpoint-path-missing", lambda d: d["ipc_endpoint"].pop("path"), None,
            "ipc_endpoint without path")
    variant("idle-string", lambda d: d.update(idle_timeout_secs="30"), None,
            "idle_timeout_secs as a string")
    for name, text, expected, why in variants:
        g.sidecar(name, text, ("Accepted: %s." if expected is not None else
                               "Rejected: %s.") % why, ["IDENT-031"], expected=expected)
    g.sidecar("duplicate-key", '{"pid": 1, ' + sidecar_json(dp1)[1:],
              "Rejected: pid appears twice (serde refuses duplicate fields).", ["IDENT-031"])
    g.sidecar("not-json", "not json", "Rejected: not JSON (upstream's malformed-sidecar "
              "test).", ["IDENT-031"], source="upstream-test")
    g.sidecar("array", "[]", "Rejected: not an object.", ["IDENT-031"])


# --------------------------------------------------------------------------
# Driver.

GENERATORS = [gen_upstream, gen_framing, gen_frame, gen_hello, gen_reply, gen_handoff,
              gen_manifest, gen_service, gen_admin, gen_varint, gen_wiretype, gen_length,
              gen_utf8, gen_unknown, gen_recursion, gen_merge, gen_map, gen_envelope,
              gen_probe]


def dump(obj_):
    return json.dumps(obj_, indent=1, ensure_ascii=False) + "\n"


def generate(out_dir):
    """Writes every vector file and schema.json into out_dir; returns the
    names written."""
    suite = Suite()
    for gen in GENERATORS:
        gen(suite)
    assert GOOGLE_ACCEPTS <= suite.ids, sorted(GOOGLE_ACCEPTS - suite.ids)
    schema = build_schema()
    written = {SCHEMA_FILE: dump(schema)}
    for name, vf in suite.files.items():
        doc = vf.to_json()
        errs = validate(schema, schema, doc) + jsonschema_errors(schema, doc)
        if errs:
            raise SystemExit("%s does not match schema.json:\n  %s" % (
                name, "\n  ".join(errs[:20])))
        written[name] = dump(doc)
    for name, text in written.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as fh:
            fh.write(text)
    total = sum(v.to_json()["numberOfTests"] for v in suite.files.values())
    return sorted(written), total


def jsonschema_errors(schema, doc):
    """Validates with the jsonschema package too when it is installed
    (Debian python3-jsonschema); the built-in validator always runs."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        return []
    return [e.message for e in Draft202012Validator(schema).iter_errors(doc)]


def quiet_stderr():
    """Google's C++ runtime logs every invalid-UTF-8 parse on fd 2; the
    generator parses such inputs on purpose (cross-checks), so silence fd 2
    and return a function that restores it."""
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)

    def restore():
        os.dup2(saved, 2)
        os.close(saved)
    return restore


def check(tmp):
    out = os.path.join(tmp, "vectors")
    os.mkdir(out)
    names, total = generate(out)
    on_disk = sorted(n for n in os.listdir(VECTOR_DIR)
                     if n.endswith(".json"))
    problems = []
    for n in names:
        if n not in on_disk:
            problems.append("missing from vectors/: " + n)
        elif not filecmp.cmp(os.path.join(out, n), os.path.join(VECTOR_DIR, n),
                             shallow=False):
            with open(os.path.join(VECTOR_DIR, n), encoding="utf-8") as fh:
                old = fh.read().splitlines()
            with open(os.path.join(out, n), encoding="utf-8") as fh:
                new = fh.read().splitlines()
            changed = sum(1 for ln in difflib.unified_diff(old, new, n=0)
                          if ln[:1] in "+-" and ln[:3] not in ("+++", "---"))
            problems.append("differs: %s (%d changed lines)" % (n, changed))
    for n in on_disk:
        if n not in names:
            problems.append("not generated (stale?): vectors/" + n)
    return problems, len(names), total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temp dir and compare with vectors/")
    ap.add_argument("--out", help="write into this directory instead of vectors/")
    args = ap.parse_args()
    global FD
    if shutil.which("protoc") is None:
        print("gen_vectors: protoc not found (Debian package protobuf-compiler)",
              file=sys.stderr)
        return 2
    try:
        from google.protobuf.descriptor import FieldDescriptor
    except ImportError:
        print("gen_vectors: google.protobuf not found: run with /usr/bin/python3 "
              "(Debian package python3-protobuf)", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="rpb-vectors-")
    try:
        load_protos(tmp)
        FD = FieldDescriptor
        restore = quiet_stderr()
        try:
            if args.check:
                problems, nfiles, total = check(tmp)
            else:
                out = args.out or VECTOR_DIR
                os.makedirs(out, exist_ok=True)
                names, total = generate(out)
                nfiles = len(names)
        finally:
            restore()
    finally:
        shutil.rmtree(tmp)
    for w in WARNINGS:
        print("warning: " + w, file=sys.stderr)
    if args.check:
        if problems:
            print("gen_vectors --check: vectors/ is out of date:")
            for p in problems:
                print("  " + p)
            print("regenerate with: /usr/bin/python3 " + GENERATOR)
            return 1
        print("gen_vectors --check: %d files, %d tests, identical" % (nfiles, total))
        return 0
    print("gen_vectors: wrote %d files (%d tests) to %s" % (
        nfiles, total, os.path.relpath(args.out or VECTOR_DIR)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
