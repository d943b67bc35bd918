/* pk-dedup: send each chunk's data once. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pk.h"

static const char usage_text[] =
    "usage: pk-dedup [-v] [-r repository [--host name] | --known file]\n";

static const char options_text[] =
    "  -r, --repository REPO    also drop chunks REPO has (this host's set)\n"
    "  --host NAME              with -r, the known-chunk set of host NAME\n"
    "  --known FILE             also drop the chunks of the known-chunk set FILE\n"
    "  -v, --verbose            print chunks and references at the end\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repository", required_argument, NULL, 'r' },
		{ "host", required_argument, NULL, 'H' },
		{ "known", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reponame = NULL, *knownfile = NULL, *host = NULL;
	struct pk_known *known = NULL;
	char cache[4096], path[4200];
	struct pk_stream_header h;
	struct pk_dedup_stats st;
	struct pk_repo_params params = { 0 };
	uint64_t gen = 0;
	struct pk_reader *r;
	struct pk_writer *w;
	int ch, e, verbose = 0;

	pk_tool_init("pk-dedup");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hr:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': reponame = optarg; break;
		case 'H': host = optarg; break;
		case 'K': knownfile = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		default: pk_usage(usage_text, PK_BAD_OPTION, argv[optind - 1]);
		}
	}
	if (optind != argc)
		pk_usage(usage_text, "%s: extra operand (pk-dedup is a filter)",
		    argv[optind]);
	if (knownfile && reponame)
		pk_usage(usage_text, "-r and --known exclude each other");
	if (host && !reponame)
		pk_usage(usage_text, "--host goes with -r only");
	if (reponame != NULL) {
		/* The host's known-chunk set, which needs no key: without one
		 * (the host's first backup), chunks are sent. */
		if ((e = pk_repo_read_params(reponame, &params)) < 0 ||
		    (e = pk_repo_read_generation(reponame, &gen)) < 0)
			pk_die_lib(e);
		pk_default_cache(reponame, host, cache, sizeof cache, 0);
		if ((e = pk_path(path, sizeof path, "%s.known", cache)) < 0)
			pk_die_lib(e);
		knownfile = path;
	}
	if (knownfile && (e = pk_known_open(&known, knownfile,
	    reponame ? params.id : NULL, gen)) < 0) {
		if (e != -ENOENT)
			pk_warn("%s; sending every chunk", pk_errmsg(e));
		pk_err_clear();
		known = NULL;
	}
	if ((e = pk_reader_new(&r, 0, "stdin")) < 0 ||
	    (e = pk_reader_header(r, &h)) < 0)
		pk_die_lib(e);
	h.flags |= PK_STREAM_IDS_COVER_DATA;
	if ((e = pk_writer_new(&w, 1, &h)) < 0)
		pk_die_lib(e);
	if ((e = pk_dedup_stream(r, w, known, &st)) < 0)
		pk_die_lib(e);
	if (verbose)
		fprintf(stderr, "pk-dedup: %llu chunks, %llu sent as references "
		    "(%llu of %llu bytes)\n", (unsigned long long)st.chunks,
		    (unsigned long long)st.refs, (unsigned long long)st.ref_bytes,
		    (unsigned long long)st.bytes);
	pk_writer_free(w);
	pk_reader_free(r);
	pk_known_close(known);
	return PK_EXIT_OK;
}
