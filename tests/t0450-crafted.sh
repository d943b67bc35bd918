#!/bin/sh
# Crafted streams: well framed (a correct END), but breaking the rules of
# pk-stream(5) - stored paths, hard links, content lengths, record order,
# reserved fields, REF lengths, chunk ids, unknown types.  pk-store must
# refuse each, naming the record, and leave no snapshot; pk-cat - must not
# turn a bad path into tar.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"


mkdir t
gen_file t/aaaa 1500000 1
printf 'bbbb' >t/bbbb
ln t/aaaa t/hhhh
ln -s aaaa t/llll
pk-walk t | pk-chunk >good
# A plaintext repository: no key derivation per run, and the checks are
# the same.
pk-store --init --no-encryption repo
ok "the good stream stores" sh -c 'pk-store repo <good >/dev/null'
restream good same ""
ok "restream without changes: the same bytes" cmp good same
state() { ( cd repo && find snapshots index packs tmp -type f | LC_ALL=C sort ); }

# bad NAME CODE [HEADER]: the crafted stream is refused by pk-store (exit
# 1, a message naming the record, or with HEADER set, the stream), and
# nothing is left.
bad() {
	restream good crafted "$2" || { echo "not ok - $T: $1: restream failed"; return; }
	state >before
	pk-store repo <crafted >out 2>err
	echo $? >st
	state >after
	ok "$1: pk-store exits 1" sh -c '[ "$(cat st)" = 1 ] || { echo "exit $(cat st)"; cat err; false; }'
	ok "$1: the message names ${3:+the header}${3:-the record}" sh -c \
	    'grep -Eq "^pk-store: stdin: $1" err || { cat err; false; }' - \
	    "${3:-record [0-9]+ at byte [0-9]+: }"
	ok "$1: no snapshot, nothing left" diff before after
}

# Stored paths.
bad "path with a .. component" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/../bb"; put(i, d)'
bad "path .. alone" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b".."; put(i, d)'
bad "absolute path" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"/t/bbbb"; put(i, d)'
bad "path with an empty component" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t//bbbb"; put(i, d)'
bad "path with a trailing slash" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/bbbb/"; put(i, d)'
bad "path with a . component" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/./bbbb"; put(i, d)'
bad "path with a NUL byte" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/bb\0bb"; put(i, d)'
bad "empty path" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b""; put(i, d)'
bad "path over 65536 bytes" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/" + b"x" * 65600; put(i, d)'

# The tree: walk order, each path once, nothing below a file that is not a
# directory (t, t/aaaa, t/bbbb, t/hhhh, t/llll in the good stream).
bad "a path out of order" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/a"; put(i, d)'
bad "a path twice" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/aaaa"; put(i, d)'
bad "a path below a regular file" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"t/aaaa/x"; put(i, d)'
bad "a path below a symlink" \
    'd = entry(find(b"t")); d["path"] = b"t/llll/x"; recs.append(rec(1, b"")); put(len(recs) - 1, d)'
bad "\".\" after other entries" 'i = find(b"t/bbbb"); d = entry(i); d["path"] = b"."; put(i, d)'
bad "a regular file named \".\"" \
    'i = find(b"t"); d = entry(i); d["path"] = b"."; d["type"] = 1; put(i, d); recs.insert(i + 1, rec(6, struct.pack("<QII", 0, 0, 0)))'

# Names that tar cannot carry, sizes no restore can finish.
bad "a user name with a NUL byte" 'i = find(b"t/bbbb"); d = entry(i); d["uname"] = b"ro\0ot"; put(i, d)'
bad "a group name with a NUL byte" 'i = find(b"t/bbbb"); d = entry(i); d["gname"] = b"ro\0ot"; put(i, d)'
bad "a link target on a regular file" 'i = find(b"t/bbbb"); d = entry(i); d["link"] = b"t/aaaa"; put(i, d)'
bad "2^62 bytes of holes" \
    'i = find(b"t/bbbb"); d = entry(i); d["size"] += 2**62; put(i, d); recs.insert(i + 1, rec(3, struct.pack("<Q", 2**62)))
s, f, r = struct.unpack("<QII", recs[i + 3][2]); recs[i + 3][2] = bytearray(struct.pack("<QII", s + 2**62, f, r))'
bad "size unknown, then 2^51 bytes of holes" \
    'i = find(b"t/bbbb"); d = entry(i); d["size"] = 2**64 - 1; put(i, d); recs.insert(i + 1, rec(3, struct.pack("<Q", 2**51)))
s, f, r = struct.unpack("<QII", recs[i + 3][2]); recs[i + 3][2] = bytearray(struct.pack("<QII", s + 2**51, f, r))'

# Hard links.
bad "hard link to a path not in the stream" \
    'i = find(b"t/hhhh"); d = entry(i); d["link"] = b"t/zzzz"; put(i, d)'
bad "hard link to a later path" \
    'i = find(b"t/hhhh"); d = entry(i); d["link"] = b"t/llll"; put(i, d)'
bad "hard link to a symlink" \
    'r = recs.pop(find(b"t/llll")); recs.insert(find(b"t/hhhh"), r)
i = find(b"t/hhhh"); d = entry(i); d["link"] = b"t/llll"; put(i, d)'
bad "hard link to a directory" 'i = find(b"t/hhhh"); d = entry(i); d["link"] = b"t"; put(i, d)'
bad "hard link with a .. target" 'i = find(b"t/hhhh"); d = entry(i); d["link"] = b"../aaaa"; put(i, d)'
bad "hard link with content" \
    'i = find(b"t/hhhh"); d = entry(i); d["size"] = 4; put(i, d); recs.insert(i + 1, rec(2, b"xxxx")); recs.insert(i + 2, rec(6, struct.pack("<QII", 4, 0, 0)))'
bad "symlink with an empty target" 'i = find(b"t/llll"); d = entry(i); d["link"] = b""; put(i, d)'

# Fields.
bad "entry type 9" 'i = find(b"t/bbbb"); d = entry(i); d["type"] = 9; put(i, d)'
bad "entry type 0" 'i = find(b"t/bbbb"); d = entry(i); d["type"] = 0; put(i, d)'
bad "reserved byte of an entry" 'i = find(b"t/bbbb"); d = entry(i); d["r1"] = 1; put(i, d)'
bad "reserved u16 of an entry" 'i = find(b"t/bbbb"); d = entry(i); d["r2"] = 1; put(i, d)'
bad "mode above 07777" 'i = find(b"t/bbbb"); d = entry(i); d["mode"] = 0o10644; put(i, d)'
bad "mtime nanoseconds of 1e9" 'i = find(b"t/bbbb"); d = entry(i); d["mnsec"] = 1000000000; put(i, d)'
bad "ctime nanoseconds of 1e9" 'i = find(b"t/bbbb"); d = entry(i); d["cnsec"] = 1000000000; put(i, d)'
bad "a directory with a size" 'i = find(b"t"); d = entry(i); d["size"] = 5; put(i, d)'
bad "an entry with bytes after its xattrs" 'i = find(b"t/bbbb"); recs[i][2] += b"\0"'
bad "an entry cut short" 'i = find(b"t/bbbb"); recs[i][2] = recs[i][2][:-1]'
bad "more than 4096 xattrs" \
    'i = find(b"t/bbbb"); d = entry(i); d["xattrs"] = [(b"user.a%d" % k, b"") for k in range(4097)]; put(i, d)'
bad "an xattr with an empty name" 'i = find(b"t/bbbb"); d = entry(i); d["xattrs"] = [(b"", b"v")]; put(i, d)'

# Content.
bad "ENTRY.size one more than the content" 'i = find(b"t/bbbb"); d = entry(i); d["size"] += 1; put(i, d)'
bad "ENTRY.size one less than the content" 'i = find(b"t/bbbb"); d = entry(i); d["size"] -= 1; put(i, d)'
bad "EOF.size one less" \
    'i = find(b"t/bbbb") + 2; s, f, r = struct.unpack("<QII", recs[i][2]); recs[i][2] = bytearray(struct.pack("<QII", s - 1, f, r))'
bad "EOF flag bit 1 set" \
    'i = find(b"t/bbbb") + 2; s, f, r = struct.unpack("<QII", recs[i][2]); recs[i][2] = bytearray(struct.pack("<QII", s, 2, r))'
bad "EOF reserved field set" \
    'i = find(b"t/bbbb") + 2; s, f, r = struct.unpack("<QII", recs[i][2]); recs[i][2] = bytearray(struct.pack("<QII", s, f, 1))'
bad "a chunk dropped" 'i = find(b"t/aaaa"); del recs[i + 1]'
bad "a chunk twice" 'i = find(b"t/aaaa"); recs.insert(i + 1, recs[i + 1])'
bad "a file without EOF" 'i = find(b"t/bbbb"); del recs[i + 2]'
bad "EOF twice" 'i = find(b"t/bbbb"); recs.insert(i + 2, recs[i + 2])'
bad "content outside a file" 'i = find(b"t"); recs.insert(i + 1, rec(2, b"xx"))'
bad "EOF outside a file" 'i = find(b"t"); recs.insert(i + 1, rec(6, struct.pack("<QII", 0, 0, 0)))'
bad "an entry inside a file's content" \
    'i = find(b"t/aaaa"); j = find(b"t/llll"); r = recs.pop(j); recs.insert(i + 1, r)'
bad "a HOLE of the wrong payload size" \
    'i = find(b"t/bbbb"); d = entry(i); d["size"] += 4; put(i, d); recs.insert(i + 2, rec(3, struct.pack("<I", 4)))'
bad "a directory with content" \
    'i = find(b"t"); recs.insert(i + 1, rec(6, struct.pack("<QII", 0, 0, 0)))'

# References: a REF of a stored chunk with the wrong length.
bad "REF one byte longer than the chunk" \
    'i = find(b"t/aaaa") + 1; cid = bytes(recs[i][2][:32]); n = len(recs[i][2]) - 32
d = entry(i - 1); d["size"] += 1; put(i - 1, d)
recs[i] = rec(5, cid + struct.pack("<I", n + 1))
j = i + 1
while recs[j][0] != 6: j += 1
s, f, r = struct.unpack("<QII", recs[j][2]); recs[j][2] = bytearray(struct.pack("<QII", s + 1, f, r))'
bad "REF of the wrong payload size" \
    'i = find(b"t/aaaa") + 1; cid = bytes(recs[i][2][:32]); recs[i] = rec(5, cid + b"\0\0\0\0\0")'

# Records, header, END.
bad "unknown record type, not ignorable" 'recs.insert(1, rec(0x50, b"what"))'
bad "END with one record too many" 'end[0] = 1'
bad "END with a wrong byte count" 'end[1] = 1'
bad "END with a flag" 'end[3] = 2'
bad "END with the ignorable flag" 'end[3] = 1'
bad "header version 2" 'hdr[8] = 2' "stream version 2 not supported"
bad "an unknown header flag set" 'hdr[12] |= 2' "[a-z]"
bad "header chunk_min above chunk_max" 'hdr[16:20] = struct.pack("<I", 16777216)' "[a-z]"

# A chunk that does not match its id, in a repository that does not have
# it (one that has it may keep its own copy).
pk-store --init --no-encryption fresh
restream good crafted 'i = find(b"t/aaaa") + 1; recs[i][2][100] ^= 1'
pk-store fresh <crafted >out 2>err
ok "chunk data that does not match its id: pk-store exits 1" test $? = 1
ok "chunk data that does not match its id: the message names the record" \
    grep -Eq "^pk-store: stdin: record [0-9]+ at byte [0-9]+: .*does not match" err
ok "chunk data that does not match its id: no snapshot" sh -c '[ -z "$(ls fresh/snapshots)" ]'

# Accepted: an ignorable unknown record, an ERROR record between files.
restream good ign 'recs.insert(1, rec(0x50, b"what", 1))'
ok "an ignorable unknown record: stored" sh -c 'pk-store repo <ign >/dev/null'
restream good errrec 'i = find(b"t/bbbb"); recs.insert(i, rec(7, struct.pack("<I", 13) + struct.pack("<I", 6) + b"t/gone" + struct.pack("<I", 6) + b"denied"))'
pk-store repo <errrec >id 2>err
ok "an ERROR record: stored, exit 3" test $? = 3
ok "an ERROR record: the snapshot is incomplete" sh -c \
    "pk-index repo | grep '^$(cut -c 1-12 id) ' | grep -q incomplete"

# The largest file pk stores, 1 PiB of holes: stored, and restored as tar
# (to /dev/null: no file system here holds it) in seconds, holes unwritten.
restream good huge 'i = find(b"t/bbbb"); d = entry(i); d["size"] = 2**50; put(i, d)
recs[i + 1] = rec(3, struct.pack("<Q", 2**50)); recs[i + 2] = rec(6, struct.pack("<QII", 2**50, 0, 0))'
ok "1 PiB of holes: stored" sh -c 'pk-store repo <huge >huge.id'
ok "1 PiB of holes: restored as tar in seconds" sh -c \
    'timeout 60 pk-cat repo "$(cat huge.id)" | tar -tvf - | grep -q " 1125899906842624 .* t/bbbb$"'
ok "1 PiB of holes: the repository checks" pk-index --check repo
# A stream cut short after the ENTRY of a file of 1 PiB: pk-cat - fails at
# once (it does not pad the file out to its size).
restream good cut.end 'i = find(b"t/bbbb"); d = entry(i); d["size"] = 2**50; put(i, d); del recs[i + 1:]'
head -c -32 cut.end >cut		# END left out
ok "a stream cut inside a 1 PiB file: pk-cat - fails at once" sh -c \
    '! timeout 20 pk-cat - <cut >/dev/null 2>err && grep -q "truncated" err'

# pk-cat - turns no bad path into tar.
for p in 't/../bb' '/t/bbbb' '..'; do
	restream good crafted "i = find(b\"t/bbbb\"); d = entry(i); d[\"path\"] = b\"$p\"; put(i, d)"
	pk-cat - <crafted >crafted.tar 2>err
	st=$?
	ok "pk-cat - of the path '$p': exit 1" test $st = 1
	ok "pk-cat - of the path '$p': not in the tar" sh -c \
	    "! tar -tf crafted.tar 2>/dev/null | grep -Fqx '$p'"
done
