/*
 * Fuzz target: pk-gc's marks and their leases files (pk_gcmark_list:
 * header, box, counts, order; pk_gcmark_has_pack, pk_gcmark_is_dead), and
 * leases (pk_lease_list, pk_lease_describe).  Input: a flags byte, then
 * parts separated by "----": a mark, its leases file (none when there is
 * no second part), and up to four leases, each a file locks/ID.
 *
 * A mark or leases file is its plaintext, sealed under the test key behind
 * the right header, so that the decoders behind the box see any bytes;
 * with flag 1 (the mark) or 2 (the leases file) the first 16 bytes of the
 * part are its header instead.  What pk_gcmark_list reads is checked
 * against the input, and a mark it reads is written again by
 * pk_gcmark_write, its packs out of order and its dead blobs twice, and
 * must read back the same.
 */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define HEADER		16
#define SEP		"----"
#define MAX_LEASES	4
#define LEASE_MAX	1024	/* lease.c: a larger lease is unreadable */
#define MARK_NAME	"6d61726b6d61726b6d61726b6d61726b"
#define PACK		PK_PACK_ID_BYTES
#define DEAD		PK_GCMARK_DEAD_BYTES
#define LEASE		(PK_LEASE_NAME_BYTES - 1)

struct part {
	const uint8_t *p;
	size_t n;
};

/* Cuts p into at most max parts at SEP; the last one takes the rest. */
static size_t
split(const uint8_t *p, size_t n, struct part *v, size_t max)
{
	const uint8_t *s;
	size_t k = 0;

	while (k + 1 < max &&
	    (s = memmem(p, n, SEP, sizeof SEP - 1)) != NULL) {
		v[k].p = p;
		v[k++].n = (size_t)(s - p);
		n -= (size_t)(s - p) + sizeof SEP - 1;
		p = s + sizeof SEP - 1;
	}
	v[k].p = p;
	v[k++].n = n;
	return k;
}

static int
sorted_unique(const uint8_t *p, uint64_t n, size_t size)
{
	uint64_t i;

	for (i = 1; i < n; i++)
		if (memcmp(p + (i - 1) * size, p + i * size, size) >= 0)
			return 0;
	return 1;
}

/* Whether a reader must accept the plaintext of a mark. */
static int
mark_ok(const struct part *pl)
{
	uint64_t np, nd;
	size_t body;

	if (pl->n < 24)
		return 0;
	body = pl->n - 24;
	np = pk_load_u64(pl->p + 8);
	nd = pk_load_u64(pl->p + 16);
	if (np > body / PACK || nd > body / DEAD || np * PACK + nd * DEAD != body)
		return 0;
	return sorted_unique(pl->p + 24, np, PACK) &&
	    sorted_unique(pl->p + 24 + np * PACK, nd, DEAD);
}

/* Whether a reader must accept the plaintext of a leases file. */
static int
leases_ok(const struct part *pl)
{
	uint64_t n;

	if (pl->n < 8)
		return 0;
	n = pk_load_u64(pl->p);
	return n <= (pl->n - 8) / LEASE && n * LEASE == pl->n - 8;
}

/*
 * Writes gc/KIND-MARK_NAME from in and sets *pl to its plaintext.  Returns
 * 1 when its header and box are right, 0 when not, -1 when it could not
 * be written.
 */
static int
put_gc(struct pk_repo *r, const char *kind, const char *magic,
    const struct part *in, int raw, struct part *pl)
{
	uint8_t *file, ad[64], id[PK_GCMARK_ID_BYTES];
	size_t len, adlen;
	char path[4200], label[32];
	int ok = 1;

	snprintf(path, sizeof path, "%s/gc/%s-%s", r->path, kind, MARK_NAME);
	*pl = *in;
	if (raw && in->n < HEADER)
		return fuzz_write(path, in->p, in->n, 0400) < 0 ? -1 : 0;
	if (raw) {
		pl->p += HEADER;
		pl->n -= HEADER;
	}
	len = HEADER + pl->n + pk_box_overhead(&r->keys);
	if ((file = malloc(len)) == NULL)
		return -1;
	if (raw) {
		memcpy(file, in->p, HEADER);
		ok = memcmp(file, magic, 8) == 0 && pk_load_u32(file + 8) == 1 &&
		    pk_load_u32(file + 12) == 0;
	} else {
		memcpy(file, magic, 8);
		pk_put_u32(file + 8, 1);
		pk_put_u32(file + 12, 0);
	}
	snprintf(label, sizeof label, "pk gc %s", kind);
	pk_unhex(id, sizeof id, MARK_NAME);
	adlen = fuzz_ad(ad, label, id, sizeof id);
	pk_box_seal(&r->keys, file + HEADER, pl->p, pl->n, ad, adlen);
	if (fuzz_write(path, file, len, 0400) < 0)
		ok = -1;
	free(file);
	return ok;
}

/* Whether a and b name the same packs, dead blobs and leases. */
static int
same_mark(const struct pk_gcmark *a, const struct pk_gcmark *b)
{
	return a->npacks == b->npacks && a->ndead == b->ndead &&
	    a->nleases == b->nleases && a->have_leases == b->have_leases &&
	    memcmp(a->packs, b->packs, a->npacks * PACK) == 0 &&
	    memcmp(a->dead, b->dead, a->ndead * DEAD) == 0 &&
	    (a->nleases == 0 ||
	    memcmp(a->leases, b->leases, a->nleases * sizeof *a->leases) == 0);
}

/* m, written again out of order and with each dead blob twice (the writer
 * sorts both lists and drops the second), reads back the same. */
static void
round_trip(struct pk_repo *r, const struct pk_gcmark *m)
{
	struct pk_gcmark w = { .npacks = m->npacks, .ndead = 2 * m->ndead,
	    .nleases = m->nleases }, *v;
	size_t i, n;

	w.packs = malloc(m->npacks * PACK + 1);
	w.dead = malloc(2 * m->ndead * DEAD + 1);
	w.leases = calloc(m->nleases + 1, sizeof *w.leases);
	if (w.packs == NULL || w.dead == NULL || w.leases == NULL)
		goto out;
	for (i = 0; i < m->npacks; i++)
		memcpy(w.packs + i * PACK, m->packs + (m->npacks - 1 - i) * PACK,
		    PACK);
	for (i = 0; i < m->ndead; i++) {
		memcpy(w.dead + 2 * i * DEAD,
		    m->dead + (m->ndead - 1 - i) * DEAD, DEAD);
		memcpy(w.dead + (2 * i + 1) * DEAD,
		    m->dead + (m->ndead - 1 - i) * DEAD, DEAD);
	}
	if (m->nleases)
		memcpy(w.leases, m->leases, m->nleases * sizeof *w.leases);
	if (pk_gcmark_write(r, &w) < 0 ||
	    (m->have_leases && pk_gcmark_write_leases(r, &w) < 0))
		goto out;
	if (pk_gcmark_list(r, &v, &n) == 0) {
		if (n != 1 || v->bad || strcmp(v->name, w.name) != 0 ||
		    v->time != w.time || !same_mark(v, m))
			__builtin_trap();
		pk_gcmark_list_free(v, n);
	}
out:
	pk_gcmark_remove(r, &w);
	pk_gcmark_release(&w);
}

/* The mark of part[0], with the leases file of part[1] if any. */
static void
check_mark(struct pk_repo *r, const struct part *part, size_t nparts,
    unsigned flags)
{
	static const uint8_t none[DEAD];
	struct part mp, lp = { NULL, 0 };
	struct pk_gcmark *v;
	size_t i, n;
	char path[4200];
	int ok, lok = 1;

	if ((ok = put_gc(r, "mark", "PKGCMARK", &part[0], flags & 1, &mp)) < 0 ||
	    (nparts > 1 && (lok = put_gc(r, "leases", "PKGCLEAS", &part[1],
	    flags & 2, &lp)) < 0))
		goto out;
	ok = ok && mark_ok(&mp) && (nparts == 1 || (lok && leases_ok(&lp)));
	if (pk_gcmark_list(r, &v, &n) < 0)
		goto out;
	if (n != 1 || strcmp(v->name, MARK_NAME) != 0 || v->bad == ok)
		__builtin_trap();
	if (v->bad) {
		/* An unreadable mark names nothing. */
		if (v->npacks || v->ndead || v->nleases || v->have_leases ||
		    v->why[0] == '\0' || pk_gcmark_has_pack(v, none) ||
		    pk_gcmark_is_dead(v, none, none))
			__builtin_trap();
	} else {
		if (v->time != (int64_t)pk_load_u64(mp.p) ||
		    v->npacks != pk_load_u64(mp.p + 8) ||
		    v->ndead != pk_load_u64(mp.p + 16) ||
		    memcmp(v->packs, mp.p + 24, v->npacks * PACK) != 0 ||
		    memcmp(v->dead, mp.p + 24 + v->npacks * PACK,
		    v->ndead * DEAD) != 0 ||
		    v->have_leases != (nparts > 1) ||
		    (nparts > 1 && v->nleases != pk_load_u64(lp.p)))
			__builtin_trap();
		for (i = 0; i < v->nleases; i++)
			if (memcmp(v->leases[i], lp.p + 8 + i * LEASE, LEASE) != 0 ||
			    v->leases[i][LEASE] != '\0')
				__builtin_trap();
		for (i = 0; i < v->npacks; i++)
			if (!pk_gcmark_has_pack(v, v->packs + i * PACK))
				__builtin_trap();
		for (i = 0; i < v->ndead; i++)
			if (!pk_gcmark_is_dead(v, v->dead + i * DEAD,
			    v->dead + i * DEAD + PK_SID_BYTES))
				__builtin_trap();
	}
	snprintf(path, sizeof path, "%s/gc/mark-%s", r->path, MARK_NAME);
	unlink(path);
	snprintf(path, sizeof path, "%s/gc/leases-%s", r->path, MARK_NAME);
	unlink(path);
	if (!v->bad)
		round_trip(r, v);
	pk_gcmark_list_free(v, n);
	return;
out:
	snprintf(path, sizeof path, "%s/gc/mark-%s", r->path, MARK_NAME);
	unlink(path);
	snprintf(path, sizeof path, "%s/gc/leases-%s", r->path, MARK_NAME);
	unlink(path);
}

/* Whether the first line of a lease's text, as strtok_r finds it (after
 * any empty lines, to a newline or NUL), is the version line. */
static int
lease_head(const struct part *p)
{
	static const char head[] = "pk-lease 1";
	size_t i = 0;

	while (i < p->n && p->p[i] == '\n')
		i++;
	return p->n - i >= sizeof head - 1 &&
	    memcmp(p->p + i, head, sizeof head - 1) == 0 &&
	    (p->n - i == sizeof head - 1 || p->p[i + sizeof head - 1] == '\n' ||
	    p->p[i + sizeof head - 1] == '\0');
}

/* The leases of part[0..n-1], as locks/ID with ID 0...0i. */
static void
check_leases(struct pk_repo *r, const struct part *part, size_t n)
{
	struct pk_lease *v;
	size_t i, k, nv;
	char path[4200], text[400], small[8];
	int seen[MAX_LEASES] = { 0 };

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/locks/%032zx", r->path, i);
		if (fuzz_write(path, part[i].p, part[i].n, 0400) < 0)
			goto out;
	}
	if (pk_lease_list(r, &v, &nv) < 0)
		goto out;
	if (nv != n)
		__builtin_trap();
	for (k = 0; k < nv; k++) {
		for (i = 0; i < n; i++) {
			snprintf(text, sizeof text, "%032zx", i);
			if (strcmp(v[k].name, text) == 0)
				break;
		}
		if (i == n || seen[i]++)
			__builtin_trap();
		if (!v[k].bad && (part[i].n > LEASE_MAX || !lease_head(&part[i]) ||
		    memchr(v[k].kind, '\0', sizeof v[k].kind) == NULL ||
		    v[k].host[0] == '\0' ||
		    memchr(v[k].host, '\0', sizeof v[k].host) == NULL))
			__builtin_trap();
		pk_lease_describe(&v[k], text, sizeof text);
		pk_lease_describe(&v[k], small, sizeof small);
		if (strncmp(text, small, sizeof small - 1) != 0)
			__builtin_trap();
	}
	free(v);
out:
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/locks/%032zx", r->path, i);
		unlink(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_repo *r = fuzz_repo();
	struct part part[2 + MAX_LEASES];
	char path[4200];
	size_t n;

	if (size < 1)
		return 0;
	n = split(data + 1, size - 1, part, 2 + MAX_LEASES);
	snprintf(path, sizeof path, "%s/gc", r->path);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/locks", r->path);
	mkdir(path, 0700);
	check_mark(r, part, n, data[0]);
	if (n > 2)
		check_leases(r, part + 2, n - 2);
	return 0;
}
