#!/bin/sh
# pk-forget drops snapshots by id (operands or standard input) or by a
# policy; a dry run changes nothing; the snapshots kept still restore and
# check; forgetting the newest snapshot is not taken for a rollback, while
# a snapshot removed by hand still is.  Snapshot times cannot be set from
# the command line: the periods are t-forget's, --keep-last is here.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init repo >/dev/null 2>&1
mkdir d
# snap HOST TAG N: a backup of d as host HOST tagged TAG, its id in idN and
# its tree in treeN.
snap() {
	gen_file d/f$3 30000 $3
	pk-walk d | pk-chunk | pk-dedup | pk-store --host "$1" -t "$2" repo \
	    >"$S/id$3" && cp -a d "$S/tree$3"
}
short() { cut -c 1-12 "$S/id$1"; }
snaps() { ls repo/snapshots | sort; }
unchanged() { snaps | cmp - "$S/before"; }
newest() { echo "$XDG_CACHE_HOME/pk/$(awk '$1 == "id" { print $2 }' repo/config)/newest"; }

ok "backup 1" snap alpha daily 1
ok "backup 2" snap alpha daily 2
ok "backup 3" snap alpha weekly 3
ok "backup 4, another host" snap beta daily 4
ok "backup 5" snap alpha daily 5
snaps >before

# --- Dry runs change nothing.
ok "--dry-run --keep-last 1" status_of 0 pk-forget --dry-run --keep-last 1 repo
cp .so dry
ok "... one line a snapshot, newest first within each host" sh -c \
    "awk '{ print \$1, \$2 }' dry >got &&
    printf 'keep %s\nremove %s\nremove %s\nremove %s\nkeep %s\n' \
    $(short 5) $(short 3) $(short 2) $(short 1) $(short 4) >want && cmp want got"
ok "... naming the rule that kept a snapshot" grep -q "^keep    $(short 5)  .* alpha .* d \[daily\]  last\$" dry
ok "... and none for those removed" grep -q "^remove  $(short 1)  .* alpha .* d \[daily\]  none\$" dry
ok "... changed nothing" unchanged
ok "--json: one object a line" status_of 0 pk-forget --dry-run --json --keep-last 2 repo
ok "... with ids, time, host, paths, tags, action, reasons" grep -qx \
    "{\"action\":\"keep\",\"id\":\"$(cat id3)\",\"short_id\":\"$(short 3)\",\"time\":\"[0-9T:.-]*Z\",\"host\":\"alpha\",\"paths\":\[\"d\"\],\"tags\":\[\"weekly\"\],\"incomplete\":false,\"reasons\":\[\"last\"\]}" .so
ok "... removed ones with no reason" grep -q "\"action\":\"remove\",\"id\":\"$(cat id1)\".*\"reasons\":\[\]}\$" .so
ok "... five lines" sh -c "[ \$(wc -l <.so) = 5 ]"
ok "--group-by '': one group" status_of 0 pk-forget --dry-run --group-by '' --keep-last 1 repo
ok "... keeps the newest of all" sh -c "[ \$(grep -c '^keep' .so) = 1 ] && grep -q '^keep    $(short 5)' .so"
ok "--group-by tags" status_of 0 pk-forget --dry-run --group-by tags --keep-last 1 repo
ok "... keeps the newest of each tag" sh -c "grep '^keep' .so | cut -c 9-20 | sort >got &&
    printf '%s\n' $(short 5) $(short 3) | sort | cmp - got"
ok "--host beta: only its snapshots are looked at" status_of 0 pk-forget --dry-run --host beta --keep-last 1 repo
ok "... listed" sh -c "[ \$(wc -l <.so) = 1 ] && grep -q '^keep    $(short 4)' .so"
ok "--tag weekly --keep-tag weekly" status_of 0 pk-forget --dry-run --tag weekly --keep-tag weekly repo
ok "... keeps it by its tag" grep -qx "keep    $(short 3)  .*  tag" .so
ok "... and changed nothing" unchanged

# --- Bad command lines and failures change nothing.
ok "no keep option: refused" status_of 2 pk-forget repo
ok "... says why" grep -q "^pk-forget: no keep option: the policy would remove every snapshot" .se
ok "ids and keep options: refused" status_of 2 pk-forget --keep-last 1 repo "$(short 1)"
ok "a bad duration" status_of 2 pk-forget --keep-within 3x repo
ok "... says so" grep -q "^pk-forget: 3x: not a duration" .se
ok "a bad count" status_of 2 pk-forget --keep-daily -1 repo
ok "a bad --group-by" status_of 2 pk-forget --group-by user --keep-last 1 repo
ok "--host with ids" status_of 2 pk-forget --host alpha repo "$(short 1)"
ok "an unknown id" status_of 1 pk-forget repo "$(short 1)" 0000abcd
ok "... says so, and that nothing was removed" grep -qx "pk-forget: 0000abcd: no such snapshot; nothing removed" .se
ok "a prefix too short" status_of 1 pk-forget repo abc
ok "the wrong passphrase" status_of 1 env PK_PASSPHRASE=wrong pk-forget repo "$(short 1)"
ok "... changed nothing" unchanged

# --- Removing.
ok "by id prefix" status_of 0 pk-forget repo "$(cut -c 1-6 id1)"
ok "... says what it removed" grep -qx "removed $(short 1)  .* alpha .* d \[daily\]  id" .so
ok "... and removed it" test ! -e "repo/snapshots/$(cat id1)"
ok "... only it" sh -c "[ \$(ls repo/snapshots | wc -l) = 4 ]"
ok "the same id again" status_of 1 pk-forget repo "$(cat id1)"
pk-index --export-key key repo >/dev/null 2>&1
ok "by ids on standard input, with a key file" sh -c \
    "printf '%s\n\n' $(cat id2) | PK_PASSPHRASE= pk-forget --key-file key repo - >out &&
    grep -qx 'removed $(short 2)  .*  id' out"
ok "... removed" test ! -e "repo/snapshots/$(cat id2)"
ok "by policy: --keep-last 1" status_of 0 pk-forget --keep-last 1 repo
ok "... removed the older one of alpha" sh -c \
    "grep -qx 'removed $(short 3)  .*  none' .so && [ ! -e repo/snapshots/$(cat id3) ]"
ok "... kept the newest of each host" sh -c "ls repo/snapshots | sort >got && sort id4 id5 | cmp - got"
for i in 4 5; do
	ok "snapshot $i still restores" restore repo "$(cat id$i)" out$i
	ok "... as it was" same_tree "tree$i" "out$i/d"
done
ok "the repository checks, data and all" status_of 0 pk-index --check=data repo
ok "... ok" grep -q ": ok\$" .so

# --- The newest snapshot seen.
ok "pk-index notes the newest snapshot" sh -c "pk-index repo >/dev/null && grep -q '$(cat id5)' '$(newest)'"
ok "forgetting it" status_of 0 pk-forget repo "$(cat id5)"
ok "... moves the note back to the newest left" grep -q "$(cat id4) $S/repo\$" "$(newest)"
ok "... and the check takes it for no rollback" status_of 0 pk-index --check repo
ok "backup 6" snap alpha daily 6
ok "a snapshot removed by hand is still taken for a rollback" sh -c \
    "pk-index repo >/dev/null && rm -f repo/snapshots/$(cat id6) && ! pk-index --check repo"
ok "... which pk-forget leaves to say" sh -c \
    "pk-forget repo $(short 4) >/dev/null && grep -q '$(cat id6)' '$(newest)' && ! pk-index --check repo"
rm -f "$(newest)"
ok "backup 7" snap alpha daily 7
ok "forgetting the last snapshot" sh -c "pk-index repo >/dev/null && pk-forget repo $(short 7) >/dev/null"
ok "... drops the note of the repository" sh -c "! grep -q ' $S/repo\$' '$(newest)'"
ok "... and the empty repository checks" status_of 0 pk-index --check repo

# A snapshot that cannot be read cannot be counted: no policy runs.
ok "backup 8" snap alpha daily 8
printf 'damaged' >"repo/snapshots/$(printf '%064d' 0)"
ok "a damaged snapshot: a policy is refused" status_of 1 pk-forget --keep-last 1 repo
ok "... saying why" grep -q "^pk-forget: 1 snapshots cannot be read" .se
ok "... and ids still removed" status_of 0 pk-forget repo "$(short 8)"
