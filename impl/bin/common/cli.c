/*
 * cli.c - number parsing, usage errors and --version of the rpb tools.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "rpb/version.h"

bool cli_parse_u64(const char *s, cli_number syntax, uint64_t max, uint64_t *out)
{
    bool hex = syntax == CLI_DECIMAL_OR_HEX && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    /* strtoull alone would take blanks, a sign, and "0x" after a sign */
    if (!(hex ? isxdigit((unsigned char)digits[0]) : isdigit((unsigned char)digits[0])))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (!cli_parse_u64(s, CLI_DECIMAL, UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_option_error(const char *prog, int c, char *const argv[])
{
    if (c == ':')
        return cli_usage_error(prog, "%s needs a value", argv[optind - 1]);
    return cli_usage_error(prog, "unknown option '%s'", argv[optind - 1]);
}

int cli_option_range(const char *prog, const char *opt, const char *arg, uint64_t min,
                     uint64_t max, uint64_t *out)
{
    if (!cli_parse_u64(arg, CLI_DECIMAL, max, out) || *out < min)
        return cli_usage_error(prog, "%s wants a decimal number from %llu to %llu, not '%s'", opt,
                               (unsigned long long)min, (unsigned long long)max, arg);
    return 0;
}

void cli_print_version(const char *prog)
{
    printf("%s (rpb) %s\n", prog, rpb_version());
}
