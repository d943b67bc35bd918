/* packread.c: reading pack files: blobs by location, and trailers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "chunker.h"
#include "err.h"
#include "packread.h"

int
pk_blob_reader_init(struct pk_blob_reader *br, struct pk_repo *r)
{
	memset(br, 0, sizeof *br);
	br->repo = r;
	if ((br->dctx = ZSTD_createDCtx()) == NULL)
		return -ENOMEM;
	return 0;
}

void
pk_blob_reader_release(struct pk_blob_reader *br)
{
	pk_object_close(br->obj);
	br->obj = NULL;
	ZSTD_freeDCtx(br->dctx);
	br->dctx = NULL;
	pk_buf_release(&br->box);
	pk_buf_release(&br->plain);
}

static int
pack_open(struct pk_blob_reader *br, const uint8_t id[PK_PACK_ID_BYTES],
    char *path, size_t n)
{
	char rel[PK_PACK_RELPATH_BYTES];
	int e;

	if ((e = pk_pack_path(br->repo, path, n, id)) < 0)
		return e;
	if (br->obj != NULL && memcmp(br->pack, id, PK_PACK_ID_BYTES) == 0)
		return 0;
	pk_object_close(br->obj);
	br->obj = NULL;
	pk_pack_relpath(rel, sizeof rel, id);
	if ((e = pk_object_open(br->repo->store, rel, &br->obj)) < 0)
		return e;
	memcpy(br->pack, id, PK_PACK_ID_BYTES);
	return 0;
}

int
pk_blob_read(struct pk_blob_reader *br, const struct pk_blobloc *loc,
    struct pk_buf *out)
{
	const struct pk_keys *k = &br->repo->keys;
	char path[4096];
	int e;

	pk_buf_reset(out);
	if ((e = pack_open(br, loc->pack, path, sizeof path)) < 0)
		return e;
	pk_buf_reset(&br->box);
	/* Lengths are checked before anything is allocated for them: the
	 * chunk index holding them is not authenticated. */
	if (loc->length < pk_box_overhead(k) + 1 ||
	    loc->raw > PK_CHUNK_MAX_LIMIT ||
	    loc->length > PK_CHUNK_MAX_LIMIT + 1 + pk_box_overhead(k))
		return pk_err(-EBADMSG, "%s: bad blob length", path);
	if ((e = pk_buf_reserve(&br->box, loc->length)) < 0)
		return e;
	if ((e = pk_object_read(br->obj, br->box.data, loc->length,
	    loc->offset)) < 0)
		return e == -ENODATA ? pk_err(-EBADMSG, "%s: short read", path) : e;
	if ((e = pk_blob_open(k, br->dctx, loc, br->box.data, &br->plain,
	    out)) < 0)
		return e == -ENOMEM ? e : pk_err(e, "%s: %s", path, pk_errmsg(e));
	return 0;
}

int
pk_pack_list(struct pk_blob_reader *br, const uint8_t id[PK_PACK_ID_BYTES],
    int (*fn)(void *arg, const struct pk_blobloc *loc), void *arg)
{
	const struct pk_keys *k = &br->repo->keys;
	uint8_t h[PK_PACK_HEADER_BYTES], foot[PK_PACK_FOOTER_BYTES], ad[64];
	struct pk_blobloc loc;
	struct pk_cursor c;
	uint64_t blen, end, i, count;
	struct pk_buf plain = PK_BUF_INIT;	/* fn may read blobs with br */
	char path[4096];
	int e;

	if ((e = pack_open(br, id, path, sizeof path)) < 0)
		return e;
	if ((e = pk_object_size(br->obj, &end)) < 0)
		return e;
	/* A read that failed is its own error; one that found too few bytes
	 * is the pack's. */
	if (end >= PK_PACK_HEADER_BYTES + PK_PACK_FOOTER_BYTES &&
	    ((e = pk_object_read(br->obj, h, sizeof h, 0)) < 0 ||
	    (e = pk_object_read(br->obj, foot, sizeof foot,
	    end - PK_PACK_FOOTER_BYTES)) < 0) && e != -ENODATA)
		return e;
	if (end < PK_PACK_HEADER_BYTES + PK_PACK_FOOTER_BYTES || e < 0 ||
	    memcmp(h, PK_PACK_MAGIC, 8) != 0 || memcmp(foot + 8, PK_PACK_FOOTER, 8) != 0)
		return pk_err(-EBADMSG, "%s: not a pack file (truncated?)", path);
	if (pk_load_u32(h + 8) != PK_PACK_VERSION)
		return pk_err(-EPROTO, "%s: unsupported pack version", path);
	if (pk_load_u32(h + 12) != 0)
		return pk_err(-EBADMSG, "%s: reserved header bytes set", path);
	blen = pk_load_u64(foot);
	if (blen < pk_box_overhead(k) + 4 ||
	    blen > end - PK_PACK_HEADER_BYTES - PK_PACK_FOOTER_BYTES)
		return pk_err(-EBADMSG, "%s: bad trailer length", path);
	pk_buf_reset(&br->box);
	if ((e = pk_buf_reserve(&br->box, blen)) < 0 ||
	    (e = pk_buf_reserve(&plain, blen)) < 0)
		goto out;
	if ((e = pk_object_read(br->obj, br->box.data, blen,
	    end - PK_PACK_FOOTER_BYTES - blen)) < 0) {
		if (e == -ENODATA)
			e = pk_err(-EBADMSG, "%s: short read", path);
		goto out;
	}
	if (pk_box_open(k, plain.data, br->box.data, blen, ad,
	    pk_ad_make(ad, PK_PACK_AD, id, PK_PACK_ID_BYTES)) < 0) {
		e = pk_err(-EBADMSG, "%s: trailer does not authenticate (corrupt)",
		    path);
		goto out;
	}
	pk_cursor_init(&c, plain.data, blen - pk_box_overhead(k));
	count = pk_get_u32(&c);
	if (c.left != count * PK_PACK_TRAILER_ENTRY) {
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
		if ((uint64_t)loc.offset + loc.length > end - PK_PACK_FOOTER_BYTES - blen ||
		    loc.offset < PK_PACK_HEADER_BYTES) {
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
