#include <errno.h>
#include <string.h>

#include "err.h"
#include "origin.h"

static int
str_ok(const uint8_t *p, size_t n)
{
	if (n == 0)
		return 1;
	return n <= PK_ORIGIN_MAX_STRING && memchr(p, '\0', n) == NULL;
}

int
pk_write_origin(struct pk_writer *w, const struct pk_origin *o)
{
	struct pk_buf b = PK_BUF_INIT;
	const struct pk_root *r;
	uint32_t i;
	int e = 0;

	if (o->start_nsec >= 1000000000u)
		return pk_err(-EINVAL, "walk start: nanoseconds out of range");
	if (!str_ok(o->host.p, o->host.len) || !str_ok(o->user.p, o->user.len))
		return pk_err(-EINVAL, "host or user name too long, or holds "
		    "a NUL byte");
	if (o->nroots > PK_ORIGIN_MAX_ROOTS)
		return pk_err(-EINVAL, "more than %d paths to record",
		    PK_ORIGIN_MAX_ROOTS);
	e |= pk_buf_add_u64(&b, (uint64_t)o->start_sec);
	e |= pk_buf_add_u32(&b, o->start_nsec);
	e |= pk_buf_add_str(&b, o->host.p, o->host.len);
	e |= pk_buf_add_str(&b, o->user.p, o->user.len);
	e |= pk_buf_add_u32(&b, o->nroots);
	for (i = 0; i < o->nroots; i++) {
		r = &o->roots[i];
		if (r->kind > PK_ROOT_STDIN || r->path.len == 0 ||
		    !str_ok(r->path.p, r->path.len)) {
			pk_buf_release(&b);
			return pk_err(-EINVAL, "%.*s: not a path to record",
			    (int)(r->path.len > 256 ? 256 : r->path.len),
			    (const char *)r->path.p);
		}
		e |= pk_buf_add_u8(&b, r->kind);
		e |= pk_buf_add_str(&b, r->path.p, r->path.len);
	}
	if (e == 0)
		e = pk_writer_put(w, PK_REC_WALK, PK_RECF_IGNORABLE, b.data, b.len);
	else
		e = -ENOMEM;
	pk_buf_release(&b);
	return e;
}

static int
get_str(struct pk_cursor *c, struct pk_str *s)
{
	s->p = pk_get_str(c, PK_ORIGIN_MAX_STRING, &s->len);
	return s->p != NULL && (s->len == 0 ||
	    memchr(s->p, '\0', s->len) == NULL);
}

int
pk_record_origin(const struct pk_record *rec, struct pk_origin *o,
    struct pk_buf *tmp)
{
	struct pk_cursor c;
	struct pk_root r;
	uint32_t i;

	memset(o, 0, sizeof *o);
	pk_buf_reset(tmp);
	pk_cursor_init(&c, rec->data, rec->len);
	o->start_sec = (int64_t)pk_get_u64(&c);
	o->start_nsec = pk_get_u32(&c);
	if (!get_str(&c, &o->host) || !get_str(&c, &o->user))
		return -EBADMSG;
	o->nroots = pk_get_u32(&c);
	if (c.bad || o->start_nsec >= 1000000000u ||
	    o->nroots > PK_ORIGIN_MAX_ROOTS)
		return -EBADMSG;
	for (i = 0; i < o->nroots; i++) {
		r.kind = pk_get_u8(&c);
		if (!get_str(&c, &r.path) || r.path.len == 0 ||
		    r.kind > PK_ROOT_STDIN)
			return -EBADMSG;
		if (pk_buf_add(tmp, &r, sizeof r) < 0)
			return -ENOMEM;
	}
	if (c.left != 0)
		return -EBADMSG;
	o->roots = (const struct pk_root *)(void *)tmp->data;
	return 0;
}
