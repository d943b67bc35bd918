#!/bin/sh
# pk-key: a second passphrase, each opening; passwd, after which the old
# passphrase fails and the others do not; key files added, opening, and
# revoked by removing their key; the last key kept; the listing and its
# JSON; plaintext repositories; a repository of config version 1 (a
# checked-in one) that opens, with its old key file too, and moves its key
# into keys/ at the first change; passwd killed or failing between its add
# and its remove; passphrase files others may read refused.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir t
echo "one file" >t/one
gen_file t/big 300000 7
printf 'second passphrase\n' >pass2
printf 'third passphrase\n' >pass3
printf 'not-the-one\n' >wrong
chmod 600 pass2 pass3 wrong
# Helpers as commands, for the checks run by sh -c too.
mkdir h
# nopass COMMAND...: COMMAND with no passphrase and no key file from the
# environment, and no terminal.
cat >h/nopass <<'EOF'
#!/bin/sh
exec env -u PK_PASSPHRASE -u PK_KEY_FILE setsid -w "$@" </dev/null
EOF
# opens REPO PASSFILE: pk-index lists REPO with the passphrase of PASSFILE.
cat >h/opens <<'EOF'
#!/bin/sh
exec nopass pk-index --passphrase-file "$2" "$1" >/dev/null
EOF
# keys REPO: the number of key objects in REPO/keys.
cat >h/keys <<'EOF'
#!/bin/sh
ls "$1/keys" | wc -l
EOF
chmod +x h/*
PATH=$S/h:$PATH
# refused TOOL MESSAGE COMMAND...: COMMAND exits 1 saying "TOOL: MESSAGE".
refused() {
	_t=$1 _m=$2; shift 2
	status_of 1 "$@" || return 1
	grep -qxF "$_t: $_m" "$S/.se" || { cat "$S/.se"; return 1; }
}

pk-store --init repo
ok "backup" backup repo t
printf '%s\n' "$PK_PASSPHRASE" >pass1 && chmod 600 pass1
ok "a new repository has one key in keys/ and none in config" sh -c \
    '[ "$(keys repo)" = 1 ] && ! grep -q "^key \|^argon2id " repo/config &&
    head -n 1 repo/config | grep -qx "pk-repository 2"'

# --- A second passphrase.
ok "add: a second passphrase, its id on stdout" sh -c \
    'pk-key add --new-passphrase-file pass2 repo >id2 && grep -Eqx "[0-9a-f]{32}" id2'
ok "add: the key object is keys/ID" test -f "repo/keys/$(cat id2)"
ok "the first passphrase opens" opens repo pass1
ok "the second passphrase opens" opens repo pass2
ok "a wrong one does not" refused pk-index "repo: wrong passphrase" \
    nopass pk-index --passphrase-file wrong repo
ok "add with a wrong current passphrase: exit 1, no key added" sh -c \
    '! PK_PASSPHRASE=not-the-one pk-key add --new-passphrase-file pass3 repo 2>err &&
    grep -qx "pk-key: repo: wrong passphrase" err && [ "$(keys repo)" = 2 ]'
ok "add with no new passphrase and no terminal: exit 1" refused pk-key \
    "new passphrase needed: use --new-passphrase-file, or run on a terminal" \
    setsid -w pk-key add repo

# --- The listing.
ok "list: a header and a line a key" sh -c \
    'pk-key list repo >list && [ "$(wc -l <list)" = 3 ] &&
    head -n 1 list | grep -q "^  id  *kind  *created  *host  *user$"'
ok "list: the key that opened is marked, the other not" sh -c \
    'grep -q "^  $(cat id2)  passphrase  20[0-9-]* [0-9:]*  " list &&
    [ "$(grep -c "^\* [0-9a-f]\{32\}  passphrase " list)" = 1 ]'
ok "list: opened with the second, the second is marked" sh -c \
    'nopass pk-key list --passphrase-file pass2 repo | grep -q "^\* $(cat id2) "'
ok "list --json: each key, one used" sh -c \
    'pk-key list --json repo >json && [ "$(grep -c "\"kind\":\"passphrase\"" json)" = 2 ] &&
    [ "$(grep -c "\"used\":true" json)" = 1 ] &&
    grep -q "{\"id\":\"$(cat id2)\",\"kind\":\"passphrase\",\"used\":false,\"created\":\"20[0-9T:.-]*Z\",\"host\":\"[^\"]*\",\"user\":\"[^\"]*\"}" json &&
    head -c 1 json | grep -qx "\[" && tail -n 1 json | grep -q "}]$"'

# --- passwd: the key that opened is replaced; the others stay.
ok "passwd: the second passphrase to a third" sh -c \
    'nopass pk-key passwd --passphrase-file pass2 --new-passphrase-file pass3 repo >id3 &&
    grep -Eqx "[0-9a-f]{32}" id3 && [ ! -e "repo/keys/$(cat id2)" ] && [ "$(keys repo)" = 2 ]'
ok "passwd: the old passphrase fails" refused pk-index "repo: wrong passphrase" \
    nopass pk-index --passphrase-file pass2 repo
ok "passwd: the new one opens" opens repo pass3
ok "passwd: the first passphrase, another key, still opens" opens repo pass1
ok "passwd: restores with the new one" sh -c \
    'nopass pk-cat --passphrase-file pass3 repo latest:t/big | cmp - t/big'

# --- Key files.
ok "add --key-file: written with mode 0600" sh -c \
    'pk-key add --key-file kf repo >idk && [ "$(stat -c %a kf)" = 600 ] &&
    head -n 1 kf | grep -qx "pk-key 2" && grep -qx "id $(cat idk)" kf'
ok "the key file opens, no passphrase" sh -c \
    'env -u PK_PASSPHRASE PK_KEY_FILE=kf setsid -w pk-cat repo latest:t/one </dev/null | cmp - t/one'
ok "list: the key file's key, and the key that opened it marked" sh -c \
    'env -u PK_PASSPHRASE PK_KEY_FILE=kf setsid -w pk-key list repo </dev/null |
    grep -q "^\* $(cat idk)  key-file  "'
ok "add --key-file over a file: exit 1, the file kept" sh -c \
    'echo mine >mine && ! pk-key add --key-file mine repo 2>err &&
    grep -qx "pk-key: mine: exists (a key file is never written over a file)" err &&
    [ "$(cat mine)" = mine ] && [ "$(keys repo)" = 3 ]'
ok "pk-index --export-key adds a key file too" sh -c \
    'pk-index --export-key kf2 repo && [ "$(keys repo)" = 4 ] &&
    pk-key list repo | grep -c " key-file " | grep -qx 2'
ok "passwd opened by a key file: exit 1" refused pk-key \
    "repo: opened with a key file, not a passphrase: passwd replaces the passphrase that opens it (unset PK_KEY_FILE)" \
    env PK_KEY_FILE=kf pk-key passwd --new-passphrase-file pass2 repo
ok "remove: the key file's key, by a prefix of its id" sh -c \
    'pk-key remove repo "$(cut -c 1-8 idk)" && [ ! -e "repo/keys/$(cat idk)" ]'
ok "a removed key file opens no more" refused pk-cat \
    "kf: key $(cat idk) was removed from the repository: it no longer opens it" \
    nopass pk-cat --key-file kf repo latest:t/one
ok "... through PK_KEY_FILE neither" status_of 1 \
    env -u PK_PASSPHRASE PK_KEY_FILE=kf setsid -w pk-index repo
ok "the other key file still opens" nopass pk-index --key-file kf2 repo

# --- Removing.
ok "remove: an id no key has" refused pk-key "repo: no key 0000" pk-key remove repo 0000
ok "remove: too short a prefix" refused pk-key \
    "abc: not a key id (4 to 32 hexadecimal digits, as pk-key list shows them)" \
    pk-key remove repo abc
ok "remove: the key that opened, another remaining, says so" sh -c \
    'nopass pk-key remove --passphrase-file pass3 repo "$(cat id3)" 2>err &&
    grep -q "^pk-key: removed key $(cat id3), the one this run opened the repository with" err &&
    ! opens repo pass3'
kf2id=$(sed -n 's/^id //p' kf2)
ok "remove: the key file, one key left" pk-key remove repo "$kf2id"
ok "remove: the last key is refused" sh -c \
    'id=$(ls repo/keys) && ! pk-key remove repo "$id" 2>err &&
    grep -qx "pk-key: repo: $id is the last key, which opens the repository: add another first" err &&
    [ -e "repo/keys/$id" ] && opens repo pass1'

# --- Plaintext repositories have no keys.
pk-store --init --no-encryption plain
for v in add passwd; do
	ok "plaintext: pk-key $v says it has no keys, exit 1" refused pk-key \
	    "plain: not encrypted: it has no keys" \
	    nopass pk-key $v --new-passphrase-file pass2 plain
done
ok "plaintext: pk-key list says so too" refused pk-key \
    "plain: not encrypted: it has no keys" nopass pk-key list plain
ok "plaintext: pk-key remove too" refused pk-key \
    "plain: not encrypted: it has no keys" nopass pk-key remove plain abcd

# --- A repository of config version 1, written before keys/.
cp -R "$PK_TOP/tests/golden/repo-v1" old && mkdir -p old/tmp && chmod -R u+w old
cp "$PK_TOP/tests/golden/repo-v1.key" old.key && chmod 600 old.key
ok "version 1: lists with the passphrase" sh -c \
    'pk-index old | grep -q "^30d4aef32da4 .* golden "'
ok "version 1: restores" sh -c \
    'pk-cat old latest:t/hello | grep -qx "hello from a version 1 repository"'
ok "version 1: its key file of version 1 opens" sh -c \
    'nopass pk-cat --key-file old.key old latest:t/two | grep -qx "second file"'
ok "version 1: list shows the config's key, marked" sh -c \
    'pk-key list old >oldlist && grep -q "^\* config  *passphrase  *-  *-  *-$" oldlist &&
    [ "$(wc -l <oldlist)" = 2 ] && [ ! -e old/keys ]'
cp old/config old.config
ok "version 1: add moves the key into keys/, then adds" sh -c \
    'pk-key add --new-passphrase-file pass2 old >/dev/null && [ "$(keys old)" = 2 ] &&
    head -n 1 old/config | grep -qx "pk-repository 2" &&
    ! grep -q "^key \|^argon2id " old/config && grep -qx "moved config" old/keys/*'
ok "version 1: the rest of config is unchanged" sh -c \
    'diff old.config old/config | grep "^[<>]" >d; grep -v "pk-repository\|argon2id\|^< key " d; [ $? = 1 ]'
ok "version 1: the old passphrase opens after the move" opens old pass1
ok "version 1: the new passphrase opens" opens old pass2
ok "version 1: the old key file still opens (nothing revokes it)" \
    nopass pk-index --key-file old.key old
ok "version 1: checks" pk-index --check=data old
ok "version 1: list shows the moved key, marked, and the new one" sh -c \
    'pk-key list old >oldlist && [ "$(wc -l <oldlist)" = 3 ] &&
    ! grep -q "^. config " oldlist && grep -c "^\* " oldlist | grep -qx 1'
cp -R "$PK_TOP/tests/golden/repo-v1" old2 && mkdir -p old2/tmp && chmod -R u+w old2
ok "version 1: passwd moves the key and replaces it" sh -c \
    'pk-key passwd --new-passphrase-file pass3 old2 >/dev/null && [ "$(keys old2)" = 1 ] &&
    opens old2 pass3 && ! opens old2 pass1 2>/dev/null'

# --- passwd stopped between its add and its remove: both keys open.
pk-store --init cr && backup cr t
nolsan=ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
if strace -f -qq -o /dev/null true 2>/dev/null; then
	ok "passwd whose remove fails: exit 1, says the old one still opens" sh -c "
	    cp -a cr cf && ! env '$nolsan' strace -f -qq -o /dev/null \
	    -e trace=unlink,unlinkat -e inject=unlink,unlinkat:error=EIO \
	    pk-key passwd --new-passphrase-file pass2 cf >/dev/null 2>err &&
	    grep -q '^pk-key: cf: the new passphrase opens it (key [0-9a-f]*), but the old one still does: removing key [0-9a-f]* failed' err"
	ok "... both passphrases open it" sh -c 'opens cf pass1 && opens cf pass2'
	# kill -9 at each rename and unlink of passwd: never no key.
	for sc in rename unlink; do
		k=1
		while [ $k -le 10 ]; do
			rm -rf ck && cp -a cr ck
			env "$nolsan" strace -f -qq -o /dev/null -e trace=$sc,${sc}at \
			    -e inject=$sc,${sc}at:signal=KILL:when=$k \
			    pk-key passwd --new-passphrase-file pass2 ck >/dev/null 2>&1
			st=$?
			{ opens ck pass1 || opens ck pass2; } 2>/dev/null ||
			    { echo "kill at $sc $k: neither opens"; touch killbad; }
			[ $st = 0 ] && break
			k=$((k + 1))
		done
		echo "$sc $k" >>kills
	done >kill.log 2>&1
	ok "kill -9 at each rename and unlink of passwd: a passphrase still opens" \
	    sh -c "test ! -e killbad || { cat kill.log; false; }"
	ok "... at a few moments each" sh -c "awk '\$2 < 2 { exit 1 }' kills"
else
	skip "passwd stopped between add and remove" "strace cannot trace here (ptrace not permitted)"
fi

# --- Passphrase files are held to the rule of key files.
printf '%s\n' "$PK_PASSPHRASE" >open && chmod 644 open
ok "a passphrase file others may read is refused" refused pk-index \
    "open: others may read it (mode 0644): chmod 600 it" \
    nopass pk-index --passphrase-file open repo
chmod 640 open
ok "... the group too" refused pk-cat "open: others may read it (mode 0640): chmod 600 it" \
    nopass pk-cat --passphrase-file open repo latest:t/one
ok "... a new passphrase file as well" refused pk-key \
    "open: others may read it (mode 0640): chmod 600 it" \
    pk-key add --new-passphrase-file open repo
chmod 400 open
ok "... mode 0400 is good" opens repo open
