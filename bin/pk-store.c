/* pk-store: create repositories; commit a record stream as a snapshot. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "json.h"
#include "meter.h"
#include "pk.h"
#include "unlock.h"

static const char usage_text[] =
    "usage: pk-store [-v] [--json] [-j jobs] [-l level] [-t tag]... [--host name]\n"
    "                [--cache file | --no-cache] [--trust-refs]\n"
    "                [--progress | --no-progress]\n"
    "                [--passphrase-file file | --key-file file] repository\n"
    "       pk-store --init [--no-encryption] [--min size] [--avg size] "
    "[--max size]\n"
    "                [--passphrase-file file] repository\n";

/* The level's bounds and default, spelled from the macros that set them. */
#define STR(x)	#x
#define XSTR(x)	STR(x)

static const char options_text[] =
    "  --init                   create the repository\n"
    "  --no-encryption          with --init, a repository that is not encrypted\n"
    "  --min, --avg, --max SIZE with --init, the chunk sizes\n"
    "  -l, --level LEVEL        zstd level, 0 (none) to " XSTR(PK_LEVEL_MAX)
    " (" XSTR(PK_LEVEL_DEFAULT) ")\n"
    "  -j, --jobs N             compress and seal on N threads (one per core)\n"
    "  -t, --tag TAG            tag the snapshot (repeatable)\n"
    "  --host NAME              record the snapshot as host NAME's\n"
    "  --cache FILE             write the stat cache FILE (default: this host's)\n"
    "  --no-cache               write no stat cache and no known-chunk set\n"
    "  --trust-refs             take REFs to any chunk the repository holds\n"
    "  --passphrase-file FILE   read the passphrase from FILE\n"
    "  --key-file FILE          open with the key file FILE\n"
    "  --progress               draw a progress line, even off a terminal\n"
    "  --no-progress            draw no progress line\n"
    "  -v, --verbose            print progress every 64 MiB and a summary\n"
    "  --json                   print the snapshot as JSON, not its id\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

static void
progress(void *arg, const struct pk_store_progress *p)
{
	fprintf(stderr, "pk-store: %llu files, %llu MiB in, %llu MiB stored\n",
	    (unsigned long long)p->files, (unsigned long long)(p->bytes >> 20),
	    (unsigned long long)(p->stored >> 20));
}

static int
init(const char *path, const struct pk_repo_params *p, const char *passfile)
{
	struct pk_chunker c;
	char *pass = NULL;
	int e;

	if ((e = pk_chunker_init(&c, p->chunk_min, p->chunk_avg,
	    p->chunk_max)) < 0)
		pk_die(PK_EXIT_USAGE, "%s", pk_errmsg(e));
	if (p->encrypted)
		pass = pk_passphrase(passfile, 1);
	e = pk_repo_init(path, p, pass, pass ? strlen(pass) : 0);
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

struct caches {
	const char *repo;
	int nocache;
	char cache[4096], known[4200];
};

/* The stat cache and known-chunk set of the stream's host, which its WALK
 * record may name: the default ones unless --cache or --no-cache. */
static void
choose_caches(void *arg, struct pk_store_options *o, const char *host)
{
	struct caches *c = arg;
	int e;

	if (!c->nocache && o->cache == NULL) {
		pk_default_cache(c->repo, host, c->cache, sizeof c->cache, 1);
		o->cache = c->cache;
	}
	if (o->cache) {
		if ((e = pk_path(c->known, sizeof c->known, "%s.known",
		    o->cache)) < 0)
			pk_die_lib(e);
		o->known = c->known;
	}
}

/* The store verb: the stream on standard input into repo, a snapshot. */
static int
store(const char *reponame, struct pk_store_options *o, const char *passfile,
    const char *keyfile, int nocache, int verbose, int json,
    enum pk_meter_opt meter)
{
	char host[256], name[PK_SNAPSHOT_NAME_BYTES];
	struct caches caches = { reponame, nocache, "", "" };
	struct pk_progress count;
	struct pk_meter *m = NULL;
	struct pk_snapshot snap;
	struct pk_reader *r;
	struct pk_repo *repo;
	struct passwd *pw;
	int e;

	if (o->threads == 0)
		o->threads = pk_default_jobs();
	if (o->host == NULL) {
		o->host = pk_host_name(host, sizeof host);
		o->host_is_default = 1;
	}
	if ((pw = getpwuid(getuid())) != NULL)
		o->user = pw->pw_name;
	if (verbose)
		o->progress = progress;
	o->choose_caches = choose_caches;
	o->choose_arg = &caches;
	repo = pk_open_repo(reponame, passfile, keyfile);
	if ((e = pk_reader_new(&r, 0, "stdin")) < 0)
		pk_die_lib(e);
	/* -v logs a line now and then instead, for cron. */
	if (pk_meter_wanted(verbose && meter == PK_METER_AUTO ? PK_METER_OFF :
	    meter, 0)) {
		pk_progress_init(&count);
		o->count = &count;
		m = pk_meter_start(&count);
	}
	e = pk_store_stream(repo, r, o, &snap);
	pk_meter_stop(m);
	pk_reader_free(r);
	pk_repo_close(repo);
	if (e < 0 && o->missing_chunk)
		drop_stale_cache(o->stale_cache ? o->cache : NULL, o->known);
	if (e < 0)
		pk_die(PK_EXIT_FAIL, "%s (no snapshot written)", pk_errmsg(e));
	if (o->cache_failed)
		pk_warn("stat cache or known-chunk set not written: %s",
		    o->cache_error);
	if (o->lost_blobs)
		pk_warn("%llu chunks were in packs that are missing; stored again "
		    "(pk-index --check=data names the snapshots that lost them)",
		    (unsigned long long)o->lost_blobs);
	if (o->chunker_mismatch)
		pk_warn("stream chunked with other sizes than the repository's "
		    "(pk-chunk -r %s keeps deduplication working)", reponame);
	note_newest(reponame, &snap);
	pk_hex(name, snap.id, sizeof snap.id);
	if (json) {
		pk_put_snapshot_json(&snap);
		putchar('\n');
	} else {
		printf("%s\n", name);
	}
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
	return e;
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
		{ "progress", no_argument, NULL, 'p' },
		{ "no-progress", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	enum { STORE, INIT } verb = STORE;
	struct pk_repo_params params = { .chunk_min = PK_CHUNK_MIN_DEFAULT,
	    .chunk_avg = PK_CHUNK_AVG_DEFAULT, .chunk_max = PK_CHUNK_MAX_DEFAULT,
	    .encrypted = 1 };
	struct pk_store_options o = { .level = PK_LEVEL_DEFAULT };
	const char *passfile = NULL, *keyfile = NULL;
	const char *initonly = NULL, *storeonly = NULL;	/* an option of each */
	const char *tags[PK_SNAPSHOT_MAX_TAGS];
	char *end;
	enum pk_meter_opt meter = PK_METER_AUTO;
	int ch, code, verbose = 0, json = 0, nocache = 0;
	long level;

	pk_tool_init("pk-store");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hj:l:t:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'I': verb = INIT; break;
		case 'P': passfile = optarg; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		case 'N': params.encrypted = 0; initonly = "--no-encryption"; break;
		case 'm':
			params.chunk_min = pk_parse_chunk_size(optarg);
			initonly = "--min";
			break;
		case 'a':
			params.chunk_avg = pk_parse_chunk_size(optarg);
			initonly = "--avg";
			break;
		case 'M':
			params.chunk_max = pk_parse_chunk_size(optarg);
			initonly = "--max";
			break;
		case 'k': keyfile = optarg; storeonly = "--key-file"; break;
		case 'C': o.cache = optarg; storeonly = "--cache"; break;
		case 'n': nocache = 1; storeonly = "--no-cache"; break;
		case 'T': o.trust_refs = 1; storeonly = "--trust-refs"; break;
		case 'v': verbose = 1; storeonly = "-v"; break;
		case 'J': json = 1; storeonly = "--json"; break;
		case 'p': meter = PK_METER_ON; storeonly = "--progress"; break;
		case 'q': meter = PK_METER_OFF; storeonly = "--no-progress"; break;
		case 'j':
			o.threads = pk_parse_jobs(optarg);
			storeonly = "-j";
			break;
		case 'H':
			if (strlen(optarg) > PK_SNAPSHOT_MAX_STRING)
				pk_die(PK_EXIT_USAGE, "host name longer than %d bytes",
				    PK_SNAPSHOT_MAX_STRING);
			o.host = optarg;
			storeonly = "--host";
			break;
		case 'l':
			level = strtol(optarg, &end, 10);
			if (*end || end == optarg || level < 0 || level > PK_LEVEL_MAX)
				pk_die(PK_EXIT_USAGE, "%s: level must be 0 to %d",
				    optarg, PK_LEVEL_MAX);
			o.level = (int)level;
			storeonly = "-l";
			break;
		case 't':
			if (o.ntags == PK_SNAPSHOT_MAX_TAGS)
				pk_die(PK_EXIT_USAGE, "too many tags");
			if (strlen(optarg) > PK_SNAPSHOT_MAX_STRING)
				pk_die(PK_EXIT_USAGE, "tag longer than %d bytes",
				    PK_SNAPSHOT_MAX_STRING);
			tags[o.ntags++] = optarg;
			storeonly = "-t";
			break;
		default: pk_usage(usage_text, PK_BAD_OPTION, argv[optind - 1]);
		}
	}
	if (optind == argc)
		pk_usage(usage_text, "no repository named");
	if (optind < argc - 1)
		pk_usage(usage_text, "%s: extra operand", argv[optind + 1]);
	if (verb == INIT && storeonly)
		pk_usage(usage_text, "%s does not go with --init", storeonly);
	if (verb == STORE && initonly)
		pk_usage(usage_text, "%s goes with --init only", initonly);
	if (nocache && o.cache)
		pk_usage(usage_text, "--cache and --no-cache exclude each other");
	if (verb == INIT)
		return init(argv[optind], &params, passfile);
	o.tags = tags;
	code = store(argv[optind], &o, passfile, keyfile, nocache, verbose,
	    json, meter);
	if (fflush(stdout) != 0)
		return PK_EXIT_FAIL;
	return code;
}
