#!/bin/sh
# pk-gc gives back the space of forgotten snapshots while backups go on: a
# dry run changes nothing; a mark waits for its grace time and for the
# runs that were going when it was made; a backup that starts after a mark
# stores again what the mark names as dead; a backup that deduplicated
# against a forgotten snapshot before gc ran commits a snapshot that
# restores (chunks and references); every kept snapshot restores byte for
# byte after gc; caches made before gc are stale, with one line each;
# kill -9 at many moments and a full disk leave every snapshot whole and
# the next pk-gc finishes; one pk-gc at a time; leftovers of crashed runs
# go once old enough.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init repo >/dev/null 2>&1
mkdir d
gen_file d/common 400000 1
# snap N: d with a file of its own, f, of seed N, backed up; its id in
# idN, its tree in treeN.
snap() {
	rm -f d/f && gen_file d/f 500000 "$1" && backup repo d &&
	    cp id "id$1" && rm -rf "tree$1" && cp -a d "tree$1"
}
# restores N: snapshot idN restores as treeN.
restores() {
	rm -rf "out$1" && restore repo "$(cat "id$1")" "out$1" &&
	    same_tree "tree$1" "out$1/d"
}
restores_h() {
	rm -rf outH && restore repo "$(cat idH)" outH && same_tree h outH/h
}
packbytes() { find "${1:-repo}/packs" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
state() { ( cd "${1:-repo}" && find snapshots index packs -type f | LC_ALL=C sort ); }
unchanged() { state | cmp - before; }
nothing_written() { unchanged && test -z "$(find repo/gc repo/locks -type f 2>/dev/null)"; }
marks() { ls repo/gc | grep -c '^mark-'; }
one_mark() { [ "$(marks)" = 1 ] && [ "$(ls repo/gc | grep -c '^leases-')" = 1 ]; }

ok "snapshot 1" snap 1
ok "snapshot 2" snap 2
ok "snapshot 3" snap 3

# --- Nothing to collect; dry runs write nothing.
ok "nothing forgotten: nothing to collect" status_of 0 pk-gc --grace 0 repo
ok "... says so" grep -qx "nothing to collect" .so
ok "... with the counts" grep -q "^3 snapshots, 3 packs, .* unused: 0 B in 0 blobs (0.0%)$" .so
ok "... and no mark" test -z "$(ls repo/gc 2>/dev/null)"
ok "forget snapshot 1" pk-forget repo "$(cat id1)"
state >before
ok "--dry-run" status_of 0 pk-gc --dry-run --grace 0 repo
ok "... says what it would mark" grep -q "^would mark 1 packs (1 to repack), " .so
ok "... and changes nothing" nothing_written
ok "--dry-run --json: one object with the counts" sh -c \
    'pk-gc --dry-run --json --grace 0 repo >js && [ $(wc -l <js) = 1 ] && python3 -c "
import json
r = json.load(open(\"js\"))
assert r[\"dry_run\"] is True and r[\"snapshots\"] == 2 and r[\"marked_packs\"] == 1
assert r[\"marked_repack\"] == 1 and r[\"unused_bytes\"] > 0 and r[\"deleted_packs\"] == 0"'
ok "... and changes nothing" nothing_written

# --- A mark waits out its grace time; a backup meanwhile stores again
# what the mark names as dead.
ok "pk-gc marks" status_of 0 pk-gc repo
ok "... one mark, with its leases" one_mark
ok "... the generation changed" test -e repo/gc/gen-0000000000000001
ok "... says it waits for the grace time" grep -q "^waiting: gc/mark-.* is in its grace time for 3[0-9]* s more" .so
ok "... deleted nothing" unchanged
ok "... and every snapshot still checks" pk-index --check=data repo
ok "a second pk-gc within the grace time" status_of 0 pk-gc --json repo
ok "... waits too, and says until when" sh -c 'python3 -c "
import json
r = json.load(open(\".so\"))
assert r[\"waiting\"] == 1 and \"grace time\" in r[\"waiting_for\"]
assert r[\"deletable_at\"].endswith(\"Z\")"'
ok "... and makes no second mark" one_mark
# again N M: snapshot N holds snapshot M's own file again.
again() {
	rm -f d/f && gen_file d/f 500000 "$2" && backup repo d &&
	    cp id "id$1" && cp -a d "tree$1"
}
ok "snapshot 4, holding snapshot 1's file again" again 4 1
before=$(packbytes)
ok "pk-gc --grace 0 sweeps" status_of 0 pk-gc --grace 0 repo
ok "... deleted and copied" grep -q "^deleted 1 packs, copied [1-9][0-9]* blobs" .so
ok "... removed the mark" test -z "$(ls repo/gc | grep -v '^gen-')"
ok "... moved the generation on" test -e repo/gc/gen-0000000000000002
ok "... left one index delta" sh -c "[ \$(ls repo/index | wc -l) = 1 ]"
ok "... and the packs are smaller" test "$(packbytes)" -lt "$before"
ok "a second pk-gc right after" status_of 0 pk-gc --grace 0 repo
ok "... finds nothing to collect" grep -qx "nothing to collect" .so
ok "the repository checks" pk-index --check=data repo
for n in 2 3 4; do
	ok "snapshot $n restores byte for byte with metadata" restores $n
done
ok "a backup after gc" snap 5
ok "... restores" restores 5

# --- Caches made before a collection are stale: one line, and the data
# is read and sent.
ok "a backup that makes the default caches" pipeline_ok \
    "pk-walk -r repo d | pk-chunk | pk-dedup -r repo | pk-store repo >id6"
cp -a d tree6
ok "forget 2 to 5, pk-gc" sh -c "pk-forget repo $(cat id2 id3 id4 id5 | tr '\n' ' ') >/dev/null && pk-gc --grace 0 repo >/dev/null"
pipeline_ok "pk-walk -r repo d 2>walk.err | pk-chunk | pk-dedup -r repo 2>dedup.err | pk-store repo >id7" >/dev/null 2>&1
ok "a backup with the stale caches succeeds" grep -Eqx '[0-9a-f]{64}' id7
cp -a d tree7
ok "... pk-walk says its cache is of an older generation, once" sh -c "grep -c 'older generation (pk-gc ran since it was made); reading every file' walk.err | grep -qx 1"
ok "... pk-dedup says so of its set, once" sh -c "grep -c 'older generation (pk-gc ran since it was made); sending every chunk' dedup.err | grep -qx 1"
ok "... and it restores" restores 7
ok "snapshot 6 restores" restores 6

# --- The hard case: a backup deduplicates against a snapshot that is
# forgotten while it runs, and pk-gc runs (grace 0) before it commits.
# By chunks (pk-store's chunk index) and by references (pk-dedup).
mkdir h
for how in chunk ref; do
	rm -rf h/* repo.hard && gen_file h/a-old 600000 "${how}1" &&
	    gen_file h/b-new 600000 "${how}2"
	pk-walk h | pk-chunk | pk-store repo >idX
	if [ $how = ref ]; then
		pk-walk h | pk-chunk | pk-dedup -r repo >stream
	else
		pk-walk h | pk-chunk >stream
	fi
	half=$(($(wc -c <stream) / 3))
	rm -f fifo go && mkfifo fifo
	{ head -c $half stream; while [ ! -e go ]; do sleep 0.1; done
	    tail -c +$((half + 1)) stream; } >fifo &
	pk-store repo <fifo >idH 2>errH &
	pid=$!
	n=0
	while [ -z "$(ls repo/locks)" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 1
	ok "$how: the backup holds a lease while it runs" test -n "$(ls repo/locks)"
	ok "$how: the snapshot it deduplicated against is forgotten" pk-forget repo "$(cat idX)"
	ok "$how: pk-gc --grace 0 marks" status_of 0 pk-gc --grace 0 repo
	ok "$how: ... and waits for the backup" grep -q "^waiting: gc/mark-.* waits for a run that was going when it was made: store on host" .so
	touch go
	wait $pid
	ok "$how: the backup commits" sh -c "grep -Eqx '[0-9a-f]{64}' idH && test ! -s errH"
	ok "$how: ... and its lease is gone" test -z "$(ls repo/locks)"
	ok "$how: pk-gc --grace 0 now sweeps" status_of 0 pk-gc --grace 0 repo
	ok "$how: ... deleting the forgotten snapshot's pack" grep -q "^deleted [1-9]" .so
	ok "$how: the repository checks" pk-index --check=data repo
		ok "$how: the backup restores" restores_h
	ok "$how: so do the others" restores 6
	ok "$how: ... all" restores 7
done

# A stream made before a mark, whose references name chunks the mark
# names as dead, is refused by a pk-store that starts after it.
rm -rf h/* && gen_file h/a 600000 41
pk-walk h | pk-chunk | pk-store repo >idX
pk-walk h | pk-chunk | pk-dedup -r repo >stream
pk-forget repo "$(cat idX)" >/dev/null
ok "a mark with a grace time" status_of 0 pk-gc repo
state >before
ok "a stale stream of references after it: refused" status_of 1 pk-store repo <stream
ok "... no snapshot" unchanged
ok "pk-gc --grace 0 sweeps" status_of 0 pk-gc --grace 0 repo
ok "... and the repository checks" pk-index --check=data repo

# --- One pk-gc at a time; the lease of a dead one is stale.
sleep 300 &
sleeper=$!
printf 'pk-lease 1\nkind gc\nhost %s\npid %s\nstart %s\n' "$(hostname)" $sleeper "$(date +%s)" >repo/locks/0123456789abcdef0123456789abcdef
ok "another pk-gc's lease: refused" status_of 1 pk-gc --grace 0 repo
ok "... naming it" grep -q "^pk-gc: repo: another pk-gc is running: gc on host $(hostname), pid $sleeper, since .* (locks/0123456789abcdef0123456789abcdef)$" .se
kill $sleeper
wait $sleeper 2>/dev/null
ok "its process gone, the lease is stale" status_of 0 pk-gc --grace 0 repo
rm -f repo/locks/0123456789abcdef0123456789abcdef
printf 'pk-lease 1\nkind store\nhost elsewhere\npid 1\nstart %s\n' $(($(date +%s) - 8 * 86400)) >repo/locks/00000000000000000000000000000001
ok "a lease of another host older than a week is stale" status_of 0 pk-gc --grace 0 repo
ok "... nothing waits" sh -c "! grep -q waiting .so"
rm -f repo/locks/00000000000000000000000000000001
ok "snapshot 8" snap 8
ok "forget 6" sh -c "pk-forget repo $(cat id6) >/dev/null"
pk-gc --grace 0 repo >gc1 2>&1 &
pk-gc --grace 0 repo >gc2 2>&1
wait
ok "two pk-gc at once: each finishes or says another runs" sh -c \
    "for f in gc1 gc2; do grep -q 'snapshots, ' \$f || grep -q 'another pk-gc is running' \$f || exit 1; done"
ok "... the repository checks" pk-index --check=data repo
ok "... and a third finishes the job" sh -c "pk-gc --grace 0 repo >gc3 && ! grep -q waiting gc3 && ! ls repo/gc | grep -q '^mark-'"
ok "... snapshot 7 restores" restores 7

# --- Marks that cannot be swept are removed.
ok "forget 7, a mark with a grace time" sh -c "pk-forget repo $(cat id7) >/dev/null && pk-gc repo >/dev/null"
m=$(ls repo/gc | sed -n 's/^mark-//p')
chmod u+w repo/gc && rm -f "repo/gc/leases-$m"
ok "a mark whose pk-gc died before its leases: removed" status_of 0 pk-gc -v --grace 0 repo
ok "... saying so" grep -q "^pk-gc: gc/mark-$m: its pk-gc stopped before it was complete; removed$" .se
ok "... and a new one made and swept" grep -q "^deleted " .so
ok "snapshot 9" snap 9
ok "forget it, mark" sh -c "pk-forget repo $(cat id9) >/dev/null && pk-gc repo >/dev/null"
m=$(ls repo/gc | sed -n 's/^mark-//p')
ok "a damaged mark" sh -c "chmod u+w repo/gc/mark-$m && printf X | dd of=repo/gc/mark-$m bs=1 seek=40 conv=notrunc 2>/dev/null"
ok "... is ignored by a backup" snap 10
ok "... and removed by pk-gc" status_of 0 pk-gc -v --grace 0 repo
ok "... saying why" grep -q "^pk-gc: gc/mark-$m: .*does not authenticate; removed$" .se
ok "the repository checks" pk-index --check=data repo
ok "snapshot 10 restores" restores 10

# --- Leftovers of crashed runs go once old enough, when no run is going.
mkdir -p repo/tmp
: >repo/tmp/pending-0123456789abcdef.tmp-AAAAAA
: >repo/tmp/pack-new
touch -d '2 hours ago' repo/tmp/pending-0123456789abcdef.tmp-AAAAAA
ok "pk-gc removes an old leftover" status_of 0 pk-gc --grace 0 repo
ok "... says so" grep -qx "removed 1 leftover files of crashed runs" .so
ok "... and keeps a new one" sh -c "test -e repo/tmp/pack-new && test ! -e repo/tmp/pending-0123456789abcdef.tmp-AAAAAA"
rm -f repo/tmp/pack-new

# --- kill -9 at many moments: at each file commit, removal or write of
# pk-gc, in turn.  Every snapshot kept still restores, and the next pk-gc
# finishes the job.
# Each of these adds a file that the later ones keep: their packs hold
# live blobs beside dead ones, and are repacked.
for n in 11 12 13; do
	gen_file d/g$n 300000 $n
	ok "snapshot $n" snap $n
done
ok "forget 10 to 12" sh -c "pk-forget repo $(cat id10) \$(cat id11 id12) >/dev/null"
pk-index --check=data repo >/dev/null
cp -a repo repo.base
pk-gc --grace 0 repo >/dev/null
want=$(packbytes)
rm -rf repo && cp -a repo.base repo
# LeakSanitizer cannot run under ptrace (make check SANITIZE=address).
nolsan=ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
if strace -f -qq -o /dev/null true 2>/dev/null; then
	for sc in rename unlink write; do
		k=1
		while [ $k -le 40 ]; do
			rm -rf rk && cp -a repo.base rk
			env "$nolsan" strace -f -qq -o /dev/null -e trace=$sc,${sc}at \
			    -e inject=$sc,${sc}at:signal=KILL:when=$k \
			    pk-gc --grace 0 rk >/dev/null 2>&1
			st=$?
			pk-index --check=data rk >/dev/null 2>check.err ||
			    { echo "kill at $sc $k:"; cat check.err; touch killbad; }
			pk-gc --grace 0 rk >/dev/null 2>gc.err ||
			    { echo "after kill at $sc $k:"; cat gc.err; touch killbad; }
			pk-index --check=data rk >/dev/null 2>check.err ||
			    { echo "then, kill at $sc $k:"; cat check.err; touch killbad; }
			[ $st = 0 ] && break
			k=$((k + 1))
		done
		echo "$sc $k" >>kills
	done >kill.log 2>&1
	ok "kill -9 at each rename, unlink and write: every snapshot checks, the next pk-gc finishes" \
	    sh -c "test ! -e killbad || { cat kill.log; false; }"
	ok "... at more than a few moments each" sh -c "awk '\$2 < 3 { exit 1 }' kills"
	ok "... and the repository ends as small as without a kill" \
	    test "$(packbytes rk)" -le $((want + want / 10))
else
	skip "kill -9 at many moments" "strace cannot trace here (ptrace not permitted)"
fi
ok "snapshot 13 restores" restores 13

# --- A full disk: pk-gc fails cleanly, and the next one finishes.
# limited BLOCKS COMMAND...: COMMAND with a file size limit of BLOCKS.
limited() {
	_b=$1; shift
	sh -c 'trap "" XFSZ; ulimit -f "$0" && exec "$@"' "$_b" "$@"
}
rm -rf repo && cp -a repo.base repo
ok "pk-gc with writes failing past 100 KiB" status_of 1 limited 200 pk-gc --grace 0 repo
ok "... says the write failed" grep -q "^pk-gc: .*File too large" .se
ok "... the repository checks" pk-index --check=data repo
ok "... snapshot 13 restores" restores 13
ok "the next pk-gc finishes" status_of 0 pk-gc --grace 0 repo
ok "... and the repository checks" pk-index --check=data repo
ok "... as small as without the failure" test "$(packbytes)" -le $((want + want / 10))
