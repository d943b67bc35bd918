/*
 * pack.h: pack files (pk-repo(5), "PACKS"): their names, which of them
 * exist, and writing them.  Blobs (blob.h) are appended to a pack file;
 * the pack's trailer, itself sealed, lists them, so the blob boundaries
 * are hidden from anyone without the key.  packread.h reads them.
 */
#ifndef PK_PACK_H
#define PK_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "blob.h"
#include "buf.h"
#include "io.h"
#include "repo.h"

/* The layout: a header (magic, u32 version, u32 zero), the boxes, the
 * sealed trailer (u32 count, then an entry a blob: storage id, u32
 * offset, length, raw length, zero), and a footer (u64 trailer length,
 * magic). */
#define PK_PACK_MAGIC		"PKPACK\0\0"
#define PK_PACK_FOOTER		"PKPACKND"
#define PK_PACK_VERSION		1
#define PK_PACK_HEADER_BYTES	16
#define PK_PACK_FOOTER_BYTES	16
#define PK_PACK_TRAILER_ENTRY	48
#define PK_PACK_AD		"pk pack"	/* + pack id */
#define PK_PACK_TARGET_BYTES	(32u << 20)	/* a pack is closed past this */
#define PK_PACK_MAX_BLOBS	65536

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
/* Seals the trailer and commits the file to the storage, maybe in the
 * background (storage.h): flush the storage before referring to it. */
int pk_pack_finish(struct pk_pack_writer *w);
void pk_pack_abort(struct pk_pack_writer *w);

/* Orders pack ids (for qsort and bsearch over arrays of them). */
int pk_pack_id_cmp(const void *a, const void *b);
/* "packs/ab/ab12…" for a pack id (relative to the repository); n is at
 * least PK_PACK_RELPATH_BYTES. */
#define PK_PACK_RELPATH_BYTES	(sizeof "packs/ab/" + 2 * PK_PACK_ID_BYTES)
void pk_pack_relpath(char *out, size_t n, const uint8_t id[PK_PACK_ID_BYTES]);
/* REPO/packs/ab/ab12… into out (of size n), for messages: 0 or
 * -ENAMETOOLONG. */
int pk_pack_path(const struct pk_repo *r, char *out, size_t n,
    const uint8_t id[PK_PACK_ID_BYTES]);

/* 1 when the pack file exists, 0 when it does not, or a negative errno
 * (message set) when that cannot be told. */
int pk_pack_exists(struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES]);
/* Removes a pack file. */
int pk_pack_remove(struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES]);

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

#endif
