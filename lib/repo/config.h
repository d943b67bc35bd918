/*
 * config.h: a repository's config file (pk-repo(5) "CONFIG"): its version,
 * id, chunk sizes, encryption, and the master key of a plaintext
 * repository, one a line (version 1 also held an encrypted repository's
 * wrapped key and its key derivation).  Read here, without any key, by the
 * filters that follow a repository's parameters (pk-chunk -r, and the
 * cache paths of pk-walk -r and pk-dedup -r), by repo.c to open it, and by
 * keyring.c; repo.c and keyring.c write it.
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
	/* Version 1 and encrypted: the Argon2id cost and salt, and the
	 * wrapped key; plaintext: the master key itself. */
	uint64_t ops, mem;
	uint8_t salt[PK_SALT_BYTES];
	uint8_t key[PK_WRAPPED_KEY_BYTES];
	size_t keylen;
	int have;
};

/* Reads REPO/config: 0, -ENOENT (not a repository), -EPROTO (another
 * version), -EBADMSG (corrupt), with a message.  Wipe c after use. */
int pk_config_read(struct pk_storage *s, struct pk_config *c);

/* 1 when c holds an encrypted repository's wrapped key (version 1). */
int pk_config_holds_key(const struct pk_config *c);

/* The text of c at the current version (PK_REPO_VERSION) into out, which
 * holds PK_CONFIG_MAX_BYTES: its length.  An encrypted repository's
 * config then holds no key (keyring.h). */
size_t pk_config_format(char out[PK_CONFIG_MAX_BYTES],
    const struct pk_config *c);

#endif
