/*
 * check.h: the work of pk-index --check: is every snapshot restorable?
 *
 * The structural check authenticates every snapshot, index delta and pack
 * trailer, checks that every chunk a snapshot refers to is named by an
 * index delta with its length, that every indexed pack exists, that the
 * chunk index (a cache) knows no blob the deltas do not name, and reads
 * every catalog.
 * With data, every blob of every pack is also read, authenticated,
 * decompressed and re-hashed to its storage id, and the files of each
 * snapshot that use a bad blob are named.
 */
#ifndef PK_CHECK_H
#define PK_CHECK_H

#include <stdint.h>

#include "repo.h"

struct pk_check_options {
	int data;
	/* Each problem, one line ("subject: what is wrong"). */
	void (*problem)(void *arg, const char *msg);
	/* Notes that are not problems (packs no index refers to). */
	void (*note)(void *arg, const char *msg);
	void *arg;
};

struct pk_check_result {
	uint64_t snapshots, deltas, packs, blobs, refs;
	uint64_t blobs_read, bytes_read;
	uint64_t unreferenced_packs;
	uint64_t problems;
};

/* Returns 0 when the check ran (see result->problems), or a negative errno
 * when it could not run at all. */
int pk_check(struct pk_repo *r, const struct pk_check_options *o,
    struct pk_check_result *res);

#endif
