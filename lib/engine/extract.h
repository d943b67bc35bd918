/*
 * extract.h: the work of pk-cat: a snapshot, or a path in it, out as the
 * bytes of one file, a pax tar stream, or a pk record stream.
 */
#ifndef PK_EXTRACT_H
#define PK_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "progress.h"
#include "snapshot.h"

enum pk_extract_mode {
	PK_EXTRACT_AUTO,	/* a regular file's bytes, anything else as tar */
	PK_EXTRACT_FILE,	/* the bytes of one regular file */
	PK_EXTRACT_TAR,
	PK_EXTRACT_STREAM,	/* pk-stream(5), every chunk with its data */
};

struct pk_extract_options {
	enum pk_extract_mode mode;
	const char *path;	/* stored path to select, NULL for everything */
	int fd;			/* output */
	int jobs;		/* threads that open chunks ahead; 0 or 1: none */
	/* Told about each file that could not be restored whole (tar mode
	 * goes on, zero-filling it), and about entries tar cannot hold. */
	void (*warn)(void *arg, const char *path, const char *msg);
	void *arg;
	/* Counts the entries and the content bytes (holes included) written,
	 * as they go (progress.h); or NULL.  The total is the caller's to
	 * set: the snapshot's entries and bytes, when it writes all of it. */
	struct pk_progress *count;
};

struct pk_extract_result {
	uint64_t entries, bytes;
	uint64_t failed;	/* files restored with errors */
	uint64_t skipped;	/* entries tar cannot store (sockets) */
	uint64_t errors;	/* files the snapshot could not read */
};

/*
 * Writes what opts selects from snap.  Returns 0 (check result->failed),
 * -ENOENT when the path is not in the snapshot, or a negative errno with a
 * message for failures that stop the output.
 */
int pk_extract(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_extract_options *o,
    struct pk_extract_result *res);

#endif
