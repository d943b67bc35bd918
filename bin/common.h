/*
 * common.h: what every pk program shares: exit codes, messages, option
 * helpers.  Only programs print; the library returns errors.
 */
#ifndef PK_BIN_COMMON_H
#define PK_BIN_COMMON_H

#include <limits.h>
#include <stdint.h>

#define PK_VERSION "0.1.0"

/* Exit codes, the same for every tool (documented in each man page). */
#define PK_EXIT_OK	0	/* done */
#define PK_EXIT_FAIL	1	/* failed; nothing was committed */
#define PK_EXIT_USAGE	2	/* bad command line */
#define PK_EXIT_PARTIAL	3	/* done, but some files could not be read */

/* The program's name for messages, set by pk_tool_init(). */
extern const char *pk_progname;

/* Sets the name, ignores nothing: SIGPIPE keeps its default action so a
 * closed pipe ends the program quietly. */
void pk_tool_init(const char *name);

/* "pk-x: msg" on stderr and exit(code). */
void pk_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* "pk-x: msg" on stderr. */
void pk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Dies with the library's message for a failed call. */
void pk_die_lib(int code) __attribute__((noreturn));

/* -h, --help: prints the tool's usage, then its options one a line, on
 * standard output; exits 0. */
void pk_help(const char *usage, const char *options)
    __attribute__((noreturn));
/* A bad command line: "pk-x: reason" and text on standard error; exits
 * PK_EXIT_USAGE. */
void pk_usage(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* The reason for getopt's '?', which the tools ask it not to print
 * (opterr = 0): argv[optind - 1] is what it could not take. */
#define PK_BAD_OPTION	"%s: unknown option, or its value is missing"

/* --min, --avg, --max: a size with an optional K, M or G suffix (powers of
 * 1024) below 4G; dies on anything else.  pk_chunker_init checks the
 * three together. */
uint32_t pk_parse_chunk_size(const char *arg);

/* -j: a count of threads, 1 to 256; dies on anything else.  The default
 * is one per processor. */
int pk_parse_jobs(const char *arg);
int pk_default_jobs(void);

/*
 * --host, --tag and --path, the options that choose snapshots
 * (pk_snapshot_filter): the entries of a tool's option table, their lines
 * of its help, and the parser.  pk_filter_init makes room for argc values;
 * pk_filter_option takes the option ch (with its argument, a path made as
 * stored) and returns 1, or returns 0 when ch is none of the three.
 */
enum { PK_OPT_HOST = 0x100, PK_OPT_TAG, PK_OPT_PATH };
#define PK_FILTER_OPTIONS \
	{ "host", required_argument, NULL, PK_OPT_HOST }, \
	{ "tag", required_argument, NULL, PK_OPT_TAG }, \
	{ "path", required_argument, NULL, PK_OPT_PATH }
#define PK_FILTER_HELP \
    "  --host NAME              only snapshots of host NAME (repeatable)\n" \
    "  --tag TAG                only snapshots tagged TAG (repeatable)\n" \
    "  --path PATH              only snapshots of PATH (repeatable: all)\n"
struct pk_snapshot_filter;
void pk_filter_init(struct pk_snapshot_filter *f, int argc);
int pk_filter_option(struct pk_snapshot_filter *f, int ch, char *arg);

/* Bytes for people, in out (of size n): "12.3 MiB", whole bytes below
 * 1 KiB; with of, "0.3/1.2 GiB", both in the unit of of.  Returns out. */
const char *pk_size_str(char *out, size_t n, double v, const double *of);

/* Prints "name version" and exits 0. */
void pk_print_version(void) __attribute__((noreturn));

/*
 * The default stat cache of a repository for the backups of one host:
 * $XDG_CACHE_HOME/pk/ID/HOST/stat (or ~/.cache/pk/ID/HOST/stat), ID the
 * repository's id, HOST the host's name (this machine's when NULL) with
 * bytes that are not letters, digits, '-', '_' or an inner '.' as %XX.  The
 * known-chunk set beside it is also the host's: the chunks a stream of that
 * host may refer to (pk-store(1)).  With create, makes the directories.
 * Dies when the repository's config cannot be read or the path does not
 * fit out (of size n).
 */
void pk_default_cache(const char *repo, const char *host, char *out, size_t n,
    int create);

/* The file that keeps the newest snapshot this user has seen in the
 * repository (newest.h), as pk_default_cache, and the repository's place:
 * its absolute path. */
void pk_newest_file(const char *repo, char *file, size_t n, char place[PATH_MAX]);

/* This machine's host name, in buf (of size n). */
const char *pk_host_name(char *buf, size_t n);

#endif
