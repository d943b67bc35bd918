/*
 * restore.h: a snapshot, or a path in it, written into a directory with
 * every piece of metadata the snapshot holds, the work of pk-cat -C.
 *
 * What is restored.  Regular files (holes left as holes), directories,
 * symbolic links, hard links, character and block devices and fifos, with
 * their permission bits (setuid, setgid and sticky included), modification
 * times to the nanosecond (access times are not stored: they are left as
 * the restore made them), extended attributes (security.capability, ACLs
 * and the like included) and, when options.owners is set, their owners:
 * by name when the name is known here, else by number, as tar -p does.
 * Sockets are skipped, with a warning.  Paths are the stored paths, below
 * the directory: a subtree restore gives the same relative paths as a
 * whole one; directories above it that the selection does not hold are
 * made with the default mode.
 *
 * Safety.  No path is resolved through a symbolic link: every component
 * is opened relative to the directory above it with O_NOFOLLOW, and the
 * metadata is set on the file's own descriptor or relative to its
 * directory without following, so that a snapshot (or a stream) whose
 * entry a is a link to /etc and a later entry a/passwd cannot write
 * outside the directory: that entry fails.  A file in the way of an entry
 * is replaced, as tar does: unlinked (an empty directory removed), then
 * made anew; a directory that is already there is kept, and gets the
 * entry's metadata.
 *
 * Order.  One thread reads the catalog in order and makes the directories
 * as it meets them; the other entries are made on jobs threads, each in a
 * directory already made, the entries of one directory on one thread at a
 * time.  Hard links are made once every other file is,
 * so that their targets exist; then the directories get their modes and
 * times, deepest first, so that a directory made read-only is set after
 * its contents.  Memory: the entries queued for the threads (a bounded
 * number), and a list of every directory restored and every hard link
 * (their paths and, for directories, mode and time) kept to the end.
 *
 * Failures.  A file that cannot be restored (a chunk missing or damaged,
 * a permission refused) is named once through options.warn, counted in
 * result.failed, and the restore goes on: a file whose chunk cannot be
 * read gets zeros from there to its end, as in a tar archive.
 */
#ifndef PK_RESTORE_H
#define PK_RESTORE_H

#include <stdint.h>

#include "index.h"
#include "progress.h"
#include "record.h"
#include "snapshot.h"

struct pk_restore_options {
	int dirfd;		/* the directory restored into, borrowed */
	const char *path;	/* stored path to select, NULL for everything */
	int jobs;		/* threads that make files; 0 or 1: none */
	int owners;		/* set owners (needs root) */
	/* Told about each entry that could not be restored whole, and each
	 * socket skipped; called from any thread, one call at a time. */
	void (*warn)(void *arg, const char *path, const char *msg);
	void *arg;
	/* Counts the entries made and the content bytes (holes included)
	 * done, from any thread, as they go (progress.h); or NULL.  The total
	 * is the caller's to set: the snapshot's entries and bytes, when it
	 * restores all of it. */
	struct pk_progress *count;
};

struct pk_restore_result {
	uint64_t files;		/* entries made but directories */
	uint64_t dirs;
	uint64_t bytes;		/* content written, holes included */
	uint64_t failed;	/* entries not restored whole */
	uint64_t skipped;	/* sockets */
	uint64_t errors;	/* files the snapshot could not read */
};

/*
 * Restores what o selects of snap into o->dirfd.  Returns 0 (check
 * result->failed), -ENOENT when the path is not in the snapshot, or a
 * negative errno with a message for failures that stop the restore (the
 * catalog cannot be read).
 */
int pk_restore(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_restore_options *o,
    struct pk_restore_result *res);

/*
 * The same from a record stream whose header has been read, to its END:
 * file content as DATA, CHUNK and HOLE records (REF records and files of
 * unknown size are refused, -EBADMSG), ERROR records counted; one thread,
 * whatever o->jobs.  Entries are taken in the stream's order, whatever it
 * is, under the same safety rules.
 */
int pk_restore_stream(struct pk_reader *rd, const struct pk_restore_options *o,
    struct pk_restore_result *res);

#endif
