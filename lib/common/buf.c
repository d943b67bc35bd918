#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int
pk_buf_reserve(struct pk_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	/* Allocates even for n == 0, so that data is never NULL after a
	 * reserve or an add and data + offset is always defined. */
	if (b->data != NULL && b->cap - b->len >= n)
		return 0;
	if (n > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
pk_buf_add(struct pk_buf *b, const void *p, size_t n)
{
	int r = pk_buf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
pk_buf_add_u8(struct pk_buf *b, uint8_t v)
{
	return pk_buf_add(b, &v, 1);
}

int
pk_buf_add_u16(struct pk_buf *b, uint16_t v)
{
	uint8_t p[2] = { v, v >> 8 };

	return pk_buf_add(b, p, 2);
}

int
pk_buf_add_u32(struct pk_buf *b, uint32_t v)
{
	uint8_t p[4];

	pk_put_u32(p, v);
	return pk_buf_add(b, p, 4);
}

int
pk_buf_add_u64(struct pk_buf *b, uint64_t v)
{
	uint8_t p[8];

	pk_put_u64(p, v);
	return pk_buf_add(b, p, 8);
}

int
pk_buf_add_str(struct pk_buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return -EOVERFLOW;
	if ((r = pk_buf_add_u32(b, (uint32_t)n)) < 0)
		return r;
	return pk_buf_add(b, p, n);
}

void
pk_buf_reset(struct pk_buf *b)
{
	b->len = 0;
}

void
pk_buf_release(struct pk_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
pk_cursor_init(struct pk_cursor *c, const void *p, size_t n)
{
	c->p = p;
	c->left = n;
	c->bad = 0;
}

const uint8_t *
pk_get_bytes(struct pk_cursor *c, size_t n)
{
	const uint8_t *p;

	if (c->bad || c->left < n) {
		c->bad = 1;
		return NULL;
	}
	p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

uint8_t
pk_get_u8(struct pk_cursor *c)
{
	const uint8_t *p = pk_get_bytes(c, 1);

	return p ? p[0] : 0;
}

uint16_t
pk_get_u16(struct pk_cursor *c)
{
	const uint8_t *p = pk_get_bytes(c, 2);

	return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

uint32_t
pk_get_u32(struct pk_cursor *c)
{
	const uint8_t *p = pk_get_bytes(c, 4);

	return p ? pk_load_u32(p) : 0;
}

uint64_t
pk_get_u64(struct pk_cursor *c)
{
	const uint8_t *p = pk_get_bytes(c, 8);

	return p ? pk_load_u64(p) : 0;
}

const uint8_t *
pk_get_str(struct pk_cursor *c, size_t max, size_t *len)
{
	uint32_t n = pk_get_u32(c);

	*len = 0;
	if (c->bad)
		return NULL;
	if (n > max) {
		c->bad = 1;
		return NULL;
	}
	*len = n;
	return pk_get_bytes(c, n);
}

int
pk_cursor_ok(const struct pk_cursor *c)
{
	return c->bad ? -EBADMSG : 0;
}

size_t
pk_sort_unique(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	uint8_t *p = base;
	size_t i, k = 0;

	if (n == 0)		/* (qsort wants a pointer even for none) */
		return 0;
	qsort(p, n, size, cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || cmp(p + (k - 1) * size, p + i * size) != 0)
			memmove(p + k++ * size, p + i * size, size);
	return k;
}

int
pk_str_in(const char *s, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int
pk_str_any_in(char *const *want, size_t nwant, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < nwant; i++)
		if (pk_str_in(want[i], v, n))
			return 1;
	return 0;
}
