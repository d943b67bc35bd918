#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "err.h"
#include "hash.h"

struct pk_catalog {
	struct pk_repo *repo;
	const struct pk_index *ix;
	const struct pk_snapshot *snap;
	struct pk_blob_reader br;
	struct pk_buf chunk;
	size_t pos;
	uint32_t next;
	struct pk_reader *r;
	char name[32];
};

int
pk_chunk_fetch(struct pk_repo *r, const struct pk_index *ix,
    struct pk_blob_reader *br, const uint8_t id[PK_ID_BYTES], uint32_t len,
    struct pk_buf *out)
{
	uint8_t sid[32], check[PK_ID_BYTES];
	struct pk_blobloc loc;
	char hex[17];
	int e;

	pk_hex(hex, id, 8);
	pk_storage_id(&r->keys, sid, id);
	if (!pk_index_find(ix, sid, &loc))
		return pk_err(-ENOENT, "chunk %s…: not in the repository", hex);
	if (loc.raw != len)
		return pk_err(-EBADMSG, "chunk %s…: stored with another length", hex);
	if ((e = pk_blob_read(br, &loc, out)) < 0)
		return e;
	pk_hash_id(check, out->data, out->len);
	if (memcmp(check, id, PK_ID_BYTES) != 0) {
		char rel[128];

		pk_pack_relpath(rel, sizeof rel, loc.pack);
		return pk_err(-EBADMSG, "%s/%s: chunk %s… does not match its id",
		    r->path, rel, hex);
	}
	return 0;
}

static ssize_t
source(void *arg, void *p, size_t n)
{
	struct pk_catalog *c = arg;
	const struct pk_catalog_chunk *cc;
	size_t k;
	int e;

	while (c->pos == c->chunk.len) {
		if (c->next == c->snap->ncatalog)
			return 0;
		cc = &c->snap->catalog[c->next++];
		if ((e = pk_chunk_fetch(c->repo, c->ix, &c->br, cc->id, cc->len,
		    &c->chunk)) < 0)
			return e;
		c->pos = 0;
	}
	k = c->chunk.len - c->pos;
	if (k > n)
		k = n;
	memcpy(p, c->chunk.data + c->pos, k);
	c->pos += k;
	return (ssize_t)k;
}

int
pk_catalog_open(struct pk_catalog **cp, struct pk_repo *r,
    const struct pk_index *ix, const struct pk_snapshot *snap,
    struct pk_stream_header *h)
{
	struct pk_catalog *c;
	int e;

	*cp = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -ENOMEM;
	c->repo = r;
	c->ix = ix;
	c->snap = snap;
	snprintf(c->name, sizeof c->name, "catalog %.12s", "");
	pk_hex(c->name + 8, snap->id, 6);
	if ((e = pk_blob_reader_init(&c->br, r)) < 0 ||
	    (e = pk_reader_new_source(&c->r, source, c, c->name)) < 0 ||
	    (e = pk_reader_header(c->r, h)) < 0) {
		pk_catalog_close(c);
		return e;
	}
	*cp = c;
	return 0;
}

int
pk_catalog_next(struct pk_catalog *c, struct pk_record *rec)
{
	return pk_reader_next(c->r, rec);
}

void
pk_catalog_close(struct pk_catalog *c)
{
	if (c == NULL)
		return;
	pk_reader_free(c->r);
	pk_blob_reader_release(&c->br);
	pk_buf_release(&c->chunk);
	free(c);
}
