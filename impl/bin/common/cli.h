/*
 * cli.h - what the command-line tools (rpb-broker, rpb-backend, rpb-client,
 * rpb-dump, rpb-conform, rpb-vectors, the benchmarks and the fuzz replay
 * drivers) share: number parsing, the usage-error wording and --version.
 */
#ifndef RPB_CLI_H
#define RPB_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit status of every tool for a usage error. */
#define CLI_EXIT_USAGE 2

/* Number syntaxes cli_parse_u64 accepts. */
typedef enum cli_number {
    CLI_DECIMAL,        /* digits only */
    CLI_DECIMAL_OR_HEX, /* digits, or hex digits after 0x / 0X */
} cli_number;

/*
 * Parses all of s as an unsigned number of the given syntax no larger than
 * max.  No sign, blank or empty number is accepted, and a leading 0 is
 * decimal, never octal.  Returns true and *out, or false.
 */
bool cli_parse_u64(const char *s, cli_number syntax, uint64_t max, uint64_t *out);

/* cli_parse_u64 of a plain decimal number that fits 32 bits. */
bool cli_parse_u32(const char *s, uint32_t *out);

/* Prints "PROG: <message>" and "Try 'PROG --help'." to stderr and returns
 * CLI_EXIT_USAGE: the one wording of a usage error across the tools. */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usage error of an option getopt_long refused, in a parser that set
 * opterr = 0 and starts its optstring with ':' (so the message is worded
 * once, here): c ':' is a missing value, anything else an unknown option,
 * named from argv[optind - 1].  Returns CLI_EXIT_USAGE. */
int cli_option_error(const char *prog, int c, char *const argv[]);

/* The value of a decimal option (the benchmarks' counts and durations):
 * arg from min to max into *out and 0, or the usage error naming opt and
 * the range, CLI_EXIT_USAGE. */
int cli_option_range(const char *prog, const char *opt, const char *arg, uint64_t min,
                     uint64_t max, uint64_t *out);

/* Prints "PROG (rpb) VERSION" (librpb's rpb_version()) to stdout. */
void cli_print_version(const char *prog);

#endif
