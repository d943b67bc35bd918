/*
 * chunker.h: content-defined chunking, FastCDC with normalized chunking
 * (level 2) and the two-bytes-per-step loop.  The cut rule is normative,
 * part of pk-stream(5) version 1 ("CHUNKING"), and pinned by golden vectors.
 *
 * The chunker is a pure function of the bytes it is shown, so boundaries do
 * not depend on read sizes, provided callers follow one rule: ask for a cut
 * only with at least max bytes buffered, or with the end of the file.
 */
#ifndef PK_CHUNKER_H
#define PK_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#define PK_CHUNK_MIN_DEFAULT	(512u * 1024)
#define PK_CHUNK_AVG_DEFAULT	(1024u * 1024)
#define PK_CHUNK_MAX_DEFAULT	(8u * 1024 * 1024)
#define PK_CHUNK_MAX_LIMIT	(16u * 1024 * 1024)

struct pk_chunker {
	uint32_t min, avg, max;
	uint64_t mask_s, mask_l;	/* stricter below avg, looser above */
};

/* The rule the sizes must follow: the two-byte step needs even min and
 * max, and the masks a power of two for avg. */
#define PK_CHUNK_SIZES_RULE \
	"64 <= min < avg < max <= 16M, avg a power of two, min and max even"

/* Checks the sizes against PK_CHUNK_SIZES_RULE; returns 0 or -EINVAL
 * with a message that quotes it. */
int pk_chunker_init(struct pk_chunker *c, uint32_t min, uint32_t avg,
    uint32_t max);

/*
 * Returns the length of the chunk that starts at p, given n bytes of which
 * at least c->max are there, or all that is left of the file.  The result
 * is in [1, n] (n itself when n <= c->min).
 */
size_t pk_chunker_cut(const struct pk_chunker *c, const uint8_t *p, size_t n);

#endif
