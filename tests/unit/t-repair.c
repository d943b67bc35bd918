/*
 * t-repair: pk_repair_index (repairindex.h) and pk_repair_snapshots
 * (repairsnap.h) on repositories filled with pk_store_stream.  An index
 * delta removed: the repair re-indexes its pack, its counts say so, and
 * the repository checks clean; a damaged delta too, which goes.  A blob
 * flipped: the snapshot that uses it is stored again without the file,
 * its times, host and tags kept and "repaired" added, its other files
 * kept; a second run repairs nothing again.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define SCRATCH	"tests/scratch/t-repair"

/* A file of one chunk of n bytes of the given seed. */
static void
put_file(struct pk_writer *w, const char *path, size_t n, unsigned seed)
{
	uint8_t *p = malloc(n), id[PK_ID_BYTES];

	unit_fill(p, n, seed);
	pk_hash_id(id, p, n);
	unit_put_entry(w, PK_FT_REG, path, n);
	pk_writer_put2(w, PK_REC_CHUNK, 0, id, sizeof id, p, n);
	pk_write_eof(w, n, 0);
	free(p);
}

/* Stores d, d/a (seed a) and d/b (seed b); tagged t. */
static int
store(struct pk_repo *r, unsigned a, unsigned b, const char *t,
    struct pk_snapshot *snap)
{
	const char *tags[] = { t };
	struct pk_store_options o = { .level = 3, .threads = 1, .host = "h",
	    .tags = tags, .ntags = 1 };
	struct pk_buf s = PK_BUF_INIT;
	struct pk_writer *w = unit_writer(&s, &unit_hdr);
	int e;

	unit_put_entry(w, PK_FT_DIR, "d", 0);
	put_file(w, "d/a", 20000, a);
	put_file(w, "d/b", 30000, b);
	unit_writer_end(w);
	e = unit_store(r, &s, &o, snap);
	pk_buf_release(&s);
	return e;
}

static uint64_t
problems(struct pk_repo *r)
{
	struct pk_check_options o = { .data = 1 };
	struct pk_check_result res;

	return pk_check(r, &o, &res) < 0 ? 99 : res.problems;
}

static int
first_name(void *arg, const char *name)
{
	snprintf(arg, PK_DELTA_NAME_BYTES, "%s", name);
	return 1;
}

static void
test_index(void)
{
	struct pk_repair_index_options o = { 0 };
	struct pk_repair_index_report rep;
	struct pk_snapshot s1, s2;
	struct pk_repo *r = unit_repo(SCRATCH, "index", 1, "pw");
	char name[PK_DELTA_NAME_BYTES] = "", path[4200], rel[64];
	int e;

	if (r == NULL || store(r, 1, 2, "one", &s1) < 0 ||
	    store(r, 3, 4, "two", &s2) < 0) {
		CHECK("index: a repository", 0);
		return;
	}
	e = pk_repair_index(r, &o, &rep);
	CHECK("index: nothing to repair", e == 0 && rep.deltas == 2 &&
	    rep.packs == 2 && rep.orphan_packs == 0 && rep.delta[0] == '\0');

	pk_index_list(r, first_name, name);
	snprintf(rel, sizeof rel, "index/%s", name);
	pk_repo_path(r, path, sizeof path, rel);
	CHECK("index: a delta removed", unlink(path) == 0 && problems(r) > 0);
	e = pk_repair_index(r, &o, &rep);
	CHECK("index: its pack re-indexed into a new delta", e == 0 &&
	    rep.deltas == 1 && rep.orphan_packs == 1 &&
	    rep.reindexed_packs == 1 && rep.copied_packs == 0 &&
	    rep.lost_packs == 0 && rep.blobs >= 3 && rep.delta[0] != '\0' &&
	    rep.damaged_deltas == 0);
	CHECK("index: the repository checks clean", problems(r) == 0);

	snprintf(rel, sizeof rel, "index/%s", rep.delta);
	pk_repo_path(r, path, sizeof path, rel);
	chmod(path, 0600);
	unit_flip_at(path, 40, 0x10);
	e = pk_repair_index(r, &o, &rep);
	CHECK("index: a damaged delta named, its pack re-indexed, it removed",
	    e == 0 && rep.damaged_deltas == 1 && rep.removed_deltas == 1 &&
	    rep.reindexed_packs == 1 && !unit_exists(path));
	CHECK("index: clean again", problems(r) == 0);
	pk_snapshot_release(&s1);
	pk_snapshot_release(&s2);
	pk_repo_close(r);
}

/* Where the chunk of seed k, n bytes long, is stored. */
static int
blob_of(struct pk_repo *r, size_t n, unsigned k, struct pk_blobloc *loc)
{
	uint8_t *p = malloc(n), id[PK_ID_BYTES], sid[PK_SID_BYTES];
	struct pk_index ix;
	int found = 0;

	unit_fill(p, n, k);
	pk_hash_id(id, p, n);
	free(p);
	pk_storage_id(&r->keys, sid, id);
	if (pk_index_open(&ix, r) == 0) {
		found = pk_index_find(&ix, sid, loc);
		pk_index_close(&ix);
	}
	return found;
}

struct heard {
	int lines;
	char text[4096];
};

static void
on_line(void *arg, const char *line)
{
	struct heard *h = arg;
	size_t n = strlen(h->text);

	h->lines++;
	snprintf(h->text + n, sizeof h->text - n, "%s\n", line);
}

static void
test_snapshots(void)
{
	struct heard h = { 0 };
	struct pk_repair_snapshots_options o = { .level = 3,
	    .repaired = on_line, .arg = &h };
	struct pk_repair_snapshots_report rep;
	struct pk_snapshot s1, s2, *list;
	struct pk_blobloc loc;
	struct pk_repo *r = unit_repo(SCRATCH, "snaps", 0, NULL);
	char pack[4200], old[PK_SNAPSHOT_NAME_BYTES];
	size_t n, i;
	int e, found = 0;

	if (r == NULL || store(r, 1, 2, "one", &s1) < 0 ||
	    store(r, 1, 3, "two", &s2) < 0 || !blob_of(r, 30000, 3, &loc)) {
		CHECK("snapshots: a repository", 0);
		return;
	}
	e = pk_repair_snapshots(r, &o, &rep);
	CHECK("snapshots: nothing to repair", e == 0 && rep.snapshots == 2 &&
	    rep.damaged == 0 && rep.repaired == 0 && h.lines == 0);

	/* The second snapshot's d/b. */
	pk_pack_path(r, pack, sizeof pack, loc.pack);
	chmod(pack, 0600);
	unit_flip_at(pack, loc.offset + loc.length / 2, 0x20);
	e = pk_repair_snapshots(r, &o, &rep);
	pk_hex(old, s2.id, sizeof s2.id);
	CHECK("snapshots: the one with the damaged file repaired", e == 0 &&
	    rep.damaged == 1 && rep.repaired == 1 && rep.left_out == 1 &&
	    rep.failed == 0 && rep.unreadable == 0 && h.lines == 1 &&
	    strncmp(h.text, "snapshot ", 9) == 0 &&
	    strncmp(h.text + 9, old, 12) == 0 && strstr(h.text, "1 files left out "
	    "(d/b); repaired as "));
	e = pk_snapshot_list(r, &list, &n, NULL);
	for (i = 0; e == 0 && i < n; i++) {
		if (memcmp(list[i].id, s1.id, 32) == 0 ||
		    memcmp(list[i].id, s2.id, 32) == 0)
			continue;
		found++;
		CHECK("snapshots: the new one keeps times, host, tags",
		    list[i].start_sec == s2.start_sec &&
		    list[i].start_nsec == s2.start_nsec &&
		    list[i].end_sec == s2.end_sec &&
		    list[i].end_nsec == s2.end_nsec &&
		    strcmp(list[i].host, "h") == 0 && list[i].ntags == 2 &&
		    strcmp(list[i].tags[0], "two") == 0 &&
		    strcmp(list[i].tags[1], PK_REPAIR_TAG) == 0);
		CHECK("snapshots: ... and its other files",
		    list[i].files == 1 && list[i].dirs == 1 &&
		    list[i].bytes == 20000);
	}
	CHECK("snapshots: one new snapshot, the originals kept", e == 0 &&
	    n == 3 && found == 1);
	if (e == 0)
		pk_snapshot_list_free(list, n);

	memset(&h, 0, sizeof h);
	e = pk_repair_snapshots(r, &o, &rep);
	CHECK("snapshots: a second run repairs nothing again", e == 0 &&
	    rep.damaged == 1 && rep.before == 1 && rep.repaired == 0 &&
	    strstr(h.text, "repaired before as "));
	pk_snapshot_release(&s1);
	pk_snapshot_release(&s2);
	pk_repo_close(r);
}

int
main(void)
{
	unit_scratch(SCRATCH);
	test_index();
	test_snapshots();
	UNIT_END();
}
