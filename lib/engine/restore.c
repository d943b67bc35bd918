#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "catalog.h"
#include "entry.h"
#include "err.h"
#include "extract.h"
#include "fetch.h"
#include "fetchpool.h"
#include "packread.h"
#include "restore.h"
#include "workers.h"

/* Entries queued for each thread that makes files: enough to keep it busy
 * while the reader makes a directory or reads a catalog chunk. */
#define QUEUE_PER_THREAD	64
/* Directory levels kept open; the directories of deeper levels but the
 * last are closed and opened again through "..", so that a path of
 * thousands of levels needs no more descriptors. */
#define OPEN_LEVELS		64
/* A file of more chunks than this is written by the reading thread, its
 * chunks opened ahead by the fetch pool's threads, rather than by one
 * thread opening them one after another. */
#define POOL_REFS		8
/* User and group names looked up once each. */
#define IDS_CACHED		256

/* An open directory, shared by the entries queued in it. */
struct dirh {
	int fd;
	int refs;
	/* Neither setgid nor with a default ACL: a file made in it gets the
	 * restore's owner and its mode less the umask. */
	int plain;
	/* Under the threads' lock: its entries queued or being made, and the
	 * thread they went to. */
	int pending, worker;
};

struct level {
	struct dirh *h;		/* NULL: closed, see OPEN_LEVELS */
	size_t end;		/* length of the path up to this level */
};

/* The directories from the root to the last one opened: an entry in the
 * same directory as the last costs no system call. */
struct resolver {
	struct pk_buf path;	/* stored path of the last level */
	struct level *lv;
	size_t n, cap;
	struct pk_buf name;	/* a component, NUL-terminated */
};

struct idcache {
	uint32_t n;
	struct {
		char *name;
		uint32_t id;
		int known;
	} v[IDS_CACHED];
};

struct job {
	struct job *next;
	struct dirh *dir;	/* a reference, held until the job is done */
	/* The entry borrows its strings from payload and xbuf. */
	struct pk_buf payload, xbuf, held;
	struct pk_entry e;
	uint32_t uid, gid;
	size_t nrefs;
	mode_t cmode;		/* the mode to make it with */
	unsigned meta;		/* what is left to set: META_* */
};

struct restore;

/* What each thread that makes files owns. */
struct worker {
	struct restore *x;
	struct pk_blob_reader br;
	int br_ready;
	struct pk_buf data, name, path;
	struct pk_fetchpool *pool;	/* the reading thread's, made when needed */
};

/* A regular file being written. */
struct wfile {
	int fd;
	uint64_t off, end;	/* next byte; end of the bytes written */
	int failed;		/* said once; the rest is left as zeros */
};

struct restore {
	struct pk_repo *repo;
	const struct pk_index *ix;
	const struct pk_snapshot *snap;
	const struct pk_restore_options *o;
	struct pk_restore_result *res;
	const char *sel;
	size_t sellen;
	struct resolver rs;
	struct worker main;
	struct idcache users, groups;
	pthread_mutex_t warnlock;
	/* The threads and their queue, under w.lock. */
	int threads;
	struct pk_workers w;
	struct queue {
		struct job **ring;
		uint64_t head, tail;
	} *q;			/* one a thread, QUEUE_PER_THREAD long */
	int nq, nextid, busy, waitq;
	/* Threads waiting for work, and what the reader waits for: room in
	 * the queue, woken when half of it is free, or the end.  A signal
	 * only when someone waits, and for room only by halves, saves two
	 * system calls a file when the threads are the slower side. */
	int idle;
	enum { WAIT_NONE, WAIT_ROOM, WAIT_END } waiting;
	struct job *free;
	/* Kept to the end: directories (path, then struct dirmeta) and hard
	 * links (path and target, as u32-length strings). */
	struct pk_buf dirs, links;
	uid_t euid;
	gid_t egid;
	mode_t umask;
};

struct dirmeta {
	uint32_t len, mode;
	int64_t sec;
	uint32_t nsec;
};

static void
count(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* n bytes of content done, written or left as a hole. */
static void
wrote(struct restore *x, uint64_t n)
{
	count(&x->res->bytes, n);
	pk_progress_add(x->o->count, 0, n);
}

/* Tells about path (a stored path, not NUL-terminated) and counts it as
 * failed when failed is set. */
static void
report(struct restore *x, const struct pk_str *path, const char *msg,
    int failed)
{
	char *p;

	if (failed)
		count(&x->res->failed, 1);
	if (x->o->warn != NULL) {
		p = strndup((const char *)path->p, path->len);
		pthread_mutex_lock(&x->warnlock);
		x->o->warn(x->o->arg, p ? p : "(path: out of memory)", msg);
		pthread_mutex_unlock(&x->warnlock);
		free(p);
	}
	pk_err_clear();
}

/* --- directories, never through a symbolic link ------------------------ */

static struct dirh *
dirh_new(int fd)
{
	struct dirh *h = malloc(sizeof *h);
	struct stat st;

	if (h == NULL) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	h->refs = 1;
	h->pending = h->worker = 0;
	h->plain = fstat(fd, &st) == 0 && !(st.st_mode & S_ISGID) &&
	    fgetxattr(fd, "system.posix_acl_default", NULL, 0) < 0;
	return h;
}

static struct dirh *
dirh_get(struct dirh *h)
{
	__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
	return h;
}

static void
dirh_put(struct dirh *h)
{
	if (h != NULL && __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		close(h->fd);
		free(h);
	}
}

/* p (n bytes) NUL-terminated in b, valid until b's next use. */
static const char *
cstr(struct pk_buf *b, const uint8_t *p, size_t n)
{
	pk_buf_reset(b);
	if (pk_buf_add(b, p, n) < 0 || pk_buf_add_u8(b, 0) < 0)
		return NULL;
	return (const char *)b->data;
}

static int
resolver_init(struct resolver *rs, int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);

	memset(rs, 0, sizeof *rs);
	if (fd < 0)
		return pk_err(-errno, "directory: %s", strerror(errno));
	if ((rs->lv = calloc(16, sizeof *rs->lv)) == NULL ||
	    (rs->lv[0].h = dirh_new(fd)) == NULL)
		return -ENOMEM;
	rs->cap = 16;
	rs->n = 1;
	return 0;
}

static void
resolver_release(struct resolver *rs)
{
	while (rs->n > 0)
		dirh_put(rs->lv[--rs->n].h);
	free(rs->lv);
	pk_buf_release(&rs->path);
	pk_buf_release(&rs->name);
}

/* Whether the last level is dir (len bytes) or a directory above it. */
static int
under_last(const struct resolver *rs, const uint8_t *dir, size_t len)
{
	size_t n = rs->path.len;

	return n == 0 || (n <= len && memcmp(rs->path.data, dir, n) == 0 &&
	    (n == len || dir[n] == '/'));
}

static int
pop(struct resolver *rs)
{
	struct level *top = &rs->lv[rs->n - 1], *up = top - 1;
	int fd;

	if (up->h == NULL) {
		fd = openat(top->h->fd, "..", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if ((up->h = dirh_new(fd)) == NULL)
			return -ENOMEM;
	}
	dirh_put(top->h);
	rs->n--;
	rs->path.len = up->end;
	return 0;
}

static int
push(struct resolver *rs, const uint8_t *name, size_t len, int fd)
{
	struct level *lv;
	int e;

	if (rs->n == rs->cap) {
		if ((lv = realloc(rs->lv, 2 * rs->cap * sizeof *lv)) == NULL) {
			close(fd);
			return -ENOMEM;
		}
		rs->lv = lv;
		rs->cap *= 2;
	}
	if (rs->n - 1 >= OPEN_LEVELS) {
		dirh_put(rs->lv[rs->n - 1].h);
		rs->lv[rs->n - 1].h = NULL;
	}
	if ((rs->path.len > 0 && (e = pk_buf_add_u8(&rs->path, '/')) < 0) ||
	    (e = pk_buf_add(&rs->path, name, len)) < 0) {
		close(fd);
		return e;
	}
	rs->lv[rs->n].end = rs->path.len;
	if ((rs->lv[rs->n].h = dirh_new(fd)) == NULL)
		return -ENOMEM;
	rs->n++;
	return 0;
}

/* The directory name in pfd, made when missing and create is set; never a
 * symbolic link. */
static int
open_dir(int pfd, const char *name, int create)
{
	int fd;

	for (;;) {
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || !create)
			return fd < 0 ? -errno : fd;
		if (mkdirat(pfd, name, 0777) < 0 && errno != EEXIST)
			return -errno;
		create = 0;
	}
}

/*
 * The directory dir (a stored path of len bytes, "" for the root), opened
 * component by component from the root without following a symbolic link,
 * missing ones made when create is set: *h, borrowed from rs until its
 * next use.  A negative errno with a message naming the component.
 */
static int
resolve(struct resolver *rs, const uint8_t *dir, size_t len, int create,
    struct dirh **h)
{
	size_t at, end;
	const char *name;
	struct stat st;
	int fd, e;

	*h = NULL;
	while (rs->n > 1 && !under_last(rs, dir, len))
		if ((e = pop(rs)) < 0)
			return pk_err(e, "%.*s/..: %s", (int)rs->path.len,
			    (const char *)rs->path.data, strerror(-e));
	for (at = rs->path.len; at < len; at = end) {
		if (at > 0)
			at++;
		for (end = at; end < len && dir[end] != '/'; end++)
			;
		if ((name = cstr(&rs->name, dir + at, end - at)) == NULL)
			return -ENOMEM;
		fd = open_dir(rs->lv[rs->n - 1].h->fd, name, create);
		/* O_DIRECTORY says ENOTDIR for a link too: tell them apart. */
		if (fd == -ENOTDIR && fstatat(rs->lv[rs->n - 1].h->fd, name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			fd = -ELOOP;
		if (fd == -ELOOP || fd == -ENOTDIR)
			return pk_err(fd, "%.*s: %s", (int)end, (const char *)dir,
			    fd == -ELOOP ? "a symbolic link, not followed" :
			    "not a directory");
		if (fd < 0)
			return pk_err(fd, "%.*s: %s", (int)end, (const char *)dir,
			    strerror(-fd));
		if ((e = push(rs, dir + at, end - at, fd)) < 0)
			return e;
	}
	*h = rs->lv[rs->n - 1].h;
	return 0;
}

/* The length of path's directory part, and where its last name starts. */
static size_t
parent_len(const struct pk_str *path, size_t *base)
{
	size_t i = path->len;

	while (i > 0 && path->p[i - 1] != '/')
		i--;
	*base = i;
	return i > 0 ? i - 1 : 0;
}

/* Makes room for a new file at name in dfd, as tar does: what is there is
 * unlinked, an empty directory removed. */
static int
clear(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno == EISDIR || errno == EPERM) &&
	    unlinkat(dfd, name, AT_REMOVEDIR) == 0)
		return 0;
	return -errno;
}

/* --- owners ------------------------------------------------------------- */

/* The id of user (or group) name here, else id, as tar -p does. */
static uint32_t
owner_id(struct idcache *c, int group, const struct pk_str *name, uint32_t id)
{
	char nm[256], buf[16384];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	uint32_t i, found = id;
	int known;

	if (name->len == 0 || name->len >= sizeof nm)
		return id;
	for (i = 0; i < c->n; i++)
		if (strlen(c->v[i].name) == name->len &&
		    memcmp(c->v[i].name, name->p, name->len) == 0)
			return c->v[i].known ? c->v[i].id : id;
	memcpy(nm, name->p, name->len);
	nm[name->len] = '\0';
	if (group) {
		getgrnam_r(nm, &gr, buf, sizeof buf, &grp);
		known = grp != NULL;
		if (known)
			found = (uint32_t)grp->gr_gid;
	} else {
		getpwnam_r(nm, &pw, buf, sizeof buf, &pwp);
		known = pwp != NULL;
		if (known)
			found = (uint32_t)pwp->pw_uid;
	}
	if (c->n < IDS_CACHED && (c->v[c->n].name = strdup(nm)) != NULL) {
		c->v[c->n].id = found;
		c->v[c->n].known = known;
		c->n++;
	}
	return known ? found : id;
}

/* --- metadata ----------------------------------------------------------- */

#define META_OWNER	0x1
#define META_MODE	0x2
#define META_XATTRS	0x4
#define META_TIMES	0x8
#define META_ALL	0xf
#define META_QUIET	0x10	/* a failure was said already: say no more */

/*
 * What j needs set once made in d: its owner unless the restore's own in
 * a plain directory, its mode unless it was made with it (setuid and
 * setgid are set after, as chown and a write clear them).  Each saves a
 * system call a file.
 */
static void
plan(const struct restore *x, struct job *j, const struct dirh *d)
{
	int chown = x->o->owners && (!d->plain || j->uid != (uint32_t)x->euid ||
	    j->gid != (uint32_t)x->egid);

	j->meta = META_XATTRS | META_TIMES;
	j->cmode = 0600;
	if (chown)
		j->meta |= META_OWNER;
	if (!d->plain || (j->e.mode & 06000) || (j->e.mode & x->umask))
		j->meta |= META_MODE;
	else
		j->cmode = j->e.mode;
}

/*
 * Sets what flags says of j's metadata on fd, or, when fd is -1, on name
 * in dfd without following it.  Owner before mode (chown clears setuid),
 * mode before xattrs (an ACL sets the mode's group bits), times last.
 * Reports the first failure, unless META_QUIET; 0, or -1 when one failed.
 */
static int
set_meta(struct worker *w, struct job *j, int fd, int dfd, const char *name,
    unsigned flags)
{
	struct timespec ts[2];
	char what[320] = "";
	const char *xn, *proc = NULL;
	uint32_t i;
	int r, err = 0;

	if ((flags & META_OWNER) && w->x->o->owners) {
		r = fd >= 0 ? fchown(fd, j->uid, j->gid) :
		    fchownat(dfd, name, j->uid, j->gid, AT_SYMLINK_NOFOLLOW);
		if (r < 0 && !err && (err = errno))
			snprintf(what, sizeof what, "cannot set its owner");
	}
	if ((flags & META_MODE) && j->e.type != PK_FT_SYMLINK) {
		r = fd >= 0 ? fchmod(fd, j->e.mode) :
		    fchmodat(dfd, name, j->e.mode, AT_SYMLINK_NOFOLLOW);
		if (r < 0 && !err && (err = errno))
			snprintf(what, sizeof what, "cannot set its mode");
	}
	for (i = 0; (flags & META_XATTRS) && i < j->e.nxattrs; i++) {
		const struct pk_xattr *a = &j->e.xattrs[i];

		errno = ENOMEM;
		r = -1;
		if ((xn = cstr(&w->name, a->name.p, a->name.len)) == NULL) {
			xn = "";
		} else if (fd >= 0) {
			r = fsetxattr(fd, xn, a->value.p, a->value.len, 0);
		} else {
			/* Through the directory's descriptor, not followed. */
			if (proc == NULL && pk_buf_reserve(&w->path,
			    strlen(name) + 32) == 0) {
				snprintf((char *)w->path.data, w->path.cap,
				    "/proc/self/fd/%d/%s", dfd, name);
				proc = (const char *)w->path.data;
			}
			if (proc != NULL)
				r = lsetxattr(proc, xn, a->value.p, a->value.len, 0);
		}
		if (r < 0 && !err && (err = errno))
			snprintf(what, sizeof what,
			    "cannot set its extended attribute %.256s", xn);
	}
	if (flags & META_TIMES) {
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1].tv_sec = (time_t)j->e.mtime_sec;
		ts[1].tv_nsec = (long)j->e.mtime_nsec;
		r = fd >= 0 ? futimens(fd, ts) :
		    utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
		if (r < 0 && !err && (err = errno))
			snprintf(what, sizeof what, "cannot set its times");
	}
	if (!err)
		return 0;
	if (flags & META_QUIET)
		return -1;
	pk_err(-err, "%s: %s", what, strerror(err));
	report(w->x, &j->e.path, pk_errmsg(-err), 1);
	return -1;
}

/* --- regular files ------------------------------------------------------ */

static int
pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	ssize_t k;

	while (n > 0) {
		k = pwrite(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Opens a new regular file for j at name in dfd; what is there is
 * replaced.  The fd, or -1 when it failed (reported). */
static int
file_open(struct worker *w, struct job *j, int dfd, const char *name)
{
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, j->cmode);
		if (fd >= 0 || errno != EEXIST || clear(dfd, name) < 0)
			break;
	}
	if (fd < 0) {
		pk_err(-errno, "cannot create it: %s", strerror(errno));
		report(w->x, &j->e.path, pk_errmsg(-errno), 1);
	}
	return fd;
}

/* The next len bytes of the file; data NULL: they could not be read, and
 * the file keeps zeros from there (e is the error, its message set). */
static void
file_data(struct worker *w, struct job *j, struct wfile *f,
    const uint8_t *data, uint32_t len, int e)
{
	if (!f->failed && data == NULL) {
		report(w->x, &j->e.path, pk_errmsg(e), 1);
		f->failed = 1;
	} else if (!f->failed && f->off + len > j->e.size) {
		pk_err(-EBADMSG, "content longer than its size, %llu bytes",
		    (unsigned long long)j->e.size);
		report(w->x, &j->e.path, pk_errmsg(-EBADMSG), 1);
		f->failed = 1;
	} else if (!f->failed && f->fd >= 0) {
		if ((e = pwrite_all(f->fd, data, len, f->off)) < 0) {
			pk_err(e, "cannot write it: %s", strerror(-e));
			report(w->x, &j->e.path, pk_errmsg(e), 1);
			f->failed = 1;
		}
		f->end = f->off + len;
	}
	f->off += len;
	wrote(w->x, len);
}

static void
file_hole(struct worker *w, struct wfile *f, uint64_t n)
{
	f->off += n;
	wrote(w->x, n);
}

/* Ends the file: its size (trailing holes), then its metadata; closes it. */
static void
file_close(struct worker *w, struct job *j, struct wfile *f)
{
	if (f->fd < 0)
		return;
	if (!f->failed && f->off != j->e.size) {
		pk_err(-EBADMSG, "content of %llu bytes, not its size %llu",
		    (unsigned long long)f->off, (unsigned long long)j->e.size);
		report(w->x, &j->e.path, pk_errmsg(-EBADMSG), 1);
		f->failed = 1;
	}
	if (f->end < j->e.size && ftruncate(f->fd, (off_t)j->e.size) < 0 &&
	    !f->failed) {
		pk_err(-errno, "cannot set its size: %s", strerror(errno));
		report(w->x, &j->e.path, pk_errmsg(-errno), 1);
		f->failed = 1;
	}
	if (set_meta(w, j, f->fd, -1, NULL, j->meta |
	    (f->failed ? META_QUIET : 0)) < 0)
		f->failed = 1;
	close(f->fd);
	f->fd = -1;
}

/* Queues the chunks of the held content at c on the pool, while it has
 * room: its threads open them while this one writes. */
static void
fetch_ahead(struct pk_fetchpool *pool, struct pk_cursor *c)
{
	struct pk_record rec;
	const uint8_t *id;
	uint32_t len;

	while (c->left > 0 && pk_fetchpool_room(pool)) {
		pk_extract_next_held(c, &rec);
		if (rec.type == PK_REC_REF && pk_record_ref(&rec, &id, &len) == 0)
			pk_fetchpool_add(pool, id, len);
	}
}

/* Writes j's held content into f, each chunk opened here or, with pool,
 * taken from it.  -EPROTO when the pool lost step (a bug: stop). */
static int
write_held(struct worker *w, struct job *j, struct wfile *f,
    struct pk_fetchpool *pool)
{
	struct restore *x = w->x;
	struct pk_record rec;
	struct pk_cursor c, ahead;
	const struct pk_buf *data;
	const uint8_t *id;
	uint64_t n;
	uint32_t len;
	int e;

	pk_cursor_init(&c, j->held.data, j->held.len);
	ahead = c;
	while (c.left > 0) {
		pk_extract_next_held(&c, &rec);
		if (rec.type == PK_REC_HOLE && pk_record_hole(&rec, &n) == 0) {
			file_hole(w, f, n);
			continue;
		}
		if (rec.type != PK_REC_REF)
			continue;
		if (pk_record_ref(&rec, &id, &len) < 0) {
			file_data(w, j, f, NULL, 0,
			    pk_err(-EBADMSG, "catalog: bad REF"));
			continue;
		}
		data = &w->data;
		if (pool != NULL) {
			/* Chunks queued are taken after a failure too. */
			fetch_ahead(pool, &ahead);
			if ((e = pk_fetchpool_next(pool, id, &data)) == -EPROTO)
				return e;
		} else {
			e = f->failed ? 0 : pk_chunk_fetch(x->repo, x->ix,
			    &w->br, id, len, &w->data);
		}
		file_data(w, j, f, e < 0 ? NULL : data->data, len, e);
	}
	return 0;
}

/* --- entries ------------------------------------------------------------ */

/* Makes j's entry (anything but a directory or a hard link) in its
 * directory.  <0 only for a failure that stops the restore. */
static int
make_entry(struct worker *w, struct job *j, struct pk_fetchpool *pool)
{
	struct restore *x = w->x;
	struct wfile f = { .fd = -1 };
	const char *target = NULL;
	struct pk_buf tb = PK_BUF_INIT;
	char *name;
	size_t base;
	dev_t dev = 0;
	mode_t kind = 0;
	int dfd = j->dir->fd, tries, r = -1, e = 0;

	parent_len(&j->e.path, &base);
	plan(x, j, j->dir);
	if ((name = strndup((const char *)j->e.path.p + base,
	    j->e.path.len - base)) == NULL)
		return -ENOMEM;
	switch (j->e.type) {
	case PK_FT_REG:
		if ((f.fd = file_open(w, j, dfd, name)) >= 0) {
			e = write_held(w, j, &f, pool);
			file_close(w, j, &f);
			count(&x->res->files, 1);
			pk_progress_add(x->o->count, 1, 0);
		}
		free(name);
		return e;
	case PK_FT_SYMLINK:
		if ((target = cstr(&tb, j->e.link.p, j->e.link.len)) == NULL) {
			free(name);
			return -ENOMEM;
		}
		break;
	case PK_FT_CHR:
		kind = S_IFCHR;
		dev = makedev(j->e.rdev_major, j->e.rdev_minor);
		break;
	case PK_FT_BLK:
		kind = S_IFBLK;
		dev = makedev(j->e.rdev_major, j->e.rdev_minor);
		break;
	default:
		kind = S_IFIFO;
		break;
	}
	for (tries = 0; tries < 2; tries++) {
		r = target ? symlinkat(target, dfd, name) :
		    mknodat(dfd, name, kind | j->cmode, dev);
		if (r == 0 || errno != EEXIST || clear(dfd, name) < 0)
			break;
	}
	pk_buf_release(&tb);
	if (r < 0) {
		pk_err(-errno, "cannot create it: %s", strerror(errno));
		report(x, &j->e.path, pk_errmsg(-errno), 1);
	} else {
		set_meta(w, j, -1, dfd, name, j->meta);
		count(&x->res->files, 1);
		pk_progress_add(x->o->count, 1, 0);
	}
	free(name);
	return 0;
}

static struct job *
job_get(struct restore *x)
{
	struct job *j;

	if (x->threads)
		pthread_mutex_lock(&x->w.lock);
	if ((j = x->free) != NULL)
		x->free = j->next;
	if (x->threads)
		pthread_mutex_unlock(&x->w.lock);
	return j != NULL ? j : calloc(1, sizeof *j);
}

/* Back on the free list (the caller holds the lock when there are
 * threads); a large content list is not kept. */
static void
job_put_locked(struct restore *x, struct job *j)
{
	dirh_put(j->dir);
	j->dir = NULL;
	if (j->held.cap > (1u << 20))
		pk_buf_release(&j->held);
	j->next = x->free;
	x->free = j;
}

static void
job_put(struct restore *x, struct job *j)
{
	if (x->threads)
		pthread_mutex_lock(&x->w.lock);
	job_put_locked(x, j);
	if (x->threads)
		pthread_mutex_unlock(&x->w.lock);
}

static void
job_free(struct job *j)
{
	dirh_put(j->dir);
	pk_buf_release(&j->payload);
	pk_buf_release(&j->xbuf);
	pk_buf_release(&j->held);
	free(j);
}

static void
worker_init(struct worker *w, struct restore *x)
{
	memset(w, 0, sizeof *w);
	w->x = x;
	w->br_ready = x->repo != NULL && pk_blob_reader_init(&w->br, x->repo) == 0;
}

static void
worker_release(struct worker *w)
{
	if (w->br_ready)
		pk_blob_reader_release(&w->br);
	pk_fetchpool_free(w->pool);
	pk_buf_release(&w->data);
	pk_buf_release(&w->name);
	pk_buf_release(&w->path);
}

/* Entries queued and not taken (under the lock). */
static uint64_t
queued(const struct restore *x)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < x->nq; i++)
		n += x->q[i].tail - x->q[i].head;
	return n;
}

/*
 * The thread for an entry in d (under the lock): the one d's entries went
 * to while any of them is left, else the least busy.  Two threads making
 * files in one directory take turns at its lock in the kernel, which spins
 * for it; kept apart, they make files in different directories at once.
 */
static int
pick(struct restore *x, struct dirh *d)
{
	uint64_t best = UINT64_MAX, n;
	int i;

	if (d->pending > 0)
		return d->worker;
	for (i = 0; i < x->nq; i++) {
		n = x->q[i].tail - x->q[i].head;
		if (n < best) {
			best = n;
			d->worker = i;
		}
	}
	return d->worker;
}

static void *
thread_main(void *arg)
{
	struct restore *x = arg;
	struct worker w;
	struct queue *q;
	struct job *j;
	int id;

	worker_init(&w, x);
	pthread_mutex_lock(&x->w.lock);
	id = x->nextid++;
	q = &x->q[id];
	for (;;) {
		while (q->head == q->tail && !x->w.stop) {
			x->idle++;
			pthread_cond_wait(&x->w.work, &x->w.lock);
			x->idle--;
		}
		if (q->head == q->tail)
			break;
		j = q->ring[q->head++ % QUEUE_PER_THREAD];
		x->busy++;
		if (x->waiting == WAIT_ROOM && x->waitq == id &&
		    q->tail - q->head <= QUEUE_PER_THREAD / 2)
			pthread_cond_signal(&x->w.finished);
		pthread_mutex_unlock(&x->w.lock);
		/* Without a pool, nothing here stops the restore. */
		make_entry(&w, j, NULL);
		pthread_mutex_lock(&x->w.lock);
		j->dir->pending--;
		job_put_locked(x, j);
		x->busy--;
		if (x->waiting == WAIT_END && x->busy == 0 && queued(x) == 0)
			pthread_cond_signal(&x->w.finished);
	}
	pthread_mutex_unlock(&x->w.lock);
	worker_release(&w);
	return NULL;
}

/* Waits for every queued entry to be made. */
static void
drain(struct restore *x)
{
	if (!x->threads)
		return;
	pthread_mutex_lock(&x->w.lock);
	x->waiting = WAIT_END;
	while (queued(x) > 0 || x->busy > 0)
		pthread_cond_wait(&x->w.finished, &x->w.lock);
	x->waiting = 0;
	pthread_mutex_unlock(&x->w.lock);
}

/* Makes j now, or queues it for a thread. */
static int
dispatch(struct restore *x, struct job *j)
{
	struct pk_fetchpool *pool = NULL;
	struct queue *q;
	int e;

	if (x->threads && !(j->e.type == PK_FT_REG && j->nrefs > POOL_REFS)) {
		pthread_mutex_lock(&x->w.lock);
		q = &x->q[pick(x, j->dir)];
		j->dir->pending++;
		x->waitq = (int)(q - x->q);
		x->waiting = WAIT_ROOM;
		while (q->tail - q->head == QUEUE_PER_THREAD)
			pthread_cond_wait(&x->w.finished, &x->w.lock);
		x->waiting = WAIT_NONE;
		q->ring[q->tail++ % QUEUE_PER_THREAD] = j;
		if (x->idle > 0)
			pthread_cond_broadcast(&x->w.work);
		pthread_mutex_unlock(&x->w.lock);
		return 0;
	}
	if (j->e.type == PK_FT_REG && j->nrefs > POOL_REFS && x->o->jobs > 1 &&
	    x->main.pool == NULL && x->repo != NULL &&
	    pk_fetchpool_new(&x->main.pool, x->repo, x->ix, x->o->jobs) < 0)
		x->main.pool = NULL;
	if (j->e.type == PK_FT_REG && j->nrefs > 1)
		pool = x->main.pool;
	e = make_entry(&x->main, j, pool);
	job_put(x, j);
	return e;
}

/* A directory: made (or kept, if one is there), its owner and xattrs set
 * now, its mode and times at the end. */
static void
make_dir(struct restore *x, struct job *j)
{
	struct dirmeta m = { .len = (uint32_t)j->e.path.len, .mode = j->e.mode,
	    .sec = j->e.mtime_sec, .nsec = j->e.mtime_nsec };
	const char *name;
	struct dirh *h;
	struct stat st;
	size_t base, plen = parent_len(&j->e.path, &base);
	int root = j->e.path.len == 1 && j->e.path.p[0] == '.', e;

	if (!root) {
		if ((e = resolve(&x->rs, j->e.path.p, plen, 1, &h)) < 0)
			goto fail;
		if ((name = cstr(&x->main.name, j->e.path.p + base,
		    j->e.path.len - base)) == NULL) {
			e = -ENOMEM;
			goto fail;
		}
		if (mkdirat(h->fd, name, 0700) < 0 && (errno != EEXIST ||
		    fstatat(h->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (!S_ISDIR(st.st_mode) && (clear(h->fd, name) < 0 ||
		    mkdirat(h->fd, name, 0700) < 0)))) {
			e = pk_err(-errno, "cannot create it: %s", strerror(errno));
			goto fail;
		}
	}
	if ((e = resolve(&x->rs, root ? NULL : j->e.path.p, root ? 0 :
	    j->e.path.len, 0, &h)) < 0)
		goto fail;
	if ((e = pk_buf_add(&x->dirs, j->e.path.p, j->e.path.len)) < 0 ||
	    (e = pk_buf_add(&x->dirs, &m, sizeof m)) < 0)
		goto fail;
	count(&x->res->dirs, 1);
	pk_progress_add(x->o->count, 1, 0);
	set_meta(&x->main, j, h->fd, -1, NULL, META_OWNER | META_XATTRS);
	h->plain = h->plain && fgetxattr(h->fd, "system.posix_acl_default",
	    NULL, 0) < 0;
	return;
fail:
	report(x, &j->e.path, pk_errmsg(e), 1);
}

/* The hard links, once every file they may name is made. */
static int
make_links(struct restore *x)
{
	struct resolver trs;
	struct pk_cursor c;
	struct pk_str p, t;
	struct dirh *h, *th;
	char *tname;
	const char *name;
	size_t base, tbase, plen, tplen;
	int e, r, tries;

	if (x->links.len == 0)
		return 0;
	if ((e = resolver_init(&trs, x->rs.lv[0].h->fd)) < 0)
		return e;
	pk_cursor_init(&c, x->links.data, x->links.len);
	while (c.left > 0) {
		p.p = pk_get_str(&c, SIZE_MAX, &p.len);
		t.p = pk_get_str(&c, SIZE_MAX, &t.len);
		plen = parent_len(&p, &base);
		tplen = parent_len(&t, &tbase);
		tname = NULL;
		if ((e = resolve(&trs, t.p, tplen, 0, &th)) < 0 ||
		    (e = resolve(&x->rs, p.p, plen, 1, &h)) < 0) {
			report(x, &p, pk_errmsg(e), 1);
			continue;
		}
		if ((name = cstr(&x->main.name, t.p + tbase, t.len - tbase)) ==
		    NULL || (tname = strdup(name)) == NULL ||
		    (name = cstr(&x->main.name, p.p + base, p.len - base)) == NULL) {
			free(tname);
			e = -ENOMEM;
			break;
		}
		for (tries = 0; tries < 2; tries++) {
			r = linkat(th->fd, tname, h->fd, name, 0);
			if (r == 0 || errno != EEXIST || clear(h->fd, name) < 0)
				break;
		}
		free(tname);
		if (r < 0) {
			pk_err(-errno, "cannot link it to %.*s: %s", (int)t.len,
			    (const char *)t.p, strerror(errno));
			report(x, &p, pk_errmsg(-errno), 1);
		} else {
			count(&x->res->files, 1);
			pk_progress_add(x->o->count, 1, 0);
		}
	}
	resolver_release(&trs);
	return e == -ENOMEM ? e : 0;
}

/* The directories' modes and times, deepest (last restored) first. */
static void
finish_dirs(struct restore *x)
{
	struct job j = { 0 };
	struct dirmeta m;
	struct dirh *h;
	size_t end = x->dirs.len;
	int e;

	while (end >= sizeof m) {
		memcpy(&m, x->dirs.data + end - sizeof m, sizeof m);
		end -= sizeof m + m.len;
		j.e.type = PK_FT_DIR;
		j.e.path.p = x->dirs.data + end;
		j.e.path.len = m.len;
		j.e.mode = m.mode;
		j.e.mtime_sec = m.sec;
		j.e.mtime_nsec = m.nsec;
		if (m.len == 1 && j.e.path.p[0] == '.')
			j.e.path.len = 0;
		e = resolve(&x->rs, j.e.path.p, j.e.path.len, 0, &h);
		j.e.path.len = m.len;
		if (e < 0)
			report(x, &j.e.path, pk_errmsg(e), 1);
		else
			set_meta(&x->main, &j, h->fd, -1, NULL, META_MODE | META_TIMES);
	}
}

/*
 * The entry in j (decoded, its content held): made now or queued, or kept
 * for the end.  j is given back.  <0 only for a failure that stops the
 * restore.
 */
static int
on_entry(struct restore *x, struct job *j)
{
	struct dirh *h;
	size_t base, plen = parent_len(&j->e.path, &base);
	int e;

	switch (j->e.type) {
	case PK_FT_DIR:
		make_dir(x, j);
		job_put(x, j);
		return 0;
	case PK_FT_HARDLINK:
		if ((e = pk_buf_add_str(&x->links, j->e.path.p, j->e.path.len)) < 0 ||
		    (e = pk_buf_add_str(&x->links, j->e.link.p, j->e.link.len)) < 0)
			return e;
		job_put(x, j);
		return 0;
	case PK_FT_SOCK:
		count(&x->res->skipped, 1);
		report(x, &j->e.path, "a socket: skipped, as tar does", 0);
		job_put(x, j);
		return 0;
	}
	if ((e = resolve(&x->rs, j->e.path.p, plen, 1, &h)) < 0) {
		report(x, &j->e.path, pk_errmsg(e), 1);
		job_put(x, j);
		return 0;
	}
	j->dir = dirh_get(h);
	return dispatch(x, j);
}

/* An ENTRY record into a job: 1 and *jp, or 0 when the entry is bad
 * (reported), or <0. */
static int
take_entry(struct restore *x, const struct pk_record *rec, struct job **jp)
{
	struct job *j;
	int e;

	*jp = NULL;
	if ((j = job_get(x)) == NULL)
		return -ENOMEM;
	pk_buf_reset(&j->payload);
	if ((e = pk_buf_add(&j->payload, rec->data, rec->len)) < 0) {
		job_put(x, j);
		return e;
	}
	if ((e = pk_entry_decode(&j->e, j->payload.data, j->payload.len,
	    &j->xbuf)) < 0) {
		pk_entry_path(&j->e.path, j->payload.data, j->payload.len);
		report(x, &j->e.path, pk_errmsg(e), 1);
		job_put(x, j);
		return 0;
	}
	j->uid = j->e.uid;
	j->gid = j->e.gid;
	if (x->o->owners) {
		j->uid = owner_id(&x->users, 0, &j->e.uname, j->e.uid);
		j->gid = owner_id(&x->groups, 1, &j->e.gname, j->e.gid);
	}
	j->nrefs = 0;
	*jp = j;
	return 1;
}

static int
run(struct restore *x)
{
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct job *j;
	int n, e = 0, in = x->sel == NULL, seen = 0;

	if ((e = pk_catalog_open(&cat, x->repo, x->ix, x->snap, &h)) < 0)
		return e;
	if (x->sel != NULL && (e = pk_catalog_select(cat,
	    (const uint8_t *)x->sel, x->sellen)) < 0) {
		pk_catalog_close(cat);
		return e;
	}
	while ((n = pk_catalog_next(cat, &rec)) > 0) {
		if (rec.type != PK_REC_ENTRY) {
			if (in && rec.type == PK_REC_ERROR)
				count(&x->res->errors, 1);
			continue;	/* content of an entry left out */
		}
		if ((in = pk_extract_select(&rec, x->sel, x->sellen, &seen)) < 0) {
			e = in;
			break;
		}
		if (in == PK_EXTRACT_PAST)
			break;
		if (!in)
			continue;
		if ((e = take_entry(x, &rec, &j)) <= 0) {
			if (e < 0)
				break;
			continue;
		}
		if (j->e.type == PK_FT_REG)
			e = pk_extract_hold(cat, &j->held, &j->nrefs);
		else if (j->e.type == PK_FT_HARDLINK && x->sel != NULL &&
		    !pk_path_under(j->e.link.p, j->e.link.len,
		    (const uint8_t *)x->sel, x->sellen)) {
			e = pk_extract_link_content(x->repo, x->ix, x->snap,
			    &j->e.path, &j->e.link, &j->e.size, &j->held,
			    &j->nrefs);
			j->e.type = PK_FT_REG;
		}
		if (e < 0) {
			job_put(x, j);
			break;
		}
		if ((e = on_entry(x, j)) < 0)
			break;
	}
	pk_catalog_close(cat);
	if (n < 0)
		return n;
	if (e < 0)
		return e;
	if (!seen)
		return pk_err(-ENOENT, "%s: not in the snapshot", x->sel);
	return 0;
}

/* A stream's records, one file written as its content comes. */
static int
run_stream(struct restore *x, struct pk_reader *rd)
{
	struct wfile f = { .fd = -1 };
	struct pk_record rec;
	struct job *cur = NULL, *j;
	struct dirh *h;
	const uint8_t *id, *data;
	const char *name;
	uint64_t n;
	uint32_t len;
	size_t base, plen;
	int r, e = 0, skipping = 0;

	while (e >= 0 && (r = pk_reader_next(rd, &rec)) > 0) {
		switch (rec.type) {
		case PK_REC_ENTRY:
			if (cur != NULL)
				return pk_err(-EBADMSG, "stream: a file's content "
				    "without its EOF");
			skipping = 0;
			if ((e = take_entry(x, &rec, &j)) <= 0) {
				skipping = 1;
				break;
			}
			if (j->e.type != PK_FT_REG) {
				e = on_entry(x, j);
				break;
			}
			if (j->e.size == PK_SIZE_UNKNOWN) {
				job_put(x, j);
				return pk_err(-EBADMSG, "stream: %.*s: a file of "
				    "unknown size", (int)j->e.path.len, j->e.path.p);
			}
			cur = j;
			f.fd = -1;
			f.off = f.end = 0;
			f.failed = 1;
			plen = parent_len(&j->e.path, &base);
			if ((e = resolve(&x->rs, j->e.path.p, plen, 1, &h)) < 0) {
				report(x, &j->e.path, pk_errmsg(e), 1);
				e = 0;
			} else if ((name = cstr(&x->main.name, j->e.path.p + base,
			    j->e.path.len - base)) == NULL) {
				e = -ENOMEM;
			} else if (plan(x, j, h),
			    (f.fd = file_open(&x->main, j, h->fd, name)) >= 0) {
				f.failed = 0;
			}
			break;
		case PK_REC_DATA:
		case PK_REC_CHUNK:
		case PK_REC_HOLE:
			if (cur == NULL && skipping)
				break;
			if (cur == NULL)
				return pk_err(-EBADMSG, "stream: content outside a file");
			if (rec.type == PK_REC_HOLE) {
				if (pk_record_hole(&rec, &n) < 0)
					return pk_err(-EBADMSG, "stream: bad HOLE");
				file_hole(&x->main, &f, n);
				break;
			}
			data = rec.data;
			len = rec.len;
			if (rec.type == PK_REC_CHUNK &&
			    pk_record_chunk(&rec, &id, &data, &len) < 0)
				return pk_err(-EBADMSG, "stream: bad CHUNK");
			file_data(&x->main, cur, &f, data, len, 0);
			break;
		case PK_REC_EOF:
			if (cur == NULL && skipping)
				break;
			if (cur == NULL)
				return pk_err(-EBADMSG, "stream: EOF outside a file");
			if (f.fd >= 0) {
				file_close(&x->main, cur, &f);
				count(&x->res->files, 1);
				pk_progress_add(x->o->count, 1, 0);
			}
			job_put(x, cur);
			cur = NULL;
			break;
		case PK_REC_ERROR:
			count(&x->res->errors, 1);
			break;
		case PK_REC_REF:
			return pk_err(-EBADMSG, "stream: a REF record, which "
			    "carries no data");
		default:
			if (!(rec.flags & PK_RECF_IGNORABLE))
				return pk_err(-EBADMSG, "stream: unknown record "
				    "type 0x%02x", rec.type);
		}
	}
	if (cur != NULL) {
		if (f.fd >= 0)
			close(f.fd);
		job_put(x, cur);
		if (e >= 0 && r >= 0)
			return pk_err(-EBADMSG, "stream: a file's content "
			    "without its EOF");
	}
	return e < 0 ? e : r;
}

static int
restore(struct restore *x, struct pk_reader *rd)
{
	int e, i, threads = x->o->jobs > 1 && rd == NULL ? x->o->jobs : 0;
	struct job *j;

	pthread_mutex_init(&x->warnlock, NULL);
	worker_init(&x->main, x);
	x->euid = geteuid();
	x->egid = getegid();
	x->umask = umask(0);
	umask(x->umask);
	if ((e = resolver_init(&x->rs, x->o->dirfd)) < 0)
		goto out;
	if (threads) {
		/* A queue for each thread that may start. */
		if ((x->q = calloc((size_t)threads, sizeof *x->q)) != NULL)
			while (x->nq < threads && (x->q[x->nq].ring =
			    calloc(QUEUE_PER_THREAD, sizeof *x->q->ring)) != NULL)
				x->nq++;
		if (x->nq > 0 && pk_workers_start(&x->w, x->nq, thread_main,
		    x) == 0) {
			/* Threads that did not start: their queues get
			 * nothing. */
			pthread_mutex_lock(&x->w.lock);
			x->threads = x->nq = x->w.n;
			pthread_mutex_unlock(&x->w.lock);
		}
	}
	e = rd != NULL ? run_stream(x, rd) : run(x);
	drain(x);
	if (x->threads) {
		pk_workers_stop(&x->w);
		x->threads = 0;
	}
	if (e >= 0 && (e = make_links(x)) >= 0)
		finish_dirs(x);
out:
	while ((j = x->free) != NULL) {
		x->free = j->next;
		job_free(j);
	}
	for (i = 0; x->q != NULL && i < threads; i++)
		free(x->q[i].ring);
	free(x->q);
	resolver_release(&x->rs);
	worker_release(&x->main);
	while (x->users.n > 0)
		free(x->users.v[--x->users.n].name);
	while (x->groups.n > 0)
		free(x->groups.v[--x->groups.n].name);
	pk_buf_release(&x->dirs);
	pk_buf_release(&x->links);
	pthread_mutex_destroy(&x->warnlock);
	return e;
}

int
pk_restore(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const struct pk_restore_options *o,
    struct pk_restore_result *res)
{
	struct restore x = { .repo = r, .ix = ix, .snap = snap, .o = o,
	    .res = res, .sel = o->path };

	memset(res, 0, sizeof *res);
	x.sellen = o->path != NULL ? strlen(o->path) : 0;
	return restore(&x, NULL);
}

int
pk_restore_stream(struct pk_reader *rd, const struct pk_restore_options *o,
    struct pk_restore_result *res)
{
	struct restore x = { .o = o, .res = res };

	memset(res, 0, sizeof *res);
	return restore(&x, rd);
}
