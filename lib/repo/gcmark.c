/* gcmark.c: the generation, marks and their leases (gcmark.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "gcmark.h"
#include "hash.h"
#include "pack.h"

#define MARK_MAGIC	"PKGCMARK"
#define LEASES_MAGIC	"PKGCLEAS"
#define GC_FILE_VERSION	1
#define GC_HEADER_BYTES	16
#define GC_FILE_MAX	(1u << 30)

/* --- sealed files: magic, u32 version, u32 zero, box --- */

static size_t
file_ad(uint8_t *ad, const char *label, const char *name)
{
	uint8_t id[PK_GCMARK_ID_BYTES];

	pk_unhex(id, sizeof id, name);
	return pk_ad_make(ad, label, id, sizeof id);
}

static int
put_sealed(struct pk_repo *r, const char *kind, const char *magic,
    const char *name, const struct pk_buf *plain)
{
	struct pk_buf file = PK_BUF_INIT;
	uint8_t ad[64];
	size_t adlen, boxlen = plain->len + pk_box_overhead(&r->keys);
	char rel[64], label[32];
	int e;

	snprintf(label, sizeof label, "pk gc %s", kind);
	snprintf(rel, sizeof rel, "gc/%s-%s", kind, name);
	adlen = file_ad(ad, label, name);
	if ((e = pk_buf_reserve(&file, GC_HEADER_BYTES + boxlen)) < 0)
		return e;
	memset(file.data, 0, GC_HEADER_BYTES);
	memcpy(file.data, magic, 8);
	pk_put_u32(file.data + 8, GC_FILE_VERSION);
	pk_box_seal(&r->keys, file.data + GC_HEADER_BYTES, plain->data,
	    plain->len, ad, adlen);
	e = pk_storage_put(r->store, rel, file.data, GC_HEADER_BYTES + boxlen);
	pk_buf_release(&file);
	return e;
}

/* The plaintext of gc/KIND-NAME into plain; -ENOENT when missing. */
static int
get_sealed(struct pk_repo *r, const char *kind, const char *magic,
    const char *name, struct pk_buf *plain)
{
	uint8_t *data = NULL, ad[64];
	size_t n, adlen, over = pk_box_overhead(&r->keys);
	char rel[64], path[4200], label[32];
	int e;

	snprintf(label, sizeof label, "pk gc %s", kind);
	snprintf(rel, sizeof rel, "gc/%s-%s", kind, name);
	if ((e = pk_storage_name(r->store, path, sizeof path, rel)) < 0 ||
	    (e = pk_storage_get(r->store, rel, GC_FILE_MAX, &data, &n)) < 0)
		return e;
	if (n < GC_HEADER_BYTES + over || memcmp(data, magic, 8) != 0 ||
	    pk_load_u32(data + 12) != 0) {
		e = pk_err(-EBADMSG, "%s: not a gc %s file", path, kind);
	} else if (pk_load_u32(data + 8) != GC_FILE_VERSION) {
		e = pk_err(-EPROTO, "%s: version %" PRIu32 " not supported",
		    path, pk_load_u32(data + 8));
	} else if ((e = pk_buf_reserve(plain, n - GC_HEADER_BYTES - over)) == 0) {
		adlen = file_ad(ad, label, name);
		if (pk_box_open(&r->keys, plain->data, data + GC_HEADER_BYTES,
		    n - GC_HEADER_BYTES, ad, adlen) < 0)
			e = pk_err(-EBADMSG, "%s: does not authenticate", path);
		plain->len = n - GC_HEADER_BYTES - over;
	}
	free(data);
	return e;
}

/* --- marks --- */

static int
cmp_dead(const void *a, const void *b)
{
	return memcmp(a, b, PK_GCMARK_DEAD_BYTES);
}

int
pk_gcmark_write(struct pk_repo *r, struct pk_gcmark *m)
{
	struct pk_buf plain = PK_BUF_INIT;
	uint8_t id[PK_GCMARK_ID_BYTES], h[24];
	int e;

	if (m->npacks)		/* (qsort wants a pointer even for none) */
		qsort(m->packs, m->npacks, PK_PACK_ID_BYTES, pk_pack_id_cmp);
	/* Two deltas may name one blob. */
	m->ndead = pk_sort_unique(m->dead, m->ndead, PK_GCMARK_DEAD_BYTES,
	    cmp_dead);
	pk_random(id, sizeof id);
	pk_hex(m->name, id, sizeof id);
	m->time = time(NULL);
	pk_put_u64(h, (uint64_t)m->time);
	pk_put_u64(h + 8, m->npacks);
	pk_put_u64(h + 16, m->ndead);
	if ((e = pk_buf_add(&plain, h, sizeof h)) == 0 &&
	    (e = pk_buf_add(&plain, m->packs, m->npacks * PK_PACK_ID_BYTES)) == 0 &&
	    (e = pk_buf_add(&plain, m->dead, m->ndead * PK_GCMARK_DEAD_BYTES)) == 0)
		e = put_sealed(r, "mark", MARK_MAGIC, m->name, &plain);
	pk_buf_release(&plain);
	return e;
}

int
pk_gcmark_write_leases(struct pk_repo *r, struct pk_gcmark *m)
{
	struct pk_buf plain = PK_BUF_INIT;
	uint8_t h[8];
	size_t i;
	int e;

	pk_put_u64(h, m->nleases);
	e = pk_buf_add(&plain, h, sizeof h);
	for (i = 0; e == 0 && i < m->nleases; i++)
		e = pk_buf_add(&plain, m->leases[i], PK_LEASE_NAME_BYTES - 1);
	if (e == 0)
		e = put_sealed(r, "leases", LEASES_MAGIC, m->name, &plain);
	if (e == 0)
		m->have_leases = 1;
	pk_buf_release(&plain);
	return e;
}

static int
sorted_unique(const uint8_t *p, size_t n, size_t size)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (memcmp(p + (i - 1) * size, p + i * size, size) >= 0)
			return 0;
	return 1;
}

static int
decode_mark(struct pk_gcmark *m, const struct pk_buf *plain, const char *path)
{
	uint64_t npacks, ndead;

	if (plain->len < 24)
		return pk_err(-EBADMSG, "%s: truncated mark", path);
	npacks = pk_load_u64(plain->data + 8);
	ndead = pk_load_u64(plain->data + 16);
	if (npacks > plain->len / PK_PACK_ID_BYTES ||
	    ndead > plain->len / PK_GCMARK_DEAD_BYTES ||
	    plain->len != 24 + npacks * PK_PACK_ID_BYTES +
	    ndead * PK_GCMARK_DEAD_BYTES)
		return pk_err(-EBADMSG, "%s: counts do not match its length",
		    path);
	m->time = (int64_t)pk_load_u64(plain->data);
	m->npacks = (size_t)npacks;
	m->ndead = (size_t)ndead;
	if ((m->packs = malloc(npacks * PK_PACK_ID_BYTES + 1)) == NULL ||
	    (m->dead = malloc(ndead * PK_GCMARK_DEAD_BYTES + 1)) == NULL)
		return -ENOMEM;
	memcpy(m->packs, plain->data + 24, npacks * PK_PACK_ID_BYTES);
	memcpy(m->dead, plain->data + 24 + npacks * PK_PACK_ID_BYTES,
	    ndead * PK_GCMARK_DEAD_BYTES);
	if (!sorted_unique(m->packs, m->npacks, PK_PACK_ID_BYTES) ||
	    !sorted_unique(m->dead, m->ndead, PK_GCMARK_DEAD_BYTES))
		return pk_err(-EBADMSG, "%s: not sorted", path);
	return 0;
}

static int
decode_leases(struct pk_gcmark *m, const struct pk_buf *plain,
    const char *path)
{
	uint64_t n;
	size_t i, w = PK_LEASE_NAME_BYTES - 1;

	if (plain->len < 8)
		return pk_err(-EBADMSG, "%s: truncated", path);
	n = pk_load_u64(plain->data);
	if (n > plain->len / w || plain->len != 8 + n * w)
		return pk_err(-EBADMSG, "%s: count does not match its length",
		    path);
	if ((m->leases = calloc(n + 1, sizeof *m->leases)) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		memcpy(m->leases[i], plain->data + 8 + i * w, w);
	m->nleases = (size_t)n;
	m->have_leases = 1;
	return 0;
}

static int
read_mark(struct pk_repo *r, struct pk_gcmark *m)
{
	struct pk_buf plain = PK_BUF_INIT;
	char rel[64], path[4200];
	int e;

	snprintf(rel, sizeof rel, "gc/mark-%s", m->name);
	pk_storage_name(r->store, path, sizeof path, rel);
	if ((e = get_sealed(r, "mark", MARK_MAGIC, m->name, &plain)) == 0)
		e = decode_mark(m, &plain, path);
	pk_buf_reset(&plain);
	snprintf(rel, sizeof rel, "gc/leases-%s", m->name);
	pk_storage_name(r->store, path, sizeof path, rel);
	if (e == 0 && (e = get_sealed(r, "leases", LEASES_MAGIC, m->name,
	    &plain)) == 0)
		e = decode_leases(m, &plain, path);
	else if (e == -ENOENT && m->packs != NULL) {
		pk_err_clear();
		e = 0;
	}
	pk_buf_release(&plain);
	return e;
}

struct marks {
	struct pk_repo *r;
	struct pk_gcmark *v;
	size_t n, cap;
	uint64_t generation;
};

static int
mark_seen(void *arg, const char *name)
{
	struct marks *ms = arg;
	struct pk_gcmark *v;
	uint8_t id[PK_GCMARK_ID_BYTES];
	int e;

	pk_gc_note_generation(&ms->generation, name);
	if (strncmp(name, "mark-", 5) != 0 || strlen(name + 5) != 32 ||
	    pk_unhex(id, sizeof id, name + 5) < 0)
		return 0;
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? 2 * ms->cap : 4;
		if ((v = realloc(ms->v, ms->cap * sizeof *v)) == NULL)
			return -ENOMEM;
		ms->v = v;
	}
	memset(&ms->v[ms->n], 0, sizeof ms->v[ms->n]);
	snprintf(ms->v[ms->n].name, sizeof ms->v[ms->n].name, "%s", name + 5);
	ms->n++;
	e = read_mark(ms->r, &ms->v[ms->n - 1]);
	if (e == -ENOENT) {		/* swept while listed */
		pk_gcmark_release(&ms->v[--ms->n]);
		pk_err_clear();
		return 0;
	}
	if (e == -ENOMEM)
		return e;
	if (e < 0) {
		/* No pk-gc can sweep a mark it cannot read either. */
		v = &ms->v[ms->n - 1];
		free(v->packs);
		free(v->dead);
		free(v->leases);
		v->packs = v->dead = NULL;
		v->leases = NULL;
		v->npacks = v->ndead = v->nleases = 0;
		v->have_leases = 0;
		v->bad = 1;
		snprintf(v->why, sizeof v->why, "%s", pk_errmsg(e));
		pk_err_clear();
	}
	return 0;
}

int
pk_gcmark_list(struct pk_repo *r, struct pk_gcmark **v, size_t *n)
{
	struct marks ms = { .r = r };
	int e;

	if ((e = pk_storage_list(r->store, "gc", mark_seen, &ms)) < 0) {
		pk_gcmark_list_free(ms.v, ms.n);
		return e;
	}
	*v = ms.v;
	*n = ms.n;
	if (ms.generation > r->generation)
		r->generation = ms.generation;
	return 0;
}

int
pk_gcmark_remove(struct pk_repo *r, const struct pk_gcmark *m)
{
	char rel[64];
	int e;

	snprintf(rel, sizeof rel, "gc/leases-%s", m->name);
	if ((e = pk_storage_remove(r->store, rel)) < 0 && e != -ENOENT)
		return e;
	pk_err_clear();
	snprintf(rel, sizeof rel, "gc/mark-%s", m->name);
	if ((e = pk_storage_remove(r->store, rel)) < 0 && e != -ENOENT)
		return e;
	pk_err_clear();
	return 0;
}

void
pk_gcmark_release(struct pk_gcmark *m)
{
	free(m->packs);
	free(m->dead);
	free(m->leases);
	memset(m, 0, sizeof *m);
}

void
pk_gcmark_list_free(struct pk_gcmark *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pk_gcmark_release(&v[i]);
	free(v);
}

int
pk_gcmark_has_pack(const struct pk_gcmark *m,
    const uint8_t pack[PK_PACK_ID_BYTES])
{
	/* An unreadable mark has no lists (bsearch wants a pointer even for
	 * none). */
	return m->npacks && bsearch(pack, m->packs, m->npacks,
	    PK_PACK_ID_BYTES, pk_pack_id_cmp) != NULL;
}

int
pk_gcmark_is_dead(const struct pk_gcmark *m, const uint8_t sid[PK_SID_BYTES],
    const uint8_t pack[PK_PACK_ID_BYTES])
{
	uint8_t key[PK_GCMARK_DEAD_BYTES];

	if (m->ndead == 0)
		return 0;
	memcpy(key, sid, PK_SID_BYTES);
	memcpy(key + PK_SID_BYTES, pack, PK_PACK_ID_BYTES);
	return bsearch(key, m->dead, m->ndead, PK_GCMARK_DEAD_BYTES,
	    cmp_dead) != NULL;
}
