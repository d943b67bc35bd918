#!/bin/sh
# pk-cat: one file's bytes, a directory as tar, snapshot selectors (latest,
# id prefixes, unknown and ambiguous ones), missing paths, hard links, a
# stream on stdin turned into tar, the command line.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p t/sub/deeper t/other t/empty
gen_file t/other/big 9437184 1
"$PK_TOP/tests/gen" 200000 2 text >t/sub/text
printf hi >t/sub/deeper/small
: >t/sub/zero
ln t/other/big t/sub/hard
ln -s ../other/big t/sub/sym
truncate -s 20M t/sub/sparse
printf 'in the middle' | dd of=t/sub/sparse bs=1M seek=10 conv=notrunc 2>/dev/null
printf 'old' >t/changes
mkdir -p t/linked/a t/linked/b
printf 'linked twice' >t/linked/a/one
ln t/linked/a/one t/linked/b/two

pk-store --init repo
ok "first backup" backup repo t
cp id id1
printf 'new' >t/changes
printf 'added' >t/added
ok "second backup" backup repo t
cp id id2

# One file.
ok "a file's bytes" sh -c 'pk-cat repo latest:t/sub/text | cmp - t/sub/text'
ok "a leading / is optional" sh -c 'pk-cat repo latest:/t/sub/text | cmp - t/sub/text'
ok "a file of several chunks" sh -c 'pk-cat repo latest:t/other/big | cmp - t/other/big'
ok "a file of several chunks, on 1 and on 4 threads" sh -c \
    'pk-cat -j 1 repo latest:t/other/big | cmp - t/other/big &&
    pk-cat -j 4 repo latest:t/other/big | cmp - t/other/big'
ok "the same archive on 1 and on 4 threads" sh -c \
    'pk-cat -j 1 repo latest >a1.tar && pk-cat -j 4 repo latest >a4.tar && cmp a1.tar a4.tar'
ok "-j 0: exit 2" status_of 2 pk-cat -j 0 repo latest
ok "an empty file" sh -c 'pk-cat repo latest:t/sub/zero >out && [ ! -s out ]'
ok "a sparse file's bytes" sh -c 'pk-cat repo latest:t/sub/sparse | cmp - t/sub/sparse'
ok "a hard link: the linked file's bytes" sh -c 'pk-cat repo latest:t/sub/hard | cmp - t/other/big'
ok "the first name of a hard link too" sh -c 'pk-cat repo latest:t/other/big | cmp - t/other/big'
ok "exit 0, nothing on stderr" sh -c 'pk-cat repo latest:t/sub/text >/dev/null 2>err && [ ! -s err ]'
ok "a closed pipe: quiet" sh -c \
    'pk-cat repo latest:t/other/big 2>err | head -c 10 >/dev/null; [ ! -s err ] || { cat err; false; }'

# Selectors.
ok "latest is the newest snapshot" sh -c '[ "$(pk-cat repo latest:t/changes)" = new ]'
ok "an id prefix selects an older snapshot" sh -c \
    '[ "$(pk-cat repo "$(cut -c 1-8 id1):t/changes")" = old ]'
ok "a 4-digit prefix" sh -c '[ "$(pk-cat repo "$(cut -c 1-4 id2):t/changes")" = new ] ||
    [ "$(cut -c 1-4 id1)" = "$(cut -c 1-4 id2)" ]'
ok "a full id" sh -c '[ "$(pk-cat repo "$(cat id1):/t/changes")" = old ]'
# A prefix of neither id.
for p in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do
	case "$(cut -c 1-4 id1) $(cut -c 1-4 id2)" in
	*"${p}${p}${p}${p}"*) ;;
	*) unknown=$p$p$p$p; break ;;
	esac
done
ok "unknown snapshot: exit 1" status_of 1 pk-cat repo "$unknown"
ok "unknown snapshot: message" grep -qx "pk-cat: $unknown: no such snapshot" .se
ok "unknown snapshot: nothing on stdout" test ! -s .so
ok "not an id: exit 1" status_of 1 pk-cat repo zz
ok "not an id: message" grep -q "^pk-cat: zz: not a snapshot id or 'latest'" .se
ok "a prefix of 3 digits is refused" status_of 1 pk-cat repo "$(cut -c 1-3 id1)"

# Missing paths.
ok "missing path: exit 1" status_of 1 pk-cat repo latest:t/nope
ok "missing path: message" grep -qx "pk-cat: t/nope: not in the snapshot" .se
ok "missing path: nothing on stdout" test ! -s .so
ok "a path only in the newer snapshot is missing in the older" \
    status_of 1 pk-cat repo "$(cut -c 1-8 id1):t/added"
ok "a prefix of a name is not the name" status_of 1 pk-cat repo latest:t/su
ok "a missing repository: exit 1" status_of 1 pk-cat nowhere latest

# A directory as a tar of that subtree only.
pk-cat repo latest:t/sub >sub.tar 2>err
ok "directory: exit 0" test $? -eq 0
ok "directory: only the subtree" sh -c \
    'tar -tf sub.tar >list && grep -q "^t/sub/deeper/small$" list && ! grep -v "^t/sub/" list'
ok "directory: a trailing / selects the same" sh -c \
    'pk-cat repo latest:t/sub/ | cmp - sub.tar'
mkdir x1
ok "directory: GNU tar extracts it" tar -xpf sub.tar -C x1
ok "directory: the subtree restored" sh -c \
    'for f in text zero sparse deeper/small; do cmp t/sub/$f x1/t/sub/$f || exit 1; done &&
    [ "$(readlink x1/t/sub/sym)" = ../other/big ]'
ok "directory: a file hard-linked from outside it restored" cmp t/other/big x1/t/sub/hard
ok "directory: nothing else restored" sh -c '[ "$(ls x1/t)" = sub ]'
# linked_in DIR: t/linked restored in DIR, its two names one inode.
linked_in() {
	pk-cat repo latest:t/linked | tar -xpf - -C "$1" &&
	    same_tree t/linked "$1/t/linked" &&
	    [ "$(stat -c %i "$1/t/linked/a/one")" = "$(stat -c %i "$1/t/linked/b/two")" ]
}
mkdir x2
ok "directory: both names of a hard link inside it" linked_in x2
mkdir x3
ok "directory: a hard link to a file outside it" sh -c \
    'pk-cat repo latest:t/linked/b | tar -xpf - -C x3 && cmp x3/t/linked/b/two t/linked/b/two'
ok "a symbolic link comes as tar" sh -c \
    'pk-cat repo latest:t/sub/sym | tar -tvf - | grep -q "^l.* t/sub/sym -> ../other/big$"'
ok "--tar: a file as tar" sh -c \
    'pk-cat --tar repo latest:t/sub/deeper/small | tar -xOf - t/sub/deeper/small | cmp - t/sub/deeper/small'
ok "an empty directory" sh -c \
    'pk-cat repo latest:t/empty | tar -tf - | grep -qx "t/empty/"'

# The whole snapshot.
mkdir x4
ok "the whole snapshot: restored" restore repo latest x4
ok "the whole snapshot: the tree" same_tree t x4/t

# A stream on stdin.
# from_stdin DIR COMMAND...: COMMAND | pk-cat - | tar -x into DIR (made).
from_stdin() {
	_d=$1; shift
	mkdir "$_d" &&
	{ "$@" | pk-cat - 2>"$S/err"; echo $? >"$S/st"; } | tar -xpf - -C "$_d" &&
	    [ "$(cat "$S/st")" = 0 ] && [ ! -s "$S/err" ] || { cat "$S/err"; return 1; }
}
ok "pk-walk | pk-cat -" from_stdin x5 pk-walk t
ok "pk-walk | pk-cat -: the tree" same_tree t x5/t
walk_chunk() { pk-walk "$@" | pk-chunk; }
ok "pk-walk | pk-chunk | pk-cat -" from_stdin x6 walk_chunk t
ok "pk-walk | pk-chunk | pk-cat -: the tree" same_tree t x6/t
ok "pk-cat --stream | pk-cat -" from_stdin x7 pk-cat --stream repo latest
ok "pk-cat --stream | pk-cat -: the tree" same_tree t x7/t
ok "pk-cat - of garbage: exit 1" status_of 1 sh -c 'echo garbage | pk-cat -'
ok "pk-cat - of garbage: a message" grep -q "^pk-cat: " .se

# A database dump piped in, and an empty one.
gen_file dump 30000000 7
ok "a dump on stdin: backup" sh -c \
    'pk-walk --name /db/dump.sql - <dump | pk-chunk | pk-dedup -r repo | pk-store repo >idd'
ok "a dump on stdin: its bytes" sh -c 'pk-cat repo latest:/db/dump.sql | cmp - dump'
ok "a dump on stdin: its size listed" sh -c \
    'pk-index repo latest | grep -q " 30000000 .* db/dump.sql$" || { pk-index repo latest; false; }'
ok "an empty dump" sh -c \
    'pk-walk --name empty.sql - </dev/null | pk-chunk | pk-store repo >/dev/null &&
    pk-cat repo latest:empty.sql >empty.out && [ -f empty.out ] && [ ! -s empty.out ]'

# Ambiguous prefixes: snapshots of a plaintext repository (no key
# derivation, so they are cheap) until two ids share 4 digits.
pk-store --init --no-encryption plain
pk-walk t/sub/deeper | pk-chunk >small.stream
round=0
amb=
while [ -z "$amb" ] && [ $round -lt 10 ]; do
	for j in 1 2 3 4; do
		( i=0; while [ $i -lt 40 ]; do
			pk-store plain <small.stream >/dev/null 2>&1
			i=$((i + 1))
		done ) &
	done
	wait
	amb=$(ls plain/snapshots | cut -c 1-4 | sort | uniq -d | head -n 1)
	round=$((round + 1))
done
if [ -n "$amb" ]; then
	ok "ambiguous prefix: exit 1" status_of 1 pk-cat plain "$amb"
	ok "ambiguous prefix: message" grep -qx "pk-cat: $amb: ambiguous snapshot id" .se
	ok "ambiguous prefix: a longer one selects" sh -c \
	    'id=$(ls plain/snapshots | grep "^'"$amb"'" | head -n 1) &&
	    pk-cat plain "$(echo "$id" | cut -c 1-12):t/sub/deeper/small" | cmp - t/sub/deeper/small'
else
	echo "not ok - $T: ambiguous prefix: no two of $(ls plain/snapshots | wc -l) ids share 4 digits"
fi

# The command line.
ok "no arguments: exit 2" status_of 2 pk-cat
ok "no arguments: usage on stderr" grep -q "^usage: pk-cat " .se
ok "one argument: exit 2" status_of 2 pk-cat repo
ok "three arguments: exit 2" status_of 2 pk-cat repo latest extra
ok "unknown option: exit 2" status_of 2 pk-cat --bogus repo latest
ok "--help: exit 0" status_of 0 pk-cat --help
ok "--help: usage on stdout" grep -q "^usage: pk-cat " .so
ok "--version" sh -c 'pk-cat --version | grep -q "^pk-cat [0-9]"'
