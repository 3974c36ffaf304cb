/*
 * test_names.c - canonical socket names (spec/discovery.md NAME-001..006).
 * Expected user hashes were computed with b3sum, independently of librpb.
 */
#include <stdio.h>
#include <string.h>

#include "rpb/names.h"
#include "rpb/rpb.h"
#include "testutil.h"

#define MID "3d1219c7c4c5404aaa1f6d2a48adfda4"

/* NAME-003: first 8 bytes of BLAKE3("<uid>:<machine-id>") in lowercase hex
 * (echo -n 1000:3d12... | b3sum). */
static void test_user_hash(void)
{
    char h[RPB_USER_HASH_LEN + 1];
    CU_ASSERT_EQUAL(rpb_user_hash(1000, MID, h), RPB_OK);
    CU_ASSERT_STRING_EQUAL(h, "ba8e48b9b615c576");
    CU_ASSERT_EQUAL(rpb_user_hash(0, MID, h), RPB_OK);
    CU_ASSERT_STRING_EQUAL(h, "fabb4490c21b4bbc");
    CU_ASSERT_EQUAL(rpb_user_hash(1000, "", h), RPB_ERR_NO_MACHINE_ID);
    CU_ASSERT_EQUAL(rpb_user_hash(1000, NULL, h), RPB_ERR_NO_MACHINE_ID);
}

/* NAME-004: the runtime directory, or the /tmp fallback. NAME-006: an empty
 * or relative XDG_RUNTIME_DIR counts as unset. */
static void test_directory(void)
{
    rpb_names n;
    CU_ASSERT_EQUAL(rpb_names_init(&n, 1000, MID, "/run/user/1000"), RPB_OK);
    CU_ASSERT_STRING_EQUAL(n.dir, "/run/user/1000/running-process/broker");
    CU_ASSERT_EQUAL(rpb_names_init(&n, 1000, MID, NULL), RPB_OK);
    CU_ASSERT_STRING_EQUAL(n.dir, "/tmp/running-process-1000/broker");
    CU_ASSERT_EQUAL(rpb_names_init(&n, 1000, MID, ""), RPB_OK);
    CU_ASSERT_STRING_EQUAL(n.dir, "/tmp/running-process-1000/broker");
    CU_ASSERT_EQUAL(rpb_names_init(&n, 1000, MID, "run/user/1000"), RPB_OK);
    CU_ASSERT_STRING_EQUAL(n.dir, "/tmp/running-process-1000/broker");
}

/* NAME-001: the four leaves. */
static void test_leaves(void)
{
    rpb_names n;
    char p[RPB_SUN_PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(rpb_names_init(&n, 1000, MID, "/run/user/1000"), RPB_OK);
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SHARED, NULL, p, sizeof p), RPB_OK);
    CU_ASSERT_STRING_EQUAL(p, "/run/user/1000/running-process/broker/rpb-v1-ba8e48b9b615c576-shared.sock");
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, "zccache", p, sizeof p), RPB_OK);
    CU_ASSERT_STRING_EQUAL(p, "/run/user/1000/running-process/broker/rpb-v1-ba8e48b9b615c576-svc-zccache.sock");
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_INSTANCE, "dev-build", p, sizeof p), RPB_OK);
    CU_ASSERT_STRING_EQUAL(p,
                           "/run/user/1000/running-process/broker/rpb-v1-ba8e48b9b615c576-inst-dev-build.sock");
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_BACKEND, "abababababababababababababababab", p, sizeof p),
                    RPB_OK);
    CU_ASSERT_STRING_EQUAL(p, "/run/user/1000/running-process/broker/"
                              "rpb-v1-ba8e48b9b615c576-be-abababababababababababababababab.sock");
    /* NAME-005: the backend path under /run/user/1000 is 102 bytes */
    CU_ASSERT_EQUAL(strlen(p), 102);
}

/* NAME-002: nothing outside [a-z0-9-]{1,64} or 32 lowercase hex is named. */
static void test_invalid_names(void)
{
    rpb_names n;
    char p[RPB_SUN_PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(rpb_names_init(&n, 1000, MID, "/r"), RPB_OK);
    static const char *bad[] = {"", "Zccache", "zc_cache", "zc.cache", "zc cache", "zc/cache", "z\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, bad[i], p, sizeof p), RPB_ERR_NAME_INVALID);
        CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_INSTANCE, bad[i], p, sizeof p), RPB_ERR_NAME_INVALID);
    }
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, NULL, p, sizeof p), RPB_ERR_NAME_INVALID);
    char s65[66];
    memset(s65, 'a', 65);
    s65[65] = '\0';
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, s65, p, sizeof p), RPB_ERR_NAME_INVALID);
    /* 64 bytes pass the grammar; no directory leaves room for them (NAME-005) */
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, s65 + 1, p, sizeof p), RPB_ERR_NAME_TOO_LONG);
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_BACKEND, "ABABABABABABABABABABABABABABABAB", p, sizeof p),
                    RPB_ERR_NAME_INVALID);
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_BACKEND, "abababababababababababababababa", p, sizeof p),
                    RPB_ERR_NAME_INVALID);
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_BACKEND, "ababababababababababababababababa", p, sizeof p),
                    RPB_ERR_NAME_INVALID);
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_BACKEND, "gbababababababababababababababab", p, sizeof p),
                    RPB_ERR_NAME_INVALID);
}

/* NAME-005: a path of 108 bytes or more is refused, never truncated:
 * service names up to 36 bytes under /run/user/1000, 41 under /tmp. */
static void test_path_limit(void)
{
    rpb_names n;
    char p[RPB_SUN_PATH_MAX], name[64];
    CU_ASSERT_EQUAL_FATAL(rpb_names_init(&n, 1000, MID, "/run/user/1000"), RPB_OK);
    memset(name, 'a', sizeof name);
    name[36] = '\0';
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, name, p, sizeof p), RPB_OK);
    CU_ASSERT_EQUAL(strlen(p), 107);
    name[36] = 'a';
    name[37] = '\0';
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, name, p, sizeof p), RPB_ERR_NAME_TOO_LONG);
    CU_ASSERT_EQUAL_FATAL(rpb_names_init(&n, 1000, MID, NULL), RPB_OK);
    memset(name, 'a', sizeof name);
    name[41] = '\0';
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_INSTANCE, name, p, sizeof p), RPB_ERR_NAME_TOO_LONG);
    name[40] = '\0'; /* "-inst-" is one byte longer than "-svc-" */
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_INSTANCE, name, p, sizeof p), RPB_OK);
    name[40] = 'a';
    name[41] = '\0';
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SERVICE, name, p, sizeof p), RPB_OK);
    /* a caller buffer too small for a valid path */
    char small[16];
    CU_ASSERT_EQUAL(rpb_names_path(&n, RPB_NAME_SHARED, NULL, small, sizeof small), RPB_ERR_BUFFER_TOO_SMALL);
    /* a runtime directory that leaves no room at all */
    char longdir[RPB_SUN_PATH_MAX + 8];
    memset(longdir, 'd', sizeof longdir);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    CU_ASSERT_EQUAL(rpb_names_init(&n, 1000, MID, longdir), RPB_ERR_NAME_TOO_LONG);
}

/* rpb_machine_id() wants room for the longest id it accepts. */
static void test_machine_id_cap(void)
{
    char id[16];
    CU_ASSERT_EQUAL(rpb_machine_id(id, sizeof id), RPB_ERR_INVALID_ARGUMENT);
}

/* NAME-003: the machine id is /etc/machine-id trimmed (a ctest entry of
 * its own: it skips on a host without one). */
static void test_machine_id_file(void)
{
    char id[RPB_MACHINE_ID_MAX + 1], raw[512] = "";
    FILE *f = fopen("/etc/machine-id", "r");
    if (f) {
        size_t got = fread(raw, 1, sizeof raw - 1, f);
        fclose(f);
        raw[got] = '\0';
        raw[strcspn(raw, " \t\r\n")] = '\0';
    }
    if (raw[0] == '\0') {
        tu_skip("this host has no (or an empty) /etc/machine-id");
        return;
    }
    CU_ASSERT_EQUAL(rpb_machine_id(id, sizeof id), RPB_OK);
    CU_ASSERT_STRING_EQUAL(id, raw);
}

int main(int argc, char **argv)
{
    static const tu_test tests[] = {
        {"user hash (NAME-003)", test_user_hash},
        {"directory (NAME-004, NAME-006)", test_directory},
        {"four leaves (NAME-001)", test_leaves},
        {"invalid names (NAME-002)", test_invalid_names},
        {"sun_path limit (NAME-005)", test_path_limit},
        {"machine id buffer", test_machine_id_cap},
        {NULL, NULL},
    };
    /* run alone by their id (impl/tests/CMakeLists.txt), as they may skip */
    static const tu_alone alone[] = {
        {"machine-id-file", "machine id file (NAME-003)", test_machine_id_file},
        {NULL, NULL, NULL},
    };
    return tu_run_only("names", tests, alone, argc > 1 ? argv[1] : NULL);
}
