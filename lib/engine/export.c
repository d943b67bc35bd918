/* export.c: the caches of a committed snapshot, read from its catalog. */
#include <errno.h>

#include "catalog.h"
#include "entry.h"
#include "export.h"
#include "generation.h"
#include "known.h"
#include "statcache.h"

int
pk_export_statcache(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const char *path)
{
	struct pk_buf ent = PK_BUF_INIT, xbuf = PK_BUF_INIT, content = PK_BUF_INIT;
	struct pk_statcache_builder *b;
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_entry e;
	uint64_t size;
	uint32_t flags;
	int n, err = 0, infile = 0;

	if ((n = pk_gc_generation(r->store, &r->generation)) < 0 ||
	    (n = pk_catalog_open(&cat, r, ix, snap, &h)) < 0)
		return n;
	if ((n = pk_statcache_build_begin(&b, path, r->id, r->generation,
	    snap->start_sec)) < 0) {
		pk_catalog_close(cat);
		return n;
	}
	while (err == 0 && (n = pk_catalog_next(cat, &rec)) > 0) {
		switch (rec.type) {
		case PK_REC_ENTRY:
			pk_buf_reset(&ent);
			pk_buf_reset(&content);
			err = pk_buf_add(&ent, rec.data, rec.len);
			if (err == 0)
				err = pk_entry_decode(&e, ent.data, ent.len, &xbuf);
			infile = err == 0 && e.type == PK_FT_REG;
			break;
		case PK_REC_REF:
		case PK_REC_HOLE:
			if ((err = pk_buf_add_u8(&content, rec.type)) == 0)
				err = pk_buf_add_str(&content, rec.data, rec.len);
			break;
		case PK_REC_EOF:
			if (infile && pk_record_eof(&rec, &size, &flags) == 0)
				err = pk_statcache_build_file(b, &e, content.data,
				    content.len, flags);
			infile = 0;
			break;
		}
	}
	if (n < 0)
		err = n;
	pk_catalog_close(cat);
	pk_buf_release(&ent);
	pk_buf_release(&xbuf);
	pk_buf_release(&content);
	if (err < 0) {
		pk_statcache_build_abort(b);
		return err;
	}
	return pk_statcache_build_commit(b);
}

struct export {
	const char *path;
	const struct pk_repo *r;
	struct pk_buf ids;
};

static int
export_add(const struct export *x)
{
	return pk_known_add(x->path, x->r->id, x->r->generation, x->ids.data,
	    x->ids.len / PK_KNOWN_KEY_BYTES);
}

static int
export_one(void *arg, const uint8_t id[PK_ID_BYTES])
{
	struct export *x = arg;
	int e;

	if ((e = pk_buf_add(&x->ids, id, PK_KNOWN_KEY_BYTES)) < 0)
		return e;
	/* Bounded memory: add in batches of a million. */
	if (x->ids.len < (1u << 20) * PK_KNOWN_KEY_BYTES)
		return 0;
	e = export_add(x);
	pk_buf_reset(&x->ids);
	return e;
}

int
pk_export_known(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *snap, const char *path)
{
	struct export x = { path, r, PK_BUF_INIT };
	int e;

	if ((e = pk_gc_generation(r->store, &r->generation)) < 0)
		return e;
	if ((e = pk_catalog_chunks(r, ix, snap, export_one, &x)) == 0)
		e = export_add(&x);
	pk_buf_release(&x.ids);
	return e;
}
