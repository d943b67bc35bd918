/*
 * t-repo: repositories (repo.h): init makes the layout with its modes and
 * a config that read_params and open read back, in a new or an empty
 * directory only, and says ENOENT under a missing parent; open of a
 * plaintext repository ignores the passphrase, of an encrypted one
 * refuses a wrong or missing one (EACCES); a config that breaks any rule
 * of pk-repo(5) CONFIG is EBADMSG (a key whose length is not the one its
 * encryption line implies, more than 4096 bytes), another version EPROTO.
 * Key files: exported only with the passphrase, mode 0600, never over a
 * file; opening with one gives the same keys as the passphrase, and one
 * that others may read, a link, a directory, a FIFO (without waiting for
 * a writer), another repository's or a damaged one is refused.  One
 * encrypted repository, so that Argon2id runs only a few times.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-repo"

static const char pass[] = "correct horse";
static const struct pk_repo_params plain = { .chunk_min = 2048,
    .chunk_avg = 8192, .chunk_max = 65536 };
static const struct pk_repo_params enc = { .chunk_min = 4096,
    .chunk_avg = 16384, .chunk_max = 131072, .encrypted = 1 };

static void
put_text(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd >= 0) {
		pk_write_all(fd, text, strlen(text));
		close(fd);
	}
	chmod(path, mode);
}

static int
same_keys(const struct pk_repo *a, const struct pk_repo *b)
{
	return a->keys.encrypted == b->keys.encrypted &&
	    memcmp(a->keys.aead, b->keys.aead, PK_KEY_BYTES) == 0 &&
	    memcmp(a->keys.idmac, b->keys.idmac, PK_KEY_BYTES) == 0 &&
	    memcmp(a->keys.mac, b->keys.mac, PK_KEY_BYTES) == 0 &&
	    memcmp(a->id, b->id, PK_REPO_ID_BYTES) == 0;
}

static int
try_open(const char *path, const char *p)
{
	struct pk_repo *r = (struct pk_repo *)1;
	int e = pk_repo_open(&r, path, p, p ? strlen(p) : 0);

	if (e == 0)
		pk_repo_close(r);
	else if (r != NULL)
		return -1000;	/* no handle on failure */
	return e;
}

static void
test_init(void)
{
	struct pk_repo_params p;
	struct pk_repo *r, *r2;
	char path[4200];
	const char *sub[] = { "packs", "index", "snapshots", "tmp" };
	size_t i;
	int e, ok;

	e = pk_repo_init(SCRATCH "/p", &plain, NULL, 0);
	CHECK("init: a plaintext repository", e == 0);
	for (i = 0, ok = 1; i < 4; i++) {
		snprintf(path, sizeof path, SCRATCH "/p/%s", sub[i]);
		ok &= unit_mode_of(path) == 0700 && unit_count_files(path) == 0;
	}
	CHECK("init: four empty subdirectories of mode 0700", ok &&
	    unit_mode_of(SCRATCH "/p") == 0700);
	CHECK("init: config of mode 0400, and nothing else",
	    unit_mode_of(SCRATCH "/p/config") == 0400 &&
	    unit_count_files(SCRATCH "/p") == 5);
	e = pk_repo_read_params(SCRATCH "/p", &p);
	CHECK("read_params: the chunker, not encrypted", e == 0 &&
	    p.chunk_min == 2048 && p.chunk_avg == 8192 && p.chunk_max == 65536 &&
	    p.encrypted == 0);
	e = pk_repo_open(&r, SCRATCH "/p", "any", 3);
	CHECK("open: a plaintext repository, the passphrase ignored",
	    e == 0 && r->keys.encrypted == 0 && r->params.chunk_avg == 8192 &&
	    memcmp(r->id, p.id, sizeof p.id) == 0 &&
	    strcmp(r->path, SCRATCH "/p") == 0);
	if (e < 0)
		return;
	e = pk_repo_open(&r2, SCRATCH "/p", NULL, 0);
	CHECK("open: twice, the same id and keys", e == 0 && same_keys(r, r2));
	pk_repo_close(r2);
	CHECK("repo_path: REPO/rel", pk_repo_path(r, path, sizeof path, "index") ==
	    0 && strcmp(path, SCRATCH "/p/index") == 0);
	CHECK("repo_path: too long for the buffer is ENAMETOOLONG",
	    pk_repo_path(r, path, 10, "index") == -ENAMETOOLONG);

	e = pk_repo_init(SCRATCH "/p2", &plain, NULL, 0);
	e = e ? e : pk_repo_open(&r2, SCRATCH "/p2", NULL, 0);
	CHECK("init: another repository has another id and keys",
	    e == 0 && memcmp(r->id, r2->id, PK_REPO_ID_BYTES) != 0 &&
	    memcmp(r->keys.mac, r2->keys.mac, PK_KEY_BYTES) != 0);
	if (e == 0)
		pk_repo_close(r2);
	pk_repo_close(r);

	CHECK("init: over a repository is EEXIST",
	    pk_repo_init(SCRATCH "/p", &plain, NULL, 0) == -EEXIST);
	CHECK("init: ... which still opens", try_open(SCRATCH "/p", NULL) == 0);
	mkdir(SCRATCH "/full", 0700);
	put_text(SCRATCH "/full/file", "mine\n", 0600);
	CHECK("init: in a directory that holds a file is EEXIST",
	    pk_repo_init(SCRATCH "/full", &plain, NULL, 0) == -EEXIST &&
	    unit_count_files(SCRATCH "/full") == 1);
	mkdir(SCRATCH "/empty", 0755);
	CHECK("init: in an empty directory",
	    pk_repo_init(SCRATCH "/empty", &plain, NULL, 0) == 0 &&
	    try_open(SCRATCH "/empty", NULL) == 0);
	put_text(SCRATCH "/afile", "x", 0600);
	CHECK("init: at a file is EEXIST",
	    pk_repo_init(SCRATCH "/afile", &plain, NULL, 0) == -EEXIST);
	e = pk_repo_init(SCRATCH "/no/such/parent", &plain, NULL, 0);
	CHECK("init: under a missing parent directory is ENOENT, not EEXIST",
	    e == -ENOENT && access(SCRATCH "/no", F_OK) < 0);

	CHECK("open: no repository is ENOENT, no handle",
	    try_open(SCRATCH "/none", NULL) == -ENOENT);
	CHECK("open: ... the message says so",
	    strstr(pk_errmsg(-ENOENT), "not a pk repository") != NULL);
	CHECK("open: a directory without config is ENOENT",
	    try_open(SCRATCH "/full", NULL) == -ENOENT);
	CHECK("read_params: no repository is ENOENT",
	    pk_repo_read_params(SCRATCH "/none", &p) == -ENOENT);
}

/* The config of repository dir replaced by text; the result of open. */
static int
open_with_config(const char *dir, const char *text, const char *p)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/config", dir);
	put_text(path, text, 0600);
	return try_open(dir, p);
}

/* Replaces the first occurrence of from by to in s (into out). */
static void
edit(char *out, size_t n, const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	if (at == NULL) {
		snprintf(out, n, "%s", s);
		return;
	}
	snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

/* Config rules, on a plaintext config. */
static void
test_config(void)
{
	char *good, text[8192], line[512], *nl, *at;
	const char *dir = SCRATCH "/cfg";
	size_t nlines, i, bad, len;
	int e;

	pk_repo_init(dir, &plain, NULL, 0);
	good = unit_get_text(SCRATCH "/cfg/config");
	if (good == NULL) {
		CHECK("config: read", 0);
		return;
	}
	CHECK("config: the lines of pk-repo(5), in order",
	    strncmp(good, "pk-repository 2\nid ", 19) == 0 &&
	    strstr(good, "\nchunker 2048 8192 65536\nencryption none\nkey ") != NULL);
	for (nlines = 0, at = good; (nl = strchr(at, '\n')) != NULL; at = nl + 1)
		nlines++;
	CHECK("config: five lines", nlines == 5);

	/* Each line left out, or written twice. */
	for (i = 0, bad = 0, at = good; i < nlines; i++, at = nl + 1) {
		nl = strchr(at, '\n');
		len = (size_t)(nl + 1 - at);
		snprintf(text, sizeof text, "%.*s%s", (int)(at - good), good, nl + 1);
		if ((e = open_with_config(dir, text, NULL)) != -EBADMSG) {
			printf("# without line %zu: %d\n", i + 1, e);
			bad++;
		}
		snprintf(text, sizeof text, "%.*s%.*s%s", (int)(nl + 1 - good), good,
		    (int)len, at, nl + 1);
		if ((e = open_with_config(dir, text, NULL)) != -EBADMSG) {
			printf("# line %zu twice: %d\n", i + 1, e);
			bad++;
		}
	}
	CHECK("config: any line missing or twice is EBADMSG", bad == 0);

	static const char *const edits[][2] = {
		{ "pk-repository 2\n", "pk-repository 2 \n" },
		{ "pk-repository 2\n", "pk-repository x\n" },
		{ "pk-repository 2\n", "pk-repository\n" },
		{ "chunker 2048 8192 65536", "chunker 2048 8192" },
		{ "chunker 2048 8192 65536", "chunker 2048 8192 65536 1" },
		{ "chunker 2048 8192 65536", "chunker 2048 8192 4294967296" },
		{ "chunker 2048 8192 65536", "chunker a b c" },
		{ "encryption none", "encryption aes" },
		{ "encryption none", "encryption  none" },
		{ "encryption none", "encryption" },
		{ "\nkey ", "\nkey g" },
		{ "\nkey ", "\nkey 0" },
		{ "\nid ", "\nid 0" },
		{ "\nid ", "\nid x" },
		{ "\nid ", "\nid=" },
		{ "\nkey ", "\ncolour blue\nkey " },
		{ "\nkey ", "\n\nkey " },
	};
	for (i = 0, bad = 0; i < sizeof edits / sizeof *edits; i++) {
		edit(text, sizeof text, good, edits[i][0], edits[i][1]);
		if ((e = open_with_config(dir, text, NULL)) != -EBADMSG) {
			printf("# \"%s\" as \"%s\": %d\n", edits[i][0], edits[i][1], e);
			bad++;
		}
	}
	CHECK("config: a value that does not parse, an unknown key, an empty "
	    "line: EBADMSG", bad == 0);
	/* 80 digits more: the length of a wrapped key. */
	edit(text, sizeof text, good, "\nkey ", "\nkey 0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	CHECK("config: a key of 144 digits (a wrapped key) in a plaintext "
	    "config is EBADMSG", strlen(strstr(text, "\nkey ")) == 5 + 144 + 1 &&
	    open_with_config(dir, text, NULL) == -EBADMSG);

	/* The first line first. */
	at = strchr(good, '\n') + 1;
	nl = strchr(at, '\n');
	snprintf(text, sizeof text, "%.*s%.*s%s", (int)(nl + 1 - at), at,
	    (int)(at - good), good, nl + 1);
	CHECK("config: the version line second is EBADMSG",
	    open_with_config(dir, text, NULL) == -EBADMSG);
	snprintf(text, sizeof text, "%.*s", (int)strlen(good) - 1, good);
	CHECK("config: no newline at the end is EBADMSG",
	    open_with_config(dir, text, NULL) == -EBADMSG);
	CHECK("config: empty is EBADMSG", open_with_config(dir, "", NULL) == -EBADMSG);
	edit(text, sizeof text, good, "pk-repository 2\n", "pk-repository 3\n");
	CHECK("config: version 3 is EPROTO",
	    open_with_config(dir, text, NULL) == -EPROTO);
	CHECK("read_params: version 3 is EPROTO too",
	    pk_repo_read_params(dir, &(struct pk_repo_params){ 0 }) == -EPROTO);
	snprintf(line, sizeof line, "pk-repository 3\nsomething new\n");
	CHECK("config: version 3 with keys unknown to 2 is EPROTO, not corrupt",
	    open_with_config(dir, line, NULL) == -EPROTO);
	edit(text, sizeof text, good, "pk-repository 2\n", "pk-repository 0\n");
	CHECK("config: version 0 is EPROTO", open_with_config(dir, text, NULL) ==
	    -EPROTO);
	/* Larger than 4096 bytes: a long unknown line at the end. */
	len = strlen(good);
	memcpy(text, good, len);
	memset(text + len, 'x', 4200);
	text[len + 4200] = '\0';
	CHECK("config: over 4096 bytes is EBADMSG (corrupt)",
	    open_with_config(dir, text, NULL) == -EBADMSG);
	CHECK("config: restored, it opens", open_with_config(dir, good, NULL) == 0);
	unlink(SCRATCH "/cfg/config");
	symlink("../p/config", SCRATCH "/cfg/config");
	CHECK("config: a symbolic link is not followed",
	    try_open(dir, NULL) == -ELOOP);
	unlink(SCRATCH "/cfg/config");
	put_text(SCRATCH "/cfg/config", good, 0600);
	free(good);
}

/*
 * Writes r's config as pk-store wrote it before keys/ (version 1), with
 * r's master key wrapped in it under pass, and empties keys/: its text.
 */
static char *
v1_config(const struct pk_repo *r)
{
	char text[1024], idhex[33], salthex[33], keyhex[145], path[256];
	uint8_t salt[PK_SALT_BYTES], wrapped[PK_WRAPPED_KEY_BYTES], ad[64];
	struct pk_key_entry *l;
	size_t n, i;

	if (pk_keyring_list((struct pk_repo *)r, &l, &n) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		pk_hex(idhex, l[i].k.id, sizeof l[i].k.id);
		snprintf(path, sizeof path, "%s/keys/%s", r->path, idhex);
		unlink(path);
	}
	free(l);
	pk_random(salt, sizeof salt);
	if (pk_key_wrap(wrapped, r->master, pass, strlen(pass), salt, 3,
	    33554432, ad, pk_ad_make(ad, "pk master key", r->id, 16)) < 0)
		return NULL;
	pk_hex(idhex, r->id, 16);
	pk_hex(salthex, salt, sizeof salt);
	pk_hex(keyhex, wrapped, sizeof wrapped);
	snprintf(text, sizeof text, "pk-repository 1\nid %s\nchunker 4096 16384 "
	    "131072\nencryption xchacha20-poly1305\nargon2id 3 33554432 %s\n"
	    "key %s\n", idhex, salthex, keyhex);
	snprintf(path, sizeof path, "%s/config", r->path);
	put_text(path, text, 0400);
	return strdup(text);
}

/* The one encrypted repository: passphrases, key files. */
static void
test_encrypted(void)
{
	const char *dir = SCRATCH "/enc", *kf = SCRATCH "/key";
	char *cfg, *key, text[8192], *at;
	struct pk_repo_params p;
	struct pk_repo *r, *rk;
	size_t i, bad;
	pid_t pid;
	int e, st;

	e = pk_repo_init(dir, &enc, pass, strlen(pass));
	CHECK("encrypted: init", e == 0);
	if (e < 0)
		return;
	cfg = unit_get_text(SCRATCH "/enc/config");
	CHECK("encrypted: config of version 2 with no key",
	    cfg && strncmp(cfg, "pk-repository 2\n", 16) == 0 &&
	    strstr(cfg, "\nencryption xchacha20-poly1305\n") != NULL &&
	    strstr(cfg, "key") == NULL && strstr(cfg, "argon2id") == NULL);
	free(cfg);
	CHECK("encrypted: read_params without a passphrase",
	    pk_repo_read_params(dir, &p) == 0 && p.encrypted == 1 &&
	    p.chunk_min == 4096 && p.chunk_max == 131072);
	e = pk_repo_open(&r, dir, pass, strlen(pass));
	CHECK("encrypted: open with the passphrase", e == 0 &&
	    r->keys.encrypted == 1 && memcmp(r->id, p.id, sizeof p.id) == 0);
	if (e < 0)
		return;
	CHECK("encrypted: a wrong passphrase is EACCES, no handle",
	    try_open(dir, "correct horsE") == -EACCES);
	CHECK("encrypted: ... the message says so",
	    strstr(pk_errmsg(-EACCES), "wrong passphrase") != NULL);
	CHECK("encrypted: the passphrase and a byte more is EACCES",
	    pk_repo_open(&rk, dir, "correct horse!", strlen(pass) + 1) == -EACCES);
	CHECK("encrypted: no passphrase is EACCES", try_open(dir, NULL) == -EACCES);

	/* The config as pk-store wrote it before keys/, version 1. */
	cfg = v1_config(r);
	CHECK("encrypted: a version 1 config opens with the passphrase",
	    cfg != NULL && pk_repo_open(&rk, dir, pass, strlen(pass)) == 0 &&
	    same_keys(r, rk) && rk->used.how == PK_USED_CONFIG);
	if (cfg == NULL)
		return;
	pk_repo_close(rk);

	/* Config rules that only encrypted repositories have; no passphrase
	 * given, so that a config that parses costs no Argon2id. */
	static const char *const edits[][2] = {
		{ "\nargon2id 3 ", "\nargon2id 0 " },
		{ "\nargon2id 3 ", "\nargon2id 101 " },
		{ " 33554432 ", " 8191 " },
		{ " 33554432 ", " 4294967297 " },
		{ "\nargon2id ", "\nargon2id 3 33554432\nx " },
	};
	for (i = 0, bad = 0; i < sizeof edits / sizeof *edits; i++) {
		edit(text, sizeof text, cfg, edits[i][0], edits[i][1]);
		if ((e = open_with_config(dir, text, NULL)) != -EBADMSG) {
			printf("# \"%s\" as \"%s\": %d\n", edits[i][0], edits[i][1], e);
			bad++;
		}
	}
	CHECK("encrypted config: an Argon2id cost out of range or a bad salt "
	    "is EBADMSG", bad == 0);
	at = strstr(cfg, "\nargon2id ");
	snprintf(text, sizeof text, "%.*s%s", (int)(at - cfg), cfg,
	    strchr(at + 1, '\n'));
	CHECK("encrypted config: without the argon2id line is EBADMSG",
	    open_with_config(dir, text, NULL) == -EBADMSG);
	/* The passphrase given: the key's length is refused before any
	 * Argon2id, not taken for a wrong passphrase. */
	at = strstr(cfg, "\nkey ") + 5;
	snprintf(text, sizeof text, "%.*s%s", (int)(at + 64 - cfg), cfg, at + 144);
	CHECK("encrypted config: a key of 64 digits (a bare key) is EBADMSG, "
	    "even with the passphrase",
	    open_with_config(dir, text, pass) == -EBADMSG);
	CHECK("encrypted config: restored, it asks for the passphrase",
	    open_with_config(dir, cfg, NULL) == -EACCES);

	/* Key files. */
	CHECK("key file: a plaintext repository needs none (EINVAL)",
	    pk_repo_export_key(SCRATCH "/p", NULL, 0, kf) == -EINVAL &&
	    access(kf, F_OK) < 0);
	CHECK("key file: not with a wrong passphrase (EACCES), no file",
	    pk_repo_export_key(dir, "wrong", 5, kf) == -EACCES &&
	    access(kf, F_OK) < 0);
	e = pk_repo_export_key(dir, pass, strlen(pass), kf);
	CHECK("key file: exported, mode 0600", e == 0 &&
	    unit_mode_of(kf) == 0600);
	key = unit_get_text(kf);
	CHECK("key file: five lines, 200 bytes", key && strlen(key) == 200 &&
	    strncmp(key, "pk-key 2\nrepository ", 20) == 0);
	e = pk_repo_open_keyfile(&rk, dir, kf);
	CHECK("key file: opens with the passphrase's keys", e == 0 &&
	    same_keys(r, rk));
	if (e == 0)
		pk_repo_close(rk);
	put_text(SCRATCH "/other", "keep me\n", 0600);
	CHECK("key file: never written over a file (EEXIST)",
	    pk_repo_export_key(dir, pass, strlen(pass), SCRATCH "/other") ==
	    -EEXIST);
	CHECK("key file: ... which is left as it was",
	    (at = unit_get_text(SCRATCH "/other")) &&
	    strcmp(at, "keep me\n") == 0);
	free(at);
	symlink("newkey", SCRATCH "/keylink");
	CHECK("key file: nor through a symbolic link to a new name",
	    pk_repo_export_key(dir, pass, strlen(pass), SCRATCH "/keylink") < 0 &&
	    access(SCRATCH "/newkey", F_OK) < 0);
	pk_repo_close(r);

	if (key == NULL)
		return;
	chmod(kf, 0640);
	CHECK("key file: one the group may read is EPERM",
	    pk_repo_open_keyfile(&rk, dir, kf) == -EPERM && rk == NULL);
	chmod(kf, 0604);
	CHECK("key file: one others may read is EPERM",
	    pk_repo_open_keyfile(&rk, dir, kf) == -EPERM);
	chmod(kf, 0400);
	CHECK("key file: mode 0400 is good", pk_repo_open_keyfile(&rk, dir, kf) == 0);
	pk_repo_close(rk);
	symlink("key", SCRATCH "/keylink2");
	CHECK("key file: a symbolic link to it is ELOOP",
	    pk_repo_open_keyfile(&rk, dir, SCRATCH "/keylink2") == -ELOOP);
	CHECK("key file: a directory is refused",
	    pk_repo_open_keyfile(&rk, dir, SCRATCH "/full") == -EINVAL);
	/* A FIFO with no writer, in a child that an alarm ends. */
	mkfifo(SCRATCH "/keyfifo", 0600);
	if ((pid = fork()) == 0) {
		alarm(2);
		_exit(pk_repo_open_keyfile(&rk, dir, SCRATCH "/keyfifo") ==
		    -EINVAL ? 0 : 1);
	}
	st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	CHECK("key file: a FIFO is refused (EINVAL), not waited on",
	    pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK("key file: a missing one is ENOENT",
	    pk_repo_open_keyfile(&rk, dir, SCRATCH "/nokey") == -ENOENT);
	CHECK("key file: for another repository is EACCES",
	    pk_repo_open_keyfile(&rk, SCRATCH "/p", kf) == -EACCES && rk == NULL);

	/* Damaged copies. */
	{
		const char *dk = SCRATCH "/damaged";
		size_t len = strlen(key), pos[] = { 30, 60, 100, 140, 150 };
		static const char *const forms[][2] = {
			{ "pk-key 2\n", "pk-key 3\n" },
			{ "pk-key 2\n", "pk-key 1\n" },
			{ "pk-key 2\n", "pk-key 2 \n" },
			{ "\nsecret ", "\nsecret  " },
			{ "\ncheck ", "\ncheck  " },
			{ "\ncheck ", "\nCheck " },
		};

		for (i = 0, bad = 0; i < 5; i++) {
			snprintf(text, sizeof text, "%s", key);
			text[pos[i]] = text[pos[i]] == '0' ? '1' : '0';
			put_text(dk, text, 0600);
			e = pk_repo_open_keyfile(&rk, dir, dk);
			/* A digit of the id names another repository. */
			if (e != (pos[i] < 52 ? -EACCES : -EBADMSG)) {
				printf("# digit %zu changed: %d\n", pos[i], e);
				bad++;
			}
		}
		CHECK("key file: a digit of the key id, secret or check changed "
		    "is EBADMSG (of the repository id EACCES)", bad == 0);
		for (i = 0, bad = 0; i < sizeof forms / sizeof *forms; i++) {
			edit(text, sizeof text, key, forms[i][0], forms[i][1]);
			put_text(dk, text, 0600);
			if ((e = pk_repo_open_keyfile(&rk, dir, dk)) != -EBADMSG) {
				printf("# \"%s\" as \"%s\": %d\n", forms[i][0],
				    forms[i][1], e);
				bad++;
			}
		}
		CHECK("key file: another version or layout is EBADMSG", bad == 0);
		for (i = 0, bad = 0; i < len; i += 9) {
			snprintf(text, sizeof text, "%.*s", (int)i, key);
			put_text(dk, text, 0600);
			bad += pk_repo_open_keyfile(&rk, dir, dk) != -EBADMSG;
		}
		CHECK("key file: cut short anywhere is EBADMSG", bad == 0);
		snprintf(text, sizeof text, "%s\n", key);
		put_text(dk, text, 0600);
		CHECK("key file: a byte after it is EBADMSG",
		    pk_repo_open_keyfile(&rk, dir, dk) == -EBADMSG);
		snprintf(text, sizeof text, "%s", key);
		for (at = text + 20; *at; at++)
			if (*at >= 'a' && *at <= 'f')
				*at = (char)(*at - 'a' + 'A');
		put_text(dk, text, 0600);
		CHECK("key file: upper-case digits are EBADMSG",
		    pk_repo_open_keyfile(&rk, dir, dk) == -EBADMSG);
		put_text(dk, key, 0600);
		CHECK("key file: the copy, whole, opens",
		    pk_repo_open_keyfile(&rk, dir, dk) == 0);
		pk_repo_close(rk);
	}
	free(key);
	free(cfg);
}

static void
test_long(void)
{
	char *lp = malloc(PK_REPO_PATH_MAX + 10);
	struct pk_repo_params p;
	struct pk_repo *r;
	size_t n;

	n = (size_t)snprintf(lp, PK_REPO_PATH_MAX + 10, "%s", SCRATCH "/p");
	while (n + 2 <= PK_REPO_PATH_MAX)
		n += (size_t)snprintf(lp + n, PK_REPO_PATH_MAX + 10 - n, "/.");
	lp[n] = '\0';
	CHECK("long: a path of PK_REPO_PATH_MAX bytes opens",
	    strlen(lp) == PK_REPO_PATH_MAX && try_open(lp, NULL) == 0);
	snprintf(lp + n, 3, "/.");
	CHECK("long: one over is ENAMETOOLONG for open, read_params, key files",
	    strlen(lp) > PK_REPO_PATH_MAX && try_open(lp, NULL) == -ENAMETOOLONG &&
	    pk_repo_read_params(lp, &p) == -ENAMETOOLONG &&
	    pk_repo_open_keyfile(&r, lp, SCRATCH "/key") == -ENAMETOOLONG &&
	    pk_repo_export_key(lp, pass, strlen(pass), SCRATCH "/k2") ==
	    -ENAMETOOLONG);
	free(lp);
}

int
main(void)
{
	umask(022);
	unit_scratch(SCRATCH);
	test_init();
	test_config();
	test_encrypted();
	test_long();
	UNIT_END();
}
