#!/bin/sh
# pk-walk: the command line, exit codes, messages and the stream it writes,
# read back with the unit test's dump (tests/unit/t-walk --dump).
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

dump() { "$PK_TOP/tests/unit/t-walk" --dump; }

# status_is N COMMAND...: COMMAND exits with N.
status_is() {
	_want=$1; shift
	"$@" >/dev/null 2>&1
	_got=$?
	[ "$_got" -eq "$_want" ] || { echo "exit $_got, want $_want"; return 1; }
}

# walk ARGS...: the dump of pk-walk ARGS in out, its stderr in err, its
# exit code in code.
walk() {
	pk-walk "$@" >stream 2>err
	echo $? >code
	dump <stream >out
}

# "path sha256" of every regular file in the dump, and of the files.
sums_of_dump() { awk '$1 == "E" { p = $8 } $1 == "F" { print p, $4 }' out; }
sums_of_files() {
	for f in "$@"; do echo "$f $(sha256sum <"$f" | cut -d' ' -f1)"; done
}

# A tree with one of each kind of file.
mkdir -p t/dir t/empty-dir
gen_file t/a 3000000 1
gen_file t/B 100 2
: >t/dir/empty
printf 'x' >"$(printf 't/a\nb')"
printf 'y' >"$(printf 't/\377')"
ln t/a t/dir/hard
ln -s ../a t/dir/sym
mkfifo t/fifo
truncate -s 10M t/sparse
dd if=/dev/urandom of=t/sparse bs=4096 seek=700 count=2 conv=notrunc 2>/dev/null

# Usage.
ok "no path: usage, exit 2" status_is 2 pk-walk
ok "unknown option: exit 2" status_is 2 pk-walk --bogus t
ok "'..' in a path: exit 2" status_is 2 pk-walk t/../t
ok "'-' without --name: exit 2" status_is 2 pk-walk -
ok "--name without '-': exit 2" status_is 2 pk-walk --name x t
ok "--name with '..': exit 2" status_is 2 pk-walk --name ../x -
ok "--name '/': exit 2" status_is 2 pk-walk --name / -
ok "--help: usage on stdout" sh -c 'pk-walk --help | grep -q "^usage: pk-walk \[-vx\]"'
ok "--version" sh -c 'pk-walk --version | grep -q "^pk-walk [0-9]"'
ok "'..' refused with a message" sh -c \
    "pk-walk ../x 2>&1 >/dev/null | grep -q \"^pk-walk: ../x: path has a '..' component\""

# The tree.
walk t
ok "tree: exit 0, quiet" sh -c '[ "$(cat code)" = 0 ] && [ ! -s err ]'
ok "tree: stream reads back to END" sh -c 'tail -n 1 out | grep -qx END'
ok "tree: sorted pre-order" sh -c 'awk "\$1 == \"E\" { print \$8 }" out >got &&
    printf "%s\n" t t/B t/a "t/a\\x0ab" t/dir t/dir/empty t/dir/hard t/dir/sym \
    t/empty-dir t/fifo t/sparse "t/\\xff" | diff - got'
sums_of_dump | sort >got
{
	sums_of_files t/B t/a t/dir/empty t/sparse
	echo "t/a\\x0ab $(printf x | sha256sum | cut -d' ' -f1)"
	echo "t/\\xff $(printf y | sha256sum | cut -d' ' -f1)"
} | sort >want
ok "tree: every file's content" diff want got
ok "tree: hard link entry" grep -q '^E hardlink .* t/dir/hard -> t/a$' out
ok "tree: symlink entry" grep -q '^E symlink .* t/dir/sym -> ../a$' out
ok "tree: fifo entry, no content" sh -c 'grep -A1 "^E fifo .* t/fifo$" out | tail -n 1 | grep -q "^E "'
ok "tree: sparse file as holes" sh -c 'awk "\$1 == \"E\" { p = \$8 } p == \"t/sparse\" && \$1 == \"H\"" out | grep -c . | grep -qx 2'
ok "tree: data records of 1 MiB" sh -c 'awk "\$1 == \"E\" { p = \$8 } p == \"t/a\" && \$1 == \"D\" { print \$2 }" out | tr "\n" " " | grep -qx "1048576 1048576 902848 "'

# Arguments.
ln -s t tlink
walk tlink
ok "symlink argument stored as a symlink" sh -c 'grep -c "^E " out | grep -qx 1 && grep -q "^E symlink .* tlink -> t$" out'
walk ./t/ /t0100-nope t/B
ok "missing argument: exit 1" sh -c '[ "$(cat code)" = 1 ]'
ok "missing argument: message" grep -qx 'pk-walk: /t0100-nope: No such file or directory' err
ok "missing argument: nothing written, not even a header" test ! -s stream
walk ./t/ t/B
ok "stored path of ./t/ is t" sh -c 'grep -m1 "^E" out | grep -q " t$"'
walk t/dir/hard t/a		# walked in order: t/a, then t/dir/hard
ok "hard link found across arguments" grep -q '^E hardlink .* t/dir/hard -> t/a$' out

# Excludes.
printf '# comment\n\n*/dir\n' >excl
walk --exclude '*.o' --exclude 'B' --exclude-from excl t
ok "excludes: base names, paths, pattern file" sh -c \
    '! grep -q " t/B$" out && ! grep -q " t/dir" out && grep -q " t/a$" out'
ok "exclude-from a missing file: exit 1" status_is 1 pk-walk --exclude-from nope t

# Tagged directories: the directory and its tag stay, the rest goes.
mkdir -p tag/cache/sub tag/fake tag/own tag/both
printf 'Signature: 8a477f597d28d172789f06886806bc55\n# made by a cache\n' \
    >tag/cache/CACHEDIR.TAG
echo x >tag/cache/data
echo y >tag/cache/sub/more
printf 'Signature: not the one\n' >tag/fake/CACHEDIR.TAG
echo z >tag/fake/data
ln -s ../cache/CACHEDIR.TAG tag/both/CACHEDIR.TAG
echo w >tag/both/data
: >tag/own/.nobackup
echo v >tag/own/data
walk --exclude-caches tag
ok "exclude-caches: the tagged directory and its tag only" sh -c \
    'grep -q " tag/cache$" out && grep -q " tag/cache/CACHEDIR.TAG$" out &&
     ! grep -q " tag/cache/data$" out && ! grep -q " tag/cache/sub" out'
ok "exclude-caches: a tag without the signature is no tag" \
    grep -q " tag/fake/data$" out
ok "exclude-caches: a symlink named CACHEDIR.TAG is no tag" \
    grep -q " tag/both/data$" out
ok "exclude-caches: not --exclude-if-present" grep -q " tag/own/data$" out
walk --exclude-if-present .nobackup --exclude-if-present other tag
ok "exclude-if-present: the directory and the tag file only" sh -c \
    'grep -q " tag/own/.nobackup$" out && ! grep -q " tag/own/data$" out &&
     grep -q " tag/cache/data$" out && [ "$(cat code)" = 0 ]'
walk tag
ok "without either, everything" sh -c \
    'grep -q " tag/cache/data$" out && grep -q " tag/own/data$" out'
ok "exclude-if-present with a slash: exit 2" status_is 2 \
    pk-walk --exclude-if-present a/b tag

# Standard input.
printf 'hello' | pk-walk --name /db.sql - >stream 2>err
ok "stdin: exit 0" test $? -eq 0
dump <stream >out
ok "stdin: entry of unknown size" grep -q '^E reg 0600 .* size=? nlink=1 db.sql$' out
ok "stdin: data and size in EOF" sh -c 'grep -qx "D 5" out && grep -q "^F 5 0 $(printf hello | sha256sum | cut -d" " -f1)$" out'

# A path longer than PATH_MAX: two chains of 15 250-byte names, one moved
# to the bottom of the other, as no single path here may be that long.
name=$(printf '%0250d' 0)
chain=$name
for i in 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do chain=$chain/$name; done
mkdir -p "deep/$chain" "sub/$chain"
printf bottom >"sub/$chain/bottom"
mv sub "deep/$chain/"
walk deep
ok "deep tree: exit 0" sh -c '[ "$(cat code)" = 0 ] && [ ! -s err ]'
ok "deep tree: path over 4096 bytes, content read" sh -c \
    'grep "^E reg" out | awk "{ print length(\$8) }" | awk "\$1 > 4096" | grep -q . &&
    grep -q "^F 6 0 $(printf bottom | sha256sum | cut -d" " -f1)$" out'

# Unreadable files: as root, drop the capabilities that bypass permissions.
mkdir -p u/locked
printf secret >u/secret
printf fine >u/ok
chmod 000 u/secret u/locked
if [ "$(id -u)" = 0 ]; then
	as_user() { setpriv --bounding-set=-dac_override,-dac_read_search "$@"; }
else
	as_user() { "$@"; }
fi
if as_user cat u/secret >/dev/null 2>&1; then
	skip "unreadable files" "cannot drop the permission to read"
else
	as_user pk-walk u >stream 2>err
	echo $? >code
	dump <stream >out
	ok "unreadable: exit 3" sh -c '[ "$(cat code)" = 3 ]'
	ok "unreadable file: message" grep -qx 'pk-walk: u/secret: Permission denied' err
	ok "unreadable file: ERROR record, no ENTRY" sh -c \
	    'grep -q "^R 13 u/secret Permission denied$" out && ! grep -q "^E .* u/secret$" out'
	ok "unlistable directory: ENTRY, then ERROR" sh -c \
	    'grep -A1 "^E dir .* u/locked$" out | tail -n 1 | grep -q "^R 13 u/locked "'
	ok "unreadable: the walk goes on" sh -c 'grep -q "^F 4 0 " out && tail -n 1 out | grep -qx END'
fi
chmod 755 u/locked

# One file system: /dev/pts is its own mount.
if [ -e /dev/pts/ptmx ] && [ "$(stat -c %d /dev)" != "$(stat -c %d /dev/pts)" ]; then
	walk -x /dev
	ok "-x: mount point entry kept" grep -q '^E dir .* dev/pts$' out
	ok "-x: not descended" sh -c '! grep -q " dev/pts/" out'
	walk /dev/pts
	ok "without -x: descended" grep -q ' dev/pts/ptmx' out
else
	skip "one file system" "no /dev/pts mount"
fi

# Progress, broken pipes, pipelines.
walk -v t
ok "-v: summary line" grep -q '^pk-walk: [0-9]* files, .* MiB in .* s' err
gen_file big 8000000 3
pk-walk big 2>err | head -c 100 >/dev/null
ok "closed pipe: quiet" test ! -s err
ok "pipeline: pk-walk | pk-chunk" sh -c \
    '{ pk-walk t; echo $? >st; } | pk-chunk >/dev/null && [ "$(cat st)" = 0 ]'
