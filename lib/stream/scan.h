/*
 * scan.h: counts, on a thread of its own, what a walk of the same paths
 * will write: its ENTRY records and the content bytes of its regular files
 * (holes included, a file with several links once), with the same
 * excludes, tagged directories and one-file-system rule as the walker
 * (walk.h).  It costs an
 * lstat per file and reads no file, so it is done long before the walk,
 * which can then write the counts as a TOTAL record (pk-stream(5)) for a
 * progress display.  The counts are an estimate: the tree may change
 * between the two, and a file that cannot be read is counted all the same.
 */
#ifndef PK_SCAN_H
#define PK_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "walk.h"

struct pk_scan;

/*
 * Starts a scan of paths[0..n) (command-line arguments, ordered and
 * without repeats as pk_walk_order_args() leaves them; none is "-") with
 * the rules of o: excludes, one_file_system, exclude_caches and tags.
 * paths and what o points to are borrowed until pk_scan_free().  0, or a
 * negative errno (message set) when the thread cannot start.
 */
int pk_scan_start(struct pk_scan **sc, char *const *paths, size_t n,
    const struct pk_walk_options *o);

/*
 * 1 and the counts once the scan is done, 0 while it runs.  An atomic
 * load, no system call: cheap enough to call between any two files.  May
 * be called from one thread other than the scan's.
 */
int pk_scan_done(struct pk_scan *sc, uint64_t *files, uint64_t *bytes);

/* Waits for the scan to finish and gives its counts. */
void pk_scan_wait(struct pk_scan *sc, uint64_t *files, uint64_t *bytes);

/* Stops the scan if it still runs, waits for its thread, frees it. */
void pk_scan_free(struct pk_scan *sc);

#endif
