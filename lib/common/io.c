#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "io.h"

int
pk_path(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	assert(n > 0);
	va_start(ap, fmt);
	len = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (len >= 0 && (size_t)len < n)
		return 0;
	out[n - 1] = '\0';
	return pk_err(-ENAMETOOLONG, "%s...: path too long", out);
}

int
pk_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t k;

	while (n > 0) {
		k = write(fd, s, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int
pk_write_zeros(int fd, uint64_t n)
{
	static const char zeros[65536];
	size_t k;
	int e;

	while (n > 0) {
		k = n < sizeof zeros ? (size_t)n : sizeof zeros;
		if ((e = pk_write_all(fd, zeros, k)) < 0)
			return e;
		n -= k;
	}
	return 0;
}

ssize_t
pk_read_full(int fd, void *p, size_t n)
{
	char *s = p;
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = read(fd, s + got, n - got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

int
pk_pread_all(int fd, void *p, size_t n, uint64_t off)
{
	char *s = p;
	ssize_t k;

	while (n > 0) {
		k = pread(fd, s, n, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -ENODATA;
		s += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

void
pk_pipe_grow(int fd)
{
	struct stat st;

	/* A larger pipe lets each stage write whole records at once. */
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

void
pk_mkdir_parents(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(path, 0700);
		*p = '/';
	}
}

int
pk_fsync_dir(const char *dir)
{
	int fd, r = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int
pk_atomic_open(struct pk_atomic *a, const char *dir, mode_t mode)
{
	static unsigned counter;
	int i, r;

	a->fd = -1;
	for (i = 0; i < 100; i++) {
		if ((r = pk_path(a->tmp, sizeof a->tmp, "%s/tmp-%ld-%u-%u", dir,
		    (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED),
		    (unsigned)rand())) < 0) {
			a->tmp[0] = '\0';
			return r;
		}
		a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (a->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return pk_err(-errno, "%s: %s", a->tmp, strerror(errno));
	}
	return pk_err(-EEXIST, "%s: cannot create a temporary file", dir);
}

static int
commit(struct pk_atomic *a, const char *path, int sync)
{
	char dir[4096];
	char *slash;
	int r;

	if (sync && fsync(a->fd) < 0) {
		r = pk_err(-errno, "%s: fsync: %s", a->tmp, strerror(errno));
		pk_atomic_abort(a);
		return r;
	}
	if (close(a->fd) < 0) {
		a->fd = -1;
		r = pk_err(-errno, "%s: close: %s", a->tmp, strerror(errno));
		pk_atomic_abort(a);
		return r;
	}
	a->fd = -1;
	if (rename(a->tmp, path) < 0) {
		r = pk_err(-errno, "%s: rename: %s", path, strerror(errno));
		pk_atomic_abort(a);
		return r;
	}
	if (!sync)
		return 0;
	if ((r = pk_path(dir, sizeof dir, "%s", path)) < 0)
		return r;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	if ((r = pk_fsync_dir(dir)) < 0)
		return pk_err(r, "%s: fsync: %s", dir, strerror(-r));
	return 0;
}

int
pk_atomic_commit(struct pk_atomic *a, const char *path)
{
	return commit(a, path, 1);
}

int
pk_atomic_replace(struct pk_atomic *a, const char *path)
{
	return commit(a, path, 0);
}

void
pk_atomic_abort(struct pk_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->tmp[0])
		unlink(a->tmp);
	a->tmp[0] = '\0';
}

int
pk_atomic_write(const char *dir, const char *path, const void *p, size_t n,
    mode_t mode)
{
	struct pk_atomic a;
	int r;

	if ((r = pk_atomic_open(&a, dir, mode)) < 0)
		return r;
	if ((r = pk_write_all(a.fd, p, n)) < 0) {
		r = pk_err(r, "%s: write: %s", a.tmp, strerror(-r));
		pk_atomic_abort(&a);
		return r;
	}
	return pk_atomic_commit(&a, path);
}

int
pk_read_file(const char *path, size_t max, uint8_t **p, size_t *n)
{
	struct stat st;
	uint8_t *data;
	ssize_t k;
	int fd, r;

	*p = NULL;
	*n = 0;
	/* O_NONBLOCK: a FIFO in the file's place must not hang the open
	 * (it is refused below); reads of a regular file ignore it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return pk_err(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = pk_err(-errno, "%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return pk_err(-EFBIG, "%s: not a regular file of at most %zu bytes",
		    path, max);
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		close(fd);
		return -ENOMEM;
	}
	k = pk_read_full(fd, data, (size_t)st.st_size);
	close(fd);
	if (k < 0 || k != st.st_size) {
		free(data);
		return pk_err(k < 0 ? (int)k : -EIO, "%s: short read", path);
	}
	*p = data;
	*n = (size_t)k;
	return 0;
}

int
pk_private_mode(const char *file, unsigned st_mode)
{
	if (st_mode & 077)
		return pk_err(-EPERM, "%s: others may read it (mode %04o): "
		    "chmod 600 it", file, st_mode & 07777);
	return 0;
}

#define DROP_STEP	(1u << 20)

void
pk_drop_behind(const void *map, uint64_t *dropped, uint64_t off)
{
	uint64_t upto;

	if (off < *dropped + 2 * DROP_STEP)
		return;
	upto = (off - DROP_STEP) & ~4095ull;
	pk_drop_pages((const uint8_t *)map + *dropped, upto - *dropped);
	*dropped = upto;
}

void
pk_drop_pages(const void *map, size_t len)
{
	madvise((void *)(uintptr_t)map, len, MADV_DONTNEED);
}
