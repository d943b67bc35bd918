/* diff.c: what changed between two snapshots, catalog against catalog. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "buf.h"
#include "catalog.h"
#include "diff.h"
#include "err.h"

#define DIGEST_BYTES	16

/*
 * The content digests of a side's regular files with more than one link,
 * by path, so that a hard link is compared by the content of the file it
 * names, found earlier in walk order: a file that only changed from being
 * the first name of its inode to being another (or back) has not changed.
 * Open addressing on a hash of the path; paths in names.
 */
struct linked {
	uint64_t hash;		/* 0: empty */
	size_t off, len;	/* the path in names */
	uint8_t digest[DIGEST_BYTES];
};

struct links {
	struct linked *v;
	size_t n, cap;		/* cap a power of 2, or 0 */
	struct pk_buf names;
};

/*
 * One side of the comparison: its catalog and the group it holds, an
 * ENTRY with the records that follow it (content, and an ERROR of the
 * same path), or an ERROR alone (a file that could not be read).  A group
 * ends at the next ENTRY or lone ERROR, which is kept as pending, or, when
 * the catalog says the next record is the first ENTRY of a chunk, without
 * reading it, so that the chunk may still be skipped.
 */
struct side {
	const struct pk_snapshot *snap;
	struct pk_catalog *cat;
	int loaded, ended;
	int lone_error;			/* the group is an ERROR alone */
	struct pk_buf rec;		/* the group's first record's payload */
	struct pk_buf xbuf, errbuf;
	struct pk_entry e;
	const uint8_t *path, *err;	/* err: the group's ERROR message */
	size_t pathlen, errlen;
	uint8_t digest[DIGEST_BYTES];	/* of its REF and HOLE records */
	int pending;			/* a record read for the next group */
	uint8_t pending_type;
	struct pk_buf pend;
	struct links links;
};

static uint64_t
path_hash(const uint8_t *p, size_t n)
{
	uint64_t h[2];

	crypto_generichash((uint8_t *)h, sizeof h, p, n, NULL, 0);
	return h[0] ? h[0] : 1;
}

static struct linked *
links_slot(const struct links *l, const uint8_t *p, size_t n, uint64_t h)
{
	struct linked *s;
	size_t i;

	for (i = h & (l->cap - 1);; i = (i + 1) & (l->cap - 1)) {
		s = &l->v[i];
		if (s->hash == 0 || (s->hash == h && s->len == n &&
		    memcmp(l->names.data + s->off, p, n) == 0))
			return s;
	}
}

static int
links_add(struct links *l, const uint8_t *p, size_t n,
    const uint8_t digest[DIGEST_BYTES])
{
	struct links g = { NULL, 0, 0, PK_BUF_INIT };
	struct linked *s;
	uint64_t h = path_hash(p, n);
	size_t i;

	if (2 * (l->n + 1) > l->cap) {
		g.cap = l->cap ? 2 * l->cap : 64;
		if ((g.v = calloc(g.cap, sizeof *g.v)) == NULL)
			return -ENOMEM;
		g.names = l->names;
		for (i = 0; i < l->cap; i++)
			if (l->v[i].hash)
				*links_slot(&g, l->names.data + l->v[i].off,
				    l->v[i].len, l->v[i].hash) = l->v[i];
		free(l->v);
		l->v = g.v;
		l->cap = g.cap;
	}
	s = links_slot(l, p, n, h);
	if (s->hash == 0) {
		s->hash = h;
		s->off = l->names.len;
		s->len = n;
		if (pk_buf_add(&l->names, p, n) < 0) {
			s->hash = 0;
			return -ENOMEM;
		}
		l->n++;
	}
	memcpy(s->digest, digest, DIGEST_BYTES);
	return 0;
}

/* The digest of the file a hard link names; zeros when it is not known
 * (an older walk that did not follow the rule of pk-stream(5)). */
static void
links_find(const struct links *l, const struct pk_str *path,
    uint8_t digest[DIGEST_BYTES])
{
	const struct linked *s;

	memset(digest, 0, DIGEST_BYTES);
	if (l->cap == 0)
		return;
	s = links_slot(l, path->p, path->len, path_hash(path->p, path->len));
	if (s->hash)
		memcpy(digest, s->digest, DIGEST_BYTES);
}

static int
side_open(struct side *s, struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap)
{
	struct pk_stream_header h;

	memset(s, 0, sizeof *s);
	s->snap = snap;
	s->rec = s->xbuf = s->errbuf = s->pend = (struct pk_buf)PK_BUF_INIT;
	s->links.names = (struct pk_buf)PK_BUF_INIT;
	return pk_catalog_open(&s->cat, r, ix, snap, &h);
}

static void
side_close(struct side *s)
{
	pk_catalog_close(s->cat);
	pk_buf_release(&s->rec);
	pk_buf_release(&s->xbuf);
	pk_buf_release(&s->errbuf);
	pk_buf_release(&s->pend);
	free(s->links.v);
	pk_buf_release(&s->links.names);
}

static int
copy(struct pk_buf *b, const uint8_t *p, size_t n)
{
	pk_buf_reset(b);
	return pk_buf_add(b, p, n);
}

/* The ERROR record's path and message; -EBADMSG when it has none. */
static int
error_of(const uint8_t *p, size_t n, const uint8_t **path, size_t *plen,
    const uint8_t **msg, size_t *mlen)
{
	struct pk_record rec = { .type = PK_REC_ERROR, .len = (uint32_t)n,
	    .data = p };
	int errnum;

	return pk_record_error(&rec, &errnum, path, plen, msg, mlen);
}

/* The next record: the pending one, or the catalog's.  1, 0 at the end,
 * or <0.  *type and a copy of the payload in b. */
static int
next_record(struct side *s, uint8_t *type, struct pk_buf *b)
{
	struct pk_record rec;
	int n;

	if (s->pending) {
		s->pending = 0;
		*type = s->pending_type;
		return copy(b, s->pend.data, s->pend.len) < 0 ? -ENOMEM : 1;
	}
	if ((n = pk_catalog_next(s->cat, &rec)) <= 0)
		return n;
	*type = rec.type;
	return copy(b, rec.data, rec.len) < 0 ? -ENOMEM : 1;
}

/* The records after the group's ENTRY, up to the next group. */
static int
load_rest(struct side *s)
{
	crypto_generichash_state h;
	const uint8_t *path, *msg;
	struct pk_record rec;
	size_t plen, mlen;
	uint32_t k;
	int n;

	crypto_generichash_init(&h, NULL, 0, DIGEST_BYTES);
	for (;;) {
		if (pk_catalog_chunk_entry(s->cat, &k))
			break;
		if ((n = pk_catalog_next(s->cat, &rec)) < 0)
			return n;
		if (n == 0) {
			s->ended = 1;
			break;
		}
		if (rec.type == PK_REC_REF || rec.type == PK_REC_HOLE) {
			crypto_generichash_update(&h, &rec.type, 1);
			crypto_generichash_update(&h, rec.data, rec.len);
			continue;
		}
		if (rec.type == PK_REC_ERROR && error_of(rec.data, rec.len,
		    &path, &plen, &msg, &mlen) == 0 && s->err == NULL &&
		    pk_path_cmp(path, plen, s->path, s->pathlen) == 0) {
			if (copy(&s->errbuf, msg, mlen) < 0)
				return -ENOMEM;
			s->err = s->errbuf.data;
			s->errlen = mlen;
			continue;
		}
		if (rec.type == PK_REC_ENTRY || rec.type == PK_REC_ERROR) {
			s->pending = 1;
			s->pending_type = rec.type;
			if (copy(&s->pend, rec.data, rec.len) < 0)
				return -ENOMEM;
			break;
		}
	}
	crypto_generichash_final(&h, s->digest, DIGEST_BYTES);
	return 0;
}

/* Reads the side's next group; sets s->ended at the END. */
static int
load(struct side *s)
{
	const uint8_t *msg;
	uint8_t type;
	size_t mlen;
	int n;

	s->err = NULL;
	s->lone_error = 0;
	for (;;) {
		if ((n = next_record(s, &type, &s->rec)) < 0)
			return n;
		if (n == 0) {
			s->ended = 1;
			return 0;
		}
		if (type == PK_REC_ERROR) {
			if (error_of(s->rec.data, s->rec.len, &s->path,
			    &s->pathlen, &msg, &mlen) < 0)
				continue;
			s->err = msg;
			s->errlen = mlen;
			s->lone_error = 1;
			s->loaded = 1;
			return 0;
		}
		if (type == PK_REC_ENTRY)
			break;
	}
	if ((n = pk_entry_decode(&s->e, s->rec.data, s->rec.len, &s->xbuf)) < 0)
		return n;
	s->path = s->e.path.p;
	s->pathlen = s->e.path.len;
	s->loaded = 1;
	if ((n = load_rest(s)) < 0)
		return n;
	if (s->e.type == PK_FT_HARDLINK)
		links_find(&s->links, &s->e.link, s->digest);
	if (s->e.type == PK_FT_REG && s->e.nlink > 1)
		return links_add(&s->links, s->path, s->pathlen, s->digest);
	return 0;
}

static int
same_str(const struct pk_str *a, const struct pk_str *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static int
same_xattrs(const struct pk_entry *a, const struct pk_entry *b)
{
	uint32_t i;

	if (a->nxattrs != b->nxattrs)
		return 0;
	for (i = 0; i < a->nxattrs; i++)
		if (!same_str(&a->xattrs[i].name, &b->xattrs[i].name) ||
		    !same_str(&a->xattrs[i].value, &b->xattrs[i].value))
			return 0;
	return 1;
}

static unsigned
metadata_diff(const struct pk_entry *a, const struct pk_entry *b)
{
	unsigned what = 0;

	if (a->mode != b->mode)
		what |= PK_DIFF_MODE;
	if (a->uid != b->uid || a->gid != b->gid ||
	    !same_str(&a->uname, &b->uname) || !same_str(&a->gname, &b->gname))
		what |= PK_DIFF_OWNER;
	if (a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec)
		what |= PK_DIFF_MTIME;
	if (!same_xattrs(a, b))
		what |= PK_DIFF_XATTRS;
	if (a->type == PK_FT_SYMLINK && !same_str(&a->link, &b->link))
		what |= PK_DIFF_TARGET;
	if (a->rdev_major != b->rdev_major || a->rdev_minor != b->rdev_minor)
		what |= PK_DIFF_DEVICE;
	return what;
}

/* A regular file or another name of one. */
static int
is_file(const struct pk_entry *e)
{
	return e->type == PK_FT_REG || e->type == PK_FT_HARDLINK;
}

/* The change from a to b, both of the same path; kind 0 when none. */
static void
compare(const struct side *a, const struct side *b, struct pk_diff_change *c)
{
	memset(c, 0, sizeof *c);
	c->path = b->path;
	c->pathlen = b->pathlen;
	c->old = a->lone_error ? NULL : &a->e;
	c->new = b->lone_error ? NULL : &b->e;
	if (a->err || b->err) {
		if (a->err && b->err && a->lone_error == b->lone_error)
			return;		/* unreadable in both */
		c->kind = PK_DIFF_ERROR;
		c->error = b->err ? b->err : a->err;
		c->errorlen = b->err ? b->errlen : a->errlen;
		return;
	}
	if (a->e.type != b->e.type && !(is_file(&a->e) && is_file(&b->e))) {
		c->kind = PK_DIFF_TYPE;
		return;
	}
	c->what = metadata_diff(&a->e, &b->e);
	if (a->e.type != b->e.type || (a->e.type == PK_FT_HARDLINK &&
	    !same_str(&a->e.link, &b->e.link)))
		c->what |= PK_DIFF_LINK;
	if (is_file(&a->e) && memcmp(a->digest, b->digest, DIGEST_BYTES) != 0)
		c->kind = PK_DIFF_CONTENT;
	else if (c->what)
		c->kind = PK_DIFF_METADATA;
}

/* One side's group alone: kind, or 0 for an unreadable file only there. */
static void
alone(const struct side *s, enum pk_diff_kind kind, struct pk_diff_change *c)
{
	memset(c, 0, sizeof *c);
	if (s->lone_error)
		return;
	c->kind = kind;
	c->path = s->path;
	c->pathlen = s->pathlen;
	if (kind == PK_DIFF_ADDED)
		c->new = &s->e;
	else
		c->old = &s->e;
}

/*
 * With neither side holding a group, and both at the first ENTRY of a
 * catalog chunk: when the two chunks are the same and so are the ones
 * after them, the entries that start in the first lie in bytes both
 * catalogs share, from the same offset on: skip them unread.
 */
static int
skip_shared(struct side *a, struct side *b, uint64_t *skipped)
{
	const struct pk_catalog_chunk *ca, *cb;
	uint32_t i, j;
	int e;

	while (!a->pending && !b->pending &&
	    pk_catalog_chunk_entry(a->cat, &i) &&
	    pk_catalog_chunk_entry(b->cat, &j) &&
	    i + 1 < a->snap->ncatalog && j + 1 < b->snap->ncatalog) {
		ca = &a->snap->catalog[i];
		cb = &b->snap->catalog[j];
		if (memcmp(ca->id, cb->id, PK_ID_BYTES) != 0 ||
		    ca->entry != cb->entry ||
		    memcmp(ca[1].id, cb[1].id, PK_ID_BYTES) != 0 ||
		    ca[1].entry != cb[1].entry ||
		    ca[1].entry == PK_CATALOG_NO_ENTRY)
			break;
		if ((e = pk_catalog_skip_chunk(a->cat)) < 0 ||
		    (e = pk_catalog_skip_chunk(b->cat)) < 0)
			return e;
		*skipped += 2;
	}
	return 0;
}

int
pk_diff(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *sa, const struct pk_snapshot *sb,
    int (*fn)(void *arg, const struct pk_diff_change *c), void *arg,
    struct pk_diff_stats *stats)
{
	struct pk_diff_stats st = { 0, 0 };
	struct pk_diff_change c;
	struct side a, b;
	int e, cmp;

	if ((e = side_open(&a, r, ix, sa)) < 0)
		return e;
	if ((e = side_open(&b, r, ix, sb)) < 0) {
		side_close(&a);
		return e;
	}
	for (;;) {
		if (!a.loaded && !b.loaded &&
		    (e = skip_shared(&a, &b, &st.skipped)) < 0)
			break;
		if (!a.loaded && !a.ended && (e = load(&a)) < 0)
			break;
		if (!b.loaded && !b.ended && (e = load(&b)) < 0)
			break;
		if (!a.loaded && !b.loaded)
			break;
		cmp = !a.loaded ? 1 : !b.loaded ? -1 :
		    pk_path_cmp(a.path, a.pathlen, b.path, b.pathlen);
		if (cmp < 0)
			alone(&a, PK_DIFF_REMOVED, &c);
		else if (cmp > 0)
			alone(&b, PK_DIFF_ADDED, &c);
		else
			compare(&a, &b, &c);
		st.entries += (cmp <= 0) + (cmp >= 0);
		if (cmp <= 0)
			a.loaded = 0;
		if (cmp >= 0)
			b.loaded = 0;
		if (c.kind && (e = fn(arg, &c)) != 0)
			break;
	}
	side_close(&a);
	side_close(&b);
	if (stats)
		*stats = st;
	return e;
}
