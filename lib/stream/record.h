/*
 * record.h: the pk record stream, version 1.  The normative specification
 * is pk-stream(5); this header mirrors it.
 *
 * A stream is a 32-byte header followed by records.  Each record is an
 * 8-byte header (type, flags, two zero bytes, u32 payload length, all
 * little-endian) and its payload.  The last record is END, which carries
 * the record count, the byte count and the XXH3-64 of every byte before it;
 * nothing may follow it.
 */
#ifndef PK_RECORD_H
#define PK_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define PK_STREAM_MAGIC		"PKSTREAM"
#define PK_STREAM_VERSION	1
#define PK_STREAM_HEADER_BYTES	32
#define PK_RECORD_HEADER_BYTES	8
#define PK_ID_BYTES		32	/* SHA-256 of the chunk's bytes */
/* The largest payload a reader accepts: the largest chunk plus its id. */
#define PK_RECORD_MAX_BYTES	(16u * 1024 * 1024 + PK_ID_BYTES)
/* The size of DATA records that writers emit. */
#define PK_DATA_RECORD_BYTES	(1u << 20)

enum pk_record_type {
	PK_REC_ENTRY = 0x01,	/* one file's metadata: struct pk_entry */
	PK_REC_DATA  = 0x02,	/* raw bytes of the current file */
	PK_REC_HOLE  = 0x03,	/* u64 count of zero bytes not stored */
	PK_REC_CHUNK = 0x04,	/* id[32], then the chunk's bytes */
	PK_REC_REF   = 0x05,	/* id[32], u32 length: a chunk not sent */
	PK_REC_EOF   = 0x06,	/* end of the current file's content */
	PK_REC_ERROR = 0x07,	/* a file that could not be read */
	PK_REC_META  = 0x08,	/* a copied snapshot's time, host, tags;
				 * always written ignorable */
	PK_REC_WALK  = 0x09,	/* where, when and what a walk read
				 * (origin.h); always ignorable */
	PK_REC_TOTAL = 0x0a,	/* u64 files, u64 bytes the walk will
				 * write, estimated; always ignorable */
	PK_REC_END   = 0x7f,	/* counts and checksum; last record */
};

/* Record flag: a reader that does not know the type skips the record. */
#define PK_RECF_IGNORABLE	0x01

/* EOF flag: the file changed while it was read (its size or times). */
#define PK_EOF_CHANGED		0x01

/*
 * Stream flag: the END checksum leaves out the data of CHUNK records, all
 * but their ids, which cover it (SHA-256).  Readers check each id instead,
 * so that a stage that passes chunks on can move them between pipes
 * without reading them (pk_writer_forward).
 */
#define PK_STREAM_IDS_COVER_DATA	0x01

struct pk_stream_header {
	uint32_t version;
	uint32_t flags;		/* PK_STREAM_IDS_COVER_DATA or 0 */
	uint32_t chunk_min;	/* chunker that made the CHUNK records, */
	uint32_t chunk_avg;	/* or zeros when the stream is not chunked */
	uint32_t chunk_max;
};

struct pk_record {
	uint8_t type;
	uint8_t flags;
	uint32_t len;
	const uint8_t *data;	/* valid until the next read */
	uint32_t held;		/* bytes of the payload at data: len, but
				 * PK_ID_BYTES for a CHUNK left in a pipe
				 * (pk_reader_lazy) */
};

/*
 * Reading.  The reader owns a buffer; pk_reader_next() returns 1 and fills
 * *rec, 0 after a verified END, or a negative errno (message set, naming
 * the record number and byte offset).  Unknown ignorable records are
 * returned like any other, so that filters can pass them through.
 */
struct pk_reader;

/* name is used in messages ("stdin", a file name). */
int pk_reader_new(struct pk_reader **r, int fd, const char *name);
/* A reader over a source function instead of a fd: source returns the
 * count read, 0 at the end, or a negative errno (with a message). */
int pk_reader_new_source(struct pk_reader **r, ssize_t (*source)(void *arg,
    void *p, size_t n), void *arg, const char *name);
void pk_reader_free(struct pk_reader *r);
/* Reads and checks the stream header. */
int pk_reader_header(struct pk_reader *r, struct pk_stream_header *h);
int pk_reader_next(struct pk_reader *r, struct pk_record *rec);
/*
 * Goes on at byte offset of the stream, where record number recno starts,
 * once the caller's source delivers the bytes from there: for catalogs,
 * whose chunks are checked each on its own.  END's counts are still
 * checked, its checksum (which covers the bytes skipped) no longer.
 */
void pk_reader_seek(struct pk_reader *r, uint64_t offset, uint64_t recno);
/* The number of the last record returned (0-based) and its offset. */
uint64_t pk_reader_recno(const struct pk_reader *r);
uint64_t pk_reader_offset(const struct pk_reader *r);
const char *pk_reader_name(const struct pk_reader *r);
/* Bytes read from the fd so far. */
uint64_t pk_reader_bytes(const struct pk_reader *r);
/*
 * In a stream with PK_STREAM_IDS_COVER_DATA the reader checks that each
 * CHUNK's data hashes to its id.  A caller that only passes chunks on, or
 * checks them itself, turns that off.
 */
void pk_reader_defer_ids(struct pk_reader *r);

/*
 * Writing.  Output is buffered in large writes.  pk_writer_end() writes
 * END and flushes.  A write to a closed pipe raises SIGPIPE as usual.
 */
struct pk_writer;

int pk_writer_new(struct pk_writer **w, int fd, const struct pk_stream_header *h);
/* A writer into a sink function: sink returns 0 or a negative errno. */
int pk_writer_new_sink(struct pk_writer **w, int (*sink)(void *arg,
    const void *p, size_t n), void *arg, const struct pk_stream_header *h);
void pk_writer_free(struct pk_writer *w);
int pk_writer_put(struct pk_writer *w, uint8_t type, uint8_t flags,
    const void *payload, size_t len);
/* A record whose payload is two parts, so that chunks need no copy. */
int pk_writer_put2(struct pk_writer *w, uint8_t type, uint8_t flags,
    const void *a, size_t alen, const void *b, size_t blen);
int pk_writer_flush(struct pk_writer *w);
int pk_writer_end(struct pk_writer *w);
/* Bytes and records written so far, the stream header included in bytes:
 * the offset and number of the next record. */
uint64_t pk_writer_bytes(const struct pk_writer *w);
uint64_t pk_writer_records(const struct pk_writer *w);

/* Payload helpers for the fixed-layout records. */
int pk_record_hole(const struct pk_record *rec, uint64_t *len);
int pk_record_ref(const struct pk_record *rec, const uint8_t **id, uint32_t *len);
int pk_record_chunk(const struct pk_record *rec, const uint8_t **id,
    const uint8_t **data, uint32_t *len);
int pk_record_eof(const struct pk_record *rec, uint64_t *size, uint32_t *flags);
int pk_write_hole(struct pk_writer *w, uint64_t len);
int pk_write_ref(struct pk_writer *w, const uint8_t *id, uint32_t len);
int pk_write_eof(struct pk_writer *w, uint64_t size, uint32_t flags);
/* ERROR: u32 errno value, path, message (u32-length strings). */
int pk_write_error(struct pk_writer *w, int errnum, const char *path,
    size_t pathlen, const char *msg);
int pk_record_error(const struct pk_record *rec, int *errnum,
    const uint8_t **path, size_t *pathlen, const uint8_t **msg, size_t *msglen);
/* TOTAL: the ENTRY records and the content bytes (holes included) a walk
 * expects to write; written ignorable, between files. */
int pk_write_total(struct pk_writer *w, uint64_t files, uint64_t bytes);
int pk_record_total(const struct pk_record *rec, uint64_t *files,
    uint64_t *bytes);

/* Passes a record through unchanged. */
int pk_writer_copy(struct pk_writer *w, const struct pk_record *rec);

/*
 * Zero-copy forwarding.  pk_reader_lazy() returns 1 when r reads a pipe
 * and w writes one, and both streams have PK_STREAM_IDS_COVER_DATA.  From
 * then on r reads no further than the header of the record after the one
 * it returns (one read for both), and returns each CHUNK of
 * PK_SPLICE_MIN bytes or more with only its id read (held is
 * PK_ID_BYTES).  Before the next pk_reader_next() the caller passes the
 * rest on with pk_writer_forward(), which splices it from pipe to pipe,
 * or drops it with pk_reader_drop().  Otherwise it returns 0 and r reads
 * as before.
 */
#define PK_SPLICE_MIN	(32u * 1024)
int pk_reader_lazy(struct pk_reader *r, const struct pk_writer *w);
int pk_writer_forward(struct pk_writer *w, struct pk_reader *r,
    const struct pk_record *rec);
int pk_reader_drop(struct pk_reader *r);

/* "ENTRY", "CHUNK", … or "0x5a". */
const char *pk_record_type_name(uint8_t type, char tmp[8]);

#endif
