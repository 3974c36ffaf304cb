/*
 * fuzz_sidecar - the identity sidecar reader (spec/probe.md IDENT-030,
 * IDENT-031, IDENT-034).
 *
 * Input: the sidecar file's text.
 *
 * Oracles:
 *  - classes: rpb_sidecar_parse() returns OK, sidecar-malformed or
 *    sidecar-too-large (exactly when the text exceeds 64 KiB);
 *  - shape: an accepted identity has an endpoint and a 32-byte digest, and
 *    its strings are the NUL-terminated arrays of rpb_identity;
 *  - round trip: rpb_sidecar_format() of it parses back to the same
 *    identity (every field, idle presence included) and formats to the same
 *    text again (the writer is deterministic).
 */
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rpb_identity id, back;
    int rc = rpb_sidecar_parse((const char *)data, size, &id);
    FZ_CHECK(rc == RPB_OK || rc == RPB_ERR_SIDECAR_MALFORMED || rc == RPB_ERR_SIDECAR_TOO_LARGE,
             "class %s", rpb_errname(rc));
    FZ_CHECK((rc == RPB_ERR_SIDECAR_TOO_LARGE) == (size > RPB_SIDECAR_MAX_BYTES), "size cap");
    if (rc != RPB_OK)
        return 0;
    FZ_CHECK(id.dp.has_ipc_endpoint && id.dp.exe_sha256.len == 32 &&
                 id.dp.exe_sha256.data == id.exe_sha256,
             "accepted identity shape");
    FZ_CHECK((const char *)id.dp.exe_path.data == id.exe_path && id.exe_path[id.dp.exe_path.len] == 0,
             "exe_path not in the identity's array");
    rpb_buf one = {0}, two = {0};
    FZ_CHECK(rpb_sidecar_format(&id.dp, &one) == RPB_OK, "format of a parsed identity failed");
    FZ_CHECK(rpb_sidecar_parse((const char *)one.data, one.len, &back) == RPB_OK,
             "formatted sidecar does not parse");
    const char *changed = fz_msg_diff(&rpb_daemon_process_desc, &id.dp, &back.dp);
    FZ_CHECK(changed == NULL, "sidecar round trip changed the identity's %s", changed);
    FZ_CHECK(rpb_sidecar_format(&back.dp, &two) == RPB_OK && one.len == two.len &&
                 memcmp(one.data, two.data, one.len) == 0,
             "sidecar format is not deterministic");
    rpb_buf_free(&one);
    rpb_buf_free(&two);
    return 0;
}
