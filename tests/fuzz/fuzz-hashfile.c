/*
 * Fuzz target: hash files (pk_hashfile_open: header checks; lookups, a
 * pass in order, inserts and growth over damaged slots), as the chunk index
 * (pk_index_slot_decode) and the known-chunk set (pk_known_open, pk_known_has,
 * pk_known_add) use them.  The kind in the header picks the parameters.
 *
 * Input: a hash file, short (fuzz.h).  It is read as it is (a file of
 * those bytes), then expanded into the file it stands for.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_KEYS	64

struct keys {
	uint8_t slot[MAX_KEYS][PK_INDEX_SLOT_BYTES];
	size_t n;
	uint32_t len;
};

static int
collect(void *arg, const void *slot)
{
	struct keys *k = arg;

	if (k->n == MAX_KEYS)
		return 1;
	memcpy(k->slot[k->n++], slot, k->len);
	return 0;
}

static void
params(struct pk_hashfile_params *p, const uint8_t *h, size_t n)
{
	memset(p, 0, sizeof *p);
	p->kind = n >= 16 ? pk_load_u32(h + 12) : PK_HF_CHUNKINDEX;
	switch (p->kind) {
	case PK_HF_KNOWN:
		p->slot_bytes = p->key_bytes = PK_KNOWN_KEY_BYTES;
		break;
	case PK_HF_STATCACHE:
		p->slot_bytes = 24;
		p->key_bytes = 16;
		break;
	default:
		p->kind = PK_HF_CHUNKINDEX;
		p->slot_bytes = PK_INDEX_SLOT_BYTES;
		p->key_bytes = 32;
		break;
	}
	pk_unhex(p->repo_id, sizeof p->repo_id, FUZZ_REPO_ID_HEX);
}

/* Lookups of every key found in a pass in order, and of a few absent. */
static void
lookups(const char *path, const struct pk_hashfile_params *p,
    struct keys *k)
{
	struct pk_hashfile *h;
	struct pk_known *kn;
	struct pk_blobloc loc;
	uint8_t miss[32];
	size_t i;

	k->n = 0;
	k->len = p->slot_bytes;
	if (pk_hashfile_open(&h, path, p, 0) < 0)
		return;
	pk_hashfile_foreach(h, collect, k);
	for (i = 0; i < k->n; i++) {
		pk_hashfile_find(h, k->slot[i]);
		memcpy(miss, k->slot[i], p->key_bytes);
		miss[p->key_bytes - 1] ^= 0x5a;
		pk_hashfile_find(h, miss);
		if (p->kind == PK_HF_CHUNKINDEX)
			pk_index_slot_decode(&loc, k->slot[i]);
	}
	pk_hashfile_close(h);
	if (p->kind == PK_HF_KNOWN &&
	    pk_known_open(&kn, path, p->repo_id, 0) == 0) {
		for (i = 0; i < k->n; i++)
			pk_known_has(kn, k->slot[i]);
		pk_known_close(kn);
	}
}

/* Inserts new keys (made from those found) into the file as a writer. */
static void
inserts(const char *path, const struct pk_hashfile_params *p,
    struct keys *k)
{
	uint8_t ids[MAX_KEYS * 2][PK_KNOWN_KEY_BYTES];
	struct pk_hashfile *h;
	size_t i;

	if (p->kind == PK_HF_KNOWN) {
		for (i = 0; i < k->n; i++) {
			memcpy(ids[2 * i], k->slot[i], PK_KNOWN_KEY_BYTES);
			memcpy(ids[2 * i + 1], k->slot[i], PK_KNOWN_KEY_BYTES);
			ids[2 * i + 1][0] ^= 0xa5;
		}
		pk_known_add(path, p->repo_id, 0, ids[0], 2 * k->n);
		return;
	}
	if (pk_hashfile_open(&h, path, p, PK_HF_WRITE) < 0)
		return;
	if (k->n > 0 && k->slot[0][0] & 1)
		pk_hashfile_reserve(h, k->n * 4);
	for (i = 0; i < k->n; i++) {
		k->slot[i][0] ^= 0xa5;
		pk_hashfile_insert(h, k->slot[i]);
		k->slot[i][1] ^= 0x3c;
		pk_hashfile_insert(h, k->slot[i]);
	}
	/* A file its writer closed clean opens again. */
	if (pk_hashfile_close(h) == 0 && pk_hashfile_open(&h, path, p, 0) < 0)
		abort();
	pk_hashfile_close(h);
}

static void
cleanup(const char *path)
{
	char lock[4300];

	snprintf(lock, sizeof lock, "%s.lock", path);
	unlink(path);
	unlink(lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo *r = fuzz_repo();
	struct pk_hashfile_params p;
	struct pk_hashfile *h;
	static struct keys k;
	char path[4200];
	uint8_t *file;
	size_t n;

	snprintf(path, sizeof path, "%s/hashfile", r->path);
	params(&p, data, size);
	if (fuzz_write(path, data, size, 0600) == 0 &&
	    pk_hashfile_open(&h, path, &p, PK_HF_ANY_REPO) == 0)
		pk_hashfile_close(h);
	cleanup(path);

	if ((file = fuzz_hashfile(data, size, p.slot_bytes, &n)) == NULL)
		return 0;
	if (fuzz_write(path, file, n, 0600) == 0) {
		lookups(path, &p, &k);
		inserts(path, &p, &k);
	}
	free(file);
	cleanup(path);
	return 0;
}
