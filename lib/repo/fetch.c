/* fetch.c: a chunk's bytes out of a repository, by id. */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "fetch.h"
#include "hash.h"

int
pk_chunk_fetch(struct pk_repo *r, const struct pk_index *ix,
    struct pk_blob_reader *br, const uint8_t id[PK_ID_BYTES], uint32_t len,
    struct pk_buf *out)
{
	uint8_t sid[PK_SID_BYTES], check[PK_ID_BYTES];
	struct pk_blobloc loc;
	char hex[17];
	int e;

	pk_hex(hex, id, 8);
	pk_storage_id(&r->keys, sid, id);
	if (!pk_index_find(ix, sid, &loc))
		return pk_err(-ENOENT, "chunk %s…: not in the repository", hex);
	if (loc.raw != len)
		return pk_err(-EBADMSG, "chunk %s…: stored with another length", hex);
	if ((e = pk_blob_read(br, &loc, out)) < 0)
		return e;
	pk_hash_id(check, out->data, out->len);
	if (memcmp(check, id, PK_ID_BYTES) != 0) {
		char rel[PK_PACK_RELPATH_BYTES];

		pk_pack_relpath(rel, sizeof rel, loc.pack);
		return pk_err(-EBADMSG, "%s/%s: chunk %s… does not match its id",
		    r->path, rel, hex);
	}
	return 0;
}
