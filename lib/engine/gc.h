/*
 * gc.h: giving back the space of blobs no snapshot holds (pk-gc(1)),
 * while backups go on.  The protocol is pk-repo(5)'s "GARBAGE
 * COLLECTION": a run first sweeps the marks that are ripe (their grace
 * is over and every lease they saw is gone): it copies the blobs of the
 * marked packs that a snapshot holds or that were live when marked into
 * new packs, writes one index delta for every location that stays,
 * removes the deltas it merged, bumps the generation and deletes the
 * packs.  When no mark is left, it marks: the packs whose blobs no
 * snapshot holds, the packs no delta names, and, while the unused share
 * is above the limit, the emptiest of the others.
 */
#ifndef PK_GC_H
#define PK_GC_H

#include <stdint.h>

#include "repo.h"

struct pk_gc_options {
	int dry_run;		/* count and say, change nothing */
	int64_t grace;		/* seconds between marking and deleting */
	double max_unused;	/* repack above this share of unused bytes */
	/* Progress and notes, one line each, when not NULL. */
	void (*say)(void *arg, const char *line);
	void *arg;
};

struct pk_gc_report {
	/* What the repository holds. */
	uint64_t snapshots, packs, blobs, bytes;
	uint64_t unused_blobs, unused_bytes;	/* no snapshot holds them */
	uint64_t orphan_packs;			/* no delta names them */
	uint64_t missing_blobs;			/* in packs that are gone */
	/* Marked by this run. */
	uint64_t marked_packs, marked_bytes, marked_repack;
	int64_t ripe_at;			/* when they may be deleted */
	/* Swept by this run. */
	uint64_t swept_marks, deleted_packs, freed_bytes;
	uint64_t copied_blobs, copied_bytes, merged_deltas;
	uint64_t removed_tmp;			/* leftovers of crashed runs */
	/* Marks left waiting, and the first reason. */
	uint64_t waiting;
	char wait_why[1024];
};

/*
 * Runs one collection.  Fails when another pk-gc holds a live lease, or
 * when a snapshot cannot be read: nothing is deleted without knowing what
 * every snapshot holds.
 */
int pk_gc(struct pk_repo *r, const struct pk_gc_options *o,
    struct pk_gc_report *rep);

#endif
