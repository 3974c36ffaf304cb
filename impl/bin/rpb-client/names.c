/*
 * rpb-client names - prints the canonical socket paths of this user and
 * machine (spec/discovery.md NAME-001..NAME-006).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client_cli.h"
#include "rpb/error.h"
#include "rpb/names.h"

static const char names_usage[] =
    "usage: rpb-client names [--service NAME] [--instance NAME]\n"
    "\n"
    "Prints the canonical broker socket paths of the calling user on this\n"
    "machine (spec/discovery.md), one per line as `CLASS PATH`:\n"
    "`user-hash`, `directory`, `shared`, and with the options the private\n"
    "broker of a service (`service`) and an explicit instance (`instance`).\n"
    "The user hash is BLAKE3(\"<uid>:<machine-id>\") (first 8 bytes); the\n"
    "directory is $XDG_RUNTIME_DIR/running-process/broker, else\n"
    "/tmp/running-process-<uid>/broker.\n"
    "\n"
    "Exit codes: 0 printed; 1 no machine id, or a name that is invalid or\n"
    "makes the path 108 bytes or longer; 2 usage.\n";

static int print_path(const rpb_names *n, rpb_name_kind kind, const char *label, const char *arg)
{
    char path[RPB_SUN_PATH_MAX];
    int rc = rpb_names_path(n, kind, arg, path, sizeof path);
    if (rc != RPB_OK) {
        fprintf(stderr, "rpb-client names: %s%s%s: %s\n", label, arg ? " " : "", arg ? arg : "",
                rpb_strerror(rc));
        return 1;
    }
    printf("%s %s\n", label, path);
    return 0;
}

int rpb_client_names_main(int argc, char **argv)
{
    enum { OPT_SERVICE = 256, OPT_INSTANCE, OPT_HELP };
    static const struct option opts[] = {
        {"service", required_argument, NULL, OPT_SERVICE},
        {"instance", required_argument, NULL, OPT_INSTANCE},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *service = NULL, *instance = NULL;
    int c;
    opterr = 0; /* usage errors are worded by cli_option_error */
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case OPT_SERVICE: service = optarg; break;
        case OPT_INSTANCE: instance = optarg; break;
        case OPT_HELP: fputs(names_usage, stdout); return 0;
        default: return cli_option_error(PROG, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    rpb_names n;
    int rc = rpb_names_for_current_user(&n);
    if (rc != RPB_OK) {
        fprintf(stderr, "rpb-client names: %s\n", rpb_strerror(rc));
        return 1;
    }
    printf("user-hash %s\ndirectory %s\n", n.user_hash, n.dir);
    int failed = print_path(&n, RPB_NAME_SHARED, "shared", NULL);
    if (service)
        failed |= print_path(&n, RPB_NAME_SERVICE, "service", service);
    if (instance)
        failed |= print_path(&n, RPB_NAME_INSTANCE, "instance", instance);
    return failed;
}
