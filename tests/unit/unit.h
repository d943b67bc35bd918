/*
 * unit.h: the C unit tests' helpers.  Each check prints one TAP-like
 * line ("ok - name" or "not ok - name: where"); tests/run.sh counts them.
 */
#ifndef PK_UNIT_H
#define PK_UNIT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"

static int unit_failed;

#define CHECK(name, cond) do {						\
	if (cond)							\
		printf("ok - %s\n", name);				\
	else {								\
		printf("not ok - %s: %s:%d: %s\n", name, __FILE__,	\
		    __LINE__, #cond);					\
		unit_failed = 1;					\
	}								\
} while (0)

/* A seeded generator, so that every run sees the same data. */
static inline unsigned long long
unit_rand(unsigned long long *s)
{
	unsigned long long z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void
unit_fill(unsigned char *p, size_t n, unsigned long long seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)unit_rand(&seed);
}

/* Scratch files. */

static inline int
unit_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* Removes the tree at p, links not followed; a missing p is no error. */
static inline void
unit_rmrf(const char *p)
{
	nftw(p, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A test's scratch directory, made afresh (0700) under tests/scratch. */
static inline void
unit_scratch(const char *dir)
{
	mkdir("tests/scratch", 0755);
	unit_rmrf(dir);
	mkdir(dir, 0700);
}

/* The names in dir that do not start with '.', or -1. */
static inline int
unit_count_files(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL)
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* A whole file of up to 256 MiB, as pk_read_file gives it. */
static inline int
unit_get_file(const char *path, uint8_t **p, size_t *n)
{
	return pk_read_file(path, 1u << 28, p, n);
}

/* Writes p[0..n) as the whole file at path (made 0600 first, so that a
 * read-only file can be rewritten); 0 or -errno. */
static inline int
unit_put_file(const char *path, const void *p, size_t n)
{
	int fd, e;

	chmod(path, 0600);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	e = pk_write_all(fd, p, n);
	close(fd);
	return e;
}

/* A file of up to 4 MiB as a NUL-terminated string to free, or NULL. */
static inline char *
unit_get_text(const char *path)
{
	uint8_t *p;
	size_t n;
	char *s;

	if (pk_read_file(path, 1u << 22, &p, &n) < 0)
		return NULL;
	s = malloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	free(p);
	return s;
}

/* The permission bits of path itself (a link not followed), or -1. */
static inline mode_t
unit_mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* 1 when path exists (a link followed). */
static inline int
unit_exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* The size of the file at p, or -1. */
static inline off_t
unit_size_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* Flips the bits of mask in the byte at off of the file at p; 0 or -1. */
static inline int
unit_flip_at(const char *p, off_t off, uint8_t mask)
{
	uint8_t b;
	int fd = open(p, O_RDWR), ok;

	if (fd < 0)
		return -1;
	ok = pread(fd, &b, 1, off) == 1;
	b ^= mask;
	ok = ok && pwrite(fd, &b, 1, off) == 1;
	close(fd);
	return ok ? 0 : -1;
}

#define UNIT_END() return unit_failed ? 1 : 0

#endif
