#!/bin/sh
# test_rpb_dump.sh RPB_DUMP - integration test of rpb-dump (ctest: rpb-dump-golden).
#
# The 7 upstream golden literals (upstream 4.5.5
# tests/broker/golden_bytes.rs) must decode to their documented fields and
# re-encode byte-identically through `rpb-dump --encode`; framed documents
# (vectors/upstream.json) must round-trip, payloads must be decoded per payload
# protocol, and failures must give the documented JSON and exit codes.
DUMP=${1:?usage: test_rpb_dump.sh RPB_DUMP}
. "$(dirname "$0")/../common/testlib.sh"

expect_rc() { # NAME WANT-RC COMMAND...
    name=$1; want=$2; shift 2
    "$@" >/dev/null 2>&1
    expect "$name (exit code)" "$?" "$want"
}

# NAME MESSAGE HEX JSON: decode -> JSON, and JSON -> the same bytes
golden() {
    out=$("$DUMP" --message "$2" --hex "$3")
    expect "$1 decodes to its fields" "$out" "$4"
    back=$(printf '%s' "$out" | "$DUMP" --encode --message "$2" --hex)
    expect "$1 re-encodes byte-identically" "$back" "$3"
}

TOKEN=000102030405060708090a0b0c0d0e0f
FRAME=080110011881da022204deadbeef282a30013880d095ffbc31423730302d30616637363531393136636434336464383434386562323131633830333139632d623761643662373136393230333333312d30314a0472703d31
HELLO=080110031a0b6275696c642d6361636865220a312e322e332d72632e312a06332e302e313530818080808080808080013a0301020342087265712d303030315092215a0f72756e6e696e672d70726f636573736206332e302e31356a02aabb7201cc781e
NEGOTIATED=08021206332e302e31351a0c72702d6261636b656e642d3722027731220277322881808080808080808001303c3a031020304063
REFUSED=0a1376657273696f6e2062656c6f7720666c6f6f721002180320082a0a0a05666c6f6f7212013230dc0b
OFFER=08ec171210${TOKEN}1a0b6275696c642d63616368652007
ACK=0a10${TOKEN}10011a026f6b2007
NEGOTIATED_JSON='{"negotiated_protocol":2,"daemon_version":"3.0.15","backend_pipe":"rp-backend-7","warnings":["w1","w2"],"server_capabilities":9223372036854775809,"keepalive_interval_secs":60,"handle_passed_token":"102030","connection_id":99}'
OFFER_JSON='{"handle_value":3052,"token":"'$TOKEN'","service_name":"build-cache","correlation_id":7}'
ACK_JSON='{"token":"'$TOKEN'","accepted":true,"error_detail":"ok","correlation_id":7}'

golden GOLDEN_FRAME Frame "$FRAME" \
    '{"envelope_version":1,"kind":"FRAME_KIND_RESPONSE","payload_protocol":44289,"payload":"deadbeef","request_id":42,"payload_encoding":"PAYLOAD_ENCODING_ZSTD","deadline_unix_ms":1700000000000,"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","tracestate":"rp=1"}'
golden GOLDEN_HELLO Hello "$HELLO" \
    '{"client_min_protocol":1,"client_max_protocol":3,"service_name":"build-cache","wanted_version":"1.2.3-rc.1","client_version":"3.0.15","client_capabilities":9223372036854775809,"auth_token":"010203","request_id":"req-0001","connection_id":0,"peer_pid":4242,"client_lib_name":"running-process","client_lib_version":"3.0.15","peer_attestation_nonce":"aabb","capability_token":"cc","client_keepalive_secs":30}'
golden GOLDEN_NEGOTIATED Negotiated "$NEGOTIATED" "$NEGOTIATED_JSON"
golden GOLDEN_REFUSED Refused "$REFUSED" \
    '{"reason":"version below floor","daemon_min_protocol":2,"daemon_max_protocol":3,"code":"ERROR_VERSION_BLOCKED","details":{"floor":"2"},"retry_after_ms":1500}'
golden GOLDEN_HELLO_REPLY HelloReply "0a34$NEGOTIATED" '{"negotiated":'"$NEGOTIATED_JSON"'}'
golden GOLDEN_HANDOFF_OFFER HandoffOffer "$OFFER" "$OFFER_JSON"
golden GOLDEN_HANDOFF_ACK HandoffAck "$ACK" "$ACK_JSON"

# Framed documents round-trip (dump -> encode gives the same frame).
roundtrip() { # NAME HEX [OPTIONS]
    name=$1; hex=$2; shift 2
    back=$("$DUMP" "$@" --hex "$hex" 2>/dev/null | "$DUMP" --encode "$@" --hex)
    expect "$name round-trips" "$back" "$hex"
}
OFFER_FRAME=012e000000080118ffa1032224${OFFER}2807
ACK_FRAME=01260000000801100118ffa103221a${ACK}2807
READY_FRAME=01260000000801100218ffa103221a${ACK}2807
NONCE=0909090909090909090909090909090909090909090909090909090909090909
PROBE_FRAME=012a000000080118b2e4022220${NONCE}2807
roundtrip "framed GOLDEN_FRAME" "0158000000$FRAME"
roundtrip "handoff offer frame" "$OFFER_FRAME"
roundtrip "handoff ack frame" "$ACK_FRAME"
roundtrip "handoff ready frame" "$READY_FRAME"
roundtrip "probe request frame" "$PROBE_FRAME"
roundtrip "handoff offer frame body" "080118ffa1032224${OFFER}2807" --body

# Payloads are decoded per payload protocol and kind.
out=$("$DUMP" --hex "$OFFER_FRAME")
expect "offer frame payload" "$out" \
    '{"framing":{"version":1,"body_length":46},"frame":{"envelope_version":1,"kind":"FRAME_KIND_REQUEST","payload_protocol":53503,"payload":"'$OFFER'","request_id":7,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"payload_message":"HandoffOffer","payload":'"$OFFER_JSON"'}'
out=$("$DUMP" --hex "$READY_FRAME" --envelope handoff-ready)
expect "ready frame: envelope ok, HandoffAck payload" "$out" \
    '{"framing":{"version":1,"body_length":38},"frame":{"envelope_version":1,"kind":"FRAME_KIND_EVENT","payload_protocol":53503,"payload":"'$ACK'","request_id":7,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"envelope":{"site":"handoff-ready","result":"ok"},"payload_message":"HandoffAck","payload":'"$ACK_JSON"'}'
out=$("$DUMP" --hex "$PROBE_FRAME" --envelope probe-request)
expect "probe request: nonce payload" "$out" \
    '{"framing":{"version":1,"body_length":42},"frame":{"envelope_version":1,"kind":"FRAME_KIND_REQUEST","payload_protocol":45618,"payload":"'$NONCE'","request_id":7,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"envelope":{"site":"probe-request","result":"ok"},"payload_message":"probe-request","payload":{"nonce":"'$NONCE'"}}'

# A frame built from its payload object: frame.payload absent, encoded from
# "payload" (the handoff offer frame again).
out=$(printf '%s' '{"frame":{"envelope_version":1,"payload_protocol":53503,"request_id":7},"payload":'"$OFFER_JSON"'}' |
    "$DUMP" --encode --hex)
expect "payload object encoded into frame.payload" "$out" "$OFFER_FRAME"
# probe response: 32 nonce bytes then DaemonProcess {pid 7, ipc_endpoint {path "p"}}
DAEMON=08072203120170
out=$(printf '%s' '{"frame":{"envelope_version":1,"kind":"FRAME_KIND_RESPONSE","payload_protocol":45618,"request_id":7},"payload":{"nonce":"'$NONCE'","daemon_process":{"pid":7,"ipc_endpoint":{"path":"p"}}}}' |
    "$DUMP" --encode --body --hex)
expect "probe response payload encoded" "$out" "0801100118b2e4022227${NONCE}${DAEMON}2807"
out=$("$DUMP" --body --hex "$out")
expect "probe response payload decoded" "$out" \
    '{"frame":{"envelope_version":1,"kind":"FRAME_KIND_RESPONSE","payload_protocol":45618,"payload":"'$NONCE$DAEMON'","request_id":7,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"payload_message":"probe-response","payload":{"nonce":"'$NONCE'","daemon_process":{"pid":7,"exe_path":"","exe_sha256":"","ipc_endpoint":{"namespace_id":"","path":"p"},"started_at_unix_ms":0,"boot_id":""}}}'

# Failures: the error object and exit code 1.
out=$("$DUMP" --hex 0200000000)
expect "framing byte 02" "$out" '{"error":"framing-version","requirement":"FRAME-001","offset":0}'
expect_rc "framing byte 02" 1 "$DUMP" --hex 0200000000
out=$("$DUMP" --hello-cap --hex 0101000100)
expect "65537 under the Hello cap" "$out" '{"error":"frame-too-large","requirement":"FRAME-004","offset":1}'
out=$("$DUMP" --hex 010a000000abcdef01)
expect "body cut short" "$out" '{"error":"unexpected-eof","requirement":"FRAME-007","offset":9}'
# Frame::request(0, FF FF FF): the frame prints, the Hello payload does not decode
out=$("$DUMP" --hex 010700000008012203ffffff)
expect "undecodable payload" "$out" \
    '{"framing":{"version":1,"body_length":7},"frame":{"envelope_version":1,"kind":"FRAME_KIND_REQUEST","payload_protocol":0,"payload":"ffffff","request_id":0,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"payload_message":"Hello","payload_error":{"class":"invalid-varint","requirement":"WIRE-005","offset":0}}'
expect_rc "undecodable payload" 1 "$DUMP" --hex 010700000008012203ffffff
out=$("$DUMP" --hex 010b000000080118b2e4022203616263)
expect "probe request with a 3-byte nonce" "$out" \
    '{"framing":{"version":1,"body_length":11},"frame":{"envelope_version":1,"kind":"FRAME_KIND_REQUEST","payload_protocol":45618,"payload":"616263","request_id":0,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"payload_message":"probe-request","payload_error":{"class":"invalid-argument","requirement":null,"offset":0,"message":"probe nonce must be 32 bytes, got 3"}}'
expect_rc "probe request with a 3-byte nonce" 1 "$DUMP" --hex 010b000000080118b2e4022203616263
out=$("$DUMP" --hex "$OFFER_FRAME" --envelope hello)
expect "hello site refuses a handoff frame: payload protocol" "$out" \
    '{"framing":{"version":1,"body_length":46},"frame":{"envelope_version":1,"kind":"FRAME_KIND_REQUEST","payload_protocol":53503,"payload":"'$OFFER'","request_id":7,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"envelope":{"site":"hello","error":"envelope-payload-protocol","requirement":"ENV-003"}}'
expect_rc "envelope check failure" 1 "$DUMP" --hex "$OFFER_FRAME" --envelope hello
# stdin is read as a stream: the first frame only, refused headers at once
out=$(printf '\001\002\000\000\000\010\001\002' | "$DUMP")
expect "stdin: first frame of a stream" "$out" \
    '{"framing":{"version":1,"body_length":2},"frame":{"envelope_version":1,"kind":"FRAME_KIND_REQUEST","payload_protocol":0,"payload":"","request_id":0,"payload_encoding":"PAYLOAD_ENCODING_NONE","deadline_unix_ms":0,"traceparent":"","tracestate":""},"payload_message":"Hello","payload":{"client_min_protocol":0,"client_max_protocol":0,"service_name":"","wanted_version":"","client_version":"","client_capabilities":0,"auth_token":"","request_id":"","connection_id":0,"peer_pid":0,"client_lib_name":"","client_lib_version":"","peer_attestation_nonce":"","capability_token":"","client_keepalive_secs":0}}'
out=$(yes | timeout 10 "$DUMP")
expect "stdin: endless non-frame refused from its first byte" "$out" \
    '{"error":"framing-version","requirement":"FRAME-001","offset":0}'
out=$( (printf '\001\001\000\000\001'; yes) | timeout 10 "$DUMP")
expect "stdin: endless body refused from its header" "$out" \
    '{"error":"frame-too-large","requirement":"FRAME-003","offset":1}'
out=$(printf '\001\012\000\000\000\253' | "$DUMP")
expect "stdin: body cut short" "$out" '{"error":"unexpected-eof","requirement":"FRAME-007","offset":6}'
expect_rc "unknown option" 2 "$DUMP" --bogus
expect_rc "unknown message" 2 "$DUMP" --message Nope --hex ""
expect_rc "odd hex" 2 "$DUMP" --hex 012
expect_rc "negative request id" 2 "$DUMP" --envelope probe-response --request-id " -1" --hex 0100000000
expect_rc "unknown JSON key" 1 sh -c "printf '{\"frame\":{},\"x\":1}' | '$DUMP' --encode"
expect_rc "help" 0 "$DUMP" --help

# Messages on stderr (README.md "rpb-dump").
stderr_of() { "$@" 2>&1 >/dev/null; }
out=$(stderr_of "$DUMP" --hex 01zz)
expect "non-hex input named" "$out" "rpb-dump: --hex: 'z' (hex digit 3) is not a hex digit
Try 'rpb-dump --help'."
out=$(stderr_of "$DUMP" --hex 012)
expect "odd hex named" "$out" "rpb-dump: --hex: 3 hex digits, an odd number: the last byte is incomplete
Try 'rpb-dump --help'."
out=$(stderr_of "$DUMP" --hex 010a000000abcdef01)
expect "truncated frame: announced and available length" "$out" \
    "rpb-dump: truncated frame: the header announces 10 body bytes, the input has 4"
out=$(stderr_of "$DUMP" --hello-cap --hex 0101000100)
expect "oversized frame: announced length and cap" "$out" \
    "rpb-dump: oversized frame: the header announces 65537 body bytes, the cap is 65536"
out=$(stderr_of "$DUMP" /nonexistent/frame.bin)
expect "unopenable file: the reason" "$out" "rpb-dump: /nonexistent/frame.bin: No such file or directory"
expect_rc "unopenable file" 2 "$DUMP" /nonexistent/frame.bin
# a Hello with an unknown field 31 (f8 01 01): decoded, with a note that
# --encode will not give the input back
out=$(stderr_of "$DUMP" --message Hello --hex 0801f80101)
contains "unknown field dropped: note" "$out" \
    "rpb-dump: note: the Hello input (5 bytes) is not the canonical encoding"
out=$(stderr_of "$DUMP" --message Hello --hex "$HELLO")
expect "canonical input: no note" "$out" ""
# --hex - reads hex from stdin, so --encode --hex output pipes back
out=$("$DUMP" --hex "0158000000$FRAME" | "$DUMP" --encode --hex | "$DUMP" --hex - | "$DUMP" --encode --hex)
expect "--encode --hex pipes back through --hex -" "$out" "0158000000$FRAME"
out=$("$DUMP" --version)
expect "--version" "${out%% *}" "rpb-dump"

finish
