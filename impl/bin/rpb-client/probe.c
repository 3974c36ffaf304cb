/*
 * rpb-client probe - probes a backend endpoint (spec/probe.md), verifies
 * the process that answered, prints the identity and the verification
 * result, and exits with one code per error class.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client_cli.h"
#include "rpb/client.h"
#include "rpb/json.h"

/* One exit code per error class (spec/probe.md §9 and the transport,
 * framing and envelope classes); --help prints this table. */
static const struct {
    int code;
    int status;
} exit_codes[] = {
    {RPB_ERR_PROBE_CONNECT, 20},           {RPB_ERR_TIMEOUT, 21},
    {RPB_ERR_UNEXPECTED_EOF, 22},          {RPB_ERR_IO, 23},
    {RPB_ERR_FRAMING_VERSION, 24},         {RPB_ERR_FRAME_TOO_LARGE, 25},
    {RPB_ERR_ENVELOPE_VERSION, 27},        {RPB_ERR_ENVELOPE_KIND, 28},
    {RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL, 29}, {RPB_ERR_ENVELOPE_REQUEST_ID, 30},
    {RPB_ERR_ENVELOPE_PAYLOAD_ENCODING, 31}, {RPB_ERR_PROBE_PAYLOAD_SHORT, 32},
    {RPB_ERR_PROBE_NONCE_MISMATCH, 33},    {RPB_ERR_IDENTITY_MISSING_ENDPOINT, 34},
    {RPB_ERR_IDENTITY_SHA256_LENGTH, 35},  {RPB_ERR_IDENTITY_MISMATCH, 36},
    {RPB_ERR_PROBE_ENDPOINT_MISMATCH, 37}, {RPB_ERR_VERIFY_INVALID_PID, 40},
    {RPB_ERR_VERIFY_BOOT_ID, 41},          {RPB_ERR_VERIFY_NOT_FOUND, 42},
    {RPB_ERR_VERIFY_PROCESS_EXITED, 43},   {RPB_ERR_VERIFY_EXE_PATH, 44},
    {RPB_ERR_VERIFY_EXE_PATH_MISMATCH, 45}, {RPB_ERR_VERIFY_EXE_HASH, 46},
    {RPB_ERR_VERIFY_SHA256_MISMATCH, 47},  {RPB_ERR_SIDECAR_MISSING, 50},
    {RPB_ERR_SIDECAR_MALFORMED, 51},       {RPB_ERR_SIDECAR_UNSAFE, 52},
    {RPB_ERR_SIDECAR_TOO_LARGE, 53},
};
#define EXIT_PROBE_DECODE 26 /* any wire.md section 5 decoding class */
#define EXIT_PROBE_OTHER 1   /* out of memory, an endpoint path C cannot name */

static int exit_status(int rc)
{
    if (rc == RPB_OK)
        return 0;
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++)
        if (exit_codes[i].code == rc)
            return exit_codes[i].status;
    return rc <= -200 && rc > -300 ? EXIT_PROBE_DECODE : EXIT_PROBE_OTHER;
}

static void usage(FILE *out)
{
    fputs("usage: rpb-client probe --endpoint PATH [--namespace ID] [--expect-identity FILE]\n"
          "                        [--timeout MS] [--json]\n"
          "\n"
          "Probes the backend at PATH (payload protocol 0xB232, a fresh 32-byte nonce),\n"
          "checks the response, verifies the process that answered against the system\n"
          "(pid, boot id, /proc/PID/exe, SHA-256 of the executable, liveness) and prints\n"
          "the identity and the result.\n"
          "\n"
          "  --endpoint PATH         the backend's socket\n"
          "  --namespace ID          the endpoint's namespace_id; without\n"
          "                          --expect-identity the answering identity must carry\n"
          "                          exactly (ID, PATH) as its ipc_endpoint\n"
          "  --expect-identity FILE  an identity sidecar (rpb-backend --identity-file):\n"
          "                          it is verified before connecting and the answer must\n"
          "                          match it (the first differing field is reported);\n"
          "                          the namespace defaults to the file's\n"
          "  --timeout MS            deadline of connect, write and read (default 500)\n"
          "  --json                  print one JSON object\n"
          "  --help                  this text\n"
          "\n"
          "Exit codes: 0 verified; 1 other failure; 2 usage; 26 the response does not\n"
          "decode (any wire.md decoding class); and one per class:\n",
          out);
    for (size_t i = 0; i < sizeof exit_codes / sizeof exit_codes[0]; i++)
        fprintf(out, "  %d %s\n", exit_codes[i].status, rpb_errname(exit_codes[i].code));
}

/* The identity field a failure is about: the first mismatching one
 * (PROBE-028), or the field the failed check compared. */
static const char *failed_field(int rc, const rpb_probe_outcome *o)
{
    switch (rc) {
    case RPB_ERR_IDENTITY_MISMATCH: return o->reply.mismatch;
    case RPB_ERR_PROBE_ENDPOINT_MISMATCH: return "ipc_endpoint";
    case RPB_ERR_VERIFY_INVALID_PID:
    case RPB_ERR_VERIFY_NOT_FOUND:
    case RPB_ERR_VERIFY_PROCESS_EXITED: return "pid";
    case RPB_ERR_VERIFY_BOOT_ID: return "boot_id";
    case RPB_ERR_VERIFY_EXE_PATH:
    case RPB_ERR_VERIFY_EXE_PATH_MISMATCH: return "exe_path";
    case RPB_ERR_VERIFY_EXE_HASH:
    case RPB_ERR_VERIFY_SHA256_MISMATCH: return "exe_sha256";
    default: return NULL;
    }
}

static void print_result(const char *endpoint, int rc, const rpb_probe_outcome *o, bool json)
{
    const rpb_daemon_process *id = &o->reply.identity;
    /* a decoded identity: success, a mismatch, or a verification after
     * the exchange (a failed decode leaves nothing usable) */
    bool have_identity = id->has_ipc_endpoint &&
                         (rc == RPB_OK || rc == RPB_ERR_IDENTITY_MISMATCH ||
                          (rc <= RPB_ERR_VERIFY_INVALID_PID && rc >= RPB_ERR_VERIFY_SHA256_MISMATCH));
    const char *field = failed_field(rc, o);
    if (json) {
        rpb_json_writer w;
        rpb_json_writer_init_file(&w, stdout, RPB_JSON_PRETTY);
        rpb_json_begin_object(&w);
        rpb_json_key(&w, "endpoint");
        rpb_json_cstring(&w, endpoint);
        rpb_json_key(&w, "result");
        rpb_json_cstring(&w, rc == RPB_OK ? "verified" : rpb_errname(rc));
        rpb_json_key(&w, "requirement");
        if (rc == RPB_OK || !rpb_err_requirement(rc))
            rpb_json_null(&w);
        else
            rpb_json_cstring(&w, rpb_err_requirement(rc));
        rpb_json_key(&w, "field");
        if (field)
            rpb_json_cstring(&w, field);
        else
            rpb_json_null(&w);
        rpb_json_key(&w, "identity");
        if (have_identity)
            rpb_json_write_message(&w, &rpb_daemon_process_desc, id);
        else
            rpb_json_null(&w);
        rpb_json_end_object(&w);
        rpb_json_writer_finish(&w);
        putchar('\n');
        return;
    }
    if (have_identity) {
        char sha[2 * RPB_SHA256_BYTES + 1] = "";
        if (id->exe_sha256.len == RPB_SHA256_BYTES)
            rpb_hex_encode(id->exe_sha256.data, RPB_SHA256_BYTES, sha);
        printf("identity\n  pid: %" PRIu32 "\n  exe_path: %.*s\n  exe_sha256: %s\n"
               "  boot_id: %.*s\n  ipc_endpoint: namespace_id=%.*s path=%.*s\n"
               "  started_at_unix_ms: %" PRIu64 "\n",
               id->pid, (int)id->exe_path.len, (const char *)id->exe_path.data, sha,
               (int)id->boot_id.len, (const char *)id->boot_id.data,
               (int)id->ipc_endpoint.namespace_id.len,
               (const char *)id->ipc_endpoint.namespace_id.data, (int)id->ipc_endpoint.path.len,
               (const char *)id->ipc_endpoint.path.data, id->started_at_unix_ms);
        if (id->has_idle_timeout_secs)
            printf("  idle_timeout_secs: %" PRIu32 "\n", id->idle_timeout_secs);
    }
    if (rc == RPB_OK) {
        printf("verified\n");
        return;
    }
    printf("failed: %s (%s)", rpb_errname(rc) ? rpb_errname(rc) : "unknown", rpb_strerror(rc));
    if (field)
        printf(": field %s", field);
    if (rc == RPB_ERR_IO || rc == RPB_ERR_PROBE_CONNECT || rc == RPB_ERR_VERIFY_EXE_PATH ||
        rc == RPB_ERR_VERIFY_EXE_HASH)
        printf(": %s", strerror(errno));
    if (rpb_err_requirement(rc))
        printf(" [%s]", rpb_err_requirement(rc));
    putchar('\n');
}

enum { OPT_ENDPOINT = 256, OPT_NAMESPACE, OPT_EXPECT, OPT_TIMEOUT, OPT_JSON, OPT_HELP };

int probe_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, OPT_ENDPOINT},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"expect-identity", required_argument, NULL, OPT_EXPECT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *endpoint = NULL, *ns = NULL, *expect_file = NULL;
    uint64_t timeout = RPB_PROBE_DEFAULT_TIMEOUT_MS;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0; /* usage errors are worded by cli_option_error */
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ENDPOINT: endpoint = optarg; break;
        case OPT_NAMESPACE: ns = optarg; break;
        case OPT_EXPECT: expect_file = optarg; break;
        case OPT_JSON: json = true; break;
        case OPT_TIMEOUT:
            if (!cli_parse_u64(optarg, CLI_DECIMAL_OR_HEX, INT32_MAX - 1, &timeout) || timeout == 0)
                return cli_usage_error(PROG, "--timeout wants a decimal or 0x hex number in range, "
                                       "not '%s'", optarg);
            break;
        case OPT_HELP: usage(stdout); return 0;
        default: return cli_option_error(PROG, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    if (endpoint == NULL || endpoint[0] == '\0')
        return cli_usage_error(PROG, "--endpoint PATH is required");

    static rpb_identity expected;
    rpb_endpoint ep = {rpb_slice_cstr(ns ? ns : ""), rpb_slice_cstr(endpoint)};
    rpb_probe_outcome o;
    memset(&o, 0, sizeof o);
    o.process.pidfd = -1;
    int rc = RPB_OK;
    if (expect_file) {
        rc = rpb_sidecar_read(expect_file, &expected);
        if (rc != RPB_OK)
            fprintf(stderr, "rpb-client: %s: %s\n", expect_file, rpb_strerror(rc));
        else if (!ns)
            ep.namespace_id = expected.dp.ipc_endpoint.namespace_id;
    }
    if (rc == RPB_OK)
        rc = rpb_probe_endpoint(&ep, expect_file ? &expected.dp : NULL, (int)timeout,
                                RPB_PROBE_VERIFY, &o, NULL);
    /* Without an expected identity, a given namespace pins the endpoint. */
    if (rc == RPB_OK && !expect_file && ns &&
        (!rpb_slice_eq(o.reply.identity.ipc_endpoint.namespace_id, ep.namespace_id) ||
         !rpb_slice_eq(o.reply.identity.ipc_endpoint.path, ep.path))) {
        rc = RPB_ERR_IDENTITY_MISMATCH;
        o.reply.mismatch = "ipc_endpoint";
    }
    print_result(endpoint, rc, &o, json);
    rpb_probe_outcome_free(&o);
    return exit_status(rc);
}
