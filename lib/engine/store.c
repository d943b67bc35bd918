#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blobstore.h"
#include "catalog.h"
#include "catwriter.h"
#include "entry.h"
#include "err.h"
#include "hash.h"
#include "origin.h"
#include "refscope.h"
#include "statcache.h"
#include "store.h"
#include "validate.h"

#define PROGRESS_BYTES	(64u << 20)

struct store {
	struct pk_repo *repo;
	struct pk_reader *in;
	struct pk_store_options *opt;
	struct pk_snapshot *snap;
	struct pk_validator v;		/* what the stream may hold */
	struct pk_blobstore *blobs;
	struct pk_catwriter *cat;
	int size_unknown;		/* the current file's */

	/* The stat cache of this snapshot, built as it goes. */
	struct pk_statcache_builder *cache;
	struct pk_buf cache_content;
	struct pk_refscope *refs;	/* the chunks it may refer to */
	int have_meta;			/* a copy: times from the original */
	int started;			/* past the first record */
	int64_t meta_end_sec;
	uint32_t meta_end_nsec;
	char *scope_host;		/* whose chunks REFs may name */
	char *root;			/* the current top-level path */
	size_t rootlen;
	uint64_t next_progress;
};

static int bad(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A stream that breaks a rule: the record and byte it was found at. */
static int
bad(struct store *s, const char *fmt, ...)
{
	char why[PK_ERR_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return pk_err(-EBADMSG, "%s: record %" PRIu64 " at byte %" PRIu64 ": %s",
	    pk_reader_name(s->in), pk_reader_recno(s->in),
	    pk_reader_offset(s->in), why);
}

/* Stores a chunk of the stream, or of the catalog (verify 0): 0, or 1
 * when the repository had it. */
static int
put_chunk(struct store *s, const uint8_t id[PK_ID_BYTES], const uint8_t *p,
    uint32_t n, int verify)
{
	return pk_blobstore_put(s->blobs, id, p, n, verify,
	    pk_reader_recno(s->in), pk_reader_offset(s->in));
}

static int
put_catalog_chunk(void *arg, const uint8_t id[PK_ID_BYTES], const uint8_t *p,
    uint32_t n)
{
	int e = put_chunk(arg, id, p, n, 0);

	return e < 0 ? e : 0;
}

static void
cache_fail(struct store *s, int e)
{
	s->opt->cache_failed = 1;
	snprintf(s->opt->cache_error, sizeof s->opt->cache_error, "%s",
	    pk_errmsg(e));
	pk_err_clear();		/* kept aside; the backup goes on */
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
	return pk_catwriter_put(s->cat, PK_REC_REF, p, sizeof p);
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
	pk_progress_add(s->opt->count, 1, 0);
	if (en->type == PK_FT_DIR)
		s->snap->dirs++;
	if (en->type == PK_FT_REG) {
		s->snap->files++;
		pk_buf_reset(&s->cache_content);
		s->size_unknown = en->size == PK_SIZE_UNKNOWN;
		if (s->size_unknown)
			pk_catwriter_hold(s->cat);
	}
	return pk_catwriter_put(s->cat, PK_REC_ENTRY, rec->data, rec->len);
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
	pk_progress_add(s->opt->count, 0, len);
	s->snap->chunks++;
	if ((e = put_chunk(s, id, data, len, 1)) < 0 ||
	    (e = pk_refscope_note(s->refs, id)) < 0)
		return e;
	return cat_ref(s, id, len);
}

static int
on_ref(struct store *s, const struct pk_record *rec)
{
	const uint8_t *id;
	char hex[17];
	uint64_t raw, marked;
	uint32_t len;
	int e;

	if ((e = validate(s, rec)) < 0)
		return e;
	pk_record_ref(rec, &id, &len);
	if ((e = cache_content(s, PK_REC_REF, rec->data, rec->len)) < 0)
		return e;
	s->snap->bytes += len;
	pk_progress_add(s->opt->count, 0, len);
	pk_hex(hex, id, 8);
	if ((e = pk_refscope_allows(s->refs, id)) < 0)
		return e;
	if (e == 0) {
		return bad(s, "REF to chunk %s…, which the stream did not carry "
		    "and no snapshot of host %s holds: refused (pk-store "
		    "--trust-refs accepts any chunk of the repository)", hex,
		    s->scope_host ? s->scope_host : "(none)");
	}
	marked = pk_blobstore_stats(s->blobs)->marked_blobs;
	if (!pk_blobstore_has(s->blobs, id, &raw)) {
		s->opt->missing_chunk = 1;
		if (pk_refscope_known(s->refs, id))
			s->opt->stale_cache = 1;
		if (pk_blobstore_stats(s->blobs)->marked_blobs > marked)
			return bad(s, "chunk %s… is one pk-gc is deleting", hex);
		return bad(s, "chunk %s… is not in the repository", hex);
	}
	if (raw != len)
		return bad(s, "%s", "REF length differs from the stored chunk");
	if ((e = pk_refscope_note(s->refs, id)) < 0)
		return e;
	s->snap->chunks++;
	return pk_catwriter_put(s->cat, PK_REC_REF, rec->data, rec->len);
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
	pk_progress_add(s->opt->count, 0, n);
	if ((e = cache_content(s, PK_REC_HOLE, rec->data, rec->len)) < 0)
		return e;
	return pk_catwriter_put(s->cat, PK_REC_HOLE, rec->data, rec->len);
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
	if (s->size_unknown && (e = pk_catwriter_release(s->cat, size)) < 0)
		return e;
	s->size_unknown = 0;
	return pk_catwriter_put(s->cat, PK_REC_EOF, rec->data, rec->len);
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

/* Replaces a string of the snapshot with a non-empty one of the stream. */
static int
take_str(char **to, const struct pk_str *from)
{
	char *p;

	if (from->len == 0)
		return 0;
	if ((p = strndup((const char *)from->p, from->len)) == NULL)
		return -ENOMEM;
	free(*to);
	*to = p;
	return 0;
}

/* A walk's own host, user and start, read before anything else: the host
 * chooses the stat cache and the chunks the stream may refer to, and the
 * start is when its files were read. */
static int
on_walk(struct store *s, const struct pk_record *rec)
{
	struct pk_buf roots = PK_BUF_INIT;
	struct pk_origin o;
	int e;

	if (s->started)
		return bad(s, "%s", "WALK record not right after the header");
	e = pk_record_origin(rec, &o, &roots);
	if (e == -EBADMSG)
		e = bad(s, "%s", "bad WALK record");
	if (e == 0) {
		s->snap->start_sec = o.start_sec;
		s->snap->start_nsec = o.start_nsec;
		if (s->opt->host == NULL || s->opt->host_is_default)
			e = take_str(&s->snap->host, &o.host);
	}
	if (e == 0)
		e = take_str(&s->snap->user, &o.user);
	pk_buf_release(&roots);
	return e;
}

static int
on_total(struct store *s, const struct pk_record *rec)
{
	uint64_t files, bytes;

	if (pk_record_total(rec, &files, &bytes) < 0)
		return bad(s, "%s", "bad TOTAL record");
	pk_progress_total(s->opt->count, files, bytes);
	return 0;
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
		return pk_catwriter_put(s->cat, PK_REC_ERROR, rec->data,
		    rec->len);
	case PK_REC_DATA:
		return bad(s, "%s", "unchunked file data (pipe the stream "
		    "through pk-chunk)");
	case PK_REC_META:
		return on_meta(s, rec);
	case PK_REC_WALK:
		return on_walk(s, rec);
	case PK_REC_TOTAL:
		return on_total(s, rec);
	}
	return validate(s, rec);
}

static int
commit(struct store *s)
{
	char delta[PK_DELTA_NAME_BYTES];
	struct timespec ts;
	int e;

	if ((e = pk_catwriter_end(s->cat)) < 0 ||
	    (e = pk_blobstore_flush(s->blobs, delta)) < 0)
		return e;
	s->snap->new_chunks = pk_blobstore_stats(s->blobs)->new_chunks;
	s->snap->stored = pk_blobstore_stats(s->blobs)->stored;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->snap->end_sec = s->have_meta ? s->meta_end_sec : ts.tv_sec;
	s->snap->end_nsec = s->have_meta ? s->meta_end_nsec : (uint32_t)ts.tv_nsec;
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
	if ((e = pk_refscope_commit(s->refs)) < 0) {
		s->opt->cache_failed = 1;
		snprintf(s->opt->cache_error, sizeof s->opt->cache_error, "%s",
		    pk_errmsg(e));
	}
	pk_blobstore_merge(s->blobs, delta);
	return 0;
}

static int
run(struct store *s)
{
	struct pk_stream_header h;
	struct pk_record rec;
	struct timespec ts;
	struct pk_store_progress pr;
	int n, e;
	size_t i;

	if ((e = pk_reader_header(s->in, &h)) < 0)
		return e;
	/* Every chunk's id is checked as it is sealed (put_chunk). */
	pk_reader_defer_ids(s->in);
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
	/* A walk's record comes first: its host and time set up the rest. */
	if ((n = pk_reader_next(s->in, &rec)) < 0)
		return n;
	if (n > 0 && rec.type == PK_REC_WALK && (e = on_walk(s, &rec)) < 0)
		return e;
	s->started = 1;
	if (s->opt->choose_caches)
		s->opt->choose_caches(s->opt->choose_arg, s->opt, s->snap->host);
	if ((e = pk_blobstore_open(&s->blobs, s->repo, s->opt->level,
	    s->opt->threads, pk_reader_name(s->in))) < 0 ||
	    (e = pk_catwriter_new(&s->cat, &h, s->snap, put_catalog_chunk,
	    s)) < 0)
		return e;
	if (s->opt->cache && (e = pk_statcache_build_begin(&s->cache,
	    s->opt->cache, s->repo->id, s->repo->generation,
	    s->snap->start_sec)) < 0)
		cache_fail(s, e);
	/* A copy's META, later, changes the snapshot's host, not this. */
	if (s->snap->host && (s->scope_host = strdup(s->snap->host)) == NULL)
		return -ENOMEM;
	if ((e = pk_refscope_open(&s->refs, s->repo,
	    pk_blobstore_index(s->blobs), s->scope_host, s->opt->known,
	    s->opt->trust_refs)) < 0)
		return e;
	s->next_progress = PROGRESS_BYTES;
	if (n > 0 && rec.type == PK_REC_WALK)
		n = pk_reader_next(s->in, &rec);
	for (; n > 0; n = pk_reader_next(s->in, &rec)) {
		if ((e = on_record(s, &rec)) < 0)
			return e;
		if (s->opt->progress && pk_reader_bytes(s->in) >= s->next_progress) {
			s->next_progress += PROGRESS_BYTES;
			pr.files = s->snap->files;
			pr.bytes = pk_reader_bytes(s->in);
			pr.stored = pk_blobstore_stats(s->blobs)->stored;
			pr.new_chunks = pk_blobstore_stats(s->blobs)->new_chunks;
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
	pk_validator_init(&s->v, 0);
	e = run(s);
	if (s->blobs)
		o->lost_blobs = pk_blobstore_stats(s->blobs)->lost_blobs;
	/* Before the flush, this removes the packs of the run. */
	pk_blobstore_free(s->blobs);
	if (e < 0)
		pk_snapshot_release(snap);
	pk_catwriter_free(s->cat);
	pk_statcache_build_abort(s->cache);
	pk_buf_release(&s->cache_content);
	pk_refscope_free(s->refs);
	pk_validator_release(&s->v);
	free(s->scope_host);
	free(s->root);
	free(s);
	return e;
}
