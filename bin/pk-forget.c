/* pk-forget: drop snapshots by id or by a retention policy. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "pk.h"
#include "unlock.h"

#define COUNT_MAX	1000000

static const char usage_text[] =
    "usage: pk-forget [--dry-run] [--json] [unlock] repository id...\n"
    "       pk-forget [--dry-run] [--json] policy [select] [unlock] repository\n"
    "policy: [--keep-last n] [--keep-hourly n] [--keep-daily n]\n"
    "        [--keep-weekly n] [--keep-monthly n] [--keep-yearly n]\n"
    "        [--keep-within duration] [--keep-tag tag]...\n"
    "select: [--host name]... [--tag tag]... [--path path]...\n"
    "        [--group-by list]\n"
    "unlock: --passphrase-file file | --key-file file\n";

static const char options_text[] =
    "  --keep-last N            keep the N newest snapshots\n"
    "  --keep-hourly N          keep the newest of each of the last N hours\n"
    "  --keep-daily N           ... days\n"
    "  --keep-weekly N          ... weeks\n"
    "  --keep-monthly N         ... months\n"
    "  --keep-yearly N          ... years\n"
    "  --keep-within DURATION   keep those within DURATION of the newest (7d)\n"
    "  --keep-tag TAG           keep those tagged TAG (repeatable)\n"
    PK_FILTER_HELP
    "  --group-by LIST          group by host, paths, tags (host,paths)\n"
    "  --dry-run                say what would be removed; remove nothing\n"
    "  --json                   print the decisions as JSON\n"
    "  --passphrase-file FILE   read the passphrase from FILE\n"
    "  --key-file FILE          open with the key file FILE\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

static int dry_run, json;

static unsigned
parse_count(const char *opt, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end != '\0' || v < 0 || v > COUNT_MAX)
		pk_usage(usage_text, "--%s %s: not a count from 0 to %d", opt, arg,
		    COUNT_MAX);
	return (unsigned)v;
}

static void
add_id(char ***ids, size_t *n, const char *id)
{
	char **nv;

	if ((nv = realloc(*ids, (*n + 1) * sizeof *nv)) == NULL ||
	    (nv[*n] = strdup(id)) == NULL)
		pk_die(PK_EXIT_FAIL, "out of memory");
	*ids = nv;
	(*n)++;
}

/* The ids named: the operands, and the lines of standard input for "-". */
static char **
read_ids(char **argv, int argc, size_t *n)
{
	char **ids = NULL, *line = NULL;
	size_t cap = 0;
	int i;

	*n = 0;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") != 0) {
			add_id(&ids, n, argv[i]);
			continue;
		}
		while (getline(&line, &cap, stdin) >= 0) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0] != '\0')
				add_id(&ids, n, line);
		}
	}
	free(line);
	return ids;
}

static void
print_reasons(const struct pk_snapshot *s, const struct pk_forget_verdict *v)
{
	unsigned bit;
	int first = 1;

	for (bit = 1; bit <= PK_FORGET_NAMED; bit <<= 1) {
		if (!(v->why & bit))
			continue;
		if (json)
			printf("%s\"%s\"", first ? "" : ",", pk_forget_reason(bit));
		else
			printf("%s%s", first ? "  " : ",", pk_forget_reason(bit));
		first = 0;
	}
	if (!json && first)
		fputs("  none", stdout);
	if (!json && s->errors)
		fputs(" (incomplete)", stdout);
}

static void
say(const struct pk_snapshot *s, const struct pk_forget_verdict *v,
    const char *action)
{
	char id[PK_SNAPSHOT_NAME_BYTES];
	uint32_t i;

	pk_hex(id, s->id, sizeof s->id);
	if (json) {
		printf("{\"action\":\"%s\",\"id\":\"%s\",\"short_id\":\"%.12s\","
		    "\"time\":", action, id, id);
		pk_put_time(s->start_sec, s->start_nsec, 1);
		printf(",\"host\":");
		pk_put_jsonz(s->host ? s->host : "");
		pk_put_json_strings("paths", s->paths, s->npaths);
		pk_put_json_strings("tags", s->tags, s->ntags);
		printf(",\"incomplete\":%s,\"reasons\":[",
		    s->errors ? "true" : "false");
		print_reasons(s, v);
		printf("]}\n");
		return;
	}
	printf("%-7s %.12s  ", action, id);
	pk_put_time(s->start_sec, s->start_nsec, 0);
	printf("  %-12s ", s->host ? s->host : "-");
	for (i = 0; i < s->npaths; i++)
		printf("%s%s", i ? "," : "", s->paths[i]);
	for (i = 0; i < s->ntags; i++)
		printf("%s%s", i ? "," : " [", s->tags[i]);
	printf("%s", s->ntags ? "]" : "");
	print_reasons(s, v);
	putchar('\n');
}

/*
 * Removes what the verdicts remove and says what became of each snapshot
 * looked at, group by group, newest first.  Returns the failures.
 */
static int
forget(struct pk_repo *r, const struct pk_snapshot *list, size_t n,
    struct pk_forget_verdict *v)
{
	char name[PK_SNAPSHOT_NAME_BYTES];
	size_t g, i;
	int e, failed = 0;

	for (g = n; g-- > 0;) {
		if (v[g].group != g)
			continue;
		for (i = g + 1; i-- > 0;) {
			if (!v[i].selected || v[i].group != g)
				continue;
			if (v[i].keep || dry_run) {
				say(&list[i], &v[i], v[i].keep ? "keep" : "remove");
				continue;
			}
			pk_hex(name, list[i].id, sizeof list[i].id);
			if ((e = pk_snapshot_remove(r, name)) < 0) {
				pk_warn("%s", pk_errmsg(e));
				v[i].keep = 1;
				failed++;
				continue;
			}
			say(&list[i], &v[i], "removed");
		}
	}
	return failed;
}

/*
 * The newest snapshot this user has seen here (newest.h) moves back to the
 * newest left when it was forgotten, so that pk-index does not take the
 * forget for a rollback.  A note already gone before is left for pk-index
 * to report.
 */
static void
move_note(const char *repo, const struct pk_snapshot *list, size_t n,
    const struct pk_forget_verdict *v)
{
	char path[4096], place[PATH_MAX];
	struct pk_newest seen, now;
	struct pk_snapshot *left;
	size_t i, nleft = 0;
	int e;

	if ((left = calloc(n + 1, sizeof *left)) == NULL)
		pk_die(PK_EXIT_FAIL, "out of memory");
	for (i = 0; i < n; i++)
		if (v[i].keep)
			left[nleft++] = list[i];
	pk_newest_file(repo, path, sizeof path, place);
	e = pk_newest_read(path, place, &seen);
	if (e == 0 && pk_newest_present(&seen, list, n) &&
	    !pk_newest_present(&seen, left, nleft)) {
		if (nleft)
			pk_newest_of(left, nleft, &now);
		e = pk_forget_note(path, place, &seen, nleft ? &now : NULL);
	}
	if (e < 0 && e != -ENOENT)
		pk_warn("%s", pk_errmsg(e));
	pk_err_clear();
	free(left);
}

/* Marks the snapshots the ids name for removal, and only them; fails when
 * an id names none, or more than one. */
static int
named(const struct pk_snapshot *list, size_t n, char **ids, size_t nids,
    struct pk_forget_verdict *v)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		v[i].selected = 0;
		v[i].keep = 1;
		v[i].why = 0;
		v[i].group = n - 1;
	}
	for (i = 0; i < nids; i++) {
		if ((k = pk_forget_find(list, n, ids[i])) < 0)
			return k;
		v[k].selected = 1;
		v[k].keep = 0;
		v[k].why = PK_FORGET_NAMED;
	}
	return 0;
}

static int
run(const char *repo, struct pk_repo *r, const struct pk_forget_policy *p,
    char **ids, size_t nids, int by_id)
{
	struct pk_forget_verdict *v;
	struct pk_snapshot *list;
	size_t n, nbad;
	int e, failed;

	if ((e = pk_snapshot_list(r, &list, &n, &nbad)) < 0)
		pk_die_lib(e);
	if (nbad && !by_id) {
		pk_snapshot_list_free(list, n);
		pk_die(PK_EXIT_FAIL, "%zu snapshots cannot be read (pk-index "
		    "--check names them): no policy is applied without them", nbad);
	}
	if ((v = calloc(n + 1, sizeof *v)) == NULL)
		pk_die(PK_EXIT_FAIL, "out of memory");
	if (by_id && (e = named(list, n, ids, nids, v)) < 0) {
		free(v);
		pk_snapshot_list_free(list, n);
		pk_die(PK_EXIT_FAIL, "%s; nothing removed", pk_errmsg(e));
	}
	if (!by_id)
		pk_forget_apply(p, list, n, v);
	failed = forget(r, list, n, v);
	if (!dry_run)
		move_note(repo, list, n, v);
	free(v);
	pk_snapshot_list_free(list, n);
	return failed ? PK_EXIT_FAIL : PK_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keep-last", required_argument, NULL, 'l' },
		{ "keep-hourly", required_argument, NULL, 'H' },
		{ "keep-daily", required_argument, NULL, 'd' },
		{ "keep-weekly", required_argument, NULL, 'w' },
		{ "keep-monthly", required_argument, NULL, 'm' },
		{ "keep-yearly", required_argument, NULL, 'y' },
		{ "keep-within", required_argument, NULL, 'W' },
		{ "keep-tag", required_argument, NULL, 'T' },
		PK_FILTER_OPTIONS,
		{ "group-by", required_argument, NULL, 'g' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* The counting options, in the order of enum pk_forget_rule. */
	static const char counts[] = "lHdwmy";
	struct pk_forget_policy p;
	const char *passfile = NULL, *keyfile = NULL, *select_opt = NULL;
	char **ids;
	size_t nids, nstrs = 0;
	struct pk_repo *r;
	int ch, li, code, keep_opts = 0;

	pk_tool_init("pk-forget");
	memset(&p, 0, sizeof p);
	p.group_by = PK_FORGET_GROUP_HOST | PK_FORGET_GROUP_PATHS;
	pk_filter_init(&p.only, argc);
	if ((p.keep_tags = calloc((size_t)argc, sizeof *p.keep_tags)) == NULL)
		pk_die(PK_EXIT_FAIL, "out of memory");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (ch) {
		case 'l': case 'H': case 'd': case 'w': case 'm': case 'y':
			p.keep[strchr(counts, ch) - counts] =
			    parse_count(opts[li].name, optarg);
			keep_opts = 1;
			break;
		case 'W':
			if (pk_forget_parse_duration(optarg, &p.within) < 0)
				pk_usage(usage_text, "%s", pk_errmsg(-EINVAL));
			keep_opts = 1;
			break;
		case 'T':
			p.keep_tags[p.nkeep_tags++] = optarg;
			keep_opts = 1;
			break;
		case 'g':
			if (pk_forget_parse_group(optarg, &p.group_by) < 0)
				pk_usage(usage_text, "--group-by %s",
				    pk_errmsg(-EINVAL));
			select_opt = "group-by";
			break;
		case 'n': dry_run = 1; break;
		case 'j': json = 1; break;
		case 'P': passfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		default:
			if (!pk_filter_option(&p.only, ch, optarg))
				pk_usage(usage_text, PK_BAD_OPTION,
				    argv[optind - 1]);
			select_opt = opts[li].name;
		}
	}
	if (optind == argc)
		pk_usage(usage_text, "no repository named");
	nstrs = (size_t)(argc - optind - 1);
	if (nstrs && keep_opts)
		pk_usage(usage_text, "snapshot ids and keep options exclude each "
		    "other");
	if (nstrs && select_opt)
		pk_usage(usage_text, "--%s goes with keep options only",
		    select_opt);
	if (!nstrs && pk_forget_policy_empty(&p))
		pk_usage(usage_text, "no keep option: the policy would remove "
		    "every snapshot");
	ids = read_ids(argv + optind + 1, (int)nstrs, &nids);
	r = pk_open_repo(argv[optind], passfile, keyfile);
	code = run(argv[optind], r, &p, ids, nids, nstrs > 0);
	pk_repo_close(r);
	while (nids)
		free(ids[--nids]);
	free(ids);
	free(p.keep_tags);
	free(p.only.hosts);
	if (fflush(stdout) != 0)
		return PK_EXIT_FAIL;
	return code;
}
