/*
 * io.h: whole reads and writes on file descriptors, and crash-safe files.
 */
#ifndef PK_IO_H
#define PK_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Formats a file name into out (of size n), as snprintf.  Returns 0, or
 * -ENAMETOOLONG when it does not fit, with a message "PATH...: path too
 * long" (out then holds its first n - 1 bytes).  Every path a buffer
 * holds is built with it: a name cut short is never used.
 */
int pk_path(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes all n bytes, retrying on EINTR and short writes. 0 or -errno. */
int pk_write_all(int fd, const void *p, size_t n);
/* Writes n zero bytes. */
int pk_write_zeros(int fd, uint64_t n);
/* Reads up to n bytes, stopping only at end of file.  Returns the count
 * read (less than n only at end of file) or -errno. */
ssize_t pk_read_full(int fd, void *p, size_t n);
int pk_pread_all(int fd, void *p, size_t n, uint64_t off);

/* Enlarges a pipe's buffer; does nothing on other files. */
void pk_pipe_grow(int fd);

/*
 * A file that appears whole or not at all: created as a unique temporary
 * file in dir (O_EXCL, mode 0600 or given), written, then pk_atomic_commit()
 * fsyncs it, renames it to its final name and fsyncs the directory.
 * pk_atomic_abort() unlinks it.  Both close the fd.
 */
struct pk_atomic {
	int fd;
	char tmp[4096];
};

int pk_atomic_open(struct pk_atomic *a, const char *dir, mode_t mode);
int pk_atomic_commit(struct pk_atomic *a, const char *path);
/* Renames it into place without syncing anything: for caches, whose
 * readers check what they read, so that a crash costs at most a miss. */
int pk_atomic_replace(struct pk_atomic *a, const char *path);
void pk_atomic_abort(struct pk_atomic *a);

/* Writes a whole small file atomically. */
int pk_atomic_write(const char *dir, const char *path, const void *p, size_t n,
    mode_t mode);
/* Reads a whole file of at most max bytes into a malloc'd buffer. */
int pk_read_file(const char *path, size_t max, uint8_t **p, size_t *n);
/* Makes the directories before the last component of path (mode 0700),
 * those that are missing; failures show at the path's first use. */
void pk_mkdir_parents(char *path);
/* fsync of a directory. */
int pk_fsync_dir(const char *dir);
/* A secret's file (a key file, a passphrase file) of mode st_mode is its
 * owner's alone, as ssh wants a private key: 0, or -EPERM with a message
 * naming file when its group or others have any of the bits 077. */
int pk_private_mode(const char *file, unsigned st_mode);

/*
 * For a sequential pass over a shared mapping: lets go of the pages before
 * off, but for the last few megabytes, from *dropped on (which it moves).
 * The data stays in the file (or the page cache) and a page that is
 * touched again comes back; only the pass's resident memory goes down.
 */
void pk_drop_behind(const void *map, uint64_t *dropped, uint64_t off);
/* Lets go of all the pages of a shared mapping, before such a pass. */
void pk_drop_pages(const void *map, size_t len);

#endif
