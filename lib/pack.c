#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "chunker.h"
#include "err.h"
#include "hash.h"
#include "hashfile.h"
#include "pack.h"

#define PACK_MAGIC	"PKPACK\0\0"
#define PACK_FOOTER	"PKPACKND"
#define PACK_VERSION	1
#define HEADER_BYTES	16
#define FOOTER_BYTES	16
#define TRAILER_ENTRY	48
#define AD_BLOB		"pk blob"	/* + storage id */
#define AD_PACK		"pk pack"	/* + pack id */

void
pk_blobloc_encode(uint8_t s[PK_BLOBLOC_BYTES], const struct pk_blobloc *l)
{
	memcpy(s, l->sid, PK_SID_BYTES);
	memcpy(s + PK_SID_BYTES, l->pack, PK_PACK_ID_BYTES);
	pk_put_u32(s + 48, l->offset);
	pk_put_u32(s + 52, l->length);
	pk_put_u32(s + 56, l->raw);
	pk_put_u32(s + 60, l->flags);
}

void
pk_blobloc_decode(struct pk_blobloc *l, const uint8_t s[PK_BLOBLOC_BYTES])
{
	memcpy(l->sid, s, PK_SID_BYTES);
	memcpy(l->pack, s + PK_SID_BYTES, PK_PACK_ID_BYTES);
	l->offset = pk_load_u32(s + 48);
	l->length = pk_load_u32(s + 52);
	l->raw = pk_load_u32(s + 56);
	l->flags = pk_load_u32(s + 60);
}

static size_t
ad_make(uint8_t *ad, const char *label, const uint8_t *id, size_t idlen)
{
	size_t n = strlen(label) + 1;

	memcpy(ad, label, n);
	memcpy(ad + n, id, idlen);
	return n + idlen;
}

int
pk_sealer_init(struct pk_sealer *s, int level)
{
	memset(s, 0, sizeof *s);
	s->level = level;
	if (level > 0 && (s->zctx = ZSTD_createCCtx()) == NULL)
		return -ENOMEM;
	return 0;
}

void
pk_sealer_release(struct pk_sealer *s)
{
	ZSTD_freeCCtx(s->zctx);
	s->zctx = NULL;
}

int
pk_blob_seal(struct pk_sealer *s, const struct pk_keys *k,
    const uint8_t sid[PK_SID_BYTES], const uint8_t *p, size_t n, struct pk_buf *out)
{
	size_t bound = ZSTD_compressBound(n), pre = pk_box_prefix(k), z, len;
	uint8_t ad[64], *plain;
	int e;

	/* The plaintext (a compression byte, then the bytes) is built where
	 * the box will hold it and sealed in place: one buffer, no copy. */
	pk_buf_reset(out);
	if ((e = pk_buf_reserve(out, 1 + (bound > n ? bound : n) +
	    PK_BOX_OVERHEAD_AEAD)) < 0)
		return e;
	plain = out->data + pre;
	plain[0] = PK_COMP_NONE;
	len = 1 + n;
	if (s->level > 0) {
		z = ZSTD_compressCCtx(s->zctx, plain + 1, bound, p, n, s->level);
		if (!ZSTD_isError(z) && z < n) {
			plain[0] = PK_COMP_ZSTD;
			len = 1 + z;
		}
	}
	if (plain[0] == PK_COMP_NONE)
		memcpy(plain + 1, p, n);
	pk_box_seal(k, out->data, plain, len, ad, ad_make(ad, AD_BLOB, sid, PK_SID_BYTES));
	out->len = len + pk_box_overhead(k);
	return 0;
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
	return pk_repo_path(r, out, n, rel);
}

int
pk_pack_exists(struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES])
{
	char path[4096];
	struct stat st;
	int e;

	if ((e = pk_pack_path(r, path, sizeof path, id)) < 0)
		return e;
	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return pk_err(-errno, "%s: %s", path, strerror(errno));
}

struct pk_pack_census {
	struct pk_repo *repo;
	struct pk_hashfile *seen;	/* pack id, then 8 bytes: 1 alive */
};

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
	uint8_t slot[24] = { 0 };
	const uint8_t *s;
	int e;

	if ((s = pk_hashfile_find(c->seen, id)) != NULL)
		return s[PK_PACK_ID_BYTES];
	if ((e = pk_pack_exists(c->repo, id)) < 0)
		return e;
	memcpy(slot, id, PK_PACK_ID_BYTES);
	slot[PK_PACK_ID_BYTES] = (uint8_t)e;
	return pk_hashfile_insert(c->seen, slot) < 0 ? -ENOMEM : e;
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
	uint8_t h[HEADER_BYTES] = { 0 };
	char tmp[4096];
	int e;

	memset(w, 0, sizeof *w);
	w->repo = r;
	w->file.fd = -1;
	pk_random(w->id, sizeof w->id);
	if ((e = pk_repo_path(r, tmp, sizeof tmp, "tmp")) < 0 ||
	    (e = pk_atomic_open(&w->file, tmp, 0400)) < 0)
		return e;
	memcpy(h, PACK_MAGIC, 8);
	pk_put_u32(h + 8, PACK_VERSION);
	if ((e = pk_write_all(w->file.fd, h, sizeof h)) < 0) {
		pk_pack_abort(w);
		return pk_err(e, "%s: write: %s", tmp, strerror(-e));
	}
	w->size = HEADER_BYTES;
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
	uint8_t ent[TRAILER_ENTRY] = { 0 };
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
	uint8_t ad[64], foot[FOOTER_BYTES];
	char path[4096];
	size_t adlen;
	int e;

	e = pk_buf_add_u32(&plain, w->count);
	if (e == 0)
		e = pk_buf_add(&plain, w->trailer.data, w->trailer.len);
	if (e == 0)
		e = pk_buf_reserve(&box, plain.len + PK_BOX_OVERHEAD_AEAD);
	if (e < 0)
		goto out;
	adlen = ad_make(ad, AD_PACK, w->id, sizeof w->id);
	pk_box_seal(&w->repo->keys, box.data, plain.data, plain.len, ad, adlen);
	box.len = plain.len + pk_box_overhead(&w->repo->keys);
	pk_put_u64(foot, box.len);
	memcpy(foot + 8, PACK_FOOTER, 8);
	if ((e = pk_buf_add(&w->out, box.data, box.len)) < 0 ||
	    (e = pk_buf_add(&w->out, foot, sizeof foot)) < 0 ||
	    (e = flush(w)) < 0)
		goto out;
	if ((e = pk_pack_path(w->repo, path, sizeof path, w->id)) < 0)
		goto out;
	*strrchr(path, '/') = '\0';
	if (mkdir(path, 0700) == 0) {
		/* The new directory must survive a crash like the pack. */
		*strrchr(path, '/') = '\0';
		e = pk_fsync_dir(path);
		if (e < 0) {
			e = pk_err(e, "%s: fsync: %s", path, strerror(-e));
			goto out;
		}
	} else if (errno != EEXIST) {
		e = pk_err(-errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((e = pk_pack_path(w->repo, path, sizeof path, w->id)) == 0)
		e = pk_atomic_commit(&w->file, path);
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

int
pk_blob_reader_init(struct pk_blob_reader *br, struct pk_repo *r)
{
	memset(br, 0, sizeof *br);
	br->repo = r;
	br->fd = -1;
	if ((br->dctx = ZSTD_createDCtx()) == NULL)
		return -ENOMEM;
	return 0;
}

void
pk_blob_reader_release(struct pk_blob_reader *br)
{
	if (br->fd >= 0)
		close(br->fd);
	br->fd = -1;
	ZSTD_freeDCtx(br->dctx);
	br->dctx = NULL;
	pk_buf_release(&br->box);
	pk_buf_release(&br->plain);
}

static int
pack_open(struct pk_blob_reader *br, const uint8_t id[PK_PACK_ID_BYTES],
    char *path, size_t n)
{
	int e;

	if ((e = pk_pack_path(br->repo, path, n, id)) < 0)
		return e;
	if (br->fd >= 0 && memcmp(br->pack, id, PK_PACK_ID_BYTES) == 0)
		return 0;
	if (br->fd >= 0)
		close(br->fd);
	br->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (br->fd < 0)
		return pk_err(-errno, "%s: %s", path, strerror(errno));
	memcpy(br->pack, id, PK_PACK_ID_BYTES);
	return 0;
}

int
pk_blob_read(struct pk_blob_reader *br, const struct pk_blobloc *loc,
    struct pk_buf *out)
{
	const struct pk_keys *k = &br->repo->keys;
	uint8_t ad[64];
	char path[4096];
	size_t z, plen;
	int e;

	pk_buf_reset(out);
	if ((e = pack_open(br, loc->pack, path, sizeof path)) < 0)
		return e;
	pk_buf_reset(&br->box);
	pk_buf_reset(&br->plain);
	/* Lengths are checked before anything is allocated for them: the
	 * chunk index holding them is not authenticated. */
	if (loc->length < pk_box_overhead(k) + 1 ||
	    loc->raw > PK_CHUNK_MAX_LIMIT ||
	    loc->length > PK_CHUNK_MAX_LIMIT + 1 + pk_box_overhead(k) ||
	    (e = pk_buf_reserve(&br->box, loc->length)) < 0 ||
	    (e = pk_buf_reserve(&br->plain, loc->length)) < 0 ||
	    (e = pk_buf_reserve(out, loc->raw)) < 0)
		return e < 0 ? e : pk_err(-EBADMSG, "%s: bad blob length", path);
	if ((e = pk_pread_all(br->fd, br->box.data, loc->length, loc->offset)) < 0)
		return pk_err(e == -ENODATA ? -EBADMSG : e, "%s: %s", path,
		    e == -ENODATA ? "short read" : strerror(-e));
	if (pk_box_open(k, br->plain.data, br->box.data, loc->length, ad,
	    ad_make(ad, AD_BLOB, loc->sid, PK_SID_BYTES)) < 0)
		return pk_err(-EBADMSG, "%s: blob at offset %" PRIu32
		    " does not authenticate (corrupt)", path, loc->offset);
	plen = loc->length - pk_box_overhead(k) - 1;
	switch (br->plain.data[0]) {
	case PK_COMP_NONE:
		if (plen != loc->raw)
			return pk_err(-EBADMSG, "%s: blob at offset %" PRIu32
			    ": wrong length", path, loc->offset);
		memcpy(out->data, br->plain.data + 1, plen);
		break;
	case PK_COMP_ZSTD:
		z = ZSTD_decompressDCtx(br->dctx, out->data, loc->raw,
		    br->plain.data + 1, plen);
		if (ZSTD_isError(z) || z != loc->raw)
			return pk_err(-EBADMSG, "%s: blob at offset %" PRIu32
			    ": does not decompress", path, loc->offset);
		break;
	default:
		return pk_err(-EBADMSG, "%s: blob at offset %" PRIu32
		    ": unknown compression", path, loc->offset);
	}
	out->len = loc->raw;
	return 0;
}

int
pk_pack_list(struct pk_blob_reader *br, const uint8_t id[PK_PACK_ID_BYTES],
    int (*fn)(void *arg, const struct pk_blobloc *loc), void *arg)
{
	const struct pk_keys *k = &br->repo->keys;
	uint8_t h[HEADER_BYTES], foot[FOOTER_BYTES], ad[64];
	struct pk_blobloc loc;
	struct pk_cursor c;
	struct stat st;
	uint64_t blen, end, i, count;
	struct pk_buf plain = PK_BUF_INIT;	/* fn may read blobs with br */
	char path[4096];
	int e;

	if ((e = pack_open(br, id, path, sizeof path)) < 0)
		return e;
	if (fstat(br->fd, &st) < 0)
		return pk_err(-errno, "%s: %s", path, strerror(errno));
	end = (uint64_t)st.st_size;
	if (end < HEADER_BYTES + FOOTER_BYTES ||
	    pk_pread_all(br->fd, h, sizeof h, 0) < 0 ||
	    pk_pread_all(br->fd, foot, sizeof foot, end - FOOTER_BYTES) < 0 ||
	    memcmp(h, PACK_MAGIC, 8) != 0 || memcmp(foot + 8, PACK_FOOTER, 8) != 0)
		return pk_err(-EBADMSG, "%s: not a pack file (truncated?)", path);
	if (pk_load_u32(h + 8) != PACK_VERSION)
		return pk_err(-EPROTO, "%s: unsupported pack version", path);
	if (pk_load_u32(h + 12) != 0)
		return pk_err(-EBADMSG, "%s: reserved header bytes set", path);
	blen = pk_load_u64(foot);
	if (blen < pk_box_overhead(k) + 4 ||
	    blen > end - HEADER_BYTES - FOOTER_BYTES)
		return pk_err(-EBADMSG, "%s: bad trailer length", path);
	pk_buf_reset(&br->box);
	if ((e = pk_buf_reserve(&br->box, blen)) < 0 ||
	    (e = pk_buf_reserve(&plain, blen)) < 0)
		goto out;
	if ((e = pk_pread_all(br->fd, br->box.data, blen, end - FOOTER_BYTES - blen)) < 0) {
		e = pk_err(-EBADMSG, "%s: short read", path);
		goto out;
	}
	if (pk_box_open(k, plain.data, br->box.data, blen, ad,
	    ad_make(ad, AD_PACK, id, PK_PACK_ID_BYTES)) < 0) {
		e = pk_err(-EBADMSG, "%s: trailer does not authenticate (corrupt)",
		    path);
		goto out;
	}
	pk_cursor_init(&c, plain.data, blen - pk_box_overhead(k));
	count = pk_get_u32(&c);
	if (c.left != count * TRAILER_ENTRY) {
		e = pk_err(-EBADMSG, "%s: bad trailer", path);
		goto out;
	}
	for (i = 0; i < count; i++) {
		memset(&loc, 0, sizeof loc);
		memcpy(loc.sid, pk_get_bytes(&c, PK_SID_BYTES), PK_SID_BYTES);
		memcpy(loc.pack, id, PK_PACK_ID_BYTES);
		loc.offset = pk_get_u32(&c);
		loc.length = pk_get_u32(&c);
		loc.raw = pk_get_u32(&c);
		if (pk_get_u32(&c) != 0) {
			e = pk_err(-EBADMSG, "%s: trailer: reserved bytes set", path);
			break;
		}
		if ((uint64_t)loc.offset + loc.length > end - FOOTER_BYTES - blen ||
		    loc.offset < HEADER_BYTES) {
			e = pk_err(-EBADMSG, "%s: trailer entry out of range", path);
			break;
		}
		if ((e = fn(arg, &loc)) != 0)
			break;
	}
out:
	pk_buf_release(&plain);
	return e;
}
