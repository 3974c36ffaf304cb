/*
 * The service table of the Hello handler and the two service-definition
 * file forms (spec/hello.md HELLO-021..HELLO-023, "Service definitions").
 */
#include "rpb/hello.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../core/errinfo.h"
#include "rpb/codec.h"
#include "rpb/error.h"
#include "rpb/names.h" /* RPB_SUN_PATH_MAX */
#include "../core/mem.h"

/* One table entry: the service and one allocation holding its strings and
 * allow-list nodes. */
typedef struct service_entry {
    rpb_service svc;
    void *storage;
} service_entry;

struct rpb_service_table {
    service_entry *entries;
    size_t count;
    size_t cap;
};

rpb_service_table *rpb_service_table_new(void)
{
    return rpb_mem_calloc(1, sizeof(rpb_service_table));
}

void rpb_service_table_free(rpb_service_table *table)
{
    if (table == NULL)
        return;
    for (size_t i = 0; i < table->count; i++)
        rpb_mem_free(table->entries[i].storage);
    rpb_mem_free(table->entries);
    rpb_mem_free(table);
}

const rpb_service *rpb_service_table_find(const rpb_service_table *table, rpb_slice name)
{
    if (table == NULL)
        return NULL;
    for (size_t i = 0; i < table->count; i++)
        if (rpb_slice_eq(table->entries[i].svc.name, name))
            return &table->entries[i].svc;
    return NULL;
}

size_t rpb_service_table_count(const rpb_service_table *table)
{
    return table ? table->count : 0;
}

const rpb_service *rpb_service_table_at(const rpb_service_table *table, size_t i)
{
    return table && i < table->count ? &table->entries[i].svc : NULL;
}

static bool path_absolute_or_empty(rpb_slice p) { return p.len == 0 || p.data[0] == '/'; }

/* Checks svc the way every definition form is checked; NULL when fine. */
static const char *service_problem(const rpb_service *svc)
{
    if (!rpb_service_name_valid(svc->name))
        return "service name is not [a-z0-9-]{1,64}";
    if (svc->backend_pipe.len == 0 && svc->binary_path.len == 0)
        return "backend_pipe is empty (and no binary_path to launch)";
    if (svc->backend_pipe.len > RPB_SERVICE_PIPE_MAX)
        return "backend_pipe is longer than 4096 bytes";
    if (!rpb_utf8_valid(svc->backend_pipe.data, svc->backend_pipe.len))
        return "backend_pipe is not UTF-8";
    if (svc->daemon_version.len > RPB_SERVICE_DAEMON_VERSION_MAX)
        return "daemon_version is longer than 128 bytes";
    if (!rpb_utf8_valid(svc->daemon_version.data, svc->daemon_version.len))
        return "daemon_version is not UTF-8";
    if (svc->min_version.len > 0 && !rpb_version_valid(svc->min_version))
        return "min_version is not a valid version";
    for (const rpb_str_node *n = svc->allow_list.head; n != NULL; n = n->next)
        if (!rpb_version_valid(n->value))
            return "an allow-list entry is not a valid version";
    if (!path_absolute_or_empty(svc->binary_path) || !path_absolute_or_empty(svc->per_version_binary_dir))
        return "binary_path and per_version_binary_dir must be absolute";
    /* HANDOFF-020: a filesystem path naming a Unix socket */
    if (svc->handoff_socket.len > 0 &&
        (svc->handoff_socket.data[0] != '/' || svc->handoff_socket.len >= RPB_SUN_PATH_MAX ||
         memchr(svc->handoff_socket.data, 0, svc->handoff_socket.len) != NULL))
        return "handoff_socket must be an absolute path shorter than 108 bytes";
    return NULL;
}

/* Copies s to *cursor and returns the copy as a slice. */
static rpb_slice copy_slice(uint8_t **cursor, rpb_slice s)
{
    rpb_slice out = {*cursor, s.len};
    if (s.len > 0)
        memcpy(*cursor, s.data, s.len);
    *cursor += s.len;
    return out;
}

/* Copies list to the nodes at *nodes and its strings to *cursor. */
static rpb_strlist copy_list(uint8_t **cursor, rpb_str_node **nodes, const rpb_strlist *list)
{
    rpb_strlist out = {0};
    for (const rpb_str_node *n = list->head; n != NULL; n = n->next) {
        rpb_str_node *c = (*nodes)++;
        c->value = copy_slice(cursor, n->value);
        c->next = NULL;
        if (out.tail)
            out.tail->next = c;
        else
            out.head = c;
        out.tail = c;
        out.count++;
    }
    return out;
}

int rpb_service_table_add(rpb_service_table *table, const rpb_service *svc, rpb_errinfo *err)
{
    const char *problem = service_problem(svc);
    if (problem == NULL && rpb_service_table_find(table, svc->name) != NULL)
        problem = "a service with this name is already defined";
    if (problem != NULL)
        return rpb_errinfo_printf(err, RPB_ERR_INVALID_ARGUMENT, 0, 0, "%s", problem);
    if (table->count == table->cap) {
        size_t ncap = table->cap ? table->cap * 2 : 8;
        service_entry *n = rpb_mem_realloc(table->entries, ncap * sizeof *n);
        if (n == NULL)
            return rpb_errinfo_set(err, RPB_ERR_NO_MEMORY, 0);
        table->entries = n;
        table->cap = ncap;
    }
    size_t bytes = (svc->allow_list.count + svc->launch_args.count) * sizeof(rpb_str_node) +
                   svc->name.len + svc->backend_pipe.len + svc->daemon_version.len +
                   svc->min_version.len + svc->binary_path.len + svc->per_version_binary_dir.len +
                   svc->handoff_socket.len;
    for (const rpb_str_node *n = svc->allow_list.head; n != NULL; n = n->next)
        bytes += n->value.len;
    for (const rpb_str_node *n = svc->launch_args.head; n != NULL; n = n->next)
        bytes += n->value.len;
    void *storage = rpb_mem_malloc(bytes ? bytes : 1);
    if (storage == NULL)
        return rpb_errinfo_set(err, RPB_ERR_NO_MEMORY, 0);

    service_entry *e = &table->entries[table->count];
    memset(e, 0, sizeof *e);
    e->storage = storage;
    rpb_str_node *nodes = storage;
    uint8_t *cursor = (uint8_t *)(nodes + svc->allow_list.count + svc->launch_args.count);
    e->svc.name = copy_slice(&cursor, svc->name);
    e->svc.backend_pipe = copy_slice(&cursor, svc->backend_pipe);
    e->svc.daemon_version = copy_slice(&cursor, svc->daemon_version);
    e->svc.min_version = copy_slice(&cursor, svc->min_version);
    e->svc.binary_path = copy_slice(&cursor, svc->binary_path);
    e->svc.per_version_binary_dir = copy_slice(&cursor, svc->per_version_binary_dir);
    e->svc.handoff_socket = copy_slice(&cursor, svc->handoff_socket);
    e->svc.server_capabilities = svc->server_capabilities;
    e->svc.allow_list = copy_list(&cursor, &nodes, &svc->allow_list);
    e->svc.launch_args = copy_list(&cursor, &nodes, &svc->launch_args);
    table->count++;
    return RPB_OK;
}

/* ---- service-definition files ---- */

/* Parses decimal or 0x-hex u64 from s; false on anything else. */
static bool parse_u64(rpb_slice s, uint64_t *out)
{
    size_t i = 0;
    unsigned base = 10;
    if (s.len > 2 && s.data[0] == '0' && (s.data[1] == 'x' || s.data[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == s.len)
        return false;
    uint64_t v = 0;
    for (; i < s.len; i++) {
        uint8_t c = s.data[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static int fail(rpb_errinfo *err, const char *msg)
{
    return rpb_errinfo_printf(err, RPB_ERR_INVALID_ARGUMENT, 0, 0, "%s", msg);
}

int rpb_servicedef_parse_proto(const uint8_t *in, size_t len, rpb_slice stem, rpb_arena *arena,
                               rpb_service *svc, rpb_errinfo *err)
{
    rpb_service_definition def;
    rpb_msg_init(&rpb_service_definition_desc, &def);
    int rc = rpb_decode(&rpb_service_definition_desc, in, len, &def, arena, 0, err);
    if (rc != RPB_OK) {
        if (err)
            snprintf(err->message, sizeof err->message,
                     "the file is not a valid ServiceDefinition (%s at byte %zu)", rpb_errname(rc),
                     err->offset);
        return rc;
    }
    if (!rpb_slice_eq(def.service_name, stem))
        return fail(err, "service_name does not match the file name");
    if (!path_absolute_or_empty(def.binary_path) || !path_absolute_or_empty(def.per_version_binary_dir))
        return fail(err, "binary_path and per_version_binary_dir must be absolute");
    if (def.isolation < RPB_PRIVATE_BROKER || def.isolation > RPB_EXPLICIT_INSTANCE)
        return fail(err, "isolation is not PRIVATE, SHARED or EXPLICIT");
    if ((def.isolation == RPB_EXPLICIT_INSTANCE) != (def.explicit_instance.len > 0))
        return fail(err, "explicit_instance must be set exactly for EXPLICIT_INSTANCE isolation");

    memset(svc, 0, sizeof *svc);
    svc->name = def.service_name;
    svc->min_version = def.min_version;
    svc->allow_list = def.version_allow_list;
    svc->binary_path = def.binary_path;
    svc->per_version_binary_dir = def.per_version_binary_dir;
    const rpb_slice *v = rpb_map_get(&def.labels, rpb_slice_cstr(RPB_LABEL_BACKEND_PIPE));
    if ((v == NULL || v->len == 0) && def.binary_path.len == 0)
        return fail(err, "label rpb.backend_pipe (the backend endpoint) is missing");
    if (v != NULL)
        svc->backend_pipe = *v;
    v = rpb_map_get(&def.labels, rpb_slice_cstr(RPB_LABEL_DAEMON_VERSION));
    if (v != NULL)
        svc->daemon_version = *v;
    v = rpb_map_get(&def.labels, rpb_slice_cstr(RPB_LABEL_SERVER_CAPABILITIES));
    if (v != NULL && !parse_u64(*v, &svc->server_capabilities))
        return fail(err, "label rpb.server_capabilities is not a number");
    v = rpb_map_get(&def.labels, rpb_slice_cstr(RPB_LABEL_HANDOFF_SOCKET));
    if (v != NULL)
        svc->handoff_socket = *v;
    const char *problem = service_problem(svc);
    return problem ? fail(err, problem) : RPB_OK;
}

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t' || c == '\r'; }

static rpb_slice trim(const uint8_t *p, size_t n)
{
    while (n > 0 && is_blank(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_blank(p[n - 1]))
        n--;
    return (rpb_slice){p, n};
}

/* Applies one `key = value` line of the text form to svc. */
static int text_line(rpb_slice key, rpb_slice value, rpb_arena *arena, rpb_service *svc,
                     bool *named, bool *piped, rpb_errinfo *err)
{
    if (rpb_slice_eq_cstr(key, "service_name")) {
        svc->name = value;
        *named = true;
    } else if (rpb_slice_eq_cstr(key, "backend_pipe")) {
        svc->backend_pipe = value;
        *piped = true;
    } else if (rpb_slice_eq_cstr(key, "daemon_version")) {
        svc->daemon_version = value;
    } else if (rpb_slice_eq_cstr(key, "min_version")) {
        if (value.len > 0 && !rpb_version_valid(value))
            return fail(err, "min_version is not a valid version");
        svc->min_version = value;
    } else if (rpb_slice_eq_cstr(key, "allow")) {
        if (!rpb_version_valid(value))
            return fail(err, "allow is not a valid version");
        int rc = rpb_strlist_append(&svc->allow_list, arena, value);
        if (rc != RPB_OK)
            return rpb_errinfo_printf(err, rc, 0, 0, "too many allow lines for the scratch arena");
    } else if (rpb_slice_eq_cstr(key, "server_capabilities")) {
        if (!parse_u64(value, &svc->server_capabilities))
            return fail(err, "server_capabilities is not a number");
    } else if (rpb_slice_eq_cstr(key, "binary_path")) {
        svc->binary_path = value;
    } else if (rpb_slice_eq_cstr(key, "per_version_binary_dir")) {
        svc->per_version_binary_dir = value;
    } else if (rpb_slice_eq_cstr(key, "arg")) {
        int rc = rpb_strlist_append(&svc->launch_args, arena, value);
        if (rc != RPB_OK)
            return rpb_errinfo_printf(err, rc, 0, 0, "too many arg lines for the scratch arena");
    } else if (rpb_slice_eq_cstr(key, "handoff_socket")) {
        svc->handoff_socket = value;
    } else {
        int n = key.len > 64 ? 64 : (int)key.len;
        return rpb_errinfo_printf(err, RPB_ERR_INVALID_ARGUMENT, 0, 0,
                                  "unknown key \"%.*s\" (keys: backend_pipe, daemon_version, "
                                  "min_version, allow, server_capabilities, service_name, "
                                  "binary_path, per_version_binary_dir, arg, handoff_socket)",
                                  n, (const char *)key.data);
    }
    return RPB_OK;
}

int rpb_servicedef_parse_text(const char *text, size_t len, rpb_slice stem, rpb_arena *arena,
                              rpb_service *svc, rpb_errinfo *err)
{
    const uint8_t *p = (const uint8_t *)text;
    memset(svc, 0, sizeof *svc);
    svc->name = stem;
    if (!rpb_utf8_valid(p, len))
        return fail(err, "the file is not UTF-8");
    bool named = false, piped = false;
    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const uint8_t *nl = memchr(p + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - p) : len;
        lineno++;
        size_t line_start = pos;
        rpb_slice l = trim(p + pos, end - pos);
        pos = nl ? end + 1 : len;
        if (l.len == 0 || l.data[0] == '#')
            continue;
        const uint8_t *eq = memchr(l.data, '=', l.len);
        int rc = eq == NULL ? fail(err, "expected `key = value`")
                            : text_line(trim(l.data, (size_t)(eq - l.data)),
                                        trim(eq + 1, l.len - (size_t)(eq - l.data) - 1), arena,
                                        svc, &named, &piped, err);
        if (rc != RPB_OK) {
            if (err) {
                err->line = lineno;
                err->offset = line_start;
            }
            return rc;
        }
    }
    if (!piped && svc->binary_path.len == 0)
        return fail(err, "backend_pipe is required");
    if (named && !rpb_slice_eq(svc->name, stem))
        return fail(err, "service_name does not match the file name");
    const char *problem = service_problem(svc);
    return problem ? fail(err, problem) : RPB_OK;
}

int rpb_servicedef_encode_proto(const rpb_service *svc, rpb_arena *arena, uint8_t *out, size_t cap,
                                size_t *written)
{
    rpb_service_definition def;
    rpb_msg_init(&rpb_service_definition_desc, &def);
    def.service_name = svc->name;
    def.isolation = RPB_SHARED_BROKER;
    def.min_version = svc->min_version;
    def.version_allow_list = svc->allow_list;
    def.binary_path = svc->binary_path;
    def.per_version_binary_dir = svc->per_version_binary_dir;
    int rc = RPB_OK;
    if (svc->backend_pipe.len > 0)
        rc = rpb_map_append(&def.labels, arena, rpb_slice_cstr(RPB_LABEL_BACKEND_PIPE),
                            svc->backend_pipe);
    if (rc == RPB_OK && svc->daemon_version.len > 0)
        rc = rpb_map_append(&def.labels, arena, rpb_slice_cstr(RPB_LABEL_DAEMON_VERSION),
                            svc->daemon_version);
    char caps[24];
    if (rc == RPB_OK && svc->server_capabilities != 0) {
        int n = snprintf(caps, sizeof caps, "%" PRIu64, svc->server_capabilities);
        rc = rpb_map_append(&def.labels, arena, rpb_slice_cstr(RPB_LABEL_SERVER_CAPABILITIES),
                            (rpb_slice){(const uint8_t *)caps, (size_t)n});
    }
    if (rc == RPB_OK && svc->handoff_socket.len > 0)
        rc = rpb_map_append(&def.labels, arena, rpb_slice_cstr(RPB_LABEL_HANDOFF_SOCKET),
                            svc->handoff_socket);
    if (rc != RPB_OK)
        return rc;
    return rpb_encode(&rpb_service_definition_desc, &def, out, cap, written);
}
