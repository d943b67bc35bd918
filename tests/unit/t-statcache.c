/*
 * t-statcache: the stat cache (statcache.h) in-process: a file's content
 * records come back only for its exact stat (dev, ino, size, mtime,
 * ctime, mode); racy, changed-while-read and unknown-size files are left
 * out; a flipped byte in a list or in a slot, a torn pair of files (old
 * slots over new lists and the reverse), truncated lists: misses, never
 * wrong content, never a crash; 100000 files; another repository's cache.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-statcache"
#define NOW	1700000000ll	/* the snapshot's start, seconds */
#define SLOT	24		/* a slot of the hash file, pk-repo(5) */

static const char *path = SCRATCH "/stat";
static const char *lists = SCRATCH "/stat.lists";
static uint8_t repo[16] = "0123456789abcdef";

/* One file of a test set: its stored path, entry and content records. */
struct file {
	char name[64];
	struct pk_entry e;
	struct pk_buf content;
};

static void
add_ref(struct pk_buf *b, unsigned long long seed, uint32_t len)
{
	uint8_t p[PK_ID_BYTES + 4];

	unit_fill(p, PK_ID_BYTES, seed);
	p[0] |= 1;			/* never the all-zero id of a hole */
	pk_put_u32(p + PK_ID_BYTES, len);
	pk_buf_add_u8(b, PK_REC_REF);
	pk_buf_add_str(b, p, sizeof p);
}

static void
add_hole(struct pk_buf *b, uint64_t len)
{
	uint8_t p[8];

	pk_put_u64(p, len);
	pk_buf_add_u8(b, PK_REC_HOLE);
	pk_buf_add_str(b, p, sizeof p);
}

/* File i of set seed: 0 to 4 chunks, a hole now and then, old times. */
static void
file_make(struct file *f, unsigned long long seed, size_t i)
{
	unsigned long long r = seed * 7919 + i;
	struct pk_record rec = { 0 };
	struct pk_cursor c;
	const uint8_t *id;
	uint32_t len;
	uint64_t h;
	size_t l;
	int k, n = (int)(unit_rand(&r) % 5);

	memset(f, 0, sizeof *f);
	snprintf(f->name, sizeof f->name, "dir%zu/file-%llu-%zu", i % 97, seed, i);
	for (k = 0; k < n; k++) {
		if (unit_rand(&r) % 4 == 0)
			add_hole(&f->content, 4096 * (1 + unit_rand(&r) % 100));
		len = 1 + (uint32_t)(unit_rand(&r) % (8u << 20));
		add_ref(&f->content, r, len);
	}
	f->e.type = PK_FT_REG;
	f->e.mode = 0644;
	f->e.dev = 2049;
	f->e.ino = 1000 + i;
	f->e.mtime_sec = NOW - 86400 - (int64_t)(i % 1000);
	f->e.mtime_nsec = (uint32_t)(unit_rand(&r) % 1000000000);
	f->e.ctime_sec = NOW - 3600;
	f->e.ctime_nsec = (uint32_t)(unit_rand(&r) % 1000000000);
	f->e.nlink = 1;
	f->e.path.p = (const uint8_t *)f->name;
	f->e.path.len = strlen(f->name);
	/* The size: what the records add up to. */
	pk_cursor_init(&c, f->content.data, f->content.len);
	while (c.left > 0) {
		rec.type = pk_get_u8(&c);
		rec.data = pk_get_str(&c, SIZE_MAX, &l);
		rec.len = (uint32_t)l;
		if (rec.type == PK_REC_HOLE && pk_record_hole(&rec, &h) == 0)
			f->e.size += h;
		else if (pk_record_ref(&rec, &id, &len) == 0)
			f->e.size += len;
	}
}

static void
file_release(struct file *f)
{
	pk_buf_release(&f->content);
}

static void
stat_of(struct pk_statinfo *st, const struct file *f)
{
	pk_statinfo_from_entry(st, &f->e);
}

/* The lookup of f with stat st: 1 (or 2) and exactly its content, or 0
 * (what out holds then does not matter).  -100 for a hit with the wrong
 * content. */
static int
look(struct pk_statcache *c, const struct file *f, const struct pk_statinfo *st)
{
	struct pk_buf out = PK_BUF_INIT;
	int r = pk_statcache_lookup(c, (const uint8_t *)f->name, strlen(f->name),
	    st, &out);

	if (r > 0 && (out.len != f->content.len ||
	    (out.len && memcmp(out.data, f->content.data, out.len) != 0)))
		r = -100;
	pk_buf_release(&out);
	return r;
}

static int
look_exact(struct pk_statcache *c, const struct file *f)
{
	struct pk_statinfo st;

	stat_of(&st, f);
	return look(c, f, &st);
}

/* Builds a cache at path from files [0, n), over the one there (which
 * passes its other files on). */
static int
build_over(struct file *fs, size_t n, int64_t now, uint64_t gen)
{
	struct pk_statcache_builder *b;
	size_t i;
	int e;

	if ((e = pk_statcache_build_begin(&b, path, repo, gen, now)) < 0)
		return e;
	for (i = 0; i < n; i++)
		if ((e = pk_statcache_build_file(b, &fs[i].e, fs[i].content.data,
		    fs[i].content.len, 0)) < 0) {
			pk_statcache_build_abort(b);
			return e;
		}
	return pk_statcache_build_commit(b);
}

/* No temporary file of a builder left in the scratch directory. */
static int
only_cache_files(void)
{
	struct dirent *d;
	DIR *dir = opendir(SCRATCH);
	int clean = dir != NULL;

	while (dir && (d = readdir(dir)) != NULL)
		if (strstr(d->d_name, ".tmp") || strncmp(d->d_name, "tmp-", 4) == 0)
			clean = 0;
	if (dir)
		closedir(dir);
	return clean;
}

/* Builds the cache at path from files [0, n) alone. */
static int
build(struct file *fs, size_t n, int64_t now, uint64_t gen)
{
	char lp[4200];

	snprintf(lp, sizeof lp, "%s.lists", path);
	unlink(path);
	unlink(lp);
	return build_over(fs, n, now, gen);
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out, e = 0;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (pk_write_all(out, buf, (size_t)n) < 0)
			e = -EIO;
	close(in);
	close(out);
	return n < 0 ? -EIO : e;
}

static int
try_open(const uint8_t *id)
{
	struct pk_statcache *c;
	int e = pk_statcache_open(&c, path, id, 0);

	if (e == 0)
		pk_statcache_close(c);
	return e;
}

static void
test_exact(void)
{
	struct file f[8];
	struct pk_statcache *c;
	struct pk_statinfo st, s;
	struct pk_buf out = PK_BUF_INIT;
	size_t i;
	int e, r;

	for (i = 0; i < 8; i++)
		file_make(&f[i], 1, i);
	/* An empty file, and one of holes only. */
	pk_buf_reset(&f[6].content);
	f[6].e.size = 0;
	pk_buf_reset(&f[7].content);
	add_hole(&f[7].content, 1 << 20);
	add_hole(&f[7].content, 4096);
	f[7].e.size = (1 << 20) + 4096;
	f[5].e.nxattrs = 1;		/* stored with extended attributes */

	unlink(path);
	unlink(lists);
	CHECK("open: no cache is ENOENT", try_open(repo) == -ENOENT);
	e = build(f, 8, NOW, 0);
	CHECK("build: 8 files committed", e == 0);
	CHECK("build: both files in place, no temporary left",
	    unit_exists(path) && unit_exists(lists) &&
	    !unit_exists(SCRATCH "/stat.lists.tmp") &&
	    !unit_exists(SCRATCH "/stat.tmp"));
	e = pk_statcache_open(&c, path, repo, 0);
	CHECK("open: with the repository's id", e == 0);
	if (e < 0)
		return;
	for (i = 0, r = 0; i < 5; i++)
		r += look_exact(c, &f[i]) == 1;
	CHECK("lookup: exact stat is a hit with the file's records", r == 5);
	CHECK("lookup: a file with xattrs says so",
	    look_exact(c, &f[5]) == PK_STATCACHE_XATTRS);
	CHECK("lookup: an empty file is a hit with no record",
	    look_exact(c, &f[6]) == 1);
	CHECK("lookup: a file of holes only is a hit with its holes",
	    look_exact(c, &f[7]) == 1);

	stat_of(&st, &f[2]);
	s = st; s.dev++;
	CHECK("miss: another dev", look(c, &f[2], &s) == 0);
	s = st; s.ino++;
	CHECK("miss: another ino", look(c, &f[2], &s) == 0);
	s = st; s.size++;
	CHECK("miss: one byte more", look(c, &f[2], &s) == 0);
	s = st; s.size--;
	CHECK("miss: one byte less", look(c, &f[2], &s) == 0);
	s = st; s.mtime_ns++;
	CHECK("miss: mtime 1 ns later", look(c, &f[2], &s) == 0);
	s = st; s.mtime_ns -= 1000000000;
	CHECK("miss: mtime 1 s earlier", look(c, &f[2], &s) == 0);
	s = st; s.ctime_ns++;
	CHECK("miss: ctime 1 ns later", look(c, &f[2], &s) == 0);
	s = st; s.ctime_ns -= 1;
	CHECK("miss: ctime 1 ns earlier", look(c, &f[2], &s) == 0);
	s = st; s.mode = S_IFREG | 0600;
	CHECK("miss: another mode", look(c, &f[2], &s) == 0);
	s = st; s.mode = S_IFREG | 04644;
	CHECK("miss: setuid bit added", look(c, &f[2], &s) == 0);
	s = st; s.mode = S_IFLNK | 0644;
	CHECK("miss: another file type", look(c, &f[2], &s) == 0);
	s = st; s.mode = 0644;
	CHECK("miss: no file type bits", look(c, &f[2], &s) == 0);
	CHECK("hit: the exact stat again", look(c, &f[2], &st) == 1);
	CHECK("miss: another path with the same stat",
	    pk_statcache_lookup(c, (const uint8_t *)"dir2/file-1-", 12, &st,
	    &out) == 0 && out.len == 0);
	CHECK("miss: the path with a trailing slash",
	    pk_statcache_lookup(c, (const uint8_t *)f[2].name, 0, &st, &out) == 0 &&
	    out.len == 0);
	pk_buf_add(&out, "junk", 4);
	CHECK("lookup: the output is cleared on entry",
	    pk_statcache_lookup(c, (const uint8_t *)"nothing", 7, &st, &out) == 0 &&
	    out.len == 0);
	pk_buf_release(&out);
	pk_statcache_close(c);

	CHECK("open: another repository's id is ESTALE", (repo[3] ^= 1,
	    r = try_open(repo), repo[3] ^= 1, r) == -ESTALE);
	pk_err_clear();
	repo[0] ^= 0x80;
	try_open(repo);
	repo[0] ^= 0x80;
	CHECK("open: ... the message says another repository",
	    strstr(pk_errmsg(-ESTALE), "another repository") != NULL);
	CHECK("open: with no id, any repository is accepted", try_open(NULL) == 0);
	CHECK("open: with its own id again", try_open(repo) == 0);
	for (i = 0; i < 8; i++)
		file_release(&f[i]);
}

/* Which files the builder leaves out. */
static void
test_left_out(void)
{
	struct pk_statcache_builder *b;
	struct pk_statcache *c;
	struct pk_statinfo st;
	struct file f[15];
	struct pk_buf data = PK_BUF_INIT;
	size_t i;
	int e, ok = 1;

	for (i = 0; i < 15; i++)
		file_make(&f[i], 2, i);
	f[0].e.mtime_sec = NOW - 1;		/* racy */
	f[1].e.ctime_sec = NOW - 1;		/* racy */
	f[2].e.mtime_sec = NOW;
	f[3].e.ctime_sec = NOW + 1000;		/* in the future */
	f[4].e.mtime_sec = NOW + 1000;
	f[5].e.mtime_sec = NOW - 2;		/* just old enough */
	f[5].e.ctime_sec = NOW - 2;
	f[6].e.size = PK_SIZE_UNKNOWN;		/* from a pipe */
	/* 7: changed while read (eof flags below) */
	f[8].e.size += 1;			/* records short of the size */
	f[9].e.type = PK_FT_SYMLINK;
	f[10].e.mode = 0755;			/* plain: cached */
	f[11].e.mtime_sec = NOW - 1;
	f[11].e.mtime_nsec = 999999999;		/* racy, to the ns */
	/* Times in ns fit an i64 from 1678 to 2262 only. */
	f[12].e.mtime_sec = INT64_MIN / 1000000000 - 1;
	f[13].e.mtime_sec = INT64_MIN / 1000000000;	/* fits: cached */
	f[13].e.mtime_nsec = 0;
	f[14].e.ctime_sec = INT64_MIN;

	e = pk_statcache_build_begin(&b, path, repo, 0, NOW);
	CHECK("left out: build begins", e == 0);
	if (e < 0)
		return;
	for (i = 0; i < 15; i++)
		ok &= pk_statcache_build_file(b, &f[i].e, f[i].content.data,
		    f[i].content.len, i == 7 ? PK_EOF_CHANGED : 0) == 0;
	CHECK("left out: every file accepted by the builder", ok);
	/* Content that is not REF or HOLE is refused. */
	pk_buf_add_u8(&data, PK_REC_DATA);
	pk_buf_add_str(&data, "abc", 3);
	f[10].e.path.p = (const uint8_t *)"data";
	f[10].e.path.len = 4;
	f[10].e.size = 3;
	CHECK("build: a DATA record in the content is EINVAL",
	    pk_statcache_build_file(b, &f[10].e, data.data, data.len, 0) == -EINVAL);
	f[10].e.path.p = (const uint8_t *)f[10].name;
	f[10].e.path.len = strlen(f[10].name);
	f[10].e.size = 0;
	file_release(&f[10]);
	file_make(&f[10], 2, 10);
	f[10].e.mode = 0755;
	CHECK("left out: commit", pk_statcache_build_commit(b) == 0);
	pk_buf_release(&data);

	if (pk_statcache_open(&c, path, repo, 0) < 0) {
		CHECK("left out: open", 0);
		return;
	}
	CHECK("racy: mtime a second before the start: left out",
	    look_exact(c, &f[0]) == 0);
	CHECK("racy: ctime a second before the start: left out",
	    look_exact(c, &f[1]) == 0);
	CHECK("racy: mtime at the start: left out", look_exact(c, &f[2]) == 0);
	CHECK("racy: ctime in the future: left out", look_exact(c, &f[3]) == 0);
	CHECK("racy: mtime in the future: left out", look_exact(c, &f[4]) == 0);
	CHECK("racy: mtime 1 ns short of the second before: left out",
	    look_exact(c, &f[11]) == 0);
	CHECK("two seconds before the start: cached", look_exact(c, &f[5]) == 1);
	CHECK("unknown size: left out", look_exact(c, &f[6]) == 0);
	CHECK("changed while read: left out", look_exact(c, &f[7]) == 0);
	CHECK("records short of the size: a miss, never a short file",
	    look_exact(c, &f[8]) == 0);
	CHECK("a symbolic link: left out", look_exact(c, &f[9]) == 0);
	CHECK("mode 0755: cached", look_exact(c, &f[10]) == 1);
	CHECK("an mtime before 1678: ERANGE", pk_statinfo_from_entry(&st,
	    &f[12].e) == -ERANGE);
	CHECK("an mtime before 1678: left out", look_exact(c, &f[12]) == 0);
	CHECK("the earliest mtime in range: cached", look_exact(c, &f[13]) == 1);
	CHECK("a ctime of INT64_MIN: ERANGE", pk_statinfo_from_entry(&st,
	    &f[14].e) == -ERANGE);
	CHECK("a ctime of INT64_MIN: left out", look_exact(c, &f[14]) == 0);
	f[13].e.mtime_sec = INT64_MAX / 1000000000;
	f[13].e.mtime_nsec = 999999999;
	CHECK("an mtime after 2262: ERANGE", pk_statinfo_from_entry(&st,
	    &f[13].e) == -ERANGE);
	pk_statcache_close(c);

	/* A start time of INT64_MIN (a crafted stream's): nothing cached. */
	e = build(f, 0, NOW, 0);
	if (e == 0)
		e = pk_statcache_build_begin(&b, path, repo, 0, NOW);
	if (e == 0) {
		pk_statcache_build_not_before(b, INT64_MIN);
		e = pk_statcache_build_file(b, &f[5].e, f[5].content.data,
		    f[5].content.len, 0);
		e = e < 0 ? e : pk_statcache_build_commit(b);
	}
	CHECK("a start of INT64_MIN: builds", e == 0);
	if (e == 0 && pk_statcache_open(&c, path, repo, 0) == 0) {
		CHECK("a start of INT64_MIN: every file left out",
		    look_exact(c, &f[5]) == 0);
		pk_statcache_close(c);
	}
	for (i = 0; i < 15; i++)
		file_release(&f[i]);
}

/* A cache of one file: every byte of its list flipped in turn. */
static void
test_flip_list(void)
{
	struct pk_statcache *c;
	struct file f;
	off_t n, i;
	size_t bad = 0, wrong = 0;
	int r;

	file_make(&f, 3, 0);
	pk_buf_reset(&f.content);
	add_ref(&f.content, 31, 1000);
	add_hole(&f.content, 8192);
	add_ref(&f.content, 32, 70000);
	add_ref(&f.content, 33, 5);
	f.e.size = 1000 + 8192 + 70000 + 5;
	if (build(&f, 1, NOW, 0) < 0 || pk_statcache_open(&c, path, repo, 0) < 0) {
		CHECK("flip list: a cache", 0);
		return;
	}
	CHECK("flip list: the file is a hit", look_exact(c, &f) == 1);
	n = unit_size_of(lists);
	CHECK("flip list: the lists hold a header and one list",
	    n >= 16 + 4 * 40);
	/* The list itself starts after the 16-byte header. */
	for (i = 16; i < n; i++) {
		if (unit_flip_at(lists, i, 0x01) < 0) {
			bad++;
			continue;
		}
		r = look_exact(c, &f);
		if (r != 0) {
			if (r < 0)
				wrong++;
			printf("# lists byte %lld flipped: lookup %d\n",
			    (long long)i, r);
			bad++;
		}
		unit_flip_at(lists, i, 0x01);
	}
	CHECK("flip list: a flip of any byte of the list is a miss", bad == 0);
	CHECK("flip list: ... and never wrong content", wrong == 0);
	CHECK("flip list: unflipped, a hit again", look_exact(c, &f) == 1);
	pk_statcache_close(c);

	for (i = 0, bad = 0; i < 8; i++) {
		unit_flip_at(lists, i, 0x01);
		if (try_open(repo) != -ESTALE)
			bad++;
		unit_flip_at(lists, i, 0x01);
	}
	CHECK("flip list: a flip in the lists' magic is ESTALE at open", bad == 0);
	file_release(&f);
}

/* The slot of the one file in the hash file: every byte flipped. */
static void
test_flip_slot(void)
{
	struct pk_statcache *c;
	struct file f;
	uint8_t s[SLOT], zero[SLOT] = { 0 };
	off_t n, at = -1, i;
	size_t bad = 0, others = 0;
	int fd, r;

	file_make(&f, 4, 0);
	if (build(&f, 1, NOW, 0) < 0 || pk_statcache_open(&c, path, repo, 0) < 0) {
		CHECK("flip slot: a cache", 0);
		return;
	}
	n = unit_size_of(path);
	fd = open(path, O_RDONLY);
	for (i = PK_HASHFILE_HEADER_BYTES; fd >= 0 && i + SLOT <= n; i += SLOT) {
		if (pread(fd, s, SLOT, i) != SLOT)
			break;
		if (memcmp(s, zero, SLOT) != 0) {
			others += at >= 0;
			at = i;
		}
	}
	if (fd >= 0)
		close(fd);
	CHECK("flip slot: one slot in use", at >= 0 && others == 0);
	for (i = 0; at >= 0 && i < SLOT; i++) {
		unit_flip_at(path, at + i, 0x01);
		r = look_exact(c, &f);
		if (r != 0) {
			printf("# slot byte %lld flipped: lookup %d\n", (long long)i, r);
			bad++;
		}
		unit_flip_at(path, at + i, 0x01);
	}
	CHECK("flip slot: a flip of any byte of the slot is a miss", bad == 0);
	/* An empty slot turned to garbage before the real one does no harm. */
	for (i = PK_HASHFILE_HEADER_BYTES, bad = 0; at >= 0 && i < n; i += 4096) {
		if (i == at)
			continue;
		unit_flip_at(path, i + 20, 0x01);
		bad += look_exact(c, &f) != 1;
		unit_flip_at(path, i + 20, 0x01);
	}
	CHECK("flip slot: garbage in other slots: still the exact hit", bad == 0);
	pk_statcache_close(c);
	for (i = 0, bad = 0; i < 80; i++) {
		unit_flip_at(path, i, 0x01);
		if (try_open(repo) != -ESTALE)
			bad++;
		unit_flip_at(path, i, 0x01);
	}
	CHECK("flip slot: a flip of any checked header byte is ESTALE", bad == 0);
	file_release(&f);
}

/* A crash between the two renames, and the reverse. */
static void
test_torn(void)
{
	enum { N = 500 };
	static struct file a[N], b[N];
	struct pk_statcache *c;
	size_t i, hits, wrong, n;
	int r, e;

	for (i = 0; i < N; i++) {
		file_make(&a[i], 5, i);
		/* The same paths, new content of other lengths, a new ctime. */
		file_make(&b[i], 5, i);
		pk_buf_reset(&b[i].content);
		add_ref(&b[i].content, 5000 + i, 100 + (uint32_t)i);
		if (i % 3 == 0)
			add_ref(&b[i].content, 6000 + i, 7);
		b[i].e.size = 100 + i + (i % 3 == 0 ? 7 : 0);
		b[i].e.ctime_sec += 1;
	}
	e = build(a, N, NOW, 0);
	e = e ? e : copy_file(path, SCRATCH "/stat.a");
	e = e ? e : copy_file(lists, SCRATCH "/stat.a.lists");
	e = e ? e : build(b, N, NOW, 0);
	e = e ? e : copy_file(path, SCRATCH "/stat.b");
	CHECK("torn: two generations of the cache", e == 0);
	if (e)
		return;
	/* Old slots over new lists. */
	copy_file(SCRATCH "/stat.a", path);
	e = pk_statcache_open(&c, path, repo, 0);
	if (e == 0) {
		for (i = 0, hits = 0, wrong = 0; i < N; i++) {
			r = look_exact(c, &a[i]);
			hits += r > 0;
			wrong += r < 0;
			r = look_exact(c, &b[i]);
			hits += r > 0;
			wrong += r < 0;
		}
		pk_statcache_close(c);
		/* A list that still matches a file is a true one: only wrong
		 * content would be a failure. */
		printf("# old slots over new lists: %zu hits\n", hits);
		CHECK("torn: old slots over new lists: no wrong hit",
		    wrong == 0);
	} else {
		CHECK("torn: old slots over new lists: refused at open",
		    e == -ESTALE);
	}
	/* New slots over old lists. */
	copy_file(SCRATCH "/stat.b", path);
	copy_file(SCRATCH "/stat.a.lists", lists);
	e = pk_statcache_open(&c, path, repo, 0);
	if (e == 0) {
		for (i = 0, hits = 0, wrong = 0; i < N; i++) {
			r = look_exact(c, &a[i]);
			hits += r > 0;
			wrong += r < 0;
			r = look_exact(c, &b[i]);
			hits += r > 0;
			wrong += r < 0;
		}
		pk_statcache_close(c);
		printf("# new slots over old lists: %zu hits\n", hits);
		CHECK("torn: new slots over old lists: no wrong hit",
		    wrong == 0);
	} else {
		CHECK("torn: new slots over old lists: refused at open",
		    e == -ESTALE);
	}
	/* Both old: whole again. */
	copy_file(SCRATCH "/stat.a", path);
	e = pk_statcache_open(&c, path, repo, 0);
	for (i = 0, n = 0; e == 0 && i < N; i++)
		n += look_exact(c, &a[i]) == 1;
	if (e == 0)
		pk_statcache_close(c);
	CHECK("torn: the old pair, whole: every old file a hit", n == N);
	for (i = 0; i < N; i++) {
		file_release(&a[i]);
		file_release(&b[i]);
	}
}

/*
 * Lists truncated (the magic kept): lookups of files whose list was cut
 * miss, the others hit, and nothing crashes.  Run in a child, so that a
 * crash is a failed check.
 */
static void
test_truncated(void)
{
	enum { N = 3000 };
	static struct file f[N];
	struct pk_statcache *c;
	off_t full, cuts[8];
	size_t i, k, hits;
	pid_t pid;
	int st, e;
	char name[128];

	for (i = 0; i < N; i++)
		file_make(&f[i], 6, i);
	if (build(f, N, NOW, 0) < 0 || copy_file(lists, SCRATCH "/lists.good") < 0) {
		CHECK("truncated: a cache", 0);
		return;
	}
	full = unit_size_of(lists);
	cuts[0] = 16; cuts[1] = 17; cuts[2] = 32; cuts[3] = 63; cuts[4] = 64;
	cuts[5] = 4096; cuts[6] = full / 2; cuts[7] = full - 1;
	for (k = 0; k < 8; k++) {
		copy_file(SCRATCH "/lists.good", lists);
		truncate(lists, cuts[k]);
		fflush(stdout);
		if ((pid = fork()) == 0) {
			if ((e = pk_statcache_open(&c, path, repo, 0)) < 0)
				_exit(e == -ESTALE ? 0 : 3);
			for (i = 0, hits = 0; i < N; i++) {
				e = look_exact(c, &f[i]);
				if (e < 0)
					_exit(4);
				hits += e > 0;
			}
			pk_statcache_close(c);
			/* Cut short: not every file can still be there. */
			_exit(hits < N ? 0 : 5);
		}
		waitpid(pid, &st, 0);
		snprintf(name, sizeof name, "truncated: lists cut to %lld of %lld "
		    "bytes: misses, no wrong content, no crash", (long long)cuts[k],
		    (long long)full);
		CHECK(name, WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			printf("# child: %s %d\n", WIFSIGNALED(st) ? "signal" :
			    "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	}
	copy_file(SCRATCH "/lists.good", lists);
	unlink(lists);
	CHECK("missing lists: ESTALE", try_open(repo) == -ESTALE);
	copy_file(SCRATCH "/lists.good", lists);
	truncate(lists, 10);
	CHECK("lists shorter than their header: ESTALE", try_open(repo) == -ESTALE);
	for (i = 0; i < N; i++)
		file_release(&f[i]);
}

static void
test_rebuild(void)
{
	struct pk_statcache_builder *b;
	struct pk_statcache *c;
	struct file f[2];
	int e, i;

	file_make(&f[0], 7, 0);
	file_make(&f[1], 7, 1);
	/* The same path twice: the first one wins. */
	f[1].e.path = f[0].e.path;
	f[1].e.ino = f[0].e.ino + 1;
	e = build(f, 2, NOW, 0);
	e = e ? e : pk_statcache_open(&c, path, repo, 0);
	CHECK("same path twice: built", e == 0);
	if (e == 0) {
		CHECK("same path twice: the first one is a hit",
		    look_exact(c, &f[0]) == 1);
		memcpy(f[1].name, f[0].name, sizeof f[1].name);
		CHECK("same path twice: the second one a miss",
		    look_exact(c, &f[1]) == 0);
		pk_statcache_close(c);
	}
	file_release(&f[1]);
	file_make(&f[1], 7, 1);
	/* An aborted build leaves the cache as it was. */
	e = pk_statcache_build_begin(&b, path, repo, 0, NOW);
	if (e == 0) {
		pk_statcache_build_file(b, &f[1].e, f[1].content.data,
		    f[1].content.len, 0);
		pk_statcache_build_abort(b);
	}
	CHECK("abort: no temporary left", e == 0 && only_cache_files());
	e = pk_statcache_open(&c, path, repo, 0);
	CHECK("abort: the old cache still answers", e == 0 &&
	    look_exact(c, &f[0]) == 1 && look_exact(c, &f[1]) == 0);
	if (e == 0)
		pk_statcache_close(c);
	/* A new build replaces it, and carries the old files over, each for
	 * PK_STATCACHE_MAX_AGE builds. */
	for (i = 0, e = 0; i < PK_STATCACHE_MAX_AGE && e == 0; i++)
		e = build_over(&f[1], 1, NOW, 0);
	e = e ? e : pk_statcache_open(&c, path, repo, 0);
	CHECK("rebuild: the new file, and the old one carried over", e == 0 &&
	    look_exact(c, &f[1]) == 1 && look_exact(c, &f[0]) == 1);
	if (e == 0)
		pk_statcache_close(c);
	CHECK("rebuild: no temporary left", only_cache_files());
	e = build_over(&f[1], 1, NOW, 0);
	e = e ? e : pk_statcache_open(&c, path, repo, 0);
	CHECK("rebuild: the old file gone after as many builds",
	    e == 0 && look_exact(c, &f[1]) == 1 && look_exact(c, &f[0]) == 0);
	if (e == 0)
		pk_statcache_close(c);
	e = build_over(&f[0], 1, NOW, 1);
	e = e ? e : build_over(&f[1], 1, NOW, 0);
	e = e ? e : pk_statcache_open(&c, path, repo, 0);
	CHECK("rebuild: nothing carried from another generation", e == 0 &&
	    look_exact(c, &f[1]) == 1 && look_exact(c, &f[0]) == 0);
	if (e == 0)
		pk_statcache_close(c);
	file_release(&f[0]);
	file_release(&f[1]);
}

static void
test_many(void)
{
	enum { N = 100000 };
	static struct file f[N];
	struct pk_statcache *c;
	struct pk_statinfo st;
	size_t i, hits = 0, miss = 0, wrong = 0, changed = 0;
	int e, r;

	for (i = 0; i < N; i++)
		file_make(&f[i], 8, i);
	e = build(f, N, NOW, 0);
	CHECK("100000 files: built", e == 0);
	e = e ? e : pk_statcache_open(&c, path, repo, 0);
	CHECK("100000 files: opened", e == 0);
	if (e)
		return;
	for (i = 0; i < N; i++) {
		r = look_exact(c, &f[i]);
		hits += r == 1;
		wrong += r < 0;
		stat_of(&st, &f[i]);
		st.ctime_ns += 1000;
		changed += look(c, &f[i], &st) == 0;
	}
	CHECK("100000 files: every one a hit with its records",
	    hits == N && wrong == 0);
	CHECK("100000 files: each with a newer ctime a miss", changed == N);
	for (i = 0; i < N; i++) {
		struct file g;

		file_make(&g, 9, i);
		miss += look_exact(c, &g) == 0;
		file_release(&g);
	}
	CHECK("100000 files: 100000 other paths miss", miss == N);
	pk_statcache_close(c);
	for (i = 0; i < N; i++)
		file_release(&f[i]);
}

int
main(void)
{
	mkdir("tests/scratch", 0755);
	mkdir(SCRATCH, 0755);
	test_exact();
	test_left_out();
	test_flip_list();
	test_flip_slot();
	test_torn();
	test_truncated();
	test_rebuild();
	test_many();
	UNIT_END();
}
