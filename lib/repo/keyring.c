/*
 * keyring.c: the keys of an encrypted repository, one object each in
 * keys/.  An object is written once, by one put (one PUT on S3, a rename
 * of a synced file in a directory), and never changed: adding a key is
 * writing a new one, revoking one is removing it, so no step of either
 * can leave a key half written, and nothing needs a lock or a rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "err.h"
#include "hash.h"
#include "io.h"
#include "keyring.h"

#define MAGIC		"pk-repository-key"
#define AD_OBJECT	"pk key"	/* and its NUL */
#define AD_CONFIG	"pk master key"	/* a version 1 config's wrapping */
#define FILE_CONTEXT	"pk-keyf1"	/* crypto_kdf: 8 bytes */
#define CHECK_BYTES	16
#define ID_HEX		(2 * PK_KEY_ID_BYTES + 1)
#define MIN_PREFIX	4

/* --- Key objects. */

size_t
pk_key_object_encode(char out[PK_KEY_OBJECT_MAX], struct pk_key_object *k)
{
	char id[ID_HEX], salt[2 * PK_SALT_BYTES + 1];
	char key[2 * PK_WRAPPED_KEY_BYTES + 1];
	int n;

	pk_hex(id, k->id, sizeof k->id);
	n = snprintf(out, PK_KEY_OBJECT_MAX, MAGIC " %d\nid %s\nkind %s\n"
	    "created %" PRId64 "\nhost %s\nuser %s\n", PK_KEY_OBJECT_VERSION, id,
	    k->kind == PK_KEY_PASSPHRASE ? "passphrase" : "key-file", k->created,
	    k->host, k->user);
	if (k->kind == PK_KEY_PASSPHRASE) {
		pk_hex(salt, k->salt, sizeof k->salt);
		n += snprintf(out + n, PK_KEY_OBJECT_MAX - (size_t)n,
		    "argon2id %" PRIu64 " %" PRIu64 " %s\n", k->ops, k->mem, salt);
		if (k->moved)
			n += snprintf(out + n, PK_KEY_OBJECT_MAX - (size_t)n,
			    "moved config\n");
	}
	k->head = (size_t)n;
	pk_hex(key, k->wrapped, sizeof k->wrapped);
	n += snprintf(out + n, PK_KEY_OBJECT_MAX - (size_t)n, "key %s\n", key);
	return (size_t)n;
}

/* The value of the next line if it is "name value", and steps past it. */
static char *
field(char **cur, const char *name)
{
	size_t len = strlen(name);
	char *line = *cur, *nl;

	if (line == NULL || strncmp(line, name, len) != 0 || line[len] != ' ' ||
	    (nl = strchr(line, '\n')) == NULL)
		return NULL;
	*nl = '\0';
	*cur = nl + 1;
	return line + len + 1;
}

/* A host or user name as written: 1 to PK_KEY_NAME_MAX printable bytes,
 * no space. */
static int
name_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n < 1 || n > PK_KEY_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~')
			return 0;
	return 1;
}

/*
 * Values are parsed leniently, then the object is held to the one form a
 * writer makes by encoding it again: no leading zeros, no upper case, no
 * extra line can slip through, and the associated data (the bytes before
 * the key line) is the same for every reader.
 */
int
pk_key_object_decode(struct pk_key_object *k, const char *text, size_t n)
{
	char buf[PK_KEY_OBJECT_MAX + 1], again[PK_KEY_OBJECT_MAX];
	char *cur = buf, *v, salt[2 * PK_SALT_BYTES + 1], tail;
	unsigned long long a, b;
	long long t;
	int version;

	memset(k, 0, sizeof *k);
	if (n > PK_KEY_OBJECT_MAX || memchr(text, '\0', n) != NULL)
		return -EBADMSG;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if ((v = field(&cur, MAGIC)) == NULL ||
	    sscanf(v, "%d%c", &version, &tail) != 1)
		return -EBADMSG;
	if (version != PK_KEY_OBJECT_VERSION)
		return -EPROTO;
	if ((v = field(&cur, "id")) == NULL ||
	    pk_unhex(k->id, sizeof k->id, v) < 0 ||
	    (v = field(&cur, "kind")) == NULL)
		return -EBADMSG;
	if (strcmp(v, "passphrase") == 0)
		k->kind = PK_KEY_PASSPHRASE;
	else if (strcmp(v, "key-file") == 0)
		k->kind = PK_KEY_FILE;
	else
		return -EBADMSG;
	if ((v = field(&cur, "created")) == NULL ||
	    sscanf(v, "%lld%c", &t, &tail) != 1 || t < 0)
		return -EBADMSG;
	k->created = t;
	if ((v = field(&cur, "host")) == NULL || !name_ok(v))
		return -EBADMSG;
	memcpy(k->host, v, strlen(v) + 1);
	if ((v = field(&cur, "user")) == NULL || !name_ok(v))
		return -EBADMSG;
	memcpy(k->user, v, strlen(v) + 1);
	if (k->kind == PK_KEY_PASSPHRASE) {
		if ((v = field(&cur, "argon2id")) == NULL ||
		    sscanf(v, "%llu %llu %32s%c", &a, &b, salt, &tail) != 3 ||
		    a < 1 || a > 100 || b < 8192 || b > (1ull << 32) ||
		    pk_unhex(k->salt, sizeof k->salt, salt) < 0)
			return -EBADMSG;
		k->ops = a;
		k->mem = b;
		if ((v = field(&cur, "moved")) != NULL) {
			if (strcmp(v, "config") != 0)
				return -EBADMSG;
			k->moved = 1;
		}
	}
	if ((v = field(&cur, "key")) == NULL ||
	    pk_unhex(k->wrapped, sizeof k->wrapped, v) < 0 || *cur != '\0')
		return -EBADMSG;
	if (pk_key_object_encode(again, k) != n || memcmp(again, text, n) != 0)
		return -EBADMSG;
	return 0;
}

size_t
pk_key_object_ad(uint8_t ad[PK_KEY_OBJECT_MAX + 64],
    const struct pk_key_object *k, const char *text,
    const uint8_t repo[PK_REPO_ID_BYTES])
{
	/* A key moved out of a version 1 config keeps the wrapping it had
	 * there, which no one without the passphrase could redo. */
	if (k->moved)
		return pk_ad_make(ad, AD_CONFIG, repo, PK_REPO_ID_BYTES);
	pk_ad_make(ad, AD_OBJECT, repo, PK_REPO_ID_BYTES);
	memcpy(ad + sizeof AD_OBJECT + PK_REPO_ID_BYTES, text, k->head);
	return sizeof AD_OBJECT + PK_REPO_ID_BYTES + k->head;
}

void
pk_key_file_kek(uint8_t kek[PK_KEY_BYTES],
    const uint8_t secret[PK_KEY_SECRET_BYTES])
{
	/* The secret is 32 random bytes, not a passphrase: a keyed hash
	 * makes a key of it, and Argon2id would only cost time. */
	crypto_kdf_derive_from_key(kek, PK_KEY_BYTES, 1, FILE_CONTEXT, secret);
}

/* --- Key files. */

/* The check line: a keyed BLAKE2b-128, under the key the file holds, of
 * what the file says that key belongs to. */
static void
keyfile_check(uint8_t out[CHECK_BYTES], const struct pk_keyfile *f)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, f->secret, PK_KEY_SECRET_BYTES, CHECK_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)"pk key file", 11);
	crypto_generichash_update(&st, f->repo, PK_REPO_ID_BYTES);
	if (f->version == 2)
		crypto_generichash_update(&st, f->id, PK_KEY_ID_BYTES);
	crypto_generichash_final(&st, out, CHECK_BYTES);
}

/* Either version's text; only writers of version 2 remain. */
static size_t
keyfile_text(char out[PK_KEYFILE_MAX], const struct pk_keyfile *f)
{
	char repo[2 * PK_REPO_ID_BYTES + 1], id[ID_HEX];
	char secret[2 * PK_KEY_SECRET_BYTES + 1], check[2 * CHECK_BYTES + 1];
	uint8_t c[CHECK_BYTES];
	int n;

	keyfile_check(c, f);
	pk_hex(repo, f->repo, sizeof f->repo);
	pk_hex(id, f->id, sizeof f->id);
	pk_hex(secret, f->secret, sizeof f->secret);
	pk_hex(check, c, sizeof c);
	if (f->version == 1)
		n = snprintf(out, PK_KEYFILE_MAX, "pk-key 1\nrepository %s\n"
		    "key %s\ncheck %s\n", repo, secret, check);
	else
		n = snprintf(out, PK_KEYFILE_MAX, "pk-key 2\nrepository %s\n"
		    "id %s\nsecret %s\ncheck %s\n", repo, id, secret, check);
	sodium_memzero(secret, sizeof secret);
	return (size_t)n;
}

size_t
pk_keyfile_encode(char out[PK_KEYFILE_MAX], const struct pk_keyfile *f)
{
	struct pk_keyfile two = *f;
	size_t n;

	two.version = 2;
	n = keyfile_text(out, &two);
	sodium_memzero(&two, sizeof two);
	return n;
}

int
pk_keyfile_decode(struct pk_keyfile *f, const char *text, size_t n,
    const char *file, const uint8_t *repo_id)
{
	char buf[PK_KEYFILE_MAX + 1], want[PK_KEYFILE_MAX];
	char repo[2 * PK_REPO_ID_BYTES + 1], id[ID_HEX];
	char secret[2 * PK_KEY_SECRET_BYTES + 1];
	size_t len;
	int e = 0;

	memset(f, 0, sizeof *f);
	if (n >= PK_KEYFILE_MAX || n < 2 * CHECK_BYTES + 2)
		return pk_err(-EBADMSG, "%s: not a pk key file", file);
	memcpy(buf, text, n);
	buf[n] = '\0';
	/* Parsed at fixed places, then held to the one form a writer makes:
	 * the check line catches a damaged key, this catches the rest. */
	if (sscanf(buf, "pk-key 2\nrepository %32[0-9a-f]\nid %32[0-9a-f]\n"
	    "secret %64[0-9a-f]\n", repo, id, secret) == 3 &&
	    pk_unhex(f->id, sizeof f->id, id) == 0)
		f->version = 2;
	else if (sscanf(buf, "pk-key 1\nrepository %32[0-9a-f]\nkey %64[0-9a-f]\n",
	    repo, secret) == 2)
		f->version = 1;
	if (f->version == 0 || pk_unhex(f->repo, sizeof f->repo, repo) < 0 ||
	    pk_unhex(f->secret, sizeof f->secret, secret) < 0)
		e = pk_err(-EBADMSG, "%s: not a pk key file", file);
	else if (repo_id != NULL && memcmp(f->repo, repo_id, sizeof f->repo))
		e = pk_err(-EACCES, "%s: the key of another repository", file);
	else if ((len = keyfile_text(want, f)) != n ||
	    memcmp(want, buf, n - 2 * CHECK_BYTES - 1) != 0 || buf[n - 1] != '\n')
		e = pk_err(-EBADMSG, "%s: not a pk key file", file);
	else if (sodium_memcmp(want, buf, n) != 0)
		e = pk_err(-EBADMSG, "%s: damaged key file (its check does not "
		    "match)", file);
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(want, sizeof want);
	sodium_memzero(secret, sizeof secret);
	if (e < 0)
		sodium_memzero(f, sizeof *f);
	return e;
}

/* Reads a key file: what a private key file must be, as ssh has it. */
static int
read_keyfile(const char *file, const uint8_t repo[PK_REPO_ID_BYTES],
    struct pk_keyfile *f)
{
	char text[PK_KEYFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, e;

	memset(f, 0, sizeof *f);
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
		return pk_err(-errno, "%s: %s", file, errno == ELOOP ?
		    "a symbolic link, not a key file" : strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pk_err(-EINVAL, "%s: not a key file", file);
	}
	if ((e = pk_private_mode(file, (unsigned)st.st_mode)) < 0) {
		close(fd);
		return e;
	}
	n = pk_read_full(fd, text, PK_KEYFILE_MAX);
	close(fd);
	if (n < 0)
		return pk_err((int)n, "%s: %s", file, strerror((int)-n));
	e = pk_keyfile_decode(f, text, (size_t)n, file, repo);
	sodium_memzero(text, sizeof text);
	return e;
}

/* --- Reading keys/. */

#define NAME_BYTES	(5 + ID_HEX)

/* "keys/ID", the name of key id's object. */
static void
object_name(char name[NAME_BYTES], const uint8_t id[PK_KEY_ID_BYTES])
{
	memcpy(name, "keys/", 5);
	pk_hex(name + 5, id, PK_KEY_ID_BYTES);
}

/* The object of key id into k, its text into text: 0, -ENOENT, or
 * another error with a message naming it. */
static int
get_object(struct pk_storage *s, const uint8_t id[PK_KEY_ID_BYTES],
    struct pk_key_object *k, char text[PK_KEY_OBJECT_MAX])
{
	char name[NAME_BYTES], place[4200];
	uint8_t *p;
	size_t n;
	int e;

	object_name(name, id);
	if ((e = pk_storage_get(s, name, PK_KEY_OBJECT_MAX, &p, &n)) < 0) {
		if (e == -EFBIG)
			e = -EBADMSG;
		else
			return e;
	} else {
		e = pk_key_object_decode(k, (const char *)p, n);
		if (e == 0 && memcmp(k->id, id, PK_KEY_ID_BYTES) != 0)
			e = -EBADMSG;
		if (e == 0)
			memcpy(text, p, n);
		free(p);
	}
	if (e == -EBADMSG || e == -EPROTO) {
		pk_storage_name(s, place, sizeof place, name);
		return pk_err(e, "%s: %s", place, e == -EPROTO ?
		    "key object of a version not supported" : "corrupt key object");
	}
	return e;
}

/* 0 when keys/ID exists, -ENOENT when not.  Asked of the storage itself:
 * an object store's work directory keeps copies of key objects, and a
 * copy of a removed one must not open anything. */
static int
present(struct pk_storage *s, const uint8_t id[PK_KEY_ID_BYTES])
{
	char name[NAME_BYTES];
	int e;

	object_name(name, id);
	if ((e = pk_storage_exists(s, name)) < 0)
		return e;
	return e ? 0 : -ENOENT;
}

struct ids {
	uint8_t (*id)[PK_KEY_ID_BYTES];
	size_t n, cap;
};

static int
add_id(void *arg, const char *name)
{
	struct ids *l = arg;
	void *p;

	/* Only names a writer makes: others (a temporary file of a tool,
	 * a file someone left) are no keys. */
	if (strlen(name) != 2 * PK_KEY_ID_BYTES)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		if ((p = realloc(l->id, l->cap * sizeof *l->id)) == NULL)
			return -ENOMEM;
		l->id = p;
	}
	if (pk_unhex(l->id[l->n], PK_KEY_ID_BYTES, name) == 0)
		l->n++;
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PK_KEY_ID_BYTES);
}

/* The ids in keys/, sorted, so that keys are tried and listed in one
 * order everywhere. */
static int
list_ids(struct pk_storage *s, struct ids *l)
{
	int e;

	memset(l, 0, sizeof *l);
	if ((e = pk_storage_list(s, "keys", add_id, l)) < 0) {
		free(l->id);
		l->id = NULL;
		return e;
	}
	if (l->n > 1)
		qsort(l->id, l->n, sizeof *l->id, id_cmp);
	return 0;
}

/* --- Unlocking. */

static int
unwrap_config(const struct pk_config *c,
    const char *pass, size_t passlen, uint8_t master[PK_KEY_BYTES])
{
	uint8_t ad[64];
	size_t adlen = pk_ad_make(ad, AD_CONFIG, c->id, PK_REPO_ID_BYTES);

	return pk_key_unwrap(master, c->key, pass, passlen, c->salt, c->ops,
	    c->mem, ad, adlen);
}

static int
unwrap_object(const struct pk_key_object *k, const char *text,
    const uint8_t repo[PK_REPO_ID_BYTES], const char *pass, size_t passlen,
    const uint8_t *secret, uint8_t master[PK_KEY_BYTES])
{
	uint8_t ad[PK_KEY_OBJECT_MAX + 64], kek[PK_KEY_BYTES];
	size_t adlen = pk_key_object_ad(ad, k, text, repo);
	int e;

	if (k->kind == PK_KEY_PASSPHRASE)
		return pk_key_unwrap(master, k->wrapped, pass, passlen, k->salt,
		    k->ops, k->mem, ad, adlen);
	pk_key_file_kek(kek, secret);
	e = pk_key_unseal(master, k->wrapped, kek, ad, adlen);
	sodium_memzero(kek, sizeof kek);
	return e;
}

int
pk_keyring_unlock(struct pk_storage *s, const struct pk_config *c,
    const char *pass, size_t passlen, uint8_t master[PK_KEY_BYTES],
    struct pk_key_used *used)
{
	const char *place = pk_storage_place(s);
	char text[PK_KEY_OBJECT_MAX];
	struct pk_key_object k;
	struct ids l;
	size_t i, tried = 0;
	int e, bad = 0;

	memset(used, 0, sizeof *used);
	if (pass == NULL)
		return pk_err(-EACCES, "%s: passphrase required", place);
	if (pk_config_holds_key(c)) {
		if ((e = unwrap_config(c, pass, passlen, master)) == 0) {
			used->how = PK_USED_CONFIG;
			used->passphrase = 1;
		}
		return e == -EACCES ? pk_err(e, "%s: wrong passphrase", place) : e;
	}
	if ((e = list_ids(s, &l)) < 0)
		return e;
	/* Each passphrase key costs one Argon2id; a key object that does not
	 * parse is passed over, so that it cannot lock the others out. */
	for (i = 0, e = -EACCES; i < l.n && e == -EACCES; i++) {
		e = get_object(s, l.id[i], &k, text);
		if (e == -EBADMSG || e == -EPROTO)
			bad = e;
		if (e == -EBADMSG || e == -EPROTO || e == -ENOENT ||
		    (e == 0 && k.kind != PK_KEY_PASSPHRASE)) {
			e = -EACCES;
			continue;
		}
		if (e < 0)
			break;
		tried++;
		e = unwrap_object(&k, text, c->id, pass, passlen, NULL, master);
		if (e == 0) {
			used->how = PK_USED_KEY;
			used->passphrase = 1;
			memcpy(used->id, k.id, sizeof used->id);
		}
	}
	free(l.id);
	if (e == -EACCES && tried == 0)
		e = bad ? bad : pk_err(-EACCES, "%s: no passphrase opens it: "
		    "keys/ holds no passphrase key", place);
	else if (e == -EACCES)
		e = pk_err(e, "%s: wrong passphrase", place);
	return e;
}

int
pk_keyring_unlock_file(struct pk_storage *s, const struct pk_config *c,
    const char *file, uint8_t master[PK_KEY_BYTES], struct pk_key_used *used)
{
	char text[PK_KEY_OBJECT_MAX], hex[ID_HEX];
	struct pk_key_object k;
	struct pk_keyfile f;
	int e;

	memset(used, 0, sizeof *used);
	if ((e = read_keyfile(file, c->id, &f)) < 0)
		return e;
	if (f.version == 1) {
		/* The master key itself: nothing in the repository can
		 * revoke it (pk-repo(5), SECURITY). */
		memcpy(master, f.secret, PK_KEY_BYTES);
		used->how = c->p.encrypted ? PK_USED_OLD_FILE : PK_USED_NONE;
		if (!c->p.encrypted && sodium_memcmp(master, c->key,
		    PK_KEY_BYTES) != 0)
			e = pk_err(-EACCES, "%s: not this repository's key", file);
	} else if (!c->p.encrypted) {
		e = pk_err(-EACCES, "%s: not this repository's key", file);
	} else if ((e = present(s, f.id)) == -ENOENT ||
	    (e == 0 && (e = get_object(s, f.id, &k, text)) == -ENOENT)) {
		pk_hex(hex, f.id, sizeof f.id);
		e = pk_err(-EACCES, "%s: key %s was removed from the repository: "
		    "it no longer opens it", file, hex);
	} else if (e == 0 && (k.kind != PK_KEY_FILE ||
	    unwrap_object(&k, text, c->id, NULL, 0, f.secret, master) < 0)) {
		e = pk_err(-EACCES, "%s: not this repository's key", file);
	} else if (e == 0) {
		used->how = PK_USED_KEY;
		memcpy(used->id, f.id, sizeof used->id);
	}
	sodium_memzero(&f, sizeof f);
	if (e < 0)
		sodium_memzero(master, PK_KEY_BYTES);
	return e;
}

/* --- Writing keys. */

/* A host or user name as a key object holds it: bytes other than
 * letters, digits and "-._@+" as %XX, at most 64 bytes of the name. */
static void
escape(char out[PK_KEY_NAME_MAX + 1], const char *in)
{
	const unsigned char *c;
	char *d = out;
	int i;

	if (in == NULL || *in == '\0')
		in = "unknown";
	for (c = (const unsigned char *)in, i = 0; *c && i < 64; c++, i++)
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("-._@+", *c))
			*d++ = (char)*c;
		else
			d += snprintf(d, 4, "%%%02X", *c);
	*d = '\0';
}

/* Who makes a key, for listings: this machine and user.  No one relies
 * on them, and anyone who can write keys/ can write other names. */
static void
origin(struct pk_key_object *k)
{
	char host[256];
	struct passwd *pw = getpwuid(geteuid());
	char uid[32];

	if (gethostname(host, sizeof host) < 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	escape(k->host, host);
	snprintf(uid, sizeof uid, "%u", (unsigned)geteuid());
	escape(k->user, pw ? pw->pw_name : uid);
	k->created = (int64_t)time(NULL);
}

/* Writes key object k (its fields but the wrapped key set) wrapping
 * master under pass or secret. */
static int
put_object(struct pk_storage *s, const uint8_t repo[PK_REPO_ID_BYTES],
    struct pk_key_object *k, const uint8_t master[PK_KEY_BYTES],
    const char *pass, size_t passlen, const uint8_t *secret)
{
	char text[PK_KEY_OBJECT_MAX], name[NAME_BYTES];
	uint8_t ad[PK_KEY_OBJECT_MAX + 64], kek[PK_KEY_BYTES];
	size_t adlen, n;
	int e = 0;

	/* The key line comes last, so the bytes before it, which the wrapping
	 * binds, do not depend on it. */
	pk_key_object_encode(text, k);
	adlen = pk_key_object_ad(ad, k, text, repo);
	if (k->moved) {
		/* As it was in config. */
	} else if (k->kind == PK_KEY_PASSPHRASE) {
		e = pk_key_wrap(k->wrapped, master, pass, passlen, k->salt, k->ops,
		    k->mem, ad, adlen);
	} else {
		pk_key_file_kek(kek, secret);
		pk_key_seal(k->wrapped, master, kek, ad, adlen);
		sodium_memzero(kek, sizeof kek);
	}
	if (e < 0)
		return e;
	n = pk_key_object_encode(text, k);
	object_name(name, k->id);
	return pk_storage_put(s, name, text, n);
}

static void
new_passphrase_key(struct pk_key_object *k)
{
	memset(k, 0, sizeof *k);
	pk_random(k->id, sizeof k->id);
	k->kind = PK_KEY_PASSPHRASE;
	origin(k);
	k->ops = PK_KDF_OPSLIMIT;
	k->mem = PK_KDF_MEMLIMIT;
	pk_random(k->salt, sizeof k->salt);
}

int
pk_keyring_first(struct pk_storage *s, const uint8_t repo[PK_REPO_ID_BYTES],
    const uint8_t master[PK_KEY_BYTES], const char *pass, size_t passlen)
{
	struct pk_key_object k;

	new_passphrase_key(&k);
	return put_object(s, repo, &k, master, pass, passlen, NULL);
}

static int
encrypted(struct pk_repo *r)
{
	if (!r->params.encrypted)
		return pk_err(-EINVAL, "%s: not encrypted: it has no keys",
		    r->path);
	return 0;
}

int
pk_keyring_migrate(struct pk_repo *r)
{
	char cfg[PK_CONFIG_MAX_BYTES], name[NAME_BYTES];
	struct pk_key_object k;
	struct pk_config c;
	size_t n;
	int e;

	if ((e = encrypted(r)) < 0 || (e = pk_config_read(r->store, &c)) < 0)
		return e;
	if (!pk_config_holds_key(&c))
		goto out;
	/* Named after the wrapped key, so that a run that stopped between
	 * the two writes below writes the same object again, not a second
	 * copy of the key. */
	memset(&k, 0, sizeof k);
	crypto_generichash(k.id, sizeof k.id, c.key, sizeof c.key, NULL, 0);
	k.kind = PK_KEY_PASSPHRASE;
	k.moved = 1;
	origin(&k);
	k.ops = c.ops;
	k.mem = c.mem;
	memcpy(k.salt, c.salt, sizeof k.salt);
	memcpy(k.wrapped, c.key, sizeof k.wrapped);
	object_name(name, k.id);
	if ((e = pk_storage_exists(r->store, name)) < 0 || (e == 0 &&
	    (e = put_object(r->store, c.id, &k, NULL, NULL, 0, NULL)) < 0))
		goto out;
	/* The key is in keys/ before config stops holding it: a crash
	 * between leaves it in both, and either opens. */
	c.version = PK_REPO_VERSION;
	n = pk_config_format(cfg, &c);
	if ((e = pk_storage_put(r->store, "config", cfg, n)) < 0)
		goto out;
	if (r->used.how == PK_USED_CONFIG) {
		r->used.how = PK_USED_KEY;
		memcpy(r->used.id, k.id, sizeof r->used.id);
	}
out:
	sodium_memzero(&c, sizeof c);
	sodium_memzero(cfg, sizeof cfg);
	return e;
}

int
pk_keyring_add_passphrase(struct pk_repo *r, const char *pass,
    size_t passlen, uint8_t id[PK_KEY_ID_BYTES])
{
	struct pk_key_object k;
	int e;

	if ((e = pk_keyring_migrate(r)) < 0)
		return e;
	new_passphrase_key(&k);
	if ((e = put_object(r->store, r->id, &k, r->master, pass, passlen,
	    NULL)) == 0 && id != NULL)
		memcpy(id, k.id, PK_KEY_ID_BYTES);
	return e;
}

int
pk_keyring_add_file(struct pk_repo *r, const char *file,
    uint8_t id[PK_KEY_ID_BYTES])
{
	char text[PK_KEYFILE_MAX];
	struct pk_key_object k;
	struct pk_keyfile f;
	size_t n;
	int e, fd;

	if ((e = pk_keyring_migrate(r)) < 0)
		return e;
	memset(&k, 0, sizeof k);
	pk_random(k.id, sizeof k.id);
	k.kind = PK_KEY_FILE;
	origin(&k);
	memset(&f, 0, sizeof f);
	memcpy(f.repo, r->id, sizeof f.repo);
	memcpy(f.id, k.id, sizeof f.id);
	pk_random(f.secret, sizeof f.secret);
	n = pk_keyfile_encode(text, &f);
	/* The file first, and never over an existing one, which may be the
	 * key of another repository: a key file no object backs opens
	 * nothing, an object no file holds the secret of is only listed. */
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = pk_err(-errno, "%s: %s", file, errno == EEXIST ?
		    "exists (a key file is never written over a file)" :
		    strerror(errno));
		goto out;
	}
	if ((e = pk_write_all(fd, text, n)) == 0 && fsync(fd) < 0)
		e = -errno;
	if (close(fd) < 0 && e == 0)
		e = -errno;
	if (e < 0)
		e = pk_err(e, "%s: %s", file, strerror(-e));
	else
		e = put_object(r->store, r->id, &k, r->master, NULL, 0, f.secret);
	if (e < 0)
		unlink(file);
	else if (id != NULL)
		memcpy(id, k.id, PK_KEY_ID_BYTES);
out:
	sodium_memzero(text, sizeof text);
	sodium_memzero(&f, sizeof f);
	return e;
}

/* --- Listing and removing. */

int
pk_keyring_list(struct pk_repo *r, struct pk_key_entry **list, size_t *np)
{
	char text[PK_KEY_OBJECT_MAX];
	struct pk_key_entry *l = NULL;
	struct pk_config c;
	struct ids ids = { 0 };
	size_t i, n = 0;
	int e;

	*list = NULL;
	*np = 0;
	if ((e = encrypted(r)) < 0 || (e = pk_config_read(r->store, &c)) < 0)
		return e;
	if ((e = list_ids(r->store, &ids)) < 0)
		goto out;
	if ((l = calloc(ids.n + 1, sizeof *l)) == NULL) {
		e = -ENOMEM;
		goto out;
	}
	if (pk_config_holds_key(&c)) {
		l[n].config = 1;
		l[n].used = r->used.how == PK_USED_CONFIG;
		l[n].k.kind = PK_KEY_PASSPHRASE;
		n++;
	}
	for (i = 0; i < ids.n; i++) {
		/* Removed since it was listed: not a key any more. */
		if ((e = get_object(r->store, ids.id[i], &l[n].k, text)) == -ENOENT)
			continue;
		if (e < 0)
			goto out;
		l[n].used = r->used.how == PK_USED_KEY &&
		    memcmp(r->used.id, ids.id[i], PK_KEY_ID_BYTES) == 0;
		n++;
	}
	e = 0;
	*list = l;
	*np = n;
	l = NULL;
out:
	free(l);
	free(ids.id);
	sodium_memzero(&c, sizeof c);
	return e;
}

int
pk_keyring_remove(struct pk_repo *r, const char *prefix,
    uint8_t id[PK_KEY_ID_BYTES])
{
	char hex[ID_HEX], name[NAME_BYTES];
	struct pk_key_entry *l;
	size_t i, n, len = strlen(prefix), match = 0, which = 0;
	int e;

	if ((e = pk_keyring_migrate(r)) < 0)
		return e;
	if (len < MIN_PREFIX || len > 2 * PK_KEY_ID_BYTES ||
	    strspn(prefix, "0123456789abcdef") != len)
		return pk_err(-EINVAL, "%s: not a key id (%d to %d hexadecimal "
		    "digits, as pk-key list shows them)", prefix, MIN_PREFIX,
		    2 * PK_KEY_ID_BYTES);
	if ((e = pk_keyring_list(r, &l, &n)) < 0)
		return e;
	for (i = 0; i < n; i++) {
		pk_hex(hex, l[i].k.id, PK_KEY_ID_BYTES);
		if (strncmp(hex, prefix, len) == 0) {
			match++;
			which = i;
		}
	}
	if (match == 0)
		e = pk_err(-ENOENT, "%s: no key %s", r->path, prefix);
	else if (match > 1)
		e = pk_err(-EINVAL, "%s: %zu keys start with %s: give more of "
		    "the id", r->path, match, prefix);
	else if (n == 1)
		e = pk_err(-EPERM, "%s: %s is the last key, which opens the "
		    "repository: add another first", r->path, prefix);
	if (e == 0) {
		object_name(name, l[which].k.id);
		e = pk_storage_remove(r->store, name);
		if (e == 0 && id != NULL)
			memcpy(id, l[which].k.id, PK_KEY_ID_BYTES);
	}
	free(l);
	return e;
}

int
pk_keyring_passwd(struct pk_repo *r, const char *pass, size_t passlen,
    uint8_t id[PK_KEY_ID_BYTES])
{
	char old[ID_HEX], neu[ID_HEX], name[NAME_BYTES];
	uint8_t nid[PK_KEY_ID_BYTES];
	int e;

	if ((e = pk_keyring_migrate(r)) < 0)
		return e;
	if (r->used.how != PK_USED_KEY || !r->used.passphrase)
		return pk_err(-EINVAL, "%s: opened with a key file, not a "
		    "passphrase: give the passphrase to change", r->path);
	/* New before old: a run that stops between leaves both keys, never
	 * none. */
	if ((e = pk_keyring_add_passphrase(r, pass, passlen, nid)) < 0)
		return e;
	if (id != NULL)
		memcpy(id, nid, sizeof nid);
	pk_hex(old, r->used.id, PK_KEY_ID_BYTES);
	pk_hex(neu, nid, PK_KEY_ID_BYTES);
	object_name(name, r->used.id);
	if ((e = pk_storage_remove(r->store, name)) < 0)
		return pk_err(e, "%s: the new passphrase opens it (key %s), but "
		    "the old one still does: removing key %s failed (%s)",
		    r->path, neu, old, pk_errmsg(e));
	return 0;
}
