/* newest.c: the newest snapshot seen, kept outside the repository. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "hash.h"
#include "io.h"
#include "newest.h"

#define MAX_FILE (1 << 20)
#define DIGIT(c) ((c) >= '0' && (c) <= '9')

/* Orders by end time; two snapshots that ended in the same nanosecond
 * are equally new, and the first one noted stays. */
static int
cmp(int64_t asec, uint32_t ansec, int64_t bsec, uint32_t bnsec)
{
	if (asec != bsec)
		return asec < bsec ? -1 : 1;
	return ansec < bnsec ? -1 : ansec > bnsec;
}

/* The place as it is written: '%' and newline encoded. */
static int
encode_place(struct pk_buf *b, const char *place)
{
	const char *p;
	int e = 0;

	for (p = place; *p && e == 0; p++)
		e = *p == '%' ? pk_buf_add(b, "%25", 3) :
		    *p == '\n' ? pk_buf_add(b, "%0A", 3) : pk_buf_add(b, p, 1);
	return e;
}

/*
 * Parses a line (NUL-terminated, without its newline), "SEC.NNNNNNNNN HEX
 * PLACE", each field exactly so; the place's offset in *place.
 */
static int
parse_line(const char *line, struct pk_newest *n, size_t *place)
{
	char hex[2 * PK_SNAPSHOT_ID_BYTES + 1];
	const char *p;
	char *end;
	long long sec;
	int i;

	errno = 0;
	sec = strtoll(line, &end, 10);
	if (errno || end == line || (line[0] != '-' && !DIGIT(line[0])) ||
	    *end != '.')
		return -EBADMSG;
	n->sec = sec;
	n->nsec = 0;
	for (p = end + 1, i = 0; i < 9; i++, p++) {
		if (!DIGIT(*p))
			return -EBADMSG;
		n->nsec = n->nsec * 10 + (uint32_t)(*p - '0');
	}
	if (*p++ != ' ')
		return -EBADMSG;
	for (i = 0; i < (int)sizeof hex - 1; i++, p++) {
		if (!DIGIT(*p) && (*p < 'a' || *p > 'f'))
			return -EBADMSG;
		hex[i] = *p;
	}
	hex[i] = '\0';
	if (*p++ != ' ' || *p == '\0' || pk_unhex(n->id, sizeof n->id, hex) < 0)
		return -EBADMSG;
	*place = (size_t)(p - line);
	return 0;
}

/*
 * Reads the file's lines; calls fn for each with its note and the place
 * (encoded, of len bytes) and stops when it returns non-zero.  -EBADMSG
 * when a line is not a note.
 */
static int
each_line(const char *path, int (*fn)(void *, const struct pk_newest *,
    const char *, size_t), void *arg)
{
	struct pk_newest n;
	uint8_t *data;
	char *line, *end, *nl;
	size_t len, place;
	int e;

	if ((e = pk_read_file(path, MAX_FILE, &data, &len)) < 0)
		return e == -EFBIG ? -EBADMSG : e;
	line = (char *)data;
	end = line + len;
	e = 0;
	for (; line < end && e == 0; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL ||
		    memchr(line, '\0', (size_t)(nl - line)) != NULL) {
			e = -EBADMSG;
			break;
		}
		*nl = '\0';
		if ((e = parse_line(line, &n, &place)) < 0)
			break;
		e = fn(arg, &n, line + place, (size_t)(nl - line) - place);
	}
	free(data);
	if (e == -EBADMSG)
		return pk_err(-EBADMSG, "%s: not a list of times, snapshot ids "
		    "and places", path);
	return e < 0 ? e : 0;
}

struct find {
	struct pk_buf place;
	struct pk_newest *out;
	int found;
};

static int
find_line(void *arg, const struct pk_newest *n, const char *place, size_t len)
{
	struct find *f = arg;

	if (len != f->place.len || memcmp(place, f->place.data, len) != 0)
		return 0;
	*f->out = *n;
	f->found = 1;
	return 1;
}

int
pk_newest_read(const char *path, const char *place, struct pk_newest *n)
{
	struct find f = { PK_BUF_INIT, n, 0 };
	int e;

	if ((e = encode_place(&f.place, place)) == 0)
		e = each_line(path, find_line, &f);
	pk_buf_release(&f.place);
	return e < 0 ? e : f.found ? 0 : -ENOENT;
}

struct rewrite {
	struct pk_buf place, out;
	const struct pk_newest *n;
	int newer;		/* the file holds a newer note for place */
};

static int
add_line(struct pk_buf *b, const struct pk_newest *n, const char *place,
    size_t len)
{
	char head[64 + 2 * PK_SNAPSHOT_ID_BYTES];
	int k;

	k = snprintf(head, sizeof head, "%" PRId64 ".%09" PRIu32 " ", n->sec,
	    n->nsec);
	pk_hex(head + k, n->id, sizeof n->id);
	strcat(head, " ");
	if (pk_buf_add(b, head, strlen(head)) < 0 ||
	    pk_buf_add(b, place, len) < 0 || pk_buf_add(b, "\n", 1) < 0)
		return -ENOMEM;
	return 0;
}

/* Keeps the other places' lines; notes whether place's is newer. */
static int
keep_line(void *arg, const struct pk_newest *n, const char *place, size_t len)
{
	struct rewrite *w = arg;

	if (len == w->place.len && memcmp(place, w->place.data, len) == 0) {
		w->newer = cmp(n->sec, n->nsec, w->n->sec, w->n->nsec) >= 0;
		return w->newer;
	}
	return add_line(&w->out, n, place, len);
}

int
pk_newest_note(const char *path, const char *place, const struct pk_newest *n)
{
	struct rewrite w = { PK_BUF_INIT, PK_BUF_INIT, n, 0 };
	char dir[4096], *slash;
	int e;

	if ((e = encode_place(&w.place, place)) < 0)
		goto out;
	e = each_line(path, keep_line, &w);
	if (e == -EBADMSG || e == -ENOENT) {
		pk_err_clear();
		w.out.len = 0;
		e = 0;
	}
	if (e < 0 || w.newer)
		goto out;
	if ((e = add_line(&w.out, n, (const char *)w.place.data, w.place.len)) < 0 ||
	    (e = pk_path(dir, sizeof dir, "%s", path)) < 0)
		goto out;
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	e = pk_atomic_write(dir, path, w.out.data, w.out.len, 0600);
out:
	pk_buf_release(&w.place);
	pk_buf_release(&w.out);
	return e;
}

void
pk_newest_of(const struct pk_snapshot *list, size_t n, struct pk_newest *out)
{
	size_t i, best = 0;

	for (i = 1; i < n; i++)
		if (cmp(list[i].end_sec, list[i].end_nsec, list[best].end_sec,
		    list[best].end_nsec) > 0)
			best = i;
	out->sec = list[best].end_sec;
	out->nsec = list[best].end_nsec;
	memcpy(out->id, list[best].id, sizeof out->id);
}

int
pk_newest_present(const struct pk_newest *seen, const struct pk_snapshot *list,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(list[i].id, seen->id, sizeof seen->id) == 0 ||
		    cmp(list[i].end_sec, list[i].end_nsec, seen->sec,
		    seen->nsec) > 0)
			return 1;
	return 0;
}
