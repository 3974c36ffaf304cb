/*
 * rpb/control.h - the I/O-free life of one control-socket connection
 * (spec/hello.md HELLO-001..HELLO-006, ADMIN-001): the bytes received so far
 * in, NEED_MORE or the one reply (Hello or admin) out.  A socket layer
 * (rpb-broker) owns the fds, the event loop and the deadlines and calls
 * rpb_control_step() whenever bytes or EOF arrive.
 */
#ifndef RPB_CONTROL_H
#define RPB_CONTROL_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/admin.h"
#include "rpb/hello.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rpb_control_kind {
    RPB_CONTROL_FRAMING, /* framing error or undecodable Frame: hello.refusal says which */
    RPB_CONTROL_HELLO,   /* a Hello attempt: hello holds the decision */
    RPB_CONTROL_ADMIN,   /* an admin request: admin holds the outcome */
} rpb_control_kind;

typedef struct rpb_control_outcome {
    rpb_control_kind kind;
    rpb_hello_decision hello;
    rpb_admin_outcome admin;
    uint64_t request_id; /* echoed request_id (0 when the Frame did not decode) */
    size_t consumed;     /* bytes of in that formed the frame (0 on framing errors) */
} rpb_control_outcome;

/* Output space rpb_control_step() may need: admin replies are the largest. */
#define RPB_CONTROL_REPLY_MAX RPB_ADMIN_REPLY_MAX

/*
 * Looks at in[0..len), everything received on the connection so far, and
 * eof (the peer will send no more).  The first frame is read with the
 * Hello cap, decided from the header alone (HELLO-003, FRAME-005); bytes
 * after it are ignored (HELLO-001).
 *
 * Returns
 *   RPB_NEED_MORE  no frame yet and not eof: wait for more bytes;
 *   RPB_OK         the reply is in out[0..*written) and *oc says what it
 *                  answers: the caller writes it and closes;
 *   RPB_ERR_BUFFER_TOO_SMALL  cap is below what the reply needs
 *                  (RPB_CONTROL_REPLY_MAX always suffices).
 * admin is the admin responder's view of the broker (ADMIN-*).
 */
RPB_API int rpb_control_step(rpb_hello_handler *h, const rpb_admin_context *admin, const uint8_t *in,
                     size_t len, bool eof, const rpb_peer *peer, int64_t now_ms, uint8_t *out,
                     size_t cap, size_t *written, rpb_control_outcome *oc);

#ifdef __cplusplus
}
#endif
#endif
