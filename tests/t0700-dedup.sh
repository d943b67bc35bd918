#!/bin/sh
# Deduplication: re-backups of an unchanged tree cost next to nothing in
# the repository and, with pk-dedup -r, in the pipe; the same data under two
# names is stored once; a small change costs a few chunks; chunker sizes
# follow the repository.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p t/many
i=0
while [ $i -lt 16 ]; do gen_file t/r$i 1500000 $i; i=$((i + 1)); done
"$PK_TOP/tests/gen" 4000000 99 text >t/text
i=0
while [ $i -lt 200 ]; do "$PK_TOP/tests/gen" $((i * 37)) $i text >t/many/f$i; i=$((i + 1)); done
tree=$(du -sb t | cut -f1)

size() { du -sb "$1" | cut -f1; }

# grows_under REPO PERCENT BEFORE: REPO is now at most PERCENT % larger
# than BEFORE bytes.
grows_under() {
	_now=$(size "$1")
	[ $((_now - $3)) -le $(($3 * $2 / 100)) ] && return 0
	echo "$1 grew from $3 to $_now bytes"
	return 1
}

# --- With pk-dedup -r: the pipe carries only references.
pk-store --init repo
ok "first backup" backup repo t
before=$(size repo)
ok "the first backup stores the tree once" sh -c \
    "[ $before -lt $((tree + tree / 10)) ] || { echo 'repository $before bytes, tree $tree'; false; }"
{ pk-walk t | pk-chunk | pk-dedup -r repo | tee mid | pk-store repo >id2; } 2>err
ok "re-backup through pk-dedup -r" sh -c '[ -s id2 ] && [ ! -s err ] || { cat err; false; }'
ok "re-backup adds under 1% to the repository" grows_under repo 1 "$before"
ok "pk-dedup -r: the stream to pk-store is tiny" sh -c \
    "[ \$(stat -c %s mid) -lt $((tree / 100)) ] || { echo \"\$(stat -c %s mid) bytes for a tree of $tree\"; false; }"
mkdir x
ok "pk-dedup -r: the snapshot restores" restore repo latest x
ok "pk-dedup -r: the tree" same_tree t x/t

# --- Without pk-dedup: pk-store finds the chunks itself.
pk-store --init repo2
ok "first backup (no pk-dedup)" sh -c 'pk-walk t | pk-chunk | pk-store repo2 >/dev/null'
before=$(size repo2)
ok "re-backup (no pk-dedup)" sh -c 'pk-walk t | pk-chunk | tee mid2 | pk-store repo2 >/dev/null'
ok "re-backup (no pk-dedup) adds under 1%" grows_under repo2 1 "$before"
ok "without pk-dedup the pipe carries the data" sh -c \
    "[ \$(stat -c %s mid2) -gt $tree ]"
ok "pk-index: the second snapshot stored next to nothing" sh -c \
    'pk-index repo2 | tail -n 1 | awk "{ print \$7 }" | grep -Eqx "[0-9.]+[BK]" ||
    { pk-index repo2; false; }'

# --- The same 5 MiB under two names, in one stream.
mkdir twice
gen_file twice/a 5242880 50
cp twice/a twice/b
pk-store --init repo3
pk-walk twice | pk-chunk | pk-dedup | tee mid3 | pk-store repo3 >/dev/null
ok "same file twice: stored once" sh -c \
    "[ \$(du -sb repo3/packs | cut -f1) -lt 6000000 ] || { du -sb repo3/packs; false; }"
ok "same file twice: pk-dedup sends it once" sh -c \
    "[ \$(stat -c %s mid3) -lt 6000000 ] || { ls -l mid3; false; }"
ok "same file twice: both restore" sh -c \
    'pk-cat repo3 latest:twice/a | cmp - twice/a && pk-cat repo3 latest:twice/b | cmp - twice/a'
pk-store --init repo4
pk-walk twice | pk-chunk | pk-store repo4 >/dev/null
ok "same file twice, no pk-dedup: stored once" sh -c \
    "[ \$(du -sb repo4/packs | cut -f1) -lt 6000000 ] || { du -sb repo4/packs; false; }"

# --- A small change costs a few chunks: bytes inserted at the start and
# one flipped in the middle of a 20 MB file (chunks average 1 MiB).
mkdir big
gen_file big/f 20000000 60
pk-store --init repo5
pk-walk big | pk-chunk | pk-store repo5 >/dev/null
before=$(size repo5)
{ printf 'inserted at the start'; cat big/f; } >big/g
mv big/g big/f
pk-walk big | pk-chunk | pk-dedup -r repo5 | tee mid5 | pk-store repo5 >/dev/null
ok "bytes inserted at the start: under 4 MB stored" sh -c \
    "[ \$((\$(size repo5) - $before)) -lt 4000000 ] || { du -sb repo5; false; }"
ok "bytes inserted at the start: under 4 MB sent" sh -c \
    "[ \$(stat -c %s mid5) -lt 4000000 ] || { ls -l mid5; false; }"
before=$(size repo5)
printf X | dd of=big/f bs=1 seek=10000000 conv=notrunc 2>/dev/null
pk-walk big | pk-chunk | pk-dedup -r repo5 | pk-store repo5 >/dev/null
ok "a byte changed in the middle: under 4 MB stored" sh -c \
    "[ \$((\$(size repo5) - $before)) -lt 4000000 ] || { du -sb repo5; false; }"
ok "the changed file restores" sh -c 'pk-cat repo5 latest:big/f | cmp - big/f'

# --- Chunk sizes are the repository's: pk-chunk -r follows them, a stream
# chunked otherwise is stored with a warning.
# blobs REPO: the number of blobs pk-index --check counts.
blobs() { pk-index --check "$1" | sed -E 's/.* ([0-9]+) blobs.*/\1/'; }
pk-store --init --min 64K --avg 256K --max 1M small
pk-walk twice | pk-chunk -r small | pk-store small >/dev/null 2>err
ok "pk-chunk -r: no warning" test ! -s err
nsmall=$(blobs small) nbig=$(blobs repo4)
ok "pk-chunk -r: chunks of the repository's sizes ($nsmall blobs, not $nbig)" \
    test "$nsmall" -gt $((2 * nbig))
pk-walk twice | pk-chunk | pk-store small >/dev/null 2>err
ok "other chunk sizes: stored, with a warning" \
    grep -q "^pk-store: stream chunked with other sizes than the repository's" err
ok "other chunk sizes: restores" sh -c 'pk-cat small latest:twice/b | cmp - twice/b'
ok "other chunk sizes: the repository checks" pk-index --check=data small

# --- pk-chunk computes ids on -j threads, a batch of chunks and the records
# between them at a time: any number of threads gives the same stream.
# Many small files make batches of the most records, large ones of the most
# bytes.
mkdir j
gen_tree j
gen_dirs j/small 6 500
pk-walk j >jt.walk
pk-chunk -j 1 <jt.walk >jt.1
pk-store --init jtrepo
ok "pk-chunk -j 1: the stream stores" sh -c 'pk-store jtrepo <jt.1 >/dev/null'
ok "pk-chunk -j 1: and restores" pk-cat -C o jtrepo latest
ok "pk-chunk -j 1: the tree, every file" same_tree j o/j
for j in 2 3 8; do
	ok "pk-chunk -j $j: the same stream as -j 1" sh -c \
	    "pk-chunk -j $j <jt.walk | cmp - jt.1"
done

# --- Between two pipes pk-dedup moves new chunks with splice(2), without
# reading them; into a file it reads and writes them.  Both give the same
# bytes, and the stream stores and restores.
mkdir zc
gen_file zc/big 5000000 21
cp zc/big zc/again
"$PK_TOP/tests/gen" 300000 22 text >zc/text
printf small >zc/small
pk-walk zc | pk-chunk >zc.chunked
cat zc.chunked | pk-dedup | cat >zc.piped
pk-dedup <zc.chunked >zc.filed
ok "pk-dedup: between pipes and into a file, the same stream" cmp zc.piped zc.filed
pk-store --init zcrepo
ok "the stream made between pipes stores and restores" sh -c \
    'pk-store zcrepo <zc.piped >/dev/null && pk-cat zcrepo latest:zc/big | cmp - zc/big &&
     pk-cat zcrepo latest:zc/again | cmp - zc/big && pk-index --check=data zcrepo'
if strace -f -qq -o /dev/null true 2>/dev/null; then
	# splices PIPELINE: how many splice calls PIPELINE makes.
	# LeakSanitizer cannot run under ptrace.
	splices() {
		env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		    strace -f -qq -e trace=splice -o "$S/.trace" sh -c "$1"
		grep -c "splice(" "$S/.trace"
	}
	n=$(splices 'cat zc.chunked | pk-dedup | cat >/dev/null')
	ok "between pipes: the new chunks are spliced ($n calls)" test "$n" -ge 5
	n=$(splices 'pk-dedup <zc.chunked >/dev/null')
	ok "from a file: nothing is spliced ($n calls)" test "$n" -eq 0
else
	skip "pk-dedup splices between pipes" "strace cannot trace here (ptrace not permitted)"
fi
