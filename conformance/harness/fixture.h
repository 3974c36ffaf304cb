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

/* Writes every <service>.servicedef (prost ServiceDefinition) into dir,
 * which must exist; files are 0600.  Returns 0 or -errno. */
int fixture_write(const char *dir);

/* Writes conform-launch.servicedef into dir: binary_path backend (an
 * absolute path), per_version_binary_dir its directory, no allow-list.
 * Returns 0 or -errno. */
int fixture_write_launch(const char *dir, const char *backend);

/* The names of the fixture's service files, NULL-terminated. */
extern const char *const fixture_services[];

#endif
