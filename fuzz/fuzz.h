/*
 * fuzz/fuzz.h - what the rpb fuzz targets share.
 *
 * Every target is one file fuzz_<name>.c defining LLVMFuzzerTestOneInput.
 * The same object links three ways (fuzz/README.md): with libFuzzer
 * (-fsanitize=fuzzer), with AFL++ (afl-clang-fast -fsanitize=fuzzer, i.e.
 * libAFLDriver) and with replay_main.c, the plain driver CI uses to replay
 * the committed corpora.  Targets are deterministic and keep no state
 * between inputs, so AFL++ persistent mode may reuse the process.
 *
 * Oracles stop the process with fz_fail() (abort: libFuzzer and AFL++ save
 * the input as a crash, the replay driver exits non-zero).
 */
#ifndef RPB_FUZZ_H
#define RPB_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/rpb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "oracle failed: <what>" with the printf-style detail and aborts. */
void fz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* fz_fail() unless cond holds. */
#define FZ_CHECK(cond, ...)             \
    do {                                \
        if (!(cond))                    \
            fz_fail(__VA_ARGS__);       \
    } while (0)

/* A deterministic pseudo-random stream seeded from the input's bytes, so
 * a target's choices (chunk sizes, ...) are a function of its input. */
typedef struct fz_rng {
    uint64_t state;
} fz_rng;

void fz_rng_seed(fz_rng *rng, const uint8_t *data, size_t size);
/* Uniform in [0, bound) for bound > 0. */
uint64_t fz_rng_below(fz_rng *rng, uint64_t bound);

/* The message byte selector picks: rpb_all_messages[selector modulo its
 * length] (fuzz_message, fuzz_json; fuzz/seed_corpus.py's MESSAGES lists
 * the same order). */
const rpb_msg_desc *fz_pick_message(uint8_t selector);

/* Whether field f of msg is set: the chosen oneof arm, a presence field
 * with its flag set, or (any other field) always. */
bool fz_field_present(const rpb_msg_desc *desc, const rpb_field_desc *f, const void *msg);

/*
 * Compares two decoded messages of type desc by their proto3 meaning:
 * scalars, strings and bytes by value, lists element by element, maps by
 * their effective (last-wins) entries, oneofs and presence fields only on
 * the set arm / when present.  Returns NULL when equal, otherwise the name
 * of the first field that differs.
 */
const char *fz_msg_diff(const rpb_msg_desc *desc, const void *a, const void *b);

/*
 * Round-trip oracle for a message that decoded successfully from some
 * input: encodes msg (rpb_encoded_len must match what rpb_encode writes),
 * decodes the encoding again (must succeed and fz_msg_diff-equal msg),
 * and re-encodes that (must reproduce the first encoding byte for byte:
 * the encoding is canonical, WIRE-020).  On success *out / *out_len hold
 * the canonical encoding (malloc'd; the caller frees *out), else aborts.
 */
void fz_roundtrip(const rpb_msg_desc *desc, const void *msg, uint8_t **out, size_t *out_len);

/*
 * Fused-encode oracle (WIRE-020, FRAME-002) for msg, whose canonical
 * encoding is enc[0..len):
 * rpb_frame_encode_msg() of msg, into a buffer of exactly the frame's size
 * (the sizing path) and into one with room (the unsized path), writes what
 * rpb_frame_encode() writes for a frame carrying enc, and refuses a buffer
 * one byte short; rpb_frame_encoded_len_msg() agrees.  Aborts otherwise.
 */
void fz_frame_msg_check(const rpb_msg_desc *desc, const void *msg, const uint8_t *enc,
                        size_t len);

/* Decodes in as desc with a fresh arena sized by rpb_arena_bound(); msg
 * must hold desc->size bytes.  *arena_mem receives the arena memory to
 * free after msg is no longer used.  Returns what rpb_decode returned. */
int fz_decode(const rpb_msg_desc *desc, const uint8_t *in, size_t len, void *msg,
              unsigned options, void **arena_mem);

/* Oracle for a reply a daemon wrote: wire[0..len) is exactly one frame
 * (16 MiB cap) whose body is canonical (WIRE-020); *frame gets it. */
void fz_check_one_frame(const uint8_t *wire, size_t len, rpb_frame *frame);

/* The fixed identity the probe targets answer with and expect
 * (DP1 of upstream's probe tests: pid 4242, /usr/bin/mydaemon, 32 x AA, ns-1,
 * /tmp/d.sock, boot-1, idle 30), and the fixed requester nonce 32 x 5A
 * (upstream's fuzz_probe_identity_decode). */
const rpb_daemon_process *fz_probe_identity(void);
extern const uint8_t fz_probe_nonce[RPB_PROBE_NONCE_BYTES];

/* Oracle for a probe response written by a responder to request: it is
 * one canonical frame that echoes request's request_id and trace context
 * and carries request's nonce followed by exactly identity. */
void fz_check_probe_reply(const rpb_frame *request, const uint8_t *reply, size_t len,
                          const rpb_daemon_process *identity);

#endif
