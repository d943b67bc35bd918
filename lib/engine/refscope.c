/* refscope.c: the chunks a stream may refer to. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "err.h"
#include "hashfile.h"
#include "known.h"
#include "refscope.h"
#include "snapshot.h"

struct pk_refscope {
	struct pk_repo *repo;
	const struct pk_index *ix;
	const char *host, *known_path;
	int trust;
	struct pk_known *known;		/* the host's set, or NULL */
	struct pk_hashfile *mine;	/* noted, and the host's snapshots' */
	int host_read;
};

int
pk_refscope_open(struct pk_refscope **rsp, struct pk_repo *r,
    const struct pk_index *ix, const char *host, const char *known, int trust)
{
	struct pk_hashfile_params p = { .kind = PK_HF_KNOWN,
	    .slot_bytes = PK_KNOWN_KEY_BYTES, .key_bytes = PK_KNOWN_KEY_BYTES };
	struct pk_refscope *rs;
	int e;

	if ((rs = calloc(1, sizeof *rs)) == NULL)
		return -ENOMEM;
	rs->repo = r;
	rs->ix = ix;
	rs->host = host;
	rs->known_path = known;
	rs->trust = trust;
	/* A set that cannot be read is one that holds nothing. */
	if (known)
		(void)pk_known_open(&rs->known, known, r->id, r->generation);
	pk_err_clear();
	if ((e = pk_hashfile_open(&rs->mine, "chunks of the stream", &p,
	    PK_HF_CREATE | PK_HF_MEMORY)) < 0) {
		pk_refscope_free(rs);
		return e;
	}
	*rsp = rs;
	return 0;
}

int
pk_refscope_note(struct pk_refscope *rs, const uint8_t id[PK_ID_BYTES])
{
	int e = pk_hashfile_insert(rs->mine, id);

	return e == 1 || e == -EINVAL ? 0 : e;	/* had it; all-zero prefix */
}

static int
note_host_chunk(void *arg, const uint8_t id[PK_ID_BYTES])
{
	return pk_refscope_note(arg, id);
}

/* The chunks of the host's snapshots, into mine. */
static int
read_host_chunks(struct pk_refscope *rs)
{
	struct pk_snapshot *list;
	size_t n, i;
	int e;

	rs->host_read = 1;
	if (rs->host == NULL)
		return 0;
	if ((e = pk_snapshot_list(rs->repo, &list, &n, NULL)) < 0)
		return e;
	for (i = 0; i < n && e == 0; i++)
		if (list[i].host && strcmp(list[i].host, rs->host) == 0)
			e = pk_catalog_chunks(rs->repo, rs->ix, &list[i],
			    note_host_chunk, rs);
	pk_snapshot_list_free(list, n);
	return e;
}

int
pk_refscope_allows(struct pk_refscope *rs, const uint8_t id[PK_ID_BYTES])
{
	int e;

	if (rs->trust || pk_hashfile_find(rs->mine, id) != NULL ||
	    pk_refscope_known(rs, id))
		return 1;
	if (rs->host_read)
		return 0;
	if ((e = read_host_chunks(rs)) < 0)
		return e;
	return pk_hashfile_find(rs->mine, id) != NULL;
}

int
pk_refscope_known(const struct pk_refscope *rs, const uint8_t id[PK_ID_BYTES])
{
	return rs->known && pk_known_has(rs->known, id);
}

struct newknown {
	const struct pk_known *known;
	struct pk_buf ids;
};

static int
collect_new(void *arg, const void *id)
{
	struct newknown *nk = arg;

	if (nk->known && pk_known_has(nk->known, id))
		return 0;
	return pk_buf_add(&nk->ids, id, PK_KNOWN_KEY_BYTES);
}

int
pk_refscope_commit(struct pk_refscope *rs)
{
	struct newknown nk = { rs->known, PK_BUF_INIT };
	int e;

	if (rs->known_path == NULL)
		return 0;
	e = pk_hashfile_foreach(rs->mine, collect_new, &nk);
	pk_known_close(rs->known);
	rs->known = NULL;
	if (e == 0)
		e = pk_known_add(rs->known_path, rs->repo->id,
		    rs->repo->generation, nk.ids.data,
		    nk.ids.len / PK_KNOWN_KEY_BYTES);
	pk_buf_release(&nk.ids);
	return e;
}

void
pk_refscope_free(struct pk_refscope *rs)
{
	if (rs == NULL)
		return;
	pk_known_close(rs->known);
	pk_hashfile_abort(rs->mine);
	free(rs);
}
