#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "crypto.h"

_Static_assert(PK_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES &&
    PK_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "box sizes");
#include "err.h"

#define KDF_CONTEXT "pk-repo1"
enum { SUBKEY_AEAD = 1, SUBKEY_IDMAC = 2, SUBKEY_MAC = 3 };

int
pk_crypto_init(void)
{
	return sodium_init() < 0 ? pk_err(-EIO, "libsodium: cannot initialise") : 0;
}

void
pk_random(void *p, size_t n)
{
	randombytes_buf(p, n);
}

/* A random nonce, from a per-thread pool: one getrandom() per 170 boxes
 * rather than one per box.  Nonces need not be secret, only unique. */
static void
nonce(uint8_t out[PK_NONCE_BYTES])
{
	static __thread uint8_t pool[PK_NONCE_BYTES * 170];
	static __thread size_t used = sizeof pool;

	if (used == sizeof pool) {
		randombytes_buf(pool, sizeof pool);
		used = 0;
	}
	memcpy(out, pool + used, PK_NONCE_BYTES);
	used += PK_NONCE_BYTES;
}

void
pk_keys_derive(struct pk_keys *k, const uint8_t master[PK_KEY_BYTES], int encrypted)
{
	k->encrypted = encrypted;
	crypto_kdf_derive_from_key(k->aead, sizeof k->aead, SUBKEY_AEAD,
	    KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->idmac, sizeof k->idmac, SUBKEY_IDMAC,
	    KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->mac, sizeof k->mac, SUBKEY_MAC,
	    KDF_CONTEXT, master);
}

void
pk_keys_wipe(struct pk_keys *k)
{
	sodium_memzero(k, sizeof *k);
}

static int
kek(uint8_t out[PK_KEY_BYTES], const char *pass, size_t passlen,
    const uint8_t salt[PK_SALT_BYTES], uint64_t ops, uint64_t mem)
{
	if (crypto_pwhash(out, PK_KEY_BYTES, pass, passlen, salt, ops, mem,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return pk_err(-ENOMEM, "argon2id: out of memory");
	return 0;
}

int
pk_key_wrap(uint8_t out[PK_WRAPPED_KEY_BYTES], const uint8_t master[PK_KEY_BYTES],
    const char *pass, size_t passlen, const uint8_t salt[PK_SALT_BYTES],
    uint64_t ops, uint64_t mem, const uint8_t *ad, size_t adlen)
{
	uint8_t k[PK_KEY_BYTES];
	int r;

	if ((r = kek(k, pass, passlen, salt, ops, mem)) < 0)
		return r;
	pk_key_seal(out, master, k, ad, adlen);
	sodium_memzero(k, sizeof k);
	return 0;
}

int
pk_key_unwrap(uint8_t master[PK_KEY_BYTES], const uint8_t in[PK_WRAPPED_KEY_BYTES],
    const char *pass, size_t passlen, const uint8_t salt[PK_SALT_BYTES],
    uint64_t ops, uint64_t mem, const uint8_t *ad, size_t adlen)
{
	uint8_t k[PK_KEY_BYTES];
	int r;

	if ((r = kek(k, pass, passlen, salt, ops, mem)) < 0)
		return r;
	r = pk_key_unseal(master, in, k, ad, adlen);
	sodium_memzero(k, sizeof k);
	return r;
}

void
pk_key_seal(uint8_t out[PK_WRAPPED_KEY_BYTES], const uint8_t master[PK_KEY_BYTES],
    const uint8_t kek_[PK_KEY_BYTES], const uint8_t *ad, size_t adlen)
{
	randombytes_buf(out, PK_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + PK_NONCE_BYTES, NULL,
	    master, PK_KEY_BYTES, ad, adlen, NULL, out, kek_);
}

int
pk_key_unseal(uint8_t master[PK_KEY_BYTES], const uint8_t in[PK_WRAPPED_KEY_BYTES],
    const uint8_t kek_[PK_KEY_BYTES], const uint8_t *ad, size_t adlen)
{
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(master, NULL, NULL,
	    in + PK_NONCE_BYTES, PK_WRAPPED_KEY_BYTES - PK_NONCE_BYTES, ad, adlen,
	    in, kek_) != 0) {
		sodium_memzero(master, PK_KEY_BYTES);
		return -EACCES;
	}
	return 0;
}

size_t
pk_box_overhead(const struct pk_keys *k)
{
	return k->encrypted ? PK_BOX_OVERHEAD_AEAD : PK_BOX_OVERHEAD_PLAIN;
}

size_t
pk_box_prefix(const struct pk_keys *k)
{
	return k->encrypted ? PK_NONCE_BYTES : 0;
}

static void
plain_tag(const struct pk_keys *k, uint8_t tag[PK_TAG_BYTES], const uint8_t *p,
    size_t n, const uint8_t *ad, size_t adlen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k->mac, sizeof k->mac, PK_TAG_BYTES);
	crypto_generichash_update(&st, ad, adlen);
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, tag, PK_TAG_BYTES);
}

void
pk_box_seal(const struct pk_keys *k, uint8_t *out, const uint8_t *in,
    size_t n, const uint8_t *ad, size_t adlen)
{
	if (!k->encrypted) {
		memmove(out, in, n);
		plain_tag(k, out + n, out, n, ad, adlen);
		return;
	}
	nonce(out);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + PK_NONCE_BYTES, NULL, in,
	    n, ad, adlen, NULL, out, k->aead);
}

int
pk_box_open(const struct pk_keys *k, uint8_t *out, const uint8_t *in,
    size_t n, const uint8_t *ad, size_t adlen)
{
	uint8_t tag[PK_TAG_BYTES];

	if (n < pk_box_overhead(k))
		return -EBADMSG;
	if (!k->encrypted) {
		plain_tag(k, tag, in, n - PK_TAG_BYTES, ad, adlen);
		if (sodium_memcmp(tag, in + n - PK_TAG_BYTES, PK_TAG_BYTES) != 0)
			return -EBADMSG;
		memmove(out, in, n - PK_TAG_BYTES);
		return 0;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	    in + PK_NONCE_BYTES, n - PK_NONCE_BYTES, ad, adlen, in, k->aead) != 0)
		return -EBADMSG;
	return 0;
}

void
pk_storage_id(const struct pk_keys *k, uint8_t out[PK_SID_BYTES],
    const uint8_t id[PK_HASH_BYTES])
{
	crypto_generichash(out, PK_SID_BYTES, id, PK_HASH_BYTES, k->idmac,
	    sizeof k->idmac);
}

void
pk_mac(const struct pk_keys *k, uint8_t out[PK_MAC_BYTES], const void *p, size_t n)
{
	crypto_generichash(out, PK_MAC_BYTES, p, n, k->mac, sizeof k->mac);
}

size_t
pk_ad_make(uint8_t *ad, const char *label, const uint8_t *id, size_t idlen)
{
	size_t n = strlen(label) + 1;

	memcpy(ad, label, n);
	memcpy(ad + n, id, idlen);
	return n + idlen;
}
