#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "err.h"
#include "hash.h"
#include "io.h"
#include "record.h"

#define READ_STEP	(1u << 20)
#define READ_BUF_BYTES	(PK_RECORD_MAX_BYTES + PK_RECORD_HEADER_BYTES + READ_STEP)
#define READ_BUF_FIRST	(256u * 1024)	/* grown for longer records */
#define WRITE_BUF_BYTES	(1u << 20)
#define END_PAYLOAD_BYTES 24

struct pk_reader {
	int fd;
	ssize_t (*source)(void *arg, void *p, size_t n);
	void *arg;
	const char *name;
	uint8_t *buf;
	size_t cap;		/* bytes at buf, READ_BUF_BYTES at most */
	size_t pos, end;	/* unread bytes are buf[pos..end) */
	int eof;
	uint64_t consumed;	/* stream bytes handed out so far */
	uint64_t fdbytes;
	uint64_t nrec;		/* records consumed, END excluded */
	uint64_t recno, recoff;	/* number and offset of the current record */
	int started, done;
	int seeked;		/* bytes were skipped: no checksum to check */
	uint32_t sflags;	/* the stream header's flags */
	int defer_ids;		/* the caller checks chunk ids, not the reader */
	int lazy;		/* read no further than the next header */
	uint32_t pending;	/* bytes of the current CHUNK left in the fd */
	int devnull;		/* where pk_reader_drop splices them, or -1 */
	XXH3_state_t *xxh;
};

struct pk_writer {
	int fd;
	int (*sink)(void *arg, const void *p, size_t n);
	void *arg;
	uint8_t *buf;
	size_t len;
	uint64_t bytes, records;
	uint32_t flags;		/* the stream header's flags */
	XXH3_state_t *xxh;
};

/* The bytes of a record's payload that the END checksum covers. */
static size_t
covered(uint32_t sflags, uint8_t type, size_t len)
{
	if ((sflags & PK_STREAM_IDS_COVER_DATA) && type == PK_REC_CHUNK &&
	    len > PK_ID_BYTES)
		return PK_ID_BYTES;
	return len;
}

const char *
pk_record_type_name(uint8_t type, char tmp[8])
{
	switch (type) {
	case PK_REC_ENTRY: return "ENTRY";
	case PK_REC_DATA: return "DATA";
	case PK_REC_HOLE: return "HOLE";
	case PK_REC_CHUNK: return "CHUNK";
	case PK_REC_REF: return "REF";
	case PK_REC_EOF: return "EOF";
	case PK_REC_ERROR: return "ERROR";
	case PK_REC_META: return "META";
	case PK_REC_WALK: return "WALK";
	case PK_REC_TOTAL: return "TOTAL";
	case PK_REC_END: return "END";
	}
	snprintf(tmp, 8, "0x%02x", type);
	return tmp;
}

int
pk_reader_new(struct pk_reader **rp, int fd, const char *name)
{
	struct pk_reader *r;

	*rp = NULL;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return -ENOMEM;
	r->cap = READ_BUF_FIRST;
	r->buf = malloc(r->cap);
	r->xxh = XXH3_createState();
	if (r->buf == NULL || r->xxh == NULL) {
		pk_reader_free(r);
		return -ENOMEM;
	}
	XXH3_64bits_reset(r->xxh);
	r->fd = fd;
	r->devnull = -1;
	r->name = name;
	if (fd >= 0)
		pk_pipe_grow(fd);
	*rp = r;
	return 0;
}

int
pk_reader_new_source(struct pk_reader **rp, ssize_t (*source)(void *arg,
    void *p, size_t n), void *arg, const char *name)
{
	int e = pk_reader_new(rp, -1, name);

	if (e == 0) {
		(*rp)->source = source;
		(*rp)->arg = arg;
	}
	return e;
}

void
pk_reader_free(struct pk_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	if (r->xxh)
		XXH3_freeState(r->xxh);
	if (r->devnull >= 0)
		close(r->devnull);
	free(r);
}

/*
 * Makes n bytes available at buf[pos]; returns how many are (< n at EOF).
 * Reads go by READ_STEP near the start of the buffer, which grows only to
 * what the longest record needs.
 */
static ssize_t
fill(struct pk_reader *r, size_t n)
{
	size_t want;
	ssize_t k;
	uint8_t *nb;

	if (r->end - r->pos >= n || r->eof)
		return (ssize_t)(r->end - r->pos);
	if (r->pos >= READ_STEP || r->pos + n > r->cap) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (n > r->cap) {
		want = n + READ_STEP < READ_BUF_BYTES ? n + READ_STEP :
		    READ_BUF_BYTES;
		if ((nb = realloc(r->buf, want)) == NULL)
			return -ENOMEM;
		r->buf = nb;
		r->cap = want;
	}
	while (r->end - r->pos < n) {
		want = n - (r->end - r->pos);
		if (want < READ_STEP && !r->lazy)
			want = READ_STEP;
		if (want > r->cap - r->end)
			want = r->cap - r->end;
		if (r->source) {
			k = r->source(r->arg, r->buf + r->end, want);
			if (k < 0)
				return (int)k;
		} else {
			k = read(r->fd, r->buf + r->end, want);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return pk_err(-errno, "%s: read: %s", r->name,
				    strerror(errno));
		}
		if (k == 0) {
			r->eof = 1;
			break;
		}
		r->end += (size_t)k;
		r->fdbytes += (uint64_t)k;
	}
	return (ssize_t)(r->end - r->pos);
}

/* Hands out n bytes of the buffer, of which the first hashed count. */
static void
consume(struct pk_reader *r, size_t n, size_t hashed)
{
	XXH3_64bits_update(r->xxh, r->buf + r->pos, hashed);
	r->pos += n;
	r->consumed += n;
}

int
pk_reader_header(struct pk_reader *r, struct pk_stream_header *h)
{
	const uint8_t *p;
	ssize_t k;

	memset(h, 0, sizeof *h);
	if ((k = fill(r, PK_STREAM_HEADER_BYTES)) < 0)
		return (int)k;
	if (k == 0)
		return pk_err(-EBADMSG, "%s: empty stream", r->name);
	p = r->buf + r->pos;
	if ((size_t)k < PK_STREAM_HEADER_BYTES ||
	    memcmp(p, PK_STREAM_MAGIC, 8) != 0)
		return pk_err(-EBADMSG, "%s: not a pk stream", r->name);
	h->version = pk_load_u32(p + 8);
	h->flags = pk_load_u32(p + 12);
	h->chunk_min = pk_load_u32(p + 16);
	h->chunk_avg = pk_load_u32(p + 20);
	h->chunk_max = pk_load_u32(p + 24);
	if (h->version != PK_STREAM_VERSION)
		return pk_err(-EPROTO, "%s: stream version %" PRIu32
		    " not supported (this is version %d)", r->name, h->version,
		    PK_STREAM_VERSION);
	if ((h->flags & ~(uint32_t)PK_STREAM_IDS_COVER_DATA) != 0 ||
	    pk_load_u32(p + 28) != 0)
		return pk_err(-EBADMSG, "%s: stream header: reserved bits set",
		    r->name);
	if (h->chunk_max > PK_RECORD_MAX_BYTES - PK_ID_BYTES ||
	    h->chunk_min > h->chunk_avg || h->chunk_avg > h->chunk_max)
		return pk_err(-EBADMSG, "%s: stream header: bad chunk sizes",
		    r->name);
	consume(r, PK_STREAM_HEADER_BYTES, PK_STREAM_HEADER_BYTES);
	r->sflags = h->flags;
	r->started = 1;
	return 0;
}

static int
bad(struct pk_reader *r, const char *why)
{
	return pk_err(-EBADMSG, "%s: record %" PRIu64 " at byte %" PRIu64 ": %s",
	    r->name, r->recno, r->recoff, why);
}

static int
check_end(struct pk_reader *r, const uint8_t *p, uint32_t len)
{
	uint64_t recs, bytes, sum;

	if (len != END_PAYLOAD_BYTES)
		return bad(r, "END: bad length");
	recs = pk_load_u64(p);
	bytes = pk_load_u64(p + 8);
	sum = pk_load_u64(p + 16);
	if (recs != r->nrec)
		return bad(r, "END: record count does not match");
	if (bytes != r->recoff)
		return bad(r, "END: byte count does not match");
	if (!r->seeked && sum != XXH3_64bits_digest(r->xxh))
		return bad(r, "END: checksum does not match (corrupt stream)");
	return 0;
}

int
pk_reader_next(struct pk_reader *r, struct pk_record *rec)
{
	uint8_t id[PK_ID_BYTES];
	const uint8_t *p;
	size_t want, need;
	ssize_t k;
	uint32_t len;
	int e, lazy = 0;

	memset(rec, 0, sizeof *rec);
	if (!r->started)
		return pk_err(-EINVAL, "%s: header not read", r->name);
	if (r->pending)
		return pk_err(-EINVAL, "%s: CHUNK data not passed on", r->name);
	if (r->done)
		return 0;
	r->recno = r->nrec;
	r->recoff = r->consumed;
	if ((k = fill(r, PK_RECORD_HEADER_BYTES)) < 0)
		return (int)k;
	if ((size_t)k < PK_RECORD_HEADER_BYTES)
		return bad(r, k == 0 ? "truncated stream (no END record)" :
		    "truncated record header");
	p = r->buf + r->pos;
	len = pk_load_u32(p + 4);
	if (p[2] != 0 || p[3] != 0 || (p[1] & ~PK_RECF_IGNORABLE) != 0)
		return bad(r, "reserved bits set");
	if (len > PK_RECORD_MAX_BYTES)
		return bad(r, "record too long");
	rec->type = p[0];
	rec->flags = p[1];
	rec->len = len;
	rec->held = len;
	need = want = PK_RECORD_HEADER_BYTES + (size_t)len;
	if (r->lazy && rec->type == PK_REC_CHUNK &&
	    len >= PK_ID_BYTES + PK_SPLICE_MIN &&
	    r->end - r->pos <= PK_RECORD_HEADER_BYTES + PK_ID_BYTES) {
		/* The data stays in the pipe, for pk_writer_forward. */
		lazy = 1;
		rec->held = PK_ID_BYTES;
		need = want = PK_RECORD_HEADER_BYTES + PK_ID_BYTES;
	} else if (r->lazy && rec->type != PK_REC_END) {
		/* The next record's header is due: one read for both. */
		want += PK_RECORD_HEADER_BYTES;
	}
	if ((k = fill(r, want)) < 0)
		return (int)k;
	if ((size_t)k < need)
		return bad(r, "truncated record");
	p = r->buf + r->pos;
	rec->data = p + PK_RECORD_HEADER_BYTES;
	if (lazy) {
		consume(r, need, need);
		r->pending = len - PK_ID_BYTES;
		r->consumed += r->pending;
		r->nrec++;
		return 1;
	}
	if (rec->type == PK_REC_END) {
		/* END is outside the checksum: its header must be exact. */
		if (rec->flags != 0)
			return bad(r, "END: flags set");
		if ((e = check_end(r, rec->data, len)) < 0)
			return e;
		r->pos += PK_RECORD_HEADER_BYTES + len;
		if ((k = fill(r, 1)) < 0)
			return (int)k;
		if (k > 0)
			return bad(r, "bytes after END");
		r->done = 1;
		memset(rec, 0, sizeof *rec);
		return 0;
	}
	if (covered(r->sflags, rec->type, len) < len && !r->defer_ids) {
		pk_hash_id(id, rec->data + PK_ID_BYTES, len - PK_ID_BYTES);
		if (memcmp(id, rec->data, PK_ID_BYTES) != 0)
			return bad(r, "CHUNK: data does not match its id "
			    "(corrupt stream)");
	}
	consume(r, PK_RECORD_HEADER_BYTES + len,
	    PK_RECORD_HEADER_BYTES + covered(r->sflags, rec->type, len));
	r->nrec++;
	return 1;
}

void pk_reader_defer_ids(struct pk_reader *r) { r->defer_ids = 1; }

static int
is_pipe(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

int
pk_reader_lazy(struct pk_reader *r, const struct pk_writer *w)
{
	r->lazy = (r->sflags & PK_STREAM_IDS_COVER_DATA) &&
	    (w->flags & PK_STREAM_IDS_COVER_DATA) && r->source == NULL &&
	    w->sink == NULL && is_pipe(r->fd) && is_pipe(w->fd);
	return r->lazy;
}

/* Moves the pending bytes of the current CHUNK from r's pipe to fd. */
static int
splice_out(struct pk_reader *r, int fd)
{
	ssize_t k;

	while (r->pending > 0) {
		k = splice(r->fd, NULL, fd, NULL, r->pending, SPLICE_F_MOVE);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return pk_err(-errno, "%s: splice: %s", r->name,
			    strerror(errno));
		if (k == 0)
			return bad(r, "truncated record");
		r->pending -= (uint32_t)k;
		r->fdbytes += (uint64_t)k;
	}
	return 0;
}

int
pk_reader_drop(struct pk_reader *r)
{
	if (r->devnull < 0 &&
	    (r->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		return pk_err(-errno, "/dev/null: %s", strerror(errno));
	return splice_out(r, r->devnull);
}

void
pk_reader_seek(struct pk_reader *r, uint64_t offset, uint64_t recno)
{
	r->pos = r->end = 0;
	r->eof = 0;
	r->consumed = offset;
	r->nrec = recno;
	r->seeked = 1;
}

uint64_t pk_reader_recno(const struct pk_reader *r) { return r->recno; }
uint64_t pk_reader_offset(const struct pk_reader *r) { return r->recoff; }
const char *pk_reader_name(const struct pk_reader *r) { return r->name; }
uint64_t pk_reader_bytes(const struct pk_reader *r) { return r->fdbytes; }

int
pk_writer_new(struct pk_writer **wp, int fd, const struct pk_stream_header *h)
{
	struct pk_writer *w;
	uint8_t *p;

	*wp = NULL;
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return -ENOMEM;
	w->buf = malloc(WRITE_BUF_BYTES);
	w->xxh = XXH3_createState();
	if (w->buf == NULL || w->xxh == NULL) {
		pk_writer_free(w);
		return -ENOMEM;
	}
	XXH3_64bits_reset(w->xxh);
	w->fd = fd;
	w->flags = h ? h->flags : 0;
	if (fd >= 0)
		pk_pipe_grow(fd);
	p = w->buf;
	memset(p, 0, PK_STREAM_HEADER_BYTES);
	memcpy(p, PK_STREAM_MAGIC, 8);
	pk_put_u32(p + 8, PK_STREAM_VERSION);
	pk_put_u32(p + 12, w->flags);
	pk_put_u32(p + 16, h ? h->chunk_min : 0);
	pk_put_u32(p + 20, h ? h->chunk_avg : 0);
	pk_put_u32(p + 24, h ? h->chunk_max : 0);
	XXH3_64bits_update(w->xxh, p, PK_STREAM_HEADER_BYTES);
	w->len = PK_STREAM_HEADER_BYTES;
	w->bytes = PK_STREAM_HEADER_BYTES;
	*wp = w;
	return 0;
}

int
pk_writer_new_sink(struct pk_writer **wp, int (*sink)(void *arg,
    const void *p, size_t n), void *arg, const struct pk_stream_header *h)
{
	int e = pk_writer_new(wp, -1, h);

	if (e == 0) {
		(*wp)->sink = sink;
		(*wp)->arg = arg;
	}
	return e;
}

void
pk_writer_free(struct pk_writer *w)
{
	if (w == NULL)
		return;
	free(w->buf);
	if (w->xxh)
		XXH3_freeState(w->xxh);
	free(w);
}

static int
out(struct pk_writer *w, const void *p, size_t n)
{
	int r;

	if (w->sink)
		return w->sink(w->arg, p, n);
	r = pk_write_all(w->fd, p, n);
	return r < 0 ? pk_err(r, "output: write: %s", strerror(-r)) : 0;
}

int
pk_writer_flush(struct pk_writer *w)
{
	int r;

	if (w->len == 0)
		return 0;
	r = out(w, w->buf, w->len);
	w->len = 0;
	return r;
}

/* Appends n bytes, of which the first hashed count in the checksum. */
static int
append(struct pk_writer *w, const void *p, size_t n, size_t hashed)
{
	int r;

	if (n == 0)
		return 0;
	XXH3_64bits_update(w->xxh, p, hashed < n ? hashed : n);
	w->bytes += n;
	if (w->len + n > WRITE_BUF_BYTES) {
		if ((r = pk_writer_flush(w)) < 0)
			return r;
		if (n >= WRITE_BUF_BYTES / 2)
			return out(w, p, n);
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

int
pk_writer_put2(struct pk_writer *w, uint8_t type, uint8_t flags,
    const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t h[PK_RECORD_HEADER_BYTES] = { type, flags, 0, 0 };
	size_t cov = covered(w->flags, type, alen + blen);
	int r;

	if (alen + blen > PK_RECORD_MAX_BYTES)
		return pk_err(-EMSGSIZE, "record of %zu bytes is too long",
		    alen + blen);
	pk_put_u32(h + 4, (uint32_t)(alen + blen));
	if ((r = append(w, h, sizeof h, sizeof h)) < 0 ||
	    (r = append(w, a, alen, cov)) < 0 ||
	    (r = append(w, b, blen, cov > alen ? cov - alen : 0)) < 0)
		return r;
	w->records++;
	return 0;
}

int
pk_writer_forward(struct pk_writer *w, struct pk_reader *r,
    const struct pk_record *rec)
{
	uint8_t h[PK_RECORD_HEADER_BYTES] = { rec->type, rec->flags, 0, 0 };
	int e;

	if (!r->lazy || r->pending != rec->len - rec->held)
		return pk_err(-EINVAL, "%s: no CHUNK data to forward", r->name);
	pk_put_u32(h + 4, rec->len);
	if ((e = append(w, h, sizeof h, sizeof h)) < 0 ||
	    (e = append(w, rec->data, rec->held, rec->held)) < 0 ||
	    (e = pk_writer_flush(w)) < 0)
		return e;
	w->bytes += r->pending;
	w->records++;
	return splice_out(r, w->fd);
}

int
pk_writer_put(struct pk_writer *w, uint8_t type, uint8_t flags,
    const void *payload, size_t len)
{
	return pk_writer_put2(w, type, flags, payload, len, NULL, 0);
}

int
pk_writer_copy(struct pk_writer *w, const struct pk_record *rec)
{
	return pk_writer_put(w, rec->type, rec->flags, rec->data, rec->len);
}

int
pk_writer_end(struct pk_writer *w)
{
	uint8_t h[PK_RECORD_HEADER_BYTES + END_PAYLOAD_BYTES] = { PK_REC_END };
	uint64_t sum = XXH3_64bits_digest(w->xxh);
	int r;

	pk_put_u32(h + 4, END_PAYLOAD_BYTES);
	pk_put_u64(h + 8, w->records);
	pk_put_u64(h + 16, w->bytes);
	pk_put_u64(h + 24, sum);
	if ((r = append(w, h, sizeof h, 0)) < 0)
		return r;
	return pk_writer_flush(w);
}

uint64_t pk_writer_bytes(const struct pk_writer *w) { return w->bytes; }
uint64_t pk_writer_records(const struct pk_writer *w) { return w->records; }

int
pk_record_hole(const struct pk_record *rec, uint64_t *len)
{
	*len = 0;
	if (rec->len != 8)
		return -EBADMSG;
	*len = pk_load_u64(rec->data);
	return 0;
}

int
pk_record_ref(const struct pk_record *rec, const uint8_t **id, uint32_t *len)
{
	*id = NULL;
	*len = 0;
	if (rec->len != PK_ID_BYTES + 4)
		return -EBADMSG;
	*id = rec->data;
	*len = pk_load_u32(rec->data + PK_ID_BYTES);
	return 0;
}

int
pk_record_chunk(const struct pk_record *rec, const uint8_t **id,
    const uint8_t **data, uint32_t *len)
{
	*id = *data = NULL;
	*len = 0;
	if (rec->len <= PK_ID_BYTES)
		return -EBADMSG;
	*id = rec->data;
	*data = rec->data + PK_ID_BYTES;
	*len = rec->len - PK_ID_BYTES;
	return 0;
}

int
pk_record_eof(const struct pk_record *rec, uint64_t *size, uint32_t *flags)
{
	*size = 0;
	*flags = 0;
	if (rec->len != 16 || pk_load_u32(rec->data + 12) != 0)
		return -EBADMSG;
	*size = pk_load_u64(rec->data);
	*flags = pk_load_u32(rec->data + 8);
	if (*flags & ~(uint32_t)PK_EOF_CHANGED)
		return -EBADMSG;
	return 0;
}

int
pk_write_hole(struct pk_writer *w, uint64_t len)
{
	uint8_t p[8];

	pk_put_u64(p, len);
	return pk_writer_put(w, PK_REC_HOLE, 0, p, sizeof p);
}

int
pk_write_ref(struct pk_writer *w, const uint8_t *id, uint32_t len)
{
	uint8_t p[PK_ID_BYTES + 4];

	memcpy(p, id, PK_ID_BYTES);
	pk_put_u32(p + PK_ID_BYTES, len);
	return pk_writer_put(w, PK_REC_REF, 0, p, sizeof p);
}

int
pk_write_eof(struct pk_writer *w, uint64_t size, uint32_t flags)
{
	uint8_t p[16] = { 0 };

	pk_put_u64(p, size);
	pk_put_u32(p + 8, flags);
	return pk_writer_put(w, PK_REC_EOF, 0, p, sizeof p);
}

int
pk_write_error(struct pk_writer *w, int errnum, const char *path,
    size_t pathlen, const char *msg)
{
	struct pk_buf b = PK_BUF_INIT;
	int r;

	if ((r = pk_buf_add_u32(&b, (uint32_t)errnum)) == 0 &&
	    (r = pk_buf_add_str(&b, path, pathlen)) == 0 &&
	    (r = pk_buf_add_str(&b, msg, strlen(msg))) == 0)
		r = pk_writer_put(w, PK_REC_ERROR, 0, b.data, b.len);
	pk_buf_release(&b);
	return r;
}

int
pk_record_error(const struct pk_record *rec, int *errnum,
    const uint8_t **path, size_t *pathlen, const uint8_t **msg, size_t *msglen)
{
	struct pk_cursor c;

	pk_cursor_init(&c, rec->data, rec->len);
	*errnum = (int)pk_get_u32(&c);
	*path = pk_get_str(&c, rec->len, pathlen);
	*msg = pk_get_str(&c, rec->len, msglen);
	if (pk_cursor_ok(&c) < 0 || c.left != 0)
		return -EBADMSG;
	return 0;
}

int
pk_write_total(struct pk_writer *w, uint64_t files, uint64_t bytes)
{
	uint8_t p[16];

	pk_put_u64(p, files);
	pk_put_u64(p + 8, bytes);
	return pk_writer_put(w, PK_REC_TOTAL, PK_RECF_IGNORABLE, p, sizeof p);
}

int
pk_record_total(const struct pk_record *rec, uint64_t *files, uint64_t *bytes)
{
	*files = *bytes = 0;
	if (rec->len != 16)
		return -EBADMSG;
	*files = pk_load_u64(rec->data);
	*bytes = pk_load_u64(rec->data + 8);
	return 0;
}
