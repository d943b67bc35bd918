#!/bin/sh
# A snapshot that an older pk-store committed with entries the validator
# now refuses (tests/golden/repo-bad-entries, made from a tree t of files
# aaaa bbbb cccc dddd eeee yy zz holding "NAME content\n"): t/bbbb's user
# name holds a NUL byte, t/dddd has 2^62 bytes of holes more, t/yy became
# t/zzz, before t/zz.  pk-index --check names each one; a restore of the
# whole snapshot names the two it cannot restore and restores every other
# file, whatever the number of threads.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

cp -R "$PK_TOP/tests/golden/repo-bad-entries" repo && mkdir -p repo/tmp &&
    chmod -R go-rwx repo

for level in "" "=data"; do
	ok "--check$level: exit 1" status_of 1 pk-index --check$level repo
	ok "--check$level: names t/bbbb" grep -q \
	    "catalog record [0-9]*: t/bbbb: entry: user or group name holds a NUL byte" .se
	ok "--check$level: names t/dddd" grep -q \
	    "catalog record [0-9]*: t/dddd: entry: size 4611686018427387917 above" .se
	ok "--check$level: names t/zz" grep -q \
	    "catalog record [0-9]*: t/zz: a path out of order" .se
	ok "--check$level: three problems" grep -q "3 problems" .se
done

for j in 1 4; do
	pk-cat -j $j repo latest >out.tar 2>err
	echo $? >st
	ok "restore -j $j: exit 1" test "$(cat st)" = 1
	ok "restore -j $j: names t/bbbb" grep -q "^pk-cat: t/bbbb: .*NUL byte" err
	ok "restore -j $j: names t/dddd" grep -q "^pk-cat: t/dddd: .*above the largest" err
	rm -rf x && mkdir x
	ok "restore -j $j: tar extracts the rest" tar -xf out.tar -C x
	ok "restore -j $j: every other file, with its content" sh -c '
	    cd x/t && [ "$(ls | tr "\n" " ")" = "aaaa cccc eeee zz zzz " ] &&
	    for f in aaaa cccc eeee zz; do
		[ "$(cat $f)" = "$f content" ] || exit 1
	    done && [ "$(cat zzz)" = "yy content" ]'
done

ok "the bad file alone: exit 1, nothing written" sh -c \
    '! pk-cat repo latest:t/bbbb >one 2>err && [ ! -s one ] && grep -q "NUL byte" err'
ok "the directory of bad files: the others" sh -c \
    '{ pk-cat repo latest:t 2>err; echo $? >st; } | tar -tf - >list &&
    [ "$(cat st)" = 1 ] && grep -qx t/cccc list && ! grep -q bbbb list'
ok "a good file of the same snapshot" sh -c \
    '[ "$(pk-cat repo latest:t/eeee)" = "eeee content" ]'
