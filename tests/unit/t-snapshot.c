/*
 * t-snapshot: snapshot files (snapshot.h), in a plaintext and an encrypted
 * repository: a snapshot written reads back field for field, seek table
 * included, under an id that depends on every field; the file is 0400,
 * written once; a damaged, cut, extended, renamed or foreign file is
 * refused (EBADMSG, EPROTO for the version), and a seek table or counts
 * out of their rules too; the list is oldest first, skips names that are
 * not 64 long and counts the damaged; select takes "latest" or a unique
 * prefix of 4 digits or more, says EINVAL for an ambiguous or malformed
 * one, ENOENT for none, and reads only the snapshot it names.  META
 * records: encode, decode, and every way to break one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-snapshot"

static const char pass[] = "snap";

/* A snapshot of every field, seeded; nc catalog chunks, entries starting
 * in every other one. */
static void
snap_make(struct pk_snapshot *s, int64_t start, uint32_t nc,
    unsigned long long seed)
{
	char key[64];
	uint32_t i, k;

	memset(s, 0, sizeof *s);
	s->start_sec = start;
	s->start_nsec = (uint32_t)(seed * 7919 % 1000000000);
	s->end_sec = start + 3600;
	s->end_nsec = 999999999;
	s->host = strdup("host.example");
	s->user = strdup("backup");
	pk_snapshot_add_path(s, "home", 4);
	pk_snapshot_add_path(s, "etc/a b\t\xc3\xa9", 10);
	pk_snapshot_add_tag(s, "weekly");
	pk_snapshot_add_tag(s, "seed");
	s->entries = 100 + seed;
	s->files = 60;
	s->dirs = 39;
	s->bytes = (1ull << 42) + seed;
	s->stored = 4321;
	s->chunks = 777;
	s->new_chunks = 11;
	s->errors = 1;
	s->chunk_min = 2048;
	s->chunk_avg = 8192;
	s->chunk_max = 65536;
	s->ncatalog = nc;
	s->catalog = calloc(nc + 1, sizeof *s->catalog);
	for (i = 0, k = 0; i < nc; i++) {
		struct pk_catalog_chunk *cc = &s->catalog[i];

		unit_fill(cc->id, PK_ID_BYTES, seed * 1000 + i);
		cc->len = 16384 + i;
		s->catalog_bytes += cc->len;
		cc->entry = PK_CATALOG_NO_ENTRY;
		if (i % 2)
			continue;
		cc->entry = 10 * i;
		cc->recno = 100 * i;
		cc->key = (uint32_t)s->keys.len;
		snprintf(key, sizeof key, "d%03u/a", i);
		cc->lolen = (uint16_t)strlen(key);
		pk_buf_add(&s->keys, key, cc->lolen);
		snprintf(key, sizeof key, "d%03u/z/long", i);
		cc->hilen = (uint16_t)strlen(key);
		pk_buf_add(&s->keys, key, cc->hilen);
		k++;
	}
}

/* The seek tables compared whether or not the snapshots say seekable. */
static int
snap_eq(const struct pk_snapshot *a, const struct pk_snapshot *b)
{
	return unit_snap_eq(a, b, 1);
}

static void
snap_path(const struct pk_repo *r, const uint8_t id[32], char *out, size_t n)
{
	char hex[PK_SNAPSHOT_NAME_BYTES];

	pk_hex(hex, id, 32);
	snprintf(out, n, "%s/snapshots/%s", r->path, hex);
}

/* The result of reading snapshot id of r, the snapshot released. */
static int
read_id(struct pk_repo *r, const uint8_t id[32])
{
	char hex[PK_SNAPSHOT_NAME_BYTES];
	struct pk_snapshot s;
	int e;

	pk_hex(hex, id, 32);
	e = pk_snapshot_read(r, hex, &s);
	if (e == 0)
		pk_snapshot_release(&s);
	return e;
}

static void
test_roundtrip(struct pk_repo *r, const char *mode)
{
	struct pk_snapshot s, t, got;
	char name[200], path[4200], hex[PK_SNAPSHOT_NAME_BYTES], dir[4200];
	uint8_t id[32];
	struct stat st;
	int e;

	snap_make(&s, 1700000000, 9, 1);
	e = pk_snapshot_write(r, &s);
	snprintf(name, sizeof name, "%s roundtrip: written", mode);
	CHECK(name, e == 0);
	pk_hex(hex, s.id, 32);
	e = pk_snapshot_read(r, hex, &got);
	snprintf(name, sizeof name, "%s roundtrip: every field read back, seek "
	    "table included", mode);
	CHECK(name, e == 0 && snap_eq(&s, &got) && got.seekable);
	if (e == 0)
		pk_snapshot_release(&got);
	snap_path(r, s.id, path, sizeof path);
	snprintf(name, sizeof name, "%s roundtrip: the file is read-only (0400)",
	    mode);
	CHECK(name, stat(path, &st) == 0 && (st.st_mode & 07777) == 0400);
	pk_repo_path(r, dir, sizeof dir, "tmp");
	snprintf(name, sizeof name, "%s roundtrip: nothing left in tmp/", mode);
	CHECK(name, unit_count_files(dir) == 0);

	/* The id is of the contents: the same twice, another for any field. */
	memcpy(id, s.id, 32);
	e = pk_snapshot_write(r, &s);
	pk_repo_path(r, dir, sizeof dir, "snapshots");
	snprintf(name, sizeof name, "%s id: the same snapshot again, the same id, "
	    "one file", mode);
	CHECK(name, e == 0 && memcmp(id, s.id, 32) == 0 &&
	    unit_count_files(dir) == 1);
	snap_make(&t, 1700000000, 9, 1);
	t.errors++;
	pk_snapshot_write(r, &t);
	snprintf(name, sizeof name, "%s id: a count changed, another id", mode);
	CHECK(name, memcmp(t.id, id, 32) != 0 && read_id(r, t.id) == 0);
	unlink((snap_path(r, t.id, path, sizeof path), path));
	pk_snapshot_release(&t);
	snap_make(&t, 1700000000, 9, 1);
	t.keys.data[3] ^= 1;
	pk_snapshot_write(r, &t);
	snprintf(name, sizeof name, "%s id: a byte of a seek key changed, another "
	    "id", mode);
	CHECK(name, memcmp(t.id, id, 32) != 0);
	unlink((snap_path(r, t.id, path, sizeof path), path));
	pk_snapshot_release(&t);

	/* Few fields: no host, no user, no catalog. */
	memset(&t, 0, sizeof t);
	t.start_sec = -1;
	t.end_nsec = 5;
	e = pk_snapshot_write(r, &t);
	pk_hex(hex, t.id, 32);
	e = e ? e : pk_snapshot_read(r, hex, &got);
	snprintf(name, sizeof name, "%s roundtrip: an empty snapshot, host and "
	    "user read as \"\"", mode);
	CHECK(name, e == 0 && got.start_sec == -1 && got.end_nsec == 5 &&
	    got.host && !*got.host && got.user && !*got.user && got.npaths == 0 &&
	    got.ntags == 0 && got.ncatalog == 0);
	if (e == 0)
		pk_snapshot_release(&got);
	unlink((snap_path(r, t.id, path, sizeof path), path));
	pk_snapshot_release(&s);
}

static void
test_damage(struct pk_repo *r, struct pk_repo *other, const char *mode)
{
	struct pk_snapshot s, got;
	char name[200], path[4200], path2[4200], hex[PK_SNAPSHOT_NAME_BYTES];
	uint8_t *file, *copy;
	size_t n, i, bad, proto;
	int e;

	snap_make(&s, 1700000100, 4, 2);
	pk_snapshot_write(r, &s);
	snap_path(r, s.id, path, sizeof path);
	pk_hex(hex, s.id, 32);
	if (unit_get_file(path, &file, &n) < 0) {
		CHECK("damage: read the file", 0);
		return;
	}
	copy = malloc(n + 1);
	for (i = 0, bad = 0, proto = 0; i < n; i++) {
		memcpy(copy, file, n);
		copy[i] ^= 0x04;
		unit_put_file(path, copy, n);
		e = read_id(r, s.id);
		if (i >= 8 && i < 12)
			proto += e == -EPROTO;
		else if (e != -EBADMSG) {
			printf("# %s: byte %zu flipped: %d\n", mode, i, e);
			bad++;
		}
	}
	snprintf(name, sizeof name, "%s damage: any byte flipped is EBADMSG, of "
	    "the version EPROTO", mode);
	CHECK(name, bad == 0 && proto == 4);
	/* Every length near either end, every 13th between. */
	for (i = 0, bad = 0; i < n; i += i < 64 || i + 64 > n ? 1 : 13) {
		unit_put_file(path, file, i);
		bad += read_id(r, s.id) != -EBADMSG;
	}
	snprintf(name, sizeof name, "%s damage: cut at any length is EBADMSG", mode);
	CHECK(name, bad == 0);
	memcpy(copy, file, n);
	copy[n] = 0;
	unit_put_file(path, copy, n + 1);
	snprintf(name, sizeof name, "%s damage: a byte added is EBADMSG", mode);
	CHECK(name, read_id(r, s.id) == -EBADMSG);
	unit_put_file(path, file, n);
	snprintf(name, sizeof name, "%s damage: restored, it reads", mode);
	CHECK(name, read_id(r, s.id) == 0);

	/* Under another name, in another repository. */
	snprintf(path2, sizeof path2, "%s/snapshots/%.63s%c", r->path, hex,
	    hex[63] == 'f' ? 'e' : 'f');
	unit_put_file(path2, file, n);
	snprintf(name, sizeof name, "%s damage: a copy under another name is "
	    "EBADMSG", mode);
	CHECK(name, pk_snapshot_read(r, strrchr(path2, '/') + 1, &got) == -EBADMSG);
	unlink(path2);
	snap_path(other, s.id, path2, sizeof path2);
	unit_put_file(path2, file, n);
	snprintf(name, sizeof name, "%s damage: a copy in another repository is "
	    "EBADMSG", mode);
	CHECK(name, read_id(other, s.id) == -EBADMSG);
	unlink(path2);
	unlink(path);

	/* Names. */
	snprintf(name, sizeof name, "%s read: a missing snapshot is ENOENT", mode);
	CHECK(name, read_id(r, s.id) == -ENOENT);
	snprintf(name, sizeof name, "%s read: names not of 64 hex digits are "
	    "EINVAL", mode);
	CHECK(name, pk_snapshot_read(r, "../config", &got) == -EINVAL &&
	    pk_snapshot_read(r, "", &got) == -EINVAL &&
	    pk_snapshot_read(r, "abcd", &got) == -EINVAL &&
	    pk_snapshot_read(r, "g000000000000000000000000000000000000000000000000"
	    "000000000000000", &got) == -EINVAL);
	free(file);
	free(copy);
	pk_snapshot_release(&s);
}

/* What the writer encodes but a reader must refuse: fields out of their
 * rules, written through pk_snapshot_write so that they authenticate. */
static void
test_rules(struct pk_repo *r)
{
	struct pk_snapshot s;
	char *paths[PK_SNAPSHOT_MAX_PATHS + 2], *longp;
	size_t i, bad = 0;
	int e, k;

	for (i = 0; i < PK_SNAPSHOT_MAX_PATHS + 2; i++)
		paths[i] = "p";
	for (k = 0; k < 7; k++) {
		snap_make(&s, 1700000200, 5, 30 + (unsigned)k);
		switch (k) {
		case 0:		/* an entry past its chunk */
			s.catalog[2].entry = s.catalog[2].len;
			break;
		case 1:		/* record numbers going back */
			s.catalog[2].recno = s.catalog[0].recno;
			break;
		case 2:		/* lo after hi */
			s.catalog[0].hilen = 1;
			break;
		case 3:		/* a key longer than PK_CATALOG_KEY_MAX */
			s.catalog[4].key = (uint32_t)s.keys.len;
			s.catalog[4].lolen = PK_CATALOG_KEY_MAX + 1;
			s.catalog[4].hilen = PK_CATALOG_KEY_MAX + 1;
			for (i = 0; i < 2 * (PK_CATALOG_KEY_MAX + 1); i++)
				pk_buf_add_u8(&s.keys, 'k');
			break;
		case 4:		/* more paths than PK_SNAPSHOT_MAX_PATHS */
			for (i = 0; i < s.npaths; i++)
				free(s.paths[i]);
			free(s.paths);
			s.paths = paths;
			s.npaths = PK_SNAPSHOT_MAX_PATHS + 1;
			break;
		case 5:		/* more tags than PK_SNAPSHOT_MAX_TAGS */
			for (i = 0; i < s.ntags; i++)
				free(s.tags[i]);
			free(s.tags);
			s.tags = paths;
			s.ntags = PK_SNAPSHOT_MAX_TAGS + 1;
			break;
		case 6:		/* a path over PK_SNAPSHOT_MAX_STRING */
			longp = malloc(PK_SNAPSHOT_MAX_STRING + 2);
			memset(longp, 'l', PK_SNAPSHOT_MAX_STRING + 1);
			longp[PK_SNAPSHOT_MAX_STRING + 1] = '\0';
			free(s.paths[1]);
			s.paths[1] = longp;
			break;
		}
		e = pk_snapshot_write(r, &s);
		if (e < 0 || (e = read_id(r, s.id)) != -EBADMSG) {
			printf("# rule %d: read gives %d\n", k, e);
			bad++;
		}
		if (k == 4) {
			s.paths = NULL;
			s.npaths = 0;
		}
		if (k == 5) {
			s.tags = NULL;
			s.ntags = 0;
		}
		pk_snapshot_release(&s);
	}
	CHECK("rules: an entry past its chunk, record numbers going back, lo "
	    "after hi, a long key, too many paths or tags, a long path: EBADMSG",
	    bad == 0);
}

static void
test_list_select(struct pk_repo *r, const char *mode)
{
	struct pk_snapshot s[5], got, *list;
	char name[200], hex[5][PK_SNAPSHOT_NAME_BYTES], sel[80], path[4200];
	size_t n, nbad, i, j, len, k;
	uint8_t *file;
	size_t flen;
	int e, order;

	/* Whatever earlier tests left: gone. */
	pk_repo_path(r, path, sizeof path, "snapshots");
	unit_rmrf(path);
	mkdir(path, 0700);
	e = pk_snapshot_list(r, &list, &n, &nbad);
	snprintf(name, sizeof name, "%s list: none", mode);
	CHECK(name, e == 0 && n == 0 && nbad == 0);
	pk_snapshot_list_free(list, n);
	e = pk_snapshot_select(r, "latest", NULL, &got);
	snprintf(name, sizeof name, "%s select: latest of none is ENOENT", mode);
	CHECK(name, e == -ENOENT);

	/* Starts: 3 and 4 tie to the nanosecond, 1 is the newest. */
	snap_make(&s[0], 1000, 2, 40);
	snap_make(&s[1], 5000, 2, 41);
	snap_make(&s[2], 1000, 2, 42);
	snap_make(&s[3], 3000, 2, 43);
	snap_make(&s[4], 3000, 2, 44);
	s[0].start_nsec = 7;
	s[2].start_nsec = 6;
	s[3].start_nsec = s[4].start_nsec = 500;
	for (i = 0; i < 5; i++) {
		pk_snapshot_write(r, &s[i]);
		pk_hex(hex[i], s[i].id, 32);
	}
	e = pk_snapshot_list(r, &list, &n, NULL);
	order = e == 0 && n == 5 && snap_eq(&list[0], &s[2]) &&
	    snap_eq(&list[1], &s[0]) && snap_eq(&list[4], &s[1]);
	/* A tie goes by id. */
	k = memcmp(s[3].id, s[4].id, 32) < 0 ? 3 : 4;
	order = order && snap_eq(&list[2], &s[k]) && snap_eq(&list[3], &s[7 - k]);
	snprintf(name, sizeof name, "%s list: oldest start first, a tie by id "
	    "(nbad may be NULL)", mode);
	CHECK(name, order);
	if (e == 0)
		pk_snapshot_list_free(list, n);
	e = pk_snapshot_select(r, "latest", NULL, &got);
	snprintf(name, sizeof name, "%s select: latest is the newest start", mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[1]));
	if (e == 0)
		pk_snapshot_release(&got);

	for (i = 0; i < 5; i++) {
		/* The shortest prefix (4 or more) that is unique. */
		for (len = 4; len < 64; len++) {
			for (j = 0, k = 0; j < 5; j++)
				k += strncmp(hex[i], hex[j], len) == 0;
			if (k == 1)
				break;
		}
		snprintf(sel, sizeof sel, "%.*s", (int)len, hex[i]);
		e = pk_snapshot_select(r, sel, NULL, &got);
		if (e < 0 || !snap_eq(&got, &s[i]))
			break;
		pk_snapshot_release(&got);
	}
	snprintf(name, sizeof name, "%s select: a unique prefix selects each", mode);
	CHECK(name, i == 5);
	e = pk_snapshot_select(r, hex[3], NULL, &got);
	snprintf(name, sizeof name, "%s select: the whole id", mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[3]));
	if (e == 0)
		pk_snapshot_release(&got);

	/* Ambiguous: a copy of one under a name that shares all but its
	 * last digit; select goes by names. */
	{
		uint8_t *f;
		size_t fl;

		snprintf(path, sizeof path, "%s/snapshots/%s", r->path, hex[0]);
		unit_get_file(path, &f, &fl);
		snprintf(path, sizeof path, "%s/snapshots/%.63s%c", r->path,
		    hex[0], hex[0][63] == '0' ? '1' : '0');
		unit_put_file(path, f, fl);
		free(f);
		snprintf(sel, sizeof sel, "%.63s", hex[0]);
		pk_err_clear();
		e = pk_snapshot_select(r, sel, NULL, &got);
		snprintf(name, sizeof name, "%s select: an ambiguous prefix is "
		    "EINVAL, and says so", mode);
		CHECK(name, e == -EINVAL && strstr(pk_errmsg(e), "ambiguous") != NULL);
		snprintf(sel, sizeof sel, "%.4s", hex[0]);
		snprintf(name, sizeof name, "%s select: ... of 4 digits too", mode);
		CHECK(name, pk_snapshot_select(r, sel, NULL, &got) == -EINVAL);
		snprintf(name, sizeof name, "%s select: the whole id is not "
		    "ambiguous", mode);
		e = pk_snapshot_select(r, hex[0], NULL, &got);
		CHECK(name, e == 0 && snap_eq(&got, &s[0]));
		if (e == 0)
			pk_snapshot_release(&got);
		unlink(path);
	}

	for (j = 0, e = 0; j < 65536 && e == 0; j++) {
		snprintf(sel, sizeof sel, "%04zx", j);
		for (i = 0, e = -1; i < 5; i++)
			if (strncmp(sel, hex[i], 4) == 0)
				e = 0;
	}
	e = pk_snapshot_select(r, sel, NULL, &got);
	snprintf(name, sizeof name, "%s select: a prefix of none is ENOENT", mode);
	CHECK(name, e == -ENOENT);
	snprintf(sel, sizeof sel, "%.3s", hex[0]);
	snprintf(name, sizeof name, "%s select: 3 digits, upper case, not hex, "
	    "65 digits, \"Latest\", \"\": EINVAL", mode);
	snprintf(path, sizeof path, "%s0", hex[0]);
	CHECK(name, pk_snapshot_select(r, sel, NULL, &got) == -EINVAL &&
	    pk_snapshot_select(r, "ABCD", NULL, &got) == -EINVAL &&
	    pk_snapshot_select(r, "abcg", NULL, &got) == -EINVAL &&
	    pk_snapshot_select(r, path, NULL, &got) == -EINVAL &&
	    pk_snapshot_select(r, "Latest", NULL, &got) == -EINVAL &&
	    pk_snapshot_select(r, "", NULL, &got) == -EINVAL);

	/* Damage one: counted, skipped by latest, named when selected. */
	snprintf(path, sizeof path, "%s/snapshots/%s", r->path, hex[1]);
	unit_get_file(path, &file, &flen);
	file[flen - 1] ^= 1;
	unit_put_file(path, file, flen);
	free(file);
	snprintf(path, sizeof path, "%s/snapshots/README", r->path);
	unit_put_file(path, (const uint8_t *)"x", 1);
	snprintf(path, sizeof path, "%s/snapshots/%.63sx", r->path, hex[0]);
	unit_put_file(path, (const uint8_t *)"x", 1);
	e = pk_snapshot_list(r, &list, &n, &nbad);
	snprintf(name, sizeof name, "%s list: the damaged and the 64-long non-hex "
	    "are counted, a short name skipped", mode);
	CHECK(name, e == 0 && n == 4 && nbad == 2);
	if (e == 0)
		pk_snapshot_list_free(list, n);
	e = pk_snapshot_select(r, "latest", NULL, &got);
	snprintf(name, sizeof name, "%s select: latest goes past the damaged one",
	    mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[k = memcmp(s[3].id, s[4].id, 32) <
	    0 ? 4 : 3]));
	if (e == 0)
		pk_snapshot_release(&got);
	snprintf(sel, sizeof sel, "%.12s", hex[1]);
	e = pk_snapshot_select(r, sel, NULL, &got);
	snprintf(name, sizeof name, "%s select: the damaged one by its prefix is "
	    "EBADMSG", mode);
	CHECK(name, e == -EBADMSG);
	snprintf(sel, sizeof sel, "%.12s", hex[2]);
	e = pk_snapshot_select(r, sel, NULL, &got);
	snprintf(name, sizeof name, "%s select: another by its prefix, whatever "
	    "the damaged one", mode);
	CHECK(name, e == 0 && snap_eq(&got, &s[2]));
	if (e == 0)
		pk_snapshot_release(&got);

	/* Every one damaged: latest says so. */
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof path, "%s/snapshots/%s", r->path, hex[i]);
		unit_put_file(path, (const uint8_t *)"PKSNAP", 6);
	}
	e = pk_snapshot_select(r, "latest", NULL, &got);
	snprintf(name, sizeof name, "%s select: latest when none can be read is "
	    "EBADMSG", mode);
	CHECK(name, e == -EBADMSG);
	for (i = 0; i < 5; i++)
		pk_snapshot_release(&s[i]);
}

static void
test_meta(void)
{
	struct pk_snapshot s, got;
	struct pk_buf b = PK_BUF_INIT, c = PK_BUF_INIT;
	size_t i, bad;
	uint8_t *big;
	int e;

	snap_make(&s, -86400, 0, 50);
	pk_snapshot_add_tag(&s, "");
	e = pk_snapshot_meta_encode(&s, &b);
	memset(&got, 0, sizeof got);
	e = e ? e : pk_snapshot_meta_decode(&got, b.data, b.len);
	CHECK("meta: times, host, user and tags round trip",
	    e == 0 && got.start_sec == -86400 && got.start_nsec == s.start_nsec &&
	    got.end_sec == s.end_sec && got.end_nsec == 999999999 &&
	    strcmp(got.host, "host.example") == 0 && strcmp(got.user, "backup") ==
	    0 && got.ntags == 3 && unit_strv_eq(got.tags, s.tags, 3));
	CHECK("meta: nothing else is decoded", got.npaths == 0 &&
	    got.ncatalog == 0 && got.entries == 0);
	pk_snapshot_release(&got);

	for (i = 0, bad = 0; i < b.len; i++) {
		memset(&got, 0, sizeof got);
		bad += pk_snapshot_meta_decode(&got, b.data, i) != -EBADMSG;
		pk_snapshot_release(&got);
	}
	CHECK("meta: cut at any length is EBADMSG", bad == 0);
	pk_buf_add(&c, b.data, b.len);
	pk_buf_add_u8(&c, 0);
	memset(&got, 0, sizeof got);
	CHECK("meta: a byte more is EBADMSG",
	    pk_snapshot_meta_decode(&got, c.data, c.len) == -EBADMSG);
	pk_snapshot_release(&got);

	/* Nanoseconds out of range, at either time. */
	pk_buf_reset(&c);
	pk_buf_add(&c, b.data, b.len);
	pk_put_u32(c.data + 8, 1000000000);
	memset(&got, 0, sizeof got);
	CHECK("meta: start nanoseconds of 10^9 are EBADMSG",
	    pk_snapshot_meta_decode(&got, c.data, c.len) == -EBADMSG);
	pk_snapshot_release(&got);
	pk_buf_reset(&c);
	pk_buf_add(&c, b.data, b.len);
	pk_put_u32(c.data + 20, 1000000000);
	memset(&got, 0, sizeof got);
	CHECK("meta: end nanoseconds of 10^9 are EBADMSG",
	    pk_snapshot_meta_decode(&got, c.data, c.len) == -EBADMSG);
	pk_snapshot_release(&got);

	/* A NUL in the host. */
	pk_buf_reset(&c);
	pk_buf_add(&c, b.data, b.len);
	c.data[24 + 4 + 2] = '\0';
	memset(&got, 0, sizeof got);
	CHECK("meta: a NUL byte in a name is EBADMSG",
	    pk_snapshot_meta_decode(&got, c.data, c.len) == -EBADMSG);
	pk_snapshot_release(&got);

	/* Limits: 64 tags, 4096 bytes. */
	pk_buf_reset(&c);
	pk_buf_add(&c, b.data, 24);
	pk_buf_add_str(&c, "h", 1);
	pk_buf_add_str(&c, "u", 1);
	pk_buf_add_u32(&c, PK_SNAPSHOT_MAX_TAGS + 1);
	for (i = 0; i < PK_SNAPSHOT_MAX_TAGS + 1; i++)
		pk_buf_add_str(&c, "t", 1);
	memset(&got, 0, sizeof got);
	CHECK("meta: 65 tags are EBADMSG",
	    pk_snapshot_meta_decode(&got, c.data, c.len) == -EBADMSG);
	pk_snapshot_release(&got);
	pk_put_u32(c.data + 24 + 5 + 5, PK_SNAPSHOT_MAX_TAGS);
	c.len -= 5;
	memset(&got, 0, sizeof got);
	CHECK("meta: 64 are good", pk_snapshot_meta_decode(&got, c.data, c.len) ==
	    0 && got.ntags == PK_SNAPSHOT_MAX_TAGS);
	pk_snapshot_release(&got);
	big = calloc(1, PK_SNAPSHOT_MAX_STRING + 1);
	memset(big, 'h', PK_SNAPSHOT_MAX_STRING + 1);
	pk_buf_reset(&c);
	pk_buf_add(&c, b.data, 24);
	pk_buf_add_str(&c, big, PK_SNAPSHOT_MAX_STRING + 1);
	pk_buf_add_str(&c, "u", 1);
	pk_buf_add_u32(&c, 0);
	memset(&got, 0, sizeof got);
	CHECK("meta: a host of 4097 bytes is EBADMSG",
	    pk_snapshot_meta_decode(&got, c.data, c.len) == -EBADMSG);
	pk_snapshot_release(&got);
	pk_buf_reset(&c);
	pk_buf_add(&c, b.data, 24);
	pk_buf_add_str(&c, big, PK_SNAPSHOT_MAX_STRING);
	pk_buf_add_str(&c, "u", 1);
	pk_buf_add_u32(&c, 0);
	memset(&got, 0, sizeof got);
	CHECK("meta: one of 4096 is good",
	    pk_snapshot_meta_decode(&got, c.data, c.len) == 0 &&
	    strlen(got.host) == PK_SNAPSHOT_MAX_STRING);
	pk_snapshot_release(&got);
	free(big);
	pk_snapshot_release(&s);
	pk_buf_release(&b);
	pk_buf_release(&c);
}

/* Paths are cut, tags refused, counts capped. */
static void
test_add(void)
{
	struct pk_snapshot s;
	char *big = malloc(PK_SNAPSHOT_MAX_STRING + 2);
	size_t i, bad = 0;

	memset(&s, 0, sizeof s);
	memset(big, 'p', PK_SNAPSHOT_MAX_STRING + 1);
	big[PK_SNAPSHOT_MAX_STRING + 1] = '\0';
	CHECK("add_path: one over the limit is cut to it",
	    pk_snapshot_add_path(&s, big, PK_SNAPSHOT_MAX_STRING + 1) == 0 &&
	    s.npaths == 1 && strlen(s.paths[0]) == PK_SNAPSHOT_MAX_STRING);
	CHECK("add_path: n bytes of p only",
	    pk_snapshot_add_path(&s, "abcdef", 3) == 0 && s.npaths == 2 &&
	    strcmp(s.paths[1], "abc") == 0 && s.paths[2] == NULL);
	CHECK("add_tag: one over the limit is EINVAL, not added",
	    pk_snapshot_add_tag(&s, big) == -EINVAL && s.ntags == 0);
	for (i = 0; i < PK_SNAPSHOT_MAX_PATHS + 3; i++)
		bad += pk_snapshot_add_path(&s, "x", 1) != 0;
	CHECK("add_path: capped at the maximum count", bad == 0 &&
	    s.npaths == PK_SNAPSHOT_MAX_PATHS);
	for (i = 0; i < PK_SNAPSHOT_MAX_TAGS + 3; i++)
		bad += pk_snapshot_add_tag(&s, "t") != 0;
	CHECK("add_tag: capped at the maximum count", bad == 0 &&
	    s.ntags == PK_SNAPSHOT_MAX_TAGS);
	pk_snapshot_release(&s);
	CHECK("release: the snapshot is empty after it", s.paths == NULL &&
	    s.tags == NULL && s.npaths == 0 && s.ntags == 0 && s.host == NULL);
	pk_snapshot_release(&s);
	free(big);
}

int
main(void)
{
	struct pk_repo *plain, *enc, *other;

	unit_scratch(SCRATCH);
	plain = unit_repo(SCRATCH, "plain", 0, pass);
	other = unit_repo(SCRATCH, "other", 0, pass);
	enc = unit_repo(SCRATCH, "enc", 1, pass);
	CHECK("repositories", plain && other && enc);
	if (!plain || !other || !enc)
		UNIT_END();
	test_roundtrip(plain, "plaintext");
	test_roundtrip(enc, "encrypted");
	test_damage(plain, other, "plaintext");
	test_damage(enc, other, "encrypted");
	test_rules(plain);
	test_list_select(plain, "plaintext");
	test_list_select(enc, "encrypted");
	test_meta();
	test_add();
	pk_repo_close(plain);
	pk_repo_close(other);
	pk_repo_close(enc);
	UNIT_END();
}
