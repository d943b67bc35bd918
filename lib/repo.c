#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "err.h"
#include "hash.h"
#include "io.h"
#include "repo.h"

#define CONFIG_MAX	4096
#define AD_KEY		"pk master key"

static const char *const subdirs[] = { "packs", "index", "snapshots", "tmp" };

void
pk_repo_path(const struct pk_repo *r, char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", r->path, rel);
}

/* The wrapped key's associated data: a label and the repository id. */
static size_t
key_ad(uint8_t ad[64], const uint8_t id[PK_REPO_ID_BYTES])
{
	memcpy(ad, AD_KEY, sizeof AD_KEY);
	memcpy(ad + sizeof AD_KEY, id, PK_REPO_ID_BYTES);
	return sizeof AD_KEY + PK_REPO_ID_BYTES;
}

static int
empty_dir(const char *path)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int empty = 1;

	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			empty = 0;
	closedir(dir);
	return empty;
}

int
pk_repo_init(const char *path, const struct pk_repo_params *p,
    const char *pass, size_t passlen)
{
	uint8_t id[PK_REPO_ID_BYTES], master[PK_KEY_BYTES], salt[PK_SALT_BYTES];
	uint8_t wrapped[PK_WRAPPED_KEY_BYTES], ad[64];
	char idhex[2 * PK_REPO_ID_BYTES + 1], keyhex[2 * PK_WRAPPED_KEY_BYTES + 1];
	char salthex[2 * PK_SALT_BYTES + 1], cfg[CONFIG_MAX], sub[4096];
	char tmpdir[4096];
	size_t i;
	int e, n;

	if ((e = pk_crypto_init()) < 0)
		return e;
	if (mkdir(path, 0700) < 0 && (errno != EEXIST || !empty_dir(path)))
		return pk_err(-EEXIST, "%s: %s", path, errno == EEXIST ?
		    "exists and is not an empty directory" : strerror(errno));
	for (i = 0; i < sizeof subdirs / sizeof *subdirs; i++) {
		snprintf(sub, sizeof sub, "%s/%s", path, subdirs[i]);
		if (mkdir(sub, 0700) < 0)
			return pk_err(-errno, "%s: %s", sub, strerror(errno));
	}
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
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", path);
	snprintf(sub, sizeof sub, "%s/config", path);
	e = pk_atomic_write(tmpdir, sub, cfg, (size_t)n, 0600);
out:
	sodium_memzero(master, sizeof master);
	sodium_memzero(cfg, sizeof cfg);
	return e;
}

struct config {
	int version;
	uint8_t id[PK_REPO_ID_BYTES];
	struct pk_repo_params p;
	uint64_t ops, mem;
	uint8_t salt[PK_SALT_BYTES];
	uint8_t key[PK_WRAPPED_KEY_BYTES];	/* wrapped, or the plain master */
	int have;
};

enum { HAVE_VERSION = 1, HAVE_ID = 2, HAVE_CHUNKER = 4, HAVE_ENC = 8,
    HAVE_KDF = 16, HAVE_KEY = 32 };

static int
parse_line(struct config *c, char *line)
{
	char *k = line, *v = strchr(line, ' ');
	unsigned long long a, b, d;
	char hex[256], tail;

	if (v == NULL)
		return -1;
	*v++ = '\0';
	if (!strcmp(k, "pk-repository") && !(c->have & HAVE_VERSION)) {
		c->have |= HAVE_VERSION;
		return sscanf(v, "%d%c", &c->version, &tail) == 1 ? 0 : -1;
	}
	if (!strcmp(k, "id") && !(c->have & HAVE_ID)) {
		c->have |= HAVE_ID;
		return pk_unhex(c->id, sizeof c->id, v);
	}
	if (!strcmp(k, "chunker") && !(c->have & HAVE_CHUNKER)) {
		c->have |= HAVE_CHUNKER;
		if (sscanf(v, "%llu %llu %llu%c", &a, &b, &d, &tail) != 3 ||
		    a > UINT32_MAX || b > UINT32_MAX || d > UINT32_MAX)
			return -1;
		c->p.chunk_min = (uint32_t)a;
		c->p.chunk_avg = (uint32_t)b;
		c->p.chunk_max = (uint32_t)d;
		return 0;
	}
	if (!strcmp(k, "encryption") && !(c->have & HAVE_ENC)) {
		c->have |= HAVE_ENC;
		if (!strcmp(v, "none"))
			c->p.encrypted = 0;
		else if (!strcmp(v, "xchacha20-poly1305"))
			c->p.encrypted = 1;
		else
			return -1;
		return 0;
	}
	if (!strcmp(k, "argon2id") && !(c->have & HAVE_KDF)) {
		c->have |= HAVE_KDF;
		if (sscanf(v, "%llu %llu %64s%c", &a, &b, hex, &tail) != 3 ||
		    a < 1 || a > 100 || b < 8192 || b > (1ull << 32))
			return -1;
		c->ops = a;
		c->mem = b;
		return pk_unhex(c->salt, sizeof c->salt, hex);
	}
	if (!strcmp(k, "key") && !(c->have & HAVE_KEY)) {
		c->have |= HAVE_KEY;
		if (strlen(v) == 2 * PK_WRAPPED_KEY_BYTES)
			return pk_unhex(c->key, PK_WRAPPED_KEY_BYTES, v);
		if (strlen(v) == 2 * PK_KEY_BYTES)
			return pk_unhex(c->key, PK_KEY_BYTES, v);
		return -1;
	}
	return -1;
}

static int
read_config(const char *path, struct config *c)
{
	char file[4096], *line, *nl;
	uint8_t *data;
	size_t n;
	int e, lineno = 0;

	memset(c, 0, sizeof *c);
	snprintf(file, sizeof file, "%s/config", path);
	if ((e = pk_read_file(file, CONFIG_MAX, &data, &n)) < 0) {
		if (e == -ENOENT)
			return pk_err(e, "%s: not a pk repository (no config)", path);
		return e;
	}
	data[n] = '\0';
	e = 0;
	for (line = (char *)data; *line && e == 0; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL) {
			e = -1;
			break;
		}
		*nl = '\0';
		if (lineno == 1 && strncmp(line, "pk-repository ", 14) != 0)
			e = -1;
		else
			e = parse_line(c, line);
		/* A later version may have other keys: say so, not "corrupt". */
		if (lineno == 1 && e == 0 && c->version != PK_REPO_VERSION)
			break;
	}
	sodium_memzero(data, n);
	free(data);
	if (e == 0 && c->version != PK_REPO_VERSION && (c->have & HAVE_VERSION))
		return pk_err(-EPROTO, "%s: repository version %d not supported "
		    "(this is version %d)", file, c->version, PK_REPO_VERSION);
	if (e < 0 || (c->have | HAVE_KDF) != 63 ||
	    (c->p.encrypted && !(c->have & HAVE_KDF)))
		return pk_err(-EBADMSG, "%s: corrupt config (line %d)", file, lineno);
	return 0;
}

int
pk_repo_read_params(const char *path, struct pk_repo_params *p)
{
	struct config c;
	int e;

	memset(p, 0, sizeof *p);
	if ((e = read_config(path, &c)) < 0)
		return e;
	*p = c.p;
	memcpy(p->id, c.id, sizeof p->id);
	sodium_memzero(&c, sizeof c);
	return 0;
}

int
pk_repo_open(struct pk_repo **rp, const char *path, const char *pass,
    size_t passlen)
{
	uint8_t master[PK_KEY_BYTES], ad[64];
	struct pk_repo *r;
	struct config c;
	int e;

	*rp = NULL;
	if ((e = pk_crypto_init()) < 0)
		return e;
	if ((e = read_config(path, &c)) < 0)
		return e;
	if (c.p.encrypted) {
		if (pass == NULL)
			return pk_err(-EACCES, "%s: passphrase required", path);
		e = pk_key_unwrap(master, c.key, pass, passlen, c.salt, c.ops,
		    c.mem, ad, key_ad(ad, c.id));
		if (e == -EACCES)
			e = pk_err(e, "%s: wrong passphrase", path);
		if (e < 0) {
			sodium_memzero(&c, sizeof c);
			return e;
		}
	} else {
		memcpy(master, c.key, PK_KEY_BYTES);
	}
	r = calloc(1, sizeof *r);
	if (r == NULL || (r->path = strdup(path)) == NULL) {
		free(r);
		e = -ENOMEM;
		goto out;
	}
	memcpy(r->id, c.id, sizeof r->id);
	r->params = c.p;
	pk_keys_derive(&r->keys, master, c.p.encrypted);
	*rp = r;
out:
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
	free(r->path);
	free(r);
}
