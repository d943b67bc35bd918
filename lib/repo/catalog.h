/*
 * catalog.h: reading what a snapshot holds.  A catalog (snapshot.h) is a
 * record stream stored as chunks; a catalog reader fetches them in order
 * and hands out its records, checked like any stream.  Chunk data is
 * fetched by id through the chunk index and checked against its id.
 */
#ifndef PK_CATALOG_H
#define PK_CATALOG_H

#include <stdint.h>

#include "index.h"
#include "buf.h"
#include "repo.h"
#include "record.h"
#include "snapshot.h"

struct pk_catalog;

/* Opens the catalog of snap (borrowed until close); the stream header is
 * read and returned in *h. */
int pk_catalog_open(struct pk_catalog **c, struct pk_repo *r,
    const struct pk_index *ix, const struct pk_snapshot *snap,
    struct pk_stream_header *h);
/*
 * Fills out (reset first) with the bytes of catalog chunk cc, checked
 * against its id; 0 or a negative errno.
 */
typedef int pk_catalog_fetch_fn(void *arg, const struct pk_catalog_chunk *cc,
    struct pk_buf *out);
/* Like pk_catalog_open(), but chunks come from fetch(arg, ...), not from
 * a repository: a catalog held in memory.  A chunk of another length than
 * its cc->len is an error (-EBADMSG). */
int pk_catalog_open_fetch(struct pk_catalog **c, const struct pk_snapshot *snap,
    pk_catalog_fetch_fn *fetch, void *arg, struct pk_stream_header *h);
/*
 * Selects path and what lies below it, on c just opened: by the snapshot's
 * seek table, pk_catalog_next() then reads only the catalog chunks that
 * may hold it.  It skips to the first at the first call, and, after each
 * ENTRY that is neither the path nor below it, over the chunks that cannot
 * hold it.
 * The records it returns between those are the catalog's, in order.
 * Without a seek table, c reads everything.  0 or a negative errno.
 */
int pk_catalog_select(struct pk_catalog *c, const uint8_t *path, size_t len);
/*
 * After an ENTRY at or below path was returned: the entries below path
 * are not wanted (a listing of one directory passes over its children's
 * subtrees).  The next pk_catalog_next() goes on at the first chunk that
 * may start an entry past them, by the seek table, without fetching the
 * chunks between; records of the subtree before that chunk still come.
 * Without a seek table it does nothing.
 */
void pk_catalog_skip(struct pk_catalog *c, const uint8_t *path, size_t len);
/* Like pk_reader_next(): 1 and a record, 0 at the verified END or, with
 * a path selected or skipped past, when no chunk to come can hold what is
 * wanted, <0. */
int pk_catalog_next(struct pk_catalog *c, struct pk_record *rec);
void pk_catalog_close(struct pk_catalog *c);

/* Calls fn(arg, id) with the id of every chunk of snap's files, in
 * catalog order (a chunk used twice comes twice); stops at the first
 * non-zero return of fn and returns it, else 0 or a negative errno. */
int pk_catalog_chunks(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap,
    int (*fn)(void *arg, const uint8_t id[PK_ID_BYTES]), void *arg);

/*
 * Skipping what two catalogs share (pk-index --diff), on a catalog with a
 * seek table and no path selected: pk_catalog_chunk_entry() says whether
 * the next record is the first ENTRY of a catalog chunk, and which (1 and
 * *k, else 0), without reading it; pk_catalog_skip_chunk() then moves the
 * reader to the first ENTRY of chunk k + 1, not fetching chunk k.  The
 * records skipped are those of the entries that start in chunk k.
 * -EINVAL when the next record is no chunk's first ENTRY, or chunk k + 1
 * has none.
 */
int pk_catalog_chunk_entry(struct pk_catalog *c, uint32_t *k);
int pk_catalog_skip_chunk(struct pk_catalog *c);

/* Where the record last returned starts in the catalog stream. */
uint64_t pk_catalog_offset(const struct pk_catalog *c);
uint64_t pk_catalog_recno(const struct pk_catalog *c);

#endif
