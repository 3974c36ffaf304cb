/*
 * rpb-client - sends one Hello (or one admin request) to a broker and
 * prints the decoded reply (README.md "rpb-client", spec/hello.md
 * HELLO-060..HELLO-069, ADMIN-*).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client_cli.h"
#include "rpb/admin.h"
#include "rpb/client.h"
#include "rpb/handoff.h"
#include "rpb/json.h"
#include "rpb/rpb.h"


static const char usage_text[] =
    "usage: rpb-client [--socket PATH] [--autostart [CMD]] --service NAME --wanted-version V [options]\n"
    "       rpb-client [--socket PATH] [--autostart [CMD]] --admin VERB [--json] [--service NAME]\n"
    "       rpb-client [--socket PATH] [--autostart [CMD]] --service NAME --wanted-version V --adopt\n"
    "                  [--ready-timeout MS] [--echo 0xNNNN] [--json]\n"
    "       rpb-client names [--service NAME] [--instance NAME]   (see names --help)\n"
    "       rpb-client probe --endpoint PATH ...   (see probe --help)\n"
    "       rpb-client --help | --version\n"
    "\n"
    "Sends one Hello (or one admin request) and prints the decoded reply.\n"
    "\n"
    "  --socket PATH         broker socket (default: the canonical shared socket of\n"
    "                        this user, see rpb-client names)\n"
    "  --autostart [CMD]     when no broker answers, start one (spec/discovery.md\n"
    "                        rendezvous: lock beside the socket, detached start, log\n"
    "                        in SOCKET.log) and wait until it answers.  CMD is split\n"
    "                        at blanks, {socket} replaced by the socket path; default\n"
    "                        'rpb-broker --socket {socket} --launch DIR --idle-exit\n"
    "                        600' (rpb-broker from this program's directory, else\n"
    "                        PATH; DIR $RUNNING_PROCESS_SERVICE_DEF_DIR, else\n"
    "                        $XDG_CONFIG_HOME/running-process/services, else\n"
    "                        ~/.config/running-process/services).  How the broker\n"
    "                        was reached is printed on stderr.\n"
    "  --service NAME        Hello.service_name (admin: AdminRequest.service_name)\n"
    "  --wanted-version V    Hello.wanted_version (also accepted: --version V)\n"
    "  --caps N              Hello.client_capabilities (default 0)\n"
    "  --keepalive S         Hello.client_keepalive_secs (default 0: broker picks 1800)\n"
    "  --client-version S    Hello.client_version (default empty)\n"
    "  --peer-pid N          Hello.peer_pid (default: this process's pid)\n"
    "  --request-id N        Frame.request_id (default 1)\n"
    "  --admin VERB          send an admin request instead: status, dump, list-instances,\n"
    "                        healthz, readyz, backend-health, config, diagnose, metrics,\n"
    "                        or a number\n"
    "  --connect             after a Negotiated, close the broker connection and\n"
    "                        connect to backend_pipe (a filesystem socket path),\n"
    "                        then close it: exit 0 only when the backend accepts\n"
    "  --adopt               reach the backend as rpb_connect_backend() does: the\n"
    "                        Hello with CAP_HANDLE_PASSING, then the broker\n"
    "                        connection itself when the broker hands it off to the\n"
    "                        backend and its handoff-ready frame checks out, else\n"
    "                        (silently) a new connection to backend_pipe; prints\n"
    "                        the route taken (handoff or reconnect); request_id 1\n"
    "  --ready-timeout MS    --adopt: wait this long for the handoff-ready frame\n"
    "                        (default 2000)\n"
    "  --echo 0xNNNN         --adopt: send one REQUEST on this payload protocol over\n"
    "                        the backend connection and require its echo (an\n"
    "                        rpb-backend --echo-protocol service)\n"
    "  --json                print the reply as JSON (admin: ask for JSON bodies;\n"
    "                        --adopt: with route and handoff_status)\n"
    "  --timeout MS          whole exchange deadline (default 5000)\n"
    "  --help                this text\n"
    "  --version             print rpb-client's version and exit\n"
    "\n"
    "Numbers are decimal, or hex after 0x.\n"
    "\n"
    "One Hello is sent and never retried: a refusal's retry_after_ms is printed\n"
    "for the caller to act on.\n"
    "\n"
    "Exit codes: 0 Negotiated (admin: the reply's exit_code); 1 transport error\n"
    "(with --autostart also: the broker could not be reached or started; with\n"
    "--connect or --adopt also: the backend could not be connected, or --echo\n"
    "was not echoed; the reason printed);\n"
    "2 usage; 3 malformed reply; 10 + ErrorCode for a Refused: 11 version\n"
    "unsupported, 12 service unknown, 13 backend spawn failed, 14 rate limited,\n"
    "15 shutting down, 16 peer rejected, 17 internal, 18 version blocked,\n"
    "19 fd pressure, 10 unspecified or unknown.\n";

/* A decimal number, or hex after 0x, up to max. */
static bool parse_number(const char *s, uint64_t max, uint64_t *out)
{
    return cli_parse_u64(s, CLI_DECIMAL_OR_HEX, max, out);
}

/* "list-instances" -> ADMIN_VERB_LIST_INSTANCES, or a number. */
static bool parse_verb(const char *s, int32_t *verb)
{
    uint64_t n;
    if (parse_number(s, INT32_MAX, &n)) {
        *verb = (int32_t)n;
        return true;
    }
    char name[64] = "ADMIN_VERB_";
    size_t off = strlen(name);
    for (size_t i = 0; s[i] && off < sizeof name - 1; i++)
        name[off++] = s[i] == '-' ? '_' : (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    name[off] = '\0';
    return rpb_enum_value_of(&rpb_admin_verb_enum, name, off, verb);
}

/* The usage error of an unknown --admin VERB, listing the verbs by name. */
static int unknown_verb(const char *s)
{
    /* ADMIN_VERB_LIST_INSTANCES -> list-instances; UNSPECIFIED is no verb */
    char names[512];
    size_t off = 0;
    for (size_t i = 0; i < rpb_admin_verb_enum.n_values; i++) {
        const char *name = rpb_admin_verb_enum.values[i].name + strlen("ADMIN_VERB_");
        if (rpb_admin_verb_enum.values[i].number == RPB_ADMIN_VERB_UNSPECIFIED)
            continue;
        if (off > 0 && off + 2 < sizeof names) {
            names[off++] = ',';
            names[off++] = ' ';
        }
        for (; *name && off + 1 < sizeof names; name++)
            names[off++] = *name == '_' ? '-' : (char)(*name >= 'A' && *name <= 'Z' ? *name + 32 : *name);
    }
    names[off] = '\0';
    return cli_usage_error(PROG, "unknown admin verb '%s': give one of %s, or a number", s, names);
}

static void print_slice(const char *label, rpb_slice s)
{
    printf("  %s: %.*s\n", label, (int)s.len, (const char *)s.data);
}

static void print_human(const rpb_hello_result *res)
{
    if (res->kind == RPB_HELLO_RESULT_NEGOTIATED) {
        const rpb_negotiated *n = &res->reply.negotiated;
        printf("negotiated\n");
        printf("  negotiated_protocol: %" PRIu32 "\n", n->negotiated_protocol);
        print_slice("daemon_version", n->daemon_version);
        print_slice("backend_pipe", n->backend_pipe);
        for (const rpb_str_node *w = n->warnings.head; w; w = w->next)
            print_slice("warning", w->value);
        printf("  server_capabilities: 0x%" PRIx64 "\n", n->server_capabilities);
        printf("  keepalive_interval_secs: %" PRIu64 "\n", n->keepalive_interval_secs);
        printf("  handle_passed_token: ");
        for (size_t i = 0; i < n->handle_passed_token.len; i++)
            printf("%02x", n->handle_passed_token.data[i]);
        printf("%s\n", n->handle_passed_token.len ? "" : "(none)");
        printf("  connection_id: %" PRIu64 "\n", n->connection_id);
    } else {
        const rpb_refused *r = &res->reply.refused;
        const char *code = rpb_enum_name(&rpb_error_code_enum, r->code);
        printf("refused (%s)\n", code ? code : "unknown code");
        printf("  code: %s (%" PRId32 ")\n", code ? code : "unknown", r->code);
        print_slice("reason", r->reason);
        printf("  retry_after_ms: %" PRIu64 "\n", r->retry_after_ms);
        printf("  daemon_protocol: %" PRIu32 "..%" PRIu32 "\n", r->daemon_min_protocol,
               r->daemon_max_protocol);
        for (const rpb_map_node *d = r->details.head; d; d = d->next)
            if (rpb_map_node_is_effective(d))
                printf("  detail: %.*s=%.*s\n", (int)d->key.len, (const char *)d->key.data,
                       (int)d->value.len, (const char *)d->value.data);
    }
    printf("  request_id: %" PRIu64 "\n", res->frame.request_id);
}

/* The reply as JSON; with --adopt (conn not NULL) also the route taken
 * and why an agreed handoff was not adopted ("ok" when it was, or none
 * was agreed). */
static void print_json(const rpb_hello_result *res, const rpb_backend_conn *conn)
{
    rpb_json_writer w;
    rpb_json_writer_init_file(&w, stdout, RPB_JSON_PRETTY);
    rpb_json_begin_object(&w);
    rpb_json_key(&w, "result");
    rpb_json_cstring(&w, rpb_hello_result_name(res->kind));
    rpb_json_key(&w, "request_id");
    rpb_json_uint(&w, res->frame.request_id);
    if (conn) {
        rpb_json_key(&w, "route");
        rpb_json_cstring(&w, rpb_backend_route_name(conn->route));
        rpb_json_key(&w, "handoff_status");
        rpb_json_cstring(&w, conn->handoff_status ? rpb_errname(conn->handoff_status) : "ok");
    }
    rpb_json_key(&w, "reply");
    rpb_json_write_message(&w, &rpb_hello_reply_desc, &res->reply);
    rpb_json_end_object(&w);
    rpb_json_writer_finish(&w);
    putchar('\n');
}

static int transport_error(const char *path, int rc)
{
    fprintf(stderr, PROG ": %s: %s%s%s\n", path, rpb_strerror(rc),
            rc == RPB_ERR_IO ? ": " : "", rc == RPB_ERR_IO ? strerror(errno) : "");
    return EXIT_TRANSPORT;
}

/* Whether rc says bytes came back that are not a valid reply: a framing
 * class other than the stream's end, a decoding or an envelope class
 * (wire.md section 5).  Those exit 3, the rest of an exchange's failures 1. */
static bool malformed_reply(int rc)
{
    return rc <= RPB_ERR_FRAMING_VERSION && rc > RPB_ERR_IO && rc != RPB_ERR_UNEXPECTED_EOF;
}

/* The exit status of a failed exchange with the broker (kind: "Hello" or
 * "admin"). */
static int exchange_error(const char *path, const char *kind, int rc)
{
    if (!malformed_reply(rc))
        return transport_error(path, rc);
    fprintf(stderr, PROG ": malformed %s reply: %s\n", kind, rpb_errname(rc));
    return EXIT_PROTOCOL;
}

static int run_admin(const client_target *t, int32_t verb, bool json, const char *service,
                     uint64_t request_id, int64_t deadline)
{
    uint8_t req[1024];
    size_t len;
    if (rpb_admin_request_encode(verb, json, rpb_slice_cstr(service), request_id, req, sizeof req,
                                 &len) != RPB_OK)
        return cli_usage_error(PROG, "--service NAME is longer than 256 bytes");
    rpb_buf reply = {0};
    int rc = client_exchange(t, req, len, deadline, &reply);
    if (rc != RPB_OK) {
        rpb_buf_free(&reply);
        return exchange_error(t->socket_path, "admin", rc);
    }
    rpb_frame frame;
    rpb_admin_reply ar;
    rc = rpb_admin_reply_decode(reply.data, reply.len, &frame, &ar);
    if (rc != RPB_OK) {
        fprintf(stderr, PROG ": malformed admin reply: %s\n", rpb_errname(rc));
        rpb_buf_free(&reply);
        return EXIT_PROTOCOL;
    }
    fwrite(ar.body.data, 1, ar.body.len, stdout);
    int status = (int)(ar.exit_code > 255 ? 255 : ar.exit_code);
    rpb_buf_free(&reply);
    return status;
}

/* HELLO-065: the Negotiated's backend_pipe could not be connected (rc,
 * errno kept): said on stderr, exit 1. */
static int backend_error(rpb_slice pipe, int rc)
{
    fprintf(stderr, PROG ": backend %.*s: %s%s%s\n", (int)pipe.len, (const char *)pipe.data,
            rc == RPB_ERR_INVALID_ARGUMENT
                ? "not a filesystem socket path (empty, with a NUL byte, or longer than sun_path holds)"
                : rpb_strerror(rc),
            rc == RPB_ERR_IO ? ": " : "", rc == RPB_ERR_IO ? strerror(errno) : "");
    return EXIT_TRANSPORT;
}

/* HELLO-065: the broker connection is already closed (client_exchange);
 * connect to backend_pipe as a filesystem path and close it again. */
static int connect_backend(const rpb_hello_result *res, int64_t deadline)
{
    rpb_slice pipe = res->reply.negotiated.backend_pipe;
    int fd = rpb_hello_connect_backend(res, deadline);
    if (fd < 0)
        return backend_error(pipe, fd);
    fprintf(stderr, PROG ": connected to backend %.*s\n", (int)pipe.len, (const char *)pipe.data);
    close(fd);
    return 0;
}

/* The exit status of a Hello's result: 0 Negotiated, else 10 + code. */
static int hello_status(const rpb_hello_result *res)
{
    int32_t code = res->code >= 0 && res->code <= RPB_CODE_FD_PRESSURE ? res->code : 0;
    return res->kind == RPB_HELLO_RESULT_NEGOTIATED ? 0 : EXIT_REFUSED_BASE + code;
}

/* HELLO-068: a Hello over the 64 KiB cap is a usage error, whatever the
 * route. */
static int hello_too_large(void) { return cli_usage_error(PROG, "the Hello does not fit the 64 KiB cap"); }

/* One Hello, never retried (HELLO-069): a refusal's code and
 * retry_after_ms are printed and become the exit status. */
static int run_hello(const client_target *t, const rpb_hello *hello, uint64_t request_id, bool json,
                     bool connect, int64_t deadline)
{
    static uint8_t req[RPB_FRAME_HEADER_BYTES + RPB_MAX_HELLO_BYTES];
    size_t len;
    if (rpb_hello_request_encode(hello, request_id, req, sizeof req, &len) != RPB_OK)
        return hello_too_large();
    rpb_buf reply = {0};
    int rc = client_exchange(t, req, len, deadline, &reply);
    if (rc != RPB_OK) {
        rpb_buf_free(&reply);
        return exchange_error(t->socket_path, "Hello", rc);
    }
    size_t arena_cap = rpb_arena_bound(reply.len);
    void *mem = malloc(arena_cap ? arena_cap : 1);
    rpb_arena arena;
    rpb_arena_init(&arena, mem, arena_cap);
    rpb_hello_result res;
    rc = mem ? rpb_hello_reply_classify(reply.data, reply.len, &arena, &res) : RPB_ERR_NO_MEMORY;
    int status;
    if (rc != RPB_OK) {
        fprintf(stderr, PROG ": malformed Hello reply: %s\n",
                rc == RPB_ERR_INVALID_ARGUMENT ? "HelloReply has no result" : rpb_errname(rc));
        status = EXIT_PROTOCOL;
    } else {
        if (json)
            print_json(&res, NULL);
        else
            print_human(&res);
        status = hello_status(&res);
        if (status == 0 && connect)
            status = connect_backend(&res, deadline);
    }
    free(mem);
    rpb_buf_free(&reply);
    return status;
}

/* --echo: one REQUEST on protocol over the backend connection fd, its
 * RESPONSE must carry the same request_id and payload (MUX-008). */
static int echo_check(int fd, uint32_t protocol, int64_t deadline)
{
    static const char text[] = "rpb-client --echo";
    rpb_frame ping = rpb_frame_request(protocol, rpb_slice_cstr(text)), f;
    ping.request_id = 1;
    rpb_buf body = {0};
    rpb_msg_init(&rpb_frame_desc, &f);
    int rc = rpb_write_frame_msg(fd, &ping, deadline);
    if (rc == RPB_OK)
        rc = rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, deadline, &body, NULL);
    if (rc == RPB_OK)
        rc = rpb_decode(&rpb_frame_desc, body.data, body.len, &f, NULL, 0, NULL);
    bool echoed = rc == RPB_OK && f.kind == RPB_FRAME_KIND_RESPONSE && f.request_id == 1 &&
                  f.payload_protocol == protocol && rpb_slice_eq_cstr(f.payload, text);
    rpb_buf_free(&body);
    if (!echoed) {
        fprintf(stderr, PROG ": backend did not echo on 0x%04" PRIx32 ": %s\n", protocol,
                rc != RPB_OK ? rpb_strerror(rc) : "a different reply");
        return EXIT_TRANSPORT;
    }
    fprintf(stderr, PROG ": echoed by the backend on 0x%04" PRIx32 "\n", protocol);
    return 0;
}

typedef struct adopt_call {
    const rpb_hello *hello;
    rpb_connect_options opt;
    rpb_backend_conn conn;
    bool connected; /* the broker was reached: adopt_on ran */
} adopt_call;

static int adopt_on(int fd, void *ctx, bool *no_reply)
{
    adopt_call *a = ctx;
    a->connected = true;
    rpb_backend_conn_free(&a->conn); /* an earlier attempt's (RDV-012) */
    rpb_errinfo err;
    int rc = rpb_connect_backend_fd(fd, a->hello, &a->opt, &a->conn, &err);
    int e = errno;
    *no_reply = !a->conn.replied && client_no_reply(rc, &err, e);
    errno = e;
    return rc;
}

/* --adopt: rpb_connect_backend_fd() (spec/handoff.md §6) on a connection
 * to the target; a failed handoff is silent (HANDOFF-052), only the route
 * printed says which was taken.  Failures before a reply is classified
 * are transport errors (exit 1) as for a plain Hello, a reply that does
 * not classify is malformed (exit 3). */
static int run_adopt(const client_target *t, const rpb_hello *hello, bool json, uint32_t ready_ms,
                     bool echo, uint32_t echo_protocol, int64_t deadline)
{
    /* the Hello as rpb_connect_backend_fd() sends it (HELLO-060), checked
     * against the cap first, so that too large is a usage error here too */
    static uint8_t req[RPB_FRAME_HEADER_BYTES + RPB_MAX_HELLO_BYTES];
    rpb_hello sent = *hello;
    sent.client_capabilities |= RPB_CAP_HANDLE_PASSING;
    size_t len;
    if (rpb_hello_request_encode(&sent, 1, req, sizeof req, &len) != RPB_OK)
        return hello_too_large();
    adopt_call a = {hello, {RPB_CONNECT_ADOPT, (int)ready_ms, deadline}, {.fd = -1}, false};
    int rc = client_call(t, deadline, adopt_on, &a);
    rpb_backend_conn *c = &a.conn;
    int status;
    if (rc != RPB_OK && c->replied) { /* a Negotiated, and backend_pipe's connect failed */
        if (json)
            print_json(&c->result, c);
        else
            print_human(&c->result);
        status = backend_error(c->result.reply.negotiated.backend_pipe, rc);
    } else if (rc != RPB_OK && !a.connected) { /* the rendezvous or the connect */
        status = transport_error(t->socket_path, rc);
    } else if (rc == RPB_ERR_INVALID_ARGUMENT) {
        fprintf(stderr, PROG ": malformed Hello reply: HelloReply has no result\n");
        status = EXIT_PROTOCOL;
    } else if (rc != RPB_OK) {
        status = exchange_error(t->socket_path, "Hello", rc);
    } else {
        if (json)
            print_json(&c->result, c);
        else
            print_human(&c->result);
        status = hello_status(&c->result);
        if (!json && status == 0)
            printf("  route: %s\n", rpb_backend_route_name(c->route));
        if (status == 0 && echo)
            status = echo_check(c->fd, echo_protocol, deadline);
    }
    if (c->fd >= 0)
        close(c->fd);
    rpb_backend_conn_free(c);
    return status;
}

enum { OPT_SOCKET = 256, OPT_SERVICE, OPT_VERSION, OPT_CAPS, OPT_KEEPALIVE, OPT_CLIENT_VERSION,
       OPT_PEER_PID, OPT_REQUEST_ID, OPT_ADMIN, OPT_JSON, OPT_TIMEOUT, OPT_HELP,
       OPT_PRINT_VERSION, OPT_AUTOSTART, OPT_CONNECT, OPT_ADOPT, OPT_READY_TIMEOUT, OPT_ECHO };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"service", required_argument, NULL, OPT_SERVICE},
        {"wanted-version", required_argument, NULL, OPT_VERSION},
        /* --version alone prints the version; followed by a value it is
         * the old spelling of --wanted-version */
        {"version", optional_argument, NULL, OPT_PRINT_VERSION},
        {"caps", required_argument, NULL, OPT_CAPS},
        {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
        {"client-version", required_argument, NULL, OPT_CLIENT_VERSION},
        {"peer-pid", required_argument, NULL, OPT_PEER_PID},
        {"request-id", required_argument, NULL, OPT_REQUEST_ID},
        {"admin", required_argument, NULL, OPT_ADMIN},
        {"json", no_argument, NULL, OPT_JSON},
        {"connect", no_argument, NULL, OPT_CONNECT},
        {"adopt", no_argument, NULL, OPT_ADOPT},
        {"ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT},
        {"echo", required_argument, NULL, OPT_ECHO},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, OPT_HELP},
        {"autostart", optional_argument, NULL, OPT_AUTOSTART},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *service = NULL, *version = NULL, *client_version = NULL;
    const char *admin = NULL, *autostart = NULL;
    uint64_t caps = 0, keepalive = 0, peer_pid = (uint64_t)getpid(), request_id = 1,
             timeout = 5000, ready_ms = RPB_HANDOFF_READY_TIMEOUT_MS, echo_protocol = 0;
    bool json = false, connect = false, adopt = false, echo = false;
    if (argc > 1 && strcmp(argv[1], "names") == 0)
        return rpb_client_names_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "probe") == 0)
        return probe_main(argc - 1, argv + 1);
    int c, index = 0;
    opterr = 0; /* usage errors are worded by cli_option_error */
    while ((c = getopt_long(argc, argv, ":", opts, &index)) != -1) {
        bool ok = true;
        switch (c) {
        case OPT_SOCKET: path = optarg; break;
        case OPT_SERVICE: service = optarg; break;
        case OPT_VERSION: version = optarg; break;
        case OPT_PRINT_VERSION:
            if (optarg == NULL && optind < argc && argv[optind][0] != '-')
                optarg = argv[optind++];
            if (optarg == NULL) {
                cli_print_version(PROG);
                return 0;
            }
            version = optarg;
            break;
        case OPT_CAPS: ok = parse_number(optarg, UINT64_MAX, &caps); break;
        case OPT_KEEPALIVE: ok = parse_number(optarg, UINT64_MAX, &keepalive); break;
        case OPT_CLIENT_VERSION: client_version = optarg; break;
        case OPT_PEER_PID: ok = parse_number(optarg, UINT32_MAX, &peer_pid); break;
        case OPT_REQUEST_ID: ok = parse_number(optarg, UINT64_MAX, &request_id); break;
        case OPT_ADMIN: admin = optarg; break;
        case OPT_JSON: json = true; break;
        case OPT_CONNECT: connect = true; break;
        case OPT_ADOPT: adopt = true; break;
        case OPT_READY_TIMEOUT:
            ok = parse_number(optarg, INT32_MAX - 1, &ready_ms) && ready_ms > 0;
            break;
        case OPT_ECHO:
            ok = strncmp(optarg, "0x", 2) == 0 && parse_number(optarg, UINT16_MAX, &echo_protocol);
            echo = true;
            break;
        case OPT_TIMEOUT: ok = parse_number(optarg, INT32_MAX - 1, &timeout) && timeout > 0; break;
        case OPT_HELP: fputs(usage_text, stdout); return 0;
        case OPT_AUTOSTART:
            /* --autostart=CMD, --autostart CMD (a word not starting with -), or none */
            if (optarg == NULL && optind < argc && argv[optind][0] != '-')
                optarg = argv[optind++];
            autostart = optarg ? optarg : "";
            break;
        default: return cli_option_error(PROG, c, argv);
        }
        if (!ok)
            return cli_usage_error(PROG, "--%s wants a decimal or 0x hex number in range, not '%s'",
                                   opts[index].name, optarg);
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    static char canonical[RPB_SUN_PATH_MAX];
    if (path == NULL) {
        rpb_names n;
        int rc = rpb_names_for_current_user(&n);
        if (rc == RPB_OK)
            rc = rpb_names_path(&n, RPB_NAME_SHARED, NULL, canonical, sizeof canonical);
        if (rc != RPB_OK) {
            fprintf(stderr, "rpb-client: no --socket, and no canonical socket name: %s\n", rpb_strerror(rc));
            return EXIT_TRANSPORT;
        }
        path = canonical;
    }
    if (adopt && (admin || connect))
        return cli_usage_error(PROG, "--adopt goes with neither --admin nor --connect");
    if (!adopt && echo)
        return cli_usage_error(PROG, "--echo needs --adopt");
    client_target target = {path, autostart};
    int64_t deadline = rpb_monotonic_ms() + (int64_t)timeout;
    if (admin != NULL) {
        int32_t verb;
        if (!parse_verb(admin, &verb))
            return unknown_verb(admin);
        return run_admin(&target, verb, json, service ? service : "", request_id, deadline);
    }
    if (service == NULL || version == NULL)
        return cli_usage_error(PROG, "--service NAME and --wanted-version V are required");
    rpb_hello hello;
    rpb_hello_init(&hello, service, version, (uint32_t)peer_pid);
    hello.client_capabilities = caps;
    hello.client_keepalive_secs = keepalive;
    if (client_version)
        hello.client_version = rpb_slice_cstr(client_version);
    if (adopt)
        return run_adopt(&target, &hello, json, (uint32_t)ready_ms, echo, (uint32_t)echo_protocol,
                         deadline);
    return run_hello(&target, &hello, request_id, json, connect, deadline);
}
