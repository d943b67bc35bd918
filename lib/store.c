#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "chunker.h"
#include "entry.h"
#include "err.h"
#include "hash.h"
#include "index.h"
#include "pack.h"
#include "sealpool.h"
#include "known.h"
#include "statcache.h"
#include "store.h"
#include "validate.h"

#define PROGRESS_BYTES	(64u << 20)

struct store {
	struct pk_repo *repo;
	struct pk_reader *in;
	struct pk_store_options *opt;
	struct pk_snapshot *snap;
	struct pk_index index;
	struct pk_hashfile *pending;	/* blobs written by this run */
	struct pk_validator v;		/* what the stream may hold */
	struct pk_pack_census *census;	/* packs the chunk index names */
	char pending_path[4096];
	struct pk_sealpool *pool;
	struct pk_pack_writer pack;
	int pack_open;
	struct pk_buf packs;		/* ids of packs this run committed */

	/* The catalog: a record stream cut into chunks as it is written. */
	struct pk_writer *cat;
	struct pk_chunker catc;
	struct pk_buf catbuf;
	uint32_t catcap;
	struct pk_seekbuild seek;

	int size_unknown;		/* catalog records wait in held */
	struct pk_buf held;		/* type, u32 length, payload... */

	/* The stat cache of this snapshot, built as it goes. */
	struct pk_statcache_builder *cache;
	struct pk_buf cache_content;
	/* The chunks the stream may refer to (pk-repo(5) SECURITY): those
	 * in the host's known-chunk set, and in mine those that the stream
	 * carried or was let refer to, and the chunks of the host's
	 * snapshots when the set lacked one (host_read).  Mine is added to
	 * the set at commit. */
	struct pk_known *known;
	struct pk_hashfile *mine;
	int host_read;
	int have_meta;			/* a copy: times from the original */
	int64_t meta_end_sec;
	uint32_t meta_end_nsec;
	char *root;			/* the current top-level path */
	size_t rootlen;
	uint64_t next_progress;
};

static int
bad(struct store *s, const char *fmt, const char *arg)
{
	char why[512];

	snprintf(why, sizeof why, fmt, arg);
	return pk_err(-EBADMSG, "%s: record %" PRIu64 " at byte %" PRIu64 ": %s",
	    pk_reader_name(s->in), pk_reader_recno(s->in),
	    pk_reader_offset(s->in), why);
}

/*
 * Whether the repository or this run has the blob; *raw is its length.  A
 * blob the chunk index places in a pack that is gone is not had: it is
 * stored again, and the chunk index takes the new place at the merge.
 */
static int
known(struct store *s, const uint8_t sid[32], uint64_t *raw)
{
	const struct pk_sealjob *j;
	const uint8_t *slot = pk_hashfile_find(s->pending, sid);
	struct pk_blobloc loc;

	/* A pending slot damaged on disk is stored again; the delta
	 * writer refuses the set. */
	if (slot != NULL && pk_index_slot_decode(&loc, slot) == 0) {
		*raw = loc.raw;
		return 1;
	}
	if (pk_index_find(&s->index, sid, &loc)) {
		if (pk_pack_census_alive(s->census, loc.pack) > 0) {
			*raw = loc.raw;
			return 1;
		}
		s->opt->lost_blobs++;
	}
	if ((j = pk_sealpool_busy(s->pool, sid)) != NULL) {
		*raw = j->in.len;
		return 1;
	}
	return 0;
}

static int
pack_finish(struct store *s)
{
	int e;

	if (!s->pack_open)
		return 0;
	s->pack_open = 0;
	if ((e = pk_pack_finish(&s->pack)) < 0)
		return e;
	return pk_buf_add(&s->packs, s->pack.id, sizeof s->pack.id);
}

/* Appends a sealed blob to the current pack and records it as pending. */
static int
collect(struct store *s, struct pk_sealjob *j)
{
	uint8_t slot[PK_INDEX_SLOT_BYTES];
	struct pk_blobloc loc;
	int e = j->err;

	if (e == -EBADMSG)
		e = pk_err(e, "%s: record %" PRIu64 " at byte %" PRIu64 ": chunk "
		    "%02x%02x%02x%02x…: its id does not match its data",
		    pk_reader_name(s->in), j->recno, j->offset, j->id[0], j->id[1],
		    j->id[2], j->id[3]);
	if (e == 0 && !s->pack_open) {
		if ((e = pk_pack_begin(&s->pack, s->repo)) == 0)
			s->pack_open = 1;
	}
	if (e == 0)
		e = pk_pack_append(&s->pack, j->sid, j->box.data, j->box.len,
		    (uint32_t)j->in.len, &loc);
	if (e == 0) {
		pk_index_slot_encode(slot, &loc);
		e = pk_hashfile_insert(s->pending, slot);
	}
	if (e == 0) {
		s->snap->new_chunks++;
		s->snap->stored += j->box.len;
		if (pk_pack_full(&s->pack))
			e = pack_finish(s);
	}
	pk_sealpool_put(s->pool, j);
	return e < 0 ? e : 0;
}

/* Collects done jobs; with wait, every job in flight. */
static int
drain(struct store *s, int wait)
{
	struct pk_sealjob *j;
	int e;

	while ((j = pk_sealpool_done(s->pool, wait)) != NULL)
		if ((e = collect(s, j)) < 0)
			return e;
	return 0;
}

/* Stores a chunk unless the repository has it already. */
static int
put_chunk(struct store *s, const uint8_t id[PK_ID_BYTES], const uint8_t *p,
    uint32_t n, int verify)
{
	struct pk_sealjob *j;
	uint8_t sid[32];
	uint64_t raw;
	int e;

	pk_storage_id(&s->repo->keys, sid, id);
	s->snap->chunks++;
	if (known(s, sid, &raw)) {
		if (raw != n)
			return bad(s, "%s", "chunk length differs from the stored one");
		return 0;
	}
	if ((e = drain(s, 0)) < 0)
		return e;
	while ((j = pk_sealpool_get(s->pool)) == NULL) {
		struct pk_sealjob *d = pk_sealpool_done(s->pool, 1);

		if (d != NULL && (e = collect(s, d)) < 0)
			return e;
	}
	memcpy(j->id, id, PK_ID_BYTES);
	memcpy(j->sid, sid, sizeof sid);
	j->verify = verify;
	j->recno = pk_reader_recno(s->in);
	j->offset = pk_reader_offset(s->in);
	if ((e = pk_buf_add(&j->in, p, n)) < 0) {
		pk_sealpool_put(s->pool, j);
		return e;
	}
	pk_sealpool_submit(s->pool, j);
	return 0;
}

static int
cat_cut(struct store *s, int final)
{
	struct pk_catalog_chunk *cc;
	uint8_t id[PK_ID_BYTES];
	size_t n;
	int e;

	while (s->catbuf.len > 0 && (final || s->catbuf.len >= s->catc.max)) {
		n = pk_chunker_cut(&s->catc, s->catbuf.data, s->catbuf.len);
		pk_hash_id(id, s->catbuf.data, n);
		if ((e = put_chunk(s, id, s->catbuf.data, (uint32_t)n, 0)) < 0)
			return e;
		s->snap->chunks--;	/* count file data only */
		if (s->snap->ncatalog == s->catcap) {
			s->catcap = s->catcap ? 2 * s->catcap : 64;
			cc = realloc(s->snap->catalog, s->catcap * sizeof *cc);
			if (cc == NULL)
				return -ENOMEM;
			s->snap->catalog = cc;
		}
		cc = &s->snap->catalog[s->snap->ncatalog++];
		memcpy(cc->id, id, sizeof id);
		cc->len = (uint32_t)n;
		if ((e = pk_seekbuild_chunk(&s->seek, cc, &s->snap->keys)) < 0)
			return e;
		s->snap->catalog_bytes += n;
		memmove(s->catbuf.data, s->catbuf.data + n, s->catbuf.len - n);
		s->catbuf.len -= n;
	}
	return 0;
}

static int
cat_sink(void *arg, const void *p, size_t n)
{
	struct store *s = arg;
	int e;

	if ((e = pk_buf_add(&s->catbuf, p, n)) < 0)
		return e;
	return cat_cut(s, 0);
}

/* A catalog record, its ENTRYs noted for the seek table. */
static int
cat_write(struct store *s, uint8_t type, const uint8_t *p, size_t n)
{
	struct pk_str path;
	int e;

	if (type == PK_REC_ENTRY && pk_entry_path(&path, p, n) == 0 &&
	    (e = pk_seekbuild_entry(&s->seek, pk_writer_bytes(s->cat),
	    pk_writer_records(s->cat), path.p, path.len)) < 0)
		return e;
	return pk_writer_put(s->cat, type, 0, p, n);
}

/* A catalog record, held back while the current file's size is unknown. */
static int
cat_put(struct store *s, uint8_t type, const void *p, size_t n)
{
	int e;

	if (!s->size_unknown)
		return cat_write(s, type, p, n);
	if ((e = pk_buf_add_u8(&s->held, type)) < 0 ||
	    (e = pk_buf_add_str(&s->held, p, n)) < 0)
		return e;
	return 0;
}

/* The size is known at EOF: patch the held ENTRY and write them all. */
static int
cat_release_held(struct store *s, uint64_t size)
{
	struct pk_cursor c;
	const uint8_t *p;
	size_t n;
	uint8_t type;
	int e = 0;

	/* ENTRY payload: type, 3 reserved bytes, mode, uid, gid, then size. */
	pk_put_u64(s->held.data + 5 + 16, size);
	pk_cursor_init(&c, s->held.data, s->held.len);
	while (e == 0 && c.left > 0) {
		type = pk_get_u8(&c);
		p = pk_get_str(&c, SIZE_MAX, &n);
		e = cat_write(s, type, p, n);
	}
	s->size_unknown = 0;
	pk_buf_reset(&s->held);
	return e;
}

/* From here on the stream may refer to chunk id. */
static int
note_chunk(struct store *s, const uint8_t id[PK_ID_BYTES])
{
	int e = pk_hashfile_insert(s->mine, id);

	return e == 1 || e == -EINVAL ? 0 : e;	/* had it; all-zero prefix */
}

static int
note_host_chunk(void *arg, const uint8_t id[PK_ID_BYTES])
{
	return note_chunk(arg, id);
}

/* The chunks of the host's snapshots, into mine. */
static int
read_host_chunks(struct store *s)
{
	struct pk_snapshot *list;
	size_t n, i;
	int e;

	s->host_read = 1;
	if (s->opt->host == NULL)
		return 0;
	if ((e = pk_snapshot_list(s->repo, &list, &n, NULL)) < 0)
		return e;
	for (i = 0; i < n && e == 0; i++)
		if (list[i].host && strcmp(list[i].host, s->opt->host) == 0)
			e = pk_catalog_chunks(s->repo, &s->index, &list[i],
			    note_host_chunk, s);
	pk_snapshot_list_free(list, n);
	return e;
}

/* 1 when the stream may refer to chunk id without sending it, else 0,
 * or <0.  Whether the repository holds it plays no part: the answer must
 * not tell a stream what others stored. */
static int
may_refer(struct store *s, const uint8_t id[PK_ID_BYTES])
{
	int e;

	if (s->opt->trust_refs || pk_hashfile_find(s->mine, id) != NULL ||
	    (s->known && pk_known_has(s->known, id)))
		return 1;
	if (s->host_read)
		return 0;
	if ((e = read_host_chunks(s)) < 0)
		return e;
	return pk_hashfile_find(s->mine, id) != NULL;
}

static void
cache_fail(struct store *s, int e)
{
	s->opt->cache_failed = 1;
	snprintf(s->opt->cache_error, sizeof s->opt->cache_error, "%s",
	    pk_errmsg(e));
	pk_statcache_build_abort(s->cache);
	s->cache = NULL;
}

/* A content record of the current file, for the stat cache. */
static int
cache_content(struct store *s, uint8_t type, const void *p, size_t n)
{
	int e;

	if (s->cache == NULL)
		return 0;
	if ((e = pk_buf_add_u8(&s->cache_content, type)) < 0 ||
	    (e = pk_buf_add_str(&s->cache_content, p, n)) < 0)
		return e;
	return 0;
}

/* The entry the validator holds is the file's, up to the next ENTRY. */
static void
cache_file(struct store *s, uint32_t eof_flags)
{
	int r;

	if (s->cache == NULL)
		return;
	r = pk_statcache_build_file(s->cache, &s->v.e, s->cache_content.data,
	    s->cache_content.len, eof_flags);
	if (r < 0)
		cache_fail(s, r);
}

static int
cat_ref(struct store *s, const uint8_t id[PK_ID_BYTES], uint32_t len)
{
	uint8_t p[PK_ID_BYTES + 4];
	int e;

	memcpy(p, id, PK_ID_BYTES);
	pk_put_u32(p + PK_ID_BYTES, len);
	if ((e = cache_content(s, PK_REC_REF, p, sizeof p)) < 0)
		return e;
	return cat_put(s, PK_REC_REF, p, sizeof p);
}

static int
track_root(struct store *s, const struct pk_str *path)
{
	if (s->root != NULL && (s->rootlen == 1 && s->root[0] == '.'))
		return 0;
	if (s->root != NULL && path->len >= s->rootlen &&
	    memcmp(path->p, s->root, s->rootlen) == 0 &&
	    (path->len == s->rootlen || path->p[s->rootlen] == '/'))
		return 0;
	free(s->root);
	if ((s->root = strndup((const char *)path->p, path->len)) == NULL)
		return -ENOMEM;
	s->rootlen = path->len;
	return pk_snapshot_add_path(s->snap, s->root, s->rootlen);
}

/* Runs the validator over rec; a problem names the record. */
static int
validate(struct store *s, const struct pk_record *rec)
{
	int e = pk_validate(&s->v, rec);

	return e == -EBADMSG ? bad(s, "%s", pk_errmsg(e)) : e;
}

static int
on_entry(struct store *s, const struct pk_record *rec)
{
	const struct pk_entry *en = &s->v.e;
	int e;

	if ((e = validate(s, rec)) < 0 || (e = track_root(s, &en->path)) < 0)
		return e;
	s->snap->entries++;
	if (en->type == PK_FT_DIR)
		s->snap->dirs++;
	if (en->type == PK_FT_REG) {
		s->snap->files++;
		pk_buf_reset(&s->cache_content);
		s->size_unknown = en->size == PK_SIZE_UNKNOWN;
	}
	return cat_put(s, PK_REC_ENTRY, rec->data, rec->len);
}

static int
on_chunk(struct store *s, const struct pk_record *rec)
{
	const uint8_t *id, *data;
	uint32_t len;
	int e;

	if ((e = validate(s, rec)) < 0)
		return e;
	pk_record_chunk(rec, &id, &data, &len);
	s->snap->bytes += len;
	if ((e = put_chunk(s, id, data, len, 1)) < 0 ||
	    (e = note_chunk(s, id)) < 0)
		return e;
	return cat_ref(s, id, len);
}

static int
on_ref(struct store *s, const struct pk_record *rec)
{
	uint8_t sid[32];
	const uint8_t *id;
	char hex[17], why[512];
	uint64_t raw;
	uint32_t len;
	int e;

	if ((e = validate(s, rec)) < 0)
		return e;
	pk_record_ref(rec, &id, &len);
	if ((e = cache_content(s, PK_REC_REF, rec->data, rec->len)) < 0)
		return e;
	s->snap->bytes += len;
	pk_hex(hex, id, 8);
	if ((e = may_refer(s, id)) < 0)
		return e;
	if (e == 0) {
		snprintf(why, sizeof why, "REF to chunk %s…, which the stream "
		    "did not carry and no snapshot of host %s holds: refused "
		    "(pk-store --trust-refs accepts any chunk of the repository)",
		    hex, s->opt->host ? s->opt->host : "(none)");
		return bad(s, "%s", why);
	}
	pk_storage_id(&s->repo->keys, sid, id);
	if (!known(s, sid, &raw)) {
		s->opt->missing_chunk = 1;
		if (s->known && pk_known_has(s->known, id))
			s->opt->stale_cache = 1;
		return bad(s, "chunk %s… is not in the repository", hex);
	}
	if (raw != len)
		return bad(s, "%s", "REF length differs from the stored chunk");
	if ((e = note_chunk(s, id)) < 0)
		return e;
	s->snap->chunks++;
	return cat_put(s, PK_REC_REF, rec->data, rec->len);
}

static int
on_hole(struct store *s, const struct pk_record *rec)
{
	uint64_t n;
	int e;

	if ((e = validate(s, rec)) < 0)
		return e;
	pk_record_hole(rec, &n);
	s->snap->bytes += n;
	if ((e = cache_content(s, PK_REC_HOLE, rec->data, rec->len)) < 0)
		return e;
	return cat_put(s, PK_REC_HOLE, rec->data, rec->len);
}

static int
on_eof(struct store *s, const struct pk_record *rec)
{
	uint64_t size;
	uint32_t flags;
	int e;

	if ((e = validate(s, rec)) < 0)
		return e;
	pk_record_eof(rec, &size, &flags);
	if (!s->size_unknown)
		cache_file(s, flags);
	if (s->size_unknown && (e = cat_release_held(s, size)) < 0)
		return e;
	return pk_writer_put(s->cat, PK_REC_EOF, 0, rec->data, rec->len);
}

/* A copied snapshot keeps its times, host, user and tags; the tags given
 * to this run are added, a host given to this run wins. */
static int
on_meta(struct store *s, const struct pk_record *rec)
{
	struct pk_snapshot m = { 0 };
	uint32_t i;
	int e;

	if (s->have_meta++)
		return bad(s, "%s", "more than one META record");
	if (pk_snapshot_meta_decode(&m, rec->data, rec->len) < 0) {
		pk_snapshot_release(&m);
		return bad(s, "%s", "bad META record");
	}
	s->snap->start_sec = m.start_sec;
	s->snap->start_nsec = m.start_nsec;
	/* Its files were read when the copied snapshot started. */
	if (s->cache)
		pk_statcache_build_not_before(s->cache, m.start_sec);
	s->meta_end_sec = m.end_sec;
	s->meta_end_nsec = m.end_nsec;
	if (s->opt->host == NULL || s->opt->host_is_default) {
		free(s->snap->host);
		s->snap->host = m.host;
		m.host = NULL;
	}
	free(s->snap->user);
	s->snap->user = m.user;
	m.user = NULL;
	for (i = 0, e = 0; i < m.ntags && e == 0; i++)
		e = pk_snapshot_add_tag(s->snap, m.tags[i]);
	pk_snapshot_release(&m);
	return e;
}

static int
on_record(struct store *s, const struct pk_record *rec)
{
	int e;

	switch (rec->type) {
	case PK_REC_ENTRY:
		return on_entry(s, rec);
	case PK_REC_CHUNK:
		return on_chunk(s, rec);
	case PK_REC_REF:
		return on_ref(s, rec);
	case PK_REC_HOLE:
		return on_hole(s, rec);
	case PK_REC_EOF:
		return on_eof(s, rec);
	case PK_REC_ERROR:
		if ((e = validate(s, rec)) < 0)
			return e;
		s->snap->errors++;
		return cat_put(s, PK_REC_ERROR, rec->data, rec->len);
	case PK_REC_DATA:
		return bad(s, "%s", "unchunked file data (pipe the stream "
		    "through pk-chunk)");
	case PK_REC_META:
		return on_meta(s, rec);
	}
	return validate(s, rec);
}

static int
open_pending(struct store *s)
{
	struct pk_hashfile_params p;
	uint8_t rnd[8];
	char hex[17];
	int e;

	pk_random(rnd, sizeof rnd);
	pk_hex(hex, rnd, sizeof rnd);
	if ((e = pk_path(s->pending_path, sizeof s->pending_path,
	    "%s/tmp/pending-%s", s->repo->path, hex)) < 0)
		return e;
	pk_index_params(s->repo, PK_HF_PENDING, &p);
	return pk_hashfile_open(&s->pending, s->pending_path, &p, PK_HF_CREATE);
}

static void
drop_pending(struct store *s)
{
	pk_hashfile_abort(s->pending);
	s->pending = NULL;
}

/* After a failure, the packs of this run are garbage nobody refers to. */
static void
drop_packs(struct store *s)
{
	char path[4096];
	size_t i;

	if (s->pack_open)
		pk_pack_abort(&s->pack);
	s->pack_open = 0;
	for (i = 0; i + PK_PACK_ID_BYTES <= s->packs.len; i += PK_PACK_ID_BYTES)
		if (pk_pack_path(s->repo, path, sizeof path, s->packs.data + i) == 0)
			unlink(path);
}

struct newknown {
	const struct pk_known *known;
	struct pk_buf ids;
};

static int
collect_new(void *arg, const void *id)
{
	struct newknown *nk = arg;

	if (nk->known && pk_known_has(nk->known, id))
		return 0;
	return pk_buf_add(&nk->ids, id, PK_KNOWN_KEY_BYTES);
}

/* Adds the chunks of mine that the known-chunk set lacks to it. */
static int
add_known(struct store *s)
{
	struct newknown nk = { s->known, PK_BUF_INIT };
	int e;

	e = pk_hashfile_foreach(s->mine, collect_new, &nk);
	pk_known_close(s->known);
	s->known = NULL;
	if (e == 0)
		e = pk_known_add(s->opt->known, s->repo->id, s->repo->generation,
		    nk.ids.data, nk.ids.len / PK_KNOWN_KEY_BYTES);
	pk_buf_release(&nk.ids);
	return e;
}

static int
commit(struct store *s)
{
	char delta[PK_DELTA_NAME_BYTES];
	struct timespec ts;
	int e;

	if ((e = pk_writer_end(s->cat)) < 0 || (e = cat_cut(s, 1)) < 0 ||
	    (e = drain(s, 1)) < 0 || (e = pack_finish(s)) < 0)
		return e;
	if ((e = pk_index_write_delta(s->repo, s->pending, delta)) < 0)
		return e;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->snap->end_sec = s->have_meta ? s->meta_end_sec : ts.tv_sec;
	s->snap->end_nsec = s->have_meta ? s->meta_end_nsec : (uint32_t)ts.tv_nsec;
	/* From here on the packs stay: the delta names them, and another
	 * process may have merged it already.  Without a snapshot they are
	 * only unreferenced data. */
	s->packs.len = 0;
	if ((e = pk_snapshot_write(s->repo, s->snap)) < 0)
		return e;
	/* Committed: the stat cache may now describe it. */
	if (s->cache) {
		if ((e = pk_statcache_build_commit(s->cache)) < 0) {
			s->cache = NULL;
			cache_fail(s, e);
		}
		s->cache = NULL;
	}
	if (s->opt->known) {
		e = add_known(s);
		if (e < 0) {
			s->opt->cache_failed = 1;
			snprintf(s->opt->cache_error, sizeof s->opt->cache_error,
			    "%s", pk_errmsg(e));
		}
	}
	/* A failure to update the chunk index now only costs a rebuild from
	 * the deltas at the next open. */
	pk_index_close(&s->index);
	(void)pk_index_merge(s->repo, s->pending, delta);
	return 0;
}

static int
run(struct store *s)
{
	struct pk_stream_header h;
	struct pk_record rec;
	struct timespec ts;
	struct pk_store_progress pr;
	struct pk_hashfile_params mine = { .kind = PK_HF_KNOWN,
	    .slot_bytes = PK_KNOWN_KEY_BYTES, .key_bytes = PK_KNOWN_KEY_BYTES };
	int n, e;
	size_t i;

	if ((e = pk_reader_header(s->in, &h)) < 0)
		return e;
	if (h.chunk_max == 0)
		return pk_err(-EBADMSG, "%s: stream is not chunked (pipe it "
		    "through pk-chunk)", pk_reader_name(s->in));
	s->opt->chunker_mismatch = h.chunk_min != s->repo->params.chunk_min ||
	    h.chunk_avg != s->repo->params.chunk_avg ||
	    h.chunk_max != s->repo->params.chunk_max;
	s->snap->chunk_min = h.chunk_min;
	s->snap->chunk_avg = h.chunk_avg;
	s->snap->chunk_max = h.chunk_max;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->snap->start_sec = ts.tv_sec;
	s->snap->start_nsec = (uint32_t)ts.tv_nsec;
	if ((s->opt->host && (s->snap->host = strdup(s->opt->host)) == NULL) ||
	    (s->opt->user && (s->snap->user = strdup(s->opt->user)) == NULL))
		return -ENOMEM;
	for (i = 0; i < s->opt->ntags; i++)
		if ((e = pk_snapshot_add_tag(s->snap, s->opt->tags[i])) < 0)
			return e;
	pk_chunker_init(&s->catc, PK_CATALOG_CHUNK_MIN, PK_CATALOG_CHUNK_AVG,
	    PK_CATALOG_CHUNK_MAX);
	if ((e = pk_index_open(&s->index, s->repo)) < 0 ||
	    (e = pk_pack_census_new(&s->census, s->repo)) < 0 ||
	    (e = open_pending(s)) < 0 ||
	    (e = pk_sealpool_new(&s->pool, &s->repo->keys, s->opt->level,
	    s->opt->threads > 0 ? s->opt->threads : 1)) < 0 ||
	    (e = pk_writer_new_sink(&s->cat, cat_sink, s, &h)) < 0)
		return e;
	if (s->opt->cache && (e = pk_statcache_build_begin(&s->cache,
	    s->opt->cache, s->repo->id, s->repo->generation,
	    s->snap->start_sec)) < 0)
		cache_fail(s, e);
	if (s->opt->known)
		(void)pk_known_open(&s->known, s->opt->known, s->repo->id);
	if ((e = pk_hashfile_open(&s->mine, "chunks of the stream", &mine,
	    PK_HF_CREATE | PK_HF_MEMORY)) < 0)
		return e;
	s->next_progress = PROGRESS_BYTES;
	while ((n = pk_reader_next(s->in, &rec)) > 0) {
		if ((e = on_record(s, &rec)) < 0)
			return e;
		if (s->opt->progress && pk_reader_bytes(s->in) >= s->next_progress) {
			s->next_progress += PROGRESS_BYTES;
			pr.files = s->snap->files;
			pr.bytes = pk_reader_bytes(s->in);
			pr.stored = s->snap->stored;
			pr.new_chunks = s->snap->new_chunks;
			s->opt->progress(s->opt->progress_arg, &pr);
		}
	}
	if (n < 0)
		return n;
	if ((e = pk_validate_end(&s->v)) < 0)
		return bad(s, "%s", pk_errmsg(e));
	return commit(s);
}

int
pk_store_stream(struct pk_repo *repo, struct pk_reader *r,
    struct pk_store_options *o, struct pk_snapshot *snap)
{
	struct store *s;
	int e;

	memset(snap, 0, sizeof *snap);
	if ((s = calloc(1, sizeof *s)) == NULL)
		return -ENOMEM;
	s->repo = repo;
	s->in = r;
	s->opt = o;
	s->snap = snap;
	s->pack.file.fd = -1;
	pk_validator_init(&s->v, 0);
	e = run(s);
	if (e < 0) {
		/* Workers must stop before their output is thrown away. */
		pk_sealpool_free(s->pool);
		s->pool = NULL;
		drop_packs(s);
		pk_snapshot_release(snap);
	}
	pk_statcache_build_abort(s->cache);
	pk_buf_release(&s->cache_content);
	pk_known_close(s->known);
	pk_hashfile_abort(s->mine);
	drop_pending(s);
	pk_index_close(&s->index);
	pk_writer_free(s->cat);
	pk_sealpool_free(s->pool);
	pk_buf_release(&s->packs);
	pk_buf_release(&s->catbuf);
	pk_seekbuild_release(&s->seek);
	pk_buf_release(&s->held);
	pk_validator_release(&s->v);
	pk_pack_census_free(s->census);
	free(s->root);
	free(s);
	return e;
}
