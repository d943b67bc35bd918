/* pk-index: list snapshots and their files; check and repair a
 * repository. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pk.h"
#include "json.h"
#include "unlock.h"

static int json;
static struct pk_snapshot_filter only;	/* --host, --tag, --path */

static const char usage_text[] =
    "usage: pk-index [--json] [select] [unlock] repository [snapshot[:path]]\n"
    "       pk-index --check[=data] [unlock] repository\n"
    "       pk-index --repair=index|snapshots [unlock] repository\n"
    "       pk-index --export-cache file [select] [unlock] repository snapshot\n"
    "       pk-index --export-known file [select] [unlock] repository [snapshot]\n"
    "       pk-index --export-key file [--passphrase-file file] repository\n"
    "       pk-index --diff [--json] [select] [unlock] repository snapshot "
    "snapshot\n"
    "       pk-index --find pattern [--json] [select] [unlock] repository\n"
    "                [snapshot...]\n"
    "select: [--host name]... [--tag tag]... [--path path]...\n"
    "unlock: --passphrase-file file | --key-file file\n";

static const char options_text[] =
    "  --json                   list as JSON\n"
    PK_FILTER_HELP
    "  --check[=data]           check the repository (and read every blob)\n"
    "  --repair=index           re-index packs no index delta names\n"
    "  --repair=snapshots       rewrite snapshots without lost files\n"
    "  --export-cache FILE      write a snapshot's stat cache to FILE\n"
    "  --export-known FILE      write the known-chunk set to FILE\n"
    "  --export-key FILE        write a key file that opens the repository\n"
    "  --diff                   what changed between two snapshots\n"
    "  --find PATTERN           the files whose path or name matches PATTERN\n"
    "  --passphrase-file FILE   read the passphrase from FILE\n"
    "  --key-file FILE          open with the key file FILE\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

/* A name for a terminal: control bytes and backslashes escaped. */
static void
put_name(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\\\", stdout);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			printf("\\%03o", p[i]);
		else
			putchar(p[i]);
	}
}

static const char *
human(uint64_t n, char buf[16])
{
	static const char units[] = "BKMGTPE";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 16, u ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

static void
list_snapshot_text(const struct pk_snapshot *s)
{
	char id[PK_SNAPSHOT_NAME_BYTES], b1[16], b2[16];
	uint32_t i;

	pk_hex(id, s->id, sizeof s->id);
	printf("%.12s  ", id);
	pk_put_time(s->start_sec, s->start_nsec, 0);
	printf("  %-12s %8" PRIu64 " %8s %8s ", s->host ? s->host : "-",
	    s->files, human(s->bytes, b1), human(s->stored, b2));
	for (i = 0; i < s->npaths; i++)
		printf("%s%s", i ? "," : "", s->paths[i]);
	for (i = 0; i < s->ntags; i++)
		printf("%s%s", i ? "," : " [", s->tags[i]);
	printf("%s%s\n", s->ntags ? "]" : "",
	    s->errors ? " (incomplete: files could not be read)" : "");
}

/* The newest snapshot this user has seen in the repository (pk-repo(5)
 * "Rollback"), read before the snapshots are listed: one that a backup
 * commits and notes meanwhile is then not taken for gone. */
struct seen {
	char path[4096], place[PATH_MAX];
	struct pk_newest newest;
	int have;
};

static void
newest_seen(const char *repo, struct seen *s)
{
	int e;

	pk_newest_file(repo, s->path, sizeof s->path, s->place);
	if ((e = pk_newest_read(s->path, s->place, &s->newest)) < 0 &&
	    e != -ENOENT)
		pk_warn("%s", pk_errmsg(e));
	pk_err_clear();
	s->have = e == 0;
}

/*
 * Compares the repository's snapshots with the newest seen: 1, after saying
 * so, when that snapshot is gone and no newer one is there; else 0, after
 * moving the record forward.
 */
static int
newest_gone(const struct seen *s, const struct pk_snapshot *list, size_t n)
{
	const struct pk_newest *seen = &s->newest;
	struct pk_newest now;
	char id[2 * PK_SNAPSHOT_ID_BYTES + 1], when[32];
	time_t t;
	struct tm tm;
	int e;

	if (s->have && !pk_newest_present(seen, list, n)) {
		pk_hex(id, seen->id, sizeof seen->id);
		t = (time_t)seen->sec;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
			snprintf(when, sizeof when, "%" PRId64 " s", seen->sec);
		pk_warn("snapshot %.12s (ended %s), the newest seen here, is gone "
		    "and no newer snapshot is in the repository: snapshots were "
		    "removed, or an older copy of the repository put back (if it "
		    "was forgotten on purpose, delete %s)", id, when, s->path);
		return 1;
	}
	if (n) {
		pk_newest_of(list, n, &now);
		if ((e = pk_newest_note(s->path, s->place, &now)) < 0)
			pk_warn("%s", pk_errmsg(e));
	}
	return 0;
}

static int
list_snapshots(struct pk_repo *r, const char *repo)
{
	struct pk_snapshot *list;
	struct seen seen;
	size_t n, i, nbad, shown = 0;
	int e, gone;

	newest_seen(repo, &seen);
	if ((e = pk_snapshot_list(r, &list, &n, &nbad)) < 0)
		pk_die_lib(e);
	if (nbad)
		pk_warn("%zu snapshots cannot be read (pk-index --check names them)",
		    nbad);
	if (json)
		putchar('[');
	for (i = 0; i < n; i++) {
		if (!pk_snapshot_filter_match(&only, &list[i]))
			continue;
		if (json)
			printf("%s\n", shown ? "," : "");
		else if (shown == 0)
			printf("%-12s  %-19s  %-12s %8s %8s %8s paths\n", "id",
			    "time", "host", "files", "size", "stored");
		shown++;
		json ? pk_put_snapshot_json(&list[i]) : list_snapshot_text(&list[i]);
	}
	if (json)
		printf("]\n");
	gone = newest_gone(&seen, list, n);
	pk_snapshot_list_free(list, n);
	return nbad || gone ? PK_EXIT_FAIL : PK_EXIT_OK;
}

static void
mode_string(const struct pk_entry *e, char out[11])
{
	static const char types[] = "?-dlhcbps";
	static const char rwx[] = "rwxrwxrwx";
	int i;

	out[0] = types[e->type <= PK_FT_SOCK ? e->type : 0];
	for (i = 0; i < 9; i++)
		out[1 + i] = e->mode & (0400u >> i) ? rwx[i] : '-';
	if (e->mode & 04000)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (e->mode & 02000)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (e->mode & 01000)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}

static void
entry_text(const struct pk_entry *e)
{
	char mode[11];

	mode_string(e, mode);
	printf("%s ", mode);
	if (e->uname.len)
		put_name(e->uname.p, e->uname.len);
	else
		printf("%" PRIu32, e->uid);
	putchar('/');
	if (e->gname.len)
		put_name(e->gname.p, e->gname.len);
	else
		printf("%" PRIu32, e->gid);
	if (e->type == PK_FT_CHR || e->type == PK_FT_BLK)
		printf(" %5" PRIu32 ",%-5" PRIu32 " ", e->rdev_major, e->rdev_minor);
	else
		printf(" %12" PRIu64 " ", e->size);
	pk_put_time(e->mtime_sec, e->mtime_nsec, 0);
	putchar(' ');
	put_name(e->path.p, e->path.len);
	if (e->type == PK_FT_SYMLINK || e->type == PK_FT_HARDLINK) {
		fputs(e->type == PK_FT_SYMLINK ? " -> " : " link to ", stdout);
		put_name(e->link.p, e->link.len);
	}
	putchar('\n');
}

static void
entry_json(const struct pk_entry *e, int first)
{
	uint32_t i;

	printf("%s{\"path\":", first ? "" : ",\n");
	pk_put_json(e->path.p, e->path.len);
	printf(",\"type\":\"%s\",\"mode\":\"%04" PRIo32 "\",\"uid\":%" PRIu32
	    ",\"gid\":%" PRIu32 ",\"user\":", pk_ftype_name(e->type), e->mode,
	    e->uid, e->gid);
	pk_put_json(e->uname.p, e->uname.len);
	printf(",\"group\":");
	pk_put_json(e->gname.p, e->gname.len);
	printf(",\"size\":%" PRIu64 ",\"mtime\":", e->size);
	pk_put_time(e->mtime_sec, e->mtime_nsec, 1);
	if (e->link.len) {
		printf(",\"link\":");
		pk_put_json(e->link.p, e->link.len);
	}
	if (e->type == PK_FT_CHR || e->type == PK_FT_BLK)
		printf(",\"rdev\":[%" PRIu32 ",%" PRIu32 "]", e->rdev_major,
		    e->rdev_minor);
	if (e->nxattrs) {
		printf(",\"xattrs\":[");
		for (i = 0; i < e->nxattrs; i++) {
			if (i)
				putchar(',');
			pk_put_json(e->xattrs[i].name.p, e->xattrs[i].name.len);
		}
		putchar(']');
	}
	putchar('}');
}

static void
error_out(const struct pk_record *rec, int first)
{
	const uint8_t *path, *msg;
	size_t plen, mlen;
	int errnum;

	if (pk_record_error(rec, &errnum, &path, &plen, &msg, &mlen) < 0)
		return;
	if (json) {
		printf("%s{\"path\":", first ? "" : ",\n");
		pk_put_json(path, plen);
		printf(",\"error\":");
		pk_put_json(msg, mlen);
		putchar('}');
		return;
	}
	printf("?????????? ");
	put_name(path, plen);
	printf(" (not backed up: ");
	put_name(msg, mlen);
	printf(")\n");
}

static int
list_entries(struct pk_repo *r, char *arg)
{
	struct pk_buf xbuf = PK_BUF_INIT;
	struct pk_stream_header h;
	struct pk_snapshot snap;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_entry e;
	struct pk_index ix;
	char *sel = strchr(arg, ':');
	int n = 0, in = 0, seen = 0;

	if (sel) {
		*sel++ = '\0';
		while (*sel == '/')
			sel++;
		if (*sel == '\0')
			sel = NULL;
		else if (sel[strlen(sel) - 1] == '/')
			sel[strlen(sel) - 1] = '\0';
	}
	if ((n = pk_snapshot_select(r, arg, &only, &snap)) < 0 ||
	    (n = pk_index_open(&ix, r)) < 0 ||
	    (n = pk_catalog_open(&cat, r, &ix, &snap, &h)) < 0)
		pk_die_lib(n);
	if (json)
		putchar('[');
	if (sel)
		n = pk_catalog_select(cat, (const uint8_t *)sel, strlen(sel));
	while (n >= 0 && (n = pk_catalog_next(cat, &rec)) > 0) {
		if (rec.type == PK_REC_ENTRY) {
			if ((n = pk_entry_decode(&e, rec.data, rec.len, &xbuf)) < 0)
				pk_die(PK_EXIT_FAIL, "catalog: %s", pk_errmsg(n));
			in = sel == NULL || pk_path_under(e.path.p, e.path.len,
			    (const uint8_t *)sel, strlen(sel));
			if (!in && seen)
				break;
			if (!in)
				continue;
			json ? entry_json(&e, !seen) : entry_text(&e);
			seen = 1;
		} else if (rec.type == PK_REC_ERROR && (in || sel == NULL)) {
			error_out(&rec, !seen);
			seen = 1;
		}
	}
	if (n < 0)
		pk_die_lib(n);
	if (json)
		printf("]\n");
	pk_catalog_close(cat);
	pk_index_close(&ix);
	pk_snapshot_release(&snap);
	pk_buf_release(&xbuf);
	if (!seen && sel)
		pk_die(PK_EXIT_FAIL, "%s: not in the snapshot", sel);
	return PK_EXIT_OK;
}

static void
say_problem(void *arg, const char *msg)
{
	pk_warn("%s", msg);
}

static int
check(struct pk_repo *r, const char *repo, int data)
{
	struct pk_check_options o = { .data = data, .problem = say_problem,
	    .note = say_problem };
	struct pk_check_result res;
	struct pk_snapshot *list;
	struct seen seen;
	size_t n;
	int e;

	if ((e = pk_check(r, &o, &res)) < 0)
		pk_die_lib(e);
	newest_seen(repo, &seen);
	if ((e = pk_snapshot_list(r, &list, &n, NULL)) < 0)
		pk_die_lib(e);
	res.problems += (uint64_t)newest_gone(&seen, list, n);
	pk_snapshot_list_free(list, n);
	printf("%" PRIu64 " snapshots, %" PRIu64 " index deltas, %" PRIu64
	    " packs, %" PRIu64 " blobs, %" PRIu64 " references", res.snapshots,
	    res.deltas, res.packs, res.blobs, res.refs);
	if (data)
		printf(", %" PRIu64 " blobs read (%" PRIu64 " bytes)",
		    res.blobs_read, res.bytes_read);
	printf(": %s\n", res.problems ? "PROBLEMS FOUND" : "ok");
	if (res.problems)
		pk_warn("%" PRIu64 " problems", res.problems);
	return res.problems ? PK_EXIT_FAIL : PK_EXIT_OK;
}

static void
say_line(void *arg, const char *line)
{
	pk_warn("%s", line);
}

static int
repair_index(struct pk_repo *r)
{
	struct pk_repair_index_options o = { .say = say_line };
	struct pk_repair_index_report rep;
	int e;

	if ((e = pk_repair_index(r, &o, &rep)) < 0)
		pk_die_lib(e);
	printf("%" PRIu64 " index deltas, %" PRIu64 " damaged and %" PRIu64
	    " removed; %" PRIu64 " packs, %" PRIu64 " that no delta named: %"
	    PRIu64 " re-indexed (%" PRIu64 " copied out of a pk-gc mark), %"
	    PRIu64 " lost; ", rep.deltas, rep.damaged_deltas,
	    rep.removed_deltas, rep.packs, rep.orphan_packs,
	    rep.reindexed_packs, rep.copied_packs, rep.lost_packs);
	if (rep.delta[0])
		printf("%" PRIu64 " blobs in index/%s\n", rep.blobs, rep.delta);
	else
		printf("no delta written\n");
	if (rep.lost_packs) {
		pk_warn("%" PRIu64 " packs lost: pk-index --check=data names the "
		    "files whose chunks they held, and --repair=snapshots "
		    "leaves them out", rep.lost_packs);
		return PK_EXIT_FAIL;
	}
	return PK_EXIT_OK;
}

static void
say_out(void *arg, const char *line)
{
	printf("%s\n", line);
}

static int
repair_snapshots(struct pk_repo *r)
{
	struct pk_repair_snapshots_options o = { .level = PK_LEVEL_DEFAULT,
	    .repaired = say_out, .problem = say_line };
	struct pk_repair_snapshots_report rep;
	int e;

	if ((e = pk_repair_snapshots(r, &o, &rep)) < 0)
		pk_die_lib(e);
	printf("%" PRIu64 " snapshots, %" PRIu64 " with damaged files: %"
	    PRIu64 " repaired, leaving out %" PRIu64 " files\n", rep.snapshots,
	    rep.damaged, rep.repaired, rep.left_out);
	if (rep.failed)
		pk_warn("%" PRIu64 " snapshots with damaged files could not be "
		    "repaired (named above)", rep.failed);
	if (rep.unreadable)
		pk_warn("%" PRIu64 " snapshots cannot be read whole (named "
		    "above): no repair can list their files; forget them",
		    rep.unreadable);
	return rep.failed || rep.unreadable ? PK_EXIT_FAIL : PK_EXIT_OK;
}

static int
export_cache(struct pk_repo *r, const char *sel, const char *path)
{
	struct pk_snapshot snap;
	struct pk_index ix;
	int e;

	if ((e = pk_snapshot_select(r, sel, &only, &snap)) < 0 ||
	    (e = pk_index_open(&ix, r)) < 0 ||
	    (e = pk_export_statcache(r, &ix, &snap, path)) < 0)
		pk_die_lib(e);
	pk_index_close(&ix);
	pk_snapshot_release(&snap);
	return PK_EXIT_OK;
}

/* The chunks of one snapshot, or of all, into a known-chunk set. */
static int
export_known(struct pk_repo *r, const char *sel, const char *path)
{
	struct pk_snapshot snap, *list = NULL;
	struct pk_index ix;
	size_t n = 0, i;
	int e;

	if ((e = pk_index_open(&ix, r)) < 0)
		pk_die_lib(e);
	if (sel) {
		if ((e = pk_snapshot_select(r, sel, &only, &snap)) < 0 ||
		    (e = pk_export_known(r, &ix, &snap, path)) < 0)
			pk_die_lib(e);
		pk_snapshot_release(&snap);
	} else {
		if ((e = pk_snapshot_list(r, &list, &n, NULL)) < 0)
			pk_die_lib(e);
		for (i = 0; i < n; i++)
			if (pk_snapshot_filter_match(&only, &list[i]) &&
			    (e = pk_export_known(r, &ix, &list[i], path)) < 0)
				pk_die_lib(e);
		pk_snapshot_list_free(list, n);
	}
	pk_index_close(&ix);
	return PK_EXIT_OK;
}

/* Adds a key file to the repository, as pk-key add --key-file does. */
static int
export_key(const char *path, const char *passfile, const char *file)
{
	struct pk_repo *r = pk_open_repo(path, passfile, NULL);
	int e = pk_keyring_add_file(r, file, NULL);

	pk_repo_close(r);
	if (e < 0)
		pk_die_lib(e);
	return PK_EXIT_OK;
}

/* What pk-index does: one verb, set by at most one option. */
/* What changed from snapshot old to snapshot new. */
/* The PK_DIFF_MODE ... bits in order. */
static const char *const diff_names[] = { "mode", "owner", "mtime", "xattrs",
    "target", "device", "link" };

static const char *
change_name(enum pk_diff_kind k)
{
	switch (k) {
	case PK_DIFF_ADDED: return "added";
	case PK_DIFF_REMOVED: return "removed";
	case PK_DIFF_TYPE: return "type";
	case PK_DIFF_CONTENT: return "content";
	case PK_DIFF_METADATA: return "metadata";
	case PK_DIFF_ERROR: return "unreadable";
	}
	return "?";
}

static int
diff_out(void *arg, const struct pk_diff_change *c)
{
	const struct pk_entry *e = c->new ? c->new : c->old;
	int *first = arg;
	size_t i, n = 0;

	if (json) {
		printf("%s{\"path\":", *first ? "" : ",\n");
		pk_put_json(c->path, c->pathlen);
		printf(",\"change\":\"%s\"", change_name(c->kind));
		if (c->old)
			printf(",\"old_type\":\"%s\"", pk_ftype_name(c->old->type));
		if (c->new)
			printf(",\"new_type\":\"%s\"", pk_ftype_name(c->new->type));
		printf(",\"what\":[");
		for (i = 0; i < sizeof diff_names / sizeof *diff_names; i++)
			if (c->what & (1u << i))
				printf("%s\"%s\"", n++ ? "," : "", diff_names[i]);
		putchar(']');
		if (c->error) {
			printf(",\"error\":");
			pk_put_json(c->error, c->errorlen);
		}
		putchar('}');
	} else {
		printf("%c  ", c->kind);
		put_name(c->path, c->pathlen);
		if (e && e->type == PK_FT_DIR && !(c->pathlen == 1 &&
		    c->path[0] == '.'))
			putchar('/');
		for (i = 0; i < sizeof diff_names / sizeof *diff_names; i++)
			if (c->what & (1u << i))
				printf("%s%s", n++ ? ", " : " (", diff_names[i]);
		if (c->error) {
			printf(" (not read in the %s snapshot: ",
			    c->new ? "old" : "new");
			put_name(c->error, c->errorlen);
		}
		printf("%s\n", n || c->error ? ")" : "");
	}
	*first = 0;
	return 0;
}

static int
diff(struct pk_repo *r, char *from, char *to)
{
	struct pk_snapshot a, b;
	struct pk_index ix;
	int e, first = 1;

	if ((e = pk_snapshot_select(r, from, &only, &a)) < 0 ||
	    (e = pk_snapshot_select(r, to, &only, &b)) < 0 ||
	    (e = pk_index_open(&ix, r)) < 0)
		pk_die_lib(e);
	if (json)
		putchar('[');
	if ((e = pk_diff(r, &ix, &a, &b, diff_out, &first, NULL)) < 0)
		pk_die_lib(e);
	if (json)
		printf("]\n");
	pk_index_close(&ix);
	pk_snapshot_release(&a);
	pk_snapshot_release(&b);
	return PK_EXIT_OK;
}

/* The entries of snapshot s whose path or name matches pattern; their
 * count. */
static uint64_t
find_in(struct pk_repo *r, const struct pk_index *ix,
    const struct pk_snapshot *s, const char *pattern, uint64_t *shown)
{
	struct pk_buf xbuf = PK_BUF_INIT, path = PK_BUF_INIT;
	char id[PK_SNAPSHOT_NAME_BYTES];
	struct pk_stream_header h;
	struct pk_catalog *cat;
	struct pk_record rec;
	struct pk_entry e;
	const char *base;
	uint64_t found = 0;
	int n;

	pk_hex(id, s->id, sizeof s->id);
	if ((n = pk_catalog_open(&cat, r, ix, s, &h)) < 0)
		pk_die_lib(n);
	while ((n = pk_catalog_next(cat, &rec)) > 0) {
		if (rec.type != PK_REC_ENTRY)
			continue;
		if ((n = pk_entry_decode(&e, rec.data, rec.len, &xbuf)) < 0)
			break;
		pk_buf_reset(&path);
		if (pk_buf_add(&path, e.path.p, e.path.len) < 0 ||
		    pk_buf_add(&path, "", 1) < 0) {
			n = -ENOMEM;
			break;
		}
		base = strrchr((char *)path.data, '/');
		base = base ? base + 1 : (char *)path.data;
		if (fnmatch(pattern, (char *)path.data, 0) != 0 &&
		    fnmatch(pattern, base, 0) != 0)
			continue;
		if (json) {
			printf("%s{\"snapshot\":\"%s\",\"time\":", (*shown)++ ?
			    ",\n" : "", id);
			pk_put_time(s->start_sec, s->start_nsec, 1);
			printf(",\"host\":");
			pk_put_jsonz(s->host ? s->host : "");
			printf(",\"entry\":");
			entry_json(&e, 1);
			putchar('}');
		} else {
			if (found == 0) {
				printf("%s%.12s  ", (*shown)++ ? "\n" : "", id);
				pk_put_time(s->start_sec, s->start_nsec, 0);
				printf("  %s\n", s->host ? s->host : "-");
			}
			entry_text(&e);
		}
		found++;
	}
	if (n < 0)
		pk_die(PK_EXIT_FAIL, "snapshot %.12s: %s", id, pk_errmsg(n));
	pk_catalog_close(cat);
	pk_buf_release(&xbuf);
	pk_buf_release(&path);
	return found;
}

/* The snapshots named, or those that pass the filters, newest first. */
static int
find(struct pk_repo *r, const char *pattern, char **sel, int nsel)
{
	struct pk_snapshot *list = NULL, one;
	struct pk_index ix;
	uint64_t shown = 0, found = 0;
	size_t n = 0, i;
	int e;

	if ((e = pk_index_open(&ix, r)) < 0)
		pk_die_lib(e);
	if (json)
		putchar('[');
	if (nsel == 0 && (e = pk_snapshot_list(r, &list, &n, NULL)) < 0)
		pk_die_lib(e);
	for (i = n; i-- > 0;)
		if (pk_snapshot_filter_match(&only, &list[i]))
			found += find_in(r, &ix, &list[i], pattern, &shown);
	for (i = 0; i < (size_t)nsel; i++) {
		if ((e = pk_snapshot_select(r, sel[i], &only, &one)) < 0)
			pk_die_lib(e);
		found += find_in(r, &ix, &one, pattern, &shown);
		pk_snapshot_release(&one);
	}
	if (json)
		printf("]\n");
	pk_snapshot_list_free(list, n);
	pk_index_close(&ix);
	return found ? PK_EXIT_OK : PK_EXIT_FAIL;
}

enum verb { LIST, CHECK, CHECK_DATA, EXPORT_CACHE, EXPORT_KNOWN, EXPORT_KEY,
    REPAIR_INDEX, REPAIR_SNAPSHOTS, DIFF, FIND };

static void
set_verb(enum verb *verb, const char **named, enum verb v, const char *opt)
{
	if (*named != NULL)
		pk_usage(usage_text, "%s and %s exclude each other", *named, opt);
	*verb = v;
	*named = opt;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		PK_FILTER_OPTIONS,
		{ "check", optional_argument, NULL, 'c' },
		{ "repair", required_argument, NULL, 'R' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "export-key", required_argument, NULL, 'E' },
		{ "export-cache", required_argument, NULL, 'X' },
		{ "export-known", required_argument, NULL, 'K' },
		{ "diff", no_argument, NULL, 'D' },
		{ "find", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* The operands each verb takes, at least and at most. */
	static const int least[] = { 1, 1, 1, 2, 1, 1, 1, 1, 3, 1 };
	static const int most[] = { 2, 1, 1, 2, 2, 1, 1, 1, 3, INT_MAX };
	enum verb verb = LIST;
	const char *passfile = NULL, *keyfile = NULL, *file = NULL;
	const char *named = NULL;	/* the option that set the verb */
	const char *filtered = NULL;	/* a --host, --tag or --path */
	struct pk_repo *r;
	char *snap;
	int ch, li, n, code;

	pk_tool_init("pk-index");
	pk_filter_init(&only, argc);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'P': passfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		case 'c':
			if (optarg && strcmp(optarg, "data") != 0)
				pk_usage(usage_text, "--check=%s: only 'data' is "
				    "known", optarg);
			set_verb(&verb, &named, optarg ? CHECK_DATA : CHECK,
			    "--check");
			break;
		case 'R':
			if (strcmp(optarg, "index") != 0 &&
			    strcmp(optarg, "snapshots") != 0)
				pk_usage(usage_text, "--repair=%s: 'index' or "
				    "'snapshots'", optarg);
			set_verb(&verb, &named, optarg[0] == 'i' ? REPAIR_INDEX :
			    REPAIR_SNAPSHOTS, "--repair");
			break;
		case 'X':
			set_verb(&verb, &named, EXPORT_CACHE, "--export-cache");
			file = optarg;
			break;
		case 'K':
			set_verb(&verb, &named, EXPORT_KNOWN, "--export-known");
			file = optarg;
			break;
		case 'E':
			set_verb(&verb, &named, EXPORT_KEY, "--export-key");
			file = optarg;
			break;
		case 'D':
			set_verb(&verb, &named, DIFF, "--diff");
			break;
		case 'F':
			set_verb(&verb, &named, FIND, "--find");
			file = optarg;	/* the pattern */
			break;
		default:
			if (!pk_filter_option(&only, ch, optarg))
				pk_usage(usage_text, PK_BAD_OPTION,
				    argv[optind - 1]);
			filtered = opts[li].name;
		}
	}
	n = argc - optind;
	if (n < least[verb])
		pk_usage(usage_text, n == 0 ? "no repository named" :
		    verb == DIFF ? "--diff compares two snapshots" :
		    "no snapshot named");
	if (n > most[verb])
		pk_usage(usage_text, "%s: extra operand", argv[optind + most[verb]]);
	if (json && verb != LIST && verb != DIFF && verb != FIND)
		pk_usage(usage_text, "--json goes with listing, --diff and "
		    "--find only");
	if (filtered && verb != LIST && verb != EXPORT_CACHE &&
	    verb != EXPORT_KNOWN && verb != DIFF && verb != FIND)
		pk_usage(usage_text, "--%s goes with listing, exports, --diff "
		    "and --find only", filtered);
	if (verb == EXPORT_KEY) {
		if (keyfile)
			pk_usage(usage_text, "--export-key takes the passphrase, "
			    "not a key file");
		return export_key(argv[optind], passfile, file);
	}
	r = pk_open_repo(argv[optind], passfile, keyfile);
	snap = n == 2 ? argv[optind + 1] : NULL;
	switch (verb) {
	case CHECK: code = check(r, argv[optind], 0); break;
	case CHECK_DATA: code = check(r, argv[optind], 1); break;
	case REPAIR_INDEX: code = repair_index(r); break;
	case REPAIR_SNAPSHOTS: code = repair_snapshots(r); break;
	case EXPORT_CACHE: code = export_cache(r, snap, file); break;
	case EXPORT_KNOWN: code = export_known(r, snap, file); break;
	case DIFF: code = diff(r, argv[optind + 1], argv[optind + 2]); break;
	case FIND: code = find(r, file, argv + optind + 1, n - 1); break;
	default:
		code = snap ? list_entries(r, snap) :
		    list_snapshots(r, argv[optind]);
	}
	pk_repo_close(r);
	if (fflush(stdout) != 0)
		return PK_EXIT_FAIL;
	return code;
}
