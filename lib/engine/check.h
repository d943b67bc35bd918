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
 *
 * Notes, which are not problems, name what runs that stopped left behind:
 * packs no delta names, files of tmp/ an hour old while no run holds a
 * lease, leases whose run is over, unreadable leases, and the marks of a
 * garbage collection in progress.
 */
#ifndef PK_CHECK_H
#define PK_CHECK_H

#include <stdint.h>

#include "repo.h"

struct pk_check_options {
	int data;
	/* Each problem, one line ("subject: what is wrong"). */
	void (*problem)(void *arg, const char *msg);
	/* Notes that are not problems, one line each. */
	void (*note)(void *arg, const char *msg);
	/*
	 * When set, each file of a snapshot that cannot be restored whole (a
	 * chunk missing, of another length, in a missing pack or, with data,
	 * corrupt) is told here once, in place of a problem for each of its
	 * chunks: the snapshot's full id, the record number of the file's
	 * ENTRY in its catalog, its path, and what is wrong with its first
	 * bad chunk.  It still counts as one problem.
	 */
	void (*damaged_file)(void *arg, const char *snapshot, uint64_t entry,
	    const uint8_t *path, size_t len, const char *why);
	void *arg;
};

struct pk_check_result {
	uint64_t snapshots, deltas, packs, blobs, refs;
	uint64_t blobs_read, bytes_read;
	uint64_t unreferenced_packs;
	uint64_t damaged_files;		/* files with a bad chunk */
	uint64_t unreadable_snapshots;	/* snapshot or catalog unreadable */
	uint64_t notes;
	uint64_t problems;
};

/* Returns 0 when the check ran (see result->problems), or a negative errno
 * when it could not run at all. */
int pk_check(struct pk_repo *r, const struct pk_check_options *o,
    struct pk_check_result *res);

#endif
