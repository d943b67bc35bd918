#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chunkstream.h"
#include "err.h"
#include "hash.h"

struct state {
	const struct pk_chunker *c;
	struct pk_writer *w;
	struct pk_chunk_stats *st;
	uint8_t *buf;		/* capacity c->max + PK_RECORD_MAX_BYTES */
	size_t start, len;	/* unchunked bytes are buf[start..start+len) */
};

static int
emit(struct state *s, size_t n)
{
	uint8_t id[PK_ID_BYTES];
	int r;

	pk_hash_id(id, s->buf + s->start, n);
	r = pk_writer_put2(s->w, PK_REC_CHUNK, 0, id, sizeof id,
	    s->buf + s->start, n);
	if (r < 0)
		return r;
	s->st->chunks++;
	s->start += n;
	s->len -= n;
	if (s->len == 0)
		s->start = 0;
	return 0;
}

/* Appends file bytes, moving what is left to the front only when they
 * would not fit: bytes move at most once per max bytes chunked. */
static void
append(struct state *s, const uint8_t *p, size_t n)
{
	if (s->start + s->len + n > (size_t)s->c->max + PK_RECORD_MAX_BYTES) {
		memmove(s->buf, s->buf + s->start, s->len);
		s->start = 0;
	}
	memcpy(s->buf + s->start + s->len, p, n);
	s->len += n;
}

/* Cuts while a full window is buffered, or everything when final. */
static int
cut(struct state *s, int final)
{
	int r;

	while (s->len > 0 && (final || s->len >= s->c->max)) {
		r = emit(s, pk_chunker_cut(s->c, s->buf + s->start, s->len));
		if (r < 0)
			return r;
	}
	return 0;
}

static int
bad(struct pk_reader *r, const char *why)
{
	return pk_err(-EBADMSG, "%s: record %" PRIu64 " at byte %" PRIu64 ": %s",
	    pk_reader_name(r), pk_reader_recno(r), pk_reader_offset(r), why);
}

int
pk_chunk_stream(struct pk_reader *r, struct pk_writer *w,
    const struct pk_chunker *c, struct pk_chunk_stats *st)
{
	struct state s = { c, w, st, NULL, 0, 0 };
	struct pk_record rec;
	int n, e = 0;

	memset(st, 0, sizeof *st);
	s.buf = malloc((size_t)c->max + PK_RECORD_MAX_BYTES);
	if (s.buf == NULL)
		return -ENOMEM;
	while ((n = pk_reader_next(r, &rec)) > 0) {
		switch (rec.type) {
		case PK_REC_DATA:
			append(&s, rec.data, rec.len);
			st->bytes += rec.len;
			e = cut(&s, 0);
			break;
		case PK_REC_ENTRY:
			if (s.len > 0) {
				e = bad(r, "ENTRY inside a file's content");
				break;
			}
			st->files++;
			e = pk_writer_copy(w, &rec);
			break;
		case PK_REC_HOLE:
		case PK_REC_EOF:
		case PK_REC_CHUNK:
		case PK_REC_REF:
		case PK_REC_ERROR:
			if ((e = cut(&s, 1)) == 0)
				e = pk_writer_copy(w, &rec);
			break;
		default:
			if (!(rec.flags & PK_RECF_IGNORABLE))
				e = bad(r, "unknown record type");
			else
				e = pk_writer_copy(w, &rec);
		}
		if (e < 0)
			break;
	}
	if (n < 0)
		e = n;
	else if (e == 0 && s.len > 0)
		e = bad(r, "file content without EOF");
	if (e == 0)
		e = pk_writer_end(w);
	free(s.buf);
	return e;
}
