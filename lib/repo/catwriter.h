/*
 * catwriter.h: writing a snapshot's catalog (snapshot.h): the records that
 * describe the tree, as a record stream cut into chunks as it is written
 * (the catalog chunker), each chunk handed to put and listed in the
 * snapshot with its seek-table fields (seektable.h).
 */
#ifndef PK_CATWRITER_H
#define PK_CATWRITER_H

#include <stdint.h>

#include "record.h"
#include "snapshot.h"

struct pk_catwriter;

/* Stores a catalog chunk: 0 or a negative errno. */
typedef int pk_catwriter_put_fn(void *arg, const uint8_t id[PK_ID_BYTES],
    const uint8_t *p, uint32_t n);

/* Starts a catalog with header h into snap (borrowed until free). */
int pk_catwriter_new(struct pk_catwriter **c, const struct pk_stream_header *h,
    struct pk_snapshot *snap, pk_catwriter_put_fn *put, void *arg);
/* Writes a record, or keeps it while held. */
int pk_catwriter_put(struct pk_catwriter *c, uint8_t type, const void *p,
    size_t n);
/* From the next record, an ENTRY of a file of unknown size, records are
 * held until pk_catwriter_release() gives the file's size. */
void pk_catwriter_hold(struct pk_catwriter *c);
/* Writes the held records, the ENTRY with its size. */
int pk_catwriter_release(struct pk_catwriter *c, uint64_t size);
/* Ends the stream and stores its last chunk. */
int pk_catwriter_end(struct pk_catwriter *c);
void pk_catwriter_free(struct pk_catwriter *c);

#endif
