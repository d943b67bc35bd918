# lib.sh: shared helpers for the shell tests.  Source it first:
#   . "$PK_TOP/tests/lib.sh"
# Each test gets its own scratch directory ($S), the built tools on PATH,
# a fixed passphrase, and a cache directory inside $S.  Nothing is written
# outside $S.
set -u
: "${PK_TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
T=$(basename "$0" .sh)
S=$PK_TOP/tests/scratch/$T
rm -rf "$S"
mkdir -p "$S"
PATH=$PK_TOP/bin:$PATH
PK_PASSPHRASE="correct horse battery staple"
XDG_CACHE_HOME=$S/cache
HOME=$S/home
mkdir -p "$HOME"
export PATH PK_PASSPHRASE XDG_CACHE_HOME HOME
cd "$S" || exit 1

# ok NAME COMMAND...: runs COMMAND, one result line.
ok() {
	_name=$1; shift
	if ( "$@" ) >"$S/.out" 2>&1; then
		echo "ok - $T: $_name"
	else
		echo "not ok - $T: $_name"
		sed 's/^/#   /' "$S/.out" | tail -n 20
	fi
}

# fails NAME COMMAND...: passes when COMMAND exits non-zero.
fails() {
	_name=$1; shift
	if ( "$@" ) >"$S/.out" 2>&1; then
		echo "not ok - $T: $_name (should have failed)"
		sed 's/^/#   /' "$S/.out" | tail -n 20
	else
		echo "ok - $T: $_name"
	fi
}

# skip NAME REASON
skip() {
	echo "skip - $T: $1 ($2)"
}

# cache_dir REPO [HOST]: the directory of REPO's default stat cache and
# known-chunk set for the backups of HOST (this machine).
cache_dir() {
	echo "$XDG_CACHE_HOME/pk/$(awk '$1 == "id" { print $2 }' "$1/config")/${2:-$(hostname)}"
}

# gen_file PATH BYTES SEED: deterministic pseudo-random bytes.
gen_file() {
	"$PK_TOP/tests/gen" "$2" "$3" >"$1"
}

# A pipeline's exit codes: fail when any stage failed.
pipeline_ok() {
	bash -o pipefail -c "$*"
}

# --- Helpers of the pipeline tests t0200-t0899 (appended).

# tree_list DIR: one sorted line per file under DIR: path, type, mode,
# owner, size and link count (not for directories: the file system's),
# mtime in ns, link target.  Newlines in names are shown as '\n'.  With
# MAXPATH set, directories with a longer path are left out; with MAXFILE
# set, other files too.
tree_list() {
	( cd "$1" && {
		find . ! -type d -printf '%p\t%y %m %U:%G %s %n %T@ %l\0' |
		    tree_maxlen "${MAXFILE:-0}"
		find . -type d -printf '%p\t%y %m %U:%G %T@\0' |
		    tree_maxlen "${MAXPATH:-0}"
	} | awk 'BEGIN { RS = "\0" } { gsub("\n", "\\n"); print }' |
	    LC_ALL=C sort )
}

# tree_maxlen N: the NUL-terminated lines of stdin whose path (up to a tab)
# is at most N bytes long; all of them when N is 0.
tree_maxlen() {
	LC_ALL=C awk -v max="$1" 'BEGIN { RS = ORS = "\0" }
	    { p = $0; sub("\t.*", "", p) } max == 0 || length(p) <= max'
}

# tree_sums DIR: the sha256 of every regular file under DIR (MAXFILE as
# for tree_list), sorted by path.  Files beyond PATH_MAX are read from
# their directory.
tree_sums() {
	( cd "$1" && find . -type f -print0 | tree_maxlen 4000 |
	    tree_maxlen "${MAXFILE:-0}" | LC_ALL=C sort -z |
	    xargs -0 -r sha256sum --
	find . -type f -regextype posix-extended -regex '.{4001,}' \
	    -execdir sha256sum {} \; -printf '%p\0' | tree_maxlen "${MAXFILE:-0}" |
	    tr '\0' '\n' | paste - - | LC_ALL=C sort )
}

# tree_xattrs DIR: every user.* extended attribute under DIR, one a line.
tree_xattrs() {
	( cd "$1" && getfattr -R -h -d -m '^user\.' -e hex . 2>/dev/null |
	    awk '/^# file: / { f = substr($0, 9); next }
	        /=/ { print f " " $0 }' | LC_ALL=C sort )
}

# tree_diff A B: diff of two files, the first lines of it cut short.
tree_diff() {
	diff "$1" "$2" >"$S/.diff" && return 0
	cut -c 1-160 "$S/.diff" | head -n 20
	return 1
}

# same_tree A B: the trees A and B hold the same files with the same
# contents and metadata (tree_list, tree_sums, tree_xattrs); the
# differences are printed.
same_tree() {
	tree_list "$1" >"$S/.list.a" && tree_list "$2" >"$S/.list.b" &&
	    tree_diff "$S/.list.a" "$S/.list.b" || return 1
	tree_sums "$1" >"$S/.sum.a" && tree_sums "$2" >"$S/.sum.b" &&
	    tree_diff "$S/.sum.a" "$S/.sum.b" || return 1
	tree_xattrs "$1" >"$S/.xattr.a" && tree_xattrs "$2" >"$S/.xattr.b" &&
	    tree_diff "$S/.xattr.a" "$S/.xattr.b"
}

# gen_tree DIR: a tree with every kind of file and odd name (t0200, t1300):
# files of many sizes, a sparse one, hard and symbolic links, a fifo, a
# character device (when mknod works: have_dev set), modes, owners, times,
# names with newlines and bytes that are not UTF-8, a path of 4431 bytes
# (its directories' name in long, the chain in chain), and xattrs (when
# the file system has them: have_xattr set).
gen_tree() {
	mkdir -p "$1"/files "$1"/links "$1"/special "$1"/modes "$1"/names "$1"/empty/a/b "$1"/empty/c "$1"/deep
	: >"$1"/files/zero
	printf x >"$1"/files/one
	gen_file "$1"/files/4095 4095 1
	gen_file "$1"/files/1m1 1048577 2
	gen_file "$1"/files/9m 9437184 3
	"$PK_TOP/tests/gen" 3000000 4 text >"$1"/files/text
	truncate -s 100M "$1"/files/sparse
	for off in 0 4000 50000 102399; do
		printf 'data at %s' $off |
		    dd of="$1"/files/sparse bs=1024 seek=$off conv=notrunc 2>/dev/null
	done
	gen_file "$1"/links/h1 5000 5
	ln "$1"/links/h1 "$1"/links/h2
	ln "$1"/links/h1 "$1"/files/h3
	ln -s ../files/one "$1"/links/rel
	ln -s /etc/passwd "$1"/links/abs
	ln -s nowhere/at/all "$1"/links/dangling
	ln -s "$(printf '%0300d' 7)" "$1"/links/long
	mkfifo "$1"/special/fifo
	have_dev=
	if mknod "$1"/special/null c 1 3 2>/dev/null; then
		have_dev=1
	else
		skip "character device" "mknod failed: not root"
	fi
	printf a >"$1"/modes/m0000
	printf b >"$1"/modes/m4755
	printf c >"$1"/modes/m0640
	mkdir "$1"/modes/d1777 "$1"/modes/d0700
	printf nl >"$1/names/$(printf 'new\nline')"
	printf ff >"$1/names/$(printf 'x\377y')"
	printf long >"$1/names/$(printf '%0200d' 1)"
	printf sp >"$1/names/ lead and trail "
	printf utf8 >"$1/names/$(printf 'caf\303\251')"
	# A path of 4431 bytes, more than PATH_MAX: 22 directories of 200-byte
	# names and a file, made as two chains of 11, one moved into the other,
	# as no path given to a system call may be that long.
	long=$(printf '%0200d' 2)
	chain=$long
	for i in 2 3 4 5 6 7 8 9 10 11; do chain=$chain/$long; done
	mkdir -p "$1/deep/$chain" "$1.sub/$chain"
	printf bottom >"$1.sub/$chain/file"
	mv "$1.sub/$long" "$1/deep/$chain/"
	rmdir "$1.sub"
	have_xattr=
	if setfattr -n user.pk -v value "$1"/files/one 2>/dev/null; then
		setfattr -n user.bin -v 0x00ff00 "$1"/files/one
		setfattr -n user.dir -v d "$1"/empty
		setfattr -h -n user.deep -v deep "$1/deep/$chain"
		have_xattr=1
	else
		skip "xattrs" "setfattr failed on this file system"
	fi
	touch -d '2020-01-02 03:04:05.123456789' "$1"/files/text "$1"/empty/a/b
	touch -h -d '2019-05-06 07:08:09.987654321' "$1"/links/rel
	chown 1234:2345 "$1"/files/4095 "$1"/modes/d0700
	chown -h 1234:2345 "$1"/links/abs
	chmod 0000 "$1"/modes/m0000
	chmod 4755 "$1"/modes/m4755
	chmod 0640 "$1"/modes/m0640
	chmod 1777 "$1"/modes/d1777
	chmod 0700 "$1"/modes/d0700
}

# gen_dirs DIR N M: N directories DIR/d00 … of M small files f0000 … each
# (a catalog of many chunks: 40 of 150 make about 1 MB).
gen_dirs() {
	awk -v top="$1" -v n="$2" -v m="$3" 'BEGIN {
		for (d = 0; d < n; d++) {
			dir = sprintf("%s/d%02d", top, d)
			system("mkdir -p \"" dir "\"")
			for (f = 0; f < m; f++) {
				p = sprintf("%s/f%04d", dir, f)
				printf "file %d of %s\n", f, dir > p
				close(p)
			}
		}
	}'
}

# backup REPO PATH...: pk-walk PATH... | pk-chunk | pk-dedup | pk-store
# REPO; the snapshot id in $S/id.  Fails, saying which, when a stage fails.
backup() {
	_r=$1; shift
	{ pk-walk "$@"; echo $? >"$S/.st.walk"; } |
	    { pk-chunk; echo $? >"$S/.st.chunk"; } |
	    { pk-dedup; echo $? >"$S/.st.dedup"; } |
	    pk-store "$_r" >"$S/id" || { echo "pk-store: exit $?"; return 1; }
	for _s in walk chunk dedup; do
		[ "$(cat "$S/.st.$_s")" = 0 ] ||
		    { echo "pk-$_s: exit $(cat "$S/.st.$_s")"; return 1; }
	done
	grep -Eqx '[0-9a-f]{64}' "$S/id"
}

# only FILE PATTERN...: FILE has no line but those matching a PATTERN
# (basic regular expressions); the others are shown, cut short.
only() {
	_f=$1; shift
	printf '%s\n' "$@" >"$S/.patterns"
	! grep -v -f "$S/.patterns" "$_f" | cut -c 1-160 | grep .
}

# status_of N COMMAND...: COMMAND exits with N (its output in $S/.so and
# $S/.se for a later look).
status_of() {
	_want=$1; shift
	"$@" >"$S/.so" 2>"$S/.se"
	_got=$?
	[ "$_got" -eq "$_want" ] && return 0
	echo "exit $_got, want $_want"
	cut -c 1-160 "$S/.se" | head -n 5
	return 1
}

# restore REPO SNAPSHOT DIR: pk-cat REPO SNAPSHOT | GNU tar -x into DIR
# (made); fails, saying why, unless both exit 0 and tar says nothing but
# its warning about the pax keyword hdrcharset (names that are not UTF-8).
restore() {
	mkdir -p "$3" || return 1
	{ pk-cat "$1" "$2" 2>"$S/.cat.err"; echo $? >"$S/.st.cat"; } |
	    tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C "$3" \
	    2>"$S/.tar.err"
	_st=$?
	[ "$(cat "$S/.st.cat")" = 0 ] ||
	    { echo "pk-cat: exit $(cat "$S/.st.cat")"; head -n 5 "$S/.cat.err"; return 1; }
	[ "$_st" = 0 ] ||
	    { echo "tar: exit $_st"; cut -c 1-160 "$S/.tar.err" | head -n 5; return 1; }
	only "$S/.tar.err" "unknown extended header keyword .hdrcharset."
}

# restream IN OUT CODE: the stream IN with CODE applied, as OUT (see
# tests/restream.py).
restream() {
	python3 "$PK_TOP/tests/restream.py" "$@"
}

# s3_place NAME: a fresh place on the S3 gateway of S3_ENDPOINT (started by
# .ci/run), in a bucket of this test's own, with the AWS variables set
# from S3_ACCESS_KEY, S3_SECRET_KEY and S3_REGION.  Without a gateway it
# prints nothing and fails: the test then skips.
s3_place() {
	[ -n "${S3_ENDPOINT:-}" ] || return 1
	echo "s3:$S3_ENDPOINT/$S3_BUCKET/$1"
}
if [ -n "${S3_ENDPOINT:-}" ]; then
	AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
	AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
	AWS_DEFAULT_REGION=${S3_REGION:-us-east-1}
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
	S3_BUCKET=pkt-$(echo "$T" | tr -cd 'a-z0-9' | cut -c 1-20)-$(date +%s)-$$
fi

# s3_requests FILE: the HTTP requests in FILE, the output of a command
# run with PK_S3_TRACE=1.
s3_requests() {
	grep -c '^> [A-Z]* /' "$1"
}
