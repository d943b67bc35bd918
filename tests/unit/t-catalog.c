/*
 * t-catalog: the order of stored paths (entry.h) and the seek table built
 * as a catalog is cut (catalog.h), against pk-repo(5) "Seek table".
 */
#include "pk.h"
#include "unit.h"

static int
cmp(const char *a, const char *b)
{
	return pk_path_cmp((const uint8_t *)a, strlen(a), (const uint8_t *)b,
	    strlen(b));
}

static int
under(const char *p, const char *sel)
{
	return pk_path_under((const uint8_t *)p, strlen(p),
	    (const uint8_t *)sel, strlen(sel));
}

static void
test_order(void)
{
	/* As a walk emits them: a directory, its subtree, its next sibling. */
	static const char *walk[] = { "a", "a/b", "a/b/c", "a/b-c", "a/b.d",
	    "a/bc", "a-", "a0", "b", "b/\xff", "b\x01" };
	size_t i, j, n = sizeof walk / sizeof walk[0];
	int good = 1;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if ((cmp(walk[i], walk[j]) < 0) != (i < j) ||
			    (cmp(walk[i], walk[j]) == 0) != (i == j))
				good = 0;
	CHECK("paths order as a walk emits them", good);
	CHECK("'/' orders before '-', unlike memcmp", cmp("a/b/c", "a/b-c") < 0 &&
	    memcmp("a/b/c", "a/b-c", 5) > 0);
	CHECK("under: the path itself", under("a/b", "a/b"));
	CHECK("under: below it", under("a/b/c", "a/b"));
	CHECK("under: not a sibling that shares its bytes", !under("a/bc", "a/b") &&
	    !under("a/b-c", "a/b"));
	CHECK("under: not its parent", !under("a", "a/b"));
}

/* One chunk's seek fields as built. */
static struct pk_catalog_chunk
cut(struct pk_seekbuild *b, uint32_t len, struct pk_buf *keys)
{
	struct pk_catalog_chunk cc = { .len = len };

	pk_buf_reset(keys);
	if (pk_seekbuild_chunk(b, &cc, keys) < 0)
		cc.entry = 0xdead;
	return cc;
}

static int
key_is(const struct pk_buf *keys, const struct pk_catalog_chunk *cc,
    const char *lo, size_t lolen, const char *hi, size_t hilen)
{
	return cc->lolen == lolen && cc->hilen == hilen &&
	    memcmp(keys->data + cc->key, lo, lolen) == 0 &&
	    memcmp(keys->data + cc->key + lolen, hi, hilen) == 0;
}

static void
note(struct pk_seekbuild *b, uint64_t off, uint64_t recno, const char *p, size_t n)
{
	if (pk_seekbuild_entry(b, off, recno, (const uint8_t *)p, n) < 0)
		abort();
}

static void
test_build(void)
{
	struct pk_seekbuild b = { PK_BUF_INIT, 0 };
	struct pk_buf keys = PK_BUF_INIT;
	struct pk_catalog_chunk cc;
	char longp[300];

	/* Chunk 0, bytes [0, 100): three entries out of order. */
	note(&b, 32, 0, "m/b", 3);
	note(&b, 60, 3, "m/a", 3);
	note(&b, 99, 5, "m/c", 3);
	/* Chunk 1, [100, 200): none starts there.  Chunk 2, [200, 300): one
	 * whose path is longer than a key; chunk 3, [300, 400): one ending
	 * the chunk exactly. */
	memset(longp, 'x', sizeof longp);
	longp[1] = '/';
	note(&b, 250, 9, longp, sizeof longp);
	note(&b, 300, 10, "z", 1);
	cc = cut(&b, 100, &keys);
	CHECK("first entry of a chunk", cc.entry == 32 && cc.recno == 0);
	CHECK("least and greatest path of its entries",
	    key_is(&keys, &cc, "m/a", 3, "m/c", 3));
	cc = cut(&b, 100, &keys);
	CHECK("a chunk where no entry starts", cc.entry == PK_CATALOG_NO_ENTRY &&
	    cc.lolen == 0 && cc.hilen == 0);
	cc = cut(&b, 100, &keys);
	CHECK("an entry in a later chunk: its offset in it", cc.entry == 50 &&
	    cc.recno == 9);
	CHECK("a path longer than a key is cut to 256 bytes",
	    key_is(&keys, &cc, longp, PK_CATALOG_KEY_MAX, longp, PK_CATALOG_KEY_MAX));
	cc = cut(&b, 100, &keys);
	CHECK("an entry at a chunk's first byte", cc.entry == 0 && cc.recno == 10 &&
	    key_is(&keys, &cc, "z", 1, "z", 1));
	CHECK("every mark used", b.marks.len == 0);
	pk_seekbuild_release(&b);
	pk_buf_release(&keys);
}

/*
 * Random paths in random order, cut at random: each chunk's fields are its
 * first entry, and bounds that hold every path of the entries that start
 * in it, as pk-repo(5) states them.
 */
static void
test_bounds(void)
{
	enum { N = 2000 };
	static char paths[N][400];
	static size_t lens[N];
	static uint64_t offs[N];
	struct pk_seekbuild b = { PK_BUF_INIT, 0 };
	struct pk_buf keys = PK_BUF_INIT;
	unsigned long long seed = 7;
	uint64_t off = 32, start = 0;
	size_t i, k, next = 0;
	int first = 1, bounded = 1, chunks = 0, empty = 0, longs = 0;

	for (i = 0; i < N; i++) {
		/* In sequence: the operands of % are evaluated in any order. */
		k = unit_rand(&seed);
		lens[i] = 1 + k % (unit_rand(&seed) % 8 ? 12 : 380);
		for (k = 0; k < lens[i]; k++)
			paths[i][k] = "ab/-.\xff"[unit_rand(&seed) % 6];
		longs += lens[i] > PK_CATALOG_KEY_MAX;
		offs[i] = off;
		note(&b, off, i, paths[i], lens[i]);
		off += 1 + unit_rand(&seed) % 300;
	}
	while (start < off) {
		uint32_t len = 1 + (uint32_t)(unit_rand(&seed) % 2000);
		struct pk_catalog_chunk cc = cut(&b, len, &keys);
		const uint8_t *lo = keys.data + cc.key, *hi = lo + cc.lolen;

		chunks++;
		if (next == N || offs[next] >= start + len) {
			empty++;
			if (cc.entry != PK_CATALOG_NO_ENTRY)
				first = 0;
		} else if (cc.entry != offs[next] - start || cc.recno != next) {
			first = 0;
		}
		for (; next < N && offs[next] < start + len; next++) {
			const uint8_t *p = (const uint8_t *)paths[next];
			size_t n = lens[next];

			if (pk_path_cmp(lo, cc.lolen, p, n) > 0 ||
			    (pk_path_cmp(p, n, hi, cc.hilen) > 0 &&
			    !(cc.hilen == PK_CATALOG_KEY_MAX && n >= cc.hilen &&
			    memcmp(p, hi, cc.hilen) == 0)))
				bounded = 0;
		}
		start += len;
	}
	CHECK("random catalogs: many chunks, some empty, long paths",
	    chunks > 100 && empty > 10 && longs > 10);
	CHECK("random catalogs: each chunk's first entry", first);
	CHECK("random catalogs: bounds hold every path", bounded);
	pk_seekbuild_release(&b);
	pk_buf_release(&keys);
}

int
main(void)
{
	test_order();
	test_build();
	test_bounds();
	return unit_failed;
}
