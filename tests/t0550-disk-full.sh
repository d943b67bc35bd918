#!/bin/sh
# A full disk: writes that fail (a file size limit, then a small tmpfs
# filled to many levels) make pk-store fail cleanly - exit 1, no snapshot,
# nothing left behind, the repository checking, earlier snapshots
# restoring - and later backups that fit work.  The other stages report a
# failed write of their output.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir base t
printf 'the base' >base/file
i=1
while [ $i -le 6 ]; do gen_file t/f$i 1000000 $i; i=$((i + 1)); done
"$PK_TOP/tests/gen" 2000000 7 text >t/text
pk-walk t | pk-chunk >stream

# state REPO: its snapshots, deltas, packs and temporary files.
state() { ( cd "$1" && find snapshots index packs tmp -type f | LC_ALL=C sort ); }

# limited BLOCKS COMMAND...: COMMAND with a file size limit of BLOCKS
# (of 512 bytes), failing writes with EFBIG instead of a signal.
limited() {
	_b=$1; shift
	sh -c 'trap "" XFSZ; ulimit -f "$0" && exec "$@"' "$_b" "$@"
}

pk-store --init repo
ok "a first snapshot" backup repo base
cp id id0
for blocks in 20 100 400 2000 4000; do
	state repo >before
	limited $blocks pk-store repo <stream >out 2>err
	echo $? >st
	state repo >after
	ok "file size limit $blocks: pk-store exits 1" test "$(cat st)" = 1
	ok "file size limit $blocks: says the write failed" \
	    grep -q "^pk-store: .*File too large (no snapshot written)$" err
	ok "file size limit $blocks: prints no id" test ! -s out
	ok "file size limit $blocks: no snapshot, nothing left (tmp/ included)" diff before after
	ok "file size limit $blocks: the repository checks" pk-index --check repo
done
ok "no limit: the same stream stores" sh -c 'pk-store repo <stream >id1'
mkdir x
# The stream was walked before the first snapshot, so its snapshot starts
# earlier and is not the latest: it is named by id.
snap=$(cut -c 1-12 id1)
ok "no limit: it restores" restore repo "$snap" x
ok "no limit: the tree" same_tree t x/t
ok "the first snapshot restores" sh -c "pk-cat repo $(cut -c 1-12 id0):base/file | cmp - base/file"

# The other stages: a failed write of their output is a failure (exit 1)
# with a message, not a silent truncation.
for cmd in "pk-walk t" "pk-chunk" "pk-dedup" "pk-cat repo $snap" \
    "pk-cat repo $snap:t/f1" "pk-cat --stream repo $snap"; do
	# shellcheck disable=SC2086
	limited 100 $cmd <stream >out 2>err
	echo $? >st
	ok "$cmd into a full file: exit 1" test "$(cat st)" = 1
	ok "$cmd into a full file: message" grep -q "File too large" err
done

# --- ENOSPC for real: a 24 MB tmpfs in a private mount namespace (so that
# nothing stays mounted), filled to leave less and less room.
if ! unshare -m --propagation private true 2>/dev/null; then
	skip "a full file system" "no private mount namespace here (unshare -m needs CAP_SYS_ADMIN)"
	exit 0
fi
cat >inner.sh <<'EOF'
# Runs in its own mount namespace: S, T and PATH from the test.
cd "$S" || exit 1
res() { if [ "$2" = 0 ]; then echo "ok - $T: $1"; else echo "not ok - $T: $1"; sed 's/^/#   /' "$S/inner.out" | tail -n 10; fi; }
state() { ( cd "$1" && find snapshots index packs tmp -type f | LC_ALL=C sort ); }
mkdir -p full
mount -t tmpfs -o size=24m tmpfs full ||
    { echo "skip - $T: a full file system (cannot mount a tmpfs)"; exit 0; }
pk-store --init full/base
pk-walk base | pk-chunk | pk-store full/base >full.id0 2>inner.out
res "full disk: a first snapshot" $?
# The stream needs about 6.5 MB: from none to 7.5 MB of room, each time in
# a fresh copy of the repository.  (Files that are mapped, not written, die
# of SIGBUS when a page finds no room: exit 135.)
for free in 0 8 100 500 1000 1500 2000 2500 3000 4000 5000 5500 6000 6200 6400 6600 6800 7000 7500; do
	rm -rf full/filler full/repo
	cp -a full/base full/repo
	avail=$(df -P -k full | awk 'NR == 2 { print $4 }')
	dd if=/dev/zero of=full/filler bs=1024 count=$((avail - free)) 2>/dev/null
	state full/repo >before
	pk-store full/repo <stream >out 2>err
	st=$?
	if [ $st = 0 ]; then
		# it fitted: a good snapshot
		pk-cat full/repo "$(cat out):t/f6" 2>inner.out | cmp - t/f6 >>inner.out 2>&1
		res "full disk, $free KB free: stored, and restores" $?
		pk-index --check=data full/repo >inner.out 2>&1
		res "full disk, $free KB free: stored, and checks" $?
		continue
	fi
	state full/repo >after
	{ echo "exit $st"; cat err; } >inner.out
	[ $st = 1 ] && grep -q "No space left on device" err && [ ! -s out ]
	res "full disk, $free KB free: pk-store exits 1, says why" $?
	diff before after >inner.out 2>&1
	res "full disk, $free KB free: no snapshot, nothing left" $?
	pk-index --check full/repo >inner.out 2>&1
	res "full disk, $free KB free: the repository checks" $?
	pk-cat full/repo "$(cat full.id0):base/file" 2>inner.out | cmp - base/file >>inner.out 2>&1
	res "full disk, $free KB free: the first snapshot restores" $?
done
# The chunk index rebuilt on a full disk: restores work from the deltas,
# or fail with a message; no crash.
rm -rf full/filler full/repo
cp -a full/base full/repo
rm full/repo/chunkindex
rm -f "$XDG_CACHE_HOME"/pk/*/newest	# an older copy, put back on purpose
avail=$(df -P -k full | awk 'NR == 2 { print $4 }')
dd if=/dev/zero of=full/filler bs=1024 count=$avail 2>/dev/null
pk-cat full/repo "$(cat full.id0):base/file" >file.out 2>err
st=$?
{ echo "exit $st"; cat err; } >inner.out
[ $st = 0 ] && cmp -s file.out base/file || { [ $st = 1 ] && grep -q "No space left on device" err; }
res "full disk, chunk index to rebuild: pk-cat restores or says why" $?
pk-index --check full/repo >/dev/null 2>err
st=$?
{ echo "exit $st"; cat err; } >inner.out
[ $st -lt 128 ] && { [ $st = 0 ] || grep -q "No space left on device" err; }
res "full disk, chunk index to rebuild: pk-index --check works or says why" $?
rm -f full/filler
pk-store full/repo <stream >full.id1 2>inner.out
res "full disk, room again: the stream stores" $?
pk-cat full/repo "$(cat full.id1):t/text" 2>inner.out | cmp - t/text >>inner.out 2>&1
res "full disk, room again: it restores" $?
pk-index --check=data full/repo >inner.out 2>&1
res "full disk, room again: the repository checks, data included" $?
# A read-only repository whose chunk index must be rebuilt: reads work,
# from an index built in memory; a backup fails and says why.
rm -f full/repo/chunkindex
ls full/repo/snapshots >snaps.before
mount -o remount,ro full
pk-cat full/repo "$(cat full.id1):t/text" 2>inner.out | cmp - t/text >>inner.out 2>&1
res "read-only, chunk index to rebuild: pk-cat restores" $?
pk-index --check=data full/repo >inner.out 2>&1
res "read-only, chunk index to rebuild: pk-index --check=data works" $?
pk-store full/repo <stream >out 2>inner.out
st=$?
[ $st = 1 ] && [ ! -s out ] && grep -q "Read-only file system" inner.out
res "read-only: pk-store exits 1, says why" $?
ls full/repo/snapshots | cmp -s - snaps.before
res "read-only: no snapshot" $?
umount full
EOF
S=$S T=$T unshare -m --propagation private sh inner.sh
