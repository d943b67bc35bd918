/* pk-walk: walks file trees and writes them as a pk record stream. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "pk.h"

static const char usage_text[] =
    "usage: pk-walk [-vx] [--exclude PATTERN]... [--exclude-from FILE]\n"
    "               [--exclude-caches] [--exclude-if-present NAME]...\n"
    "               [--one-file-system] [--cache FILE | -r REPO | --no-cache]\n"
    "               [--host NAME] [--name NAME] PATH...\n";

static const char options_text[] =
    "  --exclude PATTERN        skip files whose path or name matches PATTERN\n"
    "  --exclude-from FILE      read exclude patterns from FILE, one a line\n"
    "  --exclude-caches         skip the contents of directories with a\n"
    "                           CACHEDIR.TAG, but the tag\n"
    "  --exclude-if-present NAME  the same for a file NAME (repeatable)\n"
    "  -x, --one-file-system    do not cross into other file systems\n"
    "  --cache FILE             skip unchanged files known to the stat cache FILE\n"
    "  -r, --repository REPO    use REPO's stat cache for this host\n"
    "  --host NAME              walk as host NAME (its stat cache with -r)\n"
    "  --no-cache               read every file\n"
    "  --name NAME              the stored name of standard input (PATH -)\n"
    "  -v, --verbose            print files, bytes and rate once a second\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

struct patterns {
	char **v;
	size_t n, cap;
};

struct progress {
	int verbose;
	double start, last;
};

static void
add_pattern(struct patterns *p, const char *s)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		if ((p->v = realloc(p->v, p->cap * sizeof *p->v)) == NULL)
			pk_die(PK_EXIT_FAIL, "out of memory");
	}
	if ((p->v[p->n++] = strdup(s)) == NULL)
		pk_die(PK_EXIT_FAIL, "out of memory");
}

/* One pattern a line; blank lines and lines starting with '#' are skipped. */
static void
read_patterns(struct patterns *p, const char *file)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		pk_die(PK_EXIT_FAIL, "%s: %s", file, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[0] != '#')
			add_pattern(p, line);
	}
	if (ferror(f))
		pk_die(PK_EXIT_FAIL, "%s: %s", file, strerror(errno));
	free(line);
	fclose(f);
}

/* Control characters and backslashes in file names are shown as octal
 * escapes, so that a name cannot play tricks on a terminal. */
static void
on_warn(void *arg, const char *path, const char *msg)
{
	const unsigned char *p;

	fprintf(stderr, "%s: ", pk_progname);
	for (p = (const unsigned char *)path; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(stderr, "\\%03o", *p);
		else
			fputc(*p, stderr);
	}
	fprintf(stderr, ": %s\n", msg);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
print_progress(const struct pk_walk_report *rep, double secs, const char *end)
{
	double mib = rep->bytes / 1048576.0;

	fprintf(stderr, "%s: %llu files, %.1f MiB in %.1f s (%.1f MiB/s)%s",
	    pk_progname, (unsigned long long)rep->files, mib, secs,
	    secs > 0 ? mib / secs : 0.0, end);
}

static void
on_progress(void *arg, const struct pk_walk_report *rep)
{
	struct progress *pr = arg;
	double t;

	if (!pr->verbose || (t = now()) - pr->last < 1.0)
		return;
	pr->last = t;
	print_progress(rep, t - pr->start, "\n");
}

static void
print_summary(const struct pk_walk_report *rep, double secs)
{
	print_progress(rep, secs, "");
	if (rep->errors)
		fprintf(stderr, ", %llu unreadable",
		    (unsigned long long)rep->errors);
	if (rep->changed)
		fprintf(stderr, ", %llu changed while read",
		    (unsigned long long)rep->changed);
	if (rep->missing)
		fprintf(stderr, ", %llu not found",
		    (unsigned long long)rep->missing);
	if (rep->cached)
		fprintf(stderr, ", %llu unchanged (not read)",
		    (unsigned long long)rep->cached);
	fputc('\n', stderr);
}

/* Refuses bad arguments, and paths that are not there, before anything
 * is written. */
static void
check_args(char **paths, int n, const char *name)
{
	struct pk_buf b = PK_BUF_INIT;
	struct stat st;
	int i, dashes = 0, r;

	for (i = 0; i < n; i++) {
		if (strcmp(paths[i], "-") == 0) {
			dashes++;
			continue;
		}
		if ((r = pk_walk_stored_path(paths[i], &b)) < 0)
			pk_usage(usage_text, "%s", pk_errmsg(r));
		/* A path that is not there is most likely mistyped: fail
		 * before the stream starts, so that no snapshot is made. */
		if (lstat(paths[i], &st) < 0)
			pk_die(PK_EXIT_FAIL, "%s: %s", paths[i], strerror(errno));
	}
	if (name != NULL && ((r = pk_walk_stored_path(name, &b)) < 0 ||
	    strcmp((char *)b.data, ".") == 0))
		pk_usage(usage_text, "--name %s: not a file name", name);
	pk_buf_release(&b);
	if (dashes > 1)
		pk_die(PK_EXIT_USAGE, "-: standard input given twice");
	if (dashes && name == NULL)
		pk_die(PK_EXIT_USAGE, "-: --name is required to read standard input");
	if (!dashes && name != NULL)
		pk_die(PK_EXIT_USAGE, "--name is only for '-' (standard input)");
}

/*
 * The WALK record: this host (or --host), this user, the time now and the
 * arguments as given, before they are put in walk order.
 */
static void
put_origin(struct pk_writer *w, char **args, int n, const char *name,
    const char *host)
{
	struct pk_root roots[PK_ORIGIN_MAX_ROOTS];
	struct pk_origin o = { 0 };
	struct timespec ts;
	struct passwd *pw;
	char me[256];
	const char *user = (pw = getpwuid(getuid())) ? pw->pw_name : "";
	int i, r;

	if (host == NULL)
		host = pk_host_name(me, sizeof me);
	clock_gettime(CLOCK_REALTIME, &ts);
	o.start_sec = ts.tv_sec;
	o.start_nsec = (uint32_t)ts.tv_nsec;
	o.host = (struct pk_str){ (const uint8_t *)host, strlen(host) };
	o.user = (struct pk_str){ (const uint8_t *)user, strlen(user) };
	/* Past the limit, the first ones stand for the walk. */
	o.nroots = n > PK_ORIGIN_MAX_ROOTS ? PK_ORIGIN_MAX_ROOTS : (uint32_t)n;
	for (i = 0; i < (int)o.nroots; i++) {
		roots[i].kind = strcmp(args[i], "-") ? PK_ROOT_PATH : PK_ROOT_STDIN;
		roots[i].path.p = (const uint8_t *)(roots[i].kind ? name : args[i]);
		roots[i].path.len = strlen((const char *)roots[i].path.p);
		if (roots[i].path.len > PK_ORIGIN_MAX_STRING)
			roots[i].path.len = PK_ORIGIN_MAX_STRING;
	}
	o.roots = roots;
	if ((r = pk_write_origin(w, &o)) < 0)
		pk_die_lib(r);
}

static int
exit_code(const struct pk_walk_report *rep)
{
	/* An argument gone since it was checked is recorded in the stream
	 * like any file that cannot be read: the snapshot is made, and
	 * incomplete. */
	return rep->missing || rep->errors || rep->changed ? PK_EXIT_PARTIAL :
	    PK_EXIT_OK;
}

/*
 * The stat cache: FILE, or the default one of the repository for host (this
 * machine's when NULL), whose id it must then carry.  One that cannot be
 * trusted is ignored, with a warning: every file is read instead.
 */
static struct pk_statcache *
open_cache(const char *file, const char *repo, const char *host, char *path,
    size_t n)
{
	struct pk_repo_params p = { 0 };
	struct pk_statcache *c;
	uint64_t gen = 0;
	int e;

	if (repo && ((e = pk_repo_read_params(repo, &p)) < 0 ||
	    (e = pk_repo_read_generation(repo, &gen)) < 0))
		pk_die_lib(e);
	e = 0;
	if (file)
		e = pk_path(path, n, "%s", file);
	else
		pk_default_cache(repo, host, path, n, 0);
	if (e == 0)
		e = pk_statcache_open(&c, path, repo ? p.id : NULL,
		    gen);
	if (e < 0 && e != -ENOENT)	/* (-ENOENT: the first backup) */
		pk_warn("%s; reading every file", pk_errmsg(e));
	if (e < 0) {
		pk_err_clear();
		return NULL;
	}
	return c;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "exclude", required_argument, NULL, 'E' },
		{ "exclude-from", required_argument, NULL, 'F' },
		{ "exclude-caches", no_argument, NULL, 'c' },
		{ "exclude-if-present", required_argument, NULL, 'I' },
		{ "one-file-system", no_argument, NULL, 'x' },
		{ "name", required_argument, NULL, 'N' },
		{ "cache", required_argument, NULL, 'C' },
		{ "repository", required_argument, NULL, 'r' },
		{ "host", required_argument, NULL, 'H' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct patterns pats = { NULL, 0, 0 }, tags = { NULL, 0, 0 };
	struct progress pr = { 0, 0, 0 };
	struct pk_walk_options o;
	struct pk_writer *w;
	struct pk_walk *wk;
	const char *name = NULL, *cachefile = NULL, *repo = NULL, *host = NULL;
	char cachepath[4096], **given;
	int c, i, r, code, nargs, ngiven, nocache = 0, stdin_walked = 0;
	size_t k;

	pk_tool_init("pk-walk");
	opterr = 0;
	memset(&o, 0, sizeof o);
	while ((c = getopt_long(argc, argv, "hr:vx", longopts, NULL)) != -1) {
		switch (c) {
		case 'E': add_pattern(&pats, optarg); break;
		case 'F': read_patterns(&pats, optarg); break;
		case 'c': o.exclude_caches = 1; break;
		case 'I':
			if (*optarg == '\0' || strchr(optarg, '/'))
				pk_usage(usage_text, "--exclude-if-present %s: not "
				    "a file name", optarg);
			add_pattern(&tags, optarg);
			break;
		case 'x': o.one_file_system = 1; break;
		case 'N': name = optarg; break;
		case 'C': cachefile = optarg; break;
		case 'r': repo = optarg; break;
		case 'H': host = optarg; break;
		case 'n': nocache = 1; break;
		case 'v': pr.verbose = 1; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		default: pk_usage(usage_text, PK_BAD_OPTION, argv[optind - 1]);
		}
	}
	if (optind == argc)
		pk_usage(usage_text, "no path named (- for standard input)");
	if (host && (strlen(host) > PK_ORIGIN_MAX_STRING || host[0] == '\0'))
		pk_usage(usage_text, "--host: empty or longer than %d bytes",
		    PK_ORIGIN_MAX_STRING);
	check_args(argv + optind, argc - optind, name);
	nargs = ngiven = argc - optind;
	/* The arguments as given, for the WALK record. */
	if ((given = malloc((size_t)nargs * sizeof *given)) == NULL)
		pk_die(PK_EXIT_FAIL, "out of memory");
	for (i = 0; i < nargs; i++) {
		given[i] = argv[optind + i];
		stdin_walked |= strcmp(given[i], "-") == 0;
	}
	if ((r = pk_walk_order_args(argv + optind, &nargs, name)) < 0)
		pk_die_lib(r);
	if (isatty(STDOUT_FILENO))
		pk_die(PK_EXIT_USAGE, "refusing to write a binary stream to a "
		    "terminal; pipe it into pk-chunk");

	if (!nocache && (cachefile || repo))
		o.cache = open_cache(cachefile, repo, host, cachepath,
		    sizeof cachepath);
	o.excludes = (const char *const *)pats.v;
	o.nexcludes = pats.n;
	o.tags = (const char *const *)tags.v;
	o.ntags = tags.n;
	o.warn = on_warn;
	o.progress = on_progress;
	o.arg = &pr;
	/* Standard input has no size to count ahead. */
	if (!stdin_walked && (r = pk_scan_start(&o.scan, argv + optind,
	    (size_t)nargs, &o)) < 0)
		pk_die_lib(r);
	pr.start = pr.last = now();
	if ((r = pk_writer_new(&w, STDOUT_FILENO, NULL)) < 0 ||
	    (r = pk_walk_new(&wk, w, &o)) < 0)
		pk_die_lib(r);
	put_origin(w, given, ngiven, name, host);
	for (i = optind; i < optind + nargs; i++) {
		r = strcmp(argv[i], "-") == 0 ? pk_walk_fd(wk, STDIN_FILENO, name) :
		    pk_walk_path(wk, argv[i]);
		if (r < 0)
			pk_die_lib(r);	/* no END: the stream reads as cut */
	}
	if ((r = pk_walk_end(wk)) < 0)
		pk_die_lib(r);
	if (pr.verbose)
		print_summary(pk_walk_report(wk), now() - pr.start);
	code = exit_code(pk_walk_report(wk));
	pk_walk_free(wk);
	pk_scan_free(o.scan);
	free(given);
	pk_statcache_close(o.cache);
	pk_writer_free(w);
	for (k = 0; k < pats.n; k++)
		free(pats.v[k]);
	free(pats.v);
	for (k = 0; k < tags.n; k++)
		free(tags.v[k]);
	free(tags.v);
	return code;
}
