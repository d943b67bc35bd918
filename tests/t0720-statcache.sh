#!/bin/sh
# The stat cache: pk-store writes it at commit, pk-walk -r REPO (or --cache
# FILE) sends unchanged files as references without reading them.  A
# re-backup then costs next to nothing, and whatever happens to the files
# or to the cache, every snapshot restores the tree as it was: a changed
# file is read again, a damaged or foreign cache is not trusted, a cache of
# another repository makes no snapshot.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p t/sub t/empty
i=1
while [ $i -le 6 ]; do gen_file t/f$i 2000000 $i; i=$((i + 1)); done
"$PK_TOP/tests/gen" 1000000 7 text >t/sub/text
printf small >t/sub/small
: >t/zero
ln t/f1 t/sub/hard
ln -s ../f2 t/sub/sym
truncate -s 50M t/sparse
printf 'in the middle' | dd of=t/sparse bs=1M seek=25 conv=notrunc 2>/dev/null
have_xattr=
setfattr -n user.k -v v1 t/sub/small 2>/dev/null && have_xattr=1

# Files changed within a second of a backup's start are not cached: let
# the tree settle.
settle() { sleep 2.1; }

# backup_r REPO DIR: pk-walk -v -r REPO DIR | pk-chunk | pk-dedup -r REPO |
# pk-store REPO; the stream of pk-walk in $S/walked, its report in $S/walk.err.
backup_r() {
	{ pk-walk -v -r "$1" "$2" 2>"$S/walk.err"; echo $? >"$S/st.walk"; } |
	    tee "$S/walked" | pk-chunk | pk-dedup -r "$1" | pk-store "$1" >"$S/id" ||
	    { echo "pk-store: exit $?"; return 1; }
	[ "$(cat "$S/st.walk")" = 0 ] || { echo "pk-walk: exit $(cat "$S/st.walk")"; cat "$S/walk.err"; return 1; }
}

# unchanged N: pk-walk reported N files not read.
unchanged() {
	grep -q ", $1 unchanged (not read)" "$S/walk.err" && return 0
	cat "$S/walk.err"
	return 1
}

# restores_as REPO DIR: the latest snapshot is DIR.
k=0
restores_as() {
	k=$((k + 1))
	restore "$1" latest "$S/x$k" && same_tree "$2" "$S/x$k/$2"
	_r=$?
	rm -rf "$S/x$k"
	return $_r
}

pk-store --init repo
settle
ok "first backup: writes the cache" backup_r repo t
ok "first backup: reads every file" sh -c '! grep -q "unchanged (not read)" walk.err || unchanged 0'
ok "first backup: the cache is there" sh -c 'ls cache/pk/*/*/stat >/dev/null'
ok "first backup: restores" restores_as repo t

ok "unchanged tree: backup" backup_r repo t
ok "unchanged tree: no regular file read (10 of them)" unchanged 10
ok "unchanged tree: the stream is small" sh -c \
    '[ $(stat -c %s walked) -lt 100000 ] || { ls -l walked; false; }'
ok "unchanged tree: restores" restores_as repo t

# --- Changes the cache must see, though sizes and mtimes are kept.
settle
cp t/f2 f2.old
gen_file t/f2 2000000 22
touch -r f2.old t/f2			# same size, same mtime, new content
printf 'more' >>t/f3			# grew
rm t/f4
gen_file t/f4 2000000 44		# another file, same name, size
touch -r f2.old t/f4
chmod 600 t/f5				# mode only
[ -n "$have_xattr" ] && setfattr -n user.k -v v2 t/sub/small	# xattr only
printf 'changed' | dd of=t/sparse bs=1M seek=40 conv=notrunc 2>/dev/null
ok "changed tree: backup" backup_r repo t
ok "changed tree: restores the changes" restores_as repo t
ok "changed tree: the same content, new bytes" sh -c 'pk-cat repo latest:t/f2 | cmp - t/f2'
ok "changed tree: an unchanged file still not read" sh -c \
    'grep -Eq ", [1-9][0-9]* unchanged \(not read\)" walk.err || { cat walk.err; false; }'

# --- A damaged cache is not trusted.
cachedir=$(ls -d cache/pk/*/*/stat 2>/dev/null | head -n 1)
cachedir=${cachedir%/stat}
case $cachedir in
cache/pk/?*) ;;
*) echo "not ok - $T: no stat cache under cache/pk: the rest cannot run"; exit 1 ;;
esac
settle
ok "settled: backup" backup_r repo t
ok "settled: files are not read" sh -c \
    'grep -Eq ", [1-9][0-9]* unchanged \(not read\)" walk.err || { cat walk.err; false; }'
cp -a "$cachedir" cache.good
# flip FILE OFFSET
flip() {
	_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((_b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# damaged WHAT: after the damage, a backup with -r restores the tree.
damaged() {
	ok "$1: backup" backup_r repo t
	ok "$1: restores" restores_as repo t
	rm -rf "$cachedir"
	cp -a cache.good "$cachedir"
}
n=$(stat -c %s "$cachedir/stat.lists")
for off in 0 $((n / 3)) $((n / 2)) $((n - 1)); do
	flip "$cachedir/stat.lists" $off
	damaged "stat.lists, byte $off flipped"
done
n=$(stat -c %s "$cachedir/stat")
for off in 40 4096 $((n / 2)); do
	flip "$cachedir/stat" $off
	damaged "stat, byte $off flipped"
done
truncate -s 10 "$cachedir/stat.lists"
damaged "stat.lists truncated"
: >"$cachedir/stat"
damaged "stat emptied"
gen_file "$cachedir/stat.lists" 5000 9
damaged "stat.lists garbage"

# --- A cache of another repository.
pk-store --init other
ok "other repository: a backup" sh -c 'pk-walk t | pk-chunk | pk-store other >/dev/null'
othercache=$(ls -d cache/pk/*/*/stat | grep -v "^$cachedir/" | head -n 1)
othercache=${othercache%/stat}
case $othercache in
cache/pk/?*) rm -rf "$othercache"; cp -a cache.good "$othercache" ;;
*) echo "not ok - $T: no stat cache written for the other repository" ;;
esac
pk-walk -r other t 2>err >/dev/null
ok "a foreign cache under -r: not trusted, with a warning" sh -c \
    'grep -q "^pk-walk: .*; reading every file" err || { cat err; false; }'
# Its references name chunks that a third repository never saw.
pk-store --init third
pk-walk t/sub/small | pk-chunk | pk-store --no-cache third >/dev/null
pk-walk --cache "$cachedir/stat" t 2>/dev/null | pk-chunk | pk-store third >out 2>err
ok "another repository's cache, --cache: refused by pk-store" sh -c \
    '[ ! -s out ] && grep -q "REF to chunk .* refused" err || { cat err; false; }'
ok "... no snapshot" sh -c '[ $(ls third/snapshots | wc -l) = 1 ]'

# --- Exported for another host.
ok "--export-cache" pk-index --export-cache exported repo latest
pk-walk -v --cache exported t 2>walk.err >walked
ok "an exported cache: files are not read" sh -c \
    'grep -Eq ", [1-9][0-9]* unchanged \(not read\)" walk.err || { cat walk.err; false; }'
ok "an exported cache: the stream stores" sh -c 'pk-chunk <walked | pk-store repo >/dev/null'
ok "an exported cache: restores" restores_as repo t

# --- A failed backup leaves the cache as it was.
cp -a "$cachedir" cache.before
pk-walk -r repo t | pk-chunk | head -c 100000 | pk-store repo >/dev/null 2>&1
ok "a failed backup: the cache unchanged" diff -r cache.before "$cachedir"
ok "--no-cache reads every file" sh -c \
    'pk-walk -v --no-cache t 2>err >/dev/null; ! grep -Eq ", [1-9][0-9]* unchanged" err'

# --- A repository rolled back to an older copy (restored from its own
# backup): the cache names chunks it no longer has.  That backup must not
# make a snapshot; and the user must not be stuck: the next one works, or
# the error says that the stat cache is the cause.
pk-store --init rb
pk-walk -r rb t | pk-chunk | pk-store rb >/dev/null
cp -a rb rb.old
gen_file t/new 2000000 77
settle
pk-walk -r rb t | pk-chunk | pk-store rb >/dev/null
rm -rf rb
mv rb.old rb
pk-walk -r rb t 2>/dev/null | pk-chunk | pk-dedup -r rb | pk-store rb >out 2>err
ok "rolled-back repository: no snapshot of missing chunks" sh -c \
    '[ ! -s out ] || pk-cat rb latest:t/new | cmp - t/new'
pk-walk -r rb t 2>/dev/null | pk-chunk | pk-dedup -r rb | pk-store rb >out 2>err
ok "rolled-back repository: the next backup works, or the error names the cache" sh -c \
    '[ -s out ] && pk-cat rb latest:t/new | cmp - t/new || grep -qi "cache" err || { cat err; false; }'

# --- Two trees backed up in turn into one repository (two cron jobs, say
# /etc and /home): each re-backup must still find its unchanged files.
mkdir -p two/etc two/home
gen_file two/etc/a 2000000 81
gen_file two/home/b 2000000 82
pk-store --init tworepo
settle
pk-walk -r tworepo two/etc | pk-chunk | pk-store tworepo >/dev/null
pk-walk -r tworepo two/home | pk-chunk | pk-store tworepo >/dev/null
pk-walk -v -r tworepo two/etc 2>walk.err >/dev/null
ok "two trees in turn: the first one's files not read again" unchanged 1
pk-walk -v -r tworepo two/home 2>walk.err >/dev/null
ok "two trees in turn: the second one's files not read again" unchanged 1

# --- Times past 2262, which nanoseconds in an i64 cannot hold: such a file
# is never cached (it is read every time), and restores with its time.
mkdir far
printf 'from the future' >far/future
printf 'from now' >far/now
touch -d '2400-01-01 12:00:00.5' far/future
pk-store --init farrepo
settle
ok "a file of the year 2400: backup" backup_r farrepo far
ok "a file of the year 2400: backup again" backup_r farrepo far
ok "a file of the year 2400: read again, the other not" unchanged 1
# (GNU tar warns of a time in the future.)
restores_far() {
	mkdir xfar && pk-cat farrepo latest |
	    tar --warning=no-timestamp -xpf - -C xfar && same_tree far xfar/far
}
ok "a file of the year 2400: restores with its time" restores_far
