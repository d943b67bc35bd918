#!/bin/sh
# The chunk index is a cache, checked on use: one byte changed in a slot
# (here in its length field) is seen, the lookups go to a chunk index
# rebuilt from the index deltas, restores and backups stay right, and
# pk-index --check names the damaged slot.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init --no-encryption repo
mkdir a
gen_file a/one 1500000 1
gen_file a/two 700000 2
ok "a backup" backup repo a

# damage FIELD_OFFSET: flips a bit of every blob slot of the chunk index at
# that offset in the slot (48: pack offset, 52: length, 56: raw length).
cat >damage.py <<'PY'
import struct, sys
path, at = sys.argv[1], int(sys.argv[2])
d = bytearray(open(path, "rb").read())
slot = struct.unpack_from("<I", d, 16)[0]
n = 0
for off in range(4096, len(d), slot):
    key, flags = d[off:off + 32], struct.unpack_from("<I", d, off + 60)[0]
    if any(key) and flags == 0:
        d[off + at] ^= 1
        n += 1
open(path, "wb").write(d)
print(n)
PY
damage() { [ "$(python3 damage.py repo/chunkindex "$1")" -gt 0 ]; }

for field in 48:offset 52:length 56:raw; do
	at=${field%%:*} name=${field#*:}
	ok "$name damaged" damage "$at"
	mkdir -p "r-$name"
	ok "$name damaged: the restore is right" restore repo latest "r-$name"
	ok "$name damaged: ... identical" same_tree a "r-$name/a"
	ok "$name damaged: the chunk index was rebuilt" pk-index --check repo
	rm -rf "r-$name"
done

ok "damaged before a backup" damage 52
gen_file a/three 300000 3
ok "damaged before a backup: the backup" backup repo a
mkdir r2
ok "damaged before a backup: it restores" restore repo latest r2
ok "damaged before a backup: ... identical" same_tree a r2/a
ok "damaged before a backup: the repository checks, data included" \
    pk-index --check=data repo

ok "damaged before a check" damage 52
ok "--check names the slot" sh -c \
    '! pk-index --check repo 2>err && grep -q "chunkindex: slot of blob .* fails its check" err'
ok "--check again: the chunk index was rebuilt" pk-index --check repo
