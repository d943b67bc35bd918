/*
 * t-keyring: keys as objects (keyring.h, pk-repo(5) "KEYS" and "KEY
 * FILES").  Golden vectors pin the formats: a passphrase key object, a
 * key file's key object and the key file itself (tests/golden/key-*.txt,
 * keyfile-v2.key), made with repository id 00..0f, master key 20..3f,
 * secret 40..5f and the passphrase "golden passphrase" at the least
 * Argon2id cost; each decodes, encodes back to its bytes and unwraps to
 * the master key; the associated data is the one the page spells out;
 * any changed byte is refused or opens nothing.  Then the keyring of a
 * repository: keys listed in order, a removed key file refused, the last
 * key kept, and a move out of a version 1 config run twice (as after a
 * crash between its two writes) leaving one copy of the key.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-keyring"
#define GOLDEN	"tests/golden/"

static const char gpass[] = "golden passphrase";
static const char pass[] = "correct horse";

/* Replaces the first occurrence of from by to in s (into out): 0, or -1
 * when s does not hold from. */
static int
edit(char *out, size_t n, const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	if (at == NULL)
		return -1;
	snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return 0;
}

static void
fill(uint8_t *p, size_t n, uint8_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

/* Unwraps the object text (n bytes) of repository repo with a
 * passphrase or a secret: 0 and master, or an error. */
static int
unwrap(const char *text, size_t n, const uint8_t repo[16], const char *p,
    const uint8_t *secret, uint8_t master[32])
{
	struct pk_key_object k;
	uint8_t ad[PK_KEY_OBJECT_MAX + 64], kek[32];
	size_t adlen;
	int e;

	if ((e = pk_key_object_decode(&k, text, n)) < 0)
		return e;
	adlen = pk_key_object_ad(ad, &k, text, repo);
	if (k.kind == PK_KEY_PASSPHRASE)
		return pk_key_unwrap(master, k.wrapped, p, strlen(p), k.salt,
		    k.ops, k.mem, ad, adlen);
	pk_key_file_kek(kek, secret);
	return pk_key_unseal(master, k.wrapped, kek, ad, adlen);
}

static void
test_golden_objects(void)
{
	uint8_t repo[16], master[32], secret[32], got[32], ad[PK_KEY_OBJECT_MAX + 64];
	uint8_t want_ad[PK_KEY_OBJECT_MAX + 64], id[16];
	char *text = unit_get_text(GOLDEN "key-passphrase.txt");
	char *ftext = unit_get_text(GOLDEN "key-file.txt");
	char again[PK_KEY_OBJECT_MAX], copy[PK_KEY_OBJECT_MAX];
	struct pk_key_object k;
	size_t n, i, bad, adlen;

	if (text == NULL || ftext == NULL) {
		CHECK("golden: the key objects are there", 0);
		return;
	}
	fill(repo, 16, 0);
	fill(master, 32, 0x20);
	fill(secret, 32, 0x40);
	fill(id, 16, 0x10);
	n = strlen(text);
	CHECK("golden passphrase key: decodes, fields as written",
	    pk_key_object_decode(&k, text, n) == 0 &&
	    k.kind == PK_KEY_PASSPHRASE && !k.moved &&
	    memcmp(k.id, id, 16) == 0 && k.created == 1796601600 &&
	    strcmp(k.host, "golden.example") == 0 &&
	    strcmp(k.user, "pk%20user") == 0 && k.ops == 1 && k.mem == 8192);
	CHECK("golden passphrase key: encodes back to its bytes",
	    pk_key_object_encode(again, &k) == n && memcmp(again, text, n) == 0 &&
	    k.head == (size_t)(strstr(text, "\nkey ") + 1 - text));
	memcpy(want_ad, "pk key", 7);
	memcpy(want_ad + 7, repo, 16);
	memcpy(want_ad + 23, text, k.head);
	adlen = pk_key_object_ad(ad, &k, text, repo);
	CHECK("golden passphrase key: the associated data of pk-repo(5)",
	    adlen == 23 + k.head && memcmp(ad, want_ad, adlen) == 0);
	CHECK("golden passphrase key: unwraps to the master key",
	    unwrap(text, n, repo, gpass, NULL, got) == 0 &&
	    memcmp(got, master, 32) == 0);
	CHECK("golden passphrase key: a wrong passphrase is EACCES",
	    unwrap(text, n, repo, "golden passphrasE", NULL, got) == -EACCES);
	repo[15] ^= 1;
	CHECK("golden passphrase key: in another repository it opens nothing",
	    unwrap(text, n, repo, gpass, NULL, got) == -EACCES);
	repo[15] ^= 1;
	/* Every byte changed: refused, or it opens nothing. */
	for (i = 0, bad = 0; i < n; i++) {
		memcpy(copy, text, n);
		copy[i] = copy[i] == '0' ? '1' : copy[i] == '1' ? '0' :
		    (char)(copy[i] ^ 0x01);
		if (unwrap(copy, n, repo, gpass, NULL, got) == 0) {
			printf("# byte %zu changed still opens\n", i);
			bad++;
		}
	}
	CHECK("golden passphrase key: any byte changed opens nothing", bad == 0);
	for (i = 0, bad = 0; i < n; i++)
		bad += pk_key_object_decode(&k, text, i) != -EBADMSG;
	CHECK("golden passphrase key: cut short anywhere is EBADMSG", bad == 0);

	n = strlen(ftext);
	fill(id, 16, 0x70);
	CHECK("golden key-file key: decodes, no Argon2id line",
	    pk_key_object_decode(&k, ftext, n) == 0 && k.kind == PK_KEY_FILE &&
	    memcmp(k.id, id, 16) == 0 && strstr(ftext, "argon2id") == NULL &&
	    pk_key_object_encode(again, &k) == n && memcmp(again, ftext, n) == 0);
	CHECK("golden key-file key: unwraps with the secret",
	    unwrap(ftext, n, repo, NULL, secret, got) == 0 &&
	    memcmp(got, master, 32) == 0);
	secret[0] ^= 1;
	CHECK("golden key-file key: another secret opens nothing",
	    unwrap(ftext, n, repo, NULL, secret, got) == -EACCES);
	free(text);
	free(ftext);
}

/* Objects a writer never makes: each EBADMSG (or EPROTO). */
static void
test_bad_objects(void)
{
	char *good = unit_get_text(GOLDEN "key-passphrase.txt");
	char text[2 * PK_KEY_OBJECT_MAX];
	struct pk_key_object k;
	size_t i, bad;
	static const char *const edits[][2] = {
		{ "created 1796601600", "created 01796601600" },
		{ "created 1796601600", "created -1" },
		{ "created 1796601600", "created +1796601600" },
		{ "kind passphrase", "kind key-file" },
		{ "kind passphrase", "kind other" },
		{ "host golden.example", "host golden example" },
		{ "host golden.example", "host " },
		{ "\nuser ", "\nuser  " },
		{ "argon2id 1 8192", "argon2id 0 8192" },
		{ "argon2id 1 8192", "argon2id 101 8192" },
		{ "argon2id 1 8192", "argon2id 1 8191" },
		{ "argon2id 1 8192", "argon2id 01 8192" },
		{ "id 101112", "id 10111G" },
		{ "id 101112", "id 10111A" },
		{ "\nkey ", "\nmoved elsewhere\nkey " },
		{ "\nkey ", "\ncolour blue\nkey " },
		{ "\nkey ", "\n\nkey " },
		{ "\nhost ", "\nuser x\nhost " },
		{ "key 89", "key 8" },
	};

	if (good == NULL)
		return;
	for (i = 0, bad = 0; i < sizeof edits / sizeof *edits; i++) {
		if (edit(text, sizeof text, good, edits[i][0], edits[i][1]) < 0 ||
		    pk_key_object_decode(&k, text, strlen(text)) != -EBADMSG) {
			printf("# \"%s\" as \"%s\"\n", edits[i][0], edits[i][1]);
			bad++;
		}
	}
	CHECK("bad objects: each line held to its one form", bad == 0);
	edit(text, sizeof text, good, "pk-repository-key 1\n",
	    "pk-repository-key 2\n");
	CHECK("bad objects: version 2 is EPROTO",
	    pk_key_object_decode(&k, text, strlen(text)) == -EPROTO);
	snprintf(text, sizeof text, "%s\n", good);
	CHECK("bad objects: a byte after it is EBADMSG",
	    pk_key_object_decode(&k, text, strlen(text)) == -EBADMSG);
	memset(text, 'x', sizeof text);
	memcpy(text, good, strlen(good));
	CHECK("bad objects: over 1024 bytes is EBADMSG",
	    pk_key_object_decode(&k, text, PK_KEY_OBJECT_MAX + 1) == -EBADMSG);
	memcpy(text, good, strlen(good) + 1);
	text[30] = '\0';
	CHECK("bad objects: a NUL is EBADMSG",
	    pk_key_object_decode(&k, text, strlen(good)) == -EBADMSG);
	free(good);
}

static void
test_golden_keyfiles(void)
{
	uint8_t repo[16], id[16], secret[32];
	char *text = unit_get_text(GOLDEN "keyfile-v2.key");
	char *v1 = unit_get_text(GOLDEN "repo-v1.key");
	char again[PK_KEYFILE_MAX], copy[PK_KEYFILE_MAX];
	struct pk_keyfile f;
	size_t n, i, bad;
	int e;

	if (text == NULL || v1 == NULL) {
		CHECK("golden: the key files are there", 0);
		return;
	}
	fill(repo, 16, 0);
	fill(id, 16, 0x70);
	fill(secret, 32, 0x40);
	n = strlen(text);
	CHECK("golden key file: 200 bytes, decodes to its key",
	    n == 200 && pk_keyfile_decode(&f, text, n, "k", repo) == 0 &&
	    f.version == 2 && memcmp(f.repo, repo, 16) == 0 &&
	    memcmp(f.id, id, 16) == 0 && memcmp(f.secret, secret, 32) == 0);
	CHECK("golden key file: encodes back to its bytes",
	    pk_keyfile_encode(again, &f) == n && memcmp(again, text, n) == 0);
	repo[0] ^= 1;
	CHECK("golden key file: of another repository is EACCES",
	    pk_keyfile_decode(&f, text, n, "k", repo) == -EACCES);
	repo[0] ^= 1;
	for (i = 0, bad = 0; i < n; i++) {
		memcpy(copy, text, n);
		/* A hex digit to another, anything else to another byte. */
		copy[i] = strchr("0123456789abcdef", copy[i]) ? (copy[i] == '0' ?
		    '1' : '0') : (char)(copy[i] ^ 0x01);
		e = pk_keyfile_decode(&f, copy, n, "k", repo);
		/* A digit of the repository id names another repository. */
		if (e != (i >= 20 && i < 52 ? -EACCES : -EBADMSG)) {
			printf("# byte %zu changed: %d\n", i, e);
			bad++;
		}
	}
	CHECK("golden key file: any byte changed is refused", bad == 0);
	CHECK("golden key file of version 1: decodes, the master key in it",
	    pk_keyfile_decode(&f, v1, strlen(v1), "k", NULL) == 0 &&
	    f.version == 1 && strlen(v1) == 161);
	free(text);
	free(v1);
}

/* A repository's keyring, end to end in the library. */
static void
test_keyring(void)
{
	const struct pk_repo_params p = { .chunk_min = 2048, .chunk_avg = 8192,
	    .chunk_max = 65536, .encrypted = 1 };
	const char *dir = SCRATCH "/r", *kf = SCRATCH "/kf";
	uint8_t fid[16], first[16];
	char hex[33], cfg[PK_CONFIG_MAX_BYTES], obj[PK_KEY_OBJECT_MAX], path[256];
	char prefix[8];
	struct pk_key_entry *l;
	struct pk_key_object k;
	struct pk_config c;
	struct pk_repo *r, *rk;
	size_t n, len;
	int e;

	if (pk_repo_init(dir, &p, pass, strlen(pass)) < 0 ||
	    pk_repo_open(&r, dir, pass, strlen(pass)) < 0) {
		CHECK("keyring: init and open", 0);
		return;
	}
	memcpy(first, r->used.id, 16);
	CHECK("keyring: opened by its first key, a passphrase",
	    r->used.how == PK_USED_KEY && r->used.passphrase);
	CHECK("keyring: a key file added",
	    pk_keyring_add_file(r, kf, fid) == 0 && unit_mode_of(kf) == 0600);
	CHECK("keyring: never over a file (EEXIST)",
	    pk_keyring_add_file(r, kf, NULL) == -EEXIST);
	CHECK("keyring: two keys, sorted by id, the first marked",
	    pk_keyring_list(r, &l, &n) == 0 && n == 2 &&
	    memcmp(l[0].k.id, l[1].k.id, 16) < 0 &&
	    l[memcmp(l[0].k.id, first, 16) == 0 ? 0 : 1].used &&
	    !l[memcmp(l[0].k.id, first, 16) == 0 ? 1 : 0].used);
	free(l);
	e = pk_repo_open_keyfile(&rk, dir, kf);
	CHECK("keyring: the key file opens, by its key",
	    e == 0 && rk->used.how == PK_USED_KEY && !rk->used.passphrase &&
	    memcmp(rk->used.id, fid, 16) == 0 &&
	    memcmp(rk->master, r->master, 32) == 0);
	if (e == 0)
		pk_repo_close(rk);
	pk_hex(hex, fid, 16);
	snprintf(prefix, sizeof prefix, "%.6s", hex);
	CHECK("keyring: remove by a prefix",
	    pk_keyring_remove(r, prefix, NULL) == 0 &&
	    pk_repo_open_keyfile(&rk, dir, kf) == -EACCES &&
	    strstr(pk_errmsg(-EACCES), "was removed") != NULL);
	pk_hex(hex, first, 16);
	CHECK("keyring: the last key stays (EPERM)",
	    pk_keyring_remove(r, hex, NULL) == -EPERM);
	CHECK("keyring: no such key is ENOENT", strncmp(hex, "ffffffff", 8) &&
	    pk_keyring_remove(r, "ffffffff", NULL) == -ENOENT);

	/* A version 1 config, and a move stopped after its first write: the
	 * object is there, the config still holds the key. */
	if (pk_config_read(r->store, &c) == 0) {
		uint8_t ad[64];

		c.version = 1;
		pk_random(c.salt, sizeof c.salt);
		c.ops = 1;
		c.mem = 8192;
		pk_key_wrap(c.key, r->master, pass, strlen(pass), c.salt, 1, 8192,
		    ad, pk_ad_make(ad, "pk master key", r->id, 16));
		len = pk_config_format(cfg, &c);
		/* Version 2's form, made a version 1 config by hand. */
		cfg[14] = '1';
		snprintf(cfg + len, sizeof cfg - len, "argon2id 1 8192 ");
		pk_hex(cfg + strlen(cfg), c.salt, 16);
		snprintf(cfg + strlen(cfg), sizeof cfg - strlen(cfg), "\nkey ");
		pk_hex(cfg + strlen(cfg), c.key, sizeof c.key);
		snprintf(cfg + strlen(cfg), sizeof cfg - strlen(cfg), "\n");
		snprintf(path, sizeof path, "%s/config", dir);
		chmod(path, 0600);
		unit_put_file(path, cfg, strlen(cfg));
		snprintf(path, sizeof path, "%s/keys/%s", dir, hex);
		unlink(path);
	}
	pk_repo_close(r);
	e = pk_repo_open(&r, dir, pass, strlen(pass));
	CHECK("version 1: opens by its config's key",
	    e == 0 && r->used.how == PK_USED_CONFIG);
	if (e < 0)
		return;
	CHECK("version 1: listed as the config's",
	    pk_keyring_list(r, &l, &n) == 0 && n == 1 && l[0].config &&
	    l[0].used);
	free(l);
	CHECK("version 1: moved", pk_keyring_migrate(r) == 0 &&
	    r->used.how == PK_USED_KEY);
	snprintf(path, sizeof path, "%s/keys", dir);
	CHECK("version 1: one key object, moved", unit_count_files(path) == 1);
	pk_hex(hex, r->used.id, 16);
	snprintf(path, sizeof path, "%s/keys/%s", dir, hex);
	{
		char *t = unit_get_text(path);

		CHECK("version 1: the moved object keeps the config's wrapping",
		    t && pk_key_object_decode(&k, t, strlen(t)) == 0 && k.moved &&
		    memcmp(k.wrapped, c.key, sizeof c.key) == 0);
		snprintf(obj, sizeof obj, "%s", t ? t : "");
		free(t);
	}
	/* The config as before the move, the object left: a crash between. */
	snprintf(path, sizeof path, "%s/config", dir);
	chmod(path, 0600);
	unit_put_file(path, cfg, strlen(cfg));
	pk_repo_close(r);
	e = pk_repo_open(&r, dir, pass, strlen(pass));
	CHECK("version 1: after a stopped move, the config's key opens",
	    e == 0 && r->used.how == PK_USED_CONFIG);
	if (e < 0)
		return;
	snprintf(path, sizeof path, "%s/keys", dir);
	CHECK("version 1: the move run again leaves one copy of the key",
	    pk_keyring_migrate(r) == 0 && unit_count_files(path) == 1);
	snprintf(path, sizeof path, "%s/keys/%s", dir, hex);
	{
		char *t = unit_get_text(path);

		CHECK("version 1: ... the object as first written",
		    t && strcmp(t, obj) == 0);
		free(t);
	}
	pk_repo_close(r);
	CHECK("version 1: moved, the passphrase opens by the moved key",
	    pk_repo_open(&r, dir, pass, strlen(pass)) == 0 &&
	    r->used.how == PK_USED_KEY && pk_config_read(r->store, &c) == 0 &&
	    c.version == 2 && !pk_config_holds_key(&c));
	pk_repo_close(r);
	sodium_memzero(&c, sizeof c);
}

int
main(void)
{
	umask(022);
	unit_scratch(SCRATCH);
	pk_crypto_init();
	test_golden_objects();
	test_bad_objects();
	test_golden_keyfiles();
	test_keyring();
	UNIT_END();
}
