/* config.c: reading a repository's config file. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "config.h"
#include "err.h"
#include "hash.h"
#include "io.h"

#define CONFIG_MAX	PK_CONFIG_MAX_BYTES

int
pk_repo_path_fits(const char *path)
{
	if (strlen(path) > PK_REPO_PATH_MAX)
		return pk_err(-ENAMETOOLONG, "%s: path too long (a repository's "
		    "is at most %d bytes)", path, PK_REPO_PATH_MAX);
	return 0;
}


enum { HAVE_VERSION = 1, HAVE_ID = 2, HAVE_CHUNKER = 4, HAVE_ENC = 8,
    HAVE_KDF = 16, HAVE_KEY = 32 };

static int
parse_line(struct pk_config *c, char *line)
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
		c->keylen = strlen(v) / 2;
		if (c->keylen != PK_WRAPPED_KEY_BYTES && c->keylen != PK_KEY_BYTES)
			return -1;
		return pk_unhex(c->key, c->keylen, v);
	}
	return -1;
}

/* The lines a config of its version and encryption must have, and no
 * other: version 1 wraps an encrypted repository's key in its config,
 * version 2 in keys/. */
static int
complete(const struct pk_config *c)
{
	const int base = HAVE_VERSION | HAVE_ID | HAVE_CHUNKER | HAVE_ENC;

	if (c->version == 1)
		return (c->have | HAVE_KDF) == 63 &&
		    (!c->p.encrypted || (c->have & HAVE_KDF)) && c->keylen ==
		    (c->p.encrypted ? PK_WRAPPED_KEY_BYTES : PK_KEY_BYTES);
	if (c->p.encrypted)
		return c->have == base;
	return c->have == (base | HAVE_KEY) && c->keylen == PK_KEY_BYTES;
}

int
pk_config_holds_key(const struct pk_config *c)
{
	return c->version == 1 && c->p.encrypted;
}

size_t
pk_config_format(char out[CONFIG_MAX], const struct pk_config *c)
{
	char idhex[2 * PK_REPO_ID_BYTES + 1], keyhex[2 * PK_KEY_BYTES + 1];
	int n;

	pk_hex(idhex, c->id, sizeof c->id);
	n = snprintf(out, CONFIG_MAX, "pk-repository %d\nid %s\nchunker %" PRIu32
	    " %" PRIu32 " %" PRIu32 "\nencryption %s\n", PK_REPO_VERSION, idhex,
	    c->p.chunk_min, c->p.chunk_avg, c->p.chunk_max,
	    c->p.encrypted ? "xchacha20-poly1305" : "none");
	if (!c->p.encrypted) {
		pk_hex(keyhex, c->key, PK_KEY_BYTES);
		n += snprintf(out + n, CONFIG_MAX - (size_t)n, "key %s\n", keyhex);
		sodium_memzero(keyhex, sizeof keyhex);
	}
	return (size_t)n;
}

int
pk_config_read(struct pk_storage *s, struct pk_config *c)
{
	char file[4096], *line, *nl;
	uint8_t *data;
	size_t n;
	int e, lineno = 0;

	memset(c, 0, sizeof *c);
	if ((e = pk_storage_name(s, file, sizeof file, "config")) < 0)
		return e;
	if ((e = pk_storage_get(s, "config", CONFIG_MAX, &data, &n)) < 0) {
		if (e == -ENOENT)
			return pk_err(e, "%s: not a pk repository (no config)",
			    pk_storage_place(s));
		if (e == -EFBIG)
			return pk_err(-EBADMSG, "%s: corrupt config (larger than "
			    "%d bytes, or not a file)", file, CONFIG_MAX);
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
		if (lineno == 1 && e == 0 && (c->version < 1 ||
		    c->version > PK_REPO_VERSION))
			break;
	}
	sodium_memzero(data, n);
	free(data);
	if (e == 0 && (c->have & HAVE_VERSION) && (c->version < 1 ||
	    c->version > PK_REPO_VERSION))
		return pk_err(-EPROTO, "%s: repository version %d not supported "
		    "(this reads versions 1 to %d)", file, c->version,
		    PK_REPO_VERSION);
	if (e < 0 || !complete(c))
		return pk_err(-EBADMSG, "%s: corrupt config (line %d)", file, lineno);
	return 0;
}

int
pk_repo_read_params(const char *path, struct pk_repo_params *p)
{
	struct pk_storage *s;
	struct pk_config c;
	int e;

	memset(p, 0, sizeof *p);
	if ((e = pk_repo_path_fits(path)) < 0 ||
	    (e = pk_storage_open(&s, path, 0)) < 0)
		return e;
	e = pk_config_read(s, &c);
	pk_storage_close(s);
	if (e < 0)
		return e;
	*p = c.p;
	memcpy(p->id, c.id, sizeof p->id);
	sodium_memzero(&c, sizeof c);
	return 0;
}
