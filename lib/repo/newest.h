/*
 * newest.h: the newest snapshot a user has seen in a repository, kept
 * outside it, in the user's cache (pk-repo(5) "Rollback").  Whoever can
 * write a repository can delete its newest snapshots, or put back an older
 * copy of it, and every file left would still check, since each was sealed
 * by the key; only a record kept elsewhere notices.
 *
 * The file has a line for each place the repository was seen at (its
 * absolute path), since copies of one repository, a mirror that lags for
 * one, rightly differ: the snapshot's end time (seconds.nanoseconds), its
 * id in hexadecimal and the place, with '%' and newline as %25 and %0A.
 */
#ifndef PK_NEWEST_H
#define PK_NEWEST_H

#include <stdint.h>

#include "snapshot.h"

struct pk_newest {
	int64_t sec;
	uint32_t nsec;
	uint8_t id[PK_SNAPSHOT_ID_BYTES];
};

/* The line of place: 0, -ENOENT when there is none, -EBADMSG when the file
 * is not made of such lines. */
int pk_newest_read(const char *path, const char *place, struct pk_newest *n);
/* Records the snapshot for place unless the file holds a newer one: the
 * record only moves forward.  A file that is not made of such lines is
 * started afresh. */
int pk_newest_note(const char *path, const char *place,
    const struct pk_newest *n);
/* The newest of a list of snapshots (n > 0). */
void pk_newest_of(const struct pk_snapshot *list, size_t n, struct pk_newest *out);
/* 1 when the snapshot seen is in the list or one that ended later is. */
int pk_newest_present(const struct pk_newest *seen,
    const struct pk_snapshot *list, size_t n);

#endif
