#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "err.h"
#include "hashfile.h"
#include "validate.h"

void
pk_validator_init(struct pk_validator *v, unsigned flags)
{
	memset(v, 0, sizeof *v);
	v->flags = flags;
}

void
pk_validator_release(struct pk_validator *v)
{
	pk_buf_release(&v->ent);
	pk_buf_release(&v->xbuf);
	pk_buf_release(&v->prev);
	pk_hashfile_abort(v->links);
	memset(v, 0, sizeof *v);
}

static int
bad(struct pk_validator *v, const char *why)
{
	v->in_file = 0;
	v->skipping = 1;
	return pk_err(-EBADMSG, "%s", why);
}

/*
 * Walk order: each path after the one before (pk_path_cmp), so that a
 * subtree's entries are contiguous and each path comes once; "." first,
 * the root of everything after it.  An entry below a path that is not a
 * directory would come right after that path, since nothing orders
 * between a path and its subtree: the one before is the only one to look
 * at.
 */
static int
check_order(struct pk_validator *v)
{
	const struct pk_str *p = &v->e.path;
	int c;

	if (v->entries == 0)
		return 0;
	c = pk_path_order(v->prev.data, v->prev.len, p->p, p->len);
	if (c == 0)
		return bad(v, "a path that came before (each path comes once)");
	if (c > 0)
		return bad(v, "a path out of order (paths come in walk order, "
		    "pk-stream(5))");
	/* "." holds everything, and is a directory: no case of its own. */
	if (v->prevtype != PK_FT_DIR &&
	    pk_path_under(p->p, p->len, v->prev.data, v->prev.len))
		return bad(v, "a path below one that is not a directory");
	return 0;
}

/*
 * A hard link must name an earlier regular file with more than one link,
 * or the snapshot would not restore.  Only those files are remembered, by
 * a hash of their path, in memory: as many as the multiply-linked files of
 * the tree, like pk-walk's own table of them.
 */
static void
link_key(const struct pk_str *path, uint8_t key[16])
{
	crypto_generichash(key, 16, path->p, path->len, NULL, 0);
}

static int
check_link(struct pk_validator *v)
{
	struct pk_hashfile_params p = { .kind = PK_HF_LINKS, .slot_bytes = 16,
	    .key_bytes = 16 };
	uint8_t key[16];
	int e;

	if (v->e.type == PK_FT_REG && v->e.nlink > 1) {
		if (v->links == NULL && (e = pk_hashfile_open(&v->links,
		    "hard link targets", &p, PK_HF_CREATE | PK_HF_MEMORY)) < 0)
			return e;
		link_key(&v->e.path, key);
		e = pk_hashfile_insert(v->links, key);
		return e < 0 ? e : 0;
	}
	if (v->e.type != PK_FT_HARDLINK)
		return 0;
	link_key(&v->e.link, key);
	if (v->links == NULL || pk_hashfile_find(v->links, key) == NULL)
		return bad(v, "hard link to a path that is not an earlier "
		    "regular file with more than one link");
	return 0;
}

static int
on_entry(struct pk_validator *v, const struct pk_record *rec)
{
	int e;

	if (v->in_file)
		return bad(v, "ENTRY before the EOF of the previous file");
	v->skipping = 0;
	/* The decoded entry borrows its strings: keep the payload. */
	pk_buf_reset(&v->ent);
	if ((e = pk_buf_add(&v->ent, rec->data, rec->len)) < 0)
		return e;
	if ((e = pk_entry_decode(&v->e, v->ent.data, v->ent.len, &v->xbuf)) < 0)
		return bad(v, pk_errmsg(e));
	if (v->e.size == PK_SIZE_UNKNOWN && (v->e.type != PK_FT_REG ||
	    (v->flags & PK_VALIDATE_CATALOG)))
		return bad(v, "entry: size unknown");
	if ((e = check_order(v)) < 0 || (e = check_link(v)) < 0)
		return e;
	v->entries++;
	pk_buf_reset(&v->prev);
	if ((e = pk_buf_add(&v->prev, v->e.path.p, v->e.path.len)) < 0)
		return e;
	v->prevtype = v->e.type;
	if (v->e.type == PK_FT_REG) {
		v->in_file = 1;
		v->size_unknown = v->e.size == PK_SIZE_UNKNOWN;
		v->size = v->size_unknown ? PK_ENTRY_MAX_SIZE : v->e.size;
		v->got = 0;
	}
	return 0;
}

static int
add_content(struct pk_validator *v, uint64_t n)
{
	if (!v->in_file)
		return bad(v, "content outside a regular file");
	if (n > v->size - v->got)
		return bad(v, v->size_unknown ? "content above the largest file "
		    "pk stores" : "more content than the entry's size");
	v->got += n;
	return 0;
}

static int
on_eof(struct pk_validator *v, const struct pk_record *rec)
{
	uint64_t size;
	uint32_t flags;

	if (!v->in_file)
		return bad(v, "EOF outside a regular file");
	if (pk_record_eof(rec, &size, &flags) < 0)
		return bad(v, "bad EOF record");
	if (size != v->got || (!v->size_unknown && size != v->size))
		return bad(v, "file content does not add up to its size");
	v->in_file = 0;
	return 0;
}

int
pk_validate(struct pk_validator *v, const struct pk_record *rec)
{
	const uint8_t *a, *b;
	size_t alen, blen;
	uint64_t n;
	uint32_t len;
	int errnum;

	if (rec->type == PK_REC_ENTRY)
		return on_entry(v, rec);
	if (v->skipping)
		return 0;
	switch (rec->type) {
	case PK_REC_DATA:
		if (v->flags & PK_VALIDATE_CATALOG)
			return bad(v, "file data in a catalog");
		return add_content(v, rec->len);
	case PK_REC_CHUNK:
		if (v->flags & PK_VALIDATE_CATALOG)
			return bad(v, "chunk data in a catalog");
		if (pk_record_chunk(rec, &a, &b, &len) < 0)
			return bad(v, "bad CHUNK record");
		return add_content(v, len);
	case PK_REC_REF:
		if (pk_record_ref(rec, &a, &len) < 0 || len == 0)
			return bad(v, "bad REF record");
		return add_content(v, len);
	case PK_REC_HOLE:
		if (pk_record_hole(rec, &n) < 0)
			return bad(v, "bad HOLE record");
		return add_content(v, n);
	case PK_REC_EOF:
		return on_eof(v, rec);
	case PK_REC_ERROR:
		if (v->in_file)
			return bad(v, "ERROR inside a file's content");
		if (pk_record_error(rec, &errnum, &a, &alen, &b, &blen) < 0)
			return bad(v, "bad ERROR record");
		return 0;
	case PK_REC_META:
		return 0;
	}
	if (rec->flags & PK_RECF_IGNORABLE)
		return 0;
	return bad(v, "unknown record type");
}

int
pk_validate_end(struct pk_validator *v)
{
	if (v->in_file)
		return bad(v, "stream ends inside a file");
	return 0;
}
