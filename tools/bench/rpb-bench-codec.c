/*
 * rpb-bench-codec - how fast librpb decodes+validates and encodes v1
 * frames, side by side with protobuf-c and prost on the same bytes in the
 * same run.
 *
 * A benchmark, not a test: it prints figures and whether the targets of
 * the codec issue are met.  Exit status: 0; 1 when a measurement itself
 * failed (a frame did not decode or re-encode to its bytes), or with
 * --check when a target was missed; 2 on usage errors.  Frames:
 *   (a) the golden Hello frame: Frame{REQUEST, pp 0x0000, payload =
 *       GOLDEN_HELLO (upstream golden_bytes.rs)}, checked at the Hello site with
 *       the 64 KiB cap, the Hello payload decoded;
 *   (b) the probe request Frame::request(0xB232, [0x09; 32]).with_request_id(7),
 *       checked at the probe-request site (the payload is a raw nonce);
 *   (c) a frame with a 1 MiB payload, (d) a frame whose body is exactly the
 *       16 MiB cap, and an empty-payload frame as the baseline for (d):
 *       REQUEST on 0xB232 (the one site whose payload is opaque bytes), so
 *       decode+validate is framing + Frame decode + envelope check.
 * librpb decode+validate = rpb_frame_decode + rpb_envelope_check (+ the
 * payload's rpb_decode for (a)); protobuf-c = *_unpack of the Frame body
 * (+ of the Hello payload for (a)) + *_free_unpacked, no validation; prost
 * (tools/bench/prost/, the crate upstream decodes with) = header check,
 * Frame::decode, envelope check (+ Hello::decode for (a)).
 * Encode = rpb_frame_encode (rpb_frame_encode_msg with the Hello struct
 * for (a): header, Frame and Hello in one pass) vs *_pack of the Hello and
 * of the Frame into the same buffer after a hand-written 5-byte header, and
 * prost's Hello::encode into the Frame's payload + Frame::encode after the
 * header (reused buffers); every encoder's output is checked byte for byte
 * against the frame before timing.  librpb encodes into a buffer with room
 * (ROOMY_BUFFER_BYTES, as rpb_write_frame_msg), and, in a second table,
 * into exactly the frame's size, where it fills a frame below about 100
 * bytes back to front and sizes any other first; prost sizes every message
 * it encodes.  (c) and (d) are copy-bound: every
 * encoder copies the payload into its output once, so each is measured
 * beside a bare memcpy of the payload and their ratios stay near 1.
 * prost is Debian's librust-prost-dev (0.11 on bookworm; the version is
 * printed); upstream running-process 4.5.5 builds with prost 0.14.
 *
 * Repetitions are interleaved: each round takes one sample of every
 * operation of every frame, librpb and protobuf-c in this process, then
 * runs prost-codec-bench (next to this program, built by
 * `cmake --build build --target prost-codec-bench` when cargo exists) for
 * one sample of each of its operations, so load on a shared machine falls
 * on all three alike; samples are thread CPU time, not wall time, and
 * figures are medians over the rounds (--quick: fewer, shorter).  Peak RSS
 * is measured right after a first 16 MiB decode, which runs before anything
 * else allocates.
 */
#include <stdarg.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker_v1_envelope.pb-c.h"
#include "cli.h"
#include "rpb/rpb.h"

/* upstream golden_bytes.rs: GOLDEN_HELLO, 100 bytes. */
static const char golden_hello_hex[] =
    "080110031a0b6275696c642d6361636865220a312e322e332d72632e312a06332e302e31"
    "3530818080808080808080013a0301020342087265712d303030315092215a0f72756e6e"
    "696e672d70726f636573736206332e302e31356a02aabb7201cc781e";

/* vectors/upstream.json: the probe request frame, 47 bytes framed. */
static const char probe_frame_hex[] =
    "012a000000080118b2e40222200909090909090909090909090909090909090909090909"
    "0909090909090909092807";

/* What the receiver does with the payload once the envelope passed. */
enum payload_kind {
    PAYLOAD_OPAQUE, /* nothing: bytes for someone else */
    PAYLOAD_NONCE,  /* the probe request's shape rule: exactly 32 bytes */
    PAYLOAD_HELLO,  /* rpb_decode as Hello (WIRE-017: after the envelope) */
};

/* The operations measured, in table order. */
enum op {
    RPB_DEC, PBC_DEC, PROST_DEC, /* decode+validate */
    RPB_ENC, PBC_ENC, PROST_ENC, /* encode */
    RPB_ENC_EXACT,               /* librpb encode into exactly the frame's size */
    PAYLOAD_COPY,                /* memcpy of the payload alone: what (c), (d) are bound by */
    N_OPS
};

/* librpb encodes into a caller's buffer: the bench gives it the one
 * rpb_write_frame_msg() encodes into, a 512-byte stack buffer (or the
 * frame's size when larger).  Such a buffer has room for any frame of these
 * fields, so the encoder writes without sizing first (RPB_ENC_EXACT
 * measures the buffer of exactly the frame's size: back to front below
 * about 100 bytes, sized first above). */
#define ROOMY_BUFFER_BYTES 512

#define MAX_REPS 16

typedef struct bench_frame {
    const char *name;
    uint8_t *wire; /* framed bytes */
    size_t len;
    uint32_t cap;
    rpb_site site;
    enum payload_kind payload;
    uint64_t batch[N_OPS];             /* calls per sample (librpb, protobuf-c) */
    double samples[N_OPS][MAX_REPS];   /* ns per frame, one per round */
    double ns[N_OPS];                  /* medians; 0 = not measured */
} bench_frame;

#define FRAME(name_, cap_, site_, payload_) \
    {.name = name_, .cap = cap_, .site = site_, .payload = payload_}

typedef struct settings {
    int reps;
    double min_rep_ns; /* a sample runs at least this long */
    bool check;        /* exit 1 when a target is missed */
} settings;

/* Keeps a result alive without a store per call: the compiler must
 * compute v, and assume memory is read (what prost's loop does with
 * std::hint::black_box).  A volatile accumulator instead chains every call
 * to the previous one through memory. */
static inline void keep(uint64_t v)
{
    __asm__ volatile("" : : "r"(v) : "memory");
}

static double clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Samples count the CPU time of this thread: time the shared machine gives
 * to other processes is not charged to the operation measured. */
static double now_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void die(const char *what)
{
    fprintf(stderr, "rpb-bench-codec: %s\n", what);
    exit(1);
}

static uint8_t *xmalloc(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static uint8_t *from_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        unsigned byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
            die("bad built-in hex");
        out[i] = (uint8_t)byte;
    }
    *len = n;
    return out;
}

/* ---- the operations measured; each returns false on a codec failure ----
 *
 * Each is inlined into the timing loop (OP), as prost's loop inlines its
 * closure: a sample times the library calls, not a wrapper's frame. */
#define OP static inline __attribute__((always_inline)) bool

OP rpb_decode_validate(const bench_frame *f)
{
    rpb_frame frame;
    size_t consumed;
    if (rpb_frame_decode(f->wire, f->len, f->cap, &frame, &consumed, NULL) != RPB_OK)
        return false;
    if (rpb_envelope_check(&frame, f->site, frame.request_id) != RPB_OK)
        return false;
    if (f->payload == PAYLOAD_HELLO) {
        rpb_hello hello;
        rpb_msg_init(&rpb_hello_desc, &hello);
        /* Hello has no list or map fields: no arena needed. */
        if (rpb_decode(&rpb_hello_desc, frame.payload.data, frame.payload.len, &hello, NULL, 0,
                       NULL) != RPB_OK)
            return false;
        keep(hello.peer_pid);
    } else if (f->payload == PAYLOAD_NONCE && frame.payload.len != 32) {
        return false;
    }
    keep(consumed + frame.payload.len);
    return true;
}

OP pbc_unpack(const bench_frame *f)
{
    RunningProcess__Broker__V1__Frame *frame =
        running_process__broker__v1__frame__unpack(NULL, f->len - 5, f->wire + 5);
    if (!frame)
        return false;
    if (f->payload == PAYLOAD_HELLO) {
        RunningProcess__Broker__V1__Hello *hello = running_process__broker__v1__hello__unpack(
            NULL, frame->payload.len, frame->payload.data);
        if (!hello) {
            running_process__broker__v1__frame__free_unpacked(frame, NULL);
            return false;
        }
        keep(hello->peer_pid);
        running_process__broker__v1__hello__free_unpacked(hello, NULL);
    }
    keep(frame->payload.len);
    running_process__broker__v1__frame__free_unpacked(frame, NULL);
    return true;
}

/* Decoded forms the encoders start from, built once per frame. */
typedef struct enc_input {
    rpb_frame frame;
    rpb_hello hello;
    uint8_t *out;        /* room bytes */
    size_t room;         /* ROOMY_BUFFER_BYTES or f->len, the larger */
    uint8_t *hello_out;  /* payload scratch for (a) */
    RunningProcess__Broker__V1__Frame *pframe;
    RunningProcess__Broker__V1__Hello *phello;
    ProtobufCBinaryData pframe_payload; /* protobuf-c's own, restored before freeing */
} enc_input;

OP rpb_encode_frame(const bench_frame *f, enc_input *in, size_t cap)
{
    size_t written;
    int rc = f->payload == PAYLOAD_HELLO
                 ? rpb_frame_encode_msg(&in->frame, &rpb_hello_desc, &in->hello, in->out, cap,
                                        &written)
                 : rpb_frame_encode(&in->frame, in->out, cap, &written);
    if (rc != RPB_OK || written != f->len)
        return false;
    keep(in->out[written - 1]);
    return true;
}

OP pbc_pack(const bench_frame *f, enc_input *in)
{
    if (f->payload == PAYLOAD_HELLO) {
        size_t n = running_process__broker__v1__hello__pack(in->phello, in->hello_out);
        in->pframe->payload.data = in->hello_out;
        in->pframe->payload.len = n;
    }
    size_t body = running_process__broker__v1__frame__pack(in->pframe, in->out + 5);
    if (body + 5 != f->len)
        return false;
    rpb_frame_header_write(in->out, (uint32_t)body);
    keep(in->out[f->len - 1]);
    return true;
}

OP payload_copy(const bench_frame *f, enc_input *in)
{
    if (in->frame.payload.len) /* an empty payload's data may be NULL */
        memcpy(in->out, in->frame.payload.data, in->frame.payload.len);
    keep(in->out[f->len - 1]);
    return true;
}

/* ---- timing ---- */

static const char *const op_names[N_OPS] = {
    "librpb decode", "protobuf-c unpack", "prost decode",      "librpb encode",
    "protobuf-c pack", "prost encode",    "librpb encode exact", "payload copy"};

/* Runs op batch times, one tight loop per op (the choice of op is made
 * once, outside the loop); false when a call failed. */
static bool run_batch(enum op op, const bench_frame *f, enc_input *in, uint64_t batch)
{
    bool ok = true;
#define LOOP(call)                           \
    for (uint64_t i = 0; i < batch; i++)     \
        ok &= call;                          \
    break
    switch (op) {
    case RPB_DEC:
        LOOP(rpb_decode_validate(f));
    case PBC_DEC:
        LOOP(pbc_unpack(f));
    case RPB_ENC:
        LOOP(rpb_encode_frame(f, in, in->room));
    case RPB_ENC_EXACT:
        LOOP(rpb_encode_frame(f, in, f->len));
    case PBC_ENC:
        LOOP(pbc_pack(f, in));
    case PAYLOAD_COPY:
        LOOP(payload_copy(f, in));
    default: /* prost runs in its own process */
        return false;
    }
#undef LOOP
    return ok;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], compare_doubles);
    return v[n / 2];
}

/* The number of calls that takes at least min_rep_ns (doubling). */
static uint64_t calibrate(enum op op, const bench_frame *f, enc_input *in, const settings *s)
{
    /* An untimed first call: one that pays for cold caches (the 16 MiB
     * frame's encode right after protobuf-c's unpack of it took 1.0-1.9 ms
     * against 0.6 warm) must not leave the batch at one call, or every
     * sample of the operation is such a call. */
    run_batch(op, f, in, 1);
    uint64_t batch = 1;
    for (;;) {
        double t0 = now_ns();
        if (!run_batch(op, f, in, batch)) {
            fprintf(stderr, "rpb-bench-codec: %s of %s failed\n", op_names[op], f->name);
            exit(1);
        }
        if (now_ns() - t0 >= s->min_rep_ns || batch >= (UINT64_C(1) << 40))
            return batch;
        batch *= 2;
    }
}

/* ns per call of one batch. */
static double sample(enum op op, const bench_frame *f, enc_input *in, uint64_t batch)
{
    double t0 = now_ns();
    run_batch(op, f, in, batch);
    return (now_ns() - t0) / (double)batch;
}

/* ---- frames ---- */

/* A REQUEST frame on payload protocol pp with a payload of n bytes of 0x5a,
 * written straight into its final buffer: Frame fields 1 and 3 by
 * rpb_encode, then the payload field (4, the last one set) by hand, so no
 * second copy of a large payload ever exists.  Canonical: an empty payload
 * is omitted. */
static uint8_t *large_frame(uint32_t pp, size_t n, size_t *len)
{
    rpb_frame head = rpb_frame_request(pp, (rpb_slice){NULL, 0});
    size_t head_len = rpb_encoded_len(&rpb_frame_desc, &head);
    size_t body = head_len + (n ? 1 + rpb_varint_len(n) + n : 0); /* empty: omitted */
    uint8_t *out = xmalloc(5 + body);
    size_t pos = 5, w;
    rpb_frame_header_write(out, (uint32_t)body);
    if (rpb_encode(&rpb_frame_desc, &head, out + pos, head_len, &w) != RPB_OK)
        die("encoding a frame head failed");
    pos += w;
    if (n) {
        out[pos++] = 0x22; /* field 4, length-delimited */
        pos += rpb_varint_write(out + pos, n);
        memset(out + pos, 0x5a, n);
    }
    *len = 5 + body;
    return out;
}

/* The payload length that makes a 0xB232 request body exactly cap bytes. */
static size_t payload_for_body(uint32_t pp, size_t cap)
{
    rpb_frame head = rpb_frame_request(pp, (rpb_slice){NULL, 0});
    size_t n = cap - rpb_encoded_len(&rpb_frame_desc, &head) - 1;
    while (rpb_varint_len(n) + n > cap - rpb_encoded_len(&rpb_frame_desc, &head) - 1)
        n--;
    return n;
}

static uint8_t *hello_frame(size_t *len)
{
    size_t hello_len, framed;
    uint8_t *hello = from_hex(golden_hello_hex, &hello_len);
    rpb_frame frame = rpb_frame_request(RPB_PP_CONTROL, (rpb_slice){hello, hello_len});
    size_t need = rpb_frame_encoded_len(&frame);
    uint8_t *out = xmalloc(need);
    if (rpb_frame_encode(&frame, out, need, &framed) != RPB_OK)
        die("encoding the Hello frame failed");
    free(hello);
    *len = framed;
    return out;
}

static void prepare_encoder(const bench_frame *f, enc_input *in)
{
    size_t consumed;
    memset(in, 0, sizeof *in);
    if (rpb_frame_decode(f->wire, f->len, f->cap, &in->frame, &consumed, NULL) != RPB_OK)
        die("a benchmark frame does not decode");
    in->room = f->len > ROOMY_BUFFER_BYTES ? f->len : ROOMY_BUFFER_BYTES;
    in->out = xmalloc(in->room);
    in->pframe = running_process__broker__v1__frame__unpack(NULL, f->len - 5, f->wire + 5);
    if (!in->pframe)
        die("protobuf-c rejects a benchmark frame");
    in->pframe_payload = in->pframe->payload;
    if (f->payload == PAYLOAD_HELLO) {
        in->hello_out = xmalloc(f->len);
        rpb_msg_init(&rpb_hello_desc, &in->hello);
        if (rpb_decode(&rpb_hello_desc, in->frame.payload.data, in->frame.payload.len, &in->hello,
                       NULL, 0, NULL) != RPB_OK)
            die("the golden Hello does not decode");
        in->phello = running_process__broker__v1__hello__unpack(NULL, in->frame.payload.len,
                                                               in->frame.payload.data);
        if (!in->phello)
            die("protobuf-c rejects the golden Hello");
    }
}

static void release_encoder(enc_input *in)
{
    if (in->phello)
        running_process__broker__v1__hello__free_unpacked(in->phello, NULL);
    /* pbc_pack() pointed the payload at hello_out; give protobuf-c its own back. */
    if (in->pframe) {
        in->pframe->payload = in->pframe_payload;
        running_process__broker__v1__frame__free_unpacked(in->pframe, NULL);
    }
    free(in->hello_out);
    free(in->out);
}

/* ---- prost, in its own process (tools/bench/prost/) ---- */

typedef struct prost_run {
    char exe[PATH_MAX]; /* empty: prost is not measured */
    char version[32];   /* of the prost crate it was built with */
    char dir[64];       /* the frames as files */
    char skip_reason[PATH_MAX + 128]; /* exe and a sentence */
} prost_run;

/* Finds prost-codec-bench next to this program and writes the frames it
 * is to measure into a scratch directory. */
static void prost_prepare(prost_run *p, bench_frame *frames, int n)
{
    char self[PATH_MAX - 32];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    p->exe[0] = '\0';
    if (len <= 0) {
        snprintf(p->skip_reason, sizeof p->skip_reason, "cannot read /proc/self/exe");
        return;
    }
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(p->exe, sizeof p->exe, "%s/prost-codec-bench", self);
    if (access(p->exe, X_OK) != 0) {
        snprintf(p->skip_reason, sizeof p->skip_reason,
                 "%s not built (needs cargo and librust-prost-dev: "
                 "cmake --build build --target prost-codec-bench)",
                 p->exe);
        p->exe[0] = '\0';
        return;
    }
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "'%s' --version", p->exe);
    FILE *v = popen(cmd, "r");
    if (!v || fscanf(v, "prost %31s", p->version) != 1)
        snprintf(p->version, sizeof p->version, "(version unknown)");
    if (v)
        pclose(v);
    const char *tmp = getenv("TMPDIR");
    snprintf(p->dir, sizeof p->dir, "%s/rpb-bench-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(p->dir))
        die("cannot create a scratch directory for prost's frames");
    for (int i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%d", p->dir, i);
        FILE *out = fopen(path, "wb");
        if (!out || fwrite(frames[i].wire, 1, frames[i].len, out) != frames[i].len ||
            fclose(out) != 0)
            die("cannot write a frame for prost");
    }
}

static void prost_cleanup(prost_run *p, int n)
{
    if (!p->exe[0])
        return;
    for (int i = 0; i < n; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%d", p->dir, i);
        unlink(path);
    }
    rmdir(p->dir);
}

/* One round of prost: one sample of decode and encode of every frame. */
static void prost_round(const prost_run *p, bench_frame *frames, int n, int round,
                        const settings *s)
{
    static const char *const kinds[] = {"opaque", "nonce", "hello"};
    char cmd[8192];
    int at = snprintf(cmd, sizeof cmd, "'%s' --reps 1 --min-rep-ns %.0f", p->exe, s->min_rep_ns);
    for (int i = 0; i < n; i++)
        at += snprintf(cmd + at, sizeof cmd - (size_t)at, " %s:%u:%u:'%s/%d'",
                       kinds[frames[i].payload], frames[i].cap,
                       frames[i].site == RPB_SITE_HELLO ? RPB_PP_CONTROL : RPB_PP_PROBE, p->dir, i);
    FILE *out = popen(cmd, "r");
    if (!out)
        die("cannot run prost-codec-bench");
    int index, got = 0;
    double dec, enc;
    while (fscanf(out, "%d %lf %lf", &index, &dec, &enc) == 3 && index >= 0 && index < n) {
        frames[index].samples[PROST_DEC][round] = dec;
        frames[index].samples[PROST_ENC][round] = enc;
        got++;
    }
    int status = pclose(out);
    if (got != n || status != 0)
        die("prost-codec-bench failed (its message is above)");
}

/* ---- the run ---- */

static void measure_all(bench_frame *frames, int n, const prost_run *prost, const settings *s)
{
    enc_input in[8];
    static const enum op c_ops[] = {RPB_DEC, PBC_DEC, RPB_ENC, PBC_ENC, RPB_ENC_EXACT,
                                    PAYLOAD_COPY};
    for (int i = 0; i < n; i++) {
        bench_frame *f = &frames[i];
        prepare_encoder(f, &in[i]);
        if (!rpb_encode_frame(f, &in[i], in[i].room) || memcmp(in[i].out, f->wire, f->len) != 0)
            die("librpb's encoding differs from the frame's bytes");
        if (!rpb_encode_frame(f, &in[i], f->len) || memcmp(in[i].out, f->wire, f->len) != 0)
            die("librpb's encoding into exactly the frame's size differs from its bytes");
        if (!pbc_pack(f, &in[i]) || memcmp(in[i].out, f->wire, f->len) != 0)
            die("protobuf-c's encoding differs from the frame's bytes");
        for (size_t k = 0; k < sizeof c_ops / sizeof c_ops[0]; k++)
            f->batch[c_ops[k]] = calibrate(c_ops[k], f, &in[i], s);
    }
    for (int r = 0; r < s->reps; r++) {
        for (int i = 0; i < n; i++)
            for (size_t k = 0; k < sizeof c_ops / sizeof c_ops[0]; k++)
                frames[i].samples[c_ops[k]][r] =
                    sample(c_ops[k], &frames[i], &in[i], frames[i].batch[c_ops[k]]);
        if (prost->exe[0])
            prost_round(prost, frames, n, r, s);
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < N_OPS; k++)
            if ((k != PROST_DEC && k != PROST_ENC) || prost->exe[0])
                frames[i].ns[k] = median(frames[i].samples[k], s->reps);
        release_encoder(&in[i]);
    }
}

static double peak_rss_bytes(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0; /* Linux: KiB */
}

static void print_ns(double ns)
{
    if (ns == 0)
        printf(" %12s", "-");
    else if (ns >= 1e6)
        printf(" %9.2f ms", ns / 1e6);
    else
        printf(" %9.1f ns", ns);
}

static void print_ratio(double other, double rpb)
{
    if (other == 0)
        printf(" %9s", "-");
    else
        printf(" %8.2fx", other / rpb);
}

/* One table: ops = {librpb, protobuf-c, prost}, with the ratios other /
 * librpb (above 1: librpb is faster). */
static void print_table(const char *title, const bench_frame *frames, int n, const enum op ops[3])
{
    printf("%s\n%-22s %9s %12s %12s %12s %9s %9s\n", title, "frame", "bytes", "librpb",
           "protobuf-c", "prost", "pbc/rpb", "prost/rpb");
    for (int i = 0; i < n; i++) {
        const bench_frame *f = &frames[i];
        printf("%-22s %9zu", f->name, f->len);
        for (int k = 0; k < 3; k++)
            print_ns(f->ns[ops[k]]);
        print_ratio(f->ns[ops[1]], f->ns[ops[0]]);
        print_ratio(f->ns[ops[2]], f->ns[ops[0]]);
        printf("\n");
    }
    printf("\n");
}

/* Prints one target line; returns whether it is met. */
static bool target(bool met, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool target(bool met, const char *fmt, ...)
{
    va_list ap;
    printf("  %-7s ", met ? "MET" : "MISSED");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return met;
}

/* Frames whose encode is one copy of a payload of 64 KiB or more into the
 * output buffer: every encoder must make it, so their encode ratios are
 * about 1 by construction, bounded by memcpy. */
static bool copy_bound(const bench_frame *f)
{
    return f->len >= 65536;
}

/* The slowest ratio other / librpb over all frames for one pair of ops
 * (only the frames not copy_bound() when small_only), and the frame it
 * belongs to. */
static double worst_ratio(const bench_frame *frames, int n, enum op rpb, enum op other,
                          bool small_only, const char **name)
{
    double worst = 0;
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (small_only && copy_bound(&frames[i]))
            continue;
        double r = frames[i].ns[other] / frames[i].ns[rpb];
        if (first || r < worst) {
            first = false;
            worst = r;
            *name = frames[i].name;
        }
    }
    return worst;
}

/* The largest ratio librpb encode / payload memcpy over the copy-bound
 * frames, and the frame it belongs to. */
static double worst_copy_overhead(const bench_frame *frames, int n, const char **name)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double r = frames[i].ns[RPB_ENC] / frames[i].ns[PAYLOAD_COPY];
        if (copy_bound(&frames[i]) && r > worst) {
            worst = r;
            *name = frames[i].name;
        }
    }
    return worst;
}

static void usage(void)
{
    fputs("usage: rpb-bench-codec [--quick] [--check] [--help]\n"
          "Measures librpb decode+validate and encode of v1 frames (golden Hello, probe\n"
          "request, 1 MiB, 16 MiB, empty) against protobuf-c and prost (when\n"
          "prost-codec-bench was built) on the same bytes, in interleaved rounds; prints\n"
          "ns per frame, the ratios, peak RSS and whether the codec targets are met.\n"
          "  --quick  fewer, shorter rounds (a smoke run, noisier figures)\n"
          "  --check  exit 1 when a target is missed\n"
          "Exit status: 0; 1 a measurement failed (or --check and a target missed);\n"
          "2 usage.\n",
          stdout);
}

int main(int argc, char **argv)
{
    settings s = {5, 50e6, false};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            s.reps = 3;
            s.min_rep_ns = 10e6;
        } else if (strcmp(argv[i], "--check") == 0) {
            s.check = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        } else {
            return cli_usage_error("rpb-bench-codec", "%s '%s'",
                                   argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i]);
        }
    }
    double t_start = clock_ns(CLOCK_MONOTONIC);

    /* (d) first: the peak RSS below is then the 16 MiB decode's alone. */
    bench_frame big = FRAME("(d) body = 16 MiB cap", RPB_MAX_FRAME_BYTES, RPB_SITE_PROBE_REQUEST,
                            PAYLOAD_OPAQUE);
    big.wire = large_frame(RPB_PP_PROBE, payload_for_body(RPB_PP_PROBE, RPB_MAX_FRAME_BYTES),
                           &big.len);
    if (big.len != 5 + (size_t)RPB_MAX_FRAME_BYTES)
        die("the 16 MiB frame is not exactly at the cap");
    if (!rpb_decode_validate(&big))
        die("the 16 MiB frame does not decode");
    double rss = peak_rss_bytes();

    enum { N_FRAMES = 5 };
    bench_frame frames[N_FRAMES] = {
        FRAME("(a) golden Hello", RPB_MAX_HELLO_BYTES, RPB_SITE_HELLO, PAYLOAD_HELLO),
        FRAME("(b) probe request", RPB_MAX_FRAME_BYTES, RPB_SITE_PROBE_REQUEST, PAYLOAD_NONCE),
        FRAME("(c) 1 MiB payload", RPB_MAX_FRAME_BYTES, RPB_SITE_PROBE_REQUEST, PAYLOAD_OPAQUE),
        big,
        FRAME("empty payload", RPB_MAX_FRAME_BYTES, RPB_SITE_PROBE_REQUEST, PAYLOAD_OPAQUE),
    };
    frames[0].wire = hello_frame(&frames[0].len);
    frames[1].wire = from_hex(probe_frame_hex, &frames[1].len);
    frames[2].wire = large_frame(RPB_PP_PROBE, 1u << 20, &frames[2].len);
    frames[4].wire = large_frame(RPB_PP_PROBE, 0, &frames[4].len);

    /* (b) as built by librpb must be the facts' bytes. */
    {
        uint8_t nonce[32];
        memset(nonce, 0x09, sizeof nonce);
        rpb_frame probe = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){nonce, sizeof nonce});
        probe.request_id = 7;
        uint8_t out[64];
        size_t n;
        if (rpb_frame_encode(&probe, out, sizeof out, &n) != RPB_OK || n != frames[1].len ||
            memcmp(out, frames[1].wire, n) != 0)
            die("librpb's probe request frame differs from the upstream vector");
    }

    prost_run prost;
    prost_prepare(&prost, frames, N_FRAMES);
    measure_all(frames, N_FRAMES, &prost, &s);
    prost_cleanup(&prost, N_FRAMES);

    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    printf("rpb-bench-codec: librpb %s, protobuf-c %s, prost %s; median of %d interleaved rounds, "
           "samples >= %.0f ms; load average %.2f\n",
           RPB_VERSION_STRING, protobuf_c_version(), prost.exe[0] ? prost.version : "not measured",
           s.reps, s.min_rep_ns / 1e6, load[0]);
    if (prost.exe[0])
        printf("prost %s is Debian's librust-prost-dev (built offline); upstream running-process "
               "4.5.5 uses prost 0.14\n",
               prost.version);
    else
        printf("prost skipped: %s\n", prost.skip_reason);
    printf("\n");
    static const enum op dec_ops[3] = {RPB_DEC, PBC_DEC, PROST_DEC};
    static const enum op enc_ops[3] = {RPB_ENC, PBC_ENC, PROST_ENC};
    static const enum op exact_ops[3] = {RPB_ENC_EXACT, PBC_ENC, PROST_ENC};
    print_table("decode+validate (protobuf-c: unpack+free, no validation), per frame:", frames,
                N_FRAMES, dec_ops);
    print_table("encode, framed, per frame (librpb into a 512-byte or larger buffer, as "
                "rpb_write_frame_msg):",
                frames, N_FRAMES, enc_ops);
    print_table("encode, framed, librpb into a buffer of exactly the frame's size (back to front "
                "below ~100 bytes, else sized first):",
                frames, N_FRAMES, exact_ops);
    printf("copy-bound frames: each encoder copies the payload into its output once, so a "
           "memcpy of the payload\nalone bounds them all and their ratios stay near 1:\n");
    for (int i = 0; i < N_FRAMES; i++) {
        const bench_frame *f = &frames[i];
        if (!copy_bound(f))
            continue;
        printf("  %-22s memcpy", f->name);
        print_ns(f->ns[PAYLOAD_COPY]);
        printf("; librpb %.2fx, protobuf-c %.2fx", f->ns[RPB_ENC] / f->ns[PAYLOAD_COPY],
               f->ns[PBC_ENC] / f->ns[PAYLOAD_COPY]);
        if (prost.exe[0])
            printf(", prost %.2fx", f->ns[PROST_ENC] / f->ns[PAYLOAD_COPY]);
        printf(" the memcpy\n");
    }
    printf("\n");

    double input = (double)big.len;
    printf("peak RSS after decoding+validating the 16 MiB frame: %.1f MiB = %.2f x the input "
           "(%.1f MiB)\n",
           rss / 1048576.0, rss / input, input / 1048576.0);

    int met = 0, total = 0;
    const char *at;
    double r;
    printf("\ntargets:\n");
    r = worst_ratio(frames, N_FRAMES, RPB_DEC, PBC_DEC, false, &at);
    met += target(r > 1, "decode+validate faster than protobuf-c on every frame (slowest: %.2fx, %s)",
                  r, at);
    r = worst_ratio(frames, N_FRAMES, RPB_ENC, PBC_ENC, true, &at);
    met += target(r > 1,
                  "encode faster than protobuf-c on every frame not copy-bound (slowest: %.2fx, %s)",
                  r, at);
    r = worst_copy_overhead(frames, N_FRAMES, &at);
    /* a second copy of the payload would make it 2x */
    met += target(r <= 1.5,
                  "encode of copy-bound frames within 1.5x of the payload memcpy (worst: %.2fx, %s)",
                  r, at);
    total += 3;
    if (prost.exe[0]) {
        r = worst_ratio(frames, N_FRAMES, RPB_DEC, PROST_DEC, false, &at);
        met += target(r > 1, "decode+validate faster than prost on every frame (slowest: %.2fx, %s)",
                      r, at);
        const char *at_exact;
        r = worst_ratio(frames, N_FRAMES, RPB_ENC, PROST_ENC, true, &at);
        double r_exact = worst_ratio(frames, N_FRAMES, RPB_ENC_EXACT, PROST_ENC, true, &at_exact);
        bool exact_worse = r_exact < r;
        met += target(r >= 2 && r_exact >= 2,
                      "encode at least 2x faster than prost on every frame not copy-bound, in "
                      "either buffer (slowest: %.2fx, %s, %s)",
                      exact_worse ? r_exact : r, exact_worse ? at_exact : at,
                      exact_worse ? "exact-size buffer" : "roomy buffer");
        r = frames[0].ns[PROST_DEC] / frames[0].ns[RPB_DEC];
        met += target(r >= 2.5, "Hello decode+validate at least 2.5x faster than prost (%.2fx)", r);
        total += 3;
    }
    met += target(frames[3].ns[RPB_DEC] <= 2 * frames[4].ns[RPB_DEC],
                  "16 MiB frame decode+validate (%.0f ns) within 2x of the empty frame's (%.0f ns)",
                  frames[3].ns[RPB_DEC], frames[4].ns[RPB_DEC]);
    met += target(rss < 2 * input, "peak RSS (%.1f MiB) under 2x the 16 MiB input (%.1f MiB)",
                  rss / 1048576.0, 2 * input / 1048576.0);
    total += 2;
    printf("%d of %d targets met; run took %.1f s\n", met, total, (clock_ns(CLOCK_MONOTONIC) - t_start) / 1e9);

    for (int i = 0; i < N_FRAMES; i++)
        free(frames[i].wire); /* frames[3].wire is big.wire */
    return s.check && met < total ? 1 : 0;
}
