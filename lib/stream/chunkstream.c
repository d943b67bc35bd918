#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chunkstream.h"
#include "err.h"
#include "hash.h"
#include "workers.h"

/*
 * Chunks are cut in order on the calling thread.  Their ids are computed a
 * batch at a time, on up to `threads` threads, this one included, and the
 * batch is then written in order.  A batch holds the chunks cut since the
 * last one, which stay where they were cut in the buffer, and the other
 * records between them, kept in `side`.  It is written when the buffer
 * must make room, when it is full, and at the end.
 */
#define BATCH_ITEMS	1024
#define SIDE_BYTES	(1u << 20)	/* records kept in a batch */
#define SIDE_RECORD_MAX	(64u * 1024)	/* longer ones go out at once */

struct item {
	uint8_t type, flags;
	uint32_t len;
	size_t off;		/* CHUNK: in buf; others: in side */
	uint8_t id[PK_ID_BYTES];
};

struct state {
	const struct pk_chunker *c;
	struct pk_writer *w;
	struct pk_chunk_stats *st;
	uint8_t *buf;		/* capacity c->max + PK_RECORD_MAX_BYTES */
	size_t start, len;	/* unchunked bytes are buf[start..start+len) */
	struct item *items;
	size_t nitems;
	struct pk_buf side;
	/* The hashing threads: a batch is a generation; next is the item
	 * to take, busy the threads not done with it. */
	struct pk_workers pool;
	int threads;
	unsigned gen;
	int busy;
	atomic_size_t next;
};

static void
hash_some(struct state *s)
{
	struct item *it;
	size_t i;

	while ((i = atomic_fetch_add(&s->next, 1)) < s->nitems) {
		it = &s->items[i];
		if (it->type == PK_REC_CHUNK)
			pk_hash_id(it->id, s->buf + it->off, it->len);
	}
}

static void *
hasher(void *arg)
{
	struct state *s = arg;
	unsigned seen = 0;

	pthread_mutex_lock(&s->pool.lock);
	for (;;) {
		while (s->gen == seen && !s->pool.stop)
			pthread_cond_wait(&s->pool.work, &s->pool.lock);
		if (s->pool.stop)
			break;
		seen = s->gen;
		pthread_mutex_unlock(&s->pool.lock);
		hash_some(s);
		pthread_mutex_lock(&s->pool.lock);
		if (--s->busy == 0)
			pthread_cond_signal(&s->pool.finished);
	}
	pthread_mutex_unlock(&s->pool.lock);
	return NULL;
}

/* Hashes the batch's chunks and writes the batch. */
static int
flush(struct state *s)
{
	struct item *it;
	size_t i;
	int e;

	atomic_store(&s->next, 0);
	if (s->pool.n > 0) {
		pthread_mutex_lock(&s->pool.lock);
		s->gen++;
		s->busy = s->pool.n;
		pthread_cond_broadcast(&s->pool.work);
		pthread_mutex_unlock(&s->pool.lock);
	}
	hash_some(s);
	if (s->pool.n > 0) {
		pthread_mutex_lock(&s->pool.lock);
		while (s->busy > 0)
			pthread_cond_wait(&s->pool.finished, &s->pool.lock);
		pthread_mutex_unlock(&s->pool.lock);
	}
	for (i = 0; i < s->nitems; i++) {
		it = &s->items[i];
		if (it->type == PK_REC_CHUNK)
			e = pk_writer_put2(s->w, PK_REC_CHUNK, 0, it->id,
			    PK_ID_BYTES, s->buf + it->off, it->len);
		else
			e = pk_writer_put(s->w, it->type, it->flags,
			    s->side.data + it->off, it->len);
		if (e < 0)
			return e;
	}
	s->nitems = 0;
	pk_buf_reset(&s->side);
	return 0;
}

static int
add_item(struct state *s, uint8_t type, uint8_t flags, size_t off,
    uint32_t len)
{
	struct item *it;
	int e;

	if (s->nitems == BATCH_ITEMS && (e = flush(s)) < 0)
		return e;
	it = &s->items[s->nitems++];
	it->type = type;
	it->flags = flags;
	it->off = off;
	it->len = len;
	return 0;
}

/* Queues a record other than DATA behind the chunks cut so far. */
static int
add_record(struct state *s, const struct pk_record *rec)
{
	int e;

	if (rec->len > SIDE_RECORD_MAX) {
		if ((e = flush(s)) < 0)
			return e;
		return pk_writer_copy(s->w, rec);
	}
	/* Room first: a flush empties side, which the offset is into. */
	if ((s->side.len + rec->len > SIDE_BYTES ||
	    s->nitems == BATCH_ITEMS) && (e = flush(s)) < 0)
		return e;
	if ((e = add_item(s, rec->type, rec->flags, s->side.len, rec->len)) < 0)
		return e;
	return pk_buf_add(&s->side, rec->data, rec->len);
}

/* Appends file bytes.  When they do not fit, the batch is written, which
 * frees the chunks before the unchunked bytes, and those move to the
 * front: bytes move at most once per max bytes chunked. */
static int
append(struct state *s, const uint8_t *p, size_t n)
{
	int e;

	if (s->start + s->len + n > (size_t)s->c->max + PK_RECORD_MAX_BYTES) {
		if ((e = flush(s)) < 0)
			return e;
		memmove(s->buf, s->buf + s->start, s->len);
		s->start = 0;
	}
	memcpy(s->buf + s->start + s->len, p, n);
	s->len += n;
	return 0;
}

/* Cuts while a full window is buffered, or everything when final. */
static int
cut(struct state *s, int final)
{
	size_t n;
	int e;

	while (s->len > 0 && (final || s->len >= s->c->max)) {
		n = pk_chunker_cut(s->c, s->buf + s->start, s->len);
		if ((e = add_item(s, PK_REC_CHUNK, 0, s->start,
		    (uint32_t)n)) < 0)
			return e;
		s->st->chunks++;
		s->start += n;
		s->len -= n;
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
    const struct pk_chunker *c, int threads, struct pk_chunk_stats *st)
{
	struct state s = { .c = c, .w = w, .st = st, .side = PK_BUF_INIT };
	struct pk_record rec;
	int n, e = 0;

	memset(st, 0, sizeof *st);
	s.buf = malloc((size_t)c->max + PK_RECORD_MAX_BYTES);
	s.items = malloc(BATCH_ITEMS * sizeof *s.items);
	if (s.buf == NULL || s.items == NULL) {
		e = -ENOMEM;
		goto out;
	}
	/* Without helpers (none asked for, or none started) this thread
	 * hashes alone. */
	if (threads > 1)
		(void)pk_workers_start(&s.pool, threads - 1, hasher, &s);
	while ((n = pk_reader_next(r, &rec)) > 0) {
		switch (rec.type) {
		case PK_REC_DATA:
			if ((e = append(&s, rec.data, rec.len)) == 0)
				e = cut(&s, 0);
			st->bytes += rec.len;
			break;
		case PK_REC_ENTRY:
			if (s.len > 0) {
				e = bad(r, "ENTRY inside a file's content");
				break;
			}
			st->files++;
			e = add_record(&s, &rec);
			break;
		case PK_REC_HOLE:
		case PK_REC_EOF:
		case PK_REC_CHUNK:
		case PK_REC_REF:
		case PK_REC_ERROR:
			if ((e = cut(&s, 1)) == 0)
				e = add_record(&s, &rec);
			break;
		default:
			if (!(rec.flags & PK_RECF_IGNORABLE))
				e = bad(r, "unknown record type");
			else
				e = add_record(&s, &rec);
		}
		if (e < 0)
			break;
	}
	if (n < 0)
		e = n;
	else if (e == 0 && s.len > 0)
		e = bad(r, "file content without EOF");
	if (e == 0 && (e = flush(&s)) == 0)
		e = pk_writer_end(w);
out:
	if (s.pool.n > 0)
		pk_workers_stop(&s.pool);
	pk_buf_release(&s.side);
	free(s.items);
	free(s.buf);
	return e;
}
