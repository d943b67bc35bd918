/*
 * dedup.h: the work of pk-dedup: replaces the data of chunks already sent
 * earlier in the stream, or already in a repository, by REF records, so
 * that only new data travels on down the pipe (and over ssh).
 */
#ifndef PK_DEDUP_H
#define PK_DEDUP_H

#include <stdint.h>

#include "index.h"
#include "record.h"
#include "repo.h"

struct pk_dedup_stats {
	uint64_t chunks, refs;		/* chunks seen, turned into REFs */
	uint64_t bytes, ref_bytes;	/* their bytes */
};

/*
 * Reads r (header read) to its END and writes the stream to w.  repo and
 * ix, when not NULL, name a repository whose chunks need not be sent;
 * known, when not NULL, a known-chunk set (known.h) that does the same
 * without the repository's key.
 * The set of chunks seen keeps 16 bytes of each id in memory: about 24 MiB
 * per million distinct chunks (a terabyte at the default sizes).
 */
struct pk_known;
int pk_dedup_stream(struct pk_reader *r, struct pk_writer *w,
    struct pk_repo *repo, const struct pk_index *ix,
    const struct pk_known *known, struct pk_dedup_stats *st);

#endif
