/* storage.c: the storage interface, dispatched to its back end. */
#include <string.h>

#include "backend.h"
#include "err.h"

int
pk_storage_is_remote(const char *place)
{
	return strncmp(place, "s3:", 3) == 0;
}

int
pk_storage_open(struct pk_storage **s, const char *place, int create)
{
	*s = NULL;
	if (pk_storage_is_remote(place))
		return pk_s3_open(s, place, create);
	return pk_localfs_open(s, place, create);
}

void
pk_storage_close(struct pk_storage *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *
pk_storage_place(const struct pk_storage *s)
{
	return s->place;
}

const char *
pk_storage_work(const struct pk_storage *s)
{
	return s->work;
}

int
pk_storage_name(const struct pk_storage *s, char *out, size_t n,
    const char *name)
{
	return pk_path(out, n, "%s/%s", s->place, name);
}

int
pk_storage_get(struct pk_storage *s, const char *name, size_t max,
    uint8_t **p, size_t *n)
{
	return s->ops->get(s, name, max, p, n);
}

int
pk_storage_put(struct pk_storage *s, const char *name, const void *p,
    size_t n)
{
	return s->ops->put(s, name, p, n);
}

int
pk_storage_new(struct pk_storage *s, struct pk_atomic *a)
{
	char tmp[4096];
	int e;

	if ((e = pk_path(tmp, sizeof tmp, "%s/tmp", s->work)) < 0)
		return e;
	return pk_atomic_open(a, tmp, 0400);
}

int
pk_storage_commit(struct pk_storage *s, struct pk_atomic *a, const char *name,
    int later)
{
	return s->ops->commit(s, a, name, later);
}

int
pk_storage_flush(struct pk_storage *s)
{
	return s->ops->flush(s);
}

int
pk_storage_exists(struct pk_storage *s, const char *name)
{
	return s->ops->exists(s, name);
}

int
pk_storage_remove(struct pk_storage *s, const char *name)
{
	return s->ops->remove(s, name);
}

int
pk_storage_list(struct pk_storage *s, const char *dir,
    int (*fn)(void *arg, const char *name), void *arg)
{
	return s->ops->list(s, dir, fn, arg);
}

int
pk_object_open(struct pk_storage *s, const char *name, struct pk_object **o)
{
	*o = NULL;
	return s->ops->object_open(s, name, o);
}

int
pk_object_size(struct pk_object *o, uint64_t *size)
{
	return o->s->ops->object_size(o, size);
}

int
pk_object_read(struct pk_object *o, void *p, size_t n, uint64_t off)
{
	return o->s->ops->object_read(o, p, n, off);
}

void
pk_object_close(struct pk_object *o)
{
	if (o != NULL)
		o->s->ops->object_close(o);
}
