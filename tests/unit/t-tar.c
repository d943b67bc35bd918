/*
 * t-tar: the pax writer.  Archives are written into tests/scratch/t-tar,
 * extracted there with GNU tar and bsdtar, and every extracted file is
 * compared with what was written; the archives are also read back with
 * libarchive.  Then pk_tar_stream() on valid and invalid record streams.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define DIR_	"tests/scratch/t-tar"
#define MIB	(1024u * 1024)
#define MTIME	1600000000
#define NSEC	123456789
#define UID	1234
#define GID	2345
#define FILE_BYTES 100000
#define SPARSE_BYTES (10 * MIB)
#define SPARSE_AT (5 * MIB)
#define RUN_BYTES 4096

static unsigned char file_data[FILE_BYTES];
static unsigned char run_data[RUN_BYTES];
static char name200[201];
static char deep[5100];		/* 50 components of 99 bytes, then "leaf" */
static char target300[301];
static char target5000[5001];

static void
init_data(void)
{
	size_t i, p = 0;

	unit_fill(file_data, sizeof file_data, 1);
	unit_fill(run_data, sizeof run_data, 2);
	memset(name200, 'n', 200);
	memset(target300, 't', 300);
	memset(target5000, 'T', 5000);
	for (i = 0; i < 50; i++) {
		memset(deep + p, 'a' + (char)(i % 26), 99);
		p += 99;
		deep[p++] = '/';
	}
	memcpy(deep + p, "leaf", 5);
}

static struct pk_entry
ent(uint8_t type, const char *path, uint32_t mode, uint64_t size)
{
	struct pk_entry e;

	memset(&e, 0, sizeof e);
	e.type = type;
	e.mode = mode;
	e.size = size;
	e.path.p = (const uint8_t *)path;
	e.path.len = strlen(path);
	e.uid = UID;
	e.gid = GID;
	e.uname.p = (const uint8_t *)"nosuchuser";
	e.uname.len = 10;
	e.gname.p = (const uint8_t *)"nosuchgroup";
	e.gname.len = 11;
	e.mtime_sec = MTIME;
	e.mtime_nsec = NSEC;
	e.ctime_sec = MTIME + 1;
	e.ctime_nsec = 5;
	return e;
}

/* A regular file with the given content, written in odd-sized pieces. */
static int
put_file(struct pk_tar *t, const char *path, const void *p, size_t n)
{
	struct pk_entry e = ent(PK_FT_REG, path, 0644, n);
	size_t off, k;
	int r;

	if ((r = pk_tar_entry(t, &e, NULL, 0)) < 0)
		return r;
	for (off = 0; off < n; off += k) {
		k = n - off < 7777 ? n - off : 7777;
		if ((r = pk_tar_data(t, (const char *)p + off, k)) < 0)
			return r;
	}
	return 0;
}

static int
put_simple(struct pk_tar *t, uint8_t type, const char *path, uint32_t mode,
    const char *link)
{
	struct pk_entry e = ent(type, path, mode, 0);

	if (link != NULL)
		unit_set_link(&e, link);
	return pk_tar_entry(t, &e, NULL, 0);
}

static int
put_xattr_file(struct pk_tar *t)
{
	struct pk_xattr x[2] = {
		{ { (const uint8_t *)"user.test", 9 }, { (const uint8_t *)"value", 5 } },
		{ { (const uint8_t *)"user.bin", 8 }, { (const uint8_t *)"a\0b\n", 4 } },
	};
	struct pk_entry e = ent(PK_FT_REG, "dir/file", 0640, FILE_BYTES);
	int r;

	e.xattrs = x;
	e.nxattrs = 2;
	if ((r = pk_tar_entry(t, &e, NULL, 0)) < 0)
		return r;
	if ((r = pk_tar_data(t, file_data, 1)) < 0)
		return r;
	return pk_tar_data(t, file_data + 1, FILE_BYTES - 1);
}

/* 10 MiB, one 4 KiB run in the middle, given as hole, data, hole. */
static int
put_sparse(struct pk_tar *t)
{
	struct pk_tar_extent map[1] = { { SPARSE_AT, RUN_BYTES } };
	struct pk_entry e = ent(PK_FT_REG, "sparse", 0600, SPARSE_BYTES);
	int r;

	if ((r = pk_tar_entry(t, &e, map, 1)) < 0 ||
	    (r = pk_tar_hole(t, SPARSE_AT)) < 0 ||
	    (r = pk_tar_data(t, run_data, RUN_BYTES)) < 0)
		return r;
	return pk_tar_hole(t, SPARSE_BYTES - SPARSE_AT - RUN_BYTES);
}

/* 1 MiB, runs at 0 and at the end, all given as data (zeros included),
 * except a hole call inside the first run. */
static int
put_sparse2(struct pk_tar *t)
{
	struct pk_tar_extent map[3] = { { 0, 8192 }, { 100000, 0 },
	    { MIB - RUN_BYTES, RUN_BYTES } };
	struct pk_entry e = ent(PK_FT_REG, "sparse2", 0600, MIB);
	unsigned char *z = calloc(1, MIB);
	int r;

	if (z == NULL)
		return -ENOMEM;
	if ((r = pk_tar_entry(t, &e, map, 3)) == 0 &&
	    (r = pk_tar_data(t, run_data, RUN_BYTES)) == 0 &&
	    (r = pk_tar_hole(t, 4096)) == 0 &&
	    (r = pk_tar_data(t, z, MIB - 8192 - RUN_BYTES)) == 0)
		r = pk_tar_data(t, run_data, RUN_BYTES);
	free(z);
	return r;
}

static int
put_allhole(struct pk_tar *t)
{
	struct pk_tar_extent none[1];
	struct pk_entry e = ent(PK_FT_REG, "allhole", 0600, MIB);
	int r;

	if ((r = pk_tar_entry(t, &e, none, 0)) < 0)
		return r;
	return pk_tar_hole(t, MIB);
}

static int
put_root(struct pk_tar *t)
{
	struct pk_entry e = ent(PK_FT_DIR, ".", 0750, 0);

	e.mtime_nsec = 1;
	return pk_tar_entry(t, &e, NULL, 0);
}

/* Everything both tars can extract anywhere, without privileges. */
static int
write_main(struct pk_tar *t)
{
	int r = 0, s;

	r |= put_root(t);
	r |= put_simple(t, PK_FT_DIR, "dir", 0755, NULL);
	r |= put_xattr_file(t);
	r |= put_simple(t, PK_FT_HARDLINK, "dir/link", 0640, "dir/file");
	r |= put_simple(t, PK_FT_SYMLINK, "dir/sym", 0777, "file");
	r |= put_simple(t, PK_FT_FIFO, "fifo", 0600, NULL);
	r |= put_file(t, "bad\xffname", "x", 1);
	r |= put_file(t, "new\nline", "nl", 2);
	r |= put_file(t, "caf\xc3\xa9", "utf8", 4);
	r |= put_file(t, name200, "long", 4);
	r |= put_simple(t, PK_FT_SYMLINK, "longsym", 0777, target300);
	r |= put_sparse(t);
	r |= put_sparse2(t);
	r |= put_allhole(t);
	s = put_simple(t, PK_FT_SOCK, "sock", 0755, NULL);
	r |= s != PK_TAR_SKIPPED;
	r |= put_file(t, "empty", "", 0);
	return r;
}

/* What GNU tar cannot extract (a path over PATH_MAX) or needs privileges
 * for (devices), and what no file system holds (a 5000-byte symlink). */
static int
write_extra(struct pk_tar *t)
{
	struct pk_entry e;
	int r = 0;

	r |= put_file(t, deep, "deep", 4);
	r |= put_simple(t, PK_FT_HARDLINK, "deeplink", 0644, deep);
	e = ent(PK_FT_CHR, "chr", 0620, 0);
	e.rdev_major = 1;
	e.rdev_minor = 3;
	r |= pk_tar_entry(t, &e, NULL, 0);
	e = ent(PK_FT_BLK, "blk", 0660, 0);
	e.rdev_major = 259;
	e.rdev_minor = 70000;
	r |= pk_tar_entry(t, &e, NULL, 0);
	r |= put_simple(t, PK_FT_SYMLINK, "sym5000", 0777, target5000);
	return r;
}

static int
write_archive(const char *path, int (*fill)(struct pk_tar *))
{
	struct pk_tar *t;
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	if ((r = pk_tar_new(&t, fd)) == 0) {
		if ((r = fill(t)) == 0)
			r = pk_tar_finish(t);
		pk_tar_free(t);
	}
	if (r != 0)
		fprintf(stderr, "# %s: %d %s\n", path, r, pk_errmsg(r));
	close(fd);
	return r;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
same_file(const char *a, const char *b)
{
	return run("cmp -s %s %s", a, b) == 0;
}

/* The whole of a file, at most max bytes; NULL on failure. */
static unsigned char *
slurp(const char *path, size_t max, size_t *n)
{
	uint8_t *p;

	if (pk_read_file(path, max, &p, n) < 0)
		return NULL;
	return p;
}

static int
content_is(const char *path, const void *want, size_t n)
{
	unsigned char *p;
	size_t got;
	int ok;

	if ((p = slurp(path, n + 1, &got)) == NULL)
		return 0;
	ok = got == n && memcmp(p, want, n) == 0;
	free(p);
	return ok;
}

static int
meta_is(const char *path, mode_t type, mode_t perm, int64_t sec, long nsec)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0;
	return (st.st_mode & S_IFMT) == type && (st.st_mode & 07777) == perm &&
	    st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec;
}

static int
owner_is(const char *path)
{
	struct stat st;
	uid_t u = geteuid() == 0 ? UID : geteuid();
	gid_t g = geteuid() == 0 ? GID : getegid();

	return lstat(path, &st) == 0 && st.st_uid == u && st.st_gid == g;
}

static int
link_is(const char *path, const char *want)
{
	char buf[8192];
	ssize_t k = readlink(path, buf, sizeof buf);

	return k == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)k) == 0;
}

static int
xattr_is(const char *path, const char *xname, const void *want, size_t n)
{
	char buf[64];
	ssize_t k = lgetxattr(path, xname, buf, sizeof buf);

	return k == (ssize_t)n && memcmp(buf, want, n) == 0;
}

static int
same_inode(const char *a, const char *b)
{
	struct stat x, y;

	return lstat(a, &x) == 0 && lstat(b, &y) == 0 &&
	    x.st_ino == y.st_ino && x.st_dev == y.st_dev && x.st_nlink == 2;
}

/* A sparse file: its size, its run where expected, zeros elsewhere, and
 * fewer blocks than its size. */
static int
sparse_is(const char *path, size_t size, size_t at, const void *run_,
    size_t runlen)
{
	unsigned char *p;
	struct stat st;
	size_t n;
	int ok;

	if (lstat(path, &st) < 0 || (p = slurp(path, size + 1, &n)) == NULL)
		return 0;
	ok = n == size && (uint64_t)st.st_blocks * 512 < size;
	if (ok && runlen > 0)
		ok = memcmp(p + at, run_, runlen) == 0;
	if (ok) {
		memset(p + at, 0, runlen);
		ok = p[0] == 0 && memcmp(p, p + 1, size - 1) == 0;
	}
	free(p);
	return ok;
}

static int
sparse2_is(const char *path)
{
	unsigned char *want = calloc(1, MIB);
	int ok;

	if (want == NULL)
		return 0;
	memcpy(want, run_data, RUN_BYTES);
	memcpy(want + MIB - RUN_BYTES, run_data, RUN_BYTES);
	ok = content_is(path, want, MIB);
	free(want);
	return ok;
}

static void
check_extracted(const char *tool, const char *d, int root_mtime)
{
	char p[512], q[512], name[160];
	struct stat st;

#define P(s) (snprintf(p, sizeof p, "%s/%s", d, s), p)
#define N(s) (snprintf(name, sizeof name, "%s: %s", tool, s), name)
	CHECK(N("root mode"), lstat(d, &st) == 0 && (st.st_mode & 07777) == 0750);
	if (root_mtime)
		CHECK(N("root mtime"), meta_is(d, S_IFDIR, 0750, MTIME, 1));
	CHECK(N("dir meta"), meta_is(P("dir"), S_IFDIR, 0755, MTIME, NSEC));
	CHECK(N("file bytes"), content_is(P("dir/file"), file_data, FILE_BYTES));
	CHECK(N("file meta"), meta_is(P("dir/file"), S_IFREG, 0640, MTIME, NSEC));
	CHECK(N("file owner"), owner_is(P("dir/file")));
	CHECK(N("xattr"), xattr_is(P("dir/file"), "user.test", "value", 5));
	CHECK(N("binary xattr"), xattr_is(P("dir/file"), "user.bin", "a\0b\n", 4));
	snprintf(q, sizeof q, "%s/dir/link", d);
	CHECK(N("hard link"), same_inode(P("dir/file"), q));
	CHECK(N("symlink"), link_is(P("dir/sym"), "file"));
	CHECK(N("fifo"), meta_is(P("fifo"), S_IFIFO, 0600, MTIME, NSEC));
	CHECK(N("non-UTF-8 name"), content_is(P("bad\xffname"), "x", 1));
	CHECK(N("newline name"), content_is(P("new\nline"), "nl", 2));
	CHECK(N("UTF-8 name"), content_is(P("caf\xc3\xa9"), "utf8", 4));
	CHECK(N("200-byte name"), content_is(P(name200), "long", 4));
	CHECK(N("300-byte symlink"), link_is(P("longsym"), target300));
	CHECK(N("sparse"), sparse_is(P("sparse"), SPARSE_BYTES, SPARSE_AT,
	    run_data, RUN_BYTES));
	CHECK(N("sparse meta"), meta_is(P("sparse"), S_IFREG, 0600, MTIME, NSEC));
	CHECK(N("sparse, data in holes"), sparse2_is(P("sparse2")));
	CHECK(N("all hole"), sparse_is(P("allhole"), MIB, 0, NULL, 0));
	CHECK(N("empty file"), content_is(P("empty"), "", 0));
	CHECK(N("no socket"), lstat(P("sock"), &st) < 0 && errno == ENOENT);
#undef P
#undef N
}

/* Only the warning GNU tar gives for the binary name, nothing else. */
static int
quiet(const char *errfile)
{
	return run("! grep -v \"unknown extended header keyword 'hdrcharset'\" %s",
	    errfile) == 0;
}

/* Commands run in DIR_/%s with LC_ALL=%s. */
#define GNU	"cd " DIR_ "/%s && LC_ALL=%s tar --xattrs " \
	    "--xattrs-include='*' --numeric-owner -xpf ../main.tar 2>../err"
#define GNUPIPE	"cd " DIR_ "/%s && cat ../main.tar | " \
	    "LC_ALL=%s tar --xattrs --xattrs-include='*' --numeric-owner " \
	    "-xpf - 2>../err"
#define BSD	"cd " DIR_ "/%s && LC_ALL=%s bsdtar -xpf ../main.tar 2>../err"

static void
test_extract(void)
{
	mkdir(DIR_ "/gnu-c", 0700);
	mkdir(DIR_ "/gnu-utf8", 0700);
	mkdir(DIR_ "/bsd-c", 0700);
	mkdir(DIR_ "/bsd-utf8", 0700);
	CHECK("gnu tar (C locale, pipe) extracts", run(GNUPIPE, "gnu-c", "C") == 0);
	CHECK("gnu tar warns only about hdrcharset", quiet(DIR_ "/err"));
	check_extracted("gnu tar, C", DIR_ "/gnu-c", 1);
	CHECK("gnu tar (C.UTF-8) extracts", run(GNU, "gnu-utf8", "C.UTF-8") == 0);
	check_extracted("gnu tar, C.UTF-8", DIR_ "/gnu-utf8", 1);
	CHECK("bsdtar (C.UTF-8) extracts", run(BSD, "bsd-utf8", "C.UTF-8") == 0);
	CHECK("bsdtar is quiet", run("test ! -s %s", DIR_ "/err") == 0);
	check_extracted("bsdtar, C.UTF-8", DIR_ "/bsd-utf8", 0);
	/* bsdtar in the C locale restores a UTF-8 name byte for byte, but
	 * warns that it cannot convert it and exits 1: its exit is not
	 * checked here. */
	run(BSD, "bsd-c", "C");
	check_extracted("bsdtar, C", DIR_ "/bsd-c", 0);
}

/* Opens path below dir one component at a time (it is over PATH_MAX). */
static int
open_deep(const char *dir, const char *path)
{
	char comp[128];
	const char *s = path, *slash;
	int fd = open(dir, O_RDONLY | O_DIRECTORY), next;

	while (fd >= 0 && (slash = strchr(s, '/')) != NULL) {
		snprintf(comp, sizeof comp, "%.*s", (int)(slash - s), s);
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		s = slash + 1;
	}
	if (fd < 0)
		return -1;
	next = openat(fd, s, O_RDONLY);
	close(fd);
	return next;
}

static void
test_deep_extract(void)
{
	char buf[8];
	int fd;

	/* Devices need privileges, and bsdtar cannot link() to a target
	 * over PATH_MAX: only the deep path itself. */
	mkdir(DIR_ "/bsd-extra", 0700);
	CHECK("bsdtar extracts a 5000-byte path",
	    run("cd " DIR_ "/%s && bsdtar -xpf ../extra.tar '%s*' 2>../err",
	    "bsd-extra", "aaaa") == 0);
	fd = open_deep(DIR_ "/bsd-extra", deep);
	CHECK("5000-byte path content", fd >= 0 && read(fd, buf, sizeof buf) == 4 &&
	    memcmp(buf, "deep", 4) == 0);
	if (fd >= 0)
		close(fd);
	/* GNU tar cannot create paths over PATH_MAX; it must list them. */
	CHECK("gnu tar lists the extra archive",
	    run("tar --quoting-style=literal -tf %s >%s", DIR_ "/extra.tar",
	    DIR_ "/list") == 0);
	CHECK("gnu tar lists the 5000-byte path",
	    run("head -n 1 %s | cmp -s - %s", DIR_ "/list", DIR_ "/deepname") == 0);
}

struct seen {
	char path[5100];
	unsigned type;
	int perm, nsparse;
	int64_t uid, gid, size, mtime, mtime_ns, ctime, ctime_ns;
	unsigned rmaj, rmin;
	char uname[32], gname[32], sym[5100], hard[5100];
};

static void
copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* Reads archive path back with libarchive; *n entries into s. */
static int
read_back(const char *path, struct seen *s, size_t cap, size_t *n)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r = ARCHIVE_FATAL;

	*n = 0;
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 10240) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	while (*n < cap && ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN)) {
		struct seen *x = &s[(*n)++];

		copy(x->path, sizeof x->path, archive_entry_pathname(e));
		copy(x->sym, sizeof x->sym, archive_entry_symlink(e));
		copy(x->hard, sizeof x->hard, archive_entry_hardlink(e));
		copy(x->uname, sizeof x->uname, archive_entry_uname(e));
		copy(x->gname, sizeof x->gname, archive_entry_gname(e));
		x->type = archive_entry_filetype(e);
		x->perm = archive_entry_perm(e);
		x->uid = archive_entry_uid(e);
		x->gid = archive_entry_gid(e);
		x->size = archive_entry_size(e);
		x->mtime = archive_entry_mtime(e);
		x->mtime_ns = archive_entry_mtime_nsec(e);
		x->ctime = archive_entry_ctime(e);
		x->ctime_ns = archive_entry_ctime_nsec(e);
		x->rmaj = archive_entry_rdevmajor(e);
		x->rmin = archive_entry_rdevminor(e);
		x->nsparse = archive_entry_sparse_count(e);
	}
	archive_read_free(a);
	return r == ARCHIVE_EOF ? 0 : -1;
}

static const struct seen *
find(const struct seen *s, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s[i].path, path) == 0)
			return &s[i];
	return NULL;
}

static void
test_read_back(void)
{
	static struct seen s[32];
	const struct seen *x;
	size_t n;

	setlocale(LC_ALL, "C.UTF-8");
	CHECK("libarchive reads main back",
	    read_back(DIR_ "/main.tar", s, 32, &n) == 0);
	CHECK("15 entries, no socket", n == 15 && find(s, n, "sock") == NULL);
	CHECK("root stored as ./", s[0].path[0] == '.' && s[0].path[1] == '/' &&
	    s[0].path[2] == '\0');
	x = find(s, n, "dir/file");
	CHECK("owner, names, times", x != NULL && x->uid == UID && x->gid == GID &&
	    strcmp(x->uname, "nosuchuser") == 0 &&
	    strcmp(x->gname, "nosuchgroup") == 0 && x->mtime == MTIME &&
	    x->mtime_ns == NSEC && x->ctime == MTIME + 1 && x->ctime_ns == 5);
	x = find(s, n, "dir/link");
	CHECK("hard link", x != NULL && strcmp(x->hard, "dir/file") == 0 &&
	    x->size == 0);
	x = find(s, n, "sparse");
	CHECK("sparse entry", x != NULL && x->nsparse > 0 && x->size == SPARSE_BYTES);
	CHECK("non-UTF-8 name", find(s, n, "bad\xffname") != NULL);
	CHECK("libarchive reads extra back",
	    read_back(DIR_ "/extra.tar", s, 32, &n) == 0);
	CHECK("5000-byte path", n == 5 && strcmp(s[0].path, deep) == 0);
	CHECK("hard link to it", strcmp(s[1].hard, deep) == 0);
	CHECK("character device", s[2].type == AE_IFCHR && s[2].rmaj == 1 &&
	    s[2].rmin == 3 && s[2].perm == 0620);
	CHECK("block device", s[3].type == AE_IFBLK && s[3].rmaj == 259 &&
	    s[3].rmin == 70000);
	CHECK("5000-byte symlink target", strcmp(s[4].sym, target5000) == 0);
	setlocale(LC_ALL, "C");
}

static void
test_write(void)
{
	FILE *f;

	CHECK("write main archive (C locale)",
	    write_archive(DIR_ "/main.tar", write_main) == 0);
	setlocale(LC_ALL, "C.UTF-8");
	CHECK("write main archive (C.UTF-8)",
	    write_archive(DIR_ "/main-utf8.tar", write_main) == 0);
	setlocale(LC_ALL, "C");
	CHECK("archive does not depend on the locale",
	    same_file(DIR_ "/main.tar", DIR_ "/main-utf8.tar"));
	CHECK("write extra archive",
	    write_archive(DIR_ "/extra.tar", write_extra) == 0);
	if ((f = fopen(DIR_ "/deepname", "w")) != NULL) {
		fprintf(f, "%s\n", deep);
		fclose(f);
	}
}

/* Misuse by the content, each on a fresh writer to a scratch file. */
static int
misuse(int which)
{
	struct pk_tar_extent map[2] = { { 0, 10 }, { 5, 10 } };
	struct pk_tar *t;
	struct pk_entry e = ent(PK_FT_REG, "f", 0644, 10);
	int fd, r = 0;

	fd = open(DIR_ "/misuse.tar", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pk_tar_new(&t, fd) < 0)
		return 0;
	switch (which) {
	case 0:		/* more than e.size */
		if (pk_tar_entry(t, &e, NULL, 0) == 0)
			r = pk_tar_data(t, "01234567890", 11);
		break;
	case 1:		/* data after the content is complete */
		if (pk_tar_entry(t, &e, NULL, 0) == 0 &&
		    pk_tar_data(t, "0123456789", 10) == 0)
			r = pk_tar_hole(t, 1);
		break;
	case 2:		/* short content, then the next entry */
		if (pk_tar_entry(t, &e, NULL, 0) == 0 &&
		    pk_tar_data(t, "01234", 5) == 0)
			r = pk_tar_entry(t, &e, NULL, 0);
		break;
	case 3:		/* short content, then finish */
		if (pk_tar_entry(t, &e, NULL, 0) == 0 &&
		    pk_tar_data(t, "01234", 5) == 0)
			r = pk_tar_finish(t);
		break;
	case 4:		/* overlapping runs */
		r = pk_tar_entry(t, &e, map, 2);
		break;
	case 5:		/* a run past the end */
		map[1].offset = 15;
		r = pk_tar_entry(t, &e, map + 1, 1);
		break;
	case 6:		/* bytes inside a hole */
		map[0].length = 5;
		if (pk_tar_entry(t, &e, map, 1) == 0)
			r = pk_tar_data(t, "0123456789", 10);
		break;
	case 7:		/* unsafe path */
		e.path.p = (const uint8_t *)"../f";
		e.path.len = 4;
		r = pk_tar_entry(t, &e, NULL, 0);
		break;
	case 8:
		e.size = PK_SIZE_UNKNOWN;
		r = pk_tar_entry(t, &e, NULL, 0);
		break;
	case 9:		/* no file open */
		r = pk_tar_data(t, "x", 1);
		break;
	}
	pk_tar_free(t);
	close(fd);
	return r;
}

static void
test_misuse(void)
{
	static const char *what[] = { "data past the size",
	    "data after the content", "short content, next entry",
	    "short content, finish", "overlapping map", "map past the end",
	    "data inside a hole", "unsafe path", "size unknown",
	    "data without a file" };
	char name[96];
	int i, r;

	for (i = 0; i < 10; i++) {
		pk_err_clear();
		r = misuse(i);
		snprintf(name, sizeof name, "refuses %s", what[i]);
		CHECK(name, r == -EBADMSG && (i == 9 ||
		    strstr(pk_errmsg(r), "f: ") != NULL));
	}
}

/* Writes to a read-only fd fail: an error, then the writer refuses. */
static void
test_write_error(void)
{
	struct pk_tar *t;
	struct pk_entry e = ent(PK_FT_REG, "big", 0644, 2 * MIB);
	int fd = open(DIR_ "/main.tar", O_RDONLY), r = 0;

	if (fd < 0 || pk_tar_new(&t, fd) < 0)
		return;
	if (pk_tar_entry(t, &e, NULL, 0) == 0)
		r = pk_tar_hole(t, 2 * MIB);
	CHECK("write error reported", r == -EBADF &&
	    strstr(pk_errmsg(r), "write") != NULL);
	CHECK("writer unusable after it", pk_tar_hole(t, 1) == -EIO &&
	    pk_tar_finish(t) == -EIO);
	pk_tar_free(t);
	close(fd);
}

enum { S_VALID, S_SHORT, S_LONG, S_REF, S_UNKNOWN_SIZE, S_NO_EOF,
    S_BAD_TYPE, S_TRUNC, S_STRAY, S_KINDS };
#define STREAM_FILE 4510	/* 1000 DATA, 500 CHUNK, 3000 HOLE, 10 DATA */

/* The file "d/f" of a stream, broken as kind says. */
static int
put_stream_file(struct pk_writer *w, int kind)
{
	static const uint8_t id[PK_ID_BYTES] = { 1, 2, 3 };
	struct pk_entry e = ent(PK_FT_REG, "d/f", 0640, STREAM_FILE);
	int r = 0;

	if (kind == S_UNKNOWN_SIZE)
		e.size = PK_SIZE_UNKNOWN;
	r |= unit_write_entry(w, &e);
	r |= pk_writer_put(w, PK_REC_DATA, 0, file_data, 1000);
	r |= pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, file_data + 1000, 500);
	if (kind == S_REF)
		r |= pk_write_ref(w, id, 500);
	r |= pk_write_hole(w, 3000);
	r |= pk_write_error(w, EIO, "d/f", 3, "Input/output error");
	r |= pk_writer_put(w, 0x50, PK_RECF_IGNORABLE, "skip me", 7);
	if (kind != S_SHORT)
		r |= pk_writer_put(w, PK_REC_DATA, 0, file_data + 1500,
		    kind == S_LONG ? 11 : 10);
	if (kind == S_BAD_TYPE)
		r |= pk_writer_put(w, 0x50, 0, "x", 1);
	if (kind != S_NO_EOF && kind != S_TRUNC)
		r |= pk_write_eof(w, STREAM_FILE, 0);
	if (kind == S_STRAY)
		r |= pk_writer_put(w, PK_REC_DATA, 0, "x", 1);
	return r;
}

static int
write_stream(const char *path, int kind)
{
	struct pk_writer *w;
	struct pk_entry e;
	int fd, r = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return -1;
	if (pk_writer_new(&w, fd, NULL) < 0) {
		close(fd);
		return -1;
	}
	e = ent(PK_FT_DIR, "d", 0755, 0);
	r |= unit_write_entry(w, &e);
	r |= put_stream_file(w, kind);
	if (kind != S_TRUNC) {
		e = ent(PK_FT_SOCK, "d/sock", 0755, 0);
		r |= unit_write_entry(w, &e);
		e = ent(PK_FT_SYMLINK, "d/s", 0777, 0);
		unit_set_link(&e, "f");
		r |= unit_write_entry(w, &e);
	}
	r |= pk_writer_end(w);
	pk_writer_free(w);
	close(fd);
	return r;
}

/* pk_tar_stream() from the stream in path to fd; *nerrors as it says. */
static int
stream_to(const char *path, int out, uint64_t *nerrors)
{
	struct pk_reader *r;
	int fd, k;

	*nerrors = 99;
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1000;
	if ((k = pk_reader_new(&r, fd, "stream")) == 0) {
		if ((k = pk_reader_header(r, &(struct pk_stream_header){ 0 })) == 0)
			k = pk_tar_stream(r, out, nerrors);
		pk_reader_free(r);
	}
	close(fd);
	return k;
}

static void
test_stream(void)
{
	unsigned char want[STREAM_FILE];
	uint64_t nerr;
	FILE *tar;
	int k, st;

	memcpy(want, file_data, 1500);
	memset(want + 1500, 0, 3000);
	memcpy(want + 4500, file_data + 1500, 10);
	mkdir(DIR_ "/stream", 0700);
	CHECK("stream: write", write_stream(DIR_ "/valid.pks", S_VALID) == 0);
	tar = popen("cd " DIR_ "/stream && tar --numeric-owner -xpf -", "w");
	if (tar == NULL)
		return;
	k = stream_to(DIR_ "/valid.pks", fileno(tar), &nerr);
	st = pclose(tar);
	CHECK("stream: converts, one socket skipped", k == 1);
	CHECK("stream: ERROR record counted", nerr == 1);
	CHECK("stream: gnu tar extracts it", st == 0);
	CHECK("stream: file content", content_is(DIR_ "/stream/d/f", want,
	    STREAM_FILE));
	CHECK("stream: file meta", meta_is(DIR_ "/stream/d/f", S_IFREG, 0640,
	    MTIME, NSEC));
	CHECK("stream: symlink", link_is(DIR_ "/stream/d/s", "f"));
}

static void
test_bad_streams(void)
{
	static const char *want[S_KINDS] = { NULL, "d/f: content is 4500 bytes",
	    "d/f: content longer than its size", "chunk reference without data",
	    "d/f: size unknown", "d/f: content not ended by EOF",
	    "unknown record type 0x50", "d/f: stream ends inside",
	    "DATA record outside a file's content" };
	char name[96];
	uint64_t nerr;
	int kind, k, out;
	const char *msg;

	out = open(DIR_ "/bad.tar", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (kind = 1; kind < S_KINDS && out >= 0; kind++) {
		snprintf(name, sizeof name, "stream: refuses \"%s\"", want[kind]);
		pk_err_clear();
		if (write_stream(DIR_ "/bad.pks", kind) != 0) {
			CHECK(name, 0);
			continue;
		}
		k = stream_to(DIR_ "/bad.pks", out, &nerr);
		msg = pk_errmsg(k);
		CHECK(name, k == -EBADMSG && strncmp(msg, "stream: record ", 15) == 0 &&
		    strstr(msg, want[kind]) != NULL);
	}
	if (out >= 0)
		close(out);
}

int
main(void)
{
	setlocale(LC_ALL, "C");
	init_data();
	system("rm -rf " DIR_ " && mkdir -p " DIR_);
	test_write();
	test_read_back();
	test_extract();
	test_deep_extract();
	test_misuse();
	test_write_error();
	test_stream();
	test_bad_streams();
	UNIT_END();
}
