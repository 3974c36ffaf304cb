/*
 * json_parse.c - strict RFC 8259 parser building a DOM in doc memory.
 *
 * Recursive descent; recursion is bounded by RPB_JSON_MAX_DEPTH.  Strings
 * are unescaped into doc memory with their length kept, so "\u0000"
 * survives.  Integers without fraction or exponent are kept exactly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_internal.h"
#include "../core/mem.h"

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos;
    rpb_json_doc *doc;
    rpb_errinfo *err;
    int status; /* RPB_ERR_INVALID_ARGUMENT or RPB_ERR_NO_MEMORY once failed */
} parser;

static int fail(parser *p, size_t offset, const char *what)
{
    if (p->status == RPB_OK) {
        p->status = RPB_ERR_INVALID_ARGUMENT;
        rpb_errinfo_printf(p->err, RPB_ERR_INVALID_ARGUMENT, offset, 0, "%s", what);
    }
    return p->status;
}

static int out_of_memory(parser *p)
{
    if (p->status == RPB_OK) {
        p->status = RPB_ERR_NO_MEMORY;
        rpb_errinfo_printf(p->err, RPB_ERR_NO_MEMORY, p->pos, 0, "out of memory");
    }
    return p->status;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* Reads the 4 hex digits of a \u escape at p->pos. */
static int read_u4(parser *p, unsigned *out)
{
    if (p->len - p->pos < 4)
        return fail(p, p->pos, "truncated \\u escape");
    uint8_t be[2];
    size_t n;
    if (rpb_hex_decode(p->s + p->pos, 4, be, sizeof be, &n) != RPB_OK)
        return fail(p, p->pos + n, "invalid hex digit in \\u escape");
    p->pos += 4;
    *out = (unsigned)be[0] << 8 | be[1];
    return RPB_OK;
}

static size_t put_utf8(uint8_t *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes one escape after the backslash at p->pos into o; returns the
 * number of bytes written, 0 on error. */
static size_t unescape(parser *p, uint8_t *o)
{
    size_t at = p->pos - 1;
    char c = p->s[p->pos++];
    switch (c) {
    case '"': *o = '"'; return 1;
    case '\\': *o = '\\'; return 1;
    case '/': *o = '/'; return 1;
    case 'b': *o = '\b'; return 1;
    case 'f': *o = '\f'; return 1;
    case 'n': *o = '\n'; return 1;
    case 'r': *o = '\r'; return 1;
    case 't': *o = '\t'; return 1;
    case 'u': break;
    default: fail(p, at, "invalid escape"); return 0;
    }
    unsigned cp;
    if (read_u4(p, &cp) != RPB_OK)
        return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail(p, at, "lone low surrogate escape");
        return 0;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned lo;
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
            fail(p, at, "high surrogate escape not followed by a low one");
            return 0;
        }
        p->pos += 2;
        if (read_u4(p, &lo) != RPB_OK)
            return 0;
        if (lo < 0xDC00 || lo > 0xDFFF) {
            fail(p, at, "high surrogate escape not followed by a low one");
            return 0;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return put_utf8(o, cp);
}

/* Parses the string whose opening quote is at p->pos into *out. */
static int parse_string(parser *p, rpb_slice *out)
{
    size_t start = p->pos++;
    size_t end = p->pos;
    /* Find the closing quote first: the unescaped text is never longer
     * than the raw text (an escape of n chars yields fewer than n bytes). */
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len)
        return fail(p, start, "unterminated string");
    uint8_t *o = rpb_json_doc_alloc(p->doc, end - p->pos + 1);
    if (o == NULL)
        return out_of_memory(p);
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20)
            return fail(p, p->pos, "unescaped control character in string");
        p->pos++;
        if (c == '\\') {
            size_t k = unescape(p, o + n);
            if (k == 0)
                return p->status;
            n += k;
        } else {
            o[n++] = c;
        }
    }
    p->pos = end + 1;
    /* Escapes always produce whole sequences, so validating the result
     * validates every raw run as well. */
    if (!rpb_utf8_valid(o, n))
        return fail(p, start, "string is not valid UTF-8");
    o[n] = '\0';
    out->data = o;
    out->len = n;
    return RPB_OK;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(parser *p, rpb_json_value *v)
{
    size_t start = p->pos;
    bool negative = false;
    if (p->s[p->pos] == '-') {
        negative = true;
        p->pos++;
    }
    if (p->pos >= p->len || !is_digit(p->s[p->pos]))
        return fail(p, start, "invalid number");
    bool overflow = false;
    uint64_t mag = 0;
    if (p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(p->s[p->pos]))
            return fail(p, start, "leading zero in number");
    } else {
        while (p->pos < p->len && is_digit(p->s[p->pos])) {
            unsigned d = (unsigned)(p->s[p->pos++] - '0');
            if (mag > (UINT64_MAX - d) / 10)
                overflow = true;
            else
                mag = mag * 10 + d;
        }
    }
    bool integral = true;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        integral = false;
        p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos]))
            return fail(p, start, "digit expected after decimal point");
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = false;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos]))
            return fail(p, start, "digit expected in exponent");
        while (p->pos < p->len && is_digit(p->s[p->pos]))
            p->pos++;
    }
    if (integral && !overflow && (!negative || mag <= (uint64_t)INT64_MAX + 1u)) {
        v->type = RPB_JSON_INTEGER;
        v->u.integer.negative = negative && mag != 0; /* -0 is 0 */
        v->u.integer.magnitude = mag;
        return RPB_OK;
    }
    /* strtod needs a NUL-terminated copy of the token. */
    size_t n = p->pos - start;
    char *tmp = rpb_mem_malloc(n + 1);
    if (tmp == NULL)
        return out_of_memory(p);
    memcpy(tmp, p->s + start, n);
    tmp[n] = '\0';
    double d = strtod(tmp, NULL);
    rpb_mem_free(tmp);
    if (!isfinite(d))
        return fail(p, start, "number out of range");
    v->type = RPB_JSON_REAL;
    v->u.real = d;
    return RPB_OK;
}

static int parse_literal(parser *p, const char *word, rpb_json_value *v)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, p->pos, "invalid literal");
    p->pos += n;
    if (word[0] == 'n') {
        v->type = RPB_JSON_NULL;
    } else {
        v->type = RPB_JSON_BOOL;
        v->u.boolean = word[0] == 't';
    }
    return RPB_OK;
}

static int parse_value(parser *p, unsigned depth, rpb_json_value **out);

/* Appends child to the container v (keeping a tail pointer in *tail). */
static void append(rpb_json_value *v, rpb_json_value **tail, rpb_json_value *child)
{
    if (*tail == NULL)
        v->u.children.head = child;
    else
        (*tail)->next = child;
    *tail = child;
    v->u.children.count++;
}

/* Parses an array or object (opening bracket at p->pos) at depth. */
static int parse_container(parser *p, unsigned depth, rpb_json_value *v)
{
    bool is_object = p->s[p->pos] == '{';
    char close = is_object ? '}' : ']';
    if (depth > RPB_JSON_MAX_DEPTH)
        return fail(p, p->pos, "nesting deeper than RPB_JSON_MAX_DEPTH levels");
    v->type = is_object ? RPB_JSON_OBJECT : RPB_JSON_ARRAY;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return RPB_OK;
    }
    rpb_json_value *tail = NULL;
    for (;;) {
        rpb_slice key = {0};
        if (is_object) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, p->pos, "member name expected");
            if (parse_string(p, &key) != RPB_OK)
                return p->status;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, p->pos, "':' expected");
            p->pos++;
            skip_ws(p);
        }
        rpb_json_value *child;
        if (parse_value(p, depth + 1, &child) != RPB_OK)
            return p->status;
        child->key = key;
        append(v, &tail, child);
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, p->pos, is_object ? "unterminated object" : "unterminated array");
        char c = p->s[p->pos++];
        if (c == close)
            return RPB_OK;
        if (c != ',')
            return fail(p, p->pos - 1, is_object ? "',' or '}' expected" : "',' or ']' expected");
        skip_ws(p);
    }
}

/* Parses the value at p->pos (whitespace already skipped); depth is the
 * nesting level a container starting here would have. */
static int parse_value(parser *p, unsigned depth, rpb_json_value **out)
{
    if (p->pos >= p->len)
        return fail(p, p->pos, "value expected");
    rpb_json_value *v = rpb_json_doc_alloc(p->doc, sizeof *v);
    if (v == NULL)
        return out_of_memory(p);
    memset(v, 0, sizeof *v);
    v->offset = p->pos;
    *out = v;
    char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[':
        return parse_container(p, depth, v);
    case '"':
        v->type = RPB_JSON_STRING;
        return parse_string(p, &v->u.string);
    case 't':
        return parse_literal(p, "true", v);
    case 'f':
        return parse_literal(p, "false", v);
    case 'n':
        return parse_literal(p, "null", v);
    default:
        if (c == '-' || is_digit(c))
            return parse_number(p, v);
        return fail(p, p->pos, "unexpected character");
    }
}

int rpb_json_parse(const char *text, size_t len, rpb_json_doc *doc, rpb_errinfo *err)
{
    if (doc == NULL || (text == NULL && len > 0))
        return rpb_errinfo_printf(err, RPB_ERR_INVALID_ARGUMENT, 0, 0, "invalid argument");
    doc->root = NULL;
    doc->chunks = NULL;
    parser p = {.s = text, .len = len, .doc = doc, .err = err, .status = RPB_OK};
    rpb_json_value *root = NULL;
    skip_ws(&p);
    if (parse_value(&p, 1, &root) == RPB_OK) {
        skip_ws(&p);
        if (p.pos != p.len)
            fail(&p, p.pos, "trailing characters after the value");
    }
    if (p.status != RPB_OK) {
        rpb_json_doc_free(doc);
        return p.status;
    }
    doc->root = root;
    return RPB_OK;
}
