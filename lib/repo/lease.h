/*
 * lease.h: leases (pk-repo(5), "GARBAGE COLLECTION").  A run that decides
 * anything from what the repository holds (pk-store deduplicating, pk-gc
 * collecting) first puts a lease, locks/ID, and removes it when it ends.
 * pk-gc deletes what it marked only once every lease it saw after marking
 * is gone: no run that may have taken a marked blob for stored is left.
 * Backups take no lock: a lease is only ever read by pk-gc.
 */
#ifndef PK_LEASE_H
#define PK_LEASE_H

#include <stdint.h>

#include "repo.h"

#define PK_LEASE_ID_BYTES	16
#define PK_LEASE_NAME_BYTES	(2 * PK_LEASE_ID_BYTES + 1)
/* A lease this old is stale whoever holds it: no backup runs a week. */
#define PK_LEASE_STALE_SEC	(7 * 24 * 3600)

struct pk_lease {
	char name[PK_LEASE_NAME_BYTES];	/* the ID of locks/ID */
	char kind[16];			/* "store" or "gc" */
	char host[256];
	int64_t pid;
	int64_t start;			/* seconds since the Epoch */
	int bad;			/* unreadable: taken for live */
	int stale;			/* its run is known to be over */
};

/* Puts a lease of this process for a run of kind. */
int pk_lease_take(struct pk_repo *r, const char *kind, struct pk_lease *l);
/* Removes it; errors are ignored (a lease left behind only delays gc). */
void pk_lease_drop(struct pk_repo *r, const struct pk_lease *l);
/*
 * Every lease of the repository, with stale set for those whose run is
 * over: a process of this host that no longer exists, or a lease older
 * than PK_LEASE_STALE_SEC.  Free *v with free().
 */
int pk_lease_list(struct pk_repo *r, struct pk_lease **v, size_t *n);
/* "host H pid P since DATE" into out, for messages. */
void pk_lease_describe(const struct pk_lease *l, char *out, size_t n);

#endif
