/*
 * t-dedup: pk_dedup_stream (dedup.h) on streams built in memory: a chunk
 * whose id came earlier in the stream goes on as a REF of the same id and
 * length, its first time as the same CHUNK; with a known-chunk set, its
 * chunks are REFs from the first time and the others are not; every other
 * record (ENTRY, HOLE, REF, EOF, ERROR, ignorable ones) passes unchanged;
 * the output is a checked stream and the stats add up; an id whose first
 * 16 bytes are zero is sent each time, whatever the set.  Broken input
 * (cut short, a bad checksum, an unknown record, type 0 among them, a bad
 * CHUNK) is an error and the output gets no END.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-dedup"


/* Chunk number k: its length and bytes, and its id. */
static size_t
chunk_data(uint8_t *p, unsigned k)
{
	size_t n = 100 + (k * 37) % 900;

	unit_fill(p, n, 5000 + k);
	return n;
}

static void
put_chunk(struct pk_writer *w, unsigned k)
{
	uint8_t data[1000], id[PK_ID_BYTES];
	size_t n = chunk_data(data, k);

	pk_hash_id(id, data, n);
	pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, data, n);
}

static void
chunk_id(uint8_t id[PK_ID_BYTES], unsigned k, size_t *len)
{
	uint8_t data[1000];

	*len = chunk_data(data, k);
	pk_hash_id(id, data, *len);
}

/* A stream with the chunks ks[0..n) in one file. */
static void
file_of(struct pk_writer *w, const char *path, const unsigned *ks, size_t n)
{
	uint8_t data[1000];
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < n; i++)
		size += chunk_data(data, ks[i]);
	unit_put_entry(w, PK_FT_REG, path, size);
	for (i = 0; i < n; i++)
		put_chunk(w, ks[i]);
	pk_write_eof(w, size, 0);
}

/* Runs pk_dedup_stream over in; the output to out. */
static int
dedup(const struct pk_buf *in, const struct pk_known *k, struct pk_buf *out,
    struct pk_dedup_stats *st)
{
	struct pk_stream_header h;
	struct pk_reader *r;
	struct pk_writer *w;
	struct unit_src s = { in->data, in->len };
	int e;

	pk_buf_reset(out);
	pk_reader_new_source(&r, unit_source, &s, "input");
	if ((e = pk_reader_header(r, &h)) == 0) {
		pk_writer_new_sink(&w, unit_sink, out, &h);
		e = pk_dedup_stream(r, w, k, st);
		pk_writer_free(w);
	}
	pk_reader_free(r);
	return e;
}

/* The records of a whole stream, each as type, flags, u32 length, bytes,
 * into recs; the count, or -1 when the stream does not read to its END. */
static long
records(const struct pk_buf *b, struct pk_buf *recs)
{
	struct pk_stream_header h;
	struct pk_record rec;
	struct pk_reader *r;
	struct unit_src s = { b->data, b->len };
	long n = 0;
	int k;

	pk_buf_reset(recs);
	pk_reader_new_source(&r, unit_source, &s, "output");
	if (pk_reader_header(r, &h) < 0) {
		pk_reader_free(r);
		return -1;
	}
	while ((k = pk_reader_next(r, &rec)) > 0) {
		pk_buf_add_u8(recs, rec.type);
		pk_buf_add_u8(recs, rec.flags);
		pk_buf_add_str(recs, rec.data, rec.len);
		n++;
	}
	pk_reader_free(r);
	return k < 0 ? -1 : n;
}

/* Record i of recs. */
static int
rec_at(const struct pk_buf *recs, long i, struct pk_record *rec)
{
	struct pk_cursor c;
	size_t len;

	pk_cursor_init(&c, recs->data, recs->len);
	do {
		rec->type = pk_get_u8(&c);
		rec->flags = pk_get_u8(&c);
		rec->data = pk_get_str(&c, SIZE_MAX, &len);
		rec->len = (uint32_t)len;
	} while (i-- > 0 && c.left > 0);
	return pk_cursor_ok(&c);
}

static int
is_ref(const struct pk_record *rec, unsigned k)
{
	uint8_t id[PK_ID_BYTES];
	const uint8_t *rid;
	uint32_t rlen;
	size_t len;

	chunk_id(id, k, &len);
	return rec->type == PK_REC_REF && rec->flags == 0 &&
	    pk_record_ref(rec, &rid, &rlen) == 0 && rlen == len &&
	    memcmp(rid, id, sizeof id) == 0;
}

static int
same_rec(const struct pk_record *a, const struct pk_record *b)
{
	return a->type == b->type && a->flags == b->flags && a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void
test_repeats(void)
{
	static const unsigned f1[] = { 1, 2, 1, 3, 2, 2 }, f2[] = { 3, 4, 1 };
	struct pk_buf in = PK_BUF_INIT, out = PK_BUF_INIT, ri = PK_BUF_INIT,
	    ro = PK_BUF_INIT;
	struct pk_dedup_stats st;
	struct pk_record a, b;
	struct pk_writer *w;
	uint8_t id[PK_ID_BYTES], meta[] = "meta", unk[] = "future";
	size_t len, bytes = 0, refbytes = 0, i;
	long n, m;
	int e, ok;

	w = unit_writer(&in, &unit_hdr);
	pk_writer_put(w, PK_REC_META, PK_RECF_IGNORABLE, meta, 4);	/* 0 */
	unit_put_entry(w, PK_FT_DIR, "d", 0);				/* 1 */
	file_of(w, "d/f1", f1, 6);					/* 2-9 */
	pk_write_error(w, EACCES, "d/g", 3, "Permission denied");	/* 10 */
	pk_writer_put(w, 0x30, PK_RECF_IGNORABLE, unk, 6);		/* 11 */
	chunk_id(id, 9, &len);
	unit_put_entry(w, PK_FT_REG, "d/h", 4096 + len);		/* 12 */
	pk_write_hole(w, 4096);						/* 13 */
	pk_write_ref(w, id, (uint32_t)len);				/* 14 */
	pk_write_eof(w, 4096 + len, 0);					/* 15 */
	file_of(w, "d/k", f2, 3);					/* 16-20 */
	unit_writer_end(w);
	for (i = 0; i < 6; i++)
		bytes += chunk_data((uint8_t[1000]){ 0 }, f1[i]);
	for (i = 0; i < 3; i++)
		bytes += chunk_data((uint8_t[1000]){ 0 }, f2[i]);

	e = dedup(&in, NULL, &out, &st);
	CHECK("repeats: the stream goes through", e == 0);
	n = records(&in, &ri);
	m = records(&out, &ro);
	CHECK("repeats: the output reads to a good END, as many records",
	    m == n && n == 21);
	if (m != n || n != 21)
		return;
	/* Records that are not chunks: unchanged, META and unknown ones too. */
	for (i = 0, ok = 1; i < 21; i++) {
		rec_at(&ri, (long)i, &a);
		rec_at(&ro, (long)i, &b);
		if (a.type != PK_REC_CHUNK)
			ok &= same_rec(&a, &b);
	}
	CHECK("repeats: every record but CHUNKs passes unchanged", ok);
	ok = 1;
	rec_at(&ri, 3, &a), rec_at(&ro, 3, &b), ok &= same_rec(&a, &b);
	rec_at(&ri, 4, &a), rec_at(&ro, 4, &b), ok &= same_rec(&a, &b);
	rec_at(&ri, 6, &a), rec_at(&ro, 6, &b), ok &= same_rec(&a, &b);
	CHECK("repeats: first sightings stay the same CHUNK", ok);
	ok = 1;
	rec_at(&ro, 5, &b), ok &= is_ref(&b, 1);
	rec_at(&ro, 7, &b), ok &= is_ref(&b, 2);
	rec_at(&ro, 8, &b), ok &= is_ref(&b, 2);
	CHECK("repeats: later ones in the file are REFs of id and length", ok);
	ok = 1;
	rec_at(&ro, 17, &b), ok &= is_ref(&b, 3);
	rec_at(&ro, 19, &b), ok &= is_ref(&b, 1);
	rec_at(&ri, 18, &a), rec_at(&ro, 18, &b), ok &= same_rec(&a, &b);
	CHECK("repeats: across files too; a new one in the second file stays", ok);
	refbytes = chunk_data((uint8_t[1000]){ 0 }, 1) * 2 +
	    chunk_data((uint8_t[1000]){ 0 }, 2) * 2 +
	    chunk_data((uint8_t[1000]){ 0 }, 3);
	CHECK("repeats: stats of chunks, refs and their bytes",
	    st.chunks == 9 && st.refs == 5 && st.bytes == bytes &&
	    st.ref_bytes == refbytes);
	CHECK("repeats: the output is smaller by the bytes not sent",
	    out.len < in.len && in.len - out.len == refbytes - 5 * 4);

	/* Deduplicated again: nothing more to do. */
	pk_buf_reset(&in);
	pk_buf_add(&in, out.data, out.len);
	e = dedup(&in, NULL, &out, &st);
	CHECK("repeats: a second pass changes nothing", e == 0 && st.refs == 0 &&
	    st.chunks == 4 && out.len == in.len &&
	    memcmp(out.data, in.data, in.len) == 0);
	pk_buf_release(&in);
	pk_buf_release(&out);
	pk_buf_release(&ri);
	pk_buf_release(&ro);
}

static void
test_known(void)
{
	static const unsigned f[] = { 1, 2, 3, 4, 2, 5 };
	const char *path = SCRATCH "/known";
	struct pk_buf in = PK_BUF_INIT, out = PK_BUF_INIT, ro = PK_BUF_INIT;
	uint8_t keys[3 * PK_KNOWN_KEY_BYTES], id[PK_ID_BYTES], rid[16] = "r";
	struct pk_dedup_stats st;
	struct pk_known *k;
	struct pk_writer *w;
	struct pk_record b;
	size_t len;
	int e, ok;

	/* The set: chunks 2 and 4, and one the stream does not have. */
	chunk_id(id, 2, &len);
	memcpy(keys, id, PK_KNOWN_KEY_BYTES);
	chunk_id(id, 4, &len);
	memcpy(keys + PK_KNOWN_KEY_BYTES, id, PK_KNOWN_KEY_BYTES);
	chunk_id(id, 77, &len);
	memcpy(keys + 2 * PK_KNOWN_KEY_BYTES, id, PK_KNOWN_KEY_BYTES);
	if (pk_known_add(path, rid, 0, keys, 3) < 0 ||
	    pk_known_open(&k, path, NULL, 0) < 0) {
		CHECK("known: a set", 0);
		return;
	}
	w = unit_writer(&in, &unit_hdr);
	file_of(w, "f", f, 6);
	unit_writer_end(w);
	e = dedup(&in, k, &out, &st);
	CHECK("known: the stream goes through", e == 0 && records(&out, &ro) == 8);
	ok = 1;
	rec_at(&ro, 2, &b), ok &= is_ref(&b, 2);
	rec_at(&ro, 4, &b), ok &= is_ref(&b, 4);
	rec_at(&ro, 5, &b), ok &= is_ref(&b, 2);
	CHECK("known: chunks of the set are REFs from their first sighting", ok);
	ok = 1;
	rec_at(&ro, 1, &b), ok &= b.type == PK_REC_CHUNK;
	rec_at(&ro, 3, &b), ok &= b.type == PK_REC_CHUNK;
	rec_at(&ro, 6, &b), ok &= b.type == PK_REC_CHUNK;
	CHECK("known: the others are sent", ok);
	CHECK("known: stats", st.chunks == 6 && st.refs == 3);
	e = dedup(&in, NULL, &out, &st);
	CHECK("known: without the set only the repeat is a REF",
	    e == 0 && st.refs == 1 && records(&out, &ro) == 8 &&
	    rec_at(&ro, 5, &b) == 0 && is_ref(&b, 2));
	pk_known_close(k);
	pk_buf_release(&in);
	pk_buf_release(&out);
	pk_buf_release(&ro);
}

/* A CHUNK whose id has 16 zero bytes first cannot be remembered: sent
 * every time, never lost, and no known-chunk set holds it. */
static void
test_zero_prefix(void)
{
	struct pk_buf in = PK_BUF_INIT, out = PK_BUF_INIT, ro = PK_BUF_INIT;
	uint8_t id[PK_ID_BYTES] = { 0 }, data[10] = "0123456789",
	    key[PK_KNOWN_KEY_BYTES], rid[16] = "r";
	const char *path = SCRATCH "/known-z";
	struct pk_dedup_stats st;
	struct pk_known *k;
	struct pk_writer *w;
	struct pk_record b;
	int e, ok;

	id[20] = 1;
	w = unit_writer(&in, &unit_hdr);
	unit_put_entry(w, PK_FT_REG, "z", 20);
	pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, data, 10);
	pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, data, 10);
	pk_write_eof(w, 20, 0);
	unit_writer_end(w);
	e = dedup(&in, NULL, &out, &st);
	ok = e == 0 && records(&out, &ro) == 4;
	ok = ok && rec_at(&ro, 1, &b) == 0 && b.type == PK_REC_CHUNK;
	ok = ok && rec_at(&ro, 2, &b) == 0 && b.type == PK_REC_CHUNK;
	CHECK("zero prefix: an id that cannot be remembered is sent each time",
	    ok && st.refs == 0 && st.chunks == 2);

	/* A set of one other chunk: the empty slots must not match. */
	memset(key, 0x11, sizeof key);
	if (pk_known_add(path, rid, 0, key, 1) < 0 ||
	    pk_known_open(&k, path, NULL, 0) < 0) {
		CHECK("zero prefix: a set", 0);
	} else {
		e = dedup(&in, k, &out, &st);
		ok = e == 0 && records(&out, &ro) == 4;
		ok = ok && rec_at(&ro, 1, &b) == 0 && b.type == PK_REC_CHUNK;
		ok = ok && rec_at(&ro, 2, &b) == 0 && b.type == PK_REC_CHUNK;
		CHECK("zero prefix: a known-chunk set that does not hold it "
		    "leaves it a CHUNK", ok && st.refs == 0 && st.chunks == 2);
		pk_known_close(k);
	}
	pk_buf_release(&in);
	pk_buf_release(&out);
	pk_buf_release(&ro);
}

/* Input that must not go through. */
static void
test_bad(void)
{
	static const unsigned f[] = { 1, 2, 1 };
	struct pk_buf good = PK_BUF_INIT, in = PK_BUF_INIT, out = PK_BUF_INIT,
	    ro = PK_BUF_INIT;
	struct pk_dedup_stats st;
	struct pk_writer *w;
	uint8_t junk[40] = "x";
	size_t cut, bad;
	int e;

	w = unit_writer(&good, &unit_hdr);
	file_of(w, "f", f, 3);
	unit_writer_end(w);

	for (cut = 33, bad = 0; cut < good.len; cut += 97) {
		pk_buf_reset(&in);
		pk_buf_add(&in, good.data, cut);
		e = dedup(&in, NULL, &out, &st);
		bad += e != -EBADMSG || records(&out, &ro) != -1;
	}
	CHECK("bad: a stream cut anywhere is EBADMSG, its output has no END",
	    bad == 0);
	pk_buf_reset(&in);
	pk_buf_add(&in, good.data, good.len);
	in.data[40] ^= 0x01;	/* in the ENTRY: only the checksum sees it */
	e = dedup(&in, NULL, &out, &st);
	CHECK("bad: a flipped byte fails END's checksum",
	    e == -EBADMSG && records(&out, &ro) == -1);
	pk_buf_reset(&in);
	pk_buf_add(&in, good.data, good.len);
	pk_buf_add(&in, "x", 1);
	CHECK("bad: a byte after END", dedup(&in, NULL, &out, &st) == -EBADMSG);

	w = unit_writer(&in, &unit_hdr);
	file_of(w, "f", f, 3);
	pk_writer_put(w, 0x30, 0, junk, 6);
	unit_writer_end(w);
	e = dedup(&in, NULL, &out, &st);
	CHECK("bad: ... the message names the record",
	    strstr(pk_errmsg(e), "record 5") != NULL);
	CHECK("bad: an unknown record not marked ignorable is EBADMSG",
	    e == -EBADMSG && records(&out, &ro) == -1);

	/* Type 0 is no record of version 1 either. */
	w = unit_writer(&in, &unit_hdr);
	unit_put_entry(w, PK_FT_DIR, "d", 0);
	pk_writer_put(w, 0x00, 0, junk, 2);
	unit_writer_end(w);
	e = dedup(&in, NULL, &out, &st);
	CHECK("bad: a record of type 0 not marked ignorable is EBADMSG",
	    e == -EBADMSG && records(&out, &ro) == -1);

	w = unit_writer(&in, &unit_hdr);
	unit_put_entry(w, PK_FT_REG, "f", 0);
	pk_writer_put(w, PK_REC_CHUNK, 0, junk, PK_ID_BYTES - 1);
	pk_write_eof(w, 0, 0);
	unit_writer_end(w);
	e = dedup(&in, NULL, &out, &st);
	CHECK("bad: a CHUNK shorter than its id is EBADMSG",
	    e == -EBADMSG && records(&out, &ro) == -1);
	pk_buf_release(&good);
	pk_buf_release(&in);
	pk_buf_release(&out);
	pk_buf_release(&ro);
}

/* Many chunks, most of them repeats. */
static void
test_many(void)
{
	struct pk_buf in = PK_BUF_INIT, out = PK_BUF_INIT, ro = PK_BUF_INIT;
	unsigned ks[4000];
	struct pk_dedup_stats st;
	struct pk_writer *w;
	unsigned long long seed = 42;
	size_t i;
	int e;

	for (i = 0; i < 4000; i++)
		ks[i] = (unsigned)(unit_rand(&seed) % 1500);
	w = unit_writer(&in, &unit_hdr);
	file_of(w, "big", ks, 4000);
	unit_writer_end(w);
	e = dedup(&in, NULL, &out, &st);
	{
		uint8_t seen[1500] = { 0 };
		size_t distinct = 0;

		for (i = 0; i < 4000; i++)
			if (!seen[ks[i]]++)
				distinct++;
		CHECK("many: each distinct chunk sent once",
		    e == 0 && st.chunks == 4000 && st.chunks - st.refs == distinct &&
		    records(&out, &ro) == 4002);
	}
	pk_buf_release(&in);
	pk_buf_release(&out);
	pk_buf_release(&ro);
}

int
main(void)
{
	unit_scratch(SCRATCH);
	test_repeats();
	test_known();
	test_zero_prefix();
	test_bad();
	test_many();
	UNIT_END();
}
