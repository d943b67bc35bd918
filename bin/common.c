#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "common.h"
#include "pk.h"

const char *pk_progname = "pk";

void
pk_tool_init(const char *name)
{
	pk_progname = name;
	signal(SIGPIPE, SIG_DFL);
	/* One malloc arena: the threads that seal or open chunks take a few
	 * buffers per megabyte, and an arena per thread would keep its own
	 * freed buffers, which grows peak memory by a third for no speed. */
	mallopt(M_ARENA_MAX, 1);
	/* Chunk buffers (about a megabyte, a few per thread) come from the
	 * heap and stay there between chunks: mapped fresh for each, and
	 * given back as soon as the heap shrinks, their pages were faulted
	 * in and zeroed again for every chunk, a third of pk-store's CPU
	 * with no compression.  Up to 16 MiB free is kept. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
}

static void
vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", pk_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
pk_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(code);
}

void
pk_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
pk_die_lib(int code)
{
	pk_die(PK_EXIT_FAIL, "%s", pk_errmsg(code));
}

void
pk_help(const char *usage, const char *options)
{
	printf("%s\noptions:\n%s", usage, options);
	exit(PK_EXIT_OK);
}

void
pk_usage(const char *text, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fputs(text, stderr);
	exit(PK_EXIT_USAGE);
}

uint32_t
pk_parse_chunk_size(const char *arg)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (errno || end == arg || arg[0] == '-' || *end != '\0' ||
	    v > (UINT32_MAX >> shift))
		pk_die(PK_EXIT_USAGE, "%s: not a size below 4G", arg);
	return (uint32_t)(v << shift);
}

void
pk_print_version(void)
{
	printf("%s %s\n", pk_progname, PK_VERSION);
	exit(0);
}

/* Builds $XDG_CACHE_HOME/pk/ID/rel (or $HOME/.cache/pk/ID/rel) into out; with
 * create, makes the directories before its last component. */
static void
cache_path(const char *repo, const char *rel, char *out, size_t n, int create)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	struct pk_repo_params p;
	char id[2 * PK_REPO_ID_BYTES + 1];
	int e;

	if ((e = pk_repo_read_params(repo, &p)) < 0)
		pk_die_lib(e);
	pk_hex(id, p.id, sizeof p.id);
	if (xdg && xdg[0] == '/')
		e = pk_path(out, n, "%s/pk/%s/%s", xdg, id, rel);
	else
		e = pk_path(out, n, "%s/.cache/pk/%s/%s", home ? home : "", id, rel);
	if (e < 0)
		pk_die_lib(e);
	if (create)
		pk_mkdir_parents(out);
}

void
pk_default_cache(const char *repo, const char *host, char *out, size_t n,
    int create)
{
	char me[256], dir[3 * 256 + sizeof "/stat"], *d = dir;
	const unsigned char *c;

	if (host == NULL)
		host = pk_host_name(me, sizeof me);
	/* The host's name as one path component: bytes other than letters,
	 * digits, '-', '_' and a '.' that does not lead are %XX. */
	for (c = (const unsigned char *)host; *c && d < dir + sizeof dir - 10; c++)
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
		    (*c == '.' && c != (const unsigned char *)host))
			*d++ = (char)*c;
		else
			d += sprintf(d, "%%%02X", *c);
	strcpy(d, "/stat");
	cache_path(repo, dir, out, n, create);
}

void
pk_newest_file(const char *repo, char *file, size_t n, char place[PATH_MAX])
{
	cache_path(repo, "newest", file, n, 1);
	if (realpath(repo, place) == NULL)
		snprintf(place, PATH_MAX, "%s", repo);
}

const char *
pk_host_name(char *buf, size_t n)
{
	if (gethostname(buf, n) < 0)
		snprintf(buf, n, "%s", "localhost");
	buf[n - 1] = '\0';
	return buf;
}

int
pk_parse_jobs(const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*end || end == arg || n < 1 || n > 256)
		pk_die(PK_EXIT_USAGE, "%s: jobs must be 1 to 256", arg);
	return (int)n;
}

/* One thread per CPU this process may run on: taskset, cpusets and
 * containers limit those, not only the online count. */
int
pk_default_jobs(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

void
pk_filter_init(struct pk_snapshot_filter *f, int argc)
{
	char **v = calloc(3 * (size_t)argc + 1, sizeof *v);

	if (v == NULL)
		pk_die(PK_EXIT_FAIL, "out of memory");
	memset(f, 0, sizeof *f);
	f->hosts = v;
	f->tags = v + argc;
	f->paths = v + 2 * argc;
}

int
pk_filter_option(struct pk_snapshot_filter *f, int ch, char *arg)
{
	struct pk_buf b = PK_BUF_INIT;

	switch (ch) {
	case PK_OPT_HOST:
		f->hosts[f->nhosts++] = arg;
		return 1;
	case PK_OPT_TAG:
		f->tags[f->ntags++] = arg;
		return 1;
	case PK_OPT_PATH:
		/* As pk-walk stores a root: /etc/ is etc, / is ".".  The
		 * stored path is never longer than the argument, so it
		 * takes its place; one pk-walk refuses (empty, or with a
		 * "..") is kept as given, and no snapshot has it. */
		switch (pk_walk_stored_path(arg, &b)) {
		case 0: memcpy(arg, b.data, b.len + 1); break;
		case -ENOMEM: pk_die(PK_EXIT_FAIL, "out of memory");
		default: pk_err_clear();
		}
		pk_buf_release(&b);
		f->paths[f->npaths++] = arg;
		return 1;
	}
	return 0;
}

/* The unit to show v in: its divisor and name. */
static const char *
unit(double v, double *div)
{
	static const char *const name[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB" };
	int u = 0;

	for (*div = 1; v >= 1024 && u < 5; u++, v /= 1024)
		*div *= 1024;
	return name[u];
}

const char *
pk_size_str(char *out, size_t n, double v, const double *of)
{
	double div;
	const char *u = unit(of ? *of : v, &div);
	int prec = div > 1;	/* bytes are whole */

	if (of)
		snprintf(out, n, "%.*f/%.*f %s", prec, v / div, prec, *of / div, u);
	else
		snprintf(out, n, "%.*f %s", prec, v / div, u);
	return out;
}
