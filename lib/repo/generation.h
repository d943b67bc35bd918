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

/* The generation of the repository at s: one listing of gc/. */
int pk_gc_generation(struct pk_storage *s, uint64_t *gen);
/* The same, for the repository at path, which needs no key: the filters
 * check their caches with it. */
int pk_repo_read_generation(const char *path, uint64_t *gen);
/* Raises *gen to N when name, a file of gc/, is gen-N: for a listing of gc/
 * made for something else. */
void pk_gc_note_generation(uint64_t *gen, const char *name);
/* Stores generation r->generation + 1 (or one past a newer one another
 * pk-gc stored), removes the older ones, and sets r->generation. */
int pk_gc_bump(struct pk_repo *r);

#endif
