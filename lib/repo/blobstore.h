/*
 * blobstore.h: putting chunks into a repository.  A chunk the repository
 * has (the chunk index, in a pack that exists) or that this run put is
 * not stored again; a new one is checked against its id, compressed and
 * sealed on worker threads (sealpool.h), appended to a pack, and noted in
 * the run's pending set.  pk_blobstore_flush() finishes the packs and
 * writes the index delta that names them; after the snapshot that uses
 * them is committed, pk_blobstore_merge() adds them to the chunk index.
 * Freed before the flush, a blob store removes the packs it wrote.
 *
 * A blob store holds a lease (lease.h) from its open to its free, and
 * takes no blob that a pk-gc mark seen at the open names as dead for
 * stored (gcmark.h): pk-gc may delete it once the leases it saw are gone.
 */
#ifndef PK_BLOBSTORE_H
#define PK_BLOBSTORE_H

#include <stdint.h>

#include "crypto.h"
#include "index.h"
#include "record.h"
#include "repo.h"

struct pk_blobstore;

struct pk_blobstore_stats {
	uint64_t new_chunks;		/* chunks stored */
	uint64_t stored;		/* bytes of their sealed blobs */
	uint64_t lost_blobs;		/* stored again, as their packs are gone */
	uint64_t marked_blobs;		/* stored again, as pk-gc is to delete
					 * them */
};

/* Opens the chunk index and starts nthreads sealing workers at the zstd
 * level given; source names the input in messages. */
int pk_blobstore_open(struct pk_blobstore **b, struct pk_repo *r, int level,
    int nthreads, const char *source);
/*
 * Puts the chunk id of n bytes.  With verify, a worker checks that the
 * bytes hash to id.  recno and offset say where in the source it came
 * from, for messages.  0 when it is put, 1 when the repository or this run
 * had it, -EBADMSG when it had it with another length or, for a chunk put
 * earlier, when its bytes did not hash to its id, or another negative
 * errno.
 */
int pk_blobstore_put(struct pk_blobstore *b, const uint8_t id[PK_ID_BYTES],
    const uint8_t *p, uint32_t n, int verify, uint64_t recno, uint64_t offset);
/* Whether the repository or this run has the chunk, and its length. */
int pk_blobstore_has(struct pk_blobstore *b, const uint8_t id[PK_ID_BYTES],
    uint64_t *raw);
/* Waits for the workers, finishes the pack, writes the index delta and
 * names it in delta.  From then on the packs stay. */
int pk_blobstore_flush(struct pk_blobstore *b,
    char delta[PK_DELTA_NAME_BYTES]);
/* After the commit: adds the delta's blobs to the chunk index, which a
 * failure only leaves to be rebuilt from the deltas. */
void pk_blobstore_merge(struct pk_blobstore *b,
    const char delta[PK_DELTA_NAME_BYTES]);
const struct pk_blobstore_stats *pk_blobstore_stats(
    const struct pk_blobstore *b);
/* The chunk index it opened, for reading. */
const struct pk_index *pk_blobstore_index(const struct pk_blobstore *b);
void pk_blobstore_free(struct pk_blobstore *b);

#endif
