/*
 * t-err: error messages (err.h) belong to the code they were recorded
 * with: a failure that records none is reported with strerror, never
 * with an earlier failure's words; a cleared message is gone; each thread
 * has its own; a message may quote the one before it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "pk.h"
#include "unit.h"

static void *
other_thread(void *arg)
{
	*(int *)arg = strcmp(pk_errmsg(-ENOENT), strerror(ENOENT)) == 0;
	return NULL;
}

int
main(void)
{
	struct pk_buf b = PK_BUF_INIT;
	uint8_t *data;
	size_t n;
	pthread_t t;
	int seen = 0, e;

	CHECK("pk_err returns its code", pk_err(-ENOENT, "a: gone") == -ENOENT);
	CHECK("the message, for its code", strcmp(pk_errmsg(-ENOENT), "a: gone") == 0);
	CHECK("another code: strerror, not the message",
	    strcmp(pk_errmsg(-EIO), strerror(EIO)) == 0);
	CHECK("a positive code is read as the errno",
	    strcmp(pk_errmsg(EIO), strerror(EIO)) == 0);
	pthread_create(&t, NULL, other_thread, &seen);
	pthread_join(t, NULL);
	CHECK("another thread does not see it", seen);
	pk_err(-EBADMSG, "b: %s", "bad");
	pk_err(-EBADMSG, "c: %s", pk_errmsg(-EBADMSG));
	CHECK("a message may quote the one before",
	    strcmp(pk_errmsg(-EBADMSG), "c: b: bad") == 0);
	pk_err_clear();
	CHECK("cleared: strerror", strcmp(pk_errmsg(-EBADMSG), strerror(EBADMSG)) == 0);

	/* A library failure with a message, then one without: the second is
	 * not reported with the first's words. */
	e = pk_read_file("tests/scratch/t-err/none", 100, &data, &n);
	CHECK("a missing file: -ENOENT", e == -ENOENT);
	CHECK("... with a message naming it", strstr(pk_errmsg(e), "t-err/none") != NULL);
	e = pk_buf_reserve(&b, SIZE_MAX - 8);
	CHECK("an impossible reserve: -ENOMEM", e == -ENOMEM);
	CHECK("... reported as itself, not as the missing file",
	    strcmp(pk_errmsg(e), strerror(ENOMEM)) == 0);
	pk_buf_release(&b);
	return unit_failed;
}
