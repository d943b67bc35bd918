#!/bin/sh
# Seeds the fuzz corpora (tests/fuzz/corpus/NAME/seed-*) with real files
# made by the tools, and a few invalid ones.  The repository is a plaintext
# one whose master key and id are set to those of tests/fuzz/fuzz.h, so
# that its files authenticate in the targets.  Run by make fuzz-seed; the
# seeds are committed, and only change when the formats do.
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
S=$top/tests/scratch/fuzz-seed
C=$top/tests/fuzz/corpus
master=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
repoid=66757a7a66757a7a66757a7a66757a7a
rm -rf "$S"
mkdir -p "$S"
cd "$S" || exit 1
PATH=$top/bin:$PATH
XDG_CACHE_HOME=$S/cache
HOME=$S
PK_PASSPHRASE="fuzz seed"
export PATH XDG_CACHE_HOME HOME PK_PASSPHRASE
set -e

# unhex HEX: its bytes.  le32 N: N as a little-endian u32.
unhex() {
	printf "$(printf %s "$1" | awk '{
		x = "0123456789abcdef"
		for (i = 1; i < length($0); i += 2) {
			hi = index(x, substr($0, i, 1)) - 1
			lo = index(x, substr($0, i + 1, 1)) - 1
			printf "\\%03o", 16 * hi + lo
		}
	}')"
}
le32() {
	unhex "$(printf %08x "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/')"
}
# seed NAME FILE [AS]: FILE into corpus NAME, as seed-AS (its base name).
seed() {
	mkdir -p "$C/$1"
	cp "$2" "$C/$1/seed-${3:-$(basename "$2")}"
}

# The tree: small, multi-chunk, sparse, empty, duplicate, linked files.
mkdir -p t/sub
printf 'a small file\n' >t/small
"$top/tests/gen" 9000 1 >t/multi
cp t/multi t/sub/dup
truncate -s 65536 t/sparse
printf 'in the middle' | dd of=t/sparse bs=1 seek=30000 conv=notrunc 2>/dev/null
: >t/empty
ln -s small t/link
"$top/tests/gen" 5000 2 text >t/sub/text
# Files changed within a second of a backup are not in its stat cache.
sleep 2.1

pk-store --init --no-encryption --min 512 --avg 1024 --max 4096 repo 2>/dev/null
sed -i "s/^id .*/id $repoid/; s/^key .*/key $master/" repo/config
backup() {
	pk-walk -r repo t | pk-chunk -r repo | pk-dedup -r repo |
	    pk-store "$@" repo >/dev/null
}
backup -l 0 -t seed --host fuzz
printf 'changed\n' >>t/small
backup -t again
# Repository files: their id (their name), then their bytes.
i=0
for f in repo/snapshots/* repo/index/* repo/packs/*/*; do
	i=$((i + 1))
	{ unhex "$(basename "$f")"; cat "$f"; } >file$i
	case $f in
	repo/snapshots/*) seed snapshot file$i snapshot-$i ;;
	repo/index/*) seed index file$i delta-$i ;;
	*) seed pack file$i pack-$i ;;
	esac
done

# Hash files, short (tests/fuzz/fuzz.h): the first 80 header bytes, then
# each slot in use: its number (u16), its bytes.  short FILE SLOTBYTES
short() {
	head -c 80 "$1"
	tail -c +4097 "$1" | od -An -v -tx1 -w"$2" | awk '{
		s = ""
		for (i = 1; i <= NF; i++)
			s = s $i
		if (s ~ /[^0]/)
			printf "%02x%02x%s\n", (NR - 1) % 256, int((NR - 1) / 256), s
	}' | while read -r h; do unhex "$h"; done
}
stat=$XDG_CACHE_HOME/pk/$repoid/fuzz/stat
short repo/chunkindex 64 >chunkindex
short "$stat.known" 16 >known
short "$stat" 24 >statcache
for f in chunkindex known statcache; do seed hashfile $f; done
# Invalid: not one, and a torn (dirty) chunk index.
printf 'PKHASH' >notone
seed hashfile notone
{ head -c 64 chunkindex; printf '\001'; tail -c +66 chunkindex; } >dirty
seed hashfile dirty
{ le32 "$(wc -c <statcache)"; cat statcache "$stat.lists"; } >stat
seed statcache stat
{ le32 80; head -c 80 statcache; cat "$stat.lists"; } >stat-noslots
seed statcache stat-noslots

# Configs, key files and key objects.
{ cat repo/config; printf '\0'; } >config-plain
seed config config-plain
pk-store --init --min 512 --avg 1024 --max 4096 enc 2>/dev/null
pk-index --export-key key enc
{ cat enc/config; printf '\0'; cat key; printf '\0'
    cat "enc/keys/$(sed -n 's/^id //p' key)"; } >config-keyfile
seed config config-keyfile
{ cat enc/config; printf '\0\0'
    cat $(grep -l '^kind passphrase' enc/keys/*); } >config-keyobjects
seed config config-keyobjects
{ sed 's/^pk-repository 2/pk-repository 3/' repo/config; printf '\0'; } \
    >config-version3
seed config config-version3

# Streams: a walk deduplicated against the repository (mostly references,
# like a catalog) and a snapshot's stream (with its META record).
pk-walk --no-cache t | pk-chunk -r repo | pk-dedup -r repo >refs.pks
pk-cat --stream repo latest >snapshot.pks
seed stream snapshot.pks
seed tar snapshot.pks
# Catalogs: flags, the path to select, the chunk lengths, the stream.
{ printf '\001\005t/sub\002'; le32 300 | head -c 2; le32 700 | head -c 2
  cat refs.pks; } >catalog-select
{ printf '\000\000\000'; cat refs.pks; } >catalog-whole
{ printf '\005\007t/small\001'; le32 400 | head -c 2; printf '\010\000'
  cat refs.pks; } >catalog-off
{ printf '\003\001t\000'; cat refs.pks; } >catalog-noseek
for f in catalog-select catalog-whole catalog-off catalog-noseek; do
	seed catalog $f
done
# A mark and its leases file, left by pk-gc in its grace time with a live
# lease of another host, in a copy of the repository whose first snapshot
# is forgotten; input of tests/fuzz/fuzz-gcmark.c: a flags byte, then the
# parts separated by "----".  box FILE: its bytes but the tag (flags 1
# and 2: with the header); plain FILE: its plaintext (flags 0).
cp -r repo gcrepo
pk-forget --keep-tag again gcrepo >/dev/null
mkdir -p gcrepo/locks
printf 'pk-lease 1\nkind store\nhost fuzz\npid 1\nstart %s\n' "$(date +%s)" \
    >gcrepo/locks/6c656173656c656173656c656173656c
pk-gc --grace 1w --max-unused 0 gcrepo >/dev/null
box() {
	head -c "$(($(wc -c <"$1") - 16))" "$1"
}
plain() {
	box "$1" | tail -c +17
}
sep() {
	printf %s ----
}
mark=$(echo gcrepo/gc/mark-*)
leases=$(echo gcrepo/gc/leases-*)
{ printf '\003'; box "$mark"; sep; box "$leases"; sep
  cat gcrepo/locks/*; } >mark
{ printf '\000'; plain "$mark"; sep; plain "$leases"; sep
  cat gcrepo/locks/*; sep
  printf 'pk-lease 1\nkind gc\nhost fuzz\npid 2\nstart 0\n'; sep
  printf 'pk-lease 2\nkind gc\nhost fuzz\npid 3\nstart 0\n'; } >mark-plain
# A mark whose pk-gc died before its leases file; one of version 2.
{ printf '\001'; box "$mark"; } >mark-noleases
{ printf '\001PKGCMARK'; le32 2; le32 0; plain "$mark"; } >mark-version2
for f in mark mark-plain mark-noleases mark-version2; do
	seed gcmark $f
done
echo "fuzz-seed: seeds written to tests/fuzz/corpus"
