/*
 * fixture.h - the suite's fixture: the service definitions and broker
 * settings every case relies on (documented in conformance/README.md and
 * conformance/fixture/README.md).
 */
#ifndef CONFORM_FIXTURE_H
#define CONFORM_FIXTURE_H

#include <stddef.h>

/* Broker settings the fixture asks for. */
#define FIXTURE_RATE_N 500u              /* Hellos per pid per window */
#define FIXTURE_RATE_WINDOW_MS 10000u
#define FIXTURE_HANDSHAKE_MS 1000        /* handshake deadline */
#define FIXTURE_FRAME_MS 1000            /* backend: deadline for each next frame (rpb-backend --frame-timeout) */
#define FIXTURE_HANDOFF_MS 1000          /* backend: deadline for a handoff connection (rpb-backend --handoff-timeout) */

/* Services. */
#define FIXTURE_SVC_PINNED "zccache"      /* min 1.10.0, allow-list [1.11.20] */
#define FIXTURE_SVC_OPEN "conform-open"   /* min 1.10.0, no allow-list */
#define FIXTURE_MIN_VERSION "1.10.0"
#define FIXTURE_ALLOWED_VERSION "1.11.20"
#define FIXTURE_BINARY_PATH "/bin/true"
#define FIXTURE_BACKEND_PIPE_DIR "/run/rpb-conform" /* label rpb.backend_pipe = DIR/<service>.sock */
/* The launched service of the launch area (spec/discovery.md §3): no
 * backend endpoint; binary_path is rpb-backend, machine-specific, so it is
 * not part of the fixture files (conformance/fixture/). */
#define FIXTURE_SVC_LAUNCH "conform-launch"
/* The handoff area's service (spec/handoff.md): conform-open's settings
 * plus a handoff endpoint, the label rpb.handoff_socket, where the harness
 * listens playing the backend; the path is the run's, so the service is
 * not part of the fixture files either. */
#define FIXTURE_SVC_HANDOFF "conform-handoff"
#define FIXTURE_HANDOFF_LABEL "rpb.handoff_socket"

/* The services a fixture directory holds: what fixture_write() wrote
 * there (names NULL-terminated).  A broker serves names[0..required); the
 * rest are launched services, which only a broker that launches backends
 * serves (a --services broker rejects a definition without an endpoint). */
typedef struct fixture_set {
    const char *names[5];
    size_t count, required;
} fixture_set;

/* The base services, fixture_services: what `rpb-conform fixture DIR`
 * writes, and what a --connect run assumes the broker was given (with
 * conform-handoff when handoff_socket is not NULL: --handoff-socket). */
void fixture_set_base(fixture_set *set, const char *handoff_socket);

/* Writes every <service>.servicedef (prost ServiceDefinition) into dir,
 * which must exist; files are 0600: the base services; when handoff_socket
 * is not NULL, conform-handoff with that handoff endpoint; when backend
 * (an absolute path) is not NULL, conform-launch with binary_path backend
 * and per_version_binary_dir its directory, no allow-list.  set gets the
 * services written.  Returns 0 or -errno. */
int fixture_write(const char *dir, const char *backend, const char *handoff_socket, fixture_set *set);

/* The names of the base fixture's service files, NULL-terminated. */
extern const char *const fixture_services[];

#endif
