/* pk-chunk: split file data into content-defined chunks. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "pk.h"

static const char usage_text[] =
    "usage: pk-chunk [-v] [-j jobs] [-r repository] [--min size] [--avg size] "
    "[--max size]\n";

static const char options_text[] =
    "  -r, --repository REPO    use REPO's chunk sizes\n"
    "  --min SIZE               smallest chunk (512K; K, M, G suffixes)\n"
    "  --avg SIZE               average chunk (1M)\n"
    "  --max SIZE               largest chunk (8M)\n"
    "  -j, --jobs N             compute chunk ids on N threads (one per core)\n"
    "  -v, --verbose            print files, bytes and chunks at the end\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repository", required_argument, NULL, 'r' },
		{ "min", required_argument, NULL, 'm' },
		{ "avg", required_argument, NULL, 'a' },
		{ "max", required_argument, NULL, 'M' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t min = PK_CHUNK_MIN_DEFAULT, avg = PK_CHUNK_AVG_DEFAULT;
	uint32_t max = PK_CHUNK_MAX_DEFAULT;
	const char *repo = NULL;
	struct pk_stream_header h;
	struct pk_chunk_stats st;
	struct pk_chunker c;
	struct pk_reader *r;
	struct pk_writer *w;
	int ch, e, verbose = 0, jobs = pk_default_jobs();

	pk_tool_init("pk-chunk");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hj:r:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': repo = optarg; break;
		case 'v': verbose = 1; break;
		case 'j': jobs = pk_parse_jobs(optarg); break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		case 'm': min = pk_parse_chunk_size(optarg); break;
		case 'a': avg = pk_parse_chunk_size(optarg); break;
		case 'M': max = pk_parse_chunk_size(optarg); break;
		default: pk_usage(usage_text, PK_BAD_OPTION, argv[optind - 1]);
		}
	}
	if (optind != argc)
		pk_usage(usage_text, "%s: extra operand (pk-chunk is a filter)",
		    argv[optind]);
	if (repo != NULL) {
		struct pk_repo_params p;

		if ((e = pk_repo_read_params(repo, &p)) < 0)
			pk_die_lib(e);
		min = p.chunk_min;
		avg = p.chunk_avg;
		max = p.chunk_max;
	}
	if ((e = pk_chunker_init(&c, min, avg, max)) < 0)
		pk_die(PK_EXIT_USAGE, "%s", pk_errmsg(e));
	if ((e = pk_reader_new(&r, 0, "stdin")) < 0 ||
	    (e = pk_reader_header(r, &h)) < 0)
		pk_die_lib(e);
	/* Chunks are passed through unread; the ids cover their data. */
	pk_reader_defer_ids(r);
	h.flags |= PK_STREAM_IDS_COVER_DATA;
	h.chunk_min = c.min;
	h.chunk_avg = c.avg;
	h.chunk_max = c.max;
	if ((e = pk_writer_new(&w, 1, &h)) < 0)
		pk_die_lib(e);
	if ((e = pk_chunk_stream(r, w, &c, jobs, &st)) < 0)
		pk_die_lib(e);
	if (verbose)
		fprintf(stderr, "pk-chunk: %llu files, %llu bytes, %llu chunks\n",
		    (unsigned long long)st.files, (unsigned long long)st.bytes,
		    (unsigned long long)st.chunks);
	pk_writer_free(w);
	pk_reader_free(r);
	return PK_EXIT_OK;
}
