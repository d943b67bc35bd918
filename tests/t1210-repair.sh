#!/bin/sh
# pk-index --repair: an index delta removed by hand and another damaged
# make --check name the chunks no program can find; --repair=index
# re-indexes the packs no readable delta names into one new delta,
# removes the damaged delta, and every snapshot restores byte for byte.
# It waits for the runs that may be writing packs, refuses a lease it
# cannot read, names a pack whose trailer is damaged as lost, and copies
# the blobs of a pack a pk-gc mark names, which the sweep then deletes.
# A pack deleted by hand and a blob damaged: --repair=snapshots writes the
# snapshot again without the files they break (and a hard link to one),
# with its host, user, times, paths and tags and the tag "repaired"; the
# new one restores the rest byte for byte, the original stays until it is
# forgotten, a second run repairs nothing again, and once the originals
# are forgotten and pk-gc has run, --check=data is ok.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

# damage FILE OFFSET: flips the bits of one byte of a file of the
# repository (written once, so read-only).
damage() {
	chmod u+w "$1" && python3 -c '
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}
# deltas REPO: the names of its index deltas.
deltas() { ls "${1:-repo}/index"; }
# restores N [REPO]: snapshot idN of REPO (repo) restores as treeN.
restores() {
	rm -rf "out$1" && restore "${2:-repo}" "$(cat "id$1")" "out$1" &&
	    same_tree "tree$1" "out$1/d"
}

# --- Three backups, each with a file of its own; then one delta is
# removed by hand and another damaged.
pk-store --init --no-encryption repo >/dev/null
mkdir d
gen_file d/common 400000 1
for n in 1 2 3; do
	gen_file "d/f$n" 300000 "$((10 + n))"
	deltas >before
	ok "snapshot $n" backup repo d
	cp id "id$n"
	cp -a d "tree$n"
	deltas | grep -vxFf before >"delta$n"
done
ok "each backup wrote one delta" sh -c \
    '[ "$(cat delta1 delta2 delta3 | wc -l)" = 3 ]'
rm "repo/index/$(cat delta1)"
ok "the third delta damaged" damage "repo/index/$(cat delta3)" 40

pk-index --check repo >out 2>err
ok "--check: exit 1" test $? = 1
ok "--check: names the damaged delta" grep -q \
    "index/$(cat delta3): frame 0 does not authenticate" err
ok "--check: names the second snapshot's files with chunks of the first's" \
    sh -c "grep -q 'snapshot $(cut -c 1-12 id2): d/f1: chunk .* missing' err &&
    grep -q 'snapshot $(cut -c 1-12 id2): d/common: chunk .* missing' err"
ok "--check: the snapshots whose catalogs no delta names" sh -c \
    "grep -q 'snapshot $(cut -c 1-12 id1): catalog: ' err &&
    grep -q 'snapshot $(cut -c 1-12 id3): catalog: ' err"
ok "--check: the packs no delta names are notes" grep -q \
    "no index refers to this pack" err
fails "a restore cannot find the chunks" restore repo "$(cat id2)" out-before

ok "--repair=index" status_of 0 pk-index --repair=index repo
ok "... says what it did" grep -q "^2 index deltas, 1 damaged and 1 removed; 3 packs, 2 that no delta named: 2 re-indexed (0 copied out of a pk-gc mark), 0 lost; [1-9][0-9]* blobs in index/[0-9a-f]\{32\}$" .so
ok "... names the damaged delta and its removal" sh -c \
    "grep -q 'index/$(cat delta3): frame 0 does not authenticate' .se &&
    grep -q 'index/$(cat delta3): removed' .se"
ok "... the damaged delta is gone, the second stays" sh -c \
    "[ ! -e repo/index/$(cat delta3) ] && [ -e repo/index/$(cat delta2) ] &&
    [ \$(ls repo/index | wc -l) = 2 ]"
ok "--check=data: ok" pk-index --check=data repo
for n in 1 2 3; do
	ok "snapshot $n restores byte for byte" restores $n
done
ok "a backup after the repair" backup repo d
ok "--repair=index again: nothing to do" status_of 0 pk-index --repair=index repo
ok "... says so" grep -q "0 damaged and 0 removed; .* 0 that no delta named: .*; no delta written$" .so

# --- A run that holds a lease may be writing the packs no delta names:
# the repair waits for it to end.  An unreadable lease stops it.
gen_file d/f4 300000 14
deltas >before
ok "snapshot 4" backup repo d
cp id id4
cp -a d tree4
rm "repo/index/$(deltas | grep -vxFf before)"
sleep 3 &
sleeper=$!
mkdir -p repo/locks
printf 'pk-lease 1\nkind store\nhost %s\npid %s\nstart %s\n' "$(hostname)" \
    "$sleeper" "$(date +%s)" >repo/locks/0123456789abcdef0123456789abcdef
start=$(date +%s)
ok "a running run: --repair=index waits, then repairs" status_of 0 \
    pk-index --repair=index repo
ok "... said what it waited for" grep -q \
    "waiting for a run that may be writing packs: store on host .*, pid $sleeper" .se
ok "... until the run was over" test $(($(date +%s) - start)) -ge 2
ok "... re-indexed the pack" grep -q ": 1 re-indexed " .so
wait "$sleeper"
rm -f repo/locks/0123456789abcdef0123456789abcdef
ok "snapshot 4 restores" restores 4

gen_file d/f5 300000 15
deltas >before
ok "snapshot 5" backup repo d
cp id id5
cp -a d tree5
lost=$(deltas | grep -vxFf before)
mv "repo/index/$lost" lost-delta
echo junk >repo/locks/fedcba9876543210fedcba9876543210
ok "an unreadable lease: --repair=index fails" status_of 1 \
    pk-index --repair=index repo
ok "... saying why, in one line" sh -c \
    '[ $(wc -l <.se) = 1 ] && grep -q "locks/fedcba9876543210fedcba9876543210: a lease that cannot be read" .se'
ok "... and writes no delta" sh -c "[ \$(ls repo/index | wc -l) = 3 ]"
rm repo/locks/fedcba9876543210fedcba9876543210

# --- A pack whose trailer is damaged is lost: named, the exit is 1, and
# the rest is repaired.
pack5=$(pk-index --check repo 2>&1 | sed -n 's|.*repo/\(packs/[^:]*\): no index refers.*|\1|p')
ok "the pack of snapshot 5 is the one no delta names" test -n "$pack5"
ok "... its trailer damaged" damage "repo/$pack5" $(($(stat -c %s "repo/$pack5") - 20))
ok "a lost pack: --repair=index exits 1" status_of 1 pk-index --repair=index repo
ok "... names it" grep -q "$pack5: lost, its blobs cannot be found: .*trailer does not authenticate" .se
ok "... and says what it means" grep -q "1 packs lost: pk-index --check=data names the files" .se
ok "... counts it" grep -q ", 1 lost; no delta written$" .so
ok "snapshot 4 still restores" restores 4

# --- A pack that a pk-gc mark names, whose delta is damaged: its blobs
# are copied into a new pack, which the sweep keeps while it deletes the
# marked one.
pk-store --init --no-encryption gcr >/dev/null
rm -rf d && mkdir d
gen_file d/common 400000 1
gen_file d/f 300000 21
ok "a first snapshot" backup gcr d
cp id idA
deltaA=$(ls gcr/index)
packA=$(echo gcr/packs/*/*)
rm d/f
gen_file d/g 300000 22
ok "a second, sharing d/common" backup gcr d
cp id idB
cp -a d treeB
ok "the first forgotten" pk-forget gcr "$(cat idA)"
ok "pk-gc marks its pack, to repack it" status_of 0 \
    pk-gc --grace 1h --max-unused 0 gcr
ok "... and waits" grep -q "^waiting: " .so
ok "--check notes the mark" sh -c \
    'pk-index --check gcr 2>err && grep -q "gc/mark-[0-9a-f]*: 1 packs marked for deletion by pk-gc" err'
ok "the first delta damaged" damage "gcr/index/$deltaA" 40
ok "--repair=index" status_of 0 pk-index --repair=index gcr
ok "... copied the marked pack's blobs" grep -q \
    ": 1 re-indexed (1 copied out of a pk-gc mark), 0 lost; 3 blobs in " .so
ok "the second snapshot restores" restores B gcr
ok "pk-gc sweeps the mark" status_of 0 pk-gc --grace 0 gcr
ok "... deleting the marked pack" sh -c \
    "grep -q '^deleted [1-9][0-9]* packs' .so && [ ! -e '$packA' ]"
ok "the second snapshot still restores byte for byte" restores B gcr
ok "--check=data: ok" pk-index --check=data gcr

# --- Beside a backup that is writing packs: the repair finds a pack no
# delta names yet, waits for the backup to end, and leaves it to it.
pk-store --init --no-encryption live >/dev/null
rm -rf big && mkdir big
for n in 1 2 3 4 5; do gen_file "big/f$n" 9000000 "$((30 + n))"; done
ok "a first backup" backup live d
ok "a stream of 45 MB" pipeline_ok "pk-walk big | pk-chunk >big.pks"
# The stream's first 40 MB, a pause, then the rest: a pack is stored
# meanwhile.
( { head -c 40000000 big.pks; sleep 4; tail -c +40000001 big.pks; } |
    pk-store live >idL; echo $? >bg.status ) &
bg=$!
i=0
while [ "$(ls live/packs/*/* 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 150 ]; do
	sleep 0.2
	i=$((i + 1))
done
ok "--repair=index while a backup runs" sh -c \
    'pk-index --repair=index live >live.out 2>live.err'
wait "$bg"
ok "... waited for the backup" grep -q "waiting for a run that may be writing packs: store on host" live.err
ok "... and left its pack to it" grep -q ": 0 re-indexed " live.out
ok "... the backup committed" test "$(cat bg.status)" = 0
ok "... the repository checks, data included" pk-index --check=data live
restores_big() {
	rm -rf outL && restore live "$(cat idL)" outL && same_tree big outL/big
}
ok "... the backup restores byte for byte" restores_big

# --- Snapshots with damaged files: a pack deleted by hand, a blob
# damaged.  --repair=snapshots writes each again without those files.
pk-store --init --no-encryption snaps >/dev/null
rm -rf a && mkdir -p a/sub
gen_file a/x 200000 41
ok "a snapshot of a/x alone: a pack of its own" backup snaps a
cp id idX
packX=$(echo snaps/packs/*/*)
for n in 2 3 4; do gen_file "a/f$n" 200000 "$((40 + n))"; done
ln a/f3 a/sub/link3
echo small >a/small
ok "a snapshot of a/, tagged" pipeline_ok \
    "pk-walk a | pk-chunk | pk-store -t mytag snaps >idA"
rm "$packX"
pack=$(ls snaps/packs/*/*)
# A plaintext repository stores an incompressible chunk as it is: a/f3's
# blob is where its first bytes are.
at=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(open(sys.argv[2], "rb").read(64)))' "$pack" a/f3)
ok "a/f3's blob found" test "$at" -gt 0
ok "a/f3's blob damaged" damage "$pack" "$((at + 1000))"

pk-index --check=data snaps >out 2>err
ok "--check=data: exit 1" test $? = 1
ok "--check=data: names the damaged file and the one in the lost pack" sh -c \
    "grep -q 'snapshot $(cut -c 1-12 idA): a/f3: chunk .* is corrupt' err &&
    grep -q 'snapshot $(cut -c 1-12 idA): a/x: chunk .* is in a missing pack' err"

ok "--repair=snapshots: exit 1, a snapshot it cannot read" status_of 1 \
    pk-index --repair=snapshots snaps
ok "... repaired the other, naming the files left out and the new id" \
    grep -q "^snapshot $(cut -c 1-12 idA): 3 files left out (a/f3, a/sub/link3, a/x); repaired as [0-9a-f]\{64\}$" .so
ok "... and counts" grep -q "^2 snapshots, 1 with damaged files: 1 repaired, leaving out 3 files$" .so
ok "... names the snapshot it cannot read" sh -c \
    "grep -q 'snapshot $(cut -c 1-12 idX): catalog: ' .se &&
    grep -q '1 snapshots cannot be read whole' .se"
sed -n 's/.*; repaired as //p' .so >idR
ok "the original is still listed" sh -c \
    "pk-index snaps | grep -q '^$(cut -c 1-12 idA) '"
# same_meta: the old and the new snapshot, their host, user, times and
# paths the same, the tags those of the old and "repaired".
same_meta() {
	pk-index --json snaps >list.json && python3 - "$(cat idA)" "$(cat idR)" <<'PY'
import json, sys
snaps = {s["id"]: s for s in json.load(open("list.json"))}
old, new = snaps[sys.argv[1]], snaps[sys.argv[2]]
for k in ("time", "end", "host", "user", "paths"):
    assert old[k] == new[k], (k, old[k], new[k])
assert new["tags"] == old["tags"] + ["repaired"], new["tags"]
assert new["files"] == old["files"] - 2, (old["files"], new["files"])
PY
}
ok "the new snapshot: same host, user, times, paths; tagged repaired" same_meta
rm -rf expect && cp -a a expect && rm expect/f3 expect/sub/link3 expect/x &&
    touch -r a expect && touch -r a/sub expect/sub
restores_repaired() {
	rm -rf outR && restore snaps "$(cat idR)" outR && same_tree expect outR/a
}
ok "the new snapshot restores every other file byte for byte" restores_repaired

ok "--repair=snapshots again" status_of 1 pk-index --repair=snapshots snaps
ok "... writes no second repair" grep -q "^snapshot $(cut -c 1-12 idA): repaired before as $(cat idR); it stays until pk-forget drops it$" .so
ok "... three snapshots still" test "$(ls snaps/snapshots | wc -l)" = 3

ok "the broken snapshots forgotten" pk-forget snaps "$(cat idX)" "$(cat idA)"
ok "pk-gc gives back their space, dropping the lost pack's blobs" \
    pk-gc --grace 0 --max-unused 0 snaps
ok "--check=data: ok" pk-index --check=data snaps
ok "the new snapshot still restores" restores_repaired
ok "--repair=snapshots: nothing to do" status_of 0 \
    pk-index --repair=snapshots snaps
ok "... says so" grep -q "^1 snapshots, 0 with damaged files: 0 repaired" .so

ok "--repair=other: a usage error" status_of 2 pk-index --repair=other gcr
ok "--repair with --check: a usage error" status_of 2 \
    pk-index --repair=index --check gcr
