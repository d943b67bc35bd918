/*
 * localfs.c: the storage of a repository in a local directory.  A file
 * is written to REPO/tmp, synced, renamed into place, and its directory
 * synced: it appears whole or not at all, and stays after a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "err.h"

struct localobj {
	struct pk_object o;
	int fd;
	char path[4096];
};

static const char *const subdirs[] = { "packs", "index", "snapshots", "tmp" };

static int
file(struct pk_storage *s, char *out, const char *name)
{
	return pk_path(out, 4096, "%s/%s", s->place, name);
}

static int
local_get(struct pk_storage *s, const char *name, size_t max, uint8_t **p,
    size_t *n)
{
	char path[4096];
	int e;

	*p = NULL;
	*n = 0;
	if ((e = file(s, path, name)) < 0)
		return e;
	return pk_read_file(path, max, p, n);
}

static int
local_put(struct pk_storage *s, const char *name, const void *p, size_t n)
{
	struct pk_atomic a;
	int e;

	if ((e = pk_storage_new(s, &a)) < 0)
		return e;
	if ((e = pk_write_all(a.fd, p, n)) < 0) {
		e = pk_err(e, "%s: write: %s", a.tmp, strerror(-e));
		pk_atomic_abort(&a);
		return e;
	}
	return pk_storage_commit(s, &a, name, 0);
}

/* The directory of path, made if missing; a new one is synced into its
 * parent, so that the file in it survives a crash too. */
static int
make_parent(char *path)
{
	char *slash = strrchr(path, '/'), *up;
	int e = 0;

	*slash = '\0';
	if (mkdir(path, 0700) == 0) {
		up = strrchr(path, '/');
		*up = '\0';
		if ((e = pk_fsync_dir(path)) < 0)
			e = pk_err(e, "%s: fsync: %s", path, strerror(-e));
		*up = '/';
	} else if (errno != EEXIST) {
		e = pk_err(-errno, "%s: %s", path, strerror(errno));
	}
	*slash = '/';
	return e;
}

static int
local_commit(struct pk_storage *s, struct pk_atomic *a, const char *name,
    int later)
{
	char path[4096];
	int e;

	if ((e = file(s, path, name)) < 0 ||
	    (strchr(name, '/') != NULL && (e = make_parent(path)) < 0)) {
		pk_atomic_abort(a);
		return e;
	}
	return pk_atomic_commit(a, path);
}

static int
local_flush(struct pk_storage *s)
{
	return 0;
}

static int
local_exists(struct pk_storage *s, const char *name)
{
	char path[4096];
	struct stat st;
	int e;

	if ((e = file(s, path, name)) < 0)
		return e;
	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return pk_err(-errno, "%s: %s", path, strerror(errno));
}

static int
local_remove(struct pk_storage *s, const char *name)
{
	char path[4096];
	int e;

	if ((e = file(s, path, name)) < 0)
		return e;
	if (unlink(path) < 0)
		return pk_err(-errno, "%s: %s", path, errno == ENOENT ?
		    "no such file" : strerror(errno));
	/* A removal undone by a crash would bring back a snapshot whose
	 * chunks a later gc may have given back. */
	*strrchr(path, '/') = '\0';
	if ((e = pk_fsync_dir(path)) < 0)
		return pk_err(e, "%s: fsync: %s", path, strerror(-e));
	return 0;
}

static int
is_dir(DIR *dp, const struct dirent *d)
{
	struct stat st;

	if (d->d_type != DT_UNKNOWN)
		return d->d_type == DT_DIR;
	return fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode);
}

/* The names in dir, those in its subdirectories as "sub/name". */
static int
list_dir(const char *path, const char *sub, int (*fn)(void *, const char *),
    void *arg)
{
	char here[4096], name[600];
	struct dirent *d;
	DIR *dp;
	int e = 0;

	if ((e = pk_path(here, sizeof here, "%s%s%s", path, sub ? "/" : "",
	    sub ? sub : "")) < 0)
		return e;
	if ((dp = opendir(here)) == NULL)
		return pk_err(-errno, "%s: %s", here, strerror(errno));
	while (e == 0 && (errno = 0, d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (sub != NULL) {
			snprintf(name, sizeof name, "%s/%s", sub, d->d_name);
			e = fn(arg, name);
		} else if (is_dir(dp, d)) {
			e = list_dir(path, d->d_name, fn, arg);
		} else {
			e = fn(arg, d->d_name);
		}
	}
	if (e == 0 && errno != 0)
		e = pk_err(-errno, "%s: %s", here, strerror(errno));
	closedir(dp);
	return e;
}

static int
local_list(struct pk_storage *s, const char *dir,
    int (*fn)(void *, const char *), void *arg)
{
	char path[4096];
	struct stat st;
	int e;

	if ((e = file(s, path, dir)) < 0)
		return e;
	/* Like a prefix of an object store, a directory no file was ever
	 * put in (gc/ and locks/ of an older repository) is empty. */
	if (stat(path, &st) < 0 && errno == ENOENT)
		return 0;
	return list_dir(path, NULL, fn, arg);
}

static int
local_object_open(struct pk_storage *s, const char *name, struct pk_object **op)
{
	struct localobj *o;
	int e;

	if ((o = calloc(1, sizeof *o)) == NULL)
		return -ENOMEM;
	o->o.s = s;
	if ((e = file(s, o->path, name)) < 0) {
		free(o);
		return e;
	}
	if ((o->fd = open(o->path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = pk_err(-errno, "%s: %s", o->path, strerror(errno));
		free(o);
		return e;
	}
	*op = &o->o;
	return 0;
}

static int
local_object_size(struct pk_object *op, uint64_t *size)
{
	struct localobj *o = (struct localobj *)op;
	struct stat st;

	if (fstat(o->fd, &st) < 0)
		return pk_err(-errno, "%s: %s", o->path, strerror(errno));
	*size = (uint64_t)st.st_size;
	return 0;
}

static int
local_object_read(struct pk_object *op, void *p, size_t n, uint64_t off)
{
	struct localobj *o = (struct localobj *)op;
	int e = pk_pread_all(o->fd, p, n, off);

	if (e < 0)
		return pk_err(e, "%s: %s", o->path, e == -ENODATA ?
		    "short read" : strerror(-e));
	return 0;
}

static void
local_object_close(struct pk_object *op)
{
	struct localobj *o = (struct localobj *)op;

	close(o->fd);
	free(o);
}

static void
local_close(struct pk_storage *s)
{
	free(s->place);
	free(s);
}

static const struct pk_storage_ops local_ops = {
	local_get, local_put, local_commit, local_flush, local_exists,
	local_remove, local_list, local_object_open, local_object_size,
	local_object_read, local_object_close, local_close,
};

static int
empty_dir(const char *path)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int empty = 1;

	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			empty = 0;
	closedir(dir);
	return empty;
}

static int
make(const char *path)
{
	char sub[4096];
	size_t i;
	int e;

	if (mkdir(path, 0700) < 0) {
		if (errno != EEXIST)
			return pk_err(-errno, "%s: %s", path, strerror(errno));
		if (!empty_dir(path))
			return pk_err(-EEXIST, "%s: exists and is not an empty "
			    "directory", path);
	}
	for (i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
		if ((e = pk_path(sub, sizeof sub, "%s/%s", path, subdirs[i])) < 0)
			return e;
		if (mkdir(sub, 0700) < 0)
			return pk_err(-errno, "%s: %s", sub, strerror(errno));
	}
	return 0;
}

int
pk_localfs_open(struct pk_storage **sp, const char *path, int create)
{
	struct pk_storage *s;
	int e;

	if (create && (e = make(path)) < 0)
		return e;
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->place = strdup(path)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	s->ops = &local_ops;
	s->work = s->place;
	*sp = s;
	return 0;
}
