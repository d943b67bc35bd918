/*
 * t-restore: pk_restore (restore.h) of a stored snapshot of many small
 * files and a large one into a scratch directory, on 4 threads, while
 * another thread reads its counters (progress.h) as a progress line does:
 * they only grow, stay within the snapshot's totals and end on them, and
 * agree with the result; the files hold their bytes.  A subtree counts its
 * own; a stream restores the same.
 */
#include <pthread.h>
#include <sys/stat.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-restore"
#define DIRS	20
#define FILES	50	/* in each directory */
#define BIG	(3u << 20)

/* The bytes of the file dir/f (big: BIG bytes in chunks of 64 KiB). */
static size_t
file_len(unsigned d, unsigned f)
{
	return d == DIRS ? BIG : 100 + (d * FILES + f) % 3000;
}

static void
put_file(struct pk_writer *w, const char *path, size_t len, unsigned seed)
{
	uint8_t *p = malloc(len), id[PK_ID_BYTES];
	size_t off, n;

	unit_fill(p, len, seed);
	unit_put_entry(w, PK_FT_REG, path, len);
	for (off = 0; off < len; off += n) {
		n = len - off < 65536 ? len - off : 65536;
		pk_hash_id(id, p + off, n);
		pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, p + off, n);
	}
	pk_write_eof(w, len, 0);
	free(p);
}

static void
tree(struct pk_buf *s)
{
	struct pk_writer *w = unit_writer(s, &unit_hdr);
	char path[64];
	unsigned d, f;

	unit_put_entry(w, PK_FT_DIR, ".", 0);
	for (d = 0; d < DIRS; d++) {
		snprintf(path, sizeof path, "d%02u", d);
		unit_put_entry(w, PK_FT_DIR, path, 0);
		for (f = 0; f < FILES; f++) {
			snprintf(path, sizeof path, "d%02u/f%03u", d, f);
			put_file(w, path, file_len(d, f), d * FILES + f);
		}
	}
	unit_put_entry(w, PK_FT_DIR, "z", 0);
	put_file(w, "z/big", BIG, 99);
	unit_writer_end(w);
}

struct poll {
	struct pk_progress *live;
	int stop, grew_wrong, over;
	uint64_t polls;
};

static void *
poller(void *arg)
{
	struct poll *p = arg;
	struct pk_progress_now a = { 0 }, b;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		pk_progress_read(p->live, &b);
		if (b.files < a.files || b.bytes < a.bytes)
			p->grew_wrong = 1;
		if (b.files > b.total_files || b.bytes > b.total_bytes)
			p->over = 1;
		a = b;
		p->polls++;
	}
	return NULL;
}

/* Every file of the tree under dir holds its bytes. */
static int
same_files(const char *dir)
{
	char path[256];
	uint8_t *want, *got;
	size_t n, len;
	unsigned d, f;
	int ok = 1;

	for (d = 0; d <= DIRS && ok; d++) {
		for (f = 0; f < (d == DIRS ? 1u : FILES) && ok; f++) {
			len = file_len(d, f);
			if (d == DIRS)
				snprintf(path, sizeof path, "%s/z/big", dir);
			else
				snprintf(path, sizeof path, "%s/d%02u/f%03u", dir,
				    d, f);
			want = malloc(len);
			unit_fill(want, len, d == DIRS ? 99 : d * FILES + f);
			ok = unit_get_file(path, &got, &n) == 0 && n == len &&
			    memcmp(got, want, len) == 0;
			if (ok)
				free(got);
			free(want);
		}
	}
	return ok;
}

static void
test_whole(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap)
{
	struct pk_progress live;
	struct pk_progress_now end;
	struct pk_restore_result res;
	struct pk_restore_options o = { .jobs = 4, .count = &live };
	struct poll p = { .live = &live };
	pthread_t t;
	int e;

	mkdir(SCRATCH "/out", 0755);
	o.dirfd = open(SCRATCH "/out", O_RDONLY | O_DIRECTORY);
	pk_progress_init(&live);
	pk_progress_total(&live, snap->entries, snap->bytes);
	pthread_create(&t, NULL, poller, &p);
	e = pk_restore(r, ix, snap, &o, &res);
	__atomic_store_n(&p.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	close(o.dirfd);
	pk_progress_read(&live, &end);
	CHECK("whole: restored", e == 0 && res.failed == 0);
	CHECK("whole: counts", res.files == DIRS * FILES + 1 &&
	    res.dirs == DIRS + 2);
	CHECK("whole: ends on the snapshot's totals",
	    end.files == snap->entries && end.bytes == snap->bytes);
	CHECK("whole: agrees with the result",
	    end.files == res.files + res.dirs && end.bytes == res.bytes);
	CHECK("whole: polled while it ran", p.polls > 0);
	CHECK("whole: counters only grow", !p.grew_wrong);
	CHECK("whole: never past the totals", !p.over);
	CHECK("whole: the files' bytes", same_files(SCRATCH "/out"));
}

static void
test_subtree(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap)
{
	struct pk_progress live;
	struct pk_progress_now now;
	struct pk_restore_result res;
	struct pk_restore_options o = { .jobs = 2, .count = &live,
	    .path = "d03" };
	int e;

	mkdir(SCRATCH "/sub", 0755);
	o.dirfd = open(SCRATCH "/sub", O_RDONLY | O_DIRECTORY);
	pk_progress_init(&live);
	e = pk_restore(r, ix, snap, &o, &res);
	close(o.dirfd);
	pk_progress_read(&live, &now);
	CHECK("subtree: restored", e == 0 && res.files == FILES && res.dirs == 1);
	CHECK("subtree: its own counts", now.files == FILES + 1 &&
	    now.bytes == res.bytes && res.bytes > 0);
	CHECK("subtree: nothing else", !unit_exists(SCRATCH "/sub/d04") &&
	    unit_exists(SCRATCH "/sub/d03/f049"));
}

static void
test_stream(const struct pk_buf *s)
{
	struct unit_src src = { s->data, s->len };
	struct pk_restore_result res;
	struct pk_restore_options o = { .jobs = 4 };
	struct pk_stream_header h;
	struct pk_reader *rd;
	int e;

	mkdir(SCRATCH "/st", 0755);
	o.dirfd = open(SCRATCH "/st", O_RDONLY | O_DIRECTORY);
	pk_reader_new_source(&rd, unit_source, &src, "stream");
	e = pk_reader_header(rd, &h);
	if (e == 0)
		e = pk_restore_stream(rd, &o, &res);
	pk_reader_free(rd);
	close(o.dirfd);
	CHECK("stream: restored", e == 0 && res.failed == 0 &&
	    res.files == DIRS * FILES + 1);
	CHECK("stream: the files' bytes", same_files(SCRATCH "/st"));
}

int
main(void)
{
	struct pk_store_options so = { .level = 1, .threads = 2 };
	struct pk_buf s = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_index ix;
	struct pk_repo *r;
	int e;

	unit_scratch(SCRATCH);
	r = unit_repo(SCRATCH, "repo", 0, NULL);
	tree(&s);
	e = r ? unit_store(r, &s, &so, &snap) : -1;
	CHECK("a snapshot to restore", e == 0);
	if (e < 0 || pk_index_open(&ix, r) < 0)
		UNIT_END();
	test_whole(r, &ix, &snap);
	test_subtree(r, &ix, &snap);
	test_stream(&s);
	pk_index_close(&ix);
	pk_snapshot_release(&snap);
	pk_repo_close(r);
	pk_buf_release(&s);
	UNIT_END();
}
