/*
 * Fuzz target: a repository's config (pk_repo_read_params, and
 * pk_repo_open for a plaintext one: an encrypted one would run Argon2id at
 * the cost its config asks) and key files (pk_repo_open_keyfile).
 * Input: the config, a NUL byte, the key file.
 */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo_params p;
	struct pk_repo *repo;
	char dir[4200], cfg[4300], key[4300];
	const uint8_t *nul = memchr(data, '\0', size);
	size_t n = nul ? (size_t)(nul - data) : size;

	snprintf(dir, sizeof dir, "%s/cfg", fuzz_repo()->path);
	mkdir(dir, 0700);
	snprintf(cfg, sizeof cfg, "%s/config", dir);
	snprintf(key, sizeof key, "%s/key", dir);
	if (fuzz_write(cfg, data, n, 0600) < 0)
		return 0;
	if (pk_repo_read_params(dir, &p) == 0 && !p.encrypted &&
	    pk_repo_open(&repo, dir, NULL, 0) == 0)
		pk_repo_close(repo);
	if (nul != NULL &&
	    fuzz_write(key, nul + 1, size - n - 1, 0600) == 0 &&
	    pk_repo_open_keyfile(&repo, dir, key) == 0)
		pk_repo_close(repo);
	unlink(cfg);
	unlink(key);
	return 0;
}
