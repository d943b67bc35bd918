/* pk-cat: a file's bytes, a tar stream, or a pk stream out of a snapshot. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "meter.h"
#include "pk.h"
#include "unlock.h"

static const char usage_text[] =
    "usage: pk-cat [-j jobs] [--tar | --stream] [--host name]... [--tag tag]...\n"
    "              [--path path]... [--passphrase-file file | --key-file file]\n"
    "              [--progress | --no-progress] repository snapshot[:path]\n"
    "       pk-cat -\n";

static const char options_text[] =
    "  --tar                    write a tar stream, even for one file\n"
    "  --stream                 write a pk record stream (to pk-store: a copy)\n"
    "  -j, --jobs N             fetch chunks on N threads (one per core)\n"
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

/* `pk-cat -`: a record stream on stdin to tar on stdout. */
static int
stdin_to_tar(void)
{
	struct pk_stream_header h;
	struct pk_reader *r;
	uint64_t nerrors = 0;
	int e;

	if ((e = pk_reader_new(&r, 0, "stdin")) < 0 ||
	    (e = pk_reader_header(r, &h)) < 0 ||
	    (e = pk_tar_stream(r, 1, &nerrors)) < 0)
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
	struct pk_extract_result res;
	const char *passfile = NULL, *keyfile = NULL;
	static struct pk_snapshot_filter only;	/* --host, --tag, --path */
	struct pk_snapshot snap;
	struct pk_index ix;
	struct pk_repo *repo;
	int ch, e;

	pk_tool_init("pk-cat");
	pk_filter_init(&only, argc);
	opterr = 0;
	o.jobs = pk_default_jobs();
	while ((ch = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': o.jobs = pk_parse_jobs(optarg); break;
		case 'T': o.mode = PK_EXTRACT_TAR; break;
		case 'S': o.mode = PK_EXTRACT_STREAM; break;
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
	if (argc - optind == 1 && strcmp(argv[optind], "-") == 0)
		return stdin_to_tar();
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
	if (pk_meter_wanted(meter, 1)) {
		pk_progress_init(&count);
		/* A path's share of the snapshot is not known ahead. */
		if (o.path == NULL)
			pk_progress_total(&count, snap.entries, snap.bytes);
		o.count = &count;
		m = pk_meter_start(&count);
	}
	e = pk_extract(repo, &ix, &snap, &o, &res);
	pk_meter_stop(m);
	m = NULL;
	if (ix.mem != NULL)
		pk_warn("%s; rebuilt it", ix.why);
	if (e < 0)
		pk_die_lib(e);
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
