#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "config.h"
#include "err.h"
#include "hash.h"
#include "io.h"
#include "repo.h"

#define CONFIG_MAX	PK_CONFIG_MAX_BYTES
#define AD_KEY		"pk master key"

int
pk_repo_path(const struct pk_repo *r, char *out, size_t n, const char *rel)
{
	return pk_path(out, n, "%s/%s", pk_storage_work(r->store), rel);
}

int
pk_repo_tmp_path(const struct pk_repo *r, const char *prefix, char *out,
    size_t n)
{
	uint8_t rnd[8];
	char hex[17];

	pk_random(rnd, sizeof rnd);
	pk_hex(hex, rnd, sizeof rnd);
	return pk_path(out, n, "%s/tmp/%s-%s", pk_storage_work(r->store), prefix,
	    hex);
}

/* The wrapped key's associated data: a label and the repository id. */
static size_t
key_ad(uint8_t ad[64], const uint8_t id[PK_REPO_ID_BYTES])
{
	memcpy(ad, AD_KEY, sizeof AD_KEY);
	memcpy(ad + sizeof AD_KEY, id, PK_REPO_ID_BYTES);
	return sizeof AD_KEY + PK_REPO_ID_BYTES;
}

int
pk_repo_init(const char *path, const struct pk_repo_params *p,
    const char *pass, size_t passlen)
{
	uint8_t id[PK_REPO_ID_BYTES], master[PK_KEY_BYTES], salt[PK_SALT_BYTES];
	uint8_t wrapped[PK_WRAPPED_KEY_BYTES], ad[64];
	char idhex[2 * PK_REPO_ID_BYTES + 1], keyhex[2 * PK_WRAPPED_KEY_BYTES + 1];
	char salthex[2 * PK_SALT_BYTES + 1], cfg[CONFIG_MAX];
	struct pk_storage *s;
	int e, n;

	if ((e = pk_crypto_init()) < 0 || (e = pk_repo_path_fits(path)) < 0 ||
	    (e = pk_storage_open(&s, path, 1)) < 0)
		return e;
	pk_random(id, sizeof id);
	pk_random(master, sizeof master);
	pk_hex(idhex, id, sizeof id);
	if (p->encrypted) {
		pk_random(salt, sizeof salt);
		e = pk_key_wrap(wrapped, master, pass, passlen, salt,
		    PK_KDF_OPSLIMIT, PK_KDF_MEMLIMIT, ad, key_ad(ad, id));
		if (e < 0)
			goto out;
		pk_hex(keyhex, wrapped, sizeof wrapped);
		pk_hex(salthex, salt, sizeof salt);
		n = snprintf(cfg, sizeof cfg,
		    "pk-repository %d\nid %s\nchunker %" PRIu32 " %" PRIu32 " %" PRIu32
		    "\nencryption xchacha20-poly1305\nargon2id %d %u %s\nkey %s\n",
		    PK_REPO_VERSION, idhex, p->chunk_min, p->chunk_avg, p->chunk_max,
		    PK_KDF_OPSLIMIT, PK_KDF_MEMLIMIT, salthex, keyhex);
	} else {
		pk_hex(keyhex, master, sizeof master);
		n = snprintf(cfg, sizeof cfg,
		    "pk-repository %d\nid %s\nchunker %" PRIu32 " %" PRIu32 " %" PRIu32
		    "\nencryption none\nkey %s\n", PK_REPO_VERSION, idhex,
		    p->chunk_min, p->chunk_avg, p->chunk_max, keyhex);
	}
	e = pk_storage_put(s, "config", cfg, (size_t)n);
out:
	pk_storage_close(s);
	sodium_memzero(master, sizeof master);
	sodium_memzero(cfg, sizeof cfg);
	return e;
}

/* The storage of path and its config. */
static int
locate(const char *path, struct pk_storage **s, struct pk_config *c)
{
	int e;

	if ((e = pk_crypto_init()) < 0 || (e = pk_repo_path_fits(path)) < 0 ||
	    (e = pk_storage_open(s, path, 0)) < 0)
		return e;
	if ((e = pk_config_read(*s, c)) < 0) {
		pk_storage_close(*s);
		*s = NULL;
	}
	return e;
}

/* A repository from its storage, config and master key; the repository
 * owns the storage from here on. */
static int
open_with(struct pk_repo **rp, struct pk_storage *s, const struct pk_config *c,
    const uint8_t master[PK_KEY_BYTES])
{
	struct pk_repo *r = calloc(1, sizeof *r);

	if (r == NULL) {
		pk_storage_close(s);
		return -ENOMEM;
	}
	r->store = s;
	r->path = pk_storage_place(s);
	memcpy(r->id, c->id, sizeof r->id);
	r->params = c->p;
	pk_keys_derive(&r->keys, master, c->p.encrypted);
	*rp = r;
	return 0;
}

/* The master key of an encrypted repository, unwrapped with pass. */
static int
unwrap(const char *path, const struct pk_config *c, const char *pass,
    size_t passlen, uint8_t master[PK_KEY_BYTES])
{
	uint8_t ad[64];
	int e;

	if (pass == NULL)
		return pk_err(-EACCES, "%s: passphrase required", path);
	e = pk_key_unwrap(master, c->key, pass, passlen, c->salt, c->ops,
	    c->mem, ad, key_ad(ad, c->id));
	if (e == -EACCES)
		e = pk_err(e, "%s: wrong passphrase", path);
	return e;
}

int
pk_repo_open(struct pk_repo **rp, const char *path, const char *pass,
    size_t passlen)
{
	uint8_t master[PK_KEY_BYTES];
	struct pk_storage *s;
	struct pk_config c;
	int e;

	*rp = NULL;
	if ((e = locate(path, &s, &c)) < 0)
		return e;
	if (c.p.encrypted)
		e = unwrap(path, &c, pass, passlen, master);
	else
		memcpy(master, c.key, PK_KEY_BYTES);
	if (e == 0)
		e = open_with(rp, s, &c, master);
	else
		pk_storage_close(s);
	sodium_memzero(master, sizeof master);
	sodium_memzero(&c, sizeof c);
	return e;
}

/*
 * Key files (pk-repo(5), "KEY FILES"): the master key, unwrapped, for
 * tools that must open a repository often and fast.  The check line is a
 * MAC of the repository id under the key, so that a damaged key is refused
 * by name rather than found out later as boxes that do not open.
 */
#define KEYFILE_MAX	512
#define KEYFILE_CHECK	16

static void
keyfile_check(uint8_t out[KEYFILE_CHECK], const uint8_t master[PK_KEY_BYTES],
    const uint8_t id[PK_REPO_ID_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, master, PK_KEY_BYTES, KEYFILE_CHECK);
	crypto_generichash_update(&st, (const uint8_t *)"pk key file", 11);
	crypto_generichash_update(&st, id, PK_REPO_ID_BYTES);
	crypto_generichash_final(&st, out, KEYFILE_CHECK);
}

/* The text of a key file; the only form readers accept. */
static int
keyfile_text(char text[KEYFILE_MAX], const uint8_t master[PK_KEY_BYTES],
    const uint8_t id[PK_REPO_ID_BYTES])
{
	char idhex[2 * PK_REPO_ID_BYTES + 1], keyhex[2 * PK_KEY_BYTES + 1];
	char checkhex[2 * KEYFILE_CHECK + 1];
	uint8_t check[KEYFILE_CHECK];
	int n;

	keyfile_check(check, master, id);
	pk_hex(idhex, id, PK_REPO_ID_BYTES);
	pk_hex(keyhex, master, PK_KEY_BYTES);
	pk_hex(checkhex, check, sizeof check);
	n = snprintf(text, KEYFILE_MAX, "pk-key %d\nrepository %s\nkey %s\n"
	    "check %s\n", PK_REPO_VERSION, idhex, keyhex, checkhex);
	sodium_memzero(keyhex, sizeof keyhex);
	return n;
}

int
pk_repo_export_key(const char *path, const char *pass, size_t passlen,
    const char *file)
{
	uint8_t master[PK_KEY_BYTES];
	char text[KEYFILE_MAX];
	struct pk_storage *s;
	struct pk_config c;
	int e, fd, n;

	if ((e = locate(path, &s, &c)) < 0)
		return e;
	pk_storage_close(s);
	if (!c.p.encrypted) {
		sodium_memzero(&c, sizeof c);
		return pk_err(-EINVAL, "%s: not encrypted: it needs no key file",
		    path);
	}
	if ((e = unwrap(path, &c, pass, passlen, master)) < 0)
		goto out;
	n = keyfile_text(text, master, c.id);
	/* Never over an existing file: it may be another repository's key. */
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = pk_err(-errno, "%s: %s", file, errno == EEXIST ?
		    "exists (a key file is never written over a file)" :
		    strerror(errno));
		goto out;
	}
	if ((e = pk_write_all(fd, text, (size_t)n)) == 0 && fsync(fd) < 0)
		e = -errno;
	if (close(fd) < 0 && e == 0)
		e = -errno;
	if (e < 0) {
		e = pk_err(e, "%s: %s", file, strerror(-e));
		unlink(file);
	}
out:
	sodium_memzero(master, sizeof master);
	sodium_memzero(text, sizeof text);
	sodium_memzero(&c, sizeof c);
	return e;
}

/* Reads a key file for the repository id into master. */
static int
read_keyfile(const char *file, const uint8_t id[PK_REPO_ID_BYTES],
    uint8_t master[PK_KEY_BYTES])
{
	char text[KEYFILE_MAX + 1], want[KEYFILE_MAX], keyhex[2 * PK_KEY_BYTES + 1];
	char idhex[2 * PK_REPO_ID_BYTES + 1];
	uint8_t kid[PK_REPO_ID_BYTES];
	struct stat st;
	ssize_t n;
	int fd, e = 0;

	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return pk_err(-errno, "%s: %s", file, errno == ELOOP ?
		    "a symbolic link, not a key file" : strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pk_err(-EINVAL, "%s: not a key file", file);
	}
	/* As ssh does with private keys: a key others can read is not one. */
	if (st.st_mode & 077) {
		close(fd);
		return pk_err(-EPERM, "%s: others may read it (mode %04o): "
		    "chmod 600 it", file, (unsigned)(st.st_mode & 07777));
	}
	n = pk_read_full(fd, text, KEYFILE_MAX);
	close(fd);
	if (n < 0)
		return pk_err((int)n, "%s: %s", file, strerror((int)-n));
	text[n] = '\0';
	/* Parsed at fixed places, then held to the one form a writer makes:
	 * the check line catches a damaged key, this catches the rest. */
	if (sscanf(text, "pk-key 1\nrepository %32[0-9a-f]\nkey %64[0-9a-f]\n",
	    idhex, keyhex) != 2 || pk_unhex(kid, sizeof kid, idhex) < 0 ||
	    pk_unhex(master, PK_KEY_BYTES, keyhex) < 0)
		e = pk_err(-EBADMSG, "%s: not a pk key file", file);
	else if (memcmp(kid, id, sizeof kid) != 0)
		e = pk_err(-EACCES, "%s: the key of another repository", file);
	else if (keyfile_text(want, master, id) != n ||
	    memcmp(want, text, (size_t)n - KEYFILE_CHECK * 2 - 1) != 0 ||
	    text[n - 1] != '\n')
		e = pk_err(-EBADMSG, "%s: not a pk key file", file);
	else if (sodium_memcmp(want, text, (size_t)n) != 0)
		e = pk_err(-EBADMSG, "%s: damaged key file (its check does not "
		    "match)", file);
	sodium_memzero(text, sizeof text);
	sodium_memzero(want, sizeof want);
	sodium_memzero(keyhex, sizeof keyhex);
	if (e < 0)
		sodium_memzero(master, PK_KEY_BYTES);
	return e;
}

int
pk_repo_open_keyfile(struct pk_repo **rp, const char *path, const char *file)
{
	uint8_t master[PK_KEY_BYTES];
	struct pk_storage *s;
	struct pk_config c;
	int e;

	*rp = NULL;
	if ((e = locate(path, &s, &c)) < 0)
		return e;
	if ((e = read_keyfile(file, c.id, master)) == 0 && !c.p.encrypted &&
	    sodium_memcmp(master, c.key, PK_KEY_BYTES) != 0)
		e = pk_err(-EACCES, "%s: not this repository's key", file);
	if (e == 0)
		e = open_with(rp, s, &c, master);
	else
		pk_storage_close(s);
	sodium_memzero(master, sizeof master);
	sodium_memzero(&c, sizeof c);
	return e;
}

void
pk_repo_close(struct pk_repo *r)
{
	if (r == NULL)
		return;
	pk_keys_wipe(&r->keys);
	pk_storage_close(r->store);
	free(r);
}
