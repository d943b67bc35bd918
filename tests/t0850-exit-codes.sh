#!/bin/sh
# Exit codes shared by every tool: 0 ok, 1 failure, 2 usage, 3 done but
# some files could not be read.  Unreadable files (read as an unprivileged
# user) travel in-band through every stage into the snapshot.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init repo
mkdir t
printf data >t/file

# --- Usage: exit 2, usage on stderr; --help: exit 0, usage on stdout;
# --version.
for tool in pk-walk pk-chunk pk-dedup pk-store pk-index pk-cat pk-forget; do
	ok "$tool --bogus: exit 2" status_of 2 $tool --bogus
	ok "$tool --bogus: usage on stderr" grep -q "^usage: $tool" .se
	ok "$tool --help: exit 0" status_of 0 $tool --help
	ok "$tool --help: usage on stdout, nothing on stderr" sh -c \
	    "grep -q '^usage: $tool' .so && [ ! -s .se ]"
	ok "$tool --version" sh -c "$tool --version | grep -Eq '^$tool [0-9]+\\.[0-9]+'"
done
ok "pk-walk without a path: exit 2" status_of 2 pk-walk
ok "pk-chunk with an argument: exit 2" status_of 2 pk-chunk extra
ok "pk-dedup with an argument: exit 2" status_of 2 pk-dedup extra
ok "pk-store without a repository: exit 2" status_of 2 pk-store
ok "pk-store with two repositories: exit 2" status_of 2 pk-store repo repo
ok "pk-index without a repository: exit 2" status_of 2 pk-index
ok "pk-index with three arguments: exit 2" status_of 2 pk-index repo latest extra
ok "pk-index --check with a snapshot: exit 2" status_of 2 pk-index --check repo latest
ok "pk-index --check=bogus: exit 2" status_of 2 pk-index --check=bogus repo
ok "pk-cat without a snapshot: exit 2" status_of 2 pk-cat repo
ok "pk-store -l 20: exit 2" status_of 2 pk-store -l 20 repo
ok "pk-store -l x: exit 2" status_of 2 pk-store -l x repo
ok "pk-chunk --avg 1000 (not a power of two): exit 2" status_of 2 pk-chunk --avg 1000
ok "pk-chunk --min abc: exit 2" status_of 2 pk-chunk --min abc
ok "pk-store --init --max 1G: exit 2" status_of 2 pk-store --init --max 1G r2
ok "... and no repository made" test ! -e r2

# --- Failures: exit 1, one message naming the subject.
ok "pk-index of a directory that is no repository: exit 1" status_of 1 pk-index t
ok "... message names it" grep -q "^pk-index: t" .se
ok "pk-store into a missing repository: exit 1" sh -c \
    'pk-walk t | pk-chunk | pk-store nowhere >/dev/null 2>err; [ $? = 1 ] && grep -q "^pk-store: nowhere" err'
pk-index repo | wc -l >nsnap
ok "pk-walk of a missing path: exit 1, nothing written" sh -c \
    'pk-walk t nowhere >out 2>err; [ $? = 1 ] && [ ! -s out ] &&
     grep -qx "pk-walk: nowhere: No such file or directory" err'
ok "... and a backup of it makes no snapshot" sh -c \
    'pk-walk nowhere 2>/dev/null | pk-chunk 2>/dev/null | pk-store repo >/dev/null 2>err
     [ $? = 1 ] && grep -q "empty stream" err && [ $(pk-index repo | wc -l) = "$(cat nsnap)" ]'
ok "pk-dedup -r of a missing repository: exit 1" status_of 1 pk-dedup -r nowhere
ok "pk-chunk -r of a missing repository: exit 1" status_of 1 pk-chunk -r nowhere

# --- A closed pipe: quiet death, no message.
gen_file t/big 5000000 1
ok "pk-walk into a closed pipe: no message" sh -c \
    'pk-walk t 2>err | head -c 10 >/dev/null; [ ! -s err ] || { cat err; false; }'
ok "pk-chunk into a closed pipe: no message" sh -c \
    'pk-walk t | pk-chunk 2>err | head -c 10 >/dev/null; [ ! -s err ] || { cat err; false; }'
ok "pk-cat into a closed pipe: no message" sh -c \
    'pk-walk t | pk-chunk | pk-store repo >/dev/null &&
    pk-cat repo latest 2>err | head -c 10 >/dev/null; [ ! -s err ] || { cat err; false; }'

# --- Files that cannot be read, as an unprivileged user (nobody).
mkdir -p u/locked
printf secret >u/secret
printf fine >u/ok
printf hidden >u/locked/inside
chmod 000 u/secret u/locked
if [ "$(id -u)" = 0 ]; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
	as_user() { "$@"; }
fi
if ! as_user pk-walk --version >/dev/null 2>&1; then
	skip "unreadable files" "cannot run pk-walk as an unprivileged user"
elif as_user cat u/secret >/dev/null 2>&1; then
	skip "unreadable files" "cannot make a file unreadable"
else
	as_user pk-walk u >stream 2>err
	echo $? >st
	ok "unreadable: pk-walk exits 3" test "$(cat st)" = 3
	ok "unreadable: pk-walk names each" sh -c \
	    'grep -qx "pk-walk: u/secret: Permission denied" err &&
	    grep -qx "pk-walk: u/locked: Permission denied" err'
	pk-chunk <stream >chunked
	ok "unreadable: pk-chunk passes the stream, exit 0" test $? = 0
	pk-dedup -r repo <chunked >deduped
	ok "unreadable: pk-dedup passes the stream, exit 0" test $? = 0
	pk-store repo <deduped >id 2>err
	echo $? >st
	ok "unreadable: pk-store exits 3" test "$(cat st)" = 3
	ok "unreadable: pk-store prints the id" grep -Eqx '[0-9a-f]{64}' id
	ok "unreadable: pk-store says how many" \
	    grep -q "^pk-store: snapshot [0-9a-f]*: 2 files could not be read$" err
	ok "unreadable: the snapshot is listed as incomplete" sh -c \
	    "pk-index repo | grep '^$(cut -c 1-12 id) ' | grep -q 'incomplete'"
	ok "unreadable: pk-index SNAPSHOT shows the errors" sh -c \
	    "pk-index repo $(cut -c 1-12 id) >out && grep -q 'u/secret (not backed up: Permission denied)' out &&
	    grep -q 'u/locked (not backed up: Permission denied)' out"
	ok "unreadable: --json too" sh -c \
	    "pk-index --json repo $(cut -c 1-12 id) | grep -q '\"path\":\"u/secret\",\"error\":\"Permission denied\"'"
	ok "unreadable: the readable file restores" sh -c \
	    "pk-cat repo $(cut -c 1-12 id):u/ok | cmp - u/ok"
	ok "unreadable: pk-cat of the whole snapshot exits 3" status_of 3 pk-cat repo "$(cut -c 1-12 id)"
	ok "unreadable: ... and says why" grep -q "^pk-cat: the snapshot records 2 files that could not be read" .se
	ok "unreadable: ... and the tar holds the rest" sh -c \
	    "tar -tf .so | grep -qx u/ok && ! tar -tf .so | grep -q u/secret"
	ok "unreadable: pk-cat of the unreadable file: exit 1" status_of 1 pk-cat repo "$(cut -c 1-12 id):u/secret"
	ok "unreadable: the repository checks" pk-index --check repo
	pk-store --init --no-encryption copy
	pk-cat --stream repo "$(cut -c 1-12 id)" 2>/dev/null | pk-store copy >/dev/null 2>&1
	ok "unreadable: a copy of the snapshot keeps the errors (exit 3)" test $? = 3
	ok "unreadable: the copy is listed as incomplete" sh -c \
	    'pk-index copy | tail -n 1 | grep -q incomplete'
	ok "unreadable: pk-walk | pk-cat - exits 3" sh -c \
	    'pk-cat - <stream >/dev/null 2>/dev/null; [ $? = 3 ]'
fi
chmod 755 u/locked

# --- A file that shrinks while pk-walk reads it: the reader of the pipe
# stops after 3 MB, the file is cut to 10 MB, the reading goes on.
# pk-walk(1): its EOF is marked changed, a warning is printed, pk-walk
# exits 3, and "the snapshot made of it says it is incomplete".
mkdir s
gen_file s/big 40000000 5
printf after >s/z
{ pk-walk s 2>err; echo $? >st; } |
    { head -c 3000000; truncate -s 10000000 s/big; cat; } | pk-chunk >shrank
ok "shrinking file: pk-walk exits 3" test "$(cat st)" = 3
ok "shrinking file: pk-walk warns" grep -qx "pk-walk: s/big: file shrank while read" err
pk-store repo <shrank >id 2>err
echo $? >st
ok "shrinking file: the stream stores" grep -Eqx '[0-9a-f]{64}' id
ok "shrinking file: pk-store exits 3" sh -c '[ "$(cat st)" = 3 ] || { echo "exit $(cat st)"; cat err; false; }'
ok "shrinking file: the snapshot is listed as incomplete" sh -c \
    "pk-index repo | grep '^$(cut -c 1-12 id) ' | grep -q incomplete || { pk-index repo; false; }"
ok "shrinking file: restored with the bytes read, zeros after" sh -c \
    "pk-cat repo $(cut -c 1-12 id):s/big >big.out && [ \$(stat -c %s big.out) = 40000000 ] &&
    cmp -n 10000000 big.out s/big && cmp -i 10000000 big.out /dev/zero 2>&1 | grep -q EOF"
ok "shrinking file: the next file is whole" sh -c \
    "[ \"\$(pk-cat repo $(cut -c 1-12 id):s/z)\" = after ]"
