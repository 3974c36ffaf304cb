/*
 * error.c - names, sentences and requirement IDs of the rpb_status codes.
 */
#include <string.h>

#include "rpb/error.h"

typedef struct error_entry {
    int code;
    const char *name;
    const char *requirement;
    const char *text;
} error_entry;

static const error_entry error_table[] = {
    {RPB_OK, "ok", NULL, "success"},
    {RPB_NEED_MORE, "need-more", "FRAME-009", "more input is needed to decide"},
    {RPB_ERR_FRAMING_VERSION, "framing-version", "FRAME-001", "unsupported framing version byte"},
    {RPB_ERR_FRAME_TOO_LARGE, "frame-too-large", "FRAME-003", "frame body length exceeds the cap"},
    {RPB_ERR_UNEXPECTED_EOF, "unexpected-eof", "FRAME-007", "stream ended inside a frame"},
    {RPB_ERR_INVALID_VARINT, "invalid-varint", "WIRE-005", "invalid varint"},
    {RPB_ERR_INVALID_KEY, "invalid-key", "WIRE-002", "field key above 2^32-1"},
    {RPB_ERR_INVALID_TAG, "invalid-tag", "WIRE-003", "field number 0"},
    {RPB_ERR_INVALID_WIRE_TYPE, "invalid-wire-type", "WIRE-004", "wire type 6 or 7"},
    {RPB_ERR_WIRE_TYPE_MISMATCH, "wire-type-mismatch", "WIRE-008",
     "known field sent with the wrong wire type"},
    {RPB_ERR_BUFFER_UNDERFLOW, "buffer-underflow", "WIRE-010",
     "length or fixed-width value runs past the end of the input"},
    {RPB_ERR_DELIMITED_OVERRUN, "delimited-overrun", "WIRE-011",
     "nested field runs past the end of its enclosing message"},
    {RPB_ERR_INVALID_UTF8, "invalid-utf8", "WIRE-012", "string field is not valid UTF-8"},
    {RPB_ERR_GROUP_MISMATCH, "group-mismatch", "WIRE-015",
     "end-group tag without a matching start-group"},
    {RPB_ERR_RECURSION_LIMIT, "recursion-limit", "WIRE-016", "recursion limit of 100 reached"},
    {RPB_ERR_ENVELOPE_VERSION, "envelope-version", "ENV-001", "frame envelope_version is not v1"},
    {RPB_ERR_ENVELOPE_KIND, "envelope-kind", "ENV-002", "frame kind is not the expected kind"},
    {RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL, "envelope-payload-protocol", "ENV-003",
     "frame payload_protocol is not the expected protocol"},
    {RPB_ERR_ENVELOPE_PAYLOAD_ENCODING, "envelope-payload-encoding", "ENV-004",
     "frame payload is compressed"},
    {RPB_ERR_ENVELOPE_REQUEST_ID, "envelope-request-id", "ENV-009",
     "frame request_id does not match the request"},
    {RPB_ERR_IO, "io", NULL, "I/O error (see errno)"},
    {RPB_ERR_TIMEOUT, "timeout", "FRAME-010", "deadline passed"},
    {RPB_ERR_INVALID_ARGUMENT, "invalid-argument", NULL, "invalid argument"},
    {RPB_ERR_BUFFER_TOO_SMALL, "buffer-too-small", NULL, "output buffer too small"},
    {RPB_ERR_NO_MEMORY, "no-memory", NULL, "out of memory"},
    {RPB_ERR_SCRATCH_EXHAUSTED, "scratch-exhausted", NULL, "decode scratch arena exhausted"},
};

#define ERROR_TABLE_LEN (sizeof error_table / sizeof error_table[0])

static const error_entry *find_code(int code)
{
    for (size_t i = 0; i < ERROR_TABLE_LEN; i++)
        if (error_table[i].code == code)
            return &error_table[i];
    return NULL;
}

const char *rpb_strerror(int code)
{
    const error_entry *e = find_code(code);
    return e ? e->text : "unknown error";
}

const char *rpb_errname(int code)
{
    const error_entry *e = find_code(code);
    return e ? e->name : NULL;
}

const char *rpb_err_requirement(int code)
{
    const error_entry *e = find_code(code);
    return e ? e->requirement : NULL;
}

int rpb_err_from_name(const char *name)
{
    for (size_t i = 0; i < ERROR_TABLE_LEN; i++)
        if (error_table[i].code < 0 && strcmp(error_table[i].name, name) == 0)
            return error_table[i].code;
    return 0;
}
