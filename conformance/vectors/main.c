/*
 * rpb-vectors - replays the golden vectors (the JSON files of vectors/,
 * format in vectors/README.md) against librpb as a CUnit program: one suite per file,
 * one CUnit test per vector, named by the vector id.
 *
 *   rpb-vectors [--verbose] [--only PREFIX] DIR|FILE...
 *
 * Ends with CUnit's run summary and the line "N passed, N failed"
 * (vectors); exit status 0 when every vector passed, 1 otherwise, 2 on a
 * usage error.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "cli.h"
#include "vectors.h"

bool vec_verbose;

/* Every loaded file: its path (tests point into it) and parsed doc. */
typedef struct loaded {
    char *path;
    rpb_json_doc *doc;
} loaded;

static loaded *files;
static size_t n_files;

static vec_test *tests;
static size_t n_tests, cap_tests;
static char **messages; /* failure texts, alive until exit */
static size_t n_messages;

void vec_fail(vec_test *t, const char *file, unsigned line, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    size_t n = strlen(t->id) + strlen(body) + 3;
    char *msg = malloc(n);
    char **grown = realloc(messages, (n_messages + 1) * sizeof *messages);
    if (msg == NULL || grown == NULL) {
        free(msg);
        msg = NULL;
    } else {
        messages = grown;
        snprintf(msg, n, "%s: %s", t->id, body);
        messages[n_messages++] = msg;
    }
    t->failures++;
    if (vec_verbose)
        fprintf(stderr, "  %s\n", msg != NULL ? msg : body);
    CU_assertImplementation(CU_FALSE, line, msg != NULL ? msg : body, file, "", CU_FALSE);
}

static vec_test *add_test(void)
{
    if (n_tests == cap_tests) {
        size_t cap = cap_tests ? 2 * cap_tests : 256;
        vec_test *grown = realloc(tests, cap * sizeof *tests);
        if (grown == NULL) {
            fprintf(stderr, "rpb-vectors: out of memory\n");
            exit(2);
        }
        tests = grown;
        cap_tests = cap;
    }
    vec_test *t = &tests[n_tests++];
    memset(t, 0, sizeof *t);
    return t;
}

/* The one CUnit test function: runs the vector CUnit is running. */
static void run_current(void)
{
    CU_pTest cu = CU_get_current_test();
    for (size_t i = 0; i < n_tests; i++) {
        if (tests[i].cu != cu)
            continue;
        if (tests[i].problem != NULL) {
            tests[i].ran = true;
            vec_fail(&tests[i], __FILE__, __LINE__, "%s", tests[i].problem);
        } else {
            vec_run(&tests[i]);
            /* one passing assertion stands for the vector's passed checks */
            if (tests[i].failures == 0)
                CU_PASS(tests[i].id);
        }
        return;
    }
}

/* A problem of file's format, shown as a failing test of its suite. */
static void add_problem(CU_pSuite suite, const char *file, const char *problem)
{
    vec_test *t = add_test();
    t->file = file;
    t->id = file;
    t->problem = problem;
    t->cu = CU_add_test(suite, problem, run_current);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

/* Remembers path (malloc'd) and doc until exit; false when out of memory. */
static bool keep(char *path, rpb_json_doc *doc)
{
    loaded *grown = realloc(files, (n_files + 1) * sizeof *files);
    if (grown == NULL)
        return false;
    files = grown;
    files[n_files++] = (loaded){path, doc};
    return true;
}

/* Loads the vector file at path (malloc'd, taken over) into its own suite. */
static void load_file(char *path, const char *only)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    CU_pSuite suite = CU_add_suite(base, NULL, NULL);
    if (suite == NULL) {
        fprintf(stderr, "rpb-vectors: cannot add a suite for %s\n", path);
        exit(2);
    }
    size_t len = 0;
    char *text = read_file(path, &len);
    rpb_json_doc *doc = calloc(1, sizeof *doc);
    rpb_errinfo err;
    if (doc == NULL || !keep(path, doc)) {
        fprintf(stderr, "rpb-vectors: out of memory\n");
        exit(2);
    }
    if (text == NULL) {
        add_problem(suite, base, "format: the file cannot be read");
        return;
    }
    if (rpb_json_parse(text, len, doc, &err) != RPB_OK) {
        fprintf(stderr, "rpb-vectors: %s: JSON error at offset %zu: %s\n", path, err.offset,
                err.message);
        add_problem(suite, base, "format: not valid JSON");
        free(text);
        return;
    }
    free(text);
    const rpb_json_value *root = doc->root;
    const rpb_json_value *groups = rpb_json_get(root, "groups");
    uint64_t declared = 0;
    if (!rpb_json_is_string(rpb_json_get(root, "schema"), "rpb-vectors/1") || groups == NULL ||
        groups->type != RPB_JSON_ARRAY ||
        !rpb_json_as_u64(rpb_json_get(root, "numberOfTests"), &declared)) {
        add_problem(suite, base, "format: not an rpb-vectors/1 file (schema, groups, "
                                 "numberOfTests)");
        return;
    }
    uint64_t counted = 0;
    for (const rpb_json_value *g = groups->u.children.head; g != NULL; g = g->next) {
        const rpb_json_value *list = rpb_json_get(g, "tests");
        if (list == NULL || list->type != RPB_JSON_ARRAY) {
            add_problem(suite, base, "format: a group without a \"tests\" array");
            continue;
        }
        for (const rpb_json_value *tv = list->u.children.head; tv != NULL; tv = tv->next) {
            counted++;
            const rpb_json_value *id = rpb_json_get(tv, "id");
            if (id == NULL || id->type != RPB_JSON_STRING) {
                add_problem(suite, base, "format: a test without a string \"id\"");
                continue;
            }
            const char *name = (const char *)id->u.string.data;
            if (only != NULL && strncmp(name, only, strlen(only)) != 0)
                continue;
            vec_test *t = add_test();
            t->file = base;
            t->doc = doc;
            t->id = name;
            t->group = g;
            t->test = tv;
            t->cu = CU_add_test(suite, name, run_current);
        }
    }
    if (counted != declared)
        add_problem(suite, base, "format: numberOfTests differs from the number of tests");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Test ids must be unique across all files (vectors/README.md); each
 * duplicate becomes a failing test of an extra suite. */
static void check_unique_ids(void)
{
    const char **ids = malloc((n_tests + 1) * sizeof *ids);
    size_t n = 0;
    if (ids == NULL)
        return;
    for (size_t i = 0; i < n_tests; i++)
        if (tests[i].problem == NULL)
            ids[n++] = tests[i].id;
    qsort(ids, n, sizeof *ids, by_name);
    CU_pSuite suite = NULL;
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ids[i - 1], ids[i]) != 0)
            continue;
        if (suite == NULL)
            suite = CU_add_suite("test ids", NULL, NULL);
        if (suite != NULL)
            add_problem(suite, ids[i], "format: the test id occurs more than once");
    }
    free(ids);
}

/* Loads the .json files of dir in name order, except the JSON schema. */
static size_t load_dir(const char *dir, const char *only)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0 ||
            strcmp(e->d_name, "schema.json") == 0)
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (grown == NULL)
            break;
        names = grown;
        size_t plen = strlen(dir) + l + 2;
        names[n] = malloc(plen);
        if (names[n] == NULL)
            break;
        snprintf(names[n], plen, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++)
        load_file(names[i], only);
    free(names);
    return n;
}

#define PROG "rpb-vectors"

static void usage(void)
{
    fputs("usage: " PROG " [--verbose] [--only PREFIX] DIR|FILE...\n"
          "Replays the golden vectors (vectors/README.md) against librpb.  A DIR\n"
          "contributes its *.json files except schema.json.  --only runs the vectors\n"
          "whose id starts with PREFIX.  Prints CUnit's summary and \"N passed, N\n"
          "failed\"; exit 0 when every vector passed, 1 otherwise, 2 on usage errors.\n",
          stdout);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int first_path = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verbose") == 0) {
            vec_verbose = true;
        } else if (strcmp(argv[i], "--only") == 0) {
            if (i + 1 == argc)
                return cli_usage_error(PROG, "--only needs a value");
            only = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (argv[i][0] == '-') {
            return cli_usage_error(PROG, "unknown option '%s'", argv[i]);
        } else if (first_path == 0) {
            first_path = i;
        }
    }
    if (first_path == 0)
        return cli_usage_error(PROG, "no vector file or directory given");
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "rpb-vectors: %s\n", CU_get_error_msg());
        return 2;
    }
    size_t n_loaded = 0;
    for (int i = first_path; i < argc; i++) {
        if (strcmp(argv[i], "--only") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "rpb-vectors: cannot access %s\n", argv[i]);
            CU_cleanup_registry();
            return 2;
        }
        if (S_ISDIR(st.st_mode)) {
            n_loaded += load_dir(argv[i], only);
        } else {
            char *path = strdup(argv[i]);
            if (path == NULL)
                return 2;
            load_file(path, only);
            n_loaded++;
        }
    }
    if (n_loaded == 0) {
        fprintf(stderr, "rpb-vectors: no vector files found\n");
        CU_cleanup_registry();
        return 1;
    }
    check_unique_ids();
    CU_basic_set_mode(vec_verbose ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
    CU_basic_run_tests();
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < n_tests; i++) {
        if (tests[i].ran && tests[i].failures == 0)
            passed++;
        else
            failed++;
    }
    bool cunit_failed = CU_get_number_of_failures() != 0;
    printf("\n%zu passed, %zu failed\n", passed, failed);
    CU_cleanup_registry();
    for (size_t i = 0; i < n_messages; i++)
        free(messages[i]);
    free(messages);
    free(tests);
    for (size_t i = 0; i < n_files; i++) {
        rpb_json_doc_free(files[i].doc);
        free(files[i].doc);
        free(files[i].path);
    }
    free(files);
    return failed != 0 || cunit_failed ? 1 : 0;
}
