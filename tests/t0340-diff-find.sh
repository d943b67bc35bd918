#!/bin/sh
# pk-index --diff and --find on known histories: each kind of change, in
# text and JSON; a large tree where one file changed, whose shared
# catalog chunks are skipped unread; --find by name and by path, newest
# snapshot first, with the snapshot filters.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init --no-encryption r

mkdir -p t/dir t/gone t/same
echo one >t/content
echo two >t/chmod
echo three >t/touch
echo four >t/owner
echo five >t/xattr
echo six >t/totype
echo seven >t/gone/file
echo eight >t/same/file
ln -s old t/link
ln t/same/file t/hard
touch -d '2020-01-01 00:00' t/touch
touch -h -d '2020-01-01 00:00' t/link
setfattr -n user.k -v 1 t/xattr
# The directories' times stay the same, so that only what the test
# changes is seen.
dirtimes() { touch -d '2020-01-01 00:00' t t/dir t/same; }
dirtimes
pk-walk t | pk-chunk | pk-store --host h1 r >id1

echo ONE >t/content
chmod 600 t/chmod
touch -d '2021-01-01 00:00' t/touch
chown 1234:1234 t/owner
setfattr -n user.k -v 2 t/xattr
rm t/totype && mkdir t/totype
rm -r t/gone
echo new >t/dir/new
ln -sf new t/link
touch -h -d '2020-01-01 00:00' t/link
rm t/hard && ln t/content t/hard
dirtimes
pk-walk t | pk-chunk | pk-store --host h2 r >id2
a=$(cut -c 1-12 id1) b=$(cut -c 1-12 id2)

ok "--diff: exit 0" sh -c "pk-index --diff r $a $b >out"
# t/hard was the first name of t/same/file's inode, and now names
# t/content's: other content, and t/same/file is the first name of its
# own, unchanged.
cat >want <<'EOF2'
U  t/chmod (mode)
M  t/content (mtime)
+  t/dir/new
-  t/gone/
-  t/gone/file
M  t/hard (mtime, link)
U  t/link (target)
U  t/owner (owner)
U  t/same/file (link)
T  t/totype/
U  t/touch (mtime)
U  t/xattr (xattrs)
EOF2
ok "--diff: every kind of change, in walk order" diff want out
ok "--diff: the other way round" sh -c \
    "pk-index --diff r $b $a >back && grep -qxe '-  t/dir/new' back &&
     grep -qx '+  t/gone/file' back && grep -qx 'M  t/content (mtime)' back &&
     grep -qx 'T  t/totype' back"
ok "--diff: a snapshot with itself, nothing" sh -c \
    "pk-index --diff r $a $a >self && [ ! -s self ]"
ok "--diff --json: an array, one object a change" sh -c \
    "pk-index --diff --json r $a $b >js && python3 -c '
import json
c = {o[\"path\"]: o for o in json.load(open(\"js\"))}
assert c[\"t/content\"][\"change\"] == \"content\"
assert c[\"t/chmod\"][\"change\"] == \"metadata\" and c[\"t/chmod\"][\"what\"] == [\"mode\"]
assert c[\"t/totype\"][\"change\"] == \"type\" and c[\"t/totype\"][\"old_type\"] == \"reg\"
assert c[\"t/totype\"][\"new_type\"] == \"dir\"
assert c[\"t/dir/new\"][\"change\"] == \"added\" and \"old_type\" not in c[\"t/dir/new\"]
assert c[\"t/gone/file\"][\"change\"] == \"removed\"
assert c[\"t/xattr\"][\"what\"] == [\"xattrs\"]
assert c[\"t/owner\"][\"what\"] == [\"owner\"]'"
ok "--diff latest with --host: the newest of h1 against the newest" sh -c \
    "pk-index --diff --host h1 r latest $b >flt && cmp flt out"
ok "--diff with one snapshot: exit 2" status_of 2 pk-index --diff r "$a"
ok "... says so" grep -q "^pk-index: --diff compares two snapshots" "$S/.se"
ok "--diff of a snapshot not there: exit 1" status_of 1 pk-index --diff r "$a" ffff

# A large tree, one file changed in the middle: the diff says just that,
# and reads a few catalog chunks where a listing reads them all.
mkdir big
(cd big && for d in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	mkdir d$d
	i=0
	while [ $i -lt 1500 ]; do
		echo "$d $i" >d$d/file-with-a-long-name-$i
		i=$((i + 1))
	done
done)
pk-walk big | pk-chunk | pk-store r >big1
echo more >>big/d10/file-with-a-long-name-700
touch -d '2022-02-02' big/d10/file-with-a-long-name-700
pk-walk big | pk-chunk | pk-store r >big2
c=$(cut -c 1-12 big1) d=$(cut -c 1-12 big2)
ok "large tree: the one change" sh -c \
    "pk-index --diff r $c $d >bigout &&
     [ \"\$(cat bigout)\" = 'M  big/d10/file-with-a-long-name-700 (mtime)' ]"
# reads COMMAND...: how many pread64 calls COMMAND makes (pack reads).
# LeakSanitizer cannot run under ptrace.
nolsan=ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
reads() {
	env "$nolsan" strace -f -c -e trace=pread64 -o "$S/.trace" "$@" >/dev/null &&
	    awk '$NF == "pread64" { n = $4 } END { print n + 0 }' "$S/.trace"
}
listing=$(reads pk-index r "$d")
diffing=$(reads pk-index --diff r "$c" "$d")
ok "large tree: shared catalog chunks are not read ($diffing reads, listing $listing)" \
    test "$listing" -gt 20 -a $((diffing * 4)) -lt "$listing"
ok "large tree: a removed directory, every file of it" sh -c \
    "rm -r big/d5 && pk-walk big | pk-chunk | pk-store r >big3 &&
     pk-index --diff r $d \$(cut -c 1-12 big3) >rm5 &&
     [ \$(grep -c '^-  big/d5/' rm5) -eq 1501 ] && [ \$(wc -l <rm5) -eq 1502 ]"

ok "large tree: scattered changes, each found once, none else" sh -c \
    "i=0; : >want-big
     for f in \$(cd big && find . -type f | sort | awk 'NR % 997 == 1'); do
	f=\${f#./}; echo x >>big/\$f; touch -d 2023-03-03 big/\$f
	echo \"M  big/\$f (mtime)\" >>want-big
     done
     touch -d 2023-03-03 big/d7/new-file && echo '+  big/d7/new-file' >>want-big
     touch -r big/d8 big/d7
     pk-walk big | pk-chunk | pk-store r >big4 &&
     pk-index --diff r \$(cut -c 1-12 big3) \$(cut -c 1-12 big4) | grep -v '^U  big/d7/ (mtime)\$' >got-big &&
     LC_ALL=C sort want-big >w && LC_ALL=C sort got-big >g && diff w g"

# --find: by name or by path, the newest snapshot first.
ok "--find by name: in every snapshot that has it" sh -c \
    'pk-index --find new r >found && [ $(grep -c " t/dir/new$" found) -eq 1 ]'
ok "--find by pattern, newest first" sh -c \
    "pk-index --find 'file' r >found2 &&
     head -n 1 found2 | grep -q '^$b ' && grep -q ' t/gone/file$' found2 &&
     grep -o '^[0-9a-f]*  ' found2 | tr -d ' ' | tr '\n' ' ' | grep -qx '$b $a '"
ok "--find by path" sh -c \
    "pk-index --find 't/gone/*' r >found3 && [ \$(grep -c ' t/gone/file$' found3) -eq 1 ] &&
     ! grep -q ' t/same/file$' found3"
ok "--find in the snapshots named" sh -c \
    "pk-index --find file r $a >found4 && ! grep -q '^$b' found4 && grep -q '^$a' found4"
ok "--find with --host" sh -c \
    "pk-index --find file --host h2 r >found5 && grep -q '^$b' found5 && ! grep -q '^$a' found5"
ok "--find --json" sh -c \
    "pk-index --find content --json r >fj && python3 -c '
import json
v = json.load(open(\"fj\"))
assert [o[\"entry\"][\"path\"] for o in v] == [\"t/content\", \"t/content\"]
assert v[0][\"snapshot\"].startswith(\"$b\") and v[1][\"snapshot\"].startswith(\"$a\")'"
ok "--find with no match: exit 1, nothing printed" sh -c \
    "pk-index --find nothing-like-this r >none; [ \$? = 1 ] && [ ! -s none ]"
