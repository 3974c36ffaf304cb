/*
 * rpb-bench-codec - how fast librpb decodes+validates and encodes v1
 * frames, side by side with protobuf-c on the same bytes in the same run.
 *
 * A benchmark, not a test: it prints figures and whether the targets of
 * the codec issue are met, and exits 0 unless a measurement itself failed
 * (a frame did not decode).  Frames:
 *   (a) the golden Hello frame: Frame{REQUEST, pp 0x0000, payload =
 *       GOLDEN_HELLO (facts/wire.md 6.1)}, checked at the Hello site with
 *       the 64 KiB cap, the Hello payload decoded;
 *   (b) the probe request Frame::request(0xB232, [0x09; 32]).with_request_id(7),
 *       checked at the probe-request site (the payload is a raw nonce);
 *   (c) a frame with a 1 MiB payload, (d) a frame whose body is exactly the
 *       16 MiB cap, and an empty-payload frame as the baseline for (d):
 *       REQUEST on 0xB232 (the one site whose payload is opaque bytes), so
 *       decode+validate is framing + Frame decode + envelope check.
 * librpb decode+validate = rpb_frame_decode + rpb_envelope_check (+ the
 * payload's rpb_decode for (a)); protobuf-c = *_unpack of the Frame body
 * (+ of the Hello payload for (a)) + *_free_unpacked, no validation.
 * Encode = rpb_frame_encode (rpb_frame_encode_msg with the Hello struct
 * for (a): header, Frame and Hello in one pass) vs *_pack of the Hello and
 * of the Frame into the same buffer after a hand-written 5-byte header;
 * both outputs are checked byte for byte against the frame before timing.
 *
 * Every figure is the median of several repetitions, each long enough to
 * swamp the clock (--quick: fewer and shorter).  Peak RSS is measured right
 * after the 16 MiB decode phase, which runs before anything else allocates.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "broker_v1_envelope.pb-c.h"
#include "rpb/rpb.h"

/* facts/wire.md 6.1: GOLDEN_HELLO, 100 bytes. */
static const char golden_hello_hex[] =
    "080110031a0b6275696c642d6361636865220a312e322e332d72632e312a06332e302e31"
    "3530818080808080808080013a0301020342087265712d303030315092215a0f72756e6e"
    "696e672d70726f636573736206332e302e31356a02aabb7201cc781e";

/* facts/wire.md 6.3: the probe request frame, 47 bytes framed. */
static const char probe_frame_hex[] =
    "012a000000080118b2e40222200909090909090909090909090909090909090909090909"
    "0909090909090909092807";

/* What the receiver does with the payload once the envelope passed. */
enum payload_kind {
    PAYLOAD_OPAQUE, /* nothing: bytes for someone else */
    PAYLOAD_NONCE,  /* the probe request's shape rule: exactly 32 bytes */
    PAYLOAD_HELLO,  /* rpb_decode as Hello (WIRE-017: after the envelope) */
};

typedef struct bench_frame {
    const char *name;
    uint8_t *wire; /* framed bytes */
    size_t len;
    uint32_t cap;
    rpb_site site;
    enum payload_kind payload;
    /* Results, ns per frame (medians). */
    double rpb_dec, pbc_dec, rpb_enc, pbc_enc;
} bench_frame;

typedef struct settings {
    int reps;
    double min_rep_ns; /* a repetition runs at least this long */
} settings;

static volatile uint64_t sink; /* keeps results alive */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
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

/* ---- the operations measured; each returns false on a codec failure ---- */

static bool rpb_decode_validate(const bench_frame *f)
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
        sink += hello.peer_pid;
    } else if (f->payload == PAYLOAD_NONCE && frame.payload.len != 32) {
        return false;
    }
    sink += consumed + frame.payload.len;
    return true;
}

static bool pbc_unpack(const bench_frame *f)
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
        sink += hello->peer_pid;
        running_process__broker__v1__hello__free_unpacked(hello, NULL);
    }
    sink += frame->payload.len;
    running_process__broker__v1__frame__free_unpacked(frame, NULL);
    return true;
}

/* Decoded forms the encoders start from, built once per frame. */
typedef struct enc_input {
    rpb_frame frame;
    rpb_hello hello;
    uint8_t *out;        /* f->len bytes */
    uint8_t *hello_out;  /* payload scratch for (a) */
    RunningProcess__Broker__V1__Frame *pframe;
    RunningProcess__Broker__V1__Hello *phello;
    ProtobufCBinaryData pframe_payload; /* protobuf-c's own, restored before freeing */
} enc_input;

static bool rpb_encode_frame(const bench_frame *f, enc_input *in)
{
    size_t written;
    int rc = f->payload == PAYLOAD_HELLO
                 ? rpb_frame_encode_msg(&in->frame, &rpb_hello_desc, &in->hello, in->out, f->len,
                                        &written)
                 : rpb_frame_encode(&in->frame, in->out, f->len, &written);
    if (rc != RPB_OK || written != f->len)
        return false;
    sink += in->out[written - 1];
    return true;
}

static bool pbc_pack(const bench_frame *f, enc_input *in)
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
    sink += in->out[f->len - 1];
    return true;
}

/* ---- timing ---- */

enum op { RPB_DEC, PBC_DEC, RPB_ENC, PBC_ENC };

static bool run_op(enum op op, const bench_frame *f, enc_input *in)
{
    switch (op) {
    case RPB_DEC:
        return rpb_decode_validate(f);
    case PBC_DEC:
        return pbc_unpack(f);
    case RPB_ENC:
        return rpb_encode_frame(f, in);
    case PBC_ENC:
        return pbc_pack(f, in);
    }
    return false;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over s->reps repetitions of the ns one op takes. */
static double measure(enum op op, const bench_frame *f, enc_input *in, const settings *s)
{
    /* Calibrate: double the batch until one batch takes min_rep_ns. */
    uint64_t batch = 1;
    for (;;) {
        double t0 = now_ns();
        for (uint64_t i = 0; i < batch; i++)
            if (!run_op(op, f, in)) {
                static const char *const ops[] = {"librpb decode", "protobuf-c unpack",
                                                  "librpb encode", "protobuf-c pack"};
                fprintf(stderr, "rpb-bench-codec: %s of %s failed\n", ops[op], f->name);
                exit(1);
            }
        if (now_ns() - t0 >= s->min_rep_ns || batch >= (UINT64_C(1) << 40))
            break;
        batch *= 2;
    }
    double samples[16];
    for (int r = 0; r < s->reps; r++) {
        double t0 = now_ns();
        for (uint64_t i = 0; i < batch; i++)
            run_op(op, f, in);
        samples[r] = (now_ns() - t0) / (double)batch;
    }
    qsort(samples, (size_t)s->reps, sizeof samples[0], compare_doubles);
    return samples[s->reps / 2];
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
    in->out = xmalloc(f->len);
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

static void measure_frame(bench_frame *f, const settings *s)
{
    enc_input in;
    f->rpb_dec = measure(RPB_DEC, f, NULL, s);
    f->pbc_dec = measure(PBC_DEC, f, NULL, s);
    prepare_encoder(f, &in);
    if (!rpb_encode_frame(f, &in) || memcmp(in.out, f->wire, f->len) != 0)
        die("librpb's encoding differs from the frame's bytes");
    if (!pbc_pack(f, &in) || memcmp(in.out, f->wire, f->len) != 0)
        die("protobuf-c's encoding differs from the frame's bytes");
    f->rpb_enc = measure(RPB_ENC, f, &in, s);
    f->pbc_enc = measure(PBC_ENC, f, &in, s);
    release_encoder(&in);
}

static double peak_rss_bytes(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0; /* Linux: KiB */
}

static void print_cell(double ns, size_t bytes)
{
    double mbs = (double)bytes / ns * 1e3; /* bytes per ns -> MB/s */
    if (ns >= 1e6)
        printf(" %10.2f ms %9.0f", ns / 1e6, mbs);
    else
        printf(" %10.1f ns %9.0f", ns, mbs);
}

static void usage(FILE *out)
{
    fputs("usage: rpb-bench-codec [--quick] [--help]\n"
          "Measures librpb decode+validate and encode of v1 frames (golden Hello, probe\n"
          "request, 1 MiB, 16 MiB, empty) against protobuf-c's unpack/pack of the same\n"
          "bytes, prints ns per frame, MB/s, peak RSS and whether the codec targets are\n"
          "met.  --quick: fewer, shorter repetitions (a smoke run, noisier figures).\n",
          out);
}

int main(int argc, char **argv)
{
    settings s = {5, 50e6};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            s.reps = 3;
            s.min_rep_ns = 10e6;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    double t_start = now_ns();

    /* (d) first: the peak RSS below is then the 16 MiB decode's alone. */
    bench_frame big = {"(d) body = 16 MiB cap", NULL, 0, RPB_MAX_FRAME_BYTES,
                       RPB_SITE_PROBE_REQUEST, PAYLOAD_OPAQUE, 0, 0, 0, 0};
    big.wire = large_frame(RPB_PP_PROBE, payload_for_body(RPB_PP_PROBE, RPB_MAX_FRAME_BYTES),
                           &big.len);
    if (big.len != 5 + (size_t)RPB_MAX_FRAME_BYTES)
        die("the 16 MiB frame is not exactly at the cap");
    big.rpb_dec = measure(RPB_DEC, &big, NULL, &s);
    double rss = peak_rss_bytes();

    bench_frame frames[5] = {
        {"(a) golden Hello", NULL, 0, RPB_MAX_HELLO_BYTES, RPB_SITE_HELLO, PAYLOAD_HELLO, 0, 0, 0,
         0},
        {"(b) probe request", NULL, 0, RPB_MAX_FRAME_BYTES, RPB_SITE_PROBE_REQUEST, PAYLOAD_NONCE,
         0, 0, 0, 0},
        {"(c) 1 MiB payload", NULL, 0, RPB_MAX_FRAME_BYTES, RPB_SITE_PROBE_REQUEST,
         PAYLOAD_OPAQUE, 0, 0, 0, 0},
        big,
        {"empty payload", NULL, 0, RPB_MAX_FRAME_BYTES, RPB_SITE_PROBE_REQUEST, PAYLOAD_OPAQUE, 0,
         0, 0, 0},
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
            die("librpb's probe request frame differs from facts/wire.md 6.3");
    }

    for (int i = 0; i < 5; i++)
        measure_frame(&frames[i], &s);

    printf("rpb-bench-codec: librpb %s vs protobuf-c %s, median of %d repetitions of >= %.0f ms\n\n",
           RPB_VERSION_STRING, protobuf_c_version(), s.reps, s.min_rep_ns / 1e6);
    printf("%-22s %9s | %-24s | %-24s | %-24s | %s\n", "", "", "librpb decode+validate",
           "protobuf-c unpack+free", "librpb encode", "protobuf-c pack");
    printf("%-22s %9s", "frame", "bytes");
    for (int k = 0; k < 4; k++)
        printf(" | %13s %9s", "per frame", "MB/s");
    printf("\n");
    for (int i = 0; i < 5; i++) {
        const bench_frame *f = &frames[i];
        const double ns[4] = {f->rpb_dec, f->pbc_dec, f->rpb_enc, f->pbc_enc};
        printf("%-22s %9zu", f->name, f->len);
        for (int k = 0; k < 4; k++) {
            printf(" |");
            print_cell(ns[k], f->len);
        }
        printf("\n");
    }

    double input = (double)big.len;
    printf("\npeak RSS after decoding+validating the 16 MiB frame: %.1f MiB = %.2f x the input "
           "(%.1f MiB)\n",
           rss / 1048576.0, rss / input, input / 1048576.0);

    bool t1 = frames[0].rpb_dec < frames[0].pbc_dec;
    bool t2 = frames[3].rpb_dec <= 2 * frames[4].rpb_dec;
    bool t3 = rss < 2 * input;
    printf("\ntargets:\n");
    printf("  %-7s Hello decode+validate (%.0f ns) faster than protobuf-c unpack alone (%.0f ns)\n",
           t1 ? "MET" : "MISSED", frames[0].rpb_dec, frames[0].pbc_dec);
    printf("  %-7s 16 MiB frame decode+validate (%.0f ns) within 2x of the empty frame's (%.0f ns)\n",
           t2 ? "MET" : "MISSED", frames[3].rpb_dec, frames[4].rpb_dec);
    printf("  %-7s peak RSS (%.1f MiB) under 2x the 16 MiB input (%.1f MiB)\n", t3 ? "MET" : "MISSED",
           rss / 1048576.0, 2 * input / 1048576.0);
    printf("%d of 3 targets met; run took %.1f s\n", t1 + t2 + t3, (now_ns() - t_start) / 1e9);

    for (int i = 0; i < 5; i++)
        free(frames[i].wire); /* frames[3].wire is big.wire */
    return 0;
}
