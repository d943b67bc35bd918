/*
 * Fuzz target: index deltas (pk_index_read_delta: header, frames, blob
 * locations), then the chunk index built from them (pk_index_open, which
 * merges the delta into a new hash file, and pk_index_find).  Input: the
 * delta id (16 bytes, its file name), then the file.  Read as it is, then
 * retagged (fuzz.h).
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define HEADER	16

struct seen {
	uint8_t sid[8][32];
	size_t n;
};

static int
note(void *arg, const struct pk_blobloc *loc)
{
	struct seen *s = arg;

	if (s->n < 8)
		memcpy(s->sid[s->n++], loc->sid, 32);
	return 0;
}

static void
read_one(struct pk_repo *r, const char *name, const uint8_t *p, size_t n)
{
	struct seen s = { .n = 0 };
	struct pk_blobloc loc;
	struct pk_index ix;
	char path[4200];
	size_t i;

	snprintf(path, sizeof path, "%s/index/%s", r->path, name);
	if (fuzz_write(path, p, n, 0400) < 0)
		return;
	if (pk_index_read_delta(r, name, note, &s) == 0 &&
	    pk_index_open(&ix, r) == 0) {
		for (i = 0; i < s.n; i++)
			pk_index_find(&ix, s.sid[i], &loc);
		pk_index_close(&ix);
	}
	unlink(path);
	snprintf(path, sizeof path, "%s/chunkindex", r->path);
	unlink(path);
	snprintf(path, sizeof path, "%s/chunkindex.lock", r->path);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo *r = fuzz_repo();
	char name[PK_DELTA_NAME_BYTES];
	uint8_t *file, ad[64];
	uint64_t frame, blen, off;
	size_t n, adlen;

	if (size < PK_DELTA_ID_BYTES)
		return 0;
	pk_hex(name, data, PK_DELTA_ID_BYTES);
	n = size - PK_DELTA_ID_BYTES;
	read_one(r, name, data + PK_DELTA_ID_BYTES, n);
	if (n < HEADER || (file = malloc(n)) == NULL)
		return 0;
	memcpy(file, data + PK_DELTA_ID_BYTES, n);
	/* Frames: u32 length, box; the AD names the delta, the frame number
	 * and whether it is the last (pk-repo(5) "BOXES"). */
	for (off = HEADER, frame = 0; off + 4 <= n; frame++) {
		blen = pk_load_u32(file + off);
		if (blen > n - off - 4)
			break;
		adlen = fuzz_ad(ad, "pk index", data, PK_DELTA_ID_BYTES);
		pk_put_u64(ad + adlen, frame);
		ad[adlen + 8] = off + 4 + blen == n;
		fuzz_retag(file + off + 4, blen, ad, adlen + 9);
		off += 4 + blen;
	}
	read_one(r, name, file, n);
	free(file);
	return 0;
}
