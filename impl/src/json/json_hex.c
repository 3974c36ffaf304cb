/*
 * json_hex.c - hex text, the JSON encoding of bytes fields.
 */
#include "rpb/json.h"

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int rpb_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap, size_t *written)
{
    *written = 0;
    for (size_t i = 0; i < len; i++) {
        if (nibble(hex[i]) < 0) {
            *written = i;
            return RPB_ERR_INVALID_ARGUMENT;
        }
    }
    if (len % 2 != 0) {
        *written = len;
        return RPB_ERR_INVALID_ARGUMENT;
    }
    if (len / 2 > cap) {
        *written = len / 2; /* the size needed (rpb/error.h) */
        return RPB_ERR_BUFFER_TOO_SMALL;
    }
    for (size_t i = 0; i < len / 2; i++)
        out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    *written = len / 2;
    return RPB_OK;
}

void rpb_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xF];
    }
    out[2 * len] = '\0';
}
