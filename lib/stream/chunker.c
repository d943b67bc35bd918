#include <errno.h>
#include <inttypes.h>

#include "chunker.h"
#include "err.h"

/* The gear table: splitmix64 from a fixed seed (pk-stream(5)). */
static uint64_t gear[256], gear_ls[256];

static void
gear_init(void)
{
	uint64_t s = 0x706b2d6765617231ull;	/* "pk-gear1" */
	uint64_t z;
	int i;

	for (i = 0; i < 256; i++) {
		s += 0x9e3779b97f4a7c15ull;
		z = s;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		gear[i] = z ^ (z >> 31);
		gear_ls[i] = gear[i] << 1;
	}
}

/*
 * A mask of b bits ending at bit 62: the high bits of a gear hash depend on
 * the most bytes, and bit 63 is left out so that mask << 1 still tests the
 * same bits of the hash one byte earlier (the two-byte step).
 */
static uint64_t
mask_bits(unsigned b)
{
	return ((UINT64_C(1) << b) - 1) << (63 - b);
}

int
pk_chunker_init(struct pk_chunker *c, uint32_t min, uint32_t avg, uint32_t max)
{
	unsigned bits = 0;

	if (gear[0] == 0)
		gear_init();
	if (min < 64 || min >= avg || avg >= max || max > PK_CHUNK_MAX_LIMIT ||
	    (avg & (avg - 1)) != 0 || (min & 1) || (max & 1))
		return pk_err(-EINVAL, "chunk sizes %" PRIu32 ", %" PRIu32 ", %"
		    PRIu32 ": need " PK_CHUNK_SIZES_RULE, min, avg, max);
	while ((UINT32_C(1) << bits) < avg)
		bits++;
	c->min = min;
	c->avg = avg;
	c->max = max;
	c->mask_s = mask_bits(bits + 2);
	c->mask_l = mask_bits(bits - 2);
	return 0;
}

size_t
pk_chunker_cut(const struct pk_chunker *c, const uint8_t *p, size_t n)
{
	const uint64_t ms = c->mask_s, ms_ls = ms << 1;
	const uint64_t ml = c->mask_l, ml_ls = ml << 1;
	size_t i, mid, end;
	uint64_t h = 0;

	if (n <= c->min)
		return n;
	end = n < c->max ? n : c->max;
	mid = end < c->avg ? end : c->avg;
	i = c->min;
	/* Two bytes a step: (h << 2) + gear_ls[a] is 2 * ((h << 1) + gear[a]). */
	for (; i + 2 <= mid; i += 2) {
		h = (h << 2) + gear_ls[p[i]];
		if ((h & ms_ls) == 0)
			return i + 1;
		h += gear[p[i + 1]];
		if ((h & ms) == 0)
			return i + 2;
	}
	for (; i + 2 <= end; i += 2) {
		h = (h << 2) + gear_ls[p[i]];
		if ((h & ml_ls) == 0)
			return i + 1;
		h += gear[p[i + 1]];
		if ((h & ml) == 0)
			return i + 2;
	}
	if (i < end) {
		h = (h << 1) + gear[p[i]];
		if ((h & (i < mid ? ms : ml)) == 0)
			return i + 1;
	}
	return end;
}
