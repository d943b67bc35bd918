/*
 * generation.h: the repository's generation (pk-repo(5), "GARBAGE
 * COLLECTION"): the greatest N of the files gc/gen-N (16 hexadecimal
 * digits), 0 when there is none.  pk-gc bumps it each time it marks or
 * deletes, so that the hash files made before (chunk indexes, stat caches,
 * known-chunk sets), which may name what it deletes, go stale.  Readable
 * without the key, by the filters too.
 */
#ifndef PK_GENERATION_H
#define PK_GENERATION_H

#include <stdint.h>

#include "repo.h"

/* The generation of the repository at s. */
int pk_gc_generation(struct pk_storage *s, uint64_t *gen);
/* Stores generation r->generation + 1 (or one past a newer one another
 * pk-gc stored), removes the older ones, and sets r->generation. */
int pk_gc_bump(struct pk_repo *r);

#endif
