/*
 * entry.h: the metadata of one file, as carried by an ENTRY record
 * (pk-stream(5), "ENTRY").
 *
 * Strings are byte strings of the given length (not NUL-terminated in the
 * record; a decoded entry borrows them from the record's payload and stays
 * valid only as long as the payload does).  Paths are relative, '/'
 * separated, without a leading '/', and may hold any byte but NUL.
 */
#ifndef PK_ENTRY_H
#define PK_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum pk_ftype {
	PK_FT_REG = 1,		/* regular file: content records, then EOF */
	PK_FT_DIR = 2,
	PK_FT_SYMLINK = 3,	/* link: the target */
	PK_FT_HARDLINK = 4,	/* link: path of an earlier entry; no content */
	PK_FT_CHR = 5,		/* rdev_major, rdev_minor */
	PK_FT_BLK = 6,
	PK_FT_FIFO = 7,
	PK_FT_SOCK = 8,
};

/* ENTRY size of a regular file read from a pipe: the EOF record that ends
 * its content carries the size.  Never stored in a snapshot's catalog. */
#define PK_SIZE_UNKNOWN		UINT64_MAX

#define PK_ENTRY_MAX_NAME	(64u * 1024)	/* path, link, user, group */
#define PK_ENTRY_MAX_XATTRS	4096
#define PK_ENTRY_MAX_XATTR	(1u << 20)	/* one value, bytes */
/* The largest regular file, holes included: 1 PiB, more than ext4 holds
 * (16 TiB) and less than what makes a restore of holes last for days. */
#define PK_ENTRY_MAX_SIZE	(UINT64_C(1) << 50)

struct pk_str {
	const uint8_t *p;
	size_t len;
};

struct pk_xattr {
	struct pk_str name;
	struct pk_str value;
};

struct pk_entry {
	uint8_t type;		/* enum pk_ftype */
	uint32_t mode;		/* permission bits, 07777 */
	uint32_t uid, gid;
	uint64_t size;		/* content bytes, holes included */
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;
	uint64_t dev, ino;
	uint32_t nlink;
	uint32_t rdev_major, rdev_minor;
	struct pk_str path, link, uname, gname;
	uint32_t nxattrs;
	struct pk_xattr *xattrs;	/* nxattrs of them */
};

/* Appends the ENTRY payload of e to b. */
int pk_entry_encode(const struct pk_entry *e, struct pk_buf *b);

/*
 * Decodes an ENTRY payload.  e->xattrs points into *xbuf, which the caller
 * owns (PK_BUF_INIT, reused across calls, pk_buf_release at the end).
 * Returns 0 or -EBADMSG (with a message naming the field).
 */
int pk_entry_decode(struct pk_entry *e, const uint8_t *p, size_t n,
    struct pk_buf *xbuf);

/*
 * The rules every entry obeys, whatever reads it (pk-stream(5), ENTRY): a
 * known type, mode and nanoseconds in range, a valid stored path, "." only
 * as a directory, a link target exactly on links, user, group and xattr
 * names without NUL bytes, content only on regular files and at most
 * PK_ENTRY_MAX_SIZE bytes of it (or PK_SIZE_UNKNOWN, which the caller
 * accepts or not).  pk_entry_decode() applies it.  0 or -EBADMSG with a
 * message.
 */
int pk_entry_check(const struct pk_entry *e);

/*
 * Reads only the path of an ENTRY payload, for scans that decode in full
 * only the entries they use.  -EBADMSG when the payload is too short for
 * it; the path itself is not checked.
 */
int pk_entry_path(struct pk_str *path, const uint8_t *p, size_t n);

/* Checks the rules for a stored path: not empty, no NUL, no leading '/',
 * no "." or ".." component but a lone ".", no empty component. */
int pk_path_valid(const uint8_t *p, size_t n);

/*
 * Orders stored paths as pk-walk(1) emits them: bytewise, with '/' before
 * every other byte, so that each directory's subtree comes right after it
 * and before its next sibling.  <0, 0 or >0 like memcmp.
 */
int pk_path_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* Walk order (pk-stream(5)): ".", the root of everything after it, first;
 * the other paths by pk_path_cmp().  <0, 0 or >0. */
int pk_path_order(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* Whether path p is sel or below it. */
int pk_path_under(const uint8_t *p, size_t n, const uint8_t *sel, size_t seln);

/* "reg", "dir", … for listings. */
const char *pk_ftype_name(uint8_t type);

#endif
