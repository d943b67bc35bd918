/*
 * t-crypto: keys and sealed boxes (crypto.h).  Round trips of encrypted
 * and plaintext boxes, every bit flipped, wrong associated data and keys,
 * key wrapping under a passphrase, storage ids; known answers pin the key
 * derivation and the box layouts, so that repositories stay readable:
 *
 *	t-crypto			run the tests
 *	t-crypto --vectors		print the known answers (once)
 */
#include <errno.h>

#include "pk.h"
#include "unit.h"

/* Small Argon2id costs, to keep the test fast. */
#define OPS	1
#define MEM	(8192u * 1024)

static const char pass[] = "correct horse battery staple";

/*
 * The known answers, for master key 00 01 .. 1f.  The first three were
 * checked independently: subkeys are BLAKE2b-256 keyed by the master, salt
 * the subkey number (1 aead, 2 idmac, 3 mac), personal "pk-repo1"
 * (crypto_kdf); a storage id is BLAKE2b-256 of the chunk id keyed by idmac;
 * a plaintext box is the bytes, then BLAKE2b-128 of ad || bytes keyed by mac.
 */
static const char kat_sid[] =		/* pk_storage_id(SHA-256("abc")) */
    "a953ef44d17c0c63fd317a20cd2b85eea7f7f15a19221a1b36914db1e6e88562";
static const char kat_mac[] =		/* pk_mac("pk snapshot") */
    "da2996d04fa4939a0d67bd968de557b27487126c5dd5b2718a8a69f6b9e5d075";
static const char kat_plain_box[] =	/* plaintext box of "abc", ad "ad" */
    "6162637c320389a2e8e86774f4322429796583";
static const char kat_aead_box[] =	/* an encrypted box of "abc", ad "ad" */
    "62a7fa6f64113afb33e3ec703e7d595c5a0aacf4006c83b7164a2c271a0a278b"
    "ec62b86f4103d5e89d9df7";
static const char kat_wrapped[] =	/* master wrapped, salt 00..0f, ad "ad" */
    "310f56f28b60dd49c4043af6d364535592ca8482a5949d8f948d5f14df8b4232"
    "3f9993e07be49bff5026e3a543d58365cc49c81a6bb338705cc7e12112a50ec5"
    "5b1ad1bdccf755e7";

static void
master_fixed(uint8_t m[PK_KEY_BYTES])
{
	int i;

	for (i = 0; i < PK_KEY_BYTES; i++)
		m[i] = (uint8_t)i;
}

static void
salt_fixed(uint8_t s[PK_SALT_BYTES])
{
	int i;

	for (i = 0; i < PK_SALT_BYTES; i++)
		s[i] = (uint8_t)i;
}

static void
put_hex(const char *name, const uint8_t *p, size_t n)
{
	char hex[512];

	pk_hex(hex, p, n);
	printf("%s %s\n", name, hex);
}

static int
is_hex(const uint8_t *p, size_t n, const char *hex)
{
	char h[512];

	pk_hex(h, p, n);
	return strcmp(h, hex) == 0;
}

static int
vectors(void)
{
	uint8_t m[PK_KEY_BYTES], id[32], out[32], box[64], salt[PK_SALT_BYTES];
	uint8_t w[PK_WRAPPED_KEY_BYTES];
	struct pk_keys k;

	if (pk_crypto_init() < 0)
		return 1;
	master_fixed(m);
	salt_fixed(salt);
	pk_keys_derive(&k, m, 1);
	pk_hash_id(id, "abc", 3);
	pk_storage_id(&k, out, id);
	put_hex("sid", out, 32);
	pk_mac(&k, out, "pk snapshot", 11);
	put_hex("mac", out, 32);
	k.encrypted = 0;
	pk_box_seal(&k, box, (const uint8_t *)"abc", 3, (const uint8_t *)"ad", 2);
	put_hex("plain", box, 3 + PK_BOX_OVERHEAD_PLAIN);
	k.encrypted = 1;
	pk_box_seal(&k, box, (const uint8_t *)"abc", 3, (const uint8_t *)"ad", 2);
	put_hex("aead", box, 3 + PK_BOX_OVERHEAD_AEAD);
	if (pk_key_wrap(w, m, pass, strlen(pass), salt, OPS, MEM,
	    (const uint8_t *)"ad", 2) < 0)
		return 1;
	put_hex("wrapped", w, sizeof w);
	return 0;
}

static void
test_known_answers(void)
{
	uint8_t m[PK_KEY_BYTES], id[32], out[64], box[64], salt[PK_SALT_BYTES];
	uint8_t w[PK_WRAPPED_KEY_BYTES];
	struct pk_keys k;

	master_fixed(m);
	salt_fixed(salt);
	pk_keys_derive(&k, m, 1);
	pk_hash_id(id, "abc", 3);
	pk_storage_id(&k, out, id);
	CHECK("known answer: storage id of SHA-256(\"abc\")", is_hex(out, 32, kat_sid));
	pk_mac(&k, out, "pk snapshot", 11);
	CHECK("known answer: pk_mac", is_hex(out, 32, kat_mac));
	k.encrypted = 0;
	pk_box_seal(&k, box, (const uint8_t *)"abc", 3, (const uint8_t *)"ad", 2);
	CHECK("known answer: plaintext box (bytes, then keyed BLAKE2b-128 tag)",
	    is_hex(box, 3 + PK_BOX_OVERHEAD_PLAIN, kat_plain_box));
	k.encrypted = 1;
	pk_unhex(box, 3 + PK_BOX_OVERHEAD_AEAD, kat_aead_box);
	memset(out, 0, sizeof out);
	CHECK("known answer: an encrypted box of an earlier version opens",
	    pk_box_open(&k, out, box, 3 + PK_BOX_OVERHEAD_AEAD,
	    (const uint8_t *)"ad", 2) == 0 && !memcmp(out, "abc", 3));
	pk_unhex(w, sizeof w, kat_wrapped);
	memset(out, 0, sizeof out);
	CHECK("known answer: a wrapped key of an earlier version unwraps",
	    pk_key_unwrap(out, w, pass, strlen(pass), salt, OPS, MEM,
	    (const uint8_t *)"ad", 2) == 0 && !memcmp(out, m, PK_KEY_BYTES));
	pk_keys_wipe(&k);
}

static void
test_keys(void)
{
	uint8_t m[PK_KEY_BYTES], m2[PK_KEY_BYTES], r1[32], r2[32], zero[32] = { 0 };
	uint8_t id[32], id2[32], s1[32], s2[32], s3[32], s4[32], mac[32];
	struct pk_keys k, k2, k3, z;

	master_fixed(m);
	memcpy(m2, m, sizeof m2);
	m2[31] ^= 1;
	pk_keys_derive(&k, m, 1);
	pk_keys_derive(&k2, m, 1);
	pk_keys_derive(&k3, m2, 1);
	CHECK("keys: derivation is deterministic", !memcmp(&k, &k2, sizeof k));
	CHECK("keys: the three subkeys differ from each other and the master",
	    memcmp(k.aead, k.idmac, 32) && memcmp(k.aead, k.mac, 32) &&
	    memcmp(k.idmac, k.mac, 32) && memcmp(k.aead, m, 32) &&
	    memcmp(k.idmac, m, 32) && memcmp(k.mac, m, 32));
	CHECK("keys: another master, other subkeys",
	    memcmp(k.aead, k3.aead, 32) && memcmp(k.idmac, k3.idmac, 32) &&
	    memcmp(k.mac, k3.mac, 32));
	CHECK("keys: overheads 40 (encrypted) and 16 (plaintext)",
	    pk_box_overhead(&k) == PK_BOX_OVERHEAD_AEAD &&
	    (k2.encrypted = 0, pk_box_overhead(&k2) == PK_BOX_OVERHEAD_PLAIN));

	unit_fill(id, 32, 1);
	unit_fill(id2, 32, 2);
	pk_storage_id(&k, s1, id);
	pk_storage_id(&k2, s2, id);
	pk_storage_id(&k3, s3, id);
	pk_storage_id(&k, s4, id2);
	CHECK("storage id: deterministic per key", !memcmp(s1, s2, 32));
	CHECK("storage id: differs between keys", memcmp(s1, s3, 32) != 0);
	CHECK("storage id: differs from the chunk id", memcmp(s1, id, 32) != 0);
	CHECK("storage id: differs between chunk ids", memcmp(s1, s4, 32) != 0);
	pk_mac(&k, mac, id, 32);
	CHECK("pk_mac of the same bytes is not the storage id (other subkey)",
	    memcmp(mac, s1, 32) != 0);
	pk_mac(&k2, s2, id, 32);
	pk_mac(&k3, s3, id, 32);
	CHECK("pk_mac: deterministic per key, differs between keys",
	    !memcmp(mac, s2, 32) && memcmp(mac, s3, 32) != 0);

	pk_random(r1, sizeof r1);
	pk_random(r2, sizeof r2);
	CHECK("pk_random: two draws differ and are not zero",
	    memcmp(r1, r2, 32) && memcmp(r1, zero, 32));
	z = k;
	pk_keys_wipe(&z);
	CHECK("pk_keys_wipe: every byte zero", z.encrypted == 0 &&
	    !memcmp(z.aead, zero, 32) && !memcmp(z.idmac, zero, 32) &&
	    !memcmp(z.mac, zero, 32));
	pk_keys_wipe(&k);
	pk_keys_wipe(&k2);
	pk_keys_wipe(&k3);
}

static void
test_boxes(int encrypted)
{
	static const size_t sizes[] = { 0, 1, 16, 1000, 65539 };
	const char *mode = encrypted ? "encrypted" : "plaintext";
	uint8_t m[PK_KEY_BYTES], ad[40], *in, *box, *box2, *out;
	struct pk_keys k, other;
	size_t i, j, oh, n, bad, leaked;
	char name[160];
	int ok, same, diff;

	master_fixed(m);
	pk_keys_derive(&k, m, encrypted);
	m[0] ^= 1;
	pk_keys_derive(&other, m, encrypted);
	oh = pk_box_overhead(&k);
	in = malloc(65539);
	box = malloc(65539 + 64);
	box2 = malloc(65539 + 64);
	out = malloc(65539 + 64);
	unit_fill(ad, sizeof ad, 3);
	for (i = 0, ok = 1, same = 1, diff = 1; i < sizeof sizes / sizeof *sizes; i++) {
		n = sizes[i];
		unit_fill(in, n, 100 + i);
		pk_box_seal(&k, box, in, n, ad, sizeof ad);
		pk_box_seal(&k, box2, in, n, ad, sizeof ad);
		memset(out, 0xaa, n + oh);
		ok &= pk_box_open(&k, out, box, n + oh, ad, sizeof ad) == 0 &&
		    (n == 0 || !memcmp(out, in, n));
		ok &= pk_box_open(&k, out, box2, n + oh, ad, sizeof ad) == 0 &&
		    (n == 0 || !memcmp(out, in, n));
		/* Encrypted: a fresh nonce each time; plaintext: deterministic. */
		same &= !memcmp(box, box2, n + oh) == !encrypted;
		if (n >= 16)
			diff &= encrypted ? memcmp(box + 24, in, n) != 0 :
			    memcmp(box, in, n) == 0;
	}
	snprintf(name, sizeof name, "%s box: open(seal(x)) == x for 0 to 64K bytes",
	    mode);
	CHECK(name, ok);
	snprintf(name, sizeof name, "%s box: %s", mode, encrypted ?
	    "two seals of the same bytes differ (random nonce)" :
	    "sealing is deterministic");
	CHECK(name, same);
	snprintf(name, sizeof name, "%s box: %s", mode, encrypted ?
	    "the box does not hold the plaintext" :
	    "the box holds the bytes as they are");
	CHECK(name, diff);

	/* Every bit of a small box flipped. */
	n = 24;
	memset(in, 0x5c, n);
	pk_box_seal(&k, box, in, n, ad, sizeof ad);
	for (i = 0, bad = 0, leaked = 0; i < n + oh; i++) {
		for (j = 0; j < 8; j++) {
			box[i] ^= (uint8_t)(1u << j);
			memset(out, 0xaa, n + oh);
			bad += pk_box_open(&k, out, box, n + oh, ad, sizeof ad) !=
			    -EBADMSG;
			leaked += memchr(out, 0x5c, n + oh) != NULL;
			box[i] ^= (uint8_t)(1u << j);
		}
	}
	snprintf(name, sizeof name, "%s box: every flipped bit is EBADMSG", mode);
	CHECK(name, bad == 0);
	snprintf(name, sizeof name, "%s box: a box that fails releases no "
	    "plaintext", mode);
	CHECK(name, leaked == 0);
	CHECK(encrypted ? "encrypted box: the unflipped box opens" :
	    "plaintext box: the unflipped box opens",
	    pk_box_open(&k, out, box, n + oh, ad, sizeof ad) == 0);

	for (i = 0, bad = 0; i < n + oh; i++)
		bad += pk_box_open(&k, out, box, i, ad, sizeof ad) != -EBADMSG;
	snprintf(name, sizeof name, "%s box: every truncation is EBADMSG", mode);
	CHECK(name, bad == 0);
	ad[5] ^= 1;
	snprintf(name, sizeof name, "%s box: other associated data is EBADMSG", mode);
	CHECK(name, pk_box_open(&k, out, box, n + oh, ad, sizeof ad) == -EBADMSG);
	ad[5] ^= 1;
	snprintf(name, sizeof name, "%s box: shorter associated data is EBADMSG",
	    mode);
	CHECK(name, pk_box_open(&k, out, box, n + oh, ad, sizeof ad - 1) ==
	    -EBADMSG);
	snprintf(name, sizeof name, "%s box: no associated data is EBADMSG", mode);
	CHECK(name, pk_box_open(&k, out, box, n + oh, NULL, 0) == -EBADMSG);
	snprintf(name, sizeof name, "%s box: another master key is EBADMSG", mode);
	CHECK(name, pk_box_open(&other, out, box, n + oh, ad, sizeof ad) ==
	    -EBADMSG);
	pk_keys_wipe(&k);
	pk_keys_wipe(&other);
	free(in);
	free(box);
	free(box2);
	free(out);
}

static void
test_wrap(void)
{
	uint8_t m[PK_KEY_BYTES], got[PK_KEY_BYTES], salt[PK_SALT_BYTES];
	uint8_t w[PK_WRAPPED_KEY_BYTES], w2[PK_WRAPPED_KEY_BYTES];
	const uint8_t *ad = (const uint8_t *)"pk master key\0id";
	size_t i, bad;
	int e;

	unit_fill(m, sizeof m, 9);
	unit_fill(salt, sizeof salt, 10);
	e = pk_key_wrap(w, m, pass, strlen(pass), salt, OPS, MEM, ad, 16);
	CHECK("wrap: 0", e == 0);
	CHECK("wrap: the wrapped key does not hold the master key",
	    memmem(w, sizeof w, m, 8) == NULL);
	memset(got, 0, sizeof got);
	CHECK("unwrap: the right passphrase gives the master key",
	    pk_key_unwrap(got, w, pass, strlen(pass), salt, OPS, MEM, ad, 16) == 0 &&
	    !memcmp(got, m, sizeof m));
	CHECK("unwrap: a wrong passphrase is EACCES",
	    pk_key_unwrap(got, w, "correct horse battery stapler", 29, salt, OPS,
	    MEM, ad, 16) == -EACCES);
	CHECK("unwrap: a prefix of the passphrase is EACCES",
	    pk_key_unwrap(got, w, pass, strlen(pass) - 1, salt, OPS, MEM, ad, 16) ==
	    -EACCES);
	CHECK("unwrap: an empty passphrase is EACCES",
	    pk_key_unwrap(got, w, "", 0, salt, OPS, MEM, ad, 16) == -EACCES);
	CHECK("unwrap: other associated data (repository id) is EACCES",
	    pk_key_unwrap(got, w, pass, strlen(pass), salt, OPS, MEM,
	    (const uint8_t *)"pk master key\0iD", 16) == -EACCES);
	salt[0] ^= 1;
	CHECK("unwrap: another salt is EACCES",
	    pk_key_unwrap(got, w, pass, strlen(pass), salt, OPS, MEM, ad, 16) ==
	    -EACCES);
	salt[0] ^= 1;
	CHECK("unwrap: another cost is EACCES",
	    pk_key_unwrap(got, w, pass, strlen(pass), salt, OPS + 1, MEM, ad, 16) ==
	    -EACCES);
	for (i = 0, bad = 0; i < sizeof w; i++) {
		w[i] ^= 0x10;
		bad += pk_key_unwrap(got, w, pass, strlen(pass), salt, OPS, MEM,
		    ad, 16) != -EACCES;
		w[i] ^= 0x10;
	}
	CHECK("unwrap: a flip of any byte of the wrapped key is EACCES", bad == 0);
	e = pk_key_wrap(w2, m, pass, strlen(pass), salt, OPS, MEM, ad, 16);
	CHECK("wrap: two wraps differ (random nonce) and both unwrap",
	    e == 0 && memcmp(w, w2, sizeof w) != 0 &&
	    pk_key_unwrap(got, w2, pass, strlen(pass), salt, OPS, MEM, ad, 16) == 0 &&
	    !memcmp(got, m, sizeof m));
}

int
main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--vectors"))
		return vectors();
	CHECK("pk_crypto_init", pk_crypto_init() == 0);
	test_known_answers();
	test_keys();
	test_boxes(1);
	test_boxes(0);
	test_wrap();
	UNIT_END();
}
