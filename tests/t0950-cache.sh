#!/bin/sh
# The stat cache and the known-chunk set, end to end: a re-backup with the
# cache opens no unchanged file; changes that keep size and mtime, new,
# deleted, renamed and replaced files, hard links and sparse files are all
# seen; a damaged, stale or foreign cache or known-chunk set never makes a
# snapshot that does not restore; the exported ones work like the default
# ones; --no-cache writes and uses none.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p t/sub t/many u
gen_file t/a-big 2500000 1		# first in the walk: first list
for i in 2 3 4 5 6 7; do gen_file t/f$i 600000 $i; done
"$PK_TOP/tests/gen" 200000 8 text >t/sub/text
printf small >t/sub/small
: >t/zero
gen_file t/link1 600000 9
ln t/link1 t/sub/link2
ln -s ../f2 t/sub/sym
truncate -s 8M t/sparse
printf 'in the middle' | dd of=t/sparse bs=1M seek=4 conv=notrunc 2>/dev/null
# Many small files: lists longer than a page.
i=0
while [ $i -lt 300 ]; do printf 'small file %d\n' $i >t/many/s$i; i=$((i + 1)); done
printf 'with xattrs' >t/sub/xa
setfattr -n user.k -v v1 t/sub/xa 2>/dev/null
gen_file u/other 2000000 50		# another repository's data
mkdir c
gen_file c/old 300000 80

# Files whose ctime is within a second of a backup's start are left out of
# its cache: let the tree settle.
settle() { sleep 2; }

# nreg: the regular files pk-walk reads, one per inode.
nreg() {
	echo $(($(find t -type f -links 1 | wc -l) +
	    $(find t -type f -links +1 -printf '%i\n' | sort -u | wc -l)))
}


have_strace=
strace -f -qq -e trace=openat -o /dev/null true 2>/dev/null && have_strace=1
# LeakSanitizer cannot run under ptrace (make check SANITIZE=address):
# what runs under strace goes without it.
nolsan=ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# bk REPO WALK-ARGS...: pk-walk -v WALK-ARGS | pk-chunk | pk-dedup |
# pk-store REPO, pk-walk under strace when there is one.  Its stream in
# $S/walked, its report in $S/walk.err, its opened files in $S/trace, the
# snapshot id in $S/id.
bk() {
	_r=$1; shift
	: >"$S/trace"
	set -- ${have_strace:+env "$nolsan" strace -f -qq -e trace=openat \
	    -o "$S/trace"} pk-walk -v "$@"
	{ "$@" 2>"$S/walk.err"; echo $? >"$S/st.walk"; } | tee "$S/walked" |
	    pk-chunk | pk-dedup | pk-store "$_r" >"$S/id" 2>"$S/store.err" ||
	    { echo "pk-store: exit $?"; cat "$S/store.err" "$S/walk.err"; return 1; }
	[ "$(cat "$S/st.walk")" = 0 ] ||
	    { echo "pk-walk: exit $(cat "$S/st.walk")"; cat "$S/walk.err"; return 1; }
	grep -Eqx '[0-9a-f]{64}' "$S/id"
}

# unchanged N: the last walk did not read N files.
unchanged() {
	if [ "$1" = 0 ]; then
		! grep -q "unchanged (not read)" "$S/walk.err" && return 0
	else
		grep -q ", $1 unchanged (not read)" "$S/walk.err" && return 0
	fi
	echo "want $1 unchanged:"
	cat "$S/walk.err"
	return 1
}

# read_nothing: the last walk read no byte.
read_nothing() {
	grep -q " files, 0.0 MiB in " "$S/walk.err" && return 0
	cat "$S/walk.err"
	return 1
}

# opened: the files of the tree the last walk opened (not directories).
opened() {
	grep 'openat([0-9]' "$S/trace" | grep -v O_DIRECTORY |
	    sed 's/^[0-9]* *openat([0-9]*, "\([^"]*\)".*/\1/'
}

# opened_none, opened_only NAME...: what the last walk opened.
opened_none() {
	[ -z "$have_strace" ] && return 0
	opened >"$S/opened"
	[ ! -s "$S/opened" ] && return 0
	echo "opened:"; cat "$S/opened"
	return 1
}
opened_only() {
	[ -z "$have_strace" ] && return 0
	opened | sort >"$S/opened"
	printf '%s\n' "$@" | sort | diff - "$S/opened"
}

# restores_as REPO SNAPSHOT: the snapshot is the tree t as it is now.
k=0
restores_as() {
	k=$((k + 1))
	restore "$1" "$2" "$S/x$k" && same_tree t "$S/x$k/t"
	_st=$?
	rm -rf "$S/x$k"
	return $_st
}

# snapshots REPO: how many snapshots it lists.
snapshots() { pk-index "$1" | tail -n +2 | wc -l; }

# --- 1. A second backup reads no file.
pk-store --init repo
cdir=$(cache_dir repo)
settle
N=$(nreg)
ok "first backup" bk repo -r repo t
id1=$(cat id)
ok "first backup: every file read" unchanged 0
[ -n "$have_strace" ] || skip "opened files" "strace cannot trace here (ptrace not permitted)"
# opened_all: the last walk opened every regular file.
opened_all() {
	[ -z "$have_strace" ] && return 0
	[ "$(opened | wc -l)" -eq "$N" ] && return 0
	echo "opened:"; opened
	return 1
}
ok "first backup: every file opened (so the trace can tell)" opened_all
ok "first backup: stat cache and known-chunk set written" \
    test -s "$cdir/stat" -a -s "$cdir/stat.lists" -a -s "$cdir/stat.known"
ok "first backup: restores" restores_as repo latest
cp -a "$cdir" cache.first

ok "second backup" bk repo -r repo t
id2=$(cat id)
ok "second backup: $N files not read" unchanged "$N"
ok "second backup: no byte read" read_nothing
ok "second backup: no file of the tree opened" opened_none
ok "second backup: the stream is small" sh -c \
    '[ $(stat -c %s walked) -lt 100000 ] || { ls -l walked; false; }'
ok "second backup: restores" restores_as repo latest
ok "second backup: lists the same files as the first" sh -c \
    "pk-index repo $id1 >l1 && pk-index repo $id2 >l2 && diff l1 l2"
ok "second backup: the sparse file's content" sh -c \
    'pk-cat repo latest:t/sparse | cmp - t/sparse'
ok "second backup: the hard links are one file" sh -c \
    'pk-index repo latest | grep -q " t/sub/link2 link to t/link1\$" ||
    { pk-index repo latest | grep link; false; }'

# --- 2. New content, same size, the old mtime put back, settled: the
# ctime gives it away.
cp -p t/f2 f2.old
gen_file t/f2 600000 22
touch -r f2.old t/f2
ok "same size and mtime: the content differs (the test is sound)" sh -c \
    '! cmp -s t/f2 f2.old && [ $(stat -c %s%Y t/f2) = $(stat -c %s%Y f2.old) ]'
settle
ok "same size and mtime: backup" bk repo -r repo t
ok "same size and mtime: the new content stored" sh -c \
    'pk-cat repo latest:t/f2 | cmp - t/f2'
ok "same size and mtime: only that file read" unchanged $((N - 1))
ok "same size and mtime: only that file opened" opened_only f2
ok "same size and mtime: restores" restores_as repo latest

# --- 3. A file changed just before a backup is read, and left out of the
# cache (racy), so the next backup reads it again.
gen_file t/f3 600000 33
touch -r f2.old t/f3
ok "racy: backup right after a change" bk repo -r repo t
ok "racy: the new content stored" sh -c 'pk-cat repo latest:t/f3 | cmp - t/f3'
# Racy again (its ctime now), however long the above took: the next backup
# reads it and leaves it out of the cache once more.
touch -r f2.old t/f3
ok "racy: backup again" bk repo -r repo t
ok "racy: read again, not taken from the cache" opened_only f3
ok "racy: ... $((N - 1)) not read" unchanged $((N - 1))
# A copied snapshot keeps its start time: a file racy then stays out of
# the cache of the copy (copied after the settle below).
# racy_in REPO: the next walk of c with REPO's cache reads c/racy.
racy_in() {
	pk-walk -v -r "$1" c 2>walk.err >/dev/null &&
	    unchanged $(($(ls c | wc -l) - 1))
}
# A loaded machine may start the backup more than a second after the file
# was written, so that it is not racy even in the original: write it and
# back it up again then.
for try in 1 2 3; do
	gen_file c/racy 300000 $((80 + try))
	rm -rf orig && pk-store --init orig
	bk orig c >/dev/null && racy_in orig >/dev/null && break
done
ok "racy, copied: backup, the file racy in it" racy_in orig

# --- New, deleted, renamed, replaced by a rename, hard links changed
# (f3, racy in the last snapshot, is read once more).
gen_file t/new 700000 70
rm t/f4
mv t/f5 t/f5.moved
mv t/f6 t/f7				# f7 is now f6's inode
ln t/a-big t/zz-hard			# a new link: nlink and ctime change
rm t/link1				# sub/link2 is alone now
settle
ok "new, deleted, renamed: backup" bk repo -r repo t
ok "new, deleted, renamed: restores" restores_as repo latest
ok "new, deleted, renamed: the deleted file is gone" sh -c \
    '! pk-cat repo latest:t/f4 >/dev/null 2>&1'
ok "new, deleted, renamed: what was read" \
    opened_only new f5.moved f7 a-big link2 f3
ok "new, deleted, renamed: the rest not read" unchanged $(($(nreg) - 6))
ok "renamed: the content" sh -c 'pk-cat repo latest:t/f5.moved | cmp - t/f5.moved'
ok "replaced by a rename: the content" sh -c 'pk-cat repo latest:t/f7 | cmp - t/f7'
ok "new hard link: one file" sh -c 'pk-cat repo latest:t/zz-hard | cmp - t/a-big'
pk-store --init copy
ok "racy, copied: the copy" sh -c \
    'pk-cat orig latest --stream | pk-store copy >/dev/null'
ok "racy, copied: the file racy in the original is read" racy_in copy
N=$(nreg)
ok "settled: backup" bk repo -r repo t
ok "settled: $N files not read" unchanged "$N"
ok "settled: no file opened" opened_none
ok "settled: restores (hard links, sparse file)" restores_as repo latest

# --- 4. A damaged or stale cache: files read, the snapshot right.
cp -a "$cdir" cache.good
# flip FILE OFFSET
flip() {
	_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((_b ^ 1)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# damaged WHAT: a backup with the damaged cache restores the tree; the
# good cache is put back.
damaged() {
	ok "$1: backup" bk repo -r repo t
	ok "$1: restores" restores_as repo latest
	rm -rf "$cdir"
	cp -a cache.good "$cdir"
}
# The first list is a-big's: a 64-byte head, then 40-byte items, the
# chunk id first.
flip "$cdir/stat.lists" $((16 + 64 + 5))
damaged "a chunk id in a list"
flip "$cdir/stat.lists" $((16 + 64 + 5))
ok "a chunk id in a list: that file read" opened_only a-big
ok "a chunk id in a list: the others not" unchanged $((N - 1))
ok "a chunk id in a list: the right content" sh -c \
    'pk-cat repo latest:t/a-big | cmp - t/a-big'
flip "$cdir/stat.lists" $((16 + 64 + 40 + 35))
damaged "a chunk length in a list"
ok "a chunk length in a list: that file read" opened_only a-big
flip "$cdir/stat.lists" $((16 + 20))
damaged "a list's stat"
ok "a list's stat: that file read" opened_only a-big
flip "$cdir/stat" 40
damaged "a byte of the stat file's header"
ok "a byte of the stat file's header: a warning" sh -c \
    'grep -q "^pk-walk: .*; reading every file" walk.err || { cat walk.err; false; }'
ok "a byte of the stat file's header: every file read" unchanged 0
n=$(stat -c %s "$cdir/stat")
dd if=/dev/urandom of="$cdir/stat" bs=4096 seek=1 count=$(((n - 4096) / 4096)) \
    conv=notrunc 2>/dev/null
damaged "garbage over the slots"
n=$(stat -c %s "$cdir/stat.lists")
truncate -s $((n / 2)) "$cdir/stat.lists"
damaged "stat.lists cut in half"
truncate -s $((n - 1)) "$cdir/stat.lists"
damaged "stat.lists one byte short"
truncate -s 40 "$cdir/stat.lists"
damaged "stat.lists cut to 40 bytes, its magic kept"
truncate -s 0 "$cdir/stat.lists"
damaged "stat.lists emptied"
rm "$cdir/stat.lists"
damaged "stat.lists deleted"
ok "stat.lists deleted: a warning" sh -c \
    'grep -q "^pk-walk: .*stat.lists: missing; reading every file" walk.err ||
    { cat walk.err; false; }'
gen_file "$cdir/stat.lists" 100000 5
damaged "stat.lists garbage"
cp cache.first/stat.lists "$cdir/stat.lists"
damaged "stat.lists of the first backup under today's slots"
cp cache.first/stat "$cdir/stat"
damaged "stat of the first backup over today's lists"
cp -a cache.first/. "$cdir"
damaged "the whole cache of the first backup"
cp "$cdir/stat.known" "$cdir/stat"
damaged "a known-chunk set as the stat file"
ok "a known-chunk set as the stat file: a warning" sh -c \
    'grep -q "^pk-walk: .*; reading every file" walk.err || { cat walk.err; false; }'

# --- 5. Another repository's cache.
pk-store --init other
ocdir=$(cache_dir other)
ok "other repository: a backup of other data" bk other -r other u
nother=$(snapshots other)
ok "-r with the other repository's cache: backup" \
    bk repo -r repo --cache "$ocdir/stat" t
ok "-r with the other repository's cache: a warning" sh -c \
    'grep -q "^pk-walk: .*another repository; reading every file" walk.err ||
    { cat walk.err; false; }'
ok "-r with the other repository's cache: every file read" unchanged 0
ok "-r with the other repository's cache: restores" restores_as repo latest
cp -a "$ocdir" ocache.before
pk-walk --cache "$cdir/stat" t 2>/dev/null | pk-chunk | pk-store other >out 2>err
ok "--cache of this repository into the other: refused" sh -c \
    '[ ! -s out ] && grep -q "^pk-store: .*: REF to chunk .* refused" err ||
    { cat out err; false; }'
ok "... no snapshot" test "$(snapshots other)" = "$nother"
ok "... the other repository's cache as it was" diff -r ocache.before "$ocdir"
ok "... the other repository still backs up" bk other -r other u
pk-store --init same
ok "a repository with the same data: backup without cache" bk same t
ok "... with the first repository's cache: backup" bk same --cache "$cdir/stat" t
ok "... files not read" unchanged "$N"
ok "... restores" restores_as same latest

# --- 6. An exported cache works like the default one.
rm -f "$cdir/stat" "$cdir/stat.lists"
ok "--export-cache" pk-index --export-cache exported repo latest
ok "an exported cache: backup" bk repo --cache exported t
ok "an exported cache: no file read" unchanged "$N"
ok "an exported cache: no file opened" opened_none
ok "an exported cache: restores" restores_as repo latest
pk-walk -v -r repo --cache exported t 2>walk.err >/dev/null
ok "an exported cache with -r: no file read" unchanged "$N"
ok "--export-cache of the first snapshot" \
    pk-index --export-cache exported1 repo "$id1"
ok "the first snapshot's cache: backup" bk repo --cache exported1 t
ok "the first snapshot's cache: the unchanged files not read" sh -c \
    'grep -Eq ", [1-9][0-9]* unchanged \(not read\)" walk.err &&
    ! grep -q ", '"$N"' unchanged" walk.err || { cat walk.err; false; }'
ok "the first snapshot's cache: restores" restores_as repo latest

# --- 7. --no-cache.
pk-store --init nocache
ok "pk-store --no-cache: backup" sh -c \
    'pk-walk t | pk-chunk | pk-store --no-cache nocache >/dev/null'
ok "pk-store --no-cache: no cache written" sh -c \
    "! ls $(cache_dir nocache)/stat* 2>/dev/null"
ok "pk-walk -r --no-cache: backup" bk repo -r repo --no-cache t
ok "pk-walk -r --no-cache: every file read" unchanged 0
ok "pk-walk -r --no-cache: every file opened" opened_all
ok "pk-store --cache FILE: backup" sh -c \
    'pk-walk t | pk-chunk | pk-store --cache mycache nocache >/dev/null'
ok "pk-store --cache FILE: written there" \
    test -s mycache -a -s mycache.lists -a -s mycache.known
pk-walk -v --cache mycache t 2>walk.err >/dev/null
ok "pk-store --cache FILE: pk-walk uses it" unchanged "$N"

# --- 8. The known-chunk set.
pk-walk t | pk-chunk >full
ok "known set: the full stream" test -s full
ok "pk-dedup --known: backup" sh -c \
    "pk-dedup --known $cdir/stat.known <full >viaknown && pk-store repo <viaknown >/dev/null"
ok "pk-dedup --known: the stream is tiny" sh -c \
    '[ $(stat -c %s viaknown) -lt $(($(stat -c %s full) / 100)) ] || { ls -l full viaknown; false; }'
ok "pk-dedup --known: restores" restores_as repo latest
ok "pk-dedup -r, no passphrase: the set is enough" sh -c \
    'env -u PK_PASSPHRASE pk-dedup -r repo <full >viar && cmp viar viaknown'
mv "$cdir/stat.known" known.save
ok "pk-dedup -r, no set, no passphrase: the chunks sent" sh -c \
    'pk-dedup <full >viaself && env -u PK_PASSPHRASE pk-dedup -r repo <full >vianone &&
    cmp vianone viaself'
mv known.save "$cdir/stat.known"
ok "--export-known" pk-index --export-known exported.known repo
ok "--export-known: the same references as the set pk-store keeps" sh -c \
    'pk-dedup --known exported.known <full >viaexport && cmp viaexport viaknown'
ok "--export-known of the first snapshot" \
    pk-index --export-known first.known repo "$id1"
ok "--export-known of the first snapshot: the new chunks sent" sh -c \
    'pk-dedup --known first.known <full >viafirst &&
    [ $(stat -c %s viafirst) -gt $(($(stat -c %s viaknown) + 1000000)) ] &&
    pk-store repo <viafirst >/dev/null'
ok "--export-known of the first snapshot: restores" restores_as repo latest
nother=$(snapshots other)
pk-dedup --known exported.known <full | pk-store other >out 2>err
ok "another repository's known set: refused by pk-store" sh -c \
    '[ ! -s out ] && grep -q "^pk-store: .*: REF to chunk .* refused" err ||
    { cat out err; false; }'
ok "... no snapshot" test "$(snapshots other)" = "$nother"
# refused_or_restores: the last pk-store made no snapshot and said why,
# or made one that restores.
refused_or_restores() {
	if [ -s out ]; then
		restores_as other latest
	else
		grep -q "^pk-store: .*: REF to chunk .* refused" err &&
		    [ "$(snapshots other)" = "$nother" ] ||
		    { cat err err.dedup; false; }
	fi
}
cp exported.known "$ocdir/stat.known"
pk-dedup -r other <full 2>err.dedup | pk-store other >out 2>err
ok "another repository's known set in the default place: no snapshot that does not restore" \
    refused_or_restores

# --- 8. Exports onto a file that is neither: refused, the file kept.
printf 'precious\n' >precious
pk-index repo --export-known precious 2>err
ok "--export-known onto another file: refused" sh -c \
    'grep -q "^pk-index: precious: exists and is not a known-chunk set" err || { cat err; false; }'
pk-index repo latest --export-cache precious 2>err
ok "--export-cache onto another file: refused" sh -c \
    'grep -q "^pk-index: precious: exists and is not a stat cache" err || { cat err; false; }'
ok "... the file kept, nothing beside it" sh -c \
    '[ "$(cat precious)" = precious ] && [ -z "$(ls -d precious.* 2>/dev/null)" ]'
head -c 10 "$cdir/stat.known" >cut.known
ok "--export-known onto a known-chunk set cut short: replaced" sh -c \
    'pk-index repo --export-known cut.known && [ "$(stat -c %s cut.known)" -gt 4096 ]'
