/*
 * Fuzz target: catalogs (pk_catalog_open_fetch, pk_catalog_select,
 * pk_catalog_next): a record stream cut into chunks, read whole and read
 * for one path through the seek table, which the target builds as a
 * writer does (pk_seekbuild_entry, pk_seekbuild_chunk).
 *
 * Input:
 *	u8	flags: 1 select a path, 2 no seek table (a version 1
 *		snapshot), 4 a seek table off by the deltas below
 *	u8	n, then n bytes: the path to select
 *	u8	k, then k u16: the lengths of the first chunks; the last
 *		chunk holds the rest of the stream
 *	i8, i8	with flag 4: added to every ENTRY's offset and record number
 *	...	the catalog stream
 *
 * A seek table off by some bytes is one a snapshot could still carry (the
 * ones its decoder would refuse are left out): a reader must not fail on
 * it other than by an error.  With a true seek table, a read for one path
 * must succeed when the whole catalog reads, and return the same ENTRYs of
 * that path and below as the whole read, in the same order.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"

#define MAX_CHUNKS	256

struct cat {
	const uint8_t *p;
	size_t n;
	uint32_t off[MAX_CHUNKS];
	const struct pk_snapshot *snap;
};

static int
fetch(void *arg, const struct pk_catalog_chunk *cc, struct pk_buf *out)
{
	struct cat *c = arg;

	pk_buf_reset(out);
	return pk_buf_add(out, c->p + c->off[cc - c->snap->catalog], cc->len);
}

/* The seek table of snap, as a writer builds it; entries the snapshot
 * decoder would refuse are dropped. */
static void
seek_table(struct pk_snapshot *snap, const uint8_t *p, size_t n,
    int64_t doff, int64_t drec)
{
	struct pk_seekbuild b = { PK_BUF_INIT, 0 };
	struct fuzz_src s = { p, n, 0 };
	struct pk_stream_header h;
	struct pk_catalog_chunk *cc;
	struct pk_reader *r;
	struct pk_record rec;
	struct pk_str path;
	uint64_t recno = 0;
	uint32_t i;

	if (pk_reader_new_source(&r, fuzz_source, &s, "fuzz") < 0)
		return;
	if (pk_reader_header(r, &h) == 0)
		while (pk_reader_next(r, &rec) > 0)
			if (rec.type == PK_REC_ENTRY &&
			    pk_entry_path(&path, rec.data, rec.len) == 0)
				pk_seekbuild_entry(&b, pk_reader_offset(r) + doff,
				    pk_reader_recno(r) + drec, path.p, path.len);
	pk_reader_free(r);
	for (i = 0; i < snap->ncatalog; i++) {
		cc = &snap->catalog[i];
		if (pk_seekbuild_chunk(&b, cc, &snap->keys) < 0)
			cc->entry = PK_CATALOG_NO_ENTRY;
		if (cc->entry == PK_CATALOG_NO_ENTRY)
			continue;
		if (cc->entry >= cc->len || cc->recno < recno ||
		    pk_path_cmp(snap->keys.data + cc->key, cc->lolen,
		    snap->keys.data + cc->key + cc->lolen, cc->hilen) > 0)
			cc->entry = PK_CATALOG_NO_ENTRY;
		else
			recno = cc->recno + 1;
	}
	pk_seekbuild_release(&b);
}

/* Reads the catalog, for sel if not NULL; 0 at its end, <0 on error.
 * The ENTRYs of sel and below go to paths (u32 length, path). */
static int
read_catalog(struct cat *c, const uint8_t *sel, size_t seln,
    struct pk_buf *paths)
{
	struct pk_buf xbuf = PK_BUF_INIT;
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_entry ent;
	struct pk_str path;
	int e;

	if ((e = pk_catalog_open_fetch(&cat, c->snap, fetch, c, &h)) < 0)
		return e;
	if (sel != NULL && (e = pk_catalog_select(cat, sel, seln)) < 0) {
		pk_catalog_close(cat);
		return e;
	}
	while ((e = pk_catalog_next(cat, &rec)) > 0) {
		if (rec.type != PK_REC_ENTRY)
			continue;
		pk_entry_decode(&ent, rec.data, rec.len, &xbuf);
		if (pk_entry_path(&path, rec.data, rec.len) == 0 &&
		    (sel == NULL || pk_path_under(path.p, path.len, sel, seln)))
			pk_buf_add_str(paths, path.p, path.len);
	}
	pk_catalog_close(cat);
	pk_buf_release(&xbuf);
	return e;
}

/* The ENTRYs of sel and below in a list of them all. */
static void
under(struct pk_buf *out, const struct pk_buf *all, const uint8_t *sel,
    size_t seln)
{
	struct pk_cursor c;
	const uint8_t *p;
	size_t n;

	pk_cursor_init(&c, all->data, all->len);
	while (c.left > 0 && (p = pk_get_str(&c, SIZE_MAX, &n)) != NULL)
		if (pk_path_under(p, n, sel, seln))
			pk_buf_add_str(out, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_snapshot snap;
	struct pk_buf all = PK_BUF_INIT, want = PK_BUF_INIT, got = PK_BUF_INIT;
	struct cat c;
	const uint8_t *sel;
	int64_t doff = 0, drec = 0;
	size_t seln, k, i, len, at;
	uint8_t flags;
	int whole, part;

	if (size < 3)
		return 0;
	flags = data[0];
	seln = data[1];
	if (size < 3 + seln)
		return 0;
	sel = data + 2;
	k = data[2 + seln];
	at = 3 + seln;
	if (size < at + 2 * k + (flags & 4 ? 2 : 0))
		return 0;
	memset(&snap, 0, sizeof snap);
	memset(&c, 0, sizeof c);
	snap.catalog = calloc(MAX_CHUNKS, sizeof *snap.catalog);
	if (snap.catalog == NULL)
		return 0;
	c.p = data + at + 2 * k + (flags & 4 ? 2 : 0);
	c.n = size - (size_t)(c.p - data);
	if (flags & 4) {
		doff = (int8_t)data[at + 2 * k];
		drec = (int8_t)data[at + 2 * k + 1];
	}
	for (i = 0, at = 0; i <= k && at < c.n; i++) {
		len = i < k ? (size_t)data[3 + seln + 2 * i] |
		    (size_t)data[4 + seln + 2 * i] << 8 : c.n - at;
		if (len > c.n - at)
			len = c.n - at;
		c.off[snap.ncatalog] = (uint32_t)at;
		snap.catalog[snap.ncatalog].len = (uint32_t)len;
		snap.catalog[snap.ncatalog++].entry = PK_CATALOG_NO_ENTRY;
		at += len;
	}
	snap.seekable = !(flags & 2);
	c.snap = &snap;
	if (snap.seekable)
		seek_table(&snap, c.p, c.n, doff, drec);

	whole = read_catalog(&c, NULL, 0, &all);
	if (flags & 1) {
		part = read_catalog(&c, sel, seln, &got);
		under(&want, &all, sel, seln);
		if (whole == 0 && !(flags & 4) && (part != 0 ||
		    want.len != got.len ||
		    (want.len && memcmp(want.data, got.data, want.len) != 0)))
			abort();
	}
	pk_buf_release(&all);
	pk_buf_release(&want);
	pk_buf_release(&got);
	pk_snapshot_release(&snap);
	return 0;
}
