/*
 * Fuzz target: a repository's config (pk_repo_read_params, and
 * pk_repo_open for a plaintext one: an encrypted one would run Argon2id at
 * the cost its config or key objects ask), key files
 * (pk_repo_open_keyfile) and key objects (pk_key_object_decode, and the
 * object of a key file's key, unwrapped with its secret).
 * Input: the config, a NUL byte, the key file, a NUL byte, the key object,
 * stored as keys/ID for the id of the key file, or of the object.
 */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A key object decoded encodes back to the same bytes: the decoder
 * accepts only the one form a writer makes. */
static void
key_object(const uint8_t *p, size_t n, uint8_t id[PK_KEY_ID_BYTES])
{
	char again[PK_KEY_OBJECT_MAX];
	struct pk_key_object k;

	if (pk_key_object_decode(&k, (const char *)p, n) != 0)
		return;
	if (pk_key_object_encode(again, &k) != n || memcmp(again, p, n) != 0)
		abort();
	memcpy(id, k.id, PK_KEY_ID_BYTES);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo_params p;
	struct pk_keyfile f;
	struct pk_repo *repo;
	char dir[4200], cfg[4300], key[4300], obj[4300], hex[2 * PK_KEY_ID_BYTES + 1];
	const uint8_t *nul = memchr(data, '\0', size), *nul2 = NULL, *kp;
	uint8_t id[PK_KEY_ID_BYTES] = { 0 };
	size_t n = nul ? (size_t)(nul - data) : size, kn = 0;

	snprintf(dir, sizeof dir, "%s/cfg", fuzz_repo()->path);
	mkdir(dir, 0700);
	snprintf(cfg, sizeof cfg, "%s/config", dir);
	snprintf(key, sizeof key, "%s/key", dir);
	if (fuzz_write(cfg, data, n, 0600) < 0)
		return 0;
	if (pk_repo_read_params(dir, &p) == 0 && !p.encrypted &&
	    pk_repo_open(&repo, dir, NULL, 0) == 0)
		pk_repo_close(repo);
	if (nul != NULL) {
		kp = nul + 1;
		nul2 = memchr(kp, '\0', size - n - 1);
		kn = nul2 ? (size_t)(nul2 - kp) : size - n - 1;
		if (pk_keyfile_decode(&f, (const char *)kp, kn, "key", NULL) == 0)
			memcpy(id, f.id, sizeof id);
		pk_err_clear();
	}
	obj[0] = '\0';
	if (nul2 != NULL) {
		key_object(nul2 + 1, size - (size_t)(nul2 + 1 - data), id);
		snprintf(obj, sizeof obj, "%s/keys", dir);
		mkdir(obj, 0700);
		pk_hex(hex, id, sizeof id);
		snprintf(obj, sizeof obj, "%s/keys/%s", dir, hex);
		if (fuzz_write(obj, nul2 + 1, size - (size_t)(nul2 + 1 - data),
		    0600) < 0)
			obj[0] = '\0';
	}
	if (nul != NULL && fuzz_write(key, nul + 1, kn, 0600) == 0 &&
	    pk_repo_open_keyfile(&repo, dir, key) == 0)
		pk_repo_close(repo);
	unlink(cfg);
	unlink(key);
	if (obj[0])
		unlink(obj);
	return 0;
}
