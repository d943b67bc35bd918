/*
 * catalog.h: reading what a snapshot holds.  A catalog (snapshot.h) is a
 * record stream stored as chunks; a catalog reader fetches them in order
 * and hands out its records, checked like any stream.  Chunk data is
 * fetched by id through the chunk index and checked against its id.
 */
#ifndef PK_CATALOG_H
#define PK_CATALOG_H

#include <stdint.h>

#include "index.h"
#include "pack.h"
#include "record.h"
#include "snapshot.h"

struct pk_catalog;

/* Opens the catalog of snap (borrowed until close); the stream header is
 * read and returned in *h. */
int pk_catalog_open(struct pk_catalog **c, struct pk_repo *r,
    const struct pk_index *ix, const struct pk_snapshot *snap,
    struct pk_stream_header *h);
/* Like pk_reader_next(): 1 and a record, 0 at the verified END, <0. */
int pk_catalog_next(struct pk_catalog *c, struct pk_record *rec);
void pk_catalog_close(struct pk_catalog *c);

/*
 * Fetches the chunk id (len bytes) into out and checks that its bytes hash
 * to id.  -ENOENT when the repository does not know it, -EBADMSG when the
 * blob is corrupt; the message names the pack file.
 */
int pk_chunk_fetch(struct pk_repo *r, const struct pk_index *ix,
    struct pk_blob_reader *br, const uint8_t id[PK_ID_BYTES], uint32_t len,
    struct pk_buf *out);

#endif
