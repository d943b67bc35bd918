/*
 * snapshot.h: snapshot files (REPO/snapshots/ID, pk-repo(5) "SNAPSHOTS").
 *
 * A snapshot is small: when and where it was taken, what it holds, and the
 * list of the chunks of its catalog.  The catalog is the snapshot's record
 * stream with every chunk replaced by a reference (ENTRY, REF, HOLE, EOF
 * and ERROR records, pk-stream(5)), chunked and stored as blobs like file
 * data, so catalogs of similar trees share their chunks.  Writing the
 * snapshot file is the commit point of a backup.  Its id is a keyed hash
 * of its contents.
 */
#ifndef PK_SNAPSHOT_H
#define PK_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "repo.h"

#define PK_SNAPSHOT_ID_BYTES	32
#define PK_SNAPSHOT_NAME_BYTES	(2 * PK_SNAPSHOT_ID_BYTES + 1)
#define PK_SNAPSHOT_MAX_PATHS	64
#define PK_SNAPSHOT_MAX_TAGS	64
#define PK_SNAPSHOT_MAX_STRING	4096	/* a path, tag, host or user name */

/* Catalog chunking: finer than file data, so small changes stay small. */
#define PK_CATALOG_CHUNK_MIN	(16u * 1024)
#define PK_CATALOG_CHUNK_AVG	(64u * 1024)
#define PK_CATALOG_CHUNK_MAX	(256u * 1024)

/*
 * The seek table (snapshot version 2): for each catalog chunk, where the
 * first ENTRY that starts in it begins, and bounds on the paths of all the
 * entries that start in it, so that a reader of one path fetches only the
 * chunks that may hold it.  Keys are cut to PK_CATALOG_KEY_MAX bytes; a hi
 * key that long also bounds every path that starts with it.
 */
#define PK_CATALOG_KEY_MAX	256
#define PK_CATALOG_NO_ENTRY	UINT32_MAX

struct pk_catalog_chunk {
	uint8_t id[PK_ID_BYTES];
	uint32_t len;
	uint32_t entry;		/* offset in the chunk, or PK_CATALOG_NO_ENTRY */
	uint64_t recno;		/* that ENTRY's record number */
	/* The least and greatest path (pk_path_cmp): lolen bytes at
	 * keys.data + key, then hilen bytes. */
	uint32_t key;
	uint16_t lolen, hilen;
};

struct pk_snapshot {
	uint8_t id[PK_SNAPSHOT_ID_BYTES];
	int64_t start_sec, end_sec;
	uint32_t start_nsec, end_nsec;
	char *host, *user;
	uint32_t npaths, ntags;
	char **paths, **tags;
	uint64_t entries, files, dirs;	/* entries of each kind */
	uint64_t bytes;			/* file content, holes included */
	uint64_t stored;		/* bytes this snapshot added to packs */
	uint64_t chunks, new_chunks;
	uint64_t errors;		/* files that could not be read */
	uint32_t chunk_min, chunk_avg, chunk_max;
	uint64_t catalog_bytes;
	uint32_t ncatalog;
	struct pk_catalog_chunk *catalog;
	int seekable;			/* has a seek table (version 2) */
	struct pk_buf keys;		/* the seek table's paths */
};

/* Sets id from the contents and writes the snapshot file (the commit). */
int pk_snapshot_write(struct pk_repo *r, struct pk_snapshot *s);
/* Reads snapshots/<name>; -ENOENT if absent, -EBADMSG if corrupt. */
int pk_snapshot_read(struct pk_repo *r, const char *name, struct pk_snapshot *s);
void pk_snapshot_release(struct pk_snapshot *s);

/* Reads every snapshot, oldest first.  Snapshots that cannot be read are
 * left out and counted in *nbad (may be NULL), so that one damaged file
 * does not hide the others; pk-index --check names them.  Free with
 * pk_snapshot_list_free. */
int pk_snapshot_list(struct pk_repo *r, struct pk_snapshot **list, size_t *n,
    size_t *nbad);
void pk_snapshot_list_free(struct pk_snapshot *list, size_t n);

/*
 * The snapshots a user means with --host, --tag and --path (each may be
 * given more than once; none given: all): those of one of the hosts, with
 * one of the tags, and holding every one of the paths (as stored, without
 * a leading or trailing '/', "." for the root).
 */
struct pk_snapshot_filter {
	char **hosts, **tags, **paths;
	size_t nhosts, ntags, npaths;
};

int pk_snapshot_filter_match(const struct pk_snapshot_filter *f,
    const struct pk_snapshot *s);

/*
 * Finds the snapshot a user names: "latest", the newest that passes f
 * (NULL: all), or a unique prefix (at least 4 hex digits) of its id, which
 * names one snapshot whatever f says.  -ENOENT when none matches, -EINVAL
 * when the prefix is ambiguous (message says so).
 */
int pk_snapshot_select(struct pk_repo *r, const char *sel,
    const struct pk_snapshot_filter *f, struct pk_snapshot *s);

/*
 * The META record of a copied snapshot (pk-stream(5)): its start and end
 * times, host, user and tags, so that a copy keeps them.  Decoding fills
 * those fields of s (which must hold none yet).
 */
int pk_snapshot_meta_encode(const struct pk_snapshot *s, struct pk_buf *b);
int pk_snapshot_meta_decode(struct pk_snapshot *s, const uint8_t *p, size_t n);

/* Adds a path (cut to PK_SNAPSHOT_MAX_STRING bytes) or a tag (refused
 * when longer: -EINVAL) to the snapshot, up to the maximum count. */
int pk_snapshot_add_path(struct pk_snapshot *s, const char *p, size_t n);
int pk_snapshot_add_tag(struct pk_snapshot *s, const char *t);

/* Removes snapshots/<name> (the full id in hexadecimal): -ENOENT when it
 * is not there, -EINVAL when name is not an id.  Only the snapshot file
 * goes; the chunks it alone held stay in their packs. */
int pk_snapshot_remove(struct pk_repo *r, const char *name);

#endif
