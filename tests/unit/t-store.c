/*
 * t-store: pk_store_stream (store.h) on streams built in memory with
 * pk_writer and stored into fresh repositories.  A good stream becomes a
 * snapshot whose counts (entries, files, dirs, bytes, chunks, new chunks,
 * errors), roots, host, tags and chunker are those of the stream, whose
 * catalog is the stream with every CHUNK turned into a REF, and whose
 * chunks read back; a chunk stored once is not stored again.  A REF is
 * accepted to a chunk the stream carried earlier or a snapshot of its
 * host holds, or that its known-chunk set lists (never one whose first 16
 * bytes are zero), and to any with trust_refs; refused otherwise, the
 * same way whether the repository has the chunk or not.  Bad streams (framing, checksum, order, sizes, a
 * chunk that is not its id, DATA, unchunked) are refused with no snapshot
 * written, no pack or delta left and tmp/ empty, even after a full pack.
 * Also: files of unknown size, META, the stat cache and known-chunk set
 * written at commit, a snapshot that cannot be written, threads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-store"


/* Files in the repository's directories; packs two levels down. */
struct counts {
	int packs, deltas, snaps, tmp;
};

static struct counts
counts_of(const struct pk_repo *r)
{
	struct counts c = { 0, 0, 0, 0 };
	char path[4200], sub[4500];
	struct dirent *d;
	DIR *dp;

	snprintf(path, sizeof path, "%s/packs", r->path);
	if ((dp = opendir(path)) != NULL) {
		while ((d = readdir(dp)) != NULL)
			if (d->d_name[0] != '.') {
				snprintf(sub, sizeof sub, "%s/%s", path, d->d_name);
				c.packs += unit_count_files(sub);
			}
		closedir(dp);
	}
	snprintf(path, sizeof path, "%s/index", r->path);
	c.deltas = unit_count_files(path);
	snprintf(path, sizeof path, "%s/snapshots", r->path);
	c.snaps = unit_count_files(path);
	snprintf(path, sizeof path, "%s/tmp", r->path);
	c.tmp = unit_count_files(path);
	return c;
}

static int
same_counts(struct counts a, struct counts b)
{
	return a.packs == b.packs && a.deltas == b.deltas && a.snaps == b.snaps &&
	    a.tmp == b.tmp;
}

/* Streams. */

static void
put_entry(struct pk_writer *w, uint8_t type, const char *path, uint64_t size,
    uint32_t nlink, const char *link)
{
	struct pk_entry e;

	unit_entry(&e, type, path, size);
	e.mtime_nsec = 5;
	e.ctime_sec = 1600000000;
	e.dev = 42;
	e.ino = 1000 + strlen(path) * 31 + (uint8_t)path[strlen(path) - 1];
	e.nlink = nlink;
	unit_set_link(&e, link);
	unit_write_entry(w, &e);
}

/* Chunk k: its bytes (len_of(k) of them) and id. */
static size_t
len_of(unsigned k)
{
	return 3000 + (k * 7919) % 20000;
}

static void
chunk_of(unsigned k, uint8_t *data, uint8_t id[PK_ID_BYTES])
{
	unit_fill(data, len_of(k), 77000 + k);
	pk_hash_id(id, data, len_of(k));
}

static void
id_of(unsigned k, uint8_t id[PK_ID_BYTES])
{
	uint8_t *data = malloc(len_of(k));

	chunk_of(k, data, id);
	free(data);
}

static void
put_chunk(struct pk_writer *w, unsigned k)
{
	uint8_t *data = malloc(len_of(k)), id[PK_ID_BYTES];

	chunk_of(k, data, id);
	pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, data, len_of(k));
	free(data);
}

static void
put_ref(struct pk_writer *w, unsigned k, int64_t delta)
{
	uint8_t id[PK_ID_BYTES];

	id_of(k, id);
	pk_write_ref(w, id, (uint32_t)((int64_t)len_of(k) + delta));
}

/* A regular file of chunks ks[0..n), each a CHUNK (refs: REFs). */
static void
put_file(struct pk_writer *w, const char *path, const unsigned *ks, size_t n,
    int refs)
{
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < n; i++)
		size += len_of(ks[i]);
	put_entry(w, PK_FT_REG, path, size, 1, NULL);
	for (i = 0; i < n; i++)
		if (refs)
			put_ref(w, ks[i], 0);
		else
			put_chunk(w, ks[i]);
	pk_write_eof(w, size, 0);
}

/* The catalog's records, as type, u32 length, payload. */
static int
catalog_of(struct pk_repo *r, const struct pk_snapshot *snap, struct pk_buf *out,
    struct pk_stream_header *h)
{
	struct pk_catalog *c;
	struct pk_record rec;
	struct pk_index ix;
	int n;

	pk_buf_reset(out);
	if ((n = pk_index_open(&ix, r)) < 0)
		return n;
	if ((n = pk_catalog_open(&c, r, &ix, snap, h)) == 0) {
		while ((n = pk_catalog_next(c, &rec)) > 0) {
			pk_buf_add_u8(out, rec.type);
			pk_buf_add_str(out, rec.data, rec.len);
		}
		pk_catalog_close(c);
	}
	pk_index_close(&ix);
	return n;
}

/* What the catalog of a stream must be: its records with CHUNKs as REFs,
 * META and ignorable ones left out. */
static void
expected_catalog(const struct pk_buf *stream, struct pk_buf *out)
{
	struct unit_src s = { stream->data, stream->len };
	struct pk_stream_header h;
	struct pk_reader *rd;
	struct pk_record rec;
	const uint8_t *id, *data;
	uint8_t ref[PK_ID_BYTES + 4];
	uint32_t len;

	pk_buf_reset(out);
	pk_reader_new_source(&rd, unit_source, &s, "stream");
	pk_reader_header(rd, &h);
	while (pk_reader_next(rd, &rec) > 0) {
		if (rec.type == PK_REC_META || (rec.flags & PK_RECF_IGNORABLE))
			continue;
		if (rec.type == PK_REC_CHUNK) {
			pk_record_chunk(&rec, &id, &data, &len);
			memcpy(ref, id, PK_ID_BYTES);
			pk_put_u32(ref + PK_ID_BYTES, len);
			pk_buf_add_u8(out, PK_REC_REF);
			pk_buf_add_str(out, ref, sizeof ref);
		} else {
			pk_buf_add_u8(out, rec.type);
			pk_buf_add_str(out, rec.data, rec.len);
		}
	}
	pk_reader_free(rd);
}

static int
buf_eq(const struct pk_buf *a, const struct pk_buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

/* Chunk k reads back from the repository. */
static int
chunk_reads(struct pk_repo *r, unsigned k)
{
	uint8_t *want = malloc(len_of(k)), id[PK_ID_BYTES];
	struct pk_buf got = PK_BUF_INIT;
	struct pk_blob_reader br;
	struct pk_index ix;
	int ok = 0;

	chunk_of(k, want, id);
	if (pk_index_open(&ix, r) == 0) {
		if (pk_blob_reader_init(&br, r) == 0) {
			ok = pk_chunk_fetch(r, &ix, &br, id, (uint32_t)len_of(k),
			    &got) == 0 && got.len == len_of(k) &&
			    memcmp(got.data, want, got.len) == 0;
			pk_blob_reader_release(&br);
		}
		pk_index_close(&ix);
	}
	pk_buf_release(&got);
	free(want);
	return ok;
}

/* The tree of the first snapshot of host h. */
static void
tree_one(struct pk_writer *w)
{
	static const unsigned a[] = { 1, 2, 1 }, big[] = { 5, 6, 7, 8 };
	uint8_t unk[5] = "later";

	put_entry(w, PK_FT_DIR, ".", 0, 2, NULL);
	put_entry(w, PK_FT_DIR, "d", 0, 2, NULL);
	put_entry(w, PK_FT_REG, "d/a", len_of(1) * 2 + len_of(2), 2, NULL);
	put_chunk(w, a[0]);
	put_chunk(w, a[1]);
	put_chunk(w, a[2]);
	pk_write_eof(w, len_of(1) * 2 + len_of(2), 0);
	put_entry(w, PK_FT_REG, "d/b", 65536 + len_of(3), 1, NULL);
	pk_write_hole(w, 65536);
	put_chunk(w, 3);
	pk_write_eof(w, 65536 + len_of(3), 0);
	put_file(w, "d/big", big, 4, 0);
	put_entry(w, PK_FT_REG, "d/c", 0, 1, NULL);
	pk_write_eof(w, 0, 0);
	pk_writer_put(w, 0x42, PK_RECF_IGNORABLE, unk, sizeof unk);
	pk_write_error(w, EACCES, "d/e", 3, "Permission denied");
	put_entry(w, PK_FT_SYMLINK, "d/l", 0, 1, "a");
	put_entry(w, PK_FT_HARDLINK, "d/z", 0, 1, "d/a");
}

static uint64_t
bytes_one(void)
{
	return len_of(1) * 2 + len_of(2) + 65536 + len_of(3) + len_of(5) +
	    len_of(6) + len_of(7) + len_of(8);
}

static void
test_good(struct pk_repo *r)
{
	const char *tags[] = { "daily", "unit" };
	struct pk_store_options o = { .level = 3, .threads = 1, .host = "h",
	    .user = "u", .tags = tags, .ntags = 2 };
	struct pk_buf s = PK_BUF_INIT, cat = PK_BUF_INIT, want = PK_BUF_INIT;
	struct pk_snapshot snap, *list;
	struct pk_stream_header h;
	struct pk_writer *w;
	struct counts c;
	size_t n, nbad;
	int e, k, ok;

	w = unit_writer(&s, &unit_hdr);
	tree_one(w);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("good: stored", e == 0);
	if (e < 0) {
		printf("# %s\n", pk_errmsg(e));
		return;
	}
	CHECK("good: entries, files, dirs and errors of the stream",
	    snap.entries == 8 && snap.files == 4 && snap.dirs == 2 &&
	    snap.errors == 1);
	CHECK("good: bytes, holes included", snap.bytes == bytes_one());
	CHECK("good: chunks of file data, each use counted", snap.chunks == 8);
	CHECK("good: new chunks: the 7 distinct, and the catalog's",
	    snap.ncatalog >= 1 && snap.new_chunks == 7 + snap.ncatalog);
	CHECK("good: stored bytes, compressed or not, at least the new data",
	    snap.stored > 0);
	CHECK("good: the root \".\" is the one path", snap.npaths == 1 &&
	    strcmp(snap.paths[0], ".") == 0);
	CHECK("good: host, user and tags", snap.host && !strcmp(snap.host, "h") &&
	    snap.user && !strcmp(snap.user, "u") && snap.ntags == 2 &&
	    !strcmp(snap.tags[0], "daily") && !strcmp(snap.tags[1], "unit"));
	CHECK("good: the stream's chunker", snap.chunk_min == 2048 &&
	    snap.chunk_avg == 8192 && snap.chunk_max == 65536 &&
	    o.chunker_mismatch == 0);
	CHECK("good: start no later than end", snap.start_sec < snap.end_sec ||
	    (snap.start_sec == snap.end_sec && snap.start_nsec <= snap.end_nsec));
	CHECK("good: no flag raised", o.missing_chunk == 0 && o.stale_cache == 0 &&
	    o.lost_blobs == 0 && o.cache_failed == 0);
	c = counts_of(r);
	CHECK("good: one pack, one delta, one snapshot, tmp/ empty",
	    c.packs == 1 && c.deltas == 1 && c.snaps == 1 && c.tmp == 0);
	e = pk_snapshot_list(r, &list, &n, &nbad);
	CHECK("good: the snapshot file is the one returned", e == 0 && n == 1 &&
	    nbad == 0 && memcmp(list[0].id, snap.id, 32) == 0 &&
	    list[0].entries == 8 && list[0].ncatalog == snap.ncatalog);
	if (e == 0)
		pk_snapshot_list_free(list, n);
	e = catalog_of(r, &snap, &cat, &h);
	expected_catalog(&s, &want);
	CHECK("good: the catalog is the stream, CHUNKs as REFs, ignorable left "
	    "out", e == 0 && buf_eq(&cat, &want) && h.chunk_avg == 8192);
	for (k = 1, ok = 1; k <= 8; k++)
		ok &= k == 4 || chunk_reads(r, (unsigned)k);
	CHECK("good: every chunk reads back", ok);
	pk_snapshot_release(&snap);

	/* Again: nothing new to store. */
	e = unit_store(r, &s, &o, &snap);
	c = counts_of(r);
	CHECK("again: stored, no new chunk, no pack, no delta",
	    e == 0 && snap.new_chunks == 0 && snap.stored == 0 &&
	    snap.chunks == 8 && c.packs == 1 && c.deltas == 1 && c.snaps == 2 &&
	    c.tmp == 0);
	pk_snapshot_release(&snap);

	/* Several top-level paths, no ".". */
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_DIR, "etc", 0, 2, NULL);
	put_file(w, "etc/f", (const unsigned[]){ 10 }, 1, 0);
	put_entry(w, PK_FT_DIR, "home", 0, 2, NULL);
	put_entry(w, PK_FT_DIR, "home/u", 0, 2, NULL);
	put_file(w, "var", (const unsigned[]){ 11 }, 1, 0);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("roots: each top-level path, once", e == 0 && snap.npaths == 3 &&
	    !strcmp(snap.paths[0], "etc") && !strcmp(snap.paths[1], "home") &&
	    !strcmp(snap.paths[2], "var"));
	if (e == 0)
		pk_snapshot_release(&snap);

	/* An empty stream is a snapshot of nothing. */
	w = unit_writer(&s, &unit_hdr);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("empty: a snapshot of no entry", e == 0 && snap.entries == 0 &&
	    snap.chunks == 0 && snap.npaths == 0 && snap.ncatalog == 1);
	if (e == 0)
		pk_snapshot_release(&snap);
	pk_buf_release(&s);
	pk_buf_release(&cat);
	pk_buf_release(&want);
}

/* Which REFs a stream may hold. */
static void
test_refs(struct pk_repo *r)
{
	struct pk_store_options o = { .threads = 1, .host = "h" };
	struct pk_buf s = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_writer *w;
	struct counts c0;
	char msg1[PK_ERR_BYTES], msg2[PK_ERR_BYTES], *p;
	int e;

	/* Host h stored chunks 1-8 in test_good. */
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 1, 5, 20 }, 3, 0);
	unit_writer_end(w);
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", len_of(1) + len_of(5) + len_of(20), 1, NULL);
	put_ref(w, 1, 0);
	put_ref(w, 5, 0);
	put_chunk(w, 20);
	pk_write_eof(w, len_of(1) + len_of(5) + len_of(20), 0);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("refs: to chunks of the host's snapshots, accepted", e == 0 &&
	    snap.chunks == 3 && snap.new_chunks == 1 + snap.ncatalog &&
	    snap.bytes == len_of(1) + len_of(5) + len_of(20));
	if (e == 0)
		pk_snapshot_release(&snap);

	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", 2 * len_of(21) + len_of(22), 1, NULL);
	put_chunk(w, 21);
	put_ref(w, 21, 0);
	put_chunk(w, 22);
	pk_write_eof(w, 2 * len_of(21) + len_of(22), 0);
	put_file(w, "g", (const unsigned[]){ 22 }, 1, 1);
	unit_writer_end(w);
	o.host = "newhost";
	e = unit_store(r, &s, &o, &snap);
	CHECK("refs: to chunks the stream carried earlier, accepted (another "
	    "host)", e == 0 && snap.chunks == 4 && snap.new_chunks == 2 +
	    snap.ncatalog);
	if (e == 0)
		pk_snapshot_release(&snap);

	/* Refused: another host's chunk; a chunk nobody stored. */
	c0 = counts_of(r);
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 2 }, 1, 1);
	unit_writer_end(w);
	o.host = "other";
	e = unit_store(r, &s, &o, &snap);
	snprintf(msg1, sizeof msg1, "%s", pk_errmsg(e));
	CHECK("refs: to another host's chunk, refused (EBADMSG), no snapshot",
	    e == -EBADMSG && same_counts(counts_of(r), c0) && snap.host == NULL &&
	    snap.catalog == NULL);
	CHECK("refs: ... the message names the REF and the host",
	    strstr(msg1, "record 1 at byte ") && strstr(msg1, "REF to chunk ") &&
	    strstr(msg1, "no snapshot of host other holds"));
	CHECK("refs: ... the stream did not say the chunk is missing",
	    o.missing_chunk == 0);
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 999 }, 1, 1);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	snprintf(msg2, sizeof msg2, "%s", pk_errmsg(e));
	/* The id differs: compare what follows it. */
	CHECK("refs: to a chunk the repository lacks, the same refusal",
	    e == -EBADMSG && o.missing_chunk == 0 &&
	    (p = strstr(msg1, "…")) && strstr(msg2, "…") &&
	    strcmp(p, strstr(msg2, "…")) == 0 && same_counts(counts_of(r), c0));
	o.host = NULL;
	e = unit_store(r, &s, &o, &snap);
	CHECK("refs: with no host, refused", e == -EBADMSG &&
	    same_counts(counts_of(r), c0));

	/* A REF before the CHUNK that carries it. */
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", 2 * len_of(30), 1, NULL);
	put_ref(w, 30, 0);
	put_chunk(w, 30);
	pk_write_eof(w, 2 * len_of(30), 0);
	unit_writer_end(w);
	o.host = "h";
	CHECK("refs: before the CHUNK that carries it, refused",
	    unit_store(r, &s, &o, &snap) == -EBADMSG &&
	    same_counts(counts_of(r), c0));

	/* trust_refs: any chunk of the repository. */
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 2, 6 }, 2, 1);
	unit_writer_end(w);
	o.host = "other";
	o.trust_refs = 1;
	e = unit_store(r, &s, &o, &snap);
	CHECK("trust_refs: another host's chunks, accepted", e == 0 &&
	    snap.chunks == 2 && snap.new_chunks == snap.ncatalog);
	if (e == 0)
		pk_snapshot_release(&snap);
	c0 = counts_of(r);
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 2, 999 }, 2, 1);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("trust_refs: a chunk the repository lacks, refused, and said "
	    "missing", e == -EBADMSG && o.missing_chunk == 1 &&
	    o.stale_cache == 0 && strstr(pk_errmsg(e), "is not in the repository") &&
	    same_counts(counts_of(r), c0));
	o.missing_chunk = 0;
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", len_of(2) + 1, 1, NULL);
	put_ref(w, 2, 1);
	pk_write_eof(w, len_of(2) + 1, 0);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("trust_refs: a REF of another length than the chunk, refused",
	    e == -EBADMSG && strstr(pk_errmsg(e), "REF length differs") &&
	    same_counts(counts_of(r), c0));
	o.host = "h";
	o.trust_refs = 0;
	e = unit_store(r, &s, &o, &snap);
	CHECK("refs: a REF of another length, of the host's chunk, refused",
	    e == -EBADMSG && same_counts(counts_of(r), c0));
	pk_buf_release(&s);
}

/* The known-chunk set: the REFs it allows, what a commit adds to it. */
static void
test_known(struct pk_repo *r)
{
	const char *path = SCRATCH "/known";
	struct pk_store_options o = { .threads = 1, .host = "k", .known = path };
	struct pk_buf s = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_writer *w;
	struct pk_known *k;
	struct counts c0;
	uint8_t id[PK_ID_BYTES], key[PK_KNOWN_KEY_BYTES];
	int e, ok;

	unlink(path);
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 40, 41 }, 2, 0);
	put_file(w, "g", (const unsigned[]){ 2 }, 1, 0);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("known: a snapshot with a set to fill", e == 0 && o.cache_failed == 0);
	if (e == 0)
		pk_snapshot_release(&snap);
	e = pk_known_open(&k, path, r->id, 0);
	ok = e == 0;
	if (e == 0) {
		id_of(40, id);
		ok &= pk_known_has(k, id);
		id_of(41, id);
		ok &= pk_known_has(k, id);
		id_of(2, id);
		ok &= pk_known_has(k, id);
		id_of(5, id);
		ok &= !pk_known_has(k, id);
		pk_known_close(k);
	}
	CHECK("known: the set holds the snapshot's chunks, and only them", ok);

	/* Host "k2" may refer to what the set lists, the repository has. */
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 41, 2 }, 2, 1);
	unit_writer_end(w);
	o.host = "k2";
	e = unit_store(r, &s, &o, &snap);
	CHECK("known: REFs to chunks of the set, accepted", e == 0 &&
	    snap.chunks == 2);
	if (e == 0)
		pk_snapshot_release(&snap);
	o.known = NULL;
	o.host = "k3";
	c0 = counts_of(r);
	e = unit_store(r, &s, &o, &snap);
	CHECK("known: without the set, refused", e == -EBADMSG &&
	    same_counts(counts_of(r), c0));
	if (e == 0)
		pk_snapshot_release(&snap);

	/* A set that claims a chunk the repository lacks. */
	id_of(998, id);
	memcpy(key, id, sizeof key);
	pk_known_add(path, r->id, 0, key, 1);
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 998 }, 1, 1);
	unit_writer_end(w);
	o.known = path;
	e = unit_store(r, &s, &o, &snap);
	CHECK("known: a stale set's chunk, refused, the set said stale",
	    e == -EBADMSG && o.missing_chunk == 1 && o.stale_cache == 1 &&
	    same_counts(counts_of(r), c0));

	/* An id whose first 16 bytes are zero: no set holds one. */
	memset(id, 0, sizeof id);
	id[PK_ID_BYTES - 1] = 1;
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", 1000, 1, NULL);
	pk_write_ref(w, id, 1000);
	pk_write_eof(w, 1000, 0);
	unit_writer_end(w);
	o.missing_chunk = o.stale_cache = 0;
	e = unit_store(r, &s, &o, &snap);
	CHECK("known: a REF to an id whose first 16 bytes are zero is not "
	    "allowed by the set, refused as one the stream may not make",
	    e == -EBADMSG && strstr(pk_errmsg(e), "did not carry") &&
	    same_counts(counts_of(r), c0));
	CHECK("known: ... the chunk not said missing, nor the set stale",
	    o.missing_chunk == 0 && o.stale_cache == 0);
	pk_buf_release(&s);
}

/* Streams that must leave nothing behind. */
static void
test_bad(struct pk_repo *r)
{
	static const unsigned ks[] = { 50, 51 };
	const struct pk_stream_header flat = { .version = 1 };
	struct pk_store_options o = { .threads = 2, .host = "h" };
	struct pk_buf s = PK_BUF_INIT, good = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_writer *w;
	struct counts c0 = counts_of(r);
	uint8_t *data, id[PK_ID_BYTES], junk[8] = "x";
	size_t i, bad;
	int e;

#define REFUSED(name) do {						\
	e = unit_store(r, &s, &o, &snap);					\
	CHECK(name, e == -EBADMSG && same_counts(counts_of(r), c0) &&	\
	    snap.catalog == NULL && snap.host == NULL);			\
	if (e == 0)							\
		pk_snapshot_release(&snap);				\
} while (0)

	w = unit_writer(&good, &unit_hdr);
	put_entry(w, PK_FT_DIR, "d", 0, 2, NULL);
	put_file(w, "d/f", ks, 2, 0);
	unit_writer_end(w);
	/* Cut anywhere, or a byte flipped in a record: refused. */
	for (i = 0, bad = 0; i < good.len; i += 1 + i / 3) {
		pk_buf_reset(&s);
		pk_buf_add(&s, good.data, i);
		e = unit_store(r, &s, &o, &snap);
		bad += e != -EBADMSG || !same_counts(counts_of(r), c0);
		if (e == 0)
			pk_snapshot_release(&snap);
	}
	CHECK("bad: a stream cut short anywhere, refused, nothing left", bad == 0);
	pk_buf_reset(&s);
	pk_buf_add(&s, good.data, good.len);
	s.data[good.len - 100] ^= 0x20;	/* in the last chunk's data */
	REFUSED("bad: a flipped byte of chunk data (checksum, id), refused");
	pk_buf_reset(&s);
	pk_buf_add(&s, good.data, good.len);
	pk_buf_add_u8(&s, 0);
	REFUSED("bad: a byte after END, refused");

	w = unit_writer(&s, &flat);
	put_file(w, "f", ks, 2, 0);
	unit_writer_end(w);
	REFUSED("bad: an unchunked stream (no chunker in its header), refused");
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", 3, 1, NULL);
	pk_writer_put(w, PK_REC_DATA, 0, "abc", 3);
	pk_write_eof(w, 3, 0);
	unit_writer_end(w);
	REFUSED("bad: a DATA record, refused");

	/* A chunk whose bytes are not its id, after new chunks. */
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "a", ks, 2, 0);
	put_entry(w, PK_FT_REG, "b", len_of(52), 1, NULL);
	data = malloc(len_of(52));
	chunk_of(52, data, id);
	data[7] ^= 1;
	pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, data, len_of(52));
	free(data);
	pk_write_eof(w, len_of(52), 0);
	unit_writer_end(w);
	REFUSED("bad: a chunk that is not its id, refused");
	CHECK("bad: ... the message says so",
	    strstr(pk_errmsg(-EBADMSG), "its id does not match its data") != NULL);

	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", len_of(50) + 1, 1, NULL);
	put_chunk(w, 50);
	pk_write_eof(w, len_of(50) + 1, 0);
	unit_writer_end(w);
	REFUSED("bad: content short of the entry's size, refused");
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", len_of(50), 1, NULL);
	put_chunk(w, 50);
	pk_write_eof(w, len_of(50), 0);
	put_entry(w, PK_FT_REG, "e", 0, 1, NULL);
	pk_write_eof(w, 0, 0);
	unit_writer_end(w);
	REFUSED("bad: paths out of order, refused");
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "f", len_of(50), 1, NULL);
	put_chunk(w, 50);
	unit_writer_end(w);
	REFUSED("bad: a stream that ends inside a file, refused");
	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", ks, 2, 0);
	pk_writer_put(w, 0x42, 0, junk, 3);
	unit_writer_end(w);
	REFUSED("bad: an unknown record not marked ignorable, refused");
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_HARDLINK, "z", 0, 1, "f");
	unit_writer_end(w);
	REFUSED("bad: a hard link to no earlier file, refused");
	{
		struct pk_snapshot m;
		struct pk_buf mb = PK_BUF_INIT;

		memset(&m, 0, sizeof m);
		m.host = "orig";
		pk_snapshot_meta_encode(&m, &mb);
		w = unit_writer(&s, &unit_hdr);
		pk_writer_put(w, PK_REC_META, PK_RECF_IGNORABLE, mb.data, mb.len);
		pk_writer_put(w, PK_REC_META, PK_RECF_IGNORABLE, mb.data, mb.len);
		unit_writer_end(w);
		REFUSED("bad: two META records, refused");
		w = unit_writer(&s, &unit_hdr);
		pk_writer_put(w, PK_REC_META, PK_RECF_IGNORABLE, mb.data,
		    mb.len - 1);
		unit_writer_end(w);
		REFUSED("bad: a META record cut short, refused");
		pk_buf_release(&mb);
	}
	pk_buf_release(&s);
	pk_buf_release(&good);
#undef REFUSED
}

/* A failure after a pack was filled (32 MiB) and committed: removed. */
static void
test_full_pack(struct pk_repo *r)
{
	struct pk_store_options o = { .level = 0, .threads = 2, .host = "h" };
	const size_t clen = 60000, n = 600;	/* 36 MB */
	struct pk_buf s = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_writer *w;
	struct counts c0 = counts_of(r);
	uint8_t *data = malloc(clen), id[PK_ID_BYTES];
	size_t i;
	int e;

	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "big", clen * n, 1, NULL);
	for (i = 0; i < n; i++) {
		unit_fill(data, clen, 900000 + i);
		pk_hash_id(id, data, clen);
		pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, data, clen);
	}
	pk_write_eof(w, clen * n + 1, 0);	/* wrong: refused at the end */
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("full pack: refused after 36 MB of new chunks", e == -EBADMSG);
	CHECK("full pack: ... its packs removed, no delta, no snapshot, tmp/ "
	    "empty", same_counts(counts_of(r), c0));
	free(data);
	pk_buf_release(&s);
}

/* A file of unknown size, a copy's META, a stream of another chunker. */
static void
test_forms(struct pk_repo *r)
{
	const char *tags[] = { "mine" };
	struct pk_store_options o = { .threads = 1, .host = "h", .tags = tags,
	    .ntags = 1 };
	const struct pk_stream_header other = { .version = 1, .chunk_min = 1024,
	    .chunk_avg = 4096, .chunk_max = 16384 };
	struct pk_buf s = PK_BUF_INIT, cat = PK_BUF_INIT, xb = PK_BUF_INIT,
	    mb = PK_BUF_INIT;
	struct pk_snapshot snap, m;
	struct pk_stream_header h;
	struct pk_writer *w;
	struct pk_cursor c;
	struct pk_entry ent;
	const uint8_t *p;
	size_t len;
	uint8_t type;
	int e, found = 0;

	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_REG, "pipe", PK_SIZE_UNKNOWN, 1, NULL);
	put_chunk(w, 60);
	pk_write_hole(w, 100);
	put_chunk(w, 61);
	pk_write_eof(w, len_of(60) + 100 + len_of(61), 0);
	put_file(w, "q", (const unsigned[]){ 62 }, 1, 0);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("unknown size: stored", e == 0 && snap.bytes == len_of(60) + 100 +
	    len_of(61) + len_of(62));
	e = e ? e : catalog_of(r, &snap, &cat, &h);
	pk_cursor_init(&c, cat.data, cat.len);
	while (e == 0 && c.left > 0) {
		type = pk_get_u8(&c);
		p = pk_get_str(&c, SIZE_MAX, &len);
		if (type == PK_REC_ENTRY && pk_entry_decode(&ent, p, len, &xb) == 0 &&
		    ent.path.len == 4 && !memcmp(ent.path.p, "pipe", 4))
			found = ent.size == len_of(60) + 100 + len_of(61);
	}
	CHECK("unknown size: the catalog's ENTRY has the size the EOF gave",
	    found);
	if (snap.catalog)
		pk_snapshot_release(&snap);

	/* META: the copy keeps the original's times, user, host and tags. */
	memset(&m, 0, sizeof m);
	m.start_sec = 1500000000;
	m.start_nsec = 1;
	m.end_sec = 1500000600;
	m.end_nsec = 2;
	m.host = strdup("orig");
	m.user = strdup("ouser");
	pk_snapshot_add_tag(&m, "old");
	pk_snapshot_meta_encode(&m, &mb);
	w = unit_writer(&s, &unit_hdr);
	pk_writer_put(w, PK_REC_META, PK_RECF_IGNORABLE, mb.data, mb.len);
	put_file(w, "f", (const unsigned[]){ 63 }, 1, 0);
	unit_writer_end(w);
	o.host = NULL;
	e = unit_store(r, &s, &o, &snap);
	CHECK("meta: the original's times, host, user; its tags and this run's",
	    e == 0 && snap.start_sec == 1500000000 && snap.start_nsec == 1 &&
	    snap.end_sec == 1500000600 && snap.end_nsec == 2 && snap.host &&
	    !strcmp(snap.host, "orig") && snap.user && !strcmp(snap.user, "ouser") &&
	    snap.ntags == 2 && !strcmp(snap.tags[0], "mine") &&
	    !strcmp(snap.tags[1], "old"));
	if (e == 0)
		pk_snapshot_release(&snap);
	o.host = "given";
	e = unit_store(r, &s, &o, &snap);
	CHECK("meta: a host given to the run wins", e == 0 && snap.host &&
	    !strcmp(snap.host, "given"));
	if (e == 0)
		pk_snapshot_release(&snap);
	o.host_is_default = 1;
	e = unit_store(r, &s, &o, &snap);
	CHECK("meta: ... unless it is only the default", e == 0 && snap.host &&
	    !strcmp(snap.host, "orig"));
	if (e == 0)
		pk_snapshot_release(&snap);
	o.host_is_default = 0;
	pk_snapshot_release(&m);

	/* Another chunker: stored, and said. */
	w = unit_writer(&s, &other);
	put_file(w, "f", (const unsigned[]){ 64 }, 1, 0);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("chunker: another one's stream is stored, and the mismatch said",
	    e == 0 && o.chunker_mismatch == 1 && snap.chunk_min == 1024 &&
	    snap.chunk_avg == 4096 && snap.chunk_max == 16384);
	if (e == 0)
		pk_snapshot_release(&snap);
	pk_buf_release(&s);
	pk_buf_release(&cat);
	pk_buf_release(&xb);
	pk_buf_release(&mb);
}

/* The stat cache of the snapshot, written at commit. */
static void
test_cache(struct pk_repo *r)
{
	const char *path = SCRATCH "/statcache";
	struct pk_store_options o = { .threads = 1, .host = "h", .cache = path };
	struct pk_buf s = PK_BUF_INIT, out = PK_BUF_INIT, want = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_statcache *c;
	struct pk_statinfo st;
	struct pk_writer *w;
	struct pk_entry e0;
	uint8_t ref[PK_ID_BYTES + 4];
	int e;

	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 70 }, 1, 0);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("cache: stored with a stat cache", e == 0 && o.cache_failed == 0);
	if (e == 0)
		pk_snapshot_release(&snap);
	e = pk_statcache_open(&c, path, r->id, 0);
	CHECK("cache: written, for this repository", e == 0);
	if (e < 0)
		return;
	memset(&e0, 0, sizeof e0);
	e0.mode = 0644;
	e0.size = len_of(70);
	e0.mtime_sec = 1600000000;
	e0.mtime_nsec = 5;
	e0.ctime_sec = 1600000000;
	e0.dev = 42;
	e0.ino = 1000 + 1 * 31 + 'f';
	pk_statinfo_from_entry(&st, &e0);
	id_of(70, ref);
	pk_put_u32(ref + PK_ID_BYTES, (uint32_t)len_of(70));
	pk_buf_add_u8(&want, PK_REC_REF);
	pk_buf_add_str(&want, ref, sizeof ref);
	CHECK("cache: the file's stat finds its REF",
	    pk_statcache_lookup(c, (const uint8_t *)"f", 1, &st, &out) == 1 &&
	    buf_eq(&out, &want));
	st.size++;
	CHECK("cache: another stat does not",
	    pk_statcache_lookup(c, (const uint8_t *)"f", 1, &st, &out) == 0);
	pk_statcache_close(c);
	pk_buf_release(&s);
	pk_buf_release(&out);
	pk_buf_release(&want);
}

/* The snapshot cannot be written: no snapshot; the chunks, named by the
 * delta written before it, are not stored again by the next run. */
static void
test_no_commit(struct pk_repo *r)
{
	struct pk_store_options o = { .threads = 1, .host = "h" };
	struct pk_buf s = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_writer *w;
	char dir[4200], aside[4200];
	struct counts c0;
	int e;

	w = unit_writer(&s, &unit_hdr);
	put_file(w, "f", (const unsigned[]){ 80, 81 }, 2, 0);
	unit_writer_end(w);
	pk_repo_path(r, dir, sizeof dir, "snapshots");
	pk_repo_path(r, aside, sizeof aside, "snapshots.aside");
	rename(dir, aside);
	close(open(dir, O_WRONLY | O_CREAT, 0600));	/* a file in its way */
	c0 = counts_of(r);
	e = unit_store(r, &s, &o, &snap);
	unlink(dir);
	rename(aside, dir);
	CHECK("no commit: the snapshot not written is an error", e < 0 &&
	    snap.catalog == NULL);
	CHECK("no commit: ... its pack and delta stay, tmp/ empty",
	    counts_of(r).packs == c0.packs + 1 && counts_of(r).deltas ==
	    c0.deltas + 1 && counts_of(r).tmp == 0);
	e = unit_store(r, &s, &o, &snap);
	CHECK("no commit: the next run stores no chunk again", e == 0 &&
	    snap.new_chunks == 0 && snap.chunks == 2 && chunk_reads(r, 80) &&
	    chunk_reads(r, 81));
	if (e == 0)
		pk_snapshot_release(&snap);
	pk_buf_release(&s);
}

/* Threads seal in parallel; the result does not depend on them. */
static void
test_threads(void)
{
	struct pk_store_options o1 = { .level = 1, .threads = 1, .host = "t" },
	    o4 = { .level = 1, .threads = 4, .host = "t" };
	struct pk_buf s = PK_BUF_INIT, c1 = PK_BUF_INIT, c4 = PK_BUF_INIT;
	struct pk_snapshot a, b;
	struct pk_repo *r1 = unit_repo(SCRATCH, "t1", 0, "pw");
	struct pk_repo *r4 = unit_repo(SCRATCH, "t4", 0, "pw");
	struct pk_stream_header h;
	struct pk_writer *w;
	unsigned ks[200];
	size_t i;
	int e1, e4, ok;

	if (!r1 || !r4) {
		CHECK("threads: repositories", 0);
		return;
	}
	for (i = 0; i < 200; i++)
		ks[i] = 1000 + (unsigned)(i % 150);
	w = unit_writer(&s, &unit_hdr);
	put_entry(w, PK_FT_DIR, "d", 0, 2, NULL);
	put_file(w, "d/x", ks, 100, 0);
	put_file(w, "d/y", ks + 100, 100, 0);
	unit_writer_end(w);
	e1 = unit_store(r1, &s, &o1, &a);
	e4 = unit_store(r4, &s, &o4, &b);
	CHECK("threads: 1 and 4 store the same counts", e1 == 0 && e4 == 0 &&
	    a.chunks == b.chunks && a.new_chunks == b.new_chunks &&
	    a.new_chunks == 150 + a.ncatalog && a.bytes == b.bytes);
	ok = e1 == 0 && e4 == 0 && catalog_of(r1, &a, &c1, &h) == 0 &&
	    catalog_of(r4, &b, &c4, &h) == 0 && buf_eq(&c1, &c4) &&
	    a.ncatalog == b.ncatalog;
	for (i = 0; ok && i < a.ncatalog; i++)
		ok = memcmp(a.catalog[i].id, b.catalog[i].id, PK_ID_BYTES) == 0;
	CHECK("threads: ... and the same catalog", ok);
	for (i = 1000, ok = 1; i < 1150; i += 7)
		ok &= chunk_reads(r4, (unsigned)i);
	CHECK("threads: chunks sealed on 4 threads read back", ok);
	if (e1 == 0)
		pk_snapshot_release(&a);
	if (e4 == 0)
		pk_snapshot_release(&b);
	pk_repo_close(r1);
	pk_repo_close(r4);
	pk_buf_release(&s);
	pk_buf_release(&c1);
	pk_buf_release(&c4);
}

/* An encrypted repository takes the same stream. */
static void
test_encrypted(void)
{
	struct pk_store_options o = { .level = 3, .threads = 2, .host = "h" };
	struct pk_buf s = PK_BUF_INIT, cat = PK_BUF_INIT, want = PK_BUF_INIT;
	struct pk_repo *r = unit_repo(SCRATCH, "enc", 1, "pw");
	struct pk_stream_header h;
	struct pk_snapshot snap;
	struct pk_writer *w;
	int e;

	if (r == NULL) {
		CHECK("encrypted: a repository", 0);
		return;
	}
	w = unit_writer(&s, &unit_hdr);
	tree_one(w);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, &snap);
	CHECK("encrypted: stored, the same counts", e == 0 && snap.entries == 8 &&
	    snap.chunks == 8 && snap.new_chunks == 7 + snap.ncatalog &&
	    snap.bytes == bytes_one());
	e = e ? e : catalog_of(r, &snap, &cat, &h);
	expected_catalog(&s, &want);
	CHECK("encrypted: the catalog reads back", e == 0 && buf_eq(&cat, &want));
	CHECK("encrypted: a chunk reads back", chunk_reads(r, 7));
	if (snap.catalog)
		pk_snapshot_release(&snap);
	pk_repo_close(r);
	pk_buf_release(&s);
	pk_buf_release(&cat);
	pk_buf_release(&want);
}

int
main(void)
{
	struct pk_repo *r;

	unit_scratch(SCRATCH);
	if ((r = unit_repo(SCRATCH, "repo", 0, "pw")) == NULL) {
		CHECK("a repository", 0);
		UNIT_END();
	}
	test_good(r);
	test_refs(r);
	test_known(r);
	test_bad(r);
	test_full_pack(r);
	test_forms(r);
	test_cache(r);
	test_no_commit(r);
	pk_repo_close(r);
	test_threads();
	test_encrypted();
	UNIT_END();
}
