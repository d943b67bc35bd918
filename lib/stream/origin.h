/*
 * origin.h: the WALK record of pk-stream(5): where, when and what a walk
 * read.  pk-walk writes one right after the stream header, so that a stream
 * pulled from another host, or saved to a file and stored later, still
 * says which host it describes and when its files were read.
 */
#ifndef PK_ORIGIN_H
#define PK_ORIGIN_H

#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "record.h"

#define PK_ORIGIN_MAX_STRING	4096	/* host, user, a root */
#define PK_ORIGIN_MAX_ROOTS	1024

enum pk_root_kind {
	PK_ROOT_PATH  = 0,	/* a path walked, as given */
	PK_ROOT_STDIN = 1,	/* standard input, stored under this name */
};

struct pk_root {
	uint8_t kind;		/* enum pk_root_kind */
	struct pk_str path;
};

struct pk_origin {
	int64_t start_sec;	/* when the walk started */
	uint32_t start_nsec;
	struct pk_str host, user;	/* either may be empty */
	uint32_t nroots;
	const struct pk_root *roots;
};

/*
 * Writes o as a WALK record (ignorable).  Strings longer than
 * PK_ORIGIN_MAX_STRING, or holding a NUL, and more than
 * PK_ORIGIN_MAX_ROOTS roots are refused: -EINVAL with a message; so is an
 * empty root.
 */
int pk_write_origin(struct pk_writer *w, const struct pk_origin *o);

/*
 * Decodes a WALK record into o (cleared first).  The strings borrow the
 * record's payload; the roots are kept in tmp (the caller's, released by
 * it).  0, -EBADMSG when the payload breaks pk-stream(5), or -ENOMEM.
 */
int pk_record_origin(const struct pk_record *rec, struct pk_origin *o,
    struct pk_buf *tmp);

#endif
