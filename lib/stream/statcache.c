#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <xxhash.h>

#include "entry.h"
#include "err.h"
#include "hashfile.h"
#include "io.h"
#include "record.h"
#include "statcache.h"

#define LISTS_MAGIC	"PKSCLIST"
#define LISTS_HEADER	16
#define KEY_BYTES	16
#define SLOT_BYTES	24
#define ITEM_BYTES	40		/* id[32] (zeros: a hole), u64 length */
#define LIST_FIXED	64		/* key, ino, dev, size, mtime, ctime, mode, n */
#define MAX_ITEMS	(1u << 24)
/* A list's mode field: st_mode in the low 16 bits; the list's age (how
 * many later caches carried it over without its file) in bits 16-23; and
 * whether the file had extended attributes.  Without that bit a hit needs
 * no xattr system call (a change to them changes the ctime). */
#define LIST_MODE	0xffffu
#define LIST_AGE_SHIFT	16
#define LIST_AGE	0xff0000u
#define LIST_XATTRS	0x80000000u

/* Slot: key[16], the offset of the file's list (u64).  The stat is in the
 * list, which a lookup reads anyway: small slots keep the hash file, and
 * the memory that maps it, small. */

struct pk_statcache {
	struct pk_hashfile *hf;
	uint8_t *lists;
	size_t listlen;
	uint64_t dropped;	/* lists before this offset let go of */
};

struct pk_statcache_builder {
	struct pk_hashfile *hf;
	char path[4096];
	uint8_t repo_id[16];
	uint64_t generation;
	struct pk_atomic lists;
	uint64_t off;
	int64_t not_before;
	struct pk_buf out, rec;
};

static void
params(struct pk_hashfile_params *p, const uint8_t *repo_id, uint64_t gen)
{
	memset(p, 0, sizeof *p);
	p->kind = PK_HF_STATCACHE;
	p->slot_bytes = SLOT_BYTES;
	p->key_bytes = KEY_BYTES;
	if (repo_id)
		memcpy(p->repo_id, repo_id, sizeof p->repo_id);
	p->generation = gen;
}

static void
path_key(uint8_t key[KEY_BYTES], const uint8_t *path, size_t len)
{
	crypto_generichash(key, KEY_BYTES, path, len, NULL, 0);
}

/* A time in nanoseconds, which an i64 holds from 1678 to 2262 only. */
static int
time_ns(int64_t *ns, int64_t sec, int64_t nsec)
{
	if (__builtin_mul_overflow(sec, 1000000000, ns) ||
	    __builtin_add_overflow(*ns, nsec, ns))
		return -ERANGE;
	return 0;
}

int
pk_statinfo_from_entry(struct pk_statinfo *st, const struct pk_entry *e)
{
	memset(st, 0, sizeof *st);
	st->dev = e->dev;
	st->ino = e->ino;
	st->size = e->size;
	st->mode = S_IFREG | e->mode;
	if (time_ns(&st->mtime_ns, e->mtime_sec, e->mtime_nsec) < 0 ||
	    time_ns(&st->ctime_ns, e->ctime_sec, e->ctime_nsec) < 0)
		return -ERANGE;
	return 0;
}

int
pk_statinfo_from_stat(struct pk_statinfo *si, const struct stat *st)
{
	memset(si, 0, sizeof *si);
	si->dev = st->st_dev;
	si->ino = st->st_ino;
	si->size = (uint64_t)st->st_size;
	si->mode = st->st_mode;
	if (time_ns(&si->mtime_ns, st->st_mtim.tv_sec, st->st_mtim.tv_nsec) < 0 ||
	    time_ns(&si->ctime_ns, st->st_ctim.tv_sec, st->st_ctim.tv_nsec) < 0)
		return -ERANGE;
	return 0;
}

/* One second before sec, the cut-off for files changed around sec. */
static int64_t
second_before(int64_t sec)
{
	return sec == INT64_MIN ? sec : sec - 1;
}

/* The stat fields as slots and lists store them: 40 bytes. */
static void
put_stat(uint8_t *p, const struct pk_statinfo *st)
{
	pk_put_u64(p, st->ino);
	pk_put_u64(p + 8, st->dev);
	pk_put_u64(p + 16, st->size);
	pk_put_u64(p + 24, (uint64_t)st->mtime_ns);
	pk_put_u64(p + 32, (uint64_t)st->ctime_ns);
}

static int
open_gen(struct pk_statcache **cp, const char *path, const uint8_t *repo_id,
    uint64_t generation)
{
	struct pk_hashfile_params p;
	struct pk_statcache *c;
	char lp[4200];
	struct stat st;
	int fd, e;

	*cp = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -ENOMEM;
	params(&p, repo_id, generation);
	e = pk_hashfile_open(&c->hf, path, &p, repo_id ? 0 : PK_HF_ANY_REPO);
	if (e < 0) {
		free(c);
		return e;
	}
	if ((e = pk_path(lp, sizeof lp, "%s.lists", path)) < 0) {
		fd = -1;
		goto fail;
	}
	if ((fd = open(lp, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		e = errno == ENOENT ? pk_err(-ESTALE, "%s: missing", lp) :
		    pk_err(-errno, "%s: %s", lp, strerror(errno));
		goto fail;
	}
	c->listlen = (size_t)st.st_size;
	if (c->listlen < LISTS_HEADER) {
		e = pk_err(-ESTALE, "%s: truncated", lp);
		goto fail;
	}
	c->lists = mmap(NULL, c->listlen, PROT_READ, MAP_SHARED, fd, 0);
	if (c->lists == MAP_FAILED) {
		c->lists = NULL;
		e = pk_err(-errno, "%s: mmap: %s", lp, strerror(errno));
		goto fail;
	}
	if (memcmp(c->lists, LISTS_MAGIC, 8) != 0) {
		e = pk_err(-ESTALE, "%s: not a stat cache list file", lp);
		goto fail;
	}
	close(fd);
	*cp = c;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	pk_statcache_close(c);
	return e;
}

int
pk_statcache_open(struct pk_statcache **cp, const char *path,
    const uint8_t *repo_id, uint64_t generation)
{
	return open_gen(cp, path, repo_id, generation);
}

void
pk_statcache_close(struct pk_statcache *c)
{
	if (c == NULL)
		return;
	if (c->lists)
		munmap(c->lists, c->listlen);
	pk_hashfile_close(c->hf);
	free(c);
}

/* The list at off, whole and of this key, and its item count; NULL when
 * it fails a check. */
static const uint8_t *
list_at(const struct pk_statcache *c, const uint8_t *key, uint64_t off,
    uint64_t *np)
{
	const uint8_t *rec;
	uint64_t n;

	if (off < LISTS_HEADER || off % 8 || c->listlen < LIST_FIXED + 8 ||
	    off > c->listlen - LIST_FIXED - 8)
		return NULL;
	rec = c->lists + off;
	n = pk_load_u32(rec + 60);
	if (n > MAX_ITEMS || LIST_FIXED + n * ITEM_BYTES + 8 > c->listlen - off)
		return NULL;
	if (memcmp(rec, key, KEY_BYTES) != 0 ||
	    pk_load_u64(rec + LIST_FIXED + n * ITEM_BYTES) !=
	    XXH3_64bits(rec, LIST_FIXED + n * ITEM_BYTES))
		return NULL;
	*np = n;
	return rec;
}

int
pk_statcache_lookup(struct pk_statcache *c, const uint8_t *path, size_t len,
    const struct pk_statinfo *st, struct pk_buf *out)
{
	static const uint8_t zero[PK_ID_BYTES];
	uint8_t key[KEY_BYTES], want[40];
	const uint8_t *slot, *rec, *item;
	uint64_t n, i, size = 0;
	uint8_t ref[PK_ID_BYTES + 4];
	int e;

	pk_buf_reset(out);
	path_key(key, path, len);
	if ((slot = pk_hashfile_find(c->hf, key)) == NULL ||
	    (rec = list_at(c, key, pk_load_u64(slot + 16), &n)) == NULL)
		return 0;
	/* Lists are read about in the order they were written (a walk's
	 * order), so the pages well behind this one are let go of: the memory
	 * that maps the lists does not grow with the cache. */
	pk_drop_behind(c->lists, &c->dropped, (uint64_t)(rec - c->lists));
	put_stat(want, st);
	if (memcmp(rec + 16, want, 40) != 0 ||
	    (pk_load_u32(rec + 56) & LIST_MODE) != st->mode)
		return 0;
	for (i = 0; i < n; i++) {
		item = rec + LIST_FIXED + i * ITEM_BYTES;
		if (memcmp(item, zero, PK_ID_BYTES) == 0) {
			uint8_t h[8];

			pk_put_u64(h, pk_load_u64(item + 32));
			e = pk_buf_add_u8(out, PK_REC_HOLE);
			if (e == 0)
				e = pk_buf_add_str(out, h, sizeof h);
		} else {
			if (pk_load_u64(item + 32) > UINT32_MAX ||
			    pk_load_u64(item + 32) == 0)
				return 0;
			memcpy(ref, item, PK_ID_BYTES);
			pk_put_u32(ref + PK_ID_BYTES, (uint32_t)pk_load_u64(item + 32));
			e = pk_buf_add_u8(out, PK_REC_REF);
			if (e == 0)
				e = pk_buf_add_str(out, ref, sizeof ref);
		}
		if (e < 0)
			return e;
		size += pk_load_u64(item + 32);
	}
	if (size != st->size)
		return 0;
	return pk_load_u32(rec + 56) & LIST_XATTRS ? PK_STATCACHE_XATTRS : 1;
}

int
pk_statcache_build_begin(struct pk_statcache_builder **bp, const char *path,
    const uint8_t repo_id[16], uint64_t generation, int64_t not_before_sec)
{
	struct pk_statcache_builder *b;
	struct pk_statcache *old;
	struct pk_hashfile_params p;
	uint8_t h[LISTS_HEADER] = { 0 };
	char dir[4096], *slash;
	int e;

	*bp = NULL;
	if ((e = pk_hashfile_may_replace(path, PK_HF_STATCACHE,
	    "stat cache")) < 0)
		return e;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return -ENOMEM;
	memcpy(b->repo_id, repo_id, sizeof b->repo_id);
	b->generation = generation;
	b->not_before = second_before(not_before_sec);
	if ((e = pk_path(b->path, sizeof b->path, "%s", path)) < 0 ||
	    (e = pk_path(dir, sizeof dir, "%s", path)) < 0) {
		free(b);
		return e;
	}
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	if ((e = pk_atomic_open(&b->lists, dir, 0600)) < 0) {
		free(b);
		return e;
	}
	params(&p, repo_id, generation);
	/* The new cache holds about as many files as the one it replaces. */
	if (open_gen(&old, path, repo_id, generation) == 0) {
		p.expect = pk_hashfile_count(old->hf);
		pk_statcache_close(old);
	}
	if ((e = pk_hashfile_open(&b->hf, path, &p,
	    PK_HF_CREATE | PK_HF_NOSYNC)) < 0) {
		pk_atomic_abort(&b->lists);
		free(b);
		return e;
	}
	memcpy(h, LISTS_MAGIC, 8);
	pk_buf_add(&b->out, h, sizeof h);
	b->off = LISTS_HEADER;
	*bp = b;
	return 0;
}

void
pk_statcache_build_not_before(struct pk_statcache_builder *b, int64_t sec)
{
	if (second_before(sec) < b->not_before)
		b->not_before = second_before(sec);
}

static int
flush(struct pk_statcache_builder *b)
{
	int e = pk_write_all(b->lists.fd, b->out.data, b->out.len);

	pk_buf_reset(&b->out);
	return e < 0 ? pk_err(e, "%s: write: %s", b->lists.tmp, strerror(-e)) : 0;
}

/*
 * Appends a list (len bytes, its checksum field last, set here) and its
 * slot, unless its path is in already: the first one wins (two walks of
 * one tree, or a list carried over from the cache being replaced).
 */
static int
add_list(struct pk_statcache_builder *b, uint8_t *list, size_t len)
{
	uint8_t slot[SLOT_BYTES];
	int r;

	pk_put_u64(list + len - 8, XXH3_64bits(list, len - 8));
	memcpy(slot, list, KEY_BYTES);
	pk_put_u64(slot + 16, b->off);
	if ((r = pk_hashfile_insert(b->hf, slot)) != 0)
		return r < 0 ? r : 0;
	if ((r = pk_buf_add(&b->out, list, len)) < 0)
		return r;
	b->off += len;
	if (b->out.len >= (1u << 20))
		return flush(b);
	return 0;
}

int
pk_statcache_build_file(struct pk_statcache_builder *b,
    const struct pk_entry *e, const uint8_t *content, size_t len,
    uint32_t eof_flags)
{
	uint8_t item[ITEM_BYTES], fixed[LIST_FIXED];
	struct pk_statinfo st;
	struct pk_record rec = { 0 };
	struct pk_cursor c;
	const uint8_t *id;
	uint64_t n = 0, hole;
	uint32_t rlen;
	size_t l;
	int r;

	if (e->type != PK_FT_REG || e->size == PK_SIZE_UNKNOWN ||
	    (eof_flags & PK_EOF_CHANGED) || e->mtime_sec >= b->not_before ||
	    e->ctime_sec >= b->not_before ||
	    pk_statinfo_from_entry(&st, e) < 0)
		return 0;
	pk_buf_reset(&b->rec);
	path_key(fixed, e->path.p, e->path.len);
	put_stat(fixed + 16, &st);
	pk_put_u32(fixed + 56, st.mode | (e->nxattrs ? LIST_XATTRS : 0));
	if ((r = pk_buf_add(&b->rec, fixed, sizeof fixed)) < 0)
		return r;
	pk_cursor_init(&c, content, len);
	while (c.left > 0) {
		rec.type = pk_get_u8(&c);
		rec.data = pk_get_str(&c, SIZE_MAX, &l);
		rec.len = (uint32_t)l;
		memset(item, 0, sizeof item);
		if (rec.type == PK_REC_HOLE && pk_record_hole(&rec, &hole) == 0) {
			pk_put_u64(item + 32, hole);
		} else if (rec.type == PK_REC_REF &&
		    pk_record_ref(&rec, &id, &rlen) == 0) {
			memcpy(item, id, PK_ID_BYTES);
			pk_put_u64(item + 32, rlen);
		} else {
			return pk_err(-EINVAL, "stat cache: bad content record");
		}
		if ((r = pk_buf_add(&b->rec, item, sizeof item)) < 0)
			return r;
		n++;
	}
	if (n > MAX_ITEMS)
		return 0;
	pk_put_u32(b->rec.data + 60, (uint32_t)n);
	if ((r = pk_buf_add_u64(&b->rec, 0)) < 0)
		return r;
	return add_list(b, b->rec.data, b->rec.len);
}

/*
 * Carries the lists of the cache being replaced whose paths this one does
 * not have (files of another tree backed up into the same repository, or
 * files since deleted), each one run older, up to PK_STATCACHE_MAX_AGE.
 * The old cache describes committed snapshots of the same repository and
 * generation, so its lists stay true.  It reads the old lists in order,
 * each one live only if the old slot of its key points to it, and lets go
 * of the pages behind it: memory does not grow with the cache.
 */
static int
carry(struct pk_statcache_builder *b)
{
	struct pk_statcache *old;
	const uint8_t *rec, *slot;
	uint64_t off = LISTS_HEADER, n, age, len;
	uint32_t mode;
	int e = 0;

	if (open_gen(&old, b->path, b->repo_id, b->generation) < 0)
		return 0;	/* none, or not to be trusted: nothing to carry */
	while (e == 0 && (rec = list_at(old, old->lists + off, off, &n))) {
		len = LIST_FIXED + n * ITEM_BYTES + 8;
		mode = pk_load_u32(rec + 56);
		age = ((mode & LIST_AGE) >> LIST_AGE_SHIFT) + 1;
		slot = pk_hashfile_find(old->hf, rec);
		if (slot && pk_load_u64(slot + 16) == off &&
		    age <= PK_STATCACHE_MAX_AGE &&
		    pk_hashfile_find(b->hf, rec) == NULL) {
			pk_buf_reset(&b->rec);
			if ((e = pk_buf_add(&b->rec, rec, len)) < 0)
				break;
			pk_put_u32(b->rec.data + 56, (mode & ~LIST_AGE) |
			    (uint32_t)(age << LIST_AGE_SHIFT));
			e = add_list(b, b->rec.data, len);
		}
		off += len;
		pk_drop_behind(old->lists, &old->dropped, off);
	}
	pk_statcache_close(old);
	return e;
}

/* Holds PATH.lock, so that two writers neither interleave their renames
 * nor carry from a cache the other is replacing. */
static int
lock_path(const char *path)
{
	char lp[4200];
	int fd;

	if ((fd = pk_path(lp, sizeof lp, "%s.lock", path)) < 0)
		return fd;
	if ((fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return pk_err(-errno, "%s: %s", lp, strerror(errno));
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int e = pk_err(-errno, "%s: flock: %s", lp, strerror(errno));

			close(fd);
			return e;
		}
	return fd;
}

int
pk_statcache_build_commit(struct pk_statcache_builder *b)
{
	char lists[4200];
	int e, lockfd;

	if ((lockfd = pk_path(lists, sizeof lists, "%s.lists", b->path)) < 0 ||
	    (lockfd = lock_path(b->path)) < 0) {
		pk_statcache_build_abort(b);
		return lockfd;
	}
	if ((e = carry(b)) == 0)
		e = flush(b);
	/* Lists first: a crash between the renames leaves old slots over new
	 * lists, each of which a lookup checks against the file itself. */
	if (e == 0)
		e = pk_atomic_replace(&b->lists, lists);
	else
		pk_atomic_abort(&b->lists);
	b->lists.fd = -1;
	if (e == 0)
		e = pk_hashfile_close(b->hf);
	else
		pk_hashfile_abort(b->hf);
	close(lockfd);
	b->hf = NULL;
	pk_statcache_build_abort(b);
	return e;
}

void
pk_statcache_build_abort(struct pk_statcache_builder *b)
{
	if (b == NULL)
		return;
	if (b->lists.fd >= 0)
		pk_atomic_abort(&b->lists);
	/* Never renamed into place: a failed build leaves the cache as it
	 * was. */
	pk_hashfile_abort(b->hf);
	pk_buf_release(&b->out);
	pk_buf_release(&b->rec);
	free(b);
}

