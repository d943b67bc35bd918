/*
 * dedup.h: the work of pk-dedup: replaces the data of chunks already sent
 * earlier in the stream, or listed in a known-chunk set, by REF records, so
 * that only new data travels on down the pipe (and over ssh).
 */
#ifndef PK_DEDUP_H
#define PK_DEDUP_H

#include <stdint.h>

#include "record.h"

struct pk_dedup_stats {
	uint64_t chunks, refs;		/* chunks seen, turned into REFs */
	uint64_t bytes, ref_bytes;	/* their bytes */
};

/*
 * Reads r (header read) to its END and writes the stream to w.  known,
 * when not NULL, is a known-chunk set (known.h): its chunks need not be
 * sent either.  It takes no repository and no key: the chunks a stream
 * may refer to are those of its host's known-chunk set (pk-store(1)).
 * The set of chunks seen keeps 16 bytes of each id in memory: about 24 MiB
 * per million distinct chunks (a terabyte at the default sizes).
 */
struct pk_known;
int pk_dedup_stream(struct pk_reader *r, struct pk_writer *w,
    const struct pk_known *known, struct pk_dedup_stats *st);

#endif
