/* s3.c: repositories on an object store. */
#include <errno.h>

#include "backend.h"
#include "err.h"

int
pk_s3_open(struct pk_storage **s, const char *place, int create)
{
	return pk_err(-EPROTONOSUPPORT, "%s: object storage is not supported "
	    "by this build", place);
}
