#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "err.h"
#include "hash.h"
#include "index.h"
#include "io.h"

#define DELTA_MAGIC	"PKINDEX\0"
#define DELTA_VERSION	1
#define FRAME_BLOBS_MAX	65536u	/* what a reader takes */
/* What a writer puts: a frame's plaintext and box fit in 1 MiB, the memory
 * a reader needs for it. */
#define FRAME_BLOBS	16383u
#define AD_DELTA	"pk index"

void
pk_index_slot_encode(uint8_t slot[PK_INDEX_SLOT_BYTES],
    const struct pk_blobloc *l)
{
	pk_blobloc_encode(slot, l);
	pk_put_u64(slot + PK_BLOBLOC_BYTES, XXH3_64bits(slot, PK_BLOBLOC_BYTES));
}

int
pk_index_slot_decode(struct pk_blobloc *l,
    const uint8_t slot[PK_INDEX_SLOT_BYTES])
{
	char hex[17];

	pk_blobloc_decode(l, slot);
	if (pk_load_u64(slot + PK_BLOBLOC_BYTES) ==
	    XXH3_64bits(slot, PK_BLOBLOC_BYTES))
		return 0;
	pk_hex(hex, slot, 8);
	return pk_err(-EBADMSG, "slot of blob %s… fails its check", hex);
}

void
pk_index_params(const struct pk_repo *r, uint32_t kind,
    struct pk_hashfile_params *p)
{
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->slot_bytes = PK_INDEX_SLOT_BYTES;
	p->key_bytes = PK_SID_BYTES;
	memcpy(p->repo_id, r->id, sizeof p->repo_id);
	/* Not the repository's (pk-repo(5), "HASH FILES"): 1 says that the
	 * deltas field counts, and a file made before that is stale. */
	p->generation = 1;
}

/* The marker of a merged delta: a keyed hash of its name, so its key is as
 * uniform as a storage id. */
static void
marker(const struct pk_repo *r, struct pk_blobloc *l, const char *name)
{
	char label[64];

	memset(l, 0, sizeof *l);
	snprintf(label, sizeof label, "pk index delta %s", name);
	pk_mac(&r->keys, l->sid, label, strlen(label));
	l->flags = PK_BLOBLOC_MARKER;
}

static int
valid_name(const char *name)
{
	uint8_t id[PK_DELTA_ID_BYTES];

	return strlen(name) == 2 * PK_DELTA_ID_BYTES &&
	    pk_unhex(id, sizeof id, name) == 0;
}

struct lister {
	int (*fn)(void *arg, const char *name);
	void *arg;
};

static int
listed(void *arg, const char *name)
{
	struct lister *l = arg;

	return valid_name(name) ? l->fn(l->arg, name) : 0;
}

int
pk_index_list(struct pk_repo *r, int (*fn)(void *arg, const char *name),
    void *arg)
{
	struct lister l = { fn, arg };

	return pk_storage_list(r->store, "index", listed, &l);
}

static size_t
frame_ad(uint8_t *ad, const uint8_t id[PK_DELTA_ID_BYTES], uint64_t frame,
    int last)
{
	memcpy(ad, AD_DELTA, sizeof AD_DELTA);
	memcpy(ad + sizeof AD_DELTA, id, PK_DELTA_ID_BYTES);
	pk_put_u64(ad + sizeof AD_DELTA + PK_DELTA_ID_BYTES, frame);
	ad[sizeof AD_DELTA + PK_DELTA_ID_BYTES + 8] = (uint8_t)last;
	return sizeof AD_DELTA + PK_DELTA_ID_BYTES + 9;
}

/*
 * A delta is written as its locations come: a frame is sealed once the
 * next location shows that it is not the last, so the count need not be
 * known up front.
 */
struct pk_delta_writer {
	struct pk_repo *repo;
	struct pk_atomic file;
	uint8_t id[PK_DELTA_ID_BYTES];
	struct pk_buf plain, box;
	uint64_t frame, total;
	uint32_t inframe;
};

static int
frame_flush(struct pk_delta_writer *w, int last)
{
	uint8_t ad[64], len[4];
	int e;

	pk_put_u32(w->plain.data, w->inframe);
	pk_buf_reset(&w->box);
	if ((e = pk_buf_reserve(&w->box, w->plain.len + PK_BOX_OVERHEAD_AEAD)) < 0)
		return e;
	pk_box_seal(&w->repo->keys, w->box.data, w->plain.data, w->plain.len, ad,
	    frame_ad(ad, w->id, w->frame, last));
	w->box.len = w->plain.len + pk_box_overhead(&w->repo->keys);
	pk_put_u32(len, (uint32_t)w->box.len);
	if ((e = pk_write_all(w->file.fd, len, 4)) < 0 ||
	    (e = pk_write_all(w->file.fd, w->box.data, w->box.len)) < 0)
		return pk_err(e, "%s: write: %s", w->file.tmp, strerror(-e));
	w->frame++;
	w->inframe = 0;
	pk_buf_reset(&w->plain);
	return pk_buf_add_u32(&w->plain, 0);
}

int
pk_delta_begin(struct pk_delta_writer **wp, struct pk_repo *r)
{
	struct pk_delta_writer *w;
	uint8_t h[16] = { 0 };
	int e;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return -ENOMEM;
	w->repo = r;
	pk_random(w->id, sizeof w->id);
	if ((e = pk_storage_new(r->store, &w->file)) < 0) {
		free(w);
		return e;
	}
	memcpy(h, DELTA_MAGIC, 8);
	pk_put_u32(h + 8, DELTA_VERSION);
	if ((e = pk_write_all(w->file.fd, h, sizeof h)) < 0)
		e = pk_err(e, "%s: write: %s", w->file.tmp, strerror(-e));
	if (e == 0)
		e = pk_buf_add_u32(&w->plain, 0);
	if (e < 0) {
		pk_delta_abort(w);
		return e;
	}
	*wp = w;
	return 0;
}

int
pk_delta_put(struct pk_delta_writer *w, const struct pk_blobloc *loc)
{
	uint8_t slot[PK_INDEX_SLOT_BYTES];
	int e;

	if (w->inframe == FRAME_BLOBS && (e = frame_flush(w, 0)) < 0)
		return e;
	pk_index_slot_encode(slot, loc);
	if ((e = pk_buf_add(&w->plain, slot, PK_BLOBLOC_BYTES)) < 0)
		return e;
	w->inframe++;
	w->total++;
	return 0;
}

int
pk_delta_commit(struct pk_delta_writer *w, char name[PK_DELTA_NAME_BYTES])
{
	char rel[sizeof "index/" + PK_DELTA_NAME_BYTES];
	int e;

	name[0] = '\0';
	if (w->total == 0) {
		pk_delta_abort(w);
		return 0;
	}
	pk_hex(name, w->id, sizeof w->id);
	snprintf(rel, sizeof rel, "index/%s", name);
	if ((e = frame_flush(w, 1)) < 0) {
		name[0] = '\0';
		pk_delta_abort(w);
		return e;
	}
	/* The commit takes the file, whether it succeeds or not. */
	if ((e = pk_storage_commit(w->repo->store, &w->file, rel, 0)) < 0)
		name[0] = '\0';
	w->file.fd = -1;
	w->file.tmp[0] = '\0';
	pk_delta_abort(w);
	return e;
}

void
pk_delta_abort(struct pk_delta_writer *w)
{
	if (w == NULL)
		return;
	pk_atomic_abort(&w->file);
	pk_buf_release(&w->plain);
	pk_buf_release(&w->box);
	free(w);
}

static int
delta_add(void *arg, const void *slot)
{
	struct pk_blobloc loc;
	int e;

	/* The pending set is a file: what goes into the sealed delta is
	 * checked first. */
	if ((e = pk_index_slot_decode(&loc, slot)) < 0)
		return pk_err(e, "pending set: %s", pk_errmsg(e));
	return pk_delta_put(arg, &loc);
}

int
pk_index_write_delta(struct pk_repo *r, const struct pk_hashfile *pending,
    char name[PK_DELTA_NAME_BYTES])
{
	struct pk_delta_writer *w;
	int e;

	name[0] = '\0';
	if (pk_hashfile_count(pending) == 0)
		return 0;
	if ((e = pk_delta_begin(&w, r)) < 0)
		return e;
	if ((e = pk_hashfile_foreach(pending, delta_add, w)) < 0) {
		pk_delta_abort(w);
		return e;
	}
	return pk_delta_commit(w, name);
}

/* The frames of a delta are read one at a time, so that memory stays
 * flat in the size of the delta (pk-gc's is as large as the repository). */
int
pk_index_read_delta(struct pk_repo *r, const char *name,
    int (*fn)(void *arg, const struct pk_blobloc *loc), void *arg)
{
	const size_t frame_max = 4 + (size_t)FRAME_BLOBS_MAX * PK_BLOBLOC_BYTES +
	    pk_box_overhead(&r->keys);
	struct pk_buf box = PK_BUF_INIT, plain = PK_BUF_INIT;
	uint8_t id[PK_DELTA_ID_BYTES], ad[64], h[16];
	struct pk_object *obj = NULL;
	struct pk_blobloc loc;
	struct pk_cursor f;
	uint64_t frame = 0, off = sizeof h, size;
	uint32_t count, i, blen;
	char path[4096], rel[600];
	int e, last = 0;

	if ((e = pk_path(rel, sizeof rel, "index/%s", name)) < 0 ||
	    (e = pk_storage_name(r->store, path, sizeof path, rel)) < 0)
		return e;
	if (pk_unhex(id, sizeof id, name) < 0)
		return pk_err(-EINVAL, "%s: bad name", path);
	if ((e = pk_object_open(r->store, rel, &obj)) < 0)
		return e;
	/* (The size after the first read: on S3 that read tells it.) */
	if ((e = pk_object_read(obj, h, sizeof h, 0)) < 0 ||
	    (e = pk_object_size(obj, &size)) < 0) {
		if (e == -ENODATA)
			e = pk_err(-EBADMSG, "%s: not an index delta", path);
		goto out;
	}
	if (memcmp(h, DELTA_MAGIC, 8) != 0) {
		e = pk_err(-EBADMSG, "%s: not an index delta", path);
		goto out;
	}
	if (pk_load_u32(h + 8) != DELTA_VERSION) {
		e = pk_err(-EPROTO, "%s: unsupported index delta version", path);
		goto out;
	}
	if (pk_load_u32(h + 12) != 0) {
		e = pk_err(-EBADMSG, "%s: reserved header bytes set", path);
		goto out;
	}
	while (e == 0 && !last) {
		if (size - off < 4 || pk_object_read(obj, h, 4, off) < 0 ||
		    (blen = pk_load_u32(h)) < pk_box_overhead(&r->keys) + 4 ||
		    blen > frame_max || size - off - 4 < blen) {
			pk_err_clear();
			e = pk_err(-EBADMSG, "%s: truncated", path);
			break;
		}
		off += 4;
		pk_buf_reset(&box);
		pk_buf_reset(&plain);
		if ((e = pk_buf_reserve(&box, blen)) < 0 ||
		    (e = pk_buf_reserve(&plain, blen)) < 0 ||
		    (e = pk_object_read(obj, box.data, blen, off)) < 0)
			break;
		off += blen;
		last = off == size;
		if (pk_box_open(&r->keys, plain.data, box.data, blen, ad,
		    frame_ad(ad, id, frame, last)) < 0) {
			e = pk_err(-EBADMSG, "%s: frame %" PRIu64
			    " does not authenticate (corrupt or truncated)", path, frame);
			break;
		}
		pk_cursor_init(&f, plain.data, blen - pk_box_overhead(&r->keys));
		count = pk_get_u32(&f);
		if (f.left != (uint64_t)count * PK_BLOBLOC_BYTES) {
			e = pk_err(-EBADMSG, "%s: bad frame", path);
			break;
		}
		for (i = 0; i < count && e == 0; i++) {
			pk_blobloc_decode(&loc, pk_get_bytes(&f, PK_BLOBLOC_BYTES));
			if (loc.flags != 0)
				e = pk_err(-EBADMSG, "%s: bad entry", path);
			else
				e = fn(arg, &loc);
		}
		frame++;
	}
out:
	pk_object_close(obj);
	pk_buf_release(&box);
	pk_buf_release(&plain);
	return e;
}

struct merge {
	struct pk_repo *repo;
	struct pk_hashfile *hf;
	int stale;		/* rebuilding: every delta */
	uint64_t merged;
	uint64_t present;	/* deltas listed that were merged before */
};


/*
 * Two deltas that name one storage id: the first merged wins, unless its
 * pack is gone and the other's is not (the chunk was stored again after
 * the loss), so that a rebuilt chunk index does not lead back to it.
 */
static int
insert_slot(void *arg, const void *slot)
{
	struct merge *m = arg;
	struct pk_blobloc have, loc;
	int e;

	if (pk_index_slot_decode(&loc, slot) < 0)
		return -EBADMSG;	/* a pending set damaged on disk */
	if ((e = pk_hashfile_insert(m->hf, slot)) != 1)
		return e < 0 ? e : 0;
	if (pk_index_slot_decode(&have, pk_hashfile_find(m->hf, slot)) < 0)
		return pk_hashfile_replace(m->hf, slot);
	if (have.flags & PK_BLOBLOC_MARKER ||
	    memcmp(have.pack, loc.pack, PK_PACK_ID_BYTES) == 0 ||
	    pk_pack_exists(m->repo, have.pack) != 0 ||
	    pk_pack_exists(m->repo, loc.pack) != 1)
		return 0;
	return pk_hashfile_replace(m->hf, slot);
}

static int
insert_loc(void *arg, const struct pk_blobloc *loc)
{
	uint8_t slot[PK_INDEX_SLOT_BYTES];

	pk_index_slot_encode(slot, loc);
	return insert_slot(arg, slot);
}

/*
 * The chunk index counts the deltas merged into it (its header's aux):
 * when fewer of the deltas listed are merged than that, one it merged is
 * gone (pk-gc merged it into another, or it was removed by hand), and its
 * blobs may be in packs that go next: the chunk index is stale.
 */
static int
add_marker(struct merge *m, const char *name)
{
	struct pk_blobloc mk;
	int e;

	marker(m->repo, &mk, name);
	if ((e = insert_loc(m, &mk)) < 0)
		return e;
	pk_hashfile_set_aux(m->hf, pk_hashfile_aux(m->hf) + 1);
	return 0;
}

static int
merge_delta(void *arg, const char *name)
{
	struct merge *m = arg;
	struct pk_blobloc mk;
	int e;

	marker(m->repo, &mk, name);
	if (pk_hashfile_find(m->hf, mk.sid) != NULL) {
		m->present++;
		return 0;
	}
	e = pk_index_read_delta(m->repo, name, insert_loc, m);
	if (e == -ENOENT) {
		/* pk-gc merged it into a delta of its own since the listing,
		 * and made the generation change: this index goes stale. */
		pk_err_clear();
		return 0;
	}
	if (e < 0)
		return e;
	m->merged++;
	return add_marker(m, name);
}

/* Stops at the first delta not merged yet; counts the others. */
static int
find_unmerged(void *arg, const char *name)
{
	struct merge *m = arg;
	struct pk_blobloc mk;

	marker(m->repo, &mk, name);
	if (pk_hashfile_find(m->hf, mk.sid) == NULL)
		return 1;
	m->present++;
	return 0;
}

static int
update(struct pk_index *ix, int create)
{
	struct pk_hashfile_params p;
	struct merge m = { .repo = ix->repo };
	char path[4096];
	uint32_t aux;
	int e, e2;

	pk_index_params(ix->repo, PK_HF_CHUNKINDEX, &p);
	if ((e = pk_repo_path(ix->repo, path, sizeof path, "chunkindex")) < 0)
		return e;
	e = pk_hashfile_open(&m.hf, path, &p, create ? PK_HF_CREATE : PK_HF_WRITE);
	if (e == -ENOENT || e == -ESTALE) {
		if (e == -ESTALE)
			snprintf(ix->why, sizeof ix->why, "%s", pk_errmsg(e));
		pk_err_clear();
		ix->rebuilt = 1;
		e = pk_hashfile_open(&m.hf, path, &p, PK_HF_CREATE);
	} else if (create) {
		ix->rebuilt = 1;
	}
	if (e < 0)
		return e;
	aux = pk_hashfile_aux(m.hf);
	e = pk_index_list(ix->repo, merge_delta, &m);
	if (e == 0 && m.present < aux) {
		e = pk_err(-ESTALE, "%s: a delta merged into it is gone", path);
		/* Not merged in: put back what the header said. */
		pk_hashfile_set_aux(m.hf, aux + (uint32_t)m.merged);
	}
	if (e == -ESTALE && !create) {
		/* Damaged in a way only an insert shows, or out of date:
		 * start afresh. */
		snprintf(ix->why, sizeof ix->why, "%s", pk_errmsg(e));
		pk_err_clear();
		pk_hashfile_close(m.hf);
		return update(ix, 1);
	}
	ix->merged += m.merged;
	e2 = pk_hashfile_close(m.hf);
	return e < 0 ? e : e2;
}

/* A chunk index built from every delta, in memory, for this run only. */
static int
build_in_memory(struct pk_index *ix, struct pk_hashfile **hf)
{
	struct pk_hashfile_params p;
	struct merge m = { .repo = ix->repo };
	int e;

	pk_index_params(ix->repo, PK_HF_CHUNKINDEX, &p);
	if ((e = pk_hashfile_open(&m.hf, "chunkindex (in memory)", &p,
	    PK_HF_CREATE | PK_HF_MEMORY)) < 0)
		return e;
	if ((e = pk_index_list(ix->repo, merge_delta, &m)) < 0) {
		pk_hashfile_abort(m.hf);
		return e;
	}
	ix->merged += m.merged;
	ix->rebuilt = 1;
	*hf = m.hf;
	return 0;
}

/*
 * A repository that cannot be written to (read-only media, another user's,
 * a full disk) can still be read: its chunk index is then built from the
 * deltas in memory.
 */
static int
update_or_build(struct pk_index *ix)
{
	int e = update(ix, 0);

	if (!pk_hashfile_unwritable(e))
		return e;
	return (e = build_in_memory(ix, &ix->hf)) < 0 ? e : 1;
}

int
pk_index_open(struct pk_index *ix, struct pk_repo *r)
{
	struct pk_hashfile_params p;
	struct merge m = { .repo = r };
	char path[4096];
	int e;

	memset(ix, 0, sizeof *ix);
	ix->repo = r;
	pk_index_params(r, PK_HF_CHUNKINDEX, &p);
	if ((e = pk_repo_path(r, path, sizeof path, "chunkindex")) < 0)
		return e;
	e = pk_hashfile_open(&ix->hf, path, &p, 0);
	if (e == -ENOENT || e == -ESTALE) {
		/* A file another process is merging into looks torn too:
		 * update() waits for its lock and rebuilds only if it still
		 * is. */
		pk_err_clear();
		if ((e = update_or_build(ix)) != 0)
			return e < 0 ? e : 0;
		return pk_hashfile_open(&ix->hf, path, &p, 0);
	}
	if (e < 0)
		return e;
	m.hf = ix->hf;
	if ((e = pk_index_list(r, find_unmerged, &m)) < 0) {
		pk_index_close(ix);
		return e;
	}
	if (e == 0 && m.present >= pk_hashfile_aux(ix->hf))
		return 0;
	pk_hashfile_close(ix->hf);
	ix->hf = NULL;
	if ((e = update_or_build(ix)) != 0)
		return e < 0 ? e : 0;
	return pk_hashfile_open(&ix->hf, path, &p, 0);
}

void
pk_index_close(struct pk_index *ix)
{
	pk_hashfile_close(ix->hf);
	ix->hf = NULL;
	pk_hashfile_abort(ix->mem);
	ix->mem = NULL;
}

static pthread_mutex_t rebuild_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * A slot failed its check: the chunk index is a cache, so the lookups of
 * this open go to one built from the deltas in memory, and the file goes,
 * for the next open to rebuild (a writer merging into it meanwhile loses
 * nothing: its delta is written first).  The index is only logically
 * const: the damaged cache is replaced by an equal one.
 */
static int
rebuild_in_memory(const struct pk_index *cix, const char *why)
{
	struct pk_index *ix = (struct pk_index *)(uintptr_t)cix;
	struct pk_hashfile *hf;
	char path[4096], reason[sizeof ix->why];
	int e = 0;

	/* why may be this thread's message, which the build overwrites. */
	snprintf(reason, sizeof reason, "chunkindex: %s", why);
	pthread_mutex_lock(&rebuild_lock);
	if (__atomic_load_n(&ix->mem, __ATOMIC_ACQUIRE) != NULL ||
	    (e = build_in_memory(ix, &hf)) < 0)
		goto out;
	memcpy(ix->why, reason, sizeof reason);
	if (pk_repo_path(ix->repo, path, sizeof path, "chunkindex") == 0)
		unlink(path);
	__atomic_store_n(&ix->mem, hf, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&rebuild_lock);
	return e;
}

int
pk_index_find(const struct pk_index *ix, const uint8_t sid[PK_SID_BYTES],
    struct pk_blobloc *loc)
{
	struct pk_hashfile *mem = __atomic_load_n(&ix->mem, __ATOMIC_ACQUIRE);
	const uint8_t *s = pk_hashfile_find(mem ? mem : ix->hf, sid);

	if (s == NULL)
		return 0;
	if (pk_index_slot_decode(loc, s) < 0) {
		/* Taken for absent if even that fails: a writer stores the
		 * chunk again, a reader names it. */
		if (mem != NULL || rebuild_in_memory(ix, pk_errmsg(-EBADMSG)) < 0)
			return 0;
		return pk_index_find(ix, sid, loc);
	}
	return loc->flags & PK_BLOBLOC_MARKER ? 0 : 1;
}

int
pk_index_merge(struct pk_repo *r, const struct pk_hashfile *pending,
    const char *name)
{
	struct pk_hashfile_params p;
	struct merge m = { .repo = r };
	char path[4096];
	int e, e2;

	pk_index_params(r, PK_HF_CHUNKINDEX, &p);
	if ((e = pk_repo_path(r, path, sizeof path, "chunkindex")) < 0)
		return e;
	e = pk_hashfile_open(&m.hf, path, &p, PK_HF_WRITE);
	if (e == -ENOENT || e == -ESTALE) {
		pk_err_clear();
		return 0;	/* the next open rebuilds it, this delta too */
	}
	if (e < 0)
		return e;
	e = pk_hashfile_reserve(m.hf, pk_hashfile_count(pending) + 1);
	if (e == 0)
		e = pk_hashfile_foreach(pending, insert_slot, &m);
	if (e == 0 && name[0])
		e = add_marker(&m, name);
	e2 = pk_hashfile_close(m.hf);
	return e < 0 ? e : e2;
}
