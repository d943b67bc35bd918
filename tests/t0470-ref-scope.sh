#!/bin/sh
# A stream's REF records reach only the chunks its source has shown it
# holds: those it carried earlier in the stream and those of its host's
# snapshots.  A host that guesses the id of another host's file (here from
# that host's known-chunk set) can neither copy it out through a snapshot
# of its own nor learn whether the repository holds it: the refusal is the
# same for a chunk the repository lacks.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init --no-encryption repo
mkdir alpha beta
gen_file alpha/secret 3000000 1
gen_file alpha/plain 200000 2
gen_file beta/own 500000 3

# store HOST REPO: the stream on standard input into REPO as HOST; the id
# in $S/id, messages in $S/err, the exit status in $S/st.
store() {
	pk-store --host "$1" "$2" >"$S/id" 2>"$S/err"
	echo $? >"$S/st"
}
# refused: the last store failed, wrote no snapshot and named the REF.
refused() {
	[ "$(cat "$S/st")" = 1 ] && [ ! -s "$S/id" ] &&
	    grep -q "^pk-store: stdin: record [0-9]* at byte [0-9]*: REF to chunk [0-9a-f]*…, which the stream did not carry and no snapshot of host $1 holds: refused" "$S/err" ||
	    { echo "exit $(cat "$S/st")"; cat "$S/err"; return 1; }
}
nsnap() { ls repo/snapshots | wc -l; }

ok "alpha: a backup" sh -c 'pk-walk alpha | pk-chunk | pk-store --host alpha repo >id.alpha'
ok "beta: a backup" sh -c 'pk-walk beta | pk-chunk | pk-store --host beta repo >/dev/null'
ok "alpha's chunks, exported" pk-index --export-known alpha.known repo "$(cat id.alpha)"

# beta holds a copy of alpha's file, or guesses it: its stream sends
# references only, as a pk-dedup given alpha's set makes them.
mkdir guess
cp alpha/secret guess/secret
pk-walk guess | pk-chunk | pk-dedup --known alpha.known >theft
ok "the guessing stream holds references, not data" sh -c \
    '[ $(stat -c %s theft) -lt 100000 ] || { ls -l theft; false; }'
n=$(nsnap)
store beta repo <theft
ok "beta refers to alpha's chunks: refused" refused beta
ok "... no snapshot" test "$(nsnap)" = "$n"
cp "$S/err" err.held

# The same refusal for chunks the repository does not hold at all: a
# stream of references to another repository's chunks.
pk-store --init --no-encryption elsewhere
gen_file nowhere 3000000 9
pk-walk nowhere | pk-chunk | pk-store --no-cache elsewhere >/dev/null
pk-index --export-known nowhere.known elsewhere
pk-walk nowhere | pk-chunk | pk-dedup --known nowhere.known >absent
store beta repo <absent
ok "beta refers to chunks no one stored: refused" refused beta
cp "$S/err" err.absent
ok "... the same message, the same exit: no oracle" sh -c \
    'sed "s/chunk [0-9a-f]*…/chunk X/; s/record [0-9]* at byte [0-9]*/R/" err.held >a &&
    sed "s/chunk [0-9a-f]*…/chunk X/; s/record [0-9]* at byte [0-9]*/R/" err.absent >b &&
    cmp a b'

# This machine's default host is no one's: refused as well.
pk-store repo <theft >out 2>err
ok "under this machine's name: refused" sh -c \
    '[ ! -s out ] && grep -q "no snapshot of host $(hostname) holds: refused" err'

# alpha itself refers to its own chunks, through its known-chunk set
# (kept by pk-store), or, when that set is gone, through the chunks of
# its snapshots, read from the repository.
store alpha repo <theft
ok "alpha refers to its own chunks: stored" test "$(cat "$S/st")" = 0
ok "... restores" sh -c 'pk-cat repo "$(cat id):guess/secret" | cmp - alpha/secret'
rm -rf "$(cache_dir repo alpha)"
store alpha repo <theft
ok "alpha, with no known-chunk set: its snapshots decide, stored" \
    test "$(cat "$S/st")" = 0
ok "... a known-chunk set written again, with its chunks" sh -c \
    "pk-dedup --known '$(cache_dir repo alpha)/stat.known' <theft | cmp - theft"

# References to chunks carried earlier in the same stream.
cp beta/own beta/again
pk-walk beta | pk-chunk | pk-dedup >self
store beta repo <self
ok "beta refers to a chunk it carried earlier: stored" test "$(cat "$S/st")" = 0
ok "... restores" sh -c 'pk-cat repo "$(cat id):beta/again" | cmp - beta/own'

# A host that sends the data once may refer to it later.
pk-walk guess | pk-chunk | store beta repo
ok "beta sends the data itself: stored" test "$(cat "$S/st")" = 0
store beta repo <theft
ok "... then its references to it: stored" test "$(cat "$S/st")" = 0

# --trust-refs: any chunk the repository holds.
pk-store --init --no-encryption repo2
pk-walk alpha | pk-chunk | pk-store --host alpha repo2 >/dev/null
pk-store --host gamma repo2 <theft >/dev/null 2>err
ok "gamma without --trust-refs: refused" test $? = 1
ok "gamma with --trust-refs: stored" sh -c \
    'pk-store --host gamma --trust-refs repo2 <theft >id2'
ok "... restores" sh -c 'pk-cat repo2 "$(cat id2):guess/secret" | cmp - alpha/secret'

# pk-walk -r and pk-dedup -r take the host's caches: a pulled host's
# backups find theirs, not the server's.
pk-store --init --no-encryption repo3
sleep 2.1	# files changed in the second a backup starts are read again
pk-walk alpha | pk-chunk | pk-store --host alpha repo3 >/dev/null
ok "the host's caches are under its name" sh -c \
    "test -s '$(cache_dir repo3 alpha)/stat' && test -s '$(cache_dir repo3 alpha)/stat.known' &&
    ! test -e '$(cache_dir repo3)/stat'"
ok "pk-walk -r --host alpha: no file read again" sh -c \
    'pk-walk -v -r repo3 --host alpha alpha 2>err | pk-chunk | pk-store --host alpha repo3 >/dev/null &&
    grep -q ", 2 unchanged (not read)" err || { cat err; false; }'
pk-walk alpha | pk-chunk >plain
ok "pk-dedup -r --host alpha: references only" sh -c \
    'pk-dedup -r repo3 --host alpha <plain >refs3 && [ $(stat -c %s refs3) -lt 100000 ] &&
    pk-store --host alpha repo3 <refs3 >/dev/null'
ok "pk-dedup -r under this machine's name: the data" sh -c \
    'pk-dedup -r repo3 <plain | cmp - plain'
ok "--host without -r: usage" status_of 2 pk-dedup --host alpha
ok "pk-walk --host empty: usage" status_of 2 pk-walk --host '' alpha
ok "--check: the repository is sound" pk-index --check=data repo

