/*
 * index.h: where blobs live.  Each pk-store run that adds blobs writes one
 * index delta (REPO/index/ID, sealed, pk-repo(5) "INDEX DELTAS") before its
 * snapshot.  The chunk index (REPO/chunkindex) is a hash file of struct
 * pk_blobloc slots keyed by storage id, built from the deltas: it also holds
 * a marker slot per delta merged, so that opening it costs one probe per
 * delta, and a missing, torn or foreign chunk index is rebuilt from them.
 */
#ifndef PK_INDEX_H
#define PK_INDEX_H

#include <stdint.h>

#include "err.h"
#include "hashfile.h"
#include "pack.h"
#include "repo.h"

/*
 * A slot of the chunk index and of pending sets: a struct pk_blobloc, 64
 * bytes as in index deltas, then the XXH3-64 of those bytes, so that a
 * slot damaged on disk is seen and not trusted (pk-repo(5)).
 */
#define PK_INDEX_SLOT_BYTES	(PK_BLOBLOC_BYTES + 8)

#define PK_DELTA_ID_BYTES	16
#define PK_DELTA_NAME_BYTES	(2 * PK_DELTA_ID_BYTES + 1)

struct pk_index {
	struct pk_repo *repo;
	struct pk_hashfile *hf;		/* read-only mapping */
	uint64_t merged;		/* deltas merged by this open */
	int rebuilt;			/* the chunk index was rebuilt */
	char why[PK_ERR_BYTES];		/* why it was rebuilt */
	/* Once a slot of hf fails its check: a chunk index built from the
	 * deltas in memory, which every later lookup uses.  hf stays mapped
	 * for lookups in flight on other threads, and its file is removed,
	 * so that the next open rebuilds it. */
	struct pk_hashfile *mem;
};

void pk_index_slot_encode(uint8_t slot[PK_INDEX_SLOT_BYTES],
    const struct pk_blobloc *l);
/* 0, or -EBADMSG (message set) when the slot fails its check. */
int pk_index_slot_decode(struct pk_blobloc *l,
    const uint8_t slot[PK_INDEX_SLOT_BYTES]);

/* The parameters of a repository's chunk index and pending sets. */
void pk_index_params(const struct pk_repo *r, uint32_t kind,
    struct pk_hashfile_params *p);

/* Brings the chunk index up to date with index/ and maps it read-only. */
int pk_index_open(struct pk_index *ix, struct pk_repo *r);
void pk_index_close(struct pk_index *ix);

/*
 * 1 and *loc filled when the storage id is known, 0 when not.  A slot that
 * fails its check is not used: the chunk index is rebuilt from the deltas
 * (see mem) and the lookup made there.  Safe to call from several threads
 * on one index.
 */
int pk_index_find(const struct pk_index *ix, const uint8_t sid[PK_SID_BYTES],
    struct pk_blobloc *loc);

/* Writes every blob of the hash file pending as a new index delta; its
 * name (hex) goes to name. */
int pk_index_write_delta(struct pk_repo *r, const struct pk_hashfile *pending,
    char name[PK_DELTA_NAME_BYTES]);

/*
 * Writing an index delta location by location (pk-gc's consolidated one):
 * begin, put, then commit, which names the delta in name, or writes
 * nothing and leaves name empty when no location was put; or abort.
 */
struct pk_delta_writer;
int pk_delta_begin(struct pk_delta_writer **w, struct pk_repo *r);
int pk_delta_put(struct pk_delta_writer *w, const struct pk_blobloc *loc);
int pk_delta_commit(struct pk_delta_writer *w, char name[PK_DELTA_NAME_BYTES]);
void pk_delta_abort(struct pk_delta_writer *w);
/* Adds the pending blobs and the delta's marker to the chunk index. */
int pk_index_merge(struct pk_repo *r, const struct pk_hashfile *pending,
    const char *name);

/* Reads an index delta; fn is called for each blob. */
int pk_index_read_delta(struct pk_repo *r, const char *name,
    int (*fn)(void *arg, const struct pk_blobloc *loc), void *arg);

/* Calls fn with the name of each index delta. */
int pk_index_list(struct pk_repo *r, int (*fn)(void *arg, const char *name),
    void *arg);

#endif
