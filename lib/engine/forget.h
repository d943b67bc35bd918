/*
 * forget.h: which snapshots a retention policy keeps (pk-forget(1)).
 *
 * Pure functions over a list of snapshots as pk_snapshot_list returns it,
 * oldest first: they read only the times, host, paths, tags and error
 * counts, touch no repository, and allocate nothing, so that a test can
 * make up the list.  Periods (hour, day, ISO week, month, year) are those
 * of local time, as localtime_r(3) sees it: the caller sets TZ, if at all.
 *
 * The rules are those of restic's forget.  Within each group, newest
 * first: --keep-last N keeps the N newest; --keep-daily N keeps the newest
 * snapshot of each of the N newest days that have one, and likewise for
 * the other periods; --keep-within keeps those that started at most that
 * long before the group's newest; --keep-tag keeps those with one of the
 * tags.  A snapshot is kept when any rule keeps it.  An incomplete
 * snapshot (files could not be read: errors > 0) counts toward neither
 * --keep-last nor a period: only --keep-within and --keep-tag keep it.
 */
#ifndef PK_FORGET_H
#define PK_FORGET_H

#include <stddef.h>

#include "snapshot.h"

/* The rules that keep a count of snapshots, in this order. */
enum pk_forget_rule {
	PK_FORGET_LAST, PK_FORGET_HOURLY, PK_FORGET_DAILY, PK_FORGET_WEEKLY,
	PK_FORGET_MONTHLY, PK_FORGET_YEARLY, PK_FORGET_NCOUNTS
};

/* Why a snapshot is kept or removed: bits of pk_forget_verdict.why. */
#define PK_FORGET_BY(rule)	(1u << (rule))	/* a counting rule kept it */
#define PK_FORGET_WITHIN	(1u << 6)
#define PK_FORGET_TAG		(1u << 7)
#define PK_FORGET_NAMED		(1u << 8)	/* removed: named by its id */

/* --keep-within: calendar units taken from the newest snapshot's local
 * time, the larger first. */
struct pk_forget_duration {
	unsigned years, months, weeks, days, hours;
};

/* --group-by: what snapshots of one group share (none: one group). */
#define PK_FORGET_GROUP_HOST	1u
#define PK_FORGET_GROUP_PATHS	2u
#define PK_FORGET_GROUP_TAGS	4u

struct pk_forget_policy {
	unsigned keep[PK_FORGET_NCOUNTS];	/* 0: the rule is off */
	struct pk_forget_duration within;	/* all 0: off */
	char **keep_tags;			/* --keep-tag */
	size_t nkeep_tags;
	unsigned group_by;			/* PK_FORGET_GROUP_* */
	/* Which snapshots the policy looks at; others are kept. */
	struct pk_snapshot_filter only;
};

struct pk_forget_verdict {
	int selected;		/* the policy looked at it */
	int keep;
	unsigned why;		/* PK_FORGET_* bits */
	size_t group;		/* index of the newest snapshot of its group */
};

/* The rule's name as the options and the output say it ("last", "daily"
 * ..., "within", "tag", "id"), for one PK_FORGET_* bit. */
const char *pk_forget_reason(unsigned bit);

/* Parses a duration such as "30d", "2y5m" or "12h": one or more numbers,
 * each followed by a unit (y m w d h); a unit given twice adds up.
 * -EINVAL with a message when it is not one, or a number is over 100000. */
int pk_forget_parse_duration(const char *s, struct pk_forget_duration *d);

/* Parses a --group-by list: "host", "paths", "tags" separated by commas,
 * or "" for one group: -EINVAL with a message. */
int pk_forget_parse_group(const char *s, unsigned *by);

/* 1 when the policy keeps nothing by itself (no keep rule at all): run,
 * it would remove every snapshot it looks at. */
int pk_forget_policy_empty(const struct pk_forget_policy *p);

/*
 * Decides every snapshot of list (n of them, oldest first) into v (n of
 * them).  Snapshots the policy does not look at are kept, with why 0.
 */
void pk_forget_apply(const struct pk_forget_policy *p,
    const struct pk_snapshot *list, size_t n, struct pk_forget_verdict *v);

/*
 * The snapshot of list a user names by a unique prefix of its id (4 to 64
 * hexadecimal digits): its index, -ENOENT when none matches, -EINVAL when
 * it is not such a prefix or is ambiguous (message says which).
 */
int pk_forget_find(const struct pk_snapshot *list, size_t n, const char *id);

#endif
