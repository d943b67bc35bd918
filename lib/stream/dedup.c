#include <errno.h>
#include <string.h>

#include "dedup.h"
#include "err.h"
#include "hashfile.h"
#include "known.h"

/* Adds id to seen: 1 when it was there, 0 when added (or when it cannot
 * be stored, an all-zero prefix: never deduplicated), <0. */
static int
seen_add(struct pk_hashfile *seen, const uint8_t *id)
{
	int e = pk_hashfile_insert(seen, id);

	return e == -EINVAL ? 0 : e;
}

int
pk_dedup_stream(struct pk_reader *r, struct pk_writer *w,
    const struct pk_known *kn, struct pk_dedup_stats *st)
{
	struct pk_hashfile_params p = { .kind = PK_HF_KNOWN,
	    .slot_bytes = PK_KNOWN_KEY_BYTES, .key_bytes = PK_KNOWN_KEY_BYTES };
	struct pk_hashfile *seen;
	struct pk_record rec;
	const uint8_t *id;
	uint32_t len;
	int n, e, dup;

	memset(st, 0, sizeof *st);
	if ((e = pk_hashfile_open(&seen, "chunks seen", &p,
	    PK_HF_CREATE | PK_HF_MEMORY)) < 0)
		return e;
	/* Chunks are passed on, not used: their ids are checked where they
	 * are stored, and between pipes their data is never read here. */
	pk_reader_defer_ids(r);
	(void)pk_reader_lazy(r, w);
	while ((n = pk_reader_next(r, &rec)) > 0) {
		if (rec.type != PK_REC_CHUNK) {
			if ((rec.type < PK_REC_ENTRY || rec.type > PK_REC_ERROR) &&
			    !(rec.flags & PK_RECF_IGNORABLE)) {
				e = pk_err(-EBADMSG, "%s: record %llu: unknown record "
				    "type 0x%02x", pk_reader_name(r),
				    (unsigned long long)pk_reader_recno(r), rec.type);
				break;
			}
			if ((e = pk_writer_copy(w, &rec)) < 0)
				break;
			continue;
		}
		if (rec.len <= PK_ID_BYTES) {
			e = pk_err(-EBADMSG, "%s: record %llu: bad CHUNK record",
			    pk_reader_name(r), (unsigned long long)pk_reader_recno(r));
			break;
		}
		id = rec.data;
		len = rec.len - PK_ID_BYTES;
		st->chunks++;
		st->bytes += len;
		if ((dup = seen_add(seen, id)) < 0) {
			e = dup;
			break;
		}
		if (dup || (kn && pk_known_has(kn, id))) {
			st->refs++;
			st->ref_bytes += len;
			e = pk_write_ref(w, id, len);
			if (e == 0 && rec.held < rec.len)
				e = pk_reader_drop(r);
		} else if (rec.held < rec.len) {
			e = pk_writer_forward(w, r, &rec);
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
	pk_hashfile_abort(seen);
	return e;
}
