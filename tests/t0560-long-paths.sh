#!/bin/sh
# Paths near PATH_MAX: a repository whose path leaves room for its files'
# names works with every tool; a longer one is refused by every tool, with
# exit 1 and "path too long", and nothing is written; a stat cache whose
# names do not fit fails the same way.  No file is ever written under a
# name cut short.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

# name_of TOP N: a path of exactly N bytes under the directory TOP, in
# directories of 200 bytes.
name_of() {
	awk -v s="$1/" -v n="$2" 'BEGIN {
		d = sprintf("%200s", ""); gsub(/ /, "d", d)
		while (n - length(s) > 201)
			s = s d "/"
		e = sprintf("%" (n - length(s)) "s", ""); gsub(/ /, "e", e)
		printf "%s", s e
	}'
}

# cache_in DIR COMMAND...: COMMAND with its default stat cache under DIR.
cache_in() {
	XDG_CACHE_HOME=$1
	export XDG_CACHE_HOME
	shift
	"$@"
}

# files: every file under the scratch directory but the test's own.
files() {
	find . -path ./cache -prune -o -path ./home -prune -o -type f \
	    ! -name '.*' -print | LC_ALL=C sort
}

# refused TOOL ARGS...: exits 1, says "pk-TOOL: ...: path too long", and
# writes no file.
refused() {
	files >"$S/.files.before"
	status_of 1 "$@" <"$S/stream" || return 1
	files >"$S/.files.after"
	grep -q "^$1: .*path too long" "$S/.se" ||
	    { echo "message:"; cut -c 1-80,4000- "$S/.se"; return 1; }
	tree_diff "$S/.files.before" "$S/.files.after"
}

mkdir -p t/sub
gen_file t/big 3000000 1
printf small >t/sub/small
ln -s sub/small t/link
pk-walk t | pk-chunk >stream

# --- A repository of 3990 bytes, within PK_REPO_PATH_MAX (4000): its
# files' names, up to 75 bytes more, fit PATH_MAX.
near=$(name_of n 3990)
mkdir -p "$(dirname "$near")"
ok "3990 bytes: init" pk-store --init "$near"
ok "3990 bytes: backup" backup "$near" t
ok "3990 bytes: backup with the stat cache and known set" pipeline_ok \
    "pk-walk -r '$near' t | pk-chunk -r '$near' | pk-dedup -r '$near' | pk-store '$near' >id2"
ok "3990 bytes: restores" restore "$near" latest x
ok "3990 bytes: the tree" same_tree t x/t
ok "3990 bytes: pk-cat of one file" sh -c "pk-cat '$near' latest:t/big | cmp - t/big"
ok "3990 bytes: pk-index lists both" sh -c \
    "[ \$(pk-index '$near' | tail -n +2 | wc -l) = 2 ]"
ok "3990 bytes: pk-index --check=data" pk-index --check=data "$near"
ok "3990 bytes: the snapshot files are named by their ids" sh -c \
    "ls '$near/snapshots' | LC_ALL=C sort >names &&
    LC_ALL=C sort -u id id2 | cmp - names"

# --- The same repository moved to a path of 4010 bytes: every tool
# refuses it, and nothing is written.
far=$(name_of f 4010)
mkdir -p "$(dirname "$far")"
mv "$near" "$far"
ok "4010 bytes: pk-store" refused pk-store "$far"
ok "4010 bytes: pk-store --init" refused pk-store --init "${far}2"
ok "4010 bytes: pk-cat" refused pk-cat "$far" latest
ok "4010 bytes: pk-cat --stream" refused pk-cat --stream "$far" latest
ok "4010 bytes: pk-index" refused pk-index "$far"
ok "4010 bytes: pk-index --check" refused pk-index --check "$far"
ok "4010 bytes: pk-index --export-cache" refused pk-index \
    --export-cache exported "$far" latest
ok "4010 bytes: pk-walk -r" refused pk-walk -r "$far" t
ok "4010 bytes: pk-chunk -r" refused pk-chunk -r "$far"
ok "4010 bytes: pk-dedup -r" refused pk-dedup -r "$far"
# Past PATH_MAX: refused by the same check, before the system's own.
ok "4100 bytes: pk-store --init" refused pk-store --init "$(name_of i 4100)"
mv "$far" repo

# --- Stat caches whose names do not fit.  A default cache under a
# directory near PATH_MAX: pk-store, pk-walk -r and pk-dedup -r fail.
deep=$S/$(name_of c $((4070 - ${#S})))
mkdir -p "$deep"
ok "cache in a deep directory: pk-store" cache_in "$deep" refused pk-store repo
ok "cache in a deep directory: pk-walk -r" cache_in "$deep" refused \
    pk-walk -r repo t
ok "cache in a deep directory: pk-dedup -r" cache_in "$deep" refused \
    pk-dedup -r repo
# A cache file of 4093 bytes, whose companions (FILE.tmp-XXXXXX,
# FILE.known) do not fit: the backup is stored without them, and a
# warning says why; pk-walk reads every file.
cache=$(name_of k 4093)
mkdir -p "$(dirname "$cache")"
ok "--cache of 4093 bytes: pk-store stores, says the cache is not written" \
    sh -c "pk-store --cache '$cache' repo <stream >id3 2>err &&
    grep -Eq '^pk-store: stat cache or known-chunk set not written: .*(path|File name) too long\$' err"
ok "--cache of 4093 bytes: nothing beside it" sh -c \
    "[ -z \"\$(ls -A '$(dirname "$cache")')\" ]"
ok "--cache of 4093 bytes: pk-walk reads every file" sh -c \
    "pk-walk -v --cache '$cache' t 2>err | pk-chunk | pk-store --no-cache repo &&
    ! grep -q 'unchanged (not read)' err"

ok "no snapshot file under a name cut short" sh -c \
    "! find . -path '*/snapshots/*' -type f | grep -Ev '/[0-9a-f]{64}\$'"
