#!/bin/sh
# One path out of a snapshot whose catalog has many chunks: pk-cat and
# pk-index use the seek table of pk-repo(5) to read only the catalog chunks
# that may hold it.  Files, directories and absent paths at the start, the
# middle and the end; a hard link far from its file; paths longer than the
# table's 256-byte keys, sharing those 256 bytes; top-level paths out of
# order; few chunks read; and tables that do not match their catalog,
# rewritten by hand: pk-index --check names them, pk-cat never writes
# wrong bytes.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

# 40 directories of 150 small files: a catalog of about 1 MB.
gen_dirs t/a 40 150
ln t/a/d00/f0000 t/z-link
# Paths of more than 256 bytes that share their first 256.
long=t/long/$(printf '%0250d' 0)
mkdir -p "$long/x" "$long/y"
for f in 1 2 3; do
	echo "x$f" >"$long/x/f$f"
	echo "y$f" >"$long/y/f$f"
done

pk-store --init repo >/dev/null
ok "backup" backup repo t
# The same files, their top-level paths given out of order.
pk-store --init --no-encryption repo2 >/dev/null
ok "backup of t/z-link t/long t/a, in that order" backup repo2 t/z-link t/long t/a
# The many reads below open repo with a key file, not the passphrase.
pk-index --export-key key repo
unlock() {
	case $1 in
	repo) echo "--key-file key" ;;
	esac
}

ok "the catalog has many chunks" sh -c \
    '[ "$(pk-index --key-file key --json repo latest | wc -c)" -gt 600000 ]'

# cat_all REPO: every 7th file, and the first and last of each directory.
cat_all() {
	for d in $(seq -f %02g 0 39); do
		for f in 0000 $(seq -f %04g 3 7 149) 0149; do
			p=t/a/d$d/f$f
			pk-cat $(unlock "$1") "$1" "latest:$p" >out 2>err ||
			    { echo "$p: $(cat err)"; return 1; }
			cmp -s out "$p" || { echo "$p: wrong bytes"; return 1; }
		done
	done
}
ok "files at every position" cat_all repo
ok "files at every position, top-level paths out of order" cat_all repo2

# dir_same REPO DIR: DIR as tar lists what the whole archive has below DIR.
pk-cat --key-file key repo latest | tar -tf - >all.list
dir_same() {
	pk-cat $(unlock "$1") "$1" "latest:$2" | tar -tf - >one.list &&
	    grep -E "^$2(/|\$)" all.list >want.list && cmp one.list want.list
}
for d in t/a/d00 t/a/d19 t/a/d39 t/long "$long/x" t/a; do
	ok "directory ${d#"$long"/} as tar" dir_same repo "$d"
	ok "directory ${d#"$long"/} as tar, top-level paths out of order" dir_same repo2 "$d"
done
ok "pk-index lists one directory" sh -c \
    'pk-index --key-file key repo latest:t/a/d23 | awk "{ print \$NF }" >l &&
    [ "$(wc -l <l)" = 151 ] && [ "$(head -n 1 l)" = t/a/d23 ] &&
    [ "$(tail -n 1 l)" = t/a/d23/f0149 ]'

# Absent paths that would lie before, between and after stored ones.
for p in t/0 t/a/d00/f00001 t/a/d07/f0150 t/a/d2 t/a/d20x t/a/d39/zz t/zz \
    "$long/x/f0" "$long/x/f4" "$long/z" u; do
	for r in repo repo2; do
		ok "absent ${p#"$long"/} in $r: exit 1" sh -c \
		    'st=0; pk-cat $1 "latest:$2" >/dev/null 2>err || st=$?
		    [ $st = 1 ] && grep -q "not in the snapshot" err' sh \
		    "$(unlock $r) $r" "$p"
		ok "absent ${p#"$long"/} in $r, pk-index: exit 1" \
		    status_of 1 pk-index $(unlock $r) $r "latest:$p"
	done
done

for r in repo repo2; do
	ok "$r: a hard link at the end, its file at the start" sh -c \
	    'pk-cat $1 latest:t/z-link | cmp - t/a/d00/f0000' sh "$(unlock $r) $r"
	ok "$r: paths of more than 256 bytes" sh -c '
		for d in x y; do for f in 1 2 3; do
			pk-cat $1 "latest:$2/$d/f$f" | cmp - "$2/$d/f$f" || exit 1
		done; done' sh "$(unlock $r) $r" "$long"
	ok "$r: pk-index --check checks the seek table" pk-index --check $(unlock $r) $r
done

# Few reads: a file at the end of the catalog needs the chunk with the
# stream header, its own chunk and its data, not the chunks between.
if strace -f -qq -o /dev/null true 2>/dev/null; then
	# LeakSanitizer cannot run under ptrace (make check SANITIZE=address).
	preads() {
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		    strace -f -e trace=pread64 -o trace pk-cat --key-file key \
		    repo "$1" >/dev/null && grep -c pread64 trace
	}
	few_reads() {
		n=$(preads latest:t/a/d39/f0149) && all=$(preads latest) &&
		    echo "$n of $all" && [ "$n" -le 6 ] && [ "$all" -gt 12 ]
	}
	ok "a file at the end reads few chunks" few_reads
else
	skip "a file at the end reads few chunks" "strace cannot trace here (ptrace not permitted)"
fi

# A seek table that does not match its catalog.  repo2 is not encrypted, so
# a snapshot can be rewritten by hand (pk-repo(5)): the plaintext, its id
# and tag under the mac subkey.  retable REPO CODE: runs the python CODE on
# chunks (a list of dicts: id, len, entry, recno, lo, hi) and writes the
# snapshot again under its new id.
cat >retable.py <<'PY'
import hashlib, os, struct, sys
repo, code = sys.argv[1], sys.argv[2]
master = bytes.fromhex([l.split()[1] for l in open(repo + "/config")
                        if l.startswith("key ")][0])
mac = hashlib.blake2b(b"", digest_size=32, key=master,
                      salt=struct.pack("<Q", 3) + bytes(8),
                      person=b"pk-repo1" + bytes(8)).digest()
name = os.listdir(repo + "/snapshots")[0]
data = open(repo + "/snapshots/" + name, "rb").read()
assert data[:8] == b"PKSNAP\0\0" and struct.unpack_from("<I", data, 8)[0] == 2
p, o = data[16:-16], 0
def take(n):
    global o
    o += n
    return p[o - n:o]
def u32(): return struct.unpack("<I", take(4))[0]
def string(): return take(u32())
take(24); string(); string()
for _ in range(2):
    for _ in range(u32()): string()
take(64 + 12 + 8)
head, n, chunks = p[:o], u32(), []
for _ in range(n):
    c = {"id": take(32), "len": u32(), "entry": u32()}
    if c["entry"] != 0xffffffff:
        c["recno"] = struct.unpack("<Q", take(8))[0]
        c["lo"], c["hi"] = string(), string()
    chunks.append(c)
assert o == len(p)
exec(code)
out = head + struct.pack("<I", len(chunks))
for c in chunks:
    out += c["id"] + struct.pack("<II", c["len"], c["entry"])
    if c["entry"] != 0xffffffff:
        out += struct.pack("<Q", c["recno"])
        out += struct.pack("<I", len(c["lo"])) + c["lo"]
        out += struct.pack("<I", len(c["hi"])) + c["hi"]
sid = hashlib.blake2b(out, digest_size=32, key=mac).digest()
tag = hashlib.blake2b(b"pk snapshot\0" + sid + out, digest_size=16, key=mac).digest()
os.remove(repo + "/snapshots/" + name)
open(repo + "/snapshots/" + sid.hex(), "wb").write(data[:16] + out + tag)
PY
cp -r repo2 orig2
# The chunk where t/a/d20's first file starts: the last whose bounds hold it
# (the first chunk's hold everything, for t/z-link starts it).
middle='[i for i, c in enumerate(chunks) if c["entry"] != 0xffffffff and c["lo"] <= b"t/a/d20/f0000" <= c["hi"]][-1]'
retable() {
	rm -rf repo2 && cp -r orig2 repo2 && python3 retable.py repo2 "$1"
}
check_names() {
	! pk-index --check repo2 2>err && grep -q "the seek table does not match the catalog" err
}
unchanged() {
	retable "pass" && pk-index --check repo2
}
leaves_out() {
	retable "c = chunks[$middle]; c['hi'] = c['lo']" && check_names &&
	    pk-cat repo2 latest:t/a/d39/f0149 | cmp - t/a/d39/f0149
}
inside_record() {
	retable "chunks[$middle]['entry'] += 3" && check_names &&
	    ! pk-cat repo2 latest:t/a/d20/f0000 >out 2>err && [ ! -s out ] &&
	    grep -q "record" err
}
recno_off() {
	retable "chunks[$middle]['recno'] += 1" && check_names
}
out_of_order() {
	retable "c = chunks[$middle]; c['lo'], c['hi'] = c['hi'] + b'x', c['lo']" &&
	    ! pk-cat repo2 "$(ls repo2/snapshots):t/a/d20/f0000" >/dev/null 2>err &&
	    grep -q "corrupt contents" err &&
	    ! pk-cat repo2 latest:t/a/d20/f0000 >/dev/null 2>err &&
	    grep -q "no snapshot can be read" err
}
ok "rewritten unchanged: --check passes" unchanged
ok "bounds that leave out entries: --check names them; other chunks still read" leaves_out
ok "an entry offset inside a record: --check names it; pk-cat fails, writes nothing" inside_record
ok "a record number off by one: --check names it" recno_off
ok "bounds out of order: the snapshot is refused as corrupt, latest says why" out_of_order
