/*
 * hashfile.h: a plain mmap'd hash file: fixed-size slots, open addressing
 * with linear probing, a power-of-two capacity, a one-page header.  The
 * chunk index of a repository and the pending set of pk-store are hash
 * files.  The layout is normative: pk-repo(5), "HASH FILES".
 *
 * Keys are the first key_bytes of a slot and must be uniformly distributed
 * (they are hash outputs): the home slot is the little-endian u64 of the
 * key's first 8 bytes, masked by capacity - 1.  An all-zero key marks an
 * empty slot and cannot be stored.
 *
 * Concurrency: one writer of an existing file at a time (an exclusive
 * flock on "PATH.lock", held from open to close); readers need no lock.
 * A new file (PK_HF_CREATE) is built under a unique temporary name, with
 * no lock, and renamed into place at close: the last builder wins.  A writer only fills
 * empty slots (a slot's key is written last), so a reader probing at the
 * same time finds every key that was there when it started.  Growth
 * rehashes into a new file renamed over the old one: readers keep their
 * mapping of the old file.  While a writer has the file open the header is
 * marked dirty, and readers trust a dirty file only while its lock is
 * held; a file left dirty by a crash, torn, truncated, of another
 * kind or repository, or of an older generation is refused with -ESTALE,
 * and its owner rebuilds it.
 */
#ifndef PK_HASHFILE_H
#define PK_HASHFILE_H

#include <stddef.h>
#include <stdint.h>

#define PK_HASHFILE_HEADER_BYTES 4096
#define PK_HASHFILE_VERSION	2

enum pk_hashfile_kind {
	PK_HF_CHUNKINDEX = 1,	/* repository chunk index: struct pk_blobloc */
	PK_HF_PENDING = 2,	/* blobs written by a pk-store not committed yet */
	PK_HF_STATCACHE = 3,	/* pk-walk's stat cache, statcache.h */
	PK_HF_KNOWN = 4,	/* pk-dedup's known-chunk set, known.h */
	PK_HF_LINKS = 5,	/* pk-store's hard link targets, in memory */
	PK_HF_PACKS = 6,	/* packs found present or missing, in memory */
	PK_HF_LIVE = 7,		/* pk-gc's storage ids of live chunks */
};

struct pk_hashfile_params {
	uint32_t kind;
	uint32_t slot_bytes;	/* a multiple of 8, at most 1024 */
	uint32_t key_bytes;	/* 8 <= key_bytes <= slot_bytes */
	uint8_t repo_id[16];
	uint64_t generation;	/* bumped when the repository forgets data */
	uint64_t expect;	/* PK_HF_CREATE: slots expected, so that the
				 * new file is made large enough at once */
};

#define PK_HF_WRITE	0x1	/* open for writing: flock, dirty mark */
#define PK_HF_CREATE	0x2	/* start a new empty file, replacing any */
#define PK_HF_ANY_REPO	0x4	/* read-only: accept any repository id */
#define PK_HF_NOSYNC	0x10	/* close syncs nothing (caches: a crash
				 * leaves a file readers check) */
#define PK_HF_MEMORY	0x8	/* with PK_HF_CREATE: in memory, never
				 * renamed into place (a full or read-only
				 * disk) */

struct pk_hashfile;

/*
 * Opens (or with PK_HF_CREATE creates) the hash file at path.  Returns 0,
 * -ENOENT when it does not exist, -ESTALE when it exists but cannot be
 * trusted (message says why), or another negative errno.
 */
int pk_hashfile_open(struct pk_hashfile **h, const char *path,
    const struct pk_hashfile_params *p, int flags);

/* Whether open or write error e means the disk will not take a file here
 * (full, read-only, not ours): callers then keep a hash file in memory. */
int pk_hashfile_unwritable(int e);

/* 0 when a new file of this kind may replace the one at path: none is
 * there, or an empty file, or a hash file of that kind (even a stale or
 * truncated one).
 * -EEXIST, with a message naming what, for any other file: a mistyped path
 * must not cost a user's file. */
int pk_hashfile_may_replace(const char *path, uint32_t kind, const char *what);

/* The slot holding key, or NULL.  Valid until the next insert or close. */
const void *pk_hashfile_find(const struct pk_hashfile *h, const uint8_t *key);

/* Stores a slot (slot_bytes, key first); an existing key is left as it is
 * and 1 is returned; 0 when inserted.  May grow the file. */
int pk_hashfile_insert(struct pk_hashfile *h, const void *slot);
/* Overwrites the slot of an existing key with slot.  0, or -ENOENT when
 * the key is not there. */
int pk_hashfile_replace(struct pk_hashfile *h, const void *slot);
/* Grows the file, once, to take n more slots without growing again: a
 * table grown before many inserts is read once, in order, and not also
 * touched all over by the lookups of those inserts. */
int pk_hashfile_reserve(struct pk_hashfile *h, uint64_t n);

uint64_t pk_hashfile_count(const struct pk_hashfile *h);
/* The header's u32 for the kind's own use (the chunk index: the deltas
 * merged into it), written with the header by a writer's close. */
uint32_t pk_hashfile_aux(const struct pk_hashfile *h);
void pk_hashfile_set_aux(struct pk_hashfile *h, uint32_t v);
uint64_t pk_hashfile_capacity(const struct pk_hashfile *h);
/* Keeps the memory the mapping of h takes in the process near 16 MiB at
 * most, whatever its size, at the price, for a larger table, of a page
 * fault for most lookups: for a program whose memory must stay bounded in
 * the size of the repository.  No effect on a PK_HF_MEMORY table. */
void pk_hashfile_lean(struct pk_hashfile *h);

/* Calls fn on every slot in storage order; stops at a non-zero return. */
int pk_hashfile_foreach(const struct pk_hashfile *h,
    int (*fn)(void *arg, const void *slot), void *arg);

/* Writes the header clean and syncs (writers), unmaps, closes, unlocks.
 * Returns the first error met, if any. */
int pk_hashfile_close(struct pk_hashfile *h);

/* Closes a file opened with PK_HF_CREATE without putting it in place. */
void pk_hashfile_abort(struct pk_hashfile *h);

#endif
