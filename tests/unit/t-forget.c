/*
 * t-forget: retention policies (forget.h), on made-up snapshot lists in
 * the manner of restic's forget tests: each keep rule alone (--keep-last,
 * hourly, daily, weekly on ISO weeks across a new year, monthly, yearly),
 * with gaps (N periods that have a snapshot, not the last N periods), and
 * combined, with the rules that kept each snapshot; --keep-within in
 * calendar units from the group's newest, inclusive; --keep-tag; groups by
 * host, paths (in any order) and tags, or one group; --host and --tag
 * leaving the others untouched; periods in local time (a day that UTC
 * would split otherwise, the hour repeated when summer time ends);
 * incomplete snapshots, which no counting rule counts; and the parsers of
 * durations and --group-by, the empty policy, ids found by prefix.
 */
#include <errno.h>
#include <time.h>

#include "pk.h"
#include "unit.h"

/* Central European time, with its summer time, with no zone file. */
#define TZ_CET	"CET-1CEST,M3.5.0,M10.5.0/3"
#define MAXSNAPS	32

/* A snapshot: its local start time ("YYYY-MM-DD HH:MM" or "@seconds"),
 * host, paths and tags (comma-separated), and whether it is incomplete. */
struct spec {
	const char *when, *host, *paths, *tags;
	int incomplete;
};
#define AT(when)	{ when, NULL, NULL, NULL, 0 }
#define BROKEN(when)	{ when, NULL, NULL, NULL, 1 }
#define END		{ NULL, NULL, NULL, NULL, 0 }

static int64_t
time_of(const char *when)
{
	struct tm tm;

	if (when[0] == '@')
		return strtoll(when + 1, NULL, 10);
	memset(&tm, 0, sizeof tm);
	if (strptime(when, "%Y-%m-%d %H:%M", &tm) == NULL)
		abort();
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static void
add_list(struct pk_snapshot *s, const char *list, int tags)
{
	char buf[256], *p, *save = NULL;

	if (list == NULL)
		return;
	snprintf(buf, sizeof buf, "%s", list);
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		tags ? pk_snapshot_add_tag(s, p) : pk_snapshot_add_path(s, p,
		    strlen(p));
}

/* The list, oldest first, each with an id of its own (its index). */
static size_t
make(struct pk_snapshot *list, const struct spec *sp)
{
	size_t n;

	for (n = 0; sp[n].when != NULL; n++) {
		memset(&list[n], 0, sizeof list[n]);
		list[n].start_sec = list[n].end_sec = time_of(sp[n].when);
		list[n].host = strdup(sp[n].host ? sp[n].host : "h");
		add_list(&list[n], sp[n].paths ? sp[n].paths : "/p", 0);
		add_list(&list[n], sp[n].tags, 1);
		list[n].errors = (uint64_t)sp[n].incomplete;
		list[n].id[0] = (uint8_t)(0x10 + n);
		if (n > 0 && list[n].start_sec < list[n - 1].start_sec)
			abort();
	}
	return n;
}

static void
release(struct pk_snapshot *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pk_snapshot_release(&list[i]);
}

/* The rules that decided v, as pk-forget names them. */
static void
why_of(const struct pk_forget_verdict *v, char *out, size_t n)
{
	unsigned bit;

	out[0] = '\0';
	for (bit = 1; bit <= PK_FORGET_NAMED; bit <<= 1)
		if (v->why & bit)
			snprintf(out + strlen(out), n - strlen(out), "%s%s",
			    out[0] ? "," : "", pk_forget_reason(bit));
}

/*
 * Applies p to the snapshots of sp and checks the verdicts against want,
 * oldest first: 'k' kept, 'r' removed, '-' not looked at.  When why is
 * given, it is the rules that kept each kept snapshot, ';' between them.
 */
static void
expect(const char *name, const struct pk_forget_policy *p,
    const struct spec *sp, const char *want, const char *why)
{
	struct pk_snapshot list[MAXSNAPS] = { 0 };
	struct pk_forget_verdict v[MAXSNAPS];
	char got[MAXSNAPS + 1], reasons[1024] = "", one[128];
	size_t n = make(list, sp), i;

	pk_forget_apply(p, list, n, v);
	for (i = 0; i < n; i++) {
		got[i] = !v[i].selected ? '-' : v[i].keep ? 'k' : 'r';
		if (!v[i].keep)
			continue;
		why_of(&v[i], one, sizeof one);
		snprintf(reasons + strlen(reasons), sizeof reasons -
		    strlen(reasons), "%s%s", reasons[0] ? ";" : "", one);
	}
	got[n] = '\0';
	CHECK(name, strcmp(got, want) == 0 &&
	    (why == NULL || strcmp(reasons, why) == 0));
	if (strcmp(got, want) != 0 || (why && strcmp(reasons, why) != 0))
		printf("# got %s (%s), want %s (%s)\n", got, reasons, want,
		    why ? why : "any");
	release(list, n);
}

static const struct spec hours[] = {
	AT("2024-05-06 10:05"), AT("2024-05-06 10:40"), AT("2024-05-06 11:10"),
	AT("2024-05-06 12:00"), AT("2024-05-06 12:59"), AT("2024-05-06 13:01"),
	END,
};

/* Days with two snapshots, and days with none between them. */
static const struct spec days[] = {
	AT("2024-04-28 09:00"), AT("2024-04-29 09:00"), AT("2024-04-29 21:00"),
	AT("2024-05-02 08:00"), AT("2024-05-05 07:00"), AT("2024-05-05 23:59"),
	AT("2024-05-06 00:00"), END,
};

/* ISO weeks: 2019-12-30 (Monday) is in week 1 of 2020, 2021-01-03
 * (Sunday) in week 53 of 2020. */
static const struct spec weeks[] = {
	AT("2019-12-29 12:00"), AT("2019-12-30 12:00"), AT("2020-01-02 12:00"),
	AT("2020-12-28 00:00"), AT("2021-01-03 23:30"), AT("2021-01-04 00:10"),
	END,
};

static const struct spec months[] = {
	AT("2022-11-30 23:00"), AT("2022-12-01 00:30"), AT("2022-12-31 23:59"),
	AT("2023-01-01 00:00"), AT("2023-03-15 12:00"), AT("2023-03-16 12:00"),
	END,
};

static void
test_counts(void)
{
	struct pk_forget_policy p;

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_LAST] = 3;
	expect("--keep-last 3", &p, hours, "rrrkkk", "last;last;last");
	p.keep[PK_FORGET_LAST] = 10;
	expect("--keep-last more than there are keeps all", &p, hours,
	    "kkkkkk", NULL);

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_HOURLY] = 3;
	expect("--keep-hourly 3: the newest of each of 3 hours", &p, hours,
	    "rrkrkk", "hourly;hourly;hourly");
	p.keep[PK_FORGET_HOURLY] = 2;
	expect("--keep-hourly 2", &p, hours, "rrrrkk", NULL);

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_DAILY] = 3;
	expect("--keep-daily 3: days that have a snapshot, gaps skipped", &p,
	    days, "rrrkrkk", "daily;daily;daily");
	p.keep[PK_FORGET_DAILY] = 5;
	expect("--keep-daily 5", &p, days, "krkkrkk", NULL);
	p.keep[PK_FORGET_DAILY] = 99;
	expect("--keep-daily 99: one a day", &p, days, "krkkrkk", NULL);

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_WEEKLY] = 2;
	expect("--keep-weekly 2: Sunday and Monday are two ISO weeks", &p,
	    weeks, "rrrrkk", NULL);
	p.keep[PK_FORGET_WEEKLY] = 3;
	expect("--keep-weekly 3: a week of two years is one week", &p, weeks,
	    "rrkrkk", NULL);
	p.keep[PK_FORGET_WEEKLY] = 4;
	expect("--keep-weekly 4: week 52 of 2019 is the fourth", &p, weeks,
	    "krkrkk", NULL);

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_MONTHLY] = 3;
	expect("--keep-monthly 3", &p, months, "rrkkrk", NULL);
	p.keep[PK_FORGET_MONTHLY] = 4;
	expect("--keep-monthly 4: a month without a snapshot is skipped", &p,
	    months, "krkkrk", NULL);

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_YEARLY] = 1;
	expect("--keep-yearly 1", &p, months, "rrrrrk", "yearly");
	p.keep[PK_FORGET_YEARLY] = 2;
	expect("--keep-yearly 2: the newest of 2022 is its last", &p, months,
	    "rrkrrk", "yearly;yearly");
}

static void
test_combined(void)
{
	struct pk_forget_policy p;

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_DAILY] = 2;
	p.keep[PK_FORGET_MONTHLY] = 3;
	expect("--keep-daily 2 --keep-monthly 3: any rule keeps", &p, months,
	    "rrkkkk", "monthly;monthly;daily;daily,monthly");
	p.keep[PK_FORGET_LAST] = 1;
	p.keep[PK_FORGET_YEARLY] = 5;
	expect("... with --keep-last 1 and --keep-yearly 5: every rule named",
	    &p, months, "rrkkkk",
	    "monthly,yearly;monthly;daily;last,daily,monthly,yearly");

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_HOURLY] = 1;
	p.keep[PK_FORGET_DAILY] = 2;
	p.keep[PK_FORGET_WEEKLY] = 3;
	expect("hourly, daily and weekly on one week's days", &p, days,
	    "krrrrkk", "weekly;daily,weekly;hourly,daily,weekly");
}

static const struct spec within[] = {
	AT("2021-02-27 12:00"), AT("2021-03-03 11:59"), AT("2021-03-03 12:00"),
	AT("2021-03-24 12:00"), BROKEN("2021-03-29 12:00"),
	AT("2021-03-30 11:00"), AT("2021-03-31 12:00"), END,
};

static void
test_within(void)
{
	struct pk_forget_policy p;

	memset(&p, 0, sizeof p);
	CHECK("within: 1d", pk_forget_parse_duration("1d", &p.within) == 0);
	expect("--keep-within 1d: from the newest, not from now", &p, within,
	    "rrrrrrk", "within");
	pk_forget_parse_duration("1w", &p.within);
	expect("--keep-within 1w keeps the incomplete one too", &p, within,
	    "rrrkkkk", NULL);
	pk_forget_parse_duration("1m", &p.within);
	expect("--keep-within 1m: March 31 less a month is March 3, kept",
	    &p, within, "rrkkkkk", NULL);
	pk_forget_parse_duration("1m1h", &p.within);
	expect("--keep-within 1m1h", &p, within, "rkkkkkk", NULL);
	pk_forget_parse_duration("1y", &p.within);
	expect("--keep-within 1y", &p, within, "kkkkkkk", NULL);
	pk_forget_parse_duration("24h", &p.within);
	expect("--keep-within 24h", &p, within, "rrrrrrk", NULL);
	pk_forget_parse_duration("25h", &p.within);
	expect("--keep-within 25h: the bound itself is within", &p, within,
	    "rrrrrkk", NULL);
	pk_forget_parse_duration("2d", &p.within);
	p.keep[PK_FORGET_LAST] = 2;
	expect("--keep-within 2d --keep-last 2: the incomplete one is kept "
	    "by within only, and is not counted", &p, within, "rrrrkkk",
	    "within;last,within;last,within");
}

static void
test_incomplete(void)
{
	static const struct spec sp[] = {
		AT("2024-01-01 10:00"), AT("2024-01-02 10:00"),
		BROKEN("2024-01-03 10:00"),
		AT("2024-01-04 10:00"), BROKEN("2024-01-04 11:00"),
		END,
	};
	struct pk_forget_policy p;

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_LAST] = 2;
	expect("--keep-last 2 counts no incomplete snapshot", &p, sp,
	    "rkrkr", "last;last");
	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_DAILY] = 2;
	expect("--keep-daily 2: an incomplete one is not its day's newest, "
	    "and its day alone does not count", &p, sp, "rkrkr", NULL);
	p.keep[PK_FORGET_DAILY] = 0;
	p.keep[PK_FORGET_YEARLY] = 1;
	expect("--keep-yearly 1 keeps the newest complete one", &p, sp,
	    "rrrkr", NULL);
}

static void
test_tags_groups(void)
{
	static const struct spec sp[] = {
		{ "2024-01-01 10:00", "a", "/etc", "keep", 0 },
		{ "2024-01-01 11:00", "b", "/etc", NULL, 0 },
		{ "2024-01-02 10:00", "a", "/home,/etc", NULL, 0 },
		{ "2024-01-02 11:00", "b", "/etc", "db", 0 },
		{ "2024-01-03 10:00", "a", "/etc,/home", NULL, 0 },
		{ "2024-01-03 11:00", "a", "/etc", NULL, 0 },
		{ "2024-01-03 12:00", "b", "/etc", "db", 0 },
		END,
	};
	char *keep_tags[] = { "keep", "other" }, *hosts[] = { "b" };
	char *tags[] = { "db" }, *paths[] = { "/home", "/etc", "/usr" };
	struct pk_forget_policy p;

	memset(&p, 0, sizeof p);
	p.keep_tags = keep_tags;
	p.nkeep_tags = 2;
	expect("--keep-tag alone", &p, sp, "krrrrrr", "tag");

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_LAST] = 1;
	p.group_by = PK_FORGET_GROUP_HOST | PK_FORGET_GROUP_PATHS;
	expect("groups by host and paths; paths in any order are one group",
	    &p, sp, "rrrrkkk", NULL);
	p.group_by = PK_FORGET_GROUP_HOST;
	expect("groups by host", &p, sp, "rrrrrkk", NULL);
	p.group_by = PK_FORGET_GROUP_PATHS;
	expect("groups by paths", &p, sp, "rrrrkrk", NULL);
	p.group_by = PK_FORGET_GROUP_TAGS;
	expect("groups by tags", &p, sp, "krrrrkk", NULL);
	p.group_by = PK_FORGET_GROUP_HOST | PK_FORGET_GROUP_TAGS;
	expect("groups by host and tags", &p, sp, "kkrrrkk", NULL);
	p.group_by = 0;
	expect("one group", &p, sp, "rrrrrrk", NULL);

	p.group_by = PK_FORGET_GROUP_HOST | PK_FORGET_GROUP_PATHS;
	p.only.hosts = hosts;
	p.only.nhosts = 1;
	expect("--host b: the other host's snapshots are untouched", &p, sp,
	    "-r-r--k", NULL);
	p.only.nhosts = 0;
	p.only.tags = tags;
	p.only.ntags = 1;
	expect("--tag db: snapshots without it are untouched", &p, sp,
	    "---r--k", NULL);
	p.keep_tags = keep_tags;
	p.nkeep_tags = 1;
	p.only.nhosts = 1;
	expect("--keep-tag keeps only among the snapshots looked at", &p, sp,
	    "---r--k", NULL);

	p.nkeep_tags = p.only.nhosts = p.only.ntags = 0;
	p.only.paths = paths;
	p.only.npaths = 1;
	expect("--path /home: only the snapshots that hold it", &p, sp,
	    "--r-k--", NULL);
	p.only.npaths = 2;
	expect("--path /home --path /etc: those that hold both", &p, sp,
	    "--r-k--", NULL);
	p.only.paths = paths + 1;
	expect("--path /etc --path /usr: none holds both", &p, sp,
	    "-------", NULL);
}

/* Local time decides the periods: a snapshot just after midnight is of
 * the next day, even when UTC says otherwise, and the hour repeated when
 * summer time ends is one hour. */
static void
test_local_time(void)
{
	/* 2021-06-01 23:30 and 2021-06-02 00:30 summer time. */
	static const struct spec night[] = {
		AT("@1622583000"), AT("@1622586600"), END,
	};
	/* 2021-10-31 02:30 CEST, then 02:30 CET, then 03:30 CET. */
	static const struct spec fall[] = {
		AT("@1635640200"), AT("@1635643800"), AT("@1635647400"), END,
	};
	struct pk_forget_policy p;

	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_DAILY] = 2;
	expect("two local days that are one UTC day", &p, night, "kk", NULL);
	p.keep[PK_FORGET_DAILY] = 0;
	p.keep[PK_FORGET_HOURLY] = 3;
	expect("the hour that comes twice is one hour", &p, fall, "rkk", NULL);
	p.keep[PK_FORGET_HOURLY] = 0;
	pk_forget_parse_duration("1h", &p.within);
	expect("--keep-within 1h over the change is an hour of time", &p,
	    fall, "rkk", NULL);
	setenv("TZ", "UTC0", 1);
	tzset();
	memset(&p, 0, sizeof p);
	p.keep[PK_FORGET_DAILY] = 2;
	expect("... which in UTC are one day", &p, night, "rk", NULL);
	setenv("TZ", TZ_CET, 1);
	tzset();
}

static void
test_parse(void)
{
	static const char *bad[] = {
		"", "d", "30", "1x", "-1d", "1d2", "1 d", "100001d", "1D",
		"99999y99999y",
	};
	struct pk_forget_duration d;
	struct pk_forget_policy p;
	unsigned by, i;
	int ok = 1;

	CHECK("duration 2y5m", pk_forget_parse_duration("2y5m", &d) == 0 &&
	    d.years == 2 && d.months == 5 && d.weeks == 0 && d.days == 0 &&
	    d.hours == 0);
	CHECK("duration 12h3w1d, any order", pk_forget_parse_duration(
	    "12h3w1d", &d) == 0 && d.hours == 12 && d.weeks == 3 && d.days == 1);
	CHECK("duration 1d1d adds up", pk_forget_parse_duration("1d1d", &d) ==
	    0 && d.days == 2);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok &= pk_forget_parse_duration(bad[i], &d) == -EINVAL &&
		    d.years + d.months + d.weeks + d.days + d.hours == 0;
	CHECK("bad durations are EINVAL", ok);
	CHECK("... said", strstr(pk_errmsg(-EINVAL), "99999y99999y: not a "
	    "duration") != NULL);

	CHECK("group-by host,paths,tags", pk_forget_parse_group(
	    "host,paths,tags", &by) == 0 && by == (PK_FORGET_GROUP_HOST |
	    PK_FORGET_GROUP_PATHS | PK_FORGET_GROUP_TAGS));
	CHECK("group-by tags", pk_forget_parse_group("tags", &by) == 0 &&
	    by == PK_FORGET_GROUP_TAGS);
	CHECK("group-by '': one group", pk_forget_parse_group("", &by) == 0 &&
	    by == 0);
	CHECK("group-by bad", pk_forget_parse_group("host,user", &by) ==
	    -EINVAL && pk_forget_parse_group("host,", &by) == -EINVAL &&
	    pk_forget_parse_group(",", &by) == -EINVAL);

	memset(&p, 0, sizeof p);
	CHECK("no rule: the policy is empty", pk_forget_policy_empty(&p));
	p.within.hours = 1;
	CHECK("--keep-within is a rule", !pk_forget_policy_empty(&p));
	p.within.hours = 0;
	p.nkeep_tags = 1;
	CHECK("--keep-tag is a rule", !pk_forget_policy_empty(&p));
	p.nkeep_tags = 0;
	p.keep[PK_FORGET_YEARLY] = 1;
	CHECK("--keep-yearly is a rule", !pk_forget_policy_empty(&p));

	CHECK("reason names", strcmp(pk_forget_reason(PK_FORGET_BY(
	    PK_FORGET_WEEKLY)), "weekly") == 0 && strcmp(pk_forget_reason(
	    PK_FORGET_NAMED), "id") == 0);
}

static void
test_find(void)
{
	struct pk_snapshot list[3];
	size_t i;

	memset(list, 0, sizeof list);
	for (i = 0; i < 3; i++)
		list[i].id[0] = 0xab;
	list[0].id[1] = 0x10;
	list[1].id[1] = 0x10;
	list[1].id[2] = 0x01;
	list[2].id[1] = 0x20;
	CHECK("find by prefix", pk_forget_find(list, 3, "ab20") == 2);
	CHECK("find by the whole id", pk_forget_find(list, 3,
	    "ab10000000000000000000000000000000000000000000000000000000000000")
	    == 0);
	CHECK("an ambiguous prefix is EINVAL", pk_forget_find(list, 3,
	    "ab10") == -EINVAL && pk_forget_find(list, 3, "ab1001") == 1);
	CHECK("none matches: ENOENT, said", pk_forget_find(list, 3, "abcd") ==
	    -ENOENT &&
	    strstr(pk_errmsg(-ENOENT), "abcd: no such snapshot") != NULL);
	CHECK("not an id", pk_forget_find(list, 3, "AB20") == -EINVAL &&
	    pk_forget_find(list, 3, "ab") == -EINVAL &&
	    pk_forget_find(list, 3, "zzzz") == -EINVAL);
}

int
main(void)
{
	setenv("TZ", TZ_CET, 1);
	tzset();
	test_counts();
	test_combined();
	test_within();
	test_incomplete();
	test_tags_groups();
	test_local_time();
	test_parse();
	test_find();
	UNIT_END();
}
