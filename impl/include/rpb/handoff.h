/*
 * rpb/handoff.h - the SCM_RIGHTS connection handoff (spec/handoff.md
 * HANDOFF-*).
 *
 * I/O-free: the token store and ACK registry (the clock is passed in), the
 * offer, ACK and handoff-ready frame builders, and the validators of the
 * three frames (receiver, broker, adopting client).  Over a socket: the
 * descriptor transfer (rpb_handoff_send_fd, rpb_handoff_send_offer,
 * rpb_handoff_recv_fd).  The client's whole route is rpb_connect_backend()
 * in rpb/client.h.
 */
#ifndef RPB_HANDOFF_H
#define RPB_HANDOFF_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/buf.h"
#include "rpb/frame.h"
#include "rpb/hello.h" /* RPB_HANDOFF_TOKEN_BYTES, rpb_random_fn */
#include "rpb/messages.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_HANDOFF_TOKEN_TTL_MS 30000        /* HANDOFF-012 */
#define RPB_HANDOFF_MAX_PENDING 1024u         /* HANDOFF-013 */
#define RPB_HANDOFF_ACK_DEADLINE_MS 5000      /* HANDOFF-015 */
#define RPB_HANDOFF_READY_TIMEOUT_MS 2000     /* HANDOFF-050 */
#define RPB_HANDOFF_DRAWS 16u                 /* HANDOFF-010 */
/* The largest ACK rpb_handoff_ack_encode() writes (the longest detail). */
#define RPB_HANDOFF_ACK_MAX_BYTES 128u
/* The largest handoff-ready frame rpb_handoff_ready_encode() writes. */
#define RPB_HANDOFF_READY_MAX_BYTES 64u

/*
 * SEC-017: true when the 16 bytes of a and b are equal, in time that does
 * not depend on where they differ.
 */
RPB_API bool rpb_handoff_token_equal(const uint8_t a[RPB_HANDOFF_TOKEN_BYTES],
                                     const uint8_t b[RPB_HANDOFF_TOKEN_BYTES]);

/* HANDOFF-001: a handoff is agreed when the Negotiated has
 * CAP_HANDLE_PASSING and a non-empty token. */
RPB_API bool rpb_handoff_agreed(const rpb_negotiated *negotiated);

/* ---- token store and ACK registry (HANDOFF-010..HANDOFF-016) ---- */

/* One slot of the store; the caller provides the array, its contents are
 * the store's. */
typedef struct rpb_handoff_slot {
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    bool pending;
    bool ack_registered;
    int64_t expires_at;      /* issue time + ttl */
    int64_t ack_deadline_at; /* registration time + ack deadline */
} rpb_handoff_slot;

typedef struct rpb_handoff_config {
    int64_t token_ttl_ms;    /* <= 0: RPB_HANDOFF_TOKEN_TTL_MS (HANDOFF-017) */
    int64_t ack_deadline_ms; /* <= 0: RPB_HANDOFF_ACK_DEADLINE_MS (HANDOFF-017) */
    rpb_random_fn random;    /* NULL: getrandom(2) */
    void *random_ctx;
} rpb_handoff_config;

/*
 * A token store (at most n_slots tokens pending: max_pending_tokens,
 * HANDOFF-013) with its ACK registry.  Times are milliseconds of any
 * monotonic clock the caller passes in (rpb_monotonic_ms()).  Not
 * thread-safe: one owner.
 */
typedef struct rpb_handoff_store {
    rpb_handoff_slot *slots;
    size_t n_slots;
    size_t n_used; /* slots[n_used..n_slots) hold no token: scans stop there */
    rpb_handoff_config cfg;
} rpb_handoff_store;

/* Initialises store over slots[0..n_slots) (n_slots >= 1) with cfg (NULL,
 * or a zero field: the defaults, HANDOFF-017).  Returns RPB_OK or
 * RPB_ERR_INVALID_ARGUMENT (n_slots 0, HANDOFF-017; the ACK deadline not
 * shorter than the TTL, HANDOFF-015). */
RPB_API int rpb_handoff_store_init(rpb_handoff_store *store, rpb_handoff_slot *slots,
                                   size_t n_slots, const rpb_handoff_config *cfg);

/*
 * Issues a token at now into token (HANDOFF-010): prunes expired tokens,
 * then draws up to RPB_HANDOFF_DRAWS times until the bytes differ from
 * every pending token.  Returns RPB_OK, RPB_ERR_HANDOFF_PENDING_LIMIT,
 * RPB_ERR_HANDOFF_COLLISION, RPB_ERR_IO (the random source failed) or
 * RPB_ERR_INVALID_ARGUMENT (store or token NULL).
 */
RPB_API int rpb_handoff_issue(rpb_handoff_store *store, int64_t now,
                              uint8_t token[RPB_HANDOFF_TOKEN_BYTES]);

/*
 * Presents `presented` for the pending token `expected` at now
 * (HANDOFF-011, HANDOFF-012, HANDOFF-014): RPB_OK (consumed),
 * RPB_ERR_HANDOFF_TOKEN_NOT_PENDING, RPB_ERR_HANDOFF_TOKEN_EXPIRED
 * (removed), RPB_ERR_HANDOFF_TOKEN_MISMATCH (kept) or
 * RPB_ERR_INVALID_ARGUMENT (a NULL pointer).
 */
RPB_API int rpb_handoff_consume(rpb_handoff_store *store,
                                const uint8_t expected[RPB_HANDOFF_TOKEN_BYTES],
                                const uint8_t presented[RPB_HANDOFF_TOKEN_BYTES], int64_t now);

/*
 * Registers the handoff of a pending token at now: its ACK is due before
 * now + ack deadline (HANDOFF-015); registering again restarts the
 * deadline.  Returns RPB_OK, RPB_ERR_HANDOFF_TOKEN_NOT_PENDING (unknown
 * or expired token) or RPB_ERR_INVALID_ARGUMENT (a NULL pointer).
 */
RPB_API int rpb_handoff_register(rpb_handoff_store *store,
                                 const uint8_t token[RPB_HANDOFF_TOKEN_BYTES], int64_t now);

/*
 * Records the ACK of a registered token at now and revokes the token
 * whatever the result (HANDOFF-015, HANDOFF-016): RPB_OK,
 * RPB_ERR_HANDOFF_ACK_DEADLINE, RPB_ERR_INVALID_ARGUMENT (a NULL pointer;
 * nothing revoked) or RPB_ERR_HANDOFF_TOKEN_NOT_PENDING (not
 * registered: never, or already acknowledged or abandoned; or its TTL
 * passed, whatever its ACK deadline, HANDOFF-012: it is then removed).
 */
RPB_API int rpb_handoff_acknowledge(rpb_handoff_store *store,
                                    const uint8_t token[RPB_HANDOFF_TOKEN_BYTES], int64_t now);

/* Ends an attempt that failed (HANDOFF-016): removes the registration and
 * revokes the token; true when the token was pending. */
RPB_API bool rpb_handoff_abandon(rpb_handoff_store *store,
                                 const uint8_t token[RPB_HANDOFF_TOKEN_BYTES]);

/* Removes every token whose TTL or ACK deadline has passed at now;
 * returns how many. */
RPB_API size_t rpb_handoff_expire(rpb_handoff_store *store, int64_t now);

/* The number of pending tokens. */
RPB_API size_t rpb_handoff_pending(const rpb_handoff_store *store);

/* ---- frames (HANDOFF-021, HANDOFF-031, HANDOFF-043) ---- */

/*
 * Writes the framed HandoffOffer (HANDOFF-021): REQUEST on 0xD0FF,
 * request_id = correlation_id, handle_value 0.  Returns RPB_OK,
 * RPB_ERR_INVALID_ARGUMENT or RPB_ERR_BUFFER_TOO_SMALL.
 */
RPB_API int rpb_handoff_offer_encode(const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                                     rpb_slice service_name, uint64_t correlation_id,
                                     uint8_t *out, size_t cap, size_t *written);

/*
 * The receiver's verdict on a checked offer (HANDOFF-043, HANDOFF-044):
 * RPB_OK, RPB_ERR_HANDOFF_TOKEN_MISSING, RPB_ERR_HANDOFF_TOKEN_LENGTH or,
 * when fd_token (the 16 bytes of the sendmsg) is not NULL and differs,
 * RPB_ERR_HANDOFF_TOKEN_MISMATCH; RPB_ERR_INVALID_ARGUMENT when offer is
 * NULL.
 */
RPB_API int rpb_handoff_offer_verdict(const rpb_handoff_offer *offer,
                                      const uint8_t *fd_token);

/*
 * Writes the framed HandoffAck answering offer with verdict (an
 * rpb_handoff_offer_verdict() result, or RPB_ERR_HANDOFF_TOKEN_NOT_PENDING
 * for a replayed token, HANDOFF-047; HANDOFF-043): RESPONSE on 0xD0FF,
 * request_id and correlation_id the offer's, token the offer's bytes,
 * accepted when verdict is RPB_OK, else error_detail upstream's text.
 * RPB_HANDOFF_ACK_MAX_BYTES suffice for an offer whose token is at most 16
 * bytes.  Returns RPB_OK, RPB_ERR_INVALID_ARGUMENT or
 * RPB_ERR_BUFFER_TOO_SMALL.
 */
RPB_API int rpb_handoff_ack_encode(const rpb_handoff_offer *offer, int verdict, uint8_t *out,
                                   size_t cap, size_t *written);

/*
 * Writes the framed handoff-ready EVENT (HANDOFF-031): HandoffAck{token,
 * accepted, "", correlation_id} on 0xD0FF, request_id = correlation_id.
 * Returns RPB_OK, RPB_ERR_INVALID_ARGUMENT or RPB_ERR_BUFFER_TOO_SMALL.
 */
RPB_API int rpb_handoff_ready_encode(const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                                     uint64_t correlation_id, uint8_t *out, size_t cap,
                                     size_t *written);

/* ---- validators; slices in the outputs point into body ---- */

/*
 * The receiver's checks of an offer frame body (HANDOFF-042): Frame
 * decode, the handoff-offer site, HandoffOffer decode, request_id =
 * correlation_id.  Returns RPB_OK, a decode class, an RPB_ERR_ENVELOPE_*
 * code, RPB_ERR_HANDOFF_CORRELATION or RPB_ERR_INVALID_ARGUMENT (a NULL
 * pointer, or body NULL with len > 0).  err (may be NULL) gets the class
 * and, for decode errors, the offset in body.
 */
RPB_API int rpb_handoff_offer_check(const uint8_t *body, size_t len, rpb_frame *frame,
                                    rpb_handoff_offer *offer, rpb_errinfo *err);

/*
 * The broker's checks of an ACK frame body, HANDOFF-030 steps 1 to 6, for
 * the handoff of token with correlation_id: returns RPB_OK, a decode
 * class, an RPB_ERR_ENVELOPE_* code, RPB_ERR_HANDOFF_CORRELATION,
 * RPB_ERR_HANDOFF_TOKEN_MISMATCH, RPB_ERR_HANDOFF_REFUSED (ack->
 * error_detail holds the backend's text) or RPB_ERR_INVALID_ARGUMENT (a
 * NULL pointer, or body NULL with len > 0).  Step 7 is
 * rpb_handoff_acknowledge().
 */
RPB_API int rpb_handoff_ack_check(const uint8_t *body, size_t len, uint64_t correlation_id,
                                  const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                                  rpb_handoff_ack *ack, rpb_errinfo *err);

/*
 * The broker's whole decision on the ACK frame body of the attempt of
 * token (HANDOFF-030, HANDOFF-031, HANDOFF-032): rpb_handoff_ack_check(),
 * then rpb_handoff_acknowledge() at now (step 7).  The token is revoked
 * whatever the result (HANDOFF-016).  On RPB_OK ready[0..*written) is the
 * handoff-ready frame to write to the client (cap >=
 * RPB_HANDOFF_READY_MAX_BYTES); on any other result nothing is written to
 * the client, and the result is the class to log: those of
 * rpb_handoff_ack_check(), RPB_ERR_HANDOFF_ACK_DEADLINE,
 * RPB_ERR_HANDOFF_TOKEN_NOT_PENDING, or a caller's error:
 * RPB_ERR_INVALID_ARGUMENT (a NULL pointer; nothing revoked) or
 * RPB_ERR_BUFFER_TOO_SMALL (cap under RPB_HANDOFF_READY_MAX_BYTES, which
 * *written then holds; the token is revoked all the same).  A failure before any
 * ACK arrived (connect, send, read, deadline) ends the attempt with
 * rpb_handoff_abandon() instead.
 */
RPB_API int rpb_handoff_ack_decide(rpb_handoff_store *store,
                                   const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                                   uint64_t correlation_id, const uint8_t *body, size_t len,
                                   int64_t now, uint8_t *ready, size_t cap, size_t *written,
                                   rpb_handoff_ack *ack, rpb_errinfo *err);

/*
 * The adopting client's checks of a handoff-ready frame body
 * (HANDOFF-051) for the negotiated token[0..token_len): Frame decode, the
 * handoff-ready site, HandoffAck decode, token, accepted.  Returns RPB_OK,
 * a decode class, an RPB_ERR_ENVELOPE_* code,
 * RPB_ERR_HANDOFF_TOKEN_MISMATCH, RPB_ERR_HANDOFF_REFUSED or
 * RPB_ERR_INVALID_ARGUMENT (ack NULL, or body or token NULL with a length).
 */
RPB_API int rpb_handoff_ready_check(const uint8_t *body, size_t len, const uint8_t *token,
                                    size_t token_len, rpb_handoff_ack *ack, rpb_errinfo *err);

/* ---- the descriptor transfer (impl/src/io; HANDOFF-020, HANDOFF-041) ---- */

/*
 * Sends token and one descriptor fd on the connected Unix stream socket
 * sock in one sendmsg (HANDOFF-020), with MSG_NOSIGNAL, waiting at most
 * until deadline_ms (rpb_monotonic_ms() clock; RPB_NO_DEADLINE waits) when
 * sock is non-blocking.  fd stays the caller's.  Returns RPB_OK,
 * RPB_ERR_TIMEOUT, RPB_ERR_IO (errno kept; EMSGSIZE when fewer than 16
 * bytes went) or RPB_ERR_INVALID_ARGUMENT (a negative sock or fd, token
 * NULL).
 */
RPB_API int rpb_handoff_send_fd(int sock, int fd, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                                int64_t deadline_ms);

/*
 * rpb_handoff_send_fd(), and in the same system call (sendmmsg) the first
 * bytes of offer[0..offer_len), the encoded HandoffOffer frame that
 * follows the descriptor (HANDOFF-021): one wake-up of the receiver for
 * both.  The descriptor's message stays a message of its own.  On RPB_OK
 * *offer_sent (when not NULL) is the number of offer bytes that went, 0 to
 * offer_len: the caller writes the rest.  Returns what
 * rpb_handoff_send_fd() returns, and RPB_ERR_INVALID_ARGUMENT for offer
 * NULL with a length.
 */
RPB_API int rpb_handoff_send_offer(int sock, int fd, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES],
                                   const uint8_t *offer, size_t offer_len, int64_t deadline_ms,
                                   size_t *offer_sent);

/*
 * Receives the token and the descriptor that are the first bytes of a
 * handoff connection (HANDOFF-040, HANDOFF-041), with MSG_CMSG_CLOEXEC,
 * waiting at most until deadline_ms.  On RPB_OK *fd is the received
 * descriptor (the caller's to close) and token holds the 16 bytes.  On
 * failure every descriptor received is closed and *fd is -1: returns, in
 * HANDOFF-041's order, RPB_ERR_HANDOFF_CTRUNC (more than 8 descriptors),
 * RPB_ERR_UNEXPECTED_EOF, RPB_ERR_HANDOFF_FD_COUNT (none, or 2 to 8),
 * RPB_ERR_HANDOFF_TOKEN_LENGTH; or RPB_ERR_TIMEOUT,
 * RPB_ERR_IO (errno kept) or RPB_ERR_INVALID_ARGUMENT (fd or token NULL,
 * a negative sock; nothing received).
 */
RPB_API int rpb_handoff_recv_fd(int sock, int64_t deadline_ms,
                                uint8_t token[RPB_HANDOFF_TOKEN_BYTES], int *fd);

/* What rpb_handoff_receive() got. */
typedef struct rpb_handoff_received {
    int fd;                  /* the adopted connection, or -1 */
    rpb_frame frame;         /* the offer frame; slices point into body */
    rpb_handoff_offer offer; /* the offer; slices point into body */
    rpb_buf body;            /* the offer frame body: release with rpb_buf_free() */
} rpb_handoff_received;

/*
 * The handoff receiver's whole exchange on one accepted handoff connection
 * conn (HANDOFF-040 to HANDOFF-045), under deadline_ms: the descriptor
 * (rpb_handoff_recv_fd), one offer frame (16 MiB cap) checked by
 * rpb_handoff_offer_check(), the verdict binding the descriptor's token
 * (rpb_handoff_offer_verdict), and the ACK written on conn.  conn stays
 * the caller's.
 *
 * Returns RPB_OK with out->fd the adopted connection (the caller's), or
 * the class of the failure with out->fd -1 and the received descriptor
 * closed: a rpb_handoff_recv_fd() class; a rpb_read_frame() or
 * rpb_handoff_offer_check() class (no ACK written); the verdict
 * (RPB_ERR_HANDOFF_TOKEN_MISSING, _LENGTH or _MISMATCH; the refusal ACK
 * was written); the ACK's encoding or write: RPB_ERR_NO_MEMORY (an
 * over-long offer token), RPB_ERR_IO or RPB_ERR_TIMEOUT; or
 * RPB_ERR_INVALID_ARGUMENT when out is NULL.
 * Release out->body whatever the result.
 */
RPB_API int rpb_handoff_receive(int conn, int64_t deadline_ms, rpb_handoff_received *out,
                                rpb_errinfo *err);

#ifdef __cplusplus
}
#endif
#endif
