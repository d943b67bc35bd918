/*
 * gcmark.h: what a garbage collection in progress tells everyone else
 * (pk-repo(5), "GARBAGE COLLECTION"):
 *
 *	gc/mark-ID	a mark: the packs a pk-gc is to delete and the blobs
 *			in them that no snapshot held when it marked (dead),
 *			sealed; the live ones are copied before the packs go
 *	gc/leases-ID	the leases pk-gc saw once mark-ID was stored, sealed:
 *			the runs that may have taken a dead blob for stored
 *
 * A writer that starts after a mark is stored sees it and never takes a
 * dead blob of it for stored; pk-gc deletes a mark's packs only when every
 * lease of its leases file is gone.
 */
#ifndef PK_GCMARK_H
#define PK_GCMARK_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "generation.h"
#include "lease.h"
#include "repo.h"

#define PK_GCMARK_ID_BYTES	16
#define PK_GCMARK_DEAD_BYTES	(PK_SID_BYTES + PK_PACK_ID_BYTES)

struct pk_gcmark {
	char name[2 * PK_GCMARK_ID_BYTES + 1];	/* the ID, hexadecimal */
	int64_t time;			/* when it was stored, seconds */
	uint8_t *packs;			/* pack ids, sorted */
	size_t npacks;
	uint8_t *dead;			/* storage id and pack id, sorted */
	size_t ndead;
	char (*leases)[PK_LEASE_NAME_BYTES];	/* from gc/leases-ID */
	size_t nleases;
	int have_leases;		/* 0: its pk-gc died before writing it */
	int bad;			/* unreadable, for why: names nothing */
	char why[256];
};

/* Sorts packs and dead, picks an id and time, and stores gc/mark-ID. */
int pk_gcmark_write(struct pk_repo *r, struct pk_gcmark *m);
/* Stores gc/leases-ID from m->leases. */
int pk_gcmark_write_leases(struct pk_repo *r, struct pk_gcmark *m);
/* Every mark of the repository, with its leases when they were stored;
 * one that cannot be read is listed with bad set.  The same listing gives
 * the generation: r->generation is raised to it. */
int pk_gcmark_list(struct pk_repo *r, struct pk_gcmark **v, size_t *n);
/* Removes gc/leases-ID, then gc/mark-ID. */
int pk_gcmark_remove(struct pk_repo *r, const struct pk_gcmark *m);
void pk_gcmark_release(struct pk_gcmark *m);
void pk_gcmark_list_free(struct pk_gcmark *v, size_t n);

/* Whether m names pack, and whether the blob sid in pack is dead in it. */
int pk_gcmark_has_pack(const struct pk_gcmark *m,
    const uint8_t pack[PK_PACK_ID_BYTES]);
int pk_gcmark_is_dead(const struct pk_gcmark *m,
    const uint8_t sid[PK_SID_BYTES], const uint8_t pack[PK_PACK_ID_BYTES]);

#endif
