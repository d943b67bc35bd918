/*
 * diff.h: what changed between two snapshots (pk-index --diff).
 *
 * Both catalogs are read side by side in walk order, and each path is
 * compared with its namesake: added, removed, its type changed, its
 * content changed (the chunks or holes of a regular file, the target of
 * a hard link: that of the file it names), or only its metadata.  Runs of catalog chunks the two
 * snapshots share are skipped without being fetched: the entries that
 * start in them are the same bytes in both (catalog.h,
 * pk_catalog_skip_chunk).  Times of status change, device and inode
 * numbers and link counts are not compared: they change when a tree is
 * restored or copied, not when its files do.
 */
#ifndef PK_DIFF_H
#define PK_DIFF_H

#include <stdint.h>

#include "entry.h"
#include "index.h"
#include "repo.h"
#include "snapshot.h"

enum pk_diff_kind {
	PK_DIFF_ADDED = '+',
	PK_DIFF_REMOVED = '-',
	PK_DIFF_TYPE = 'T',		/* another type of file */
	PK_DIFF_CONTENT = 'M',		/* content, and maybe metadata */
	PK_DIFF_METADATA = 'U',		/* metadata only */
	PK_DIFF_ERROR = '?',		/* could not be read in one of them */
};

/* Which metadata differ (struct pk_diff_change.what). */
#define PK_DIFF_MODE	1u	/* permission bits */
#define PK_DIFF_OWNER	2u	/* uid, gid, user or group name */
#define PK_DIFF_MTIME	4u
#define PK_DIFF_XATTRS	8u
#define PK_DIFF_TARGET	16u	/* a symbolic link's target */
#define PK_DIFF_DEVICE	32u	/* a device file's numbers */
#define PK_DIFF_LINK	64u	/* which names a regular file shares */

struct pk_diff_change {
	enum pk_diff_kind kind;
	unsigned what;			/* PK_DIFF_MODE ... */
	const uint8_t *path;
	size_t pathlen;
	/* The entry in the old and in the new snapshot, NULL where it is
	 * not there or could not be read; error, the reason when not. */
	const struct pk_entry *old, *new;
	const uint8_t *error;
	size_t errorlen;
};

struct pk_diff_stats {
	uint64_t entries;	/* entries decoded, both sides */
	uint64_t skipped;	/* catalog chunks skipped, both sides */
};

/*
 * Calls fn for each change from snapshot a to snapshot b, in walk order;
 * stops at the first non-zero return of fn and returns it, else 0 or a
 * negative errno (a catalog that cannot be read).  stats may be NULL.
 */
int pk_diff(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *a, const struct pk_snapshot *b,
    int (*fn)(void *arg, const struct pk_diff_change *c), void *arg,
    struct pk_diff_stats *stats);

#endif
