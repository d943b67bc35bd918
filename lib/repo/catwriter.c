/* catwriter.c: writing a snapshot's catalog. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catwriter.h"
#include "chunker.h"
#include "entry.h"
#include "hash.h"
#include "seektable.h"

struct pk_catwriter {
	struct pk_snapshot *snap;
	pk_catwriter_put_fn *put;
	void *arg;
	struct pk_writer *w;
	struct pk_chunker chunker;
	struct pk_buf buf;		/* written, not yet cut */
	uint32_t cap;			/* of snap->catalog */
	struct pk_seekbuild seek;
	int holding;
	struct pk_buf held;		/* type, u32 length, payload... */
};

/* Cuts and stores the chunks that are whole; with final, all. */
static int
cut(struct pk_catwriter *c, int final)
{
	struct pk_snapshot *s = c->snap;
	struct pk_catalog_chunk *cc;
	uint8_t id[PK_ID_BYTES];
	size_t n;
	int e;

	while (c->buf.len > 0 && (final || c->buf.len >= c->chunker.max)) {
		n = pk_chunker_cut(&c->chunker, c->buf.data, c->buf.len);
		pk_hash_id(id, c->buf.data, n);
		if ((e = c->put(c->arg, id, c->buf.data, (uint32_t)n)) < 0)
			return e;
		if (s->ncatalog == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			cc = realloc(s->catalog, c->cap * sizeof *cc);
			if (cc == NULL)
				return -ENOMEM;
			s->catalog = cc;
		}
		cc = &s->catalog[s->ncatalog++];
		memcpy(cc->id, id, sizeof id);
		cc->len = (uint32_t)n;
		if ((e = pk_seekbuild_chunk(&c->seek, cc, &s->keys)) < 0)
			return e;
		s->catalog_bytes += n;
		memmove(c->buf.data, c->buf.data + n, c->buf.len - n);
		c->buf.len -= n;
	}
	return 0;
}

static int
sink(void *arg, const void *p, size_t n)
{
	struct pk_catwriter *c = arg;
	int e;

	if ((e = pk_buf_add(&c->buf, p, n)) < 0)
		return e;
	return cut(c, 0);
}

int
pk_catwriter_new(struct pk_catwriter **cp, const struct pk_stream_header *h,
    struct pk_snapshot *snap, pk_catwriter_put_fn *put, void *arg)
{
	/* A catalog holds no chunk data: its checksum covers every byte. */
	struct pk_stream_header ch = *h;
	struct pk_catwriter *c;
	int e;

	ch.flags = 0;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -ENOMEM;
	c->snap = snap;
	c->put = put;
	c->arg = arg;
	pk_chunker_init(&c->chunker, PK_CATALOG_CHUNK_MIN, PK_CATALOG_CHUNK_AVG,
	    PK_CATALOG_CHUNK_MAX);
	if ((e = pk_writer_new_sink(&c->w, sink, c, &ch)) < 0) {
		free(c);
		return e;
	}
	*cp = c;
	return 0;
}

/* A record written, its ENTRYs noted for the seek table. */
static int
write_record(struct pk_catwriter *c, uint8_t type, const uint8_t *p, size_t n)
{
	struct pk_str path;
	int e;

	if (type == PK_REC_ENTRY && pk_entry_path(&path, p, n) == 0 &&
	    (e = pk_seekbuild_entry(&c->seek, pk_writer_bytes(c->w),
	    pk_writer_records(c->w), path.p, path.len)) < 0)
		return e;
	return pk_writer_put(c->w, type, 0, p, n);
}

int
pk_catwriter_put(struct pk_catwriter *c, uint8_t type, const void *p, size_t n)
{
	int e;

	if (!c->holding)
		return write_record(c, type, p, n);
	if ((e = pk_buf_add_u8(&c->held, type)) < 0 ||
	    (e = pk_buf_add_str(&c->held, p, n)) < 0)
		return e;
	return 0;
}

void
pk_catwriter_hold(struct pk_catwriter *c)
{
	c->holding = 1;
}

int
pk_catwriter_release(struct pk_catwriter *c, uint64_t size)
{
	struct pk_cursor cur;
	const uint8_t *p;
	size_t n;
	uint8_t type;
	int e = 0;

	/* ENTRY payload: type, 3 reserved bytes, mode, uid, gid, then size. */
	pk_put_u64(c->held.data + 5 + 16, size);
	pk_cursor_init(&cur, c->held.data, c->held.len);
	while (e == 0 && cur.left > 0) {
		type = pk_get_u8(&cur);
		p = pk_get_str(&cur, SIZE_MAX, &n);
		e = write_record(c, type, p, n);
	}
	c->holding = 0;
	pk_buf_reset(&c->held);
	return e;
}

int
pk_catwriter_end(struct pk_catwriter *c)
{
	int e = pk_writer_end(c->w);

	return e < 0 ? e : cut(c, 1);
}

void
pk_catwriter_free(struct pk_catwriter *c)
{
	if (c == NULL)
		return;
	pk_writer_free(c->w);
	pk_buf_release(&c->buf);
	pk_seekbuild_release(&c->seek);
	pk_buf_release(&c->held);
	free(c);
}
