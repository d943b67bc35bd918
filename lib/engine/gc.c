/* gc.c: pk-gc's mark and sweep (gc.h, pk-repo(5) "GARBAGE COLLECTION"). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "err.h"
#include "gc.h"
#include "gcmark.h"
#include "hash.h"
#include "hashfile.h"
#include "index.h"
#include "lease.h"
#include "pack.h"
#include "packread.h"
#include "snapshot.h"

/* Leftovers of crashed runs are removed only when this old at least. */
#define TMP_MIN_AGE	3600
/* The live set: a storage id, then a byte that a sweep sets when a pack
 * that stays holds the chunk. */
#define LIVE_SLOT_BYTES	(PK_SID_BYTES + 8)
#define LIVE_KEPT	PK_SID_BYTES

struct gcpack {
	uint8_t id[PK_PACK_ID_BYTES];
	uint64_t bytes, live;	/* blob bytes the deltas name, live ones */
	uint64_t blobs, nlive;
	int named;		/* a delta names it */
	int marked;
};

/* What the repository holds now: a survey, made before marking and
 * again before sweeping. */
struct survey {
	struct pk_index ix;
	int ix_open;
	struct pk_hashfile *live;	/* storage ids a snapshot holds */
	struct gcpack *packs;		/* every pack file, sorted by id */
	size_t npacks, cap;
	char (*deltas)[PK_DELTA_NAME_BYTES];
	size_t ndeltas, dcap;
};

struct gc {
	struct pk_repo *r;
	const struct pk_gc_options *o;
	struct pk_gc_report *rep;
	struct pk_lease lease;
	struct pk_lease *leases;	/* every lease, listed at the start */
	size_t nleases;
	struct survey s;
	const struct pk_gcmark *m;	/* the mark being swept */
	struct pk_buf dead;		/* the mark being made: dead blobs */
	struct pk_buf copies;		/* the sweep's new locations */
	struct pk_delta_writer *dw;
	struct pk_pack_writer pw;
	int pw_open;
	struct pk_object *obj;		/* the pack being copied from */
	struct pk_buf blobs;		/* its blobs, from its trailer */
	struct pk_buf box;
};

static void __attribute__((format(printf, 2, 3)))
say(const struct gc *g, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (g->o->say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	g->o->say(g->o->arg, line);
}

static struct gcpack *
find_pack(const struct survey *s, const uint8_t id[PK_PACK_ID_BYTES])
{
	return bsearch(id, s->packs, s->npacks, sizeof *s->packs,
	    pk_pack_id_cmp);
}

static int
same_place(const struct pk_blobloc *a, const struct pk_blobloc *b)
{
	return memcmp(a->pack, b->pack, PK_PACK_ID_BYTES) == 0 &&
	    a->offset == b->offset;
}

/* --- the survey --- */

static void
survey_free(struct survey *s)
{
	if (s->ix_open)
		pk_index_close(&s->ix);
	pk_hashfile_abort(s->live);
	free(s->packs);
	free(s->deltas);
	memset(s, 0, sizeof *s);
}

static int
pack_listed(void *arg, const char *name)
{
	struct survey *s = arg;
	const char *slash = strchr(name, '/');
	struct gcpack *v;

	if (slash == NULL || strlen(slash + 1) != 2 * PK_PACK_ID_BYTES)
		return 0;
	if (s->npacks == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		if ((v = realloc(s->packs, s->cap * sizeof *v)) == NULL)
			return -ENOMEM;
		s->packs = v;
	}
	memset(&s->packs[s->npacks], 0, sizeof *s->packs);
	if (pk_unhex(s->packs[s->npacks].id, PK_PACK_ID_BYTES, slash + 1) < 0)
		return 0;
	s->npacks++;
	return 0;
}

static int
delta_listed(void *arg, const char *name)
{
	struct survey *s = arg;
	char (*v)[PK_DELTA_NAME_BYTES];

	if (s->ndeltas == s->dcap) {
		s->dcap = s->dcap ? 2 * s->dcap : 64;
		if ((v = realloc(s->deltas, s->dcap * sizeof *v)) == NULL)
			return -ENOMEM;
		s->deltas = v;
	}
	snprintf(s->deltas[s->ndeltas++], PK_DELTA_NAME_BYTES, "%s", name);
	return 0;
}

static int
live_add(void *arg, const uint8_t id[PK_ID_BYTES])
{
	struct gc *g = arg;
	uint8_t slot[LIVE_SLOT_BYTES] = { 0 };
	int e;

	pk_storage_id(&g->r->keys, slot, id);
	return (e = pk_hashfile_insert(g->s.live, slot)) < 0 ? e : 0;
}

static int
open_live(struct gc *g)
{
	struct pk_hashfile_params p = { .kind = PK_HF_LIVE,
	    .slot_bytes = LIVE_SLOT_BYTES, .key_bytes = PK_SID_BYTES };
	char path[4096];
	int e;

	memcpy(p.repo_id, g->r->id, sizeof p.repo_id);
	p.generation = g->r->generation;
	if ((e = pk_repo_tmp_path(g->r, "live", path, sizeof path)) < 0)
		return e;
	/* A mapped file, so that memory stays flat in the number of
	 * chunks; in memory when the disk will not take it. */
	e = pk_hashfile_open(&g->s.live, path, &p, PK_HF_CREATE);
	if (e < 0 && pk_hashfile_unwritable(e)) {
		pk_err_clear();
		e = pk_hashfile_open(&g->s.live, path, &p,
		    PK_HF_CREATE | PK_HF_MEMORY);
	}
	if (e == 0)
		pk_hashfile_lean(g->s.live);
	return e;
}

/* The storage ids of every chunk of every snapshot, catalogs included. */
static int
build_live(struct gc *g)
{
	struct pk_snapshot *list;
	size_t n, nbad, i, k;
	char name[2 * PK_MAC_BYTES + 1];
	int e;

	if ((e = pk_snapshot_list(g->r, &list, &n, &nbad)) < 0)
		return e;
	if (nbad) {
		pk_snapshot_list_free(list, n);
		return pk_err(-EBADMSG, "%zu snapshots cannot be read (pk-index "
		    "--check names them): nothing is deleted without knowing "
		    "what every snapshot holds", nbad);
	}
	g->rep->snapshots = n;
	if ((e = open_live(g)) < 0)
		goto out;
	for (i = 0; i < n && e == 0; i++) {
		for (k = 0; k < list[i].ncatalog && e == 0; k++)
			e = live_add(g, list[i].catalog[k].id);
		if (e == 0)
			e = pk_catalog_chunks(g->r, &g->s.ix, &list[i], live_add, g);
		if (e < 0) {
			pk_hex(name, list[i].id, sizeof list[i].id);
			e = pk_err(e, "snapshots/%s: %s: nothing is deleted "
			    "without knowing what every snapshot holds", name,
			    pk_errmsg(e));
		}
	}
out:
	pk_snapshot_list_free(list, n);
	return e;
}

/*
 * Whether a location is the one the chunk index gives for a storage id a
 * snapshot holds.  Another copy of such a chunk is unused, unless the
 * index's own is in a pack that is gone.
 */
static int
is_live(const struct survey *s, const struct pk_blobloc *loc)
{
	struct pk_blobloc c;

	if (pk_hashfile_find(s->live, loc->sid) == NULL)
		return 0;
	if (!pk_index_find(&s->ix, loc->sid, &c) || same_place(&c, loc))
		return 1;
	return find_pack(s, c.pack) == NULL;
}

static int
count_loc(void *arg, const struct pk_blobloc *loc)
{
	struct gc *g = arg;
	struct gcpack *p = find_pack(&g->s, loc->pack);

	if (p == NULL) {
		g->rep->missing_blobs++;
		return 0;
	}
	p->named = 1;
	p->blobs++;
	p->bytes += loc->length;
	if (is_live(&g->s, loc)) {
		p->nlive++;
		p->live += loc->length;
	}
	return 0;
}

static int
survey(struct gc *g)
{
	struct survey *s = &g->s;
	size_t i;
	int e;

	survey_free(s);
	memset(&g->rep->snapshots, 0, offsetof(struct pk_gc_report, marked_packs));
	if ((e = pk_index_open(&s->ix, g->r)) < 0)
		return e;
	s->ix_open = 1;
	pk_hashfile_lean(s->ix.hf);
	say(g, "reading snapshots");
	if ((e = build_live(g)) < 0)
		return e;
	say(g, "reading packs and index deltas");
	if ((e = pk_storage_list(g->r->store, "packs", pack_listed, s)) < 0 ||
	    (e = pk_index_list(g->r, delta_listed, s)) < 0)
		return e;
	if (s->npacks)
		qsort(s->packs, s->npacks, sizeof *s->packs, pk_pack_id_cmp);
	for (i = 0; i < s->ndeltas; i++)
		if ((e = pk_index_read_delta(g->r, s->deltas[i], count_loc, g)) < 0)
			return e;
	for (i = 0; i < s->npacks; i++) {
		struct gcpack *p = &s->packs[i];

		g->rep->packs++;
		g->rep->blobs += p->blobs;
		g->rep->bytes += p->bytes;
		g->rep->unused_blobs += p->blobs - p->nlive;
		g->rep->unused_bytes += p->bytes - p->live;
		g->rep->orphan_packs += !p->named;
	}
	return 0;
}

/* --- marking --- */

static int
cmp_waste(const void *a, const void *b)
{
	const struct gcpack *x = *(const struct gcpack *const *)a;
	const struct gcpack *y = *(const struct gcpack *const *)b;
	double wx = (double)(x->bytes - x->live) / (double)x->bytes;
	double wy = (double)(y->bytes - y->live) / (double)y->bytes;

	return wx < wy ? 1 : wx > wy ? -1 : 0;
}

/* Marks packs with no live blob and packs no delta names, then the
 * emptiest others while the unused share of what stays is above the
 * limit: judged after the dead packs are gone, so that a second run right
 * after the first finds nothing to repack. */
static int
choose(struct gc *g)
{
	struct survey *s = &g->s;
	struct gcpack **part;
	uint64_t unused = 0, live = 0;
	size_t i, n = 0;

	if ((part = calloc(s->npacks + 1, sizeof *part)) == NULL)
		return -ENOMEM;
	for (i = 0; i < s->npacks; i++) {
		struct gcpack *p = &s->packs[i];

		if (!p->named || p->nlive == 0) {
			p->marked = 1;
			g->rep->marked_packs++;
			g->rep->marked_bytes += p->bytes;
		} else if (p->nlive < p->blobs) {
			live += p->live;
			unused += p->bytes - p->live;
			part[n++] = p;
		} else {
			live += p->bytes;
		}
	}
	qsort(part, n, sizeof *part, cmp_waste);
	for (i = 0; i < n && (double)unused > g->o->max_unused / 100 *
	    (double)(live + unused); i++) {
		part[i]->marked = 1;
		unused -= part[i]->bytes - part[i]->live;
		g->rep->marked_packs++;
		g->rep->marked_repack++;
		g->rep->marked_bytes += part[i]->bytes - part[i]->live;
	}
	free(part);
	return 0;
}

static int
collect_dead(void *arg, const struct pk_blobloc *loc)
{
	struct gc *g = arg;
	struct gcpack *p = find_pack(&g->s, loc->pack);
	int e;

	if (p == NULL || !p->marked || is_live(&g->s, loc))
		return 0;
	if ((e = pk_buf_add(&g->dead, loc->sid, PK_SID_BYTES)) < 0)
		return e;
	return pk_buf_add(&g->dead, loc->pack, PK_PACK_ID_BYTES);
}

/* The leases that are not stale, but for this run's own. */
static int
live_leases(struct gc *g, struct pk_lease **v, size_t *n)
{
	size_t i, k = 0;
	int e;

	if ((e = pk_lease_list(g->r, v, n)) < 0)
		return e;
	for (i = 0; i < *n; i++)
		if (!(*v)[i].stale && strcmp((*v)[i].name, g->lease.name) != 0)
			(*v)[k++] = (*v)[i];
	*n = k;
	return 0;
}

static int
make_mark(struct gc *g, struct pk_gcmark *m)
{
	struct pk_lease *v;
	size_t i, n;
	int e;

	memset(m, 0, sizeof *m);
	pk_buf_reset(&g->dead);
	for (i = 0; i < g->s.ndeltas; i++)
		if ((e = pk_index_read_delta(g->r, g->s.deltas[i], collect_dead,
		    g)) < 0)
			return e;
	if ((m->packs = malloc(g->rep->marked_packs * PK_PACK_ID_BYTES + 1)) == NULL)
		return -ENOMEM;
	for (i = 0; i < g->s.npacks; i++)
		if (g->s.packs[i].marked)
			memcpy(m->packs + PK_PACK_ID_BYTES * m->npacks++,
			    g->s.packs[i].id, PK_PACK_ID_BYTES);
	m->dead = g->dead.data;
	m->ndead = g->dead.len / PK_GCMARK_DEAD_BYTES;
	g->dead = (struct pk_buf)PK_BUF_INIT;
	/* The mark, then the leases: a writer whose lease the listing
	 * misses put it after the mark was stored, and saw the mark. */
	if ((e = pk_gcmark_write(g->r, m)) < 0)
		return e;
	if ((e = live_leases(g, &v, &n)) < 0)
		return e;
	if ((m->leases = calloc(n + 1, sizeof *m->leases)) == NULL) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		memcpy(m->leases[i], v[i].name, PK_LEASE_NAME_BYTES);
	m->nleases = n;
	free(v);
	if ((e = pk_gcmark_write_leases(g->r, m)) < 0)
		return e;
	/* Caches made before may name the dead blobs. */
	return pk_gc_bump(g->r);
}

/* --- sweeping --- */

static int
finish_pack(struct gc *g)
{
	if (!g->pw_open)
		return 0;
	g->pw_open = 0;
	if (g->pw.count == 0) {
		pk_pack_abort(&g->pw);
		return 0;
	}
	return pk_pack_finish(&g->pw);
}

static int
copy_blob(struct gc *g, const struct pk_blobloc *loc)
{
	struct pk_blobloc nloc;
	int e;

	if ((e = pk_buf_reserve(&g->box, loc->length)) < 0 ||
	    (e = pk_object_read(g->obj, g->box.data, loc->length,
	    loc->offset)) < 0)
		return e;
	if (g->pw_open && pk_pack_full(&g->pw) && (e = finish_pack(g)) < 0)
		return e;
	if (!g->pw_open) {
		if ((e = pk_pack_begin(&g->pw, g->r)) < 0)
			return e;
		g->pw_open = 1;
	}
	if ((e = pk_pack_append(&g->pw, loc->sid, g->box.data, loc->length,
	    loc->raw, &nloc)) < 0)
		return e;
	g->rep->copied_blobs++;
	g->rep->copied_bytes += loc->length;
	return pk_buf_add(&g->copies, &nloc, sizeof nloc);
}

/* Notes the chunks that a pack that stays holds. */
static int
note_kept(void *arg, const struct pk_blobloc *loc)
{
	struct gc *g = arg;
	const uint8_t *slot = pk_hashfile_find(g->s.live, loc->sid);
	uint8_t kept[LIVE_SLOT_BYTES];
	struct gcpack *p;

	if (slot == NULL || slot[LIVE_KEPT] ||
	    (p = find_pack(&g->s, loc->pack)) == NULL || p->marked)
		return 0;
	memcpy(kept, slot, sizeof kept);
	kept[LIVE_KEPT] = 1;
	return pk_hashfile_replace(g->s.live, kept);
}

/*
 * A blob of a marked pack stays when it was live at the mark (a writer
 * may have taken it for stored since) or a snapshot holds it now, and is
 * copied once, unless a pack that stays holds its chunk.
 */
static int
sweep_blob(void *arg, const struct pk_blobloc *loc)
{
	struct gc *g = arg;
	const uint8_t *slot = pk_hashfile_find(g->s.live, loc->sid);
	uint8_t kept[LIVE_SLOT_BYTES] = { 0 };
	int e;

	if (slot != NULL && slot[LIVE_KEPT])
		return 0;
	if (pk_gcmark_is_dead(g->m, loc->sid, loc->pack) && slot == NULL)
		return 0;
	if ((e = copy_blob(g, loc)) < 0)
		return e;
	memcpy(kept, loc->sid, PK_SID_BYTES);
	kept[LIVE_KEPT] = 1;
	if (slot == NULL)
		return (e = pk_hashfile_insert(g->s.live, kept)) < 0 ? e : 0;
	return pk_hashfile_replace(g->s.live, kept);
}

static int
keep_loc(void *arg, const struct pk_blobloc *loc)
{
	struct gc *g = arg;
	struct gcpack *p = find_pack(&g->s, loc->pack);

	if (p == NULL || p->marked)
		return 0;
	return pk_delta_put(g->dw, loc);
}

static int
listed_blob(void *arg, const struct pk_blobloc *loc)
{
	return pk_buf_add(arg, loc, sizeof *loc);
}

/* The blobs of a marked pack that stay go to new packs.  A marked pack
 * none of whose blobs the mark names as dead was marked because no delta
 * named it; if one does now, its writer has committed, and it stays. */
static int
copy_pack(struct gc *g, struct pk_blob_reader *br, struct gcpack *p)
{
	const struct pk_blobloc *v;
	char rel[PK_PACK_RELPATH_BYTES];
	size_t i, n;
	int e, dead = 0;

	pk_buf_reset(&g->blobs);
	if ((e = pk_pack_list(br, p->id, listed_blob, &g->blobs)) < 0)
		return e;
	v = (const struct pk_blobloc *)g->blobs.data;
	n = g->blobs.len / sizeof *v;
	for (i = 0; i < n && !dead; i++)
		dead = pk_gcmark_is_dead(g->m, v[i].sid, v[i].pack);
	if (!dead) {
		p->marked = 0;
		return 0;
	}
	pk_pack_relpath(rel, sizeof rel, p->id);
	if ((e = pk_object_open(g->r->store, rel, &g->obj)) < 0)
		return e;
	for (i = 0; i < n && e == 0; i++)
		e = sweep_blob(g, &v[i]);
	pk_object_close(g->obj);
	g->obj = NULL;
	return e;
}

static int
copy_packs(struct gc *g)
{
	struct pk_blob_reader br;
	size_t i;
	int e = 0;

	if ((e = pk_blob_reader_init(&br, g->r)) < 0)
		return e;
	for (i = 0; i < g->s.npacks && e == 0; i++)
		/* A pack no delta names holds nothing anyone can find. */
		if (g->s.packs[i].marked && g->s.packs[i].named)
			e = copy_pack(g, &br, &g->s.packs[i]);
	pk_blob_reader_release(&br);
	if (e == 0)
		e = finish_pack(g);
	if (e == 0)
		e = pk_storage_flush(g->r->store);
	return e;
}

/* One delta for every location that stays, the copies first. */
static int
write_delta(struct gc *g)
{
	char name[PK_DELTA_NAME_BYTES];
	size_t i;
	int e;

	if ((e = pk_delta_begin(&g->dw, g->r)) < 0)
		return e;
	for (i = 0; e == 0 && i < g->copies.len / sizeof(struct pk_blobloc); i++)
		e = pk_delta_put(g->dw,
		    (const struct pk_blobloc *)g->copies.data + i);
	for (i = 0; e == 0 && i < g->s.ndeltas; i++)
		e = pk_index_read_delta(g->r, g->s.deltas[i], keep_loc, g);
	if (e < 0) {
		pk_delta_abort(g->dw);
		g->dw = NULL;
		return e;
	}
	e = pk_delta_commit(g->dw, name);
	g->dw = NULL;
	return e;
}

static int
sweep(struct gc *g, const struct pk_gcmark *m)
{
	uint64_t copied, freed = 0;
	char rel[600];
	size_t i;
	int e;

	say(g, "sweeping gc/mark-%s: %zu packs", m->name, m->npacks);
	if ((e = survey(g)) < 0)
		return e;
	for (i = 0; i < g->s.npacks; i++)
		g->s.packs[i].marked = pk_gcmark_has_pack(m, g->s.packs[i].id);
	g->m = m;
	pk_buf_reset(&g->copies);
	copied = g->rep->copied_bytes;
	for (i = 0; i < g->s.ndeltas; i++)
		if ((e = pk_index_read_delta(g->r, g->s.deltas[i], note_kept,
		    g)) < 0)
			return e;
	/* Copies, then the delta that names them and everything else that
	 * stays, then the old deltas go, then the generation changes (so
	 * that chunk indexes made before are rebuilt), then the packs go:
	 * a crash at any point leaves every snapshot whole. */
	say(g, "copying the live blobs of the marked packs");
	if ((e = copy_packs(g)) < 0 || (e = write_delta(g)) < 0)
		return e;
	for (i = 0; i < g->s.ndeltas; i++) {
		snprintf(rel, sizeof rel, "index/%s", g->s.deltas[i]);
		if ((e = pk_storage_remove(g->r->store, rel)) < 0 && e != -ENOENT)
			return e;
		pk_err_clear();
		g->rep->merged_deltas++;
	}
	if ((e = pk_gc_bump(g->r)) < 0)
		return e;
	say(g, "deleting packs");
	for (i = 0; i < g->s.npacks; i++) {
		struct gcpack *p = &g->s.packs[i];

		if (!p->marked)
			continue;
		if ((e = pk_pack_remove(g->r, p->id)) < 0 && e != -ENOENT)
			return e;
		pk_err_clear();
		g->rep->deleted_packs++;
		freed += p->bytes;
	}
	copied = g->rep->copied_bytes - copied;
	g->rep->freed_bytes += freed > copied ? freed - copied : 0;
	g->rep->swept_marks++;
	return pk_gcmark_remove(g->r, m);
}

/* --- the run --- */

static int
lease_alive(const struct gc *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nleases; i++)
		if (strcmp(g->leases[i].name, name) == 0)
			return 1;
	return 0;
}

/* 1 when m may be swept now; else 0 and why in the report. */
static int
ripe(struct gc *g, const struct pk_gcmark *m)
{
	char who[400];
	size_t i, k;
	int64_t now = time(NULL);

	if (now - m->time < g->o->grace) {
		snprintf(g->rep->wait_why, sizeof g->rep->wait_why, "gc/mark-%s "
		    "is in its grace time for %" PRId64 " s more", m->name,
		    g->o->grace - (now - m->time));
		g->rep->ripe_at = m->time + g->o->grace;
		return 0;
	}
	for (i = 0; i < m->nleases; i++) {
		if (!lease_alive(g, m->leases[i]))
			continue;
		for (k = 0; k < g->nleases; k++)
			if (strcmp(g->leases[k].name, m->leases[i]) == 0)
				pk_lease_describe(&g->leases[k], who, sizeof who);
		snprintf(g->rep->wait_why, sizeof g->rep->wait_why, "gc/mark-%s "
		    "waits for a run that was going when it was made: %s",
		    m->name, who);
		return 0;
	}
	return 1;
}

static int
refresh_leases(struct gc *g)
{
	free(g->leases);
	g->leases = NULL;
	return live_leases(g, &g->leases, &g->nleases);
}

/* Another pk-gc with a live lease: this one stops. */
static int
alone(struct gc *g)
{
	char who[512];
	size_t i;

	for (i = 0; i < g->nleases; i++)
		if (strcmp(g->leases[i].kind, "gc") == 0) {
			pk_lease_describe(&g->leases[i], who, sizeof who);
			return pk_err(-EBUSY, "%s: another pk-gc is running: %s",
			    g->r->path, who);
		}
	return 0;
}

/* Removes what crashed runs left in the work directory, once no run
 * that could own it is going. */
static void
clean_tmp(struct gc *g)
{
	const char *dirs[] = { "tmp", "." };
	int64_t age = g->o->grace > TMP_MIN_AGE ? g->o->grace : TMP_MIN_AGE;
	char dir[4096], path[4400];
	struct dirent *d;
	struct stat st;
	time_t now = time(NULL);
	size_t i;
	DIR *dp;

	if (g->nleases > 0)
		return;
	for (i = 0; i < 2; i++) {
		if (pk_repo_path(g->r, dir, sizeof dir, dirs[i]) < 0 ||
		    (dp = opendir(dir)) == NULL)
			continue;
		while ((d = readdir(dp)) != NULL) {
			if (i == 1 && strncmp(d->d_name, "chunkindex.tmp-", 15) != 0 &&
			    strncmp(d->d_name, "chunkindex.new-", 15) != 0)
				continue;
			if (d->d_name[0] == '.' ||
			    pk_path(path, sizeof path, "%s/%s", dir, d->d_name) < 0 ||
			    lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
			    now - st.st_mtime < age)
				continue;
			if (!g->o->dry_run && unlink(path) < 0)
				continue;
			g->rep->removed_tmp++;
		}
		closedir(dp);
	}
}

/* Sweeps the marks that are ripe; removes those no pk-gc can sweep. */
static int
sweep_ripe(struct gc *g, struct pk_gcmark *v, size_t n)
{
	size_t i;
	int e;

	for (i = 0; i < n; i++) {
		if (v[i].bad || !v[i].have_leases) {
			say(g, "gc/mark-%s: %s; removed", v[i].name, v[i].bad ?
			    v[i].why : "its pk-gc stopped before it was complete");
			if (!g->o->dry_run && (e = pk_gcmark_remove(g->r, &v[i])) < 0)
				return e;
			continue;
		}
		if (!ripe(g, &v[i]) || g->o->dry_run) {
			g->rep->waiting++;
			continue;
		}
		if ((e = sweep(g, &v[i])) < 0)
			return e;
	}
	return 0;
}

static int
run(struct gc *g)
{
	struct pk_gcmark *v, m;
	size_t n;
	int e;

	if (!g->o->dry_run &&
	    (e = pk_lease_take(g->r, "gc", &g->lease)) < 0)
		return e;
	if ((e = refresh_leases(g)) < 0 || (e = alone(g)) < 0)
		return e;
	if ((e = pk_gcmark_list(g->r, &v, &n)) < 0)
		return e;
	e = sweep_ripe(g, v, n);
	pk_gcmark_list_free(v, n);
	if (e < 0 || g->rep->waiting > 0)
		goto out;
	/* One mark at a time: a sweep then knows every pack that goes. */
	if ((e = survey(g)) < 0 || (e = choose(g)) < 0)
		return e;
	if (g->rep->marked_packs == 0 || g->o->dry_run)
		goto out;
	say(g, "marking %" PRIu64 " packs", g->rep->marked_packs);
	memset(&m, 0, sizeof m);
	e = make_mark(g, &m);
	g->rep->ripe_at = m.time + g->o->grace;
	if (e == 0 && (e = refresh_leases(g)) == 0 && ripe(g, &m))
		e = sweep(g, &m);
	else if (e == 0)
		g->rep->waiting++;
	pk_gcmark_release(&m);
out:
	if (e == 0)
		clean_tmp(g);
	return e;
}

int
pk_gc(struct pk_repo *r, const struct pk_gc_options *o,
    struct pk_gc_report *rep)
{
	struct gc g = { .r = r, .o = o, .rep = rep };
	int e;

	memset(rep, 0, sizeof *rep);
	g.dead = (struct pk_buf)PK_BUF_INIT;
	g.copies = (struct pk_buf)PK_BUF_INIT;
	g.box = (struct pk_buf)PK_BUF_INIT;
	g.blobs = (struct pk_buf)PK_BUF_INIT;
	e = run(&g);
	if (g.pw_open)
		pk_pack_abort(&g.pw);
	survey_free(&g.s);
	pk_buf_release(&g.dead);
	pk_buf_release(&g.copies);
	pk_buf_release(&g.box);
	pk_buf_release(&g.blobs);
	free(g.leases);
	pk_lease_drop(r, &g.lease);
	return e;
}
