/* pk-mount: every snapshot of a repository as a read-only file system. */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "common.h"
#include "pk.h"
#include "unlock.h"

static const char usage_text[] =
    "usage: pk-mount [-f] [-o options] [--passphrase-file file | --key-file file]\n"
    "                repository mountpoint\n";

static const char options_text[] =
    "  -f                       stay in the foreground\n"
    "  -o OPTIONS               mount options, comma-separated: cache_size=N,\n"
    "                           readahead=N and those of mount.fuse3(8)\n"
    "  --passphrase-file FILE   read the passphrase from FILE\n"
    "  --key-file FILE          open with the key file FILE\n"
    "  -h, --help               print this help\n"
    "  --version                print the version\n";

static int foreground;

static struct pk_mount *
mnt(void)
{
	return fuse_get_context()->private_data;
}

/* A file that cannot be read: one line, on stderr in the foreground, to
 * syslog once detached. */
static void
warn_file(void *arg, const char *path, const char *msg)
{
	if (foreground)
		pk_warn("%s: %s", path, msg);
	else
		syslog(LOG_ERR, "%s: %s", path, msg);
}

static void *
fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct pk_mount *m = mnt();

	cfg->use_ino = 1;
	cfg->readdir_ino = 1;
	/* Files never change, but latest/ moves: the kernel keeps a file's
	 * pages while its mtime and size do not change. */
	cfg->auto_cache = 1;
	cfg->entry_timeout = cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 0;
	pk_mount_start(m);
	return m;
}

static int
fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	return pk_mount_getattr(mnt(), path, st);
}

static int
fs_readlink(const char *path, char *buf, size_t n)
{
	return pk_mount_readlink(mnt(), path, buf, n);
}

static int
fs_open(const char *path, struct fuse_file_info *fi)
{
	struct pk_mount_file *f;
	int e;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	if ((e = pk_mount_open(mnt(), path, &f)) < 0)
		return e;
	fi->fh = (uint64_t)(uintptr_t)f;
	return 0;
}

static int
fs_read(const char *path, char *buf, size_t n, off_t off,
    struct fuse_file_info *fi)
{
	struct pk_mount_file *f = (struct pk_mount_file *)(uintptr_t)fi->fh;

	return (int)pk_mount_read(mnt(), f, buf, n, (uint64_t)off);
}

static off_t
fs_lseek(const char *path, off_t off, int whence, struct fuse_file_info *fi)
{
	struct pk_mount_file *f = (struct pk_mount_file *)(uintptr_t)fi->fh;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	return (off_t)pk_mount_seek(f, (int64_t)off, whence);
}

static int
fs_release(const char *path, struct fuse_file_info *fi)
{
	pk_mount_close(mnt(), (struct pk_mount_file *)(uintptr_t)fi->fh);
	return 0;
}

struct filling {
	void *buf;
	fuse_fill_dir_t fill;
	int plus;		/* the kernel takes attributes with names */
};

static int
fill(void *arg, const char *name, const struct stat *st, int full)
{
	struct filling *fl = arg;

	return fl->fill(fl->buf, name, st, 0, full && fl->plus ?
	    FUSE_FILL_DIR_PLUS : 0);
}

static int
fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct filling fl = { buf, filler, (flags & FUSE_READDIR_PLUS) != 0 };

	if (filler(buf, ".", NULL, 0, 0) || filler(buf, "..", NULL, 0, 0))
		return -ENOMEM;
	return pk_mount_readdir(mnt(), path, fill, &fl);
}

static int
fs_getxattr(const char *path, const char *name, char *buf, size_t n)
{
	return pk_mount_getxattr(mnt(), path, name, buf, n);
}

static int
fs_listxattr(const char *path, char *buf, size_t n)
{
	return pk_mount_listxattr(mnt(), path, buf, n);
}

static const struct fuse_operations ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readlink = fs_readlink,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
	.readdir = fs_readdir,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
	.lseek = fs_lseek,
};

/* A size with an optional K, M or G suffix (powers of 1024). */
static size_t
parse_size(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'G': v <<= 10; /* FALLTHROUGH */
	case 'M': v <<= 10; /* FALLTHROUGH */
	case 'K': v <<= 10; end++; break;
	}
	if (errno || end == s || *end != '\0' || v < (1u << 20) ||
	    v > (1ull << 40))
		pk_usage(usage_text, "%s: not a size from 1M to 1T", opt);
	return (size_t)v;
}

/* Takes pk-mount's own options out of an -o list; the rest, for FUSE, is
 * added to fopts. */
static void
parse_o(char *list, struct pk_mount_options *mo, char *fopts, size_t n)
{
	char *o, *save = NULL;

	for (o = strtok_r(list, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (strncmp(o, "cache_size=", 11) == 0) {
			mo->cache_bytes = parse_size(o, o + 11);
		} else if (strncmp(o, "readahead=", 10) == 0) {
			char *end;
			long v = strtol(o + 10, &end, 10);

			if (end == o + 10 || *end != '\0' || v < 0 || v > 64)
				pk_usage(usage_text, "%s: not a count of "
				    "threads from 0 to 64", o);
			mo->readahead = (int)v;
		} else {
			size_t l = strlen(fopts);

			if ((size_t)snprintf(fopts + l, n - l, ",%s", o) >= n - l)
				pk_usage(usage_text, "%s: too many options", o);
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct pk_mount_options mo = { .readahead = 2, .warn = warn_file };
	/* Read-only, and the kernel checks each file's mode and owner. */
	char fopts[4096] = "ro,default_permissions,fsname=pk,subtype=pk";
	const char *passfile = NULL, *keyfile = NULL;
	char place[PATH_MAX], point[PATH_MAX];
	struct fuse_loop_config lc = { .clone_fd = 0, .max_idle_threads = 10 };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct pk_mount *m;
	struct pk_repo *repo;
	struct fuse *fuse;
	struct stat st;
	int ch, e;

	pk_tool_init("pk-mount");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "fho:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': foreground = 1; break;
		case 'o': parse_o(optarg, &mo, fopts, sizeof fopts); break;
		case 'P': passfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		default:
			pk_usage(usage_text, PK_BAD_OPTION, argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		pk_usage(usage_text, argc == optind ? "no repository named" :
		    "no mount point named");
	if (argc - optind > 2)
		pk_usage(usage_text, "%s: extra operand", argv[optind + 2]);
	/* Detached, the daemon works from "/". */
	if (stat(argv[optind + 1], &st) < 0 || realpath(argv[optind + 1],
	    point) == NULL)
		pk_die(PK_EXIT_FAIL, "%s: %s", argv[optind + 1], strerror(errno));
	if (!S_ISDIR(st.st_mode))
		pk_die(PK_EXIT_FAIL, "%s: %s", argv[optind + 1],
		    strerror(ENOTDIR));
	if (pk_storage_is_remote(argv[optind]))
		snprintf(place, sizeof place, "%s", argv[optind]);
	else if (realpath(argv[optind], place) == NULL)
		pk_die(PK_EXIT_FAIL, "%s: %s", argv[optind], strerror(errno));
	mo.uid = getuid();
	mo.gid = getgid();
	mo.arg = NULL;
	/* The passphrase is asked here, on the terminal, before detaching. */
	repo = pk_open_repo(place, passfile, keyfile);
	if ((e = pk_mount_new(&m, repo, &mo)) < 0)
		pk_die_lib(e);

	if (fuse_opt_add_arg(&args, "pk-mount") < 0 ||
	    fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, fopts) < 0)
		pk_die(PK_EXIT_FAIL, "%s", strerror(ENOMEM));
	if ((fuse = fuse_new(&args, &ops, sizeof ops, m)) == NULL)
		pk_die(PK_EXIT_FAIL, "%s: cannot set up the file system",
		    argv[optind + 1]);
	if (fuse_mount(fuse, point) < 0)
		pk_die(PK_EXIT_FAIL, "%s: cannot mount", argv[optind + 1]);
	if (!foreground)
		openlog("pk-mount", LOG_PID, LOG_USER);
	if (fuse_daemonize(foreground) < 0 ||
	    fuse_set_signal_handlers(fuse_get_session(fuse)) < 0) {
		fuse_unmount(fuse);
		pk_die(PK_EXIT_FAIL, "%s: cannot serve the file system",
		    argv[optind + 1]);
	}
	e = fuse_loop_mt(fuse, &lc);
	fuse_remove_signal_handlers(fuse_get_session(fuse));
	fuse_unmount(fuse);
	fuse_destroy(fuse);
	fuse_opt_free_args(&args);
	pk_mount_free(m);
	pk_repo_close(repo);
	if (e < 0 && foreground)
		pk_warn("%s: %s", point, strerror(-e));
	return e < 0 ? PK_EXIT_FAIL : PK_EXIT_OK;
}
