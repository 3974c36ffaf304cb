/*
 * fuzz_json - the strict JSON parser, the writer and the JSON mapping of
 * the v1 messages (rpb/json.h).
 *
 * Input: byte 0 picks the message (index into rpb_all_messages, modulo its
 * length; fuzz/seed_corpus.py uses the same order), the rest is JSON text.
 *
 * Oracles:
 *  - parse: a failure reports an offset inside the text and a reason and
 *    leaves the doc empty; a parsed tree is consistent: member and element
 *    counts match the lists, strings and keys are valid UTF-8 and
 *    NUL-terminated, offsets lie inside the text, the integer accessors
 *    agree with sign and magnitude, rpb_json_get() finds the last member of
 *    a key;
 *  - writer: the tree written compact and pretty parses again to an equal
 *    tree (rpb_json_equal, both ways), and writing that tree gives the same
 *    text again (the writer's output is a fixed point);
 *  - mapping: rpb_json_to_message() never exhausts an arena of
 *    rpb_arena_bound(text length); when it accepts, the message round-trips
 *    canonically (fz_roundtrip), its canonical bytes decode with
 *    rpb_decode() to a message whose JSON is the same text as the
 *    original's, and that JSON maps back to a message with the same
 *    canonical bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rpb/json.h"

static void check_tree(const rpb_json_value *v, size_t text_len, unsigned depth)
{
    FZ_CHECK(depth <= RPB_JSON_MAX_DEPTH, "tree deeper than %d", RPB_JSON_MAX_DEPTH);
    FZ_CHECK(v->offset < text_len, "value offset %zu outside a %zu-byte text", v->offset, text_len);
    uint64_t u;
    int64_t i;
    switch (v->type) {
    case RPB_JSON_INTEGER: {
        bool neg = v->u.integer.negative;
        uint64_t mag = v->u.integer.magnitude;
        FZ_CHECK(!neg || (mag > 0 && mag <= UINT64_C(1) << 63), "negative integer of magnitude %llu",
                 (unsigned long long)mag);
        FZ_CHECK(rpb_json_as_u64(v, &u) == !neg && (neg || u == mag), "rpb_json_as_u64 disagrees");
        bool fits = neg || mag <= INT64_MAX;
        FZ_CHECK(rpb_json_as_i64(v, &i) == fits, "rpb_json_as_i64 range");
        FZ_CHECK(!fits || (neg ? (uint64_t)0 - (uint64_t)i == mag : (uint64_t)i == mag),
                 "rpb_json_as_i64 value");
        break;
    }
    case RPB_JSON_STRING:
        FZ_CHECK(rpb_utf8_valid(v->u.string.data, v->u.string.len) &&
                     v->u.string.data[v->u.string.len] == '\0',
                 "string at %zu not NUL-terminated UTF-8", v->offset);
        break;
    case RPB_JSON_ARRAY:
    case RPB_JSON_OBJECT: {
        size_t count = 0;
        for (const rpb_json_value *c = v->u.children.head; c; c = c->next, count++) {
            if (v->type == RPB_JSON_OBJECT) {
                FZ_CHECK(rpb_utf8_valid(c->key.data, c->key.len), "key not UTF-8");
                /* rpb_json_get: the last member of a key (keys without NUL) */
                if (memchr(c->key.data, 0, c->key.len) == NULL) {
                    char *key = malloc(c->key.len + 1);
                    if (!key)
                        fz_fail("out of memory");
                    memcpy(key, c->key.data, c->key.len);
                    key[c->key.len] = '\0';
                    const rpb_json_value *last = c;
                    for (const rpb_json_value *d = c->next; d; d = d->next)
                        if (rpb_slice_eq(d->key, c->key))
                            last = d;
                    FZ_CHECK(rpb_json_get(v, key) == last, "rpb_json_get(\"%s\")", key);
                    free(key);
                }
            }
            check_tree(c, text_len, depth + 1);
        }
        FZ_CHECK(count == v->u.children.count, "container at %zu counts %zu children, lists %zu",
                 v->offset, v->u.children.count, count);
        break;
    }
    default:
        FZ_CHECK(!rpb_json_as_u64(v, &u) && !rpb_json_as_i64(v, &i),
                 "integer accessor accepts a non-integer");
        break;
    }
}

/* Writes v with flags into buf (emptied first); the write must succeed. */
static void write_value(rpb_buf *buf, const rpb_json_value *v, unsigned flags)
{
    buf->len = 0;
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, buf, flags);
    rpb_json_value_write(&w, v);
    int rc = rpb_json_writer_finish(&w);
    FZ_CHECK(rc == RPB_OK, "writing a parsed tree: %s", rpb_errname(rc));
}

static void parse_checked(const uint8_t *text, size_t len, rpb_json_doc *doc, const char *what)
{
    rpb_errinfo err;
    int rc = rpb_json_parse((const char *)text, len, doc, &err);
    FZ_CHECK(rc == RPB_OK, "%s does not parse: %s at %zu: %.*s", what, err.message, err.offset,
             (int)(len < 200 ? len : 200), (const char *)text);
}

/* The writer round trip of a parsed tree. */
static void check_writer(const rpb_json_value *root)
{
    static const unsigned flag_sets[2] = {0, RPB_JSON_PRETTY};
    for (size_t k = 0; k < 2; k++) {
        rpb_buf first = {0}, second = {0};
        write_value(&first, root, flag_sets[k]);
        rpb_json_doc again;
        parse_checked(first.data, first.len, &again, "the writer's output");
        FZ_CHECK(rpb_json_equal(root, again.root) && rpb_json_equal(again.root, root),
                 "write then parse changes the value (%s)", k ? "pretty" : "compact");
        write_value(&second, again.root, flag_sets[k]);
        FZ_CHECK(first.len == second.len && memcmp(first.data, second.data, first.len) == 0,
                 "writing the re-parsed tree gives other text (%s)", k ? "pretty" : "compact");
        rpb_json_doc_free(&again);
        rpb_buf_free(&first);
        rpb_buf_free(&second);
    }
}

/* Writes msg as JSON into buf (emptied first); must succeed: every string
 * of a message from JSON or from rpb_decode is valid UTF-8. */
static void write_message(rpb_buf *buf, const rpb_msg_desc *desc, const void *msg)
{
    buf->len = 0;
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, buf, 0);
    int rc = rpb_json_write_message(&w, desc, msg);
    if (rc == RPB_OK)
        rc = rpb_json_writer_finish(&w);
    FZ_CHECK(rc == RPB_OK, "%s: rpb_json_write_message: %s", desc->name, rpb_errname(rc));
}

/* rpb_json_to_message() with an arena of rpb_arena_bound(text_len);
 * *arena_mem gets the arena to free. */
static int to_message(rpb_json_doc *doc, const rpb_msg_desc *desc, size_t text_len, void *msg,
                      void **arena_mem)
{
    size_t cap = rpb_arena_bound(text_len);
    *arena_mem = malloc(cap ? cap : 1);
    if (!*arena_mem)
        fz_fail("out of memory");
    rpb_arena arena;
    rpb_arena_init(&arena, *arena_mem, cap);
    rpb_errinfo err;
    int rc = rpb_json_to_message(doc, doc->root, desc, msg, &arena, &err);
    FZ_CHECK(rc != RPB_ERR_SCRATCH_EXHAUSTED, "%s: arena of rpb_arena_bound(%zu) exhausted",
             desc->name, text_len);
    FZ_CHECK(rc == RPB_OK || rc == RPB_ERR_INVALID_ARGUMENT, "%s: rpb_json_to_message: %s",
             desc->name, rpb_errname(rc));
    FZ_CHECK(rc == RPB_OK || (err.offset <= text_len && err.message[0]),
             "%s: mapping error without a reason or at offset %zu of %zu", desc->name, err.offset,
             text_len);
    return rc;
}

/* The mapping round trip of msg, which rpb_json_to_message() accepted. */
static void check_mapping(const rpb_msg_desc *desc, const void *msg)
{
    uint8_t *enc;
    size_t enc_len;
    fz_roundtrip(desc, msg, &enc, &enc_len);

    /* canonical bytes -> rpb_decode -> JSON: the same text as msg's JSON */
    void *decoded = malloc(desc->size), *decoded_arena;
    void *back = malloc(desc->size), *back_arena;
    if (!decoded || !back)
        fz_fail("out of memory");
    int rc = fz_decode(desc, enc, enc_len, decoded, 0, &decoded_arena);
    FZ_CHECK(rc == RPB_OK, "%s: rpb_decode of the canonical bytes: %s", desc->name,
             rpb_errname(rc));
    rpb_buf j1 = {0}, j2 = {0};
    write_message(&j1, desc, msg);
    write_message(&j2, desc, decoded);
    FZ_CHECK(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0,
             "%s: JSON of the message and of decode(encode(message)) differ:\n%s\n%s", desc->name,
             (const char *)j1.data, (const char *)j2.data);

    /* that JSON maps back to the same canonical bytes */
    rpb_json_doc doc;
    parse_checked(j2.data, j2.len, &doc, "rpb_json_write_message's output");
    rc = to_message(&doc, desc, j2.len, back, &back_arena);
    FZ_CHECK(rc == RPB_OK, "%s: its own JSON is not accepted: %s", desc->name, (const char *)j2.data);
    size_t len = rpb_encoded_len(desc, back), written = 0;
    uint8_t *enc2 = malloc(len ? len : 1);
    if (!enc2)
        fz_fail("out of memory");
    rc = rpb_encode(desc, back, enc2, len, &written);
    FZ_CHECK(rc == RPB_OK && written == enc_len && memcmp(enc2, enc, enc_len) == 0,
             "%s: JSON -> message -> JSON -> message changes the canonical bytes", desc->name);

    free(enc2);
    rpb_json_doc_free(&doc);
    rpb_buf_free(&j1);
    rpb_buf_free(&j2);
    free(back_arena);
    free(back);
    free(decoded_arena);
    free(decoded);
    free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const rpb_msg_desc *desc = fz_pick_message(data[0]);
    const uint8_t *text = data + 1;
    size_t len = size - 1;

    rpb_json_doc doc;
    rpb_errinfo err;
    memset(&err, 0, sizeof err);
    int rc = rpb_json_parse((const char *)text, len, &doc, &err);
    if (rc != RPB_OK) {
        FZ_CHECK(rc == RPB_ERR_INVALID_ARGUMENT, "rpb_json_parse: %s", rpb_errname(rc));
        FZ_CHECK(err.offset <= len && err.message[0] != '\0' &&
                     memchr(err.message, 0, sizeof err.message) != NULL,
                 "parse error at offset %zu of %zu without a reason", err.offset, len);
        FZ_CHECK(doc.root == NULL && doc.chunks == NULL, "failed parse leaves a doc");
        return 0;
    }
    FZ_CHECK(doc.root != NULL, "parsed doc without a root");
    check_tree(doc.root, len, 1);
    check_writer(doc.root);

    void *msg = malloc(desc->size), *arena;
    if (!msg)
        fz_fail("out of memory");
    if (to_message(&doc, desc, len, msg, &arena) == RPB_OK)
        check_mapping(desc, msg);
    free(arena);
    free(msg);
    rpb_json_doc_free(&doc);
    return 0;
}
