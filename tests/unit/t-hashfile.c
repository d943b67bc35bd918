/*
 * t-hashfile: the mmap'd hash file (hashfile.h): inserts with growth,
 * reopening, crashes simulated by children that exit without closing,
 * every header byte corrupted, truncation, files of another kind,
 * repository or generation, a reader that keeps its mapping while a
 * writer grows the file, and a lean table that stays out of memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-hashfile"
#define SLOT	64
#define KEY	32
#define HEADER_END 80	/* magic .. checksum: the part that is checked */

static const char *path = SCRATCH "/hf";
static struct pk_hashfile_params params;

/* Slot i of set seed: random bytes, so the key is uniform and not zero. */
static void
slot_make(uint8_t s[SLOT], unsigned long long seed, size_t i)
{
	unit_fill(s, SLOT, seed * 1000003ull + i);
}

/* How many slots of [from, to) of set seed are found with their bytes. */
static size_t
count_found(const struct pk_hashfile *h, unsigned long long seed, size_t from,
    size_t to)
{
	uint8_t s[SLOT];
	const uint8_t *f;
	size_t i, n = 0;

	for (i = from; i < to; i++) {
		slot_make(s, seed, i);
		f = pk_hashfile_find(h, s);
		n += f != NULL && memcmp(f, s, SLOT) == 0;
	}
	return n;
}

static size_t
count_absent(const struct pk_hashfile *h, unsigned long long seed, size_t n)
{
	uint8_t s[SLOT];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		slot_make(s, seed, i);
		k += pk_hashfile_find(h, s) == NULL;
	}
	return k;
}

static int
insert_range(struct pk_hashfile *h, unsigned long long seed, size_t from,
    size_t to)
{
	uint8_t s[SLOT];
	size_t i;
	int e;

	for (i = from; i < to; i++) {
		slot_make(s, seed, i);
		if ((e = pk_hashfile_insert(h, s)) != 0)
			return e;
	}
	return 0;
}

/* Creates path with n slots of set 1; returns the file's bytes. */
static int
make_file(size_t n, uint8_t **bytes, size_t *len)
{
	struct pk_hashfile *h;
	int e;

	if ((e = pk_hashfile_open(&h, path, &params, PK_HF_CREATE)) < 0)
		return e;
	e = insert_range(h, 1, 0, n);
	if (pk_hashfile_close(h) < 0 || e < 0)
		return -EIO;
	return bytes ? pk_read_file(path, 1u << 30, bytes, len) : 0;
}

/* Opens read-only and returns the verdict, closing on success. */
static int
try_open(const struct pk_hashfile_params *p, int flags)
{
	struct pk_hashfile *h;
	int e = pk_hashfile_open(&h, path, p, flags);

	if (e == 0)
		pk_hashfile_close(h);
	return e;
}

static uint64_t
file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

struct walk {
	const struct pk_hashfile *h;
	size_t n, bad;
};

static int
visit(void *arg, const void *slot)
{
	struct walk *w = arg;

	w->n++;
	w->bad += pk_hashfile_find(w->h, slot) != slot;
	return 0;
}

static int
stop_at_3(void *arg, const void *slot)
{
	return ++*(int *)arg == 3 ? 42 : 0;
}

static void
test_insert(void)
{
	const size_t n = 100000;
	struct pk_hashfile *h;
	uint8_t s[SLOT], t[SLOT], zero[SLOT] = { 0 };
	const uint8_t *f;
	uint64_t cap, count, want;
	struct walk w;
	int e, stop = 0;

	unlink(path);
	CHECK("open: a missing file is ENOENT", try_open(&params, 0) == -ENOENT);
	e = pk_hashfile_open(&h, path, &params, PK_HF_CREATE);
	CHECK("create: opened", e == 0);
	if (e < 0)
		return;
	CHECK("create: empty, capacity 1024", pk_hashfile_count(h) == 0 &&
	    pk_hashfile_capacity(h) == 1024);
	CHECK("insert: 100000 random slots", insert_range(h, 1, 0, n) == 0);
	cap = pk_hashfile_capacity(h);
	CHECK("insert: count is 100000", pk_hashfile_count(h) == n);
	for (want = 1024; want * 3 < n * 4; want = want / 2 * 3)
		;
	CHECK("insert: the file grew by halves from 1024", cap == want);
	CHECK("insert: load at most 3/4, and at least 1/2 (growth by half)",
	    n * 4 <= cap * 3 && n * 2 >= cap);
	CHECK("find: every slot found with its bytes",
	    count_found(h, 1, 0, n) == n);
	CHECK("find: 100000 absent keys not found",
	    count_absent(h, 2, n) == n);
	slot_make(s, 1, 12345);
	memcpy(t, s, SLOT);
	memset(t + KEY, 0xee, SLOT - KEY);
	CHECK("insert: a key already there returns 1", pk_hashfile_insert(h, t) == 1);
	f = pk_hashfile_find(h, s);
	CHECK("insert: ... and leaves the first slot's bytes",
	    f != NULL && memcmp(f, s, SLOT) == 0 && pk_hashfile_count(h) == n);
	memset(zero + KEY, 1, SLOT - KEY);
	CHECK("insert: an all-zero key is EINVAL",
	    pk_hashfile_insert(h, zero) == -EINVAL && pk_hashfile_count(h) == n);
	w = (struct walk){ h, 0, 0 };
	pk_hashfile_foreach(h, visit, &w);
	CHECK("foreach: visits every slot once", w.n == n && w.bad == 0);
	CHECK("foreach: stops at a non-zero return and returns it",
	    pk_hashfile_foreach(h, stop_at_3, &stop) == 42 && stop == 3);
	CHECK("close: 0", pk_hashfile_close(h) == 0);
	CHECK("close: the file is capacity * 64 + 4096 bytes",
	    file_size(path) == cap * SLOT + PK_HASHFILE_HEADER_BYTES);
	CHECK("close: no temporary file left", !unit_exists(SCRATCH "/hf.tmp") &&
	    !unit_exists(SCRATCH "/hf.new"));

	e = pk_hashfile_open(&h, path, &params, 0);
	CHECK("reopen read-only", e == 0);
	if (e < 0)
		return;
	CHECK("reopen: count and capacity kept", pk_hashfile_count(h) == n &&
	    pk_hashfile_capacity(h) == cap);
	CHECK("reopen: every slot found", count_found(h, 1, 0, n) == n);
	CHECK("reopen: absent keys not found", count_absent(h, 2, n) == n);
	slot_make(s, 3, 0);
	CHECK("reopen: insert into a read-only file is refused",
	    pk_hashfile_insert(h, s) < 0 && pk_hashfile_find(h, s) == NULL);
	CHECK("reopen: close", pk_hashfile_close(h) == 0);

	e = pk_hashfile_open(&h, path, &params, PK_HF_WRITE);
	CHECK("reopen for writing", e == 0);
	if (e < 0)
		return;
	CHECK("reopen for writing: insert 1000 more", insert_range(h, 3, 0, 1000) == 0);
	CHECK("reopen for writing: close", pk_hashfile_close(h) == 0);
	e = pk_hashfile_open(&h, path, &params, 0);
	count = e == 0 ? pk_hashfile_count(h) : 0;
	CHECK("reopen: old and new slots found", e == 0 && count == n + 1000 &&
	    count_found(h, 1, 0, n) == n && count_found(h, 3, 0, 1000) == 1000);
	if (e == 0)
		pk_hashfile_close(h);

	/* PK_HF_CREATE starts afresh. */
	e = pk_hashfile_open(&h, path, &params, PK_HF_CREATE);
	if (e == 0) {
		insert_range(h, 4, 0, 10);
		pk_hashfile_close(h);
	}
	e = pk_hashfile_open(&h, path, &params, 0);
	CHECK("create over a file: only the new slots",
	    e == 0 && pk_hashfile_count(h) == 10 && count_found(h, 4, 0, 10) == 10 &&
	    count_found(h, 1, 0, 1000) == 0);
	CHECK("create over a file: 1024 slots again",
	    e == 0 && pk_hashfile_capacity(h) == 1024 &&
	    file_size(path) == 1024 * SLOT + PK_HASHFILE_HEADER_BYTES);
	if (e == 0)
		pk_hashfile_close(h);
}

/* A child opens the file with flags, inserts n slots of set 9 and exits
 * without closing, as a crash would. */
static void
crash_child(int flags, size_t n)
{
	struct pk_hashfile *h;
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (pk_hashfile_open(&h, path, &params, flags) < 0)
			_exit(1);
		insert_range(h, 9, 0, n);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(flags & PK_HF_CREATE ? "crash: the child ran (create)" :
	    n > 1000 ? "crash: the child ran (write, growing)" :
	    "crash: the child ran (write)", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_crash(void)
{
	struct pk_hashfile *h;
	int e;

	make_file(1000, NULL, NULL);
	crash_child(PK_HF_WRITE, 10);
	pk_err_clear();
	e = try_open(&params, 0);
	CHECK("crash while open for writing: read-only open is ESTALE",
	    e == -ESTALE);
	CHECK("crash: the message says torn", strstr(pk_errmsg(e), "torn") != NULL);
	CHECK("crash: open for writing is ESTALE too",
	    try_open(&params, PK_HF_WRITE) == -ESTALE);
	CHECK("crash: PK_HF_CREATE rebuilds it",
	    try_open(&params, PK_HF_CREATE) == 0 && try_open(&params, 0) == 0);

	make_file(1000, NULL, NULL);
	crash_child(PK_HF_WRITE, 5000);
	CHECK("crash after growth (renamed new file): ESTALE",
	    try_open(&params, 0) == -ESTALE);

	make_file(1000, NULL, NULL);
	crash_child(PK_HF_CREATE, 5000);
	e = pk_hashfile_open(&h, path, &params, 0);
	CHECK("crash while recreating: the old file is intact",
	    e == 0 && pk_hashfile_count(h) == 1000 &&
	    count_found(h, 1, 0, 1000) == 1000 && count_found(h, 9, 0, 10) == 0);
	if (e == 0)
		pk_hashfile_close(h);
}

static void
test_corrupt(void)
{
	struct pk_hashfile_params p;
	uint8_t *good = NULL;
	size_t n = 0, i, bad;
	static const size_t cuts[] = { 1, 64, 4096 };
	char name[128];

	if (make_file(2000, &good, &n) < 0) {
		CHECK("corrupt: a file to corrupt", 0);
		return;
	}
	CHECK("corrupt: the untouched copy opens",
	    unit_put_file(path, good, n) == 0 && try_open(&params, 0) == 0);
	for (i = 0, bad = 0; i < HEADER_END; i++) {
		good[i] ^= 0x01;
		unit_put_file(path, good, n);
		good[i] ^= 0x01;
		if (try_open(&params, 0) != -ESTALE) {
			printf("# header byte %zu flipped: not ESTALE\n", i);
			bad++;
		}
	}
	CHECK("corrupt: a flip of any header byte (fields, checksum) is ESTALE",
	    bad == 0);
	for (i = 0; i < sizeof cuts / sizeof *cuts; i++) {
		unit_put_file(path, good, n - cuts[i]);
		snprintf(name, sizeof name, "corrupt: %zu bytes cut off is ESTALE",
		    cuts[i]);
		CHECK(name, try_open(&params, 0) == -ESTALE);
	}
	unit_put_file(path, good, PK_HASHFILE_HEADER_BYTES);
	CHECK("corrupt: the header alone is ESTALE", try_open(&params, 0) == -ESTALE);
	unit_put_file(path, good, 100);
	CHECK("corrupt: 100 bytes is ESTALE", try_open(&params, 0) == -ESTALE);
	unit_put_file(path, good, 0);
	CHECK("corrupt: an empty file is ESTALE", try_open(&params, 0) == -ESTALE);
	unit_put_file(path, good, n);
	truncate(path, (off_t)n + SLOT);
	CHECK("corrupt: one slot more is ESTALE", try_open(&params, 0) == -ESTALE);

	unit_put_file(path, good, n);
	p = params;
	p.repo_id[15] ^= 1;
	CHECK("foreign: another repository is ESTALE", try_open(&p, 0) == -ESTALE);
	p = params;
	p.kind = PK_HF_CHUNKINDEX;
	CHECK("foreign: another kind is ESTALE", try_open(&p, 0) == -ESTALE);
	p = params;
	p.generation++;
	CHECK("foreign: a newer generation is ESTALE", try_open(&p, 0) == -ESTALE);
	p.generation -= 2;
	CHECK("foreign: an older generation is ESTALE", try_open(&p, 0) == -ESTALE);
	p = params;
	p.slot_bytes = 128;
	CHECK("foreign: another slot size is ESTALE", try_open(&p, 0) == -ESTALE);
	p = params;
	p.key_bytes = 16;
	CHECK("foreign: another key size is ESTALE", try_open(&p, 0) == -ESTALE);
	p = params;
	p.generation++;
	CHECK("foreign: ESTALE when opened for writing too",
	    try_open(&p, PK_HF_WRITE) == -ESTALE);
	CHECK("foreign: ... and the file is left as it was",
	    try_open(&params, 0) == 0);

	p = params;
	p.slot_bytes = 60;
	CHECK("params: slot size not a multiple of 8 is EINVAL",
	    try_open(&p, PK_HF_CREATE) == -EINVAL);
	p = params;
	p.key_bytes = 4;
	CHECK("params: key under 8 bytes is EINVAL",
	    try_open(&p, PK_HF_CREATE) == -EINVAL);
	p.key_bytes = 72;
	CHECK("params: key longer than the slot is EINVAL",
	    try_open(&p, PK_HF_CREATE) == -EINVAL);
	p = params;
	p.slot_bytes = 1032;
	CHECK("params: slot over 1024 bytes is EINVAL",
	    try_open(&p, PK_HF_CREATE) == -EINVAL);
	free(good);
}

/* A damaged file with no empty slot: a probe for an absent key must end.
 * Run in a child with a timer, so that a loop fails the test. */
static void
test_full(void)
{
	struct itimerval it = { { 0, 0 }, { 5, 0 } };
	struct pk_hashfile *h;
	uint8_t *good = NULL, s[SLOT];
	size_t n = 0;
	pid_t pid;
	int st;

	if (make_file(10, &good, &n) < 0) {
		CHECK("full: a file to fill", 0);
		return;
	}
	unit_fill(good + PK_HASHFILE_HEADER_BYTES, n - PK_HASHFILE_HEADER_BYTES, 99);
	unit_put_file(path, good, n);
	free(good);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		setitimer(ITIMER_REAL, &it, NULL);
		if (pk_hashfile_open(&h, path, &params, 0) < 0)
			_exit(2);
		slot_make(s, 8, 0);
		_exit(pk_hashfile_find(h, s) == NULL ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	CHECK("full: in a file with no empty slot, an absent key is not found "
	    "and the probe ends", WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_concurrent(void)
{
	struct pk_hashfile *r, *w, *r2;
	uint64_t cap;
	struct itimerval it = { { 0, 0 }, { 0, 300000 } };
	pid_t pid;
	int e, st;

	make_file(5000, NULL, NULL);
	e = pk_hashfile_open(&r, path, &params, 0);
	CHECK("concurrent: reader opened", e == 0);
	if (e < 0)
		return;
	cap = pk_hashfile_capacity(r);
	e = pk_hashfile_open(&w, path, &params, PK_HF_WRITE);
	CHECK("concurrent: writer opened", e == 0);
	if (e < 0) {
		pk_hashfile_close(r);
		return;
	}
	CHECK("concurrent: writer inserts without growing",
	    insert_range(w, 5, 0, 100) == 0 && pk_hashfile_capacity(w) == cap);
	CHECK("concurrent: the reader finds all its keys",
	    count_found(r, 1, 0, 5000) == 5000);
	/* Readers need no lock: a live writer is not a crash. */
	e = pk_hashfile_open(&r2, path, &params, 0);
	CHECK("concurrent: a reader opens while a writer has the file open",
	    e == 0);
	if (e == 0) {
		CHECK("concurrent: ... and finds the keys that were there",
		    count_found(r2, 1, 0, 5000) == 5000);
		pk_hashfile_close(r2);
	}
	CHECK("concurrent: writer grows the file (rename)",
	    insert_range(w, 5, 100, 30000) == 0 && pk_hashfile_capacity(w) > cap);
	CHECK("concurrent: the reader still finds all its keys",
	    count_found(r, 1, 0, 5000) == 5000 && pk_hashfile_count(r) == 5000);

	/* One writer at a time: a second one waits for the lock. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct pk_hashfile *h;

		setitimer(ITIMER_REAL, &it, NULL);
		pk_hashfile_open(&h, path, &params, PK_HF_WRITE);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK("concurrent: a second writer waits for the first",
	    WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM);

	CHECK("concurrent: writer closes", pk_hashfile_close(w) == 0);
	CHECK("concurrent: the old reader is unharmed",
	    count_found(r, 1, 0, 5000) == 5000);
	pk_hashfile_close(r);
	e = pk_hashfile_open(&r2, path, &params, 0);
	CHECK("concurrent: a new reader finds every key", e == 0 &&
	    pk_hashfile_count(r2) == 35000 && count_found(r2, 1, 0, 5000) == 5000 &&
	    count_found(r2, 5, 0, 30000) == 30000);
	if (e == 0)
		pk_hashfile_close(r2);
}

/* The resident memory of this process, in KiB. */
static long
rss_kib(void)
{
	long pages = 0, size;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL || fscanf(f, "%ld %ld", &size, &pages) != 2)
		pages = -1;
	if (f)
		fclose(f);
	return pages < 0 ? -1 : pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A lean table much larger than its budget: every slot inserted and found,
 * in lookups and in order, while the process stays within a few MiB of
 * where it began; and the file reads back whole. */
static void
test_lean(void)
{
	const size_t n = 450000;	/* 27 MiB of slots, more with room */
	struct pk_hashfile *h;
	struct walk w = { 0 };
	long before, after;

	unlink(path);
	CHECK("lean: create",
	    pk_hashfile_open(&h, path, &params, PK_HF_CREATE) == 0);
	pk_hashfile_lean(h);
	before = rss_kib();
	CHECK("lean: 450000 inserts", insert_range(h, 5, 0, n) == 0);
	CHECK("lean: every slot found", count_found(h, 5, 0, n) == n);
	after = rss_kib();
	w.h = h;
	CHECK("lean: a pass in order visits each slot once",
	    pk_hashfile_foreach(h, visit, &w) == 0 && w.n == n && w.bad == 0);
	printf("# lean: the process grew %ld KiB for a table of %llu KiB\n",
	    after - before, (unsigned long long)(pk_hashfile_capacity(h) *
	    SLOT / 1024));
	CHECK("lean: the process grew less than 32 MiB",
	    before > 0 && after - before < 32 * 1024);
	CHECK("lean: close", pk_hashfile_close(h) == 0);
	CHECK("lean: reopen", pk_hashfile_open(&h, path, &params, 0) == 0);
	CHECK("lean: every slot read back", count_found(h, 5, 0, n) == n);
	pk_hashfile_close(h);
	unlink(path);
}

int
main(void)
{
	mkdir("tests/scratch", 0755);
	mkdir(SCRATCH, 0755);
	params.kind = PK_HF_PENDING;
	params.slot_bytes = SLOT;
	params.key_bytes = KEY;
	memcpy(params.repo_id, "0123456789abcdef", 16);
	params.generation = 7;
	test_insert();
	test_crash();
	test_corrupt();
	test_full();
	test_concurrent();
	test_lean();
	UNIT_END();
}
