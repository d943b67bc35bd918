/*
 * unit.h: the C unit tests' few helpers.  Each check prints one TAP-like
 * line ("ok - name" or "not ok - name: where"); tests/run.sh counts them.
 */
#ifndef PK_UNIT_H
#define PK_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed;

#define CHECK(name, cond) do {						\
	if (cond)							\
		printf("ok - %s\n", name);				\
	else {								\
		printf("not ok - %s: %s:%d: %s\n", name, __FILE__,	\
		    __LINE__, #cond);					\
		unit_failed = 1;					\
	}								\
} while (0)

/* A seeded generator, so that every run sees the same data. */
static inline unsigned long long
unit_rand(unsigned long long *s)
{
	unsigned long long z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void
unit_fill(unsigned char *p, size_t n, unsigned long long seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)unit_rand(&seed);
}

#define UNIT_END() return unit_failed ? 1 : 0

#endif
