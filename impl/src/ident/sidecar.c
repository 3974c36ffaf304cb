/*
 * sidecar.c - the identity sidecar file (spec/probe.md IDENT-030..IDENT-034):
 * upstream's JSON shape through the project's JSON module, written
 * atomically with mode 0600, read without following links and size-capped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpb/ident.h"
#include "rpb/json.h"
#include "../core/mem.h"

int rpb_sidecar_format(const rpb_daemon_process *dp, rpb_buf *out)
{
    if (!dp || !out || dp->exe_sha256.len != RPB_SHA256_BYTES)
        return RPB_ERR_INVALID_ARGUMENT;
    /* IDENT-030: serde_json's pretty layout, upstream's key order. */
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, out, RPB_JSON_PRETTY);
    rpb_json_begin_object(&w);
    rpb_json_key(&w, "pid");
    rpb_json_uint(&w, dp->pid);
    rpb_json_key(&w, "exe_path");
    rpb_json_string(&w, dp->exe_path);
    rpb_json_key(&w, "exe_sha256");
    rpb_json_begin_array(&w);
    for (size_t i = 0; i < RPB_SHA256_BYTES; i++)
        rpb_json_uint(&w, dp->exe_sha256.data[i]);
    rpb_json_end_array(&w);
    rpb_json_key(&w, "boot_id");
    rpb_json_string(&w, dp->boot_id);
    rpb_json_key(&w, "ipc_endpoint");
    rpb_json_begin_object(&w);
    rpb_json_key(&w, "namespace_id");
    rpb_json_string(&w, dp->ipc_endpoint.namespace_id);
    rpb_json_key(&w, "path");
    rpb_json_string(&w, dp->ipc_endpoint.path);
    rpb_json_end_object(&w);
    rpb_json_key(&w, "started_at_unix_ms");
    rpb_json_uint(&w, dp->started_at_unix_ms);
    rpb_json_key(&w, "idle_timeout_secs");
    if (dp->has_idle_timeout_secs)
        rpb_json_uint(&w, dp->idle_timeout_secs);
    else
        rpb_json_null(&w);
    rpb_json_end_object(&w);
    return rpb_json_writer_finish(&w);
}

/* The member of obj called key: NULL when absent; *dup when it occurs more
 * than once (a duplicated field is an error, as for serde). */
static const rpb_json_value *member(const rpb_json_value *obj, const char *key, bool *dup)
{
    const rpb_json_value *found = NULL;
    for (const rpb_json_value *m = obj->u.children.head; m; m = m->next)
        if (rpb_slice_eq_cstr(m->key, key)) {
            if (found)
                *dup = true;
            found = m;
        }
    return found;
}

static bool get_string(const rpb_json_value *obj, const char *key, char *dst, size_t cap,
                       rpb_slice *out, bool *dup)
{
    const rpb_json_value *v = member(obj, key, dup);
    if (!v || v->type != RPB_JSON_STRING || v->u.string.len >= cap)
        return false;
    memcpy(dst, v->u.string.data, v->u.string.len);
    dst[v->u.string.len] = '\0';
    *out = (rpb_slice){(const uint8_t *)dst, v->u.string.len};
    return true;
}

static bool get_uint(const rpb_json_value *obj, const char *key, uint64_t max, uint64_t *out,
                     bool *dup)
{
    const rpb_json_value *v = member(obj, key, dup);
    return v && rpb_json_as_u64(v, out) && *out <= max;
}

static bool get_sha256(const rpb_json_value *obj, uint8_t out[RPB_SHA256_BYTES], bool *dup)
{
    const rpb_json_value *v = member(obj, "exe_sha256", dup);
    if (!v || v->type != RPB_JSON_ARRAY || v->u.children.count != RPB_SHA256_BYTES)
        return false;
    size_t i = 0;
    for (const rpb_json_value *e = v->u.children.head; e; e = e->next) {
        uint64_t b;
        if (!rpb_json_as_u64(e, &b) || b > 255)
            return false;
        out[i++] = (uint8_t)b;
    }
    return true;
}

/* IDENT-031: fills id from the parsed object root; false when malformed. */
static bool identity_from_json(const rpb_json_value *root, rpb_identity *id)
{
    rpb_daemon_process *dp = &id->dp;
    bool dup = false;
    uint64_t pid, started;
    if (root->type != RPB_JSON_OBJECT || !get_uint(root, "pid", UINT32_MAX, &pid, &dup) ||
        !get_string(root, "exe_path", id->exe_path, sizeof id->exe_path, &dp->exe_path, &dup) ||
        !get_sha256(root, id->exe_sha256, &dup) ||
        !get_string(root, "boot_id", id->boot_id, sizeof id->boot_id, &dp->boot_id, &dup) ||
        !get_uint(root, "started_at_unix_ms", UINT64_MAX, &started, &dup))
        return false;
    const rpb_json_value *ep = member(root, "ipc_endpoint", &dup);
    if (!ep || ep->type != RPB_JSON_OBJECT ||
        !get_string(ep, "namespace_id", id->namespace_id, sizeof id->namespace_id,
                    &dp->ipc_endpoint.namespace_id, &dup) ||
        !get_string(ep, "path", id->endpoint_path, sizeof id->endpoint_path,
                    &dp->ipc_endpoint.path, &dup))
        return false;
    const rpb_json_value *idle = member(root, "idle_timeout_secs", &dup);
    uint64_t idle_secs = 0;
    if (idle && idle->type != RPB_JSON_NULL) {
        if (!rpb_json_as_u64(idle, &idle_secs) || idle_secs > UINT32_MAX)
            return false;
        dp->has_idle_timeout_secs = true;
        dp->idle_timeout_secs = (uint32_t)idle_secs;
    }
    dp->pid = (uint32_t)pid;
    dp->started_at_unix_ms = started;
    dp->exe_sha256 = (rpb_slice){id->exe_sha256, RPB_SHA256_BYTES};
    dp->has_ipc_endpoint = true;
    return !dup;
}

int rpb_sidecar_parse(const char *text, size_t len, rpb_identity *id)
{
    if ((!text && len) || !id)
        return RPB_ERR_INVALID_ARGUMENT;
    memset(id, 0, sizeof *id);
    if (len > RPB_SIDECAR_MAX_BYTES) /* IDENT-034 */
        return RPB_ERR_SIDECAR_TOO_LARGE;
    rpb_json_doc doc;
    int rc = rpb_json_parse(text ? text : "", len, &doc, NULL);
    if (rc == RPB_ERR_NO_MEMORY)
        return rc;
    if (rc != RPB_OK)
        return RPB_ERR_SIDECAR_MALFORMED;
    rc = identity_from_json(doc.root, id) ? RPB_OK : RPB_ERR_SIDECAR_MALFORMED;
    rpb_json_doc_free(&doc);
    if (rc != RPB_OK)
        memset(id, 0, sizeof *id);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* IDENT-033: the directory entry of the rename is made durable too. */
static void sync_parent(const char *path)
{
    char copy[RPB_IDENT_PATH_MAX];
    if (strlen(path) >= sizeof copy)
        return;
    strcpy(copy, path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int rpb_sidecar_write(const char *path, const rpb_daemon_process *dp)
{
    if (!path || !dp)
        return RPB_ERR_INVALID_ARGUMENT;
    rpb_buf json = {0};
    int rc = rpb_sidecar_format(dp, &json);
    char tmp[RPB_IDENT_PATH_MAX + 8];
    if (rc == RPB_OK && snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        rc = RPB_ERR_INVALID_ARGUMENT;
    if (rc != RPB_OK) {
        rpb_buf_free(&json);
        return rc;
    }
    /* IDENT-032/IDENT-033: a fresh 0600 temporary file (a stale one from a
     * crash is replaced), written, fsync'ed, renamed over path. */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0600);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, flags, 0600);
    rc = RPB_ERR_IO;
    if (fd >= 0) {
        if (fchmod(fd, 0600) == 0 && write_all(fd, json.data, json.len) == 0 && fsync(fd) == 0)
            rc = RPB_OK;
        if (close(fd) != 0)
            rc = RPB_ERR_IO;
        if (rc == RPB_OK && rename(tmp, path) != 0)
            rc = RPB_ERR_IO;
        if (rc != RPB_OK) {
            int saved = errno;
            unlink(tmp);
            errno = saved;
        } else {
            sync_parent(path);
        }
    }
    rpb_buf_free(&json);
    return rc;
}

int rpb_sidecar_read(const char *path, rpb_identity *id)
{
    if (!path || !id)
        return RPB_ERR_INVALID_ARGUMENT;
    /* IDENT-034: no links, regular files only, size decided before reading
     * (O_NONBLOCK so that a FIFO planted there cannot block the open). */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? RPB_ERR_SIDECAR_MISSING
               : errno == ELOOP ? RPB_ERR_SIDECAR_UNSAFE
                                : RPB_ERR_IO;
    struct stat st;
    int rc = RPB_OK;
    if (fstat(fd, &st) != 0)
        rc = RPB_ERR_IO;
    else if (!S_ISREG(st.st_mode))
        rc = RPB_ERR_SIDECAR_UNSAFE;
    else if (st.st_size > (off_t)RPB_SIDECAR_MAX_BYTES)
        rc = RPB_ERR_SIDECAR_TOO_LARGE;
    char *text = rc == RPB_OK ? rpb_mem_malloc(RPB_SIDECAR_MAX_BYTES + 1) : NULL;
    if (rc == RPB_OK && !text)
        rc = RPB_ERR_NO_MEMORY;
    size_t len = 0;
    while (rc == RPB_OK && len <= RPB_SIDECAR_MAX_BYTES) {
        ssize_t n = read(fd, text + len, RPB_SIDECAR_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = RPB_ERR_IO;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (rc == RPB_OK) /* a file that grew past the cap is refused too */
        rc = rpb_sidecar_parse(text, len, id);
    int saved = errno;
    rpb_mem_free(text);
    close(fd);
    errno = saved;
    return rc;
}

void rpb_sidecar_remove(const char *path)
{
    if (path)
        unlink(path);
}
