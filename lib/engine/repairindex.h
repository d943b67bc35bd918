/*
 * repairindex.h: the work of pk-index --repair=index: an index delta lost
 * or damaged leaves packs that no delta names, whose blobs no program can
 * find.  Their sealed trailers still list them: the repair writes one new
 * delta for the blobs of every pack no readable delta names, then removes
 * the deltas that cannot be read (pk-repo(5) "Repairs").
 *
 * It runs beside backups and pk-gc, as a writer does: it takes a lease
 * first.  A pack no delta names may be one a running backup is writing,
 * whose delta is still to come and which it removes if it fails; so when
 * other runs hold leases, the repair waits for them to end and takes only
 * the packs that no delta names before and after.  The blobs of a pack
 * that a pk-gc mark it sees names are copied into a new pack, since that
 * mark's sweep may already be under way and delete the pack whatever a
 * new delta says; the other packs are named where they are.
 */
#ifndef PK_REPAIRINDEX_H
#define PK_REPAIRINDEX_H

#include <stdint.h>

#include "index.h"
#include "repo.h"

struct pk_repair_index_options {
	/* What it finds and does, one line each, when not NULL: damaged
	 * deltas, lost packs, the runs it waits for. */
	void (*say)(void *arg, const char *line);
	void *arg;
	/* Seconds between looks at the leases while it waits: 1 if 0. */
	unsigned poll_sec;
};

struct pk_repair_index_report {
	uint64_t deltas;		/* index deltas listed */
	uint64_t damaged_deltas;	/* that could not be read */
	uint64_t removed_deltas;	/* ... and were removed */
	uint64_t packs;			/* pack files listed */
	uint64_t orphan_packs;		/* no readable delta named them */
	uint64_t reindexed_packs;	/* named in the new delta */
	uint64_t copied_packs;		/* ... of them, copied out of a mark */
	uint64_t lost_packs;		/* trailer unreadable: blobs lost */
	uint64_t blobs;			/* locations in the new delta */
	uint64_t waited;		/* runs waited for */
	char delta[PK_DELTA_NAME_BYTES];	/* the new delta, or "" */
};

/*
 * Repairs the index deltas of r.  Returns 0 when done (a lost pack is
 * counted and said, not an error), or a negative errno with a message:
 * then no delta was removed.  It fails rather than wait for a lease that
 * cannot be read, whose run it cannot tell.
 */
int pk_repair_index(struct pk_repo *r, const struct pk_repair_index_options *o,
    struct pk_repair_index_report *rep);

#endif
