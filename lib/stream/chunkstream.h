/*
 * chunkstream.h: the work of pk-chunk: turns the DATA records of a stream
 * into CHUNK records (id + bytes) cut by the chunker, and passes every other
 * record through.  Chunking restarts at each file and at each hole, so a
 * file's chunks depend only on its own bytes.
 */
#ifndef PK_CHUNKSTREAM_H
#define PK_CHUNKSTREAM_H

#include <stdint.h>

#include "chunker.h"
#include "record.h"

struct pk_chunk_stats {
	uint64_t files;
	uint64_t bytes;		/* file bytes chunked */
	uint64_t chunks;
};

/*
 * Reads r (header already read) to its END and writes the chunked stream
 * to w (created with the chunker's sizes in its header).  CHUNK and REF
 * records already in the input pass through unchanged.  Chunk ids are
 * computed on up to threads threads; the output is the same for any
 * number.  Returns 0, or a negative errno with a message.
 */
int pk_chunk_stream(struct pk_reader *r, struct pk_writer *w,
    const struct pk_chunker *c, int threads, struct pk_chunk_stats *st);

#endif
