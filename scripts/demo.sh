#!/bin/sh
# demo.sh: backs up a directory into a fresh repository under ./demo, backs
# it up again to show deduplication, restores it with pk-cat -C, compares the
# restore with the source, restores one file and checks every blob.
#
# usage: scripts/demo.sh [DIRECTORY]    (or DEMO_DIR=DIRECTORY; default
# /usr/share/doc).  Run by `make demo` after the build.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/bin:$PATH
export PATH

fail() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

# q ARG: ARG quoted for the shell, when it needs it.
q() {
	case $1 in
	*[!A-Za-z0-9_./:=+-]* | '') printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf %s "$1" ;;
	esac
}

# run COMMAND...: echoes, then runs one command; fails the demo when it fails.
run() {
	_line=
	for _a; do _line="${_line:+$_line }$(q "$_a")"; done
	echo "+ $_line"
	"$@" || fail "$_line: exit $?"
}

# pipe STAGE...: echoes, then runs the stages (shell command lines) as one
# pipeline; fails the demo when any stage fails.  Each stage's exit status
# goes to a file, as sh has no portable pipefail.
pipe() {
	_line='' _cmd='' _n=0
	for _s; do
		_n=$((_n + 1))
		_line="${_line:+$_line | }$_s"
		_cmd="${_cmd:+$_cmd | }{ $_s; echo \$? >\"\$demo/.status$_n\"; }"
	done
	echo "+ $_line"
	eval "$_cmd"
	_i=1 _bad=
	for _s; do
		read -r _st <"$demo/.status$_i" 2>/dev/null || _st=unknown
		rm -f "$demo/.status$_i"
		[ "$_st" = 0 ] || _bad="${_bad:+$_bad, }${_s%% *}: exit $_st"
		_i=$((_i + 1))
	done
	[ -z "$_bad" ] || fail "$_line: $_bad"
}

for t in pk-walk pk-chunk pk-dedup pk-store pk-index pk-cat; do
	[ -x "$top/bin/$t" ] || fail "$top/bin/$t is not built (run make)"
done

src=${1:-${DEMO_DIR:-/usr/share/doc}}
[ -d "$src" ] || fail "$src: not a directory"
src=$(cd -P "$src" && pwd -P) || fail "$src: cannot enter it"
[ "$src" != / ] || fail "/: pick a smaller directory"
demo=$(pwd -P)/demo
case $demo/ in
"$src"/*) fail "$demo is inside $src: run the demo from elsewhere" ;;
esac
stored=${src#/}
repo=demo/repo
restore=demo/restore

if [ -z "${PK_PASSPHRASE:-}" ]; then
	PK_PASSPHRASE=demo
	export PK_PASSPHRASE
	echo "demo: PK_PASSPHRASE is not set: using the demo passphrase 'demo'"
else
	echo "demo: using the passphrase in PK_PASSPHRASE"
fi
# The stat cache and known-chunk set go with the demo, not in ~/.cache.
XDG_CACHE_HOME=$demo/cache
export XDG_CACHE_HOME
echo "demo: backing up $src into $demo/repo"
echo

rm -rf "$demo" || fail "cannot remove the previous $demo"
mkdir -p "$demo" || fail "cannot create $demo"
cd "$demo/.." || fail "cannot enter $demo/.."
s=$(q "$src")

echo "# Create an encrypted repository."
run pk-store --init "$repo"
echo
echo "# First backup.  pk-store prints the new snapshot's id."
start=$(date +%s)
pipe "pk-walk $s" "pk-chunk -r $repo" "pk-dedup -r $repo" "pk-store $repo"
echo "demo: first backup took $(($(date +%s) - start)) s"
run du -sh "$repo"
size1=$(du -sh "$repo" | cut -f1)
echo
echo "# Second backup of the same tree.  With -r, pk-walk uses the stat cache"
echo "# pk-store wrote at the first commit: unchanged files are not read."
start=$(date +%s)
pipe "pk-walk -v -r $repo $s" "pk-chunk -r $repo" "pk-dedup -r $repo" "pk-store $repo"
echo "demo: second backup took $(($(date +%s) - start)) s"
run du -sh "$repo"
size2=$(du -sh "$repo" | cut -f1)
echo "demo: source $(du -sh "$src" 2>/dev/null | cut -f1), repository $size1 after the first backup, $size2 after the second"
echo
echo "# The snapshots, and the first files of the latest one."
run pk-index "$repo"
pipe "pk-index $repo latest" "sed -n 1,5p"
echo
echo "# Restore the latest snapshot into a directory and compare it with the source."
run mkdir "$restore"
run pk-cat -C "$restore" "$repo" latest
run diff -r --no-dereference "$src" "$restore/$stored"
echo
one=$(find "$src" -type f -size +0 | LC_ALL=C sort | sed -n 1p)
if [ -n "$one" ]; then
	echo "# Restore one file."
	pipe "pk-cat $repo latest:$(q "${one#/}")" "cmp - $(q "$one")"
	echo "demo: ${one#/} restored identical"
	echo
fi
echo "# Check the repository, reading and verifying every blob."
run pk-index --check=data "$repo"
echo
files=$(find "$src" | wc -l)
echo "demo: OK: the restore of $src is identical to the source ($((files)) entries)"
