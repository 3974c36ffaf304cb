//! rpb-bench-prost: how fast prost (the protobuf crate upstream
//! running-process 4.5.5 uses) decodes+validates and encodes v1 frames.
//! rpb-bench-codec runs it on the same frame bytes it measures librpb and
//! protobuf-c on, and reads its output; it is not meant to be run alone.
//!
//! usage: rpb-bench-prost [--reps N] [--min-rep-ns NS] KIND:CAP:PP:PATH...
//!        rpb-bench-prost --version
//!
//! Each argument is a framed v1 frame in the file PATH.  Decode+validate:
//! the 5-byte header (framing byte 0x01, body length <= CAP), Frame::decode
//! of the body, the envelope check (version 1, REQUEST, payload_protocol PP,
//! encoding NONE), then per KIND: `hello` Hello::decode of the payload,
//! `nonce` the payload is 32 bytes, `opaque` nothing.  Encode: Hello::encode
//! into the Frame's payload (hello only), then header + Frame::encode into
//! an output buffer; both buffers are reused, so no allocation is timed.
//! The encoding is checked byte for byte against the file first.
//!
//! Output, one line per argument in order: `INDEX DECODE_NS ENCODE_NS`, the
//! medians over N repetitions (default 5) each at least NS of thread CPU
//! time long (default 50e6).  `--version` prints `prost VERSION`, the
//! version of the prost crate it was built with (RPB_PROST_VERSION, set by
//! the CMake target from Debian's registry).  Exit status: 0, 1 when a frame does not decode or re-encode to
//! its bytes, 2 on usage errors.

use std::hint::black_box;
use std::process::exit;

use prost::Message;

/// running_process.broker.v1.Frame (proto/broker_v1_envelope.proto).
#[derive(Clone, PartialEq, Message)]
pub struct Frame {
    #[prost(uint32, tag = "1")]
    pub envelope_version: u32,
    #[prost(int32, tag = "2")]
    pub kind: i32,
    #[prost(uint32, tag = "3")]
    pub payload_protocol: u32,
    #[prost(bytes = "vec", tag = "4")]
    pub payload: Vec<u8>,
    #[prost(uint64, tag = "5")]
    pub request_id: u64,
    #[prost(int32, tag = "6")]
    pub payload_encoding: i32,
    #[prost(uint64, tag = "7")]
    pub deadline_unix_ms: u64,
    #[prost(string, tag = "8")]
    pub traceparent: String,
    #[prost(string, tag = "9")]
    pub tracestate: String,
}

/// running_process.broker.v1.Hello (proto/broker_v1_envelope.proto).
#[derive(Clone, PartialEq, Message)]
pub struct Hello {
    #[prost(uint32, tag = "1")]
    pub client_min_protocol: u32,
    #[prost(uint32, tag = "2")]
    pub client_max_protocol: u32,
    #[prost(string, tag = "3")]
    pub service_name: String,
    #[prost(string, tag = "4")]
    pub wanted_version: String,
    #[prost(string, tag = "5")]
    pub client_version: String,
    #[prost(uint64, tag = "6")]
    pub client_capabilities: u64,
    #[prost(bytes = "vec", tag = "7")]
    pub auth_token: Vec<u8>,
    #[prost(string, tag = "8")]
    pub request_id: String,
    #[prost(uint64, tag = "9")]
    pub connection_id: u64,
    #[prost(uint32, tag = "10")]
    pub peer_pid: u32,
    #[prost(string, tag = "11")]
    pub client_lib_name: String,
    #[prost(string, tag = "12")]
    pub client_lib_version: String,
    #[prost(bytes = "vec", tag = "13")]
    pub peer_attestation_nonce: Vec<u8>,
    #[prost(bytes = "vec", tag = "14")]
    pub capability_token: Vec<u8>,
    #[prost(uint64, tag = "15")]
    pub client_keepalive_secs: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Hello,
    Nonce,
    Opaque,
}

struct Spec {
    kind: Kind,
    cap: usize,
    pp: u32,
    wire: Vec<u8>,
}

const HEADER: usize = 5;

fn fail(code: i32, msg: &str) -> ! {
    eprintln!("rpb-bench-prost: {msg}");
    exit(code)
}

/// Header, Frame, envelope, payload: Some(a value derived from the result).
fn decode_validate(s: &Spec) -> Option<u64> {
    let wire = &s.wire[..];
    if wire.len() < HEADER || wire[0] != 1 {
        return None;
    }
    let body_len = u32::from_le_bytes([wire[1], wire[2], wire[3], wire[4]]) as usize;
    if body_len > s.cap || wire.len() - HEADER < body_len {
        return None;
    }
    let frame = Frame::decode(&wire[HEADER..HEADER + body_len]).ok()?;
    if frame.envelope_version != 1
        || frame.kind != 0
        || frame.payload_protocol != s.pp
        || frame.payload_encoding != 0
    {
        return None;
    }
    let extra = match s.kind {
        Kind::Hello => Hello::decode(&frame.payload[..]).ok()?.peer_pid as u64,
        Kind::Nonce if frame.payload.len() != 32 => return None,
        _ => 0,
    };
    Some(extra + frame.payload.len() as u64)
}

/// What the encoder starts from: the decoded structs and reused buffers.
struct EncodeInput {
    frame: Frame,
    hello: Option<Hello>,
    out: Vec<u8>,
}

fn encode(input: &mut EncodeInput) -> usize {
    if let Some(hello) = &input.hello {
        input.frame.payload.clear();
        hello.encode(&mut input.frame.payload).expect("a Vec grows");
    }
    let out = &mut input.out;
    out.clear();
    out.extend_from_slice(&[1, 0, 0, 0, 0]);
    input.frame.encode(out).expect("a Vec grows");
    let body = (out.len() - HEADER) as u32;
    out[1..HEADER].copy_from_slice(&body.to_le_bytes());
    out.len()
}

fn encode_input(s: &Spec) -> EncodeInput {
    let frame = Frame::decode(&s.wire[HEADER..]).unwrap_or_else(|_| fail(1, "a frame does not decode"));
    let hello = match s.kind {
        Kind::Hello => Some(
            Hello::decode(&frame.payload[..]).unwrap_or_else(|_| fail(1, "the Hello does not decode")),
        ),
        _ => None,
    };
    EncodeInput { frame, hello, out: Vec::with_capacity(s.wire.len()) }
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

/// CPU time of this thread in ns, the clock rpb-bench-codec samples with:
/// time the shared machine gives to other processes is not counted.
fn cpu_ns() -> f64 {
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec (64-bit Linux layout) for the call to fill.
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Median ns of one call of op over reps repetitions of >= min_rep_ns.
fn measure(reps: usize, min_rep_ns: f64, mut op: impl FnMut() -> u64) -> f64 {
    let mut batch: u64 = 1;
    loop {
        let t0 = cpu_ns();
        for _ in 0..batch {
            black_box(op());
        }
        if cpu_ns() - t0 >= min_rep_ns || batch >= 1 << 40 {
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = cpu_ns();
            for _ in 0..batch {
                black_box(op());
            }
            (cpu_ns() - t0) / batch as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[reps / 2]
}

fn parse_spec(arg: &str) -> Spec {
    let mut parts = arg.splitn(4, ':');
    let (kind, cap, pp, path) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(c), Some(p), Some(path)) => (k, c, p, path),
        _ => fail(2, &format!("bad frame argument {arg:?}: want KIND:CAP:PP:PATH")),
    };
    let kind = match kind {
        "hello" => Kind::Hello,
        "nonce" => Kind::Nonce,
        "opaque" => Kind::Opaque,
        _ => fail(2, &format!("unknown kind {kind:?}: hello, nonce or opaque")),
    };
    let number = |s: &str| s.parse::<u64>().unwrap_or_else(|_| fail(2, &format!("bad number {s:?}")));
    let wire = std::fs::read(path).unwrap_or_else(|e| fail(2, &format!("{path}: {e}")));
    if wire.len() < HEADER {
        fail(1, &format!("{path}: shorter than a frame header"));
    }
    Spec { kind, cap: number(cap) as usize, pp: number(pp) as u32, wire }
}

/// The prost crate version this program was built against.
const PROST_VERSION: &str = match option_env!("RPB_PROST_VERSION") {
    Some(v) => v,
    None => "unknown",
};

fn usage() -> &'static str {
    "usage: rpb-bench-prost [--reps N] [--min-rep-ns NS] KIND:CAP:PP:PATH...\n\
     \x20      rpb-bench-prost --version\n\
     Measures prost decode+validate and encode of each framed v1 frame in PATH\n\
     (KIND hello, nonce or opaque; CAP the body cap; PP the expected\n\
     payload_protocol) and prints `INDEX DECODE_NS ENCODE_NS` per frame.\n\
     Run by rpb-bench-codec, which passes the frames it measures.\n"
}

fn main() {
    let mut reps = 5usize;
    let mut min_rep_ns = 50e6f64;
    let mut specs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => {
                print!("{}", usage());
                return;
            }
            "--version" => {
                println!("prost {PROST_VERSION}");
                return;
            }
            "--reps" | "--min-rep-ns" => {
                let v = args.next().unwrap_or_else(|| fail(2, &format!("{arg} needs a value")));
                let n: f64 = v.parse().unwrap_or_else(|_| fail(2, &format!("bad value {v:?}")));
                if !(n >= 1.0) {
                    fail(2, &format!("{arg} wants a number >= 1"));
                }
                if arg == "--reps" {
                    reps = n as usize;
                } else {
                    min_rep_ns = n;
                }
            }
            _ => specs.push(parse_spec(&arg)),
        }
    }
    if specs.is_empty() {
        eprint!("{}", usage());
        exit(2);
    }
    for (i, s) in specs.iter().enumerate() {
        if decode_validate(s).is_none() {
            fail(1, &format!("frame {i} fails decode+validate"));
        }
        let mut input = encode_input(s);
        encode(&mut input);
        if input.out != s.wire {
            fail(1, &format!("frame {i}: prost's encoding differs from the frame's bytes"));
        }
        let dec = measure(reps, min_rep_ns, || decode_validate(s).unwrap_or(0));
        let enc = measure(reps, min_rep_ns, || encode(&mut input) as u64);
        println!("{i} {dec:.1} {enc:.1}");
    }
}
