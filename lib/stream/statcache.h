/*
 * statcache.h: the stat cache.  For each regular file of a committed
 * snapshot it keeps the file's identity and times and the chunks of its
 * content, so that pk-walk --cache emits references for a file that did
 * not change instead of reading it: a re-backup costs a stat and a probe
 * per unchanged file.  The layout is normative: pk-repo(5), "STAT CACHE".
 *
 * A cache is two files: PATH, a hash file (kind PK_HF_STATCACHE) of 64-byte
 * slots keyed by a hash of the stored path, and PATH.lists, the content
 * lists the slots point into.  Each list repeats its key and the file's
 * stat and ends with a checksum, so a list that does not belong to its
 * slot (a torn pair, a damaged file) is detected and never trusted.  A
 * cache describes only committed data: it is built from a snapshot's
 * catalog, aside, and renamed into place once the snapshot is committed.
 * Files modified within a second of the snapshot's start are left out
 * (their next change could keep the same times).
 */
#ifndef PK_STATCACHE_H
#define PK_STATCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"

struct pk_statinfo {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	uint32_t mode;		/* st_mode, type bits included */
};

struct pk_statcache;

/*
 * Opens a cache read-only.  repo_id, when not NULL, must be the cache's
 * repository (16 bytes), and generation its generation (gcmark.h): a
 * cache made before pk-gc forgot data may name chunks that are gone.
 * Returns 0, -ENOENT, or -ESTALE (message says why: torn, foreign, older,
 * damaged), or another negative errno.
 */
int pk_statcache_open(struct pk_statcache **c, const char *path,
    const uint8_t *repo_id, uint64_t generation);
void pk_statcache_close(struct pk_statcache *c);

/*
 * 1 when path is in the cache with exactly this stat: out then holds the
 * file's content records (u8 type REF or HOLE, u32 length, payload, ...);
 * PK_STATCACHE_XATTRS instead of 1 when the file had extended attributes
 * (without them, none need be read).  0 when not in the cache (or when its
 * list fails its checks).
 */
#define PK_STATCACHE_XATTRS 2
int pk_statcache_lookup(struct pk_statcache *c, const uint8_t *path,
    size_t len, const struct pk_statinfo *st, struct pk_buf *out);

/* Building a new cache. */
struct pk_statcache_builder;

/*
 * A new cache replaces the one at path when committed, and takes over the
 * files of the old one (same repository and generation) that it does not
 * have, for up to PK_STATCACHE_MAX_AGE commits: two trees backed up in turn
 * into one repository each keep their files cached.
 */
#define PK_STATCACHE_MAX_AGE 32

/* not_before_sec: files whose mtime or ctime is at or after one second
 * before it are left out.  Builders write their own temporary files and
 * take PATH.lock only to commit. */
int pk_statcache_build_begin(struct pk_statcache_builder **b, const char *path,
    const uint8_t repo_id[16], uint64_t generation, int64_t not_before_sec);
/* Lowers the cut-off to an earlier time (a copied snapshot's start). */
void pk_statcache_build_not_before(struct pk_statcache_builder *b,
    int64_t not_before_sec);
/*
 * Adds one regular file: e (its ENTRY), its content records as above, and
 * the flags of its EOF.  Files of unknown size, that changed while read, or
 * whose times the cache cannot hold are left out.
 */
int pk_statcache_build_file(struct pk_statcache_builder *b,
    const struct pk_entry *e, const uint8_t *content, size_t len,
    uint32_t eof_flags);
/* Carries the old cache's files over, then renames the new lists, then
 * the new hash file, into place; frees b either way. */
int pk_statcache_build_commit(struct pk_statcache_builder *b);
void pk_statcache_build_abort(struct pk_statcache_builder *b);

/*
 * The stat of an entry, or of a file, as the cache compares it.  Returns 0,
 * or -ERANGE for a time that the cache's nanoseconds cannot hold (before
 * 1678 or after 2262): such a file is never cached.
 */
int pk_statinfo_from_entry(struct pk_statinfo *st, const struct pk_entry *e);
struct stat;
int pk_statinfo_from_stat(struct pk_statinfo *si, const struct stat *st);

#endif
