/*
 * pack.h: blobs and pack files (pk-repo(5), "PACKS").
 *
 * A blob is one chunk as stored: its bytes, compressed with zstd when that
 * makes them smaller, sealed in a box bound to its storage id.  Blobs are
 * appended to a pack file; the pack's trailer, itself sealed, lists them,
 * so the blob boundaries are hidden from anyone without the key.
 */
#ifndef PK_PACK_H
#define PK_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "io.h"
#include "repo.h"

#define PK_PACK_ID_BYTES	16
#define PK_PACK_TARGET_BYTES	(32u << 20)	/* a pack is closed past this */
#define PK_PACK_MAX_BLOBS	65536
#define PK_BLOBLOC_BYTES	64

enum { PK_COMP_NONE = 0, PK_COMP_ZSTD = 1 };

/* Where a blob lives.  Encoded as a 64-byte slot of the chunk index and of
 * index deltas. */
struct pk_blobloc {
	uint8_t sid[PK_SID_BYTES];		/* storage id */
	uint8_t pack[PK_PACK_ID_BYTES];
	uint32_t offset;		/* of the box in the pack */
	uint32_t length;		/* of the box */
	uint32_t raw;			/* of the chunk, uncompressed */
	uint32_t flags;			/* PK_BLOBLOC_* */
};

#define PK_BLOBLOC_MARKER 0x1	/* not a blob: an index delta merged */

void pk_blobloc_encode(uint8_t slot[PK_BLOBLOC_BYTES], const struct pk_blobloc *l);
void pk_blobloc_decode(struct pk_blobloc *l, const uint8_t slot[PK_BLOBLOC_BYTES]);

/*
 * Per-thread state for sealing blobs.  level is the zstd level, up to
 * PK_LEVEL_MAX; 0 stores blobs uncompressed.  The default is a level that
 * compresses at about the speed of the other stages.
 */
#define PK_LEVEL_DEFAULT	2
#define PK_LEVEL_MAX		19

struct pk_sealer {
	void *zctx;
	int level;
};

int pk_sealer_init(struct pk_sealer *s, int level);
void pk_sealer_release(struct pk_sealer *s);
/* Seals n bytes as the blob sid into out (reset first). */
int pk_blob_seal(struct pk_sealer *s, const struct pk_keys *k,
    const uint8_t sid[PK_SID_BYTES], const uint8_t *p, size_t n, struct pk_buf *out);

/* Writing a pack: begin, append boxes, finish (or abort). */
struct pk_pack_writer {
	struct pk_repo *repo;
	struct pk_atomic file;
	uint8_t id[PK_PACK_ID_BYTES];
	uint64_t size;
	uint32_t count;
	struct pk_buf trailer;
	struct pk_buf out;	/* boxes not written yet: one write() per
				 * PK_PACK_WRITE_BYTES, not one per blob */
};
#define PK_PACK_WRITE_BYTES	(1u << 20)

int pk_pack_begin(struct pk_pack_writer *w, struct pk_repo *r);
/* Appends a sealed box; fills *loc. */
int pk_pack_append(struct pk_pack_writer *w, const uint8_t sid[PK_SID_BYTES],
    const uint8_t *box, size_t len, uint32_t raw, struct pk_blobloc *loc);
/* True when the pack should be finished before the next append. */
int pk_pack_full(const struct pk_pack_writer *w);
/* Seals the trailer, syncs, renames into packs/, syncs the directory. */
int pk_pack_finish(struct pk_pack_writer *w);
void pk_pack_abort(struct pk_pack_writer *w);

/* "packs/ab/ab12…" for a pack id (relative to the repository); n is at
 * least PK_PACK_RELPATH_BYTES. */
#define PK_PACK_RELPATH_BYTES	(sizeof "packs/ab/" + 2 * PK_PACK_ID_BYTES)
void pk_pack_relpath(char *out, size_t n, const uint8_t id[PK_PACK_ID_BYTES]);
/* REPO/packs/ab/ab12… into out (of size n): 0 or -ENAMETOOLONG. */
int pk_pack_path(const struct pk_repo *r, char *out, size_t n,
    const uint8_t id[PK_PACK_ID_BYTES]);

/* 1 when the pack file exists, 0 when it does not, or a negative errno
 * (message set) when that cannot be told. */
int pk_pack_exists(struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES]);

/*
 * Which packs exist, each looked up once: a blob in a pack that is gone (a
 * disk error, a careless rm, a partial copy) must not be taken for stored.
 * In memory, as many slots as packs asked about.  pk_pack_census_alive()
 * returns 1, 0 or a negative errno like pk_pack_exists().
 */
struct pk_pack_census;

int pk_pack_census_new(struct pk_pack_census **c, struct pk_repo *r);
int pk_pack_census_alive(struct pk_pack_census *c,
    const uint8_t id[PK_PACK_ID_BYTES]);
void pk_pack_census_free(struct pk_pack_census *c);

/*
 * Reading blobs.  A reader keeps the last pack open.  pk_blob_read fills
 * out with the chunk's bytes (loc->raw of them), or returns -EBADMSG for a
 * box that does not authenticate or decompress, -ENOENT for a missing
 * pack, with a message naming the pack file.
 */
struct pk_blob_reader {
	struct pk_repo *repo;
	int fd;
	uint8_t pack[PK_PACK_ID_BYTES];
	void *dctx;
	struct pk_buf box, plain;
};

int pk_blob_reader_init(struct pk_blob_reader *br, struct pk_repo *r);
void pk_blob_reader_release(struct pk_blob_reader *br);
int pk_blob_read(struct pk_blob_reader *br, const struct pk_blobloc *loc,
    struct pk_buf *out);

/*
 * Reads and authenticates a pack's trailer; calls fn for each blob listed.
 * Used by checks and to rebuild indexes.
 */
int pk_pack_list(struct pk_blob_reader *br, const uint8_t id[PK_PACK_ID_BYTES],
    int (*fn)(void *arg, const struct pk_blobloc *loc), void *arg);

#endif
