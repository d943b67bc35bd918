/*
 * storage.h: where a repository's files live (pk-repo(5), "STORAGE"): a
 * directory of a local file system, or a bucket of an S3 object store
 * ("s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]").  No other module knows
 * which.
 *
 * Files are named relative to the repository ("config", "packs/ab/ab12…",
 * "index/…", "snapshots/…").  Every one is written once, whole or not at
 * all, under a name no other writer picks, and never changed: a local
 * file by a rename of a synced temporary file, an object by one PUT.
 * Both back ends follow the same rules, so the layout needs no rename.
 *
 * Besides the files, a storage has a work directory on the local file
 * system: the repository itself when local, a cache directory for an
 * object store.  The chunk index and the temporary files of a run live
 * there (pk_repo_path).
 */
#ifndef PK_STORAGE_H
#define PK_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct pk_storage;

/* A place names an object store when it starts with "s3:". */
int pk_storage_is_remote(const char *place);

/*
 * Opens the storage of place.  With create, makes it: a local directory
 * that must not exist or be empty; a bucket that is created when missing
 * and must not hold a repository under the prefix.  Errors name the
 * place.
 */
int pk_storage_open(struct pk_storage **s, const char *place, int create);
void pk_storage_close(struct pk_storage *s);

/* The place as it was named, for messages. */
const char *pk_storage_place(const struct pk_storage *s);
/* The local work directory (see above). */
const char *pk_storage_work(const struct pk_storage *s);

/* "PLACE/name" into out, for messages: 0 or -ENAMETOOLONG. */
int pk_storage_name(const struct pk_storage *s, char *out, size_t n,
    const char *name);

/*
 * A whole small file (at most max bytes) into a malloc'd buffer with one
 * byte to spare.  -ENOENT when it does not exist, -EFBIG when larger.
 */
int pk_storage_get(struct pk_storage *s, const char *name, size_t max,
    uint8_t **p, size_t *n);
/* Writes a whole small file. */
int pk_storage_put(struct pk_storage *s, const char *name, const void *p,
    size_t n);

/*
 * A large file is written to a temporary file of the work directory
 * (pk_storage_new) and then committed under its name.  A commit with
 * later set may return before the file is stored; pk_storage_flush()
 * waits for every such commit and returns the first failure.  Nothing
 * may refer to a file (an index delta to a pack) before a flush.
 */
int pk_storage_new(struct pk_storage *s, struct pk_atomic *a);
int pk_storage_commit(struct pk_storage *s, struct pk_atomic *a,
    const char *name, int later);
int pk_storage_flush(struct pk_storage *s);

/* 1 when name exists, 0 when not, or a negative errno. */
int pk_storage_exists(struct pk_storage *s, const char *name);
/* Removes a file; -ENOENT when it does not exist. */
int pk_storage_remove(struct pk_storage *s, const char *name);

/*
 * Calls fn with the last component of each file under dir ("packs",
 * "index", "snapshots"), in no order; stops at fn's first non-zero
 * return and returns it.
 */
int pk_storage_list(struct pk_storage *s, const char *dir,
    int (*fn)(void *arg, const char *name), void *arg);

/*
 * Reading parts of a large file (a pack).  Reads of n bytes at off fail
 * with -ENODATA past its end.  An object is for one thread.
 */
struct pk_object;

int pk_object_open(struct pk_storage *s, const char *name, struct pk_object **o);
int pk_object_size(struct pk_object *o, uint64_t *size);
int pk_object_read(struct pk_object *o, void *p, size_t n, uint64_t off);
void pk_object_close(struct pk_object *o);

#endif
