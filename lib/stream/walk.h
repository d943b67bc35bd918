/*
 * walk.h: the walker, which turns file trees into a pk record stream
 * (pk-stream(5)); the library behind pk-walk(1).
 *
 * For each file, in depth-first pre-order with every directory's children
 * sorted bytewise by name, the walker writes:
 *
 *   ENTRY                        the metadata (struct pk_entry)
 *   DATA | HOLE ... EOF          regular files only: content records that
 *                                total exactly ENTRY.size bytes, then EOF
 *   ERROR                        a file, or part of one, that could not be
 *                                read; the walk goes on
 *
 * A regular file seen before under another name (same dev and ino, nlink
 * > 1) becomes a PK_FT_HARDLINK entry naming the first path, without
 * content.  A file that cannot be opened gets an ERROR record instead of
 * its ENTRY; a directory that cannot be listed gets its ENTRY, then an
 * ERROR.  A file that shrinks while read is padded with a HOLE to its
 * ENTRY.size; a file that changes while read has PK_EOF_CHANGED set in its
 * EOF record.  Symbolic links are never followed, not even on the command
 * line; devices, fifos and sockets are never opened.
 *
 * Stored paths follow tar: the argument without leading '/', "./" and
 * trailing '/', children joined with '/'; the arguments "/" and "." are
 * stored as "." and their children without a prefix.
 *
 * Per-file problems are reported through the warn callback and counted in
 * struct pk_walk_report; they are not errors of the calls below, which
 * fail only when the walk cannot go on (the output failed, out of memory).
 *
 * A struct pk_walk is used by one thread at a time.  The library does not
 * print; it reads only the files it walks and the user and group
 * databases (getpwuid_r, getgrgid_r).
 */
#ifndef PK_WALK_H
#define PK_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "record.h"

struct pk_scan;		/* scan.h */

struct pk_walk_report {
	uint64_t files;		/* ENTRY records written */
	uint64_t bytes;		/* content bytes read (DATA records) */
	uint64_t errors;	/* files or directories that could not be read */
	uint64_t changed;	/* files that changed while read */
	uint64_t missing;	/* arguments that could not be stat'ed */
	uint64_t cached;	/* files not read: the stat cache knew them */
};

struct pk_walk_options {
	/* fnmatch(3) patterns, flags 0, matched against the stored path and
	 * against the base name of every file, arguments included.  An
	 * excluded directory is not descended into.  Borrowed. */
	const char *const *excludes;
	size_t nexcludes;
	/* Do not descend into directories on another device than their
	 * argument; the mount point's own entry is still written. */
	int one_file_system;
	/* Tagged directories: when a directory holds a CACHEDIR.TAG file
	 * (the Cache Directory Tagging spec: a regular file that begins with
	 * its signature; with exclude_caches) or a file of one of the names
	 * in tags, its entry and its tag files are written and its other
	 * children left out, as tar's --exclude-caches and --exclude-tag
	 * do.  tags is borrowed. */
	int exclude_caches;
	const char *const *tags;
	size_t ntags;
	/* A stat cache (statcache.h): a regular file it knows with the same
	 * stat is not read; its content goes out as REF and HOLE records.
	 * Borrowed; may be NULL. */
	struct pk_statcache *cache;
	/*
	 * Called for every problem with one file: path is the file as the
	 * user named it (the argument, then '/' and the rest), msg a reason
	 * such as "Permission denied" or "file shrank while read".  Both are
	 * valid during the call only.  May be NULL.
	 */
	void (*warn)(void *arg, const char *path, const char *msg);
	/* Called after each entry and each DATA record, so that a program can
	 * show progress; it should be cheap.  May be NULL. */
	void (*progress)(void *arg, const struct pk_walk_report *rep);
	void *arg;		/* for warn and progress */
	/* A scan of the same paths with the same excludes and rule (scan.h):
	 * once it is done, its counts go out as a TOTAL record before the
	 * next ENTRY, or at the latest by pk_walk_end().  Borrowed; may be
	 * NULL. */
	struct pk_scan *scan;
};

struct pk_walk;

/*
 * Creates a walker writing to w (which the caller owns, created and ended
 * by the caller).  The options are copied; the patterns they point to are
 * borrowed and must outlive the walker.  0 or -ENOMEM.
 */
int pk_walk_new(struct pk_walk **wk, struct pk_writer *w,
    const struct pk_walk_options *o);
void pk_walk_free(struct pk_walk *wk);

/*
 * Writes the records of one command-line argument and everything below
 * it.  Arguments walked by one walker share the hard link table, so a link
 * between two arguments is found too.  An argument that cannot be stat'ed
 * is warned about, written as an ERROR record and counted in
 * report.missing.  Returns 0, -EINVAL for a path that
 * pk_walk_stored_path() refuses, or another negative errno when the
 * output failed (message set).
 */
int pk_walk_path(struct pk_walk *wk, const char *path);

/*
 * Writes the bytes read from fd until end of file as one regular file
 * stored as name (normalised like an argument): mode 0600, owned by the
 * process's uid and gid, mtime now, ENTRY.size PK_SIZE_UNKNOWN; the EOF
 * record carries the size.  A read error is fatal (negative errno,
 * message set): the stream must then not be ended, so that no snapshot
 * holds a silently truncated file.
 */
int pk_walk_fd(struct pk_walk *wk, int fd, const char *name);

/*
 * Ends the stream: the scan's TOTAL record if it is not out yet (waiting
 * for the scan, which does less work than the walk), then END
 * (pk_writer_end).  0 or a negative errno.
 */
int pk_walk_end(struct pk_walk *wk);

/* The counts so far. */
const struct pk_walk_report *pk_walk_report(const struct pk_walk *wk);

/*
 * Sets *out (cleared first) to the stored path of a command-line
 * argument, NUL-terminated, as described above.  Returns 0, or -EINVAL
 * (message set) when the argument is empty or has a ".." component.
 */
int pk_walk_stored_path(const char *arg, struct pk_buf *out);

/* The children names[0..n) of the directory fd that a walk with o goes
 * into: all, or, when the directory is tagged (tags, exclude_caches), its
 * tag files only, moved to the front.  Returns their count. */
size_t pk_walk_keep_tags(const struct pk_walk_options *o, int fd, char **names,
    size_t n);

/* 1 when one of the fnmatch(3) patterns matches the stored path or the
 * base name of a file: the rule of pk_walk_options.excludes. */
int pk_walk_excluded(const char *const *patterns, size_t n, const char *path,
    const char *base);

/*
 * Puts the command-line arguments of a walk in the order their stored
 * paths must come in the stream (pk-stream(5), ORDER): "." first, then by
 * pk_path_cmp().  An argument whose stored path repeats an earlier one or
 * lies below it is left out, as it is walked with that one.  "-" stands
 * for stdin_name.  Reorders args[0..*n) in place and sets *n to the count
 * kept.  0, -ENOMEM, or the -EINVAL of pk_walk_stored_path().
 */
int pk_walk_order_args(char **args, int *n, const char *stdin_name);

#endif
