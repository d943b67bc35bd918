#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "catalog.h"
#include "entry.h"
#include "err.h"
#include "fetch.h"
#include "hash.h"
#include "index.h"
#include "mount.h"
#include "packread.h"
#include "snapshot.h"
#include "workers.h"

/* A snapshot as mounted.  Once read it stays until the end, as a thread
 * may still use it after it left the repository. */
struct msnap {
	struct pk_snapshot s;
	char id[PK_SNAPSHOT_NAME_BYTES];
	char time[64];		/* its name under snapshots/ */
	struct msnap *next;	/* every one read */
};

struct link {
	struct link *prev, *next;
};

/* A list from least to most recently used. */
struct lru {
	struct link *lru, *mru;
};

/* An opened chunk of the cache; a failed one is taken out of the table
 * at once, its waiters holding it until they have its error. */
struct chunk {
	struct link l;		/* first: a struct link * is the chunk */
	uint8_t id[PK_ID_BYTES];
	uint32_t len;
	struct pk_buf data;
	int ready, err, hashed;
	char *msg;
	int refs;
	struct chunk *hnext;
};

/* A file of a directory listing. */
struct node {
	char *name, *link;	/* NUL-terminated; link: symlink target or
				 * the path a hard link names */
	size_t namelen, linklen;
	uint8_t type;
	uint32_t mode, uid, gid, nlink, rdev_major, rdev_minor;
	uint64_t size, stored;	/* content bytes, those not in holes */
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;
	uint32_t nxattrs;
	struct pk_xattr *xattrs;	/* their bytes are owned: see dir_free */
	int made;		/* no entry: an ancestor of entries */
};

/* A directory of a snapshot, decoded: its own entry (self) when it has
 * one and its children sorted by name. */
struct dir {
	struct link l;		/* first, as in struct chunk */
	struct msnap *snap;
	uint8_t *path;
	size_t pathlen, bytes;
	struct node self;
	int has_self;
	struct node *nodes;
	size_t n;
	int refs, hashed;
	struct dir *hnext;
};

struct reader {
	struct pk_blob_reader br;
	struct reader *next;
};

struct prefetch {
	uint8_t id[PK_ID_BYTES];
	uint32_t len;
};

#define HASH_SLOTS	4096
#define PREFETCH_MAX	256
/* Ahead of a reader going on in order: chunks and bytes. */
#define AHEAD_CHUNKS	8
#define AHEAD_BYTES	(8u << 20)

struct pk_mount {
	struct pk_repo *repo;
	struct pk_mount_options o;
	pthread_mutex_t lock;	/* chunks, dirs, readers, ix, prefetch */
	pthread_cond_t loaded;
	struct pk_index *ix;	/* the newest open; older ones in ixold */
	struct pk_index **ixold;
	size_t nixold;
	struct reader *readers;
	struct chunk *chunks[HASH_SLOTS];
	struct lru clru;
	size_t chunk_bytes;
	struct dir *dirs[HASH_SLOTS];
	struct lru dlru;
	size_t dir_bytes;
	struct pk_workers w;	/* prefetchers: they wait on w.work under
				 * lock, and stop is set under it too */
	struct prefetch pf[PREFETCH_MAX];
	size_t pfhead, pftail;
	int started;
	/* The snapshots: every one read (all), those listed now, by time,
	 * and the newest complete one. */
	pthread_rwlock_t snaps;
	pthread_mutex_t refreshing;
	struct msnap *all;
	struct msnap **list;
	size_t nlist;
	struct msnap *latest;
	struct timespec refreshed;
	int ixstale;		/* snapshots read, the chunk index not yet */
	int64_t newest_sec;
};

struct extent {
	uint64_t off, len;
	uint8_t id[PK_ID_BYTES];
	int hole;
};

struct pk_mount_file {
	struct msnap *snap;
	char *name;		/* the mount's path, for messages */
	uint64_t size;
	struct extent *ext;
	size_t n;
	pthread_mutex_t lock;
	uint64_t seq;		/* where the last read ended */
	size_t ahead;		/* extents up to here were fetched ahead */
	int warned;
};

static uint64_t
hash_bytes(uint64_t seed, const void *p, size_t n)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

/* ---- The cache of opened chunks. */

static size_t
chunk_slot(const uint8_t *id)
{
	uint32_t v;

	memcpy(&v, id, sizeof v);
	return v % HASH_SLOTS;
}

static void
lru_unlink(struct lru *l, struct link *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->lru = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->mru = c->prev;
	c->prev = c->next = NULL;
}

static void
lru_push(struct lru *l, struct link *c)
{
	c->prev = l->mru;
	c->next = NULL;
	if (l->mru)
		l->mru->next = c;
	else
		l->lru = c;
	l->mru = c;
}

static void
chunk_unhash(struct pk_mount *m, struct chunk *c)
{
	struct chunk **pp = &m->chunks[chunk_slot(c->id)];

	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	c->hashed = 0;
}

static void
chunk_free(struct chunk *c)
{
	pk_buf_release(&c->data);
	free(c->msg);
	free(c);
}

/* Drops the least recently used chunks no one holds, over the bound. */
static void
chunk_evict(struct pk_mount *m)
{
	struct chunk *c = (struct chunk *)m->clru.lru, *next;

	for (; c != NULL && m->chunk_bytes > m->o.cache_bytes; c = next) {
		next = (struct chunk *)c->l.next;
		if (c->refs > 0)
			continue;
		lru_unlink(&m->clru, &c->l);
		chunk_unhash(m, c);
		m->chunk_bytes -= c->len;
		chunk_free(c);
	}
}

static struct reader *
reader_take(struct pk_mount *m)
{
	struct reader *rd;

	pthread_mutex_lock(&m->lock);
	if ((rd = m->readers) != NULL)
		m->readers = rd->next;
	pthread_mutex_unlock(&m->lock);
	if (rd != NULL)
		return rd;
	if ((rd = calloc(1, sizeof *rd)) == NULL)
		return NULL;
	if (pk_blob_reader_init(&rd->br, m->repo) < 0) {
		free(rd);
		return NULL;
	}
	return rd;
}

static void
reader_give(struct pk_mount *m, struct reader *rd)
{
	pthread_mutex_lock(&m->lock);
	rd->next = m->readers;
	m->readers = rd;
	pthread_mutex_unlock(&m->lock);
}

/*
 * The chunk id, opened, held until chunk_put(): from the cache, or read
 * by this thread while others that want it wait.  0 or a negative errno
 * with the message recorded.
 */
static int
chunk_get(struct pk_mount *m, const uint8_t *id, uint32_t len,
    struct chunk **out)
{
	struct chunk *c;
	struct reader *rd;
	size_t slot = chunk_slot(id);
	int e;

	*out = NULL;
	pthread_mutex_lock(&m->lock);
	for (c = m->chunks[slot]; c != NULL; c = c->hnext)
		if (memcmp(c->id, id, PK_ID_BYTES) == 0 && c->len == len)
			break;
	if (c != NULL) {
		c->refs++;
		while (!c->ready)
			pthread_cond_wait(&m->loaded, &m->lock);
		if (c->err == 0) {
			lru_unlink(&m->clru, &c->l);
			lru_push(&m->clru, &c->l);
		}
		goto done;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		pthread_mutex_unlock(&m->lock);
		return -ENOMEM;
	}
	memcpy(c->id, id, PK_ID_BYTES);
	c->len = len;
	c->refs = 1;
	c->hashed = 1;
	c->hnext = m->chunks[slot];
	m->chunks[slot] = c;
	pthread_mutex_unlock(&m->lock);

	pk_err_clear();
	if ((rd = reader_take(m)) == NULL) {
		e = -ENOMEM;
	} else {
		struct pk_index *ix;

		pthread_mutex_lock(&m->lock);
		ix = m->ix;
		pthread_mutex_unlock(&m->lock);
		e = pk_chunk_fetch(m->repo, ix, &rd->br, id, len, &c->data);
		reader_give(m, rd);
	}
	if (e < 0)
		c->msg = strdup(pk_errmsg(e));

	pthread_mutex_lock(&m->lock);
	c->err = e;
	c->ready = 1;
	if (e < 0) {
		chunk_unhash(m, c);
	} else {
		lru_push(&m->clru, &c->l);
		m->chunk_bytes += len;
		chunk_evict(m);
	}
	pthread_cond_broadcast(&m->loaded);
done:
	e = c->err;
	if (e < 0) {
		pk_err(e, "%s", c->msg ? c->msg : strerror(-e));
		if (--c->refs == 0)
			chunk_free(c);
		c = NULL;
	}
	pthread_mutex_unlock(&m->lock);
	*out = c;
	return e;
}

static void
chunk_put(struct pk_mount *m, struct chunk *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	c->refs--;
	chunk_evict(m);
	pthread_mutex_unlock(&m->lock);
}

/* Whether the cache has the chunk or is reading it (lock held). */
static int
chunk_known(struct pk_mount *m, const uint8_t *id)
{
	struct chunk *c;

	for (c = m->chunks[chunk_slot(id)]; c != NULL; c = c->hnext)
		if (memcmp(c->id, id, PK_ID_BYTES) == 0)
			return 1;
	return 0;
}

static void *
prefetcher(void *arg)
{
	struct pk_mount *m = arg;
	struct prefetch p;
	struct chunk *c;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (m->pfhead == m->pftail && !m->w.stop)
			pthread_cond_wait(&m->w.work, &m->lock);
		if (m->w.stop)
			break;
		p = m->pf[m->pfhead++ % PREFETCH_MAX];
		if (chunk_known(m, p.id))
			continue;
		pthread_mutex_unlock(&m->lock);
		/* A failure is the reader's to report, when it gets there. */
		if (chunk_get(m, p.id, p.len, &c) == 0)
			chunk_put(m, c);
		pk_err_clear();
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Queues a chunk for the prefetchers, unless known or the queue is full. */
static void
prefetch(struct pk_mount *m, const struct extent *x)
{
	struct prefetch *p;

	pthread_mutex_lock(&m->lock);
	if (m->started && m->pftail - m->pfhead < PREFETCH_MAX &&
	    !chunk_known(m, x->id)) {
		p = &m->pf[m->pftail++ % PREFETCH_MAX];
		memcpy(p->id, x->id, PK_ID_BYTES);
		p->len = (uint32_t)x->len;
		pthread_cond_signal(&m->w.work);
	}
	pthread_mutex_unlock(&m->lock);
}

/* The catalog's chunks come through the cache too. */
static int
catalog_fetch(void *arg, const struct pk_catalog_chunk *cc, struct pk_buf *out)
{
	struct pk_mount *m = arg;
	struct chunk *c;
	int e;

	pk_buf_reset(out);
	if ((e = chunk_get(m, cc->id, cc->len, &c)) < 0)
		return e;
	e = pk_buf_add(out, c->data.data, c->data.len);
	chunk_put(m, c);
	return e;
}

/* ---- Directories of snapshots. */

static void
node_release(struct node *n)
{
	uint32_t i;

	free(n->name);
	free(n->link);
	for (i = 0; i < n->nxattrs; i++)
		free((void *)n->xattrs[i].name.p);
	free(n->xattrs);
}

static void
dir_free(struct dir *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		node_release(&d->nodes[i]);
	node_release(&d->self);
	free(d->nodes);
	free(d->path);
	free(d);
}

static char *
dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* Fills n from entry e, named by the n bytes at name; its strings are
 * copied (the xattrs' name and value in one block each). */
static int
node_set(struct node *n, const struct pk_entry *e, const uint8_t *name,
    size_t namelen, size_t *bytes)
{
	uint32_t i;

	memset(n, 0, sizeof *n);
	n->type = e->type;
	n->mode = e->mode;
	n->uid = e->uid;
	n->gid = e->gid;
	n->nlink = e->nlink ? e->nlink : 1;
	n->rdev_major = e->rdev_major;
	n->rdev_minor = e->rdev_minor;
	n->size = e->type == PK_FT_REG ? e->size : 0;
	n->stored = n->size;
	n->mtime_sec = e->mtime_sec;
	n->mtime_nsec = e->mtime_nsec;
	n->ctime_sec = e->ctime_sec;
	n->ctime_nsec = e->ctime_nsec;
	n->namelen = namelen;
	n->linklen = e->link.len;
	if ((n->name = dup_bytes(name, namelen)) == NULL ||
	    (n->link = dup_bytes(e->link.p, e->link.len)) == NULL)
		return -ENOMEM;
	*bytes += sizeof *n + namelen + e->link.len + 2;
	if (e->nxattrs == 0)
		return 0;
	if ((n->xattrs = calloc(e->nxattrs, sizeof *n->xattrs)) == NULL)
		return -ENOMEM;
	for (i = 0; i < e->nxattrs; i++) {
		const struct pk_xattr *x = &e->xattrs[i];
		uint8_t *p = malloc(x->name.len + 1 + x->value.len + 1);

		if (p == NULL)
			return -ENOMEM;
		memcpy(p, x->name.p, x->name.len);
		p[x->name.len] = '\0';
		memcpy(p + x->name.len + 1, x->value.p, x->value.len);
		n->xattrs[i].name.p = p;
		n->xattrs[i].name.len = x->name.len;
		n->xattrs[i].value.p = p + x->name.len + 1;
		n->xattrs[i].value.len = x->value.len;
		n->nxattrs++;
		*bytes += sizeof *x + x->name.len + x->value.len + 2;
	}
	return 0;
}

static int
node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int c = memcmp(x->name, y->name, n);

	return c ? c : (x->namelen > y->namelen) - (x->namelen < y->namelen);
}

static int
dir_add(struct dir *d, size_t *cap)
{
	if (d->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct node *p = realloc(d->nodes, ncap * sizeof *p);

		if (p == NULL)
			return -ENOMEM;
		d->nodes = p;
		*cap = ncap;
	}
	memset(&d->nodes[d->n++], 0, sizeof *d->nodes);
	return 0;
}

/* A directory no entry stands for, as tar makes it for what it holds. */
static void
node_made(struct pk_mount *m, struct node *n, const struct msnap *s)
{
	n->type = PK_FT_DIR;
	n->mode = 0755;
	n->uid = m->o.uid;
	n->gid = m->o.gid;
	n->nlink = 1;
	n->mtime_sec = n->ctime_sec = s->s.start_sec;
	n->mtime_nsec = n->ctime_nsec = s->s.start_nsec;
	n->made = 1;
}

/*
 * Reads directory path (len 0: the snapshot's root) of s from its
 * catalog: its entry and its children, passing over their subtrees by
 * the seek table.  An entry below a child that has none makes the child
 * a directory.
 */
static int
dir_read(struct pk_mount *m, struct msnap *s, const uint8_t *path, size_t len,
    struct dir *d)
{
	struct pk_buf xbuf = PK_BUF_INIT;
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_entry e;
	struct node *cur = NULL;	/* the file whose content comes */
	size_t cap = 0;
	int n, r = 0, seen = 0;
	uint64_t hole;

	if ((n = pk_catalog_open_fetch(&cat, &s->s, catalog_fetch, m, &h)) < 0)
		return n;
	if (len > 0 && (n = pk_catalog_select(cat, path, len)) < 0)
		goto out;
	while ((n = pk_catalog_next(cat, &rec)) > 0) {
		struct pk_str p;
		const uint8_t *rel, *slash;
		size_t rlen;

		if (rec.type == PK_REC_HOLE && cur != NULL &&
		    pk_record_hole(&rec, &hole) == 0) {
			cur->stored -= hole < cur->stored ? hole : cur->stored;
			continue;
		}
		if (rec.type != PK_REC_ENTRY)
			continue;
		cur = NULL;
		if (pk_entry_path(&p, rec.data, rec.len) < 0) {
			n = pk_err(-EBADMSG, "catalog: entry: truncated path");
			break;
		}
		if (len == 0) {
			rel = p.p;
			rlen = p.len;
			if (rlen == 1 && rel[0] == '.') {
				rlen = 0;	/* the root's own entry */
			}
		} else if (p.len == len && memcmp(p.p, path, len) == 0) {
			rel = p.p + len;
			rlen = 0;
		} else if (pk_path_under(p.p, p.len, path, len)) {
			rel = p.p + len + 1;
			rlen = p.len - len - 1;
		} else {
			if (seen)
				break;	/* a subtree's entries are together */
			continue;
		}
		seen = 1;
		slash = memchr(rel, '/', rlen);
		if (rlen > 0 && slash != NULL) {
			size_t clen = (size_t)(slash - rel);

			/* Below a child: made when it has no entry. */
			if (d->n == 0 || d->nodes[d->n - 1].namelen != clen ||
			    memcmp(d->nodes[d->n - 1].name, rel, clen) != 0) {
				if ((n = dir_add(d, &cap)) < 0)
					break;
				node_made(m, &d->nodes[d->n - 1], s);
				if ((d->nodes[d->n - 1].name = dup_bytes(rel,
				    clen)) == NULL) {
					n = -ENOMEM;
					break;
				}
				d->nodes[d->n - 1].namelen = clen;
				d->bytes += sizeof *d->nodes + clen;
			}
			pk_catalog_skip(cat, p.p, (size_t)(slash - p.p));
			continue;
		}
		if ((n = pk_entry_decode(&e, rec.data, rec.len, &xbuf)) < 0) {
			n = pk_err(n, "catalog: %s", pk_errmsg(n));
			break;
		}
		if (rlen == 0) {
			node_release(&d->self);
			if ((n = node_set(&d->self, &e, rel, 0, &d->bytes)) < 0)
				break;
			d->has_self = 1;
			continue;
		}
		if ((n = dir_add(d, &cap)) < 0 ||
		    (n = node_set(&d->nodes[d->n - 1], &e, rel, rlen,
		    &d->bytes)) < 0)
			break;
		if (e.type == PK_FT_REG)
			cur = &d->nodes[d->n - 1];
		else if (e.type == PK_FT_DIR)
			pk_catalog_skip(cat, p.p, p.len);
	}
	if (n < 0)
		r = n;
	else if (len > 0 && !seen)
		r = -ENOENT;
	if (r == 0 && d->n > 1) {
		size_t i, j;

		/* Entries come in walk order, which is name order here; a
		 * child listed twice (made, then its entry) keeps the entry. */
		qsort(d->nodes, d->n, sizeof *d->nodes, node_cmp);
		for (i = j = 0; i < d->n; i++) {
			if (j > 0 && node_cmp(&d->nodes[j - 1], &d->nodes[i]) == 0) {
				struct node *keep = &d->nodes[j - 1];

				if (keep->made) {
					node_release(keep);
					*keep = d->nodes[i];
				} else {
					node_release(&d->nodes[i]);
				}
				continue;
			}
			d->nodes[j++] = d->nodes[i];
		}
		d->n = j;
	}
out:
	pk_catalog_close(cat);
	pk_buf_release(&xbuf);
	return r ? r : n < 0 ? n : 0;
}


static size_t
dir_slot(const struct msnap *s, const uint8_t *path, size_t len)
{
	return hash_bytes((uint64_t)(uintptr_t)s, path, len) % HASH_SLOTS;
}

/* Drops the least recently used directories no one holds, over the bound
 * (lock held). */
static void
dir_evict(struct pk_mount *m)
{
	struct dir *d = (struct dir *)m->dlru.lru, *next, **pp;

	for (; d != NULL && m->dir_bytes > PK_MOUNT_DIRS_BYTES; d = next) {
		next = (struct dir *)d->l.next;
		if (d->refs > 0)
			continue;
		lru_unlink(&m->dlru, &d->l);
		pp = &m->dirs[dir_slot(d->snap, d->path, d->pathlen)];
		while (*pp != d)
			pp = &(*pp)->hnext;
		*pp = d->hnext;
		m->dir_bytes -= d->bytes;
		dir_free(d);
	}
}

static void
dir_put(struct pk_mount *m, struct dir *d)
{
	pthread_mutex_lock(&m->lock);
	if (--d->refs == 0 && !d->hashed)
		dir_free(d);
	else
		dir_evict(m);
	pthread_mutex_unlock(&m->lock);
}

/* The cached directory path of s in its slot, held and made the most
 * recently used; NULL when not cached.  Lock held. */
static struct dir *
dir_hit(struct pk_mount *m, size_t slot, struct msnap *s, const uint8_t *path,
    size_t len)
{
	struct dir *d;

	for (d = m->dirs[slot]; d != NULL; d = d->hnext)
		if (d->snap == s && d->pathlen == len &&
		    memcmp(d->path, path, len) == 0)
			break;
	if (d != NULL) {
		d->refs++;
		lru_unlink(&m->dlru, &d->l);
		lru_push(&m->dlru, &d->l);
	}
	return d;
}

/* Directory path of s, held until dir_put(): cached, or read (two threads
 * may both read it; the first to finish is kept). */
static int
dir_get(struct pk_mount *m, struct msnap *s, const uint8_t *path, size_t len,
    struct dir **out)
{
	size_t slot = dir_slot(s, path, len);
	struct dir *d, *o;
	int e;

	pthread_mutex_lock(&m->lock);
	*out = dir_hit(m, slot, s, path, len);
	pthread_mutex_unlock(&m->lock);
	if (*out != NULL)
		return 0;

	if ((d = calloc(1, sizeof *d)) == NULL ||
	    (d->path = malloc(len ? len : 1)) == NULL) {
		free(d);
		return -ENOMEM;
	}
	memcpy(d->path, path, len);
	d->pathlen = len;
	d->snap = s;
	d->refs = 1;
	d->bytes = sizeof *d + len;
	if ((e = dir_read(m, s, path, len, d)) < 0) {
		dir_free(d);
		return e;
	}
	pthread_mutex_lock(&m->lock);
	if ((o = dir_hit(m, slot, s, path, len)) != NULL) {
		pthread_mutex_unlock(&m->lock);
		dir_free(d);
		*out = o;
		return 0;
	}
	d->hashed = 1;
	d->hnext = m->dirs[slot];
	m->dirs[slot] = d;
	lru_push(&m->dlru, &d->l);
	m->dir_bytes += d->bytes;
	dir_evict(m);
	pthread_mutex_unlock(&m->lock);
	*out = d;
	return 0;
}

static struct node *
dir_find(struct dir *d, const char *name, size_t len)
{
	struct node key = { .name = (char *)name, .namelen = len };

	return bsearch(&key, d->nodes, d->n, sizeof *d->nodes, node_cmp);
}

/* ---- The snapshots. */

static int
msnap_cmp(const void *a, const void *b)
{
	const struct msnap *x = *(struct msnap *const *)a;
	const struct msnap *y = *(struct msnap *const *)b;

	if (x->s.start_sec != y->s.start_sec)
		return x->s.start_sec < y->s.start_sec ? -1 : 1;
	if (x->s.start_nsec != y->s.start_nsec)
		return x->s.start_nsec < y->s.start_nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

struct names {
	char **v;
	size_t n, cap;
};

static int
add_name(void *arg, const char *name)
{
	struct names *ns = arg;

	if (strlen(name) != PK_SNAPSHOT_NAME_BYTES - 1)
		return 0;	/* not a snapshot: a temporary file */
	if (ns->n == ns->cap) {
		size_t ncap = ns->cap ? 2 * ns->cap : 64;
		char **p = realloc(ns->v, ncap * sizeof *p);

		if (p == NULL)
			return -ENOMEM;
		ns->v = p;
		ns->cap = ncap;
	}
	if ((ns->v[ns->n] = strdup(name)) == NULL)
		return -ENOMEM;
	ns->n++;
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
elapsed_set(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static int64_t
elapsed_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * Reads the snapshot list again when force is set or the last reading is
 * older than PK_MOUNT_REFRESH_MS: the names, then only the snapshots not
 * read yet, and the chunk index again when there are new ones (their
 * chunks are in index deltas written since).
 */
static int
refresh(struct pk_mount *m, int force)
{
	struct names ns = { 0 };
	struct msnap *s, **list = NULL;
	struct pk_index *ix = NULL;
	size_t i, n = 0, added = 0;
	int e;

	if (!force) {
		if (pthread_mutex_trylock(&m->refreshing) != 0)
			return 0;	/* another thread does it */
		if (elapsed_ms(&m->refreshed) < PK_MOUNT_REFRESH_MS) {
			pthread_mutex_unlock(&m->refreshing);
			return 0;
		}
	} else {
		pthread_mutex_lock(&m->refreshing);
	}
	elapsed_set(&m->refreshed);
	if ((e = pk_storage_list(m->repo->store, "snapshots", add_name, &ns)) < 0)
		goto out;
	qsort(ns.v, ns.n, sizeof *ns.v, str_cmp);
	if ((list = calloc(ns.n + 1, sizeof *list)) == NULL) {
		e = -ENOMEM;
		goto out;
	}
	for (i = 0; i < ns.n; i++) {
		for (s = m->all; s != NULL; s = s->next)
			if (strcmp(s->id, ns.v[i]) == 0)
				break;
		if (s == NULL) {
			if ((s = calloc(1, sizeof *s)) == NULL) {
				e = -ENOMEM;
				goto out;
			}
			/* One unreadable snapshot does not hide the others
			 * (pk-index --check names it). */
			if (pk_snapshot_read(m->repo, ns.v[i], &s->s) < 0) {
				free(s);
				pk_err_clear();
				continue;
			}
			pk_hex(s->id, s->s.id, PK_SNAPSHOT_ID_BYTES);
			s->next = m->all;
			m->all = s;
			added++;
		}
		list[n++] = s;
	}
	/* Until the chunk index is read again, the new ones stay unlisted. */
	if ((added || m->ixstale) && !force) {
		m->ixstale = 1;
		if ((ix = calloc(1, sizeof *ix)) == NULL) {
			e = -ENOMEM;
			goto out;
		}
		if ((e = pk_index_open(ix, m->repo)) < 0) {
			free(ix);
			goto out;
		}
		m->ixstale = 0;
	}
	/* The new snapshots' chunks are found before they are listed. */
	if (ix != NULL) {
		struct pk_index **p;

		pthread_mutex_lock(&m->lock);
		p = realloc(m->ixold, (m->nixold + 1) * sizeof *p);
		if (p != NULL) {
			m->ixold = p;
			m->ixold[m->nixold++] = m->ix;
			m->ix = ix;
			ix = NULL;
		}
		pthread_mutex_unlock(&m->lock);
		if (ix != NULL) {
			pk_index_close(ix);
			free(ix);
		}
	}
	qsort(list, n, sizeof *list, msnap_cmp);
	pthread_rwlock_wrlock(&m->snaps);
	for (i = 0; i < n; i++) {
		struct tm tm;
		time_t t = (time_t)list[i]->s.start_sec;
		char base[40];
		size_t k;

		if (localtime_r(&t, &tm) == NULL ||
		    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			snprintf(base, sizeof base, "%lld", (long long)t);
		/* Two in one second: the later ones get -2, -3, ... */
		for (k = 1; k <= i && list[i - k]->s.start_sec == list[i]->s.start_sec;)
			k++;
		if (k == 1)
			snprintf(list[i]->time, sizeof list[i]->time, "%s", base);
		else
			snprintf(list[i]->time, sizeof list[i]->time, "%s-%zu",
			    base, k);
	}
	free(m->list);
	m->list = list;
	m->nlist = n;
	list = NULL;
	m->latest = NULL;
	for (i = n; i-- > 0;)
		if (m->list[i]->s.errors == 0) {
			m->latest = m->list[i];
			break;
		}
	if (m->latest == NULL && n > 0)
		m->latest = m->list[n - 1];
	m->newest_sec = n ? m->list[n - 1]->s.start_sec : 0;
	pthread_rwlock_unlock(&m->snaps);
	e = 0;
out:
	pthread_mutex_unlock(&m->refreshing);
	for (i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	free(list);
	return e;
}

/* ---- Paths of the mount. */

enum where {
	AT_ROOT, AT_IDS, AT_SNAPSHOTS, AT_HOSTS, AT_HOST, AT_TAGS, AT_TAG,
	AT_SNAP,
};

/* What a path names: a directory pk-mount makes, or a path in a snapshot
 * (rest, without leading '/'; "" for its root). */
struct place {
	enum where at;
	struct msnap *snap;
	const char *rest;
	char key[PK_SNAPSHOT_MAX_STRING + 1];	/* host or tag */
};

/* The next component of *p, into out (of size n); *p moves past it. */
static int
component(const char **p, char *out, size_t n)
{
	const char *s = *p, *end;
	size_t len;

	while (*s == '/')
		s++;
	end = strchr(s, '/');
	len = end ? (size_t)(end - s) : strlen(s);
	if (len == 0 || len >= n)
		return len == 0 ? 0 : -ENOENT;
	memcpy(out, s, len);
	out[len] = '\0';
	*p = s + len;
	return 1;
}

/* Whether a host or tag can be a name of the tree. */
static int
name_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

static int
has_tag(const struct msnap *s, const char *tag)
{
	uint32_t i;

	for (i = 0; i < s->s.ntags; i++)
		if (strcmp(s->s.tags[i], tag) == 0)
			return 1;
	return 0;
}

/* A snapshot by its name in dir at (AT_IDS: its id), with the key. */
static struct msnap *
find_snap(struct pk_mount *m, enum where at, const char *key, const char *name)
{
	struct msnap *s;
	size_t i;

	for (i = 0; i < m->nlist; i++) {
		s = m->list[i];
		if (strcmp(at == AT_IDS ? s->id : s->time, name) != 0)
			continue;
		if ((at == AT_HOST && strcmp(s->s.host, key) != 0) ||
		    (at == AT_TAG && !has_tag(s, key)))
			continue;
		return s;
	}
	return NULL;
}

static int
resolve(struct pk_mount *m, const char *path, struct place *pl)
{
	char first[16], name[PK_SNAPSHOT_MAX_STRING + 1];
	const char *p = path;
	size_t i;
	int e;

	memset(pl, 0, sizeof *pl);
	name[0] = '\0';
	if ((e = component(&p, first, sizeof first)) <= 0) {
		pl->at = AT_ROOT;
		if (e < 0)
			return e;
		refresh(m, 0);
		return 0;
	}
	if (strcmp(first, "ids") == 0)
		pl->at = AT_IDS;
	else if (strcmp(first, "snapshots") == 0)
		pl->at = AT_SNAPSHOTS;
	else if (strcmp(first, "hosts") == 0)
		pl->at = AT_HOSTS;
	else if (strcmp(first, "tags") == 0)
		pl->at = AT_TAGS;
	else if (strcmp(first, "latest") == 0)
		pl->at = AT_SNAP;
	else
		return -ENOENT;
	if (pl->at == AT_HOSTS || pl->at == AT_TAGS) {
		if ((e = component(&p, pl->key, sizeof pl->key)) < 0)
			return e;
		if (e > 0)
			pl->at = pl->at == AT_HOSTS ? AT_HOST : AT_TAG;
	}
	e = pl->at == AT_SNAP ? 0 : component(&p, name, sizeof name);
	if (e < 0)
		return e;
	while (*p == '/')
		p++;
	if (e == 0 && *p == '\0')
		refresh(m, 0);	/* a look at the top: new snapshots? */
	pthread_rwlock_rdlock(&m->snaps);
	e = 0;
	if (pl->at == AT_HOST || pl->at == AT_TAG) {
		/* The host or tag must be one of a snapshot listed. */
		for (i = 0; i < m->nlist; i++)
			if (pl->at == AT_HOST ? strcmp(m->list[i]->s.host,
			    pl->key) == 0 : has_tag(m->list[i], pl->key))
				break;
		if (i == m->nlist || !name_ok(pl->key))
			e = -ENOENT;
	}
	if (e == 0 && pl->at == AT_SNAP) {
		pl->snap = m->latest;
		if (pl->snap == NULL)
			e = -ENOENT;
	} else if (e == 0 && name[0] != '\0' && pl->at != AT_HOSTS &&
	    pl->at != AT_TAGS) {
		pl->snap = find_snap(m, pl->at, pl->key, name);
		if (pl->snap == NULL)
			e = -ENOENT;
		pl->at = AT_SNAP;
	}
	pthread_rwlock_unlock(&m->snaps);
	if (e == 0 && pl->at != AT_SNAP && *p != '\0')
		e = -ENOENT;
	pl->rest = p;
	return e;
}

/* ---- Files of snapshots. */

/* Inode numbers: a hash of where a file is, the same for a snapshot seen
 * under several names and for every hard link of a file. */
static uint64_t
ino_of(const struct msnap *s, const uint8_t *path, size_t len)
{
	uint64_t seed = s ? hash_bytes(0, s->s.id, PK_SNAPSHOT_ID_BYTES) : 0;
	uint64_t ino = hash_bytes(seed, path, len);

	return ino < 2 ? ino + 2 : ino;	/* 1 is FUSE's root */
}

/* A file of a snapshot found: its node (a copy, whose strings belong to
 * dir, held) and inode number. */
struct found {
	struct dir *dir;
	struct node node;
	uint64_t ino;
	const uint8_t *path;	/* the file's own path, after hard links */
	size_t pathlen;
};

static void
found_release(struct pk_mount *m, struct found *f)
{
	if (f->dir != NULL)
		dir_put(m, f->dir);
	f->dir = NULL;
}

/* Finds path (len bytes, "" for the root) in s; a hard link is followed
 * to the file it names (hops: how many were followed to get here). */
static int
find_file_hops(struct pk_mount *m, struct msnap *s, const uint8_t *path,
    size_t len, struct found *f, int hops)
{
	const uint8_t *slash;
	struct dir *held;
	struct node *n;
	int e;

	memset(f, 0, sizeof *f);
	f->path = path;
	f->pathlen = len;
	f->ino = ino_of(s, path, len);
	if (len == 0) {
		if ((e = dir_get(m, s, path, 0, &f->dir)) < 0)
			return e;
		if (f->dir->has_self)
			f->node = f->dir->self;
		else
			node_made(m, &f->node, s);
		f->node.type = PK_FT_DIR;
		return 0;
	}
	for (slash = path + len; slash > path && slash[-1] != '/';)
		slash--;
	if ((e = dir_get(m, s, path, slash > path ?
	    (size_t)(slash - path - 1) : 0, &f->dir)) < 0)
		return e;
	if ((n = dir_find(f->dir, (const char *)slash,
	    len - (size_t)(slash - path))) == NULL) {
		found_release(m, f);
		return -ENOENT;
	}
	f->node = *n;
	if (n->type != PK_FT_HARDLINK)
		return 0;
	if (hops >= 8) {
		found_release(m, f);
		return pk_err(-ELOOP, "catalog: hard links in a loop");
	}
	/* The path it names lives in the directory held until then. */
	held = f->dir;
	f->dir = NULL;
	e = find_file_hops(m, s, (const uint8_t *)n->link, n->linklen, f,
	    hops + 1);
	dir_put(m, held);
	if (e == -ENOENT)
		return pk_err(-EIO, "catalog: hard link to a file not in the "
		    "snapshot");
	if (e == 0 && f->node.type != PK_FT_REG) {
		found_release(m, f);
		return pk_err(-EIO, "catalog: hard link to a file that is not "
		    "regular");
	}
	return e;
}

static int
find_file(struct pk_mount *m, struct msnap *s, const uint8_t *path, size_t len,
    struct found *f)
{
	return find_file_hops(m, s, path, len, f, 0);
}

/* The S_IF* bits of a file type; a hard link is the regular file it
 * names. */
static mode_t
type_bits(uint8_t type)
{
	static const mode_t types[] = {
		[PK_FT_REG] = S_IFREG, [PK_FT_DIR] = S_IFDIR,
		[PK_FT_SYMLINK] = S_IFLNK, [PK_FT_HARDLINK] = S_IFREG,
		[PK_FT_CHR] = S_IFCHR, [PK_FT_BLK] = S_IFBLK,
		[PK_FT_FIFO] = S_IFIFO, [PK_FT_SOCK] = S_IFSOCK,
	};

	return type < sizeof types / sizeof *types && types[type] ? types[type] :
	    S_IFREG;
}

static void
node_stat(const struct node *n, uint64_t ino, struct stat *st)
{

	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_mode = type_bits(n->type) | (n->mode & 07777);
	/* A directory's count is unknown: 1 says so to find(1). */
	st->st_nlink = n->type == PK_FT_DIR ? 1 : n->nlink;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)(n->type == PK_FT_REG ? n->size :
	    n->type == PK_FT_SYMLINK ? n->linklen : 0);
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((n->stored + 511) / 512);
	st->st_rdev = makedev(n->rdev_major, n->rdev_minor);
	st->st_mtim.tv_sec = n->mtime_sec;
	st->st_mtim.tv_nsec = n->mtime_nsec;
	st->st_ctim.tv_sec = n->ctime_sec;
	st->st_ctim.tv_nsec = n->ctime_nsec;
	st->st_atim = st->st_mtim;
}

static void
top_stat(struct pk_mount *m, const char *path, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino_of(NULL, (const uint8_t *)path, strlen(path));
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 1;
	st->st_uid = m->o.uid;
	st->st_gid = m->o.gid;
	st->st_blksize = 4096;
	pthread_rwlock_rdlock(&m->snaps);
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec =
	    m->newest_sec;
	pthread_rwlock_unlock(&m->snaps);
}

/* Resolves a path to a file of a snapshot, or says it is one of ours (1). */
static int
find_path(struct pk_mount *m, const char *path, struct found *f)
{
	struct place pl;
	int e;

	memset(f, 0, sizeof *f);
	if ((e = resolve(m, path, &pl)) < 0)
		return e;
	if (pl.at != AT_SNAP)
		return 1;
	return find_file(m, pl.snap, (const uint8_t *)pl.rest, strlen(pl.rest),
	    f);
}

/* Library failures reach the caller as EIO, their message recorded. */
static int
fs_error(int e)
{
	return e == -ENOENT || e == -ENOMEM || e == -ENOTDIR || e == -ERANGE ||
	    e == -ENODATA || e == -ELOOP ? e : -EIO;
}

int
pk_mount_getattr(struct pk_mount *m, const char *path, struct stat *st)
{
	struct found f;
	int e;

	if ((e = find_path(m, path, &f)) < 0)
		return fs_error(e);
	if (e > 0) {
		top_stat(m, path, st);
		return 0;
	}
	node_stat(&f.node, f.ino, st);
	found_release(m, &f);
	return 0;
}

int
pk_mount_readlink(struct pk_mount *m, const char *path, char *buf, size_t n)
{
	struct found f;
	size_t k;
	int e;

	if ((e = find_path(m, path, &f)) < 0)
		return fs_error(e);
	if (e > 0 || f.node.type != PK_FT_SYMLINK) {
		found_release(m, &f);
		return -EINVAL;
	}
	k = f.node.linklen < n ? f.node.linklen : n - 1;
	memcpy(buf, f.node.link, k);
	buf[k] = '\0';
	found_release(m, &f);
	return 0;
}

static int
xattrs_of(struct pk_mount *m, const char *path, struct found *f)
{
	int e = find_path(m, path, f);

	if (e < 0)
		return fs_error(e);
	return 0;	/* ours have none: f->node is zero */
}

int
pk_mount_getxattr(struct pk_mount *m, const char *path, const char *name,
    void *buf, size_t n)
{
	struct found f;
	size_t len = strlen(name);
	uint32_t i;
	int e;

	if ((e = xattrs_of(m, path, &f)) < 0)
		return e;
	e = -ENODATA;
	for (i = 0; i < f.node.nxattrs; i++) {
		const struct pk_xattr *x = &f.node.xattrs[i];

		if (x->name.len != len || memcmp(x->name.p, name, len) != 0)
			continue;
		if (x->value.len > INT32_MAX)
			e = -E2BIG;
		else if (n == 0)
			e = (int)x->value.len;
		else if (n < x->value.len)
			e = -ERANGE;
		else {
			memcpy(buf, x->value.p, x->value.len);
			e = (int)x->value.len;
		}
		break;
	}
	found_release(m, &f);
	return e;
}

int
pk_mount_listxattr(struct pk_mount *m, const char *path, char *buf, size_t n)
{
	struct found f;
	size_t need = 0, at = 0;
	uint32_t i;
	int e;

	if ((e = xattrs_of(m, path, &f)) < 0)
		return e;
	for (i = 0; i < f.node.nxattrs; i++)
		need += f.node.xattrs[i].name.len + 1;
	e = (int)need;
	if (n > 0 && n < need)
		e = -ERANGE;
	else if (n > 0)
		for (i = 0; i < f.node.nxattrs; i++) {
			memcpy(buf + at, f.node.xattrs[i].name.p,
			    f.node.xattrs[i].name.len + 1);
			at += f.node.xattrs[i].name.len + 1;
		}
	found_release(m, &f);
	return e;
}

/* ---- Listings. */

static int
fill_dir(pk_mount_fill_fn *fill, void *arg, const char *name, uint64_t ino,
    mode_t type)
{
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_ino = ino;
	st.st_mode = type;
	return fill(arg, name, &st, 0);
}

static int
top_readdir(struct pk_mount *m, const struct place *pl,
    pk_mount_fill_fn *fill, void *arg)
{
	static const char *const top[] = { "ids", "snapshots", "hosts", "tags" };
	char path[64];
	const char **keys = NULL;
	size_t i, j, nkeys = 0;
	int e = 0;

	pthread_rwlock_rdlock(&m->snaps);
	switch (pl->at) {
	case AT_ROOT:
		if (m->latest != NULL)
			e = fill_dir(fill, arg, "latest",
			    ino_of(m->latest, (const uint8_t *)"", 0), S_IFDIR);
		for (i = 0; e == 0 && i < sizeof top / sizeof *top; i++) {
			snprintf(path, sizeof path, "/%s", top[i]);
			e = fill_dir(fill, arg, top[i], ino_of(NULL,
			    (const uint8_t *)path, strlen(path)), S_IFDIR);
		}
		break;
	case AT_IDS: case AT_SNAPSHOTS: case AT_HOST: case AT_TAG:
		for (i = 0; e == 0 && i < m->nlist; i++) {
			struct msnap *s = m->list[i];

			if ((pl->at == AT_HOST && strcmp(s->s.host, pl->key) != 0) ||
			    (pl->at == AT_TAG && !has_tag(s, pl->key)))
				continue;
			e = fill_dir(fill, arg, pl->at == AT_IDS ? s->id : s->time,
			    ino_of(s, (const uint8_t *)"", 0), S_IFDIR);
		}
		break;
	case AT_HOSTS: case AT_TAGS:
		for (i = 0; i < m->nlist; i++) {
			struct msnap *s = m->list[i];
			size_t k = pl->at == AT_HOSTS ? 1 : s->s.ntags;
			const char **p = realloc(keys, (nkeys + k) * sizeof *p);

			if (p == NULL) {
				e = -ENOMEM;
				break;
			}
			keys = p;
			for (j = 0; j < k; j++)
				keys[nkeys++] = pl->at == AT_HOSTS ? s->s.host :
				    s->s.tags[j];
		}
		if (e == 0 && nkeys > 0) {
			struct pk_buf p = PK_BUF_INIT;

			qsort(keys, nkeys, sizeof *keys, str_cmp);
			for (i = 0; e == 0 && i < nkeys; i++) {
				if ((i > 0 && strcmp(keys[i], keys[i - 1]) == 0) ||
				    !name_ok(keys[i]))
					continue;
				/* The inode getattr gives the same path. */
				pk_buf_reset(&p);
				if ((e = pk_buf_add(&p, pl->at == AT_HOSTS ?
				    "/hosts/" : "/tags/", pl->at == AT_HOSTS ?
				    7 : 6)) < 0 || (e = pk_buf_add(&p, keys[i],
				    strlen(keys[i]))) < 0)
					break;
				e = fill_dir(fill, arg, keys[i],
				    ino_of(NULL, p.data, p.len), S_IFDIR);
			}
			pk_buf_release(&p);
		}
		break;
	case AT_SNAP:
		break;
	}
	pthread_rwlock_unlock(&m->snaps);
	free(keys);
	return e < 0 ? e : 0;
}

int
pk_mount_readdir(struct pk_mount *m, const char *path, pk_mount_fill_fn *fill,
    void *arg)
{
	struct pk_buf p = PK_BUF_INIT;
	struct place pl;
	struct found f;
	struct stat st;
	struct dir *d;
	size_t i;
	int e;

	if ((e = resolve(m, path, &pl)) < 0)
		return e;
	if (pl.at != AT_SNAP)
		return top_readdir(m, &pl, fill, arg);
	if ((e = find_file(m, pl.snap, (const uint8_t *)pl.rest,
	    strlen(pl.rest), &f)) < 0)
		return fs_error(e);
	found_release(m, &f);
	if (f.node.type != PK_FT_DIR)
		return -ENOTDIR;
	if ((e = dir_get(m, pl.snap, (const uint8_t *)pl.rest, strlen(pl.rest),
	    &d)) < 0)
		return fs_error(e);
	for (i = 0; i < d->n; i++) {
		const struct node *n = &d->nodes[i];
		uint64_t ino;

		/* The inode: the file's path, or the one a hard link names. */
		pk_buf_reset(&p);
		if (n->type == PK_FT_HARDLINK) {
			e = pk_buf_add(&p, n->link, n->linklen);
		} else {
			if (d->pathlen > 0 && ((e = pk_buf_add(&p, d->path,
			    d->pathlen)) < 0 || (e = pk_buf_add(&p, "/", 1)) < 0))
				break;
			e = pk_buf_add(&p, n->name, n->namelen);
		}
		if (e < 0)
			break;
		ino = ino_of(pl.snap, p.data, p.len);
		/* Whole attributes, so that the kernel need not ask for each
		 * entry again (a hard link's are its file's). */
		if (n->type != PK_FT_HARDLINK) {
			node_stat(n, ino, &st);
			e = fill(arg, n->name, &st, 1);
		} else if (find_file(m, pl.snap, p.data, p.len, &f) == 0) {
			node_stat(&f.node, ino, &st);
			found_release(m, &f);
			e = fill(arg, n->name, &st, 1);
		} else {
			pk_err_clear();
			e = fill_dir(fill, arg, n->name, ino, S_IFREG);
		}
		if (e != 0) {
			e = 0;
			break;
		}
	}
	dir_put(m, d);
	pk_buf_release(&p);
	return e;
}

/* ---- Reading files. */

/* The chunk map of file path of s: its REF and HOLE records, in order. */
static int
read_map(struct pk_mount *m, struct msnap *s, const uint8_t *path, size_t len,
    struct pk_mount_file *f)
{
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_str p;
	size_t cap = 0;
	uint64_t off = 0, hole;
	const uint8_t *id;
	uint32_t clen;
	int n, in = 0, e = 0;

	if ((n = pk_catalog_open_fetch(&cat, &s->s, catalog_fetch, m, &h)) < 0)
		return n;
	if ((n = pk_catalog_select(cat, path, len)) < 0)
		goto out;
	while ((n = pk_catalog_next(cat, &rec)) > 0) {
		struct extent *x;

		if (rec.type == PK_REC_ENTRY) {
			if (in)
				break;
			if (pk_entry_path(&p, rec.data, rec.len) == 0 &&
			    p.len == len && memcmp(p.p, path, len) == 0)
				in = 1;
			continue;
		}
		if (!in)
			continue;
		if (rec.type == PK_REC_EOF)
			break;
		if (rec.type != PK_REC_REF && rec.type != PK_REC_HOLE)
			continue;
		if (f->n == cap) {
			size_t ncap = cap ? 2 * cap : 16;

			if ((x = realloc(f->ext, ncap * sizeof *x)) == NULL) {
				e = -ENOMEM;
				break;
			}
			f->ext = x;
			cap = ncap;
		}
		x = &f->ext[f->n];
		memset(x, 0, sizeof *x);
		x->off = off;
		if (rec.type == PK_REC_HOLE) {
			if (pk_record_hole(&rec, &hole) < 0) {
				e = pk_err(-EBADMSG, "catalog: bad HOLE");
				break;
			}
			x->hole = 1;
			x->len = hole;
		} else {
			if (pk_record_ref(&rec, &id, &clen) < 0) {
				e = pk_err(-EBADMSG, "catalog: bad REF");
				break;
			}
			memcpy(x->id, id, PK_ID_BYTES);
			x->len = clen;
		}
		if (x->len == 0)
			continue;
		off += x->len;
		f->n++;
	}
	if (n < 0)
		e = n;
	else if (e == 0 && !in)
		e = pk_err(-EIO, "catalog: file not found again");
	else if (e == 0 && off != f->size)
		e = pk_err(-EIO, "catalog: content of %llu bytes, not %llu",
		    (unsigned long long)off, (unsigned long long)f->size);
out:
	pk_catalog_close(cat);
	return e;
}

int
pk_mount_open(struct pk_mount *m, const char *path, struct pk_mount_file **fp)
{
	struct pk_mount_file *f;
	struct place pl;
	struct found fd;
	int e;

	*fp = NULL;
	if ((e = resolve(m, path, &pl)) < 0)
		return e;
	if (pl.at != AT_SNAP)
		return -EISDIR;
	if ((e = find_file(m, pl.snap, (const uint8_t *)pl.rest,
	    strlen(pl.rest), &fd)) < 0)
		return fs_error(e);
	if (fd.node.type != PK_FT_REG) {
		found_release(m, &fd);
		return fd.node.type == PK_FT_DIR ? -EISDIR : -EINVAL;
	}
	if ((f = calloc(1, sizeof *f)) == NULL ||
	    (f->name = strdup(path[0] == '/' ? path + 1 : path)) == NULL) {
		free(f);
		found_release(m, &fd);
		return -ENOMEM;
	}
	f->snap = pl.snap;
	f->size = fd.node.size;
	pthread_mutex_init(&f->lock, NULL);
	e = read_map(m, pl.snap, fd.path, fd.pathlen, f);
	found_release(m, &fd);
	if (e < 0) {
		if (m->o.warn)
			m->o.warn(m->o.arg, f->name, pk_errmsg(e));
		pk_mount_close(m, f);
		return fs_error(e);
	}
	*fp = f;
	return 0;
}

/* The extent that holds off (< size). */
static size_t
extent_at(const struct pk_mount_file *f, uint64_t off)
{
	size_t lo = 0, hi = f->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->ext[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* A reader going on in order: the chunks after extent i are fetched
 * ahead, up to AHEAD_CHUNKS of them or AHEAD_BYTES. */
static void
read_ahead(struct pk_mount *m, struct pk_mount_file *f, size_t i, uint64_t off,
    uint64_t end)
{
	size_t j, k = 0, from;
	uint64_t bytes = 0;

	pthread_mutex_lock(&f->lock);
	if (off != f->seq) {
		f->seq = end;
		pthread_mutex_unlock(&f->lock);
		return;
	}
	f->seq = end;
	from = f->ahead > i + 1 ? f->ahead : i + 1;
	for (j = i + 1; j < f->n && k < AHEAD_CHUNKS && bytes < AHEAD_BYTES; j++) {
		if (f->ext[j].hole)
			continue;
		k++;
		bytes += f->ext[j].len;
		if (j >= from)
			prefetch(m, &f->ext[j]);
	}
	if (j > f->ahead)
		f->ahead = j;
	pthread_mutex_unlock(&f->lock);
}

ssize_t
pk_mount_read(struct pk_mount *m, struct pk_mount_file *f, void *buf, size_t n,
    uint64_t off)
{
	uint8_t *out = buf;
	uint64_t end, at;
	size_t i, first;
	struct chunk *c;
	int e;

	if (off >= f->size || n == 0)
		return 0;
	end = f->size - off < n ? f->size : off + n;
	first = i = extent_at(f, off);
	for (at = off; at < end; i++) {
		const struct extent *x = &f->ext[i];
		uint64_t skip = at - x->off;
		size_t k = (size_t)(x->len - skip < end - at ? x->len - skip :
		    end - at);

		if (x->hole) {
			memset(out + (at - off), 0, k);
		} else {
			if ((e = chunk_get(m, x->id, (uint32_t)x->len, &c)) < 0) {
				pthread_mutex_lock(&f->lock);
				if (!f->warned && m->o.warn)
					m->o.warn(m->o.arg, f->name, pk_errmsg(e));
				f->warned = 1;
				pthread_mutex_unlock(&f->lock);
				pk_err_clear();
				return -EIO;
			}
			memcpy(out + (at - off), c->data.data + skip, k);
			chunk_put(m, c);
		}
		at += k;
	}
	read_ahead(m, f, i > first ? i - 1 : first, off, end);
	return (ssize_t)(end - off);
}

int64_t
pk_mount_seek(struct pk_mount_file *f, int64_t off, int whence)
{
	size_t i;

	if (off < 0 || (uint64_t)off >= f->size)
		return -ENXIO;
	for (i = extent_at(f, (uint64_t)off); i < f->n; i++) {
		const struct extent *x = &f->ext[i];

		if (x->hole == (whence == SEEK_HOLE))
			return x->off > (uint64_t)off ? (int64_t)x->off : off;
	}
	return whence == SEEK_HOLE ? (int64_t)f->size : -ENXIO;
}

void
pk_mount_close(struct pk_mount *m, struct pk_mount_file *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->lock);
	free(f->ext);
	free(f->name);
	free(f);
}

/* ---- The mount. */

int
pk_mount_new(struct pk_mount **mp, struct pk_repo *r,
    const struct pk_mount_options *o)
{
	struct pk_mount *m;
	int e;

	*mp = NULL;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return -ENOMEM;
	m->repo = r;
	m->o = *o;
	if (m->o.cache_bytes == 0)
		m->o.cache_bytes = PK_MOUNT_CACHE_DEFAULT;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->refreshing, NULL);
	pthread_cond_init(&m->loaded, NULL);
	pthread_rwlock_init(&m->snaps, NULL);
	if ((m->ix = calloc(1, sizeof *m->ix)) == NULL) {
		pk_mount_free(m);
		return -ENOMEM;
	}
	if ((e = pk_index_open(m->ix, r)) < 0) {
		free(m->ix);
		m->ix = NULL;
		pk_mount_free(m);
		return e;
	}
	if ((e = refresh(m, 1)) < 0) {
		pk_mount_free(m);
		return e;
	}
	*mp = m;
	return 0;
}

void
pk_mount_start(struct pk_mount *m)
{
	pthread_mutex_lock(&m->lock);
	if (!m->started && m->o.readahead > 0 &&
	    pk_workers_start(&m->w, m->o.readahead, prefetcher, m) == 0)
		m->started = 1;
	pthread_mutex_unlock(&m->lock);
}

void
pk_mount_free(struct pk_mount *m)
{
	struct msnap *s, *next;
	struct reader *rd;
	size_t i;

	if (m == NULL)
		return;
	if (m->started) {
		/* The workers wait on our lock: stop them under it. */
		pthread_mutex_lock(&m->lock);
		m->w.stop = 1;
		pthread_cond_broadcast(&m->w.work);
		pthread_mutex_unlock(&m->lock);
		pk_workers_stop(&m->w);
	}
	for (i = 0; i < HASH_SLOTS; i++) {
		struct chunk *c, *cn;
		struct dir *d, *dn;

		for (c = m->chunks[i]; c != NULL; c = cn) {
			cn = c->hnext;
			chunk_free(c);
		}
		for (d = m->dirs[i]; d != NULL; d = dn) {
			dn = d->hnext;
			dir_free(d);
		}
	}
	while ((rd = m->readers) != NULL) {
		m->readers = rd->next;
		pk_blob_reader_release(&rd->br);
		free(rd);
	}
	for (i = 0; i < m->nixold; i++) {
		pk_index_close(m->ixold[i]);
		free(m->ixold[i]);
	}
	free(m->ixold);
	if (m->ix != NULL) {
		pk_index_close(m->ix);
		free(m->ix);
	}
	for (s = m->all; s != NULL; s = next) {
		next = s->next;
		pk_snapshot_release(&s->s);
		free(s);
	}
	free(m->list);
	pthread_rwlock_destroy(&m->snaps);
	pthread_cond_destroy(&m->loaded);
	pthread_mutex_destroy(&m->refreshing);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
