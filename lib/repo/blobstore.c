/* blobstore.c: putting chunks into a repository. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blobstore.h"
#include "err.h"
#include "gcmark.h"
#include "hash.h"
#include "hashfile.h"
#include "pack.h"
#include "sealpool.h"

struct pk_blobstore {
	struct pk_repo *repo;
	const char *source;
	struct pk_index index;
	struct pk_hashfile *pending;	/* blobs written by this run */
	char pending_path[4096];
	struct pk_pack_census *census;	/* packs the chunk index names */
	struct pk_lease lease;
	struct pk_gcmark *marks;	/* pk-gc marks seen after the lease */
	size_t nmarks;
	struct pk_sealpool *pool;
	struct pk_pack_writer pack;
	int pack_open;
	struct pk_buf packs;		/* ids of packs finished, until flushed */
	struct pk_blobstore_stats st;
};

static int
marked_dead(const struct pk_blobstore *b, const struct pk_blobloc *loc)
{
	size_t i;

	for (i = 0; i < b->nmarks; i++)
		if (pk_gcmark_is_dead(&b->marks[i], loc->sid, loc->pack))
			return 1;
	return 0;
}

/*
 * Whether the repository or this run has the blob; *raw is its length.  A
 * blob the chunk index places in a pack that is gone is not had: it is
 * stored again, and the chunk index takes the new place at the merge.
 * So is one that a pk-gc mark names as dead.
 */
static int
has_sid(struct pk_blobstore *b, const uint8_t sid[PK_SID_BYTES], uint64_t *raw)
{
	const struct pk_sealjob *j;
	const uint8_t *slot = pk_hashfile_find(b->pending, sid);
	struct pk_blobloc loc;

	/* A pending slot damaged on disk is stored again; the delta
	 * writer refuses the set. */
	if (slot != NULL && pk_index_slot_decode(&loc, slot) == 0) {
		*raw = loc.raw;
		return 1;
	}
	if (pk_index_find(&b->index, sid, &loc)) {
		if (marked_dead(b, &loc))
			b->st.marked_blobs++;
		else if (pk_pack_census_alive(b->census, loc.pack) > 0) {
			*raw = loc.raw;
			return 1;
		} else
			b->st.lost_blobs++;
	}
	if ((j = pk_sealpool_busy(b->pool, sid)) != NULL) {
		*raw = j->in.len;
		return 1;
	}
	return 0;
}

static int
pack_finish(struct pk_blobstore *b)
{
	int e;

	if (!b->pack_open)
		return 0;
	b->pack_open = 0;
	if ((e = pk_pack_finish(&b->pack)) < 0)
		return e;
	return pk_buf_add(&b->packs, b->pack.id, sizeof b->pack.id);
}

/* Appends a sealed blob to the current pack and records it as pending. */
static int
collect(struct pk_blobstore *b, struct pk_sealjob *j)
{
	uint8_t slot[PK_INDEX_SLOT_BYTES];
	struct pk_blobloc loc;
	int e = j->err;

	if (e == -EBADMSG)
		e = pk_err(e, "%s: record %" PRIu64 " at byte %" PRIu64 ": chunk "
		    "%02x%02x%02x%02x…: its id does not match its data",
		    b->source, j->recno, j->offset, j->id[0], j->id[1],
		    j->id[2], j->id[3]);
	if (e == 0 && !b->pack_open) {
		if ((e = pk_pack_begin(&b->pack, b->repo)) == 0)
			b->pack_open = 1;
	}
	if (e == 0)
		e = pk_pack_append(&b->pack, j->sid, j->box.data, j->box.len,
		    (uint32_t)j->in.len, &loc);
	if (e == 0) {
		pk_index_slot_encode(slot, &loc);
		e = pk_hashfile_insert(b->pending, slot);
	}
	if (e == 0) {
		b->st.new_chunks++;
		b->st.stored += j->box.len;
		if (pk_pack_full(&b->pack))
			e = pack_finish(b);
	}
	pk_sealpool_put(b->pool, j);
	return e < 0 ? e : 0;
}

/* Collects done jobs; with wait, every job in flight. */
static int
drain(struct pk_blobstore *b, int wait)
{
	struct pk_sealjob *j;
	int e;

	while ((j = pk_sealpool_done(b->pool, wait)) != NULL)
		if ((e = collect(b, j)) < 0)
			return e;
	return 0;
}

int
pk_blobstore_has(struct pk_blobstore *b, const uint8_t id[PK_ID_BYTES],
    uint64_t *raw)
{
	uint8_t sid[PK_SID_BYTES];

	pk_storage_id(&b->repo->keys, sid, id);
	return has_sid(b, sid, raw);
}

int
pk_blobstore_put(struct pk_blobstore *b, const uint8_t id[PK_ID_BYTES],
    const uint8_t *p, uint32_t n, int verify, uint64_t recno, uint64_t offset)
{
	struct pk_sealjob *j, *d;
	uint8_t sid[PK_SID_BYTES];
	uint64_t raw;
	int e;

	pk_storage_id(&b->repo->keys, sid, id);
	if (has_sid(b, sid, &raw))
		return raw == n ? 1 : pk_err(-EBADMSG, "%s: record %" PRIu64
		    " at byte %" PRIu64 ": chunk length differs from the stored "
		    "one", b->source, recno, offset);
	if ((e = drain(b, 0)) < 0)
		return e;
	while ((j = pk_sealpool_get(b->pool)) == NULL)
		if ((d = pk_sealpool_done(b->pool, 1)) != NULL &&
		    (e = collect(b, d)) < 0)
			return e;
	memcpy(j->id, id, PK_ID_BYTES);
	memcpy(j->sid, sid, sizeof sid);
	j->verify = verify;
	j->recno = recno;
	j->offset = offset;
	if ((e = pk_buf_add(&j->in, p, n)) < 0) {
		pk_sealpool_put(b->pool, j);
		return e;
	}
	pk_sealpool_submit(b->pool, j);
	return 0;
}

static int
open_pending(struct pk_blobstore *b)
{
	struct pk_hashfile_params p;
	int e;

	if ((e = pk_repo_tmp_path(b->repo, "pending", b->pending_path,
	    sizeof b->pending_path)) < 0)
		return e;
	pk_index_params(b->repo, PK_HF_PENDING, &p);
	return pk_hashfile_open(&b->pending, b->pending_path, &p, PK_HF_CREATE);
}

int
pk_blobstore_open(struct pk_blobstore **bp, struct pk_repo *r, int level,
    int nthreads, const char *source)
{
	struct pk_blobstore *b;
	int e;

	if ((b = calloc(1, sizeof *b)) == NULL)
		return -ENOMEM;
	b->repo = r;
	b->source = source;
	b->pack.file.fd = -1;
	/* The lease first: a pk-gc that marks after it was put waits for
	 * it, one that marked before is seen in the listing. */
	if ((e = pk_lease_take(r, "store", &b->lease)) < 0 ||
	    (e = pk_gcmark_list(r, &b->marks, &b->nmarks)) < 0 ||
	    (e = pk_index_open(&b->index, r)) < 0 ||
	    (e = pk_pack_census_new(&b->census, r)) < 0 ||
	    (e = open_pending(b)) < 0 ||
	    (e = pk_sealpool_new(&b->pool, &r->keys, level,
	    nthreads > 0 ? nthreads : 1)) < 0) {
		pk_blobstore_free(b);
		return e;
	}
	*bp = b;
	return 0;
}

int
pk_blobstore_flush(struct pk_blobstore *b, char delta[PK_DELTA_NAME_BYTES])
{
	int e;

	if ((e = drain(b, 1)) < 0 || (e = pack_finish(b)) < 0 ||
	    (e = pk_storage_flush(b->repo->store)) < 0 ||
	    (e = pk_index_write_delta(b->repo, b->pending, delta)) < 0)
		return e;
	/* From here on the packs stay: the delta names them, and another
	 * process may have merged it already.  Without a snapshot they are
	 * only unreferenced data. */
	b->packs.len = 0;
	return 0;
}

void
pk_blobstore_merge(struct pk_blobstore *b, const char delta[PK_DELTA_NAME_BYTES])
{
	pk_index_close(&b->index);
	(void)pk_index_merge(b->repo, b->pending, delta);
	pk_err_clear();
}

const struct pk_blobstore_stats *
pk_blobstore_stats(const struct pk_blobstore *b)
{
	return &b->st;
}

const struct pk_index *
pk_blobstore_index(const struct pk_blobstore *b)
{
	return &b->index;
}

void
pk_blobstore_free(struct pk_blobstore *b)
{
	struct pk_err_saved why;
	size_t i;

	if (b == NULL)
		return;
	pk_err_save(&why);
	/* Workers must stop before their output is thrown away. */
	pk_sealpool_free(b->pool);
	if (b->pack_open)
		pk_pack_abort(&b->pack);
	/* Packs finished and not flushed are garbage nobody refers to, once
	 * those still being stored are. */
	(void)pk_storage_flush(b->repo->store);
	for (i = 0; i + PK_PACK_ID_BYTES <= b->packs.len; i += PK_PACK_ID_BYTES)
		(void)pk_pack_remove(b->repo, b->packs.data + i);
	pk_err_restore(&why);
	pk_buf_release(&b->packs);
	pk_hashfile_abort(b->pending);
	pk_index_close(&b->index);
	pk_pack_census_free(b->census);
	pk_gcmark_list_free(b->marks, b->nmarks);
	/* Last: the snapshot, if any, is committed. */
	pk_lease_drop(b->repo, &b->lease);
	free(b);
}
