/*
 * t-check: pk_check (check.h) on repositories filled with pk_store_stream.
 * A clean repository checks with no problem, its counts those of what was
 * stored, and with data every blob is read.  Each kind of damage is found
 * and named: a pack trailer flipped, a blob flipped (with data only, and
 * the file that uses it named), a pack removed, an index delta removed or
 * damaged, a blob the chunk index knows that no delta names, a damaged
 * snapshot, a catalog that is not a stream, a seek table that does not
 * match its catalog, a stray name in packs/; a pack no delta names is a
 * note, not a problem, and so are the leftovers of runs that stopped
 * (files of tmp/ an hour old while no lease is live, stale leases) and
 * the marks of a pk-gc.  A damaged delta the chunk index never merged
 * does not stop the check.  A damaged_file callback hears each damaged
 * file once.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-check"


static size_t
len_of(unsigned k)
{
	return 3000 + (k * 7919) % 20000;
}

static void
chunk_of(unsigned k, uint8_t *p, uint8_t id[PK_ID_BYTES])
{
	unit_fill(p, len_of(k), 51000 + k);
	pk_hash_id(id, p, len_of(k));
}

static void
put_file(struct pk_writer *w, const char *path, const unsigned *ks, size_t n)
{
	uint8_t *p, id[PK_ID_BYTES];
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < n; i++)
		size += len_of(ks[i]);
	unit_put_entry(w, PK_FT_REG, path, size);
	for (i = 0; i < n; i++) {
		p = malloc(len_of(ks[i]));
		chunk_of(ks[i], p, id);
		pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, p, len_of(ks[i]));
		free(p);
	}
	pk_write_eof(w, size, 0);
}

static int
store(struct pk_repo *r, const struct pk_buf *b, const char *host,
    struct pk_snapshot *snap)
{
	struct pk_store_options o = { .level = 3, .threads = 1, .host = host };
	struct pk_snapshot tmp;
	int e = unit_store(r, b, &o, snap ? snap : &tmp);

	if (e == 0 && snap == NULL)
		pk_snapshot_release(&tmp);
	return e;
}

/* Problems and notes heard, one per line. */
struct heard {
	int problems, notes;
	char text[16384];
	char notes_text[8192];
	int damaged;			/* damaged_file: how many, the last */
	char file[256], why[256];
	uint64_t entry;
};

static void
on_problem(void *arg, const char *msg)
{
	struct heard *h = arg;
	size_t n = strlen(h->text);

	h->problems++;
	snprintf(h->text + n, sizeof h->text - n, "%s\n", msg);
}

static void
on_note(void *arg, const char *msg)
{
	struct heard *h = arg;
	size_t n = strlen(h->notes_text);

	h->notes++;
	snprintf(h->notes_text + n, sizeof h->notes_text - n, "%s\n", msg);
}

static void
on_damaged(void *arg, const char *snapshot, uint64_t entry,
    const uint8_t *path, size_t len, const char *why)
{
	struct heard *h = arg;

	h->damaged++;
	h->entry = entry;
	snprintf(h->file, sizeof h->file, "%.*s", (int)len, (const char *)path);
	snprintf(h->why, sizeof h->why, "%s", why);
}

static int
check(struct pk_repo *r, int data, struct pk_check_result *res,
    struct heard *h)
{
	struct pk_check_options o = { .data = data, .problem = on_problem,
	    .note = on_note, .arg = h };

	memset(h, 0, sizeof *h);
	return pk_check(r, &o, res);
}

/* A repository of two snapshots: chunks 1-6 shared and new.  The first
 * holds d/a (1, 2, 3) and d/b (4); the second d/a (1, 2, 3), e (5, 6, 5). */
static struct pk_repo *
make_repo(const char *name, int encrypted, uint64_t *refs, uint64_t *bytes)
{
	struct pk_buf s = PK_BUF_INIT;
	struct pk_snapshot a, b;
	struct pk_writer *w;
	struct pk_repo *r;
	unsigned k;
	int e;

	if ((r = unit_repo(SCRATCH, name, encrypted, "pw")) == NULL)
		return NULL;
	w = unit_writer(&s, &unit_hdr);
	unit_put_entry(w, PK_FT_DIR, "d", 0);
	put_file(w, "d/a", (const unsigned[]){ 1, 2, 3 }, 3);
	put_file(w, "d/b", (const unsigned[]){ 4 }, 1);
	unit_writer_end(w);
	e = store(r, &s, "one", &a);
	w = unit_writer(&s, &unit_hdr);
	unit_put_entry(w, PK_FT_DIR, "d", 0);
	put_file(w, "d/a", (const unsigned[]){ 1, 2, 3 }, 3);
	put_file(w, "e", (const unsigned[]){ 5, 6, 5 }, 3);
	unit_writer_end(w);
	e = e ? e : store(r, &s, "two", &b);
	pk_buf_release(&s);
	if (e < 0) {
		pk_repo_close(r);
		return NULL;
	}
	*refs = a.chunks + b.chunks;
	/* Bytes of the blobs: the six chunks and the catalogs. */
	for (k = 1, *bytes = a.catalog_bytes + b.catalog_bytes; k <= 6; k++)
		*bytes += len_of(k);
	pk_snapshot_release(&a);
	pk_snapshot_release(&b);
	return r;
}

/* Where chunk k's blob is. */
static int
blob_of(struct pk_repo *r, unsigned k, struct pk_blobloc *loc)
{
	uint8_t *p = malloc(len_of(k)), id[PK_ID_BYTES], sid[32];
	struct pk_index ix;
	int found = 0;

	chunk_of(k, p, id);
	free(p);
	pk_storage_id(&r->keys, sid, id);
	if (pk_index_open(&ix, r) == 0) {
		found = pk_index_find(&ix, sid, loc);
		pk_index_close(&ix);
	}
	return found;
}

/* Flips a bit of the byte at off, the file made writable first. */
static int
flip_at(const char *path, off_t off)
{
	chmod(path, 0600);
	return unit_flip_at(path, off, 0x20);
}

struct finding {
	struct pk_repo *r;
	const uint8_t *sid;
	char name[PK_DELTA_NAME_BYTES];
};

static int
has_sid(void *arg, const struct pk_blobloc *l)
{
	return memcmp(l->sid, arg, 32) == 0;
}

static int
delta_has(void *arg, const char *name)
{
	struct finding *f = arg;

	if (pk_index_read_delta(f->r, name, has_sid, (void *)f->sid) == 1)
		snprintf(f->name, sizeof f->name, "%s", name);
	return 0;
}

/* The name of the delta that holds chunk k's blob, or "". */
static void
delta_of(struct pk_repo *r, unsigned k, char name[PK_DELTA_NAME_BYTES])
{
	struct pk_blobloc loc;
	struct finding f = { r, loc.sid, "" };

	if (blob_of(r, k, &loc))
		pk_index_list(r, delta_has, &f);
	memcpy(name, f.name, PK_DELTA_NAME_BYTES);
}

static void
test_clean(void)
{
	struct pk_check_result res;
	struct heard h;
	uint64_t refs, bytes;
	struct pk_repo *r = make_repo("clean", 0, &refs, &bytes);
	struct pk_repo *er;
	int e;

	if (r == NULL) {
		CHECK("clean: a repository", 0);
		return;
	}
	e = check(r, 0, &res, &h);
	CHECK("clean: checks with no problem", e == 0 && res.problems == 0 &&
	    h.problems == 0 && h.notes == 0);
	CHECK("clean: two snapshots, two deltas, their packs and blobs",
	    res.snapshots == 2 && res.deltas == 2 && res.packs == 2 &&
	    res.blobs >= 6 + 2 && res.unreferenced_packs == 0);
	CHECK("clean: every chunk reference of both catalogs", res.refs == refs &&
	    refs == 10);
	CHECK("clean: the structural check reads no blob", res.blobs_read == 0);
	e = check(r, 1, &res, &h);
	CHECK("clean: with data, every blob read, no problem", e == 0 &&
	    res.problems == 0 && res.blobs_read == res.blobs &&
	    res.bytes_read == bytes);
	pk_repo_close(r);

	er = make_repo("enc", 1, &refs, &bytes);
	e = er ? check(er, 1, &res, &h) : -1;
	CHECK("clean: an encrypted repository too", e == 0 && res.problems == 0 &&
	    res.snapshots == 2 && res.blobs_read == res.blobs &&
	    res.bytes_read == bytes);
	if (er)
		pk_repo_close(er);
}

static void
test_packs(void)
{
	struct pk_check_result res;
	struct pk_blobloc loc;
	struct heard h;
	uint64_t refs, bytes;
	struct pk_repo *r = make_repo("blob", 0, &refs, &bytes);
	char pack[4200], rel[PK_PACK_RELPATH_BYTES];
	int e;

	if (r == NULL || !blob_of(r, 4, &loc)) {
		CHECK("packs: a repository", 0);
		return;
	}
	pk_pack_path(r, pack, sizeof pack, loc.pack);
	pk_pack_relpath(rel, sizeof rel, loc.pack);
	flip_at(pack, loc.offset + loc.length / 2);
	e = check(r, 0, &res, &h);
	CHECK("blob flipped: the structural check does not read it", e == 0 &&
	    res.problems == 0);
	e = check(r, 1, &res, &h);
	CHECK("blob flipped: found with data", e == 0 && res.problems >= 1);
	CHECK("blob flipped: the pack named", strstr(h.text, rel) != NULL);
	CHECK("blob flipped: the file using it named as corrupt",
	    strstr(h.text, ": d/b: chunk ") && strstr(h.text, "is corrupt"));
	CHECK("blob flipped: no other file named", strstr(h.text, ": d/a:") ==
	    NULL && strstr(h.text, ": e:") == NULL);
	{
		struct pk_check_options o = { .data = 1, .problem = on_problem,
		    .note = on_note, .damaged_file = on_damaged, .arg = &h };

		memset(&h, 0, sizeof h);
		e = pk_check(r, &o, &res);
		CHECK("blob flipped: damaged_file hears the file once, with "
		    "its ENTRY", e == 0 && h.damaged == 1 &&
		    strcmp(h.file, "d/b") == 0 && h.entry == 6 &&
		    res.damaged_files == 1 &&
		    res.problems == 1 + (uint64_t)h.problems &&
		    strstr(h.why, "is corrupt"));
	}
	flip_at(pack, loc.offset + loc.length / 2);
	e = check(r, 1, &res, &h);
	CHECK("blob flipped back: clean again", e == 0 && res.problems == 0);

	/* The trailer. */
	flip_at(pack, unit_size_of(pack) - 30);
	e = check(r, 0, &res, &h);
	CHECK("trailer flipped: found by the structural check", e == 0 &&
	    res.problems >= 1 && strstr(h.text, rel) &&
	    strstr(h.text, "trailer"));
	flip_at(pack, unit_size_of(pack) - 30);

	/* The pack gone. */
	rename(pack, SCRATCH "/pack.aside");
	e = check(r, 0, &res, &h);
	CHECK("pack removed: named as an indexed pack",
	    e == 0 && strstr(h.text, rel) && strstr(h.text, "(indexed pack)"));
	CHECK("pack removed: the chunks of files in it are in a missing pack",
	    strstr(h.text, "is in a missing pack") != NULL);
	rename(SCRATCH "/pack.aside", pack);

	/* A pack no delta names: a note. */
	{
		struct pk_pack_writer w;
		struct pk_sealer sl;
		struct pk_buf box = PK_BUF_INIT;
		uint8_t data[100] = "stray", sid[32] = { 7 };
		struct pk_blobloc l;

		pk_sealer_init(&sl, 0);
		pk_blob_seal(&sl, &r->keys, sid, data, sizeof data, &box);
		pk_pack_begin(&w, r);
		pk_pack_append(&w, sid, box.data, box.len, sizeof data, &l);
		pk_pack_finish(&w);
		pk_sealer_release(&sl);
		pk_buf_release(&box);
		e = check(r, 1, &res, &h);
		CHECK("stray pack: a note, not a problem", e == 0 &&
		    res.problems == 0 && res.unreferenced_packs == 1 &&
		    h.notes == 1 && res.packs == 3);
		pk_pack_path(r, pack, sizeof pack, l.pack);
		unlink(pack);
	}

	/* A name that is not a pack's. */
	pk_pack_path(r, pack, sizeof pack, loc.pack);
	strcpy(strrchr(pack, '/') + 1, "junk");
	close(open(pack, O_WRONLY | O_CREAT, 0600));
	e = check(r, 0, &res, &h);
	CHECK("stray name in packs/: a problem", e == 0 && res.problems == 1 &&
	    strstr(h.text, "not a pack name"));
	unlink(pack);
	pk_repo_close(r);
}

static void
test_deltas(void)
{
	struct pk_check_result res;
	struct heard h;
	uint64_t refs, bytes;
	struct pk_repo *r = make_repo("delta", 0, &refs, &bytes);
	char dir[4200], path[4400], name[PK_DELTA_NAME_BYTES], aside[4400];
	int e, n;

	if (r == NULL) {
		CHECK("deltas: a repository", 0);
		return;
	}
	/* The first snapshot's: its chunks and catalog. */
	pk_repo_path(r, dir, sizeof dir, "index");
	delta_of(r, 4, name);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(aside, sizeof aside, SCRATCH "/delta.aside");
	rename(path, aside);
	e = check(r, 0, &res, &h);
	n = h.problems;
	CHECK("delta removed: the check runs, one delta", e == 0 &&
	    res.deltas == 1);
	CHECK("delta removed: its snapshot's catalog cannot be read",
	    name[0] && strstr(h.text, ": catalog: ") != NULL);
	CHECK("delta removed: the other's file of its chunks is missing them",
	    strstr(h.text, ": d/a: chunk ") && strstr(h.text, "… missing") &&
	    !strstr(h.text, ": e: chunk "));
	CHECK("delta removed: the chunk index that merged it is rebuilt",
	    strstr(h.text, "is not where an index delta puts it") == NULL);
	CHECK("delta removed: its pack is no index's, a note",
	    res.unreferenced_packs == 1 && h.notes == 1 && n >= 2);
	rename(aside, path);
	e = check(r, 0, &res, &h);
	CHECK("delta back: clean again", e == 0 && res.problems == 0);

	/* Damaged. */
	flip_at(path, unit_size_of(path) / 2);
	e = check(r, 0, &res, &h);
	CHECK("delta flipped: named", e == 0 && res.problems >= 1 &&
	    strstr(h.text, name) && strstr(h.text, "does not authenticate"));
	/* Never merged: the chunk index cannot be brought up to date. */
	pk_repo_path(r, aside, sizeof aside, "chunkindex");
	unlink(aside);
	e = check(r, 0, &res, &h);
	CHECK("delta flipped, not merged: the check runs and names both",
	    e == 0 && res.deltas == 2 && strstr(h.text, "chunkindex: cannot "
	    "be brought up to date: ") && strstr(h.text, "does not "
	    "authenticate") && strstr(h.text, "catalog: "));
	flip_at(path, unit_size_of(path) / 2);

	/* A blob only the chunk index knows. */
	{
		struct pk_hashfile_params p;
		struct pk_hashfile *pend;
		struct pk_blobloc l;
		uint8_t slot[PK_INDEX_SLOT_BYTES];

		pk_index_params(r, PK_HF_PENDING, &p);
		pk_hashfile_open(&pend, "pending", &p, PK_HF_CREATE | PK_HF_MEMORY);
		memset(&l, 0, sizeof l);
		unit_fill(l.sid, 32, 123);
		unit_fill(l.pack, 16, 124);
		l.offset = 16;
		l.length = l.raw = 100;
		pk_index_slot_encode(slot, &l);
		pk_hashfile_insert(pend, slot);
		e = pk_index_merge(r, pend, "");
		pk_hashfile_abort(pend);
		e = e ? e : check(r, 0, &res, &h);
		CHECK("chunk index: a blob no delta names is a problem", e == 0 &&
		    res.problems == 1 &&
		    strstr(h.text, "is not where an index delta puts it"));
		pk_repo_path(r, path, sizeof path, "chunkindex");
		unlink(path);
		e = check(r, 0, &res, &h);
		CHECK("chunk index: deleted, rebuilt, clean", e == 0 &&
		    res.problems == 0);
	}
	pk_repo_close(r);
}

static void
test_snapshots(void)
{
	struct pk_check_result res;
	struct heard h;
	uint64_t refs, bytes;
	struct pk_repo *r = make_repo("snap", 0, &refs, &bytes);
	struct pk_snapshot *list, bad;
	struct pk_blobloc loc;
	char dir[4200], path[4400], hex[PK_SNAPSHOT_NAME_BYTES];
	uint8_t *p, id[PK_ID_BYTES];
	size_t n;
	int e;

	if (r == NULL || pk_snapshot_list(r, &list, &n, NULL) < 0 || n != 2) {
		CHECK("snapshots: a repository", 0);
		return;
	}
	/* A snapshot file damaged. */
	pk_hex(hex, list[0].id, 32);
	pk_repo_path(r, dir, sizeof dir, "snapshots");
	snprintf(path, sizeof path, "%s/%s", dir, hex);
	flip_at(path, unit_size_of(path) - 3);
	e = check(r, 0, &res, &h);
	CHECK("snapshot flipped: counted and named", e == 0 &&
	    res.snapshots == 2 && res.problems == 1 && strstr(h.text, hex));
	flip_at(path, unit_size_of(path) - 3);

	/* A snapshot whose catalog is a file's chunk, not a stream. */
	memset(&bad, 0, sizeof bad);
	bad.start_sec = 5;
	bad.host = "bad";
	bad.ncatalog = 1;
	bad.catalog = calloc(1, sizeof *bad.catalog);
	p = malloc(len_of(4));
	chunk_of(4, p, id);
	free(p);
	memcpy(bad.catalog[0].id, id, PK_ID_BYTES);
	bad.catalog[0].len = (uint32_t)len_of(4);
	bad.catalog[0].entry = PK_CATALOG_NO_ENTRY;
	e = blob_of(r, 4, &loc) ? pk_snapshot_write(r, &bad) : -1;
	pk_hex(hex, bad.id, 32);
	e = e ? e : check(r, 0, &res, &h);
	CHECK("catalog not a stream: named", e == 0 && res.snapshots == 3 &&
	    res.problems == 1 && strstr(h.text, "catalog") &&
	    strstr(h.text, "not a pk stream") && strstr(h.text, "snapshot ") &&
	    strncmp(strstr(h.text, "snapshot ") + 9, hex, 12) == 0);
	snprintf(path, sizeof path, "%s/%s", dir, hex);
	unlink(path);
	free(bad.catalog);

	/* The seek table of the first snapshot, changed. */
	if (list[0].ncatalog > 0 && list[0].catalog[0].entry !=
	    PK_CATALOG_NO_ENTRY) {
		list[0].catalog[0].recno++;
		e = pk_snapshot_write(r, &list[0]);
		e = e ? e : check(r, 0, &res, &h);
		CHECK("seek table off by one record: named", e == 0 &&
		    res.problems == 1 &&
		    strstr(h.text, "the seek table does not match the catalog"));
		pk_hex(hex, list[0].id, 32);
		snprintf(path, sizeof path, "%s/%s", dir, hex);
		unlink(path);
	} else
		CHECK("seek table: the snapshot has one", 0);

	/* A name in snapshots/ that is no snapshot's. */
	snprintf(path, sizeof path, "%s/notes", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	e = check(r, 0, &res, &h);
	CHECK("stray name in snapshots/: a problem", e == 0 &&
	    res.problems == 1 && strstr(h.text, "notes"));
	unlink(path);
	e = check(r, 1, &res, &h);
	CHECK("snapshots: clean again", e == 0 && res.problems == 0 &&
	    res.snapshots == 2);
	pk_snapshot_list_free(list, n);
	pk_repo_close(r);
}

/* What runs that stopped leave, and a pk-gc's mark: notes only. */
static void
test_notes(void)
{
	struct pk_check_result res;
	struct pk_lease me;
	struct pk_gcmark m = { 0 };
	struct heard h;
	uint64_t refs, bytes;
	struct pk_repo *r = make_repo("notes", 0, &refs, &bytes);
	char path[4200], old[4200], text[256];
	struct utimbuf hours_ago;
	uint8_t packs[2 * PK_PACK_ID_BYTES] = { 1 };
	int e, fd;

	if (r == NULL) {
		CHECK("notes: a repository", 0);
		return;
	}
	/* A file of tmp/ two hours old, and one just made. */
	pk_repo_path(r, old, sizeof old, "tmp/pending-0123456789abcdef");
	close(open(old, O_WRONLY | O_CREAT, 0600));
	hours_ago.actime = hours_ago.modtime = time(NULL) - 7200;
	utime(old, &hours_ago);
	pk_repo_path(r, path, sizeof path, "tmp/pending-fedcba9876543210");
	close(open(path, O_WRONLY | O_CREAT, 0600));
	e = check(r, 0, &res, &h);
	CHECK("tmp/: the old file is a note, the new one nothing", e == 0 &&
	    res.problems == 0 && h.notes == 1 && res.notes == 1 &&
	    strstr(h.notes_text, "tmp/pending-0123456789abcdef: left by a "
	    "run that stopped (pk-gc removes it)") &&
	    !strstr(h.notes_text, "fedcba"));
	unlink(path);

	/* A lease of a running run: tmp/ may be its own. */
	e = pk_lease_take(r, "store", &me);
	e = e ? e : check(r, 0, &res, &h);
	CHECK("a live lease: no note, tmp/ left alone", e == 0 &&
	    res.problems == 0 && h.notes == 0);
	pk_lease_drop(r, &me);

	/* A lease of eight days ago: stale whoever holds it. */
	snprintf(text, sizeof text, "pk-lease 1\nkind store\nhost elsewhere\n"
	    "pid 1\nstart %lld\n", (long long)time(NULL) - 8 * 86400);
	pk_repo_path(r, path, sizeof path, "locks/0123456789abcdef0123456789abcdef");
	unit_put_file(path, text, strlen(text));
	e = check(r, 0, &res, &h);
	CHECK("a stale lease: a note naming it, and tmp/ noted", e == 0 &&
	    res.problems == 0 && h.notes == 2 &&
	    strstr(h.notes_text, "locks/0123456789abcdef0123456789abcdef: "
	    "lease of a run that stopped (store on host elsewhere, pid 1"));
	unlink(path);
	unlink(old);

	/* One that cannot be read: pk-gc waits for it. */
	unit_put_file(path, "junk\n", 5);
	e = check(r, 0, &res, &h);
	CHECK("an unreadable lease: a note", e == 0 && res.problems == 0 &&
	    h.notes == 1 && strstr(h.notes_text, "cannot be read"));
	unlink(path);

	/* A mark, then one that cannot be read. */
	m.packs = packs;
	m.npacks = 2;
	m.dead = packs;		/* none, but qsort wants a pointer */
	e = pk_gcmark_write(r, &m);
	e = e ? e : pk_gcmark_write_leases(r, &m);
	e = e ? e : check(r, 0, &res, &h);
	CHECK("a gc mark: a note with its packs", e == 0 && res.problems == 0 &&
	    h.notes == 1 && strstr(h.notes_text, m.name) &&
	    strstr(h.notes_text, ": 2 packs marked for deletion by pk-gc"));
	pk_repo_path(r, path, sizeof path, "gc");
	snprintf(path + strlen(path), sizeof path - strlen(path), "/mark-%s",
	    m.name);
	chmod(path, 0600);
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	e = check(r, 0, &res, &h);
	CHECK("an unreadable mark: a note saying why", e == 0 &&
	    res.problems == 0 && h.notes == 1 &&
	    strstr(h.notes_text, "cannot be read (pk-gc removes it): "));
	pk_gcmark_remove(r, &m);
	e = check(r, 0, &res, &h);
	CHECK("notes: clean again", e == 0 && res.problems == 0 && h.notes == 0);
	pk_repo_close(r);
}

int
main(void)
{
	unit_scratch(SCRATCH);
	test_clean();
	test_packs();
	test_deltas();
	test_snapshots();
	test_notes();
	UNIT_END();
}
