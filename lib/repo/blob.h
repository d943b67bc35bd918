/*
 * blob.h: a blob, one chunk as stored (pk-repo(5) "PACKS"): its bytes,
 * compressed with zstd when that makes them smaller, sealed in a box bound
 * to its storage id; and where it lives, the 64-byte slot of the chunk
 * index and of index deltas.
 */
#ifndef PK_BLOB_H
#define PK_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"

#define PK_PACK_ID_BYTES	16
#define PK_BLOBLOC_BYTES	64

enum { PK_COMP_NONE = 0, PK_COMP_ZSTD = 1 };

/* Where a blob lives. */
struct pk_blobloc {
	uint8_t sid[PK_SID_BYTES];	/* storage id */
	uint8_t pack[PK_PACK_ID_BYTES];
	uint32_t offset;		/* of the box in the pack */
	uint32_t length;		/* of the box */
	uint32_t raw;			/* of the chunk, uncompressed */
	uint32_t flags;			/* PK_BLOBLOC_* */
};

#define PK_BLOBLOC_MARKER 0x1	/* not a blob: an index delta merged */

void pk_blobloc_encode(uint8_t slot[PK_BLOBLOC_BYTES], const struct pk_blobloc *l);
void pk_blobloc_decode(struct pk_blobloc *l, const uint8_t slot[PK_BLOBLOC_BYTES]);

/*
 * Per-thread state for sealing blobs.  level is the zstd level, up to
 * PK_LEVEL_MAX; 0 stores blobs uncompressed.  The default, zstd's own, is
 * the lowest level whose repositories are no larger than restic's at its
 * default (make bench, the curve of levels).
 */
#define PK_LEVEL_DEFAULT	3
#define PK_LEVEL_MAX		19

struct pk_sealer {
	void *zctx;
	int level;
};

int pk_sealer_init(struct pk_sealer *s, int level);
void pk_sealer_release(struct pk_sealer *s);
/* Seals n bytes as the blob sid into out (reset first). */
int pk_blob_seal(struct pk_sealer *s, const struct pk_keys *k,
    const uint8_t sid[PK_SID_BYTES], const uint8_t *p, size_t n,
    struct pk_buf *out);
/*
 * Opens the box of the blob at loc (loc->length bytes) into out, the
 * chunk's loc->raw bytes, with scratch for the plaintext and dctx a zstd
 * decompression context.  -EBADMSG, with a message "blob at offset N:
 * why", when it does not authenticate, decompress or have its length.
 */
int pk_blob_open(const struct pk_keys *k, void *dctx,
    const struct pk_blobloc *loc, const uint8_t *box, struct pk_buf *scratch,
    struct pk_buf *out);

#endif
