/* pk-store: create repositories; commit a record stream as a snapshot. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "pk.h"

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: pk-store [-v] [-j jobs] [-l level] [-t tag]... [--host name]\n"
	    "                [--cache file | --no-cache] [--trust-refs]\n"
	    "                [--passphrase-file file | --key-file file] "
	    "repository\n"
	    "       pk-store --init [--no-encryption] [--min size] [--avg size] "
	    "[--max size]\n"
	    "                [--passphrase-file file] repository\n");
	exit(code);
}

static void
progress(void *arg, const struct pk_store_progress *p)
{
	fprintf(stderr, "pk-store: %llu files, %llu MiB in, %llu MiB stored\n",
	    (unsigned long long)p->files, (unsigned long long)(p->bytes >> 20),
	    (unsigned long long)(p->stored >> 20));
}

static int
init(const char *path, int encrypted, uint64_t min, uint64_t avg, uint64_t max,
    const char *passfile)
{
	struct pk_repo_params p = { .chunk_min = (uint32_t)min,
	    .chunk_avg = (uint32_t)avg, .chunk_max = (uint32_t)max,
	    .encrypted = encrypted };
	struct pk_chunker c;
	char *pass = NULL;
	int e;

	if (pk_chunker_init(&c, p.chunk_min, p.chunk_avg, p.chunk_max) < 0)
		pk_die(PK_EXIT_USAGE, "chunk sizes: need 64 <= min < avg < max <= 16M, "
		    "avg a power of two, min and max even");
	if (encrypted)
		pass = pk_passphrase(passfile, 1);
	e = pk_repo_init(path, &p, pass, pass ? strlen(pass) : 0);
	pk_passphrase_free(pass);
	if (e < 0)
		pk_die_lib(e);
	return PK_EXIT_OK;
}

/*
 * A stream that names chunks the repository lacks came through a stale
 * stat cache or known-chunk set.  When it is this repository's own (it was
 * rolled back to an older copy), dropping it lets the next backup read
 * everything and succeed.
 */
static void
drop_stale_cache(const char *cache, const char *known)
{
	char lists[4200];

	if (cache) {
		unlink(cache);
		if (pk_path(lists, sizeof lists, "%s.lists", cache) == 0)
			unlink(lists);
		unlink(known);
		pk_warn("%s: stat cache and known-chunk set removed, as the "
		    "stream names chunks the repository does not hold", cache);
	}
	pk_warn("a stat cache or known-chunk set that fed this stream is "
	    "stale (a repository restored from an older copy?): run pk-walk "
	    "and pk-dedup with --no-cache once, or export them anew");
}

/* Not being able to note it costs only the check against rollback. */
static void
note_newest(const char *repo, const struct pk_snapshot *snap)
{
	struct pk_newest n = { snap->end_sec, snap->end_nsec, { 0 } };
	char path[4096], place[PATH_MAX];
	int e;

	memcpy(n.id, snap->id, sizeof n.id);
	pk_newest_file(repo, path, sizeof path, place);
	if ((e = pk_newest_note(path, place, &n)) < 0)
		pk_warn("%s", pk_errmsg(e));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "init", no_argument, NULL, 'I' },
		{ "no-encryption", no_argument, NULL, 'N' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "level", required_argument, NULL, 'l' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "tag", required_argument, NULL, 't' },
		{ "host", required_argument, NULL, 'H' },
		{ "cache", required_argument, NULL, 'C' },
		{ "no-cache", no_argument, NULL, 'n' },
		{ "trust-refs", no_argument, NULL, 'T' },
		{ "min", required_argument, NULL, 'm' },
		{ "avg", required_argument, NULL, 'a' },
		{ "max", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t min = PK_CHUNK_MIN_DEFAULT, avg = PK_CHUNK_AVG_DEFAULT;
	uint64_t max = PK_CHUNK_MAX_DEFAULT, *dst;
	struct pk_store_options o = { .level = 2 };
	const char *passfile = NULL, *keyfile = NULL;
	const char *tags[PK_SNAPSHOT_MAX_TAGS];
	char host[256], name[PK_SNAPSHOT_NAME_BYTES], *end, cache[4096];
	char known[4200];
	struct pk_snapshot snap;
	struct pk_reader *r;
	struct pk_repo *repo;
	struct passwd *pw;
	int ch, e, doinit = 0, encrypted = 1, verbose = 0, nocache = 0;
	long level;

	pk_tool_init("pk-store");
	while ((ch = getopt_long(argc, argv, "j:l:t:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'I': doinit = 1; break;
		case 'N': encrypted = 0; break;
		case 'P': passfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'C': o.cache = optarg; break;
		case 'n': nocache = 1; break;
		case 'T': o.trust_refs = 1; break;
		case 'H':
			if (strlen(optarg) > PK_SNAPSHOT_MAX_STRING)
				pk_die(PK_EXIT_USAGE, "host name longer than %d bytes",
				    PK_SNAPSHOT_MAX_STRING);
			o.host = optarg;
			break;
		case 'v': verbose = 1; break;
		case 'h': usage(0); break;
		case 'V': pk_print_version(); break;
		case 'l':
			level = strtol(optarg, &end, 10);
			if (*end || end == optarg || level < 0 || level > 19)
				pk_die(PK_EXIT_USAGE, "%s: level must be 0 to 19", optarg);
			o.level = (int)level;
			break;
		case 'j': o.threads = pk_parse_jobs(optarg); break;
		case 't':
			if (o.ntags == PK_SNAPSHOT_MAX_TAGS)
				pk_die(PK_EXIT_USAGE, "too many tags");
			if (strlen(optarg) > PK_SNAPSHOT_MAX_STRING)
				pk_die(PK_EXIT_USAGE, "tag longer than %d bytes",
				    PK_SNAPSHOT_MAX_STRING);
			tags[o.ntags++] = optarg;
			break;
		case 'm': case 'a': case 'M':
			dst = ch == 'm' ? &min : ch == 'a' ? &avg : &max;
			if (pk_parse_size(optarg, dst) < 0 || *dst > UINT32_MAX)
				pk_die(PK_EXIT_USAGE, "%s: bad size", optarg);
			break;
		default: usage(PK_EXIT_USAGE);
		}
	}
	if (optind != argc - 1 || (doinit && keyfile))
		usage(PK_EXIT_USAGE);
	if (doinit)
		return init(argv[optind], encrypted, min, avg, max, passfile);
	o.tags = tags;
	if (o.threads == 0)
		o.threads = pk_default_jobs();
	if (o.host == NULL) {
		o.host = pk_host_name(host, sizeof host);
		o.host_is_default = 1;
	}
	if ((pw = getpwuid(getuid())) != NULL)
		o.user = pw->pw_name;
	if (verbose)
		o.progress = progress;
	repo = pk_open_repo(argv[optind], passfile, keyfile);
	if (nocache)
		o.cache = NULL;
	else if (o.cache == NULL) {
		pk_default_cache(argv[optind], o.host, cache, sizeof cache, 1);
		o.cache = cache;
	}
	if (o.cache) {
		if ((e = pk_path(known, sizeof known, "%s.known", o.cache)) < 0)
			pk_die_lib(e);
		o.known = known;
	}
	if ((e = pk_reader_new(&r, 0, "stdin")) < 0)
		pk_die_lib(e);
	e = pk_store_stream(repo, r, &o, &snap);
	pk_reader_free(r);
	pk_repo_close(repo);
	if (e < 0 && o.missing_chunk)
		drop_stale_cache(o.stale_cache ? o.cache : NULL, o.known);
	if (e < 0)
		pk_die(PK_EXIT_FAIL, "%s (no snapshot written)", pk_errmsg(e));
	if (o.cache_failed)
		pk_warn("stat cache or known-chunk set not written: %s",
		    o.cache_error);
	if (o.lost_blobs)
		pk_warn("%llu chunks were in packs that are missing; stored again "
		    "(pk-index --check=data names the snapshots that lost them)",
		    (unsigned long long)o.lost_blobs);
	if (o.chunker_mismatch)
		pk_warn("stream chunked with other sizes than the repository's "
		    "(pk-chunk -r %s keeps deduplication working)", argv[optind]);
	note_newest(argv[optind], &snap);
	pk_hex(name, snap.id, sizeof snap.id);
	printf("%s\n", name);
	if (verbose)
		fprintf(stderr, "pk-store: snapshot %.12s: %llu files, %llu bytes, "
		    "%llu new chunks, %llu bytes stored\n", name,
		    (unsigned long long)snap.files, (unsigned long long)snap.bytes,
		    (unsigned long long)snap.new_chunks,
		    (unsigned long long)snap.stored);
	if (snap.errors)
		pk_warn("snapshot %.12s: %llu files could not be read", name,
		    (unsigned long long)snap.errors);
	e = snap.errors ? PK_EXIT_PARTIAL : PK_EXIT_OK;
	pk_snapshot_release(&snap);
	if (fflush(stdout) != 0)
		return PK_EXIT_FAIL;
	return e;
}
