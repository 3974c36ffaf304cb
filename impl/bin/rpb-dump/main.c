/*
 * rpb-dump - decode one v1 frame (or a bare Frame body, or a bare message)
 * to JSON, or encode such a JSON document back to bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dump.h"

#define PROG "rpb-dump"

static void usage(FILE *f)
{
    fputs(
        "usage: rpb-dump [OPTIONS] [FILE]\n"
        "       rpb-dump --encode [OPTIONS] [FILE]\n"
        "       rpb-dump --help | --version\n"
        "\n"
        "Decodes one v1 frame read from FILE (default: stdin) or given as --hex\n"
        "STRING, and prints it as JSON.  With --encode, reads such a JSON document\n"
        "and writes the bytes; dump and encode round-trip byte for byte.  A framed\n"
        "stdin is read as a stream: exactly the first frame, judged from its header\n"
        "before the body is read; FILE and --hex input is read whole (bytes after\n"
        "the first frame are reported on stderr and ignored).\n"
        "\n"
        "Input:\n"
        "  --hex STRING       decode: the input bytes as hex (spaces allowed); --hex -\n"
        "                     reads the hex from stdin, so `--encode --hex` output\n"
        "                     pipes back: rpb-dump --encode --hex < f.json | rpb-dump --hex -\n"
        "                     encode: --hex takes no argument and writes hex output\n"
        "  --body             the input is a bare Frame body (no 5-byte header)\n"
        "  --message NAME     the input is a bare message body of type NAME: Frame,\n"
        "                     Hello, HelloReply, Negotiated, Refused, HandoffOffer,\n"
        "                     HandoffAck, Endpoint, DaemonProcess, HostIdentity,\n"
        "                     ServiceDefinition, AdminRequest, AdminReply\n"
        "  --cap N            body-length cap of the framing header (default 16777216)\n"
        "  --hello-cap        the first-Hello cap, 65536\n"
        "  --strict-map-wire-type  reject map entries whose key is not wire type 2\n"
        "  --envelope SITE    also validate the envelope as SITE does: hello,\n"
        "                     hello-reply, admin-request, admin-reply, probe-request,\n"
        "                     probe-response, handoff-offer, handoff-ack, handoff-ready\n"
        "  --request-id N     the request_id probe-response / handoff-ack expect\n"
        "                     (numbers: decimal, or hex after 0x)\n"
        "Output:\n"
        "  --pretty           indented JSON (default: one compact line)\n"
        "  --encode           JSON in, bytes out (raw; --hex for hex)\n"
        "  --help             this text\n"
        "  --version          print the version and exit\n"
        "\n"
        "Framed output (--body: the same without \"framing\"):\n"
        "  {\"framing\":{\"version\":1,\"body_length\":N},\n"
        "   \"frame\":{...Frame...},\n"
        "   \"envelope\":{\"site\":S,\"result\":\"ok\"}            with --envelope, or\n"
        "   \"envelope\":{\"site\":S,\"error\":CLASS,\"requirement\":ID},\n"
        "   \"payload_message\":NAME, \"payload\":{...}  or  \"payload_error\":{...}}\n"
        "The payload is decoded when payload_encoding is NONE (and, with\n"
        "--envelope, only when the envelope passes) for these payload protocols:\n"
        "  0x0000 REQUEST Hello, RESPONSE HelloReply\n"
        "  0xAD01 REQUEST AdminRequest, RESPONSE AdminReply\n"
        "  0xD0FF REQUEST HandoffOffer, RESPONSE and EVENT HandoffAck\n"
        "  0xB232 REQUEST probe-request {\"nonce\":HEX} (32 bytes),\n"
        "         RESPONSE probe-response {\"nonce\":HEX,\"daemon_process\":{...}}\n"
        "         (32 nonce bytes followed by a DaemonProcess)\n"
        "payload_error is {\"class\":CLASS,\"requirement\":ID,\"offset\":N} with the\n"
        "offset counted from the first payload byte (and a \"message\" when a probe\n"
        "payload is too short or long for its 32-byte nonce).  --message prints the\n"
        "bare message object.\n"
        "\n"
        "Messages: objects keyed by proto field names; every singular field present\n"
        "(defaults included); uint64 as exact integers; enums by value name (or the\n"
        "integer when unnamed); bytes as lowercase hex; repeated string as an array;\n"
        "maps as objects; presence fields (DaemonProcess.ipc_endpoint,\n"
        "idle_timeout_secs) and the HelloReply oneof arm only when set.\n"
        "\n"
        "On a decoding failure the output is {\"error\":CLASS,\"requirement\":ID,\n"
        "\"offset\":N}, the offset counted from the first input byte; for a\n"
        "truncated or oversized frame stderr also names the announced and the\n"
        "available (or allowed) length.  Input that is not the canonical encoding\n"
        "of what it decodes to (unknown fields, which JSON does not keep, repeated\n"
        "scalars, long varints) gets a note on stderr: --encode of the JSON gives\n"
        "other bytes.\n"
        "\n"
        "Encoding takes the same document.  Missing fields are defaults, enums\n"
        "accept names or integers.  When \"payload\" is given and frame.payload is\n"
        "absent or empty, the payload is encoded into frame.payload (its type from\n"
        "payload_message, else from the table above); a non-empty frame.payload is\n"
        "kept as is.  \"framing\" is checked (version 1, body_length equal to the\n"
        "encoded body); \"envelope\" and \"payload_error\" are ignored.\n"
        "\n"
        "Exit status: 0 ok, 1 the input did not decode (or encode), the payload did\n"
        "not decode, or the envelope check failed; 2 usage error or unreadable\n"
        "input.\n",
        f);
}

/* An input that cannot be read (exit 2, no usage hint). */
static int input_error(const char *what, const char *why)
{
    fprintf(stderr, PROG ": %s: %s\n", what, why);
    return DUMP_EXIT_USAGE;
}

/* Reads all of f into a malloc'd buffer. */
static bool read_all(FILE *f, uint8_t **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (buf == NULL || ferror(f)) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = n;
    return true;
}

/* Decodes the hex text s[0..n) (ASCII whitespace ignored) into a malloc'd
 * buffer; false with a usage error printed when it is not hex. */
static bool hex_text(const char *s, size_t n, uint8_t **out, size_t *len)
{
    char *digits = calloc(n + 1, 1);
    uint8_t *bytes = malloc(n / 2 + 1);
    if (digits == NULL || bytes == NULL) {
        free(digits);
        free(bytes);
        input_error("hex input", "out of memory");
        return false;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (memchr(" \t\r\n", s[i], 4) == NULL)
            digits[k++] = s[i];
    size_t at;
    int rc = rpb_hex_decode(digits, k, bytes, n / 2 + 1, &at);
    if (rc == RPB_OK) {
        free(digits);
        *out = bytes;
        *len = at;
        return true;
    }
    if (at < k)
        cli_usage_error(PROG, "--hex: '%c' (hex digit %zu) is not a hex digit", digits[at], at + 1);
    else
        cli_usage_error(PROG, "--hex: %zu hex digits, an odd number: the last byte is incomplete", k);
    free(digits);
    free(bytes);
    return false;
}

/*
 * Framed input on stdin is read as a stream: one frame and not a byte more,
 * the framing byte and the cap judged from the header before any body byte
 * is read (FRAME-001, FRAME-005), so `rpb-dump < stream` shows the first
 * frame of a longer stream and never waits for the body of a refused one.
 */
static int read_stdin_frame(const dump_options *opt)
{
    rpb_buf body = {0};
    rpb_errinfo ei = {0};
    int rc = rpb_read_frame(STDIN_FILENO, opt->cap, RPB_NO_DEADLINE, &body, &ei);
    if (rc == RPB_ERR_IO || rc == RPB_ERR_NO_MEMORY) {
        rpb_buf_free(&body);
        return input_error("cannot read stdin", rc == RPB_ERR_IO ? strerror(errno) : rpb_strerror(rc));
    }
    if (rc != RPB_OK) {
        rpb_buf_free(&body);
        return dump_print_error(opt, stdout, rc, ei.offset);
    }
    rc = dump_frame_body(opt, (rpb_slice){body.data, body.len}, stdout);
    rpb_buf_free(&body);
    return rc;
}

int main(int argc, char **argv)
{
    dump_options opt = {.mode = MODE_FRAMED, .cap = RPB_MAX_FRAME_BYTES};
    bool encode = false;
    const char *hex = NULL, *path = NULL;

    /* --hex takes an argument only when decoding */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--encode") == 0)
            encode = true;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return DUMP_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            cli_print_version(PROG);
            return DUMP_EXIT_OK;
        } else if (strcmp(a, "--encode") == 0) {
            continue;
        } else if (strcmp(a, "--pretty") == 0) {
            opt.json_flags |= RPB_JSON_PRETTY;
        } else if (strcmp(a, "--body") == 0) {
            opt.mode = MODE_BODY;
        } else if (strcmp(a, "--hello-cap") == 0) {
            opt.cap = RPB_MAX_HELLO_BYTES;
        } else if (strcmp(a, "--strict-map-wire-type") == 0) {
            opt.decode_options |= RPB_DECODE_STRICT_MAP_WIRE_TYPE;
        } else if (strcmp(a, "--hex") == 0 && encode) {
            opt.hex_output = true;
        } else if (next == NULL && (strcmp(a, "--hex") == 0 || strcmp(a, "--cap") == 0 ||
                                    strcmp(a, "--message") == 0 ||
                                    strcmp(a, "--envelope") == 0 ||
                                    strcmp(a, "--request-id") == 0)) {
            return cli_usage_error(PROG, "%s needs an argument", a);
        } else if (strcmp(a, "--hex") == 0) {
            hex = argv[++i];
        } else if (strcmp(a, "--cap") == 0) {
            if (!cli_parse_u64(next, CLI_DECIMAL_OR_HEX, RPB_MAX_FRAME_BYTES, &v))
                return cli_usage_error(PROG, "--cap wants a number up to 16777216, not '%s'", next);
            opt.cap = (uint32_t)v;
            i++;
        } else if (strcmp(a, "--message") == 0) {
            opt.mode = MODE_MESSAGE;
            opt.message = rpb_msg_by_name(next);
            if (opt.message == NULL)
                return cli_usage_error(PROG, "unknown message '%s'", next);
            i++;
        } else if (strcmp(a, "--envelope") == 0) {
            opt.check_envelope = true;
            opt.site = rpb_site_from_name(next);
            if (opt.site == RPB_SITE_COUNT)
                return cli_usage_error(PROG, "unknown site '%s'", next);
            i++;
        } else if (strcmp(a, "--request-id") == 0) {
            if (!cli_parse_u64(next, CLI_DECIMAL_OR_HEX, UINT64_MAX, &opt.request_id))
                return cli_usage_error(PROG, "--request-id wants an unsigned integer, not '%s'", next);
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage_error(PROG, "unknown option '%s'", a);
        } else if (path != NULL) {
            return cli_usage_error(PROG, "more than one input file ('%s')", a);
        } else {
            path = a;
        }
    }
    if (hex != NULL && path != NULL)
        return cli_usage_error(PROG, "give either --hex or FILE, not both");
    if (opt.check_envelope && (opt.mode == MODE_MESSAGE || encode))
        return cli_usage_error(PROG, "--envelope needs a Frame to decode");

    uint8_t *in = NULL;
    size_t len = 0;
    if (!encode && opt.mode == MODE_FRAMED && hex == NULL && path == NULL)
        return read_stdin_frame(&opt);
    bool hex_stdin = hex != NULL && strcmp(hex, "-") == 0;
    if (hex != NULL && !hex_stdin) {
        if (!hex_text(hex, strlen(hex), &in, &len))
            return DUMP_EXIT_USAGE;
    } else {
        FILE *f = path != NULL ? fopen(path, "rb") : stdin;
        if (f == NULL)
            return input_error(path, strerror(errno));
        bool ok = read_all(f, &in, &len);
        int read_errno = errno;
        if (f != stdin)
            fclose(f);
        if (!ok)
            return input_error(path != NULL ? path : "stdin", strerror(read_errno));
        if (hex_stdin) {
            uint8_t *text = in;
            bool hex_ok = hex_text((const char *)text, len, &in, &len);
            free(text);
            if (!hex_ok)
                return DUMP_EXIT_USAGE;
        }
    }
    int rc = encode ? dump_encode(&opt, (const char *)in, len, stdout)
                    : dump_decode(&opt, in, len, stdout);
    free(in);
    return rc;
}
