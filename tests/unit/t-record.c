/*
 * t-record: the record stream (record.h) and ENTRY payloads (entry.h).
 *
 * Streams are described as lists of records whose payloads are laid out by
 * hand from pk-stream(5); the test checks that pk_writer produces the same
 * bytes as a hand-made encoder, that the reader returns the same records
 * whatever its read sizes, and that every corruption of a small stream is
 * refused.  The golden streams in tests/golden pin the format:
 *
 *	t-record [--small]		run the tests (--small: no 16 MiB record)
 *	t-record --golden DIR		write the golden streams into DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-record"
#define GOLDEN	"tests/golden"
#define MAXREC	64

static int small;

/* Lists of records, and a hand-made encoder. */

struct rec {
	uint8_t type, flags;
	struct pk_buf pay;
};

struct script {
	struct pk_stream_header h;
	size_t n;
	struct rec v[MAXREC];
};

static struct rec *
add_rec(struct script *s, uint8_t type, uint8_t flags)
{
	struct rec *r = &s->v[s->n++];

	if (s->n > MAXREC)
		abort();
	memset(r, 0, sizeof *r);
	r->type = type;
	r->flags = flags;
	return r;
}

static void
add_bytes(struct script *s, uint8_t type, uint8_t flags, const void *p, size_t n)
{
	pk_buf_add(&add_rec(s, type, flags)->pay, p, n);
}

static void
script_release(struct script *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		pk_buf_release(&s->v[i].pay);
	s->n = 0;
}

static void
raw_header(struct pk_buf *b, uint32_t version, uint32_t flags, uint32_t min,
    uint32_t avg, uint32_t max, uint32_t reserved)
{
	pk_buf_add(b, "PKSTREAM", 8);
	pk_buf_add_u32(b, version);
	pk_buf_add_u32(b, flags);
	pk_buf_add_u32(b, min);
	pk_buf_add_u32(b, avg);
	pk_buf_add_u32(b, max);
	pk_buf_add_u32(b, reserved);
}

static void
raw_record(struct pk_buf *b, uint8_t type, uint8_t flags, uint16_t zero,
    uint32_t len, const void *p, size_t n)
{
	pk_buf_add_u8(b, type);
	pk_buf_add_u8(b, flags);
	pk_buf_add_u16(b, zero);
	pk_buf_add_u32(b, len);
	pk_buf_add(b, p, n);
}

/* The END checksum of the stream in b so far, as pk-stream(5) defines it:
 * with PK_STREAM_IDS_COVER_DATA, the data of CHUNK records is left out. */
static uint64_t
raw_sum(const struct pk_buf *b)
{
	XXH3_state_t *x;
	size_t off = PK_STREAM_HEADER_BYTES, len, cov;
	uint64_t sum;

	if (b->len < PK_STREAM_HEADER_BYTES ||
	    !(pk_load_u32(b->data + 12) & PK_STREAM_IDS_COVER_DATA))
		return XXH3_64bits(b->data, b->len);
	x = XXH3_createState();
	XXH3_64bits_reset(x);
	XXH3_64bits_update(x, b->data, PK_STREAM_HEADER_BYTES);
	while (off < b->len) {
		len = off + PK_RECORD_HEADER_BYTES <= b->len ?
		    pk_load_u32(b->data + off + 4) : 0;
		cov = b->data[off] == PK_REC_CHUNK && len > PK_ID_BYTES ?
		    PK_ID_BYTES : len;
		cov += PK_RECORD_HEADER_BYTES;
		XXH3_64bits_update(x, b->data + off,
		    cov < b->len - off ? cov : b->len - off);
		off += PK_RECORD_HEADER_BYTES + len;
	}
	sum = XXH3_64bits_digest(x);
	XXH3_freeState(x);
	return sum;
}

/* END: the record count, its own offset, the checksum of all before it. */
static void
raw_end(struct pk_buf *b, uint64_t nrec)
{
	uint64_t sum = raw_sum(b), off = b->len;

	raw_record(b, PK_REC_END, 0, 0, 24, NULL, 0);
	pk_buf_add_u64(b, nrec);
	pk_buf_add_u64(b, off);
	pk_buf_add_u64(b, sum);
}

static void
raw_stream(const struct script *s, struct pk_buf *b)
{
	size_t i;

	raw_header(b, PK_STREAM_VERSION, s->h.flags, s->h.chunk_min,
	    s->h.chunk_avg, s->h.chunk_max, 0);
	for (i = 0; i < s->n; i++)
		raw_record(b, s->v[i].type, s->v[i].flags, 0,
		    (uint32_t)s->v[i].pay.len, s->v[i].pay.data, s->v[i].pay.len);
	raw_end(b, s->n);
}

/* Payloads, by hand. */

static void
pay_entry(struct pk_buf *b, const struct pk_entry *e)
{
	uint32_t i;

	pk_buf_add_u8(b, e->type);
	pk_buf_add_u8(b, 0);
	pk_buf_add_u16(b, 0);
	pk_buf_add_u32(b, e->mode);
	pk_buf_add_u32(b, e->uid);
	pk_buf_add_u32(b, e->gid);
	pk_buf_add_u64(b, e->size);
	pk_buf_add_u64(b, (uint64_t)e->mtime_sec);
	pk_buf_add_u32(b, e->mtime_nsec);
	pk_buf_add_u64(b, (uint64_t)e->ctime_sec);
	pk_buf_add_u32(b, e->ctime_nsec);
	pk_buf_add_u64(b, e->dev);
	pk_buf_add_u64(b, e->ino);
	pk_buf_add_u32(b, e->nlink);
	pk_buf_add_u32(b, e->rdev_major);
	pk_buf_add_u32(b, e->rdev_minor);
	pk_buf_add_str(b, e->path.p, e->path.len);
	pk_buf_add_str(b, e->link.p, e->link.len);
	pk_buf_add_str(b, e->uname.p, e->uname.len);
	pk_buf_add_str(b, e->gname.p, e->gname.len);
	pk_buf_add_u32(b, e->nxattrs);
	for (i = 0; i < e->nxattrs; i++) {
		pk_buf_add_str(b, e->xattrs[i].name.p, e->xattrs[i].name.len);
		pk_buf_add_str(b, e->xattrs[i].value.p, e->xattrs[i].value.len);
	}
}

static void
add_entry(struct script *s, const struct pk_entry *e)
{
	pay_entry(&add_rec(s, PK_REC_ENTRY, 0)->pay, e);
}

static void
add_hole(struct script *s, uint64_t n)
{
	pk_buf_add_u64(&add_rec(s, PK_REC_HOLE, 0)->pay, n);
}

static void
add_ref(struct script *s, const uint8_t id[32], uint32_t len)
{
	struct rec *r = add_rec(s, PK_REC_REF, 0);

	pk_buf_add(&r->pay, id, 32);
	pk_buf_add_u32(&r->pay, len);
}

static void
add_eof(struct script *s, uint64_t size, uint32_t flags)
{
	struct rec *r = add_rec(s, PK_REC_EOF, 0);

	pk_buf_add_u64(&r->pay, size);
	pk_buf_add_u32(&r->pay, flags);
	pk_buf_add_u32(&r->pay, 0);
}

static void
add_error(struct script *s, uint32_t errnum, const char *path, size_t plen,
    const char *msg)
{
	struct rec *r = add_rec(s, PK_REC_ERROR, 0);

	pk_buf_add_u32(&r->pay, errnum);
	pk_buf_add_str(&r->pay, path, plen);
	pk_buf_add_str(&r->pay, msg, strlen(msg));
}

static void
add_chunk(struct script *s, const uint8_t *p, size_t n)
{
	struct rec *r = add_rec(s, PK_REC_CHUNK, 0);
	uint8_t id[PK_ID_BYTES];

	pk_hash_id(id, p, n);
	pk_buf_add(&r->pay, id, sizeof id);
	pk_buf_add(&r->pay, p, n);
}

/* The same list through pk_writer and its payload helpers. */
/* A WALK record of a script through the decoder and the encoder. */
static int
rewrite_origin(struct pk_writer *w, const struct rec *r)
{
	struct pk_record rec = { r->type, r->flags, (uint32_t)r->pay.len,
	    r->pay.data, (uint32_t)r->pay.len };
	struct pk_buf roots = PK_BUF_INIT;
	struct pk_origin o;
	int e;

	if ((e = pk_record_origin(&rec, &o, &roots)) == 0)
		e = pk_write_origin(w, &o);
	pk_buf_release(&roots);
	return e;
}

static int
write_script(const struct script *s, struct pk_writer *w)
{
	const struct rec *r;
	const uint8_t *p;
	char *msg;
	size_t i;
	uint32_t plen;
	int e = 0;

	for (i = 0; i < s->n && e == 0; i++) {
		r = &s->v[i];
		p = r->pay.data;
		if (r->flags && r->type == PK_REC_WALK) {
			e = rewrite_origin(w, r);
			continue;
		}
		if (r->flags && r->type == PK_REC_TOTAL) {
			e = pk_write_total(w, pk_load_u64(p), pk_load_u64(p + 8));
			continue;
		}
		if (r->flags) {
			e = pk_writer_put(w, r->type, r->flags, p, r->pay.len);
			continue;
		}
		switch (r->type) {
		case PK_REC_HOLE:
			e = pk_write_hole(w, pk_load_u64(p));
			break;
		case PK_REC_REF:
			e = pk_write_ref(w, p, pk_load_u32(p + 32));
			break;
		case PK_REC_EOF:
			e = pk_write_eof(w, pk_load_u64(p), pk_load_u32(p + 8));
			break;
		case PK_REC_ERROR:
			plen = pk_load_u32(p + 4);
			msg = strndup((const char *)p + 12 + plen,
			    pk_load_u32(p + 8 + plen));
			e = pk_write_error(w, (int)pk_load_u32(p),
			    (const char *)p + 8, plen, msg);
			free(msg);
			break;
		case PK_REC_CHUNK:
			e = pk_writer_put2(w, r->type, 0, p, PK_ID_BYTES,
			    p + PK_ID_BYTES, r->pay.len - PK_ID_BYTES);
			break;
		default:
			e = pk_writer_put(w, r->type, 0, p, r->pay.len);
		}
	}
	return e ? e : pk_writer_end(w);
}

static int
writer_bytes(const struct script *s, struct pk_buf *out)
{
	struct pk_writer *w;
	int e;

	if ((e = pk_writer_new_sink(&w, unit_sink, out, &s->h)) < 0)
		return e;
	e = write_script(s, w);
	pk_writer_free(w);
	return e;
}

/* Reading. */

struct src {
	const uint8_t *p;
	size_t len, pos;
	size_t step;		/* at most this many bytes a call; 0: any */
	int random;		/* 1 + rand % step a call */
	unsigned long long seed;
	size_t fail_at;		/* -EIO once pos reaches it; 0: never */
	size_t calls;
};

static ssize_t
src_read(void *arg, void *p, size_t n)
{
	struct src *s = arg;
	size_t k = s->len - s->pos;

	s->calls++;
	if (s->fail_at && s->pos >= s->fail_at)
		return pk_err(-EIO, "source: injected error");
	if (s->step) {
		size_t m = s->random ? 1 + unit_rand(&s->seed) % s->step : s->step;
		k = k < m ? k : m;
	}
	k = k < n ? k : n;
	memcpy(p, s->p + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

/* What a reader should return: type, flags, len, number, offset, SHA-256. */
static void
digest_add(struct pk_buf *d, uint8_t type, uint8_t flags, const uint8_t *p,
    uint32_t len, uint64_t recno, uint64_t off)
{
	uint8_t sum[32];

	pk_hash_id(sum, p, len);
	pk_buf_add_u8(d, type);
	pk_buf_add_u8(d, flags);
	pk_buf_add_u32(d, len);
	pk_buf_add_u64(d, recno);
	pk_buf_add_u64(d, off);
	pk_buf_add(d, sum, sizeof sum);
}

static void
script_digest(const struct script *s, struct pk_buf *d)
{
	uint64_t off = PK_STREAM_HEADER_BYTES;
	size_t i;

	for (i = 0; i < s->n; i++) {
		digest_add(d, s->v[i].type, s->v[i].flags, s->v[i].pay.data,
		    (uint32_t)s->v[i].pay.len, i, off);
		off += PK_RECORD_HEADER_BYTES + s->v[i].pay.len;
	}
}

/* Reads a stream to its end: 0 after a clean end, or the first error. */
static int
read_reader(struct pk_reader *r, struct pk_stream_header *h, struct pk_buf *d)
{
	struct pk_record rec;
	int e;

	if ((e = pk_reader_header(r, h)) < 0)
		return e;
	while ((e = pk_reader_next(r, &rec)) > 0)
		if (d)
			digest_add(d, rec.type, rec.flags, rec.data, rec.len,
			    pk_reader_recno(r), pk_reader_offset(r));
	return e;
}

static int
read_src(struct src *s, struct pk_stream_header *h, struct pk_buf *d)
{
	struct pk_stream_header tmp;
	struct pk_reader *r;
	int e;

	if ((e = pk_reader_new_source(&r, src_read, s, "test")) < 0)
		return e;
	e = read_reader(r, h ? h : &tmp, d);
	pk_reader_free(r);
	return e;
}

static int
read_bytes(const uint8_t *p, size_t n, struct pk_buf *d)
{
	struct src s = { p, n, 0, 0, 0, 0, 0, 0 };

	return read_src(&s, NULL, d);
}

static int
same(const struct pk_buf *a, const struct pk_buf *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

/* The streams. */

static const char odd_name[] = "dir/caf\xc3\xa9\n\xff name";

static const struct pk_xattr dir_xattrs[] = {
	{ { (const uint8_t *)"user.comment", 12 }, { (const uint8_t *)"a dir", 5 } },
};
static const struct pk_xattr reg_xattrs[] = {
	{ { (const uint8_t *)"user.bin", 8 }, { (const uint8_t *)"\0\xff\n", 3 } },
	{ { (const uint8_t *)"security.selinux", 16 },
	  { (const uint8_t *)"system_u:object_r:etc_t:s0\0", 27 } },
	{ { (const uint8_t *)"user.empty", 10 }, { (const uint8_t *)"", 0 } },
};

#define S(x) { (const uint8_t *)(x), sizeof(x) - 1 }

/* One entry of each type, with every field set. */
static void
sample_entries(struct pk_entry e[8])
{
	static const struct pk_str odd = { (const uint8_t *)odd_name,
	    sizeof odd_name - 1 };
	int i;

	memset(e, 0, 8 * sizeof *e);
	for (i = 0; i < 8; i++) {
		e[i].type = (uint8_t)(i + 1);
		e[i].uid = 1000 + (uint32_t)i;
		e[i].gid = 100;
		e[i].mtime_sec = 1700000000 + i;
		e[i].mtime_nsec = 123456789;
		e[i].ctime_sec = 1700000100 + i;
		e[i].ctime_nsec = 999999999;
		e[i].dev = 0x803;
		e[i].ino = 2 + (uint64_t)i;
		e[i].nlink = 1;
		e[i].uname = (struct pk_str)S("alice");
		e[i].gname = (struct pk_str)S("staff");
	}
	e[0].type = PK_FT_REG;
	e[0].path = odd;
	e[0].mode = 0644;
	e[0].size = 5 + 4096 + 100;
	e[0].nlink = 2;
	e[0].ino = 0xffffffffffffffffull;
	e[0].nxattrs = 3;
	e[0].xattrs = (struct pk_xattr *)reg_xattrs;
	e[1].type = PK_FT_DIR;
	e[1].path = (struct pk_str)S("dir");
	e[1].mode = 01777;
	e[1].nlink = 3;
	e[1].nxattrs = 1;
	e[1].xattrs = (struct pk_xattr *)dir_xattrs;
	e[2].path = (struct pk_str)S("dir/link");
	e[2].link = (struct pk_str)S("../target\xff/x");
	e[2].mode = 0777;
	e[2].mtime_sec = -86400;
	e[2].uname = (struct pk_str)S("");
	e[2].gname = (struct pk_str)S("");
	e[3].path = (struct pk_str)S("dir/hard");
	e[3].link = odd;
	e[3].nlink = 2;
	e[4].path = (struct pk_str)S("dev/null");
	e[4].mode = 0666;
	e[4].rdev_major = 1;
	e[4].rdev_minor = 3;
	e[5].path = (struct pk_str)S("dev/sda");
	e[5].mode = 0660;
	e[5].uid = 0;
	e[5].gname = (struct pk_str)S("disk");
	e[5].rdev_major = 8;
	e[5].rdev_minor = 0xfffff;
	e[6].path = (struct pk_str)S("run/fifo");
	e[6].mode = 0600;
	e[7].path = (struct pk_str)S("run/sock");
	e[7].mode = 07777;
}

/* stream-valid-empty: a header and END. */
static void
stream_empty(struct script *s)
{
	memset(s, 0, sizeof *s);
}

/* stream-valid-entries: one entry of each type; a file's data and hole. */
static void
stream_entries(struct script *s)
{
	struct pk_entry e[8];
	uint8_t data[100];
	int i;

	memset(s, 0, sizeof *s);
	sample_entries(e);
	unit_fill(data, sizeof data, 1);
	for (i = 0; i < 8; i++) {
		add_entry(s, &e[i]);
		if (e[i].type == PK_FT_REG) {
			add_bytes(s, PK_REC_DATA, 0, "hello", 5);
			add_hole(s, 4096);
			add_bytes(s, PK_REC_DATA, 0, data, sizeof data);
			add_eof(s, e[i].size, 0);
		}
	}
}

/* stream-valid-chunked: a chunked file from a pipe, an error, a record
 * of a later version marked ignorable. */
static void
stream_chunked(struct script *s)
{
	static const struct pk_entry pipe_entry = {
		.type = PK_FT_REG, .mode = 0600, .size = PK_SIZE_UNKNOWN,
		.mtime_sec = 1, .ctime_sec = 2, .nlink = 1,
		.path = S("db.dump"), .uname = S("root"), .gname = S("root"),
	};
	uint8_t data[1000], id[32];

	memset(s, 0, sizeof *s);
	s->h.chunk_min = 2048;
	s->h.chunk_avg = 8192;
	s->h.chunk_max = 65536;
	unit_fill(data, sizeof data, 2);
	add_entry(s, &pipe_entry);
	add_chunk(s, data, sizeof data);
	pk_hash_id(id, "elsewhere", 9);
	add_ref(s, id, 5000);
	add_hole(s, 1u << 20);
	add_chunk(s, data, 1);
	add_eof(s, 1000 + 5000 + (1u << 20) + 1, PK_EOF_CHANGED);
	add_error(s, EACCES, "secret/\xff", 8, "permission denied");
	add_bytes(s, 0x40, PK_RECF_IGNORABLE, "later", 5);
}

/* A WALK payload, by hand: a path and standard input as roots. */
static void
pay_walk(struct pk_buf *b)
{
	pk_buf_add_u64(b, (uint64_t)1767225600);	/* 2026-01-01 */
	pk_buf_add_u32(b, 123456789);
	pk_buf_add_str(b, "web1.example.org", 16);
	pk_buf_add_str(b, "root", 4);
	pk_buf_add_u32(b, 2);
	pk_buf_add_u8(b, PK_ROOT_PATH);
	pk_buf_add_str(b, "/var/www/", 9);
	pk_buf_add_u8(b, PK_ROOT_STDIN);
	pk_buf_add_str(b, "db.dump", 7);
}

/* stream-valid-walk: a walk's WALK and TOTAL records, then one file. */
static void
stream_walk(struct script *s)
{
	static const struct pk_entry file = {
		.type = PK_FT_REG, .mode = 0644, .size = 5,
		.mtime_sec = 1767225000, .ctime_sec = 1767225000, .nlink = 1,
		.path = S("var/www/index.html"), .uname = S("www-data"),
		.gname = S("www-data"), .uid = 33, .gid = 33,
	};
	struct pk_buf total = PK_BUF_INIT;

	memset(s, 0, sizeof *s);
	pay_walk(&add_rec(s, PK_REC_WALK, PK_RECF_IGNORABLE)->pay);
	pk_buf_add_u64(&total, 1);
	pk_buf_add_u64(&total, 5);
	add_bytes(s, PK_REC_TOTAL, PK_RECF_IGNORABLE, total.data, total.len);
	pk_buf_release(&total);
	add_entry(s, &file);
	add_bytes(s, PK_REC_DATA, 0, "hello", 5);
	add_eof(s, 5, 0);
}

/* A stream with big records, for the read sizes. */
static void
stream_big(struct script *s, uint8_t *big, size_t bign)
{
	stream_entries(s);
	unit_fill(big, bign, 3);
	add_bytes(s, PK_REC_DATA, 0, big, PK_DATA_RECORD_BYTES);
	add_chunk(s, big, 3u << 20);
	add_bytes(s, 0x41, 0, "unknown", 7);
	if (!small)
		add_chunk(s, big, PK_RECORD_MAX_BYTES - PK_ID_BYTES);
	add_eof(s, 0, 0);
}

/* Golden files. */

struct golden {
	const char *name;
	int err;		/* what reading it returns */
};

static const struct golden valid[] = {
	{ "stream-valid-empty.pks", 0 },
	{ "stream-valid-entries.pks", 0 },
	{ "stream-valid-chunked.pks", 0 },
	{ "stream-valid-walk.pks", 0 },
	{ "stream-valid-ids-cover-data.pks", 0 },
};

static const struct golden invalid[] = {
	{ "stream-invalid-empty.pks", -EBADMSG },
	{ "stream-invalid-truncated-header.pks", -EBADMSG },
	{ "stream-invalid-truncated-record.pks", -EBADMSG },
	{ "stream-invalid-truncated-end.pks", -EBADMSG },
	{ "stream-invalid-no-end.pks", -EBADMSG },
	{ "stream-invalid-checksum.pks", -EBADMSG },
	{ "stream-invalid-end-count.pks", -EBADMSG },
	{ "stream-invalid-end-bytes.pks", -EBADMSG },
	{ "stream-invalid-end-flags.pks", -EBADMSG },
	{ "stream-invalid-after-end.pks", -EBADMSG },
	{ "stream-invalid-two-streams.pks", -EBADMSG },
	{ "stream-invalid-magic.pks", -EBADMSG },
	{ "stream-invalid-version2.pks", -EPROTO },
	{ "stream-invalid-header-flags.pks", -EBADMSG },
	{ "stream-invalid-header-reserved.pks", -EBADMSG },
	{ "stream-invalid-chunk-sizes.pks", -EBADMSG },
	{ "stream-invalid-record-flags.pks", -EBADMSG },
	{ "stream-invalid-record-reserved.pks", -EBADMSG },
	{ "stream-invalid-long-record.pks", -EBADMSG },
	{ "stream-invalid-chunk-id.pks", -EBADMSG },
};

static void
golden_script(const char *name, struct script *s)
{
	if (strstr(name, "empty"))
		stream_empty(s);
	else if (strstr(name, "entries"))
		stream_entries(s);
	else if (strstr(name, "walk"))
		stream_walk(s);
	else
		stream_chunked(s);
	if (strstr(name, "ids-cover-data"))
		s->h.flags = PK_STREAM_IDS_COVER_DATA;
}

/* The invalid streams, built by hand from the valid ones. */
static void
golden_invalid(const char *name, struct pk_buf *b)
{
	struct script s;
	struct pk_buf v = PK_BUF_INIT;
	size_t end;

	stream_chunked(&s);
	if (strstr(name, "chunk-id"))
		s.h.flags = PK_STREAM_IDS_COVER_DATA;
	raw_stream(&s, &v);
	end = v.len - PK_RECORD_HEADER_BYTES - 24;
	pk_buf_reset(b);
	if (strstr(name, "-empty"))
		;
	else if (strstr(name, "truncated-header"))
		pk_buf_add(b, v.data, 20);
	else if (strstr(name, "truncated-record"))
		pk_buf_add(b, v.data, end - 500);
	else if (strstr(name, "truncated-end"))
		pk_buf_add(b, v.data, v.len - 1);
	else if (strstr(name, "no-end"))
		pk_buf_add(b, v.data, end);
	else if (strstr(name, "checksum") || strstr(name, "chunk-id")) {
		/* A byte of the first chunk's data: outside the checksum
		 * when the ids cover the data, so its id must catch it. */
		pk_buf_add(b, v.data, v.len);
		b->data[end - 300] ^= 0x01;
	} else if (strstr(name, "end-count")) {
		pk_buf_add(b, v.data, end);
		raw_end(b, s.n + 1);
	} else if (strstr(name, "end-bytes")) {
		pk_buf_add(b, v.data, v.len);
		pk_put_u64(b->data + end + 16, end - 1);
	} else if (strstr(name, "end-flags")) {
		/* The END header is outside the checksum: its flags must be
		 * checked on their own. */
		pk_buf_add(b, v.data, v.len);
		b->data[end + 1] = PK_RECF_IGNORABLE;
	} else if (strstr(name, "after-end")) {
		pk_buf_add(b, v.data, v.len);
		pk_buf_add_u8(b, '\n');
	} else if (strstr(name, "two-streams")) {
		pk_buf_add(b, v.data, v.len);
		pk_buf_add(b, v.data, v.len);
	} else if (strstr(name, "magic")) {
		pk_buf_add(b, v.data, v.len);
		b->data[7] = 'X';
	} else {
		/* Well-formed but for one field, with a right checksum. */
		uint32_t version = 1, flags = 0, reserved = 0, min = 2048;

		if (strstr(name, "version2"))
			version = 2;
		if (strstr(name, "header-flags"))
			flags = 2;
		if (strstr(name, "header-reserved"))
			reserved = 0x80000000u;
		if (strstr(name, "chunk-sizes"))
			min = 16384;
		raw_header(b, version, flags, min, 8192, 65536, reserved);
		raw_record(b, PK_REC_DATA, 0, 0, 2, "ok", 2);
		if (strstr(name, "record-flags"))
			raw_record(b, 0x40, PK_RECF_IGNORABLE | 0x80, 0, 2, "no", 2);
		else if (strstr(name, "record-reserved"))
			raw_record(b, PK_REC_DATA, 0, 0x0100, 2, "no", 2);
		else if (strstr(name, "long-record"))
			raw_record(b, PK_REC_DATA, 0, 0, PK_RECORD_MAX_BYTES + 1,
			    NULL, 0);
		else
			raw_record(b, PK_REC_DATA, 0, 0, 2, "ok", 2);
		raw_end(b, 2);
	}
	script_release(&s);
	pk_buf_release(&v);
}

static int
write_file(const char *dir, const char *name, const struct pk_buf *b)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pk_write_all(fd, b->data, b->len) < 0) {
		perror(path);
		return 1;
	}
	close(fd);
	printf("%s: %zu bytes\n", path, b->len);
	return 0;
}

static int
write_golden(const char *dir)
{
	struct pk_buf b = PK_BUF_INIT;
	struct script s;
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof valid / sizeof *valid; i++) {
		golden_script(valid[i].name, &s);
		pk_buf_reset(&b);
		if (writer_bytes(&s, &b) < 0)
			bad = 1;
		bad |= write_file(dir, valid[i].name, &b);
		script_release(&s);
	}
	for (i = 0; i < sizeof invalid / sizeof *invalid; i++) {
		golden_invalid(invalid[i].name, &b);
		bad |= write_file(dir, invalid[i].name, &b);
	}
	pk_buf_release(&b);
	return bad;
}

static int
read_golden(const char *name, struct pk_buf *b)
{
	char path[4096];
	uint8_t *p;
	size_t n;

	snprintf(path, sizeof path, "%s/%s", GOLDEN, name);
	pk_buf_reset(b);
	if (pk_read_file(path, 1u << 20, &p, &n) < 0)
		return -1;
	pk_buf_add(b, p, n);
	free(p);
	return 0;
}

static void
test_golden(void)
{
	struct pk_buf file = PK_BUF_INIT, mine = PK_BUF_INIT;
	struct pk_buf d1 = PK_BUF_INIT, d2 = PK_BUF_INIT;
	char name[256];
	struct script s;
	size_t i;
	int e, all = 1;

	for (i = 0; i < sizeof valid / sizeof *valid; i++) {
		golden_script(valid[i].name, &s);
		snprintf(name, sizeof name, "golden %s: present", valid[i].name);
		CHECK(name, read_golden(valid[i].name, &file) == 0);
		pk_buf_reset(&mine);
		writer_bytes(&s, &mine);
		snprintf(name, sizeof name, "golden %s: pk_writer reproduces "
		    "its bytes", valid[i].name);
		CHECK(name, same(&file, &mine));
		pk_buf_reset(&mine);
		raw_stream(&s, &mine);
		snprintf(name, sizeof name, "golden %s: the hand encoder "
		    "reproduces its bytes", valid[i].name);
		CHECK(name, same(&file, &mine));
		pk_buf_reset(&d1);
		pk_buf_reset(&d2);
		script_digest(&s, &d1);
		e = read_bytes(file.data, file.len, &d2);
		snprintf(name, sizeof name, "golden %s: decodes to its records",
		    valid[i].name);
		CHECK(name, e == 0 && same(&d1, &d2));
		script_release(&s);
	}
	for (i = 0; i < sizeof invalid / sizeof *invalid; i++) {
		snprintf(name, sizeof name, "golden %s: present", invalid[i].name);
		CHECK(name, read_golden(invalid[i].name, &file) == 0);
		golden_invalid(invalid[i].name, &mine);
		all &= same(&file, &mine);
		e = read_bytes(file.data, file.len, NULL);
		snprintf(name, sizeof name, "golden %s: refused with %s",
		    invalid[i].name, invalid[i].err == -EPROTO ? "EPROTO" :
		    "EBADMSG");
		CHECK(name, e == invalid[i].err);
	}
	CHECK("golden invalid streams: the generator reproduces them", all);
	pk_buf_release(&file);
	pk_buf_release(&mine);
	pk_buf_release(&d1);
	pk_buf_release(&d2);
}

/* Round trips and read sizes. */

static void
test_round_trip(void)
{
	struct pk_buf w = PK_BUF_INIT, raw = PK_BUF_INIT, exp = PK_BUF_INIT;
	struct pk_buf got = PK_BUF_INIT;
	struct pk_stream_header h;
	static const struct { size_t step; int random; const char *name; } sizes[] = {
		{ 0, 0, "whole" }, { 1, 0, "1 byte" }, { 7, 0, "7 bytes" },
		{ 4096, 0, "4096 bytes" }, { 65536, 0, "65536 bytes" },
		{ 100, 1, "random 1..100" }, { 3u << 20, 1, "random 1..3M" },
	};
	size_t bign = PK_RECORD_MAX_BYTES, i;
	uint8_t *big = malloc(bign);
	struct script s;
	char name[128];
	int e;

	stream_big(&s, big, bign);
	s.h.chunk_min = 64;
	s.h.chunk_avg = 128;
	s.h.chunk_max = 1u << 24;
	CHECK("writer: big stream written", writer_bytes(&s, &w) == 0);
	raw_stream(&s, &raw);
	CHECK("writer: bytes equal the hand encoder's", same(&w, &raw));
	script_digest(&s, &exp);
	for (i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		struct src src = { w.data, w.len, 0, sizes[i].step, sizes[i].random,
		    42 + i, 0, 0 };

		pk_buf_reset(&got);
		memset(&h, 0, sizeof h);
		e = read_src(&src, &h, &got);
		snprintf(name, sizeof name, "reader: reads of %s give the same "
		    "records, numbers and offsets", sizes[i].name);
		CHECK(name, e == 0 && same(&got, &exp));
		if (i == 0)
			CHECK("reader: header fields", h.version == 1 &&
			    h.flags == 0 && h.chunk_min == 64 &&
			    h.chunk_avg == 128 && h.chunk_max == 1u << 24);
	}
	/* A record of exactly the largest size, and one byte more. */
	if (!small) {
		struct pk_writer *wr;

		pk_buf_reset(&raw);
		pk_writer_new_sink(&wr, unit_sink, &raw, NULL);
		CHECK("writer: a record of PK_RECORD_MAX_BYTES is accepted",
		    pk_writer_put(wr, PK_REC_DATA, 0, big, PK_RECORD_MAX_BYTES) == 0);
		CHECK("writer: a record longer than PK_RECORD_MAX_BYTES is "
		    "refused with EMSGSIZE", pk_writer_put2(wr, PK_REC_CHUNK, 0,
		    big, PK_ID_BYTES, big, PK_RECORD_MAX_BYTES - PK_ID_BYTES + 1) ==
		    -EMSGSIZE);
		CHECK("writer: the stream ends after a refused record",
		    pk_writer_end(wr) == 0);
		pk_writer_free(wr);
		CHECK("reader: a record of PK_RECORD_MAX_BYTES is read",
		    read_bytes(raw.data, raw.len, NULL) == 0);
	}
	pk_buf_release(&w);
	pk_buf_release(&raw);
	pk_buf_release(&exp);
	pk_buf_release(&got);
	script_release(&s);
	free(big);
}

/* Through a file descriptor, pk_writer_new / pk_reader_new. */
static void
test_fd(void)
{
	struct pk_buf mem = PK_BUF_INIT, exp = PK_BUF_INIT, got = PK_BUF_INIT;
	const char *path = SCRATCH "/stream.pks";
	struct pk_writer *w;
	struct pk_reader *r;
	struct pk_stream_header h;
	struct script s;
	uint8_t *p = NULL;
	size_t n = 0;
	int fd, e;

	stream_chunked(&s);
	writer_bytes(&s, &mem);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	e = pk_writer_new(&w, fd, &s.h);
	if (e == 0) {
		e = write_script(&s, w);
		CHECK("fd writer: pk_writer_bytes counts the stream",
		    pk_writer_bytes(w) == mem.len);
		pk_writer_free(w);
	}
	close(fd);
	pk_read_file(path, 1u << 20, &p, &n);
	CHECK("fd writer: same bytes as the sink writer", e == 0 &&
	    n == mem.len && memcmp(p, mem.data, n) == 0);
	free(p);
	fd = open(path, O_RDONLY);
	e = pk_reader_new(&r, fd, "stream.pks");
	script_digest(&s, &exp);
	if (e == 0) {
		e = read_reader(r, &h, &got);
		CHECK("fd reader: records read back", e == 0 && same(&got, &exp));
		CHECK("fd reader: pk_reader_bytes counts the file",
		    pk_reader_bytes(r) == mem.len);
		CHECK("fd reader: pk_reader_name", !strcmp(pk_reader_name(r),
		    "stream.pks"));
		pk_reader_free(r);
	}
	close(fd);
	pk_buf_release(&mem);
	pk_buf_release(&exp);
	pk_buf_release(&got);
	script_release(&s);
}

static int
sink_fail(void *arg, const void *p, size_t n)
{
	return -ENOSPC;
}

static void
test_reader_misc(void)
{
	struct pk_buf b = PK_BUF_INIT, d = PK_BUF_INIT;
	struct pk_stream_header h;
	struct pk_record rec;
	struct pk_reader *r;
	struct pk_writer *w;
	struct script s;
	struct src src;
	char tmp[8];
	int e, k, n;

	stream_chunked(&s);
	writer_bytes(&s, &b);
	src = (struct src){ b.data, b.len, 0, 0, 0, 0, 0, 0 };
	pk_reader_new_source(&r, src_read, &src, "test");
	CHECK("reader: next before header is refused",
	    pk_reader_next(r, &rec) == -EINVAL);
	pk_reader_header(r, &h);
	for (n = 0; (e = pk_reader_next(r, &rec)) > 0; n++)
		;
	CHECK("reader: clean end after the records", e == 0 && n == (int)s.n);
	CHECK("reader: next after the end returns 0 again",
	    pk_reader_next(r, &rec) == 0 && pk_reader_next(r, &rec) == 0);
	pk_reader_free(r);

	/* The unknown type without the ignorable flag is returned: the
	 * consumer decides. */
	pk_buf_reset(&b);
	raw_header(&b, 1, 0, 0, 0, 0, 0);
	raw_record(&b, 0x5a, 0, 0, 3, "abc", 3);
	raw_record(&b, 0x5b, PK_RECF_IGNORABLE, 0, 0, NULL, 0);
	raw_end(&b, 2);
	src = (struct src){ b.data, b.len, 0, 0, 0, 0, 0, 0 };
	pk_reader_new_source(&r, src_read, &src, "test");
	pk_reader_header(r, &h);
	k = pk_reader_next(r, &rec);
	CHECK("reader: unknown type without the ignorable flag is returned",
	    k == 1 && rec.type == 0x5a && rec.flags == 0 && rec.len == 3 &&
	    !memcmp(rec.data, "abc", 3));
	k = pk_reader_next(r, &rec);
	CHECK("reader: unknown ignorable empty record is returned",
	    k == 1 && rec.type == 0x5b && rec.flags == PK_RECF_IGNORABLE &&
	    rec.len == 0);
	CHECK("reader: then a clean end", pk_reader_next(r, &rec) == 0);
	pk_reader_free(r);
	CHECK("record type names", !strcmp(pk_record_type_name(PK_REC_CHUNK, tmp),
	    "CHUNK") && !strcmp(pk_record_type_name(PK_REC_END, tmp), "END") &&
	    !strcmp(pk_record_type_name(0x5a, tmp), "0x5a"));

	/* Every reserved bit of a record header, with a right checksum. */
	for (n = 1, e = 1; n < 256; n++) {
		pk_buf_reset(&b);
		raw_header(&b, 1, 0, 0, 0, 0, 0);
		raw_record(&b, 0x5a, (uint8_t)n, 0, 0, NULL, 0);
		raw_end(&b, 1);
		k = read_bytes(b.data, b.len, NULL);
		e &= n == PK_RECF_IGNORABLE ? k == 0 : k == -EBADMSG;
	}
	CHECK("reader: every record flag but IGNORABLE is refused", e);
	for (n = 0, e = 1; n < 16; n++) {
		pk_buf_reset(&b);
		raw_header(&b, 1, 0, 0, 0, 0, 0);
		raw_record(&b, PK_REC_DATA, 0, (uint16_t)(1u << n), 0, NULL, 0);
		raw_end(&b, 1);
		e &= read_bytes(b.data, b.len, NULL) == -EBADMSG;
	}
	CHECK("reader: every reserved header bit is refused", e);

	/* Errors name the record and its offset. */
	pk_buf_reset(&b);
	raw_header(&b, 1, 0, 0, 0, 0, 0);
	raw_record(&b, PK_REC_DATA, 0, 0, 3, "abc", 3);
	raw_record(&b, PK_REC_DATA, 0x04, 0, 0, NULL, 0);
	raw_end(&b, 2);
	pk_err_clear();
	e = read_bytes(b.data, b.len, NULL);
	CHECK("reader: the error names the record number and byte offset",
	    e == -EBADMSG && strstr(pk_errmsg(e), "record 1 at byte 43") != NULL);

	/* Too long: refused from its header, before its payload is read. */
	pk_buf_reset(&b);
	raw_header(&b, 1, 0, 0, 0, 0, 0);
	raw_record(&b, PK_REC_DATA, 0, 0, 0xffffffffu, NULL, 0);
	pk_buf_reserve(&b, 64u << 20);
	memset(b.data + b.len, 0, (64u << 20));
	b.len += 64u << 20;
	src = (struct src){ b.data, b.len, 0, 4096, 0, 0, 0, 0 };
	pk_reader_new_source(&r, src_read, &src, "test");
	pk_reader_header(r, &h);
	k = pk_reader_next(r, &rec);
	CHECK("reader: a 4 GiB record is refused from its header",
	    k == -EBADMSG && pk_reader_bytes(r) <= 8192);
	pk_reader_free(r);
	b.len = PK_STREAM_HEADER_BYTES;
	raw_record(&b, PK_REC_DATA, 0, 0, PK_RECORD_MAX_BYTES + 1, NULL, 0);
	b.len += PK_RECORD_MAX_BYTES + 1;	/* zeros */
	raw_end(&b, 1);
	src = (struct src){ b.data, b.len, 0, 4096, 0, 0, 0, 0 };
	pk_reader_new_source(&r, src_read, &src, "test");
	pk_reader_header(r, &h);
	k = pk_reader_next(r, &rec);
	CHECK("reader: PK_RECORD_MAX_BYTES + 1 is refused before its payload "
	    "is read", k == -EBADMSG && pk_reader_bytes(r) <= 8192);
	pk_reader_free(r);

	/* A failing source, a failing sink. */
	pk_buf_reset(&b);
	writer_bytes(&s, &b);
	src = (struct src){ b.data, b.len, 0, 100, 0, 0, b.len / 2, 0 };
	CHECK("reader: a source error is returned", read_src(&src, NULL, &d) ==
	    -EIO);
	pk_writer_new_sink(&w, sink_fail, NULL, NULL);
	pk_writer_put(w, PK_REC_DATA, 0, "x", 1);
	CHECK("writer: a sink error is returned by pk_writer_end",
	    pk_writer_end(w) == -ENOSPC);
	pk_writer_free(w);

	/* Bad headers. */
	pk_buf_reset(&b);
	raw_header(&b, 0, 0, 0, 0, 0, 0);
	raw_end(&b, 0);
	CHECK("reader: version 0 is refused with EPROTO",
	    read_bytes(b.data, b.len, NULL) == -EPROTO);
	b.data[8] = 0xff;
	b.data[11] = 0xff;
	CHECK("reader: version 0xff0000ff is refused with EPROTO",
	    read_bytes(b.data, b.len, NULL) == -EPROTO);
	pk_buf_reset(&b);
	raw_header(&b, 1, 0, 2048, 8192, PK_RECORD_MAX_BYTES, 0);
	raw_end(&b, 0);
	CHECK("reader: chunk_max above the largest chunk is refused",
	    read_bytes(b.data, b.len, NULL) == -EBADMSG);
	pk_buf_reset(&b);
	raw_header(&b, 1, 0, 2048, 8192, PK_CHUNK_MAX_LIMIT, 0);
	raw_end(&b, 0);
	CHECK("reader: chunk_max of PK_CHUNK_MAX_LIMIT is accepted",
	    read_bytes(b.data, b.len, NULL) == 0);

	pk_buf_release(&b);
	pk_buf_release(&d);
	script_release(&s);
}

/* Every byte of a small stream flipped, and every truncation. */
static void
test_corruption(void)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	struct pk_buf b = PK_BUF_INIT, c = PK_BUF_INIT;
	size_t i, m, accepted = 0, clean = 0, total = 0;
	struct script s;
	int e;

	stream_entries(&s);
	add_bytes(&s, 0x40, PK_RECF_IGNORABLE, "x", 1);
	writer_bytes(&s, &b);
	CHECK("corruption: the unmodified stream reads",
	    read_bytes(b.data, b.len, NULL) == 0);
	for (i = 0; i < b.len; i++) {
		for (m = 0; m < sizeof masks; m++) {
			b.data[i] ^= masks[m];
			e = read_bytes(b.data, b.len, NULL);
			b.data[i] ^= masks[m];
			total++;
			if (e >= 0) {
				accepted++;
				printf("# flip of byte %zu by 0x%02x accepted\n",
				    i, masks[m]);
			}
		}
	}
	CHECK("corruption: every flip of every byte (header, record headers, "
	    "payloads, END) is refused", accepted == 0 && total == 3 * b.len);
	for (i = 0; i < b.len; i++) {
		e = read_bytes(b.data, i, NULL);
		if (e >= 0) {
			clean++;
			printf("# truncation at %zu reads cleanly\n", i);
		}
	}
	CHECK("corruption: truncation at every offset is an error", clean == 0);
	for (i = 1, clean = 0; i < 64; i++) {
		pk_buf_reset(&c);
		pk_buf_add(&c, b.data, b.len);
		pk_buf_reserve(&c, i);
		memset(c.data + c.len, 0, i);
		c.len += i;
		clean += read_bytes(c.data, c.len, NULL) != -EBADMSG;
	}
	CHECK("corruption: 1 to 63 zero bytes after END are an error",
	    clean == 0);
	pk_buf_release(&b);
	pk_buf_release(&c);
	script_release(&s);
}

/* Payload helpers. */

/* WALK and TOTAL: decoded fields, and what a decoder refuses. */
static void
test_origin(void)
{
	static const struct { const char *name; size_t at; uint8_t byte; } bad[] = {
		{ "nanoseconds out of range", 11, 0x40 },
		{ "a NUL in the host", 16, 0 },
		{ "a root of kind 2", 44, 2 },
		{ "nroots above 1024", 41, 0x04 },
	};
	struct pk_buf p = PK_BUF_INIT, roots = PK_BUF_INIT, w = PK_BUF_INIT;
	struct pk_record rec = { PK_REC_WALK, PK_RECF_IGNORABLE, 0, NULL, 0 };
	struct pk_root r[1] = { { PK_ROOT_PATH, S("") } };
	struct pk_origin o;
	struct pk_writer *wr;
	uint64_t files, bytes;
	char name[128];
	size_t i;
	int e;

	pay_walk(&p);
	rec.data = p.data;
	rec.len = (uint32_t)p.len;
	e = pk_record_origin(&rec, &o, &roots);
	CHECK("WALK: decodes", e == 0 && o.start_sec == 1767225600 &&
	    o.start_nsec == 123456789 && o.host.len == 16 &&
	    memcmp(o.host.p, "web1.example.org", 16) == 0 &&
	    o.user.len == 4 && o.nroots == 2 &&
	    o.roots[0].kind == PK_ROOT_PATH && o.roots[0].path.len == 9 &&
	    memcmp(o.roots[0].path.p, "/var/www/", 9) == 0 &&
	    o.roots[1].kind == PK_ROOT_STDIN && o.roots[1].path.len == 7);
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		pk_buf_reset(&p);
		pay_walk(&p);
		p.data[bad[i].at] = bad[i].byte;
		rec.data = p.data;
		snprintf(name, sizeof name, "WALK: refused: %s", bad[i].name);
		CHECK(name, pk_record_origin(&rec, &o, &roots) == -EBADMSG);
	}
	pk_buf_reset(&p);
	pay_walk(&p);
	pk_buf_add_u8(&p, 0);
	rec.data = p.data;
	rec.len = (uint32_t)p.len;
	CHECK("WALK: refused: a byte after the roots",
	    pk_record_origin(&rec, &o, &roots) == -EBADMSG);
	rec.len = (uint32_t)p.len - 2;
	CHECK("WALK: refused: truncated",
	    pk_record_origin(&rec, &o, &roots) == -EBADMSG);
	pk_writer_new_sink(&wr, unit_sink, &w, NULL);
	memset(&o, 0, sizeof o);
	o.nroots = 1;
	o.roots = r;
	CHECK("WALK: an empty root is not written",
	    pk_write_origin(wr, &o) == -EINVAL);
	pk_err_clear();
	o.host = (struct pk_str)S("a\0b");
	o.nroots = 0;
	CHECK("WALK: a host with a NUL is not written",
	    pk_write_origin(wr, &o) == -EINVAL);
	pk_err_clear();
	pk_writer_free(wr);
	pk_buf_reset(&p);
	pk_buf_add_u64(&p, 7);
	pk_buf_add_u64(&p, 9);
	rec.type = PK_REC_TOTAL;
	rec.data = p.data;
	rec.len = 16;
	CHECK("TOTAL: decodes", pk_record_total(&rec, &files, &bytes) == 0 &&
	    files == 7 && bytes == 9);
	rec.len = 15;
	CHECK("TOTAL: refused: 15 bytes",
	    pk_record_total(&rec, &files, &bytes) == -EBADMSG);
	pk_buf_release(&p);
	pk_buf_release(&roots);
	pk_buf_release(&w);
}

static void
test_payloads(void)
{
	struct pk_record rec = { 0, 0, 0, NULL, 0 };
	uint8_t p[64] = { 0 }, id[32];
	const uint8_t *pid, *pdata, *ppath, *pmsg;
	struct pk_buf b = PK_BUF_INIT;
	uint64_t v;
	uint32_t len, flags;
	size_t plen, mlen;
	int errnum;

	rec.data = p;
	pk_put_u64(p, 0x0123456789abcdefull);
	rec.len = 8;
	CHECK("hole: decoded", pk_record_hole(&rec, &v) == 0 &&
	    v == 0x0123456789abcdefull);
	rec.len = 7;
	CHECK("hole: 7 bytes refused", pk_record_hole(&rec, &v) == -EBADMSG);
	rec.len = 9;
	CHECK("hole: 9 bytes refused", pk_record_hole(&rec, &v) == -EBADMSG);

	unit_fill(id, sizeof id, 5);
	memcpy(p, id, 32);
	pk_put_u32(p + 32, 77);
	rec.len = 36;
	CHECK("ref: decoded", pk_record_ref(&rec, &pid, &len) == 0 &&
	    pid == p && len == 77);
	rec.len = 35;
	CHECK("ref: 35 bytes refused", pk_record_ref(&rec, &pid, &len) == -EBADMSG);
	rec.len = 37;
	CHECK("ref: 37 bytes refused", pk_record_ref(&rec, &pid, &len) == -EBADMSG);

	rec.len = 33;
	CHECK("chunk: id and one byte", pk_record_chunk(&rec, &pid, &pdata,
	    &len) == 0 && pid == p && pdata == p + 32 && len == 1);
	rec.len = 32;
	CHECK("chunk: an id without data is refused",
	    pk_record_chunk(&rec, &pid, &pdata, &len) == -EBADMSG);

	memset(p, 0, sizeof p);
	pk_put_u64(p, 12345);
	pk_put_u32(p + 8, PK_EOF_CHANGED);
	rec.len = 16;
	CHECK("eof: decoded", pk_record_eof(&rec, &v, &flags) == 0 &&
	    v == 12345 && flags == PK_EOF_CHANGED);
	pk_put_u32(p + 8, 2);
	CHECK("eof: unknown flag refused", pk_record_eof(&rec, &v, &flags) ==
	    -EBADMSG);
	pk_put_u32(p + 8, 0);
	p[12] = 1;
	CHECK("eof: reserved word refused", pk_record_eof(&rec, &v, &flags) ==
	    -EBADMSG);
	p[12] = 0;
	rec.len = 15;
	CHECK("eof: 15 bytes refused", pk_record_eof(&rec, &v, &flags) ==
	    -EBADMSG);

	pk_buf_add_u32(&b, 2);
	pk_buf_add_str(&b, "a\nb", 3);
	pk_buf_add_str(&b, "gone", 4);
	rec.data = b.data;
	rec.len = (uint32_t)b.len;
	CHECK("error: decoded", pk_record_error(&rec, &errnum, &ppath, &plen,
	    &pmsg, &mlen) == 0 && errnum == 2 && plen == 3 &&
	    !memcmp(ppath, "a\nb", 3) && mlen == 4 && !memcmp(pmsg, "gone", 4));
	rec.len--;
	CHECK("error: truncated refused", pk_record_error(&rec, &errnum, &ppath,
	    &plen, &pmsg, &mlen) == -EBADMSG);
	pk_buf_add_u8(&b, 0);
	rec.data = b.data;
	rec.len = (uint32_t)b.len;
	CHECK("error: trailing byte refused", pk_record_error(&rec, &errnum,
	    &ppath, &plen, &pmsg, &mlen) == -EBADMSG);
	pk_put_u32(b.data + 4, 0xffffffffu);
	CHECK("error: path length past the end refused",
	    pk_record_error(&rec, &errnum, &ppath, &plen, &pmsg, &mlen) ==
	    -EBADMSG);
	pk_buf_release(&b);
}

/* ENTRY payloads. */

static int
str_eq(struct pk_str a, struct pk_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static int
entry_eq(const struct pk_entry *a, const struct pk_entry *b)
{
	uint32_t i;

	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid ||
	    a->gid != b->gid || a->size != b->size ||
	    a->mtime_sec != b->mtime_sec || a->mtime_nsec != b->mtime_nsec ||
	    a->ctime_sec != b->ctime_sec || a->ctime_nsec != b->ctime_nsec ||
	    a->dev != b->dev || a->ino != b->ino || a->nlink != b->nlink ||
	    a->rdev_major != b->rdev_major || a->rdev_minor != b->rdev_minor ||
	    !str_eq(a->path, b->path) || !str_eq(a->link, b->link) ||
	    !str_eq(a->uname, b->uname) || !str_eq(a->gname, b->gname) ||
	    a->nxattrs != b->nxattrs)
		return 0;
	for (i = 0; i < a->nxattrs; i++)
		if (!str_eq(a->xattrs[i].name, b->xattrs[i].name) ||
		    !str_eq(a->xattrs[i].value, b->xattrs[i].value))
			return 0;
	return 1;
}

/* Encodes e, decodes it, returns the decoder's verdict. */
static int
entry_verdict(const struct pk_entry *e)
{
	struct pk_buf b = PK_BUF_INIT, x = PK_BUF_INIT;
	struct pk_entry d;
	int r;

	pk_entry_encode(e, &b);
	r = pk_entry_decode(&d, b.data, b.len, &x);
	pk_buf_release(&b);
	pk_buf_release(&x);
	return r;
}

static void
test_entry(void)
{
	struct pk_buf b = PK_BUF_INIT, raw = PK_BUF_INIT, x = PK_BUF_INIT;
	struct pk_entry e[8], d, t;
	static const char *bad_paths[] = { "", "/", "/abs", "a//b", "a/",
	    "a/./b", "a/.", "./a", "a/../b", "..", "../a", "a/..", "//", "./" };
	struct pk_xattr xa[2];
	uint8_t *big;
	size_t i, n;
	int ok, k;

	sample_entries(e);
	for (i = 0, ok = 1; i < 8; i++) {
		pk_buf_reset(&b);
		pk_buf_reset(&raw);
		ok &= pk_entry_encode(&e[i], &b) == 0;
		pay_entry(&raw, &e[i]);
		ok &= same(&b, &raw);
	}
	CHECK("entry: encoding of each type equals the hand encoder's", ok);
	for (i = 0, ok = 1; i < 8; i++) {
		pk_buf_reset(&b);
		pk_entry_encode(&e[i], &b);
		ok &= pk_entry_decode(&d, b.data, b.len, &x) == 0 &&
		    entry_eq(&d, &e[i]);
	}
	CHECK("entry: decode(encode(e)) == e for each type, all fields, "
	    "xattrs, names with 0xff and newline", ok);
	for (i = 0, ok = 1; i < 8; i++) {
		struct pk_str path;
		size_t end;

		pk_buf_reset(&b);
		pk_entry_encode(&e[i], &b);
		ok &= pk_entry_path(&path, b.data, b.len) == 0 &&
		    str_eq(path, e[i].path);
		/* Cut anywhere before the path's end: refused. */
		end = (size_t)((const uint8_t *)path.p - b.data) + path.len;
		for (n = 0; n < end; n++)
			ok &= pk_entry_path(&path, b.data, n) == -EBADMSG;
	}
	CHECK("entry: pk_entry_path reads the path alone, and refuses a "
	    "payload cut before its end", ok);

	/* Truncated at every length, and a trailing byte. */
	pk_buf_reset(&b);
	pk_entry_encode(&e[0], &b);
	for (n = 0, ok = 1; n < b.len; n++)
		ok &= pk_entry_decode(&d, b.data, n, &x) == -EBADMSG;
	CHECK("entry: every truncation is refused", ok);
	pk_buf_add_u8(&b, 0);
	CHECK("entry: a trailing byte is refused",
	    pk_entry_decode(&d, b.data, b.len, &x) == -EBADMSG);
	b.len--;
	b.data[1] = 1;
	CHECK("entry: reserved byte 1 refused",
	    pk_entry_decode(&d, b.data, b.len, &x) == -EBADMSG);
	b.data[1] = 0;
	b.data[3] = 0x80;
	CHECK("entry: reserved bytes 2-3 refused",
	    pk_entry_decode(&d, b.data, b.len, &x) == -EBADMSG);

	/* Fields out of range. */
	t = e[1];
	t.type = 0;
	CHECK("entry: type 0 refused", entry_verdict(&t) == -EBADMSG);
	t.type = PK_FT_SOCK + 1;
	CHECK("entry: type 9 refused", entry_verdict(&t) == -EBADMSG);
	t.type = 0xff;
	CHECK("entry: type 0xff refused", entry_verdict(&t) == -EBADMSG);
	t = e[1];
	t.mode = 010000;
	CHECK("entry: mode 010000 refused", entry_verdict(&t) == -EBADMSG);
	t.mode = 07777;
	CHECK("entry: mode 07777 accepted", entry_verdict(&t) == 0);
	t = e[1];
	t.mtime_nsec = 1000000000;
	CHECK("entry: mtime_nsec 1e9 refused", entry_verdict(&t) == -EBADMSG);
	t = e[1];
	t.ctime_nsec = 0xffffffffu;
	CHECK("entry: ctime_nsec 2^32-1 refused", entry_verdict(&t) == -EBADMSG);
	t = e[1];
	t.size = 1;
	CHECK("entry: a size on a directory refused",
	    entry_verdict(&t) == -EBADMSG);
	t = e[0];
	t.size = PK_SIZE_UNKNOWN;
	CHECK("entry: PK_SIZE_UNKNOWN accepted on a file", entry_verdict(&t) == 0);
	t = e[2];
	t.link = (struct pk_str){ (const uint8_t *)"", 0 };
	CHECK("entry: symlink without target refused",
	    entry_verdict(&t) == -EBADMSG);
	t.link = (struct pk_str){ (const uint8_t *)"a\0b", 3 };
	CHECK("entry: symlink target with NUL refused",
	    entry_verdict(&t) == -EBADMSG);
	t.link = (struct pk_str){ (const uint8_t *)"/abs/../x", 9 };
	CHECK("entry: absolute symlink target with .. accepted",
	    entry_verdict(&t) == 0);
	t = e[3];
	t.link = (struct pk_str){ (const uint8_t *)"/etc/passwd", 11 };
	CHECK("entry: absolute hard link target refused",
	    entry_verdict(&t) == -EBADMSG);
	t.link = (struct pk_str){ (const uint8_t *)"a/../b", 6 };
	CHECK("entry: hard link target with .. refused",
	    entry_verdict(&t) == -EBADMSG);
	for (i = 0, ok = 1; i < sizeof bad_paths / sizeof *bad_paths; i++) {
		t = e[1];
		t.path = (struct pk_str){ (const uint8_t *)bad_paths[i],
		    strlen(bad_paths[i]) };
		k = entry_verdict(&t);
		if (k != -EBADMSG)
			printf("# path \"%s\" accepted\n", bad_paths[i]);
		ok &= k == -EBADMSG;
	}
	CHECK("entry: invalid paths refused (\"\", /abs, a//b, a/../b, .., a/. ...)",
	    ok);
	t = e[1];
	t.path = (struct pk_str){ (const uint8_t *)"a\0b", 3 };
	CHECK("entry: path with NUL refused", entry_verdict(&t) == -EBADMSG);
	t.path = (struct pk_str){ (const uint8_t *)".", 1 };
	CHECK("entry: path \".\" accepted", entry_verdict(&t) == 0);

	/* Limits. */
	big = calloc(1, PK_ENTRY_MAX_XATTR + 1);
	memset(big, 'a', PK_ENTRY_MAX_NAME + 1);
	t = e[1];
	t.path = (struct pk_str){ big, PK_ENTRY_MAX_NAME };
	CHECK("entry: path of PK_ENTRY_MAX_NAME accepted", entry_verdict(&t) == 0);
	t.path.len++;
	CHECK("entry: path over PK_ENTRY_MAX_NAME refused",
	    entry_verdict(&t) == -EBADMSG);
	t = e[1];
	t.uname = (struct pk_str){ big, PK_ENTRY_MAX_NAME + 1 };
	CHECK("entry: user name over PK_ENTRY_MAX_NAME refused",
	    entry_verdict(&t) == -EBADMSG);
	xa[0].name = (struct pk_str){ big, 255 };
	xa[0].value = (struct pk_str){ big, PK_ENTRY_MAX_XATTR };
	t.uname = e[1].uname;
	t.nxattrs = 1;
	t.xattrs = xa;
	CHECK("entry: xattr of 255-byte name and 1 MiB value accepted",
	    entry_verdict(&t) == 0);
	xa[0].value.len++;
	CHECK("entry: xattr value over 1 MiB refused",
	    entry_verdict(&t) == -EBADMSG);
	xa[0].value.len--;
	xa[0].name.len++;
	CHECK("entry: xattr name of 256 bytes refused",
	    entry_verdict(&t) == -EBADMSG);
	xa[0].name = (struct pk_str){ (const uint8_t *)"", 0 };
	CHECK("entry: empty xattr name refused", entry_verdict(&t) == -EBADMSG);
	xa[0].name = (struct pk_str){ (const uint8_t *)"user.a\0b", 8 };
	CHECK("entry: xattr name with NUL refused",
	    entry_verdict(&t) == -EBADMSG);
	free(big);
	/* The xattr count: at most PK_ENTRY_MAX_XATTRS. */
	for (k = 0; k < 2; k++) {
		uint32_t count = PK_ENTRY_MAX_XATTRS + (uint32_t)k;

		pk_buf_reset(&b);
		t = e[1];
		t.nxattrs = 0;
		pk_entry_encode(&t, &b);
		pk_put_u32(b.data + b.len - 4, count);
		for (i = 0; i < count; i++) {
			pk_buf_add_str(&b, "user.x", 6);
			pk_buf_add_str(&b, "", 0);
		}
		ok = pk_entry_decode(&d, b.data, b.len, &x);
		if (k == 0)
			CHECK("entry: PK_ENTRY_MAX_XATTRS xattrs accepted", ok == 0 &&
			    d.nxattrs == count && d.xattrs[count - 1].name.len == 6);
		else
			CHECK("entry: more than PK_ENTRY_MAX_XATTRS xattrs refused",
			    ok == -EBADMSG);
	}
	CHECK("entry: type names", !strcmp(pk_ftype_name(PK_FT_HARDLINK), "hardlink") &&
	    !strcmp(pk_ftype_name(0), "?") && !strcmp(pk_ftype_name(200), "?"));
	pk_buf_release(&b);
	pk_buf_release(&raw);
	pk_buf_release(&x);
}

static void
test_path_valid(void)
{
	static const struct { const char *p; size_t n; int ok; } t[] = {
		{ ".", 1, 1 }, { "a", 1, 1 }, { "a/b", 3, 1 }, { "a/b/c", 5, 1 },
		{ "..a", 3, 1 }, { "a..", 3, 1 }, { ".a", 2, 1 }, { "a/.b", 4, 1 },
		{ "a/..b", 5, 1 }, { "...", 3, 1 }, { "a b", 3, 1 },
		{ "\xff\xfe", 2, 1 }, { "a\nb", 3, 1 }, { "a\\b", 3, 1 },
		{ "a/...", 5, 1 },
		{ "", 0, 0 }, { "/", 1, 0 }, { "/abs", 4, 0 }, { "a//b", 4, 0 },
		{ "a/", 2, 0 }, { "a/./b", 5, 0 }, { "a/.", 3, 0 }, { "./a", 3, 0 },
		{ "a/../b", 6, 0 }, { "..", 2, 0 }, { "../a", 4, 0 },
		{ "a/..", 4, 0 }, { "//", 2, 0 }, { "./", 2, 0 }, { "a\0b", 3, 0 },
		{ "\0", 1, 0 }, { "a/b/", 4, 0 }, { "./.", 3, 0 },
	};
	char name[128], shown[32];
	size_t i, j, k;

	for (i = 0; i < sizeof t / sizeof *t; i++) {
		for (j = k = 0; j < t[i].n && k + 5 < sizeof shown; j++) {
			unsigned char c = (unsigned char)t[i].p[j];

			if (c > 0x20 && c < 0x7f)
				shown[k++] = (char)c;
			else
				k += (size_t)snprintf(shown + k, sizeof shown - k,
				    "\\x%02x", c);
		}
		shown[k] = '\0';
		snprintf(name, sizeof name, "pk_path_valid(\"%s\") == %d", shown,
		    t[i].ok);
		CHECK(name, pk_path_valid((const uint8_t *)t[i].p, t[i].n) ==
		    t[i].ok);
	}
}

int
main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--golden"))
		return write_golden(argv[2]);
	small = argc == 2 && !strcmp(argv[1], "--small");
	mkdir("tests/scratch", 0755);
	mkdir(SCRATCH, 0755);
	test_golden();
	test_round_trip();
	test_fd();
	test_reader_misc();
	test_corruption();
	test_payloads();
	test_origin();
	test_entry();
	test_path_valid();
	UNIT_END();
}
