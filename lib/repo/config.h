/*
 * config.h: a repository's config file (pk-repo(5) "CONFIG"): its version,
 * id, chunk sizes, encryption, key derivation and key, one a line.  Read
 * here, without any key, by the filters that follow a repository's
 * parameters (pk-chunk -r, and the cache paths of pk-walk -r and pk-dedup
 * -r), and by repo.c to open it; repo.c writes it.
 */
#ifndef PK_CONFIG_H
#define PK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "repo.h"

#define PK_CONFIG_MAX_BYTES	4096

struct pk_config {
	int version;
	uint8_t id[PK_REPO_ID_BYTES];
	struct pk_repo_params p;
	uint64_t ops, mem;			/* Argon2id, when encrypted */
	uint8_t salt[PK_SALT_BYTES];
	uint8_t key[PK_WRAPPED_KEY_BYTES];	/* wrapped, or the plain master */
	size_t keylen;
	int have;
};

/* Reads REPO/config: 0, -ENOENT (not a repository), -EPROTO (another
 * version), -EBADMSG (corrupt), with a message.  Wipe c after use. */
int pk_config_read(struct pk_storage *s, struct pk_config *c);

#endif
