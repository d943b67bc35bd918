#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "entry.h"
#include "err.h"

#define ENTRY_FIXED_VERSION 0	/* the reserved byte after the type */

int
pk_entry_encode(const struct pk_entry *e, struct pk_buf *b)
{
	uint32_t i;
	int r = 0;

	r |= pk_buf_add_u8(b, e->type);
	r |= pk_buf_add_u8(b, 0);
	r |= pk_buf_add_u16(b, 0);
	r |= pk_buf_add_u32(b, e->mode);
	r |= pk_buf_add_u32(b, e->uid);
	r |= pk_buf_add_u32(b, e->gid);
	r |= pk_buf_add_u64(b, e->size);
	r |= pk_buf_add_u64(b, (uint64_t)e->mtime_sec);
	r |= pk_buf_add_u32(b, e->mtime_nsec);
	r |= pk_buf_add_u64(b, (uint64_t)e->ctime_sec);
	r |= pk_buf_add_u32(b, e->ctime_nsec);
	r |= pk_buf_add_u64(b, e->dev);
	r |= pk_buf_add_u64(b, e->ino);
	r |= pk_buf_add_u32(b, e->nlink);
	r |= pk_buf_add_u32(b, e->rdev_major);
	r |= pk_buf_add_u32(b, e->rdev_minor);
	r |= pk_buf_add_str(b, e->path.p, e->path.len);
	r |= pk_buf_add_str(b, e->link.p, e->link.len);
	r |= pk_buf_add_str(b, e->uname.p, e->uname.len);
	r |= pk_buf_add_str(b, e->gname.p, e->gname.len);
	r |= pk_buf_add_u32(b, e->nxattrs);
	for (i = 0; i < e->nxattrs; i++) {
		r |= pk_buf_add_str(b, e->xattrs[i].name.p, e->xattrs[i].name.len);
		r |= pk_buf_add_str(b, e->xattrs[i].value.p, e->xattrs[i].value.len);
	}
	return r ? -ENOMEM : 0;
}

int
pk_path_valid(const uint8_t *p, size_t n)
{
	size_t i, start = 0;

	if (n == 0 || p[0] == '/' || memchr(p, '\0', n) != NULL)
		return 0;
	if (n == 1 && p[0] == '.')
		return 1;
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i == start)
			return 0;	/* empty component */
		if ((i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return 0;
		start = i + 1;
	}
	return 1;
}

int
pk_path_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t i, n = an < bn ? an : bn;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (a[i] == '/' ? 0 : a[i]) - (b[i] == '/' ? 0 : b[i]);
	return (an > bn) - (an < bn);
}

int
pk_path_order(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int adot = an == 1 && a[0] == '.', bdot = bn == 1 && b[0] == '.';

	if (adot || bdot)
		return bdot - adot;
	return pk_path_cmp(a, an, b, bn);
}

int
pk_path_under(const uint8_t *p, size_t n, const uint8_t *sel, size_t seln)
{
	return n >= seln && memcmp(p, sel, seln) == 0 &&
	    (n == seln || p[seln] == '/');
}

static int
get_name(struct pk_cursor *c, struct pk_str *s)
{
	s->p = pk_get_str(c, PK_ENTRY_MAX_NAME, &s->len);
	return pk_cursor_ok(c);
}

/* The bytes of an ENTRY payload before its path: type, version, reserved
 * u16, then mode, uid, gid, size, mtime, ctime, dev, ino, nlink, rdev. */
#define ENTRY_FIXED_BYTES	76

int
pk_entry_path(struct pk_str *path, const uint8_t *p, size_t n)
{
	struct pk_cursor c;

	pk_cursor_init(&c, p, n);
	pk_get_bytes(&c, ENTRY_FIXED_BYTES);
	return get_name(&c, path) < 0 ? -EBADMSG : 0;
}

int
pk_entry_decode(struct pk_entry *e, const uint8_t *p, size_t n,
    struct pk_buf *xbuf)
{
	struct pk_cursor c;
	uint32_t i;

	memset(e, 0, sizeof *e);
	pk_cursor_init(&c, p, n);
	e->type = pk_get_u8(&c);
	if (pk_get_u8(&c) != ENTRY_FIXED_VERSION || pk_get_u16(&c) != 0)
		return pk_err(-EBADMSG, "entry: reserved bytes set");
	e->mode = pk_get_u32(&c);
	e->uid = pk_get_u32(&c);
	e->gid = pk_get_u32(&c);
	e->size = pk_get_u64(&c);
	e->mtime_sec = (int64_t)pk_get_u64(&c);
	e->mtime_nsec = pk_get_u32(&c);
	e->ctime_sec = (int64_t)pk_get_u64(&c);
	e->ctime_nsec = pk_get_u32(&c);
	e->dev = pk_get_u64(&c);
	e->ino = pk_get_u64(&c);
	e->nlink = pk_get_u32(&c);
	e->rdev_major = pk_get_u32(&c);
	e->rdev_minor = pk_get_u32(&c);
	if (get_name(&c, &e->path) < 0 || get_name(&c, &e->link) < 0 ||
	    get_name(&c, &e->uname) < 0 || get_name(&c, &e->gname) < 0)
		return pk_err(-EBADMSG, "entry: truncated or overlong name");
	e->nxattrs = pk_get_u32(&c);
	if (pk_cursor_ok(&c) < 0 || e->nxattrs > PK_ENTRY_MAX_XATTRS)
		return pk_err(-EBADMSG, "entry: bad xattr count");
	pk_buf_reset(xbuf);
	if (pk_buf_reserve(xbuf, e->nxattrs * sizeof *e->xattrs) < 0)
		return -ENOMEM;
	e->xattrs = (struct pk_xattr *)(void *)xbuf->data;
	for (i = 0; i < e->nxattrs; i++) {
		struct pk_xattr *x = &e->xattrs[i];

		x->name.p = pk_get_str(&c, 255, &x->name.len);
		x->value.p = pk_get_str(&c, PK_ENTRY_MAX_XATTR, &x->value.len);
		if (pk_cursor_ok(&c) < 0)
			return pk_err(-EBADMSG, "entry: bad xattr");
	}
	if (c.left != 0)
		return pk_err(-EBADMSG, "entry: trailing bytes");
	return pk_entry_check(e);
}

static int
has_nul(const struct pk_str *s)
{
	return s->len > 0 && memchr(s->p, '\0', s->len) != NULL;
}

int
pk_entry_check(const struct pk_entry *e)
{
	uint32_t i;

	if (e->type < PK_FT_REG || e->type > PK_FT_SOCK)
		return pk_err(-EBADMSG, "entry: unknown file type %u", e->type);
	if (e->mode > 07777 || e->mtime_nsec >= 1000000000u ||
	    e->ctime_nsec >= 1000000000u)
		return pk_err(-EBADMSG, "entry: bad mode or time");
	if (!pk_path_valid(e->path.p, e->path.len))
		return pk_err(-EBADMSG, "entry: bad path");
	if (e->path.len == 1 && e->path.p[0] == '.' && e->type != PK_FT_DIR)
		return pk_err(-EBADMSG, "entry: \".\" is not a directory");
	if (e->type == PK_FT_SYMLINK && (e->link.len == 0 || has_nul(&e->link)))
		return pk_err(-EBADMSG, "entry: bad link target");
	if (e->type == PK_FT_HARDLINK && !pk_path_valid(e->link.p, e->link.len))
		return pk_err(-EBADMSG, "entry: bad hard link target");
	if (e->type != PK_FT_SYMLINK && e->type != PK_FT_HARDLINK &&
	    e->link.len != 0)
		return pk_err(-EBADMSG, "entry: a link target on a file that "
		    "is not a link");
	if (has_nul(&e->uname) || has_nul(&e->gname))
		return pk_err(-EBADMSG, "entry: user or group name holds a "
		    "NUL byte");
	for (i = 0; i < e->nxattrs; i++)
		if (e->xattrs[i].name.len == 0 || has_nul(&e->xattrs[i].name))
			return pk_err(-EBADMSG, "entry: bad xattr name");
	if (e->type != PK_FT_REG && e->size != 0)
		return pk_err(-EBADMSG, "entry: size on a file without content");
	if (e->size > PK_ENTRY_MAX_SIZE && e->size != PK_SIZE_UNKNOWN)
		return pk_err(-EBADMSG, "entry: size %" PRIu64 " above the "
		    "largest pk stores (%" PRIu64 ")", e->size,
		    (uint64_t)PK_ENTRY_MAX_SIZE);
	return 0;
}

const char *
pk_ftype_name(uint8_t type)
{
	static const char *names[] = { "?", "reg", "dir", "symlink", "hardlink",
	    "chr", "blk", "fifo", "sock" };

	return type <= PK_FT_SOCK ? names[type] : "?";
}
