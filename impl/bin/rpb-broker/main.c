/*
 * rpb-broker - the reference broker daemon of the running-process broker
 * v1 protocol (spec/hello.md; usage in README.md "rpb-broker").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "cli.h"
#include "rpb/rpb.h"

#define PROG "rpb-broker"

static const char usage_text[] =
    "usage: " PROG " [--socket PATH] --services DIR [options]\n"
    "       " PROG " [--socket PATH] --launch DIR [--launch-timeout MS] [options]\n"
    "       " PROG " --help | --version\n"
    "\n"
    "Serves the running-process broker v1 control socket: one Hello (or admin\n"
    "request) per connection, answered with Negotiated or Refused.\n"
    "\n"
    "  --socket PATH            Unix socket to listen on; its directory is created\n"
    "                           0700 (an existing one must be private), the socket\n"
    "                           is 0600; a stale socket is replaced.  Default: the\n"
    "                           canonical shared name (rpb-client names).  Not used\n"
    "                           under systemd socket activation (LISTEN_FDS).\n"
    "  --services DIR           service definitions: <name>.servicedef (prost\n"
    "                           ServiceDefinition) or <name>.service (text); DIR\n"
    "                           must not be group/other accessible; re-read on change\n"
    "  --launch DIR             like --services DIR, and also serve launched services:\n"
    "                           a definition with binary_path (under its\n"
    "                           per_version_binary_dir) and no backend_pipe gets its\n"
    "                           backend started on demand, probed, and relaunched\n"
    "                           after it exits (spec/discovery.md section 3)\n"
    "  --launch-timeout MS      readiness wait of a launched backend: its identity\n"
    "                           probe must be answered within MS (default 2000)\n"
    "  --handshake-timeout MS   per-connection deadline for the whole exchange\n"
    "                           (default 5000)\n"
    "  --rate-limit N/MS        Hellos per verified pid per window (default 256/1000;\n"
    "                           0/1 disables)\n"
    "  --max-connections N      open connections at most; more are refused with\n"
    "                           ERROR_FD_PRESSURE (default 1024)\n"
    "  --drain-timeout MS       after SIGTERM/SIGINT, keep answering\n"
    "                           ERROR_SHUTTING_DOWN this long, then exit 0 (default 1000)\n"
    "  --idle-exit S            exit 0 (removing the socket) after S seconds with no\n"
    "                           connection (default: never)\n"
    "  --handoff-ack-timeout MS  deadline of a connection handoff, from the dial to\n"
    "                           the backend's HandoffAck (default 5000)\n"
    "  --handoff-token-ttl MS   life of an unused handoff token; more than the ACK\n"
    "                           timeout (default 30000)\n"
    "  --handoff-max-pending N  handoff tokens pending at once (default 1024)\n"
    "  --handoff-failures N/MS  after N failed handoffs of a backend within MS, issue\n"
    "                           no token for it until MS have passed (default 8/30000)\n"
    "  --allow-uid UID          also serve peers of this uid (repeatable; default:\n"
    "                           only the broker's own euid)\n"
    "  --log FILE|-             log to FILE (appended) or stdout (-); default stderr\n"
    "  --json-log               one JSON object per log line\n"
    "  --help                   this text\n"
    "  --version                print the version and exit\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain then exit 0 (a second one exits at once);\n"
    "launched backends get SIGTERM when the broker stops (SIGKILL after 1 s).\n"
    "SIGHUP re-reads the services directory.\n"
    "A service whose definition names a handoff_socket (label rpb.handoff_socket)\n"
    "gets its clients' connections handed off there (spec/handoff.md).\n"
    "Exit codes: 0 drained, 1 runtime failure, 2 usage, 3 services directory,\n"
    "4 socket.\n";

/* N/MS, both decimal (the options are documented decimal); MS > 0. */
static bool parse_per_window(const char *s, uint32_t *max, uint32_t *window)
{
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash - s > 15)
        return false;
    char n[16];
    memcpy(n, s, (size_t)(slash - s));
    n[slash - s] = '\0';
    return cli_parse_u32(n, max) && cli_parse_u32(slash + 1, window) && *window > 0;
}

/* The canonical shared socket of this user (NAME-001, RDV-001: where
 * rpb-client --autostart looks), into buf; NULL with the reason logged. */
static const char *default_socket(char *buf, size_t cap)
{
    rpb_names n;
    int rc = rpb_names_for_current_user(&n);
    if (rc == RPB_OK)
        rc = rpb_names_path(&n, RPB_NAME_SHARED, NULL, buf, cap);
    if (rc != RPB_OK) {
        fprintf(stderr, "rpb-broker: no --socket and no canonical name: %s\n", rpb_strerror(rc));
        return NULL;
    }
    return buf;
}

enum { OPT_SOCKET = 256, OPT_SERVICES, OPT_TIMEOUT, OPT_RATE, OPT_MAXCONN, OPT_DRAIN, OPT_UID,
       OPT_LOG, OPT_JSON, OPT_HELP, OPT_VERSION, OPT_IDLE, OPT_LAUNCH, OPT_LAUNCH_TIMEOUT,
       OPT_ACK_TIMEOUT, OPT_TOKEN_TTL, OPT_MAX_PENDING, OPT_FAILURES };

int main(int argc, char **argv)
{
    broker_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.handshake_timeout_ms = 5000;
    cfg.rate_max = RPB_RATE_MAX_DEFAULT;
    cfg.rate_window_ms = RPB_RATE_WINDOW_MS_DEFAULT;
    cfg.max_connections = 1024;
    cfg.drain_timeout_ms = 1000;
    cfg.launch_timeout_ms = 2000;
    cfg.allowed_uids[cfg.n_allowed_uids++] = geteuid();
    /* spec/handoff.md §7.1 */
    cfg.handoff.ack_timeout_ms = RPB_HANDOFF_ACK_DEADLINE_MS;
    cfg.handoff.token_ttl_ms = RPB_HANDOFF_TOKEN_TTL_MS;
    cfg.handoff.max_pending = RPB_HANDOFF_MAX_PENDING;
    cfg.handoff.pause_failures = 8;
    cfg.handoff.pause_window_ms = 30000;

    static const struct option opts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"services", required_argument, NULL, OPT_SERVICES},
        {"launch", required_argument, NULL, OPT_LAUNCH},
        {"launch-timeout", required_argument, NULL, OPT_LAUNCH_TIMEOUT},
        {"handshake-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"rate-limit", required_argument, NULL, OPT_RATE},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"drain-timeout", required_argument, NULL, OPT_DRAIN},
        {"idle-exit", required_argument, NULL, OPT_IDLE},
        {"allow-uid", required_argument, NULL, OPT_UID},
        {"handoff-ack-timeout", required_argument, NULL, OPT_ACK_TIMEOUT},
        {"handoff-token-ttl", required_argument, NULL, OPT_TOKEN_TTL},
        {"handoff-max-pending", required_argument, NULL, OPT_MAX_PENDING},
        {"handoff-failures", required_argument, NULL, OPT_FAILURES},
        {"log", required_argument, NULL, OPT_LOG},
        {"json-log", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;
    uint32_t v;
    opterr = 0; /* usage errors are worded by cli_option_error */
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SOCKET:
            cfg.socket_path = optarg;
            break;
        case OPT_SERVICES:
        case OPT_LAUNCH:
            if (cfg.services_dir != NULL && cfg.launch != (c == OPT_LAUNCH))
                return cli_usage_error(PROG, "--services DIR and --launch DIR exclude each other");
            cfg.services_dir = optarg; /* the last one counts */
            cfg.launch = c == OPT_LAUNCH;
            break;
        case OPT_LAUNCH_TIMEOUT:
            if (!cli_parse_u32(optarg, &cfg.launch_timeout_ms) || cfg.launch_timeout_ms == 0)
                return cli_usage_error(PROG, "--launch-timeout wants a positive decimal number of ms, not '%s'",
                                       optarg);
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_u32(optarg, &cfg.handshake_timeout_ms) || cfg.handshake_timeout_ms == 0)
                return cli_usage_error(PROG, "--handshake-timeout wants a positive decimal number of ms, not '%s'",
                                   optarg);
            break;
        case OPT_RATE:
            if (!parse_per_window(optarg, &cfg.rate_max, &cfg.rate_window_ms))
                return cli_usage_error(PROG, "--rate-limit wants N/MS in decimal (e.g. 256/1000), not '%s'", optarg);
            break;
        case OPT_MAXCONN:
            if (!cli_parse_u32(optarg, &cfg.max_connections) || cfg.max_connections == 0)
                return cli_usage_error(PROG, "--max-connections wants a positive decimal number, not '%s'", optarg);
            break;
        case OPT_DRAIN:
            if (!cli_parse_u32(optarg, &cfg.drain_timeout_ms))
                return cli_usage_error(PROG, "--drain-timeout wants a decimal number of ms, not '%s'", optarg);
            break;
        case OPT_IDLE:
            if (!cli_parse_u32(optarg, &v) || v == 0 || v > UINT32_MAX / 1000)
                return cli_usage_error(PROG, "--idle-exit wants a positive decimal number of seconds, not '%s'", optarg);
            cfg.idle_exit_ms = v * 1000;
            break;
        case OPT_UID:
            if (!cli_parse_u32(optarg, &v))
                return cli_usage_error(PROG, "--allow-uid wants a decimal uid, not '%s'", optarg);
            if (cfg.n_allowed_uids == BROKER_MAX_ALLOWED_UIDS)
                return cli_usage_error(PROG, "at most 15 --allow-uid options");
            cfg.allowed_uids[cfg.n_allowed_uids++] = (uid_t)v;
            break;
        case OPT_ACK_TIMEOUT: /* HANDOFF-017: 0 refused */
            if (!cli_parse_u32(optarg, &cfg.handoff.ack_timeout_ms) || cfg.handoff.ack_timeout_ms == 0)
                return cli_usage_error(PROG, "--handoff-ack-timeout wants a positive decimal number of ms, not '%s'",
                                       optarg);
            break;
        case OPT_TOKEN_TTL: /* HANDOFF-017: 0 refused */
            if (!cli_parse_u32(optarg, &cfg.handoff.token_ttl_ms) || cfg.handoff.token_ttl_ms == 0)
                return cli_usage_error(PROG, "--handoff-token-ttl wants a positive decimal number of ms, not '%s'",
                                       optarg);
            break;
        case OPT_MAX_PENDING: /* HANDOFF-017: 0 refused */
            if (!cli_parse_u32(optarg, &cfg.handoff.max_pending) || cfg.handoff.max_pending == 0 ||
                cfg.handoff.max_pending > 1000000)
                return cli_usage_error(PROG, "--handoff-max-pending wants a decimal number from 1 to 1000000, not '%s'",
                                       optarg);
            break;
        case OPT_FAILURES:
            if (!parse_per_window(optarg, &cfg.handoff.pause_failures, &cfg.handoff.pause_window_ms) ||
                cfg.handoff.pause_failures == 0)
                return cli_usage_error(PROG, "--handoff-failures wants N/MS in decimal, N > 0 (e.g. 8/30000), not '%s'",
                                       optarg);
            break;
        case OPT_LOG:
            cfg.log_path = optarg;
            break;
        case OPT_JSON:
            cfg.json_log = true;
            break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            return EXIT_BROKER_OK;
        case OPT_VERSION:
            cli_print_version(PROG);
            return EXIT_BROKER_OK;
        default:
            return cli_option_error(PROG, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    if (cfg.services_dir == NULL)
        return cli_usage_error(PROG, "--services DIR (or --launch DIR) is required");
    if (cfg.handoff.ack_timeout_ms >= cfg.handoff.token_ttl_ms) /* HANDOFF-015 */
        return cli_usage_error(PROG, "--handoff-ack-timeout (%u ms) must be less than --handoff-token-ttl (%u ms)",
                               cfg.handoff.ack_timeout_ms, cfg.handoff.token_ttl_ms);
    static char socket_buf[RPB_SUN_PATH_MAX];
    if (blog_open("rpb-broker", cfg.log_path, cfg.json_log) != 0)
        return EXIT_BROKER_USAGE;
    if (geteuid() == 0)
        blog_msg("warning: running as root (SEC-010): only root peers are served unless "
                 "--allow-uid is given");

    /* SEC-009 before touching the socket path */
    broker_services s = {.launch = cfg.launch};
    if (services_open(&s, cfg.services_dir) != 0)
        return EXIT_BROKER_SERVICES;
    broker_listener l;
    int act = listener_from_systemd(&l);
    if (act < 0) {
        services_close(&s);
        return EXIT_BROKER_SOCKET;
    }
    if (act == 0) {
        if (cfg.socket_path == NULL &&
            (cfg.socket_path = default_socket(socket_buf, sizeof socket_buf)) == NULL) {
            services_close(&s);
            return EXIT_BROKER_SOCKET;
        }
        if (listener_bind(&l, cfg.socket_path) != 0) {
            services_close(&s);
            return EXIT_BROKER_SOCKET;
        }
    } else if (cfg.socket_path != NULL) {
        blog_msg("socket activation: ignoring --socket %s", cfg.socket_path);
    }

    int status = broker_run(&cfg, &l, &s);
    services_close(&s);
    listener_close(&l);
    blog_close();
    return status;
}
