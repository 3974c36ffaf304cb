/*
 * Canonical socket names (rpb/names.h, spec/discovery.md §1).
 */
#include "rpb/names.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpb/blake3.h"
#include "rpb/error.h"
#include "rpb/hello.h"
#include "rpb/json.h"

#define LEAF_SUFFIX ".sock" /* NAME-004 */

int rpb_user_hash(unsigned long uid, const char *machine_id, char out[RPB_USER_HASH_LEN + 1])
{
    size_t id_len = machine_id ? strlen(machine_id) : 0;
    if (id_len == 0 || id_len > RPB_MACHINE_ID_MAX)
        return RPB_ERR_NO_MACHINE_ID;
    /* NAME-003: BLAKE3("<uid>:<machine-id>"), first 8 bytes, lowercase hex. */
    char identity[32 + RPB_MACHINE_ID_MAX];
    int n = snprintf(identity, sizeof identity, "%lu:%s", uid, machine_id);
    uint8_t digest[RPB_USER_HASH_LEN / 2];
    rpb_blake3(identity, (size_t)n, digest, sizeof digest);
    rpb_hex_encode(digest, sizeof digest, out); /* NUL at out[RPB_USER_HASH_LEN] */
    return RPB_OK;
}

int rpb_names_init(rpb_names *n, unsigned long uid, const char *machine_id, const char *xdg_runtime_dir)
{
    int rc = rpb_user_hash(uid, machine_id, n->user_hash);
    if (rc != RPB_OK)
        return rc;
    /* NAME-004; NAME-006: an empty or relative runtime directory is unset. */
    int len;
    if (xdg_runtime_dir && xdg_runtime_dir[0] == '/')
        len = snprintf(n->dir, sizeof n->dir, "%s/running-process/broker", xdg_runtime_dir);
    else
        len = snprintf(n->dir, sizeof n->dir, "/tmp/running-process-%lu/broker", uid);
    if (len < 0 || (size_t)len >= sizeof n->dir)
        return RPB_ERR_NAME_TOO_LONG;
    return RPB_OK;
}

/* Reads one machine-id file, trimmed (NAME-003, NAME-006).  0 when it
 * holds a non-empty id that fits out. */
static int read_machine_id(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char buf[RPB_MACHINE_ID_MAX + 2];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    int complete = feof(f) && !ferror(f);
    fclose(f);
    if (!complete)
        return -1; /* unreadable or longer than any machine id */
    buf[got] = '\0';
    char *start = buf, *end = buf + got;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= cap || memchr(start, '\0', len))
        return -1;
    memcpy(out, start, len);
    out[len] = '\0';
    return 0;
}

int rpb_machine_id(char *out, size_t cap)
{
    if (!out || cap <= RPB_MACHINE_ID_MAX)
        return RPB_ERR_INVALID_ARGUMENT;
    if (read_machine_id("/etc/machine-id", out, cap) == 0 ||
        read_machine_id("/var/lib/dbus/machine-id", out, cap) == 0)
        return RPB_OK;
    return RPB_ERR_NO_MACHINE_ID;
}

int rpb_names_for_current_user(rpb_names *n)
{
    char id[RPB_MACHINE_ID_MAX + 1];
    int rc = rpb_machine_id(id, sizeof id);
    if (rc != RPB_OK)
        return rc;
    return rpb_names_init(n, (unsigned long)getuid(), id, getenv("XDG_RUNTIME_DIR"));
}

/* NAME-002: the backend suffix is 32 lowercase hex digits. */
static int backend_suffix_valid(const char *s)
{
    size_t len = strlen(s);
    if (len != 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int rpb_names_path(const rpb_names *n, rpb_name_kind kind, const char *arg, char *out, size_t cap)
{
    const char *infix;
    switch (kind) {
    case RPB_NAME_SHARED:
        infix = "shared";
        arg = "";
        break;
    case RPB_NAME_SERVICE:
        infix = "svc-";
        break;
    case RPB_NAME_INSTANCE:
        infix = "inst-";
        break;
    case RPB_NAME_BACKEND:
        infix = "be-";
        break;
    default:
        return RPB_ERR_INVALID_ARGUMENT;
    }
    if (!arg)
        return RPB_ERR_NAME_INVALID;
    /* NAME-002: service and instance share the service-name grammar. */
    if (kind == RPB_NAME_BACKEND ? !backend_suffix_valid(arg)
        : kind != RPB_NAME_SHARED && !rpb_service_name_valid(rpb_slice_cstr(arg)))
        return RPB_ERR_NAME_INVALID;
    /* NAME-001, NAME-004 */
    char path[2 * RPB_SUN_PATH_MAX + 128];
    int len = snprintf(path, sizeof path, "%s/rpb-v1-%s-%s%s" LEAF_SUFFIX, n->dir, n->user_hash, infix, arg);
    /* NAME-005: the path and its NUL must fit sun_path. */
    if (len < 0 || (size_t)len >= RPB_SUN_PATH_MAX)
        return RPB_ERR_NAME_TOO_LONG;
    if ((size_t)len >= cap)
        return RPB_ERR_BUFFER_TOO_SMALL;
    memcpy(out, path, (size_t)len + 1);
    return RPB_OK;
}
