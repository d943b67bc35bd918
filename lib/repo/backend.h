/*
 * backend.h: what a storage back end (storage.h) provides: localfs.c for
 * a directory, s3.c for an object store.  storage.c dispatches.
 */
#ifndef PK_BACKEND_H
#define PK_BACKEND_H

#include "storage.h"

struct pk_storage_ops {
	int (*get)(struct pk_storage *, const char *, size_t, uint8_t **,
	    size_t *);
	int (*put)(struct pk_storage *, const char *, const void *, size_t);
	int (*commit)(struct pk_storage *, struct pk_atomic *, const char *,
	    int);
	int (*flush)(struct pk_storage *);
	int (*exists)(struct pk_storage *, const char *);
	int (*remove)(struct pk_storage *, const char *);
	int (*list)(struct pk_storage *, const char *,
	    int (*)(void *, const char *), void *);
	int (*object_open)(struct pk_storage *, const char *,
	    struct pk_object **);
	int (*object_size)(struct pk_object *, uint64_t *);
	int (*object_read)(struct pk_object *, void *, size_t, uint64_t);
	void (*object_close)(struct pk_object *);
	void (*close)(struct pk_storage *);
};

/* The part every back end's storage begins with. */
struct pk_storage {
	const struct pk_storage_ops *ops;
	char *place;	/* as the user named it, for messages */
	char *work;	/* the local work directory */
};

/* Every back end's object begins with its storage. */
struct pk_object {
	struct pk_storage *s;
};

int pk_localfs_open(struct pk_storage **s, const char *path, int create);
int pk_s3_open(struct pk_storage **s, const char *place, int create);

#endif
