/*
 * repairsnap.h: the work of pk-index --repair=snapshots: a snapshot whose
 * files refer to chunks that are missing or damaged cannot be restored
 * whole.  The repair finds those files as pk-index --check=data does,
 * reading every blob, and writes for each such snapshot a new one that
 * is the same without them: the regular files with a bad chunk (ENTRY to
 * EOF) are left out, and the hard links to them; directories, other
 * entries and the snapshot's host, user, times and tags stay, with the
 * tag "repaired" added (pk-repo(5) "Repairs").  The original is never
 * removed: that is pk-forget's.  A run again leaves it alone while a
 * snapshot tagged "repaired" of its host and times is there.
 *
 * The new snapshot is stored by the store engine (store.h) from a record
 * stream made of the old catalog, as pk-cat --stream makes a copy, with
 * every REF trusted: so it is committed as any backup is, after a lease,
 * with pk-gc's marks seen and every reference checked.
 */
#ifndef PK_REPAIRSNAP_H
#define PK_REPAIRSNAP_H

#include <stdint.h>

#include "repo.h"

#define PK_REPAIR_TAG	"repaired"

struct pk_repair_snapshots_options {
	int level;		/* zstd level of the new catalog chunks */
	/* One line for each snapshot repaired ("snapshot OLD: N files left
	 * out (path, ...); repaired as NEW"). */
	void (*repaired)(void *arg, const char *line);
	/* Each problem the check finds that is not a damaged file, and each
	 * snapshot that could not be repaired, one line each. */
	void (*problem)(void *arg, const char *msg);
	void *arg;
};

struct pk_repair_snapshots_report {
	uint64_t snapshots;		/* checked */
	uint64_t damaged;		/* with a damaged file */
	uint64_t repaired;		/* new snapshots written */
	uint64_t before;		/* repaired by an earlier run */
	uint64_t left_out;		/* files left out of them */
	uint64_t failed;		/* damaged, and not repaired */
	uint64_t unreadable;		/* snapshot or catalog unreadable */
	uint64_t other_problems;	/* found by the check, not mended */
};

/*
 * Checks r with data and repairs every snapshot with damaged files.
 * Returns 0 when it ran (see the report: a snapshot that could not be
 * repaired is counted and told, not an error), or a negative errno with
 * a message when it could not run at all.
 */
int pk_repair_snapshots(struct pk_repo *r,
    const struct pk_repair_snapshots_options *o,
    struct pk_repair_snapshots_report *rep);

#endif
