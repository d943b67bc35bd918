/*
 * repo.h: a repository (pk-repo(5)), in a local directory or an object
 * store (storage.h):
 *
 *	REPO/config		parameters (text)
 *	REPO/keys/ID		keys: the master key wrapped (keyring.h)
 *	REPO/packs/XX/ID	pack files: sealed blobs, sealed trailer
 *	REPO/index/ID		index deltas: where each new blob lives
 *	REPO/snapshots/ID	snapshots, the only commit points
 *
 * and in its local work directory (the repository itself when local):
 *
 *	WORK/chunkindex		hash file of every blob, rebuilt from index/
 *	WORK/tmp/		files being written
 *
 * Every file but chunkindex is written once, under a name no other writer
 * can choose, and never modified: many writers can share a repository.
 */
#ifndef PK_REPO_H
#define PK_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "storage.h"

#define PK_REPO_VERSION		2	/* of config; 1 is read too */
#define PK_REPO_ID_BYTES	16
#define PK_KEY_ID_BYTES		16

/* The key a repository was opened with (keyring.h). */
enum pk_key_how {
	PK_USED_NONE,		/* plaintext: the key in config */
	PK_USED_CONFIG,		/* the passphrase key of a version 1 config */
	PK_USED_KEY,		/* keys/ID, a passphrase or a key file */
	PK_USED_OLD_FILE,	/* a key file of version 1: the master key */
};
struct pk_key_used {
	enum pk_key_how how;
	uint8_t id[PK_KEY_ID_BYTES];	/* PK_USED_KEY */
	int passphrase;			/* opened with a passphrase */
};

struct pk_repo_params {
	uint32_t chunk_min, chunk_avg, chunk_max;
	int encrypted;
	uint8_t id[PK_REPO_ID_BYTES];	/* read, not used by init */
};

struct pk_repo {
	const char *path;		/* the place, for messages */
	struct pk_storage *store;
	uint8_t id[PK_REPO_ID_BYTES];
	struct pk_repo_params params;
	struct pk_keys keys;
	/* The master key, for adding keys (keyring.h), and how it was
	 * had. */
	uint8_t master[PK_KEY_BYTES];
	struct pk_key_used used;
	/* generation.h: 0 until pk_gcmark_list or pk_gc_bump reads it, or
	 * whoever needs it does (a listing costs a request on S3). */
	uint64_t generation;
};

/*
 * Creates a repository at path (which must not exist or be an empty
 * directory).  pass is required when p->encrypted.
 */
int pk_repo_init(const char *path, const struct pk_repo_params *p,
    const char *pass, size_t passlen);

/* Reads the public parameters, without a passphrase (config.c). */
int pk_repo_read_params(const char *path, struct pk_repo_params *p);

/*
 * Opens a repository; pass is ignored by plaintext repositories.  Returns
 * -EACCES for a wrong passphrase, -EPROTO for an unsupported version,
 * -EBADMSG for a corrupt config.  Free with pk_repo_close().
 */
int pk_repo_open(struct pk_repo **r, const char *path, const char *pass,
    size_t passlen);
void pk_repo_close(struct pk_repo *r);

/*
 * Key files (pk-repo(5), "KEY FILES").  Export opens an encrypted
 * repository with pass and adds a key file (pk_keyring_add_file): a new
 * file of mode 0600; an existing file is never replaced.  Open uses such a
 * file instead of the passphrase, so no Argon2id runs; it refuses a file
 * others may read (-EPERM), another repository's key and a removed one
 * (-EACCES), and a damaged one (-EBADMSG).
 */
int pk_repo_export_key(const char *path, const char *pass, size_t passlen,
    const char *file);
int pk_repo_open_keyfile(struct pk_repo **r, const char *path,
    const char *file);

/*
 * The longest path of a repository: its files' names, at most 75 bytes
 * more, then fit PATH_MAX.  Init and open refuse a longer one
 * (-ENAMETOOLONG).
 */
#define PK_REPO_PATH_MAX	4000

/* A repository whose files' names would not all fit PATH_MAX is refused
 * up front, rather than found out by the first name that does not:
 * 0 or -ENAMETOOLONG with a message. */
int pk_repo_path_fits(const char *path);

/* Builds WORK/<rel> into out (of size n): 0 or -ENAMETOOLONG (pk_path). */
int pk_repo_path(const struct pk_repo *r, char *out, size_t n, const char *rel);
/* A name no other writer picks for a file of this run in WORK/tmp:
 * "prefix-" and 16 random hexadecimal digits. */
int pk_repo_tmp_path(const struct pk_repo *r, const char *prefix, char *out,
    size_t n);

#endif
