/* seektable.c: building a catalog's seek table. */
#include <errno.h>
#include <string.h>

#include "entry.h"
#include "seektable.h"

/* A mark: u64 offset, u64 recno, u16 key length, the key. */
#define MARK_FIXED	18

int
pk_seekbuild_entry(struct pk_seekbuild *b, uint64_t offset, uint64_t recno,
    const uint8_t *path, size_t len)
{
	if (len > PK_CATALOG_KEY_MAX)
		len = PK_CATALOG_KEY_MAX;
	if (pk_buf_add_u64(&b->marks, offset) < 0 ||
	    pk_buf_add_u64(&b->marks, recno) < 0 ||
	    pk_buf_add_u16(&b->marks, (uint16_t)len) < 0 ||
	    pk_buf_add(&b->marks, path, len) < 0)
		return -ENOMEM;
	return 0;
}

int
pk_seekbuild_chunk(struct pk_seekbuild *b, struct pk_catalog_chunk *cc,
    struct pk_buf *keys)
{
	const uint8_t *m = b->marks.data, *lo = NULL, *hi = NULL;
	uint64_t end = b->chunk_off + cc->len, off;
	size_t at = 0, lolen = 0, hilen = 0, n;

	cc->entry = PK_CATALOG_NO_ENTRY;
	cc->recno = 0;
	/* Keys cut to the same size compare as their paths do, or equal:
	 * the least and greatest cut keys are the cut least and greatest. */
	while (at < b->marks.len && (off = pk_load_u64(m + at)) < end) {
		const uint8_t *key = m + at + MARK_FIXED;

		n = (size_t)m[at + 16] | (size_t)m[at + 17] << 8;
		if (cc->entry == PK_CATALOG_NO_ENTRY) {
			cc->entry = (uint32_t)(off - b->chunk_off);
			cc->recno = pk_load_u64(m + at + 8);
			lo = hi = key;
			lolen = hilen = n;
		} else if (pk_path_cmp(key, n, lo, lolen) < 0) {
			lo = key, lolen = n;
		} else if (pk_path_cmp(key, n, hi, hilen) > 0) {
			hi = key, hilen = n;
		}
		at += MARK_FIXED + n;
	}
	b->chunk_off = end;
	cc->key = (uint32_t)keys->len;
	cc->lolen = (uint16_t)lolen;
	cc->hilen = (uint16_t)hilen;
	if (cc->entry != PK_CATALOG_NO_ENTRY &&
	    (pk_buf_add(keys, lo, lolen) < 0 || pk_buf_add(keys, hi, hilen) < 0))
		return -ENOMEM;
	if (at < b->marks.len)	/* (marks.data is NULL when nothing was added) */
		memmove(b->marks.data, b->marks.data + at, b->marks.len - at);
	b->marks.len -= at;
	return 0;
}

void
pk_seekbuild_release(struct pk_seekbuild *b)
{
	pk_buf_release(&b->marks);
}
