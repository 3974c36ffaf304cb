/*
 * decoded.c - rpb_decode() into memory the result owns, for tools and tests
 * that do not manage buffers themselves.
 */
#include "rpb/codec.h"

#include "mem.h"

int rpb_decode_alloc(const rpb_msg_desc *desc, const uint8_t *in, size_t len, unsigned options,
                     rpb_decoded *out, rpb_errinfo *err)
{
    size_t cap = rpb_arena_bound(len);
    out->desc = desc;
    out->msg = desc ? rpb_mem_malloc(desc->size) : NULL;
    out->scratch = rpb_mem_malloc(cap);
    if (out->msg == NULL || out->scratch == NULL) {
        rpb_decoded_free(out);
        return rpb_errinfo_set(err, desc ? RPB_ERR_NO_MEMORY : RPB_ERR_INVALID_ARGUMENT, 0);
    }
    rpb_arena arena;
    rpb_arena_init(&arena, out->scratch, cap);
    rpb_msg_init(desc, out->msg);
    int rc = rpb_decode(desc, in, len, out->msg, &arena, options, err);
    if (rc != RPB_OK)
        rpb_decoded_free(out);
    return rc;
}

void rpb_decoded_free(rpb_decoded *d)
{
    rpb_mem_free(d->msg);
    rpb_mem_free(d->scratch);
    d->msg = d->scratch = NULL;
}
