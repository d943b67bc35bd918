/* pk-cat: a file's bytes, a tar stream, or a pk stream out of a snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "meter.h"
#include "pk.h"
#include "unlock.h"

static const char usage_text[] =
    "usage: pk-cat [-j jobs] [--tar | --stream | -C dir [--json]]\n"
    "              [--host name]... [--tag tag]... [--path path]...\n"
    "              [--passphrase-file file | --key-file file]\n"
    "              [--progress | --no-progress] repository snapshot[:path]\n"
    "       pk-cat [-C dir [--json]] -\n";

static const char options_text[] =
    "  --tar                    write a tar stream, even for one file\n"
    "  --stream                 write a pk record stream (to pk-store: a copy)\n"
    "  -C, --directory DIR      restore into the directory DIR, without tar\n"
    "  --json                   with -C, print a summary as JSON\n"
    "  -j, --jobs N             fetch chunks, or make files, on N threads\n"
    "                           (one per core)\n"
    PK_FILTER_HELP
    "  --passphrase-file FILE   read the passphrase from FILE\n"
    "  --key-file FILE          open with the key file FILE\n"
    "  --progress               draw a progress line, even off a terminal\n"
    "  --no-progress            draw no progress line\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

static void
warn_file(void *arg, const char *path, const char *msg)
{
	pk_meter_break(*(struct pk_meter **)arg);
	pk_warn("%s: %s", path, msg);
}

/* -C: the restore's summary, and the exit code of its counts. */
static int
restore_done(const struct pk_restore_result *res, int json,
    const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (res->failed)
		pk_warn("%llu files could not be restored whole",
		    (unsigned long long)res->failed);
	if (res->skipped)
		pk_warn("%llu sockets skipped", (unsigned long long)res->skipped);
	if (res->errors)
		pk_warn("the snapshot records %llu files that could not be read "
		    "when it was made", (unsigned long long)res->errors);
	if (json)
		printf("{\"files\":%llu,\"dirs\":%llu,\"bytes\":%llu,"
		    "\"failed\":%llu,\"skipped\":%llu,\"errors\":%llu,"
		    "\"seconds\":%.3f}\n", (unsigned long long)res->files,
		    (unsigned long long)res->dirs, (unsigned long long)res->bytes,
		    (unsigned long long)res->failed,
		    (unsigned long long)res->skipped,
		    (unsigned long long)res->errors,
		    (double)(t1.tv_sec - t0->tv_sec) +
		    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
	return res->failed ? PK_EXIT_FAIL : res->errors ? PK_EXIT_PARTIAL :
	    PK_EXIT_OK;
}

/*
 * -C dir: the directory restored into, made with its parents when missing,
 * as mkdir -p does, but private (0700): what a restore writes into it may
 * be secret, and the snapshot's own modes apply only below it.
 */
static int
open_target(const char *dir)
{
	char path[PATH_MAX], *p;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && strlen(dir) < sizeof path) {
		strcpy(path, dir);
		for (p = path + 1; (p = strchr(p, '/')) != NULL; *p++ = '/') {
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				pk_die(PK_EXIT_FAIL, "%s: %s", path,
				    strerror(errno));
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			pk_die(PK_EXIT_FAIL, "%s: %s", dir, strerror(errno));
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		pk_die(PK_EXIT_FAIL, "%s: %s", dir, strerror(errno));
	return fd;
}

/* `pk-cat -`: a record stream on stdin to tar on stdout, or into a
 * directory. */
static int
stdin_to_tar(struct pk_restore_options *ro, int json)
{
	struct pk_stream_header h;
	struct pk_reader *r;
	uint64_t nerrors = 0;
	int e;

	if ((e = pk_reader_new(&r, 0, "stdin")) < 0 ||
	    (e = pk_reader_header(r, &h)) < 0)
		pk_die_lib(e);
	if (ro != NULL) {
		struct pk_restore_result res;
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if ((e = pk_restore_stream(r, ro, &res)) < 0)
			pk_die_lib(e);
		pk_reader_free(r);
		return restore_done(&res, json, &t0);
	}
	if ((e = pk_tar_stream(r, 1, &nerrors)) < 0)
		pk_die_lib(e);
	if (e > 0)
		pk_warn("%d sockets skipped: tar cannot store them", e);
	pk_reader_free(r);
	return nerrors ? PK_EXIT_PARTIAL : PK_EXIT_OK;
}

/* "snapshot:path" with the path made a stored path (no leading '/'). */
static char *
split_selector(char *arg)
{
	char *path = strchr(arg, ':'), *end;

	if (path == NULL)
		return NULL;
	*path++ = '\0';
	while (*path == '/')
		path++;
	end = path + strlen(path);
	while (end > path && end[-1] == '/')
		*--end = '\0';
	if (*path == '\0')
		return NULL;
	if (!pk_path_valid((const uint8_t *)path, strlen(path)))
		pk_die(PK_EXIT_USAGE, "%s: not a valid path", path);
	return path;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "tar", no_argument, NULL, 'T' },
		{ "stream", no_argument, NULL, 'S' },
		PK_FILTER_OPTIONS,
		{ "directory", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "progress", no_argument, NULL, 'p' },
		{ "no-progress", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct pk_meter *m = NULL;
	struct pk_extract_options o = { .mode = PK_EXTRACT_AUTO, .fd = 1,
	    .warn = warn_file, .arg = &m };
	enum pk_meter_opt meter = PK_METER_AUTO;
	struct pk_progress count;
	struct pk_restore_options ro = { .dirfd = -1, .warn = warn_file,
	    .arg = &m };
	struct pk_extract_result res;
	struct pk_restore_result rres;
	struct timespec t0;
	const char *passfile = NULL, *keyfile = NULL, *dir = NULL;
	static struct pk_snapshot_filter only;	/* --host, --tag, --path */
	struct pk_snapshot snap;
	struct pk_index ix;
	struct pk_repo *repo;
	int ch, e, json = 0;

	pk_tool_init("pk-cat");
	pk_filter_init(&only, argc);
	opterr = 0;
	o.jobs = pk_default_jobs();
	while ((ch = getopt_long(argc, argv, "C:hj:", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': o.jobs = pk_parse_jobs(optarg); break;
		case 'T': o.mode = PK_EXTRACT_TAR; break;
		case 'S': o.mode = PK_EXTRACT_STREAM; break;
		case 'C': dir = optarg; break;
		case 'J': json = 1; break;
		case 'P': passfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'p': meter = PK_METER_ON; break;
		case 'q': meter = PK_METER_OFF; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		default:
			if (!pk_filter_option(&only, ch, optarg))
				pk_usage(usage_text, PK_BAD_OPTION,
				    argv[optind - 1]);
		}
	}
	if (dir != NULL && o.mode != PK_EXTRACT_AUTO)
		pk_usage(usage_text, "-C writes files, not %s",
		    o.mode == PK_EXTRACT_TAR ? "tar" : "a stream");
	if (json && dir == NULL)
		pk_usage(usage_text, "--json is the summary of -C");
	if (dir != NULL) {
		ro.dirfd = open_target(dir);
		ro.jobs = o.jobs;
		ro.owners = geteuid() == 0;
	}
	if (argc - optind == 1 && strcmp(argv[optind], "-") == 0)
		return stdin_to_tar(dir ? &ro : NULL, json);
	if (argc - optind < 2)
		pk_usage(usage_text, argc == optind ? "no repository named" :
		    "no snapshot named");
	if (argc - optind > 2)
		pk_usage(usage_text, "%s: extra operand", argv[optind + 2]);
	o.path = split_selector(argv[optind + 1]);
	repo = pk_open_repo(argv[optind], passfile, keyfile);
	if ((e = pk_snapshot_select(repo, argv[optind + 1], &only, &snap)) < 0 ||
	    (e = pk_index_open(&ix, repo)) < 0)
		pk_die_lib(e);
	if (ix.rebuilt && ix.why[0])
		pk_warn("%s; rebuilt it", ix.why);
	/* With -C, standard output carries no data: the line may go to the
	 * terminal it is on. */
	if (pk_meter_wanted(meter, dir == NULL)) {
		pk_progress_init(&count);
		/* A path's share of the snapshot is not known ahead. */
		if (o.path == NULL)
			pk_progress_total(&count, snap.entries, snap.bytes);
		o.count = ro.count = &count;
		m = pk_meter_start(&count);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ro.path = o.path;
	e = dir != NULL ? pk_restore(repo, &ix, &snap, &ro, &rres) :
	    pk_extract(repo, &ix, &snap, &o, &res);
	pk_meter_stop(m);
	m = NULL;
	if (ix.mem != NULL)
		pk_warn("%s; rebuilt it", ix.why);
	if (e < 0)
		pk_die_lib(e);
	if (dir != NULL) {
		e = restore_done(&rres, json, &t0);
		pk_index_close(&ix);
		pk_snapshot_release(&snap);
		pk_repo_close(repo);
		return e;
	}
	if (res.failed)
		pk_warn("%llu files could not be restored whole",
		    (unsigned long long)res.failed);
	if (res.errors)
		pk_warn("the snapshot records %llu files that could not be read "
		    "when it was made", (unsigned long long)res.errors);
	pk_index_close(&ix);
	pk_snapshot_release(&snap);
	pk_repo_close(repo);
	return res.failed ? PK_EXIT_FAIL : res.errors ? PK_EXIT_PARTIAL :
	    PK_EXIT_OK;
}
