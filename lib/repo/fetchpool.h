/*
 * fetchpool.h: chunks fetched ahead on threads and handed out in order.
 * Restoring a large file is mostly opening its blobs (read, authenticate,
 * decompress, check the id); workers open the next chunks while the caller
 * writes out the one before.
 */
#ifndef PK_FETCHPOOL_H
#define PK_FETCHPOOL_H

#include <stdint.h>

#include "buf.h"
#include "index.h"
#include "repo.h"

struct pk_fetchpool;

/* Starts nthreads workers (at least 1); r and ix are borrowed. */
int pk_fetchpool_new(struct pk_fetchpool **p, struct pk_repo *r,
    const struct pk_index *ix, int nthreads);
void pk_fetchpool_free(struct pk_fetchpool *p);

/* Whether one more chunk may be queued: the chunks queued and not yet
 * handed out are bounded in number and bytes. */
int pk_fetchpool_room(const struct pk_fetchpool *p);
/* Queues the chunk id of len bytes (there must be room). */
void pk_fetchpool_add(struct pk_fetchpool *p, const uint8_t *id, uint32_t len);
/*
 * Waits for the oldest queued chunk, which must be id (-EPROTO if not: the
 * caller lost step), and hands it out: 0 and its bytes in *out, valid
 * until the next call, or the error pk_chunk_fetch() gave for it, with its
 * message recorded for the calling thread.
 */
int pk_fetchpool_next(struct pk_fetchpool *p, const uint8_t *id,
    const struct pk_buf **out);

#endif
