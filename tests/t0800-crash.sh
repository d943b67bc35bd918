#!/bin/sh
# kill -9: pk-store killed at many moments of a 200 MB backup (and of a
# re-backup, which commits sooner) leaves earlier snapshots restorable, the
# repository checking clean (unreferenced packs are notes), and later
# backups working.  Killing another stage is a truncated stream: a clean
# failure.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir base big
i=0
while [ $i -lt 10 ]; do gen_file base/f$i 1000000 $i; i=$((i + 1)); done
"$PK_TOP/tests/gen" 2000000 10 text >base/text
i=0
while [ $i -lt 40 ]; do gen_file big/f$i 5000000 $((100 + i)); i=$((i + 1)); done

pk-store --init repo
ok "a first snapshot" backup repo base
cp id id0

# snapshots: the ids of REPO's snapshots.
snapshots() { ls repo/snapshots | LC_ALL=C sort; }

# after_kill WHAT: the checks after a kill: the snapshots are the ones
# before, plus one if the run printed its id; the repository checks with
# nothing but notes (packs no delta names, the leases of the runs
# killed); the first snapshot restores.
checks_clean() {
	pk-index --check repo >"$S/check.out" 2>"$S/check.err" ||
	    { cat "$S/check.out" "$S/check.err"; return 1; }
	only "$S/check.err" "no index refers to this pack" \
	    "lease of a run that stopped"
}
# committed_whole: no snapshot in now but those in before, or one more
# whose files restore.
committed_whole() {
	LC_ALL=C comm -13 before now >new
	[ ! -s new ] && return 0
	[ "$(wc -l <new)" = 1 ] || { echo "new snapshots:"; cat new; return 1; }
	for _f in f0 f20 f39; do
		pk-cat repo "$(cat new):big/$_f" | cmp - "big/$_f" || return 1
	done
}
n=0
after_kill() {
	n=$((n + 1))
	snapshots >now
	if [ -s out ]; then
		{ cat before; cat out; } | LC_ALL=C sort >want
		ok "$1: no snapshot but the committed one" diff want now
	else
		# killed after the commit but before printing the id: a new
		# snapshot is allowed, one that restores
		ok "$1: no snapshot, or one committed and whole" committed_whole
	fi
	ok "$1: the repository checks" checks_clean
	ok "$1: the first snapshot restores" restore repo "$(cat id0)" "x$n"
	ok "$1: the first snapshot is the tree" same_tree base "x$n/base"
	rm -rf "x$n"
}

# kill_store DELAY [DEDUP]: starts a backup of big, kills pk-store with
# SIGKILL after DELAY seconds.
kill_store() {
	snapshots >before
	if [ -n "${2:-}" ]; then
		pk-walk big | pk-chunk | pk-dedup -r repo | pk-store repo >out 2>/dev/null &
	else
		pk-walk big | pk-chunk | pk-store repo >out 2>/dev/null &
	fi
	_pid=$!
	sleep "$1"
	kill -9 $_pid 2>/dev/null
	wait
}

for d in 0.2 0.5 1 1.5 2; do
	kill_store $d
	after_kill "kill -9 after ${d}s"
done

# A complete backup of big, then re-backups killed at fractions of the time
# one takes, up to its end, to hit the commit.
ok "a backup after the kills" backup repo big
cp id idbig
t0=$(date +%s%N)
pk-walk big | pk-chunk | pk-dedup -r repo | pk-store repo >/dev/null
t1=$(date +%s%N)
for f in 0.3 0.6 0.8 0.9 1.0; do
	d=$(awk -v f=$f -v t=$((t1 - t0)) 'BEGIN { printf "%.3f", f * t / 1e9 }')
	kill_store "$d" dedup
	after_kill "re-backup, kill -9 after ${d}s"
done

# Another stage killed: pk-store sees a truncated stream and fails cleanly.
snapshots >before
ls -A repo/tmp >tmp.before
# pk-chunk gets part of the stream, then waits for more: it is killed
# mid-stream however fast this machine is.
pk-walk big 2>/dev/null | head -c 30000000 >walked.part
mkfifo walked chunked
{ cat walked.part; exec sleep 60; } >walked 2>/dev/null &
feedpid=$!
pk-chunk <walked >chunked &
chunkpid=$!
pk-store repo <chunked >out 2>err &
storepid=$!
sleep 1
kill -9 $chunkpid
wait $storepid
echo $? >st
kill $feedpid
wait
ok "pk-chunk killed: pk-store exits 1" test "$(cat st)" = 1
ok "pk-chunk killed: a truncated stream" grep -q "^pk-store: stdin: record [0-9]* at byte [0-9]*: truncated" err
ls -A repo/tmp >tmp.after
ok "pk-chunk killed: pk-store left nothing in tmp/" diff tmp.before tmp.after
after_kill "pk-chunk killed"

# Everything still works: a new backup, restores of the old ones.
echo new >big/new
ok "a backup after everything" backup repo big
mkdir y
ok "it restores" restore repo latest y
ok "it is the tree" same_tree big y/big
rm -rf y
ok "the complete backup of before the re-backups restores" sh -c \
    "pk-cat repo $(cut -c 1-12 idbig):big/f39 | cmp - big/f39"
ok "the repository checks, data included" pk-index --check=data repo
