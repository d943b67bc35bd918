/*
 * tar.h: files out as a pax tar stream (POSIX.1-2001 "pax interchange"
 * format, written by libarchive), the restore path of pk-cat(1):
 *
 *   pk-cat REPO SNAPSHOT | tar --xattrs --xattrs-include='*' -xpf -
 *
 * GNU tar and bsdtar extract what this writes with all the metadata a
 * struct pk_entry carries: type, mode, uid/gid and their names, mtime in
 * nanoseconds, symlink targets, hard links, device numbers, xattrs
 * (SCHILY.xattr records), sparse files (GNU sparse format 1.0: holes are
 * not stored and come back as holes), names and link targets of any length.
 *
 * Names.  Paths, link targets and user and group names are byte strings.
 * One that is valid UTF-8 is written as pax requires (UTF-8, whatever the
 * caller's locale); an entry with any name that is not valid UTF-8 is
 * written with hdrcharset=BINARY, its names as raw bytes, which both tars
 * extract byte for byte (GNU tar warns that it does not know the
 * "hdrcharset" keyword).  The path "." (the root of a relative walk) is
 * written as "./", so that extracting into a directory gives that
 * directory the entry's mode and times.
 *
 * Sockets cannot be stored in tar: pk_tar_entry() skips them and says so.
 *
 * A struct pk_tar is used by one thread at a time.  The library does not
 * print; errors return a negative errno and set a message (err.h).  A
 * failed write to the fd returns its errno (-ENOSPC, ...), a failure inside
 * libarchive -EIO; after either the tar stream is unusable and every call
 * but pk_tar_free() returns -EIO.
 */
#ifndef PK_TAR_H
#define PK_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "record.h"

/* pk_tar_entry(): the entry could not be stored (a socket) and was skipped. */
#define PK_TAR_SKIPPED	1

struct pk_tar;

/* The data runs of a sparse file: offset and length of each run that is
 * stored, in ascending order, not overlapping. */
struct pk_tar_extent {
	uint64_t offset, length;
};

/*
 * Creates a writer of a tar stream on fd, which the caller keeps owning
 * (never closed here).  Output goes out in large writes.  0 or -ENOMEM.
 */
int pk_tar_new(struct pk_tar **t, int fd);

/*
 * Writes the header of e (borrowed during the call only).  Returns 0,
 * PK_TAR_SKIPPED for a socket (nothing written), or a negative errno:
 * -EBADMSG for an entry that cannot be written (a path that is not a valid
 * stored path, see pk_path_valid(), a link without target, a regular file
 * of size PK_SIZE_UNKNOWN, a bad sparse map) or when the previous regular
 * file did not get all its content; or an output error (see above).
 * After -EBADMSG nothing was written and the caller may go on with the
 * next entry.
 *
 * Only a regular file has content: after its header the caller passes
 * exactly e->size bytes, in file order, as any sequence of pk_tar_data()
 * and pk_tar_hole() calls.  The size of other types is ignored (a hard
 * link has no content of its own).
 *
 * map and nmap make a regular file sparse: map lists the data runs, every
 * other byte is a hole, which the archive does not store and the
 * extracting tar leaves as a hole.  map NULL (nmap 0) writes every byte; a
 * non-NULL map with nmap 0 is a file that is all hole.  Content given with
 * pk_tar_data() inside a hole of the map must be zeros (-EBADMSG
 * otherwise); pk_tar_hole() inside a data run writes zeros.  The map is
 * copied.  map must be NULL for other types.
 */
int pk_tar_entry(struct pk_tar *t, const struct pk_entry *e,
    const struct pk_tar_extent *map, size_t nmap);

/* The next n bytes of the current regular file's content.  0, -EBADMSG
 * when they go past e->size, when no regular file is open, or when
 * non-zero bytes fall in a hole of the sparse map; or an output error. */
int pk_tar_data(struct pk_tar *t, const void *p, size_t n);

/* The next n bytes of the current file are zeros that the input did not
 * store.  Same returns as pk_tar_data(). */
int pk_tar_hole(struct pk_tar *t, uint64_t n);

/*
 * Ends the archive: checks that the last file got all its content
 * (-EBADMSG otherwise), writes the end-of-archive blocks and flushes.
 * 0 or a negative errno.  Call pk_tar_free() afterwards in any case.
 */
int pk_tar_finish(struct pk_tar *t);

/* Frees t; NULL is allowed.  Does not finish the archive. */
void pk_tar_free(struct pk_tar *t);

/*
 * Converts a whole record stream to a tar stream on fd, the job of
 * `pk-cat -`.  r is a reader whose header has been read; it is read to its
 * END.  File content must come as DATA, CHUNK and HOLE records (holes are
 * written as zeros: there is no map before the content); a REF record, a
 * regular file of unknown size, content that does not total ENTRY.size or
 * is not followed by its EOF, and unknown records not marked ignorable are
 * errors (-EBADMSG, the message names the record number and the path).
 * Ignorable unknown records are skipped.  ERROR records (files that could
 * not be read when the stream was made) are skipped and counted in
 * *nerrors, so that the caller can exit with its "partial" status.
 *
 * Returns the number of entries skipped because tar cannot store them
 * (sockets, >= 0), or a negative errno with a message.  On an error the
 * tar output stops where it is, without end-of-archive blocks, so that
 * the extracting tar notices.
 */
int pk_tar_stream(struct pk_reader *r, int fd, uint64_t *nerrors);

#endif
