/* pk-gc: give back the space of blobs no snapshot holds, while backups go on. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "json.h"
#include "pk.h"
#include "unlock.h"

#define GRACE_DEFAULT	3600
#define MAX_UNUSED_DEFAULT 5.0

static const char usage_text[] =
    "usage: pk-gc [-v] [--json] [--dry-run] [--grace duration]\n"
    "             [--max-unused percent]\n"
    "             [--passphrase-file file | --key-file file] repository\n";

static const char options_text[] =
    "  --grace DURATION         delete what was marked this long ago (1h)\n"
    "  --max-unused PERCENT     repack while more is unused (5)\n"
    "  --dry-run                say what would be marked and deleted; change nothing\n"
    "  -v, --verbose            print each step\n"
    "  --json                   print the report as one JSON object\n"
    "  --passphrase-file FILE   read the passphrase from FILE\n"
    "  --key-file FILE          open with the key file FILE\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

/* A duration: a count and s, m, h, d or w (seconds, minutes, hours,
 * days, weeks); a bare count is seconds. */
static int64_t
parse_duration(const char *arg)
{
	static const char units[] = "smhdw";
	static const int64_t secs[] = { 1, 60, 3600, 86400, 604800 };
	const char *u;
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || v < 0 || v > 100000000)
		pk_usage(usage_text, "--grace %s: not a duration", arg);
	if (*end == '\0')
		return v;
	if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
		pk_usage(usage_text, "--grace %s: not a duration (30m, 2h, 1d)",
		    arg);
	return v * secs[u - units];
}

static double
parse_percent(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || (*end != '\0' && strcmp(end, "%") != 0) ||
	    !(v >= 0 && v <= 100))
		pk_usage(usage_text, "--max-unused %s: not a percentage from 0 "
		    "to 100", arg);
	return v;
}

static void
say(void *arg, const char *line)
{
	fprintf(stderr, "pk-gc: %s\n", line);
}

static void
report(const struct pk_gc_report *r, const struct pk_gc_options *o)
{
	char a[32], b[32], when[64];
	time_t t = (time_t)r->ripe_at;
	struct tm tm;

	printf("%" PRIu64 " snapshots, %" PRIu64 " packs, %s in %" PRIu64
	    " blobs; unused: %s in %" PRIu64 " blobs (%.1f%%)\n", r->snapshots,
	    r->packs, pk_size_str(a, sizeof a, (double)r->bytes, NULL),
	    r->blobs, pk_size_str(b, sizeof b, (double)r->unused_bytes, NULL),
	    r->unused_blobs, r->bytes ? 100.0 * (double)r->unused_bytes / (double)r->bytes : 0.0);
	if (r->orphan_packs)
		printf("%" PRIu64 " packs that no index delta names\n",
		    r->orphan_packs);
	if (r->missing_blobs)
		printf("%" PRIu64 " blobs in packs that are missing (pk-index "
		    "--check=data names the snapshots that lose them)\n",
		    r->missing_blobs);
	if (r->marked_packs)
		printf("%s %" PRIu64 " packs (%" PRIu64 " to repack), %s unused\n",
		    o->dry_run ? "would mark" : "marked", r->marked_packs,
		    r->marked_repack,
		    pk_size_str(a, sizeof a, (double)r->marked_bytes, NULL));
	if (r->swept_marks)
		printf("deleted %" PRIu64 " packs, copied %" PRIu64 " blobs (%s); "
		    "freed %s\n", r->deleted_packs, r->copied_blobs,
		    pk_size_str(a, sizeof a, (double)r->copied_bytes, NULL),
		    pk_size_str(b, sizeof b, (double)r->freed_bytes, NULL));
	if (r->waiting) {
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(when, sizeof when, "later");
		printf("waiting: %s; a pk-gc run after %s deletes the marked "
		    "packs\n", r->wait_why[0] ? r->wait_why : "grace time",
		    r->ripe_at ? when : "that");
	} else if (!r->swept_marks && !r->marked_packs) {
		printf("nothing to collect\n");
	}
	if (r->removed_tmp)
		printf("%s %" PRIu64 " leftover files of crashed runs\n",
		    o->dry_run ? "would remove" : "removed", r->removed_tmp);
}

/* The report as one JSON object: the counts of struct pk_gc_report. */
static void
report_json(const struct pk_gc_report *r, const struct pk_gc_options *o)
{
	printf("{\"dry_run\":%s,\"snapshots\":%" PRIu64 ",\"packs\":%" PRIu64
	    ",\"blobs\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"unused_blobs\":%"
	    PRIu64 ",\"unused_bytes\":%" PRIu64 ",\"orphan_packs\":%" PRIu64
	    ",\"missing_blobs\":%" PRIu64 ",\"marked_packs\":%" PRIu64
	    ",\"marked_bytes\":%" PRIu64 ",\"marked_repack\":%" PRIu64
	    ",\"deleted_packs\":%" PRIu64 ",\"freed_bytes\":%" PRIu64
	    ",\"copied_blobs\":%" PRIu64 ",\"copied_bytes\":%" PRIu64
	    ",\"removed_tmp\":%" PRIu64 ",\"waiting\":%" PRIu64,
	    o->dry_run ? "true" : "false", r->snapshots, r->packs, r->blobs,
	    r->bytes, r->unused_blobs, r->unused_bytes, r->orphan_packs,
	    r->missing_blobs, r->marked_packs, r->marked_bytes,
	    r->marked_repack, r->deleted_packs, r->freed_bytes,
	    r->copied_blobs, r->copied_bytes, r->removed_tmp, r->waiting);
	if (r->waiting) {
		printf(",\"waiting_for\":");
		pk_put_jsonz(r->wait_why[0] ? r->wait_why : "grace time");
		printf(",\"deletable_at\":");
		pk_put_time(r->ripe_at, 0, 1);
	}
	printf("}\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "grace", required_argument, NULL, 'g' },
		{ "max-unused", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct pk_gc_options o = { .grace = GRACE_DEFAULT,
	    .max_unused = MAX_UNUSED_DEFAULT };
	const char *passfile = NULL, *keyfile = NULL;
	struct pk_gc_report rep;
	struct pk_repo *r;
	int ch, e, json = 0;

	pk_tool_init("pk-gc");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hnv", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': o.dry_run = 1; break;
		case 'g': o.grace = parse_duration(optarg); break;
		case 'u': o.max_unused = parse_percent(optarg); break;
		case 'v': o.say = say; break;
		case 'j': json = 1; break;
		case 'P': passfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		default: pk_usage(usage_text, PK_BAD_OPTION, argv[optind - 1]);
		}
	}
	if (optind == argc)
		pk_usage(usage_text, "no repository named");
	if (optind + 1 < argc)
		pk_usage(usage_text, "%s: extra operand", argv[optind + 1]);
	r = pk_open_repo(argv[optind], passfile, keyfile);
	e = pk_gc(r, &o, &rep);
	pk_repo_close(r);
	if (e < 0)
		pk_die_lib(e);
	json ? report_json(&rep, &o) : report(&rep, &o);
	if (fflush(stdout) != 0)
		return PK_EXIT_FAIL;
	return PK_EXIT_OK;
}
