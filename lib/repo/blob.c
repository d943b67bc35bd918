/* blob.c: a blob's location, and its box sealed and opened. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <zstd.h>

#include "blob.h"
#include "err.h"

#define AD_BLOB		"pk blob"	/* + storage id */

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
	pk_box_seal(k, out->data, plain, len, ad, pk_ad_make(ad, AD_BLOB, sid, PK_SID_BYTES));
	out->len = len + pk_box_overhead(k);
	return 0;
}

int
pk_blob_open(const struct pk_keys *k, void *dctx, const struct pk_blobloc *loc,
    const uint8_t *box, struct pk_buf *scratch, struct pk_buf *out)
{
	uint8_t ad[64];
	size_t z, plen;
	int e;

	pk_buf_reset(scratch);
	pk_buf_reset(out);
	if (loc->length < pk_box_overhead(k) + 1)
		return pk_err(-EBADMSG, "blob at offset %" PRIu32 ": too short",
		    loc->offset);
	if ((e = pk_buf_reserve(scratch, loc->length)) < 0 ||
	    (e = pk_buf_reserve(out, loc->raw)) < 0)
		return e;
	if (pk_box_open(k, scratch->data, box, loc->length, ad,
	    pk_ad_make(ad, AD_BLOB, loc->sid, PK_SID_BYTES)) < 0)
		return pk_err(-EBADMSG, "blob at offset %" PRIu32
		    " does not authenticate (corrupt)", loc->offset);
	plen = loc->length - pk_box_overhead(k) - 1;
	switch (scratch->data[0]) {
	case PK_COMP_NONE:
		if (plen != loc->raw)
			return pk_err(-EBADMSG, "blob at offset %" PRIu32
			    ": wrong length", loc->offset);
		memcpy(out->data, scratch->data + 1, plen);
		break;
	case PK_COMP_ZSTD:
		z = ZSTD_decompressDCtx(dctx, out->data, loc->raw,
		    scratch->data + 1, plen);
		if (ZSTD_isError(z) || z != loc->raw)
			return pk_err(-EBADMSG, "blob at offset %" PRIu32
			    ": does not decompress", loc->offset);
		break;
	default:
		return pk_err(-EBADMSG, "blob at offset %" PRIu32
		    ": unknown compression", loc->offset);
	}
	out->len = loc->raw;
	return 0;
}
