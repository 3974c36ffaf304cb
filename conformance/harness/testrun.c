/* testrun.c - child-process helpers for the harness's tests (see testrun.h). */
#define _GNU_SOURCE
#include "testrun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

pid_t run_start(char *const argv[], const char *out_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execv(argv[0], argv);
    _exit(127);
}

int run_wait(pid_t pid)
{
    int st;
    if (pid < 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

bool read_file(const char *path, sbuf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_put(b, buf, n);
    fclose(f);
    return true;
}

int run_cmd(char *const argv[], sbuf *out)
{
    char dir[256];
    if (!make_temp_dir(dir, sizeof dir))
        return -1;
    char path[300];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    int rc = run_wait(run_start(argv, path));
    if (out)
        read_file(path, out);
    remove_temp_dir(dir);
    return rc;
}

bool read_report(const char *path, rpb_json_doc *doc)
{
    sbuf b = SBUF_INIT;
    memset(doc, 0, sizeof *doc);
    if (!read_file(path, &b)) {
        fprintf(stderr, "cannot read %s\n", path);
        return false;
    }
    rpb_errinfo err;
    int rc = rpb_json_parse((const char *)b.data, b.len, doc, &err);
    if (rc != RPB_OK)
        fprintf(stderr, "%s: invalid JSON at %zu: %s\n", path, err.offset, err.message);
    sb_free(&b);
    return rc == RPB_OK;
}

const rpb_json_value *report_case(const rpb_json_value *report, const char *id)
{
    const rpb_json_value *cases = rpb_json_get(report, "cases");
    if (!cases || cases->type != RPB_JSON_ARRAY)
        return NULL;
    for (const rpb_json_value *v = cases->u.children.head; v; v = v->next)
        if (rpb_json_is_string(rpb_json_get(v, "id"), id))
            return v;
    return NULL;
}

const char *report_first_failure(const rpb_json_value *entry)
{
    const rpb_json_value *f = rpb_json_get(entry, "failures");
    if (!f || f->type != RPB_JSON_ARRAY || !f->u.children.head || f->u.children.head->type != RPB_JSON_STRING)
        return "";
    return (const char *)f->u.children.head->u.string.data;
}

bool make_temp_dir(char *out, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, cap, "%s/rpb-conform-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(out) != NULL;
}

void remove_temp_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

int cunit_run(const char *tmp_dir)
{
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    if (tmp_dir)
        remove_temp_dir(tmp_dir);
    return failures ? 1 : 0;
}
