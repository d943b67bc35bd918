/*
 * validate.h: what a stream may hold, record after record (pk-stream(5),
 * "FILE CONTENT" and "ORDER"): valid entries (pk_entry_check()), in walk
 * order, none below a path that is not a directory, hard links to an
 * earlier regular file with other links, content that adds up to each
 * file's size and ends with its EOF, nothing outside a file that belongs
 * in one.
 *
 * One validator for the writer and the checker: pk-store runs it over the
 * stream it stores and refuses the stream at the first problem, and
 * pk-index --check runs it over every catalog and names every problem, so
 * that what one commits is what the other accepts.  pk-cat decodes each
 * entry with the same pk_entry_check() rules.
 *
 * A struct pk_validator is caller-owned (pk_validator_init() and
 * pk_validator_release()) and used by one thread at a time.
 */
#ifndef PK_VALIDATE_H
#define PK_VALIDATE_H

#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "record.h"

/* A snapshot's catalog: file content only as REF and HOLE, sizes known. */
#define PK_VALIDATE_CATALOG	0x1

struct pk_hashfile;

struct pk_validator {
	unsigned flags;
	/* The last ENTRY, decoded; its strings point into ent, valid until
	 * the next ENTRY. */
	struct pk_entry e;
	struct pk_buf ent, xbuf;
	uint64_t entries;
	struct pk_buf prev;		/* the path of the last good entry */
	uint8_t prevtype;
	int in_file;			/* between a regular file's ENTRY and EOF */
	int size_unknown;		/* ... whose ENTRY.size is PK_SIZE_UNKNOWN */
	uint64_t size, got;
	int skipping;			/* after a bad entry, until the next */
	struct pk_hashfile *links;	/* paths a hard link may name */
};

void pk_validator_init(struct pk_validator *v, unsigned flags);
void pk_validator_release(struct pk_validator *v);

/*
 * Takes the next record.  Returns 0, -ENOMEM, or -EBADMSG with a message
 * (err.h) that says what is wrong, without the record's position, which the
 * caller knows.  After -EBADMSG the validator skips to the next ENTRY, so a
 * checker can name every bad entry of a catalog and go on; the content of a
 * bad entry is not checked.  Unknown types are refused unless ignorable.
 */
int pk_validate(struct pk_validator *v, const struct pk_record *rec);

/* At the stream's END: -EBADMSG when a file's content is not ended. */
int pk_validate_end(struct pk_validator *v);

#endif
