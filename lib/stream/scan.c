#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "err.h"
#include "scan.h"
#include "walk.h"

/* A regular file with several links: its bytes are counted once. */
struct ino {
	uint64_t dev, ino;
	int used;
};

struct pk_scan {
	char *const *paths;
	size_t npaths;
	struct pk_walk_options o;	/* the rules, not the callbacks */

	pthread_t thread;
	atomic_int done, stop;
	int joined;
	uint64_t files, bytes;	/* the thread's; read once done is set */

	struct ino *inos;	/* open addressing, cap a power of 2 */
	size_t ninos, inocap;
	struct pk_buf fs, stored, pending, names, ptrs;
};

/* 1 when the file was seen before (or there is no memory to tell). */
static int
seen_before(struct pk_scan *sc, const struct stat *st)
{
	struct ino *t, *s;
	size_t i, cap;

	if (sc->ninos * 2 >= sc->inocap) {
		cap = sc->inocap ? sc->inocap * 2 : 1024;
		if ((t = calloc(cap, sizeof *t)) == NULL)
			return 1;
		for (i = 0; i < sc->inocap; i++) {
			if (!sc->inos[i].used)
				continue;
			s = &t[(sc->inos[i].ino * 0x9e3779b97f4a7c15u ^
			    sc->inos[i].dev) & (cap - 1)];
			while (s->used)
				s = s == &t[cap - 1] ? t : s + 1;
			*s = sc->inos[i];
		}
		free(sc->inos);
		sc->inos = t;
		sc->inocap = cap;
	}
	s = &sc->inos[((uint64_t)st->st_ino * 0x9e3779b97f4a7c15u ^
	    (uint64_t)st->st_dev) & (sc->inocap - 1)];
	for (; s->used; s = s == &sc->inos[sc->inocap - 1] ? sc->inos : s + 1)
		if (s->dev == (uint64_t)st->st_dev && s->ino == (uint64_t)st->st_ino)
			return 1;
	s->dev = (uint64_t)st->st_dev;
	s->ino = (uint64_t)st->st_ino;
	s->used = 1;
	sc->ninos++;
	return 0;
}

/* One file the walk will write: 1 when it is a directory to descend. */
static int
count(struct pk_scan *sc, const struct stat *st, dev_t argdev)
{
	sc->files++;
	if (S_ISREG(st->st_mode) && (st->st_nlink < 2 || !seen_before(sc, st)))
		sc->bytes += (uint64_t)st->st_size;
	return S_ISDIR(st->st_mode) &&
	    !(sc->o.one_file_system && st->st_dev != argdev);
}

/* Sets sc->fs and sc->stored to the argument's paths with rel below them
 * ("" for the argument itself). */
static int
join(struct pk_scan *sc, const char *arg, const struct pk_buf *argstored,
    const char *rel)
{
	size_t n = strlen(rel);
	int dot = strcmp((const char *)argstored->data, ".") == 0;

	pk_buf_reset(&sc->fs);
	pk_buf_reset(&sc->stored);
	if (pk_buf_add(&sc->fs, arg, strlen(arg)) < 0 ||
	    (n && (pk_buf_add_u8(&sc->fs, '/') < 0 ||
	    pk_buf_add(&sc->fs, rel, n) < 0)) ||
	    pk_buf_add_u8(&sc->fs, '\0') < 0)
		return -ENOMEM;
	if (n == 0 || !dot) {
		if (pk_buf_add(&sc->stored, argstored->data,
		    strlen((const char *)argstored->data)) < 0 ||
		    (n && pk_buf_add_u8(&sc->stored, '/') < 0))
			return -ENOMEM;
	}
	if (pk_buf_add(&sc->stored, rel, n) < 0 ||
	    pk_buf_add_u8(&sc->stored, '\0') < 0)
		return -ENOMEM;
	return 0;
}

/* Pops the last pending directory into rel (the caller's buffer). */
static int
pop(struct pk_scan *sc, struct pk_buf *rel)
{
	size_t end, start;

	if (sc->pending.len == 0)
		return 0;
	end = sc->pending.len - 1;	/* its NUL */
	for (start = end; start > 0 && sc->pending.data[start - 1]; start--)
		;
	pk_buf_reset(rel);
	if (pk_buf_add(rel, sc->pending.data + start, end - start + 1) < 0)
		return -ENOMEM;
	sc->pending.len = start;
	return 1;
}

/* The names in the directory d, in names, and pointers to them, in ptrs:
 * their count, or -ENOMEM. */
static ssize_t
read_names(struct pk_scan *sc, DIR *d)
{
	struct dirent *de;
	size_t n = 0, off;
	char *p;

	pk_buf_reset(&sc->names);
	pk_buf_reset(&sc->ptrs);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (pk_buf_add(&sc->names, de->d_name, strlen(de->d_name) + 1) < 0)
			return -ENOMEM;
		n++;
	}
	if (pk_buf_reserve(&sc->ptrs, n * sizeof p) < 0)
		return -ENOMEM;
	for (off = 0; off < sc->names.len; off += strlen(p) + 1) {
		p = (char *)sc->names.data + off;
		memcpy(sc->ptrs.data + sc->ptrs.len, &p, sizeof p);
		sc->ptrs.len += sizeof p;
	}
	return (ssize_t)n;
}

/* Counts what one directory holds; pushes its directories. */
static int
scan_dir(struct pk_scan *sc, const char *arg, const struct pk_buf *argstored,
    const char *rel, dev_t argdev)
{
	size_t rellen = strlen(rel), base, i, n;
	char **names;
	struct stat st;
	ssize_t k;
	DIR *d;
	int e = 0;

	if (join(sc, arg, argstored, rel) < 0)
		return -ENOMEM;
	if ((d = opendir((const char *)sc->fs.data)) == NULL)
		return 0;	/* the walk will say why */
	if ((k = read_names(sc, d)) < 0) {
		closedir(d);
		return (int)k;
	}
	names = (char **)(void *)sc->ptrs.data;
	n = pk_walk_keep_tags(&sc->o, dirfd(d), names, (size_t)k);
	base = sc->stored.len - 1;
	if (strcmp((const char *)sc->stored.data, ".") == 0)
		base = 0;
	else
		sc->stored.data[base++] = '/';
	for (i = 0; i < n && e == 0 && !atomic_load_explicit(&sc->stop,
	    memory_order_relaxed); i++) {
		sc->stored.len = base;
		if (pk_buf_add(&sc->stored, names[i], strlen(names[i]) + 1) < 0) {
			e = -ENOMEM;
			break;
		}
		if (pk_walk_excluded(sc->o.excludes, sc->o.nexcludes,
		    (const char *)sc->stored.data, names[i]) ||
		    fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !count(sc, &st, argdev))
			continue;
		if ((rellen && (pk_buf_add(&sc->pending, rel, rellen) < 0 ||
		    pk_buf_add_u8(&sc->pending, '/') < 0)) ||
		    pk_buf_add(&sc->pending, names[i], strlen(names[i]) + 1) < 0)
			e = -ENOMEM;
	}
	closedir(d);
	return e;
}

static int
scan_arg(struct pk_scan *sc, const char *arg)
{
	struct pk_buf argstored = PK_BUF_INIT, rel = PK_BUF_INIT;
	const char *s, *base;
	struct stat st;
	int e;

	if ((e = pk_walk_stored_path(arg, &argstored)) < 0) {
		pk_err_clear();
		goto out;
	}
	s = (const char *)argstored.data;
	base = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
	if (pk_walk_excluded(sc->o.excludes, sc->o.nexcludes, s, base) ||
	    lstat(arg, &st) < 0 || !count(sc, &st, st.st_dev))
		goto out;
	sc->pending.len = 0;
	e = pk_buf_add_u8(&sc->pending, '\0');
	while (e == 0 && !atomic_load_explicit(&sc->stop,
	    memory_order_relaxed) && (e = pop(sc, &rel)) > 0)
		e = scan_dir(sc, arg, &argstored, (const char *)rel.data,
		    st.st_dev);
out:
	pk_buf_release(&argstored);
	pk_buf_release(&rel);
	return e < 0 ? e : 0;
}

static void *
run(void *arg)
{
	struct pk_scan *sc = arg;
	size_t i;

	for (i = 0; i < sc->npaths; i++)
		if (scan_arg(sc, sc->paths[i]) < 0)
			break;	/* out of memory: the counts so far */
	atomic_store_explicit(&sc->done, 1, memory_order_release);
	return NULL;
}

int
pk_scan_start(struct pk_scan **scp, char *const *paths, size_t n,
    const struct pk_walk_options *o)
{
	struct pk_scan *sc;
	int e;

	*scp = NULL;
	if ((sc = calloc(1, sizeof *sc)) == NULL)
		return -ENOMEM;
	sc->paths = paths;
	sc->npaths = n;
	sc->o.excludes = o->excludes;
	sc->o.nexcludes = o->nexcludes;
	sc->o.one_file_system = o->one_file_system;
	sc->o.exclude_caches = o->exclude_caches;
	sc->o.tags = o->tags;
	sc->o.ntags = o->ntags;
	atomic_init(&sc->done, 0);
	atomic_init(&sc->stop, 0);
	if ((e = pthread_create(&sc->thread, NULL, run, sc)) != 0) {
		free(sc);
		return pk_err(-e, "scan: %s", strerror(e));
	}
	*scp = sc;
	return 0;
}

int
pk_scan_done(struct pk_scan *sc, uint64_t *files, uint64_t *bytes)
{
	*files = *bytes = 0;
	if (!atomic_load_explicit(&sc->done, memory_order_acquire))
		return 0;
	*files = sc->files;
	*bytes = sc->bytes;
	return 1;
}

void
pk_scan_wait(struct pk_scan *sc, uint64_t *files, uint64_t *bytes)
{
	if (!sc->joined)
		pthread_join(sc->thread, NULL);
	sc->joined = 1;
	pk_scan_done(sc, files, bytes);
}

void
pk_scan_free(struct pk_scan *sc)
{
	if (sc == NULL)
		return;
	if (!sc->joined) {
		atomic_store_explicit(&sc->stop, 1, memory_order_relaxed);
		pthread_join(sc->thread, NULL);
	}
	free(sc->inos);
	pk_buf_release(&sc->fs);
	pk_buf_release(&sc->stored);
	pk_buf_release(&sc->pending);
	pk_buf_release(&sc->names);
	pk_buf_release(&sc->ptrs);
	free(sc);
}
