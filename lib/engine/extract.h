/*
 * extract.h: the work of pk-cat: a snapshot, or a path in it, out as the
 * bytes of one file, a pax tar stream, or a pk record stream.
 */
#ifndef PK_EXTRACT_H
#define PK_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "catalog.h"
#include "entry.h"
#include "index.h"
#include "progress.h"
#include "snapshot.h"

enum pk_extract_mode {
	PK_EXTRACT_AUTO,	/* a regular file's bytes, anything else as tar */
	PK_EXTRACT_FILE,	/* the bytes of one regular file */
	PK_EXTRACT_TAR,
	PK_EXTRACT_STREAM,	/* pk-stream(5), every chunk with its data */
};

struct pk_extract_options {
	enum pk_extract_mode mode;
	const char *path;	/* stored path to select, NULL for everything */
	int fd;			/* output */
	int jobs;		/* threads that open chunks ahead; 0 or 1: none */
	/* Told about each file that could not be restored whole (tar mode
	 * goes on, zero-filling it), and about entries tar cannot hold. */
	void (*warn)(void *arg, const char *path, const char *msg);
	void *arg;
	/* Counts the entries and the content bytes (holes included) written,
	 * as they go (progress.h); or NULL.  The total is the caller's to
	 * set: the snapshot's entries and bytes, when it writes all of it. */
	struct pk_progress *count;
};

struct pk_extract_result {
	uint64_t entries, bytes;
	uint64_t failed;	/* files restored with errors */
	uint64_t skipped;	/* entries tar cannot store (sockets) */
	uint64_t errors;	/* files the snapshot could not read */
};

/*
 * Writes what opts selects from snap.  Returns 0 (check result->failed),
 * -ENOENT when the path is not in the snapshot, or a negative errno with a
 * message for failures that stop the output.
 */
int pk_extract(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_extract_options *o,
    struct pk_extract_result *res);

/*
 * In a scan of the catalog for the stored path sel (sellen bytes; NULL:
 * everything), the ENTRY record rec: 1 when it is sel or below it, 0 when
 * not, PK_EXTRACT_PAST when the entries of sel are all behind (they are
 * contiguous), -EBADMSG when its path cannot be read.  *seen, 0 at the
 * start, is set at the first entry of sel.
 */
#define PK_EXTRACT_PAST	2
int pk_extract_select(const struct pk_record *rec, const char *sel,
    size_t sellen, int *seen);

/*
 * A regular file's content records, from the catalog cat up to and with
 * its EOF, held in held (reset first) as a type byte and a u32-length
 * payload each (pk_buf_add_str), for pk_extract_next_held() to give back;
 * *nrefs counts the REF records.  0, or -EBADMSG for a record that is not
 * content, or a read error.
 */
int pk_extract_hold(struct pk_catalog *cat, struct pk_buf *held,
    size_t *nrefs);
/* The next held record at c, which must have one left. */
void pk_extract_next_held(struct pk_cursor *c, struct pk_record *rec);

/*
 * The content of the regular file target of snap, held as
 * pk_extract_hold() does, and its size: what a hard link at path becomes
 * when its target is outside what is restored.  -ENOENT with a message
 * naming path when snap has no such file.
 */
int pk_extract_link_content(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_str *path,
    const struct pk_str *target, uint64_t *size, struct pk_buf *held,
    size_t *nrefs);

#endif
