/*
 * t-pack: a repository in process (repo.h, pack.h, index.h, snapshot.h):
 * plaintext and encrypted repositories are created in the scratch
 * directory; blobs are sealed, packed, listed and read back; index deltas
 * are written, merged and rebuilt from; snapshots are written, listed and
 * selected; and every file is corrupted to see it refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-pack"
#define MAXBLOBS 16

static const char pass[] = "open sesame";

/* Files. */

/* Reads a scratch file; a test that cannot stops here. */
static int
get_file(const char *path, uint8_t **p, size_t *n)
{
	int e = pk_read_file(path, 1u << 30, p, n);

	if (e < 0) {
		printf("not ok - read %s: %s\n", path, pk_errmsg(e));
		exit(1);
	}
	return 0;
}

static int
flip_file(const char *path, size_t off, uint8_t mask)
{
	uint8_t *p;
	size_t n;
	int e;

	if ((e = get_file(path, &p, &n)) < 0)
		return e;
	if (off < n)
		p[off] ^= mask;
	e = unit_put_file(path, p, n);
	free(p);
	return e;
}

/* Repositories. */

static struct pk_repo *
open_repo(const char *name, int encrypted)
{
	struct pk_repo *r;
	char path[256];

	snprintf(path, sizeof path, SCRATCH "/%s", name);
	if (pk_repo_open(&r, path, encrypted ? pass : NULL,
	    encrypted ? strlen(pass) : 0) < 0)
		return NULL;
	return r;
}

static void
test_repo(void)
{
	const struct pk_repo_params plain = { .chunk_min = 2048, .chunk_avg = 8192,
	    .chunk_max = 65536, .encrypted = 0 };
	const struct pk_repo_params enc = { .chunk_min = PK_CHUNK_MIN_DEFAULT,
	    .chunk_avg = PK_CHUNK_AVG_DEFAULT, .chunk_max = PK_CHUNK_MAX_DEFAULT,
	    .encrypted = 1 };
	struct pk_repo_params p;
	struct pk_repo *r;
	uint8_t zero[PK_REPO_ID_BYTES] = { 0 }, *cfg;
	size_t n;
	int e;

	CHECK("repo: init plaintext", pk_repo_init(SCRATCH "/plain", &plain,
	    NULL, 0) == 0);
	CHECK("repo: init encrypted", pk_repo_init(SCRATCH "/enc", &enc, pass,
	    strlen(pass)) == 0);
	CHECK("repo: init over a repository is EEXIST",
	    pk_repo_init(SCRATCH "/plain", &plain, NULL, 0) == -EEXIST);
	mkdir(SCRATCH "/empty", 0700);
	CHECK("repo: init in an empty directory",
	    pk_repo_init(SCRATCH "/empty", &plain, NULL, 0) == 0);
	CHECK("repo: the layout", unit_count_files(SCRATCH "/enc/packs") == 0 &&
	    unit_count_files(SCRATCH "/enc/index") == 0 &&
	    unit_count_files(SCRATCH "/enc/snapshots") == 0 &&
	    unit_count_files(SCRATCH "/enc/tmp") == 0);
	CHECK("repo: read the parameters without a passphrase",
	    pk_repo_read_params(SCRATCH "/enc", &p) == 0 && p.encrypted == 1 &&
	    p.chunk_min == enc.chunk_min && p.chunk_avg == enc.chunk_avg &&
	    p.chunk_max == enc.chunk_max);
	CHECK("repo: plaintext parameters", pk_repo_read_params(SCRATCH "/plain",
	    &p) == 0 && p.encrypted == 0 && p.chunk_min == 2048 &&
	    p.chunk_avg == 8192 && p.chunk_max == 65536);

	e = pk_repo_open(&r, SCRATCH "/enc", "open sesamE", 11);
	CHECK("repo: open with a wrong passphrase is EACCES", e == -EACCES &&
	    r == NULL);
	e = pk_repo_open(&r, SCRATCH "/enc", NULL, 0);
	CHECK("repo: open without a passphrase is EACCES", e == -EACCES);
	e = pk_repo_open(&r, SCRATCH "/enc", pass, strlen(pass));
	CHECK("repo: open with the passphrase", e == 0 && r->keys.encrypted == 1 &&
	    memcmp(r->id, zero, sizeof zero) != 0 && r->params.encrypted == 1);
	pk_repo_close(r);
	e = pk_repo_open(&r, SCRATCH "/plain", "ignored", 7);
	CHECK("repo: a plaintext repository ignores the passphrase",
	    e == 0 && r->keys.encrypted == 0);
	pk_repo_close(r);
	CHECK("repo: no repository is ENOENT",
	    pk_repo_open(&r, SCRATCH "/none", NULL, 0) == -ENOENT);

	/* Configs: another version, damage. */
	pk_repo_init(SCRATCH "/cfg", &plain, NULL, 0);
	get_file(SCRATCH "/cfg/config", &cfg, &n);
	cfg[14] = '3';
	unit_put_file(SCRATCH "/cfg/config", cfg, n);
	CHECK("repo: config of version 3 is EPROTO",
	    pk_repo_open(&r, SCRATCH "/cfg", NULL, 0) == -EPROTO);
	cfg[14] = '2';
	unit_put_file(SCRATCH "/cfg/config", cfg, n - 1);
	CHECK("repo: a config cut short is EBADMSG",
	    pk_repo_open(&r, SCRATCH "/cfg", NULL, 0) == -EBADMSG);
	unit_put_file(SCRATCH "/cfg/config", cfg, n);
	CHECK("repo: the restored config opens",
	    pk_repo_open(&r, SCRATCH "/cfg", NULL, 0) == 0);
	pk_repo_close(r);
	free(cfg);
}

/* Blobs and packs. */

struct blobs {
	size_t n;
	uint8_t *data[MAXBLOBS];
	size_t len[MAXBLOBS];
	uint8_t sid[MAXBLOBS][32];
	struct pk_blobloc loc[MAXBLOBS];
	uint8_t pack[PK_PACK_ID_BYTES];
};

static void
fill_text(uint8_t *p, size_t n, unsigned long long seed)
{
	static const char *words[] = { "alpha ", "beta ", "gamma ", "delta\n" };
	size_t i, k;

	for (i = 0; i < n; i += k) {
		const char *w = words[unit_rand(&seed) % 4];

		k = strlen(w) < n - i ? strlen(w) : n - i;
		memcpy(p + i, w, k);
	}
}

static void
blobs_add(struct blobs *b, const struct pk_repo *r, size_t len, int kind,
    unsigned long long seed)
{
	uint8_t id[32];
	size_t i = b->n++;

	b->data[i] = malloc(len);
	b->len[i] = len;
	if (kind == 0)
		fill_text(b->data[i], len, seed);
	else if (kind == 1)
		unit_fill(b->data[i], len, seed);
	else
		memset(b->data[i], 0, len);
	pk_hash_id(id, b->data[i], len);
	pk_storage_id(&r->keys, b->sid[i], id);
}

static void
blobs_free(struct blobs *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->data[i]);
	b->n = 0;
}

/* Seals and packs every blob; returns the first error. */
static int
blobs_pack(struct blobs *b, struct pk_repo *r, int level, size_t *boxlen)
{
	struct pk_pack_writer w;
	struct pk_sealer s;
	struct pk_buf box = PK_BUF_INIT;
	size_t i;
	int e;

	if ((e = pk_sealer_init(&s, level)) < 0)
		return e;
	if ((e = pk_pack_begin(&w, r)) < 0)
		goto out;
	for (i = 0; i < b->n && e == 0; i++) {
		e = pk_blob_seal(&s, &r->keys, b->sid[i], b->data[i], b->len[i], &box);
		if (e == 0)
			e = pk_pack_append(&w, b->sid[i], box.data, box.len,
			    (uint32_t)b->len[i], &b->loc[i]);
		if (boxlen)
			boxlen[i] = box.len;
		if (e == 0 && pk_pack_full(&w))
			e = -EFBIG;
	}
	memcpy(b->pack, w.id, sizeof b->pack);
	if (e == 0)
		e = pk_pack_finish(&w);
	else
		pk_pack_abort(&w);
out:
	pk_sealer_release(&s);
	pk_buf_release(&box);
	return e;
}

/* How many blobs read back equal to their bytes. */
static size_t
blobs_read(struct blobs *b, struct pk_blob_reader *br, int reverse)
{
	struct pk_buf out = PK_BUF_INIT;
	size_t i, j, ok = 0;

	for (j = 0; j < b->n; j++) {
		i = reverse ? b->n - 1 - j : j;
		ok += pk_blob_read(br, &b->loc[i], &out) == 0 &&
		    out.len == b->len[i] && !memcmp(out.data, b->data[i], out.len);
	}
	pk_buf_release(&out);
	return ok;
}

struct listing {
	size_t n;
	struct pk_blobloc loc[70000];
};

static struct listing *
listing_new(void)
{
	struct listing *l = malloc(sizeof *l);

	l->n = 0;
	return l;
}

static int
collect(void *arg, const struct pk_blobloc *loc)
{
	struct listing *l = arg;

	if (l->n == sizeof l->loc / sizeof *l->loc)
		return -ENOSPC;
	l->loc[l->n++] = *loc;
	return 0;
}

/* Every blob of b in the listing, and nothing else. */
static int
listing_matches(const struct listing *l, const struct blobs *b)
{
	size_t i, j, found = 0;

	for (i = 0; i < b->n; i++)
		for (j = 0; j < l->n; j++)
			found += unit_loc_eq(&l->loc[j], &b->loc[i]);
	return l->n == b->n && found == b->n;
}

static int
pack_list(struct pk_blob_reader *br, const uint8_t *id, struct listing *l)
{
	l->n = 0;
	return pk_pack_list(br, id, collect, l);
}

static void
pack_path(const struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES],
    char *path, size_t n)
{
	char rel[128];

	pk_pack_relpath(rel, sizeof rel, id);
	pk_repo_path(r, path, n, rel);
}

/* Boxes of every size around the pack writer's buffering (small ones
 * gathered, large ones written straight), in every order: each reads back
 * from the offset it was given. */
static void
test_pack_sizes(struct pk_repo *r, const char *mode)
{
	static const size_t sizes[] = { 100, PK_PACK_WRITE_BYTES / 2 + 10, 5,
	    PK_PACK_WRITE_BYTES / 2 - 40, 300000, PK_PACK_WRITE_BYTES,
	    PK_PACK_WRITE_BYTES - 30, 1, 3 * PK_PACK_WRITE_BYTES, 700000,
	    400000, 20 };
	struct blobs b = { 0 };
	struct pk_blob_reader br;
	char name[160];
	size_t i, n = sizeof sizes / sizeof sizes[0];
	int e;

	for (i = 0; i < n; i++)
		blobs_add(&b, r, sizes[i], 1, 900 + i);	/* incompressible */
	e = blobs_pack(&b, r, 3, NULL);
	pk_blob_reader_init(&br, r);
	snprintf(name, sizeof name, "%s pack: small and large boxes mixed, "
	    "every one reads back", mode);
	CHECK(name, e == 0 && blobs_read(&b, &br, 0) == n &&
	    blobs_read(&b, &br, 1) == n);
	pk_blob_reader_release(&br);
	blobs_free(&b);
}

static void
test_packs(struct pk_repo *r, const char *mode)
{
	struct blobs b = { 0 }, t = { 0 };
	struct pk_blob_reader br;
	struct pk_buf out = PK_BUF_INIT;
	struct listing *l = listing_new();
	struct pk_blobloc loc;
	static const size_t cuts[] = { 1, 16, 17, 1000 };
	size_t boxlen[MAXBLOBS], i, n, bad, nres;
	uint8_t *file = NULL, *p;
	char path[4096], tmpdir[4096], name[160];
	int e, enc = r->keys.encrypted;

	blobs_add(&b, r, 100000, 0, 1);		/* compressible */
	blobs_add(&b, r, 100000, 1, 2);		/* random */
	blobs_add(&b, r, 1, 1, 3);
	blobs_add(&b, r, 65536, 1, 4);
	blobs_add(&b, r, 65536, 2, 5);		/* zeros */
	e = blobs_pack(&b, r, 3, boxlen);
	snprintf(name, sizeof name, "%s pack: five blobs sealed, packed, "
	    "finished", mode);
	CHECK(name, e == 0);
	snprintf(name, sizeof name, "%s pack: compressible blobs are stored "
	    "smaller, random ones with only the box overhead", mode);
	CHECK(name, boxlen[0] < b.len[0] / 4 && boxlen[4] < 1000 &&
	    boxlen[1] == b.len[1] + 1 + pk_box_overhead(&r->keys) &&
	    boxlen[2] == 2 + pk_box_overhead(&r->keys));
	pack_path(r, b.pack, path, sizeof path);
	pk_repo_path(r, tmpdir, sizeof tmpdir, "tmp");
	snprintf(name, sizeof name, "%s pack: in packs/XX/ID, nothing left in "
	    "tmp/", mode);
	CHECK(name, access(path, F_OK) == 0 && unit_count_files(tmpdir) == 0);

	pk_blob_reader_init(&br, r);
	snprintf(name, sizeof name, "%s pack: every blob reads back", mode);
	CHECK(name, blobs_read(&b, &br, 0) == b.n);
	snprintf(name, sizeof name, "%s pack: every blob reads back, in reverse",
	    mode);
	CHECK(name, blobs_read(&b, &br, 1) == b.n);
	e = pack_list(&br, b.pack, l);
	snprintf(name, sizeof name, "%s pack: pk_pack_list lists every blob "
	    "where it was appended", mode);
	CHECK(name, e == 0 && listing_matches(l, &b));

	get_file(path, &file, &n);
	if (enc) {
		for (i = 0, bad = 0; i < b.n; i++)
			bad += memmem(file, n, b.sid[i], 32) != NULL;
		for (i = 0; i + 32 <= b.len[1]; i += 997)
			bad += memmem(file, n, b.data[1] + i, 32) != NULL;
		CHECK("encrypted pack: holds neither the plaintext nor the "
		    "storage ids", bad == 0);
	}

	/* Blobs are bound to their storage ids. */
	loc = b.loc[1];
	memcpy(loc.sid, b.sid[3], 32);
	snprintf(name, sizeof name, "%s blob: read under another storage id is "
	    "EBADMSG", mode);
	CHECK(name, pk_blob_read(&br, &loc, &out) == -EBADMSG);
	loc = b.loc[1];
	loc.raw--;
	snprintf(name, sizeof name, "%s blob: a wrong raw length is EBADMSG "
	    "(stored)", mode);
	CHECK(name, pk_blob_read(&br, &loc, &out) == -EBADMSG);
	loc = b.loc[0];
	loc.raw++;
	snprintf(name, sizeof name, "%s blob: a wrong raw length is EBADMSG "
	    "(compressed)", mode);
	CHECK(name, pk_blob_read(&br, &loc, &out) == -EBADMSG);
	loc = b.loc[1];
	loc.length -= 1;
	snprintf(name, sizeof name, "%s blob: a short box is EBADMSG", mode);
	CHECK(name, pk_blob_read(&br, &loc, &out) == -EBADMSG);
	loc = b.loc[2];
	loc.offset = (uint32_t)n;
	snprintf(name, sizeof name, "%s blob: a box past the end of the pack is "
	    "EBADMSG", mode);
	CHECK(name, pk_blob_read(&br, &loc, &out) == -EBADMSG);
	loc = b.loc[2];
	loc.pack[0] ^= 1;
	snprintf(name, sizeof name, "%s blob: a missing pack is ENOENT", mode);
	CHECK(name, pk_blob_read(&br, &loc, &out) == -ENOENT);

	/* One byte of one blob flipped: that blob fails, the others read. */
	flip_file(path, b.loc[1].offset + b.loc[1].length / 2, 0x20);
	snprintf(name, sizeof name, "%s blob: a flipped byte inside it is EBADMSG",
	    mode);
	CHECK(name, pk_blob_read(&br, &b.loc[1], &out) == -EBADMSG);
	for (i = 0, nres = 0; i < b.n; i++)
		nres += pk_blob_read(&br, &b.loc[i], &out) == 0;
	snprintf(name, sizeof name, "%s blob: ... and the other blobs still read",
	    mode);
	CHECK(name, nres == b.n - 1);
	unit_put_file(path, file, n);

	/* The trailer and the footer. */
	p = malloc(n);
	memcpy(p, file, n);
	p[n - 16 - 10] ^= 1;
	unit_put_file(path, p, n);
	snprintf(name, sizeof name, "%s pack: a flipped trailer byte fails the "
	    "listing", mode);
	CHECK(name, pack_list(&br, b.pack, l) == -EBADMSG);
	memcpy(p, file, n);
	p[n - 16] ^= 1;
	unit_put_file(path, p, n);
	snprintf(name, sizeof name, "%s pack: a wrong trailer length fails the "
	    "listing", mode);
	CHECK(name, pack_list(&br, b.pack, l) == -EBADMSG);
	memcpy(p, file, n);
	p[n - 1] ^= 1;
	unit_put_file(path, p, n);
	snprintf(name, sizeof name, "%s pack: a damaged footer fails the listing",
	    mode);
	CHECK(name, pack_list(&br, b.pack, l) == -EBADMSG);
	memcpy(p, file, n);
	p[8] = 2;
	unit_put_file(path, p, n);
	snprintf(name, sizeof name, "%s pack: version 2 is EPROTO", mode);
	CHECK(name, pack_list(&br, b.pack, l) == -EPROTO);
	for (i = 0, bad = 0; i < sizeof cuts / sizeof *cuts; i++) {
		unit_put_file(path, file, n - cuts[i]);
		bad += pack_list(&br, b.pack, l) != -EBADMSG;
	}
	unit_put_file(path, file, 10);
	bad += pack_list(&br, b.pack, l) != -EBADMSG;
	unit_put_file(path, file, 0);
	bad += pack_list(&br, b.pack, l) != -EBADMSG;
	snprintf(name, sizeof name, "%s pack: truncated packs fail the listing",
	    mode);
	CHECK(name, bad == 0);
	unit_put_file(path, file, n);
	snprintf(name, sizeof name, "%s pack: the restored pack lists", mode);
	CHECK(name, pack_list(&br, b.pack, l) == 0 && listing_matches(l, &b));
	free(p);
	free(file);

	/* A tiny pack, every byte flipped: something must notice. */
	blobs_add(&t, r, 10, 1, 6);
	blobs_add(&t, r, 10, 0, 7);
	blobs_pack(&t, r, 0, NULL);
	pack_path(r, t.pack, path, sizeof path);
	get_file(path, &file, &n);
	for (i = 0, bad = 0; i < n; i++) {
		if (i >= 12 && i < 16)
			continue;	/* reserved: checked below */
		file[i] ^= 0x04;
		unit_put_file(path, file, n);
		file[i] ^= 0x04;
		if (pack_list(&br, t.pack, l) == 0 && blobs_read(&t, &br, 0) == t.n) {
			printf("# %s pack: flip of byte %zu of %zu unnoticed\n",
			    mode, i, n);
			bad++;
		}
	}
	snprintf(name, sizeof name, "%s pack: a flip of any byte fails the "
	    "listing or a blob", mode);
	CHECK(name, bad == 0);
	for (i = 12, bad = 0; i < 16; i++) {
		file[i] ^= 0x04;
		unit_put_file(path, file, n);
		file[i] ^= 0x04;
		bad += pack_list(&br, t.pack, l) == 0;
	}
	snprintf(name, sizeof name, "%s pack: non-zero reserved header bytes "
	    "12-15 are refused", mode);
	CHECK(name, bad == 0);
	unit_put_file(path, file, n);
	free(file);

	pk_blob_reader_release(&br);
	pk_buf_release(&out);
	blobs_free(&b);
	blobs_free(&t);
	free(l);
}

/* Index deltas and the chunk index. */

static int
read_delta(struct pk_repo *r, const char *name, struct listing *l)
{
	l->n = 0;
	return pk_index_read_delta(r, name, collect, l);
}

static int
pending_open(struct pk_repo *r, const char *tag, struct pk_hashfile **h)
{
	struct pk_hashfile_params p;
	char path[256];

	pk_index_params(r, PK_HF_PENDING, &p);
	snprintf(path, sizeof path, SCRATCH "/pending-%s", tag);
	return pk_hashfile_open(h, path, &p, PK_HF_CREATE);
}

static void
pending_add(struct pk_hashfile *h, const struct blobs *b)
{
	uint8_t slot[PK_INDEX_SLOT_BYTES];
	size_t i;

	for (i = 0; i < b->n; i++) {
		pk_index_slot_encode(slot, &b->loc[i]);
		pk_hashfile_insert(h, slot);
	}
}

/* Packs fresh blobs, writes them as an index delta; merges it into the
 * chunk index when merge is set. */
static int
batch(struct pk_repo *r, struct blobs *b, unsigned long long seed, int merge,
    char name[PK_DELTA_NAME_BYTES])
{
	struct pk_hashfile *h;
	int e;

	blobs_add(b, r, 5000, 1, seed);
	blobs_add(b, r, 7000, 0, seed + 1);
	blobs_add(b, r, 300, 1, seed + 2);
	if ((e = blobs_pack(b, r, 3, NULL)) < 0 ||
	    (e = pending_open(r, "batch", &h)) < 0)
		return e;
	pending_add(h, b);
	e = pk_index_write_delta(r, h, name);
	if (e == 0 && merge)
		e = pk_index_merge(r, h, name);
	pk_hashfile_close(h);
	return e;
}

/* How many blobs of the sets the chunk index finds where they are. */
static size_t
index_finds(const struct pk_index *ix, struct blobs *sets, size_t nsets)
{
	struct pk_blobloc loc;
	size_t i, j, n = 0;

	for (i = 0; i < nsets; i++)
		for (j = 0; j < sets[i].n; j++)
			n += pk_index_find(ix, sets[i].sid[j], &loc) == 1 &&
			    unit_loc_eq(&loc, &sets[i].loc[j]);
	return n;
}

static int
add_name(void *arg, const char *name)
{
	++*(int *)arg;
	return 0;
}

/* A child opens the chunk index for writing, as pk_index_merge does, and
 * keeps it open for a second; returns once it is open. */
static int
hold_chunkindex(struct pk_repo *r)
{
	struct pk_hashfile_params p;
	struct pk_hashfile *h;
	char path[4096], c = 0;
	int fds[2];
	pid_t pid;

	pk_index_params(r, PK_HF_CHUNKINDEX, &p);
	pk_repo_path(r, path, sizeof path, "chunkindex");
	if (pipe(fds) < 0)
		return -errno;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (pk_hashfile_open(&h, path, &p, PK_HF_WRITE) < 0)
			_exit(1);
		(void)write(fds[1], "x", 1);
		sleep(1);
		pk_hashfile_close(h);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &c, 1) != 1) {
		close(fds[0]);
		return -EIO;
	}
	close(fds[0]);
	return 0;
}

static void
test_index(struct pk_repo *r, const char *mode)
{
	struct blobs sets[4];
	struct pk_index ix;
	struct pk_hashfile *h;
	struct listing *l = listing_new();
	char d[4][PK_DELTA_NAME_BYTES], path[4096], ci[4096], name[160];
	uint8_t sid[32] = { 1 }, *p;
	struct pk_blobloc loc;
	size_t all, n;
	int e, nd = 0;

	memset(sets, 0, sizeof sets);
	pk_repo_path(r, ci, sizeof ci, "chunkindex");
	e = batch(r, &sets[0], 100, 0, d[0]);
	snprintf(name, sizeof name, "%s index: a delta written", mode);
	CHECK(name, e == 0 && strlen(d[0]) == 2 * PK_DELTA_ID_BYTES);
	e = read_delta(r, d[0], l);
	snprintf(name, sizeof name, "%s index: the delta reads back every blob",
	    mode);
	CHECK(name, e == 0 && listing_matches(l, &sets[0]));

	e = pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: first open builds the chunk index "
	    "from the delta", mode);
	CHECK(name, e == 0 && ix.merged == 1 && access(ci, F_OK) == 0);
	snprintf(name, sizeof name, "%s index: finds every blob", mode);
	CHECK(name, e == 0 && index_finds(&ix, sets, 1) == sets[0].n);
	snprintf(name, sizeof name, "%s index: an unknown storage id is not found",
	    mode);
	CHECK(name, e == 0 && pk_index_find(&ix, sid, &loc) == 0);
	if (e == 0)
		pk_index_close(&ix);
	e = pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: reopened, nothing to merge or "
	    "rebuild", mode);
	CHECK(name, e == 0 && ix.merged == 0 && !ix.rebuilt &&
	    index_finds(&ix, sets, 1) == sets[0].n);
	if (e == 0)
		pk_index_close(&ix);

	/* A delta merged by its writer, one left for the next open. */
	e = batch(r, &sets[1], 200, 1, d[1]);
	e |= batch(r, &sets[2], 300, 0, d[2]);
	all = sets[0].n + sets[1].n + sets[2].n;
	e |= pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: a merged delta is not merged again, "
	    "an unmerged one is", mode);
	CHECK(name, e == 0 && ix.merged == 1 && !ix.rebuilt);
	snprintf(name, sizeof name, "%s index: finds the blobs of all three deltas",
	    mode);
	CHECK(name, e == 0 && index_finds(&ix, sets, 3) == all);
	if (e == 0)
		pk_index_close(&ix);
	pk_index_list(r, add_name, &nd);
	snprintf(name, sizeof name, "%s index: pk_index_list lists three deltas",
	    mode);
	CHECK(name, nd == 3);

	/* An empty pending set writes no delta. */
	pending_open(r, "empty", &h);
	e = pk_index_write_delta(r, h, d[3]);
	pk_hashfile_close(h);
	nd = 0;
	pk_index_list(r, add_name, &nd);
	snprintf(name, sizeof name, "%s index: no delta for no blobs", mode);
	CHECK(name, e == 0 && d[3][0] == '\0' && nd == 3);

	/* Lost, damaged or foreign chunk indexes are rebuilt. */
	unlink(ci);
	e = pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: a deleted chunk index is rebuilt "
	    "and finds every blob", mode);
	CHECK(name, e == 0 && ix.merged == 3 && index_finds(&ix, sets, 3) == all);
	if (e == 0)
		pk_index_close(&ix);
	flip_file(ci, 30, 0x01);
	e = pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: a corrupt header is rebuilt, and "
	    "says why", mode);
	CHECK(name, e == 0 && ix.rebuilt && ix.why[0] != '\0' &&
	    ix.merged == 3 && index_finds(&ix, sets, 3) == all);
	if (e == 0)
		pk_index_close(&ix);
	get_file(ci, &p, &n);
	unit_put_file(ci, p, n - 64);
	e = pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: a truncated chunk index is rebuilt",
	    mode);
	CHECK(name, e == 0 && ix.rebuilt && index_finds(&ix, sets, 3) == all);
	if (e == 0)
		pk_index_close(&ix);
	free(p);

	/* A damaged delta: an error, never a chunk index short of blobs. */
	snprintf(path, sizeof path, "%s/index/%s", r->path, d[1]);
	get_file(path, &p, &n);
	flip_file(path, n - 5, 0x01);
	snprintf(name, sizeof name, "%s index: a flipped delta byte is EBADMSG",
	    mode);
	CHECK(name, read_delta(r, d[1], l) == -EBADMSG);
	unlink(ci);
	e = pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: a rebuild over a damaged delta "
	    "fails", mode);
	CHECK(name, e == -EBADMSG);
	if (e == 0)
		pk_index_close(&ix);
	unit_put_file(path, p, n);
	free(p);
	e = pk_index_open(&ix, r);
	snprintf(name, sizeof name, "%s index: repaired, it finds every blob", mode);
	CHECK(name, e == 0 && index_finds(&ix, sets, 3) == all);
	if (e == 0)
		pk_index_close(&ix);

	/* Opening while another process merges into the chunk index. */
	e = hold_chunkindex(r);
	if (e == 0)
		e = pk_index_open(&ix, r);
	wait(NULL);
	snprintf(name, sizeof name, "%s index: opened while a writer holds the "
	    "chunk index, without a rebuild", mode);
	CHECK(name, e == 0 && !ix.rebuilt && index_finds(&ix, sets, 3) == all);
	if (e == 0)
		pk_index_close(&ix);

	blobs_free(&sets[0]);
	blobs_free(&sets[1]);
	blobs_free(&sets[2]);
	free(l);
}

/* A delta of more than one frame: truncated at a frame boundary, renamed. */
static void
test_frames(struct pk_repo *r)
{
	struct listing *l = listing_new();
	struct pk_hashfile *h;
	struct pk_blobloc loc;
	uint8_t slot[PK_INDEX_SLOT_BYTES], *p, *q;
	const uint8_t *f;
	char d[PK_DELTA_NAME_BYTES], path[4096], other[4096];
	unsigned long long seed = 77;
	size_t i, n, bad, cut;
	int e;

	pending_open(r, "frames", &h);
	for (i = 0; i < 70000; i++) {
		memset(&loc, 0, sizeof loc);
		unit_fill(loc.sid, 32, seed + i);
		unit_fill(loc.pack, 16, seed);
		loc.offset = (uint32_t)(16 + i);
		loc.length = 100;
		loc.raw = (uint32_t)i;
		pk_index_slot_encode(slot, &loc);
		pk_hashfile_insert(h, slot);
	}
	e = pk_index_write_delta(r, h, d);
	CHECK("delta: 70000 blobs written (two frames)", e == 0);
	e = read_delta(r, d, l);
	for (i = 0, bad = 0; i < l->n; i++) {
		pk_index_slot_encode(slot, &l->loc[i]);
		f = pk_hashfile_find(h, slot);
		bad += f == NULL || memcmp(f, slot, sizeof slot) != 0;
	}
	CHECK("delta: all 70000 read back as written", e == 0 && l->n == 70000 &&
	    bad == 0);
	pk_hashfile_close(h);

	snprintf(path, sizeof path, "%s/index/%s", r->path, d);
	get_file(path, &p, &n);
	cut = 16 + 4 + pk_load_u32(p + 16);	/* end of the first frame */
	unit_put_file(path, p, cut);
	CHECK("delta: cut after its first frame is EBADMSG",
	    read_delta(r, d, l) == -EBADMSG);
	unit_put_file(path, p, n - 1);
	CHECK("delta: cut by one byte is EBADMSG",
	    read_delta(r, d, l) == -EBADMSG);
	unit_put_file(path, p, 16);
	CHECK("delta: its header alone is EBADMSG",
	    read_delta(r, d, l) == -EBADMSG);
	q = malloc(n + cut - 16);
	memcpy(q, p, n);
	memcpy(q + n, p + 16, cut - 16);
	unit_put_file(path, q, n + cut - 16);
	CHECK("delta: a frame appended again is EBADMSG",
	    read_delta(r, d, l) == -EBADMSG);
	free(q);
	p[8] = 2;
	unit_put_file(path, p, n);
	CHECK("delta: version 2 is EPROTO, as for packs and snapshots",
	    read_delta(r, d, l) == -EPROTO);
	p[8] = 1;
	p[12] = 1;
	unit_put_file(path, p, n);
	CHECK("delta: non-zero reserved header bytes 12-15 are refused",
	    read_delta(r, d, l) < 0);
	p[12] = 0;
	unit_put_file(path, p, n);
	memcpy(other, path, sizeof other);
	other[strlen(other) - 1] = other[strlen(other) - 1] == '0' ? '1' : '0';
	rename(path, other);
	CHECK("delta: renamed to another id, it does not authenticate",
	    read_delta(r, strrchr(other, '/') + 1, l) == -EBADMSG);
	unlink(other);
	free(p);
	free(l);
}

/* Snapshots. */

/* The snapshot contents as pk-repo(5) lays them out, to compute ids. */
static void
snap_encode(const struct pk_snapshot *s, int version, struct pk_buf *b)
{
	uint32_t i;

	pk_buf_add_u64(b, (uint64_t)s->start_sec);
	pk_buf_add_u32(b, s->start_nsec);
	pk_buf_add_u64(b, (uint64_t)s->end_sec);
	pk_buf_add_u32(b, s->end_nsec);
	pk_buf_add_str(b, s->host, strlen(s->host));
	pk_buf_add_str(b, s->user, strlen(s->user));
	pk_buf_add_u32(b, s->npaths);
	for (i = 0; i < s->npaths; i++)
		pk_buf_add_str(b, s->paths[i], strlen(s->paths[i]));
	pk_buf_add_u32(b, s->ntags);
	for (i = 0; i < s->ntags; i++)
		pk_buf_add_str(b, s->tags[i], strlen(s->tags[i]));
	pk_buf_add_u64(b, s->entries);
	pk_buf_add_u64(b, s->files);
	pk_buf_add_u64(b, s->dirs);
	pk_buf_add_u64(b, s->bytes);
	pk_buf_add_u64(b, s->stored);
	pk_buf_add_u64(b, s->chunks);
	pk_buf_add_u64(b, s->new_chunks);
	pk_buf_add_u64(b, s->errors);
	pk_buf_add_u32(b, s->chunk_min);
	pk_buf_add_u32(b, s->chunk_avg);
	pk_buf_add_u32(b, s->chunk_max);
	pk_buf_add_u64(b, s->catalog_bytes);
	pk_buf_add_u32(b, s->ncatalog);
	for (i = 0; i < s->ncatalog; i++) {
		const struct pk_catalog_chunk *cc = &s->catalog[i];

		pk_buf_add(b, cc->id, PK_ID_BYTES);
		pk_buf_add_u32(b, cc->len);
		if (version == 1)
			continue;
		pk_buf_add_u32(b, cc->entry);
		if (cc->entry == PK_CATALOG_NO_ENTRY)
			continue;
		pk_buf_add_u64(b, cc->recno);
		pk_buf_add_str(b, s->keys.data + cc->key, cc->lolen);
		pk_buf_add_str(b, s->keys.data + cc->key + cc->lolen, cc->hilen);
	}
}

/* Writes s as a version 1 file, without the seek table, as a writer of
 * version 1 did; its name in hex. */
static void
snap_write_v1(struct pk_repo *r, const struct pk_snapshot *s,
    char hex[PK_SNAPSHOT_NAME_BYTES])
{
	struct pk_buf plain = PK_BUF_INIT, file = PK_BUF_INIT;
	uint8_t id[32], ad[44];
	char path[4096];
	size_t boxlen;

	snap_encode(s, 1, &plain);
	pk_mac(&r->keys, id, plain.data, plain.len);
	memcpy(ad, "pk snapshot", 12);
	memcpy(ad + 12, id, 32);
	boxlen = plain.len + pk_box_overhead(&r->keys);
	pk_buf_add(&file, "PKSNAP\0\0", 8);
	pk_buf_add_u32(&file, 1);
	pk_buf_add_u32(&file, 0);
	pk_buf_reserve(&file, boxlen);
	pk_box_seal(&r->keys, file.data + file.len, plain.data, plain.len, ad,
	    sizeof ad);
	file.len += boxlen;
	pk_hex(hex, id, 32);
	snprintf(path, sizeof path, "%s/snapshots/%s", r->path, hex);
	unit_put_file(path, file.data, file.len);
	pk_buf_release(&plain);
	pk_buf_release(&file);
}

static void
snap_id(const struct pk_repo *r, const struct pk_snapshot *s, uint8_t id[32])
{
	struct pk_buf b = PK_BUF_INIT;

	snap_encode(s, 2, &b);
	pk_mac(&r->keys, id, b.data, b.len);
	pk_buf_release(&b);
}

static void
snap_make(struct pk_snapshot *s, int64_t start, unsigned long long seed)
{
	uint32_t i;

	memset(s, 0, sizeof *s);
	s->start_sec = start;
	s->start_nsec = 999999999;
	s->end_sec = start + 60;
	s->end_nsec = 1;
	s->host = strdup("web1.example.org");
	s->user = strdup("root");
	pk_snapshot_add_path(s, "/etc", 4);
	pk_snapshot_add_path(s, "/var/www/x y\n\xff", 14);
	pk_snapshot_add_tag(s, "daily");
	pk_snapshot_add_tag(s, "");
	s->entries = 1000 + seed;
	s->files = 800;
	s->dirs = 150;
	s->bytes = 1ull << 40;
	s->stored = 12345678;
	s->chunks = 4000;
	s->new_chunks = 17;
	s->errors = 2;
	s->chunk_min = 2048;
	s->chunk_avg = 8192;
	s->chunk_max = 65536;
	s->catalog_bytes = 300000;
	s->ncatalog = 3;
	s->catalog = calloc(3, sizeof *s->catalog);
	for (i = 0; i < 3; i++) {
		unit_fill(s->catalog[i].id, PK_ID_BYTES, seed * 10 + i);
		s->catalog[i].len = 100000 + i;
	}
	/* The seek table: entries start in the first and last chunk. */
	memset(&s->keys, 0, sizeof s->keys);
	s->catalog[0].entry = 32;
	s->catalog[0].recno = 0;
	s->catalog[0].lolen = 3;
	s->catalog[0].hilen = 9;
	pk_buf_add(&s->keys, "etcetc/hosts", 12);
	s->catalog[1].entry = PK_CATALOG_NO_ENTRY;
	s->catalog[2].entry = 99999;
	s->catalog[2].recno = 700 + seed;
	s->catalog[2].key = 12;
	s->catalog[2].lolen = 8;
	s->catalog[2].hilen = 8;
	pk_buf_add(&s->keys, "var/www/var/www/", 16);
}

/* The seek tables compared only when both snapshots have one. */
static int
snap_eq(const struct pk_snapshot *a, const struct pk_snapshot *b)
{
	return unit_snap_eq(a, b, 0);
}

/*
 * A catalog whose seek table would pass the 64 MiB of a snapshot file (568
 * bytes a chunk with 256-byte keys): the snapshot goes as version 1,
 * without the table, and reads back whole.
 */
static void
snap_huge(struct pk_repo *r, const char *mode)
{
	struct pk_snapshot s, got;
	char hex[PK_SNAPSHOT_NAME_BYTES], path[4096], name[200];
	uint8_t *file = NULL;
	size_t n = 0;
	uint32_t i;
	int e;

	snap_make(&s, 1500000000, 9);
	free(s.catalog);
	s.ncatalog = 120000;
	s.catalog = calloc(s.ncatalog, sizeof *s.catalog);
	pk_buf_reset(&s.keys);
	for (i = 0; i < 2 * PK_CATALOG_KEY_MAX; i++)
		pk_buf_add_u8(&s.keys, 'k');
	for (i = 0; i < s.ncatalog; i++) {
		unit_fill(s.catalog[i].id, PK_ID_BYTES, i);
		s.catalog[i].len = 65536;
		s.catalog[i].recno = i;
		s.catalog[i].lolen = s.catalog[i].hilen = PK_CATALOG_KEY_MAX;
	}
	e = pk_snapshot_write(r, &s);
	pk_hex(hex, s.id, 32);
	snprintf(path, sizeof path, "%s/snapshots/%s", r->path, hex);
	if (e == 0)
		get_file(path, &file, &n);
	snprintf(name, sizeof name, "%s snapshot: a seek table too large for "
	    "the file: written as version 1", mode);
	CHECK(name, e == 0 && n > 12 && n < (8u << 20) && pk_load_u32(file + 8) == 1);
	e = pk_snapshot_read(r, hex, &got);
	snprintf(name, sizeof name, "%s snapshot: ... and read back whole", mode);
	CHECK(name, e == 0 && !got.seekable && got.ncatalog == s.ncatalog &&
	    !memcmp(got.catalog[119999].id, s.catalog[119999].id, PK_ID_BYTES));
	if (e == 0)
		pk_snapshot_release(&got);
	free(file);
	unlink(path);
	pk_snapshot_release(&s);
}

static void
test_snapshots(struct pk_repo *r, const char *mode)
{
	struct pk_snapshot s[4], got, empty, *list = NULL;
	uint8_t id[32], *file, *p;
	char hex[4][PK_SNAPSHOT_NAME_BYTES], path[4096], other[4096], name[200];
	char sel[PK_SNAPSHOT_NAME_BYTES];
	size_t n, i, j, len, bad, proto, nbad;
	char *long_str;
	int64_t t;
	int e, k;

	e = pk_snapshot_select(r, "latest", NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: latest of none is ENOENT", mode);
	CHECK(name, e == -ENOENT);

	/* Written out of time order: the list sorts them. */
	pk_repo_path(r, path, sizeof path, "snapshots");
	snap_make(&s[0], 1700000000, 1);
	snap_make(&s[1], 1800000000, 2);
	snap_make(&s[2], 1600000000, 3);
	for (i = 0, bad = 0; i < 3; i++) {
		bad += pk_snapshot_write(r, &s[i]) != 0;
		pk_hex(hex[i], s[i].id, 32);
	}
	snprintf(name, sizeof name, "%s snapshot: three written", mode);
	CHECK(name, bad == 0 && unit_count_files(path) == 3);
	snap_id(r, &s[0], id);
	snprintf(name, sizeof name, "%s snapshot: the id is the keyed hash of the "
	    "contents", mode);
	CHECK(name, !memcmp(id, s[0].id, 32));
	e = pk_snapshot_read(r, hex[0], &got);
	snprintf(name, sizeof name, "%s snapshot: read back, every field equal",
	    mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[0]) && got.seekable);
	if (e == 0)
		pk_snapshot_release(&got);

	/* Version 1, without the seek table, is still read. */
	snap_write_v1(r, &s[0], sel);
	e = pk_snapshot_read(r, sel, &got);
	snprintf(name, sizeof name, "%s snapshot: version 1 read, without a seek "
	    "table", mode);
	CHECK(name, e == 0 && !got.seekable && got.ncatalog == 3 &&
	    got.entries == s[0].entries &&
	    !memcmp(got.catalog[2].id, s[0].catalog[2].id, PK_ID_BYTES) &&
	    got.catalog[2].len == s[0].catalog[2].len &&
	    got.catalog[0].entry == PK_CATALOG_NO_ENTRY &&
	    got.catalog[2].entry == PK_CATALOG_NO_ENTRY);
	if (e == 0)
		pk_snapshot_release(&got);
	snprintf(other, sizeof other, "%s/snapshots/%s", r->path, sel);
	unlink(other);
	snap_huge(r, mode);

	e = pk_snapshot_list(r, &list, &n, NULL);
	snprintf(name, sizeof name, "%s snapshot: the list holds the three, oldest "
	    "first", mode);
	CHECK(name, e == 0 && n == 3 && snap_eq(&list[0], &s[2]) &&
	    snap_eq(&list[1], &s[0]) && snap_eq(&list[2], &s[1]));
	pk_snapshot_list_free(list, n);

	e = pk_snapshot_select(r, "latest", NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: latest is the newest start", mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[1]));
	pk_snapshot_release(&got);
	e = pk_snapshot_select(r, hex[2], NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: select by the whole id", mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[2]));
	pk_snapshot_release(&got);

	/* A fourth whose id shares its first four hex digits with another. */
	snap_make(&s[3], 0, 4);
	for (t = 1, k = -1; k < 0 && t < 10000000; t++) {
		s[3].start_sec = t;
		snap_id(r, &s[3], id);
		for (i = 0; i < 3; i++)
			if (!memcmp(id, s[i].id, 2))
				k = (int)i;
	}
	pk_snapshot_write(r, &s[3]);
	pk_hex(hex[3], s[3].id, 32);
	for (len = 4; len < 64 && !strncmp(hex[3], hex[k], len); len++)
		;
	snprintf(sel, sizeof sel, "%.4s", hex[3]);
	e = pk_snapshot_select(r, sel, NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: an ambiguous prefix is EINVAL",
	    mode);
	CHECK(name, k >= 0 && e == -EINVAL);
	if (e == 0)
		pk_snapshot_release(&got);
	snprintf(sel, sizeof sel, "%.*s", (int)len, hex[3]);
	e = pk_snapshot_select(r, sel, NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: a longer prefix selects one",
	    mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[3]));
	pk_snapshot_release(&got);
	for (i = 0; i < 4; i++) {
		for (j = 0, bad = 0; j < 4; j++)
			bad += j != i && !strncmp(hex[i], hex[j], 8);
		if (bad == 0)
			break;
	}
	snprintf(sel, sizeof sel, "%.8s", hex[i]);
	e = pk_snapshot_select(r, sel, NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: a unique prefix of 8 selects it",
	    mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[i]));
	pk_snapshot_release(&got);
	for (j = 0, bad = 1; j < 65536 && bad; j++) {
		snprintf(sel, sizeof sel, "%04zx", j);
		for (i = 0, bad = 0; i < 4; i++)
			bad += !strncmp(hex[i], sel, 4);
	}
	e = pk_snapshot_select(r, sel, NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: an unknown prefix is ENOENT",
	    mode);
	CHECK(name, bad == 0 && e == -ENOENT);
	snprintf(name, sizeof name, "%s snapshot: a 3-digit prefix, a non-hex one, "
	    "upper case are EINVAL", mode);
	CHECK(name, pk_snapshot_select(r, "abc", NULL, &got) == -EINVAL &&
	    pk_snapshot_select(r, "latesT", NULL, &got) == -EINVAL &&
	    pk_snapshot_select(r, "ABCD", NULL, &got) == -EINVAL);
	snprintf(name, sizeof name, "%s snapshot: a missing one is ENOENT, a bad "
	    "name EINVAL", mode);
	CHECK(name, pk_snapshot_read(r, "0000000000000000000000000000000000000000"
	    "000000000000000000000000", &got) == -ENOENT &&
	    pk_snapshot_read(r, "../config", &got) == -EINVAL);

	/* Every byte of a snapshot file flipped. */
	snprintf(path, sizeof path, "%s/snapshots/%s", r->path, hex[0]);
	get_file(path, &file, &n);
	for (i = 0, bad = proto = 0; i < n; i++) {
		if (i >= 12 && i < 16)
			continue;	/* reserved: checked below */
		file[i] ^= 0x40;
		unit_put_file(path, file, n);
		file[i] ^= 0x40;
		e = pk_snapshot_read(r, hex[0], &got);
		if (e == 0)
			pk_snapshot_release(&got);
		if (i >= 8 && i < 12)
			proto += e == -EPROTO;
		else if (e != -EBADMSG) {
			printf("# %s snapshot: flip of byte %zu: %d\n", mode, i, e);
			bad++;
		}
	}
	snprintf(name, sizeof name, "%s snapshot: a flip of any byte is EBADMSG "
	    "(EPROTO in the version)", mode);
	CHECK(name, bad == 0 && proto == 4);
	for (i = 12, bad = 0; i < 16; i++) {
		file[i] ^= 0x40;
		unit_put_file(path, file, n);
		file[i] ^= 0x40;
		e = pk_snapshot_read(r, hex[0], &got);
		if (e == 0)
			pk_snapshot_release(&got);
		bad += e == 0;
	}
	snprintf(name, sizeof name, "%s snapshot: non-zero reserved header bytes "
	    "12-15 are refused", mode);
	CHECK(name, bad == 0);
	for (i = 0, bad = 0; i < n; i += 7) {
		unit_put_file(path, file, i);
		bad += pk_snapshot_read(r, hex[0], &got) != -EBADMSG;
	}
	snprintf(name, sizeof name, "%s snapshot: truncated files are EBADMSG",
	    mode);
	CHECK(name, bad == 0);
	unit_put_file(path, file, n);

	/* Renamed to another id. */
	memcpy(other, path, sizeof other);
	p = (uint8_t *)other + strlen(other) - 1;
	*p = *p == '0' ? '1' : '0';
	unit_put_file(other, file, n);
	e = pk_snapshot_read(r, strrchr(other, '/') + 1, &got);
	snprintf(name, sizeof name, "%s snapshot: a copy under another id does not "
	    "authenticate", mode);
	CHECK(name, e == -EBADMSG);
	if (e == 0)
		pk_snapshot_release(&got);
	e = pk_snapshot_list(r, &list, &n, &nbad);
	snprintf(name, sizeof name, "%s snapshot: the list goes past a damaged "
	    "file and counts it", mode);
	CHECK(name, e == 0 && n == 4 && nbad == 1);
	if (e == 0)
		pk_snapshot_list_free(list, n);
	e = pk_snapshot_select(r, "latest", NULL, &got);
	snprintf(name, sizeof name, "%s snapshot: latest still selects past a "
	    "damaged file", mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[1]));
	if (e == 0)
		pk_snapshot_release(&got);
	unlink(other);
	free(file);

	/* The limit of paths; a snapshot with few fields set. */
	memset(&empty, 0, sizeof empty);
	for (i = 0, bad = 0; i < PK_SNAPSHOT_MAX_PATHS + 2; i++)
		bad += pk_snapshot_add_path(&empty, "p", 1) != 0;
	snprintf(name, sizeof name, "%s snapshot: paths stop at "
	    "PK_SNAPSHOT_MAX_PATHS", mode);
	CHECK(name, bad == 0 && empty.npaths == PK_SNAPSHOT_MAX_PATHS);
	pk_snapshot_release(&empty);
	memset(&empty, 0, sizeof empty);
	long_str = malloc(PK_SNAPSHOT_MAX_STRING + 2);
	memset(long_str, 'x', PK_SNAPSHOT_MAX_STRING + 1);
	long_str[PK_SNAPSHOT_MAX_STRING + 1] = '\0';
	e = pk_snapshot_add_path(&empty, long_str, PK_SNAPSHOT_MAX_STRING + 1);
	snprintf(name, sizeof name, "%s snapshot: a long path is cut to "
	    "PK_SNAPSHOT_MAX_STRING", mode);
	CHECK(name, e == 0 && empty.npaths == 1 &&
	    strlen(empty.paths[0]) == PK_SNAPSHOT_MAX_STRING);
	snprintf(name, sizeof name, "%s snapshot: a tag over PK_SNAPSHOT_MAX_STRING "
	    "is EINVAL", mode);
	CHECK(name, pk_snapshot_add_tag(&empty, long_str) == -EINVAL &&
	    empty.ntags == 0);
	long_str[PK_SNAPSHOT_MAX_STRING] = '\0';
	snprintf(name, sizeof name, "%s snapshot: a tag of PK_SNAPSHOT_MAX_STRING "
	    "is accepted", mode);
	CHECK(name, pk_snapshot_add_tag(&empty, long_str) == 0 && empty.ntags == 1);
	long_str[PK_SNAPSHOT_MAX_STRING] = 'x';
	empty.host = long_str;
	snprintf(name, sizeof name, "%s snapshot: a host name over "
	    "PK_SNAPSHOT_MAX_STRING is not written", mode);
	CHECK(name, pk_snapshot_write(r, &empty) == -EINVAL);
	empty.host = NULL;
	pk_snapshot_release(&empty);
	free(long_str);
	memset(&empty, 0, sizeof empty);
	empty.start_sec = -5;
	e = pk_snapshot_write(r, &empty);
	pk_hex(sel, empty.id, 32);
	e |= pk_snapshot_read(r, sel, &got);
	snprintf(name, sizeof name, "%s snapshot: an empty one round trips "
	    "(no host: empty)", mode);
	CHECK(name, e == 0 && got.start_sec == -5 && got.host &&
	    !strcmp(got.host, "") && got.npaths == 0 && got.ncatalog == 0);
	pk_snapshot_release(&got);
	for (i = 0; i < 4; i++)
		pk_snapshot_release(&s[i]);
}

/*
 * Paths that do not fit their buffers: an error, never a name cut short.
 * The repository's path is made long with "/." steps, the files it names
 * then past PATH_MAX (the snapshots') or just within it (the rest).
 */
static void
test_long_paths(struct pk_repo *r)
{
	const struct pk_repo_params plain = { .chunk_min = 2048, .chunk_avg = 8192,
	    .chunk_max = 65536, .encrypted = 0 };
	char buf[8], path[4096], *lp;
	const char *saved = r->path;
	struct pk_storage *saved_store = r->store, *longer;
	struct pk_snapshot s, got;
	struct pk_repo *o;
	size_t n, len = 4040;
	int e, snaps, tmps;

	CHECK("pk_path: what fits", pk_path(buf, sizeof buf, "%s", "1234567") ==
	    0 && strcmp(buf, "1234567") == 0);
	e = pk_path(buf, sizeof buf, "%s/%s", "1234", "567");
	CHECK("pk_path: a byte more is ENAMETOOLONG, and says so",
	    e == -ENAMETOOLONG && strcmp(pk_errmsg(e),
	    "1234/56...: path too long") == 0);

	if ((lp = malloc(len + 1)) == NULL)
		return;
	n = (size_t)snprintf(lp, len + 1, "%s", r->path);
	while (n + 2 <= len)
		n += (size_t)snprintf(lp + n, len + 1 - n, "/.");
	lp[n] = '\0';
	CHECK("long paths: init of a repository past its limit is ENAMETOOLONG",
	    strlen(lp) > PK_REPO_PATH_MAX &&
	    pk_repo_init(lp, &plain, NULL, 0) == -ENAMETOOLONG);
	CHECK("long paths: so is open", pk_repo_open(&o, lp, NULL, 0) ==
	    -ENAMETOOLONG && o == NULL);

	/* The same repository under its long name, as if open had let it. */
	pk_repo_path(r, path, sizeof path, "snapshots");
	snaps = unit_count_files(path);
	pk_repo_path(r, path, sizeof path, "tmp");
	tmps = unit_count_files(path);
	if (pk_storage_open(&longer, lp, 0) < 0)
		return;
	r->path = lp;
	r->store = longer;
	snap_make(&s, 1700000000, 9);
	CHECK("long paths: a snapshot whose name does not fit is ENAMETOOLONG",
	    pk_snapshot_write(r, &s) == -ENAMETOOLONG);
	CHECK("long paths: reading one too", pk_snapshot_read(r, "00000000000000"
	    "000000000000000000000000000000000000000000000000000", &got) ==
	    -ENAMETOOLONG);
	CHECK("long paths: selecting the latest too",
	    pk_snapshot_select(r, "latest", NULL, &got) == -ENAMETOOLONG);
	r->path = saved;
	r->store = saved_store;
	pk_storage_close(longer);
	pk_repo_path(r, path, sizeof path, "snapshots");
	CHECK("long paths: no snapshot file written",
	    unit_count_files(path) == snaps);
	pk_repo_path(r, path, sizeof path, "tmp");
	CHECK("long paths: nothing left in tmp/",
	    unit_count_files(path) == tmps);
	pk_snapshot_release(&s);
	free(lp);
}

int
main(int argc, char **argv)
{
	struct pk_repo *plain, *enc;

	unit_scratch(SCRATCH);
	test_repo();
	plain = open_repo("plain", 0);
	enc = open_repo("enc", 1);
	CHECK("repo: both open", plain != NULL && enc != NULL);
	if (plain == NULL || enc == NULL)
		UNIT_END();
	test_packs(plain, "plaintext");
	test_packs(enc, "encrypted");
	test_pack_sizes(plain, "plaintext");
	test_pack_sizes(enc, "encrypted");
	test_index(plain, "plaintext");
	test_index(enc, "encrypted");
	test_frames(enc);
	test_snapshots(plain, "plaintext");
	test_snapshots(enc, "encrypted");
	test_long_paths(plain);
	pk_repo_close(plain);
	pk_repo_close(enc);
	UNIT_END();
}
