#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "err.h"
#include "io.h"
#include "scan.h"
#include "statcache.h"
#include "walk.h"

/*
 * Directory descriptors kept open below the argument's.  A deeper tree
 * closes its ancestors' and reopens them on the way back up, so that the
 * depth of a tree is not limited by RLIMIT_NOFILE.
 */
#define WALK_FD_WINDOW		64
#define WALK_IDCACHE_SLOTS	16
/* Bounds the xattrs of one file so that its ENTRY fits in a record. */
#define WALK_XATTR_TOTAL	(8u << 20)

struct idname {
	uint32_t id;
	int valid;
	size_t len;
	char name[256];
};

/* A regular file with several links, by the path of its first entry. */
struct link {
	uint64_t dev, ino;
	size_t off, len;	/* in linkpaths; len 0 marks a free slot */
};

struct frame {
	int fd;			/* -1 while closed to save descriptors */
	dev_t dev;
	ino_t ino;
	const char *name;	/* in the parent's name list; NULL at the top */
};

/* A directory's entries: NUL-terminated names in blob, sorted pointers. */
struct names {
	struct pk_buf blob;
	struct pk_buf ptrs;
	size_t n;
};

struct xtmp {
	const char *name;
	size_t off, len;	/* value in xvals; len SIZE_MAX when gone */
};

struct pk_walk {
	struct pk_writer *w;
	struct pk_walk_options o;
	struct pk_walk_report rep;

	/* The current file: stored path (empty for "."), NUL-terminated. */
	struct pk_buf path;
	struct pk_buf disp;	/* the path for messages */
	const char *arg;	/* the current argument as given */
	size_t arglen;		/* without its trailing slashes */
	size_t argstored;	/* length of the argument's stored path */
	dev_t argdev;

	struct frame *frames;
	size_t nframes, framecap;

	/* Scratch space reused for every file. */
	struct pk_buf entry, target, xlist, xvals, xtmp, xattrs, pwbuf, cached;
	uint8_t *data;

	struct link *links;	/* open addressing, linkcap a power of 2 */
	size_t nlinks, linkcap;
	struct pk_buf linkpaths;

	struct idname users[WALK_IDCACHE_SLOTS], groups[WALK_IDCACHE_SLOTS];
	int total_written;	/* the scan's TOTAL record */
};

static int walk_file(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *st);

/* Paths and messages. */

static const char *
stored(const struct pk_walk *wk, size_t *len)
{
	if (wk->path.len == 0) {
		*len = 1;
		return ".";
	}
	*len = wk->path.len;
	return (const char *)wk->path.data;
}

static int
path_push(struct pk_walk *wk, const char *name, size_t *old)
{
	size_t n = strlen(name);

	*old = wk->path.len;
	if (pk_buf_reserve(&wk->path, n + 2) < 0)
		return -ENOMEM;
	if (wk->path.len > 0)
		wk->path.data[wk->path.len++] = '/';
	memcpy(wk->path.data + wk->path.len, name, n + 1);
	wk->path.len += n;
	return 0;
}

static void
path_pop(struct pk_walk *wk, size_t old)
{
	wk->path.len = old;
	wk->path.data[old] = '\0';
}

/* The current file as the user would name it: the argument, then the rest
 * of the stored path. */
static const char *
display(struct pk_walk *wk)
{
	size_t len, rel;
	const char *p = stored(wk, &len);
	struct pk_buf *d = &wk->disp;

	if (wk->path.len <= wk->argstored)
		return wk->arg;
	rel = wk->argstored ? wk->argstored + 1 : 0;
	pk_buf_reset(d);
	if (pk_buf_add(d, wk->arg, wk->arglen) < 0 ||
	    (wk->arg[wk->arglen - 1] != '/' && pk_buf_add_u8(d, '/') < 0) ||
	    pk_buf_add(d, p + rel, len - rel + 1) < 0)
		return p;
	return (const char *)d->data;
}

static void
warn(struct pk_walk *wk, const char *msg)
{
	if (wk->o.warn)
		wk->o.warn(wk->o.arg, display(wk), msg);
}

static void
progress(struct pk_walk *wk)
{
	if (wk->o.progress)
		wk->o.progress(wk->o.arg, &wk->rep);
}

/* Warns about the current file and writes an ERROR record for it.  Fails
 * only when the output does. */
static int
put_error(struct pk_walk *wk, int err, const char *msg)
{
	size_t len;
	const char *p = stored(wk, &len);

	warn(wk, msg);
	return pk_write_error(wk->w, err, p, len, msg);
}

/* The current file could not be read; msg NULL means strerror(err). */
static int
file_error(struct pk_walk *wk, int err, const char *msg)
{
	wk->rep.errors++;
	return put_error(wk, err, msg ? msg : strerror(err));
}

int
pk_walk_excluded(const char *const *patterns, size_t n, const char *path,
    const char *base)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fnmatch(patterns[i], path, 0) == 0 ||
		    fnmatch(patterns[i], base, 0) == 0)
			return 1;
	return 0;
}

static int
excluded(const struct pk_walk *wk, const char *base)
{
	size_t len;

	return pk_walk_excluded(wk->o.excludes, wk->o.nexcludes,
	    stored(wk, &len), base);
}

int
pk_walk_stored_path(const char *arg, struct pk_buf *out)
{
	const char *p = arg, *e;
	size_t n;

	pk_buf_reset(out);
	if (*arg == '\0')
		return pk_err(-EINVAL, "empty path");
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return pk_err(-EINVAL, "%s: path has a '..' component",
			    arg);
		if (!(n == 1 && p[0] == '.') &&
		    ((out->len > 0 && pk_buf_add_u8(out, '/') < 0) ||
		    pk_buf_add(out, p, n) < 0))
			return -ENOMEM;
		p = e;
	}
	if (out->len == 0 && pk_buf_add_u8(out, '.') < 0)
		return -ENOMEM;
	if (pk_buf_add_u8(out, '\0') < 0)
		return -ENOMEM;
	out->len--;
	return 0;
}

struct arg {
	char *arg;
	struct pk_buf path;
};

static int
is_dot_path(const struct pk_buf *p)
{
	return p->len == 1 && p->data[0] == '.';
}

static int
cmp_arg(const void *a, const void *b)
{
	const struct pk_buf *x = &((const struct arg *)a)->path;
	const struct pk_buf *y = &((const struct arg *)b)->path;

	return pk_path_order(x->data, x->len, y->data, y->len);
}

int
pk_walk_order_args(char **args, int *n, const char *stdin_name)
{
	const struct pk_buf *last = NULL;
	struct arg *v;
	int i, k = 0, r = 0;

	if ((v = calloc((size_t)*n + 1, sizeof *v)) == NULL)
		return -ENOMEM;
	for (i = 0; i < *n && r == 0; i++) {
		v[i].arg = args[i];
		r = pk_walk_stored_path(strcmp(args[i], "-") == 0 && stdin_name ?
		    stdin_name : args[i], &v[i].path);
	}
	if (r == 0) {
		qsort(v, (size_t)*n, sizeof *v, cmp_arg);
		for (i = 0; i < *n; i++) {
			if (last && (is_dot_path(last) || pk_path_under(
			    v[i].path.data, v[i].path.len, last->data, last->len)))
				continue;
			args[k++] = v[i].arg;
			last = &v[i].path;
		}
		*n = k;
	}
	for (i = 0; v[i].arg != NULL; i++)
		pk_buf_release(&v[i].path);
	free(v);
	return r;
}

/* Sets the current argument; a stored "." becomes the empty path so that
 * children are stored without a prefix. */
static int
set_arg(struct pk_walk *wk, const char *arg)
{
	int r;

	if ((r = pk_walk_stored_path(arg, &wk->path)) < 0)
		return r;
	if (wk->path.len == 1 && wk->path.data[0] == '.')
		path_pop(wk, 0);
	wk->arg = arg;
	wk->arglen = strlen(arg);
	while (wk->arglen > 1 && arg[wk->arglen - 1] == '/')
		wk->arglen--;
	wk->argstored = wk->path.len;
	return 0;
}

/* User and group names. */

static void
lookup_name(struct pk_walk *wk, int group, struct idname *c)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	const char *name = NULL;
	size_t size = 1024;
	int r;

	c->valid = 1;
	c->len = 0;
	for (;;) {
		pk_buf_reset(&wk->pwbuf);
		if (pk_buf_reserve(&wk->pwbuf, size) < 0)
			return;
		if (group) {
			r = getgrgid_r(c->id, &gr, (char *)wk->pwbuf.data, size,
			    &grp);
			name = grp ? grp->gr_name : NULL;
		} else {
			r = getpwuid_r(c->id, &pw, (char *)wk->pwbuf.data, size,
			    &pwp);
			name = pwp ? pwp->pw_name : NULL;
		}
		if (r != ERANGE || size >= (1u << 20))
			break;
		size *= 2;
	}
	if (name != NULL && strlen(name) < sizeof c->name) {
		c->len = strlen(name);
		memcpy(c->name, name, c->len);
	}
}

/* The name of a uid or gid, "" when unknown, from a small cache: files
 * mostly share a few owners. */
static struct pk_str
id_name(struct pk_walk *wk, int group, uint32_t id)
{
	struct idname *c = (group ? wk->groups : wk->users) +
	    id % WALK_IDCACHE_SLOTS;

	if (!c->valid || c->id != id) {
		c->id = id;
		lookup_name(wk, group, c);
	}
	return (struct pk_str){ (const uint8_t *)c->name, c->len };
}

/* The hard link table. */

static size_t
link_hash(uint64_t dev, uint64_t ino)
{
	uint64_t z = ino * 0x9e3779b97f4a7c15ull ^ dev;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (size_t)(z ^ (z >> 31));
}

static struct link *
link_slot(struct link *t, size_t cap, uint64_t dev, uint64_t ino)
{
	size_t i = link_hash(dev, ino) & (cap - 1);

	while (t[i].len != 0 && (t[i].dev != dev || t[i].ino != ino))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static const struct link *
link_find(const struct pk_walk *wk, const struct stat *st)
{
	struct link *l;

	if (wk->linkcap == 0)
		return NULL;
	l = link_slot(wk->links, wk->linkcap, st->st_dev, st->st_ino);
	return l->len ? l : NULL;
}

static int
link_grow(struct pk_walk *wk)
{
	size_t i, cap = wk->linkcap ? wk->linkcap * 2 : 256;
	struct link *t = calloc(cap, sizeof *t);

	if (t == NULL)
		return -ENOMEM;
	for (i = 0; i < wk->linkcap; i++)
		if (wk->links[i].len)
			*link_slot(t, cap, wk->links[i].dev,
			    wk->links[i].ino) = wk->links[i];
	free(wk->links);
	wk->links = t;
	wk->linkcap = cap;
	return 0;
}

/* Remembers the current file as the first of its links. */
static int
link_add(struct pk_walk *wk, const struct stat *st)
{
	struct link *l;
	size_t len;
	const char *p = stored(wk, &len);

	if ((wk->nlinks + 1) * 2 > wk->linkcap && link_grow(wk) < 0)
		return -ENOMEM;
	l = link_slot(wk->links, wk->linkcap, st->st_dev, st->st_ino);
	if (l->len)
		return 0;
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	l->off = wk->linkpaths.len;
	l->len = len;
	if (pk_buf_add(&wk->linkpaths, p, len) < 0) {
		l->len = 0;
		return -ENOMEM;
	}
	wk->nlinks++;
	return 0;
}

/* Extended attributes, from an open file (fd >= 0) or a path. */

static ssize_t
xlist(int fd, const char *path, char *buf, size_t size)
{
	return fd >= 0 ? flistxattr(fd, buf, size) : llistxattr(path, buf, size);
}

static ssize_t
xget(int fd, const char *path, const char *name, void *buf, size_t size)
{
	return fd >= 0 ? fgetxattr(fd, name, buf, size) :
	    lgetxattr(path, name, buf, size);
}

/* Fills wk->xlist with the NUL-separated names; returns their bytes. */
static ssize_t
list_xattrs(struct pk_walk *wk, int fd, const char *path)
{
	ssize_t k;

	for (;;) {
		k = xlist(fd, path, NULL, 0);
		if (k <= 0)
			return k < 0 && errno != ENOTSUP && errno != ENODATA ?
			    -errno : 0;
		pk_buf_reset(&wk->xlist);
		if (pk_buf_reserve(&wk->xlist, (size_t)k + 1) < 0)
			return -ENOMEM;
		k = xlist(fd, path, (char *)wk->xlist.data, (size_t)k);
		if (k >= 0) {
			wk->xlist.data[k] = '\0';
			return k;
		}
		if (errno != ERANGE)	/* ERANGE: one was just added */
			return -errno;
	}
}

static int
get_xattr(struct pk_walk *wk, int fd, const char *path, struct xtmp *x)
{
	ssize_t k;

	for (;;) {
		k = xget(fd, path, x->name, NULL, 0);
		if (k >= 0 && (size_t)k > PK_ENTRY_MAX_XATTR)
			return -E2BIG;
		if (k >= 0 && pk_buf_reserve(&wk->xvals, (size_t)k) < 0)
			return -ENOMEM;
		if (k >= 0)
			k = xget(fd, path, x->name, wk->xvals.data + wk->xvals.len,
			    (size_t)k);
		if (k >= 0) {
			x->off = wk->xvals.len;
			x->len = (size_t)k;
			wk->xvals.len += (size_t)k;
			return 0;
		}
		if (errno == ENODATA) {	/* removed since listed */
			x->len = SIZE_MAX;
			return 0;
		}
		if (errno != ERANGE)
			return -errno;
	}
}

static int
cmp_xtmp(const void *a, const void *b)
{
	return strcmp(((const struct xtmp *)a)->name,
	    ((const struct xtmp *)b)->name);
}

/* Builds wk->xattrs, sorted by name, once every value is read (before
 * then wk->xvals may move). */
static int
collect_xattrs(struct pk_walk *wk, uint32_t *nx)
{
	const struct xtmp *t = (const struct xtmp *)(void *)wk->xtmp.data;
	size_t i, n = wk->xtmp.len / sizeof *t;
	struct pk_xattr x;

	pk_buf_reset(&wk->xattrs);
	for (i = 0; i < n; i++) {
		if (t[i].len == SIZE_MAX)
			continue;
		x.name.p = (const uint8_t *)t[i].name;
		x.name.len = strlen(t[i].name);
		x.value.p = wk->xvals.data + t[i].off;
		x.value.len = t[i].len;
		if (pk_buf_add(&wk->xattrs, &x, sizeof x) < 0)
			return -ENOMEM;
		++*nx;
	}
	return 0;
}

static int
read_xattrs(struct pk_walk *wk, int fd, const char *path, uint32_t *nx)
{
	struct xtmp x = { NULL, 0, 0 };
	ssize_t k;
	size_t i, n;
	char *p;
	int r;

	*nx = 0;
	pk_buf_reset(&wk->xtmp);
	pk_buf_reset(&wk->xvals);
	if ((k = list_xattrs(wk, fd, path)) <= 0)
		return (int)k;
	for (p = (char *)wk->xlist.data; p < (char *)wk->xlist.data + k;
	    p += strlen(p) + 1) {
		x.name = p;
		if (*p != '\0' && pk_buf_add(&wk->xtmp, &x, sizeof x) < 0)
			return -ENOMEM;
	}
	n = wk->xtmp.len / sizeof x;
	if (n > PK_ENTRY_MAX_XATTRS)
		return -E2BIG;
	qsort(wk->xtmp.data, n, sizeof x, cmp_xtmp);
	for (i = 0; i < n; i++) {
		r = get_xattr(wk, fd, path, (struct xtmp *)(void *)wk->xtmp.data + i);
		if (r < 0)
			return r;
		if (wk->xvals.len > WALK_XATTR_TOTAL)
			return -E2BIG;
	}
	return collect_xattrs(wk, nx);
}

/*
 * Reads the xattrs of the current file: from fd when open, otherwise by a
 * path through /proc/self/fd, which works however long the real path is
 * and does not follow a symlink.  A failure is reported, and the entry
 * goes out without xattrs.  quiet: the file's error is reported already.
 */
static int
get_xattrs(struct pk_walk *wk, int fd, int dirfd, const char *name,
    uint32_t *nx, int quiet)
{
	char proc[64 + NAME_MAX];
	const char *path = name;
	char msg[128];
	int r = 0;

	if (fd < 0 && dirfd != AT_FDCWD) {
		r = pk_path(proc, sizeof proc, "/proc/self/fd/%d/%s", dirfd,
		    name);
		path = proc;
	}
	if (r == 0 && (r = read_xattrs(wk, fd, path, nx)) >= 0)
		return 0;
	*nx = 0;
	if (r == -ENOMEM)
		return r;
	if (quiet)
		return 0;
	snprintf(msg, sizeof msg, "extended attributes: %s", r == -E2BIG ?
	    "too many or too large to store" : strerror(-r));
	return file_error(wk, -r, msg);
}

/* Entries. */

/* The scan's counts go out as a TOTAL record once it is done (or, with
 * wait, once it is), between two files. */
static int
put_total(struct pk_walk *wk, int wait)
{
	uint64_t files, bytes;

	if (wk->o.scan == NULL || wk->total_written)
		return 0;
	if (wait)
		pk_scan_wait(wk->o.scan, &files, &bytes);
	else if (!pk_scan_done(wk->o.scan, &files, &bytes))
		return 0;
	wk->total_written = 1;
	return pk_write_total(wk->w, files, bytes);
}

static int
put_entry(struct pk_walk *wk, uint8_t type, const struct stat *st,
    uint64_t size, const void *link, size_t linklen, uint32_t nx)
{
	struct pk_entry e;
	size_t len;
	int r;

	memset(&e, 0, sizeof e);
	e.type = type;
	e.mode = st->st_mode & 07777;
	e.uid = st->st_uid;
	e.gid = st->st_gid;
	e.size = size;
	e.mtime_sec = st->st_mtim.tv_sec;
	e.mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	e.ctime_sec = st->st_ctim.tv_sec;
	e.ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	e.dev = st->st_dev;
	e.ino = st->st_ino;
	e.nlink = st->st_nlink > UINT32_MAX ? UINT32_MAX : (uint32_t)st->st_nlink;
	if (type == PK_FT_CHR || type == PK_FT_BLK) {
		e.rdev_major = major(st->st_rdev);
		e.rdev_minor = minor(st->st_rdev);
	}
	e.path.p = (const uint8_t *)stored(wk, &len);
	e.path.len = len;
	e.link.p = link;
	e.link.len = linklen;
	e.uname = id_name(wk, 0, e.uid);
	e.gname = id_name(wk, 1, e.gid);
	e.nxattrs = nx;
	e.xattrs = nx ? (struct pk_xattr *)(void *)wk->xattrs.data : NULL;
	pk_buf_reset(&wk->entry);
	if ((r = put_total(wk, 0)) < 0 ||
	    (r = pk_entry_encode(&e, &wk->entry)) < 0 ||
	    (r = pk_writer_put(wk->w, PK_REC_ENTRY, 0, wk->entry.data,
	    wk->entry.len)) < 0)
		return r;
	wk->rep.files++;
	progress(wk);
	return 0;
}

static uint8_t
file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return PK_FT_REG;
	case S_IFDIR: return PK_FT_DIR;
	case S_IFLNK: return PK_FT_SYMLINK;
	case S_IFCHR: return PK_FT_CHR;
	case S_IFBLK: return PK_FT_BLK;
	case S_IFIFO: return PK_FT_FIFO;
	case S_IFSOCK: return PK_FT_SOCK;
	}
	return 0;
}

/* O_NOATIME keeps a backup from touching every atime, but only the
 * owner (or CAP_FOWNER) may use it. */
static int
open_at(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

/* Regular files. */

struct content {
	uint64_t pos;		/* next offset to read */
	uint64_t hole;		/* zero bytes not written yet */
	int shrank;
	int err;		/* errno of a failed read */
};

static ssize_t
read_at(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = pread(fd, (char *)p + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int
flush_hole(struct pk_walk *wk, struct content *c)
{
	int r = 0;

	if (c->hole > 0)
		r = pk_write_hole(wk->w, c->hole);
	c->hole = 0;
	return r;
}

/* Writes [c->pos, end) of the file as DATA records, or stops early at its
 * end or at a read error. */
static int
put_data(struct pk_walk *wk, int fd, struct content *c, uint64_t end)
{
	size_t n;
	ssize_t k;
	int r;

	while (c->pos < end) {
		n = end - c->pos < PK_DATA_RECORD_BYTES ?
		    (size_t)(end - c->pos) : PK_DATA_RECORD_BYTES;
		k = read_at(fd, wk->data, n, c->pos);
		if (k <= 0) {
			if (k < 0)
				c->err = (int)-k;
			else
				c->shrank = 1;
			return 0;
		}
		if ((r = flush_hole(wk, c)) < 0 ||
		    (r = pk_writer_put(wk->w, PK_REC_DATA, 0, wk->data,
		    (size_t)k)) < 0)
			return r;
		c->pos += (uint64_t)k;
		wk->rep.bytes += (uint64_t)k;
		progress(wk);
	}
	return 0;
}

/* Skips the hole at c->pos, if any, and returns the end of the data that
 * follows; clears *sparse when the file system cannot tell. */
static uint64_t
next_data(int fd, struct content *c, uint64_t size, int *sparse)
{
	off_t d, h;

	d = lseek(fd, (off_t)c->pos, SEEK_DATA);
	if (d < 0 && errno != ENXIO) {
		*sparse = 0;
		return size;
	}
	if (d < 0 || (uint64_t)d > size)
		d = (off_t)size;	/* ENXIO: only a hole is left */
	if ((uint64_t)d > c->pos) {
		c->hole += (uint64_t)d - c->pos;
		c->pos = (uint64_t)d;
	}
	if (c->pos >= size)
		return size;
	h = lseek(fd, d, SEEK_HOLE);
	if (h < 0 || (uint64_t)h > size)
		return size;
	if ((uint64_t)h <= c->pos)	/* changing under us: make progress */
		return c->pos + 1;
	return (uint64_t)h;
}

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Why the file's content may be no state it was ever in, or NULL.
 * Growth shows in the size: no read past st_size, which would flag every
 * file in /proc, whose size is 0 whatever it holds. */
static const char *
changed(int fd, const struct stat *st, const struct content *c)
{
	struct stat now;

	if (c->shrank)
		return "file shrank while read";
	if (fstat(fd, &now) < 0 || now.st_size != st->st_size ||
	    !same_time(&now.st_mtim, &st->st_mtim) ||
	    !same_time(&now.st_ctim, &st->st_ctim))
		return "file changed while read";
	return NULL;
}

/* Writes exactly st_size bytes of content, zeros standing in for what
 * could not be read, then EOF. */
static int
put_content(struct pk_walk *wk, int fd, const struct stat *st)
{
	struct content c = { 0, 0, 0, 0 };
	uint64_t size = (uint64_t)st->st_size, end;
	int sparse = (uint64_t)st->st_blocks * 512 < size;
	const char *msg;
	int r;

	while (c.pos < size && !c.shrank && !c.err) {
		end = sparse ? next_data(fd, &c, size, &sparse) : size;
		if ((r = put_data(wk, fd, &c, end)) < 0)
			return r;
	}
	c.hole += size - c.pos;
	if ((r = flush_hole(wk, &c)) < 0)
		return r;
	msg = c.err ? NULL : changed(fd, st, &c);
	if ((r = pk_write_eof(wk->w, size, c.err || msg ? PK_EOF_CHANGED :
	    0)) < 0)
		return r;
	if (c.err)
		return file_error(wk, c.err, NULL);
	if (msg == NULL)
		return 0;
	/* In-band too, so that the snapshot says it is incomplete. */
	wk->rep.changed++;
	return put_error(wk, 0, msg);
}

/*
 * A file the stat cache knows with this very stat: its entry, then the
 * content records of the snapshot that had it, without opening it.
 * Returns 1 when done so, 0 when the file must be read.
 */
static int
walk_cached(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *st)
{
	struct pk_statinfo si;
	struct pk_record rec = { 0 };
	struct pk_cursor c;
	const char *path;
	uint32_t nx;
	size_t len, l;
	int r;

	if (pk_statinfo_from_stat(&si, st) < 0)
		return 0;	/* times no cache holds */
	path = stored(wk, &len);
	if ((r = pk_statcache_lookup(wk->o.cache, (const uint8_t *)path, len,
	    &si, &wk->cached)) <= 0)
		return r;
	nx = 0;
	if ((r == PK_STATCACHE_XATTRS &&
	    (r = get_xattrs(wk, -1, dirfd, name, &nx, 0)) < 0) ||
	    (r = put_entry(wk, PK_FT_REG, st, (uint64_t)st->st_size, NULL, 0,
	    nx)) < 0 ||
	    (st->st_nlink > 1 && (r = link_add(wk, st)) < 0))
		return r;
	pk_cursor_init(&c, wk->cached.data, wk->cached.len);
	while (c.left > 0) {
		rec.type = pk_get_u8(&c);
		rec.data = pk_get_str(&c, SIZE_MAX, &l);
		rec.len = (uint32_t)l;
		if ((r = pk_writer_copy(wk->w, &rec)) < 0)
			return r;
	}
	if ((r = pk_write_eof(wk->w, (uint64_t)st->st_size, 0)) < 0)
		return r;
	wk->rep.cached++;
	return 1;
}

static int
walk_reg(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *lst)
{
	const struct link *l;
	struct stat st;
	uint32_t nx;
	int fd, r;

	if ((uint64_t)lst->st_size > PK_ENTRY_MAX_SIZE)
		return file_error(wk, EFBIG, "larger than the largest file pk "
		    "stores (1 PiB, pk-stream(5))");
	if (lst->st_nlink > 1 && (l = link_find(wk, lst)) != NULL)
		return put_entry(wk, PK_FT_HARDLINK, lst, 0,
		    wk->linkpaths.data + l->off, l->len, 0);
	if (wk->o.cache && (r = walk_cached(wk, dirfd, name, lst)) != 0)
		return r < 0 ? r : 0;
	fd = open_at(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return file_error(wk, errno, NULL);
	if (fstat(fd, &st) < 0) {
		r = file_error(wk, errno, NULL);
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {	/* replaced since lstat */
		close(fd);
		return walk_file(wk, dirfd, name, &st);
	}
	if ((r = get_xattrs(wk, fd, dirfd, name, &nx, 0)) >= 0 &&
	    (r = put_entry(wk, PK_FT_REG, &st, (uint64_t)st.st_size, NULL, 0,
	    nx)) >= 0 &&
	    (st.st_nlink < 2 || (r = link_add(wk, &st)) >= 0))
		r = put_content(wk, fd, &st);
	close(fd);
	return r;
}

/* Symbolic links, devices, fifos and sockets. */

static int
read_target(struct pk_walk *wk, int dirfd, const char *name, size_t hint)
{
	size_t size = hint < 255 ? 256 : hint + 1;
	ssize_t k;

	for (;;) {
		pk_buf_reset(&wk->target);
		if (pk_buf_reserve(&wk->target, size) < 0)
			return -ENOMEM;
		k = readlinkat(dirfd, name, (char *)wk->target.data, size);
		if (k < 0)
			return -errno;
		if ((size_t)k < size)
			break;
		if (size > PK_ENTRY_MAX_NAME)
			return -ENAMETOOLONG;
		size *= 2;
	}
	wk->target.len = (size_t)k;
	return k > 0 ? 0 : -ENOENT;
}

static int
walk_symlink(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *st)
{
	uint32_t nx;
	int r;

	if ((r = read_target(wk, dirfd, name, (size_t)st->st_size)) < 0)
		return r == -ENOMEM ? r : file_error(wk, -r, NULL);
	if ((r = get_xattrs(wk, -1, dirfd, name, &nx, 0)) < 0)
		return r;
	return put_entry(wk, PK_FT_SYMLINK, st, 0, wk->target.data,
	    wk->target.len, nx);
}

static int
walk_special(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *st, uint8_t type)
{
	uint32_t nx;
	int r;

	if ((r = get_xattrs(wk, -1, dirfd, name, &nx, 0)) < 0)
		return r;
	return put_entry(wk, type, st, 0, NULL, 0, nx);
}

/* Directories. */

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_release(struct names *nl)
{
	pk_buf_release(&nl->blob);
	pk_buf_release(&nl->ptrs);
	nl->n = 0;
}

static int
sort_names(struct names *nl)
{
	char *p = (char *)nl->blob.data;
	size_t i;

	if (nl->n == 0)
		return 0;
	pk_buf_reset(&nl->ptrs);
	if (pk_buf_reserve(&nl->ptrs, nl->n * sizeof p) < 0)
		return -ENOMEM;
	for (i = 0; i < nl->n; i++, p += strlen(p) + 1)
		((char **)(void *)nl->ptrs.data)[i] = p;
	qsort(nl->ptrs.data, nl->n, sizeof p, cmp_name);
	return 0;
}

/* Whether the child name of the directory fd is a tag file of o (tags,
 * exclude_caches). */
static int
is_tag(const struct pk_walk_options *o, int fd, const char *name)
{
	static const char sig[] = "Signature: 8a477f597d28d172789f06886806bc55";
	char buf[sizeof sig - 1];
	struct stat st;
	ssize_t k = -1;
	size_t i;
	int tfd;

	for (i = 0; i < o->ntags; i++)
		if (strcmp(name, o->tags[i]) == 0)
			return 1;
	if (!o->exclude_caches || strcmp(name, "CACHEDIR.TAG") != 0)
		return 0;
	tfd = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0)
		return 0;
	if (fstat(tfd, &st) == 0 && S_ISREG(st.st_mode))
		k = pk_read_full(tfd, buf, sizeof buf);
	close(tfd);
	return k == (ssize_t)sizeof buf && memcmp(buf, sig, sizeof buf) == 0;
}

size_t
pk_walk_keep_tags(const struct pk_walk_options *o, int fd, char **names,
    size_t n)
{
	size_t i, k = 0;

	if (!o->exclude_caches && o->ntags == 0)
		return n;
	for (i = 0; i < n; i++)
		if (is_tag(o, fd, names[i]))
			names[k++] = names[i];
	return k > 0 ? k : n;
}

/* Reads the names in an open directory, sorted bytewise.  A duplicate
 * descriptor goes to readdir, so fd stays usable for openat. */
static int
read_names(int fd, struct names *nl)
{
	struct dirent *de;
	DIR *dir;
	int dup, r = 0;

	if ((dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return -errno;
	if ((dir = fdopendir(dup)) == NULL) {
		r = -errno;
		close(dup);
		return r;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			r = -errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (pk_buf_add(&nl->blob, de->d_name, strlen(de->d_name) + 1) < 0) {
			r = -ENOMEM;
			break;
		}
		nl->n++;
	}
	closedir(dir);
	return r < 0 ? r : sort_names(nl);
}

/* Takes fd.  Closes the descriptor of the ancestor that leaves the window. */
static int
frame_push(struct pk_walk *wk, int fd, const struct stat *st, const char *name)
{
	struct frame *f;
	size_t d = wk->nframes;

	if (d == wk->framecap) {
		size_t cap = d ? d * 2 : 16;

		if ((f = realloc(wk->frames, cap * sizeof *f)) == NULL) {
			close(fd);
			return -ENOMEM;
		}
		wk->frames = f;
		wk->framecap = cap;
	}
	wk->frames[d] = (struct frame){ fd, st->st_dev, st->st_ino,
	    d ? name : NULL };
	wk->nframes++;
	if (d > WALK_FD_WINDOW && wk->frames[d - WALK_FD_WINDOW].fd >= 0) {
		close(wk->frames[d - WALK_FD_WINDOW].fd);
		wk->frames[d - WALK_FD_WINDOW].fd = -1;
	}
	return 0;
}

static int
is_frame(int fd, const struct frame *f)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino;
}

/* Leaves the current directory, reopening its parent through ".." if the
 * window closed it.  When ".." is not the parent any more (the directory
 * moved), frame_reopen() tries again from above. */
static void
frame_pop(struct pk_walk *wk)
{
	struct frame *f = &wk->frames[wk->nframes - 1];
	int fd;

	if (wk->nframes > 1 && f[-1].fd < 0 && f->fd >= 0) {
		fd = openat(f->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && is_frame(fd, &f[-1]))
			f[-1].fd = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (f->fd >= 0)
		close(f->fd);
	wk->nframes--;
}

/* Reopens frame d by its names from the nearest open ancestor (the top
 * frame is never closed), checking each step is the directory it was. */
static int
frame_reopen(struct pk_walk *wk, size_t d)
{
	size_t a = d, i;
	int fd, next;

	while (wk->frames[a].fd < 0)
		a--;
	fd = wk->frames[a].fd;
	for (i = a + 1; i <= d; i++) {
		next = openat(fd, wk->frames[i].name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			next = -errno;
		if (i > a + 1)
			close(fd);
		if (next < 0)
			return next;
		if (!is_frame(next, &wk->frames[i])) {
			close(next);
			return -ESTALE;
		}
		fd = next;
	}
	wk->frames[d].fd = fd;
	return 0;
}

static int
walk_child(struct pk_walk *wk, int dirfd, const char *name)
{
	struct stat st;

	if (excluded(wk, name))
		return 0;
	if (wk->path.len > PK_ENTRY_MAX_NAME)
		return file_error(wk, ENAMETOOLONG, "path too long to store");
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return file_error(wk, errno, NULL);
	return walk_file(wk, dirfd, name, &st);
}

static int
walk_children(struct pk_walk *wk, int fd, const struct stat *st,
    const char *name, const struct names *nl)
{
	char *const *v = (char *const *)(void *)nl->ptrs.data;
	size_t d, i, old;
	int r;

	if ((r = frame_push(wk, fd, st, name)) < 0)
		return r;
	d = wk->nframes - 1;
	for (i = 0; i < nl->n && r >= 0; i++) {
		if (wk->frames[d].fd < 0 && (r = frame_reopen(wk, d)) < 0) {
			r = file_error(wk, -r, "directory moved while walked");
			break;
		}
		if ((r = path_push(wk, v[i], &old)) < 0)
			break;
		r = walk_child(wk, wk->frames[d].fd, v[i]);
		path_pop(wk, old);
	}
	frame_pop(wk);
	return r;
}

/* A directory that is not read: unreadable, or on another file system. */
static int
put_dir_unread(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *st, int err)
{
	uint32_t nx;
	int r;

	if ((r = get_xattrs(wk, -1, dirfd, name, &nx, err != 0)) < 0 ||
	    (r = put_entry(wk, PK_FT_DIR, st, 0, NULL, 0, nx)) < 0)
		return r;
	return err ? file_error(wk, err, NULL) : 0;
}

static int
walk_dir(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *lst)
{
	struct names nl = { PK_BUF_INIT, PK_BUF_INIT, 0 };
	struct stat st;
	uint32_t nx;
	int fd, r, err;

	if (wk->o.one_file_system && lst->st_dev != wk->argdev)
		return put_dir_unread(wk, dirfd, name, lst, 0);
	fd = open_at(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return put_dir_unread(wk, dirfd, name, lst, errno);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return put_dir_unread(wk, dirfd, name, lst, errno);
	}
	err = read_names(fd, &nl);
	if (err == -ENOMEM ||
	    (r = get_xattrs(wk, fd, dirfd, name, &nx, 0)) < 0 ||
	    (r = put_entry(wk, PK_FT_DIR, &st, 0, NULL, 0, nx)) < 0) {
		close(fd);
		names_release(&nl);
		return err == -ENOMEM ? err : r;
	}
	if (err < 0) {
		close(fd);
		r = file_error(wk, -err, NULL);
	} else {
		nl.n = pk_walk_keep_tags(&wk->o, fd,
		    (char **)(void *)nl.ptrs.data, nl.n);
		r = walk_children(wk, fd, &st, name, &nl);
	}
	names_release(&nl);
	return r;
}

static int
walk_file(struct pk_walk *wk, int dirfd, const char *name,
    const struct stat *st)
{
	uint8_t type = file_type(st->st_mode);

	switch (type) {
	case PK_FT_REG:
		return walk_reg(wk, dirfd, name, st);
	case PK_FT_DIR:
		return walk_dir(wk, dirfd, name, st);
	case PK_FT_SYMLINK:
		return walk_symlink(wk, dirfd, name, st);
	case 0:
		return file_error(wk, ENOTSUP, "unsupported file type");
	}
	return walk_special(wk, dirfd, name, st, type);
}

/* The interface. */

int
pk_walk_new(struct pk_walk **wkp, struct pk_writer *w,
    const struct pk_walk_options *o)
{
	struct pk_walk *wk;

	*wkp = NULL;
	if ((wk = calloc(1, sizeof *wk)) == NULL)
		return -ENOMEM;
	if ((wk->data = malloc(PK_DATA_RECORD_BYTES)) == NULL) {
		free(wk);
		return -ENOMEM;
	}
	wk->w = w;
	if (o)
		wk->o = *o;
	*wkp = wk;
	return 0;
}

void
pk_walk_free(struct pk_walk *wk)
{
	if (wk == NULL)
		return;
	pk_buf_release(&wk->path);
	pk_buf_release(&wk->disp);
	pk_buf_release(&wk->entry);
	pk_buf_release(&wk->target);
	pk_buf_release(&wk->xlist);
	pk_buf_release(&wk->xvals);
	pk_buf_release(&wk->xtmp);
	pk_buf_release(&wk->xattrs);
	pk_buf_release(&wk->pwbuf);
	pk_buf_release(&wk->cached);
	pk_buf_release(&wk->linkpaths);
	free(wk->frames);
	free(wk->links);
	free(wk->data);
	free(wk);
}

int
pk_walk_end(struct pk_walk *wk)
{
	int r;

	if ((r = put_total(wk, 1)) < 0)
		return r;
	return pk_writer_end(wk->w);
}

const struct pk_walk_report *
pk_walk_report(const struct pk_walk *wk)
{
	return &wk->rep;
}

int
pk_walk_path(struct pk_walk *wk, const char *arg)
{
	const char *base;
	struct stat st;
	size_t len;
	int r;

	if ((r = set_arg(wk, arg)) < 0)
		return r;
	base = stored(wk, &len);
	base = strrchr(base, '/') ? strrchr(base, '/') + 1 : base;
	if (excluded(wk, base))
		return 0;
	if (wk->path.len > PK_ENTRY_MAX_NAME)
		return file_error(wk, ENAMETOOLONG, "path too long to store");
	if (fstatat(AT_FDCWD, arg, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = errno;
		wk->rep.missing++;
		warn(wk, strerror(r));
		base = stored(wk, &len);
		return pk_write_error(wk->w, r, base, len, strerror(r));
	}
	wk->argdev = st.st_dev;
	wk->nframes = 0;
	return walk_file(wk, AT_FDCWD, arg, &st);
}

int
pk_walk_fd(struct pk_walk *wk, int fd, const char *name)
{
	struct stat st;
	struct timespec now;
	uint64_t total = 0;
	ssize_t k;
	int r;

	if ((r = set_arg(wk, name)) < 0)
		return r;
	if (wk->path.len == 0)
		return pk_err(-EINVAL, "%s: not a file name", name);
	clock_gettime(CLOCK_REALTIME, &now);
	memset(&st, 0, sizeof st);
	st.st_mode = S_IFREG | 0600;
	st.st_uid = getuid();
	st.st_gid = getgid();
	st.st_nlink = 1;
	st.st_mtim = st.st_ctim = now;
	if ((r = put_entry(wk, PK_FT_REG, &st, PK_SIZE_UNKNOWN, NULL, 0, 0)) < 0)
		return r;
	for (;;) {
		if ((k = pk_read_full(fd, wk->data, PK_DATA_RECORD_BYTES)) < 0)
			return pk_err((int)k, "%s: read: %s", name,
			    strerror((int)-k));
		if (k == 0)
			break;
		if ((r = pk_writer_put(wk->w, PK_REC_DATA, 0, wk->data,
		    (size_t)k)) < 0)
			return r;
		total += (uint64_t)k;
		wk->rep.bytes += (uint64_t)k;
		progress(wk);
	}
	return pk_write_eof(wk->w, total, 0);
}
