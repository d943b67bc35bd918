/*
 * crypto.h: the repository's keys and the sealed boxes that carry every
 * byte pk-store writes (pk-repo(5), "KEYS" and "BOXES").  libsodium only.
 *
 * A repository has one random 32-byte master key.  In an encrypted
 * repository it is stored wrapped, once for each key (keyring.h), by a key
 * derived from a passphrase with Argon2id or from a key file's secret; in
 * a plaintext one it is stored as is.  Subkeys derive from it:
 * one for the AEAD of boxes, one for the MAC that turns chunk ids into
 * storage ids, one for the plaintext boxes' integrity tags and snapshot ids.
 */
#ifndef PK_CRYPTO_H
#define PK_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define PK_KEY_BYTES		32
#define PK_SALT_BYTES		16
#define PK_NONCE_BYTES		24	/* XChaCha20-Poly1305 */
#define PK_TAG_BYTES		16
#define PK_SID_BYTES		32	/* a storage id: keyed BLAKE2b of a chunk id */
#define PK_MAC_BYTES		32
#define PK_WRAPPED_KEY_BYTES	(PK_NONCE_BYTES + PK_KEY_BYTES + PK_TAG_BYTES)
#define PK_BOX_OVERHEAD_AEAD	(PK_NONCE_BYTES + PK_TAG_BYTES)	/* XChaCha20-Poly1305 */
#define PK_BOX_OVERHEAD_PLAIN	PK_TAG_BYTES	/* keyed BLAKE2b-128 */
/* Argon2id cost of new repositories: 32 MiB, 3 passes. */
#define PK_KDF_OPSLIMIT		3
#define PK_KDF_MEMLIMIT		(32u * 1024 * 1024)

struct pk_keys {
	int encrypted;
	uint8_t aead[PK_KEY_BYTES];	/* box encryption */
	uint8_t idmac[PK_KEY_BYTES];	/* chunk id -> storage id */
	uint8_t mac[PK_KEY_BYTES];	/* plaintext box tags, snapshot ids */
};

/* Calls sodium_init(); -EIO when libsodium cannot start. */
int pk_crypto_init(void);

void pk_random(void *p, size_t n);

/* Derives the subkeys from a master key. */
void pk_keys_derive(struct pk_keys *k, const uint8_t master[PK_KEY_BYTES],
    int encrypted);
void pk_keys_wipe(struct pk_keys *k);

/*
 * Wraps a master key under a passphrase (Argon2id with the given salt and
 * cost, then XChaCha20-Poly1305 with the repository id as associated data)
 * and unwraps it.  Unwrap returns -EACCES for a wrong passphrase.
 */
int pk_key_wrap(uint8_t out[PK_WRAPPED_KEY_BYTES], const uint8_t master[PK_KEY_BYTES],
    const char *pass, size_t passlen, const uint8_t salt[PK_SALT_BYTES],
    uint64_t ops, uint64_t mem, const uint8_t *ad, size_t adlen);
int pk_key_unwrap(uint8_t master[PK_KEY_BYTES], const uint8_t in[PK_WRAPPED_KEY_BYTES],
    const char *pass, size_t passlen, const uint8_t salt[PK_SALT_BYTES],
    uint64_t ops, uint64_t mem, const uint8_t *ad, size_t adlen);

/* The same wrapping under a key-encryption key given whole (a key file's,
 * keyring.h): seal draws the nonce; unseal returns -EACCES when in does
 * not authenticate under kek and ad. */
void pk_key_seal(uint8_t out[PK_WRAPPED_KEY_BYTES], const uint8_t master[PK_KEY_BYTES],
    const uint8_t kek[PK_KEY_BYTES], const uint8_t *ad, size_t adlen);
int pk_key_unseal(uint8_t master[PK_KEY_BYTES], const uint8_t in[PK_WRAPPED_KEY_BYTES],
    const uint8_t kek[PK_KEY_BYTES], const uint8_t *ad, size_t adlen);

/* The bytes a box adds to its plaintext. */
size_t pk_box_overhead(const struct pk_keys *k);

/* Where the plaintext starts inside a box: after the nonce, if any. */
size_t pk_box_prefix(const struct pk_keys *k);

/*
 * Seals n bytes into out (n + overhead bytes), bound to ad: a box opened
 * with other associated data fails.  Sealing may be done in place, with
 * in == out + pk_box_prefix(k); otherwise in and out must not overlap.
 * Open verifies before it writes any plaintext to out (n - overhead
 * bytes) and returns -EBADMSG when the box is not authentic; in and out
 * must not overlap.
 */
void pk_box_seal(const struct pk_keys *k, uint8_t *out, const uint8_t *in,
    size_t n, const uint8_t *ad, size_t adlen);
int pk_box_open(const struct pk_keys *k, uint8_t *out, const uint8_t *in,
    size_t n, const uint8_t *ad, size_t adlen);

/* The associated data of a box: label, its NUL, then id (idlen bytes)
 * into ad, which must hold them; returns the length. */
size_t pk_ad_make(uint8_t *ad, const char *label, const uint8_t *id,
    size_t idlen);

/* The storage id of a chunk: keyed BLAKE2b-256 of its id. */
void pk_storage_id(const struct pk_keys *k, uint8_t out[PK_SID_BYTES],
    const uint8_t id[PK_HASH_BYTES]);

/* A keyed BLAKE2b-256 of p, under the mac subkey (snapshot ids). */
void pk_mac(const struct pk_keys *k, uint8_t out[PK_MAC_BYTES], const void *p,
    size_t n);

#endif
