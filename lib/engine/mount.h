/*
 * mount.h: the work of pk-mount: every snapshot of a repository as a
 * read-only tree of files, by path, for a file system in user space to
 * serve (pk-mount(1) gives the layout).  Nothing here knows FUSE: paths
 * in, struct stat and bytes out.
 *
 * Snapshot contents come from the catalogs through their seek tables, a
 * directory at a time (cached, bounded), and file bytes a chunk at a
 * time: a read fetches only the chunks that cover it, through a bounded
 * cache of opened chunks, with the next chunks fetched ahead on threads
 * for a reader that goes on in order.
 *
 * Every function may be called from several threads at once.
 */
#ifndef PK_MOUNT_H
#define PK_MOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "repo.h"

#define PK_MOUNT_CACHE_DEFAULT	(64u << 20)	/* opened chunks, bytes */
#define PK_MOUNT_DIRS_BYTES	(32u << 20)	/* decoded directories */
/* The snapshot list is read again at most this often, on lookups at the
 * top of the tree. */
#define PK_MOUNT_REFRESH_MS	1000

struct pk_mount_options {
	size_t cache_bytes;	/* 0: PK_MOUNT_CACHE_DEFAULT */
	int readahead;		/* threads that fetch ahead; 0: none */
	uid_t uid;		/* owner of the directories pk-mount makes */
	gid_t gid;
	/* Told once per open file whose chunks cannot be read (path is the
	 * mount's, without its leading '/'). */
	void (*warn)(void *arg, const char *path, const char *msg);
	void *arg;
};

struct pk_mount;
struct pk_mount_file;

/*
 * Reads the snapshot list and opens the chunk index of r (borrowed until
 * free).  No thread starts before pk_mount_start(), so the caller may
 * still fork.  0 or a negative errno with a message.
 */
int pk_mount_new(struct pk_mount **m, struct pk_repo *r,
    const struct pk_mount_options *o);
/* Starts the threads that fetch ahead. */
void pk_mount_start(struct pk_mount *m);
void pk_mount_free(struct pk_mount *m);

/* Paths are the mount's: "/", "/latest/etc/passwd"; each function returns
 * 0 (or a count) or a negative errno: -ENOENT, -ENOTDIR, -EIO when the
 * repository cannot be read (message recorded), -ERANGE for a short
 * buffer, -ENODATA for an absent attribute. */
int pk_mount_getattr(struct pk_mount *m, const char *path, struct stat *st);
/* The target of a symbolic link, NUL-terminated, cut to n - 1 bytes. */
int pk_mount_readlink(struct pk_mount *m, const char *path, char *buf,
    size_t n);
/* Calls fill(arg, name, st, full) for each entry of a directory but "."
 * and "..": st holds all of the entry's attributes when full is set, else
 * only st_ino and the type bits of st_mode (the top directories, whose
 * snapshots' attributes cost a catalog read each); a non-zero return from
 * fill stops the listing (and is not an error). */
typedef int pk_mount_fill_fn(void *arg, const char *name, const struct stat *st,
    int full);
int pk_mount_readdir(struct pk_mount *m, const char *path,
    pk_mount_fill_fn *fill, void *arg);
/* Extended attributes: the size of the value (name list) when n is 0,
 * else copies it into buf. */
int pk_mount_getxattr(struct pk_mount *m, const char *path, const char *name,
    void *buf, size_t n);
int pk_mount_listxattr(struct pk_mount *m, const char *path, char *buf,
    size_t n);

/* A regular file, opened for reading: its chunk map is read from the
 * catalog once.  -EISDIR, -EINVAL for other types. */
int pk_mount_open(struct pk_mount *m, const char *path,
    struct pk_mount_file **f);
/* Up to n bytes at off (fewer only at the end of the file): the count, or
 * -EIO when a chunk that covers them cannot be read. */
ssize_t pk_mount_read(struct pk_mount *m, struct pk_mount_file *f, void *buf,
    size_t n, uint64_t off);
/* SEEK_DATA or SEEK_HOLE from off, as lseek(2): the offset or -ENXIO. */
int64_t pk_mount_seek(struct pk_mount_file *f, int64_t off, int whence);
void pk_mount_close(struct pk_mount *m, struct pk_mount_file *f);

#endif
