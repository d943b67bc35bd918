#include <archive.h>
#include <archive_entry.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "err.h"
#include "io.h"
#include "tar.h"

/*
 * libarchive collects output into blocks of this size and hands whole
 * blocks to the write callback, so it is also our write size.  The last
 * block is not padded (bytes_in_last_block 1): both tars read any length
 * that is a multiple of 512.
 */
#define TAR_BLOCK_BYTES		(1u << 20)
/* Holes are fed to libarchive from a zero buffer this large. */
/*
 * Holes are fed to libarchive as zeros from one read-only mapping, which
 * costs address space, not memory: every page of it is the zero page.
 * libarchive takes at most INT_MAX bytes a call and skips what falls in a
 * hole of the sparse map without reading it, so a hole of PK_ENTRY_MAX_SIZE
 * costs half a million calls, not days.
 */
#define TAR_ZERO_BYTES		(1u << 30)
/* Paths in messages are cut after this many bytes. */
#define TAR_SHOW_BYTES		200

struct pk_tar {
	struct archive *a;
	struct archive_entry *ae;
	locale_t utf8;		/* C.UTF-8 for libarchive's name conversion */
	int fd;
	int werr;		/* errno of a failed write to fd */
	int broken;		/* a failure left the stream unusable */
	int discard;		/* pk_tar_free() without finish: drop output */
	int open;		/* a regular file's content is expected */
	uint64_t size, off;	/* the open file's size and content so far */
	struct pk_tar_extent *map;	/* its data runs when sparse */
	size_t nmap, mapcap, imap;	/* imap: first run not before off */
	int sparse;
	uint8_t *zeros;
	struct pk_buf name;	/* the current path for messages, NUL-ended */
	struct pk_buf tmp;	/* NUL-terminated copies for libarchive */
};

/* libarchive's write callback: whole blocks to the fd. */
static la_ssize_t
write_cb(struct archive *a, void *arg, const void *p, size_t n)
{
	struct pk_tar *t = arg;
	int r;

	/* Freed unfinished: the first block of what libarchive closes with
	 * fails, so that it does not pad the open file out to its size. */
	if (t->discard) {
		archive_set_error(a, ECANCELED, "output discarded");
		return -1;
	}
	if ((r = pk_write_all(t->fd, p, n)) < 0) {
		t->werr = -r;
		archive_set_error(a, -r, "write: %s", strerror(-r));
		return -1;
	}
	return (la_ssize_t)n;
}

/* A libarchive call failed: the archive cannot go on. */
static int
lib_fail(struct pk_tar *t, const char *what)
{
	const char *why = archive_error_string(t->a);

	t->broken = 1;
	if (t->werr != 0)
		return pk_err(-t->werr, "tar output: write: %s",
		    strerror(t->werr));
	return pk_err(-EIO, "tar output: %s: %s", what,
	    why != NULL ? why : "libarchive failed");
}

static int
setup(struct pk_tar *t)
{
	struct archive *a = t->a;

	if (archive_write_set_format_pax(a) != ARCHIVE_OK ||
	    /* LIBARCHIVE.xattr records duplicate SCHILY.xattr ones, and GNU
	     * tar warns about every one of them. */
	    archive_write_set_format_option(a, "pax", "xattrheader",
	    "SCHILY") != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, TAR_BLOCK_BYTES) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, t, NULL, write_cb, NULL) != ARCHIVE_OK)
		return lib_fail(t, "setup");
	return 0;
}

int
pk_tar_new(struct pk_tar **tp, int fd)
{
	struct pk_tar *t;
	int r;

	*tp = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return -ENOMEM;
	t->fd = fd;
	t->a = archive_write_new();
	t->ae = archive_entry_new();
	t->zeros = mmap(NULL, TAR_ZERO_BYTES, PROT_READ, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->zeros == MAP_FAILED)
		t->zeros = NULL;
	if (t->a == NULL || t->ae == NULL || t->zeros == NULL) {
		pk_tar_free(t);
		return -ENOMEM;
	}
	/* Where C.UTF-8 is missing the caller's locale decides which names
	 * go out as UTF-8 and which as binary; both restore the same bytes. */
	t->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if ((r = setup(t)) < 0) {
		pk_tar_free(t);
		return r;
	}
	pk_pipe_grow(fd);
	*tp = t;
	return 0;
}

void
pk_tar_free(struct pk_tar *t)
{
	if (t == NULL)
		return;
	if (t->a != NULL) {
		/* archive_write_free() closes an open archive, which would
		 * pad an unfinished file with zeros to its size, maybe a
		 * petabyte, and write end-of-archive blocks after it: see
		 * write_cb(). */
		t->discard = 1;
		archive_write_free(t->a);
	}
	if (t->ae != NULL)
		archive_entry_free(t->ae);
	if (t->utf8 != (locale_t)0)
		freelocale(t->utf8);
	free(t->map);
	if (t->zeros != NULL)
		munmap(t->zeros, TAR_ZERO_BYTES);
	pk_buf_release(&t->name);
	pk_buf_release(&t->tmp);
	free(t);
}

/* Sets t->name to p for messages: control bytes and '\' escaped in
 * octal, cut after TAR_SHOW_BYTES. */
static void
set_name(struct pk_tar *t, const uint8_t *p, size_t n)
{
	char esc[8];
	size_t i;

	pk_buf_reset(&t->name);
	for (i = 0; i < n && t->name.len < TAR_SHOW_BYTES; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\') {
			snprintf(esc, sizeof esc, "\\%03o", p[i]);
			pk_buf_add(&t->name, esc, 4);
		} else
			pk_buf_add_u8(&t->name, p[i]);
	}
	if (i < n)
		pk_buf_add(&t->name, "...", 3);
	if (pk_buf_add_u8(&t->name, 0) < 0)
		pk_buf_reset(&t->name);
}

static const char *
name(const struct pk_tar *t)
{
	return t->name.len > 0 ? (const char *)t->name.data : "?";
}

/* s as a NUL-terminated string in t->tmp, valid until the next call. */
static const char *
cstr(struct pk_tar *t, const struct pk_str *s)
{
	pk_buf_reset(&t->tmp);
	if (pk_buf_add(&t->tmp, s->p, s->len) < 0 ||
	    pk_buf_add_u8(&t->tmp, 0) < 0)
		return NULL;
	return (const char *)t->tmp.data;
}

static int
bad_entry(struct pk_tar *t, const char *why)
{
	return pk_err(-EBADMSG, "%s: %s", name(t), why);
}

/* What libarchive cannot be told, or would silently write wrong. */
static int
check_entry(struct pk_tar *t, const struct pk_entry *e)
{
	int r;

	if ((r = pk_entry_check(e)) < 0)
		return bad_entry(t, pk_errmsg(r));
	if (e->type == PK_FT_REG && e->size == PK_SIZE_UNKNOWN)
		return bad_entry(t, "size unknown");
	return 0;
}

static unsigned
ae_type(uint8_t type)
{
	switch (type) {
	case PK_FT_DIR: return AE_IFDIR;
	case PK_FT_SYMLINK: return AE_IFLNK;
	case PK_FT_CHR: return AE_IFCHR;
	case PK_FT_BLK: return AE_IFBLK;
	case PK_FT_FIFO: return AE_IFIFO;
	default: return AE_IFREG;	/* regular files and hard links */
	}
}

/* The strings of e into t->ae; libarchive copies each one. */
static int
fill_names(struct pk_tar *t, const struct pk_entry *e)
{
	struct archive_entry *ae = t->ae;
	const char *s;
	uint32_t i;

	if ((s = cstr(t, &e->path)) == NULL)
		return -ENOMEM;
	archive_entry_copy_pathname(ae, s);
	if (e->type == PK_FT_SYMLINK || e->type == PK_FT_HARDLINK) {
		if ((s = cstr(t, &e->link)) == NULL)
			return -ENOMEM;
		if (e->type == PK_FT_SYMLINK)
			archive_entry_copy_symlink(ae, s);
		else
			archive_entry_copy_hardlink(ae, s);
	}
	if (e->uname.len > 0) {
		if ((s = cstr(t, &e->uname)) == NULL)
			return -ENOMEM;
		archive_entry_copy_uname(ae, s);
	}
	if (e->gname.len > 0) {
		if ((s = cstr(t, &e->gname)) == NULL)
			return -ENOMEM;
		archive_entry_copy_gname(ae, s);
	}
	for (i = 0; i < e->nxattrs; i++) {
		if ((s = cstr(t, &e->xattrs[i].name)) == NULL)
			return -ENOMEM;
		archive_entry_xattr_add_entry(ae, s, e->xattrs[i].value.p,
		    e->xattrs[i].value.len);
	}
	return 0;
}

static int
fill_entry(struct pk_tar *t, const struct pk_entry *e)
{
	struct archive_entry *ae = t->ae;

	archive_entry_clear(ae);
	archive_entry_set_filetype(ae, ae_type(e->type));
	archive_entry_set_perm(ae, e->mode & 07777);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	archive_entry_set_mtime(ae, e->mtime_sec, e->mtime_nsec);
	archive_entry_set_ctime(ae, e->ctime_sec, e->ctime_nsec);
	archive_entry_set_size(ae, e->type == PK_FT_REG ? (int64_t)e->size : 0);
	if (e->type == PK_FT_CHR || e->type == PK_FT_BLK) {
		archive_entry_set_rdevmajor(ae, e->rdev_major);
		archive_entry_set_rdevminor(ae, e->rdev_minor);
	}
	return fill_names(t, e);
}

/*
 * Copies the map of a regular file of size `size`, without empty runs, and
 * sets t->sparse when it leaves holes.  libarchive ignores bad runs
 * silently, so they are refused here.
 */
static int
set_map(struct pk_tar *t, uint64_t size, const struct pk_tar_extent *map,
    size_t nmap)
{
	struct pk_tar_extent *m;
	uint64_t end = 0, stored = 0;
	size_t i;

	t->nmap = t->imap = 0;
	t->sparse = 0;
	if (map == NULL || size == 0)
		return 0;
	if (nmap > t->mapcap) {
		if ((m = realloc(t->map, nmap * sizeof *m)) == NULL)
			return -ENOMEM;
		t->map = m;
		t->mapcap = nmap;
	}
	for (i = 0; i < nmap; i++) {
		if (map[i].offset < end || map[i].length > size ||
		    map[i].offset > size - map[i].length)
			return bad_entry(t, "bad sparse map");
		if (map[i].length == 0)
			continue;
		t->map[t->nmap++] = map[i];
		end = map[i].offset + map[i].length;
		stored += map[i].length;
	}
	t->sparse = stored < size;
	return 0;
}

/* The runs go to libarchive after the size, which it checks them against. */
static void
add_map(struct pk_tar *t)
{
	size_t i;

	for (i = 0; i < t->nmap; i++)
		archive_entry_sparse_add_entry(t->ae, (int64_t)t->map[i].offset,
		    (int64_t)t->map[i].length);
	/* A file that is all hole needs a run, which may be empty. */
	if (t->nmap == 0)
		archive_entry_sparse_add_entry(t->ae, (int64_t)t->size, 0);
}

static int
content_done(struct pk_tar *t)
{
	if (t->open && t->off != t->size)
		return pk_err(-EBADMSG, "%s: content is %" PRIu64 " bytes, "
		    "short of its size %" PRIu64, name(t), t->off, t->size);
	t->open = 0;
	return 0;
}

static int
write_header(struct pk_tar *t)
{
	locale_t old = (locale_t)0;
	int r;

	/* libarchive converts names from the thread's locale to UTF-8 and
	 * falls back to hdrcharset=BINARY for the entry when that fails. */
	if (t->utf8 != (locale_t)0)
		old = uselocale(t->utf8);
	r = archive_write_header(t->a, t->ae);
	if (t->utf8 != (locale_t)0)
		uselocale(old);
	/* ARCHIVE_WARN: a name went out as binary. */
	return r < ARCHIVE_WARN ? lib_fail(t, "header") : 0;
}

int
pk_tar_entry(struct pk_tar *t, const struct pk_entry *e,
    const struct pk_tar_extent *map, size_t nmap)
{
	int r;

	assert(map == NULL || e->type == PK_FT_REG);
	if (t->broken)
		return pk_err(-EIO, "tar output: unusable after an error");
	if ((r = content_done(t)) < 0)
		return r;
	set_name(t, e->path.p, e->path.len);
	if ((r = check_entry(t, e)) < 0)
		return r;
	if (e->type == PK_FT_SOCK)
		return PK_TAR_SKIPPED;
	t->size = e->type == PK_FT_REG ? e->size : 0;
	t->off = 0;
	if ((r = set_map(t, t->size, map, nmap)) < 0 ||
	    (r = fill_entry(t, e)) < 0)
		return r;
	if (t->sparse)
		add_map(t);
	if ((r = write_header(t)) < 0)
		return r;
	t->open = e->type == PK_FT_REG;
	return 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/*
 * libarchive drops the bytes it is given inside a hole of the map, so
 * bytes [t->off, t->off + n) that fall in one must be zeros.
 */
static int
check_holes(struct pk_tar *t, const uint8_t *p, size_t n)
{
	uint64_t pos = t->off, end = t->off + n, stop;
	const struct pk_tar_extent *x;

	while (pos < end) {
		while (t->imap < t->nmap &&
		    t->map[t->imap].offset + t->map[t->imap].length <= pos)
			t->imap++;
		x = t->imap < t->nmap ? &t->map[t->imap] : NULL;
		if (x != NULL && pos >= x->offset) {
			stop = x->offset + x->length;
			pos = stop < end ? stop : end;
			continue;
		}
		stop = x != NULL ? x->offset : t->size;
		if (stop > end)
			stop = end;
		if (!all_zero(p + (pos - t->off), (size_t)(stop - pos)))
			return pk_err(-EBADMSG, "%s: data at offset %" PRIu64
			    " inside a hole of the sparse map", name(t), pos);
		pos = stop;
	}
	return 0;
}

/* Hands n bytes to libarchive, which takes at most INT_MAX at a time. */
static int
feed(struct pk_tar *t, const uint8_t *p, size_t n)
{
	la_ssize_t k;

	while (n > 0) {
		k = archive_write_data(t->a, p, n);
		if (k < 0)
			return lib_fail(t, "data");
		if (k == 0)
			return lib_fail(t, "data not accepted");
		p += k;
		n -= (size_t)k;
		t->off += (uint64_t)k;
	}
	return 0;
}

static int
content_check(struct pk_tar *t, uint64_t n)
{
	if (t->broken)
		return pk_err(-EIO, "tar output: unusable after an error");
	if (!t->open && t->name.len == 0)
		return pk_err(-EBADMSG, "content before any file");
	if (!t->open)
		return pk_err(-EBADMSG, "%s: content where none is expected",
		    name(t));
	if (n > t->size - t->off)
		return pk_err(-EBADMSG, "%s: content longer than its size %"
		    PRIu64, name(t), t->size);
	return 0;
}

int
pk_tar_data(struct pk_tar *t, const void *p, size_t n)
{
	int r;

	if ((r = content_check(t, n)) < 0)
		return r;
	if (t->sparse && (r = check_holes(t, p, n)) < 0)
		return r;
	return feed(t, p, n);
}

int
pk_tar_hole(struct pk_tar *t, uint64_t n)
{
	size_t k;
	int r;

	if ((r = content_check(t, n)) < 0)
		return r;
	/* libarchive wants every byte of a sparse file, holes included: it
	 * skips those in holes and writes those in data runs. */
	while (n > 0) {
		k = n < TAR_ZERO_BYTES ? (size_t)n : TAR_ZERO_BYTES;
		if ((r = feed(t, t->zeros, k)) < 0)
			return r;
		n -= k;
	}
	return 0;
}

int
pk_tar_finish(struct pk_tar *t)
{
	int r;

	if (t->broken)
		return pk_err(-EIO, "tar output: unusable after an error");
	if ((r = content_done(t)) < 0)
		return r;
	if (archive_write_close(t->a) != ARCHIVE_OK)
		return lib_fail(t, "close");
	return 0;
}

/* An error at the current record of r: "name: record N at byte B: why". */
static int __attribute__((format(printf, 3, 4)))
at(struct pk_reader *r, int code, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return pk_err(code, "%s: record %" PRIu64 " at byte %" PRIu64 ": %s",
	    pk_reader_name(r), pk_reader_recno(r), pk_reader_offset(r), why);
}

/* Puts the record's place before a message about the stream's content. */
static int
locate(struct pk_reader *r, int code)
{
	if (code != -EBADMSG)
		return code;
	return at(r, code, "%s", pk_errmsg(code));
}

struct tar_stream {
	struct pk_tar *t;
	struct pk_reader *r;
	struct pk_buf xbuf;	/* xattrs of the decoded ENTRY */
	int infile;		/* between a regular file's ENTRY and EOF */
	uint64_t skipped;
	uint64_t *nerrors;
};

static int
stream_entry(struct tar_stream *s, const struct pk_record *rec)
{
	struct pk_entry e;
	int k;

	if (s->infile)
		return at(s->r, -EBADMSG, "%s: content not ended by EOF",
		    name(s->t));
	if ((k = pk_entry_decode(&e, rec->data, rec->len, &s->xbuf)) < 0)
		return locate(s->r, k);
	if ((k = pk_tar_entry(s->t, &e, NULL, 0)) < 0)
		return locate(s->r, k);
	if (k == PK_TAR_SKIPPED)
		s->skipped++;
	s->infile = e.type == PK_FT_REG;
	return 0;
}

static int
stream_eof(struct tar_stream *s, const struct pk_record *rec)
{
	uint64_t size;
	uint32_t flags;

	if (!s->infile)
		return at(s->r, -EBADMSG, "EOF outside a file's content");
	if (pk_record_eof(rec, &size, &flags) < 0)
		return at(s->r, -EBADMSG, "bad EOF record");
	if (size != s->t->size)
		return at(s->r, -EBADMSG, "%s: EOF size %" PRIu64 " is not "
		    "ENTRY.size %" PRIu64, name(s->t), size, s->t->size);
	s->infile = 0;
	return locate(s->r, content_done(s->t));
}

static int
stream_content(struct tar_stream *s, const struct pk_record *rec)
{
	const uint8_t *id, *p;
	uint64_t hole;
	uint32_t n;
	char tmp[8];

	if (!s->infile)
		return at(s->r, -EBADMSG, "%s record outside a file's content",
		    pk_record_type_name(rec->type, tmp));
	switch (rec->type) {
	case PK_REC_DATA:
		return locate(s->r, pk_tar_data(s->t, rec->data, rec->len));
	case PK_REC_CHUNK:
		if (pk_record_chunk(rec, &id, &p, &n) < 0)
			return at(s->r, -EBADMSG, "bad CHUNK record");
		return locate(s->r, pk_tar_data(s->t, p, n));
	default:
		if (pk_record_hole(rec, &hole) < 0)
			return at(s->r, -EBADMSG, "bad HOLE record");
		return locate(s->r, pk_tar_hole(s->t, hole));
	}
}

static int
stream_record(struct tar_stream *s, const struct pk_record *rec)
{
	char tmp[8];

	switch (rec->type) {
	case PK_REC_ENTRY:
		return stream_entry(s, rec);
	case PK_REC_DATA:
	case PK_REC_CHUNK:
	case PK_REC_HOLE:
		return stream_content(s, rec);
	case PK_REC_EOF:
		return stream_eof(s, rec);
	case PK_REC_REF:
		return at(s->r, -EBADMSG, "chunk reference without data");
	case PK_REC_ERROR:
		(*s->nerrors)++;
		return 0;
	}
	if (rec->flags & PK_RECF_IGNORABLE)
		return 0;
	return at(s->r, -EBADMSG, "unknown record type %s",
	    pk_record_type_name(rec->type, tmp));
}

static int
stream_all(struct tar_stream *s)
{
	struct pk_record rec;
	int k;

	while ((k = pk_reader_next(s->r, &rec)) > 0)
		if ((k = stream_record(s, &rec)) < 0)
			return k;
	if (k < 0)
		return k;
	if (s->infile)
		return at(s->r, -EBADMSG, "%s: stream ends inside the file's "
		    "content", name(s->t));
	return pk_tar_finish(s->t);
}

int
pk_tar_stream(struct pk_reader *r, int fd, uint64_t *nerrors)
{
	struct tar_stream s = { .r = r, .xbuf = PK_BUF_INIT, .nerrors = nerrors };
	int k;

	*nerrors = 0;
	if ((k = pk_tar_new(&s.t, fd)) < 0)
		return k;
	k = stream_all(&s);
	pk_tar_free(s.t);
	pk_buf_release(&s.xbuf);
	if (k < 0)
		return k;
	return s.skipped > INT32_MAX ? INT32_MAX : (int)s.skipped;
}
