/*
 * test_daemon_log.c - the reference daemons' log (impl/bin/daemon/log.c)
 * with peer-controlled values (SEC-018): one event is one line, a text
 * value with a space, quote, backslash, '=' or control byte is quoted with quote,
 * backslash and control bytes escaped, and in the JSON form every value is
 * a JSON string, hex when it is not UTF-8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "rpb/json.h"
#include "testutil.h"

/* Logs one event with the given fields into a fresh file and returns the
 * file's whole text (malloc'd, NUL-terminated). */
static char *log_one(bool json, const blog_field *fields, size_t n)
{
    char path[] = "/tmp/rpb-test-log-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_FATAL(blog_open("rpb-test", path, json) == 0);
    blog_event("refused", fields, n);
    blog_close();
    FILE *f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    char *text = calloc(1, 4096);
    CU_ASSERT_FATAL(text != NULL);
    size_t got = fread(text, 1, 4095, f);
    fclose(f);
    unlink(path);
    text[got] = '\0';
    return text;
}

/* The values a peer controls: a forged line, a forged field, quotes. */
static const char forged_line[] = "1.0\nrpb-test: negotiated service=zccache";
static const char forged_field[] = "svc outcome=negotiated";
static const char quoted[] = "say \"hi\" \\ bye";

static void test_text_values_cannot_forge(void) /* SEC-018 */
{
    const blog_field f[] = {BLOG_S("version", forged_line), BLOG_S("service", forged_field),
                            BLOG_S("reason", quoted),       BLOG_S("empty", ""),
                            BLOG_S("plain", "zccache"),     BLOG_S("slash", "a\\b"),
                            BLOG_N("pid", 7)};
    char *text = log_one(false, f, sizeof f / sizeof f[0]);
    CU_ASSERT_STRING_EQUAL(text, "rpb-test: refused"
                                 " version=\"1.0\\x0arpb-test: negotiated service=zccache\""
                                 " service=\"svc outcome=negotiated\""
                                 " reason=\"say \\\"hi\\\" \\\\ bye\""
                                 " empty=\"\" plain=zccache slash=\"a\\\\b\" pid=7\n");
    free(text);
}

static void test_json_values_are_strings(void) /* SEC-018 */
{
    const blog_field f[] = {BLOG_S("version", forged_line), BLOG_S("reason", quoted),
                            BLOG_S("service", "\xff\xfe"), BLOG_N("pid", 7)};
    char *text = log_one(true, f, sizeof f / sizeof f[0]);
    char *nl = strchr(text, '\n');
    CU_ASSERT_FATAL(nl != NULL);
    CU_ASSERT_EQUAL(nl[1], '\0'); /* one line */
    rpb_json_doc doc;
    CU_ASSERT_FATAL(rpb_json_parse(text, (size_t)(nl - text), &doc, NULL) == RPB_OK);
    const rpb_json_value *v = rpb_json_get(doc.root, "version");
    CU_ASSERT_TRUE(v && v->type == RPB_JSON_STRING && rpb_slice_eq_cstr(v->u.string, forged_line));
    v = rpb_json_get(doc.root, "reason");
    CU_ASSERT_TRUE(v && v->type == RPB_JSON_STRING && rpb_slice_eq_cstr(v->u.string, quoted));
    v = rpb_json_get(doc.root, "service"); /* not UTF-8: hex */
    CU_ASSERT_TRUE(v && v->type == RPB_JSON_STRING && rpb_slice_eq_cstr(v->u.string, "fffe"));
    uint64_t pid = 0;
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "pid"), &pid) && pid == 7);
    rpb_json_doc_free(&doc);
    free(text);
}

int main(void)
{
    static const tu_test tests[] = {
        {"text log: peer values quoted and escaped (SEC-018)", test_text_values_cannot_forge},
        {"JSON log: peer values are JSON strings, hex when not UTF-8 (SEC-018)",
         test_json_values_are_strings},
        {NULL, NULL},
    };
    return tu_run("daemon log", tests);
}
