/* fixture.c - the suite's fixture service definitions (see fixture.h). */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rpb/rpb.h>

#include "stim.h"

const char *const fixture_services[] = {FIXTURE_SVC_PINNED, FIXTURE_SVC_OPEN, NULL};

static int write_file(const char *dir, const char *name, const sbuf *bytes)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.servicedef", dir, name) >= (int)sizeof path)
        return -ENAMETOOLONG;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t off = 0;
    while (off < bytes->len) {
        ssize_t n = write(fd, bytes->data + off, bytes->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            return -e;
        }
        off += (size_t)n;
    }
    return close(fd) < 0 ? -errno : 0;
}

/* A service with an endpoint; allowed: its one allow-list entry, or NULL;
 * handoff_socket: its handoff endpoint, or NULL. */
static int write_service(const char *dir, const char *name, const char *allowed, const char *handoff_socket)
{
    rpb_service_definition def;
    rpb_msg_init(&rpb_service_definition_desc, &def);
    def.service_name = rpb_slice_cstr(name);
    def.binary_path = rpb_slice_cstr(FIXTURE_BINARY_PATH);
    def.isolation = RPB_SHARED_BROKER;
    def.min_version = rpb_slice_cstr(FIXTURE_MIN_VERSION);
    /* rpb-broker reads Negotiated.backend_pipe from this label; other
     * brokers may ignore it (labels are free-form). */
    char pipe[128];
    snprintf(pipe, sizeof pipe, FIXTURE_BACKEND_PIPE_DIR "/%s.sock", name);
    rpb_map_node handoff = {rpb_slice_cstr(FIXTURE_HANDOFF_LABEL), rpb_slice_cstr(handoff_socket ? handoff_socket : ""),
                            NULL};
    rpb_map_node label = {rpb_slice_cstr("rpb.backend_pipe"), rpb_slice_cstr(pipe), handoff_socket ? &handoff : NULL};
    def.labels.head = &label;
    def.labels.tail = label.next ? label.next : &label;
    def.labels.count = handoff_socket ? 2 : 1;
    rpb_str_node node = {rpb_slice_cstr(allowed ? allowed : ""), NULL};
    if (allowed) {
        def.version_allow_list.head = def.version_allow_list.tail = &node;
        def.version_allow_list.count = 1;
    }
    sbuf bytes = SBUF_INIT;
    stim_encode(&bytes, &rpb_service_definition_desc, &def);
    int rc = write_file(dir, name, &bytes);
    sb_free(&bytes);
    return rc;
}

static int write_launch(const char *dir, const char *backend)
{
    rpb_service_definition def;
    rpb_msg_init(&rpb_service_definition_desc, &def);
    char bindir[4096];
    const char *slash = strrchr(backend, '/');
    snprintf(bindir, sizeof bindir, "%.*s", slash && slash > backend ? (int)(slash - backend) : 1, backend);
    def.service_name = rpb_slice_cstr(FIXTURE_SVC_LAUNCH);
    def.binary_path = rpb_slice_cstr(backend);
    def.per_version_binary_dir = rpb_slice_cstr(bindir);
    def.isolation = RPB_SHARED_BROKER;
    sbuf bytes = SBUF_INIT;
    stim_encode(&bytes, &rpb_service_definition_desc, &def);
    int rc = write_file(dir, FIXTURE_SVC_LAUNCH, &bytes);
    sb_free(&bytes);
    return rc;
}

void fixture_set_base(fixture_set *set, const char *handoff_socket)
{
    memset(set, 0, sizeof *set);
    for (const char *const *s = fixture_services; *s; s++)
        set->names[set->count++] = *s;
    if (handoff_socket)
        set->names[set->count++] = FIXTURE_SVC_HANDOFF;
    set->required = set->count;
}

int fixture_write(const char *dir, const char *backend, const char *handoff_socket, fixture_set *set)
{
    fixture_set_base(set, handoff_socket);
    int rc = write_service(dir, FIXTURE_SVC_PINNED, FIXTURE_ALLOWED_VERSION, NULL);
    if (rc == 0)
        rc = write_service(dir, FIXTURE_SVC_OPEN, NULL, NULL);
    if (rc == 0 && handoff_socket)
        rc = write_service(dir, FIXTURE_SVC_HANDOFF, NULL, handoff_socket);
    if (rc == 0 && backend) {
        rc = write_launch(dir, backend);
        if (rc == 0)
            set->names[set->count++] = FIXTURE_SVC_LAUNCH;
    }
    return rc;
}
