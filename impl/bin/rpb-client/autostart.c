/*
 * rpb-client's way to its broker: a plain connect, or with --autostart the
 * rendezvous (spec/discovery.md §2), which starts the broker when none
 * answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_cli.h"
#include "rpb/rpb.h"

#define MAX_ARGS 64

/* Upstream's service-definition directory (README.md "rpb-client"):
 * $RUNNING_PROCESS_SERVICE_DEF_DIR, $XDG_CONFIG_HOME/running-process/services
 * or ~/.config/running-process/services; "" when none can be named. */
static void default_services(char *buf, size_t cap)
{
    const char *env = getenv("RUNNING_PROCESS_SERVICE_DEF_DIR");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (env && env[0])
        snprintf(buf, cap, "%s", env);
    else if (xdg && xdg[0] == '/')
        snprintf(buf, cap, "%s/running-process/services", xdg);
    else if (home && home[0])
        snprintf(buf, cap, "%s/.config/running-process/services", home);
    else
        buf[0] = '\0';
}

/* The default broker command: rpb-broker from this program's directory
 * (else from PATH) on the socket, serving upstream's services directory in
 * launch mode (so a launched service's backend is started on demand too,
 * spec/discovery.md §3), exiting after 10 idle minutes. */
static void default_command(char *buf, size_t cap)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *dir = ".";
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            dir = self;
        }
    }
    char broker[4200];
    snprintf(broker, sizeof broker, "%s/rpb-broker", dir);
    char services[4096];
    default_services(services, sizeof services);
    snprintf(buf, cap, "%s --socket {socket} --launch %s --idle-exit 600",
             n > 0 && access(broker, X_OK) == 0 ? broker : "rpb-broker", services);
}

/* Splits cmd at blanks into argv (NULL-terminated), each "{socket}"
 * replaced by socket_path; the words live in store. */
static int split_command(const char *cmd, const char *socket_path, char **argv, char *store, size_t cap)
{
    size_t argc = 0, used = 0;
    const char *p = cmd;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " \t");
        if (argc == MAX_ARGS - 1)
            return -1;
        argv[argc++] = store + used;
        for (size_t i = 0; i < len;) {
            const char *piece = p + i;
            size_t plen = 1;
            if (strncmp(piece, "{socket}", 8) == 0 && i + 8 <= len) {
                piece = socket_path;
                plen = strlen(socket_path);
                i += 8;
            } else {
                i++;
            }
            if (used + plen + 1 > cap)
                return -1;
            memcpy(store + used, piece, plen);
            used += plen;
        }
        store[used++] = '\0';
        p += len;
    }
    argv[argc] = NULL;
    return argc > 0 ? 0 : -1;
}

/* Whether a call on a broker connection ended before any reply byte:
 * the connection was closed or reset unread (RDV-012). */
bool client_no_reply(int rc, const rpb_errinfo *err, int e)
{
    return (rc == RPB_ERR_UNEXPECTED_EOF && err->offset == 0) ||
           (rc == RPB_ERR_IO && (e == ECONNRESET || e == EPIPE));
}

int client_call(const client_target *t, int64_t deadline, client_call_fn call, void *ctx)
{
    rpb_errinfo err;
    bool no_reply;
    if (t->autostart == NULL) {
        int fd = rpb_client_connect(t->socket_path, deadline);
        return fd < 0 ? fd : call(fd, ctx, &no_reply);
    }
    char cmd[8192], store[16384];
    char *argv[MAX_ARGS];
    if (t->autostart[0] == '\0')
        default_command(cmd, sizeof cmd);
    else
        snprintf(cmd, sizeof cmd, "%s", t->autostart);
    if (split_command(cmd, t->socket_path, argv, store, sizeof store) != 0) {
        fprintf(stderr, "rpb-client: the broker command is empty or too long\n");
        return RPB_ERR_INVALID_ARGUMENT;
    }
    rpb_rdv_options o = {t->socket_path, argv, NULL, deadline};
    int rc = RPB_ERR_INVALID_ARGUMENT;
    /* RDV-012: a connection closed before any reply byte (a broker leaving
     * on idle exit with us in its backlog) gets one more rendezvous */
    for (int attempt = 0; attempt < 2; attempt++) {
        rpb_rdv_result r;
        int fd = rpb_rendezvous_connect(&o, &r, &err);
        if (fd < 0) {
            fprintf(stderr, "rpb-client: %s\n", err.message);
            return fd;
        }
        if (r.how == RPB_RDV_STARTED)
            fprintf(stderr, "rpb-client: rendezvous: started broker pid %d on %s%s\n", (int)r.broker_pid,
                    t->socket_path, r.stale_removed ? " (stale socket removed)" : "");
        else
            fprintf(stderr, "rpb-client: rendezvous: %s %s\n", rpb_rdv_how_name(r.how), t->socket_path);
        rc = call(fd, ctx, &no_reply);
        if (!no_reply)
            break;
    }
    return rc;
}

typedef struct exchange_call {
    const uint8_t *req;
    size_t len;
    int64_t deadline;
    rpb_buf *reply;
} exchange_call;

static int exchange_on(int fd, void *ctx, bool *no_reply)
{
    exchange_call *x = ctx;
    rpb_errinfo err;
    int rc = rpb_client_exchange_fd(fd, x->req, x->len, x->deadline, x->reply, &err);
    int e = errno;
    close(fd);
    *no_reply = client_no_reply(rc, &err, e);
    errno = e;
    return rc;
}

int client_exchange(const client_target *t, const uint8_t *req, size_t len, int64_t deadline, rpb_buf *reply)
{
    exchange_call x = {req, len, deadline, reply};
    return client_call(t, deadline, exchange_on, &x);
}
