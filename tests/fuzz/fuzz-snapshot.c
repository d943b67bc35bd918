/*
 * Fuzz target: snapshot files (pk_snapshot_read: header, box, contents and
 * seek table).  Input: the snapshot id (32 bytes, its file name), then the
 * file.  Read as it is, then retagged (fuzz.h).
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define HEADER	16

static void
read_one(struct pk_repo *r, const char *name, const uint8_t *p, size_t n)
{
	struct pk_snapshot s;
	char path[4200];

	snprintf(path, sizeof path, "%s/snapshots/%s", r->path, name);
	if (fuzz_write(path, p, n, 0400) < 0)
		return;
	if (pk_snapshot_read(r, name, &s) == 0)
		pk_snapshot_release(&s);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo *r = fuzz_repo();
	char name[PK_SNAPSHOT_NAME_BYTES];
	uint8_t *file, ad[64];
	size_t n;

	if (size < PK_SNAPSHOT_ID_BYTES)
		return 0;
	pk_hex(name, data, PK_SNAPSHOT_ID_BYTES);
	data += PK_SNAPSHOT_ID_BYTES;
	n = size - PK_SNAPSHOT_ID_BYTES;
	read_one(r, name, data, n);
	if (n < HEADER || (file = malloc(n)) == NULL)
		return 0;
	memcpy(file, data, n);
	fuzz_retag(file + HEADER, n - HEADER, ad, fuzz_ad(ad, "pk snapshot",
	    data - PK_SNAPSHOT_ID_BYTES, PK_SNAPSHOT_ID_BYTES));
	read_one(r, name, file, n);
	free(file);
	return 0;
}
