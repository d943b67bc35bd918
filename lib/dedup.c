#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dedup.h"
#include "err.h"
#include "known.h"

#define KEY_BYTES 16	/* of a chunk id: ids are uniform, 128 bits suffice */

/* An open-addressing set of id prefixes; an all-zero slot is empty. */
struct idset {
	uint8_t *slots;
	uint64_t cap, count;
};

static int
is_zero(const uint8_t *k)
{
	static const uint8_t zero[KEY_BYTES];

	return memcmp(k, zero, KEY_BYTES) == 0;
}

static uint8_t *
probe(const struct idset *s, const uint8_t *key)
{
	uint64_t i = pk_load_u64(key) & (s->cap - 1);
	uint8_t *p;

	for (;;) {
		p = s->slots + i * KEY_BYTES;
		if (is_zero(p) || memcmp(p, key, KEY_BYTES) == 0)
			return p;
		i = (i + 1) & (s->cap - 1);
	}
}

static int
idset_grow(struct idset *s)
{
	struct idset n = { NULL, s->cap ? s->cap * 2 : 4096, 0 };
	uint64_t i;

	if ((n.slots = calloc(n.cap, KEY_BYTES)) == NULL)
		return -ENOMEM;
	for (i = 0; i < s->cap; i++)
		if (!is_zero(s->slots + i * KEY_BYTES))
			memcpy(probe(&n, s->slots + i * KEY_BYTES),
			    s->slots + i * KEY_BYTES, KEY_BYTES);
	n.count = s->count;
	free(s->slots);
	*s = n;
	return 0;
}

/* 1 when key was there, 0 when added. */
static int
idset_add(struct idset *s, const uint8_t *key)
{
	uint8_t *p;
	int e;

	if (is_zero(key))
		return 0;	/* cannot be stored; never deduplicated */
	if ((s->count + 1) * 4 > s->cap * 3 && (e = idset_grow(s)) < 0)
		return e;
	p = probe(s, key);
	if (!is_zero(p))
		return 1;
	memcpy(p, key, KEY_BYTES);
	s->count++;
	return 0;
}

/* A chunk the repository has, in a pack that is still there. */
static int
known(struct pk_repo *repo, const struct pk_index *ix,
    struct pk_pack_census *census, const uint8_t *id)
{
	struct pk_blobloc loc;
	uint8_t sid[32];

	if (repo == NULL)
		return 0;
	pk_storage_id(&repo->keys, sid, id);
	return pk_index_find(ix, sid, &loc) &&
	    pk_pack_census_alive(census, loc.pack) > 0;
}

int
pk_dedup_stream(struct pk_reader *r, struct pk_writer *w,
    struct pk_repo *repo, const struct pk_index *ix,
    const struct pk_known *kn, struct pk_dedup_stats *st)
{
	struct idset seen = { NULL, 0, 0 };
	struct pk_pack_census *census = NULL;
	struct pk_record rec;
	const uint8_t *id, *data;
	uint32_t len;
	int n, e = 0, dup;

	memset(st, 0, sizeof *st);
	if (repo != NULL && (e = pk_pack_census_new(&census, repo)) < 0)
		return e;
	while ((n = pk_reader_next(r, &rec)) > 0) {
		if (rec.type != PK_REC_CHUNK) {
			if (rec.type > PK_REC_ERROR && !(rec.flags & PK_RECF_IGNORABLE)) {
				e = pk_err(-EBADMSG, "%s: record %llu: unknown record "
				    "type 0x%02x", pk_reader_name(r),
				    (unsigned long long)pk_reader_recno(r), rec.type);
				break;
			}
			if ((e = pk_writer_copy(w, &rec)) < 0)
				break;
			continue;
		}
		if (pk_record_chunk(&rec, &id, &data, &len) < 0) {
			e = pk_err(-EBADMSG, "%s: record %llu: bad CHUNK record",
			    pk_reader_name(r), (unsigned long long)pk_reader_recno(r));
			break;
		}
		st->chunks++;
		st->bytes += len;
		if ((dup = idset_add(&seen, id)) < 0) {
			e = dup;
			break;
		}
		if (dup || known(repo, ix, census, id) || (kn && pk_known_has(kn, id))) {
			st->refs++;
			st->ref_bytes += len;
			e = pk_write_ref(w, id, len);
		} else {
			e = pk_writer_copy(w, &rec);
		}
		if (e < 0)
			break;
	}
	if (n < 0)
		e = n;
	if (e == 0)
		e = pk_writer_end(w);
	free(seen.slots);
	pk_pack_census_free(census);
	return e;
}
