/* generation.c: the repository's generation (generation.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "generation.h"
#include "hash.h"

#define GEN_PREFIX	"gen-"

void
pk_gc_note_generation(uint64_t *gen, const char *name)
{
	uint8_t b[8];
	uint64_t g;

	if (strncmp(name, GEN_PREFIX, 4) != 0 || strlen(name + 4) != 16 ||
	    pk_unhex(b, sizeof b, name + 4) < 0)
		return;
	g = (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 |
	    (uint64_t)b[3] << 32 | (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
	    (uint64_t)b[6] << 8 | b[7];
	if (g > *gen)
		*gen = g;
}

static int
gen_seen(void *arg, const char *name)
{
	pk_gc_note_generation(arg, name);
	return 0;
}

int
pk_gc_generation(struct pk_storage *s, uint64_t *gen)
{
	*gen = 0;
	return pk_storage_list(s, "gc", gen_seen, gen);
}

int
pk_repo_read_generation(const char *path, uint64_t *gen)
{
	struct pk_storage *s;
	int e;

	*gen = 0;
	if ((e = pk_repo_path_fits(path)) < 0 ||
	    (e = pk_storage_open(&s, path, 0)) < 0)
		return e;
	e = pk_gc_generation(s, gen);
	pk_storage_close(s);
	return e;
}

struct older {
	struct pk_repo *r;
	uint64_t keep;
};

static int
remove_older(void *arg, const char *name)
{
	struct older *o = arg;
	uint64_t g = 0;
	char rel[64];

	pk_gc_note_generation(&g, name);
	if (g != 0 && g < o->keep) {
		snprintf(rel, sizeof rel, "gc/%s", name);
		(void)pk_storage_remove(o->r->store, rel);
		pk_err_clear();
	}
	return 0;
}

int
pk_gc_bump(struct pk_repo *r)
{
	struct older o = { r, 0 };
	uint64_t g;
	char rel[64];
	int e;

	/* Another pk-gc may have bumped it since the open. */
	if ((e = pk_gc_generation(r->store, &g)) < 0)
		return e;
	if (g < r->generation)
		g = r->generation;
	snprintf(rel, sizeof rel, "gc/" GEN_PREFIX "%016" PRIx64, g + 1);
	if ((e = pk_storage_put(r->store, rel, "", 0)) < 0)
		return e;
	r->generation = o.keep = g + 1;
	return pk_storage_list(r->store, "gc", remove_older, &o);
}
