/*
 * buf.h: the one growable byte buffer.
 *
 * A struct pk_buf is owned by its caller: initialise it with PK_BUF_INIT,
 * release it with pk_buf_release().  Growth failures return -ENOMEM and
 * leave the contents untouched.
 */
#ifndef PK_BUF_H
#define PK_BUF_H

#include <stddef.h>
#include <stdint.h>

struct pk_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define PK_BUF_INIT { NULL, 0, 0 }

/* Makes room for at least n more bytes. */
int pk_buf_reserve(struct pk_buf *b, size_t n);
int pk_buf_add(struct pk_buf *b, const void *p, size_t n);
int pk_buf_add_u8(struct pk_buf *b, uint8_t v);
int pk_buf_add_u16(struct pk_buf *b, uint16_t v);	/* little-endian */
int pk_buf_add_u32(struct pk_buf *b, uint32_t v);	/* little-endian */
int pk_buf_add_u64(struct pk_buf *b, uint64_t v);	/* little-endian */
/* A u32 length followed by the bytes. */
int pk_buf_add_str(struct pk_buf *b, const void *p, size_t n);
void pk_buf_reset(struct pk_buf *b);
void pk_buf_release(struct pk_buf *b);
/* Sorts n records of size bytes at base by cmp and drops repeats (records
 * cmp finds equal); returns how many are left. */
size_t pk_sort_unique(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *));
/* Whether s is one of the n strings of v; whether one of the nwant
 * strings of want is. */
int pk_str_in(const char *s, char *const *v, size_t n);
int pk_str_any_in(char *const *want, size_t nwant, char *const *v, size_t n);

/*
 * A bounded little-endian decoder over borrowed bytes.  Every getter
 * returns -EBADMSG once the input is exhausted, and keeps failing after
 * that, so a caller may check only at the end with pk_cursor_ok().
 */
struct pk_cursor {
	const uint8_t *p;
	size_t left;
	int bad;
};

void pk_cursor_init(struct pk_cursor *c, const void *p, size_t n);
uint8_t pk_get_u8(struct pk_cursor *c);
uint16_t pk_get_u16(struct pk_cursor *c);
uint32_t pk_get_u32(struct pk_cursor *c);
uint64_t pk_get_u64(struct pk_cursor *c);
/* Borrows n bytes; NULL when fewer are left. */
const uint8_t *pk_get_bytes(struct pk_cursor *c, size_t n);
/* A u32 length, then that many bytes, borrowed. At most max bytes. */
const uint8_t *pk_get_str(struct pk_cursor *c, size_t max, size_t *len);
/* 0 when every get succeeded, -EBADMSG otherwise. */
int pk_cursor_ok(const struct pk_cursor *c);

static inline void pk_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
static inline void pk_put_u64(uint8_t *p, uint64_t v)
{
	pk_put_u32(p, (uint32_t)v); pk_put_u32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t pk_load_u32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t pk_load_u64(const uint8_t *p)
{
	return pk_load_u32(p) | (uint64_t)pk_load_u32(p + 4) << 32;
}

#endif
