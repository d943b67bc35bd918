/* pack.c: pack files: their names, which exist, and writing them. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "hash.h"
#include "hashfile.h"
#include "pack.h"

int
pk_pack_id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PK_PACK_ID_BYTES);
}

void
pk_pack_relpath(char *out, size_t n, const uint8_t id[PK_PACK_ID_BYTES])
{
	char hex[2 * PK_PACK_ID_BYTES + 1];

	assert(n >= PK_PACK_RELPATH_BYTES);
	pk_hex(hex, id, PK_PACK_ID_BYTES);
	snprintf(out, n, "packs/%.2s/%s", hex, hex);
}

int
pk_pack_path(const struct pk_repo *r, char *out, size_t n,
    const uint8_t id[PK_PACK_ID_BYTES])
{
	char rel[PK_PACK_RELPATH_BYTES];

	pk_pack_relpath(rel, sizeof rel, id);
	return pk_storage_name(r->store, out, n, rel);
}

int
pk_pack_exists(struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES])
{
	char rel[PK_PACK_RELPATH_BYTES];

	pk_pack_relpath(rel, sizeof rel, id);
	return pk_storage_exists(r->store, rel);
}

int
pk_pack_remove(struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES])
{
	char rel[PK_PACK_RELPATH_BYTES];

	pk_pack_relpath(rel, sizeof rel, id);
	return pk_storage_remove(r->store, rel);
}

struct pk_pack_census {
	struct pk_repo *repo;
	struct pk_hashfile *seen;	/* pack id, then 8 bytes: 1 alive */
	int listed;
};

static int
census_add(struct pk_pack_census *c, const uint8_t id[PK_PACK_ID_BYTES],
    int alive)
{
	uint8_t slot[24] = { 0 };

	memcpy(slot, id, PK_PACK_ID_BYTES);
	slot[PK_PACK_ID_BYTES] = (uint8_t)alive;
	return pk_hashfile_insert(c->seen, slot) < 0 ? -ENOMEM : 0;
}

/* "ab/ab12…": a pack, which is alive; other names are not packs. */
static int
census_listed(void *arg, const char *name)
{
	uint8_t id[PK_PACK_ID_BYTES];

	if (strlen(name) != 3 + 2 * PK_PACK_ID_BYTES || name[2] != '/' ||
	    pk_unhex(id, sizeof id, name + 3) < 0)
		return 0;
	return census_add(arg, id, 1);
}

int
pk_pack_census_new(struct pk_pack_census **cp, struct pk_repo *r)
{
	struct pk_hashfile_params p = { .kind = PK_HF_PACKS, .slot_bytes = 24,
	    .key_bytes = PK_PACK_ID_BYTES };
	struct pk_pack_census *c;
	int e;

	*cp = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -ENOMEM;
	c->repo = r;
	if ((e = pk_hashfile_open(&c->seen, "packs seen", &p,
	    PK_HF_CREATE | PK_HF_MEMORY)) < 0) {
		free(c);
		return e;
	}
	*cp = c;
	return 0;
}

int
pk_pack_census_alive(struct pk_pack_census *c,
    const uint8_t id[PK_PACK_ID_BYTES])
{
	const uint8_t *s;
	int e;

	/* One listing, rather than a question a pack: a request each on an
	 * object store.  A pack another writer stored since is asked for. */
	if (!c->listed) {
		if ((e = pk_storage_list(c->repo->store, "packs", census_listed,
		    c)) < 0)
			return e;
		c->listed = 1;
	}
	if ((s = pk_hashfile_find(c->seen, id)) != NULL)
		return s[PK_PACK_ID_BYTES];
	if ((e = pk_pack_exists(c->repo, id)) < 0)
		return e;
	return census_add(c, id, e) < 0 ? -ENOMEM : e;
}

void
pk_pack_census_free(struct pk_pack_census *c)
{
	if (c == NULL)
		return;
	pk_hashfile_abort(c->seen);
	free(c);
}

int
pk_pack_begin(struct pk_pack_writer *w, struct pk_repo *r)
{
	uint8_t h[PK_PACK_HEADER_BYTES] = { 0 };
	int e;

	memset(w, 0, sizeof *w);
	w->repo = r;
	w->file.fd = -1;
	pk_random(w->id, sizeof w->id);
	if ((e = pk_storage_new(r->store, &w->file)) < 0)
		return e;
	memcpy(h, PK_PACK_MAGIC, 8);
	pk_put_u32(h + 8, PK_PACK_VERSION);
	if ((e = pk_write_all(w->file.fd, h, sizeof h)) < 0) {
		pk_pack_abort(w);
		return pk_err(e, "%s: write: %s", w->file.tmp, strerror(-e));
	}
	w->size = PK_PACK_HEADER_BYTES;
	return 0;
}

int
pk_pack_full(const struct pk_pack_writer *w)
{
	return w->size >= PK_PACK_TARGET_BYTES || w->count >= PK_PACK_MAX_BLOBS;
}

static int
flush(struct pk_pack_writer *w)
{
	int e = pk_write_all(w->file.fd, w->out.data, w->out.len);

	pk_buf_reset(&w->out);
	return e < 0 ? pk_err(e, "%s: write: %s", w->file.tmp, strerror(-e)) : 0;
}

int
pk_pack_append(struct pk_pack_writer *w, const uint8_t sid[PK_SID_BYTES],
    const uint8_t *box, size_t len, uint32_t raw, struct pk_blobloc *loc)
{
	uint8_t ent[PK_PACK_TRAILER_ENTRY] = { 0 };
	int e;

	/* Small boxes gather in out; a large one goes straight to the file,
	 * so that out stays about PK_PACK_WRITE_BYTES. */
	if ((w->out.len + len > PK_PACK_WRITE_BYTES ||
	    len >= PK_PACK_WRITE_BYTES / 2) && (e = flush(w)) < 0)
		return e;
	if (len >= PK_PACK_WRITE_BYTES / 2) {
		if ((e = pk_write_all(w->file.fd, box, len)) < 0)
			return pk_err(e, "%s: write: %s", w->file.tmp, strerror(-e));
	} else if ((e = pk_buf_add(&w->out, box, len)) < 0) {
		return e;
	}
	memset(loc, 0, sizeof *loc);
	memcpy(loc->sid, sid, PK_SID_BYTES);
	memcpy(loc->pack, w->id, sizeof w->id);
	loc->offset = (uint32_t)w->size;
	loc->length = (uint32_t)len;
	loc->raw = raw;
	memcpy(ent, sid, PK_SID_BYTES);
	pk_put_u32(ent + PK_SID_BYTES, loc->offset);
	pk_put_u32(ent + 36, loc->length);
	pk_put_u32(ent + 40, raw);
	if ((e = pk_buf_add(&w->trailer, ent, sizeof ent)) < 0)
		return e;
	w->size += len;
	w->count++;
	return 0;
}

int
pk_pack_finish(struct pk_pack_writer *w)
{
	struct pk_buf plain = PK_BUF_INIT, box = PK_BUF_INIT;
	uint8_t ad[64], foot[PK_PACK_FOOTER_BYTES];
	char rel[PK_PACK_RELPATH_BYTES];
	size_t adlen;
	int e;

	e = pk_buf_add_u32(&plain, w->count);
	if (e == 0)
		e = pk_buf_add(&plain, w->trailer.data, w->trailer.len);
	if (e == 0)
		e = pk_buf_reserve(&box, plain.len + PK_BOX_OVERHEAD_AEAD);
	if (e < 0)
		goto out;
	adlen = pk_ad_make(ad, PK_PACK_AD, w->id, sizeof w->id);
	pk_box_seal(&w->repo->keys, box.data, plain.data, plain.len, ad, adlen);
	box.len = plain.len + pk_box_overhead(&w->repo->keys);
	pk_put_u64(foot, box.len);
	memcpy(foot + 8, PK_PACK_FOOTER, 8);
	if ((e = pk_buf_add(&w->out, box.data, box.len)) < 0 ||
	    (e = pk_buf_add(&w->out, foot, sizeof foot)) < 0 ||
	    (e = flush(w)) < 0)
		goto out;
	/* Stored in the background: pk_storage_flush() before an index
	 * delta names it. */
	pk_pack_relpath(rel, sizeof rel, w->id);
	e = pk_storage_commit(w->repo->store, &w->file, rel, 1);
out:
	if (e < 0)
		pk_pack_abort(w);
	pk_buf_release(&plain);
	pk_buf_release(&box);
	pk_buf_release(&w->trailer);
	pk_buf_release(&w->out);
	return e;
}

void
pk_pack_abort(struct pk_pack_writer *w)
{
	pk_atomic_abort(&w->file);
	pk_buf_release(&w->trailer);
	pk_buf_release(&w->out);
}
