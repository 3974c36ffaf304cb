#!/usr/bin/env python3
"""Build the seed corpora fuzz/corpus/<target>/ from the golden vectors.

Reads every vectors/*.json (format: vectors/README.md) and writes each
input, shaped for the target it feeds, as one file named by the SHA-1 of
its contents (duplicates collapse):

  fuzz_frame_split, fuzz_frame_decode   framed byte streams
  fuzz_read_frame                       cap selector byte + framed stream
  fuzz_message                          message selector byte + bare body
  fuzz_envelope                         Frame bodies

Every vector feeds every target it can: a framed stream's first body also
seeds fuzz_envelope and fuzz_message (as a Frame); a bare Frame is also
framed; a payload message (Hello, HandoffAck, ...) is also wrapped in a
Frame with its site's kind and payload protocol, so fuzz_envelope reaches
the payload decoders from the start.

The corpus directories belong to this script: it rewrites them.  With
--check it only reports whether they are up to date (exit 1 if not).
Standard library only; run with any python3.
"""

import argparse
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ("fuzz_frame_split", "fuzz_frame_decode", "fuzz_read_frame",
           "fuzz_message", "fuzz_envelope")

# fuzz_message.c: byte 0 indexes this list (keep the two in the same order).
MESSAGES = ("Frame", "Hello", "HelloReply", "Negotiated", "Refused",
            "HandoffOffer", "HandoffAck", "Endpoint", "DaemonProcess",
            "HostIdentity", "ServiceDefinition", "AdminRequest", "AdminReply")

# fuzz_read_frame.c: byte 0 picks caps[b % 4] = 16 MiB, 64 KiB, 0, 1024.
READ_CAP_SELECTOR = {16777216: 0, 65536: 1, 0: 2, 1024: 3}

# The (kind, payload_protocol, nonce prefix) a payload travels with.
PAYLOAD_SITES = {
    "Hello": [(0, 0x0000, b"")],
    "HelloReply": [(1, 0x0000, b"")],
    "AdminRequest": [(0, 0xAD01, b"")],
    "AdminReply": [(1, 0xAD01, b"")],
    "HandoffOffer": [(0, 0xD0FF, b"")],
    "HandoffAck": [(1, 0xD0FF, b""), (2, 0xD0FF, b"")],
    "DaemonProcess": [(1, 0xB232, bytes([0x09]) * 32)],
}

MAX_INPUT = 65536


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def frame_body(kind, pp, payload, request_id=7):
    """A canonical Frame: envelope_version 1, kind, pp, payload, request_id."""
    out = bytearray(b"\x08\x01")
    if kind:
        out += b"\x10" + varint(kind)
    if pp:
        out += b"\x18" + varint(pp)
    if payload:
        out += b"\x22" + varint(len(payload)) + payload
    if request_id:
        out += b"\x28" + varint(request_id)
    return bytes(out)


def framed(body):
    return b"\x01" + len(body).to_bytes(4, "little") + body


def first_body(stream, cap):
    """The body of the stream's first frame, or None (rpb_frame_split)."""
    if len(stream) < 5 or stream[0] != 1:
        return None
    n = int.from_bytes(stream[1:5], "little")
    if n > cap or len(stream) < 5 + n:
        return None
    return stream[5:5 + n]


class Corpus:
    def __init__(self):
        self.inputs = {t: {} for t in TARGETS}

    def add(self, target, data):
        if len(data) <= MAX_INPUT:
            self.inputs[target][hashlib.sha1(data).hexdigest()] = data

    def add_stream(self, stream, cap):
        self.add("fuzz_frame_split", stream)
        self.add("fuzz_frame_decode", stream)
        self.add("fuzz_read_frame", bytes([READ_CAP_SELECTOR.get(cap, 0)]) + stream)
        body = first_body(stream, cap)
        if body is not None:
            self.add_frame_body(body, frame_too=False)

    def add_frame_body(self, body, frame_too=True):
        self.add("fuzz_envelope", body)
        self.add("fuzz_message", bytes([MESSAGES.index("Frame")]) + body)
        if frame_too:
            self.add_stream(framed(body), 16777216)

    def add_message(self, name, body):
        self.add("fuzz_message", bytes([MESSAGES.index(name)]) + body)
        if name == "Frame":
            self.add_frame_body(body)
        for kind, pp, prefix in PAYLOAD_SITES.get(name, []):
            self.add_frame_body(frame_body(kind, pp, prefix + body))


def collect(vectors_dir):
    corpus = Corpus()
    files = sorted(f for f in os.listdir(vectors_dir) if f.endswith(".json"))
    used = 0
    for name in files:
        with open(os.path.join(vectors_dir, name)) as f:
            doc = json.load(f)
        if doc.get("schema") != "rpb-vectors/1":
            continue  # schema.json
        used += 1
        for group in doc["groups"]:
            kind = group["kind"]
            for test in group["tests"]:
                data = bytes.fromhex(test["input"])
                if kind in ("framing", "framed"):
                    corpus.add_stream(data, group["cap"])
                elif kind == "message":
                    corpus.add_message(group["message"], data)
                elif kind == "envelope":
                    corpus.add_frame_body(data)
                else:
                    sys.exit(f"seed_corpus: {name}: unknown group kind {kind!r}")
    if not used:
        sys.exit(f"seed_corpus: no rpb-vectors/1 files in {vectors_dir}")
    return corpus


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", default=os.path.join(ROOT, "vectors"))
    ap.add_argument("--out", default=os.path.join(ROOT, "fuzz", "corpus"))
    ap.add_argument("--check", action="store_true",
                    help="only compare with the committed corpora")
    args = ap.parse_args()

    corpus = collect(args.vectors)
    stale = []
    for target in TARGETS:
        d = os.path.join(args.out, target)
        have = set(os.listdir(d)) if os.path.isdir(d) else set()
        want = corpus.inputs[target]
        if args.check:
            if have != set(want):
                stale.append(f"{target}: {len(set(want) - have)} missing, "
                             f"{len(have - set(want))} extra")
            continue
        os.makedirs(d, exist_ok=True)
        for old in have - set(want):
            os.remove(os.path.join(d, old))
        for digest, data in want.items():
            path = os.path.join(d, digest)
            if digest not in have:
                with open(path, "wb") as f:
                    f.write(data)
        print(f"{target}: {len(want)} inputs")
    if stale:
        print("seed_corpus: corpora out of date (run fuzz/seed_corpus.py):")
        for line in stale:
            print("  " + line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
