#!/bin/sh
# pk-mount: the generated tree of every file type read back through a real
# FUSE mount (metadata, bytes, xattrs, hard links), random reads across
# chunk boundaries, two readers at once, a snapshot that appears while
# mounted, a damaged pack (EIO for its file only), and the ways a mount
# ends: fusermount3 -u, SIGTERM, and failures before it starts.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

if ! ( : <>/dev/fuse ) 2>/dev/null; then
	skip "all" "/dev/fuse cannot be opened: no FUSE here"
	exit 0
fi

# Every mount this test makes is undone, whatever fails.
mounts=
cleanup() {
	for m in $mounts; do
		fusermount3 -u -z "$S/$m" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# mounted DIR: DIR is a FUSE mount point (waits up to 10 s for it).
mounted() {
	for _i in $(seq 100); do
		grep -q " $S/$1 fuse" /proc/mounts && return 0
		sleep 0.1
	done
	echo "$1: not mounted"
	return 1
}

# unmounted DIR: DIR is no longer a mount point (waits up to 10 s).
unmounted() {
	for _i in $(seq 100); do
		grep -q " $S/$1 fuse" /proc/mounts || return 0
		sleep 0.1
	done
	echo "$1: still mounted"
	return 1
}

# start DIR ARGS...: pk-mount -f ARGS... DIR in the background, its pid in
# $S/DIR.pid, its stderr in $S/DIR.err and its exit status, once it ends,
# in $S/DIR.st; then waits for the mount.
start() {
	_d=$1; shift
	mkdir -p "$_d"
	rm -f "$S/$_d.st"
	{
		pk-mount -f "$@" "$_d" 2>"$S/$_d.err" &
		echo $! >"$S/$_d.pid"
		wait $!
		echo $? >"$S/$_d.st"
	} >/dev/null &
	mounted "$_d"
}

# ended DIR STATUS: the pk-mount of DIR exited with STATUS (waits 10 s).
ended() {
	for _i in $(seq 100); do
		[ -s "$S/$1.st" ] && break
		sleep 0.1
	done
	[ "$(cat "$S/$1.st" 2>/dev/null)" = "$2" ] ||
	    { echo "exit status: $(cat "$S/$1.st" 2>/dev/null)"; cat "$S/$1.err"; return 1; }
}

# Small chunks: files of many chunks, catalogs of several.
pk-store --init --min 4K --avg 16K --max 64K repo
gen_tree g
ok "backup of the generated tree" backup repo g
id1=$(cat id)

mounts="m1 m2 m3"
ok "mount" start m1 repo

# --- The tree, as pk-cat | tar -x would restore it.
ok "every file, its metadata, bytes and xattrs" same_tree g m1/latest/g
ok "latest is the snapshot under its id and time" sh -c "
    [ \"\$(ls m1/ids)\" = $id1 ] && [ \$(ls m1/snapshots | wc -l) = 1 ] &&
    cmp m1/latest/g/files/9m m1/ids/$id1/g/files/9m &&
    cmp m1/latest/g/files/9m m1/snapshots/*/g/files/9m"
ok "snapshot names: local time, as restic's" sh -c \
    "ls m1/snapshots | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'"
ok "hosts/HOST/TIME" test -f "m1/hosts/$(hostname)/$(ls m1/snapshots)/g/files/one"
ok "the directories above the tree are made" sh -c \
    "[ \"\$(ls m1/latest)\" = g ] && test -d m1/latest/g"
ok "hard links share one inode and its count" sh -c "
    i=\$(stat -c %i:%h m1/latest/g/links/h1) &&
    [ \"\$i\" = \"\$(stat -c %i:%h m1/latest/g/links/h2)\" ] &&
    [ \"\$i\" = \"\$(stat -c %i:%h m1/latest/g/files/h3)\" ] &&
    [ \"\${i#*:}\" = 3 ]"
ok "sparse file: its bytes, and few blocks" sh -c "
    cmp g/files/sparse m1/latest/g/files/sparse &&
    [ \$(du -k m1/latest/g/files/sparse | cut -f1) -lt 1024 ]"
ok "fifo" test -p m1/latest/g/special/fifo
if [ -n "$have_dev" ]; then
	ok "character device 1,3" sh -c \
	    "[ \"\$(stat -c '%F %t,%T' m1/latest/g/special/null)\" = 'character special file 1,3' ]"
fi
if [ -n "$have_xattr" ]; then
	ok "xattrs: binary value, a directory's" sh -c "
	    getfattr -e hex -n user.bin m1/latest/g/files/one | grep -qx 'user.bin=0x00ff00' &&
	    [ \"\$(getfattr --only-values -n user.dir m1/latest/g/empty)\" = d ]"
	fails "xattrs: an absent one" getfattr -n user.none m1/latest/g/files/one
fi
ok "symbolic links: their targets" sh -c "
    [ \"\$(readlink m1/latest/g/links/rel)\" = ../files/one ] &&
    [ \"\$(readlink m1/latest/g/links/long)\" = \"\$(printf '%0300d' 7)\" ] &&
    [ \"\$(cat m1/latest/g/links/rel)\" = x ]"
ok "odd names" sh -c '
    [ "$(cat "m1/latest/g/names/$(printf "new\nline")")" = nl ] &&
    [ "$(cat "m1/latest/g/names/$(printf "x\377y")")" = ff ]'
ok "the file beyond PATH_MAX" sh -c \
    "[ \"\$(find m1/latest/g/deep -name file -execdir cat {} +)\" = bottom ]"
fails "read-only: no file can be made" touch m1/latest/g/new
fails "read-only: none written" sh -c 'echo x >>m1/latest/g/files/one'
fails "a name not there" ls m1/latest/g/nothing m1/ids/0000 m1/bogus

# --- Reads at random offsets and sizes, across chunk boundaries, against
# the source; then two readers at once.
cat >reads.py <<'EOF'
import os, random, sys
a, b, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
size = os.path.getsize(a)
fa, fb = os.open(a, os.O_RDONLY), os.open(b, os.O_RDONLY)
for i in range(n):
    off = rnd.randrange(size + 1)
    k = rnd.choice([1, 7, 4096, 65536, 200000, rnd.randrange(1, 300000)])
    if os.pread(fa, k, off) != os.pread(fb, k, off):
        sys.exit("differs at %d, %d bytes" % (off, k))
EOF
ok "random reads of a file of many chunks" \
    python3 reads.py g/files/9m m1/latest/g/files/9m 400 1
ok "random reads of the sparse file" \
    python3 reads.py g/files/sparse m1/latest/g/files/sparse 200 2
ok "two readers at once" sh -c "
    python3 reads.py g/files/1m1 m1/latest/g/files/1m1 300 3 & a=\$!
    cmp g/files/9m m1/latest/g/files/9m & b=\$!
    wait \$a && wait \$b"

# --- A snapshot written while mounted appears, and latest moves to it.
mkdir -p g2/new && printf fresh >g2/new/file
ok "second backup" backup repo g2
id2=$(cat id)
ok "the new snapshot appears without a remount" sh -c "
    for i in \$(seq 50); do
        [ -d m1/ids/$id2 ] && break; sleep 0.1
    done
    [ \$(ls m1/snapshots | wc -l) = 2 ] &&
    [ \"\$(cat m1/ids/$id2/g2/new/file)\" = fresh ]"
# (The kernel may keep a name it looked up for a second: the old tree.)
ok "latest is the new one" sh -c "
    for i in \$(seq 50); do
        [ -f m1/latest/g2/new/file ] && [ ! -e m1/latest/g ] && break
        sleep 0.1
    done
    [ \"\$(cat m1/latest/g2/new/file)\" = fresh ] && [ ! -e m1/latest/g ]"
ok "the old one is still there" cmp g/files/9m m1/ids/$id1/g/files/9m

ok "fusermount3 -u unmounts" fusermount3 -u m1
ok "pk-mount then exits 0" ended m1 0
ok "not mounted any more" unmounted m1
ok "it said nothing" test ! -s m1.err

# --- A damaged pack: EIO for the file whose chunk is in it, one line that
# names the file, and the rest reads.
pk-store --init --no-encryption plain
mkdir -p v/victim v/other
gen_file v/victim/file 300000 7
gen_file v/other/file 300000 8
ok "backup of the victim alone" backup plain v/victim
pack=$(cd plain && find packs -type f)
ok "backup of both" backup plain v
size=$(stat -c %s "plain/$pack")
printf '\001' | dd of="plain/$pack" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
ok "mount of the damaged repository" start m2 plain
ok "the damaged file: EIO" sh -c "
    ! cat m2/latest/v/victim/file >/dev/null 2>cat.err &&
    grep -q 'Input/output error' cat.err"
ok "... and one line naming it" sh -c "
    [ \$(wc -l <m2.err) = 1 ] &&
    grep -q '^pk-mount: latest/v/victim/file: ' m2.err"
ok "the other file reads" cmp v/other/file m2/latest/v/other/file
ok "its listing and metadata too" sh -c \
    "[ \$(stat -c %s m2/latest/v/victim/file) = 300000 ]"

# --- SIGTERM in the foreground: unmounted, exit 0.
ok "SIGTERM" sh -c "kill -TERM \$(cat m2.pid)"
ok "... pk-mount exits 0" ended m2 0
ok "... and the mount is gone" unmounted m2

# --- A directory is listed from the catalog chunks that may hold it: its
# children's subtrees are passed over by the seek table.  40 directories of
# 150 files make a catalog of many chunks.
gen_dirs t/a 40 150
mkdir t/b && echo last >t/b/file
pk-store --init --no-encryption many
ok "backup of many files" backup many t
if strace -f -qq -o /dev/null true 2>/dev/null; then
	# traced NAME COMMAND: the blobs pk-mount reads (pread64 calls) while
	# COMMAND runs on its mount; LeakSanitizer cannot run under ptrace.
	traced() {
		_n=$1; shift
		mkdir -p "$_n"
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		    strace -f -qq -e trace=pread64 -o "$_n.trace" \
		    pk-mount -f -o readahead=0 many "$_n" 2>/dev/null &
		mounted "$_n" || return 1
		sh -c "$*" >"$_n.out"
		_e=$?
		fusermount3 -u "$_n"
		wait
		[ $_e = 0 ] && grep -c pread64 "$_n.trace"
	}
	few() {
		n=$(traced m4 "ls m4/latest/t && cat m4/latest/t/b/file") &&
		    all=$(traced m5 "find m5/latest/t | wc -l") &&
		    echo "$n of $all" && [ "$n" -le 6 ] && [ "$all" -gt 12 ] &&
		    [ "$(cat m4.out)" = "$(printf 'a\nb\nlast')" ] &&
		    [ "$(cat m5.out)" = 6044 ]
	}
	mounts="$mounts m4 m5"
	ok "a listing reads few catalog chunks" few
else
	skip "a listing reads few catalog chunks" "strace cannot trace here (ptrace not permitted)"
fi

# --- Failures before mounting.
mkdir -p m3
ok "a wrong passphrase: exit 1" status_of 1 env PK_PASSPHRASE=wrong pk-mount repo m3
ok "... says so" grep -q "^pk-mount: .*passphrase" "$S/.se"
ok "... and nothing mounted" unmounted m3
ok "a missing repository: exit 1" status_of 1 pk-mount nowhere m3
ok "... says so" grep -q "^pk-mount: .*nowhere" "$S/.se"
ok "a missing mount point: exit 1" status_of 1 pk-mount repo nomount
ok "... says so" grep -qx "pk-mount: nomount: No such file or directory" "$S/.se"

# --- In the background: detached once mounted, and unmounted as usual.
ok "background mount returns 0 once mounted" pk-mount -o cache_size=8M repo m3
ok "... serves files" cmp g/files/9m m3/ids/$id1/g/files/9m
ok "... fusermount3 -u" fusermount3 -u m3
ok "... gone" unmounted m3

# --- A repository on the S3 gateway, as every other tool opens it.
if R=$(s3_place mount); then
	pk-store --init "$R" >/dev/null 2>&1
	ok "s3: a backup" backup "$R" g/files
	mounts="$mounts m6"
	ok "s3: mounted" start m6 "$R"
	ok "s3: a file read through the mount" cmp g/files/9m m6/latest/g/files/9m
	ok "s3: fusermount3 -u" fusermount3 -u m6
	ok "s3: exit 0" ended m6 0
else
	skip "s3" "no S3 gateway (S3_ENDPOINT)"
fi
