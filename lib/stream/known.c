#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hashfile.h"
#include "known.h"

struct pk_known {
	struct pk_hashfile *hf;
};

static void
params(struct pk_hashfile_params *p, const uint8_t *repo_id, uint64_t gen)
{
	memset(p, 0, sizeof *p);
	p->kind = PK_HF_KNOWN;
	p->slot_bytes = PK_KNOWN_KEY_BYTES;
	p->key_bytes = PK_KNOWN_KEY_BYTES;
	if (repo_id)
		memcpy(p->repo_id, repo_id, sizeof p->repo_id);
	p->generation = gen;
}

int
pk_known_open(struct pk_known **kp, const char *path, const uint8_t *repo_id,
    uint64_t generation)
{
	struct pk_hashfile_params p;
	struct pk_known *k;
	int e;

	*kp = NULL;
	if ((k = calloc(1, sizeof *k)) == NULL)
		return -ENOMEM;
	params(&p, repo_id, generation);
	if ((e = pk_hashfile_open(&k->hf, path, &p,
	    repo_id ? 0 : PK_HF_ANY_REPO)) < 0) {
		free(k);
		return e;
	}
	*kp = k;
	return 0;
}

int
pk_known_has(const struct pk_known *k, const uint8_t id[PK_ID_BYTES])
{
	return pk_hashfile_find(k->hf, id) != NULL;
}

void
pk_known_close(struct pk_known *k)
{
	if (k == NULL)
		return;
	pk_hashfile_close(k->hf);
	free(k);
}

int
pk_known_add(const char *path, const uint8_t repo_id[16], uint64_t generation,
    const uint8_t *ids, size_t n)
{
	struct pk_hashfile_params p;
	struct pk_hashfile *hf;
	size_t i;
	int e;

	params(&p, repo_id, generation);
	if ((e = pk_hashfile_may_replace(path, PK_HF_KNOWN,
	    "known-chunk set")) < 0)
		return e;
	e = pk_hashfile_open(&hf, path, &p, PK_HF_WRITE | PK_HF_NOSYNC);
	if (e == -ENOENT || e == -ESTALE) {
		pk_err_clear();
		e = pk_hashfile_open(&hf, path, &p, PK_HF_CREATE | PK_HF_NOSYNC);
	}
	if (e < 0)
		return e;
	for (i = 0; i < n && e >= 0; i++) {
		e = pk_hashfile_insert(hf, ids + i * PK_KNOWN_KEY_BYTES);
		if (e == -EINVAL)
			e = 0;	/* an all-zero prefix cannot be stored */
	}
	if (e < 0) {
		pk_hashfile_close(hf);
		return e;
	}
	return pk_hashfile_close(hf);
}

