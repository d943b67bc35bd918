#!/bin/sh
# Corruption: a flipped byte in a pack, a damaged or missing snapshot,
# pack or index delta, a missing, torn or damaged chunk index.  Checks name
# what is damaged, restores give back everything else and say what they
# could not, and the chunk index is rebuilt from the deltas.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir t
for i in 1 2 3 4 5 6 7 8; do gen_file t/f$i 1500000 $i; done
"$PK_TOP/tests/gen" 500000 9 text >t/text
printf small >t/small

pk-store --init repo
ok "first backup" backup repo t
cp id id1
printf more >t/more
ok "second backup" backup repo t
cp id id2

# flip FILE OFFSET: inverts the low bit of the byte at OFFSET.
flip() {
	chmod u+w "$1"
	_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((_b ^ 1)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# copy NAME: a copy of the repository to damage.
copy() { rm -rf "$1"; cp -a repo "$1"; }

# --- A byte flipped in the middle of the largest pack.
copy bad
pack=$(cd bad && ls -S packs/*/* | head -n 1)
flip "bad/$pack" $(($(stat -c %s "bad/$pack") / 2))
pk-index --check bad >/dev/null 2>&1
ok "flipped pack byte: the structural check runs (pass or fail)" test $? -le 1
pk-index --check=data bad >out 2>err
ok "flipped pack byte: --check=data exits 1" test $? -eq 1
ok "flipped pack byte: --check=data names the pack" grep -q "^pk-index: bad/$pack: " err
grep -o ' t/[a-z0-9]*: chunk ' err | sed 's/^ //; s/: chunk $//' | sort -u >named
ok "flipped pack byte: --check=data names the damaged file" test -s named
ok "flipped pack byte: --check=data names it in both snapshots" sh -c \
    "grep -q \"snapshot $(cut -c 1-12 id1): $(head -n 1 named): \" err &&
     grep -q \"snapshot $(cut -c 1-12 id2): $(head -n 1 named): \" err"
mkdir x
{ pk-cat bad latest 2>caterr; echo $? >st; } | tar -xf - -C x 2>tarerr
ok "damaged restore: pk-cat exits non-zero" test "$(cat st)" -ne 0
ok "damaged restore: tar reads the whole stream" test ! -s tarerr
ok "damaged restore: the damaged file named on stderr" sh -c \
    'while read -r f; do grep -q "^pk-cat: $f: " caterr || exit 1; done <named'
ok "damaged restore: how many files are damaged" \
    grep -q "^pk-cat: $(wc -l <named) files could not be restored whole$" caterr
# every other file restored whole, the damaged ones kept their size
damaged_ok() {
	for f in t/*; do
		if grep -qx "$f" named; then
			[ "$(stat -c %s "x/$f")" = "$(stat -c %s "$f")" ] &&
			    ! cmp -s "x/$f" "$f" || { echo "$f: damaged, yet restored?"; return 1; }
		else
			cmp "x/$f" "$f" || return 1
		fi
	done
}
ok "damaged restore: every other file identical, damaged ones of full size" damaged_ok
# Chunks opened ahead on threads give the same archive, zeros and all.
ok "damaged restore: the same archive and exit on 1 and on 3 threads" sh -c \
    'pk-cat -j 1 bad latest >a1.tar 2>e1; s1=$?; pk-cat -j 3 bad latest >a3.tar 2>e3
    [ $? = $s1 ] && [ $s1 = 1 ] && [ -s a1.tar ] && cmp a1.tar a3.tar && cmp e1 e3'
ok "damaged file alone: exit 1" status_of 1 pk-cat bad "latest:$(head -n 1 named)"
ok "damaged file alone: message" grep -q "^pk-cat: .*does not authenticate" .se
ok "an undamaged file alone" sh -c 'pk-cat bad latest:t/small | cmp - t/small'
ok "the original repository is intact" pk-index --check=data repo

# --- A byte flipped in the older snapshot.
copy bads
flip "bads/snapshots/$(cat id1)" 100
pk-index --check bads >out 2>err
ok "damaged snapshot: --check exits 1" test $? -eq 1
ok "damaged snapshot: --check names it" grep -q "snapshots/$(cat id1): " err
pk-index bads >out 2>err
ok "damaged snapshot: the other still listed" grep -q "^$(cut -c 1-12 id2) " out
ok "damaged snapshot: the listing says one is unreadable" grep -q "^pk-index: .*1 snapshots cannot be read" err
ok "damaged snapshot: latest still restores" sh -c 'pk-cat bads latest:t/more | cmp - t/more'
ok "damaged snapshot: the other by id" sh -c "pk-cat bads $(cut -c 1-8 id2):t/f1 | cmp - t/f1"
ok "damaged snapshot: the damaged one by full id: exit 1" status_of 1 pk-cat bads "$(cat id1):t/f1"
ok "damaged snapshot: the damaged one by full id: message" \
    grep -q "^pk-cat: .*snapshots/$(cat id1): does not authenticate" .se
ok "damaged snapshot: the damaged one by id prefix: exit 1" status_of 1 pk-cat bads "$(cut -c 1-8 id1):t/f1"
ok "damaged snapshot: the damaged one by id prefix: says it is damaged, not missing" \
    grep -q "^pk-cat: .*\(corrupt\|cannot be read\|does not authenticate\)" .se
ok "damaged snapshot: a new backup works" backup bads t

# --- A missing pack.
copy nopack
rm "nopack/$pack"
pk-index --check nopack >out 2>err
ok "missing pack: --check exits 1" test $? -eq 1
ok "missing pack: --check names it" grep -q "nopack/$pack: No such file" err
mkdir y
{ pk-cat nopack latest 2>caterr; echo $? >st; } | tar -xf - -C y 2>tarerr
ok "missing pack: pk-cat exits non-zero" test "$(cat st)" -ne 0
ok "missing pack: tar reads the whole stream" test ! -s tarerr
ok "missing pack: files named" grep -q "^pk-cat: t/f1: .*nopack/$pack: No such file" caterr

# --- A truncated pack.
copy cutpack
chmod u+w "cutpack/$pack"
truncate -s 5000000 "cutpack/$pack"
pk-index --check cutpack >out 2>err
ok "truncated pack: --check exits 1" test $? -eq 1
ok "truncated pack: --check names it" grep -q "cutpack/$pack: " err

# --- A missing index delta: the chunk index still knows its blobs, but
# it is only a cache of the deltas; the check must not trust it.
copy nodelta
delta=$(cd nodelta && ls -S index/* | head -n 1)
rm "nodelta/$delta"
pk-index --check nodelta >out 2>err
ok "missing index delta: --check exits 1" test $? -eq 1
rm nodelta/chunkindex
pk-index --check nodelta >out 2>err
ok "missing index delta, chunk index gone: --check exits 1" test $? -eq 1
ok "missing index delta, chunk index gone: names missing chunks" grep -q ": chunk [0-9a-f]*… missing" err

# --- The chunk index: removed, its header damaged, truncated, emptied,
# its slots overwritten.  Each is rebuilt from the deltas (or, for the
# slots, at least never hangs nor restores wrong bytes).
# restores_in REPO DIR: a restore equals the tree.
restores_in() { restore "$1" latest "$2" && same_tree t "$2/t"; }
copy ci1
rm ci1/chunkindex
ok "chunk index removed: pk-cat restores" restores_in ci1 z1
ok "chunk index removed: rebuilt" test -s ci1/chunkindex
ok "chunk index removed: --check=data" pk-index --check=data ci1
copy ci2
rm ci2/chunkindex
touch -r t tref
printf again >t/again
ok "chunk index removed: pk-store stores" backup ci2 t
ok "chunk index removed: nothing stored twice" sh -c \
    '[ $(du -sb ci2/packs | cut -f1) -lt $(( $(du -sb repo/packs | cut -f1) + 100000 )) ]'
rm t/again
touch -r tref t

copy ci3
chmod u+w ci3/chunkindex
printf 'XXXXXXXX' | dd of=ci3/chunkindex bs=1 seek=0 conv=notrunc 2>/dev/null
pk-cat ci3 latest:t/f2 >f2 2>err
ok "chunk index header damaged: pk-cat works" cmp f2 t/f2
ok "chunk index header damaged: says it rebuilt it" grep -q "^pk-cat: .*chunkindex: .*rebuilt it" err
ok "chunk index header damaged: restores after" restores_in ci3 z3
ok "chunk index header damaged: --check=data" pk-index --check=data ci3

copy ci4
chmod u+w ci4/chunkindex
truncate -s 1000 ci4/chunkindex
ok "chunk index truncated: restores" restores_in ci4 z4

copy ci5
: >ci5/chunkindex
ok "chunk index empty: restores" restores_in ci5 z5
ok "chunk index empty: pk-store stores" backup ci5 t

# Garbage in every slot, the header intact.  A restore takes well under
# a second here: 10 s means a hang.
garbage_slots() {
	copy "$1"
	chmod u+w "$1/chunkindex"
	gen_file junk $(($(stat -c %s "$1/chunkindex") - 4096)) 77
	dd if=junk of="$1/chunkindex" bs=4096 seek=1 conv=notrunc 2>/dev/null
}
garbage_slots ci6
timeout 10 pk-cat ci6 latest >z6.tar 2>err
st=$?
ok "chunk index slots overwritten: pk-cat does not hang" test $st -ne 124
if [ $st -eq 0 ]; then
	mkdir z6
	ok "chunk index slots overwritten: the restore is right" sh -c \
	    'tar -xf z6.tar -C z6 && for f in t/*; do cmp "$f" "z6/$f" || exit 1; done'
elif [ $st -ne 124 ]; then
	ok "chunk index slots overwritten: pk-cat says why" grep -q "^pk-cat: " err
fi
garbage_slots ci7
timeout 10 pk-index --check ci7 >/dev/null 2>&1
ok "chunk index slots overwritten: pk-index --check does not hang" test $? -ne 124
garbage_slots ci8
pk-walk t | pk-chunk >stream
timeout 10 pk-store ci8 <stream >/dev/null 2>&1
ok "chunk index slots overwritten: pk-store does not hang" test $? -ne 124
