#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "buf.h"
#include "err.h"
#include "hashfile.h"
#include "io.h"

#define MAGIC		"PKHASH\0\0"
#define MIN_CAPACITY	1024u
/* Header fields, byte offsets (pk-repo(5)). */
#define H_VERSION	8
#define H_KIND		12
#define H_SLOT		16
#define H_KEY		20
#define H_CAPACITY	24
#define H_COUNT		32
#define H_REPO		40
#define H_GENERATION	56
#define H_DIRTY		64
#define H_AUX		68	/* the chunk index: deltas merged */
#define H_CHECKSUM	72	/* XXH3-64 of bytes [0, 72) */
#define H_END		80

struct pk_hashfile {
	char *path;
	char file[4096];	/* where the mapping lives: path, or a new file
				 * renamed to path at close (PK_HF_CREATE) */
	int fd, lockfd;
	int writable;
	int any_repo;
	int memory;		/* PK_HF_MEMORY: no file, nothing to rename */
	int nosync;		/* PK_HF_NOSYNC */
	uint8_t *map;
	size_t maplen;
	uint64_t capacity, count;
	uint32_t aux;
	struct pk_hashfile_params p;
	int err;
	int lean;		/* pk_hashfile_lean() */
	unsigned long touches;	/* lookups since the pages were let go of */
};

/*
 * Lookups touch pages all over a table, and each page touched stays mapped
 * in the process, whose memory then grows with the repository.  A lean
 * table lets go of its pages after a budget of lookups: they stay in the
 * page cache, from which the next touch maps them again, at the price of a
 * page fault for most lookups.  A touch maps up to 16 pages that are in the
 * page cache (the kernel's fault-around), and reads no more from the disk
 * (MADV_RANDOM).  Passes in order ask for read-ahead instead, and let go
 * behind them.
 */
#define RESIDENT_BUDGET	(16u << 20)
#define TOUCH_BYTES	(16u << 12)

static void
advise(const struct pk_hashfile *h, const void *map, size_t len, int advice)
{
	if (h->lean)
		(void)madvise((void *)(uintptr_t)map, len, advice);
}

void
pk_hashfile_lean(struct pk_hashfile *h)
{
	/* Not a PK_HF_MEMORY table, which has no file to fall back on. */
	h->lean = !h->memory;
	advise(h, h->map, h->maplen, MADV_RANDOM);
}

static void
touched(const struct pk_hashfile *h)
{
	/* (Lookups may run in several threads; a lost count is harmless.) */
	unsigned long *n = (unsigned long *)&h->touches;

	if (!h->lean || h->maplen <= RESIDENT_BUDGET)
		return;
	if (__atomic_add_fetch(n, 1, __ATOMIC_RELAXED) %
	    (RESIDENT_BUDGET / TOUCH_BYTES) == 0)
		pk_drop_pages(h->map, h->maplen);
}

static uint8_t *slot_at(const struct pk_hashfile *h, uint64_t i)
{
	return h->map + PK_HASHFILE_HEADER_BYTES + i * h->p.slot_bytes;
}

/* A key's home slot: its first 8 bytes, a uniform u64, modulo the
 * capacity, which need not be a power of two.  (Scaling the u64 to the
 * capacity would spare the division, but a table read in order would then
 * hand another its keys in the order of their homes there too, piling
 * them into its first slots while it is small.) */
static uint64_t home(const struct pk_hashfile *h, const uint8_t *key)
{
	return pk_load_u64(key) % h->capacity;
}

static uint64_t next_slot(const struct pk_hashfile *h, uint64_t i)
{
	return i + 1 == h->capacity ? 0 : i + 1;
}

static int
is_empty(const struct pk_hashfile *h, const uint8_t *s)
{
	uint32_t i;

	for (i = 0; i < h->p.key_bytes; i++)
		if (s[i])
			return 0;
	return 1;
}

static void
header_write(struct pk_hashfile *h, int dirty)
{
	/* Built aside, then copied: readers may look at the live header at
	 * any time (with no lock), and must never see it zeroed. */
	uint8_t m[H_END] = { 0 };

	memcpy(m, MAGIC, 8);
	pk_put_u32(m + H_VERSION, PK_HASHFILE_VERSION);
	pk_put_u32(m + H_KIND, h->p.kind);
	pk_put_u32(m + H_SLOT, h->p.slot_bytes);
	pk_put_u32(m + H_KEY, h->p.key_bytes);
	pk_put_u64(m + H_CAPACITY, h->capacity);
	pk_put_u64(m + H_COUNT, h->count);
	memcpy(m + H_REPO, h->p.repo_id, 16);
	pk_put_u64(m + H_GENERATION, h->p.generation);
	pk_put_u32(m + H_DIRTY, (uint32_t)dirty);
	pk_put_u32(m + H_AUX, h->aux);
	pk_put_u64(m + H_CHECKSUM, XXH3_64bits(m, H_CHECKSUM));
	memcpy(h->map, m, H_END);
}

/*
 * A file marked dirty is torn only if no writer holds its lock: a reader
 * may open it while a writer inserts, since inserts only fill empty slots.
 */
static int
writer_active(const struct pk_hashfile *h)
{
	char lp[4096];
	int fd, busy;

	if (h->writable)
		return 0;	/* we hold the lock ourselves */
	/* No writer can hold a lock whose name does not fit (see lock()). */
	if (pk_path(lp, sizeof lp, "%s.lock", h->path) < 0 ||
	    (fd = open(lp, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	busy = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

static int
header_check(struct pk_hashfile *h, uint64_t filesize)
{
	uint8_t m[H_END];
	const char *why = NULL;
	uint64_t cap;
	int tries;

	/* A copy, read again while it does not check: a writer may be
	 * copying in a new header as we read (readers take no lock). */
	for (tries = 0; ; tries++) {
		memcpy(m, h->map, H_END);
		if (pk_load_u64(m + H_CHECKSUM) == XXH3_64bits(m, H_CHECKSUM) ||
		    h->writable || tries == 100)
			break;
		sched_yield();
	}
	if (filesize < PK_HASHFILE_HEADER_BYTES || memcmp(m, MAGIC, 8) != 0)
		why = "not a hash file";
	else if (pk_load_u64(m + H_CHECKSUM) != XXH3_64bits(m, H_CHECKSUM))
		why = "header checksum does not match";
	else if (pk_load_u32(m + H_VERSION) != PK_HASHFILE_VERSION)
		why = "unsupported version";
	else if (pk_load_u32(m + H_DIRTY) != 0 && !writer_active(h))
		why = "not closed cleanly (torn)";
	else if (pk_load_u32(m + H_KIND) != h->p.kind ||
	    pk_load_u32(m + H_SLOT) != h->p.slot_bytes ||
	    pk_load_u32(m + H_KEY) != h->p.key_bytes)
		why = "of another kind";
	else if (!h->any_repo && memcmp(m + H_REPO, h->p.repo_id, 16) != 0)
		why = "of another repository";
	else if (!h->any_repo &&
	    pk_load_u64(m + H_GENERATION) != h->p.generation)
		why = "of an older generation (pk-gc ran since it was made)";
	if (why == NULL) {
		cap = pk_load_u64(m + H_CAPACITY);
		if (cap < MIN_CAPACITY ||
		    cap > (filesize - PK_HASHFILE_HEADER_BYTES) / h->p.slot_bytes ||
		    filesize != PK_HASHFILE_HEADER_BYTES + cap * h->p.slot_bytes)
			why = "truncated or bad capacity";
		else if (pk_load_u64(m + H_COUNT) >= cap)
			why = "bad count";
		h->capacity = cap;
		h->count = pk_load_u64(m + H_COUNT);
		h->aux = pk_load_u32(m + H_AUX);
	}
	if (why)
		return pk_err(-ESTALE, "%s: %s", h->path, why);
	return 0;
}

/*
 * Creates an empty file of the given capacity, mapped into h, at a unique
 * name made from the template file ("...XXXXXX", rewritten in place).  Its
 * blocks are allocated now: a full disk is an error here, not a SIGBUS at
 * the first store into the mapping.
 */
static int
map_new(struct pk_hashfile *h, char *file, uint64_t capacity)
{
	size_t len = PK_HASHFILE_HEADER_BYTES + capacity * h->p.slot_bytes;
	int fd, e;

	if (h->memory)
		fd = memfd_create("pk-hashfile", MFD_CLOEXEC);
	else
		fd = mkostemp(file, O_CLOEXEC);
	if (fd < 0)
		return pk_err(-errno, "%s: %s", file, strerror(errno));
	if ((e = posix_fallocate(fd, 0, (off_t)len)) != 0) {
		e = pk_err(-e, "%s: %s", file, strerror(e));
		close(fd);
		if (!h->memory)
			unlink(file);
		return e;
	}
	h->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h->map == MAP_FAILED) {
		e = pk_err(-errno, "%s: mmap: %s", file, strerror(errno));
		h->map = NULL;
		close(fd);
		if (!h->memory)
			unlink(file);
		return e;
	}
	h->fd = fd;
	h->maplen = len;
	advise(h, h->map, len, MADV_RANDOM);	/* (a lean table that grows) */
	h->capacity = capacity;
	h->count = 0;
	header_write(h, 1);
	return 0;
}

static int
lock(struct pk_hashfile *h)
{
	char lp[4096];
	int e;

	if ((e = pk_path(lp, sizeof lp, "%s.lock", h->path)) < 0)
		return e;
	h->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (h->lockfd < 0)
		return pk_err(-errno, "%s: %s", lp, strerror(errno));
	while (flock(h->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return pk_err(-errno, "%s: flock: %s", lp, strerror(errno));
	return 0;
}

static void
release(struct pk_hashfile *h)
{
	if (h->map)
		munmap(h->map, h->maplen);
	if (h->fd >= 0)
		close(h->fd);
	if (h->lockfd >= 0)
		close(h->lockfd);
	free(h->path);
	free(h);
}

int
pk_hashfile_open(struct pk_hashfile **hp, const char *path,
    const struct pk_hashfile_params *p, int flags)
{
	struct pk_hashfile *h;
	struct stat st;
	int e;

	if (p->slot_bytes % 8 || p->key_bytes < 8 ||
	    p->key_bytes > p->slot_bytes || p->slot_bytes > 1024)
		return -EINVAL;
	*hp = NULL;
	h = calloc(1, sizeof *h);
	if (h == NULL || (h->path = strdup(path)) == NULL) {
		free(h);
		return -ENOMEM;
	}
	h->fd = h->lockfd = -1;
	h->p = *p;
	h->writable = (flags & (PK_HF_WRITE | PK_HF_CREATE)) != 0;
	h->any_repo = (flags & PK_HF_ANY_REPO) && !h->writable;
	h->memory = (flags & PK_HF_MEMORY) && (flags & PK_HF_CREATE);
	h->nosync = (flags & PK_HF_NOSYNC) != 0;
	if ((e = pk_path(h->file, sizeof h->file, "%s", path)) < 0)
		goto fail;
	if (flags & PK_HF_CREATE) {
		/* Built aside under a name of its own, so that readers of the
		 * old file never see a partial one and two builders never
		 * write into one file; no lock is needed until the rename. */
		uint64_t cap = MIN_CAPACITY;

		if (p->expect > (MIN_CAPACITY / 4) * 3)
			cap = p->expect / 2 * 3 + 2;
		if ((e = pk_path(h->file, sizeof h->file, "%s.tmp-XXXXXX",
		    path)) < 0 || (e = map_new(h, h->file, cap)) < 0)
			goto fail;
		*hp = h;
		return 0;
	}
	if (h->writable && (e = lock(h)) < 0)
		goto fail;
	h->fd = open(path, (h->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (h->fd < 0) {
		e = errno == ENOENT ? -ENOENT :
		    pk_err(-errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(h->fd, &st) < 0) {
		e = pk_err(-errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((uint64_t)st.st_size < PK_HASHFILE_HEADER_BYTES) {
		e = pk_err(-ESTALE, "%s: truncated", path);
		goto fail;
	}
	h->maplen = (size_t)st.st_size;
	h->map = mmap(NULL, h->maplen, PROT_READ | (h->writable ? PROT_WRITE : 0),
	    MAP_SHARED, h->fd, 0);
	if (h->map == MAP_FAILED) {
		h->map = NULL;
		e = pk_err(-errno, "%s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	if ((e = header_check(h, (uint64_t)st.st_size)) < 0)
		goto fail;
	if (h->writable) {
		/* From here until close, a crash leaves the file marked torn. */
		header_write(h, 1);
		if (msync(h->map, PK_HASHFILE_HEADER_BYTES, MS_SYNC) < 0) {
			e = pk_err(-errno, "%s: msync: %s", path, strerror(errno));
			goto fail;
		}
	}
	*hp = h;
	return 0;
fail:
	release(h);
	return e;
}

int
pk_hashfile_unwritable(int e)
{
	return e == -EROFS || e == -EACCES || e == -EPERM || e == -ENOSPC ||
	    e == -EDQUOT;
}

int
pk_hashfile_may_replace(const char *path, uint32_t kind, const char *what)
{
	uint8_t h[H_END];
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 :
		    pk_err(-errno, "%s: %s", path, strerror(errno));
	n = fstat(fd, &st) < 0 ? -1 : st.st_size == 0 ? 0 : read(fd, h, sizeof h);
	close(fd);
	/* Empty, or one of ours, even cut short before its kind. */
	if (n == 0 || (n > 0 && memcmp(h, MAGIC, n < 8 ? (size_t)n : 8) == 0 &&
	    (n < H_KIND + 4 || pk_load_u32(h + H_KIND) == kind)))
		return 0;
	return pk_err(-EEXIST, "%s: exists and is not a %s (remove it first)",
	    path, what);
}

const void *
pk_hashfile_find(const struct pk_hashfile *h, const uint8_t *key)
{
	uint64_t i = home(h, key), n;
	const uint8_t *s;

	touched(h);
	/* Bounded: a damaged file with no empty slot must not loop. */
	for (n = 0; n < h->capacity; n++) {
		s = slot_at(h, i);
		/* Empty first: an all-zero key, which marks an empty slot,
		 * must not match one. */
		if (is_empty(h, s))
			return NULL;
		if (memcmp(s, key, h->p.key_bytes) == 0)
			return s;
		i = next_slot(h, i);
	}
	return NULL;
}

/* Places a slot known to be absent; the key goes in last (see header).
 * -ESTALE when there is no empty slot: the count lied, the file is
 * damaged. */
static int
place(struct pk_hashfile *h, const uint8_t *slot)
{
	uint64_t i = home(h, slot), n = 0;
	uint8_t *s;

	touched(h);
	while (!is_empty(h, s = slot_at(h, i))) {
		if (++n == h->capacity)
			return pk_err(-ESTALE, "%s: full, but its count says not "
			    "(damaged)", h->path);
		i = next_slot(h, i);
	}
	memcpy(s + h->p.key_bytes, slot + h->p.key_bytes,
	    h->p.slot_bytes - h->p.key_bytes);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(s, slot, h->p.key_bytes);
	h->count++;
	return 0;
}

static int
grow(struct pk_hashfile *h, uint64_t capacity)
{
	struct pk_hashfile old = *h;
	char tmp[4200];
	uint64_t i, dropped = 0;
	int e;

	if ((e = pk_path(tmp, sizeof tmp, "%s.new-XXXXXX", old.file)) < 0)
		return e;
	if ((e = map_new(h, tmp, capacity)) < 0) {
		*h = old;
		return e;
	}
	/* The old file is read once, in order: only the new one need be
	 * resident, not both (lookups left all of the old one so). */
	pk_drop_pages(old.map, old.maplen);
	advise(&old, old.map, old.maplen, MADV_SEQUENTIAL);
	for (i = 0, e = 0; i < old.capacity && e == 0; i++) {
		if (!is_empty(&old, slot_at(&old, i)))
			e = place(h, slot_at(&old, i));
		pk_drop_behind(old.map, &dropped, (uint64_t)(slot_at(&old, i) -
		    old.map));
	}
	if (e < 0) {
		munmap(h->map, h->maplen);
		close(h->fd);
		unlink(tmp);
		*h = old;
		return e;
	}
	/* The new file replaces the old one marked dirty, like any file open
	 * for writing: until close syncs it and marks it clean, a crash leaves
	 * a file that readers refuse, so it need not reach the disk now. */
	if (!h->memory && rename(tmp, old.file) < 0) {
		e = pk_err(-errno, "%s: %s", tmp, strerror(errno));
		munmap(h->map, h->maplen);
		close(h->fd);
		unlink(tmp);
		*h = old;
		return e;
	}
	munmap(old.map, old.maplen);
	close(old.fd);
	return 0;
}

int
pk_hashfile_reserve(struct pk_hashfile *h, uint64_t n)
{
	uint64_t want = h->count + n, cap = h->capacity;
	int e;

	if (!h->writable)
		return -EBADF;
	if (want * 4 <= cap * 3)
		return 0;
	while (want * 4 > cap * 3)
		cap = cap / 2 * 3;
	if ((e = grow(h, cap)) < 0)
		return h->err = e;
	return 0;
}

int
pk_hashfile_insert(struct pk_hashfile *h, const void *slot)
{
	int e;

	if (!h->writable)
		return -EBADF;
	if (is_empty(h, slot))
		return -EINVAL;
	if (pk_hashfile_find(h, slot) != NULL)
		return 1;
	/* Keep the load at most 3/4 so that probes stay short; grow by half,
	 * so that it stays at least 1/2 (doubling would let it fall to 3/8,
	 * and a table is mapped whole). */
	if ((h->count + 1) * 4 > h->capacity * 3 &&
	    (e = grow(h, h->capacity / 2 * 3)) < 0)
		return h->err = e;
	if ((e = place(h, slot)) < 0)
		return h->err = e;
	return 0;
}

int
pk_hashfile_replace(struct pk_hashfile *h, const void *slot)
{
	void *s;

	if (!h->writable)
		return -EBADF;
	if ((s = (void *)pk_hashfile_find(h, slot)) == NULL)
		return -ENOENT;
	memcpy(s, slot, h->p.slot_bytes);
	return 0;
}

uint64_t pk_hashfile_count(const struct pk_hashfile *h) { return h->count; }
uint64_t pk_hashfile_capacity(const struct pk_hashfile *h) { return h->capacity; }

int
pk_hashfile_foreach(const struct pk_hashfile *h,
    int (*fn)(void *arg, const void *slot), void *arg)
{
	uint64_t i, dropped = 0;
	int r;

	/* A pass in order: its pages are let go of behind it (and before
	 * it, as lookups may have left all of them). */
	pk_drop_pages(h->map, h->maplen);
	advise(h, h->map, h->maplen, MADV_SEQUENTIAL);
	for (i = 0, r = 0; i < h->capacity && r == 0; i++) {
		const uint8_t *s = slot_at(h, i);

		if (!is_empty(h, s))
			r = fn(arg, s);
		pk_drop_behind(h->map, &dropped, (uint64_t)(s - h->map));
	}
	advise(h, h->map, h->maplen, MADV_RANDOM);
	return r;
}

int
pk_hashfile_close(struct pk_hashfile *h)
{
	int e = 0;

	if (h == NULL)
		return 0;
	if (h->writable && h->err == 0 && !h->memory && h->nosync) {
		header_write(h, 0);
	} else if (h->writable && h->err == 0 && !h->memory) {
		/* Slots reach the disk before the header says clean. */
		if (msync(h->map, h->maplen, MS_SYNC) < 0)
			e = pk_err(-errno, "%s: msync: %s", h->path, strerror(errno));
		if (e == 0) {
			header_write(h, 0);
			if (msync(h->map, PK_HASHFILE_HEADER_BYTES, MS_SYNC) < 0)
				e = pk_err(-errno, "%s: msync: %s", h->path,
				    strerror(errno));
		}
	}
	if (e == 0 && h->err)
		e = h->err;
	if (h->writable && !h->memory && strcmp(h->file, h->path) != 0) {
		if (e == 0 && ((!h->nosync && fsync(h->fd) < 0) ||
		    rename(h->file, h->path) < 0))
			e = pk_err(-errno, "%s: %s", h->path, strerror(errno));
		if (e < 0)
			unlink(h->file);
	}
	release(h);
	return e;
}

void
pk_hashfile_abort(struct pk_hashfile *h)
{
	if (h == NULL)
		return;
	if (!h->memory && strcmp(h->file, h->path) != 0)
		unlink(h->file);
	release(h);
}

uint32_t
pk_hashfile_aux(const struct pk_hashfile *h)
{
	return h->aux;
}

void
pk_hashfile_set_aux(struct pk_hashfile *h, uint32_t v)
{
	h->aux = v;
}
