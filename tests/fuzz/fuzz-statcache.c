/*
 * Fuzz target: stat caches (pk_statcache_open, pk_statcache_lookup, and
 * the carrying over of an old cache's lists by a new one, which reads them
 * all in order).
 *
 * Input: a u32 length n, n bytes of the hash file, short (fuzz.h), then
 * the lists file.  Read as it is, then with the hash file expanded and the
 * checksum of every list recomputed: those in order from the start of the
 * lists file, and those the slots point to.
 *
 * Lookups are of the paths of the tree that scripts/fuzz-seed.sh backs up,
 * with the stat their list holds, so that lookups of seeds get past the
 * key and stat comparisons.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "fuzz.h"

#define SLOT		24
#define KEY		16
#define LISTS_HEADER	16
#define LIST_FIXED	64
#define ITEM		40

static const char *const paths[] = { "t/small", "t/multi", "t/sparse",
    "t/empty", "t/sub/dup" };

/* The list at off if it fits, with its length. */
static uint8_t *
list_at(uint8_t *lists, size_t n, uint64_t off, uint64_t *len)
{
	uint64_t items;

	if (off < LISTS_HEADER || off > n || n - off < LIST_FIXED + 8)
		return NULL;
	items = pk_load_u32(lists + off + 60);
	*len = LIST_FIXED + items * ITEM + 8;
	return *len <= n - off ? lists + off : NULL;
}

static void
fix_list(uint8_t *lists, size_t n, uint64_t off)
{
	uint8_t *l;
	uint64_t len;

	if ((l = list_at(lists, n, off, &len)) != NULL)
		pk_put_u64(l + len - 8, XXH3_64bits(l, len - 8));
}

/* Lookups of the seed paths, each with the stat of a list of its key. */
static void
lookups(const char *path, const uint8_t *lists, size_t n)
{
	struct pk_statcache *c;
	struct pk_statinfo st;
	struct pk_buf out = PK_BUF_INIT;
	uint8_t key[KEY];
	uint64_t off, len;
	size_t i;

	if (pk_statcache_open(&c, path, NULL, 0) < 0)
		return;
	for (i = 0; i < sizeof paths / sizeof *paths; i++) {
		crypto_generichash(key, KEY, (const uint8_t *)paths[i],
		    strlen(paths[i]), NULL, 0);
		memset(&st, 0, sizeof st);
		for (off = LISTS_HEADER; list_at((uint8_t *)lists, n, off, &len);
		    off += len) {
			if (memcmp(lists + off, key, KEY) != 0)
				continue;
			st.ino = pk_load_u64(lists + off + 16);
			st.dev = pk_load_u64(lists + off + 24);
			st.size = pk_load_u64(lists + off + 32);
			st.mtime_ns = (int64_t)pk_load_u64(lists + off + 40);
			st.ctime_ns = (int64_t)pk_load_u64(lists + off + 48);
			st.mode = pk_load_u32(lists + off + 56) & 0xffff;
			break;
		}
		pk_statcache_lookup(c, (const uint8_t *)paths[i],
		    strlen(paths[i]), &st, &out);
	}
	pk_statcache_close(c);
	pk_buf_release(&out);
}

static void
cleanup(const char *path)
{
	char p[4200];

	unlink(path);
	snprintf(p, sizeof p, "%s.lists", path);
	unlink(p);
	snprintf(p, sizeof p, "%s.lock", path);
	unlink(p);
}

static void
read_one(struct pk_repo *r, const char *path, const uint8_t *hf, size_t hn,
    const uint8_t *lists, size_t ln)
{
	struct pk_statcache_builder *b;
	char lp[4200];

	snprintf(lp, sizeof lp, "%s.lists", path);
	if (fuzz_write(path, hf, hn, 0600) < 0 ||
	    fuzz_write(lp, lists, ln, 0600) < 0) {
		cleanup(path);
		return;
	}
	lookups(path, lists, ln);
	/* A new cache carries the old one's lists over. */
	if (pk_statcache_build_begin(&b, path, r->id, 0, time(NULL)) == 0 &&
	    pk_statcache_build_commit(b) == 0)
		lookups(path, lists, ln);
	cleanup(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo *r = fuzz_repo();
	uint8_t *file, *lists;
	uint64_t off, len, i;
	size_t hn, ln, n;
	char path[4200];

	if (size < 4)
		return 0;
	hn = pk_load_u32(data);
	if (hn > size - 4)
		hn = size - 4;
	ln = size - 4 - hn;
	snprintf(path, sizeof path, "%s/stat", r->path);
	read_one(r, path, data + 4, hn, data + 4 + hn, ln);

	if ((file = fuzz_hashfile(data + 4, hn, SLOT, &n)) == NULL)
		return 0;
	if ((lists = malloc(ln + 1)) == NULL) {
		free(file);
		return 0;
	}
	memcpy(lists, data + 4 + hn, ln);
	for (off = LISTS_HEADER; list_at(lists, ln, off, &len); off += len)
		fix_list(lists, ln, off);
	for (i = 0; i < (n - PK_HASHFILE_HEADER_BYTES) / SLOT; i++)
		fix_list(lists, ln, pk_load_u64(file +
		    PK_HASHFILE_HEADER_BYTES + i * SLOT + KEY));
	read_one(r, path, file, n, lists, ln);
	free(file);
	free(lists);
	return 0;
}
