#!/bin/sh
# Copies between repositories: pk-cat --stream A SNAPSHOT | pk-store B, into
# an encrypted repository with another passphrase and into a plaintext one,
# whole snapshots, older ones and subtrees, with pk-dedup on the way.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p t/sub/deeper t/empty
gen_file t/big 9437184 1
"$PK_TOP/tests/gen" 300000 2 text >t/sub/text
printf small >t/sub/deeper/small
: >t/zero
ln t/big t/sub/hard
ln -s ../big t/sub/sym
mkfifo t/fifo
truncate -s 30M t/sparse
printf 'middle' | dd of=t/sparse bs=1M seek=15 conv=notrunc 2>/dev/null
setfattr -n user.copy -v kept t/sub/text 2>/dev/null || :
touch -d '2021-03-04 05:06:07.891011121' t/sub/text
chown 1234:2345 t/zero

pk-store --init a
ok "backup into A" backup a t
cp id ida
touch -r t tref
printf later >t/later
ok "a second backup into A" backup a t
rm t/later
touch -r tref t

# files_of REPO: the files column of the newest snapshot in pk-index.
files_of() { pk-index "$1" | tail -n 1 | awk '{ print $5 }'; }

# --- Into an encrypted repository with another passphrase.
printf 'another passphrase\n' >pass.b && chmod 600 pass.b
pk-store --init --passphrase-file pass.b b
# copy FROM SNAPSHOT TO [--passphrase-file FILE]: pk-cat --stream | pk-store.
copy() {
	_from=$1 _snap=$2 _to=$3; shift 3
	{ pk-cat --stream "$_from" "$_snap"; echo $? >"$S/st.cat"; } |
	    pk-store "$@" "$_to" >"$S/id" 2>"$S/err" || { cat "$S/err"; return 1; }
	[ "$(cat "$S/st.cat")" = 0 ] || { echo "pk-cat: exit $(cat "$S/st.cat")"; return 1; }
}
ok "copy A's first snapshot into B" copy a "$(cat ida)" b --passphrase-file pass.b
mkdir xb
ok "B restores" sh -c 'pk-cat --passphrase-file pass.b b latest | tar --xattrs --xattrs-include="*" -xpf - -C xb'
ok "B holds the tree" same_tree t xb/t
ok "B lists as many files as A's first snapshot" sh -c \
    '[ "$(pk-index --passphrase-file pass.b b | tail -n 1 | awk "{ print \$5 }")" = \
    "$(pk-index a | sed -n 2p | awk "{ print \$5 }")" ]'
ok "B checks, data included" pk-index --check=data --passphrase-file pass.b b
ok "A's passphrase does not open B" sh -c '! pk-index b 2>/dev/null'

# --- Into a plaintext repository, options after the arguments.
pk-store --init --no-encryption c
ok "copy A latest into C (pk-cat A latest --stream)" sh -c \
    'pk-cat a latest --stream | pk-store c >idc'
ok "C lists as many files as A" sh -c '[ "$(files_of c)" = "$(files_of a)" ]'
ok "C has the file only the second snapshot had" sh -c \
    '[ "$(pk-cat c latest:t/later)" = later ]'
mkdir xc
ok "C restores" restore c latest xc
rm -f xc/t/later
touch -r tref xc/t
ok "C holds the tree (and t/later)" same_tree t xc/t

# --- Again, through pk-dedup -r: nothing new travels or is stored.
before=$(du -sb c | cut -f1)
pk-cat --stream a latest | pk-dedup -r c | tee mid | pk-store c >/dev/null
ok "a second copy through pk-dedup -r sends references only" sh -c \
    '[ $(stat -c %s mid) -lt 100000 ] || { ls -l mid; false; }'
ok "a second copy adds under 1%" sh -c \
    "[ \$((\$(du -sb c | cut -f1) - $before)) -lt $((before / 100)) ]"

# --- A subtree.
pk-store --init d
ok "copy a subtree" sh -c 'pk-cat --stream a latest:t/sub | pk-store d >/dev/null'
mkdir xd
ok "the subtree restores" restore d latest xd
ok "only the subtree" sh -c '[ "$(ls xd/t)" = sub ]'
ok "the subtree's files" sh -c \
    'cmp xd/t/sub/text t/sub/text && cmp xd/t/sub/deeper/small t/sub/deeper/small &&
    cmp xd/t/sub/hard t/big'

# --- And back from the plaintext repository into a fresh encrypted one.
pk-store --init e
ok "copy C back into E" sh -c "pk-cat --stream c $(cut -c 1-12 idc) | pk-store e >/dev/null"
ok "E: A's file" sh -c 'pk-cat e latest:t/big | cmp - t/big'
ok "E: sparse file" sh -c 'pk-cat e latest:t/sparse | cmp - t/sparse'

# The stream of a copy is a valid stream: pk-cat - reads it.
mkdir xs
ok "pk-cat --stream | pk-cat - | tar" sh -c \
    "pk-cat --stream a $(cut -c 1-12 ida) | pk-cat - | tar --xattrs --xattrs-include=\"*\" -xpf - -C xs"
ok "pk-cat --stream | pk-cat -: the tree" same_tree t xs/t
