/*
 * t-s3: the S3 back end of the storage interface (storage.h) against the
 * gateway of S3_ENDPOINT: whole files, ranges, listings of more than the
 * 1000 keys of one page, removal, and the uploads of several threads.
 * Without a gateway it skips.
 */
#include <pthread.h>

#include "unit.h"

#define SCRATCH	"tests/scratch/t-s3"
#define MANY	1100

static char place[512];

static int
count(void *arg, const char *name)
{
	(*(size_t *)arg)++;
	return 0;
}

static void
test_files(struct pk_storage *s)
{
	uint8_t big[300000], got[100], *p = NULL;
	struct pk_object *o = NULL;
	uint64_t size = 0;
	size_t n = 0, i;
	int e;

	for (i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	CHECK("put: a file", pk_storage_put(s, "packs/00/big", big, sizeof big) == 0);
	CHECK("get: the same bytes", pk_storage_get(s, "packs/00/big", 1 << 20,
	    &p, &n) == 0 && n == sizeof big && memcmp(p, big, n) == 0);
	free(p);
	e = pk_storage_get(s, "packs/00/big", 1000, &p, &n);
	CHECK("get: larger than asked, EFBIG", e == -EFBIG && p == NULL);
	e = pk_storage_get(s, "packs/00/none", 1000, &p, &n);
	CHECK("get: missing, ENOENT naming it", e == -ENOENT &&
	    strstr(pk_errmsg(e), "packs/00/none") != NULL);
	CHECK("exists: yes and no", pk_storage_exists(s, "packs/00/big") == 1 &&
	    pk_storage_exists(s, "packs/00/none") == 0);
	CHECK("object: open", pk_object_open(s, "packs/00/big", &o) == 0);
	CHECK("object: size", pk_object_size(o, &size) == 0 && size == sizeof big);
	CHECK("object: a range in the middle", pk_object_read(o, got, 100,
	    123456) == 0 && memcmp(got, big + 123456, 100) == 0);
	CHECK("object: the last bytes", pk_object_read(o, got, 10,
	    sizeof big - 10) == 0 && memcmp(got, big + sizeof big - 10, 10) == 0);
	CHECK("object: forward reads", pk_object_read(o, got, 100, 1000) == 0 &&
	    memcmp(got, big + 1000, 100) == 0 && pk_object_read(o, got, 100,
	    1100) == 0 && memcmp(got, big + 1100, 100) == 0);
	e = pk_object_read(o, got, 20, sizeof big - 10);
	CHECK("object: past the end, ENODATA", e == -ENODATA);
	e = pk_object_read(o, got, 10, sizeof big + 10);
	CHECK("object: beyond the end, ENODATA", e == -ENODATA);
	pk_object_close(o);
	CHECK("object: a missing one fails at its first read",
	    pk_object_open(s, "packs/00/none", &o) == 0 &&
	    pk_object_read(o, got, 10, 0) == -ENOENT);
	pk_object_close(o);
}

static void
test_listing(struct pk_storage *s)
{
	char name[64];
	size_t i, n = 0;
	int ok = 1;

	for (i = 0; i < MANY && ok; i++) {
		snprintf(name, sizeof name, "index/%032zx", i);
		ok = pk_storage_put(s, name, "x", 1) == 0;
	}
	CHECK("listing: 1100 files put", ok);
	CHECK("listing: all of them, over two pages",
	    pk_storage_list(s, "index", count, &n) == 0 && n == MANY);
	n = 0;
	CHECK("listing: the other directory holds its own",
	    pk_storage_list(s, "packs", count, &n) == 0 && n == 1);
	CHECK("remove: a file", pk_storage_remove(s, "index/"
	    "00000000000000000000000000000000") == 0);
	n = 0;
	CHECK("remove: gone from the listing",
	    pk_storage_list(s, "index", count, &n) == 0 && n == MANY - 1);
}

static void *
writer(void *arg)
{
	struct pk_storage *s = arg;
	struct pk_atomic a;
	char name[64];
	uint8_t buf[100000];
	int i, e = 0;

	memset(buf, 'p', sizeof buf);
	for (i = 0; i < 6 && e == 0; i++) {
		snprintf(name, sizeof name, "packs/01/%p-%d", (void *)&a, i);
		if ((e = pk_storage_new(s, &a)) == 0 &&
		    (e = pk_write_all(a.fd, buf, sizeof buf)) == 0)
			e = pk_storage_commit(s, &a, name, 1);
	}
	return (void *)(intptr_t)e;
}

static void
test_uploads(struct pk_storage *s)
{
	pthread_t t[3];
	void *r;
	size_t i, n = 0;
	int ok = 1;

	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, writer, s);
	for (i = 0; i < 3; i++) {
		pthread_join(t[i], &r);
		ok &= r == NULL;
	}
	CHECK("uploads: three threads commit in the background", ok);
	CHECK("uploads: flushed", pk_storage_flush(s) == 0);
	CHECK("uploads: all there", pk_storage_list(s, "packs", count, &n) == 0 &&
	    n == 1 + 18);
}

int
main(void)
{
	const char *ep = getenv("S3_ENDPOINT");
	struct pk_storage *s;

	if (ep == NULL || !*ep) {
		printf("skip - t-s3: no S3 gateway (S3_ENDPOINT)\n");
		return 0;
	}
	unit_scratch(SCRATCH);
	setenv("XDG_CACHE_HOME", SCRATCH "/cache", 1);
	setenv("AWS_ACCESS_KEY_ID", getenv("S3_ACCESS_KEY"), 1);
	setenv("AWS_SECRET_ACCESS_KEY", getenv("S3_SECRET_KEY"), 1);
	snprintf(place, sizeof place, "s3:%s/pkt-unit-%ld-%d/p", ep,
	    (long)time(NULL), (int)getpid());
	CHECK("open: makes the bucket", pk_storage_open(&s, place, 1) == 0);
	if (unit_failed)
		UNIT_END();
	test_files(s);
	test_listing(s);
	test_uploads(s);
	pk_storage_close(s);
	UNIT_END();
}
