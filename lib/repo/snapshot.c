#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "hash.h"
#include "io.h"
#include "snapshot.h"

#define SNAP_MAGIC	"PKSNAP\0\0"
#define SNAP_VERSION	2	/* 2 adds the seek table; 1 is still read */
#define SNAP_MAX_BYTES	(64u << 20)
#define SNAP_HEADER_BYTES	16	/* magic, version, reserved */
#define AD_SNAP		"pk snapshot"

static int
add_strings(struct pk_buf *b, char **v, uint32_t n)
{
	uint32_t i;
	int e = pk_buf_add_u32(b, n);

	for (i = 0; i < n && e == 0; i++)
		e = pk_buf_add_str(b, v[i], strlen(v[i]));
	return e;
}

static int
encode(const struct pk_snapshot *s, uint32_t version, struct pk_buf *b)
{
	uint32_t i;
	int e = 0;

	if ((s->host && strlen(s->host) > PK_SNAPSHOT_MAX_STRING) ||
	    (s->user && strlen(s->user) > PK_SNAPSHOT_MAX_STRING))
		return pk_err(-EINVAL, "host or user name longer than %d bytes",
		    PK_SNAPSHOT_MAX_STRING);

	e |= pk_buf_add_u64(b, (uint64_t)s->start_sec);
	e |= pk_buf_add_u32(b, s->start_nsec);
	e |= pk_buf_add_u64(b, (uint64_t)s->end_sec);
	e |= pk_buf_add_u32(b, s->end_nsec);
	e |= pk_buf_add_str(b, s->host ? s->host : "", s->host ? strlen(s->host) : 0);
	e |= pk_buf_add_str(b, s->user ? s->user : "", s->user ? strlen(s->user) : 0);
	e |= add_strings(b, s->paths, s->npaths);
	e |= add_strings(b, s->tags, s->ntags);
	e |= pk_buf_add_u64(b, s->entries);
	e |= pk_buf_add_u64(b, s->files);
	e |= pk_buf_add_u64(b, s->dirs);
	e |= pk_buf_add_u64(b, s->bytes);
	e |= pk_buf_add_u64(b, s->stored);
	e |= pk_buf_add_u64(b, s->chunks);
	e |= pk_buf_add_u64(b, s->new_chunks);
	e |= pk_buf_add_u64(b, s->errors);
	e |= pk_buf_add_u32(b, s->chunk_min);
	e |= pk_buf_add_u32(b, s->chunk_avg);
	e |= pk_buf_add_u32(b, s->chunk_max);
	e |= pk_buf_add_u64(b, s->catalog_bytes);
	e |= pk_buf_add_u32(b, s->ncatalog);
	for (i = 0; i < s->ncatalog; i++) {
		const struct pk_catalog_chunk *cc = &s->catalog[i];
		const uint8_t *key = s->keys.data + cc->key;

		e |= pk_buf_add(b, cc->id, PK_ID_BYTES);
		e |= pk_buf_add_u32(b, cc->len);
		if (version == 1)
			continue;
		e |= pk_buf_add_u32(b, cc->entry);
		if (cc->entry == PK_CATALOG_NO_ENTRY)
			continue;
		e |= pk_buf_add_u64(b, cc->recno);
		e |= pk_buf_add_str(b, key, cc->lolen);
		e |= pk_buf_add_str(b, key + cc->lolen, cc->hilen);
	}
	return e ? -ENOMEM : 0;
}

/* A catalog chunk's seek table entry (version 2), checked. */
static int
decode_seek(struct pk_snapshot *s, struct pk_catalog_chunk *cc,
    struct pk_cursor *c, uint64_t *recno)
{
	const uint8_t *lo, *hi;
	size_t lolen, hilen;

	cc->entry = pk_get_u32(c);
	if (cc->entry == PK_CATALOG_NO_ENTRY)
		return 0;
	cc->recno = pk_get_u64(c);
	lo = pk_get_str(c, PK_CATALOG_KEY_MAX, &lolen);
	hi = pk_get_str(c, PK_CATALOG_KEY_MAX, &hilen);
	if (c->bad || cc->entry >= cc->len || cc->recno < *recno ||
	    pk_path_cmp(lo, lolen, hi, hilen) > 0)
		return -EBADMSG;
	*recno = cc->recno + 1;
	cc->key = (uint32_t)s->keys.len;
	cc->lolen = (uint16_t)lolen;
	cc->hilen = (uint16_t)hilen;
	if (pk_buf_add(&s->keys, lo, lolen) < 0 ||
	    pk_buf_add(&s->keys, hi, hilen) < 0)
		return -ENOMEM;
	return 0;
}

static char *
get_cstr(struct pk_cursor *c)
{
	const uint8_t *p;
	size_t n;
	char *s;

	p = pk_get_str(c, PK_SNAPSHOT_MAX_STRING, &n);
	if (p == NULL || memchr(p, '\0', n) != NULL) {
		c->bad = 1;
		return NULL;
	}
	if ((s = malloc(n + 1)) == NULL) {
		c->bad = 1;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static char **
get_strings(struct pk_cursor *c, uint32_t *n, uint32_t max)
{
	char **v;
	uint32_t i;

	*n = pk_get_u32(c);
	if (c->bad || *n > max) {
		c->bad = 1;
		*n = 0;
		return NULL;
	}
	if ((v = calloc(*n + 1, sizeof *v)) == NULL) {
		c->bad = 1;
		*n = 0;
		return NULL;
	}
	for (i = 0; i < *n; i++)
		v[i] = get_cstr(c);
	return v;
}

static int
decode(struct pk_snapshot *s, uint32_t version, const uint8_t *p, size_t n)
{
	struct pk_cursor c;
	uint64_t recno = 0;
	uint32_t i;
	int e;

	pk_cursor_init(&c, p, n);
	s->start_sec = (int64_t)pk_get_u64(&c);
	s->start_nsec = pk_get_u32(&c);
	s->end_sec = (int64_t)pk_get_u64(&c);
	s->end_nsec = pk_get_u32(&c);
	s->host = get_cstr(&c);
	s->user = get_cstr(&c);
	s->paths = get_strings(&c, &s->npaths, PK_SNAPSHOT_MAX_PATHS);
	s->tags = get_strings(&c, &s->ntags, PK_SNAPSHOT_MAX_TAGS);
	s->entries = pk_get_u64(&c);
	s->files = pk_get_u64(&c);
	s->dirs = pk_get_u64(&c);
	s->bytes = pk_get_u64(&c);
	s->stored = pk_get_u64(&c);
	s->chunks = pk_get_u64(&c);
	s->new_chunks = pk_get_u64(&c);
	s->errors = pk_get_u64(&c);
	s->chunk_min = pk_get_u32(&c);
	s->chunk_avg = pk_get_u32(&c);
	s->chunk_max = pk_get_u32(&c);
	s->catalog_bytes = pk_get_u64(&c);
	s->ncatalog = pk_get_u32(&c);
	/* Each chunk takes at least 36 bytes (version 1) or 40. */
	if (c.bad || c.left / (PK_ID_BYTES + 4 + 4 * (version > 1)) <
	    s->ncatalog || (version == 1 &&
	    c.left != (uint64_t)s->ncatalog * (PK_ID_BYTES + 4)))
		return -EBADMSG;
	s->catalog = calloc(s->ncatalog + 1, sizeof *s->catalog);
	if (s->catalog == NULL)
		return -ENOMEM;
	s->seekable = version > 1;
	for (i = 0; i < s->ncatalog; i++) {
		struct pk_catalog_chunk *cc = &s->catalog[i];
		/* Seek table entries are longer than the least the count was
		 * checked against: the bytes may run out before the count. */
		const uint8_t *id = pk_get_bytes(&c, PK_ID_BYTES);

		if (id == NULL)
			return -EBADMSG;
		memcpy(cc->id, id, PK_ID_BYTES);
		cc->len = pk_get_u32(&c);
		cc->entry = PK_CATALOG_NO_ENTRY;
		if (s->seekable && (e = decode_seek(s, cc, &c, &recno)) < 0)
			return e;
	}
	return pk_cursor_ok(&c);
}

int
pk_snapshot_meta_encode(const struct pk_snapshot *s, struct pk_buf *b)
{
	int e = 0;

	e |= pk_buf_add_u64(b, (uint64_t)s->start_sec);
	e |= pk_buf_add_u32(b, s->start_nsec);
	e |= pk_buf_add_u64(b, (uint64_t)s->end_sec);
	e |= pk_buf_add_u32(b, s->end_nsec);
	e |= pk_buf_add_str(b, s->host ? s->host : "", s->host ? strlen(s->host) : 0);
	e |= pk_buf_add_str(b, s->user ? s->user : "", s->user ? strlen(s->user) : 0);
	e |= add_strings(b, s->tags, s->ntags);
	return e ? -ENOMEM : 0;
}

int
pk_snapshot_meta_decode(struct pk_snapshot *s, const uint8_t *p, size_t n)
{
	struct pk_cursor c;

	pk_cursor_init(&c, p, n);
	s->start_sec = (int64_t)pk_get_u64(&c);
	s->start_nsec = pk_get_u32(&c);
	s->end_sec = (int64_t)pk_get_u64(&c);
	s->end_nsec = pk_get_u32(&c);
	s->host = get_cstr(&c);
	s->user = get_cstr(&c);
	s->tags = get_strings(&c, &s->ntags, PK_SNAPSHOT_MAX_TAGS);
	if (c.bad || c.left != 0 || s->start_nsec >= 1000000000u ||
	    s->end_nsec >= 1000000000u)
		return -EBADMSG;
	return 0;
}

static size_t
snap_ad(uint8_t *ad, const uint8_t id[PK_SNAPSHOT_ID_BYTES])
{
	memcpy(ad, AD_SNAP, sizeof AD_SNAP);
	memcpy(ad + sizeof AD_SNAP, id, PK_SNAPSHOT_ID_BYTES);
	return sizeof AD_SNAP + PK_SNAPSHOT_ID_BYTES;
}

int
pk_snapshot_write(struct pk_repo *r, struct pk_snapshot *s)
{
	struct pk_buf plain = PK_BUF_INIT, file = PK_BUF_INIT;
	char name[PK_SNAPSHOT_NAME_BYTES], rel[sizeof "snapshots/" +
	    PK_SNAPSHOT_NAME_BYTES];
	uint32_t version = SNAP_VERSION;
	uint8_t ad[64];
	size_t boxlen, frame = SNAP_HEADER_BYTES + pk_box_overhead(&r->keys);
	int e;

	if ((e = encode(s, version, &plain)) < 0)
		goto out;
	/* The seek table may not fit a snapshot of a huge catalog: then it
	 * goes without one, as version 1, which readers read from the start.
	 * A file too large for readers is never written. */
	if (plain.len + frame > SNAP_MAX_BYTES) {
		pk_buf_reset(&plain);
		if ((e = encode(s, version = 1, &plain)) < 0)
			goto out;
	}
	if (plain.len + frame > SNAP_MAX_BYTES) {
		e = pk_err(-EFBIG, "snapshot: %" PRIu32 " catalog chunks do not "
		    "fit the %u MiB of a snapshot file", s->ncatalog,
		    SNAP_MAX_BYTES >> 20);
		goto out;
	}
	pk_mac(&r->keys, s->id, plain.data, plain.len);
	boxlen = plain.len + pk_box_overhead(&r->keys);
	if ((e = pk_buf_add(&file, SNAP_MAGIC, 8)) < 0 ||
	    (e = pk_buf_add_u32(&file, version)) < 0 ||
	    (e = pk_buf_add_u32(&file, 0)) < 0 ||
	    (e = pk_buf_reserve(&file, boxlen)) < 0)
		goto out;
	pk_box_seal(&r->keys, file.data + file.len, plain.data, plain.len, ad,
	    snap_ad(ad, s->id));
	file.len += boxlen;
	pk_hex(name, s->id, sizeof s->id);
	snprintf(rel, sizeof rel, "snapshots/%s", name);
	e = pk_storage_put(r->store, rel, file.data, file.len);
out:
	pk_buf_release(&plain);
	pk_buf_release(&file);
	return e;
}

int
pk_snapshot_read(struct pk_repo *r, const char *name, struct pk_snapshot *s)
{
	uint8_t *data = NULL, *plain = NULL, ad[64];
	char path[4096], rel[600];
	uint32_t version;
	size_t n;
	int e;

	memset(s, 0, sizeof *s);
	if ((e = pk_path(rel, sizeof rel, "snapshots/%s", name)) < 0 ||
	    (e = pk_storage_name(r->store, path, sizeof path, rel)) < 0)
		return e;
	if (strlen(name) != 2 * PK_SNAPSHOT_ID_BYTES ||
	    pk_unhex(s->id, sizeof s->id, name) < 0)
		return pk_err(-EINVAL, "%s: not a snapshot name", path);
	if ((e = pk_storage_get(r->store, rel, SNAP_MAX_BYTES, &data, &n)) < 0)
		return e;
	if (n < SNAP_HEADER_BYTES + pk_box_overhead(&r->keys) ||
	    memcmp(data, SNAP_MAGIC, 8) != 0) {
		e = pk_err(-EBADMSG, "%s: not a snapshot file", path);
		goto out;
	}
	version = pk_load_u32(data + 8);
	if (version < 1 || version > SNAP_VERSION) {
		e = pk_err(-EPROTO, "%s: unsupported snapshot version", path);
		goto out;
	}
	if (pk_load_u32(data + 12) != 0) {
		e = pk_err(-EBADMSG, "%s: reserved header bytes set", path);
		goto out;
	}
	if ((plain = malloc(n)) == NULL) {
		e = -ENOMEM;
		goto out;
	}
	n -= SNAP_HEADER_BYTES;
	if (pk_box_open(&r->keys, plain, data + SNAP_HEADER_BYTES, n, ad,
	    snap_ad(ad, s->id)) < 0) {
		e = pk_err(-EBADMSG, "%s: does not authenticate (corrupt)", path);
		goto out;
	}
	if ((e = decode(s, version, plain, n - pk_box_overhead(&r->keys))) < 0)
		e = pk_err(e, "%s: corrupt contents", path);
out:
	if (e < 0)
		pk_snapshot_release(s);
	free(plain);
	free(data);
	return e;
}

static void
free_strings(char **v, uint32_t n)
{
	uint32_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
pk_snapshot_release(struct pk_snapshot *s)
{
	free(s->host);
	free(s->user);
	free_strings(s->paths, s->npaths);
	free_strings(s->tags, s->ntags);
	free(s->catalog);
	pk_buf_release(&s->keys);
	s->host = s->user = NULL;
	s->paths = s->tags = NULL;
	s->catalog = NULL;
	s->npaths = s->ntags = s->ncatalog = 0;
}

static int
push(char ***v, uint32_t *n, uint32_t max, const char *p, size_t len)
{
	char **nv, *s;

	if (*n >= max)
		return 0;
	if ((s = strndup(p, len)) == NULL)
		return -ENOMEM;
	if ((nv = realloc(*v, (*n + 2) * sizeof *nv)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int
pk_snapshot_add_path(struct pk_snapshot *s, const char *p, size_t n)
{
	if (n > PK_SNAPSHOT_MAX_STRING)
		n = PK_SNAPSHOT_MAX_STRING;
	return push(&s->paths, &s->npaths, PK_SNAPSHOT_MAX_PATHS, p, n);
}

int
pk_snapshot_add_tag(struct pk_snapshot *s, const char *t)
{
	if (strlen(t) > PK_SNAPSHOT_MAX_STRING)
		return pk_err(-EINVAL, "tag longer than %d bytes",
		    PK_SNAPSHOT_MAX_STRING);
	return push(&s->tags, &s->ntags, PK_SNAPSHOT_MAX_TAGS, t, strlen(t));
}

static int
by_time(const void *a, const void *b)
{
	const struct pk_snapshot *x = a, *y = b;

	if (x->start_sec != y->start_sec)
		return x->start_sec < y->start_sec ? -1 : 1;
	if (x->start_nsec != y->start_nsec)
		return x->start_nsec < y->start_nsec ? -1 : 1;
	return memcmp(x->id, y->id, sizeof x->id);
}

void
pk_snapshot_list_free(struct pk_snapshot *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pk_snapshot_release(&list[i]);
	free(list);
}

/* The names of the snapshot files. */
struct names {
	char (*v)[PK_SNAPSHOT_NAME_BYTES];
	size_t n, cap;
	const char *prefix;
};

static int
add_name(void *arg, const char *name)
{
	struct names *l = arg;
	void *nv;

	if (strlen(name) != 2 * PK_SNAPSHOT_ID_BYTES ||
	    strncmp(name, l->prefix, strlen(l->prefix)) != 0)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		if ((nv = realloc(l->v, l->cap * sizeof *l->v)) == NULL)
			return -ENOMEM;
		l->v = nv;
	}
	memcpy(l->v[l->n++], name, PK_SNAPSHOT_NAME_BYTES);
	return 0;
}

static int
list_names(struct pk_repo *r, const char *prefix, struct names *l)
{
	int e;

	memset(l, 0, sizeof *l);
	l->prefix = prefix;
	if ((e = pk_storage_list(r->store, "snapshots", add_name, l)) < 0) {
		free(l->v);
		l->v = NULL;
	}
	return e;
}

int
pk_snapshot_list(struct pk_repo *r, struct pk_snapshot **listp, size_t *np,
    size_t *nbad)
{
	struct pk_snapshot *list = NULL;
	struct names l;
	size_t i, n = 0;
	int e = 0;

	*listp = NULL;
	*np = 0;
	if (nbad)
		*nbad = 0;
	if ((e = list_names(r, "", &l)) < 0)
		return e;
	if (l.n && (list = calloc(l.n, sizeof *list)) == NULL)
		e = -ENOMEM;
	for (i = 0; e == 0 && i < l.n; i++) {
		e = pk_snapshot_read(r, l.v[i], &list[n]);
		if (e == -ENOMEM || e == -ENAMETOOLONG)
			break;
		/* One damaged snapshot must not hide the others; a snapshot
		 * forgotten since the listing is not one. */
		if (e < 0) {
			if (nbad && e != -ENOENT)
				(*nbad)++;
			pk_err_clear();
			e = 0;
			continue;
		}
		n++;
	}
	free(l.v);
	if (e < 0) {
		pk_snapshot_list_free(list, n);
		return e;
	}
	if (n)
		qsort(list, n, sizeof *list, by_time);
	*listp = list;
	*np = n;
	return 0;
}

/* The name of the one snapshot file whose name starts with prefix. */
static int
find_name(struct pk_repo *r, const char *prefix, char found[PK_SNAPSHOT_NAME_BYTES])
{
	struct names l;
	int e;

	if ((e = list_names(r, prefix, &l)) < 0)
		return e;
	if (l.n == 1)
		memcpy(found, l.v[0], PK_SNAPSHOT_NAME_BYTES);
	free(l.v);
	if (l.n == 0)
		return pk_err(-ENOENT, "%s: no such snapshot", prefix);
	if (l.n > 1)
		return pk_err(-EINVAL, "%s: ambiguous snapshot id", prefix);
	return 0;
}

int
pk_snapshot_filter_match(const struct pk_snapshot_filter *f,
    const struct pk_snapshot *s)
{
	char *host = s->host ? s->host : "";
	size_t i;

	if (f == NULL)
		return 1;
	if (f->nhosts && !pk_str_in(host, f->hosts, f->nhosts))
		return 0;
	if (f->ntags && !pk_str_any_in(f->tags, f->ntags, s->tags, s->ntags))
		return 0;
	for (i = 0; i < f->npaths; i++)
		if (!pk_str_in(f->paths[i], s->paths, s->npaths))
			return 0;
	return 1;
}

int
pk_snapshot_select(struct pk_repo *r, const char *sel,
    const struct pk_snapshot_filter *f, struct pk_snapshot *s)
{
	char name[PK_SNAPSHOT_NAME_BYTES];
	struct pk_snapshot *list;
	size_t n, nbad, len = strlen(sel);
	int e;

	memset(s, 0, sizeof *s);
	if (strcmp(sel, "latest") != 0) {
		if (len < 4 || len > 2 * PK_SNAPSHOT_ID_BYTES ||
		    strspn(sel, "0123456789abcdef") != len)
			return pk_err(-EINVAL, "%s: not a snapshot id or 'latest'", sel);
		/* Ids are file names: only the one meant is read, so a damaged
		 * one is named as such, and others do not matter. */
		if ((e = find_name(r, sel, name)) < 0)
			return e;
		return pk_snapshot_read(r, name, s);
	}
	if ((e = pk_snapshot_list(r, &list, &n, &nbad)) < 0)
		return e;
	len = n;
	while (len > 0 && !pk_snapshot_filter_match(f, &list[len - 1]))
		len--;
	if (len == 0) {
		pk_snapshot_list_free(list, n);
		if (nbad)
			return pk_err(-EBADMSG, "latest: no snapshot can be read "
			    "(%zu damaged; pk-index --check names them)", nbad);
		if (n)
			return pk_err(-ENOENT, "latest: no snapshot of the %zu "
			    "has the host, tag and paths asked for", n);
		return pk_err(-ENOENT, "latest: the repository has no snapshot");
	}
	pk_hex(name, list[len - 1].id, sizeof list[len - 1].id);
	pk_snapshot_list_free(list, n);
	return pk_snapshot_read(r, name, s);
}

int
pk_snapshot_remove(struct pk_repo *r, const char *name)
{
	char rel[600];
	int e;

	if ((e = pk_path(rel, sizeof rel, "snapshots/%s", name)) < 0)
		return e;
	if (strlen(name) != 2 * PK_SNAPSHOT_ID_BYTES ||
	    strspn(name, "0123456789abcdef") != 2 * PK_SNAPSHOT_ID_BYTES)
		return pk_err(-EINVAL, "%s/%s: not a snapshot name", r->path, rel);
	if ((e = pk_storage_remove(r->store, rel)) == -ENOENT)
		return pk_err(-ENOENT, "%.12s: no such snapshot", name);
	return e;
}
