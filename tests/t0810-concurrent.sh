#!/bin/sh
# Many writers at once (pk-repo(5) CONCURRENCY): pk-store processes
# writing into one repository at the same time all commit, without a lock,
# while pk-cat and pk-index read it; every snapshot restores.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

# Six trees sharing one file, each with its own.
gen_file shared 2000000 1
for w in 1 2 3 4 5 6; do
	mkdir t$w
	cp shared t$w/shared
	gen_file t$w/own 300000 $((10 + w))
	pk-walk t$w | pk-chunk >s$w
done

printf tiny >tinyfile
pk-walk tinyfile | pk-chunk >tiny

for kind in encrypted plaintext; do
	if [ $kind = encrypted ]; then
		pk-store --init r$kind
	else
		pk-store --init --no-encryption r$kind
	fi
	pk-store r$kind <s1 >id0
	# writer W: stores its stream 5 times; exit codes in fails.W
	for w in 1 2 3 4 5 6; do
		( i=0; : >fails.$w
		while [ $i -lt 5 ]; do
			pk-store r$kind <s$w >>ids.$kind.$w 2>>err.$w || echo $? >>fails.$w
			i=$((i + 1))
		done ) &
	done
	# readers meanwhile
	( i=0; : >rfails; while [ $i -lt 20 ]; do
		pk-cat r$kind "$(cat id0):t1/own" 2>>rerr | cmp -s - t1/own || echo cat >>rfails
		pk-index r$kind >/dev/null 2>>rerr || echo index >>rfails
		i=$((i + 1))
	done ) &
	wait
	ok "$kind: 6 writers at once: every pk-store exits 0" sh -c \
	    '! cat fails.* | grep . >/dev/null || { cat fails.* | sort | uniq -c; sort -u err.* | head -n 5; false; }'
	ok "$kind: 30 snapshots committed" sh -c \
	    '[ $(ls r'$kind'/snapshots | wc -l) = 31 ] || { ls r'$kind'/snapshots | wc -l; false; }'
	ok "$kind: readers meanwhile never failed" sh -c \
	    '[ ! -s rfails ] || { sort rfails | uniq -c; sort -u rerr | head -n 5; false; }'
	ok "$kind: the repository checks, data included" pk-index --check=data r$kind
	# every snapshot restores its own file
	each_restores() {
		for w in 1 2 3 4 5 6; do
			while read -r id; do
				pk-cat "r$kind" "$id:t$w/own" | cmp - "t$w/own" || return 1
			done <ids.$kind.$w
		done
	}
	ok "$kind: every snapshot restores" each_restores
	ok "$kind: the shared file stored about once" sh -c \
	    '[ $(du -sb r'$kind'/packs | cut -f1) -lt $((2000000 * 3 + 6 * 300000 * 2)) ] || { du -sb r'$kind'/packs; false; }'
	rm -f fails.* err.* rfails rerr

	# A storm of tiny backups: the chunk index is updated all the time.
	before=$(ls r$kind/snapshots | wc -l)
	for w in 1 2 3 4 5 6 7 8; do
		( i=0; : >fails.$w
		while [ $i -lt 15 ]; do
			pk-store r$kind <tiny >/dev/null 2>>err.$w || echo $? >>fails.$w
			i=$((i + 1))
		done ) &
	done
	wait
	ok "$kind: 8 writers of tiny backups: every pk-store exits 0" sh -c \
	    '! cat fails.* | grep . >/dev/null || { cat fails.* | sort | uniq -c; sort -u err.* | head -n 5; false; }'
	ok "$kind: 8 writers of tiny backups: no warnings" sh -c \
	    '! cat err.* | grep . >/dev/null || { sort err.* | uniq -c | head -n 5; false; }'
	ok "$kind: 120 more snapshots" sh -c \
	    '[ $(ls r'$kind'/snapshots | wc -l) = $(('$before' + 120)) ]'
	ok "$kind: the repository still checks" pk-index --check r$kind
	rm -f fails.* err.*
done

# Two writers storing the same new chunk at once each write a blob, and
# both are valid (pk-repo(5) CONCURRENCY).  Made deterministic: two copies
# of one repository each store the same new data, then the files of one
# are moved into the other, as if both had written there at once.
for kind in encrypted plaintext; do
	rm -rf "same$kind" "other$kind"
	if [ $kind = encrypted ]; then
		pk-store --init "same$kind"
	else
		pk-store --init --no-encryption "same$kind"
	fi
	pk-store "same$kind" <s1 >/dev/null
	cp -a "same$kind" "other$kind"
	seed=70
	[ $kind = plaintext ] && seed=71
	gen_file new.$kind 1000000 $seed
	mkdir -p "n$kind"
	cp new.$kind "n$kind/new"
	pk-walk "n$kind" | pk-chunk >n.stream
	pk-store "same$kind" <n.stream >ida
	pk-store "other$kind" <n.stream >idb
	( cd "other$kind" && find packs index snapshots -type f ) | while read -r f; do
		[ -e "same$kind/$f" ] || { mkdir -p "$(dirname "same$kind/$f")"; cp -p "other$kind/$f" "same$kind/$f"; }
	done
	ok "$kind: same new chunk written twice: both snapshots listed" sh -c \
	    'pk-index same'$kind' | grep -q "^$(cut -c 1-12 ida) " && pk-index same'$kind' | grep -q "^$(cut -c 1-12 idb) "'
	ok "$kind: same new chunk written twice: both restore" sh -c \
	    'pk-cat same'$kind' "$(cat ida):n'$kind'/new" | cmp - n'$kind'/new &&
	    pk-cat same'$kind' "$(cat idb):n'$kind'/new" | cmp - n'$kind'/new'
	ok "$kind: same new chunk written twice: the repository checks" pk-index --check same$kind
	ok "$kind: same new chunk written twice: with data" pk-index --check=data same$kind
done
