/*
 * fetch.h: a chunk's bytes out of a repository, by id: found through the
 * chunk index, read from its pack, opened, and checked against the id.
 */
#ifndef PK_FETCH_H
#define PK_FETCH_H

#include <stdint.h>

#include "buf.h"
#include "index.h"
#include "packread.h"
#include "record.h"
#include "repo.h"

/*
 * Fetches the chunk id (len bytes) into out and checks that its bytes hash
 * to id.  -ENOENT when the repository does not know it, -EBADMSG when the
 * blob is corrupt; the message names the pack file.
 */
int pk_chunk_fetch(struct pk_repo *r, const struct pk_index *ix,
    struct pk_blob_reader *br, const uint8_t id[PK_ID_BYTES], uint32_t len,
    struct pk_buf *out);

#endif
