/* Fuzz target: the record stream reader and every payload decoder. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_src s = { data, size, 4093 };
	struct pk_buf xbuf = PK_BUF_INIT, roots = PK_BUF_INIT;
	struct pk_origin origin;
	struct pk_stream_header h;
	struct pk_reader *r;
	struct pk_record rec;
	struct pk_snapshot snap;
	struct pk_entry e;
	const uint8_t *a, *b;
	uint32_t len, flags;
	uint64_t n64, m64;
	size_t l1, l2;
	int en;

	if (pk_reader_new_source(&r, fuzz_source, &s, "fuzz") < 0)
		return 0;
	if (pk_reader_header(r, &h) == 0) {
		while (pk_reader_next(r, &rec) > 0) {
			switch (rec.type) {
			case PK_REC_ENTRY:
				pk_entry_decode(&e, rec.data, rec.len, &xbuf);
				break;
			case PK_REC_HOLE:
				pk_record_hole(&rec, &n64);
				break;
			case PK_REC_REF:
				pk_record_ref(&rec, &a, &len);
				break;
			case PK_REC_CHUNK:
				pk_record_chunk(&rec, &a, &b, &len);
				break;
			case PK_REC_EOF:
				pk_record_eof(&rec, &n64, &flags);
				break;
			case PK_REC_ERROR:
				pk_record_error(&rec, &en, &a, &l1, &b, &l2);
				break;
			case PK_REC_META:
				memset(&snap, 0, sizeof snap);
				pk_snapshot_meta_decode(&snap, rec.data, rec.len);
				pk_snapshot_release(&snap);
				break;
			case PK_REC_WALK:
				pk_record_origin(&rec, &origin, &roots);
				break;
			case PK_REC_TOTAL:
				pk_record_total(&rec, &n64, &m64);
				break;
			}
		}
	}
	pk_reader_free(r);
	pk_buf_release(&xbuf);
	pk_buf_release(&roots);
	return 0;
}
