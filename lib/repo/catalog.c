#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "entry.h"
#include "err.h"
#include "fetch.h"
#include "hash.h"
#include "pack.h"
#include "packread.h"

struct pk_catalog {
	struct pk_repo *repo;
	const struct pk_index *ix;
	const struct pk_snapshot *snap;
	struct pk_blob_reader br;
	pk_catalog_fetch_fn *fetch;
	void *arg;
	struct pk_buf chunk;
	size_t pos;
	uint32_t next;
	/* The path selected (NULL: all), and for skips: the chunk the current
	 * record starts in and its offset, the last chunk found that may hold
	 * the path, whether the next read skips first (just selected, or
	 * past an ENTRY neither the path nor below it), and whether no chunk
	 * to come can hold it. */
	uint8_t *sel;
	size_t sellen;
	uint32_t at, held;
	uint64_t at_off;
	int skip, ended;
	/* For pk_catalog_chunk_entry(): where the next record starts, the
	 * chunk that holds that offset and where the chunk starts, and the
	 * offset at which the next chunk loaded is entered (not 0 after
	 * pk_catalog_skip_chunk()). */
	uint64_t next_off, nk_off;
	uint32_t nk;
	size_t enter_at;
	/* The subtree pk_catalog_skip() leaves out, at the next call. */
	uint8_t *past;
	size_t pastlen;
	int skip_past;
	struct pk_reader *r;
	char name[32];
};

/* The default fetch: from the repository, through the chunk index. */
static int
repo_fetch(void *arg, const struct pk_catalog_chunk *cc, struct pk_buf *out)
{
	struct pk_catalog *c = arg;

	return pk_chunk_fetch(c->repo, c->ix, &c->br, cc->id, cc->len, out);
}

/* Chunk i into c->chunk, at its start; skip() then moves into it. */
static int
chunk_load(struct pk_catalog *c, uint32_t i)
{
	const struct pk_catalog_chunk *cc = &c->snap->catalog[i];
	int e;

	c->pos = 0;
	e = c->fetch(c->arg, cc, &c->chunk);
	/* skip() sets pos from the seek table, within cc->len. */
	if (e == 0 && c->chunk.len != cc->len)
		e = pk_err(-EBADMSG, "%s: chunk %" PRIu32 " is %zu bytes long, "
		    "not %" PRIu32, c->name, i, c->chunk.len, cc->len);
	if (e < 0)
		pk_buf_reset(&c->chunk);
	return e;
}

static ssize_t
source(void *arg, void *p, size_t n)
{
	struct pk_catalog *c = arg;
	size_t k;
	int e;

	while (c->pos == c->chunk.len) {
		if (c->next == c->snap->ncatalog)
			return 0;
		if ((e = chunk_load(c, c->next++)) < 0)
			return e;
		c->pos = c->enter_at;
		c->enter_at = 0;
	}
	k = c->chunk.len - c->pos;
	if (k > n)
		k = n;
	memcpy(p, c->chunk.data + c->pos, k);
	c->pos += k;
	return (ssize_t)k;
}

/* A new catalog of snap, its fetch left to the caller; NULL without memory. */
static struct pk_catalog *
catalog_new(const struct pk_snapshot *snap)
{
	struct pk_catalog *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->snap = snap;
	c->held = UINT32_MAX;
	snprintf(c->name, sizeof c->name, "catalog %.12s", "");
	pk_hex(c->name + 8, snap->id, 6);
	return c;
}

static int
catalog_start(struct pk_catalog **cp, struct pk_catalog *c,
    struct pk_stream_header *h)
{
	int e;

	if ((e = pk_reader_new_source(&c->r, source, c, c->name)) < 0 ||
	    (e = pk_reader_header(c->r, h)) < 0) {
		pk_catalog_close(c);
		return e;
	}
	c->next_off = PK_STREAM_HEADER_BYTES;
	*cp = c;
	return 0;
}

int
pk_catalog_open(struct pk_catalog **cp, struct pk_repo *r,
    const struct pk_index *ix, const struct pk_snapshot *snap,
    struct pk_stream_header *h)
{
	struct pk_catalog *c;
	int e;

	*cp = NULL;
	if ((c = catalog_new(snap)) == NULL)
		return -ENOMEM;
	c->repo = r;
	c->ix = ix;
	c->fetch = repo_fetch;
	c->arg = c;
	if ((e = pk_blob_reader_init(&c->br, r)) < 0) {
		pk_catalog_close(c);
		return e;
	}
	return catalog_start(cp, c, h);
}

int
pk_catalog_open_fetch(struct pk_catalog **cp, const struct pk_snapshot *snap,
    pk_catalog_fetch_fn *fetch, void *arg, struct pk_stream_header *h)
{
	struct pk_catalog *c;

	*cp = NULL;
	if ((c = catalog_new(snap)) == NULL)
		return -ENOMEM;
	c->fetch = fetch;
	c->arg = arg;
	return catalog_start(cp, c, h);
}

/*
 * Whether the chunk's entries may include path or anything below it.  lo
 * and hi bound the entries' paths, so the question is whether the range
 * [lo, hi] meets the subtree, itself a range from path on (pk_path_cmp).
 * A hi cut to the key size bounds every path that starts with it.
 */
static int
may_hold(const struct pk_snapshot *s, const struct pk_catalog_chunk *cc,
    const uint8_t *path, size_t len)
{
	const uint8_t *lo = s->keys.data + cc->key, *hi = lo + cc->lolen;

	if (pk_path_cmp(hi, cc->hilen, path, len) < 0 &&
	    !(cc->hilen == PK_CATALOG_KEY_MAX && len >= cc->hilen &&
	    memcmp(path, hi, cc->hilen) == 0))
		return 0;
	return pk_path_cmp(lo, cc->lolen, path, len) <= 0 ||
	    pk_path_under(lo, cc->lolen, path, len);
}

/* The chunk the current record starts in, into c->at and c->at_off. */
static void
locate(struct pk_catalog *c)
{
	const struct pk_snapshot *s = c->snap;
	uint64_t here = pk_reader_offset(c->r);

	while (c->at + 1 < s->ncatalog && c->at_off + s->catalog[c->at].len <= here)
		c->at_off += s->catalog[c->at++].len;
}

/* Goes on at the first ENTRY that starts in chunk i, after the current
 * record: the chunks between are not fetched. */
static int
jump(struct pk_catalog *c, uint32_t i)
{
	const struct pk_catalog_chunk *cc = &c->snap->catalog[i];
	int e;

	for (; c->at < i; c->at++)
		c->at_off += c->snap->catalog[c->at].len;
	if (c->next != i + 1 && (e = chunk_load(c, i)) < 0)
		return e;
	c->next = i + 1;
	c->pos = cc->entry;
	pk_reader_seek(c->r, c->at_off + cc->entry, cc->recno);
	return 0;
}

/* Skips to the next ENTRY that may be the path selected or below it, when
 * no entry of the chunk the current record starts in can be: the chunks
 * between are not fetched.  1 when no chunk to come can hold it. */
static int
skip(struct pk_catalog *c)
{
	const struct pk_snapshot *s = c->snap;
	const struct pk_catalog_chunk *cc;
	uint32_t i;

	locate(c);
	if (c->at == c->held)
		return 0;	/* it may hold the path: read on */
	cc = &s->catalog[c->at];
	if (cc->entry != PK_CATALOG_NO_ENTRY &&
	    may_hold(s, cc, c->sel, c->sellen)) {
		c->held = c->at;
		return 0;
	}
	/* Entries that start after here in this chunk are not the path; the
	 * first that may be starts a later chunk. */
	for (i = c->at + 1; i < s->ncatalog; i++) {
		cc = &s->catalog[i];
		if (cc->entry != PK_CATALOG_NO_ENTRY &&
		    may_hold(s, cc, c->sel, c->sellen))
			break;
	}
	if (i == s->ncatalog)
		return 1;
	c->held = i;
	return jump(c, i);
}

/*
 * Whether every entry that starts in chunk cc lies below path (at or
 * after the current one, which does): its greatest path does.  A greatest
 * path cut to the key size is not trusted for it.
 */
static int
all_below(const struct pk_snapshot *s, const struct pk_catalog_chunk *cc,
    const uint8_t *path, size_t len)
{
	const uint8_t *hi = s->keys.data + cc->key + cc->lolen;

	if (cc->entry == PK_CATALOG_NO_ENTRY)
		return 1;
	return cc->hilen < PK_CATALOG_KEY_MAX &&
	    pk_path_under(hi, cc->hilen, path, len);
}

/* pk_catalog_skip(), done: 1 when no chunk to come starts an entry past
 * the subtree. */
static int
skip_subtree(struct pk_catalog *c)
{
	const struct pk_snapshot *s = c->snap;
	uint32_t i;

	locate(c);
	for (i = c->at; i < s->ncatalog; i++)
		if (!all_below(s, &s->catalog[i], c->past, c->pastlen))
			break;
	if (i == c->at)
		return 0;
	if (i == s->ncatalog)
		return 1;
	return jump(c, i);
}

void
pk_catalog_skip(struct pk_catalog *c, const uint8_t *path, size_t len)
{
	uint8_t *p;

	if (!c->snap->seekable)
		return;
	if ((p = realloc(c->past, len ? len : 1)) == NULL)
		return;		/* read on: the same records, slower */
	memcpy(p, path, len);
	c->past = p;
	c->pastlen = len;
	c->skip_past = 1;
}

int
pk_catalog_select(struct pk_catalog *c, const uint8_t *path, size_t len)
{
	if (!c->snap->seekable)
		return 0;
	if ((c->sel = malloc(len ? len : 1)) == NULL)
		return -ENOMEM;
	memcpy(c->sel, path, len);
	c->sellen = len;
	c->skip = 1;	/* the first pk_catalog_next() skips to it */
	return 0;
}

int
pk_catalog_next(struct pk_catalog *c, struct pk_record *rec)
{
	struct pk_str path;
	int e;

	if (c->skip && !c->ended) {
		c->skip = 0;
		if ((e = skip(c)) < 0)
			return e;
		c->ended = e;
	}
	if (c->skip_past && !c->ended) {
		c->skip_past = 0;
		if ((e = skip_subtree(c)) < 0)
			return e;
		c->ended = e;
	}
	if (c->ended) {
		memset(rec, 0, sizeof *rec);
		return 0;
	}
	e = pk_reader_next(c->r, rec);
	if (e > 0)
		c->next_off = pk_reader_offset(c->r) + PK_RECORD_HEADER_BYTES +
		    rec->len;
	/* Past an entry that is not the path, the next call may skip (not
	 * this one: rec points into the reader's buffer). */
	if (e > 0 && c->sel != NULL && rec->type == PK_REC_ENTRY &&
	    pk_entry_path(&path, rec->data, rec->len) == 0 &&
	    !pk_path_under(path.p, path.len, c->sel, c->sellen))
		c->skip = 1;
	return e;
}

int
pk_catalog_chunk_entry(struct pk_catalog *c, uint32_t *k)
{
	const struct pk_snapshot *s = c->snap;

	if (!s->seekable || c->sel != NULL)
		return 0;
	while (c->nk < s->ncatalog &&
	    c->nk_off + s->catalog[c->nk].len <= c->next_off)
		c->nk_off += s->catalog[c->nk++].len;
	if (c->nk == s->ncatalog || s->catalog[c->nk].entry == PK_CATALOG_NO_ENTRY ||
	    c->nk_off + s->catalog[c->nk].entry != c->next_off)
		return 0;
	*k = c->nk;
	return 1;
}

int
pk_catalog_skip_chunk(struct pk_catalog *c)
{
	const struct pk_snapshot *s = c->snap;
	const struct pk_catalog_chunk *cc;
	uint32_t k;

	if (!pk_catalog_chunk_entry(c, &k) || k + 1 >= s->ncatalog ||
	    s->catalog[k + 1].entry == PK_CATALOG_NO_ENTRY)
		return pk_err(-EINVAL, "%s: no chunk to skip to", c->name);
	cc = &s->catalog[k + 1];
	c->nk_off += s->catalog[k].len;
	c->nk = k + 1;
	c->next_off = c->nk_off + cc->entry;
	/* The next read loads chunk k + 1, entered at its first ENTRY. */
	c->next = k + 1;
	c->pos = c->chunk.len;
	c->enter_at = cc->entry;
	pk_reader_seek(c->r, c->next_off, cc->recno);
	return 0;
}

uint64_t pk_catalog_offset(const struct pk_catalog *c) { return pk_reader_offset(c->r); }
uint64_t pk_catalog_recno(const struct pk_catalog *c) { return pk_reader_recno(c->r); }

void
pk_catalog_close(struct pk_catalog *c)
{
	if (c == NULL)
		return;
	pk_reader_free(c->r);
	free(c->sel);
	free(c->past);
	pk_blob_reader_release(&c->br);
	pk_buf_release(&c->chunk);
	free(c);
}

int
pk_catalog_chunks(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap,
    int (*fn)(void *arg, const uint8_t id[PK_ID_BYTES]), void *arg)
{
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	int n, e = 0;

	if ((n = pk_catalog_open(&cat, r, ix, snap, &h)) < 0)
		return n;
	while (e == 0 && (n = pk_catalog_next(cat, &rec)) > 0)
		if (rec.type == PK_REC_REF)
			e = fn(arg, rec.data);
	pk_catalog_close(cat);
	return n < 0 ? n : e;
}
