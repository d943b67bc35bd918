/*
 * t-walk: the walker, in process: trees are built in a scratch directory,
 * walked into a file, and the stream is read back and compared with the
 * files.  With --dump, reads a stream on stdin and prints one line per
 * record instead, for the shell tests (tests/t0100-walk.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH "tests/scratch/unit-walk"

static int scratch_fd = -1;	/* SCRATCH, whatever the current directory */

/* The dump. */

/* Bytes outside printable ASCII, and '\\', as \xHH. */
static void
put_escaped(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '\\')
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
}

static void
dump_entry(const struct pk_record *rec, struct pk_buf *xb)
{
	struct pk_entry e;
	uint32_t i;

	if (pk_entry_decode(&e, rec->data, rec->len, xb) < 0) {
		printf("BAD entry\n");
		return;
	}
	printf("E %s %04o %u:%u ", pk_ftype_name(e.type), e.mode, e.uid, e.gid);
	put_escaped(e.uname.p, e.uname.len);
	putchar(':');
	put_escaped(e.gname.p, e.gname.len);
	if (e.size == PK_SIZE_UNKNOWN)
		printf(" size=? nlink=%u", e.nlink);
	else
		printf(" size=%llu nlink=%u", (unsigned long long)e.size, e.nlink);
	printf(" ");
	put_escaped(e.path.p, e.path.len);
	if (e.link.len) {
		printf(" -> ");
		put_escaped(e.link.p, e.link.len);
	}
	if (e.type == PK_FT_CHR || e.type == PK_FT_BLK)
		printf(" rdev=%u,%u", e.rdev_major, e.rdev_minor);
	for (i = 0; i < e.nxattrs; i++) {
		printf(" x:");
		put_escaped(e.xattrs[i].name.p, e.xattrs[i].name.len);
		putchar('=');
		put_escaped(e.xattrs[i].value.p, e.xattrs[i].value.len);
	}
	putchar('\n');
}

static void
dump_error(const struct pk_record *rec)
{
	const uint8_t *path, *msg;
	size_t plen, mlen;
	int err;

	if (pk_record_error(rec, &err, &path, &plen, &msg, &mlen) < 0) {
		printf("BAD error\n");
		return;
	}
	printf("R %d ", err);
	put_escaped(path, plen);
	printf(" ");
	fwrite(msg, 1, mlen, stdout);
	putchar('\n');
}

/*
 * E TYPE MODE UID:GID UNAME:GNAME size=N nlink=N PATH [-> LINK] [rdev=M,N]
 *   [x:NAME=VALUE]...
 * D BYTES | H BYTES | F SIZE FLAGS SHA256 | R ERRNO PATH MESSAGE
 * The SHA-256 in F covers the file's content, holes as zeros.
 */
static int
dump(void)
{
	static const uint8_t zeros[4096];
	struct pk_buf xb = PK_BUF_INIT;
	crypto_hash_sha256_state sha;
	struct pk_stream_header h;
	struct pk_reader *r;
	struct pk_record rec;
	uint8_t sum[32];
	uint64_t n, size;
	uint32_t flags;
	int k, i;

	if (sodium_init() < 0 || pk_reader_new(&r, 0, "stdin") < 0)
		return 1;
	if ((k = pk_reader_header(r, &h)) < 0) {
		fprintf(stderr, "t-walk: %s\n", pk_errmsg(k));
		pk_reader_free(r);
		return 1;
	}
	crypto_hash_sha256_init(&sha);
	while ((k = pk_reader_next(r, &rec)) > 0) {
		switch (rec.type) {
		case PK_REC_ENTRY:
			dump_entry(&rec, &xb);
			crypto_hash_sha256_init(&sha);
			break;
		case PK_REC_DATA:
			printf("D %u\n", rec.len);
			crypto_hash_sha256_update(&sha, rec.data, rec.len);
			break;
		case PK_REC_HOLE:
			pk_record_hole(&rec, &n);
			printf("H %llu\n", (unsigned long long)n);
			for (; n > 0; n -= n < sizeof zeros ? n : sizeof zeros)
				crypto_hash_sha256_update(&sha, zeros,
				    n < sizeof zeros ? n : sizeof zeros);
			break;
		case PK_REC_EOF:
			pk_record_eof(&rec, &size, &flags);
			crypto_hash_sha256_final(&sha, sum);
			printf("F %llu %u ", (unsigned long long)size, flags);
			for (i = 0; i < 32; i++)
				printf("%02x", sum[i]);
			putchar('\n');
			break;
		case PK_REC_ERROR:
			dump_error(&rec);
			break;
		default:
			printf("? %u\n", rec.type);
		}
	}
	pk_buf_release(&xb);
	pk_reader_free(r);
	if (k < 0) {
		fprintf(stderr, "t-walk: %s\n", pk_errmsg(k));
		return 1;
	}
	printf("END\n");
	return 0;
}

/* Walking in process. */

struct item {
	uint8_t rtype;		/* PK_REC_ENTRY or PK_REC_ERROR */
	uint8_t type;
	char path[8192];
	char link[256];
	char xattrs[256];	/* "name=value;" */
	uint64_t size;
	uint32_t mode, nlink, rdev_major;
	uint8_t *content;
	size_t clen;
	int ndata, nhole, adjacent_holes, big_data, eof;
	uint64_t eof_size;
	uint32_t eof_flags;
	int err;
};

struct result {
	struct item *v;
	size_t n;
	struct pk_walk_report rep;
	char warnings[4096];
	int stream_ok;
};

static void
on_warn(void *arg, const char *path, const char *msg)
{
	struct result *res = arg;
	size_t len = strlen(res->warnings);

	snprintf(res->warnings + len, sizeof res->warnings - len, "%s: %s\n",
	    path, msg);
}

static void
copy_str(char *dst, size_t cap, const void *p, size_t n)
{
	n = n < cap - 1 ? n : cap - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static struct item *
new_item(struct result *res, uint8_t rtype)
{
	struct item *it;

	res->v = realloc(res->v, (res->n + 1) * sizeof *res->v);
	it = &res->v[res->n++];
	memset(it, 0, sizeof *it);
	it->rtype = rtype;
	return it;
}

static void
add_content(struct item *it, const void *p, size_t n)
{
	it->content = realloc(it->content, it->clen + n + 1);
	if (p)
		memcpy(it->content + it->clen, p, n);
	else
		memset(it->content + it->clen, 0, n);
	it->clen += n;
}

static void
read_entry(struct result *res, const struct pk_record *rec, struct pk_buf *xb)
{
	struct item *it = new_item(res, PK_REC_ENTRY);
	struct pk_entry e;
	size_t i, len;

	if (pk_entry_decode(&e, rec->data, rec->len, xb) < 0) {
		res->stream_ok = 0;
		return;
	}
	it->type = e.type;
	copy_str(it->path, sizeof it->path, e.path.p, e.path.len);
	copy_str(it->link, sizeof it->link, e.link.p, e.link.len);
	it->size = e.size;
	it->mode = e.mode;
	it->nlink = e.nlink;
	it->rdev_major = e.rdev_major;
	for (i = 0; i < e.nxattrs; i++) {
		len = strlen(it->xattrs);
		snprintf(it->xattrs + len, sizeof it->xattrs - len, "%.*s=%.*s;",
		    (int)e.xattrs[i].name.len, (const char *)e.xattrs[i].name.p,
		    (int)e.xattrs[i].value.len, (const char *)e.xattrs[i].value.p);
	}
}

static void
read_content(struct result *res, const struct pk_record *rec, uint8_t *last)
{
	struct item *it = res->n ? &res->v[res->n - 1] : NULL;
	uint64_t n;

	if (it == NULL || it->rtype != PK_REC_ENTRY || it->eof) {
		res->stream_ok = 0;
		return;
	}
	if (rec->type == PK_REC_DATA) {
		it->ndata++;
		it->big_data |= rec->len > PK_DATA_RECORD_BYTES;
		add_content(it, rec->data, rec->len);
	} else if (rec->type == PK_REC_HOLE) {
		pk_record_hole(rec, &n);
		it->nhole++;
		it->adjacent_holes |= *last == PK_REC_HOLE;
		add_content(it, NULL, (size_t)n);
	} else {
		it->eof = 1;
		pk_record_eof(rec, &it->eof_size, &it->eof_flags);
	}
}

static void
read_error(struct result *res, const struct pk_record *rec)
{
	struct item *it = new_item(res, PK_REC_ERROR);
	const uint8_t *path, *msg;
	size_t plen, mlen;

	if (pk_record_error(rec, &it->err, &path, &plen, &msg, &mlen) < 0)
		res->stream_ok = 0;
	else
		copy_str(it->path, sizeof it->path, path, plen);
}

static void
read_stream(struct result *res, int fd)
{
	struct pk_buf xb = PK_BUF_INIT;
	struct pk_stream_header h;
	struct pk_reader *r;
	struct pk_record rec;
	uint8_t last = 0;
	int k;

	res->stream_ok = 1;
	if (pk_reader_new(&r, fd, "stream") < 0 || pk_reader_header(r, &h) < 0) {
		res->stream_ok = 0;
		return;
	}
	while ((k = pk_reader_next(r, &rec)) > 0) {
		if (rec.type == PK_REC_ENTRY)
			read_entry(res, &rec, &xb);
		else if (rec.type == PK_REC_ERROR)
			read_error(res, &rec);
		else
			read_content(res, &rec, &last);
		last = rec.type;
	}
	if (k < 0)
		res->stream_ok = 0;
	pk_buf_release(&xb);
	pk_reader_free(r);
}

static void
result_free(struct result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		free(res->v[i].content);
	free(res->v);
	memset(res, 0, sizeof *res);
}

/* Walks paths ("-" reads fd 0) into a file and reads the stream back. */
static int
walk(struct result *res, const char *const *paths, size_t n,
    struct pk_walk_options *o)
{
	struct pk_walk_options def = { 0 };
	struct pk_writer *w;
	struct pk_walk *wk;
	size_t i;
	int fd, r = 0;

	memset(res, 0, sizeof *res);
	if (o == NULL)
		o = &def;
	if (o->warn == NULL) {
		o->warn = on_warn;
		o->arg = res;
	}
	fd = openat(scratch_fd, "stream", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || pk_writer_new(&w, fd, NULL) < 0 ||
	    pk_walk_new(&wk, w, o) < 0)
		return -1;
	for (i = 0; i < n && r == 0; i++)
		r = strcmp(paths[i], "-") == 0 ? pk_walk_fd(wk, 0, "stdin.dat") :
		    pk_walk_path(wk, paths[i]);
	if (r == 0)
		r = pk_writer_end(w);
	res->rep = *pk_walk_report(wk);
	pk_walk_free(wk);
	pk_writer_free(w);
	lseek(fd, 0, SEEK_SET);
	read_stream(res, fd);
	close(fd);
	return r;
}

static const struct item *
find(const struct result *res, const char *path)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		if (res->v[i].rtype == PK_REC_ENTRY &&
		    strcmp(res->v[i].path, path) == 0)
			return &res->v[i];
	return NULL;
}

static const struct item *
find_error(const struct result *res, const char *path)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		if (res->v[i].rtype == PK_REC_ERROR &&
		    strcmp(res->v[i].path, path) == 0)
			return &res->v[i];
	return NULL;
}

/* Content, holes as zeros, equal to the file's, and a well-formed EOF. */
static int
same_content(const struct item *it, const char *file)
{
	struct stat st;
	uint8_t *p;
	int fd, ok;

	if (it == NULL || stat(file, &st) < 0 || !it->eof ||
	    it->eof_size != (uint64_t)st.st_size || it->clen != it->eof_size ||
	    it->big_data || it->adjacent_holes)
		return 0;
	p = malloc(it->clen + 1);
	fd = open(file, O_RDONLY);
	ok = fd >= 0 && pk_read_full(fd, p, it->clen) == (ssize_t)it->clen &&
	    memcmp(p, it->content, it->clen) == 0;
	close(fd);
	free(p);
	return ok;
}

static void
make_file(const char *path, size_t n, unsigned long long seed)
{
	unsigned char *p = malloc(n + 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	unit_fill(p, n, seed);
	if (fd < 0 || pk_write_all(fd, p, n) < 0)
		printf("# cannot write %s\n", path);
	close(fd);
	free(p);
}

/* Pre-order with sorted children is the order of paths in which '/'
 * sorts before any byte of a name. */
static int
path_cmp(const char *a, const char *b)
{
	unsigned char x, y;

	for (;; a++, b++) {
		x = *a == '/' ? 1 : (unsigned char)*a;
		y = *b == '/' ? 1 : (unsigned char)*b;
		if (x != y || x == 0)
			return x - y;
	}
}

static int
sorted(const struct result *res, size_t n)
{
	size_t i;

	for (i = 1; i < n && i < res->n; i++)
		if (res->v[i].rtype != PK_REC_ENTRY ||
		    res->v[i - 1].rtype != PK_REC_ENTRY ||
		    path_cmp(res->v[i - 1].path, res->v[i].path) >= 0)
			return 0;
	return 1;
}

static void
make_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		printf("# cannot make socket %s\n", path);
	close(s);
}

/* The tests. */

static void
test_stored_paths(void)
{
	static const struct { const char *arg, *want; } cases[] = {
		{ "/etc", "etc" }, { "/etc/", "etc" }, { "./a/./b/", "a/b" },
		{ "/", "." }, { ".", "." }, { "./", "." }, { "//x//y", "x/y" },
		{ "a", "a" }, { "a/", "a" }, { "...", "..." },
	};
	static const char *bad[] = { "", "..", "a/../b", "/x/..", "../" };
	struct pk_buf b = PK_BUF_INIT;
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (pk_walk_stored_path(cases[i].arg, &b) < 0 ||
		    strcmp((char *)b.data, cases[i].want) != 0 ||
		    b.len != strlen(cases[i].want))
			ok = 0;
	CHECK("walk: stored paths follow tar", ok);
	ok = 1;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok &= pk_walk_stored_path(bad[i], &b) == -EINVAL;
	CHECK("walk: empty and '..' paths refused", ok);
	pk_buf_release(&b);
}

static void
test_tree(void)
{
	static const char *order[] = { SCRATCH "/tree", SCRATCH "/tree/A",
	    SCRATCH "/tree/a", SCRATCH "/tree/a\nb", SCRATCH "/tree/b",
	    SCRATCH "/tree/dir", SCRATCH "/tree/dir/empty",
	    SCRATCH "/tree/dir/fifo", SCRATCH "/tree/dir/sock",
	    SCRATCH "/tree/link", SCRATCH "/tree/\xff" };
	const char *args[] = { SCRATCH "/tree", "/dev/null" };
	const struct item *it;
	struct result res;
	size_t i;
	int ok;

	mkdir(SCRATCH "/tree", 0755);
	mkdir(SCRATCH "/tree/dir", 0700);
	make_file(SCRATCH "/tree/a", 3 * PK_DATA_RECORD_BYTES + 5, 1);
	make_file(SCRATCH "/tree/A", 100, 2);
	make_file(SCRATCH "/tree/b", 1, 3);
	make_file(SCRATCH "/tree/a\nb", 10, 4);
	make_file(SCRATCH "/tree/\xff", 10, 5);
	make_file(SCRATCH "/tree/dir/empty", 0, 6);
	mkfifo(SCRATCH "/tree/dir/fifo", 0640);
	make_socket(SCRATCH "/tree/dir/sock");
	symlink("dir/empty", SCRATCH "/tree/link");
	chmod(SCRATCH "/tree/a", 04751);

	CHECK("walk: tree walked", walk(&res, args, 2, NULL) == 0);
	CHECK("walk: stream reads back", res.stream_ok);
	CHECK("walk: one record per file", res.n == 12 && res.rep.files == 12);
	ok = res.n == 12;
	for (i = 0; ok && i < 11; i++)
		ok = strcmp(res.v[i].path, order[i]) == 0;
	CHECK("walk: children sorted bytewise, pre-order", ok &&
	    sorted(&res, 11) && strcmp(res.v[11].path, "dev/null") == 0);
	it = find(&res, SCRATCH "/tree/a");
	CHECK("walk: regular file content", same_content(it, SCRATCH "/tree/a"));
	CHECK("walk: 1 MiB data records", it && it->ndata == 4 && it->nhole == 0);
	CHECK("walk: mode bits kept", it && it->mode == 04751 &&
	    it->type == PK_FT_REG && it->size == 3 * PK_DATA_RECORD_BYTES + 5);
	it = find(&res, SCRATCH "/tree/a\nb");
	CHECK("walk: newline in a name", same_content(it, SCRATCH "/tree/a\nb"));
	it = find(&res, SCRATCH "/tree/\xff");
	CHECK("walk: non-UTF-8 name", same_content(it, SCRATCH "/tree/\xff"));
	it = find(&res, SCRATCH "/tree/dir/empty");
	CHECK("walk: empty file is ENTRY and EOF", it && it->eof &&
	    it->ndata == 0 && it->nhole == 0 && it->eof_size == 0);
	it = find(&res, SCRATCH "/tree/dir");
	CHECK("walk: directory", it && it->type == PK_FT_DIR &&
	    it->mode == 0700 && !it->eof);
	it = find(&res, SCRATCH "/tree/dir/fifo");
	CHECK("walk: fifo, not opened", it && it->type == PK_FT_FIFO &&
	    it->mode == 0640 && !it->eof);
	it = find(&res, SCRATCH "/tree/dir/sock");
	CHECK("walk: socket", it && it->type == PK_FT_SOCK);
	it = find(&res, SCRATCH "/tree/link");
	CHECK("walk: symlink kept, target stored", it &&
	    it->type == PK_FT_SYMLINK && strcmp(it->link, "dir/empty") == 0 &&
	    !it->eof);
	it = find(&res, "dev/null");
	CHECK("walk: character device", it && it->type == PK_FT_CHR &&
	    it->rdev_major == 1 && !it->eof);
	CHECK("walk: no warnings", res.warnings[0] == '\0' &&
	    res.rep.errors == 0 && res.rep.changed == 0);
	result_free(&res);
}

static void
test_dot_and_symlink_arg(void)
{
	const char *dot[] = { "." }, *ln[] = { "link-to-tree" };
	int cwd = open(".", O_RDONLY | O_DIRECTORY);
	struct result res;

	symlink("tree", SCRATCH "/link-to-tree");
	if (chdir(SCRATCH "/tree") < 0)
		return;
	walk(&res, dot, 1, NULL);
	CHECK("walk: '.' stored as '.', children without prefix",
	    res.n > 2 && strcmp(res.v[0].path, ".") == 0 &&
	    strcmp(res.v[1].path, "A") == 0 && find(&res, "dir/fifo"));
	result_free(&res);
	if (chdir("..") < 0)
		return;
	walk(&res, ln, 1, NULL);
	CHECK("walk: symlink argument stored as a symlink", res.n == 1 &&
	    res.v[0].type == PK_FT_SYMLINK && strcmp(res.v[0].link, "tree") == 0);
	result_free(&res);
	if (fchdir(cwd) < 0)
		printf("# fchdir failed\n");
	close(cwd);
}

static void
test_hardlinks(void)
{
	const char *args[] = { SCRATCH "/hl", SCRATCH "/hl2/c" };
	const struct item *it;
	struct result res;

	mkdir(SCRATCH "/hl", 0755);
	mkdir(SCRATCH "/hl2", 0755);
	make_file(SCRATCH "/hl/a", 5000, 7);
	link(SCRATCH "/hl/a", SCRATCH "/hl/b");
	link(SCRATCH "/hl/a", SCRATCH "/hl2/c");
	walk(&res, args, 2, NULL);
	it = find(&res, SCRATCH "/hl/a");
	CHECK("walk: first link has the content", same_content(it, SCRATCH "/hl/a"));
	it = find(&res, SCRATCH "/hl/b");
	CHECK("walk: second link is a hard link entry", it &&
	    it->type == PK_FT_HARDLINK && it->size == 0 && !it->eof &&
	    it->ndata == 0 && strcmp(it->link, SCRATCH "/hl/a") == 0);
	it = find(&res, SCRATCH "/hl2/c");
	CHECK("walk: hard link across arguments", it &&
	    it->type == PK_FT_HARDLINK && it->nlink == 3);
	result_free(&res);
}

static void
test_sparse(void)
{
	const char *args[] = { SCRATCH "/sparse", SCRATCH "/hole-end" };
	const struct item *it;
	struct result res;
	char block[8192];
	int fd;

	memset(block, 'x', sizeof block);
	fd = open(SCRATCH "/sparse", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (ftruncate(fd, 10 << 20) < 0 ||
	    pwrite(fd, block, sizeof block, 4 << 20) != sizeof block ||
	    pwrite(fd, block, sizeof block, (4 << 20) + 65536) != sizeof block)
		printf("# cannot make a sparse file\n");
	close(fd);
	fd = open(SCRATCH "/hole-end", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (pwrite(fd, block, sizeof block, 0) != sizeof block ||
	    ftruncate(fd, 1 << 20) < 0)
		printf("# cannot make a sparse file\n");
	close(fd);
	walk(&res, args, 2, NULL);
	it = find(&res, SCRATCH "/sparse");
	CHECK("walk: sparse file content", same_content(it, SCRATCH "/sparse"));
	CHECK("walk: sparse file has holes, coalesced", it && it->nhole >= 2 &&
	    !it->adjacent_holes && it->ndata >= 1 && it->size == 10 << 20);
	it = find(&res, SCRATCH "/hole-end");
	CHECK("walk: hole at the end", same_content(it, SCRATCH "/hole-end") &&
	    it->nhole == 1 && it->ndata == 1);
	result_free(&res);
}

/* Changes a file from inside the walk, after its first DATA record. */
struct mutate {
	struct result *res;
	const char *file;
	int grow, done;
};

static void
on_progress_mutate(void *arg, const struct pk_walk_report *rep)
{
	struct mutate *m = arg;
	int fd;

	if (m->done || rep->bytes == 0)
		return;
	m->done = 1;
	if (!m->grow) {
		if (truncate(m->file, PK_DATA_RECORD_BYTES + 100) < 0)
			printf("# truncate failed\n");
		return;
	}
	fd = open(m->file, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "more", 4) != 4)
		printf("# append failed\n");
	close(fd);
}

static void
warn_to_mutate(void *arg, const char *path, const char *msg)
{
	on_warn(((struct mutate *)arg)->res, path, msg);
}

static void
test_changed(int grow)
{
	const char *args[] = { SCRATCH "/changing" };
	struct result res;
	struct mutate m = { &res, SCRATCH "/changing", grow, 0 };
	struct pk_walk_options o = { 0 };
	const struct item *it;
	uint64_t size = 3 * PK_DATA_RECORD_BYTES;
	int ok;

	make_file(SCRATCH "/changing", (size_t)size, 8);
	o.progress = on_progress_mutate;
	o.arg = &m;
	o.warn = warn_to_mutate;
	walk(&res, args, 1, &o);
	it = find(&res, SCRATCH "/changing");
	ok = it && it->eof && it->clen == size && it->eof_size == size &&
	    it->size == size && (it->eof_flags & PK_EOF_CHANGED) &&
	    res.rep.changed == 1;
	if (grow) {
		CHECK("walk: grown file: stat size read, EOF changed", ok);
	} else {
		CHECK("walk: shrunk file: padded with a hole, EOF changed",
		    ok && it->nhole == 1 && memcmp(it->content + size - 16,
		    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	}
	result_free(&res);
}

static void
test_xattrs(void)
{
	const char *args[] = { SCRATCH "/x" };
	const struct item *it;
	struct result res;

	mkdir(SCRATCH "/x", 0755);
	make_file(SCRATCH "/x/f", 10, 9);
	symlink("f", SCRATCH "/x/l");
	if (setxattr(SCRATCH "/x/f", "user.b", "2", 1, 0) < 0 ||
	    setxattr(SCRATCH "/x/f", "user.a", "1", 1, 0) < 0 ||
	    setxattr(SCRATCH "/x", "user.d", "dir", 3, 0) < 0) {
		printf("# no user xattrs here: %s\n", strerror(errno));
		return;
	}
	walk(&res, args, 1, NULL);
	it = find(&res, SCRATCH "/x/f");
	CHECK("walk: file xattrs, sorted by name", it &&
	    strstr(it->xattrs, "user.a=1;user.b=2;") != NULL);
	it = find(&res, SCRATCH "/x");
	CHECK("walk: directory xattrs", it && strstr(it->xattrs, "user.d=dir;"));
	result_free(&res);
	if (lsetxattr(SCRATCH "/x/l", "trusted.t", "s", 1, 0) < 0) {
		printf("# cannot set trusted xattrs on a symlink: %s\n",
		    strerror(errno));
		return;
	}
	walk(&res, args, 1, NULL);
	it = find(&res, SCRATCH "/x/l");
	CHECK("walk: symlink xattrs, through /proc/self/fd", it &&
	    strstr(it->xattrs, "trusted.t=s;") != NULL);
	result_free(&res);
}

static int
deep_step(int *fd, const char *name)
{
	int next;

	if (mkdirat(*fd, name, 0755) < 0 ||
	    (next = openat(*fd, name, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	close(*fd);
	*fd = next;
	return 0;
}

/* 150 levels of 40-byte names: a 6000-byte path, and more levels than
 * the walker keeps descriptors for.  Every level also has a file after
 * its subdirectory, so the walker must come back up to each one. */
static void
test_deep(void)
{
	const char *args[] = { SCRATCH "/deep" };
	char name[41];
	struct result res;
	const struct item *it = NULL;
	size_t i, files = 0, maxlen = 0;
	int fd, wfd;

	memset(name, 'n', 40);
	name[40] = '\0';
	mkdir(SCRATCH "/deep", 0755);
	fd = open(SCRATCH "/deep", O_RDONLY | O_DIRECTORY);
	for (i = 0; i < 150; i++) {
		wfd = openat(fd, "z", O_WRONLY | O_CREAT, 0644);
		if (wfd < 0 || write(wfd, "z", 1) != 1 || deep_step(&fd, name) < 0)
			break;
		close(wfd);
	}
	wfd = openat(fd, "bottom", O_WRONLY | O_CREAT, 0644);
	if (wfd < 0 || write(wfd, "bottom", 6) != 6)
		printf("# cannot write the bottom\n");
	close(wfd);
	close(fd);
	walk(&res, args, 1, NULL);
	for (i = 0; i < res.n; i++) {
		if (strlen(res.v[i].path) > maxlen)
			maxlen = strlen(res.v[i].path);
		if (res.v[i].type == PK_FT_REG && res.v[i].clen == 1)
			files++;
		if (strstr(res.v[i].path, "/bottom"))
			it = &res.v[i];
	}
	CHECK("walk: path longer than PATH_MAX", maxlen > 6000 && it &&
	    it->clen == 6 && memcmp(it->content, "bottom", 6) == 0);
	CHECK("walk: deep tree, back up to every level", files == 150 &&
	    res.n == 1 + 150 * 2 + 1 && res.rep.errors == 0 && sorted(&res, res.n));
	result_free(&res);
}

static void
test_excludes(void)
{
	static const char *pats[] = { "*.o", "skipdir", "*/ex/keep/sub*" };
	const char *args[] = { SCRATCH "/ex", SCRATCH "/ex2.o" };
	struct pk_walk_options o = { 0 };
	struct result res;

	mkdir(SCRATCH "/ex", 0755);
	mkdir(SCRATCH "/ex/skipdir", 0755);
	mkdir(SCRATCH "/ex/keep", 0755);
	make_file(SCRATCH "/ex/skipdir/f", 1, 1);
	make_file(SCRATCH "/ex/keep/a.o", 1, 1);
	make_file(SCRATCH "/ex/keep/a.c", 1, 1);
	make_file(SCRATCH "/ex/keep/sub1", 1, 1);
	make_file(SCRATCH "/ex2.o", 1, 1);
	o.excludes = pats;
	o.nexcludes = 3;
	walk(&res, args, 2, &o);
	CHECK("walk: excludes by base name and by path", res.n == 3 &&
	    find(&res, SCRATCH "/ex/keep/a.c") &&
	    !find(&res, SCRATCH "/ex/skipdir") &&
	    !find(&res, SCRATCH "/ex/keep/sub1"));
	result_free(&res);
}

/* A file removed between readdir and lstat: an ERROR, and the walk goes
 * on.  The progress callback after the directory's ENTRY removes it. */
static void
unlink_on_first(void *arg, const struct pk_walk_report *rep)
{
	if (rep->files == 1)
		unlink(SCRATCH "/van/b");
}

static void
test_vanished(void)
{
	const char *args[] = { SCRATCH "/van", SCRATCH "/nope" };
	struct pk_walk_options o = { 0 };
	const struct item *it;
	struct result res;

	mkdir(SCRATCH "/van", 0755);
	make_file(SCRATCH "/van/a", 1, 1);
	make_file(SCRATCH "/van/b", 1, 1);
	make_file(SCRATCH "/van/c", 1, 1);
	o.progress = unlink_on_first;
	CHECK("walk: vanished file is not fatal", walk(&res, args, 2, &o) == 0);
	it = find_error(&res, SCRATCH "/van/b");
	CHECK("walk: vanished file: ERROR record, no ENTRY", it &&
	    it->err == ENOENT && !find(&res, SCRATCH "/van/b") &&
	    find(&res, SCRATCH "/van/c") && res.rep.errors == 1);
	CHECK("walk: vanished file warned", strstr(res.warnings,
	    SCRATCH "/van/b: No such file or directory\n") != NULL);
	it = find_error(&res, SCRATCH "/nope");
	CHECK("walk: missing argument: ERROR record, counted", it &&
	    it->err == ENOENT && res.rep.missing == 1 && res.stream_ok);
	result_free(&res);
}

static void
test_stdin(void)
{
	const char *args[] = { "-" };
	const struct item *it;
	struct result res;
	int fd, saved = dup(0);

	make_file(SCRATCH "/input", 2 * PK_DATA_RECORD_BYTES + 7, 10);
	fd = open(SCRATCH "/input", O_RDONLY);
	dup2(fd, 0);
	close(fd);
	walk(&res, args, 1, NULL);
	dup2(saved, 0);
	close(saved);
	it = find(&res, "stdin.dat");
	CHECK("walk: stdin: size unknown in ENTRY, known in EOF", it &&
	    it->size == PK_SIZE_UNKNOWN && it->mode == 0600 &&
	    it->eof_flags == 0 && it->ndata == 3);
	CHECK("walk: stdin: content", same_content(it, SCRATCH "/input"));
	result_free(&res);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dump") == 0)
		return dump();
	if (system("rm -rf " SCRATCH " && mkdir -p " SCRATCH) != 0)
		return 1;
	if ((scratch_fd = open(SCRATCH, O_RDONLY | O_DIRECTORY)) < 0)
		return 1;
	test_stored_paths();
	test_tree();
	test_dot_and_symlink_arg();
	test_hardlinks();
	test_sparse();
	test_changed(0);
	test_changed(1);
	test_xattrs();
	test_deep();
	test_excludes();
	test_vanished();
	test_stdin();
	close(scratch_fd);
	UNIT_END();
}
