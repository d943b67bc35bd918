/*
 * sealpool.h: worker threads that check, compress and seal blobs for
 * pk-store, so that a backup uses every core.  The calling thread owns the
 * order of everything else: it takes a free job, fills it, submits it,
 * and later collects it done (in any order) to append it to a pack.
 *
 * Memory is bounded: a pool has one job per thread and one more, each
 * holding one chunk and its box, reused from job to job.
 */
#ifndef PK_SEALPOOL_H
#define PK_SEALPOOL_H

#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "record.h"

struct pk_sealjob {
	uint8_t id[PK_ID_BYTES];	/* chunk id */
	uint8_t sid[PK_SID_BYTES];		/* storage id */
	int verify;			/* check that in hashes to id */
	uint64_t recno, offset;		/* its record in the stream, for
					 * messages (the caller's) */
	struct pk_buf in;		/* the chunk (filled by the caller) */
	struct pk_buf box;		/* the sealed blob (filled by a worker) */
	int err;			/* 0, -EBADMSG (id mismatch), -ENOMEM */
	int busy;			/* submitted and not given back */
	struct pk_sealjob *next;
};

struct pk_sealpool;

/* keys must outlive the pool.  nthreads >= 1. */
int pk_sealpool_new(struct pk_sealpool **p, const struct pk_keys *keys,
    int level, int nthreads);
/* Waits for the workers and frees everything, jobs included. */
void pk_sealpool_free(struct pk_sealpool *p);

/* A free job, or NULL when all are in flight or done but not collected,
 * or when those hold 8 MiB of chunks already (collect one, then retry). */
struct pk_sealjob *pk_sealpool_get(struct pk_sealpool *p);
void pk_sealpool_submit(struct pk_sealpool *p, struct pk_sealjob *j);
/* A done job; with wait, blocks until one is done, and returns NULL only
 * when none is in flight. */
struct pk_sealjob *pk_sealpool_done(struct pk_sealpool *p, int wait);
/* Gives a collected job back. */
void pk_sealpool_put(struct pk_sealpool *p, struct pk_sealjob *j);
/* The job for this storage id submitted and not yet given back, or NULL. */
const struct pk_sealjob *pk_sealpool_busy(struct pk_sealpool *p,
    const uint8_t sid[PK_SID_BYTES]);

#endif
