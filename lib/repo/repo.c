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
#include "keyring.h"
#include "repo.h"

#define CONFIG_MAX	PK_CONFIG_MAX_BYTES

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

int
pk_repo_init(const char *path, const struct pk_repo_params *p,
    const char *pass, size_t passlen)
{
	char cfg[CONFIG_MAX];
	struct pk_storage *s;
	struct pk_config c;
	size_t n;
	int e;

	if ((e = pk_crypto_init()) < 0 || (e = pk_repo_path_fits(path)) < 0 ||
	    (e = pk_storage_open(&s, path, 1)) < 0)
		return e;
	memset(&c, 0, sizeof c);
	c.p = *p;
	pk_random(c.id, sizeof c.id);
	pk_random(c.key, PK_KEY_BYTES);
	/* The first key before config, which makes the place a repository:
	 * an init that stops between leaves no repository without a key. */
	e = p->encrypted ? pk_keyring_first(s, c.id, c.key, pass, passlen) : 0;
	if (e == 0) {
		n = pk_config_format(cfg, &c);
		e = pk_storage_put(s, "config", cfg, n);
	}
	pk_storage_close(s);
	sodium_memzero(&c, sizeof c);
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
    const uint8_t master[PK_KEY_BYTES], const struct pk_key_used *used)
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
	memcpy(r->master, master, sizeof r->master);
	r->used = *used;
	*rp = r;
	return 0;
}

int
pk_repo_open(struct pk_repo **rp, const char *path, const char *pass,
    size_t passlen)
{
	uint8_t master[PK_KEY_BYTES];
	struct pk_key_used used = { PK_USED_NONE, { 0 }, 0 };
	struct pk_storage *s;
	struct pk_config c;
	int e;

	*rp = NULL;
	if ((e = locate(path, &s, &c)) < 0)
		return e;
	if (c.p.encrypted)
		e = pk_keyring_unlock(s, &c, pass, passlen, master, &used);
	else
		memcpy(master, c.key, PK_KEY_BYTES);
	if (e == 0)
		e = open_with(rp, s, &c, master, &used);
	else
		pk_storage_close(s);
	sodium_memzero(master, sizeof master);
	sodium_memzero(&c, sizeof c);
	return e;
}

int
pk_repo_export_key(const char *path, const char *pass, size_t passlen,
    const char *file)
{
	struct pk_repo *r;
	int e;

	if ((e = pk_repo_open(&r, path, pass, passlen)) < 0)
		return e;
	e = pk_keyring_add_file(r, file, NULL);
	pk_repo_close(r);
	return e;
}

int
pk_repo_open_keyfile(struct pk_repo **rp, const char *path, const char *file)
{
	uint8_t master[PK_KEY_BYTES];
	struct pk_key_used used;
	struct pk_storage *s;
	struct pk_config c;
	int e;

	*rp = NULL;
	if ((e = locate(path, &s, &c)) < 0)
		return e;
	if ((e = pk_keyring_unlock_file(s, &c, file, master, &used)) == 0)
		e = open_with(rp, s, &c, master, &used);
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
	sodium_memzero(r->master, sizeof r->master);
	pk_storage_close(r->store);
	free(r);
}
