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

/* unit_rmrf's nftw callback: removes one file or empty directory. */
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

/* In-memory record streams. */

/* The stream header of the tests' streams: chunks of 2 to 64 KiB. */
static const struct pk_stream_header unit_hdr __attribute__((unused)) = {
    .version = 1, .chunk_min = 2048, .chunk_avg = 8192, .chunk_max = 65536 };

/* A pk_writer sink: appends to the pk_buf arg. */
static inline int
unit_sink(void *arg, const void *p, size_t n)
{
	return pk_buf_add(arg, p, n);
}

/* A pk_reader source: the bytes p[0..left), then end of input. */
struct unit_src {
	const uint8_t *p;
	size_t left;
};

static inline ssize_t
unit_source(void *arg, void *p, size_t n)
{
	struct unit_src *s = arg;

	if (n > s->left)
		n = s->left;
	if (n == 0)
		return 0;
	memcpy(p, s->p, n);
	s->p += n;
	s->left -= n;
	return (ssize_t)n;
}

/* A writer of a stream with header h into b, b emptied first. */
static inline struct pk_writer *
unit_writer(struct pk_buf *b, const struct pk_stream_header *h)
{
	struct pk_writer *w = NULL;

	pk_buf_reset(b);
	pk_writer_new_sink(&w, unit_sink, b, h);
	return w;
}

/* Ends w's stream and frees w. */
static inline void
unit_writer_end(struct pk_writer *w)
{
	pk_writer_end(w);
	pk_writer_free(w);
}

/* An ENTRY record of e. */
static inline int
unit_write_entry(struct pk_writer *w, const struct pk_entry *e)
{
	struct pk_buf b = PK_BUF_INIT;
	int r = pk_entry_encode(e, &b);

	if (r == 0)
		r = pk_writer_put(w, PK_REC_ENTRY, 0, b.data, b.len);
	pk_buf_release(&b);
	return r;
}

/* An entry of type at path, size bytes: mode 0755 for a directory, 0644
 * otherwise, mtime 1600000000, one link, every other field zero. */
static inline void
unit_entry(struct pk_entry *e, uint8_t type, const char *path, uint64_t size)
{
	memset(e, 0, sizeof *e);
	e->type = type;
	e->mode = type == PK_FT_DIR ? 0755 : 0644;
	e->size = size;
	e->mtime_sec = 1600000000;
	e->nlink = 1;
	e->path.p = (const uint8_t *)path;
	e->path.len = strlen(path);
}

/* The link target of e (NULL: none). */
static inline void
unit_set_link(struct pk_entry *e, const char *link)
{
	if (link) {
		e->link.p = (const uint8_t *)link;
		e->link.len = strlen(link);
	}
}

/* An ENTRY record of unit_entry(type, path, size). */
static inline void
unit_put_entry(struct pk_writer *w, uint8_t type, const char *path,
    uint64_t size)
{
	struct pk_entry e;

	unit_entry(&e, type, path, size);
	unit_write_entry(w, &e);
}

/* pk_store_stream of the stream in b into r. */
static inline int
unit_store(struct pk_repo *r, const struct pk_buf *b,
    struct pk_store_options *o, struct pk_snapshot *snap)
{
	struct unit_src s = { b->data, b->len };
	struct pk_reader *rd;
	int e;

	pk_reader_new_source(&rd, unit_source, &s, "stream");
	e = pk_store_stream(r, rd, o, snap);
	pk_reader_free(rd);
	return e;
}

/* Repositories. */

/* A fresh repository at dir/name, chunks of 2 to 64 KiB, plaintext or
 * encrypted, made and opened with the passphrase pass (NULL: none); NULL
 * when either fails. */
static inline struct pk_repo *
unit_repo(const char *dir, const char *name, int encrypted, const char *pass)
{
	const struct pk_repo_params p = { .chunk_min = 2048, .chunk_avg = 8192,
	    .chunk_max = 65536, .encrypted = encrypted };
	size_t n = pass ? strlen(pass) : 0;
	struct pk_repo *r;
	char path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (pk_repo_init(path, &p, pass, n) < 0 ||
	    pk_repo_open(&r, path, pass, n) < 0)
		return NULL;
	return r;
}

/* 1 when two blob locations are the same in every field. */
static inline int
unit_loc_eq(const struct pk_blobloc *a, const struct pk_blobloc *b)
{
	return !memcmp(a->sid, b->sid, 32) && !memcmp(a->pack, b->pack, 16) &&
	    a->offset == b->offset && a->length == b->length &&
	    a->raw == b->raw && a->flags == b->flags;
}

/* 1 when the strings a[0..n) and b[0..n) are the same. */
static inline int
unit_strv_eq(char **a, char **b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

/* 1 when two snapshots are the same in every field; their seek tables
 * compared always (keys) or only when both are seekable (!keys). */
static inline int
unit_snap_eq(const struct pk_snapshot *a, const struct pk_snapshot *b,
    int keys)
{
	uint32_t i;

	if (memcmp(a->id, b->id, sizeof a->id) || a->start_sec != b->start_sec ||
	    a->start_nsec != b->start_nsec || a->end_sec != b->end_sec ||
	    a->end_nsec != b->end_nsec || !a->host || !b->host ||
	    strcmp(a->host, b->host) || !a->user || !b->user ||
	    strcmp(a->user, b->user) || a->npaths != b->npaths ||
	    a->ntags != b->ntags ||
	    !unit_strv_eq(a->paths, b->paths, a->npaths) ||
	    !unit_strv_eq(a->tags, b->tags, a->ntags) ||
	    a->entries != b->entries || a->files != b->files ||
	    a->dirs != b->dirs || a->bytes != b->bytes ||
	    a->stored != b->stored || a->chunks != b->chunks ||
	    a->new_chunks != b->new_chunks || a->errors != b->errors ||
	    a->chunk_min != b->chunk_min || a->chunk_avg != b->chunk_avg ||
	    a->chunk_max != b->chunk_max ||
	    a->catalog_bytes != b->catalog_bytes || a->ncatalog != b->ncatalog)
		return 0;
	for (i = 0; i < a->ncatalog; i++) {
		const struct pk_catalog_chunk *x = &a->catalog[i];
		const struct pk_catalog_chunk *y = &b->catalog[i];

		if (memcmp(x->id, y->id, PK_ID_BYTES) || x->len != y->len ||
		    x->entry != y->entry)
			return 0;
		if ((keys || (a->seekable && b->seekable)) &&
		    x->entry != PK_CATALOG_NO_ENTRY && (x->recno != y->recno ||
		    x->lolen != y->lolen || x->hilen != y->hilen ||
		    memcmp(a->keys.data + x->key, b->keys.data + y->key,
		    x->lolen + x->hilen)))
			return 0;
	}
	return 1;
}

#define UNIT_END() return unit_failed ? 1 : 0

#endif
