/* repairindex.c: re-indexing the packs no readable delta names
 * (repairindex.h, pk-repo(5) "Repairs"). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "gcmark.h"
#include "hash.h"
#include "index.h"
#include "lease.h"
#include "pack.h"
#include "packread.h"
#include "repairindex.h"

/* A delta that cannot be read, and why. */
struct damaged {
	char name[PK_DELTA_NAME_BYTES];
	char why[1024];
};

/* What the repository holds, looked at after the lease was put. */
struct survey {
	struct pk_gcmark *marks;
	size_t nmarks;
	struct pk_buf named;	/* pack ids the readable deltas name */
	struct pk_buf orphans;	/* pack files none names, sorted */
	struct pk_buf damaged;	/* struct damaged */
	uint64_t deltas, packs;
};

struct repair {
	struct pk_repo *r;
	const struct pk_repair_index_options *o;
	struct pk_repair_index_report *rep;
	struct pk_lease lease;
	struct survey s;
	struct pk_buf one;	/* the pack ids of the delta being read */
	struct pk_buf blobs;	/* the blobs of the pack being re-indexed */
	struct pk_buf box;
	struct pk_delta_writer *dw;
	struct pk_pack_writer pw;	/* copies out of marked packs */
	int pw_open;
};

static void __attribute__((format(printf, 2, 3)))
say(const struct repair *rp, const char *fmt, ...)
{
	char line[PK_ERR_BYTES];
	va_list ap;

	if (rp->o->say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	rp->o->say(rp->o->arg, line);
}

/* Sorts a list of pack ids and drops repeats. */
static void
sort_ids(struct pk_buf *b)
{
	b->len = pk_sort_unique(b->data, b->len / PK_PACK_ID_BYTES,
	    PK_PACK_ID_BYTES, pk_pack_id_cmp) * PK_PACK_ID_BYTES;
}

static int
has_id(const struct pk_buf *b, const uint8_t id[PK_PACK_ID_BYTES])
{
	return bsearch(id, b->data, b->len / PK_PACK_ID_BYTES, PK_PACK_ID_BYTES,
	    pk_pack_id_cmp) != NULL;
}

static void
survey_free(struct survey *s)
{
	pk_gcmark_list_free(s->marks, s->nmarks);
	pk_buf_release(&s->named);
	pk_buf_release(&s->orphans);
	pk_buf_release(&s->damaged);
	memset(s, 0, sizeof *s);
}

static int
delta_pack(void *arg, const struct pk_blobloc *loc)
{
	struct pk_buf *one = arg;

	/* A delta names each pack many times in a row. */
	if (one->len >= PK_PACK_ID_BYTES && memcmp(one->data + one->len -
	    PK_PACK_ID_BYTES, loc->pack, PK_PACK_ID_BYTES) == 0)
		return 0;
	return pk_buf_add(one, loc->pack, PK_PACK_ID_BYTES);
}

/* A delta counts only when all of it reads: the packs of one that breaks
 * halfway are no better named than those of a lost one. */
static int
read_delta(void *arg, const char *name)
{
	struct repair *rp = arg;
	struct damaged d;
	int e;

	rp->s.deltas++;
	pk_buf_reset(&rp->one);
	e = pk_index_read_delta(rp->r, name, delta_pack, &rp->one);
	if (e == 0)
		return pk_buf_add(&rp->s.named, rp->one.data, rp->one.len);
	if (e == -ENOENT) {	/* a pk-gc merged it into one of its own */
		pk_err_clear();
		return 0;
	}
	if (e != -EBADMSG && e != -EFBIG)
		return e;
	memset(&d, 0, sizeof d);
	snprintf(d.name, sizeof d.name, "%s", name);
	snprintf(d.why, sizeof d.why, "%s", pk_errmsg(e));
	pk_err_clear();
	return pk_buf_add(&rp->s.damaged, &d, sizeof d);
}

/* "ab/ab12…", as the storage lists the packs. */
static int
list_pack(void *arg, const char *rel)
{
	struct repair *rp = arg;
	uint8_t id[PK_PACK_ID_BYTES];
	const char *name = strchr(rel, '/');

	if (name == NULL || name - rel != 2 || strlen(++name) !=
	    2 * PK_PACK_ID_BYTES || pk_unhex(id, sizeof id, name) < 0 ||
	    strncmp(rel, name, 2) != 0)
		return 0;	/* pk-index --check names it */
	rp->s.packs++;
	if (has_id(&rp->s.named, id))
		return 0;
	return pk_buf_add(&rp->s.orphans, id, sizeof id);
}

/* Marks first, then deltas, then packs: a pack written after the deltas
 * were read is taken for one no delta names, never the other way. */
static int
survey(struct repair *rp)
{
	int e;

	survey_free(&rp->s);
	if ((e = pk_gcmark_list(rp->r, &rp->s.marks, &rp->s.nmarks)) < 0 ||
	    (e = pk_index_list(rp->r, read_delta, rp)) < 0)
		return e;
	sort_ids(&rp->s.named);
	if ((e = pk_storage_list(rp->r->store, "packs", list_pack, rp)) < 0)
		return e;
	sort_ids(&rp->s.orphans);
	return 0;
}

/* The leases of other runs that are not known to be over; a lease that
 * cannot be read stops the repair. */
static int
other_runs(struct repair *rp, struct pk_lease **v, size_t *n)
{
	size_t i, k = 0;
	int e;

	if ((e = pk_lease_list(rp->r, v, n)) < 0)
		return e;
	for (i = 0; i < *n; i++) {
		if ((*v)[i].stale || strcmp((*v)[i].name, rp->lease.name) == 0)
			continue;
		if ((*v)[i].bad) {
			e = pk_err(-EBUSY, "%s/locks/%s: a lease that cannot be "
			    "read: its run may be writing packs; remove it if "
			    "no pk program runs, and repair again", rp->r->path,
			    (*v)[i].name);
			free(*v);
			return e;
		}
		(*v)[k++] = (*v)[i];
	}
	*n = k;
	return 0;
}

static int
still_running(const struct pk_lease *now, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(now[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * The packs no delta names may be those of runs going on, whose deltas
 * are still to come: waits until every run that held a lease once the
 * packs were listed is over, then looks again.  Packs that no delta named
 * either time belong to no run: their writers had ended, or have ended
 * without naming them.  Runs that start meanwhile write only packs that
 * were not listed the first time.
 */
static int
wait_for_runs(struct repair *rp)
{
	struct pk_lease *first, *now;
	struct pk_buf before = PK_BUF_INIT;
	struct timespec pause = { rp->o->poll_sec ? rp->o->poll_sec : 1, 0 };
	char who[800];
	size_t nfirst, nnow, i, left;
	int e;

	if (rp->s.orphans.len == 0)
		return 0;
	if ((e = other_runs(rp, &first, &nfirst)) < 0)
		return e;
	if (nfirst == 0) {
		free(first);
		return 0;
	}
	rp->rep->waited = nfirst;
	for (i = 0; i < nfirst; i++) {
		pk_lease_describe(&first[i], who, sizeof who);
		say(rp, "waiting for a run that may be writing packs: %s", who);
	}
	for (left = nfirst; left > 0; ) {
		nanosleep(&pause, NULL);
		if ((e = other_runs(rp, &now, &nnow)) < 0)
			goto out;
		for (i = left = 0; i < nfirst; i++)
			left += still_running(now, nnow, first[i].name);
		free(now);
	}
	/* The orphans of both looks. */
	before = rp->s.orphans;
	rp->s.orphans = (struct pk_buf)PK_BUF_INIT;
	if ((e = survey(rp)) < 0)
		goto out;
	for (i = left = 0; i < rp->s.orphans.len; i += PK_PACK_ID_BYTES)
		if (has_id(&before, rp->s.orphans.data + i))
			memmove(rp->s.orphans.data + left++ * PK_PACK_ID_BYTES,
			    rp->s.orphans.data + i, PK_PACK_ID_BYTES);
	rp->s.orphans.len = left * PK_PACK_ID_BYTES;
out:
	pk_buf_release(&before);
	free(first);
	return e;
}

static int
marked(const struct repair *rp, const uint8_t id[PK_PACK_ID_BYTES])
{
	size_t i;

	for (i = 0; i < rp->s.nmarks; i++)
		if (pk_gcmark_has_pack(&rp->s.marks[i], id))
			return 1;
	return 0;
}

static int
listed_blob(void *arg, const struct pk_blobloc *loc)
{
	return pk_buf_add(arg, loc, sizeof *loc);
}

/* Copies one box, as it is, into the pack being written. */
static int
copy_blob(struct repair *rp, struct pk_object *obj, const struct pk_blobloc *loc)
{
	struct pk_blobloc nloc;
	int e;

	pk_buf_reset(&rp->box);
	if ((e = pk_buf_reserve(&rp->box, loc->length)) < 0 ||
	    (e = pk_object_read(obj, rp->box.data, loc->length, loc->offset)) < 0)
		return e;
	if (rp->pw_open && pk_pack_full(&rp->pw)) {
		rp->pw_open = 0;
		if ((e = pk_pack_finish(&rp->pw)) < 0)
			return e;
	}
	if (!rp->pw_open) {
		if ((e = pk_pack_begin(&rp->pw, rp->r)) < 0)
			return e;
		rp->pw_open = 1;
	}
	if ((e = pk_pack_append(&rp->pw, loc->sid, rp->box.data, loc->length,
	    loc->raw, &nloc)) < 0)
		return e;
	return pk_delta_put(rp->dw, &nloc);
}

static int
copy_blobs(struct repair *rp, const uint8_t id[PK_PACK_ID_BYTES])
{
	const struct pk_blobloc *v = (const struct pk_blobloc *)rp->blobs.data;
	char rel[PK_PACK_RELPATH_BYTES];
	struct pk_object *obj;
	size_t i, n = rp->blobs.len / sizeof *v;
	int e;

	pk_pack_relpath(rel, sizeof rel, id);
	if ((e = pk_object_open(rp->r->store, rel, &obj)) < 0)
		return e;
	for (i = 0, e = 0; i < n && e == 0; i++)
		e = copy_blob(rp, obj, &v[i]);
	pk_object_close(obj);
	return e;
}

/* Names the blobs of one pack in the new delta, or copies them first. */
static int
reindex_pack(struct repair *rp, struct pk_blob_reader *br,
    const uint8_t id[PK_PACK_ID_BYTES])
{
	const struct pk_blobloc *v;
	char rel[PK_PACK_RELPATH_BYTES];
	size_t i, n;
	int e;

	pk_pack_relpath(rel, sizeof rel, id);
	pk_buf_reset(&rp->blobs);
	e = pk_pack_list(br, id, listed_blob, &rp->blobs);
	if (e == -ENOENT) {	/* its writer, or a pk-gc, removed it */
		pk_err_clear();
		return 0;
	}
	if (e == -EBADMSG) {
		rp->rep->lost_packs++;
		say(rp, "%s: lost, its blobs cannot be found: %s", rel,
		    pk_errmsg(e));
		pk_err_clear();
		return 0;
	}
	if (e < 0)
		return e;
	v = (const struct pk_blobloc *)rp->blobs.data;
	n = rp->blobs.len / sizeof *v;
	if (marked(rp, id)) {
		if ((e = copy_blobs(rp, id)) < 0)
			return pk_err(e, "%s: marked by pk-gc, and could not be "
			    "copied: %s", rel, pk_errmsg(e));
		rp->rep->copied_packs++;
	} else {
		for (i = 0, e = 0; i < n && e == 0; i++)
			e = pk_delta_put(rp->dw, &v[i]);
		if (e < 0)
			return e;
	}
	rp->rep->reindexed_packs++;
	rp->rep->blobs += n;
	return 0;
}

/* One delta for every orphan: its packs stored first, as a writer's. */
static int
write_delta(struct repair *rp)
{
	struct pk_blob_reader br;
	size_t i;
	int e;

	if ((e = pk_blob_reader_init(&br, rp->r)) < 0)
		return e;
	if ((e = pk_delta_begin(&rp->dw, rp->r)) < 0)
		goto out;
	for (i = 0; e == 0 && i < rp->s.orphans.len; i += PK_PACK_ID_BYTES)
		e = reindex_pack(rp, &br, rp->s.orphans.data + i);
	if (e == 0 && rp->pw_open) {
		rp->pw_open = 0;
		e = pk_pack_finish(&rp->pw);
	}
	if (e == 0)
		e = pk_storage_flush(rp->r->store);
	if (e == 0)
		e = pk_delta_commit(rp->dw, rp->rep->delta);
	else
		pk_delta_abort(rp->dw);
	rp->dw = NULL;
out:
	pk_blob_reader_release(&br);
	return e;
}

/* Once the new delta is stored, nothing is lost with the damaged ones. */
static int
remove_damaged(struct repair *rp)
{
	const struct damaged *d = (const struct damaged *)rp->s.damaged.data;
	size_t i, n = rp->s.damaged.len / sizeof *d;
	char rel[sizeof "index/" + PK_DELTA_NAME_BYTES];
	int e;

	for (i = 0; i < n; i++) {
		snprintf(rel, sizeof rel, "index/%s", d[i].name);
		if ((e = pk_storage_remove(rp->r->store, rel)) < 0 && e != -ENOENT)
			return e;
		pk_err_clear();
		rp->rep->removed_deltas++;
		say(rp, "%s/%s: removed", rp->r->path, rel);
	}
	return 0;
}

static int
run(struct repair *rp)
{
	const struct damaged *d;
	size_t i;
	int e;

	if ((e = pk_lease_take(rp->r, "store", &rp->lease)) < 0 ||
	    (e = survey(rp)) < 0 || (e = wait_for_runs(rp)) < 0)
		return e;
	rp->rep->deltas = rp->s.deltas;
	rp->rep->packs = rp->s.packs;
	rp->rep->orphan_packs = rp->s.orphans.len / PK_PACK_ID_BYTES;
	d = (const struct damaged *)rp->s.damaged.data;
	rp->rep->damaged_deltas = rp->s.damaged.len / sizeof *d;
	for (i = 0; i < rp->rep->damaged_deltas; i++)
		say(rp, "%s", d[i].why);
	if ((e = write_delta(rp)) < 0)
		return e;
	return remove_damaged(rp);
}

int
pk_repair_index(struct pk_repo *r, const struct pk_repair_index_options *o,
    struct pk_repair_index_report *rep)
{
	struct repair rp = { .r = r, .o = o, .rep = rep };
	int e;

	memset(rep, 0, sizeof *rep);
	e = run(&rp);
	if (rp.pw_open)
		pk_pack_abort(&rp.pw);
	pk_delta_abort(rp.dw);
	survey_free(&rp.s);
	pk_buf_release(&rp.one);
	pk_buf_release(&rp.blobs);
	pk_buf_release(&rp.box);
	pk_lease_drop(r, &rp.lease);
	return e;
}
