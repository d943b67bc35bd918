/*
 * store.h: the work of pk-store: consumes a chunked record stream and
 * commits it to a repository as a snapshot.
 *
 * New chunks are checked against their ids, compressed, sealed and packed;
 * known chunks and references cost a hash-file probe.  The stream is
 * checked as it goes (framing, checksum, content lengths, references that
 * the repository cannot satisfy); any failure leaves no snapshot and
 * removes the packs this run wrote.  The commit order is packs, index
 * delta, snapshot file, each synced before the next; only then is the
 * chunk index updated, and it can be rebuilt from the deltas.
 */
#ifndef PK_STORE_H
#define PK_STORE_H

#include <stdint.h>

#include "err.h"
#include "progress.h"
#include "record.h"
#include "repo.h"
#include "snapshot.h"

struct pk_store_progress {
	uint64_t files, bytes, stored, new_chunks;
};

struct pk_store_options {
	int level;			/* zstd level, 0 for none */
	int threads;			/* workers that seal blobs, >= 1 */
	const char *host, *user;
	/* The stream's own host, the one its WALK record (or a copy's META)
	 * names, replaces host; so does a WALK's user replace user. */
	int host_is_default;
	const char *const *tags;
	size_t ntags;
	/* Called about every 64 MiB of input, from the calling thread. */
	void (*progress)(void *arg, const struct pk_store_progress *p);
	void *progress_arg;
	/* Counters of the entries and content bytes read, and of the total a
	 * TOTAL record announces (progress.h); or NULL. */
	struct pk_progress *count;
	/*
	 * Called once the stream's host is known (host, or the one of its
	 * WALK record), before cache and known below are used, so that a
	 * program can choose the host's; from the calling thread; may be
	 * NULL.
	 */
	void (*choose_caches)(void *arg, struct pk_store_options *o,
	    const char *host);
	void *choose_arg;
	/* Where to write the stat cache of the new snapshot (statcache.h),
	 * or NULL for none.  It replaces the file there once the snapshot is
	 * committed. */
	const char *cache;
	/* The known-chunk set (known.h) of the host: the chunks, beside those
	 * the stream carries, that it may refer to (pk-repo(5) SECURITY), to
	 * which this snapshot's are added; or NULL. */
	const char *known;
	/* Accept a reference to any chunk the repository holds: every stage
	 * of the stream is trusted as much as the repository's key. */
	int trust_refs;
	/* Set when the stream referred to a chunk the repository does not
	 * hold: a stat cache or known-chunk set upstream is stale. */
	int missing_chunk;
	/* Set too when that chunk is in the known-chunk set (known): it and
	 * the stat cache beside it no longer describe the repository (it
	 * was restored from an older copy, say). */
	int stale_cache;
	/* Chunks the chunk index placed in a pack that is gone: stored again
	 * (CHUNK records), or refused as missing (REF records). */
	uint64_t lost_blobs;
	/* Set when the stream's chunker differs from the repository's. */
	int chunker_mismatch;
	/* Set, with a message, when the stat cache or the known-chunk set
	 * could not be written; the snapshot is committed all the same. */
	int cache_failed;
	char cache_error[PK_ERR_BYTES];
};

/*
 * Reads r (its header not yet read) to its END and commits a snapshot.
 * On success *snap holds it (release with pk_snapshot_release).  Returns 0
 * or a negative errno with a message.
 */
int pk_store_stream(struct pk_repo *repo, struct pk_reader *r,
    struct pk_store_options *o, struct pk_snapshot *snap);

#endif
