/*
 * keyring.h: the keys of an encrypted repository (pk-repo(5), "KEYS" and
 * "KEY FILES").  Each key is an object keys/ID that wraps the one master
 * key: under a passphrase (Argon2id), or under the secret of a key file.
 * Keys are added and removed without touching any other file, so a
 * passphrase changes and a key file is revoked without re-encrypting
 * anything.  A repository of config version 1 keeps its only key in its
 * config; pk_keyring_migrate moves it into keys/.
 *
 * Functions that take a repository need it opened (repo.h); they return
 * 0 or a negative errno with a message, as everywhere in the library.
 */
#ifndef PK_KEYRING_H
#define PK_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "crypto.h"
#include "repo.h"

#define PK_KEY_SECRET_BYTES	32
#define PK_KEY_OBJECT_MAX	1024	/* bytes of a keys/ID object */
#define PK_KEY_NAME_MAX		192	/* host, user: %XX-escaped */
#define PK_KEY_OBJECT_VERSION	1
#define PK_KEYFILE_MAX		512	/* bytes of a key file */

enum pk_key_kind { PK_KEY_PASSPHRASE = 1, PK_KEY_FILE = 2 };

/* A key object, as pk-repo(5) "Key objects" lays it out. */
struct pk_key_object {
	uint8_t id[PK_KEY_ID_BYTES];
	enum pk_key_kind kind;
	int moved;			/* wrapped as in a version 1 config */
	int64_t created;		/* seconds since the epoch */
	char host[PK_KEY_NAME_MAX + 1];	/* as written: %XX-escaped */
	char user[PK_KEY_NAME_MAX + 1];
	uint64_t ops, mem;		/* Argon2id, passphrase keys */
	uint8_t salt[PK_SALT_BYTES];
	uint8_t wrapped[PK_WRAPPED_KEY_BYTES];
	size_t head;			/* bytes before the key line */
};

/*
 * The text of k into out (of PK_KEY_OBJECT_MAX bytes): its length, and
 * k->head set.  Encode writes the wrapped key as it is in k; the lines
 * before it, k->head bytes, are part of the associated data it must have
 * been wrapped with (pk_key_object_ad).
 */
size_t pk_key_object_encode(char out[PK_KEY_OBJECT_MAX],
    struct pk_key_object *k);
/* Parses text (n bytes) into k: 0, or -EBADMSG for anything but the one
 * form a writer makes.  No message: the caller names the object. */
int pk_key_object_decode(struct pk_key_object *k, const char *text, size_t n);
/* The associated data that binds k's wrapped key to the repository, its
 * id and its other lines (text, as decoded or encoded): its length. */
size_t pk_key_object_ad(uint8_t ad[PK_KEY_OBJECT_MAX + 64],
    const struct pk_key_object *k, const char *text,
    const uint8_t repo[PK_REPO_ID_BYTES]);
/* The key that wraps the master key in a key file's object. */
void pk_key_file_kek(uint8_t kek[PK_KEY_BYTES],
    const uint8_t secret[PK_KEY_SECRET_BYTES]);

/* A key file of version 2 (pk-repo(5) "KEY FILES"): what it names. */
struct pk_keyfile {
	int version;			/* 1: holds the master key itself */
	uint8_t repo[PK_REPO_ID_BYTES];
	uint8_t id[PK_KEY_ID_BYTES];	/* version 2 */
	uint8_t secret[PK_KEY_SECRET_BYTES];	/* version 2; 1: the master key */
};

/* The text of a key file of version 2 into out: its length. */
size_t pk_keyfile_encode(char out[PK_KEYFILE_MAX], const struct pk_keyfile *f);
/* Parses a key file of either version: 0, -EBADMSG (not a key file, or
 * damaged), or, with repo_id, -EACCES for the key of another repository;
 * a message names file. */
int pk_keyfile_decode(struct pk_keyfile *f, const char *text, size_t n,
    const char *file, const uint8_t *repo_id);

/*
 * Unlocking, for repo.c.  Passphrase: each passphrase key of keys/ in
 * turn (one Argon2id each), or the key of a version 1 config; -EACCES
 * "wrong passphrase" when none opens.  Key file: read from file (mode
 * 0600, not a link), checked against the repository and, for version 2,
 * against its object in keys/, which must still be there: -EACCES when
 * it was removed.  Both fill master and used (repo.h).
 */
int pk_keyring_unlock(struct pk_storage *s, const struct pk_config *c,
    const char *pass, size_t passlen, uint8_t master[PK_KEY_BYTES],
    struct pk_key_used *used);
int pk_keyring_unlock_file(struct pk_storage *s, const struct pk_config *c,
    const char *file, uint8_t master[PK_KEY_BYTES], struct pk_key_used *used);

/* The first key of a new repository, a passphrase key, written before
 * its config (repo.c). */
int pk_keyring_first(struct pk_storage *s, const uint8_t repo[PK_REPO_ID_BYTES],
    const uint8_t master[PK_KEY_BYTES], const char *pass, size_t passlen);

/* One key as listed: its object, or the key of a version 1 config. */
struct pk_key_entry {
	int config;			/* in config, not keys/; no id */
	int used;			/* the key r was opened with */
	struct pk_key_object k;
};

/*
 * The keys of r, sorted by id, the config's first: a malloc'd array of
 * *n entries (free it).  A key object that does not parse is an error
 * naming it.  -EINVAL "not encrypted" for a plaintext repository.
 */
int pk_keyring_list(struct pk_repo *r, struct pk_key_entry **list, size_t *n);

/*
 * Moves the key of a version 1 config into keys/ and rewrites the config
 * at version 2, once; nothing when there is nothing to move.  Every
 * function below calls it first.
 */
int pk_keyring_migrate(struct pk_repo *r);

/*
 * Adds a passphrase key, or a key file written to file (created 0600,
 * never over an existing file) and its object.  id (may be NULL) gets
 * the new key's id.
 */
int pk_keyring_add_passphrase(struct pk_repo *r, const char *pass,
    size_t passlen, uint8_t id[PK_KEY_ID_BYTES]);
int pk_keyring_add_file(struct pk_repo *r, const char *file,
    uint8_t id[PK_KEY_ID_BYTES]);

/*
 * Removes the key whose id starts with prefix (hexadecimal; at least 4
 * digits): -ENOENT when none does, -EINVAL when several or the prefix is
 * too short, -EPERM for the last key.  id gets the removed key's id.
 */
int pk_keyring_remove(struct pk_repo *r, const char *prefix,
    uint8_t id[PK_KEY_ID_BYTES]);

/*
 * Replaces the passphrase key r was opened with by one of pass: the new
 * key is written before the old is removed, so a crash between leaves
 * both.  -EINVAL when r was not opened with a passphrase key.  id gets
 * the new key's id.
 */
int pk_keyring_passwd(struct pk_repo *r, const char *pass, size_t passlen,
    uint8_t id[PK_KEY_ID_BYTES]);

#endif
