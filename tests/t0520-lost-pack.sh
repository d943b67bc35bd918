#!/bin/sh
# A pack file lost (a disk error, a careless rm, a partial copy): later
# backups store its chunks again instead of referring to them, every
# snapshot made after the loss restores, a chunk index rebuilt from the
# deltas leads to the new copies, and pk-index --check names the snapshots
# and files that the loss broke, and only those.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init --no-encryption repo
mkdir a b
# a/big fills a pack (32 MiB) and starts another, which gets a/one, a/two
# and the catalog: the first pack's loss costs a/big only.
gen_file a/big 36000000 1
gen_file a/one 1500000 2
gen_file a/two 900000 3
gen_file b/three 1200000 4
ok "a first backup" backup repo a
cp id id1
ok "a backup of another tree" backup repo b
cp id id2
lost=$(ls -S repo/packs/*/* | head -n 1)
rm "$lost"

# A backup of the same files, the head of a/big changed, without caches:
# the chunks are sent whole; those of the rest of a/big are stored again
# (which heals that part of the first snapshot); its first chunks stay lost.
printf 'another head' | dd of=a/big bs=1 seek=1000 conv=notrunc 2>/dev/null
pk-walk a | pk-chunk | pk-store repo >id3 2>err
ok "a backup after the loss: exit 0" test $? = 0
ok "... says chunks were lost and stored again" \
    grep -q "chunks were in packs that are missing; stored again" err
mkdir r3
ok "... restores" restore repo "$(cat id3)" r3
ok "... identical" same_tree a r3/a
rm -f repo/chunkindex
ok "... restores from a chunk index rebuilt from the deltas" sh -c \
    'pk-cat repo "$(cat id3):a/big" | cmp - a/big'

pk-index --check repo >out 2>err
ok "--check: exit 1" test $? = 1
ok "--check: names the missing pack" grep -q "indexed pack" err
ok "--check: names the lost file of the first snapshot" grep -q \
    "snapshot $(cut -c 1-12 id1): a/big: chunk .* is in a missing pack" err
ok "--check: no other file, no other snapshot" sh -c \
    '[ "$(grep -c "missing pack" err)" = 1 ] && ! grep -q catalog err'
ok "the first snapshot: pk-cat names the lost file, exit 1" sh -c \
    '! pk-cat repo "$(cat id1):a/big" >/dev/null 2>err && grep -q "packs/" err'
ok "the first snapshot: the other files restore" sh -c \
    'pk-cat repo "$(cat id1):a/one" | cmp - a/one'

# The nightly form, with a stat cache and a known-chunk set that still
# list the lost chunks: the first backup after the loss refers to them and
# fails, leaving no snapshot and dropping the caches; the next one reads
# the files again and restores.
pk-store --init --no-encryption repo2
nightly() {
	pipeline_ok "pk-walk -r repo2 a | pk-chunk -r repo2 | pk-dedup -r repo2 | pk-store repo2 >id 2>err"
}
ok "nightly: a first backup" nightly
ok "nightly: a second, from the caches" nightly
rm repo2/packs/*/*
n=$(ls repo2/snapshots | wc -l)
fails "nightly: after the loss, the backup fails" nightly
ok "nightly: ... says the chunk is missing" grep -q "is not in the repository" err
ok "nightly: ... no snapshot" test "$(ls repo2/snapshots | wc -l)" = "$n"
ok "nightly: the next backup" nightly
mkdir r4
ok "nightly: ... restores" restore repo2 "$(cat id)" r4
ok "nightly: ... identical" same_tree a r4/a
