#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <xxhash.h>

#include "catalog.h"
#include "err.h"
#include "hashfile.h"
#include "io.h"
#include "record.h"
#include "statcache.h"

#define LISTS_MAGIC	"PKSCLIST"
#define LISTS_HEADER	16
#define KEY_BYTES	16
#define SLOT_BYTES	64
#define ITEM_BYTES	40		/* id[32] (zeros: a hole), u64 length */
#define LIST_FIXED	64		/* key, ino, dev, size, mtime, ctime, mode, n */
#define MAX_ITEMS	(1u << 24)
/* In a list's mode field: the file had extended attributes.  Without it a
 * hit needs no xattr system call (a change to them changes the ctime). */
#define LIST_XATTRS	0x80000000u

/* Slot: key[16], ino, dev, size, mtime_ns, ctime_ns (u64 each), the list's
 * offset in 8-byte units (u32), mode (u32). */

struct pk_statcache {
	struct pk_hashfile *hf;
	uint8_t *lists;
	size_t listlen;
};

struct pk_statcache_builder {
	struct pk_hashfile *hf;
	char path[4096], lists_tmp[4200];
	int fd;
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

void
pk_statinfo_from_entry(struct pk_statinfo *st, const struct pk_entry *e)
{
	st->dev = e->dev;
	st->ino = e->ino;
	st->size = e->size;
	st->mtime_ns = e->mtime_sec * 1000000000 + e->mtime_nsec;
	st->ctime_ns = e->ctime_sec * 1000000000 + e->ctime_nsec;
	st->mode = S_IFREG | e->mode;
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

int
pk_statcache_open(struct pk_statcache **cp, const char *path,
    const uint8_t *repo_id)
{
	struct pk_hashfile_params p;
	struct pk_statcache *c;
	char lp[4200];
	struct stat st;
	int fd, e;

	*cp = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -ENOMEM;
	params(&p, repo_id, 0);
	e = pk_hashfile_open(&c->hf, path, &p, repo_id ? 0 : PK_HF_ANY_REPO);
	if (e < 0) {
		free(c);
		return e;
	}
	snprintf(lp, sizeof lp, "%s.lists", path);
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

int
pk_statcache_lookup(struct pk_statcache *c, const uint8_t *path, size_t len,
    const struct pk_statinfo *st, struct pk_buf *out)
{
	static const uint8_t zero[PK_ID_BYTES];
	uint8_t key[KEY_BYTES], want[40];
	const uint8_t *slot, *rec, *item;
	uint64_t off, n, i, size = 0;
	uint8_t ref[PK_ID_BYTES + 4];
	int e;

	pk_buf_reset(out);
	path_key(key, path, len);
	if ((slot = pk_hashfile_find(c->hf, key)) == NULL)
		return 0;
	put_stat(want, st);
	if (memcmp(slot + 16, want, 40) != 0 || pk_load_u32(slot + 60) != st->mode)
		return 0;
	off = (uint64_t)pk_load_u32(slot + 56) * 8;
	if (off < LISTS_HEADER || c->listlen < LIST_FIXED + 8 ||
	    off > c->listlen - LIST_FIXED - 8)
		return 0;
	rec = c->lists + off;
	n = pk_load_u32(rec + 60);
	if (n > MAX_ITEMS || LIST_FIXED + n * ITEM_BYTES + 8 > c->listlen - off)
		return 0;
	/* The list must be this file's, whole: key, stat, checksum. */
	if (memcmp(rec, key, KEY_BYTES) != 0 || memcmp(rec + 16, want, 40) != 0 ||
	    (pk_load_u32(rec + 56) & ~LIST_XATTRS) != st->mode ||
	    pk_load_u64(rec + LIST_FIXED + n * ITEM_BYTES) !=
	    XXH3_64bits(rec, LIST_FIXED + n * ITEM_BYTES))
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
	struct pk_hashfile_params p;
	uint8_t h[LISTS_HEADER] = { 0 };
	int e;

	*bp = NULL;
	if ((b = calloc(1, sizeof *b)) == NULL)
		return -ENOMEM;
	snprintf(b->path, sizeof b->path, "%s", path);
	snprintf(b->lists_tmp, sizeof b->lists_tmp, "%s.lists.tmp", path);
	b->not_before = not_before_sec - 1;
	b->fd = open(b->lists_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (b->fd < 0) {
		e = pk_err(-errno, "%s: %s", b->lists_tmp, strerror(errno));
		free(b);
		return e;
	}
	params(&p, repo_id, generation);
	if ((e = pk_hashfile_open(&b->hf, path, &p, PK_HF_CREATE)) < 0) {
		close(b->fd);
		unlink(b->lists_tmp);
		free(b);
		return e;
	}
	memcpy(h, LISTS_MAGIC, 8);
	pk_buf_add(&b->out, h, sizeof h);
	b->off = LISTS_HEADER;
	*bp = b;
	return 0;
}

static int
flush(struct pk_statcache_builder *b)
{
	int e = pk_write_all(b->fd, b->out.data, b->out.len);

	pk_buf_reset(&b->out);
	return e < 0 ? pk_err(e, "%s: write: %s", b->lists_tmp, strerror(-e)) : 0;
}

int
pk_statcache_build_file(struct pk_statcache_builder *b,
    const struct pk_entry *e, const uint8_t *content, size_t len,
    uint32_t eof_flags)
{
	uint8_t slot[SLOT_BYTES], item[ITEM_BYTES], fixed[LIST_FIXED];
	struct pk_statinfo st;
	struct pk_record rec = { 0 };
	struct pk_cursor c;
	const uint8_t *id;
	uint64_t n = 0, hole;
	uint32_t rlen;
	size_t start, l;
	int r;

	if (e->type != PK_FT_REG || e->size == PK_SIZE_UNKNOWN ||
	    (eof_flags & PK_EOF_CHANGED) || e->mtime_sec >= b->not_before ||
	    e->ctime_sec >= b->not_before || b->off / 8 > UINT32_MAX - 1)
		return 0;
	pk_statinfo_from_entry(&st, e);
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
	start = b->rec.len;
	if ((r = pk_buf_add_u64(&b->rec, XXH3_64bits(b->rec.data, start))) < 0)
		return r;
	memcpy(slot, fixed, 16);
	put_stat(slot + 16, &st);
	pk_put_u32(slot + 56, (uint32_t)(b->off / 8));
	pk_put_u32(slot + 60, st.mode);
	/* The same path twice (two walks of one tree): the first one wins. */
	if ((r = pk_hashfile_insert(b->hf, slot)) != 0)
		return r < 0 ? r : 0;
	if ((r = pk_buf_add(&b->out, b->rec.data, b->rec.len)) < 0)
		return r;
	b->off += b->rec.len;
	if (b->out.len >= (1u << 20))
		return flush(b);
	return 0;
}

int
pk_statcache_build_commit(struct pk_statcache_builder *b)
{
	char lists[4200];
	int e;

	snprintf(lists, sizeof lists, "%s.lists", b->path);
	e = flush(b);
	if (e == 0 && fsync(b->fd) < 0)
		e = pk_err(-errno, "%s: fsync: %s", b->lists_tmp, strerror(errno));
	close(b->fd);
	b->fd = -1;
	/* Lists first: a crash between the renames leaves old slots over new
	 * lists, which the lists' own checks refuse. */
	if (e == 0 && rename(b->lists_tmp, lists) < 0)
		e = pk_err(-errno, "%s: %s", lists, strerror(errno));
	if (e < 0) {
		pk_statcache_build_abort(b);
		return e;
	}
	e = pk_hashfile_close(b->hf);
	b->hf = NULL;
	pk_buf_release(&b->out);
	pk_buf_release(&b->rec);
	free(b);
	return e;
}

void
pk_statcache_build_abort(struct pk_statcache_builder *b)
{
	char tmp[4200];

	if (b == NULL)
		return;
	if (b->fd >= 0)
		close(b->fd);
	unlink(b->lists_tmp);
	if (b->hf) {
		/* Never renamed into place: a failed build leaves it aside. */
		pk_hashfile_abort(b->hf);
		snprintf(tmp, sizeof tmp, "%s.tmp", b->path);
		unlink(tmp);
	}
	pk_buf_release(&b->out);
	pk_buf_release(&b->rec);
	free(b);
}

int
pk_statcache_export(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const char *path)
{
	struct pk_buf ent = PK_BUF_INIT, xbuf = PK_BUF_INIT, content = PK_BUF_INIT;
	struct pk_statcache_builder *b;
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_entry e;
	uint64_t size;
	uint32_t flags;
	int n, err = 0, infile = 0;

	if ((n = pk_catalog_open(&cat, r, ix, snap, &h)) < 0)
		return n;
	if ((n = pk_statcache_build_begin(&b, path, r->id, r->generation,
	    snap->start_sec)) < 0) {
		pk_catalog_close(cat);
		return n;
	}
	while (err == 0 && (n = pk_catalog_next(cat, &rec)) > 0) {
		switch (rec.type) {
		case PK_REC_ENTRY:
			pk_buf_reset(&ent);
			pk_buf_reset(&content);
			err = pk_buf_add(&ent, rec.data, rec.len);
			if (err == 0)
				err = pk_entry_decode(&e, ent.data, ent.len, &xbuf);
			infile = err == 0 && e.type == PK_FT_REG;
			break;
		case PK_REC_REF:
		case PK_REC_HOLE:
			if ((err = pk_buf_add_u8(&content, rec.type)) == 0)
				err = pk_buf_add_str(&content, rec.data, rec.len);
			break;
		case PK_REC_EOF:
			if (infile && pk_record_eof(&rec, &size, &flags) == 0)
				err = pk_statcache_build_file(b, &e, content.data,
				    content.len, flags);
			infile = 0;
			break;
		}
	}
	if (n < 0)
		err = n;
	pk_catalog_close(cat);
	pk_buf_release(&ent);
	pk_buf_release(&xbuf);
	pk_buf_release(&content);
	if (err < 0) {
		pk_statcache_build_abort(b);
		return err;
	}
	return pk_statcache_build_commit(b);
}
