/*
 * known.h: the known-chunk set of a repository: the chunk ids (their first
 * 16 bytes) that its snapshots hold, as a hash file (kind PK_HF_KNOWN,
 * pk-repo(5) "KNOWN-CHUNK SET").  pk-dedup reads it to send references
 * for chunks the repository has, with no key and no access to the
 * repository: on a client, before ssh.  It holds ids in the clear, like
 * the stream does: it belongs next to the data, not in the repository.
 *
 * pk-store adds the chunks of each snapshot it commits; pk-index
 * --export-known builds one from the snapshots of a repository.  A set
 * that claims a chunk the repository lacks makes pk-store refuse the
 * snapshot (never a snapshot that does not restore); delete the file then.
 */
#ifndef PK_KNOWN_H
#define PK_KNOWN_H

#include <stdint.h>

#include "buf.h"
#include "record.h"

#define PK_KNOWN_KEY_BYTES 16

struct pk_known;

/* Opens a set read-only; repo_id, when not NULL, must match, and so must
 * generation then.  0, -ENOENT, -ESTALE (message says why) or another
 * negative errno. */
int pk_known_open(struct pk_known **k, const char *path, const uint8_t *repo_id,
    uint64_t generation);
/* 1 when the chunk id is in the set. */
int pk_known_has(const struct pk_known *k, const uint8_t id[PK_ID_BYTES]);
void pk_known_close(struct pk_known *k);

/*
 * Adds ids (PK_KNOWN_KEY_BYTES each, n of them) to the set at path,
 * creating it, or starting it afresh when it cannot be trusted.  Takes the
 * set's lock for the time of the call only.
 */
int pk_known_add(const char *path, const uint8_t repo_id[16], uint64_t generation,
    const uint8_t *ids, size_t n);

#endif
