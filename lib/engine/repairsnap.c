/* repairsnap.c: snapshots written again without their damaged files
 * (repairsnap.h, pk-repo(5) "Repairs"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "check.h"
#include "entry.h"
#include "err.h"
#include "hash.h"
#include "index.h"
#include "record.h"
#include "repairsnap.h"
#include "snapshot.h"
#include "store.h"

/* The paths a repaired line names before it only counts the others. */
#define LINE_PATHS	10

/* A file the check found damaged. */
struct damaged {
	char snapshot[PK_SNAPSHOT_NAME_BYTES];
	uint64_t entry;		/* its ENTRY's record number in the catalog */
};

struct repair {
	struct pk_repo *r;
	const struct pk_repair_snapshots_options *o;
	struct pk_repair_snapshots_report *rep;
	struct pk_buf damaged;	/* struct damaged, in check order */
	int nomem;		/* one could not be noted */
};

/*
 * The old catalog as a record stream for the store engine, made as it is
 * read: a META record with the snapshot's times, host, user and tags,
 * then every record but those of the files left out.
 */
struct feed {
	struct pk_catalog *cat;
	struct pk_writer *w;
	struct pk_buf out;		/* bytes written, not read yet */
	size_t pos;
	int done;
	const struct damaged *drop;	/* ENTRY records to leave out, */
	size_t ndrop, next;		/* ascending */
	int in_dropped;			/* inside a file left out */
	struct pk_buf linked;		/* left-out paths with other links,
					 * each NUL-ended */
	struct pk_buf line;		/* the paths left out, for the line */
	uint64_t nleft;
	struct pk_buf xbuf;
};

static void
on_problem(void *arg, const char *msg)
{
	struct repair *rp = arg;

	if (rp->o->problem)
		rp->o->problem(rp->o->arg, msg);
}

static void
on_damaged(void *arg, const char *snapshot, uint64_t entry,
    const uint8_t *path, size_t len, const char *why)
{
	struct repair *rp = arg;
	struct damaged d;

	memset(&d, 0, sizeof d);
	snprintf(d.snapshot, sizeof d.snapshot, "%s", snapshot);
	d.entry = entry;
	if (pk_buf_add(&rp->damaged, &d, sizeof d) < 0)
		rp->nomem = 1;
}

static int
sink(void *arg, const void *p, size_t n)
{
	struct feed *f = arg;

	return pk_buf_add(&f->out, p, n);
}

static int
note_left_out(struct feed *f, const struct pk_str *path)
{
	int e = 0;

	if (f->nleft < LINE_PATHS) {
		if (f->nleft > 0)
			e = pk_buf_add(&f->line, ", ", 2);
		if (e == 0)
			e = pk_buf_add(&f->line, path->p, path->len);
	}
	f->nleft++;
	return e;
}

static int
is_linked(const struct feed *f, const struct pk_str *path)
{
	const uint8_t *p = f->linked.data, *end = p + f->linked.len;
	size_t n;

	for (; p < end; p += n + 1) {
		n = strlen((const char *)p);
		if (n == path->len && memcmp(p, path->p, n) == 0)
			return 1;
	}
	return 0;
}

/* Whether the entry goes: a damaged file, or a hard link to one. */
static int
leave_out(struct feed *f, const struct pk_record *rec, uint64_t recno)
{
	struct pk_entry e;
	int drop, err;

	while (f->next < f->ndrop && f->drop[f->next].entry < recno)
		f->next++;
	drop = f->next < f->ndrop && f->drop[f->next].entry == recno;
	if ((err = pk_entry_decode(&e, rec->data, rec->len, &f->xbuf)) < 0)
		return drop ? err : 0;	/* the store names it */
	if (e.type == PK_FT_HARDLINK)
		drop = is_linked(f, &e.link);
	if (!drop)
		return 0;
	if (e.type == PK_FT_REG && e.nlink > 1 &&
	    ((err = pk_buf_add(&f->linked, e.path.p, e.path.len)) < 0 ||
	    (err = pk_buf_add_u8(&f->linked, 0)) < 0))
		return err;
	if ((err = note_left_out(f, &e.path)) < 0)
		return err;
	return 1;
}

/* Writes the next record of the catalog that stays, or the END. */
static int
pump(struct feed *f)
{
	struct pk_record rec;
	int n, e;

	if ((n = pk_catalog_next(f->cat, &rec)) < 0)
		return n;
	if (n == 0) {
		f->done = 1;
		return pk_writer_end(f->w);
	}
	if (rec.type == PK_REC_ENTRY) {
		f->in_dropped = 0;
		if ((e = leave_out(f, &rec, pk_catalog_recno(f->cat))) < 0)
			return e;
		if (e == 1) {
			/* A regular file's content follows, to its EOF. */
			f->in_dropped = 1;
			return 0;
		}
	} else if (f->in_dropped) {
		if (rec.type == PK_REC_EOF)
			f->in_dropped = 0;
		return 0;
	}
	if ((e = pk_writer_copy(f->w, &rec)) < 0)
		return e;
	return pk_writer_flush(f->w);
}

static ssize_t
source(void *arg, void *p, size_t n)
{
	struct feed *f = arg;
	size_t k;
	int e;

	while (f->pos == f->out.len && !f->done) {
		pk_buf_reset(&f->out);
		f->pos = 0;
		if ((e = pump(f)) < 0)
			return e;
	}
	k = f->out.len - f->pos < n ? f->out.len - f->pos : n;
	memcpy(p, f->out.data + f->pos, k);
	f->pos += k;
	return (ssize_t)k;
}

static void
feed_release(struct feed *f)
{
	pk_catalog_close(f->cat);
	pk_writer_free(f->w);
	pk_buf_release(&f->out);
	pk_buf_release(&f->linked);
	pk_buf_release(&f->line);
	pk_buf_release(&f->xbuf);
}

/* The snapshot's own time, host, user and tags, and the repair's tag. */
static int
start_feed(struct feed *f, struct pk_repo *r, const struct pk_index *ix,
    struct pk_snapshot *old)
{
	struct pk_stream_header h;
	struct pk_buf meta = PK_BUF_INIT;
	uint32_t i;
	int e, tagged = 0;

	for (i = 0; i < old->ntags; i++)
		tagged |= strcmp(old->tags[i], PK_REPAIR_TAG) == 0;
	if ((!tagged && (e = pk_snapshot_add_tag(old, PK_REPAIR_TAG)) < 0) ||
	    (e = pk_catalog_open(&f->cat, r, ix, old, &h)) < 0 ||
	    (e = pk_writer_new_sink(&f->w, sink, f, &h)) < 0 ||
	    (e = pk_snapshot_meta_encode(old, &meta)) < 0)
		goto out;
	if ((e = pk_writer_put(f->w, PK_REC_META, PK_RECF_IGNORABLE, meta.data,
	    meta.len)) == 0)
		e = pk_writer_flush(f->w);
out:
	pk_buf_release(&meta);
	return e;
}

/* Stores the snapshot name without the files of drop. */
static int
repair_one(struct repair *rp, const struct pk_index *ix, const char *name,
    const struct damaged *drop, size_t ndrop)
{
	struct pk_store_options so = { .level = rp->o->level, .threads = 1,
	    .trust_refs = 1 };
	struct pk_snapshot old, new;
	struct pk_reader *in = NULL;
	struct feed f = { .drop = drop, .ndrop = ndrop };
	char line[PK_ERR_BYTES], id[PK_SNAPSHOT_NAME_BYTES], more[64] = "";
	int e;

	if ((e = pk_snapshot_read(rp->r, name, &old)) < 0)
		return e;
	if ((e = start_feed(&f, rp->r, ix, &old)) == 0 &&
	    (e = pk_reader_new_source(&in, source, &f, "catalog")) == 0)
		e = pk_store_stream(rp->r, in, &so, &new);
	if (e == 0) {
		pk_hex(id, new.id, sizeof new.id);
		if (f.nleft > LINE_PATHS)
			snprintf(more, sizeof more, ", and %" PRIu64 " more",
			    f.nleft - LINE_PATHS);
		snprintf(line, sizeof line, "snapshot %.12s: %" PRIu64 " files "
		    "left out (%.*s%s); repaired as %s", name, f.nleft,
		    (int)f.line.len, (const char *)f.line.data, more, id);
		rp->rep->repaired++;
		rp->rep->left_out += f.nleft;
		if (rp->o->repaired)
			rp->o->repaired(rp->o->arg, line);
		pk_snapshot_release(&new);
	}
	pk_reader_free(in);
	feed_release(&f);
	pk_snapshot_release(&old);
	return e;
}

static int
has_tag(const struct pk_snapshot *s, const char *tag)
{
	uint32_t i;

	for (i = 0; i < s->ntags; i++)
		if (strcmp(s->tags[i], tag) == 0)
			return 1;
	return 0;
}

/*
 * A repair of the snapshot name made before, which a run again must not
 * repeat: another snapshot tagged as repaired, of the same host and times.
 * Its id goes to by.
 */
static int
repaired_before(const struct pk_snapshot *list, size_t n, const char *name,
    char by[PK_SNAPSHOT_NAME_BYTES])
{
	const struct pk_snapshot *s = NULL;
	uint8_t id[PK_SNAPSHOT_ID_BYTES];
	size_t i;

	if (pk_unhex(id, sizeof id, name) < 0)
		return 0;
	for (i = 0; i < n && s == NULL; i++)
		if (memcmp(list[i].id, id, sizeof id) == 0)
			s = &list[i];
	for (i = 0; s != NULL && i < n; i++)
		if (&list[i] != s && has_tag(&list[i], PK_REPAIR_TAG) &&
		    list[i].start_sec == s->start_sec &&
		    list[i].start_nsec == s->start_nsec &&
		    list[i].end_sec == s->end_sec &&
		    list[i].end_nsec == s->end_nsec &&
		    strcmp(list[i].host ? list[i].host : "",
		    s->host ? s->host : "") == 0) {
			pk_hex(by, list[i].id, sizeof list[i].id);
			return 1;
		}
	return 0;
}

static int
repair_all(struct repair *rp)
{
	const struct damaged *d = (const struct damaged *)rp->damaged.data;
	size_t i, k, n = rp->damaged.len / sizeof *d, nlist;
	struct pk_snapshot *list;
	struct pk_index ix;
	char by[PK_SNAPSHOT_NAME_BYTES], line[256], msg[PK_ERR_BYTES];
	int e;

	if (n == 0)
		return 0;
	if ((e = pk_snapshot_list(rp->r, &list, &nlist, NULL)) < 0)
		return e;
	if ((e = pk_index_open(&ix, rp->r)) < 0) {
		pk_snapshot_list_free(list, nlist);
		return e;
	}
	/* The check names the files of one snapshot after another. */
	for (i = 0; i < n; i = k) {
		for (k = i; k < n && strcmp(d[k].snapshot, d[i].snapshot) == 0; )
			k++;
		rp->rep->damaged++;
		if (repaired_before(list, nlist, d[i].snapshot, by)) {
			rp->rep->before++;
			snprintf(line, sizeof line, "snapshot %.12s: repaired "
			    "before as %s; it stays until pk-forget drops it",
			    d[i].snapshot, by);
			if (rp->o->repaired)
				rp->o->repaired(rp->o->arg, line);
			continue;
		}
		if ((e = repair_one(rp, &ix, d[i].snapshot, d + i, k - i)) == -ENOMEM)
			break;
		if (e < 0) {
			rp->rep->failed++;
			snprintf(msg, sizeof msg, "snapshot %.12s: not repaired: %s",
			    d[i].snapshot, pk_errmsg(e));
			pk_err_clear();
			on_problem(rp, msg);
		}
		e = 0;
	}
	pk_index_close(&ix);
	pk_snapshot_list_free(list, nlist);
	return e;
}

int
pk_repair_snapshots(struct pk_repo *r,
    const struct pk_repair_snapshots_options *o,
    struct pk_repair_snapshots_report *rep)
{
	struct repair rp = { .r = r, .o = o, .rep = rep };
	struct pk_check_options co = { .data = 1, .problem = on_problem,
	    .damaged_file = on_damaged, .arg = &rp };
	struct pk_check_result res;
	int e;

	memset(rep, 0, sizeof *rep);
	if ((e = pk_check(r, &co, &res)) == 0 && rp.nomem)
		e = -ENOMEM;
	if (e == 0) {
		rep->snapshots = res.snapshots;
		rep->unreadable = res.unreadable_snapshots;
		rep->other_problems = res.problems - res.damaged_files;
		e = repair_all(&rp);
	}
	pk_buf_release(&rp.damaged);
	return e;
}
