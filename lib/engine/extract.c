#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "entry.h"
#include "err.h"
#include "extract.h"
#include "fetch.h"
#include "fetchpool.h"
#include "io.h"
#include "packread.h"
#include "tar.h"

struct extract {
	struct pk_repo *repo;
	const struct pk_index *ix;
	const struct pk_extract_options *o;
	struct pk_extract_result *res;
	struct pk_catalog *cat;
	struct pk_stream_header h;
	struct pk_blob_reader br;
	enum pk_extract_mode mode;
	const char *sel;
	size_t sellen;
	struct pk_tar *tar;
	struct pk_writer *out;
	struct pk_buf entbuf, xbuf, held, data, map;
	size_t nrefs;		/* chunks in held */
	struct pk_fetchpool *pool;	/* made for the first file of chunks */
	/* Restores of everything: a second reader of the catalog queues
	 * the chunks of the files to come, all of them (cross is set). */
	struct pk_catalog *ahead;
	int cross;
	struct pk_entry e;
	char *hardlink;		/* AUTO mode: the path a selected link names */
	const struct pk_snapshot *snap;
	int held_ready;		/* held has the current file's content */
	int skipping;		/* a bad entry: its content is left out */
};

static int
selected(const struct extract *x, const struct pk_str *p)
{
	return x->sel == NULL || pk_path_under(p->p, p->len,
	    (const uint8_t *)x->sel, x->sellen);
}

int
pk_extract_select(const struct pk_record *rec, const char *sel,
    size_t sellen, int *seen)
{
	struct pk_str path;

	if (pk_entry_path(&path, rec->data, rec->len) < 0)
		return pk_err(-EBADMSG, "catalog: entry: truncated path");
	if (sel != NULL && !pk_path_under(path.p, path.len,
	    (const uint8_t *)sel, sellen))
		return *seen ? PK_EXTRACT_PAST : 0;
	*seen = 1;
	return 1;
}

static void
warn(struct extract *x, const char *msg)
{
	/* Whole: a stored path may be longer than PATH_MAX. */
	char *path;

	if (x->o->warn == NULL) {
		pk_err_clear();
		return;
	}
	path = strndup((const char *)x->e.path.p, x->e.path.len);
	x->o->warn(x->o->arg, path ? path : "(path: out of memory)", msg);
	free(path);
	pk_err_clear();		/* said; the restore goes on */
}

int
pk_extract_hold(struct pk_catalog *cat, struct pk_buf *held, size_t *nrefs)
{
	struct pk_record rec;
	int n, e;

	pk_buf_reset(held);
	*nrefs = 0;
	while ((n = pk_catalog_next(cat, &rec)) > 0) {
		*nrefs += rec.type == PK_REC_REF;
		if (rec.type != PK_REC_REF && rec.type != PK_REC_HOLE &&
		    rec.type != PK_REC_EOF)
			return pk_err(-EBADMSG, "catalog: unexpected record in a file");
		if ((e = pk_buf_add_u8(held, rec.type)) < 0 ||
		    (e = pk_buf_add_str(held, rec.data, rec.len)) < 0)
			return e;
		if (rec.type == PK_REC_EOF)
			return 0;
	}
	return n < 0 ? n : pk_err(-EBADMSG, "catalog: file without EOF");
}

/* The data runs of the held content, when it has holes. */
static int
build_map(struct extract *x, size_t *nmap)
{
	struct pk_tar_extent ext;
	struct pk_cursor c;
	struct pk_record rec = { 0 };
	uint64_t off = 0, n;
	const uint8_t *id;
	uint32_t len;
	int holes = 0, e;

	pk_buf_reset(&x->map);
	*nmap = 0;
	pk_cursor_init(&c, x->held.data, x->held.len);
	while (c.left > 0) {
		pk_extract_next_held(&c, &rec);
		if (rec.type == PK_REC_HOLE) {
			if (pk_record_hole(&rec, &n) < 0)
				return pk_err(-EBADMSG, "catalog: bad HOLE");
			holes = 1;
			off += n;
		} else if (rec.type == PK_REC_REF) {
			if (pk_record_ref(&rec, &id, &len) < 0)
				return pk_err(-EBADMSG, "catalog: bad REF");
			/* Extend the last run or start a new one. */
			if (*nmap > 0) {
				struct pk_tar_extent *last = (struct pk_tar_extent *)
				    (void *)x->map.data + *nmap - 1;

				if (last->offset + last->length == off) {
					last->length += len;
					off += len;
					continue;
				}
			}
			ext.offset = off;
			ext.length = len;
			if ((e = pk_buf_add(&x->map, &ext, sizeof ext)) < 0)
				return e;
			(*nmap)++;
			off += len;
		}
	}
	if (!holes)
		*nmap = 0;
	return holes;
}

void
pk_extract_next_held(struct pk_cursor *c, struct pk_record *rec)
{
	size_t l;

	rec->type = pk_get_u8(c);
	rec->data = pk_get_str(c, SIZE_MAX, &l);
	rec->len = (uint32_t)l;
}

/* Queues the chunks of the held content after c on the pool, while it has
 * room: workers open them while the caller writes. */
static void
fetch_ahead(struct extract *x, struct pk_cursor *c)
{
	struct pk_record rec;
	const uint8_t *id;
	uint32_t len;

	while (c->left > 0 && pk_fetchpool_room(x->pool)) {
		pk_extract_next_held(c, &rec);
		if (rec.type == PK_REC_REF && pk_record_ref(&rec, &id, &len) == 0)
			pk_fetchpool_add(x->pool, id, len);
	}
}

/* Queues the chunks of the files to come, as the second reader of the
 * catalog meets them, while the pool has room.  At the catalog's end, or
 * at an error that the first reader will meet in turn, it stops. */
static void
fetch_ahead_catalog(struct extract *x)
{
	struct pk_record rec;
	const uint8_t *id;
	uint32_t len;

	while (x->ahead != NULL && pk_fetchpool_room(x->pool)) {
		if (pk_catalog_next(x->ahead, &rec) <= 0 ||
		    (rec.type == PK_REC_REF && pk_record_ref(&rec, &id, &len) < 0)) {
			pk_catalog_close(x->ahead);
			x->ahead = NULL;
		} else if (rec.type == PK_REC_REF) {
			pk_fetchpool_add(x->pool, id, len);
		}
	}
}

/*
 * A chunk of a file left out: when the chunks of every file are fetched
 * ahead, it is taken from the pool all the same, to stay in step.
 */
static int
skip_ref(struct extract *x, const struct pk_record *rec)
{
	const struct pk_buf *data;
	const uint8_t *id;
	uint32_t len;
	int e;

	if (!x->cross || rec->type != PK_REC_REF ||
	    pk_record_ref(rec, &id, &len) < 0)
		return 0;
	fetch_ahead_catalog(x);
	e = pk_fetchpool_next(x->pool, id, &data);
	return e == -EPROTO ? e : 0;
}

/*
 * An entry that cannot be restored (pk_entry_check(), or tar refused it):
 * named, counted, and left out with its content, so that the files after
 * it are still restored.
 */
static int
skip_entry(struct extract *x, const char *why)
{
	struct pk_record rec = { 0 };
	struct pk_cursor c;
	int e;

	warn(x, why);
	x->res->failed++;
	if (x->held_ready) {
		x->held_ready = 0;
		pk_cursor_init(&c, x->held.data, x->held.len);
		while (c.left > 0) {
			pk_extract_next_held(&c, &rec);
			if ((e = skip_ref(x, &rec)) < 0)
				return e;
		}
		return 0;
	}
	x->skipping = 1;
	return 0;
}

/* Sends the held content to tar, or the bytes to the output. */
static int
emit_content(struct extract *x, int raw)
{
	struct pk_record rec = { 0 };
	struct pk_cursor c, ahead;
	const struct pk_buf *data;
	const uint8_t *id;
	uint64_t n, done = 0;
	uint32_t len;
	int e, failed = 0;

	/* A file of many chunks is opened on threads, fetched ahead; one of a
	 * single chunk costs no hand-off. */
	if (x->nrefs > 1 && x->pool == NULL && x->o->jobs > 1 &&
	    pk_fetchpool_new(&x->pool, x->repo, x->ix, x->o->jobs) < 0)
		x->pool = NULL;
	pk_cursor_init(&c, x->held.data, x->held.len);
	ahead = c;
	while (c.left > 0) {
		pk_extract_next_held(&c, &rec);
		if (rec.type == PK_REC_HOLE) {
			pk_record_hole(&rec, &n);
			e = raw ? pk_write_zeros(x->o->fd, n) : pk_tar_hole(x->tar, n);
		} else if (rec.type == PK_REC_REF) {
			if (pk_record_ref(&rec, &id, &len) < 0)
				return pk_err(-EBADMSG, "catalog: bad reference");
			n = len;
			data = &x->data;
			/* After a failure, chunks fetched ahead are still
			 * taken, to stay in step; others are not read. */
			if (x->cross) {
				fetch_ahead_catalog(x);
				e = pk_fetchpool_next(x->pool, id, &data);
			} else if (x->nrefs > 1 && x->pool != NULL) {
				fetch_ahead(x, &ahead);
				e = pk_fetchpool_next(x->pool, id, &data);
			} else {
				e = failed ? 0 : pk_chunk_fetch(x->repo, x->ix,
				    &x->br, id, len, &x->data);
			}
			if (e == -EPROTO)
				return e;	/* out of step: a bug, stop */
			if (e < 0 && !failed) {
				warn(x, pk_errmsg(e));
				failed = 1;
			}
			if (failed) {
				/* Keep the archive in step: zeros stand in. */
				if (raw)
					return pk_err(-EBADMSG, "%.*s: %s",
					    (int)x->e.path.len, x->e.path.p,
					    "cannot be restored");
				e = pk_tar_hole(x->tar, len);
			} else if (raw) {
				e = pk_write_all(x->o->fd, data->data, len);
				if (e < 0)
					e = pk_err(e, "output: %s", strerror(-e));
			} else {
				e = pk_tar_data(x->tar, data->data, len);
			}
		} else {
			continue;
		}
		/* An error ends the restore, with chunks still queued. */
		if (e < 0)
			return e;
		done += n;
		pk_progress_add(x->o->count, 0, n);
	}
	x->res->bytes += done;
	x->res->failed += (uint64_t)failed;
	return 0;
}

static int
tar_entry(struct extract *x)
{
	static const struct pk_tar_extent nomap;
	size_t nmap = 0;
	int e;

	if (x->tar == NULL && (e = pk_tar_new(&x->tar, x->o->fd)) < 0)
		return e;
	if (x->e.type == PK_FT_REG) {
		if (!x->held_ready &&
		    (e = pk_extract_hold(x->cat, &x->held, &x->nrefs)) < 0)
			return e;
		x->held_ready = 1;
		if ((e = build_map(x, &nmap)) < 0)
			return e;
		/* A file that is all hole has holes but no runs: the map must
		 * still be non-NULL. */
		e = pk_tar_entry(x->tar, &x->e, e ? (x->map.data ?
		    (const struct pk_tar_extent *)(void *)x->map.data : &nomap) :
		    NULL, nmap);
		if (e == -EBADMSG)
			return skip_entry(x, pk_errmsg(e));
		x->held_ready = 0;
		if (e < 0)
			return e;
		return emit_content(x, 0);
	}
	e = pk_tar_entry(x->tar, &x->e, NULL, 0);
	if (e == -EBADMSG)
		return skip_entry(x, pk_errmsg(e));
	if (e == PK_TAR_SKIPPED) {
		x->res->skipped++;
		warn(x, "sockets cannot be stored in tar; skipped");
		return 0;
	}
	return e;
}

/* --stream: the catalog's records, every REF turned back into a CHUNK. */
static int
stream_record(struct extract *x, const struct pk_record *rec)
{
	const uint8_t *id;
	uint64_t n;
	uint32_t len;
	int e;

	if (rec->type == PK_REC_HOLE && pk_record_hole(rec, &n) == 0)
		pk_progress_add(x->o->count, 0, n);
	if (rec->type != PK_REC_REF)
		return pk_writer_copy(x->out, rec);
	if (pk_record_ref(rec, &id, &len) < 0)
		return pk_err(-EBADMSG, "catalog: bad REF");
	if ((e = pk_chunk_fetch(x->repo, x->ix, &x->br, id, len, &x->data)) < 0)
		return pk_err(e, "%.*s: %s", (int)x->e.path.len, x->e.path.p,
		    pk_errmsg(e));
	x->res->bytes += len;
	pk_progress_add(x->o->count, 0, len);
	return pk_writer_put2(x->out, PK_REC_CHUNK, 0, id, PK_ID_BYTES,
	    x->data.data, len);
}

/* --stream of a file whose content is held: ENTRY, then its records with
 * every REF turned into a CHUNK. */
static int
stream_file(struct extract *x)
{
	struct pk_record rec = { 0 };
	struct pk_cursor c;
	int e;

	pk_buf_reset(&x->data);
	if ((e = pk_entry_encode(&x->e, &x->data)) < 0 ||
	    (e = pk_writer_put(x->out, PK_REC_ENTRY, 0, x->data.data,
	    x->data.len)) < 0)
		return e;
	pk_cursor_init(&c, x->held.data, x->held.len);
	while (c.left > 0) {
		pk_extract_next_held(&c, &rec);
		if ((e = stream_record(x, &rec)) < 0)
			return e;
	}
	return 0;
}

/*
 * A hard link whose target is outside the selection would name a file the
 * output does not have: it becomes a regular file with the target's
 * content.
 */
static int
resolve_outside_link(struct extract *x)
{
	int e;

	if ((e = pk_extract_link_content(x->repo, x->ix, x->snap, &x->e.path,
	    &x->e.link, &x->e.size, &x->held, &x->nrefs)) < 0)
		return e;
	x->e.type = PK_FT_REG;
	x->e.link.len = 0;
	x->held_ready = 1;
	return 0;
}

int
pk_extract_link_content(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_str *path,
    const struct pk_str *target, uint64_t *size, struct pk_buf *held,
    size_t *nrefs)
{
	struct pk_buf xb = PK_BUF_INIT;
	struct pk_stream_header h;
	struct pk_catalog *c2;
	struct pk_record rec;
	struct pk_entry t;
	int n, e;

	/* A second pass over the catalog, from the target's place. */
	if ((e = pk_catalog_open(&c2, r, ix, snap, &h)) < 0)
		return e;
	e = -ENOENT;
	n = pk_catalog_select(c2, target->p, target->len);
	while (n >= 0 && (n = pk_catalog_next(c2, &rec)) > 0) {
		if (rec.type != PK_REC_ENTRY)
			continue;
		if ((e = pk_entry_decode(&t, rec.data, rec.len, &xb)) < 0)
			break;
		e = -ENOENT;
		if (t.type != PK_FT_REG || t.path.len != target->len ||
		    memcmp(t.path.p, target->p, t.path.len) != 0)
			continue;
		*size = t.size;
		e = pk_extract_hold(c2, held, nrefs);
		break;
	}
	if (n < 0)
		e = n;
	pk_catalog_close(c2);
	pk_buf_release(&xb);
	if (e == -ENOENT)
		return pk_err(e, "catalog: %.*s: hard link to a file not in the "
		    "snapshot", (int)path->len, path->p);
	return e;
}

static int
on_entry(struct extract *x, const struct pk_record *rec)
{
	int e;

	/* The decoded entry borrows its strings: keep the payload. */
	pk_buf_reset(&x->entbuf);
	if ((e = pk_buf_add(&x->entbuf, rec->data, rec->len)) < 0)
		return e;
	x->skipping = 0;
	if ((e = pk_entry_decode(&x->e, x->entbuf.data, x->entbuf.len,
	    &x->xbuf)) < 0) {
		/* One file asked for must come out whole; everything else
		 * goes on without it. */
		if (x->mode == PK_EXTRACT_TAR || x->mode == PK_EXTRACT_STREAM ||
		    (x->mode == PK_EXTRACT_AUTO && x->sel == NULL)) {
			pk_entry_path(&x->e.path, x->entbuf.data, x->entbuf.len);
			if (x->mode == PK_EXTRACT_AUTO)
				x->mode = PK_EXTRACT_TAR;
			return skip_entry(x, pk_errmsg(e));
		}
		return pk_err(e, "catalog: %s", pk_errmsg(e));
	}
	x->res->entries++;
	pk_progress_add(x->o->count, 1, 0);
	if (x->mode == PK_EXTRACT_AUTO) {
		int exact = x->sel && x->e.path.len == x->sellen;

		if (exact && x->e.type == PK_FT_HARDLINK) {
			x->hardlink = strndup((const char *)x->e.link.p, x->e.link.len);
			return x->hardlink ? 1 : -ENOMEM;
		}
		x->mode = exact && x->e.type == PK_FT_REG ? PK_EXTRACT_FILE :
		    PK_EXTRACT_TAR;
	}
	if (x->sel && x->e.type == PK_FT_HARDLINK && !selected(x, &x->e.link)) {
		if ((e = resolve_outside_link(x)) < 0)
			return e;
		if (x->mode == PK_EXTRACT_STREAM) {
			x->held_ready = 0;
			return stream_file(x);
		}
	}
	if (x->mode == PK_EXTRACT_FILE) {
		if ((e = pk_extract_hold(x->cat, &x->held, &x->nrefs)) < 0 ||
		    (e = emit_content(x, 1)) < 0)
			return e;
		return 1;	/* done */
	}
	if (x->mode == PK_EXTRACT_STREAM)
		return pk_writer_copy(x->out, rec);
	return tar_entry(x);
}

static int
run(struct extract *x, const struct pk_snapshot *snap)
{
	struct pk_stream_header h;
	struct pk_record rec;
	int n, e = 0, in = x->sel == NULL, seen = 0;

	if ((e = pk_catalog_open(&x->cat, x->repo, x->ix, snap, &x->h)) < 0)
		return e;
	/* One path: only the catalog chunks that may hold it are read. */
	if (x->sel != NULL && (e = pk_catalog_select(x->cat,
	    (const uint8_t *)x->sel, x->sellen)) < 0)
		return e;
	/* Everything restored: its chunks are opened on threads ahead of
	 * the files, small ones too.  Without that, only within a file. */
	x->cross = 0;
	if (x->sel == NULL && x->mode != PK_EXTRACT_STREAM && x->o->jobs > 1 &&
	    (x->pool != NULL ||
	    pk_fetchpool_new(&x->pool, x->repo, x->ix, x->o->jobs) == 0) &&
	    pk_catalog_open(&x->ahead, x->repo, x->ix, snap, &h) == 0)
		x->cross = 1;
	if (x->mode == PK_EXTRACT_STREAM) {
		/* The snapshot's own time, host and tags travel with it. */
		pk_buf_reset(&x->data);
		x->h.flags = PK_STREAM_IDS_COVER_DATA;
		if ((e = pk_writer_new(&x->out, x->o->fd, &x->h)) < 0 ||
		    (e = pk_snapshot_meta_encode(snap, &x->data)) < 0 ||
		    (e = pk_writer_put(x->out, PK_REC_META, PK_RECF_IGNORABLE,
		    x->data.data, x->data.len)) < 0)
			return e;
		/* What a whole snapshot holds, for the progress of a copy. */
		if (x->sel == NULL && (e = pk_write_total(x->out,
		    snap->entries, snap->bytes)) < 0)
			return e;
	}
	/* Everything is selected from the start: an ERROR before the first
	 * entry (a walk argument that could not be read) is counted too. */
	while ((n = pk_catalog_next(x->cat, &rec)) > 0) {
		if (rec.type == PK_REC_ENTRY) {
			/* Entries that are used are decoded in full, and
			 * checked, by on_entry(). */
			in = pk_extract_select(&rec, x->sel, x->sellen, &seen);
			if (in < 0)
				return in;
			if (in == PK_EXTRACT_PAST)
				break;
			if (!in)
				continue;
			if ((e = on_entry(x, &rec)) != 0)
				break;
		} else if (in && x->skipping) {
			e = skip_ref(x, &rec);
		} else if (in) {
			if (rec.type == PK_REC_ERROR)
				x->res->errors++;
			if (x->mode == PK_EXTRACT_STREAM)
				e = stream_record(x, &rec);
			if (e < 0)
				break;
		}
	}
	if (n < 0)
		return n;
	if (e < 0)
		return e;
	if (!seen)
		return pk_err(-ENOENT, "%s: not in the snapshot", x->sel);
	if (x->out)
		return pk_writer_end(x->out);
	if (x->tar)
		return pk_tar_finish(x->tar);
	return 0;
}

int
pk_extract(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_extract_options *o,
    struct pk_extract_result *res)
{
	struct extract x = { .repo = r, .ix = ix, .o = o, .res = res };
	char *owned = NULL;
	int e, hops = 0;

	memset(res, 0, sizeof *res);
	x.mode = o->mode;
	x.snap = snap;
	x.sel = o->path;
	x.sellen = o->path ? strlen(o->path) : 0;
	if ((e = pk_blob_reader_init(&x.br, r)) < 0)
		return e;
	for (;;) {
		e = run(&x, snap);
		pk_catalog_close(x.cat);
		x.cat = NULL;
		/* A selected hard link: restore the file it names instead. */
		if (e < 0 || x.hardlink == NULL)
			break;
		if (++hops > 8) {
			e = pk_err(-ELOOP, "%s: too many hard links", x.sel);
			break;
		}
		free(owned);
		x.sel = owned = x.hardlink;
		x.sellen = strlen(x.sel);
		x.hardlink = NULL;
		memset(res, 0, sizeof *res);
	}
	free(owned);
	free(x.hardlink);
	pk_tar_free(x.tar);
	pk_writer_free(x.out);
	pk_blob_reader_release(&x.br);
	pk_catalog_close(x.ahead);
	pk_fetchpool_free(x.pool);
	pk_buf_release(&x.entbuf);
	pk_buf_release(&x.xbuf);
	pk_buf_release(&x.held);
	pk_buf_release(&x.data);
	pk_buf_release(&x.map);
	return e;
}
