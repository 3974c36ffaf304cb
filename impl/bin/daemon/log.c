/*
 * Daemon logging: one line per event (SEC-015), as `PROG: event
 * key=value ...` text or as one JSON object per line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "rpb/codec.h"
#include "rpb/json.h"

static FILE *log_file;
static const char *log_prog = "rpb";
static bool log_json;

int blog_open(const char *prog, const char *path, bool json)
{
    log_prog = prog;
    log_json = json;
    if (path == NULL) {
        log_file = stderr;
    } else if (strcmp(path, "-") == 0) {
        log_file = stdout;
    } else {
        log_file = fopen(path, "ae");
        if (log_file == NULL) {
            fprintf(stderr, "%s: cannot open log file %s: %s\n", log_prog, path, strerror(errno));
            return -1;
        }
    }
    setvbuf(log_file, NULL, _IOLBF, 0);
    return 0;
}

void blog_close(void)
{
    if (log_file != NULL && log_file != stderr && log_file != stdout)
        fclose(log_file);
    log_file = NULL;
}

/* SEC-018: peer-controlled values (service, version, reasons) never reach
 * the log raw: text values are quoted and escaped below, JSON values are
 * JSON strings or, when not UTF-8, hex. */

/* True when s needs quotes in the text form: a backslash too, since only
 * quoted values carry escapes (SEC-018). */
static bool needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s; s++)
        if (*s == ' ' || *s == '"' || *s == '=' || *s == '\\' || (unsigned char)*s < 0x20)
            return true;
    return false;
}

static void text_value(const char *s)
{
    if (!needs_quotes(s)) {
        fputs(s, log_file);
        return;
    }
    fputc('"', log_file);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(log_file, "\\%c", c);
        else if (c < 0x20)
            fprintf(log_file, "\\x%02x", c);
        else
            fputc(c, log_file);
    }
    fputc('"', log_file);
}

int64_t unix_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void blog_event(const char *event, const blog_field *fields, size_t n)
{
    if (log_file == NULL)
        return;
    int64_t ms = unix_now_ms();
    if (log_json) {
        rpb_json_writer w;
        rpb_json_writer_init_file(&w, log_file, 0);
        rpb_json_begin_object(&w);
        rpb_json_key(&w, "ts_unix_ms");
        rpb_json_int(&w, ms);
        rpb_json_key(&w, "event");
        rpb_json_cstring(&w, event);
        for (size_t i = 0; i < n; i++) {
            rpb_json_key(&w, fields[i].key);
            if (fields[i].str == NULL) {
                rpb_json_int(&w, fields[i].num);
                continue;
            }
            rpb_slice v = rpb_slice_cstr(fields[i].str);
            if (rpb_utf8_valid(v.data, v.len))
                rpb_json_string(&w, v);
            else
                rpb_json_hex(&w, v);
        }
        rpb_json_end_object(&w);
        rpb_json_writer_finish(&w);
        fputc('\n', log_file);
        return;
    }
    fprintf(log_file, "%s: %s", log_prog, event);
    for (size_t i = 0; i < n; i++) {
        fprintf(log_file, " %s=", fields[i].key);
        if (fields[i].str == NULL)
            fprintf(log_file, "%lld", (long long)fields[i].num);
        else
            text_value(fields[i].str);
    }
    fputc('\n', log_file);
}

void blog_msg(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_file == NULL) {
        fprintf(stderr, "%s: %s\n", log_prog, msg);
        return;
    }
    if (!log_json) {
        fprintf(log_file, "%s: %s\n", log_prog, msg);
        return;
    }
    blog_field f = BLOG_S("message", msg);
    blog_event("message", &f, 1);
}
