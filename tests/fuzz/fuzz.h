/*
 * fuzz.h: what the fuzz targets of repository files share.
 *
 * The test repository: a plaintext one with a fixed master key and id, so
 * that files made by the tools in such a repository (scripts/fuzz-seed.sh)
 * authenticate in the targets.  A target reads each input twice: as it
 * is, through the authenticated open, and with the tags of its boxes
 * recomputed under the test key ("retagged"), so that the fuzzer reaches
 * the decoders behind authentication.
 *
 * Decoders that read files get them in a scratch directory laid out like
 * a repository, made once per process under $TMPDIR (or /tmp) and removed
 * at exit; each input's files are removed after it.
 */
#ifndef PK_FUZZ_H
#define PK_FUZZ_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "pk.h"

#define FUZZ_MASTER_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define FUZZ_REPO_ID_HEX	"66757a7a66757a7a66757a7a66757a7a"

static char fuzz_top[4096];

static inline int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_top[0])
		nftw(fuzz_top, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The test repository over the scratch directory; made at the first call.
 * Exits when it cannot be made: nothing can be fuzzed then. */
static inline struct pk_repo *
fuzz_repo(void)
{
	static const char *sub[] = { "packs", "index", "snapshots", "tmp" };
	static struct pk_repo r;
	uint8_t master[PK_KEY_BYTES];
	const char *tmp = getenv("TMPDIR");
	char path[4200];
	size_t i;

	if (r.path != NULL)
		return &r;
	snprintf(fuzz_top, sizeof fuzz_top, "%s/pk-fuzz-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (pk_crypto_init() < 0 || mkdtemp(fuzz_top) == NULL) {
		perror(fuzz_top);
		exit(1);
	}
	atexit(fuzz_cleanup);
	for (i = 0; i < sizeof sub / sizeof *sub; i++) {
		snprintf(path, sizeof path, "%s/%s", fuzz_top, sub[i]);
		if (mkdir(path, 0700) < 0) {
			perror(path);
			exit(1);
		}
	}
	pk_unhex(master, sizeof master, FUZZ_MASTER_HEX);
	pk_unhex(r.id, sizeof r.id, FUZZ_REPO_ID_HEX);
	pk_keys_derive(&r.keys, master, 0);
	r.params.chunk_min = 512;
	r.params.chunk_avg = 1024;
	r.params.chunk_max = 4096;
	memcpy(r.params.id, r.id, sizeof r.id);
	if (pk_storage_open(&r.store, fuzz_top, 0) < 0) {
		fprintf(stderr, "%s: %s\n", fuzz_top, pk_errmsg(-ENOMEM));
		exit(1);
	}
	r.path = fuzz_top;
	return &r;
}

/* Writes a whole file (replacing any); 0 or -1. */
static inline int
fuzz_write(const char *path, const void *p, size_t n, mode_t mode)
{
	FILE *f;
	int ok;

	unlink(path);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0 || !ok || chmod(path, mode) < 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

/* Recomputes the tag of the plaintext box of n bytes at box, bound to ad
 * (pk-repo(5) "BOXES"); boxes too short to hold a tag are left alone. */
static inline void
fuzz_retag(uint8_t *box, size_t n, const uint8_t *ad, size_t adlen)
{
	if (n >= PK_BOX_OVERHEAD_PLAIN)
		pk_box_seal(&fuzz_repo()->keys, box, box,
		    n - PK_BOX_OVERHEAD_PLAIN, ad, adlen);
}

/*
 * Hash files, short: the first 80 bytes of the header (pk-repo(5) "HASH
 * FILES"), then the slots in use, each a u16 slot number and its bytes
 * (slot bytes of them).  Expanded into a whole file (malloc'd, *len
 * bytes) of the capacity the header gives, its checksum recomputed; a
 * capacity over 2^14 is not expanded (the input follows the header page).
 */
#define FUZZ_HF_HEADER	80
#define FUZZ_HF_MAX_CAP	(1u << 14)

static inline uint8_t *
fuzz_hashfile(const uint8_t *in, size_t n, uint32_t slot, size_t *len)
{
	size_t hlen = n < FUZZ_HF_HEADER ? n : FUZZ_HF_HEADER, i;
	uint64_t cap = hlen == FUZZ_HF_HEADER ? pk_load_u64(in + 24) : 0;
	uint8_t *f;

	*len = PK_HASHFILE_HEADER_BYTES + (cap <= FUZZ_HF_MAX_CAP ?
	    cap * slot : n - hlen);
	if ((f = calloc(1, *len)) == NULL)
		return NULL;
	memcpy(f, in, hlen);
	pk_put_u64(f + 72, XXH3_64bits(f, 72));
	if (cap > FUZZ_HF_MAX_CAP) {
		memcpy(f + PK_HASHFILE_HEADER_BYTES, in + hlen, n - hlen);
		return f;
	}
	for (i = hlen; cap > 0 && n - i >= 2 + slot; i += 2 + slot)
		memcpy(f + PK_HASHFILE_HEADER_BYTES +
		    (in[i] | (size_t)in[i + 1] << 8) % cap * slot, in + i + 2, slot);
	return f;
}

/* A box's AD: the label, its NUL, then the id. */
/* A record reader's source over a buffer: at most max bytes a read when
 * max is not 0, so that odd read sizes exercise the reader's buffering. */
struct fuzz_src {
	const uint8_t *p;
	size_t n, max;
};

static inline ssize_t
fuzz_source(void *arg, void *out, size_t n)
{
	struct fuzz_src *s = arg;
	size_t k = n < s->n ? n : s->n;

	if (s->max && k > s->max)
		k = s->max;
	memcpy(out, s->p, k);
	s->p += k;
	s->n -= k;
	return (ssize_t)k;
}

static inline size_t
fuzz_ad(uint8_t *ad, const char *label, const uint8_t *id, size_t idlen)
{
	size_t n = strlen(label) + 1;

	memcpy(ad, label, n);
	memcpy(ad + n, id, idlen);
	return n + idlen;
}

#endif
