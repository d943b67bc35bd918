#!/bin/sh
# Bad streams never make a snapshot: truncated, corrupted, extended,
# unchunked, garbage and empty streams, and references to chunks the
# repository does not have, are refused by pk-store with a message naming
# the problem, and leave the repository as it was.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir t
gen_file t/a 3000000 1
"$PK_TOP/tests/gen" 100000 2 text >t/b
printf c >t/c
pk-walk t | pk-chunk >good
size=$(stat -c %s good)

pk-store --init repo
ok "the good stream stores" sh -c 'pk-store repo <good >id && grep -Eqx "[0-9a-f]{64}" id'

# state REPO: the names of its snapshots, index deltas and packs.
state() {
	( cd "$1" && find snapshots index packs -type f | LC_ALL=C sort )
}
state repo >before

# unchanged REPO: no snapshot, delta or pack more than before, nothing
# left in tmp/, and the repository checks.
unchanged() {
	state "$1" >"$S/after" && tree_diff "$S/before" "$S/after" || return 1
	[ -z "$(ls -A "$1/tmp")" ] || { echo "left in tmp/:"; ls -A "$1/tmp"; return 1; }
	pk-index --check "$1" >"$S/check" 2>&1 || { cat "$S/check"; return 1; }
}

# refused NAME PATTERN FILE: pk-store REPO <FILE exits 1, prints no id,
# says something matching PATTERN (grep -E), and changes nothing.
refused() {
	pk-store repo <"$3" >out 2>err
	ok "$1: exit 1" test $? -eq 1
	ok "$1: no id printed" test ! -s out
	ok "$1: message" sh -c 'grep -Eq "$1" err || { cat err; false; }' - "^pk-store: $2"
	ok "$1: repository unchanged" unchanged repo
}

# flip FILE OFFSET: inverts the low bit of the byte at OFFSET.
flip() {
	_b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((_b ^ 1)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# Truncations: inside the header, after it, inside record headers and
# payloads, just before and inside END.
: >empty
refused "empty input" "stdin: empty stream" empty
head -c 10 good >cut10
refused "10 bytes" "stdin: not a pk stream" cut10
for n in 32 40 1000 100000 2000000 $((size - 24)) $((size - 1)); do
	head -c $n good >cut$n
	refused "truncated at $n bytes" \
	    "stdin: record [0-9]+ at byte [0-9]+: truncated (record|stream)" cut$n
done

# A byte flipped: in the header's version, in the middle (chunk data), in
# the flags of the first record, in END's checksum.
cp good f8; flip f8 8
refused "version byte flipped" "stdin: stream version [0-9]+ not supported" f8
# Chunk data is outside the checksum: the ids cover it.  Readers that use
# it check them: pk-store for the chunks it stores (the data of a chunk it
# holds already is of no use to it: the snapshot names that chunk by its
# id), and pk-cat.  pk-dedup passes chunks on between pipes unread; what it
# passed on is refused by pk-store all the same.  The flipped chunk is new
# to the repository.
mkdir n
gen_file n/a 3000000 5
pk-walk n | pk-chunk >fresh
cp fresh fmid; flip fmid $(($(stat -c %s fresh) / 2))
refused "a byte of chunk data flipped" \
    "stdin: record [0-9]+ at byte [0-9]+: chunk [0-9a-f]+…: its id does not match its data" fmid
cat fmid | pk-dedup | cat >fmid.dedup
refused "a byte of chunk data flipped, through pk-dedup between pipes" \
    "stdin: record [0-9]+ at byte [0-9]+: chunk [0-9a-f]+…: its id does not match its data" fmid.dedup
pk-cat -C xflip - <fmid 2>err
ok "a byte of chunk data flipped: pk-cat -C - exits 1" test $? -eq 1
ok "a byte of chunk data flipped: pk-cat -C - says why" \
    grep -q "record [0-9]* at byte [0-9]*: CHUNK: data does not match its id" err
cp good f33; flip f33 33
refused "a record flag flipped" "stdin: record [0-9]+ at byte [0-9]+: " f33
cp good fend; flip fend $((size - 5))
refused "END checksum flipped" "stdin: record [0-9]+ at byte [0-9]+: END: checksum does not match" fend

# Bytes after END, a stream twice.
{ cat good; printf x; } >extra
refused "a byte after END" "stdin: record [0-9]+ at byte $((size - 32)): bytes after END" extra
cat good good >twice
refused "two streams" "stdin: record [0-9]+ at byte [0-9]+: bytes after END" twice

# Not chunked, not a stream.
pk-walk t >unchunked
refused "unchunked stream" "stdin: stream is not chunked" unchunked
gen_file garbage 100000 9
refused "garbage" "stdin: not a pk stream" garbage

# The other stages refuse the same streams and do not make them whole:
# what comes out of them is refused in turn.
for stage in pk-chunk pk-dedup "pk-cat -"; do
	$stage <cut100000 >staged 2>err
	ok "$stage of a truncated stream: exit 1" test $? -eq 1
	ok "$stage of a truncated stream: message" \
	    grep -Eq "^pk-(chunk|dedup|cat): stdin: record [0-9]+ at byte [0-9]+: truncated" err
done
pk-dedup <cut100000 >staged 2>/dev/null
ok "pk-dedup's output of a truncated stream is refused" sh -c \
    '! pk-store repo <staged >/dev/null 2>&1'
ok "... and changes nothing" unchanged repo
pk-chunk <fend >staged 2>/dev/null
ok "pk-chunk's output of a corrupt stream is refused" sh -c \
    '! pk-store repo <staged >/dev/null 2>&1'
ok "... and changes nothing" unchanged repo

# References to chunks the repository does not have: pk-dedup -r one
# repository, pk-store into another that never saw the data.
mkdir u
gen_file u/a 3000000 11
printf 'new' >u/new
pk-store --init other
ok "other repository: a first backup" sh -c 'pk-walk u | pk-chunk | pk-store other >/dev/null'
printf 'newer' >u/new
pk-walk u | pk-chunk | pk-dedup -r other >refs
ok "pk-dedup -r made references" sh -c \
    '[ $(stat -c %s refs) -lt 100000 ] || { ls -l refs; false; }'
refused "references to chunks not in the repository" \
    "(stdin: record [0-9]+ at byte [0-9]+: )?.*(REF to chunk .* refused|not in the repository)" refs
ok "the same references store where the chunks are" sh -c \
    'pk-store other <refs >id2 && pk-cat other "$(cat id2):u/a" | cmp - u/a'
cp u/a u/copy
pk-walk u | pk-chunk | pk-dedup >inrefs
pk-store --init third
ok "references to chunks earlier in the stream store" sh -c \
    '[ $(stat -c %s inrefs) -lt 3100000 ] && pk-store third <inrefs >id4 &&
    pk-cat third "$(cat id4):u/copy" | cmp - u/a'

# After all this, a good stream still stores and restores.
ok "a good stream still stores" sh -c 'pk-store repo <good >id3'
mkdir x
ok "and restores" restore repo "$(cat id3)" x
ok "and is the tree" same_tree t x/t
ok "the repository checks, data included" pk-index --check=data repo
