/*
 * export.h: the stat cache and the known-chunk set of a committed
 * snapshot, built from its catalog (pk-index --export-cache and
 * --export-known), for a client on another host.  Here rather than in
 * statcache.c and known.c, which hold only the file formats: a filter that
 * reads a cache links nothing of the repository.
 */
#ifndef PK_EXPORT_H
#define PK_EXPORT_H

#include "index.h"
#include "repo.h"
#include "snapshot.h"

/* Builds the stat cache of snap at path, replacing what is there. */
int pk_export_statcache(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const char *path);

/* Adds the chunks of snap to the known-chunk set at path. */
int pk_export_known(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const char *path);

#endif
