/* pk-dedup: send each chunk's data once. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "pk.h"

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: pk-dedup [-v] [-r repository] [--passphrase-file file]\n");
	exit(code);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repository", required_argument, NULL, 'r' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reponame = NULL, *passfile = NULL;
	struct pk_stream_header h;
	struct pk_dedup_stats st;
	struct pk_repo *repo = NULL;
	struct pk_index ix = { 0 };
	struct pk_reader *r;
	struct pk_writer *w;
	int ch, e, verbose = 0;

	pk_tool_init("pk-dedup");
	while ((ch = getopt_long(argc, argv, "r:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': reponame = optarg; break;
		case 'P': passfile = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': usage(0); break;
		case 'V': pk_print_version(); break;
		default: usage(PK_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(PK_EXIT_USAGE);
	if (reponame != NULL) {
		repo = pk_open_repo(reponame, passfile);
		if ((e = pk_index_open(&ix, repo)) < 0)
			pk_die_lib(e);
	}
	if ((e = pk_reader_new(&r, 0, "stdin")) < 0 ||
	    (e = pk_reader_header(r, &h)) < 0 ||
	    (e = pk_writer_new(&w, 1, &h)) < 0)
		pk_die_lib(e);
	if ((e = pk_dedup_stream(r, w, repo, repo ? &ix : NULL, &st)) < 0)
		pk_die_lib(e);
	if (verbose)
		fprintf(stderr, "pk-dedup: %llu chunks, %llu sent as references "
		    "(%llu of %llu bytes)\n", (unsigned long long)st.chunks,
		    (unsigned long long)st.refs, (unsigned long long)st.ref_bytes,
		    (unsigned long long)st.bytes);
	pk_writer_free(w);
	pk_reader_free(r);
	if (repo) {
		pk_index_close(&ix);
		pk_repo_close(repo);
	}
	return PK_EXIT_OK;
}
