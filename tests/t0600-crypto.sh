#!/bin/sh
# Crypto: passphrases (wrong, from a file, missing, empty), no plaintext and
# no unkeyed chunk hash anywhere in a repository, keyed ids in plaintext
# repositories too, snapshots bound to their names.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

MARK=PKSECRET-MARKER-1234

# A tree full of the marker: compressible text, incompressible data with the
# marker inside, a file name, a symlink target, an xattr value.
mkdir t
awk -v m="$MARK" 'BEGIN { for (i = 0; i < 100000; i++) print m, i }' >t/text
gen_file r1 1000000 1
gen_file r2 1000000 2
gen_file r3 1000000 3
{ cat r1; printf '%s' "$MARK"; cat r2; printf '%s' "$MARK"; cat r3; } >t/random
printf 'small' >"t/name-$MARK"
ln -s "target-$MARK" t/link
setfattr -n user.secret -v "$MARK" t/text 2>/dev/null || :
pk-walk t | pk-chunk >stream

# chunks STREAM: "offset length id" of each CHUNK record of STREAM (see
# pk-stream(5): a 32-byte header, then records of an 8-byte header - type,
# flags, two zero bytes, u32 LE length - and a payload; CHUNK is type 4,
# its payload a 32-byte id and the chunk's bytes).
chunks() {
	_size=$(stat -c %s "$1")
	_off=32
	while [ $_off -lt "$_size" ]; do
		# shellcheck disable=SC2046
		set -- "$1" $(od -An -tu1 -j $_off -N8 "$1")
		_len=$(($6 + ($7 << 8) + ($8 << 16) + ($9 << 24)))
		if [ "$2" = 4 ]; then
			echo "$((_off + 8 + 32)) $((_len - 32)) $(od -An -tx1 -j $((_off + 8)) -N32 "$1" | tr -d ' \n')"
		fi
		[ "$2" = 127 ] && break
		_off=$((_off + 8 + _len))
	done
}
chunks stream >chunks
cut -d' ' -f3 chunks >ids

# The decoder is right: each id is the SHA-256 of its chunk's bytes.
ids_are_sha256() {
	[ "$(wc -l <chunks)" -ge 3 ] || { echo "only $(wc -l <chunks) chunks"; return 1; }
	while read -r off len id; do
		h=$(tail -c +$((off + 1)) stream | head -c "$len" | sha256sum | cut -c 1-64)
		[ "$h" = "$id" ] || { echo "chunk at $off: id $id, sha256 $h"; return 1; }
	done <chunks
}
ok "chunk ids decoded from the stream are SHA-256 of the chunks" ids_are_sha256

# hexdump FILE...: each file as one line of hex, after its name.
hexdump() {
	for _f in "$@"; do
		printf '%s ' "$_f"
		od -An -v -tx1 "$_f" | tr -d ' \n'
		echo
	done
}

# leaks REPO PATTERNFILE DIR...: the lines of PATTERNFILE (hex strings)
# found in the files of REPO's DIRs, as bytes or as text; prints where.
leaks() {
	_r=$1 _p=$2; shift 2
	( cd "$_r" && find "$@" -type f | LC_ALL=C sort |
	    while read -r _f; do hexdump "$_f"; done ) >"$S/dump"
	# as bytes: at an even offset of the hex dump
	awk 'NR == FNR { want[$0] = 1; next }
	    { for (w in want) { s = $2; o = 0
	        while ((i = index(s, w)) > 0) {
	            if ((o + i) % 2 == 1) { print $1 ": " w; break }
	            s = substr(s, i + 1); o += i } } }' "$_p" "$S/dump" >"$S/found"
	# as hex text
	( cd "$_r" && grep -r -l -a -F -f "$_p" "$@" ) >>"$S/found"
	[ -s "$S/found" ] && head -n 5 "$S/found"
}
echo "$MARK" | od -An -v -tx1 | tr -d ' \n' | sed 's/0a$//' >mark.hex
echo >>mark.hex
ok "the marker as hex" sh -c '[ "$(cat mark.hex)" = 504b5345435245542d4d41524b45522d31323334 ]'

# --- An encrypted repository.
pk-store --init repo
ok "backup" sh -c 'pk-store repo <stream >id'
ok "restores" sh -c 'pk-cat repo latest:t/random | cmp - t/random'
ok "no plaintext: the marker is nowhere in the repository" sh -c \
    "! grep -r -a -l -F '$MARK' repo"
ok "no plaintext: nor its hex" sh -c '! leaks repo mark.hex .'
ok "no unkeyed chunk hash: no chunk id anywhere, as bytes or hex" sh -c '! leaks repo ids .'
ok "the passphrase is not stored" sh -c "! grep -r -a -l -F '$PK_PASSPHRASE' repo"
ok "config is not readable by others" sh -c '[ "$(stat -c %a repo/config)" = 400 ]'

# --- A plaintext repository: data may be read, ids must be keyed.
pk-store --init --no-encryption plain
ok "plaintext: backup" sh -c 'pk-store plain <stream >pid'
ok "plaintext: restores" sh -c 'pk-cat plain latest:t/random | cmp - t/random'
# The search finds what is there: 32 bytes of the incompressible file.
od -An -v -tx1 -j 500000 -N32 t/random | tr -d ' \n' >piece.hex
echo >>piece.hex
ok "plaintext: the search finds stored bytes (a control)" leaks plain piece.hex packs
ok "plaintext: no unkeyed chunk id in packs, index, chunkindex, snapshots" sh -c \
    '! leaks plain ids packs index chunkindex snapshots'

# --- Passphrases.
state() { ( cd "$1" && find snapshots index packs tmp -type f | LC_ALL=C sort ); }
state repo >before
# wrong TOOL ARGS...: TOOL exits 1 and says "wrong passphrase".
wrong() {
	_t=$1; shift
	PK_PASSPHRASE=not-the-one $_t "$@" >"$S/.so" 2>"$S/.se" <"$S/stream"
	_st=$?
	[ $_st = 1 ] || { echo "exit $_st"; return 1; }
	grep -qx "$_t: repo: wrong passphrase" "$S/.se" || { cat "$S/.se"; return 1; }
}
ok "wrong passphrase: pk-index" wrong pk-index repo
ok "wrong passphrase: pk-index --check" wrong pk-index --check repo
ok "wrong passphrase: pk-cat" wrong pk-cat repo latest
ok "pk-dedup -r never needs the passphrase" sh -c \
    'env -u PK_PASSPHRASE setsid -w pk-dedup -r repo <stream >/dev/null'
ok "wrong passphrase: pk-store" sh -c \
    'PK_PASSPHRASE=not-the-one pk-store repo <stream >out 2>err; [ $? = 1 ] &&
    grep -qx "pk-store: repo: wrong passphrase" err && [ ! -s out ]'
state repo >after
ok "wrong passphrase: no snapshot, nothing left" diff before after

printf '%s\n' "$PK_PASSPHRASE" >passfile
printf 'not-the-one\n' >badfile
chmod 600 passfile badfile
ok "--passphrase-file: pk-index" sh -c \
    'env -u PK_PASSPHRASE pk-index --passphrase-file passfile repo | grep -q "^$(cut -c 1-12 id) "'
ok "--passphrase-file: pk-cat" sh -c \
    'env -u PK_PASSPHRASE pk-cat --passphrase-file passfile repo latest:t/random | cmp - t/random'
ok "--passphrase-file: pk-store" sh -c \
    'env -u PK_PASSPHRASE pk-store --passphrase-file passfile repo <stream >id2'
ok "--passphrase-file with the wrong one: exit 1" sh -c \
    'env -u PK_PASSPHRASE pk-index --passphrase-file badfile repo 2>err; [ $? = 1 ] &&
    grep -qx "pk-index: repo: wrong passphrase" err'
ok "--passphrase-file missing: exit 1" status_of 1 pk-index --passphrase-file nofile repo
ok "--passphrase-file missing: message" grep -q "^pk-index: nofile: No such file" .se
ok "--passphrase-file: --init" sh -c \
    'env -u PK_PASSPHRASE pk-store --init --passphrase-file passfile repo2 &&
    pk-store repo2 <stream >/dev/null && pk-cat repo2 latest:t/text | cmp - t/text'
ok "no passphrase and no terminal: exit 1" sh -c \
    'env -u PK_PASSPHRASE setsid pk-index repo </dev/null >/dev/null 2>err; [ $? = 1 ] &&
    grep -q "^pk-index: passphrase needed" err'
ok "an empty passphrase is refused at --init" sh -c \
    'PK_PASSPHRASE= pk-store --init repo3 2>err; [ $? = 1 ] && grep -q "empty passphrase" err && [ ! -e repo3/config ]'
ok "a plaintext repository needs no passphrase" sh -c \
    'env -u PK_PASSPHRASE setsid pk-cat plain latest:t/text </dev/null | cmp - t/text'
ok "--init over a repository: exit 1" status_of 1 pk-store --init repo
ok "--init over a repository: message" grep -q "^pk-store: repo: exists" .se

# --- Key files: the master key, unwrapped, instead of the passphrase.
ok "--export-key writes a key file of mode 0600" sh -c \
    'pk-index --export-key key repo && [ "$(stat -c %a key)" = 600 ] &&
    grep -qx "repository $(grep "^id " repo/config | cut -d" " -f2)" key'
ok "the key file is not the passphrase" sh -c "! grep -q -F '$PK_PASSPHRASE' key"
ok "--export-key never replaces a file: exit 1" status_of 1 pk-index --export-key key repo
ok "--export-key over a file: the file is kept" sh -c \
    'echo mine >mine && ! pk-index --export-key mine repo 2>/dev/null && [ "$(cat mine)" = mine ]'
ok "--export-key with the wrong passphrase: exit 1, no file" sh -c \
    'PK_PASSPHRASE=not-the-one pk-index --export-key key2 repo 2>err; [ $? = 1 ] &&
    grep -qx "pk-index: repo: wrong passphrase" err && [ ! -e key2 ]'
ok "--export-key of a plaintext repository: exit 1" sh -c \
    '! pk-index --export-key key3 plain 2>err && grep -q "not encrypted: it has no keys" err && [ ! -e key3 ]'
nopass() { env -u PK_PASSPHRASE setsid -w "$@" </dev/null; }
ok "--key-file: pk-cat with no passphrase" sh -c \
    'env -u PK_PASSPHRASE setsid -w pk-cat --key-file key repo latest:t/random </dev/null | cmp - t/random'
ok "--key-file: pk-index" nopass pk-index --key-file key repo
ok "--key-file: pk-index --check" nopass pk-index --check --key-file key repo
ok "--key-file: pk-store" sh -c \
    'env -u PK_PASSPHRASE setsid -w pk-store --key-file key repo <stream >/dev/null'
ok "PK_KEY_FILE: pk-cat" sh -c \
    'env -u PK_PASSPHRASE PK_KEY_FILE=key setsid -w pk-cat repo latest:t/text </dev/null | cmp - t/text'
ok "PK_KEY_FILE gives way to --passphrase-file" sh -c \
    'env -u PK_PASSPHRASE PK_KEY_FILE=nofile pk-index --passphrase-file passfile repo >/dev/null'
# keyfail FILE MESSAGE: pk-cat --key-file FILE exits 1 saying MESSAGE.
keyfail() {
	nopass pk-cat --key-file "$1" repo latest:t/text >/dev/null 2>"$S/.se"
	_st=$?
	[ $_st = 1 ] || { echo "exit $_st"; return 1; }
	grep -qx "pk-cat: $2" "$S/.se" || { cat "$S/.se"; return 1; }
}
cp key open && chmod 644 open
ok "a key file others may read is refused" keyfail open "open: others may read it (mode 0644): chmod 600 it"
# The first digit of the secret changed: 0 to 1, anything else to 0.
sed 's/^secret 0/secret 1/; t; s/^secret ./secret 0/' key >damaged && chmod 600 damaged
ok "a damaged key file is refused" keyfail damaged "damaged: damaged key file (its check does not match)"
head -n 2 key >short && chmod 600 short
ok "a key file cut short is refused" keyfail short "short: not a pk key file"
# malformed NAME SED: a copy of the key file edited by SED is refused as
# not a key file (only one form is accepted).
malformed() {
	sed "$2" key >"$1" && chmod 600 "$1" && keyfail "$1" "$1: not a pk key file"
}
ok "a key file in upper case is refused" malformed upper 's/^secret .*/\U&/; s/^SECRET/secret/'
ok "a key file with a blank line at its end is refused" malformed blank '$a\\'
ok "a key file with two spaces is refused" malformed spaces 's/^secret /secret  /'
head -c 199 key >nonl && chmod 600 nonl
ok "a key file without its last newline is refused" keyfail nonl "nonl: not a pk key file"
ln -s key link
ok "a symbolic link to a key file is refused" keyfail link "link: a symbolic link, not a key file"
ok "pk-store --init takes no key file: exit 2" status_of 2 pk-store --init --key-file key repo9
ok "another repository's key is refused" sh -c \
    'pk-index --export-key key2 repo2 &&
    ! pk-cat --key-file key2 repo latest:t/text 2>err >/dev/null &&
    grep -qx "pk-cat: key2: the key of another repository" err'
ok "a missing key file: exit 1" sh -c \
    '! pk-cat --key-file nokey repo latest 2>err >/dev/null && grep -q "^pk-cat: nokey: No such file" err'

# --- Snapshots are bound to their names: one copied over another does not
# pass for it.
cp -a repo swap
ok "a second snapshot" sh -c 'echo x >t/x && pk-walk t | pk-chunk | pk-store swap >id3'
chmod u+w swap/snapshots/*
cp "swap/snapshots/$(cat id)" "swap/snapshots/$(cat id3)"
ok "a snapshot under another's name: pk-cat exit 1" status_of 1 pk-cat swap "$(cat id3):t/x"
ok "a snapshot under another's name: does not authenticate" grep -q "does not authenticate" .se
ok "a snapshot under another's name: --check exits 1" status_of 1 pk-index --check swap

# --- Packs are bound to their names too: two packs swapped.
cp -a repo packswap
echo y >t/y
ok "a second pack" sh -c 'pk-walk t | pk-chunk | pk-store packswap >/dev/null'
set -- $(cd packswap && ls packs/*/*)
if [ $# -ge 2 ]; then
	chmod u+w "packswap/$1" "packswap/$2"
	mv "packswap/$1" packswap/tmp.a
	mv "packswap/$2" "packswap/$1"
	mv packswap/tmp.a "packswap/$2"
	ok "swapped packs: --check exits 1" status_of 1 pk-index --check packswap
	ok "swapped packs: pk-cat fails or restores the right bytes" sh -c \
	    'pk-cat packswap latest:t/random >r 2>/dev/null; [ $? -ne 0 ] || cmp r t/random'
else
	echo "not ok - $T: swapped packs: want 2 packs, have $#"
fi
