#!/usr/bin/env python3
"""Build the seed corpora fuzz/corpus/<target>/ from the golden vectors.

Reads every vectors/*.json (format: vectors/README.md) and writes each
input, shaped for the target it feeds, as one file named by the SHA-1 of
its contents (duplicates collapse):

  fuzz_frame_split, fuzz_frame_decode   framed byte streams
  fuzz_read_frame                       cap selector byte + framed stream
  fuzz_message                          message selector byte + bare body
  fuzz_envelope                         Frame bodies
  fuzz_control                          broker option byte + client bytes
  fuzz_json                             message selector byte + JSON text
  fuzz_probe_request, fuzz_probe_response   Frame bodies
  fuzz_probe_mux                        framed byte streams
  fuzz_sidecar                          identity sidecar JSON text
  fuzz_handoff                          0x01 + Frame body, or a store script

Every vector feeds every target it can: a framed stream's first body also
seeds fuzz_envelope and fuzz_message (as a Frame); a bare Frame is also
framed; a payload message (Hello, HandoffAck, ...) is also wrapped in a
Frame with its site's kind and payload protocol, so fuzz_envelope reaches
the payload decoders from the start.  fuzz_control gets every Hello and
admin frame of the vectors (Hello and AdminRequest payloads framed at their
site, the envelope vectors of the hello and admin-request sites, the framed
streams read with the Hello cap) plus hand-built connections that reach
each decision of the broker (CONTROL_SEEDS); fuzz_json gets the expected
JSON object of every vector that has one.  The probe targets get every
Frame body and framed stream of the vectors plus hand-built probe
exchanges around the fixed identity and nonce of fuzz/util.c
(probe_seeds), and fuzz_sidecar the sidecar texts of PROBE_SIDECARS.
fuzz_handoff gets the handoff payloads framed at their sites, the envelope
vectors of the handoff sites and hand-built store scripts and frames
(handoff_seeds).

The corpus directories belong to this script: it rewrites them, except
for the campaign-<sha1> files that `fuzz/run.sh --campaign` merged in
(inputs a fuzzing campaign found to add coverage), which it keeps.  With
--check it only reports whether they are up to date (exit 1 if not): the
generated files exactly, and every campaign file named by the SHA-1 of its
contents.
Standard library only; run with any python3.
"""

import argparse
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ("fuzz_frame_split", "fuzz_frame_decode", "fuzz_read_frame",
           "fuzz_message", "fuzz_envelope", "fuzz_control", "fuzz_json",
           "fuzz_probe_request", "fuzz_probe_response", "fuzz_probe_mux",
           "fuzz_sidecar", "fuzz_handoff")

# fuzz_message.c and fuzz_json.c: byte 0 indexes this list (fz_pick_message:
# the order of librpb's rpb_all_messages).
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

# fuzz_control.c: byte 0 holds the broker's options.
CONTROL_RATE_1_PER_S = 0x01
CONTROL_PEER_UNKNOWN = 0x04
CONTROL_FD_PRESSURE = 0x10
CONTROL_DRAINING = 0x18
CONTROL_HANDOFF = 0x20
CONTROL_NO_EOF = 0x40
# The sites whose envelope vectors are control-socket requests.
CONTROL_SITES = ("hello", "admin-request")

MAX_INPUT = 65536

# fuzz/run.sh --campaign names the inputs it merges in campaign-<sha1>.
CAMPAIGN_PREFIX = "campaign-"


def misnamed_campaign_files(d, names):
    """The campaign files among names whose name is not campaign-<SHA-1 of
    the contents>."""
    bad = []
    for n in names:
        with open(os.path.join(d, n), "rb") as f:
            if n != CAMPAIGN_PREFIX + hashlib.sha1(f.read()).hexdigest():
                bad.append(n)
    return bad


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


def field(number, value):
    """One canonical field: an int as a varint, str/bytes length-delimited;
    proto3 defaults (0, empty) are omitted."""
    if not value:
        return b""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def frame_body(kind, pp, payload, request_id=7, traceparent=""):
    """A canonical Frame: envelope_version 1, kind, pp, payload, request_id,
    traceparent."""
    return (field(1, 1) + field(2, kind) + field(3, pp) + field(4, payload) +
            field(5, request_id) + field(8, traceparent))


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


def hello(service, version, caps=0, peer_pid=0, keepalive=0,
          client_version="rpb-seed 1.0", lib_name="rpb-seed"):
    """A Hello for protocol 1..1 (field numbers: proto/, WIRE-018)."""
    return (field(1, 1) + field(2, 1) + field(3, service) + field(4, version) +
            field(5, client_version) + field(6, caps) + field(10, peer_pid) +
            field(11, lib_name) + field(12, "1.0.0") + field(15, keepalive))


def admin_request(verb, as_json, service=""):
    return field(1, verb) + field(2, int(as_json)) + field(3, service)


def hello_frame(body, request_id=7):
    return framed(frame_body(0, 0x0000, body, request_id,
                             "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))


def admin_frame(body, kind=0, request_id=9):
    return framed(frame_body(kind, 0xAD01, body, request_id))


# fuzz/util.c: the identity the probe targets answer with and expect (DP1,
# upstream's probe test values) and the requester's fixed nonce.
PROBE_NONCE = bytes([0x5A]) * 32


def daemon_process(pid=4242, exe="/usr/bin/mydaemon", sha=b"\xaa" * 32,
                   endpoint=(b"ns-1", b"/tmp/d.sock"), boot="boot-1", idle=30):
    ep = b"" if endpoint is None else (
        b"\x22" + varint(len(field(1, endpoint[0]) + field(2, endpoint[1]))) +
        field(1, endpoint[0]) + field(2, endpoint[1]))
    return (field(1, pid) + field(2, exe) + field(3, sha) + ep +
            field(5, 1700000000000) + field(6, boot) +
            (b"" if idle is None else b"\x38" + varint(idle)))


def probe_seeds():
    """(target, input) pairs: requests, responses (one per requester
    check), and mux streams mixing probes and service frames."""
    rid = int.from_bytes(PROBE_NONCE[:8], "little")
    request = frame_body(0, 0xB232, PROBE_NONCE, rid)
    good = daemon_process()
    responses = [
        frame_body(1, 0xB232, PROBE_NONCE + good, rid),
        frame_body(1, 0xB232, PROBE_NONCE + good, rid + 1),
        frame_body(1, 0xB232, PROBE_NONCE[:31], rid),
        frame_body(1, 0xB232, b"\x00" * 32 + good, rid),
        frame_body(1, 0xB232, PROBE_NONCE, rid),
        frame_body(1, 0xB232, PROBE_NONCE + daemon_process(endpoint=None), rid),
        frame_body(1, 0xB232, PROBE_NONCE + daemon_process(sha=b"\xaa" * 31), rid),
        frame_body(1, 0xB232, PROBE_NONCE + daemon_process(pid=1), rid),
        frame_body(1, 0xB232, PROBE_NONCE + daemon_process(exe="/usr//bin/./mydaemon/"), rid),
        frame_body(1, 0xB232, PROBE_NONCE + daemon_process(boot="boot-2"), rid),
        frame_body(1, 0xB232, PROBE_NONCE + daemon_process(endpoint=(b"ns-2", b"/tmp/d.sock")), rid),
        frame_body(1, 0xB232, PROBE_NONCE + daemon_process(idle=None), rid) + field(6, 1),
    ]
    seeds = [("fuzz_probe_request", request),
             ("fuzz_probe_request", frame_body(0, 0xB232, PROBE_NONCE[:31], rid)),
             ("fuzz_probe_request", frame_body(0, 0xB232, PROBE_NONCE, 7,
                                               "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))]
    seeds += [("fuzz_probe_response", r) for r in responses]
    service = framed(frame_body(0, 0x7001, b"ping", 3))
    for stream in (framed(request) * 2, framed(request) + service + framed(request),
                   service + framed(frame_body(0, 0x7002, b"")),
                   framed(frame_body(0, 0x0000, b"hello")),
                   framed(frame_body(0, 0xB232, PROBE_NONCE[:31], rid)),
                   framed(request)[:20], b"Lhello"):
        seeds.append(("fuzz_probe_mux", stream))
    return seeds


# fuzz_handoff.c: byte 0 odd = the frames part; store script operations.
HANDOFF_FRAMES = b"\x01"
H_ISSUE, H_CONSUME, H_REGISTER, H_ACK, H_ABANDON, H_EXPIRE, H_ADVANCE, H_SOURCE = range(8)
HANDOFF_TOKEN = bytes(range(16))


def h_op(verb, arg=0):
    return bytes([verb | arg << 3])


def handoff_seeds():
    """Inputs of fuzz_handoff: store scripts reaching every result, and the
    spec's example frames (handoff.md HANDOFF-021, -031, -043)."""
    def script(slots, ttl, ack, *ops):
        return bytes([(slots - 1) << 1, ttl - 2, ack - 1]) + b"".join(ops)
    seeds = [
        # issue, wrong then right token, replay (HANDOFF-011, -014)
        script(2, 30, 5, h_op(H_ISSUE), h_op(H_CONSUME, 1), h_op(H_CONSUME), h_op(H_CONSUME)),
        # register, ACK in time, duplicate ACK; a late ACK (HANDOFF-015)
        script(2, 30, 5, h_op(H_ISSUE), h_op(H_REGISTER), h_op(H_ACK), h_op(H_ACK),
               h_op(H_ISSUE), h_op(H_REGISTER, 1), h_op(H_ADVANCE, 5), h_op(H_ACK, 1)),
        # the pending bound, expiry and pruning (HANDOFF-012, -013)
        script(1, 10, 3, h_op(H_ISSUE), h_op(H_ISSUE), h_op(H_ADVANCE, 10), h_op(H_CONSUME),
               h_op(H_ISSUE), h_op(H_REGISTER, 1), h_op(H_ADVANCE, 3), h_op(H_EXPIRE)),
        # collisions and a failing source (HANDOFF-010), abandon (HANDOFF-016)
        script(4, 60, 20, h_op(H_SOURCE, 0), h_op(H_ISSUE), h_op(H_ISSUE), h_op(H_ISSUE),
               h_op(H_ISSUE), h_op(H_ABANDON, 2), h_op(H_SOURCE, 31), h_op(H_ISSUE)),
    ]
    offer = field(2, HANDOFF_TOKEN) + field(3, "zccache") + field(4, 1)
    ack = field(1, HANDOFF_TOKEN) + field(2, 1) + field(4, 1)
    refused = field(1, HANDOFF_TOKEN) + field(3, "handoff token mismatch") + field(4, 1)
    for body in (frame_body(0, 0xD0FF, offer, 1), frame_body(1, 0xD0FF, ack, 1),
                 frame_body(2, 0xD0FF, ack, 1), frame_body(1, 0xD0FF, refused, 1),
                 frame_body(0, 0xD0FF, field(3, "zccache") + field(4, 1), 1),
                 frame_body(0, 0xD0FF, field(2, HANDOFF_TOKEN[:15]) + field(4, 1), 1)):
        seeds.append(HANDOFF_FRAMES + body)
    return seeds


def sidecar_text(pid=4242, exe="/usr/bin/mydaemon", sha=(0xAA,) * 32, boot="boot-1",
                 endpoint=("ns-1", "/tmp/d.sock"), idle=30, **extra):
    """The IDENT-030 JSON (serde_json's pretty layout)."""
    doc = {"pid": pid, "exe_path": exe, "exe_sha256": list(sha), "boot_id": boot,
           "ipc_endpoint": {"namespace_id": endpoint[0], "path": endpoint[1]},
           "started_at_unix_ms": 1700000000000, "idle_timeout_secs": idle}
    doc.update(extra)
    return json.dumps(doc, indent=2).encode()


PROBE_SIDECARS = [sidecar_text(), sidecar_text(idle=None), sidecar_text(extra_key=[1, 2]),
                  sidecar_text(sha=(1,) * 31), sidecar_text(pid=-1), sidecar_text(boot=7),
                  sidecar_text(exe="/p\u0000q"), b"not json", b"{}"]


def control_seeds():
    """Hand-built connections (option byte + client bytes) reaching each
    decision of fuzz_control's broker (its services: svc-a floor 1.2.0;
    build-cache allow-list 1.0.0, 2.0.0-rc.1; zccache floor 1.0.0 and
    allow-list 1.5.0)."""
    rate = CONTROL_RATE_1_PER_S
    ok = hello_frame(hello("svc-a", "1.3.0", peer_pid=4242, keepalive=60))
    seeds = [
        rate | CONTROL_HANDOFF, ok,
        rate, hello_frame(hello("build-cache", "2.0.0-rc.1", caps=1)),
        rate | CONTROL_HANDOFF, hello_frame(hello("build-cache", "1.0.0", caps=1)),
        rate, hello_frame(hello("zccache", "1.5.0")),
        rate, hello_frame(hello("svc-a", "1.1.9")),
        rate, hello_frame(hello("build-cache", "3.0.0")),
        rate, hello_frame(hello("no-such-service", "1.0.0")),
        rate, hello_frame(hello("svc-a", "1.3.0", peer_pid=1)),
        rate | CONTROL_PEER_UNKNOWN, hello_frame(hello("svc-a", "1.3.0", peer_pid=1)),
        rate, hello_frame(hello("Svc-A", "1.3.0")),
        rate, hello_frame(hello("svc-a", "1.3")),
        rate, ok + ok + ok,  # three connections: the second is rate-limited
        # a shape-invalid Hello is not counted (HELLO-020); the clock step
        # between connections depends on the whole input, hence variants
        rate, hello_frame(hello("svc-a", "bad")) + ok,
        rate, hello_frame(hello("svc-a", "bad"), request_id=8) + ok,
        rate, hello_frame(hello("svc-a", "bad"), request_id=9) + ok,
        0x03, ok + admin_frame(admin_request(1, True)),
        rate | CONTROL_FD_PRESSURE, ok,
        rate | CONTROL_DRAINING, ok,
        rate | CONTROL_NO_EOF, ok[:len(ok) // 2],
        rate, ok[:len(ok) // 2],
        rate, b"\x02" + ok[1:],
        rate, b"\x01\x01\x00\x01\x00" + ok[5:],
        rate, framed(b"\x08"),
        rate, framed(frame_body(1, 0x0000, hello("svc-a", "1.3.0"))),
        rate, admin_frame(admin_request(4, False), kind=1),
        rate, admin_frame(b"\x0a\x01\xff"),
        # field caps at and one past their limits (HELLO-011, -013, -014)
        rate, hello_frame(hello("s" * 64, "1.0.0")),
        rate, hello_frame(hello("s" * 65, "1.0.0")),
        rate, hello_frame(hello("svc-a", "1.3.0", client_version="v" * 128)),
        rate, hello_frame(hello("svc-a", "1.3.0", client_version="v" * 129)),
        rate, hello_frame(hello("svc-a", "1.3.0", lib_name="l" * 64)),
        rate, hello_frame(hello("svc-a", "1.3.0", lib_name="l" * 65)),
        # version grammar and the numeric floor (HELLO-012, HELLO-022)
        rate, hello_frame(hello("svc-a", "1.3.0+build")),
        rate, hello_frame(hello("svc-a", "1.10.0")),
        rate, hello_frame(hello("svc-a", "1.2.0-rc.1")),
        rate, hello_frame(hello("svc-a", "18446744073709551616.0.0")),
        # the last occurrence of a field wins (WIRE-013)
        rate, hello_frame(hello("svc-a", "1.3.0") + field(3, "no-such-service")),
        rate, hello_frame(hello("no-such-service", "1.3.0") + field(3, "svc-a")),
    ]
    for verb in range(10):
        for as_json in (False, True):
            seeds += [rate, admin_frame(admin_request(verb, as_json, "svc-a" if verb == 6 else ""))]
    return [bytes([seeds[i]]) + seeds[i + 1] for i in range(0, len(seeds), 2)]


class Corpus:
    def __init__(self):
        self.inputs = {t: {} for t in TARGETS}

    def add(self, target, data):
        if len(data) <= MAX_INPUT:
            self.inputs[target][hashlib.sha1(data).hexdigest()] = data

    def add_control(self, stream):
        self.add("fuzz_control", bytes([CONTROL_RATE_1_PER_S]) + stream)

    def add_stream(self, stream, cap):
        self.add("fuzz_frame_split", stream)
        self.add("fuzz_probe_mux", stream)
        self.add("fuzz_frame_decode", stream)
        self.add("fuzz_read_frame", bytes([READ_CAP_SELECTOR.get(cap, 0)]) + stream)
        body = first_body(stream, cap)
        if body is not None:
            self.add_frame_body(body, frame_too=False)

    def add_frame_body(self, body, frame_too=True):
        self.add("fuzz_envelope", body)
        self.add("fuzz_probe_request", body)
        self.add("fuzz_probe_response", body)
        self.add("fuzz_message", bytes([MESSAGES.index("Frame")]) + body)
        if frame_too:
            self.add_stream(framed(body), 16777216)

    def add_message(self, name, body):
        self.add("fuzz_message", bytes([MESSAGES.index(name)]) + body)
        if name == "Frame":
            self.add_frame_body(body)
        for kind, pp, prefix in PAYLOAD_SITES.get(name, []):
            self.add_frame_body(frame_body(kind, pp, prefix + body))
            if pp == 0xD0FF:
                self.add("fuzz_handoff", HANDOFF_FRAMES + frame_body(kind, pp, body))
            if name in ("Hello", "AdminRequest"):
                self.add_control(framed(frame_body(kind, pp, prefix + body)))

    def add_json(self, name, expected):
        text = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
        self.add("fuzz_json", bytes([MESSAGES.index(name)]) + text.encode())


def collect(vectors_dir):
    corpus = Corpus()
    for seed in control_seeds():
        corpus.add("fuzz_control", seed)
    for target, seed in probe_seeds():
        corpus.add(target, seed)
    for text in PROBE_SIDECARS:
        corpus.add("fuzz_sidecar", text)
    for seed in handoff_seeds():
        corpus.add("fuzz_handoff", seed)
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
                    if group["cap"] == 65536:
                        corpus.add_control(data)
                elif kind == "message":
                    corpus.add_message(group["message"], data)
                elif kind in ("probe-request", "probe-response"):
                    corpus.add_frame_body(data)
                elif kind == "sidecar":
                    corpus.add("fuzz_sidecar", data)
                elif kind.startswith("handoff-"):
                    corpus.add_frame_body(data)
                    corpus.add("fuzz_handoff", HANDOFF_FRAMES + data)
                elif kind == "envelope":
                    corpus.add_frame_body(data)
                    if group["site"] in CONTROL_SITES:
                        corpus.add_control(framed(data))
                    if group["site"].startswith("handoff-"):
                        corpus.add("fuzz_handoff", HANDOFF_FRAMES + data)
                else:
                    sys.exit(f"seed_corpus: {name}: unknown group kind {kind!r}")
                if isinstance(test.get("expected"), dict) and "message" in group:
                    corpus.add_json(group["message"], test["expected"])
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

    # Every fuzz/fuzz_<name>.c is a target (fuzz/CMakeLists.txt, run.sh);
    # each one needs its recipe here.
    sources = {f[:-2] for f in os.listdir(os.path.join(ROOT, "fuzz"))
               if f.startswith("fuzz_") and f.endswith(".c")}
    if sources != set(TARGETS):
        sys.exit("seed_corpus: fuzz/fuzz_*.c and TARGETS differ: " +
                 ", ".join(sorted(sources ^ set(TARGETS))))

    corpus = collect(args.vectors)
    stale = []
    for target in TARGETS:
        d = os.path.join(args.out, target)
        have = set(os.listdir(d)) if os.path.isdir(d) else set()
        campaign = {n for n in have if n.startswith(CAMPAIGN_PREFIX)}
        have -= campaign
        want = corpus.inputs[target]
        if args.check:
            bad = misnamed_campaign_files(d, campaign)
            if have != set(want) or bad:
                stale.append(f"{target}: {len(set(want) - have)} missing, "
                             f"{len(have - set(want))} extra"
                             + (f", misnamed: {', '.join(sorted(bad))}" if bad else ""))
            continue
        os.makedirs(d, exist_ok=True)
        for old in have - set(want):
            os.remove(os.path.join(d, old))
        for digest, data in want.items():
            path = os.path.join(d, digest)
            if digest not in have:
                with open(path, "wb") as f:
                    f.write(data)
        print(f"{target}: {len(want)} inputs, {len(campaign)} campaign inputs kept")
    if stale:
        print("seed_corpus: corpora out of date (run fuzz/seed_corpus.py):")
        for line in stale:
            print("  " + line)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
