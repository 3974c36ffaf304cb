/*
 * rpb-backend - the reference backend of the running-process broker v1
 * protocol: answers identity probes (spec/probe.md), serves an optional
 * echo protocol, writes its identity sidecar (README.md, rpb-backend).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"

static const char usage_text[] =
    "usage: rpb-backend --socket PATH [options]\n"
    "       rpb-backend --help | --version\n"
    "\n"
    "Reference backend: answers identity probes (payload protocol 0xB232) on a\n"
    "private Unix socket, serves an optional echo protocol, writes its identity\n"
    "sidecar (spec/probe.md) and, with --handoff-socket, adopts connections a\n"
    "broker hands off (spec/handoff.md).\n"
    "\n"
    "  --socket PATH          the socket to create (directory 0700, socket 0600;\n"
    "                         a stale socket is replaced, a live one refused);\n"
    "                         default: $RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE, set\n"
    "                         by a broker that launched this backend\n"
    "  --identity-file PATH   write the identity sidecar JSON there at start\n"
    "                         (mode 0600), remove it on exit\n"
    "  --namespace ID         Endpoint.namespace_id of the identity (default\n"
    "                         $RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE, else empty)\n"
    "  --idle-timeout S       DaemonProcess.idle_timeout_secs; the backend exits 0\n"
    "                         after S seconds without a connection (0: never)\n"
    "  --echo-protocol 0xNNNN serve this payload protocol: every REQUEST on it is\n"
    "                         answered with a RESPONSE carrying the same payload\n"
    "  --frame-timeout MS     deadline for each next frame of a connection and for\n"
    "                         writing its replies (default 5000)\n"
    "  --max-connections N    open connections at most (default 1024)\n"
    "  --bind-delay MS        wait MS before creating the socket (to test a broker's\n"
    "                         readiness wait for a slow backend)\n"
    "  --handoff-socket PATH  also receive handed-off connections there (created as\n"
    "                         --socket is): the broker passes a client connection\n"
    "                         with a token and an offer, the backend acknowledges\n"
    "                         and serves it (spec/handoff.md)\n"
    "  --handoff-timeout MS   deadline for a handoff connection's whole exchange:\n"
    "                         descriptor, offer and ACK (default 5000)\n"
    "  --log FILE|-           append the log to FILE, or stdout with -; default stderr\n"
    "  --json-log             one JSON object per log line\n"
    "  --help                 this text\n"
    "  --version              print the version and exit\n"
    "\n"
    "Exit codes: 0 SIGTERM/SIGINT or idle timeout (socket and sidecar removed);\n"
    "1 runtime failure; 2 usage; 4 socket path or directory unusable or in use;\n"
    "5 own identity unreadable or sidecar not written.\n";

#define PROG "rpb-backend"

/* A payload protocol: 0x followed by 1..4 hex digits, not first-party. */
static bool parse_protocol(const char *s, uint32_t *out)
{
    if (strncmp(s, "0x", 2) != 0 || s[2] == '\0' || strlen(s) > 6 ||
        strspn(s + 2, "0123456789abcdefABCDEF") != strlen(s + 2))
        return false;
    *out = (uint32_t)strtoul(s + 2, NULL, 16);
    return *out != RPB_PP_CONTROL && *out != RPB_PP_ADMIN && *out != RPB_PP_PROBE &&
           *out != RPB_PP_HANDOFF;
}

enum { OPT_SOCKET = 256, OPT_IDENTITY, OPT_NAMESPACE, OPT_IDLE, OPT_ECHO, OPT_FRAME_TIMEOUT,
       OPT_MAXCONN, OPT_LOG, OPT_JSON, OPT_HELP, OPT_VERSION, OPT_BIND_DELAY, OPT_HANDOFF,
       OPT_HANDOFF_TIMEOUT };

int main(int argc, char **argv)
{
    /* LAUNCH-002: a broker that launched this backend names its socket */
    const char *ns = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE");
    backend_config cfg = {.socket_path = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE"),
                          .namespace_id = ns ? ns : "", .frame_timeout_ms = 5000, .max_connections = 1024,
                          .handoff_timeout_ms = RPB_HANDOFF_ACK_DEADLINE_MS};
    uint32_t bind_delay_ms = 0;
    static const struct option opts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"identity-file", required_argument, NULL, OPT_IDENTITY},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"echo-protocol", required_argument, NULL, OPT_ECHO},
        {"frame-timeout", required_argument, NULL, OPT_FRAME_TIMEOUT},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"bind-delay", required_argument, NULL, OPT_BIND_DELAY},
        {"handoff-socket", required_argument, NULL, OPT_HANDOFF},
        {"handoff-timeout", required_argument, NULL, OPT_HANDOFF_TIMEOUT},
        {"log", required_argument, NULL, OPT_LOG},
        {"json-log", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0; /* usage errors are worded by cli_option_error */
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SOCKET: cfg.socket_path = optarg; break;
        case OPT_IDENTITY: cfg.identity_file = optarg; break;
        case OPT_NAMESPACE: cfg.namespace_id = optarg; break;
        case OPT_IDLE:
            if (!cli_parse_u32(optarg, &cfg.idle_timeout_s))
                return cli_usage_error(PROG, "--idle-timeout needs a number of seconds, not '%s'", optarg);
            cfg.has_idle_timeout = true;
            break;
        case OPT_ECHO:
            if (!parse_protocol(optarg, &cfg.echo_protocol))
                return cli_usage_error(PROG, "--echo-protocol needs 0xNNNN, not a first-party "
                                       "protocol, not '%s'", optarg);
            cfg.has_echo = true;
            break;
        case OPT_FRAME_TIMEOUT:
            if (!cli_parse_u32(optarg, &cfg.frame_timeout_ms) || cfg.frame_timeout_ms == 0)
                return cli_usage_error(PROG, "--frame-timeout needs a positive number of ms, not '%s'", optarg);
            break;
        case OPT_MAXCONN:
            if (!cli_parse_u32(optarg, &cfg.max_connections) || cfg.max_connections == 0)
                return cli_usage_error(PROG, "--max-connections needs a positive number, not '%s'", optarg);
            break;
        case OPT_BIND_DELAY:
            if (!cli_parse_u32(optarg, &bind_delay_ms))
                return cli_usage_error(PROG, "--bind-delay needs a number of ms, not '%s'", optarg);
            break;
        case OPT_HANDOFF: cfg.handoff_socket = optarg; break;
        case OPT_HANDOFF_TIMEOUT:
            if (!cli_parse_u32(optarg, &cfg.handoff_timeout_ms) || cfg.handoff_timeout_ms == 0)
                return cli_usage_error(PROG, "--handoff-timeout needs a positive number of ms, not '%s'", optarg);
            break;
        case OPT_LOG: cfg.log_path = optarg; break;
        case OPT_JSON: cfg.json_log = true; break;
        case OPT_HELP: fputs(usage_text, stdout); return EXIT_BACKEND_OK;
        case OPT_VERSION: cli_print_version(PROG); return EXIT_BACKEND_OK;
        default: return cli_option_error(PROG, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    if (cfg.socket_path == NULL || cfg.socket_path[0] == '\0')
        return cli_usage_error(PROG, "--socket PATH is required (or "
                               "RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE in the environment)");
    if (cfg.handoff_socket && strcmp(cfg.handoff_socket, cfg.socket_path) == 0)
        return cli_usage_error(PROG, "--handoff-socket must differ from --socket");
    if (blog_open(PROG, cfg.log_path, cfg.json_log) != 0)
        return EXIT_BACKEND_USAGE;
    /* MUX-007: SIGTERM/SIGINT are held from before the socket exists, so
     * one that arrives during start-up still removes socket and sidecar
     * (the event loop reads them from a signalfd). */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);

    /* IDENT-003: the identity probes are answered with. */
    rpb_identity self;
    int rc = rpb_identity_current(&self, cfg.namespace_id, cfg.socket_path, cfg.has_idle_timeout,
                                  cfg.idle_timeout_s);
    if (rc != RPB_OK) {
        blog_msg("cannot build own identity: %s", rpb_strerror(rc));
        blog_close();
        return EXIT_BACKEND_IDENTITY;
    }
    if (bind_delay_ms > 0)
        nanosleep(&(struct timespec){bind_delay_ms / 1000, (long)(bind_delay_ms % 1000) * 1000000L}, NULL);
    broker_listener l, hl = {.fd = -1}; /* MUX-007; HANDOFF-020: a filesystem path */
    if (listener_bind(&l, cfg.socket_path) != 0) {
        blog_close();
        return EXIT_BACKEND_SOCKET;
    }
    int status = EXIT_BACKEND_OK;
    if (cfg.handoff_socket && listener_bind(&hl, cfg.handoff_socket) != 0)
        status = EXIT_BACKEND_SOCKET;
    /* IDENT-032: the sidecar is written once the socket answers. */
    else if (cfg.identity_file && (rc = rpb_sidecar_write(cfg.identity_file, &self.dp)) != RPB_OK) {
        blog_msg("cannot write identity file %s: %s", cfg.identity_file, rpb_strerror(rc));
        status = EXIT_BACKEND_IDENTITY;
    }
    if (status == EXIT_BACKEND_OK) {
        blog_event("ready",
                   (blog_field[]){BLOG_N("pid", self.dp.pid), BLOG_S("socket", cfg.socket_path),
                                  BLOG_S("identity_file", cfg.identity_file),
                                  BLOG_S("namespace", cfg.namespace_id),
                                  BLOG_N("echo_protocol", cfg.has_echo ? cfg.echo_protocol : 0),
                                  BLOG_S("handoff_socket", cfg.handoff_socket),
                                  /* LAUNCH-002: what a launching broker asked for */
                                  BLOG_S("launched_service", getenv("RUNNING_PROCESS_BROKER_V1_SERVICE_NAME")),
                                  BLOG_S("launched_version", getenv("RUNNING_PROCESS_BROKER_V1_SERVICE_VERSION")),
                                  BLOG_S("launched_instance", getenv("RUNNING_PROCESS_BROKER_V1_INSTANCE")),
                                  BLOG_S("traceparent", getenv("RUNNING_PROCESS_BROKER_V1_TRACEPARENT"))},
                   10);
        status = backend_run(&cfg, &l, cfg.handoff_socket ? &hl : NULL, &self.dp);
        if (cfg.identity_file)
            rpb_sidecar_remove(cfg.identity_file);
    }
    listener_close(&hl);
    listener_close(&l);
    blog_close();
    return status;
}
