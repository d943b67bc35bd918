/*
 * t-io: whole reads and writes and crash-safe files (io.h): pk_path fits a
 * name or says -ENAMETOOLONG with the cut name in its message; writes and
 * reads of every byte through pipes and files, pread past the end; an
 * atomic file appears whole under its name with its mode, or not at all,
 * and leaves no temporary file behind, whether committed, replaced,
 * aborted or failed; pk_read_file takes a file of max bytes and refuses
 * one byte more, a directory, a symbolic link, a missing file, a FIFO
 * (without waiting for a writer); fsync of a directory; pages dropped
 * behind a pass keep the file's data.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-io"

/* Files in dir whose names start with "tmp-": temporaries left. */
static int
count_tmp(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL)
		n += strncmp(d->d_name, "tmp-", 4) == 0;
	closedir(dp);
	return n;
}

/* 1 when the file at path holds exactly p[0..n). */
static int
holds(const char *path, const void *p, size_t n)
{
	uint8_t *got;
	size_t len;
	int ok;

	if (pk_read_file(path, 1u << 26, &got, &len) < 0)
		return 0;
	ok = len == n && (n == 0 || memcmp(got, p, n) == 0);
	free(got);
	return ok;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void
test_path(void)
{
	char buf[8], one[1], big[64];
	struct pk_storage *s = NULL;
	int e;

	memset(buf, 'x', sizeof buf);
	CHECK("path: seven bytes fit a buffer of eight",
	    pk_path(buf, sizeof buf, "%s/%d", "abcd", 12) == 0 &&
	    strcmp(buf, "abcd/12") == 0);
	pk_err_clear();
	e = pk_path(buf, sizeof buf, "%s/%d", "abcd", 123);
	CHECK("path: eight bytes do not: ENAMETOOLONG", e == -ENAMETOOLONG);
	CHECK("path: ... out holds the first seven bytes",
	    memcmp(buf, "abcd/12", 8) == 0);
	CHECK("path: ... the message names the cut path",
	    strcmp(pk_errmsg(e), "abcd/12...: path too long") == 0);
	CHECK("path: an empty name fits a buffer of one",
	    pk_path(one, sizeof one, "%s", "") == 0 && one[0] == '\0');
	one[0] = 'x';
	CHECK("path: one byte does not fit a buffer of one",
	    pk_path(one, sizeof one, "%s", "a") == -ENAMETOOLONG && one[0] == '\0');
	memset(big, 'a', sizeof big);
	big[63] = '\0';
	CHECK("path: a name far too long is cut, not overrun",
	    pk_path(buf, sizeof buf, "%s%s", big, big) == -ENAMETOOLONG &&
	    strlen(buf) == 7);
	CHECK("path: a repository path too long for REPO/rel",
	    pk_storage_open(&s, big, 0) == 0 &&
	    pk_storage_name(s, buf, sizeof buf, "config") == -ENAMETOOLONG);
	pk_storage_close(s);
}

/* A writer child that sends n bytes of seed in pieces of step bytes. */
static pid_t
writer_child(int fd, size_t n, size_t step, unsigned long long seed)
{
	pid_t pid = fork();
	uint8_t *p;
	size_t off, k;

	if (pid != 0)
		return pid;
	p = malloc(n);
	unit_fill(p, n, seed);
	for (off = 0; off < n; off += k) {
		k = n - off < step ? n - off : step;
		if (pk_write_all(fd, p + off, k) < 0)
			_exit(1);
	}
	_exit(0);
}

static void
test_rw(void)
{
	const size_t n = 3u << 20;
	uint8_t *want = malloc(n), *got = malloc(n + 10);
	char path[] = SCRATCH "/rw";
	int fds[2], fd, st = -1;
	ssize_t k;
	pid_t pid;

	unit_fill(want, n, 7);
	if (pipe(fds) < 0)
		return;
	pid = writer_child(fds[1], n, 100001, 7);
	close(fds[1]);
	k = pk_read_full(fds[0], got, n + 10);
	close(fds[0]);
	waitpid(pid, &st, 0);
	CHECK("read_full: every byte of a pipe written in odd pieces",
	    k == (ssize_t)n && memcmp(got, want, n) == 0);
	CHECK("write_all: the writer saw no error", WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);

	if (pipe(fds) < 0)
		return;
	pid = writer_child(fds[1], 1000, 1000, 8);
	close(fds[1]);
	k = pk_read_full(fds[0], got, 600);
	CHECK("read_full: stops at n when more is there", k == 600);
	k = pk_read_full(fds[0], got, 600);
	CHECK("read_full: less than n only at end of file", k == 400);
	k = pk_read_full(fds[0], got, 600);
	CHECK("read_full: 0 at end of file", k == 0);
	close(fds[0]);
	waitpid(pid, &st, 0);

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK("write_all: a file", pk_write_all(fd, want, 100000) == 0);
	CHECK("write_zeros: 200000 zeros after it",
	    pk_write_zeros(fd, 200000) == 0 && pk_write_zeros(fd, 0) == 0);
	CHECK("write_zeros: the file is the data then the zeros",
	    lseek(fd, 0, SEEK_END) == 300000 &&
	    pk_pread_all(fd, got, 100000, 0) == 0 &&
	    memcmp(got, want, 100000) == 0 &&
	    pk_pread_all(fd, got, 200000, 100000) == 0 &&
	    got[0] == 0 && got[199999] == 0 &&
	    memcmp(got, got + 1, 199999) == 0);
	CHECK("pread_all: a range in the middle",
	    pk_pread_all(fd, got, 10, 5) == 0 && memcmp(got, want + 5, 10) == 0);
	CHECK("pread_all: the last byte", pk_pread_all(fd, got, 1, 299999) == 0);
	CHECK("pread_all: one byte past the end is ENODATA",
	    pk_pread_all(fd, got, 2, 299999) == -ENODATA);
	CHECK("pread_all: at the end is ENODATA",
	    pk_pread_all(fd, got, 1, 300000) == -ENODATA);
	close(fd);
	fd = open(path, O_RDONLY);
	CHECK("write_all: to a read-only fd is EBADF",
	    pk_write_all(fd, want, 10) == -EBADF);
	close(fd);
	CHECK("write_all: to a closed fd is EBADF",
	    pk_write_all(fd, want, 10) == -EBADF);
	CHECK("read_full: from a closed fd is EBADF",
	    pk_read_full(fd, got, 10) == -EBADF);
	CHECK("pread_all: from a closed fd is EBADF",
	    pk_pread_all(fd, got, 10, 0) == -EBADF);
	free(want);
	free(got);
}

static void
test_atomic(void)
{
	const char *dir = SCRATCH "/a", *final = SCRATCH "/a/final";
	char tmp1[4096], longdir[5000];
	struct pk_atomic a, b;
	int e, fd;

	mkdir(dir, 0700);
	e = pk_atomic_open(&a, dir, 0640);
	CHECK("atomic: open", e == 0 && a.fd >= 0);
	if (e < 0)
		return;
	CHECK("atomic: the temporary file is in dir, with the mode",
	    strncmp(a.tmp, SCRATCH "/a/tmp-", strlen(SCRATCH "/a/tmp-")) == 0 &&
	    unit_mode_of(a.tmp) == 0640 && count_tmp(dir) == 1);
	CHECK("atomic: no final file before the commit", !exists(final));
	e = pk_atomic_open(&b, dir, 0600);
	CHECK("atomic: a second one has another name",
	    e == 0 && strcmp(a.tmp, b.tmp) != 0 && count_tmp(dir) == 2);
	snprintf(tmp1, sizeof tmp1, "%s", b.tmp);
	fd = b.fd;
	pk_atomic_abort(&b);
	CHECK("atomic: abort removes the temporary file and closes the fd",
	    !exists(tmp1) && !fd_open(fd) && b.fd == -1 && count_tmp(dir) == 1);
	pk_atomic_abort(&b);
	CHECK("atomic: abort twice is harmless", count_tmp(dir) == 1);

	pk_write_all(a.fd, "hello", 5);
	snprintf(tmp1, sizeof tmp1, "%s", a.tmp);
	fd = a.fd;
	e = pk_atomic_commit(&a, final);
	CHECK("atomic: commit", e == 0);
	CHECK("atomic: the file is in place, whole, with its mode",
	    holds(final, "hello", 5) && unit_mode_of(final) == 0640);
	CHECK("atomic: ... and the temporary file is gone, its fd closed",
	    !exists(tmp1) && !fd_open(fd) && count_tmp(dir) == 0);

	/* Over an existing file: replaced whole. */
	e = pk_atomic_open(&a, dir, 0600);
	pk_write_all(a.fd, "bye", 3);
	CHECK("atomic: commit over a file replaces it",
	    e == 0 && pk_atomic_commit(&a, final) == 0 && holds(final, "bye", 3) &&
	    unit_mode_of(final) == 0600 && count_tmp(dir) == 0);
	e = pk_atomic_open(&a, dir, 0600);
	pk_write_all(a.fd, "cache", 5);
	CHECK("atomic: replace puts it in place too",
	    e == 0 && pk_atomic_replace(&a, final) == 0 &&
	    holds(final, "cache", 5) && count_tmp(dir) == 0);

	/* An abort after writing leaves the old file. */
	e = pk_atomic_open(&a, dir, 0600);
	pk_write_all(a.fd, "lost", 4);
	pk_atomic_abort(&a);
	CHECK("atomic: an aborted write leaves the old file as it was",
	    e == 0 && holds(final, "cache", 5) && count_tmp(dir) == 0);

	/* A final name that cannot be had. */
	e = pk_atomic_open(&a, dir, 0600);
	snprintf(tmp1, sizeof tmp1, "%s", a.tmp);
	e = e ? e : pk_atomic_commit(&a, SCRATCH "/a/no/such/dir/file");
	CHECK("atomic: commit into a missing directory is ENOENT", e == -ENOENT);
	CHECK("atomic: ... and removes its temporary file",
	    !exists(tmp1) && count_tmp(dir) == 0);
	mkdir(SCRATCH "/a/isdir", 0700);
	mkdir(SCRATCH "/a/isdir/sub", 0700);
	e = pk_atomic_write(dir, SCRATCH "/a/isdir", "x", 1, 0600);
	CHECK("atomic_write: over a directory fails, no temporary left",
	    e < 0 && count_tmp(dir) == 0 && exists(SCRATCH "/a/isdir/sub"));

	/* A directory that cannot hold it. */
	e = pk_atomic_open(&a, SCRATCH "/a/missing", 0600);
	CHECK("atomic: open in a missing directory is ENOENT",
	    e == -ENOENT && a.fd == -1);
	memset(longdir, 'd', sizeof longdir - 1);
	longdir[sizeof longdir - 1] = '\0';
	e = pk_atomic_open(&a, longdir, 0600);
	CHECK("atomic: open in a directory whose name does not fit is "
	    "ENAMETOOLONG", e == -ENAMETOOLONG && a.fd == -1 && a.tmp[0] == '\0');

	/* A whole file at once. */
	e = pk_atomic_write(dir, SCRATCH "/a/w", "0123456789", 10, 0400);
	CHECK("atomic_write: the file, its mode, no temporary",
	    e == 0 && holds(SCRATCH "/a/w", "0123456789", 10) &&
	    unit_mode_of(SCRATCH "/a/w") == 0400 && count_tmp(dir) == 0);
	e = pk_atomic_write(dir, SCRATCH "/a/empty", "", 0, 0600);
	CHECK("atomic_write: an empty file", e == 0 &&
	    holds(SCRATCH "/a/empty", "", 0));
	mkdir(SCRATCH "/b", 0700);
	e = pk_atomic_write(dir, SCRATCH "/b/other", "xy", 2, 0600);
	CHECK("atomic_write: the temporary file in another directory",
	    e == 0 && holds(SCRATCH "/b/other", "xy", 2) &&
	    unit_count_files(SCRATCH "/b") == 1 && count_tmp(dir) == 0);
	e = pk_atomic_write(SCRATCH "/a/missing", SCRATCH "/a/m", "x", 1, 0600);
	CHECK("atomic_write: a missing temporary directory is ENOENT, no file",
	    e == -ENOENT && !exists(SCRATCH "/a/m"));
}

static void
test_read_file(void)
{
	const char *f = SCRATCH "/r";
	uint8_t data[1000], *p;
	size_t n;
	pid_t pid;
	int e, st;

	unit_fill(data, sizeof data, 3);
	pk_atomic_write(SCRATCH, f, data, sizeof data, 0600);
	p = (uint8_t *)1;
	n = 5;
	e = pk_read_file(f, 1000, &p, &n);
	CHECK("read_file: a file of exactly max bytes", e == 0 && n == 1000 &&
	    p != NULL && memcmp(p, data, n) == 0);
	if (e == 0)
		free(p);
	p = (uint8_t *)1;
	n = 5;
	e = pk_read_file(f, 999, &p, &n);
	CHECK("read_file: one byte over max is EFBIG, outputs cleared",
	    e == -EFBIG && p == NULL && n == 0);
	e = pk_read_file(f, 0, &p, &n);
	CHECK("read_file: max 0 refuses a non-empty file", e == -EFBIG);
	pk_atomic_write(SCRATCH, SCRATCH "/empty", "", 0, 0600);
	e = pk_read_file(SCRATCH "/empty", 0, &p, &n);
	CHECK("read_file: an empty file with max 0", e == 0 && n == 0 &&
	    p != NULL);
	if (e == 0)
		free(p);
	p = (uint8_t *)1;
	e = pk_read_file(SCRATCH "/none", 1000, &p, &n);
	CHECK("read_file: a missing file is ENOENT", e == -ENOENT && p == NULL &&
	    n == 0);
	e = pk_read_file(SCRATCH, 1u << 20, &p, &n);
	CHECK("read_file: a directory is EFBIG (not a regular file)",
	    e == -EFBIG && p == NULL);
	symlink("r", SCRATCH "/link");
	e = pk_read_file(SCRATCH "/link", 1000, &p, &n);
	CHECK("read_file: a symbolic link is not followed (ELOOP)",
	    e == -ELOOP && p == NULL);
	if (e == 0)
		free(p);

	/* A FIFO with no writer: the open must not wait for one.  In a
	 * child that an alarm ends, so that a hang fails the check. */
	mkfifo(SCRATCH "/fifo", 0600);
	if ((pid = fork()) == 0) {
		alarm(2);
		_exit(pk_read_file(SCRATCH "/fifo", 1000, &p, &n) == -EFBIG &&
		    p == NULL ? 0 : 1);
	}
	st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	CHECK("read_file: a FIFO is EFBIG (not a regular file), not waited on",
	    pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (pid > 0 && WIFSIGNALED(st))
		printf("# the child got signal %d: the open hung\n", WTERMSIG(st));
}

static void
test_fsync_drop(void)
{
	const size_t len = 8u << 20;
	uint8_t *want = malloc(len), *map;
	uint64_t dropped = 0, before;
	int fd, ok;

	CHECK("fsync_dir: a directory", pk_fsync_dir(SCRATCH) == 0);
	CHECK("fsync_dir: a missing one is ENOENT",
	    pk_fsync_dir(SCRATCH "/nodir") == -ENOENT);
	CHECK("fsync_dir: a file is ENOTDIR",
	    pk_fsync_dir(SCRATCH "/r") == -ENOTDIR);

	unit_fill(want, len, 11);
	pk_atomic_write(SCRATCH, SCRATCH "/map", want, len, 0600);
	fd = open(SCRATCH "/map", O_RDONLY);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		CHECK("drop: map a file", 0);
		free(want);
		return;
	}
	pk_drop_behind(map, &dropped, 1u << 20);
	CHECK("drop_behind: nothing dropped within the first megabytes",
	    dropped == 0);
	pk_drop_behind(map, &dropped, 6u << 20);
	CHECK("drop_behind: moves forward, short of off, page-aligned",
	    dropped > 0 && dropped < (6u << 20) && dropped % 4096 == 0);
	before = dropped;
	pk_drop_behind(map, &dropped, before + 100);
	CHECK("drop_behind: a step back or a small one does not move it",
	    dropped == before);
	pk_drop_pages(map, len);
	ok = memcmp(map, want, len) == 0;
	CHECK("drop: the pages come back with the file's data", ok);
	munmap(map, len);
	free(want);
}

int
main(void)
{
	umask(022);
	unit_scratch(SCRATCH);
	test_path();
	test_rw();
	test_atomic();
	test_read_file();
	test_fsync_drop();
	UNIT_END();
}
