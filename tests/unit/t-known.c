/*
 * t-known: the known-chunk set (known.h): ids added are found by their
 * first 16 bytes, others are not, nor one whose first 16 bytes are zero
 * (which cannot be added); the set grows past its first capacity;
 * a set of another repository, a damaged or truncated one is refused by
 * open (ESTALE) and started afresh by an add, which keeps nothing of it;
 * a file at the path that is not a set is never replaced (EEXIST); and an
 * export holds every chunk of a snapshot's files, from a repository built
 * with pk_store_stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-known"
#define NIDS	5000

static const char *set = SCRATCH "/known";
static const uint8_t repo_a[16] = "repository A....";
static const uint8_t repo_b[16] = "repository B....";

/* Chunk id i of a seeded set: 32 bytes, never all zero at the start. */
static void
id_of(uint8_t id[PK_ID_BYTES], unsigned long long seed, size_t i)
{
	unit_fill(id, PK_ID_BYTES, seed * 1000003 + i);
	id[0] |= 1;
}

/* n ids of a seed, as pk_known_add takes them (16 bytes each). */
static uint8_t *
keys_of(unsigned long long seed, size_t n)
{
	uint8_t *k = malloc(n * PK_KNOWN_KEY_BYTES), id[PK_ID_BYTES];
	size_t i;

	for (i = 0; i < n; i++) {
		id_of(id, seed, i);
		memcpy(k + i * PK_KNOWN_KEY_BYTES, id, PK_KNOWN_KEY_BYTES);
	}
	return k;
}

/* How many of ids [0, n) of seed the set at path has, or -1. */
static long
count_has(const uint8_t *repo, unsigned long long seed, size_t n)
{
	struct pk_known *k;
	uint8_t id[PK_ID_BYTES];
	long c = 0;
	size_t i;

	if (pk_known_open(&k, set, repo, 0) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		id_of(id, seed, i);
		c += pk_known_has(k, id);
	}
	pk_known_close(k);
	return c;
}

static void
test_set(void)
{
	struct pk_known *k = (struct pk_known *)1;
	uint8_t *ids = keys_of(1, NIDS), id[PK_ID_BYTES], zero[2 * PK_KNOWN_KEY_BYTES];
	int e;

	unlink(set);
	e = pk_known_open(&k, set, repo_a, 0);
	CHECK("open: no set is ENOENT, and no handle", e == -ENOENT && k == NULL);
	CHECK("add: a new set", pk_known_add(set, repo_a, 0, ids, 100) == 0);
	CHECK("has: the 100 ids added", count_has(repo_a, 1, 100) == 100);
	CHECK("has: none of the ids not added", count_has(repo_a, 1, NIDS) == 100 &&
	    count_has(repo_a, 2, 1000) == 0);
	CHECK("add: many more, to an existing set, the first again among them",
	    pk_known_add(set, repo_a, 0, ids, NIDS) == 0);
	CHECK("has: every id, after the set grew", count_has(repo_a, 1, NIDS) ==
	    NIDS);
	CHECK("add: nothing at all", pk_known_add(set, repo_a, 0, ids, 0) == 0 &&
	    count_has(repo_a, 1, NIDS) == NIDS);

	/* Only the first 16 bytes are kept. */
	e = pk_known_open(&k, set, repo_a, 0);
	id_of(id, 1, 7);
	id[31] ^= 0xff;
	id[PK_KNOWN_KEY_BYTES] ^= 0x01;
	CHECK("has: an id that differs after byte 16 is had", e == 0 &&
	    pk_known_has(k, id) == 1);
	id_of(id, 1, 7);
	id[PK_KNOWN_KEY_BYTES - 1] ^= 0x01;
	CHECK("has: an id that differs in byte 15 is not", e == 0 &&
	    pk_known_has(k, id) == 0);
	pk_known_close(k);
	CHECK("open: with no repository id, any set", pk_known_open(&k, set, NULL, 0) ==
	    0 && k != NULL);
	pk_known_close(k);
	pk_known_close(NULL);

	/* An all-zero prefix cannot be stored: skipped, the rest goes in. */
	memset(zero, 0, sizeof zero);
	id_of(id, 3, 0);
	memcpy(zero + PK_KNOWN_KEY_BYTES, id, PK_KNOWN_KEY_BYTES);
	CHECK("add: an all-zero id among others is skipped",
	    pk_known_add(set, repo_a, 0, zero, 2) == 0 && count_has(repo_a, 3, 1) == 1);

	/* ... and no set holds one: its empty slots are all-zero too. */
	memset(id, 0, sizeof id);
	id[PK_ID_BYTES - 1] = 1;
	e = pk_known_open(&k, set, repo_a, 0);
	CHECK("has: an id whose first 16 bytes are zero is not in a set that "
	    "does not hold it", e == 0 && pk_known_has(k, id) == 0);
	if (e == 0)
		pk_known_close(k);
	free(ids);
}

static void
test_untrusted(void)
{
	uint8_t *a = keys_of(10, 300), *b = keys_of(11, 300);
	struct pk_known *k;
	off_t n;
	int e, fd;

	unlink(set);
	pk_known_add(set, repo_a, 0, a, 300);
	e = pk_known_open(&k, set, repo_b, 0);
	CHECK("open: another repository's set is ESTALE", e == -ESTALE && k == NULL);
	CHECK("open: ... the message says so",
	    strstr(pk_errmsg(e), "another repository") != NULL);
	CHECK("add: for another repository starts afresh",
	    pk_known_add(set, repo_b, 0, b, 300) == 0);
	CHECK("add: ... now that repository's set, with its ids only",
	    count_has(repo_b, 11, 300) == 300 && count_has(repo_b, 10, 300) == 0 &&
	    count_has(repo_a, 10, 1) == -1);

	/* A byte of the header flipped: its checksum fails. */
	unit_flip_at(set, 40, 0x10);
	CHECK("open: a damaged header is ESTALE",
	    pk_known_open(&k, set, repo_b, 0) == -ESTALE);
	CHECK("add: over a damaged set starts afresh",
	    pk_known_add(set, repo_b, 0, a, 10) == 0 &&
	    count_has(repo_b, 10, 300) == 10 && count_has(repo_b, 11, 300) == 0);

	/* Cut short. */
	n = unit_size_of(set);
	CHECK("open: a truncated set is ESTALE", truncate(set, n / 2) == 0 &&
	    pk_known_open(&k, set, repo_b, 0) == -ESTALE);
	CHECK("add: over a truncated set starts afresh",
	    pk_known_add(set, repo_b, 0, b, 5) == 0 &&
	    count_has(repo_b, 11, 300) == 5 && count_has(repo_b, 10, 300) == 0);
	CHECK("open: a set cut to its first bytes is ESTALE",
	    truncate(set, 20) == 0 && pk_known_open(&k, set, repo_b, 0) == -ESTALE);
	CHECK("add: ... and is started afresh too",
	    pk_known_add(set, repo_b, 0, b, 7) == 0 &&
	    count_has(repo_b, 11, 300) == 7);
	fd = open(set, O_WRONLY | O_TRUNC);
	close(fd);
	CHECK("open: an empty file is ESTALE", pk_known_open(&k, set, repo_b, 0) ==
	    -ESTALE);
	CHECK("add: an empty file is taken", pk_known_add(set, repo_b, 0, b, 3) == 0 &&
	    count_has(repo_b, 11, 300) == 3);

	/* A file that is not a set: a mistyped path. */
	fd = open(set, O_WRONLY | O_TRUNC);
	pk_write_all(fd, "my notes\n", 9);
	close(fd);
	e = pk_known_add(set, repo_b, 0, b, 3);
	CHECK("add: a file that is not a set is EEXIST", e == -EEXIST);
	CHECK("add: ... and is left as it was", unit_size_of(set) == 9);
	CHECK("open: it is ESTALE", pk_known_open(&k, set, repo_b, 0) == -ESTALE);
	unlink(set);
	free(a);
	free(b);
}

/* Streams and a repository, for the export. */

/* A file of n chunks of 1000 bytes, chunk i of seed s; their ids to ids. */
static void
put_file(struct pk_writer *w, const char *path, unsigned long long s, size_t n,
    uint8_t (*ids)[PK_ID_BYTES])
{
	uint8_t data[1000], id[PK_ID_BYTES];
	size_t i;

	unit_put_entry(w, PK_FT_REG, path, 1000 * n);
	for (i = 0; i < n; i++) {
		unit_fill(data, sizeof data, s * 1000 + i);
		pk_hash_id(id, data, sizeof data);
		pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, data, sizeof data);
		memcpy(ids[i], id, sizeof id);
	}
	pk_write_eof(w, 1000 * n, 0);
}

static void
test_export(void)
{
	struct pk_store_options o = { .level = 1, .threads = 1, .host = "h" };
	uint8_t ids[8][PK_ID_BYTES], other[PK_ID_BYTES];
	struct pk_buf stream = PK_BUF_INIT;
	struct pk_snapshot snap;
	struct pk_writer *w;
	struct pk_repo *repo;
	struct pk_known *k;
	struct pk_index ix;
	size_t i;
	int e, all;

	if ((repo = unit_repo(SCRATCH, "repo", 0, NULL)) == NULL) {
		CHECK("export: a repository", 0);
		return;
	}
	w = unit_writer(&stream, &unit_hdr);
	unit_put_entry(w, PK_FT_DIR, "d", 0);
	put_file(w, "d/a", 100, 5, ids);
	put_file(w, "d/b", 200, 3, ids + 5);
	unit_writer_end(w);
	e = unit_store(repo, &stream, &o, &snap);
	CHECK("export: a snapshot of 8 chunks stored", e == 0 && snap.chunks == 8);
	e = e ? e : pk_index_open(&ix, repo);
	unlink(set);
	e = e ? e : pk_export_known(repo, &ix, &snap, set);
	CHECK("export: written", e == 0);
	e = e ? e : pk_known_open(&k, set, repo->id, 0);
	CHECK("export: the set is the repository's", e == 0);
	if (e == 0) {
		for (i = 0, all = 1; i < 8; i++)
			all &= pk_known_has(k, ids[i]);
		CHECK("export: every chunk of the snapshot's files", all);
		unit_fill(other, sizeof other, 999);
		CHECK("export: not another chunk", pk_known_has(k, other) == 0);
		pk_known_close(k);
		CHECK("open: another repository's id is ESTALE",
		    pk_known_open(&k, set, repo_a, 0) == -ESTALE);
	}
	if (e == 0) {
		pk_index_close(&ix);
		pk_snapshot_release(&snap);
	}
	pk_buf_release(&stream);
	pk_repo_close(repo);
}

int
main(void)
{
	unit_scratch(SCRATCH);
	test_set();
	test_untrusted();
	test_export();
	UNIT_END();
}
