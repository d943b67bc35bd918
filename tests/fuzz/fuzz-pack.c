/*
 * Fuzz target: pack files (pk_pack_list: header, footer, trailer), and the
 * blobs the trailer lists (pk_blob_read: box, compression byte, zstd,
 * lengths), as pk-index --check=data reads them.  Input: the pack id (16
 * bytes, its file name), then the file.  Read as it is, then retagged
 * (fuzz.h): the blobs the trailer lists, then the trailer.
 */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define HEADER	16
#define FOOTER	16
#define ENTRY	48

struct list {
	struct pk_blob_reader br;
	struct pk_buf out;
};

static int
read_blob(void *arg, const struct pk_blobloc *loc)
{
	struct list *l = arg;

	pk_blob_read(&l->br, loc, &l->out);
	return 0;
}

static void
read_one(struct pk_repo *r, const uint8_t id[PK_PACK_ID_BYTES],
    const uint8_t *p, size_t n)
{
	struct list l = { .out = PK_BUF_INIT };
	char rel[128], path[4200];

	pk_pack_relpath(rel, sizeof rel, id);
	snprintf(path, sizeof path, "%s/%.8s", r->path, rel);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/%s", r->path, rel);
	if (fuzz_write(path, p, n, 0400) < 0)
		return;
	if (pk_blob_reader_init(&l.br, r) == 0)
		pk_pack_list(&l.br, id, read_blob, &l);
	pk_blob_reader_release(&l.br);
	pk_buf_release(&l.out);
	unlink(path);
}

/* Retags the blobs that the trailer box at t (blen bytes) lists, then the
 * trailer. */
static void
retag(uint8_t *file, size_t n, const uint8_t *id, uint64_t t, uint64_t blen)
{
	uint64_t count, i, off, len;
	uint8_t ad[64], *e;

	count = blen >= 16 + 4 ? pk_load_u32(file + t) : 0;
	for (i = 0; i < count && 4 + (i + 1) * ENTRY <= blen - 16; i++) {
		e = file + t + 4 + i * ENTRY;
		off = pk_load_u32(e + 32);
		len = pk_load_u32(e + 36);
		if (off + len <= n)
			fuzz_retag(file + off, len, ad,
			    fuzz_ad(ad, "pk blob", e, 32));
	}
	fuzz_retag(file + t, blen, ad, fuzz_ad(ad, "pk pack", id,
	    PK_PACK_ID_BYTES));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo *r = fuzz_repo();
	uint8_t *file;
	uint64_t blen;
	size_t n;

	if (size < PK_PACK_ID_BYTES)
		return 0;
	n = size - PK_PACK_ID_BYTES;
	read_one(r, data, data + PK_PACK_ID_BYTES, n);
	if (n < HEADER + FOOTER || (file = malloc(n)) == NULL)
		return 0;
	memcpy(file, data + PK_PACK_ID_BYTES, n);
	blen = pk_load_u64(file + n - FOOTER);
	if (blen <= n - FOOTER)
		retag(file, n, data, n - FOOTER - blen, blen);
	read_one(r, data, file, n);
	free(file);
	return 0;
}
