/*
 * t-newest: the newest snapshot seen (newest.h): a line per place, each
 * read back for its own place only; a note only moves forward (an older
 * or equally old snapshot leaves the file as it was) and keeps the other
 * places' lines; '%' and newline in a place are written as %25 and %0A
 * and read back, and white space at its start is part of it; a file that
 * is not made of such lines is refused by a read (EBADMSG) and started
 * afresh by a note; the newest of a list and whether a snapshot seen, or
 * a later one, is present.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-newest"

static const char *file = SCRATCH "/newest";

static void
put(const char *path, const char *text, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0) {
		pk_write_all(fd, text, n);
		close(fd);
	}
}

static void
put_text(const char *path, const char *text)
{
	put(path, text, strlen(text));
}

static int
text_is(const char *path, const char *want)
{
	char *s = unit_get_text(path);
	int ok = s != NULL && strcmp(s, want) == 0;

	if (s && !ok)
		printf("# %s holds:\n%s# expected:\n%s", path, s, want);
	free(s);
	return ok;
}

static struct pk_newest
note_of(int64_t sec, uint32_t nsec, unsigned long long seed)
{
	struct pk_newest n;

	n.sec = sec;
	n.nsec = nsec;
	unit_fill(n.id, sizeof n.id, seed);
	return n;
}

static int
same(const struct pk_newest *a, const struct pk_newest *b)
{
	return a->sec == b->sec && a->nsec == b->nsec &&
	    memcmp(a->id, b->id, sizeof a->id) == 0;
}

/* The line a note is written as. */
static void
line_of(char *out, size_t n, const struct pk_newest *nt, const char *place)
{
	char hex[2 * PK_SNAPSHOT_ID_BYTES + 1];

	pk_hex(hex, nt->id, sizeof nt->id);
	snprintf(out, n, "%lld.%09u %s %s\n", (long long)nt->sec,
	    (unsigned)nt->nsec, hex, place);
}

static int
reads(const char *place, const struct pk_newest *want)
{
	struct pk_newest got;

	memset(&got, 0x5a, sizeof got);
	return pk_newest_read(file, place, &got) == 0 && same(&got, want);
}

static void
test_lines(void)
{
	struct pk_newest a = note_of(1700000000, 5, 1), b = note_of(1700000100,
	    999999999, 2), old = note_of(1699999999, 999999999, 3),
	    tie = note_of(1700000000, 5, 4), later = note_of(1700000000, 6, 5),
	    neg = note_of(-2, 1, 6), got;
	char want[700], l1[300], l2[300];
	struct stat st;

	unlink(file);
	CHECK("read: no file is ENOENT",
	    pk_newest_read(file, "/srv/repo", &got) == -ENOENT);
	CHECK("note: creates the file", pk_newest_note(file, "/srv/repo", &a) == 0);
	CHECK("note: the file is private (0600)",
	    stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
	line_of(l1, sizeof l1, &a, "/srv/repo");
	CHECK("note: one line, time, id, place", text_is(file, l1));
	CHECK("read: the note of the place", reads("/srv/repo", &a));
	CHECK("read: another place is ENOENT",
	    pk_newest_read(file, "/srv/other", &got) == -ENOENT);
	CHECK("read: a prefix of the place is another place",
	    pk_newest_read(file, "/srv/rep", &got) == -ENOENT &&
	    pk_newest_read(file, "/srv/repo/", &got) == -ENOENT);

	CHECK("note: a second place", pk_newest_note(file, "/mnt/mirror", &b) == 0);
	line_of(l2, sizeof l2, &b, "/mnt/mirror");
	snprintf(want, sizeof want, "%s%s", l1, l2);
	CHECK("note: a line per place", text_is(file, want));
	CHECK("read: each place its own note",
	    reads("/srv/repo", &a) && reads("/mnt/mirror", &b));

	CHECK("note: an older snapshot is not an error",
	    pk_newest_note(file, "/srv/repo", &old) == 0);
	CHECK("note: ... and changes nothing", text_is(file, want) &&
	    reads("/srv/repo", &a));
	CHECK("note: one that ended in the same nanosecond changes nothing",
	    pk_newest_note(file, "/srv/repo", &tie) == 0 && text_is(file, want));
	CHECK("note: a newer one by a nanosecond replaces the place's line",
	    pk_newest_note(file, "/srv/repo", &later) == 0 &&
	    reads("/srv/repo", &later));
	CHECK("note: ... and keeps the other place's", reads("/mnt/mirror", &b));
	CHECK("note: older at one place, newer than at the other: noted there",
	    pk_newest_note(file, "/mnt/mirror", &old) == 0 &&
	    reads("/mnt/mirror", &b) && reads("/srv/repo", &later));

	unlink(file);
	CHECK("note: a time before 1970", pk_newest_note(file, "/x", &neg) == 0 &&
	    reads("/x", &neg));
	CHECK("note: a later one after it", pk_newest_note(file, "/x", &a) == 0 &&
	    reads("/x", &a));
	CHECK("note: in a missing directory is ENOENT, nothing written",
	    pk_newest_note(SCRATCH "/none/newest", "/x", &a) == -ENOENT &&
	    access(SCRATCH "/none", F_OK) < 0);
}

static void
test_escapes(void)
{
	struct pk_newest a = note_of(1, 0, 11), b = note_of(2, 0, 12),
	    c = note_of(3, 0, 13), d = note_of(4, 0, 14), got;
	char want[1300], l[4][300];

	unlink(file);
	CHECK("escape: a place with '%' and a newline",
	    pk_newest_note(file, "/a%b\nc", &a) == 0);
	CHECK("escape: a place that is the escape written out",
	    pk_newest_note(file, "/a%25b%0Ac", &b) == 0);
	CHECK("escape: a place with only a newline",
	    pk_newest_note(file, "/a\n", &c) == 0);
	CHECK("escape: a place with a space and a tab",
	    pk_newest_note(file, "/my repo\there", &d) == 0);
	line_of(l[0], sizeof l[0], &a, "/a%25b%0Ac");
	line_of(l[1], sizeof l[1], &b, "/a%2525b%250Ac");
	line_of(l[2], sizeof l[2], &c, "/a%0A");
	line_of(l[3], sizeof l[3], &d, "/my repo\there");
	snprintf(want, sizeof want, "%s%s%s%s", l[0], l[1], l[2], l[3]);
	CHECK("escape: written as %25 and %0A, one line each", text_is(file, want));
	CHECK("escape: each read back by its own place",
	    reads("/a%b\nc", &a) && reads("/a%25b%0Ac", &b) && reads("/a\n", &c) &&
	    reads("/my repo\there", &d));
	CHECK("escape: the decoded form of another place is not it",
	    pk_newest_read(file, "/a", &got) == -ENOENT &&
	    pk_newest_read(file, "/a%0A", &got) == -ENOENT);

	/* White space at the start of a place is part of it. */
	unlink(file);
	CHECK("escape: a place that starts with a space",
	    pk_newest_note(file, " /x", &a) == 0);
	line_of(l[0], sizeof l[0], &a, " /x");
	CHECK("escape: ... written as it is, after the id and its one space",
	    text_is(file, l[0]));
	CHECK("escape: ... it is read back by its place, space and all",
	    reads(" /x", &a));
	CHECK("escape: ... and the place without the space is another",
	    pk_newest_read(file, "/x", &got) == -ENOENT);
	line_of(l[1], sizeof l[1], &b, " /x");
	CHECK("escape: a newer note for it replaces its line",
	    pk_newest_note(file, " /x", &b) == 0 && text_is(file, l[1]));
	CHECK("escape: a place that starts with a tab, read back as itself",
	    pk_newest_note(file, "\t/y", &c) == 0 && reads("\t/y", &c) &&
	    pk_newest_read(file, "/y", &got) == -ENOENT && reads(" /x", &b));
}

/* Damaged files: refused by a read, started afresh by a note. */
static void
test_damaged(void)
{
	static const char *const bad[] = {
		"garbage\n",
		"1.000000005 0011\n",
		"1.000000005\n",
		"\n",
		"1.000000005 %s /x",			/* no newline */
		"1.000000005 %s\n",			/* no place */
		"1.000000005 %s \n",			/* an empty place */
		"1.1000000000 %s /x\n",			/* 10 digits of ns */
		"x.000000005 %s /x\n",
		"1 %s /x\n",				/* no nanoseconds */
		"1.000000005 %.63s /x\n",		/* a short id */
		"1.000000005 %sa /x\n",			/* a long id */
		"1.000000005 %s/x\n",			/* no space */
	};
	struct pk_newest a = note_of(1700000000, 7, 21), got, old = note_of(1, 0, 22);
	char hex[2 * PK_SNAPSHOT_ID_BYTES + 1], text[400], line[300], oldline[300];
	char *big;
	size_t i, j, nbad = 0, nnote = 0;

	pk_hex(hex, a.id, sizeof a.id);
	line_of(oldline, sizeof oldline, &old, "/x");
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"	/* the table above */
		snprintf(text, sizeof text, bad[i], hex);
#pragma GCC diagnostic pop
		put_text(file, text);
		if (pk_newest_read(file, "/x", &got) != -EBADMSG) {
			printf("# read of \"%s\" is not EBADMSG\n", text);
			nbad++;
		}
		if (pk_newest_note(file, "/x", &old) != 0 ||
		    !text_is(file, oldline))
			nnote++;
	}
	CHECK("damaged: each bad line is EBADMSG to a read", nbad == 0);
	CHECK("damaged: a note starts each afresh, with its line only",
	    nnote == 0);

	/* A bad line, then a good one: the file is refused. */
	line_of(line, sizeof line, &a, "/x");
	snprintf(text, sizeof text, "%s%s", "junk\n", line);
	put_text(file, text);
	CHECK("damaged: a good line after a bad one does not save the file",
	    pk_newest_read(file, "/x", &got) == -EBADMSG);
	CHECK("damaged: the message names the file",
	    strstr(pk_errmsg(-EBADMSG), file) != NULL);
	CHECK("damaged: a note over it keeps nothing of it, even an older note",
	    pk_newest_note(file, "/x", &old) == 0 && reads("/x", &old));

	/* A NUL byte inside a line. */
	memcpy(text, line, strlen(line) + 1);
	text[strlen(text) - 2] = '\0';
	put(file, text, strlen(line));
	CHECK("damaged: a NUL byte in a line is EBADMSG",
	    pk_newest_read(file, "/x", &got) == -EBADMSG);

	/* Upper-case hex: not what is written. */
	for (j = 0; line[j]; j++)
		if (line[j] >= 'a' && line[j] <= 'f')
			line[j] = (char)(line[j] - 'a' + 'A');
	put_text(file, line);
	CHECK("damaged: an id in upper case is EBADMSG",
	    pk_newest_read(file, "/x", &got) == -EBADMSG);

	/* An empty file holds no line. */
	put_text(file, "");
	CHECK("empty file: no note for the place",
	    pk_newest_read(file, "/x", &got) == -ENOENT);
	CHECK("empty file: a note goes in",
	    pk_newest_note(file, "/x", &a) == 0 && reads("/x", &a));

	/* More than the file may hold (1 MiB). */
	big = malloc((2u << 20) + 1);
	line_of(line, sizeof line, &a, "/y");
	for (i = 0, j = 0; j + strlen(line) < (2u << 20); i++)
		j += (size_t)snprintf(big + j, (2u << 20) + 1 - j, "%s", line);
	put(file, big, j);
	CHECK("huge file: EBADMSG to a read",
	    pk_newest_read(file, "/y", &got) == -EBADMSG);
	CHECK("huge file: a note starts it afresh",
	    pk_newest_note(file, "/x", &a) == 0 && reads("/x", &a) &&
	    pk_newest_read(file, "/y", &got) == -ENOENT);
	free(big);

	/* A symbolic link in its place is not followed. */
	unlink(file);
	symlink("newest.target", file);
	CHECK("symlink: a read does not follow it",
	    pk_newest_read(file, "/x", &got) == -ELOOP);
	pk_newest_note(file, "/x", &a);
	CHECK("symlink: a note never writes through it",
	    access(SCRATCH "/newest.target", F_OK) < 0);
}

static void
snap_at(struct pk_snapshot *s, int64_t sec, uint32_t nsec, unsigned long long seed)
{
	memset(s, 0, sizeof *s);
	s->end_sec = sec;
	s->end_nsec = nsec;
	s->start_sec = sec - 100;
	unit_fill(s->id, sizeof s->id, seed);
}

static void
test_lists(void)
{
	struct pk_snapshot l[5];
	struct pk_newest n, seen;

	snap_at(&l[0], 100, 5, 31);
	snap_at(&l[1], 300, 0, 32);
	snap_at(&l[2], 200, 999999999, 33);
	snap_at(&l[3], 300, 0, 34);		/* ties l[1] */
	snap_at(&l[4], 299, 999999999, 35);
	pk_newest_of(l, 5, &n);
	CHECK("newest_of: the latest end, the first of a tie",
	    n.sec == 300 && n.nsec == 0 && memcmp(n.id, l[1].id, 32) == 0);
	pk_newest_of(l + 2, 1, &n);
	CHECK("newest_of: a list of one", n.sec == 200 && n.nsec == 999999999 &&
	    memcmp(n.id, l[2].id, 32) == 0);
	pk_newest_of(l, 1, &n);
	l[0].end_nsec = 6;
	pk_newest_of(l, 1, &seen);
	CHECK("newest_of: by nanoseconds too", seen.nsec == 6 && n.nsec == 5);
	l[0].end_nsec = 5;

	pk_newest_of(l, 5, &seen);
	CHECK("present: the snapshot seen is there",
	    pk_newest_present(&seen, l, 5) == 1);
	CHECK("present: gone, and nothing as new", pk_newest_present(&seen, l, 1) ==
	    0 && pk_newest_present(&seen, l + 2, 1) == 0 &&
	    pk_newest_present(&seen, l + 4, 1) == 0);
	CHECK("present: gone, but one that ended at the same time is not newer",
	    pk_newest_present(&seen, l + 3, 1) == 0);
	seen.nsec = 0;
	seen.sec = 299;
	memset(seen.id, 0, sizeof seen.id);
	CHECK("present: a later one than the snapshot seen is enough",
	    pk_newest_present(&seen, l + 2, 3) == 1);
	CHECK("present: an empty list holds nothing",
	    pk_newest_present(&seen, l, 0) == 0);
	memcpy(seen.id, l[0].id, 32);
	seen.sec = 1000;
	CHECK("present: its id is enough, whatever the time",
	    pk_newest_present(&seen, l, 1) == 1);
}

int
main(void)
{
	unit_scratch(SCRATCH);
	test_lines();
	test_escapes();
	test_damaged();
	test_lists();
	UNIT_END();
}
