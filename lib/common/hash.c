#include <errno.h>
/* The SHA256_* calls: deprecated in OpenSSL 3 in favour of EVP, whose
 * first use loads the configuration and the providers, some milliseconds
 * on every run of a tool; these go straight to the same code. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "hash.h"

void
pk_hash_id(uint8_t out[PK_HASH_BYTES], const void *p, size_t n)
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, p, n);
	SHA256_Final(out, &c);
}

void
pk_hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pk_unhex(uint8_t *out, size_t n, const char *hex)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = nibble(hex[2 * i]);
		lo = hi < 0 ? -1 : nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * n] == '\0' ? 0 : -EINVAL;
}
