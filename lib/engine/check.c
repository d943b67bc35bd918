#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "check.h"
#include "entry.h"
#include "err.h"
#include "gcmark.h"
#include "hash.h"
#include "index.h"
#include "lease.h"
#include "pack.h"
#include "packread.h"
#include "seektable.h"
#include "snapshot.h"
#include "validate.h"

/* A file of tmp/ this old, while no run holds a lease, was left by a run
 * that stopped: pk-gc removes such files (pk-repo(5) "Collecting"). */
#define LEFTOVER_SEC	3600

struct check {
	struct pk_repo *repo;
	const struct pk_check_options *o;
	struct pk_check_result *res;
	struct pk_index ix;		/* the chunk index, as the tools see it */
	int ix_open;			/* 0: it could not be brought up to date */
	struct pk_index fresh;		/* one built from the deltas alone */
	char fresh_path[4096];
	struct pk_blob_reader br;
	struct pk_buf packs;		/* pack ids the deltas name, sorted */
	size_t npacks;
	struct pk_buf bad;		/* storage ids of bad blobs */
	struct pk_buf dups;		/* blob locations of ids stored twice */
	struct pk_pack_census *census;
	struct pk_buf data;
	const char *delta;
	uint64_t file_entry;		/* the catalog record of the file read */
	int file_damaged;		/* ... which was named as damaged */
};

/* A line for the caller: a problem, or a note, which is none. */
enum line { PROBLEM, NOTE };

static void
tell(struct check *c, enum line kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
tell(struct check *c, enum line kind, const char *fmt, ...)
{
	void (*to)(void *, const char *) = kind == NOTE ? c->o->note :
	    c->o->problem;
	char msg[PK_ERR_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (kind == NOTE)
		c->res->notes++;
	else
		c->res->problems++;
	if (to)
		to(c->o->arg, msg);
	pk_err_clear();		/* said; the check goes on */
}

#define problem(c, ...)	tell(c, PROBLEM, __VA_ARGS__)
#define note(c, ...)	tell(c, NOTE, __VA_ARGS__)

static int
add_pack(struct check *c, const uint8_t *id)
{
	/* Deltas name each pack many times in a row: skip repeats cheaply. */
	if (c->packs.len >= PK_PACK_ID_BYTES &&
	    memcmp(c->packs.data + c->packs.len - PK_PACK_ID_BYTES, id,
	    PK_PACK_ID_BYTES) == 0)
		return 0;
	return pk_buf_add(&c->packs, id, PK_PACK_ID_BYTES);
}

/* A second blob of one storage id: the one in a pack that exists goes in
 * the fresh index, the other in dups. */
static int
keep_live(struct check *c, const uint8_t slot[PK_INDEX_SLOT_BYTES])
{
	uint8_t old[PK_INDEX_SLOT_BYTES];
	struct pk_blobloc have, loc;
	int e;

	memcpy(old, pk_hashfile_find(c->fresh.hf, slot), sizeof old);
	pk_blobloc_decode(&have, old);
	pk_blobloc_decode(&loc, slot);
	if (pk_pack_census_alive(c->census, have.pack) == 0 &&
	    pk_pack_census_alive(c->census, loc.pack) > 0) {
		if ((e = pk_hashfile_replace(c->fresh.hf, slot)) < 0)
			return e;
		slot = old;
	}
	return pk_buf_add(&c->dups, slot, PK_INDEX_SLOT_BYTES);
}

static int
delta_blob(void *arg, const struct pk_blobloc *loc)
{
	struct check *c = arg;
	struct pk_blobloc have;
	uint8_t slot[PK_INDEX_SLOT_BYTES];
	int e;

	c->res->blobs++;
	pk_index_slot_encode(slot, loc);
	if ((e = pk_hashfile_insert(c->fresh.hf, slot)) < 0)
		return e;
	/* Two writers that stored one new chunk at once each wrote a blob;
	 * the chunk index keeps one of them, either.  A chunk stored again
	 * after its pack was lost: the chunk index keeps the new one, and so
	 * do the reads of this check. */
	if (e == 1 && (e = keep_live(c, slot)) < 0)
		return e;
	if (c->ix_open && !pk_index_find(&c->ix, loc->sid, &have)) {
		char hex[17];

		pk_hex(hex, loc->sid, 8);
		problem(c, "%s/index/%s: blob %s… missing from the chunk index",
		    c->repo->path, c->delta, hex);
	}
	return add_pack(c, loc->pack);
}

/* Every field: a reader takes each one from the chunk index. */
static int
same_place(const struct pk_blobloc *a, const struct pk_blobloc *b)
{
	return memcmp(a->sid, b->sid, sizeof a->sid) == 0 &&
	    memcmp(a->pack, b->pack, PK_PACK_ID_BYTES) == 0 &&
	    a->offset == b->offset && a->length == b->length &&
	    a->raw == b->raw && a->flags == b->flags;
}

static int
in_deltas(const struct check *c, const struct pk_blobloc *loc)
{
	struct pk_blobloc have;
	size_t i;

	if (!pk_index_find(&c->fresh, loc->sid, &have))
		return 0;
	if (same_place(&have, loc))
		return 1;
	for (i = 0; i < c->dups.len; i += PK_INDEX_SLOT_BYTES) {
		pk_blobloc_decode(&have, c->dups.data + i);
		if (same_place(&have, loc))
			return 1;
	}
	return 0;
}

/* The chunk index is a cache: a blob it knows that no delta names would
 * let a backup refer to data that is not there. */
static int
cached_blob(void *arg, const void *slot)
{
	struct check *c = arg;
	struct pk_blobloc loc;
	char hex[17];
	int e;

	if ((e = pk_index_slot_decode(&loc, slot)) < 0) {
		problem(c, "%s/chunkindex: %s (it is rebuilt from the deltas at "
		    "its next use)", c->repo->path, pk_errmsg(e));
		return 0;
	}
	if (loc.flags & PK_BLOBLOC_MARKER)
		return 0;
	if (!in_deltas(c, &loc)) {
		pk_hex(hex, loc.sid, 8);
		problem(c, "%s/chunkindex: blob %s… is not where an index delta "
		    "puts it (delete the chunk index: it is rebuilt from the "
		    "deltas)", c->repo->path, hex);
	}
	return 0;
}

static int
open_fresh(struct check *c)
{
	struct pk_hashfile_params p;
	int e;

	if ((e = pk_repo_tmp_path(c->repo, "check", c->fresh_path,
	    sizeof c->fresh_path)) < 0)
		return e;
	c->fresh.repo = c->repo;
	pk_index_params(c->repo, PK_HF_PENDING, &p);
	e = pk_hashfile_open(&c->fresh.hf, c->fresh_path, &p, PK_HF_CREATE);
	/* A full or read-only disk must not keep a repository from being
	 * checked: the index then lives in memory. */
	if (pk_hashfile_unwritable(e))
		e = pk_hashfile_open(&c->fresh.hf, c->fresh_path, &p,
		    PK_HF_CREATE | PK_HF_MEMORY);
	return e;
}

static void
close_fresh(struct check *c)
{
	pk_hashfile_abort(c->fresh.hf);
	c->fresh.hf = NULL;
}

static int
check_delta(void *arg, const char *name)
{
	struct check *c = arg;
	int e;

	c->res->deltas++;
	c->delta = name;
	e = pk_index_read_delta(c->repo, name, delta_blob, c);
	if (e == -ENOMEM)
		return e;
	if (e == -EBADMSG)
		problem(c, "%s (pk-index --repair=index)", pk_errmsg(e));
	else if (e < 0)
		problem(c, "%s", pk_errmsg(e));
	return 0;
}

static int
is_bad(const struct check *c, const uint8_t sid[PK_SID_BYTES])
{
	size_t i;

	for (i = 0; i + PK_SID_BYTES <= c->bad.len; i += PK_SID_BYTES)
		if (memcmp(c->bad.data + i, sid, PK_SID_BYTES) == 0)
			return 1;
	return 0;
}

static int
read_blob(void *arg, const struct pk_blobloc *loc)
{
	struct check *c = arg;
	uint8_t id[PK_ID_BYTES], sid[PK_SID_BYTES];
	int e;

	c->res->blobs_read++;
	e = pk_blob_read(&c->br, loc, &c->data);
	if (e == 0) {
		c->res->bytes_read += c->data.len;
		pk_hash_id(id, c->data.data, c->data.len);
		pk_storage_id(&c->repo->keys, sid, id);
		if (memcmp(sid, loc->sid, PK_SID_BYTES) != 0) {
			char rel[PK_PACK_RELPATH_BYTES];

			pk_pack_relpath(rel, sizeof rel, loc->pack);
			e = pk_err(-EBADMSG, "%s/%s: blob at offset %" PRIu32
			    " does not match its id", c->repo->path, rel, loc->offset);
		}
	}
	if (e == -ENOMEM)
		return e;
	if (e < 0) {
		problem(c, "%s", pk_errmsg(e));
		return pk_buf_add(&c->bad, loc->sid, PK_SID_BYTES);
	}
	return 0;
}

static int
count_blob(void *arg, const struct pk_blobloc *loc)
{
	return 0;
}

/* "ab/ab12…", as the storage lists the packs. */
static int
check_pack(void *arg, const char *rel)
{
	struct check *c = arg;
	uint8_t id[PK_PACK_ID_BYTES];
	const char *name = strchr(rel, '/');
	int e;

	if (name == NULL || name - rel != 2 || strlen(++name) !=
	    2 * PK_PACK_ID_BYTES || pk_unhex(id, sizeof id, name) < 0 ||
	    strncmp(rel, name, 2) != 0) {
		problem(c, "%s/packs/%s: not a pack name", c->repo->path, rel);
		return 0;
	}
	c->res->packs++;
	if (bsearch(id, c->packs.data, c->npacks, PK_PACK_ID_BYTES,
	    pk_pack_id_cmp) == NULL) {
		c->res->unreferenced_packs++;
		note(c, "%s/packs/%s: no index refers to this pack (left by an "
		    "interrupted backup)", c->repo->path, rel);
		return 0;
	}
	e = pk_pack_list(&c->br, id, c->o->data ? read_blob : count_blob, c);
	if (e == -ENOMEM)
		return e;
	if (e < 0)
		problem(c, "%s", pk_errmsg(e));
	return 0;
}

/* Sorts the pack ids the deltas named, without repeats. */
static void
sort_packs(struct check *c)
{
	c->npacks = pk_sort_unique(c->packs.data, c->packs.len /
	    PK_PACK_ID_BYTES, PK_PACK_ID_BYTES, pk_pack_id_cmp);
}

/* Every pack the deltas name must exist. */
static int
check_pack_files(struct check *c)
{
	const uint8_t *id;
	char path[4096];
	size_t i;
	int e;

	for (i = 0; i < c->npacks; i++) {
		id = c->packs.data + i * PK_PACK_ID_BYTES;
		if ((e = pk_pack_census_alive(c->census, id)) == 1)
			continue;
		if (e == -ENOMEM)
			return e;
		if (e < 0)
			problem(c, "%s", pk_errmsg(e));
		else if (pk_pack_path(c->repo, path, sizeof path, id) == 0)
			problem(c, "%s: %s (indexed pack)", path, strerror(ENOENT));
	}
	return 0;
}

/* Whether a blob of loc's storage id is in a pack that exists: loc's, or
 * that of a copy stored again. */
static int
in_live_pack(struct check *c, const struct pk_blobloc *loc)
{
	struct pk_blobloc have;
	size_t i;

	if (pk_pack_census_alive(c->census, loc->pack) > 0)
		return 1;
	for (i = 0; i < c->dups.len; i += PK_INDEX_SLOT_BYTES) {
		pk_blobloc_decode(&have, c->dups.data + i);
		if (memcmp(have.sid, loc->sid, sizeof have.sid) == 0 &&
		    pk_pack_census_alive(c->census, have.pack) > 0)
			return 1;
	}
	return 0;
}

/* A chunk of the file read that cannot be restored: a problem for each
 * chunk, or one for the file told to damaged_file. */
static void
bad_chunk(struct check *c, const struct pk_entry *e, const char *snapname,
    const char *hex, const char *why)
{
	char msg[PK_ERR_BYTES];

	if (!c->file_damaged)
		c->res->damaged_files++;
	if (c->o->damaged_file == NULL) {
		problem(c, "snapshot %.12s: %.*s: chunk %s… %s", snapname,
		    (int)e->path.len, e->path.p, hex, why);
		return;
	}
	if (c->file_damaged)
		return;
	c->file_damaged = 1;
	c->res->problems++;
	snprintf(msg, sizeof msg, "chunk %s… %s", hex, why);
	c->o->damaged_file(c->o->arg, snapname, c->file_entry, e->path.p,
	    e->path.len, msg);
}

static int
check_ref(struct check *c, const struct pk_snapshot *s, const struct pk_record *rec,
    const struct pk_entry *e, const char *snapname)
{
	struct pk_blobloc loc;
	const uint8_t *id;
	uint8_t sid[PK_SID_BYTES];
	uint32_t len;
	char hex[17];

	if (pk_record_ref(rec, &id, &len) < 0)
		return -EBADMSG;
	c->res->refs++;
	pk_storage_id(&c->repo->keys, sid, id);
	pk_hex(hex, id, 8);
	if (!pk_index_find(&c->fresh, sid, &loc))
		bad_chunk(c, e, snapname, hex, "missing");
	else if (loc.raw != len)
		bad_chunk(c, e, snapname, hex, "has another length");
	else if (!in_live_pack(c, &loc))
		bad_chunk(c, e, snapname, hex, "is in a missing pack");
	else if (is_bad(c, sid))
		bad_chunk(c, e, snapname, hex, "is corrupt");
	return 0;
}

/*
 * The seek table against the catalog: rebuilt from the entries read, one
 * chunk at a time, it must be the one the snapshot holds.  A wrong table
 * would make a restore of one path miss it.  Returns 0, or -EBADMSG once
 * a chunk differs (named in a problem).
 */
static int
check_seek(struct check *c, const struct pk_snapshot *s, const char *name,
    struct pk_seekbuild *sb, uint32_t i)
{
	const struct pk_catalog_chunk *cc = &s->catalog[i];
	struct pk_catalog_chunk want = { .len = cc->len };
	struct pk_buf keys = PK_BUF_INIT;
	int e;

	if ((e = pk_seekbuild_chunk(sb, &want, &keys)) < 0)
		return e;
	if (want.entry != cc->entry || want.recno != cc->recno ||
	    want.lolen != cc->lolen || want.hilen != cc->hilen ||
	    memcmp(keys.data, s->keys.data + cc->key, keys.len) != 0) {
		problem(c, "snapshot %.12s: catalog chunk %" PRIu32 ": the seek "
		    "table does not match the catalog", name, i);
		e = -EBADMSG;
	}
	pk_buf_release(&keys);
	return e;
}

/* Names one record of a catalog that the validator refused. */
static void
bad_record(struct check *c, const char *name, struct pk_catalog *cat,
    const struct pk_record *rec, const char *why)
{
	struct pk_str path;

	if (rec->type == PK_REC_ENTRY && pk_entry_path(&path, rec->data,
	    rec->len) == 0)
		problem(c, "snapshot %.12s: catalog record %" PRIu64 ": %.*s: %s",
		    name, pk_catalog_recno(cat), (int)path.len, path.p, why);
	else
		problem(c, "snapshot %.12s: catalog record %" PRIu64 ": %s", name,
		    pk_catalog_recno(cat), why);
}

/*
 * Reads the catalog as a restore would, through the validator that
 * pk-store ran over the stream, naming every record it refuses; checks
 * every chunk reference and rebuilds the seek table.
 */
static void
check_catalog(struct check *c, const struct pk_snapshot *s, const char *name)
{
	struct pk_seekbuild sb = { PK_BUF_INIT, 0 };
	struct pk_validator v;
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_str path;
	uint32_t chunk = 0;
	uint64_t off;
	int n, err = 0, seek = s->seekable ? 0 : -1;

	if ((n = pk_catalog_open(&cat, c->repo, &c->fresh, s, &h)) < 0) {
		c->res->unreadable_snapshots++;
		problem(c, "snapshot %.12s: catalog: %s", name, pk_errmsg(n));
		return;
	}
	pk_validator_init(&v, PK_VALIDATE_CATALOG);
	while (err == 0 && (n = pk_catalog_next(cat, &rec)) > 0) {
		if ((err = pk_validate(&v, &rec)) == -EBADMSG) {
			bad_record(c, name, cat, &rec, pk_errmsg(err));
			err = 0;
		}
		if (rec.type == PK_REC_ENTRY) {
			c->file_entry = pk_catalog_recno(cat);
			c->file_damaged = 0;
			if (pk_entry_path(&path, rec.data, rec.len) < 0)
				continue;	/* named above */
			/* The chunks before this entry are complete. */
			off = pk_catalog_offset(cat);
			while (seek == 0 && chunk < s->ncatalog &&
			    off >= sb.chunk_off + s->catalog[chunk].len)
				seek = check_seek(c, s, name, &sb, chunk++);
			if (seek == 0)
				seek = pk_seekbuild_entry(&sb, off,
				    pk_catalog_recno(cat), path.p, path.len);
		} else if (rec.type == PK_REC_REF && !v.skipping && err == 0) {
			err = check_ref(c, s, &rec, &v.e, name);
		}
	}
	if (n < 0 || err < 0) {
		c->res->unreadable_snapshots++;
		problem(c, "snapshot %.12s: catalog: %s", name,
		    pk_errmsg(n < 0 ? n : err));
	}
	else if (pk_validate_end(&v) < 0)
		problem(c, "snapshot %.12s: catalog: %s", name, pk_errmsg(-EBADMSG));
	while (n == 0 && err == 0 && seek == 0 && chunk < s->ncatalog)
		seek = check_seek(c, s, name, &sb, chunk++);
	pk_validator_release(&v);
	pk_seekbuild_release(&sb);
	pk_catalog_close(cat);
}

static int
check_snapshot(void *arg, const char *name)
{
	struct check *c = arg;
	struct pk_snapshot s;
	int e;

	c->res->snapshots++;
	if ((e = pk_snapshot_read(c->repo, name, &s)) < 0) {
		c->res->unreadable_snapshots++;
		problem(c, "%s", pk_errmsg(e));
		return e == -ENOMEM ? e : 0;
	}
	check_catalog(c, &s, name);
	pk_snapshot_release(&s);
	return 0;
}

/* Leases whose run is over, and unreadable ones, which pk-gc takes for
 * those of running runs; *live counts the leases that are not stale. */
static int
note_leases(struct check *c, size_t *live)
{
	struct pk_lease *v;
	char who[800];
	size_t n, i;
	int e;

	*live = 0;
	if ((e = pk_lease_list(c->repo, &v, &n)) < 0)
		return e;
	for (i = 0; i < n; i++) {
		if (v[i].bad)
			note(c, "%s/locks/%s: a lease that cannot be read: pk-gc "
			    "waits for it as for a running run", c->repo->path,
			    v[i].name);
		if (!v[i].stale) {
			(*live)++;
			continue;
		}
		pk_lease_describe(&v[i], who, sizeof who);
		note(c, "%s/locks/%s: lease of a run that stopped (%s)",
		    c->repo->path, v[i].name, who);
	}
	free(v);
	return 0;
}

/* A garbage collection in progress: the packs it is to delete. */
static int
note_marks(struct check *c)
{
	struct pk_gcmark *v;
	size_t n, i;
	int e;

	if ((e = pk_gcmark_list(c->repo, &v, &n)) < 0)
		return e;
	for (i = 0; i < n; i++) {
		if (v[i].bad)
			note(c, "%s/gc/mark-%s: cannot be read (pk-gc removes it): "
			    "%s", c->repo->path, v[i].name, v[i].why);
		else if (!v[i].have_leases)
			note(c, "%s/gc/mark-%s: left incomplete by a pk-gc that "
			    "stopped (pk-gc removes it)", c->repo->path,
			    v[i].name);
		else
			note(c, "%s/gc/mark-%s: %zu packs marked for deletion by "
			    "pk-gc", c->repo->path, v[i].name, v[i].npacks);
	}
	pk_gcmark_list_free(v, n);
	return 0;
}

/* Files of tmp/ that no running run can own. */
static void
note_leftovers(struct check *c)
{
	char dir[4096], path[4400];
	time_t now = time(NULL);
	struct dirent *d;
	struct stat st;
	DIR *dp;

	if (pk_repo_path(c->repo, dir, sizeof dir, "tmp") < 0 ||
	    (dp = opendir(dir)) == NULL)
		return;
	while ((d = readdir(dp)) != NULL)
		if (d->d_name[0] != '.' &&
		    pk_path(path, sizeof path, "%s/%s", dir, d->d_name) == 0 &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime >= LEFTOVER_SEC)
			note(c, "%s: left by a run that stopped (pk-gc removes "
			    "it)", path);
	closedir(dp);
}

/* What runs that stopped left, and a collection in progress. */
static int
note_runs(struct check *c)
{
	size_t live;
	int e;

	if ((e = note_leases(c, &live)) < 0 || (e = note_marks(c)) < 0)
		return e;
	if (live == 0)
		note_leftovers(c);
	return 0;
}

int
pk_check(struct pk_repo *r, const struct pk_check_options *o,
    struct pk_check_result *res)
{
	struct check c = { .repo = r, .o = o, .res = res };
	int e;

	memset(res, 0, sizeof *res);
	if ((e = pk_blob_reader_init(&c.br, r)) < 0)
		return e;
	/* A damaged delta that was never merged keeps the chunk index from
	 * being brought up to date: the check goes on without it, from the
	 * deltas it can read. */
	if ((e = pk_index_open(&c.ix, r)) == -ENOMEM)
		goto out;
	if (e < 0)
		problem(&c, "%s/chunkindex: cannot be brought up to date: %s",
		    r->path, pk_errmsg(e));
	c.ix_open = e == 0;
	if ((e = open_fresh(&c)) < 0 ||
	    (e = pk_pack_census_new(&c.census, r)) < 0)
		goto out;
	if ((e = pk_index_list(r, check_delta, &c)) < 0 || (c.ix_open &&
	    (e = pk_hashfile_foreach(c.ix.hf, cached_blob, &c)) < 0))
		goto out;
	sort_packs(&c);
	if ((e = check_pack_files(&c)) < 0 ||
	    (e = pk_storage_list(r->store, "packs", check_pack, &c)) < 0 ||
	    (e = pk_storage_list(r->store, "snapshots", check_snapshot, &c)) < 0)
		goto out;
	e = note_runs(&c);
out:
	close_fresh(&c);
	if (c.ix_open)
		pk_index_close(&c.ix);
	pk_blob_reader_release(&c.br);
	pk_buf_release(&c.packs);
	pk_buf_release(&c.bad);
	pk_buf_release(&c.dups);
	pk_buf_release(&c.data);
	pk_pack_census_free(c.census);
	return e;
}
