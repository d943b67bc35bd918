/*
 * t-index: where blobs live (index.h).  Slots: encoded and decoded, any
 * byte changed fails the check.  Index deltas: written 0400 under a fresh
 * name, read back blob for blob, listed (other names skipped); a damaged,
 * cut, reordered, renamed or foreign delta is refused, and so is a
 * pending set with a damaged slot, leaving nothing.  The chunk index:
 * built from the deltas at the first open, merged into, brought up to date
 * with deltas written since, rebuilt when missing or foreign; a slot
 * damaged on disk is never trusted, even by threads looking it up at
 * once; delta markers are not blobs; and of two blobs of one storage id
 * the one in a pack that exists wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-index"

/* Blob i of set seed: a location that need not exist. */
static void
loc_of(struct pk_blobloc *l, unsigned long long seed, size_t i)
{
	memset(l, 0, sizeof *l);
	unit_fill(l->sid, 32, seed * 1000003 + i);
	l->sid[0] |= 1;
	unit_fill(l->pack, PK_PACK_ID_BYTES, seed);
	l->offset = (uint32_t)(16 + 1000 * i);
	l->length = (uint32_t)(900 + i % 100);
	l->raw = (uint32_t)(4096 + i);
}

/* A pending set of blobs [0, n) of seed, in memory. */
static struct pk_hashfile *
pending_of(struct pk_repo *r, unsigned long long seed, size_t n)
{
	struct pk_hashfile_params p;
	struct pk_hashfile *h;
	struct pk_blobloc l;
	uint8_t slot[PK_INDEX_SLOT_BYTES];
	size_t i;

	pk_index_params(r, PK_HF_PENDING, &p);
	if (pk_hashfile_open(&h, "pending", &p, PK_HF_CREATE | PK_HF_MEMORY) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		loc_of(&l, seed, i);
		pk_index_slot_encode(slot, &l);
		pk_hashfile_insert(h, slot);
	}
	return h;
}

/* Writes blobs [0, n) of seed as a delta (and merges it when asked). */
static int
delta_of(struct pk_repo *r, unsigned long long seed, size_t n, int merge,
    char name[PK_DELTA_NAME_BYTES])
{
	struct pk_hashfile *h = pending_of(r, seed, n);
	int e;

	if (h == NULL)
		return -ENOMEM;
	e = pk_index_write_delta(r, h, name);
	if (e == 0 && merge)
		e = pk_index_merge(r, h, name);
	pk_hashfile_abort(h);
	return e;
}

/* How many of blobs [0, n) of seed the index finds where they are. */
static size_t
finds(const struct pk_index *ix, unsigned long long seed, size_t n)
{
	struct pk_blobloc want, got;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		loc_of(&want, seed, i);
		k += pk_index_find(ix, want.sid, &got) == 1 &&
		    unit_loc_eq(&got, &want);
	}
	return k;
}

/* Blobs a delta holds, checked against a seed. */
struct tally {
	unsigned long long seed;
	size_t n, good, stop_at;
};

static int
tally(void *arg, const struct pk_blobloc *l)
{
	struct tally *t = arg;
	struct pk_blobloc want;
	size_t i;

	t->n++;
	/* Blob i has offset 16 + 1000 i. */
	i = (l->offset - 16) / 1000;
	loc_of(&want, t->seed, i);
	t->good += unit_loc_eq(l, &want);
	return t->stop_at && t->n == t->stop_at ? 7 : 0;
}

static int
read_count(struct pk_repo *r, const char *name, unsigned long long seed,
    size_t *n)
{
	struct tally t = { seed, 0, 0, 0 };
	int e = pk_index_read_delta(r, name, tally, &t);

	*n = t.good == t.n ? t.n : (size_t)-1;
	return e;
}

static void
test_slots(void)
{
	struct pk_blobloc l, got;
	uint8_t slot[PK_INDEX_SLOT_BYTES];
	size_t i, bad;
	int b;

	loc_of(&l, 1, 5);
	l.flags = PK_BLOBLOC_MARKER;
	pk_index_slot_encode(slot, &l);
	memset(&got, 0xee, sizeof got);
	CHECK("slot: decodes to what was encoded",
	    pk_index_slot_decode(&got, slot) == 0 && unit_loc_eq(&got, &l));
	CHECK("slot: the storage id is the key, first",
	    memcmp(slot, l.sid, 32) == 0);
	for (i = 0, bad = 0; i < PK_INDEX_SLOT_BYTES; i++)
		for (b = 0; b < 8; b++) {
			slot[i] ^= (uint8_t)(1 << b);
			bad += pk_index_slot_decode(&got, slot) != -EBADMSG;
			slot[i] ^= (uint8_t)(1 << b);
		}
	CHECK("slot: any bit flipped fails the check (EBADMSG)", bad == 0);
	slot[40] ^= 1;
	pk_index_slot_decode(&got, slot);
	CHECK("slot: ... and says so",
	    strstr(pk_errmsg(-EBADMSG), "fails its check") != NULL);
	memset(slot, 0, sizeof slot);
	CHECK("slot: an all-zero slot fails it too",
	    pk_index_slot_decode(&got, slot) == -EBADMSG);
}

static void
test_params(struct pk_repo *r)
{
	struct pk_hashfile_params p;

	memset(&p, 0xee, sizeof p);
	pk_index_params(r, PK_HF_CHUNKINDEX, &p);
	CHECK("params: chunk index slots of 72 bytes keyed by 32, this "
	    "repository", p.kind == PK_HF_CHUNKINDEX &&
	    p.slot_bytes == PK_INDEX_SLOT_BYTES && p.key_bytes == 32 &&
	    memcmp(p.repo_id, r->id, 16) == 0 && p.generation == 1 &&
	    p.expect == 0);
	pk_index_params(r, PK_HF_PENDING, &p);
	CHECK("params: pending sets alike, of their kind",
	    p.kind == PK_HF_PENDING && p.slot_bytes == PK_INDEX_SLOT_BYTES);
}

static int
count_names(void *arg, const char *name)
{
	++*(int *)arg;
	return 0;
}

static int
stop_at_second(void *arg, const char *name)
{
	return ++*(int *)arg == 2 ? 5 : 0;
}

static void
test_deltas(struct pk_repo *r, struct pk_repo *other, const char *mode)
{
	char d[PK_DELTA_NAME_BYTES], d2[PK_DELTA_NAME_BYTES], path[4200],
	    path2[4200], name[200], dir[4200];
	struct tally t = { 2, 0, 0, 3 };
	struct pk_hashfile *h;
	uint8_t *p, *q, slot[PK_INDEX_SLOT_BYTES];
	struct pk_blobloc l;
	struct stat st;
	size_t n, len, i, bad, proto, f1;
	int e, k, fd;

	e = delta_of(r, 2, 5, 0, d);
	snprintf(path, sizeof path, "%s/index/%s", r->path, d);
	snprintf(name, sizeof name, "%s delta: written under 32 hex digits, mode "
	    "0400", mode);
	CHECK(name, e == 0 && strlen(d) == 32 &&
	    strspn(d, "0123456789abcdef") == 32 && stat(path, &st) == 0 &&
	    (st.st_mode & 07777) == 0400);
	pk_repo_path(r, dir, sizeof dir, "tmp");
	snprintf(name, sizeof name, "%s delta: nothing left in tmp/", mode);
	CHECK(name, unit_count_files(dir) == 0);
	e = read_count(r, d, 2, &n);
	snprintf(name, sizeof name, "%s delta: reads back the 5 blobs", mode);
	CHECK(name, e == 0 && n == 5);
	e = pk_index_read_delta(r, d, tally, &t);
	snprintf(name, sizeof name, "%s delta: a non-zero return of fn stops the "
	    "read and is returned", mode);
	CHECK(name, e == 7 && t.n == 3);
	e = delta_of(r, 2, 5, 0, d2);
	snprintf(name, sizeof name, "%s delta: the same blobs again, another name",
	    mode);
	CHECK(name, e == 0 && strcmp(d, d2) != 0);

	/* Every byte of a one-frame delta flipped, in place. */
	unit_get_file(path, &p, &len);
	chmod(path, 0600);
	fd = open(path, O_RDWR);
	for (i = 0, bad = 0, proto = 0; fd >= 0 && i < len; i++) {
		p[i] ^= 0x08;
		pwrite(fd, p + i, 1, (off_t)i);
		p[i] ^= 0x08;
		e = read_count(r, d, 2, &n);
		pwrite(fd, p + i, 1, (off_t)i);
		if (i >= 8 && i < 12)
			proto += e == -EPROTO;
		else if (e != -EBADMSG) {
			printf("# %s: byte %zu flipped: %d\n", mode, i, e);
			bad++;
		}
	}
	if (fd >= 0)
		close(fd);
	snprintf(name, sizeof name, "%s delta: any byte flipped is EBADMSG, of "
	    "the version EPROTO", mode);
	CHECK(name, fd >= 0 && bad == 0 && proto == 4);
	/* Every length near either end, every 13th between. */
	for (i = 0, bad = 0; i < len; i += i < 64 || i + 64 > len ? 1 : 13) {
		unit_put_file(path, p, i);
		bad += read_count(r, d, 2, &n) != -EBADMSG;
	}
	snprintf(name, sizeof name, "%s delta: cut at any length is EBADMSG", mode);
	CHECK(name, bad == 0);
	unit_put_file(path, p, len);
	snprintf(path2, sizeof path2, "%s/index/%s", other->path, d);
	unit_put_file(path2, p, len);
	snprintf(name, sizeof name, "%s delta: in another repository, EBADMSG",
	    mode);
	CHECK(name, read_count(other, d, 2, &n) == -EBADMSG);
	unlink(path2);
	free(p);

	/* Two frames: swapped. */
	e = delta_of(r, 3, 70000, 0, d2);
	e = e ? e : read_count(r, d2, 3, &n);
	snprintf(name, sizeof name, "%s delta: 70000 blobs, two frames, read back",
	    mode);
	CHECK(name, e == 0 && n == 70000);
	snprintf(path2, sizeof path2, "%s/index/%s", r->path, d2);
	unit_get_file(path2, &p, &len);
	f1 = 4 + pk_load_u32(p + 16);		/* the first frame, length too */
	q = malloc(len);
	memcpy(q, p, 16);
	memcpy(q + 16, p + 16 + f1, len - 16 - f1);
	memcpy(q + len - f1, p + 16, f1);
	unit_put_file(path2, q, len);
	snprintf(name, sizeof name, "%s delta: its frames swapped, EBADMSG", mode);
	CHECK(name, read_count(r, d2, 3, &n) == -EBADMSG);
	unit_put_file(path2, p, 16 + f1);
	snprintf(name, sizeof name, "%s delta: its last frame gone, EBADMSG", mode);
	CHECK(name, read_count(r, d2, 3, &n) == -EBADMSG);
	unlink(path2);
	free(p);
	free(q);

	/* Names. */
	snprintf(name, sizeof name, "%s delta: a missing one is ENOENT", mode);
	CHECK(name, read_count(r, "0123456789abcdef0123456789abcdef", 2, &n) ==
	    -ENOENT);
	snprintf(name, sizeof name, "%s delta: a name not of 32 hex digits is "
	    "EINVAL", mode);
	CHECK(name, read_count(r, "../config", 2, &n) == -EINVAL &&
	    read_count(r, "0123456789abcdef0123456789abcde", 2, &n) == -EINVAL &&
	    read_count(r, "0123456789abcdef0123456789abcdef0", 2, &n) == -EINVAL);

	/* Listing. */
	snprintf(path2, sizeof path2, "%s/index/README", r->path);
	unit_put_file(path2, (const uint8_t *)"x", 1);
	snprintf(path2, sizeof path2, "%s/index/%.31s", r->path, d);
	unit_put_file(path2, (const uint8_t *)"x", 1);
	snprintf(path2, sizeof path2, "%s/index/%sx", r->path, d);
	unit_put_file(path2, (const uint8_t *)"x", 1);
	k = 0;
	e = pk_index_list(r, count_names, &k);
	snprintf(name, sizeof name, "%s list: every delta, other names skipped",
	    mode);
	CHECK(name, e == 0 && k == 2);
	k = 0;
	e = pk_index_list(r, stop_at_second, &k);
	snprintf(name, sizeof name, "%s list: fn's non-zero return stops it and is "
	    "returned", mode);
	CHECK(name, e == 5 && k == 2);

	/* An empty pending set: no delta; a damaged one: none either. */
	h = pending_of(r, 4, 0);
	e = pk_index_write_delta(r, h, d2);
	pk_hashfile_abort(h);
	snprintf(path2, sizeof path2, "%s/index", r->path);
	k = unit_count_files(path2);
	snprintf(name, sizeof name, "%s delta: none for an empty pending set", mode);
	CHECK(name, e == 0 && d2[0] == '\0' && k == 5);
	h = pending_of(r, 4, 10);
	loc_of(&l, 4, 10);
	pk_index_slot_encode(slot, &l);
	slot[PK_INDEX_SLOT_BYTES - 1] ^= 1;
	pk_hashfile_insert(h, slot);
	e = pk_index_write_delta(r, h, d2);
	pk_hashfile_abort(h);
	snprintf(name, sizeof name, "%s delta: a pending set with a damaged slot is "
	    "refused, nothing written", mode);
	CHECK(name, e == -EBADMSG && unit_count_files(path2) == k &&
	    unit_count_files(dir) == 0);
	snprintf(path2, sizeof path2, "%s/index/README", r->path);
	unlink(path2);
	snprintf(path2, sizeof path2, "%s/index/%.31s", r->path, d);
	unlink(path2);
	snprintf(path2, sizeof path2, "%s/index/%sx", r->path, d);
	unlink(path2);
}

/* The slot of sid in the chunk index file: its offset, or -1. */
static long
slot_offset(const char *path, const uint8_t sid[32])
{
	uint8_t *p;
	size_t n, off;
	long at = -1;

	if (unit_get_file(path, &p, &n) < 0)
		return -1;
	for (off = PK_HASHFILE_HEADER_BYTES; off + PK_INDEX_SLOT_BYTES <= n;
	    off += PK_INDEX_SLOT_BYTES)
		if (memcmp(p + off, sid, 32) == 0)
			at = (long)off;
	free(p);
	return at;
}

struct finder {
	const struct pk_index *ix;
	unsigned long long seed;
	size_t n, found;
};

static void *
find_all(void *arg)
{
	struct finder *f = arg;

	f->found = finds(f->ix, f->seed, f->n);
	return NULL;
}

static void
test_chunkindex(struct pk_repo *r, struct pk_repo *other)
{
	char d[3][PK_DELTA_NAME_BYTES], ci[4200], label[100];
	struct pk_blobloc l, got;
	struct pk_index ix;
	struct pk_hashfile *h;
	struct finder f[4];
	pthread_t th[4];
	uint8_t *p, sid[32];
	size_t n, i;
	long off;
	int e, ok;

	/* A fresh repository for each run of this test. */
	pk_repo_path(r, ci, sizeof ci, "chunkindex");
	e = delta_of(r, 10, 300, 0, d[0]);
	e = e ? e : pk_index_open(&ix, r);
	CHECK("chunk index: built at the first open from the delta",
	    e == 0 && ix.rebuilt && ix.merged == 1 && access(ci, F_OK) == 0);
	if (e < 0)
		return;
	CHECK("chunk index: finds every blob where the delta put it",
	    finds(&ix, 10, 300) == 300);
	loc_of(&l, 11, 0);
	memset(&got, 0xee, sizeof got);
	CHECK("chunk index: another storage id is not found",
	    pk_index_find(&ix, l.sid, &got) == 0);
	snprintf(label, sizeof label, "pk index delta %s", d[0]);
	pk_mac(&r->keys, sid, label, strlen(label));
	CHECK("chunk index: the delta's marker is there, but is not a blob",
	    slot_offset(ci, sid) > 0 && pk_index_find(&ix, sid, &got) == 0);
	pk_index_close(&ix);

	e = pk_index_open(&ix, r);
	CHECK("chunk index: opened again, nothing merged or rebuilt",
	    e == 0 && !ix.rebuilt && ix.merged == 0 && finds(&ix, 10, 300) == 300);
	pk_index_close(&ix);

	/* Made before the deltas were counted: generation 0, its header
	 * whole otherwise. */
	{
		uint8_t hd[80];
		int fd = open(ci, O_RDWR);

		e = fd >= 0 && pread(fd, hd, sizeof hd, 0) == sizeof hd ? 0 : -1;
		pk_put_u64(hd + 56, 0);
		pk_put_u64(hd + 72, XXH3_64bits(hd, 72));
		if (e == 0 && pwrite(fd, hd, sizeof hd, 0) != sizeof hd)
			e = -1;
		if (fd >= 0)
			close(fd);
	}
	e = e ? e : pk_index_open(&ix, r);
	CHECK("chunk index: one of generation 0, made before deltas were "
	    "counted, is rebuilt", e == 0 && ix.rebuilt && ix.merged == 1 &&
	    strstr(ix.why, "generation") && finds(&ix, 10, 300) == 300);
	if (e == 0)
		pk_index_close(&ix);

	/* Merged by the writer; written but not merged. */
	h = pending_of(r, 12, 200);
	e = pk_index_write_delta(r, h, d[1]);
	e = e ? e : pk_index_merge(r, h, d[1]);
	pk_hashfile_abort(h);
	e = e ? e : delta_of(r, 13, 100, 0, d[2]);
	e = e ? e : pk_index_open(&ix, r);
	CHECK("chunk index: a merged delta is not merged again, one written since "
	    "is", e == 0 && !ix.rebuilt && ix.merged == 1);
	CHECK("chunk index: finds the blobs of the three deltas",
	    e == 0 && finds(&ix, 10, 300) == 300 && finds(&ix, 12, 200) == 200 &&
	    finds(&ix, 13, 100) == 100);
	if (e == 0)
		pk_index_close(&ix);

	/* A merge with no chunk index: left to the next open. */
	unlink(ci);
	h = pending_of(r, 14, 50);
	e = pk_index_write_delta(r, h, d[0]);
	e = e ? e : pk_index_merge(r, h, d[0]);
	pk_hashfile_abort(h);
	CHECK("merge: with no chunk index, nothing to do", e == 0 &&
	    access(ci, F_OK) < 0);
	e = pk_index_open(&ix, r);
	CHECK("chunk index: rebuilt from the four deltas", e == 0 && ix.rebuilt &&
	    ix.merged == 4 && finds(&ix, 14, 50) == 50 && finds(&ix, 10, 300) == 300);
	if (e == 0)
		pk_index_close(&ix);

	/* Another repository's chunk index. */
	{
		char oci[4200];
		uint8_t *op;
		size_t on;
		struct pk_index ox;

		delta_of(other, 15, 10, 0, d[1]);
		if (pk_index_open(&ox, other) == 0)
			pk_index_close(&ox);
		pk_repo_path(other, oci, sizeof oci, "chunkindex");
		unit_get_file(oci, &op, &on);
		unit_put_file(ci, op, on);
		free(op);
		e = pk_index_open(&ix, r);
		CHECK("chunk index: another repository's is rebuilt, and says why",
		    e == 0 && ix.rebuilt && strstr(ix.why, "another repository") &&
		    finds(&ix, 10, 300) == 300 && finds(&ix, 15, 10) == 0);
		if (e == 0)
			pk_index_close(&ix);
	}

	/* A slot damaged on disk. */
	loc_of(&l, 12, 77);
	off = slot_offset(ci, l.sid);
	unit_get_file(ci, &p, &n);
	if (off > 0)
		p[off + 50] ^= 0x10;	/* the offset */
	unit_put_file(ci, p, n);
	free(p);
	e = pk_index_open(&ix, r);
	CHECK("damaged slot: the chunk index opens", e == 0 && off > 0);
	if (e < 0)
		return;
	ok = pk_index_find(&ix, l.sid, &got) == 1 && unit_loc_eq(&got, &l);
	CHECK("damaged slot: its blob is found where the delta put it", ok);
	CHECK("damaged slot: a build in memory serves the lookups, and says why",
	    ix.mem != NULL && strstr(ix.why, "fails its check") != NULL);
	CHECK("damaged slot: every other blob still found",
	    finds(&ix, 10, 300) == 300 && finds(&ix, 12, 200) == 200 &&
	    finds(&ix, 13, 100) == 100 && finds(&ix, 14, 50) == 50);
	CHECK("damaged slot: the file is removed, for the next open to rebuild",
	    access(ci, F_OK) < 0);
	pk_index_close(&ix);
	e = pk_index_open(&ix, r);
	CHECK("damaged slot: the next open rebuilds it", e == 0 && ix.rebuilt &&
	    ix.mem == NULL && finds(&ix, 12, 200) == 200);
	if (e == 0)
		pk_index_close(&ix);

	/* Four threads meet the damaged slot at once. */
	unit_get_file(ci, &p, &n);
	off = slot_offset(ci, l.sid);
	if (off > 0)
		p[off + 60] ^= 0x01;
	unit_put_file(ci, p, n);
	free(p);
	e = pk_index_open(&ix, r);
	for (i = 0; e == 0 && i < 4; i++) {
		f[i].ix = &ix;
		f[i].seed = 12;
		f[i].n = 200;
		f[i].found = 0;
		pthread_create(&th[i], NULL, find_all, &f[i]);
	}
	for (i = 0, ok = e == 0 && off > 0; e == 0 && i < 4; i++) {
		pthread_join(th[i], NULL);
		ok &= f[i].found == 200;
	}
	CHECK("damaged slot: threads looking up at once all find every blob", ok);
	if (e == 0)
		pk_index_close(&ix);
}

/* A blob of one storage id in two packs, the first lost. */
static void
test_lost_pack(struct pk_repo *r)
{
	struct pk_pack_writer w;
	struct pk_sealer sl;
	struct pk_blobloc loc[2], got;
	struct pk_buf box = PK_BUF_INIT;
	struct pk_hashfile_params hp;
	struct pk_hashfile *h;
	struct pk_index ix;
	char d[2][PK_DELTA_NAME_BYTES], ci[4200], pack0[4200];
	uint8_t data[5000], id[PK_ID_BYTES], sid[32], slot[PK_INDEX_SLOT_BYTES];
	int i, e = 0;

	unit_fill(data, sizeof data, 99);
	pk_hash_id(id, data, sizeof data);
	pk_storage_id(&r->keys, sid, id);
	pk_sealer_init(&sl, 1);
	pk_index_params(r, PK_HF_PENDING, &hp);
	for (i = 0; i < 2 && e == 0; i++) {
		e = pk_blob_seal(&sl, &r->keys, sid, data, sizeof data, &box);
		e = e ? e : pk_pack_begin(&w, r);
		e = e ? e : pk_pack_append(&w, sid, box.data, box.len,
		    sizeof data, &loc[i]);
		e = e ? e : pk_pack_finish(&w);
		e = e ? e : pk_hashfile_open(&h, "pending", &hp,
		    PK_HF_CREATE | PK_HF_MEMORY);
		if (e == 0) {
			pk_index_slot_encode(slot, &loc[i]);
			pk_hashfile_insert(h, slot);
			e = pk_index_write_delta(r, h, d[i]);
			pk_hashfile_abort(h);
		}
		/* The first in the chunk index; the second not merged. */
		if (e == 0 && i == 0 && (e = pk_index_open(&ix, r)) == 0)
			pk_index_close(&ix);
	}
	pk_sealer_release(&sl);
	pk_buf_release(&box);
	CHECK("lost pack: one blob in two packs, two deltas", e == 0 &&
	    memcmp(loc[0].pack, loc[1].pack, 16) != 0);
	if (e < 0)
		return;
	pk_repo_path(r, ci, sizeof ci, "chunkindex");
	e = pk_index_open(&ix, r);
	CHECK("lost pack: both packs there, the first merged stays",
	    e == 0 && pk_index_find(&ix, sid, &got) == 1 &&
	    unit_loc_eq(&got, &loc[0]));
	if (e == 0)
		pk_index_close(&ix);
	pk_pack_path(r, pack0, sizeof pack0, loc[0].pack);
	unlink(pack0);
	unlink(ci);
	e = pk_index_open(&ix, r);
	CHECK("lost pack: rebuilt, the blob is the one in the pack that exists",
	    e == 0 && ix.rebuilt && pk_index_find(&ix, sid, &got) == 1 &&
	    unit_loc_eq(&got, &loc[1]));
	if (e == 0)
		pk_index_close(&ix);
}

int
main(void)
{
	struct pk_repo *plain, *enc, *other, *fresh, *lost;

	unit_scratch(SCRATCH);
	test_slots();
	plain = unit_repo(SCRATCH, "plain", 0, "pw");
	enc = unit_repo(SCRATCH, "enc", 1, "pw");
	other = unit_repo(SCRATCH, "other", 0, "pw");
	fresh = unit_repo(SCRATCH, "fresh", 0, "pw");
	lost = unit_repo(SCRATCH, "lost", 0, "pw");
	CHECK("repositories", plain && enc && other && fresh && lost);
	if (!plain || !enc || !other || !fresh || !lost)
		UNIT_END();
	test_params(plain);
	test_deltas(plain, other, "plaintext");
	test_deltas(enc, other, "encrypted");
	test_chunkindex(fresh, other);
	test_lost_pack(lost);
	pk_repo_close(plain);
	pk_repo_close(enc);
	pk_repo_close(other);
	pk_repo_close(fresh);
	pk_repo_close(lost);
	UNIT_END();
}
