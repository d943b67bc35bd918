/*
 * seektable.h: the seek table of a catalog (snapshot.h, pk-repo(5)),
 * built as the catalog is written, or again from a catalog to check it:
 * note every ENTRY in order, and cut each chunk when the catalog's bytes
 * pass its end.
 */
#ifndef PK_SEEKTABLE_H
#define PK_SEEKTABLE_H

#include <stdint.h>

#include "buf.h"
#include "snapshot.h"

struct pk_seekbuild {
	struct pk_buf marks;	/* per ENTRY: u64 offset, u64 recno, key */
	uint64_t chunk_off;	/* where the next chunk starts */
};

int pk_seekbuild_entry(struct pk_seekbuild *b, uint64_t offset,
    uint64_t recno, const uint8_t *path, size_t len);
/* Fills the seek fields of cc, whose len is set, with the entries noted
 * that start in it; their keys are added to keys. */
int pk_seekbuild_chunk(struct pk_seekbuild *b, struct pk_catalog_chunk *cc,
    struct pk_buf *keys);
void pk_seekbuild_release(struct pk_seekbuild *b);

#endif
