/* forget.c: which snapshots a retention policy keeps. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "forget.h"
#include "hash.h"

#define DURATION_MAX	100000u

static const char *const reasons[] = {
	"last", "hourly", "daily", "weekly", "monthly", "yearly", "within",
	"tag", "id",
};

const char *
pk_forget_reason(unsigned bit)
{
	unsigned i;

	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (bit == 1u << i)
			return reasons[i];
	return "?";
}

int
pk_forget_parse_duration(const char *s, struct pk_forget_duration *d)
{
	const char *p = s;
	unsigned v, *unit;

	memset(d, 0, sizeof *d);
	do {
		if (*p < '0' || *p > '9')
			goto bad;
		for (v = 0; *p >= '0' && *p <= '9'; p++)
			if ((v = v * 10 + (unsigned)(*p - '0')) > DURATION_MAX)
				goto bad;
		switch (*p++) {
		case 'y': unit = &d->years; break;
		case 'm': unit = &d->months; break;
		case 'w': unit = &d->weeks; break;
		case 'd': unit = &d->days; break;
		case 'h': unit = &d->hours; break;
		default: goto bad;
		}
		if ((*unit += v) > DURATION_MAX)
			goto bad;
	} while (*p != '\0');
	return 0;
bad:
	memset(d, 0, sizeof *d);
	return pk_err(-EINVAL, "%s: not a duration (numbers each followed by "
	    "y, m, w, d or h, such as 30d or 2y6m)", s);
}

int
pk_forget_parse_group(const char *s, unsigned *by)
{
	static const char *const names[] = { "host", "paths", "tags" };
	const char *p = s;
	size_t len, i;

	*by = 0;
	while (*p != '\0') {
		len = strcspn(p, ",");
		for (i = 0; i < 3; i++)
			if (strlen(names[i]) == len && strncmp(p, names[i], len) == 0)
				break;
		if (i == 3 || (p[len] == ',' && p[len + 1] == '\0')) {
			*by = 0;
			return pk_err(-EINVAL, "%s: not a list of host, paths "
			    "and tags", s);
		}
		*by |= 1u << i;
		p += len + (p[len] == ',');
	}
	return 0;
}

int
pk_forget_policy_empty(const struct pk_forget_policy *p)
{
	const struct pk_forget_duration *w = &p->within;
	int i;

	for (i = 0; i < PK_FORGET_NCOUNTS; i++)
		if (p->keep[i])
			return 0;
	return !(w->years || w->months || w->weeks || w->days || w->hours) &&
	    p->nkeep_tags == 0;
}

/* The same strings, in any order. */
static int
same_set(char **a, uint32_t na, char **b, uint32_t nb)
{
	uint32_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (!pk_str_in(a[i], b, nb) || !pk_str_in(b[i], a, na))
			return 0;
	return 1;
}

static int
same_group(unsigned by, const struct pk_snapshot *a, const struct pk_snapshot *b)
{
	if ((by & PK_FORGET_GROUP_HOST) &&
	    strcmp(a->host ? a->host : "", b->host ? b->host : "") != 0)
		return 0;
	if ((by & PK_FORGET_GROUP_PATHS) &&
	    !same_set(a->paths, a->npaths, b->paths, b->npaths))
		return 0;
	return !(by & PK_FORGET_GROUP_TAGS) ||
	    same_set(a->tags, a->ntags, b->tags, b->ntags);
}

/* The ISO 8601 week, as year * 100 + week: weeks start on Monday, and the
 * first of a year is the one that holds its first Thursday. */
static int64_t
iso_week(const struct tm *tm)
{
	int year = tm->tm_year + 1900;
	int thursday = tm->tm_yday - (tm->tm_wday + 6) % 7 + 3;
	int leap, days;

	if (thursday < 0) {
		year--;
		leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
		thursday += 365 + leap;
	} else {
		leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
		days = 365 + leap;
		if (thursday >= days) {
			year++;
			thursday -= days;
		}
	}
	return (int64_t)year * 100 + thursday / 7 + 1;
}

/* The period of a time for a counting rule: equal for two times in the
 * same local hour, day, week...; --keep-last's differs for each snapshot. */
static int64_t
period(int rule, int64_t sec, size_t i)
{
	time_t t = (time_t)sec;
	struct tm tm;
	int64_t y, m, d;

	if (rule == PK_FORGET_LAST || localtime_r(&t, &tm) == NULL)
		return (int64_t)i;
	y = tm.tm_year + 1900;
	m = y * 100 + tm.tm_mon + 1;
	d = m * 100 + tm.tm_mday;
	switch (rule) {
	case PK_FORGET_HOURLY: return d * 100 + tm.tm_hour;
	case PK_FORGET_DAILY: return d;
	case PK_FORGET_WEEKLY: return iso_week(&tm);
	case PK_FORGET_MONTHLY: return m;
	default: return y;
	}
}

/* The oldest start time --keep-within keeps, for a group whose newest
 * snapshot started at newest; INT64_MAX when the rule is off.  Years,
 * months and days are those of the calendar (March 31 less a month is
 * March 3), hours are of elapsed time, as in restic. */
static int64_t
within_bound(const struct pk_forget_duration *w, int64_t newest)
{
	time_t t = (time_t)newest;
	struct tm tm;

	if (!(w->years || w->months || w->weeks || w->days || w->hours))
		return INT64_MAX;
	if (localtime_r(&t, &tm) == NULL)
		return INT64_MIN;
	tm.tm_year -= (int)w->years;
	tm.tm_mon -= (int)w->months;
	tm.tm_mday -= (int)(7 * w->weeks + w->days);
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) - (int64_t)w->hours * 3600;
}

/* Decides the group whose newest snapshot is list[g], newest first. */
static void
decide(const struct pk_forget_policy *p, const struct pk_snapshot *list,
    size_t g, struct pk_forget_verdict *v)
{
	int64_t last[PK_FORGET_NCOUNTS], val;
	unsigned left[PK_FORGET_NCOUNTS], why;
	int64_t bound = within_bound(&p->within, list[g].start_sec);
	size_t i;
	int r;

	for (r = 0; r < PK_FORGET_NCOUNTS; r++) {
		last[r] = INT64_MIN;
		left[r] = p->keep[r];
	}
	for (i = g + 1; i-- > 0;) {
		if (!v[i].selected || v[i].group != g)
			continue;
		why = 0;
		for (r = 0; r < PK_FORGET_NCOUNTS && list[i].errors == 0; r++) {
			if (left[r] == 0 ||
			    (val = period(r, list[i].start_sec, i)) == last[r])
				continue;
			last[r] = val;
			left[r]--;
			why |= PK_FORGET_BY(r);
		}
		if (list[i].start_sec >= bound)
			why |= PK_FORGET_WITHIN;
		if (pk_str_any_in(p->keep_tags, p->nkeep_tags, list[i].tags,
		    list[i].ntags))
			why |= PK_FORGET_TAG;
		v[i].why = why;
		v[i].keep = why != 0;
	}
}

void
pk_forget_apply(const struct pk_forget_policy *p,
    const struct pk_snapshot *list, size_t n, struct pk_forget_verdict *v)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		v[i].selected = pk_snapshot_filter_match(&p->only, &list[i]);
		v[i].keep = 1;
		v[i].why = 0;
		v[i].group = i;
	}
	/* Newest first, so that each group is named by its newest. */
	for (i = n; i-- > 0;)
		for (j = n; v[i].selected && --j > i;)
			if (v[j].selected && v[j].group == j &&
			    same_group(p->group_by, &list[i], &list[j])) {
				v[i].group = j;
				break;
			}
	for (i = 0; i < n; i++)
		if (v[i].selected && v[i].group == i)
			decide(p, list, i, v);
}

int
pk_forget_find(const struct pk_snapshot *list, size_t n, const char *id)
{
	char hex[PK_SNAPSHOT_NAME_BYTES];
	size_t i, len = strlen(id), hits = 0;
	int found = -1;

	if (len < 4 || len > 2 * PK_SNAPSHOT_ID_BYTES ||
	    strspn(id, "0123456789abcdef") != len)
		return pk_err(-EINVAL, "%s: not a snapshot id", id);
	for (i = 0; i < n; i++) {
		pk_hex(hex, list[i].id, sizeof list[i].id);
		if (strncmp(hex, id, len) == 0) {
			found = (int)i;
			hits++;
		}
	}
	if (hits == 0)
		return pk_err(-ENOENT, "%s: no such snapshot", id);
	if (hits > 1)
		return pk_err(-EINVAL, "%s: ambiguous snapshot id", id);
	return found;
}
