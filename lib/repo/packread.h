/*
 * packread.h: reading pack files (pack.h): blobs by their location, and
 * the trailer that lists a pack's blobs.
 */
#ifndef PK_PACKREAD_H
#define PK_PACKREAD_H

#include <stdint.h>

#include "blob.h"
#include "buf.h"
#include "pack.h"
#include "repo.h"

/*
 * Reading blobs.  A reader keeps the last pack open.  pk_blob_read fills
 * out with the chunk's bytes (loc->raw of them), or returns -EBADMSG for a
 * box that does not authenticate or decompress, -ENOENT for a missing
 * pack, with a message naming the pack file.
 */
struct pk_blob_reader {
	struct pk_repo *repo;
	struct pk_object *obj;
	uint8_t pack[PK_PACK_ID_BYTES];
	void *dctx;
	struct pk_buf box, plain;
};

int pk_blob_reader_init(struct pk_blob_reader *br, struct pk_repo *r);
void pk_blob_reader_release(struct pk_blob_reader *br);
int pk_blob_read(struct pk_blob_reader *br, const struct pk_blobloc *loc,
    struct pk_buf *out);

/*
 * Reads and authenticates a pack's trailer; calls fn for each blob listed.
 * Used by checks and to rebuild indexes.
 */
int pk_pack_list(struct pk_blob_reader *br, const uint8_t id[PK_PACK_ID_BYTES],
    int (*fn)(void *arg, const struct pk_blobloc *loc), void *arg);

#endif
