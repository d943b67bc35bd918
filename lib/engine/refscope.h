/*
 * refscope.h: the chunks a stream may refer to without sending them
 * (pk-repo(5) SECURITY, "Streams from other hosts"): those it carried
 * earlier, those of the snapshots of its host, and those of the host's
 * known-chunk set, which pk-dedup read to make its references.  Whether the
 * repository holds a chunk plays no part: the answer must not tell a
 * stream what others stored.  At the commit, the chunks the stream carried
 * or referred to join the known-chunk set.
 */
#ifndef PK_REFSCOPE_H
#define PK_REFSCOPE_H

#include <stdint.h>

#include "index.h"
#include "record.h"
#include "repo.h"

struct pk_refscope;

/*
 * For a stream of host (NULL: no snapshot's chunks are its own) into r,
 * whose chunk index ix is borrowed; known, the host's known-chunk set, may
 * be NULL or missing.  With trust, every chunk may be referred to.
 */
int pk_refscope_open(struct pk_refscope **rs, struct pk_repo *r,
    const struct pk_index *ix, const char *host, const char *known,
    int trust);
/* From here on the stream may refer to chunk id. */
int pk_refscope_note(struct pk_refscope *rs, const uint8_t id[PK_ID_BYTES]);
/* 1 when the stream may refer to chunk id, else 0, or <0.  The host's
 * snapshots are read, once, at the first id found nowhere else. */
int pk_refscope_allows(struct pk_refscope *rs, const uint8_t id[PK_ID_BYTES]);
/* 1 when the known-chunk set lists id. */
int pk_refscope_known(const struct pk_refscope *rs,
    const uint8_t id[PK_ID_BYTES]);
/* Adds the chunks noted that the known-chunk set lacks to it. */
int pk_refscope_commit(struct pk_refscope *rs);
void pk_refscope_free(struct pk_refscope *rs);

#endif
