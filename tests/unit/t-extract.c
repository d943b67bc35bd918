/*
 * t-extract: pk_extract (extract.h) from a snapshot stored with
 * pk_store_stream.  One file's bytes, holes as zeros; a hard link asked
 * for by name gives its target's bytes; a path not in the snapshot is
 * ENOENT.  The stream form is the catalog with every chunk's data and the
 * snapshot's META, and stored again it makes the same catalog.  The tar
 * form (read back with libarchive) holds every entry but the socket, each
 * file's content, holes, links; a selected subtree with a hard link to a
 * file outside it gets the file itself.  Output does not depend on the
 * jobs that fetch ahead.  A damaged blob: tar goes on with zeros and names
 * the file, a single file fails.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-extract"
#define HOLE	65536u


static void
put_entry(struct pk_writer *w, uint8_t type, const char *path, uint64_t size,
    uint32_t nlink, const char *link)
{
	struct pk_entry e;

	unit_entry(&e, type, path, size);
	e.mode = type == PK_FT_DIR ? 0750 : 0640;
	e.uid = 1234;
	e.gid = 2345;
	e.mtime_nsec = 123456789;
	e.nlink = nlink;
	unit_set_link(&e, link);
	unit_write_entry(w, &e);
}

/* Chunk k: len_of(k) bytes. */
static size_t
len_of(unsigned k)
{
	return 2000 + (k * 7919) % 30000;
}

static void
chunk_of(unsigned k, uint8_t *p)
{
	unit_fill(p, len_of(k), 31000 + k);
}

static void
put_chunk(struct pk_writer *w, unsigned k)
{
	uint8_t *p = malloc(len_of(k)), id[PK_ID_BYTES];

	chunk_of(k, p);
	pk_hash_id(id, p, len_of(k));
	pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, p, len_of(k));
	free(p);
}

/* The bytes of file of chunks ks[0..n) into b. */
static void
bytes_of(struct pk_buf *b, const unsigned *ks, size_t n)
{
	uint8_t *p;
	size_t i;

	pk_buf_reset(b);
	for (i = 0; i < n; i++) {
		p = malloc(len_of(ks[i]));
		chunk_of(ks[i], p);
		pk_buf_add(b, p, len_of(ks[i]));
		free(p);
	}
}

static void
put_file(struct pk_writer *w, const char *path, const unsigned *ks, size_t n,
    uint32_t nlink)
{
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < n; i++)
		size += len_of(ks[i]);
	put_entry(w, PK_FT_REG, path, size, nlink, NULL);
	for (i = 0; i < n; i++)
		put_chunk(w, ks[i]);
	pk_write_eof(w, size, 0);
}

static const unsigned ka[] = { 1, 2, 3, 4, 5, 2 }, kf[] = { 7, 8 };

/* d/b: a hole, a chunk, a hole. */
static uint64_t
size_b(void)
{
	return HOLE + len_of(6) + 4096;
}

static void
bytes_b(struct pk_buf *b)
{
	uint8_t *p = malloc(len_of(6));

	pk_buf_reset(b);
	pk_buf_reserve(b, (size_t)size_b());
	memset(b->data, 0, (size_t)size_b());
	chunk_of(6, p);
	memcpy(b->data + HOLE, p, len_of(6));
	b->len = (size_t)size_b();
	free(p);
}

static void
tree(struct pk_buf *s)
{
	struct pk_writer *w;

	w = unit_writer(s, &unit_hdr);
	put_entry(w, PK_FT_DIR, ".", 0, 3, NULL);
	put_entry(w, PK_FT_DIR, "d", 0, 2, NULL);
	put_file(w, "d/a", ka, 6, 3);
	put_entry(w, PK_FT_REG, "d/b", size_b(), 1, NULL);
	pk_write_hole(w, HOLE);
	put_chunk(w, 6);
	pk_write_hole(w, 4096);
	pk_write_eof(w, size_b(), 0);
	put_entry(w, PK_FT_REG, "d/c", 0, 1, NULL);
	pk_write_eof(w, 0, 0);
	pk_write_error(w, EACCES, "d/e", 3, "Permission denied");
	put_entry(w, PK_FT_SYMLINK, "d/l", 0, 1, "a");
	put_entry(w, PK_FT_SOCK, "d/s", 0, 1, NULL);
	put_entry(w, PK_FT_HARDLINK, "d/z", 0, 1, "d/a");
	put_entry(w, PK_FT_DIR, "e", 0, 2, NULL);
	put_file(w, "e/f", kf, 2, 1);
	put_entry(w, PK_FT_HARDLINK, "e/hl", 0, 1, "d/a");
	unit_writer_end(w);
}

static int
store(struct pk_repo *r, const struct pk_buf *b, const char *host,
    struct pk_snapshot *snap)
{
	struct pk_store_options o = { .level = 3, .threads = 2, .host = host };

	return unit_store(r, b, &o, snap);
}

/* Warnings heard. */
struct heard {
	int n;
	char path[256], msg[512];
};

static void
on_warn(void *arg, const char *path, const char *msg)
{
	struct heard *h = arg;

	h->n++;
	snprintf(h->path, sizeof h->path, "%s", path);
	snprintf(h->msg, sizeof h->msg, "%s", msg);
}

/* Runs pk_extract into out (the whole output). */
static int
extract(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, enum pk_extract_mode mode, const char *path,
    int jobs, struct pk_buf *out, struct pk_extract_result *res,
    struct heard *h)
{
	struct pk_extract_options o = { .mode = mode, .path = path, .jobs = jobs,
	    .warn = on_warn, .arg = h };
	uint8_t *p;
	size_t n;
	int e;

	if (h)
		memset(h, 0, sizeof *h);
	else
		o.warn = NULL;
	pk_buf_reset(out);
	o.fd = open(SCRATCH "/out", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (o.fd < 0)
		return -errno;
	e = pk_extract(r, ix, snap, &o, res);
	close(o.fd);
	if (pk_read_file(SCRATCH "/out", 1u << 28, &p, &n) == 0) {
		pk_buf_add(out, p, n);
		free(p);
	}
	return e;
}

static int
bytes_are(const struct pk_buf *got, const struct pk_buf *want)
{
	return got->len == want->len && (got->len == 0 ||
	    memcmp(got->data, want->data, got->len) == 0);
}

/* Tar read back: each entry's name, type, size, link and content. */
struct tent {
	char path[64], link[64];
	int hard;
	mode_t type, perm;
	int64_t size, mtime, uid;
	struct pk_buf data;
};

static int
untar(const struct pk_buf *b, struct tent *t, size_t cap, size_t *n)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	const char *s;
	la_ssize_t k;
	uint8_t buf[65536];
	int r = ARCHIVE_FATAL;

	*n = 0;
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, b->data, b->len) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	while (*n < cap && ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN)) {
		struct tent *x = &t[(*n)++];

		memset(x, 0, sizeof *x);
		snprintf(x->path, sizeof x->path, "%s", archive_entry_pathname(e));
		if ((s = archive_entry_symlink(e)) != NULL)
			snprintf(x->link, sizeof x->link, "%s", s);
		if ((s = archive_entry_hardlink(e)) != NULL) {
			snprintf(x->link, sizeof x->link, "%s", s);
			x->hard = 1;
		}
		x->type = archive_entry_filetype(e);
		x->perm = archive_entry_perm(e);
		x->size = archive_entry_size(e);
		x->mtime = archive_entry_mtime(e);
		x->uid = archive_entry_uid(e);
		while ((k = archive_read_data(a, buf, sizeof buf)) > 0)
			pk_buf_add(&x->data, buf, (size_t)k);
		if (k < 0)
			r = ARCHIVE_FATAL;
	}
	archive_read_free(a);
	return r == ARCHIVE_EOF ? 0 : -1;
}

static const struct tent *
tfind(const struct tent *t, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].path, path) == 0)
			return &t[i];
	return NULL;
}

static void
tfree(struct tent *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pk_buf_release(&t[i].data);
}

static void
test_file(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap)
{
	struct pk_buf out = PK_BUF_INIT, want = PK_BUF_INIT;
	struct pk_extract_result res;
	int e, jobs;

	bytes_of(&want, ka, 6);
	for (jobs = 1; jobs <= 4; jobs += 3) {
		e = extract(r, ix, snap, PK_EXTRACT_FILE, "d/a", jobs, &out, &res,
		    NULL);
		CHECK(jobs == 1 ? "file: the bytes of a file of six chunks" :
		    "file: ... the same with 4 jobs fetching ahead", e == 0 &&
		    bytes_are(&out, &want) && res.entries == 1 &&
		    res.bytes == want.len && res.failed == 0);
	}
	e = extract(r, ix, snap, PK_EXTRACT_AUTO, "d/a", 1, &out, &res, NULL);
	CHECK("auto: a regular file comes out as its bytes", e == 0 &&
	    bytes_are(&out, &want));
	e = extract(r, ix, snap, PK_EXTRACT_AUTO, "d/z", 1, &out, &res, NULL);
	CHECK("auto: a hard link by name gives its target's bytes", e == 0 &&
	    bytes_are(&out, &want));
	bytes_b(&want);
	e = extract(r, ix, snap, PK_EXTRACT_FILE, "d/b", 2, &out, &res, NULL);
	CHECK("file: holes come out as zeros", e == 0 && bytes_are(&out, &want));
	e = extract(r, ix, snap, PK_EXTRACT_FILE, "d/c", 1, &out, &res, NULL);
	CHECK("file: an empty file, no bytes", e == 0 && out.len == 0 &&
	    res.entries == 1);
	e = extract(r, ix, snap, PK_EXTRACT_FILE, "d/nothing", 1, &out, &res, NULL);
	CHECK("file: a path not in the snapshot is ENOENT, nothing written",
	    e == -ENOENT && out.len == 0);
	e = extract(r, ix, snap, PK_EXTRACT_FILE, "d/a/x", 1, &out, &res, NULL);
	CHECK("file: below a file is ENOENT", e == -ENOENT);
	e = extract(r, ix, snap, PK_EXTRACT_FILE, "d/", 1, &out, &res, NULL);
	CHECK("file: a prefix that is no path is ENOENT", e == -ENOENT);
	pk_buf_release(&out);
	pk_buf_release(&want);
}

static void
test_tar(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap)
{
	struct pk_buf out = PK_BUF_INIT, out4 = PK_BUF_INIT, want = PK_BUF_INIT;
	struct pk_extract_result res;
	struct tent t[20];
	const struct tent *x;
	struct heard h;
	size_t n;
	int e;

	e = extract(r, ix, snap, PK_EXTRACT_TAR, NULL, 1, &out, &res, &h);
	CHECK("tar: the whole snapshot", e == 0);
	CHECK("tar: counts: entries, the socket skipped, the ERROR counted",
	    res.entries == 11 && res.skipped == 1 && res.errors == 1 &&
	    res.failed == 0 && h.n == 1 && strcmp(h.path, "d/s") == 0);
	e = untar(&out, t, 20, &n);
	CHECK("tar: reads back, ten entries", e == 0 && n == 10);
	CHECK("tar: the root as ./, directories", tfind(t, n, "./") &&
	    (x = tfind(t, n, "d/")) && x->type == AE_IFDIR && x->perm == 0750 &&
	    (x = tfind(t, n, "e/")) && x->type == AE_IFDIR);
	bytes_of(&want, ka, 6);
	CHECK("tar: a file of six chunks, its content and metadata",
	    (x = tfind(t, n, "d/a")) && x->type == AE_IFREG &&
	    x->size == (int64_t)want.len && bytes_are(&x->data, &want) &&
	    x->perm == 0640 && x->uid == 1234 && x->mtime == 1600000000);
	bytes_b(&want);
	CHECK("tar: a file with holes, read back whole",
	    (x = tfind(t, n, "d/b")) && x->size == (int64_t)size_b() &&
	    bytes_are(&x->data, &want));
	CHECK("tar: an empty file", (x = tfind(t, n, "d/c")) &&
	    x->type == AE_IFREG && x->size == 0);
	CHECK("tar: a symbolic link", (x = tfind(t, n, "d/l")) &&
	    x->type == AE_IFLNK && strcmp(x->link, "a") == 0);
	CHECK("tar: a hard link to its target",
	    (x = tfind(t, n, "d/z")) && x->hard && strcmp(x->link, "d/a") == 0 &&
	    (x = tfind(t, n, "e/hl")) && x->hard && strcmp(x->link, "d/a") == 0);
	CHECK("tar: no socket, nothing for the ERROR", !tfind(t, n, "d/s") &&
	    !tfind(t, n, "d/e"));
	tfree(t, n);
	e = extract(r, ix, snap, PK_EXTRACT_TAR, NULL, 4, &out4, &res, NULL);
	CHECK("tar: 4 jobs fetching ahead, the same archive byte for byte",
	    e == 0 && bytes_are(&out, &out4));

	/* A subtree whose hard link names a file outside it. */
	e = extract(r, ix, snap, PK_EXTRACT_TAR, "e", 1, &out, &res, NULL);
	e = e ? e : untar(&out, t, 20, &n);
	bytes_of(&want, ka, 6);
	CHECK("tar: a subtree, only its entries", e == 0 && n == 3 &&
	    tfind(t, n, "e/") && tfind(t, n, "e/f") && tfind(t, n, "e/hl"));
	CHECK("tar: ... its hard link to a file outside becomes that file",
	    e == 0 && (x = tfind(t, n, "e/hl")) && x->type == AE_IFREG &&
	    !x->hard && bytes_are(&x->data, &want));
	if (e == 0)
		tfree(t, n);
	e = extract(r, ix, snap, PK_EXTRACT_AUTO, "d", 1, &out, &res, NULL);
	e = e ? e : untar(&out, t, 20, &n);
	CHECK("auto: a directory comes out as tar", e == 0 && n == 6 &&
	    tfind(t, n, "d/a") && tfind(t, n, "d/z") && !tfind(t, n, "e/f"));
	if (e == 0)
		tfree(t, n);
	e = extract(r, ix, snap, PK_EXTRACT_TAR, "x", 1, &out, &res, NULL);
	CHECK("tar: a path not in the snapshot is ENOENT", e == -ENOENT);
	pk_buf_release(&out);
	pk_buf_release(&out4);
	pk_buf_release(&want);
}

/* The records of a stream, as type, flags, u32 length, payload. */
static int
records_of(const struct pk_buf *b, struct pk_buf *out, struct pk_stream_header *h)
{
	struct unit_src s = { b->data, b->len };
	struct pk_reader *rd;
	struct pk_record rec;
	int n;

	pk_buf_reset(out);
	pk_reader_new_source(&rd, unit_source, &s, "output");
	if ((n = pk_reader_header(rd, h)) == 0)
		while ((n = pk_reader_next(rd, &rec)) > 0) {
			pk_buf_add_u8(out, rec.type);
			pk_buf_add_u8(out, rec.flags);
			pk_buf_add_str(out, rec.data, rec.len);
		}
	pk_reader_free(rd);
	return n;
}

static void
test_stream(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_buf *stored)
{
	struct pk_buf out = PK_BUF_INIT, a = PK_BUF_INIT, b = PK_BUF_INIT;
	struct pk_extract_result res;
	struct pk_stream_header h;
	struct pk_snapshot copy, m;
	struct pk_repo *r2 = unit_repo(SCRATCH, "copy", 0, NULL);
	struct pk_cursor c;
	struct pk_index ix2;
	size_t len;
	int e, ok;

	e = extract(r, ix, snap, PK_EXTRACT_STREAM, NULL, 4, &out, &res, NULL);
	CHECK("stream: the whole snapshot", e == 0 && res.errors == 1);
	e = e ? e : records_of(&out, &a, &h);
	CHECK("stream: a checked stream with the stored header", e == 0 &&
	    h.chunk_min == 2048 && h.chunk_avg == 8192 && h.chunk_max == 65536);
	/* First, the snapshot's META. */
	pk_cursor_init(&c, a.data, a.len);
	ok = pk_get_u8(&c) == PK_REC_META && pk_get_u8(&c) == PK_RECF_IGNORABLE;
	memset(&m, 0, sizeof m);
	{
		const uint8_t *p = pk_get_str(&c, SIZE_MAX, &len);

		ok = ok && p && pk_snapshot_meta_decode(&m, p, len) == 0 &&
		    m.start_sec == snap->start_sec && m.end_nsec == snap->end_nsec &&
		    m.host && strcmp(m.host, "src") == 0;
	}
	pk_snapshot_release(&m);
	CHECK("stream: META first, with the snapshot's times and host", ok);
	/* Then TOTAL: what the snapshot holds, for a progress line. */
	ok = pk_get_u8(&c) == PK_REC_TOTAL && pk_get_u8(&c) == PK_RECF_IGNORABLE &&
	    pk_get_u32(&c) == 16 && pk_get_u64(&c) == snap->entries &&
	    pk_get_u64(&c) == snap->bytes;
	CHECK("stream: then TOTAL, the snapshot's entries and bytes", ok);
	/* Then what was stored, but the ignorable records. */
	records_of(stored, &b, &h);
	CHECK("stream: then the stored stream, every chunk with its data",
	    c.left == b.len && memcmp(c.p, b.data, b.len) == 0);

	/* Stored again elsewhere: the same snapshot. */
	e = r2 ? store(r2, &out, NULL, &copy) : -1;
	CHECK("stream: stored into another repository", e == 0);
	if (e == 0) {
		CHECK("stream: ... the copy keeps times, host, counts",
		    copy.start_sec == snap->start_sec &&
		    copy.end_sec == snap->end_sec && !strcmp(copy.host, "src") &&
		    copy.entries == snap->entries && copy.bytes == snap->bytes &&
		    copy.chunks == snap->chunks && copy.errors == snap->errors);
		ok = copy.ncatalog == snap->ncatalog;
		for (len = 0; ok && len < copy.ncatalog; len++)
			ok = !memcmp(copy.catalog[len].id, snap->catalog[len].id,
			    PK_ID_BYTES);
		CHECK("stream: ... and the same catalog", ok);
		if (pk_index_open(&ix2, r2) == 0) {
			e = extract(r2, &ix2, &copy, PK_EXTRACT_STREAM, NULL, 1, &b,
			    &res, NULL);
			CHECK("stream: the copy's stream is the original's",
			    e == 0 && bytes_are(&b, &out));
			pk_index_close(&ix2);
		}
		pk_snapshot_release(&copy);
	}

	/* One subtree: its entries; the hard link outside it resolved. */
	e = extract(r, ix, snap, PK_EXTRACT_STREAM, "e", 1, &out, &res, NULL);
	e = e ? e : records_of(&out, &a, &h);
	{
		struct pk_buf xb = PK_BUF_INIT;
		struct pk_entry en;
		const uint8_t *p;
		uint8_t type;
		int entries = 0, hl = 0;
		uint64_t chunks = 0;

		pk_cursor_init(&c, a.data, a.len);
		while (e == 0 && c.left > 0) {
			type = pk_get_u8(&c);
			pk_get_u8(&c);
			p = pk_get_str(&c, SIZE_MAX, &len);
			if (type == PK_REC_CHUNK)
				chunks++;
			if (type != PK_REC_ENTRY ||
			    pk_entry_decode(&en, p, len, &xb) < 0)
				continue;
			entries++;
			if (en.path.len == 4 && !memcmp(en.path.p, "e/hl", 4))
				hl = en.type == PK_FT_REG && en.link.len == 0;
		}
		CHECK("stream: a subtree, its three entries, the outside link as "
		    "its file", e == 0 && entries == 3 && hl && chunks == 2 + 6);
		pk_buf_release(&xb);
	}
	if (r2)
		pk_repo_close(r2);
	pk_buf_release(&out);
	pk_buf_release(&a);
	pk_buf_release(&b);
}

/* A blob of d/a's damaged in its pack. */
static void
test_damaged(struct pk_repo *r, const struct pk_snapshot *snap)
{
	struct pk_buf out = PK_BUF_INIT, want = PK_BUF_INIT, other = PK_BUF_INIT;
	struct pk_extract_result res;
	struct pk_blobloc loc;
	struct pk_index ix;
	struct tent t[20];
	const struct tent *x;
	struct heard h;
	uint8_t *p, id[PK_ID_BYTES], sid[32], byte;
	char pack[4200];
	size_t n;
	int e, fd = -1;

	p = malloc(len_of(3));
	chunk_of(3, p);
	pk_hash_id(id, p, len_of(3));
	free(p);
	pk_storage_id(&r->keys, sid, id);
	if (pk_index_open(&ix, r) < 0 || pk_index_find(&ix, sid, &loc) != 1) {
		CHECK("damaged: the blob's place", 0);
		return;
	}
	pk_pack_path(r, pack, sizeof pack, loc.pack);
	chmod(pack, 0600);
	fd = open(pack, O_RDWR);
	if (fd < 0 || pread(fd, &byte, 1, loc.offset + loc.length / 2) != 1) {
		CHECK("damaged: the pack", 0);
		return;
	}
	byte ^= 0x40;
	pwrite(fd, &byte, 1, loc.offset + loc.length / 2);

	e = extract(r, &ix, snap, PK_EXTRACT_TAR, NULL, 1, &out, &res, &h);
	CHECK("damaged: tar goes on, one file failed, and named",
	    e == 0 && res.failed == 1 && h.n == 2);
	e = untar(&out, t, 20, &n);
	/* From the bad chunk on, zeros stand in. */
	bytes_of(&want, ka, 6);
	memset(want.data + len_of(1) + len_of(2), 0,
	    want.len - len_of(1) - len_of(2));
	bytes_of(&other, kf, 2);
	CHECK("damaged: ... the archive whole, the file zero-filled from the bad "
	    "chunk, the others intact", e == 0 && n == 10 &&
	    (x = tfind(t, n, "d/a")) && bytes_are(&x->data, &want) &&
	    (x = tfind(t, n, "e/f")) && bytes_are(&x->data, &other));
	if (e == 0)
		tfree(t, n);
	e = extract(r, &ix, snap, PK_EXTRACT_TAR, NULL, 4, &out, &res, &h);
	e = e ? e : untar(&out, t, 20, &n);
	CHECK("damaged: with 4 jobs, the same", e == 0 && res.failed == 1 &&
	    n == 10 && (x = tfind(t, n, "d/a")) && bytes_are(&x->data, &want) &&
	    (x = tfind(t, n, "e/f")) && bytes_are(&x->data, &other));
	if (e == 0)
		tfree(t, n);
	e = extract(r, &ix, snap, PK_EXTRACT_FILE, "d/a", 1, &out, &res, NULL);
	CHECK("damaged: the file alone fails", e == -EBADMSG);
	CHECK("damaged: ... and says which", strstr(pk_errmsg(e), "d/a") != NULL);
	e = extract(r, &ix, snap, PK_EXTRACT_FILE, "d/b", 1, &out, &res, NULL);
	bytes_b(&want);
	CHECK("damaged: another file comes out whole", e == 0 &&
	    bytes_are(&out, &want));
	e = extract(r, &ix, snap, PK_EXTRACT_STREAM, NULL, 1, &out, &res, NULL);
	CHECK("damaged: a stream fails, with no END", e == -EBADMSG &&
	    records_of(&out, &want, &(struct pk_stream_header){ 0 }) < 0);
	byte ^= 0x40;
	pwrite(fd, &byte, 1, loc.offset + loc.length / 2);
	close(fd);
	pk_index_close(&ix);
	pk_buf_release(&out);
	pk_buf_release(&want);
	pk_buf_release(&other);
}

int
main(void)
{
	struct pk_buf s = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_index ix;
	struct pk_repo *r;
	int e;

	unit_scratch(SCRATCH);
	r = unit_repo(SCRATCH, "repo", 0, NULL);
	tree(&s);
	e = r ? store(r, &s, "src", &snap) : -1;
	CHECK("a snapshot to extract", e == 0);
	if (e < 0)
		UNIT_END();
	if (pk_index_open(&ix, r) < 0) {
		CHECK("the index", 0);
		UNIT_END();
	}
	test_file(r, &ix, &snap);
	test_tar(r, &ix, &snap);
	test_stream(r, &ix, &snap, &s);
	pk_index_close(&ix);
	test_damaged(r, &snap);
	pk_snapshot_release(&snap);
	pk_repo_close(r);
	pk_buf_release(&s);
	UNIT_END();
}
