#!/bin/sh
# pk-cat -C DIR: the round-trip tree restored into a directory without tar,
# compared metadata for metadata, xattrs and hard links included; a
# subtree; -j 1 and -j 4 alike; a damaged pack; symbolic links that would
# lead out of DIR, in DIR beforehand or made by a crafted stream; files in
# the way replaced; DIR missing; a read-only directory; --json; and the
# documented tar line keeping every xattr.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init repo >/dev/null
gen_tree g
# A read-only directory with a file in it, and a file capability (root).
mkdir g/ro
printf ro >g/ro/file
chmod 0555 g/ro
have_cap=
if [ "$(id -u)" = 0 ] && printf cap >g/files/cap &&
    setcap cap_net_raw+ep g/files/cap 2>/dev/null; then
	have_cap=1
else
	rm -f g/files/cap
	skip "file capabilities" "not root, or setcap failed"
fi
ok "backup" backup repo g

# same_restore DIR: DIR/g is g, file for file, with its xattrs (user.* by
# same_tree, security.capability here), hard links and holes.
same_restore() {
	same_tree g "$1/g" || return 1
	[ "$(stat -c %i "$1/g/links/h1")" = "$(stat -c %i "$1/g/links/h2")" ] &&
	    [ "$(stat -c %i "$1/g/links/h1")" = "$(stat -c %i "$1/g/files/h3")" ] ||
	    { echo "hard links not one inode"; return 1; }
	[ "$(du -k "$1/g/files/sparse" | cut -f1)" -lt 1024 ] ||
	    { echo "sparse file not sparse"; return 1; }
	[ -z "$have_cap" ] ||
	    [ "$(getcap "$1/g/files/cap" | sed 's/.* //')" = "cap_net_raw=ep" ] ||
	    { echo "capability: $(getcap "$1/g/files/cap")"; return 1; }
	[ "$(stat -c %a "$1/g/ro")" = 555 ] && [ "$(cat "$1/g/ro/file")" = ro ] ||
	    { echo "read-only directory"; return 1; }
}

# --- The whole tree, every file type, the path beyond PATH_MAX included.
mkdir out1
ok "whole tree: exit 0, nothing said" status_of 0 pk-cat -C out1 repo latest
ok "whole tree: no message" test ! -s .se
ok "whole tree: identical, metadata, xattrs, hard links, holes" same_restore out1
ok "whole tree: the file beyond PATH_MAX" sh -c \
    "[ \"\$(find out1/g/deep -name file -execdir cat {} +)\" = bottom ]"
ok "whole tree: fifo" test -p out1/g/special/fifo
if [ -n "$have_dev" ]; then
	ok "whole tree: character device 1,3" sh -c \
	    "[ \"\$(stat -c '%F %t,%T' out1/g/special/null)\" = 'character special file 1,3' ]"
fi

# --- 100 levels of directories, a file at each on the way back up: more
# than pk-cat keeps open, the others opened again through "..".
p=deep
for i in $(seq 100); do p=$p/x; done
mkdir -p "$p"
while [ "$p" != deep ]; do
	printf '%s' "$p" >"$p/z"
	p=${p%/x}
done
chmod 0500 deep/x/x/x
pk-store --init deeprepo >/dev/null
ok "deep: backup" backup deeprepo deep
mkdir out4
ok "deep: exit 0" pk-cat -C out4 deeprepo latest
ok "deep: identical" same_tree deep out4/deep
chmod -R u+w deep out4
rm -rf out4

# --- -j 1 and -j 4 give the same tree.
mkdir out2 out3
ok "-j 1: exit 0" pk-cat -j 1 -C out2 repo latest
ok "-j 4: exit 0" pk-cat -j 4 --directory out3 repo latest
ok "-j 1 and -j 4: identical" same_tree out2/g out3/g
ok "-j 1: identical to the source" same_restore out2
rm -rf out2 out3

# --- Files in the way are replaced, as tar replaces them; directories kept.
mkdir outside
printf secret >outside/victim
rm out1/g/files/one
ln -s "$S/outside/victim" out1/g/files/one
printf stale >out1/g/files/4095
rm out1/g/links/rel
mkdir out1/g/links/rel
rm -rf out1/g/empty/c
printf file >out1/g/empty/c
printf extra >out1/extra
ok "over a restore: exit 0" status_of 0 pk-cat -C out1 repo latest
ok "over a restore: identical" same_restore out1
ok "over a restore: a file it does not hold kept" test "$(cat out1/extra)" = extra
ok "over a restore: the link's target untouched" \
    test "$(cat outside/victim)" = secret
rm -rf out1

# --- A subtree: the same relative paths; hard links to files outside it
# become files.
mkdir subt
ok "subtree: exit 0" pk-cat -C subt repo latest:g/links
ok "subtree: nothing else" test "$(ls subt/g)" = links
ok "subtree: files and links" sh -c '
    cmp subt/g/links/h1 g/links/h1 && cmp subt/g/links/h2 g/links/h1 &&
    [ "$(readlink subt/g/links/rel)" = ../files/one ]'
ok "subtree: exit 0, another" pk-cat -C subt repo latest:g/modes
ok "subtree: same metadata" same_tree g/modes subt/g/modes
ok "subtree: one file" sh -c \
    'pk-cat -C subt repo latest:/g/files/9m && cmp subt/g/files/9m g/files/9m'

# --- DIR missing, and options that do not go together.
ok "missing DIR: made, with its parents" sh -c \
    'pk-cat -C made/deeper repo latest:g/files/9m && cmp made/deeper/g/files/9m g/files/9m &&
     [ "$(stat -c %a made/deeper)" = 700 ] && [ "$(stat -c %a made)" = 700 ]'
: >afile
ok "DIR under a file: exit 1" status_of 1 pk-cat -C afile/x repo latest
ok "... named" grep -q "^pk-cat: afile/x: Not a directory$" .se
ok "-C with --tar: usage" status_of 2 pk-cat -C subt --tar repo latest
ok "--json without -C: usage" status_of 2 pk-cat --json repo latest

# --- --json: the summary on stdout.
mkdir js
ok "--json: exit 0" status_of 0 pk-cat -C js --json repo latest:g/files
ok "--json: counts" python3 -c '
import json, sys
d = json.load(open(".so"))
assert d["files"] == int(sys.argv[1]) and d["dirs"] == 1, d
assert d["bytes"] == int(sys.argv[2]) and d["failed"] == 0, d
assert d["seconds"] >= 0, d' "$(find g/files | sed 1d | wc -l)" \
    "$(find g/files -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')"

# --progress: the progress line's last state, the whole snapshot.
mkdir pg
ok "--progress: exit 0" status_of 0 pk-cat --progress -C pg repo latest:g/files
ok "--progress: the line on stderr" grep -q "pk-cat: .* files, " .se
rm -rf pg

# --- A stream on standard input.
mkdir st
ok "stream: exit 0" sh -c 'pk-walk g | pk-cat -C st -'
ok "stream: identical" same_restore st
rm -rf st js subt

# --- Symbolic links that lead out of DIR.
# A link in DIR where the snapshot has a directory above what is restored:
# refused, nothing written through it.
mkdir esc1
ln -s "$S/outside" esc1/g
ok "link in DIR above the subtree: exit 1" status_of 1 pk-cat -C esc1 repo latest:g/files/one
ok "link in DIR above the subtree: said" \
    grep -q "^pk-cat: g/files/one: g: a symbolic link, not followed$" .se
ok "link in DIR above the subtree: nothing outside" test "$(ls outside)" = victim
# Where the snapshot has the directory itself: the link is replaced.
ok "link in DIR, a directory in the snapshot: exit 0" pk-cat -C esc1 repo latest:g
ok "link in DIR, a directory in the snapshot: made a directory" sh -c \
    '[ ! -L esc1/g ] && [ -d esc1/g/empty/a/b ] && [ "$(ls outside)" = victim ]'

# A crafted stream: entry a a link to outside, then a/passwd, a hard link
# z to a/passwd, and a/b a directory with a file.
mkdir -p c/a/b
printf pwned >c/a/passwd
printf pwned >c/a/b/f
printf z >c/z
pk-walk c >plain.pks
restream plain.pks evil.pks "
i = find(b'c/a'); d = entry(i)
d['type'] = 3; d['link'] = b'$S/outside'; put(i, d)
i = find(b'c/z'); d = entry(i)
d['type'] = 4; d['size'] = 0; d['link'] = b'c/a/passwd'; put(i, d)
del recs[i + 1:i + 3]
"
mkdir esc2
ok "crafted stream: exit 1" status_of 1 pk-cat -C esc2 - <evil.pks
ok "crafted stream: each entry through the link refused" only .se \
    "^pk-cat: c/a/b: c/a: a symbolic link, not followed$" \
    "^pk-cat: c/a/b/f: c/a: a symbolic link, not followed$" \
    "^pk-cat: c/a/passwd: c/a: a symbolic link, not followed$" \
    "^pk-cat: c/z: c/a: a symbolic link, not followed$" \
    "^pk-cat: 4 files could not be restored whole$"
ok "crafted stream: nothing outside" test "$(ls outside)" = victim
ok "crafted stream: the link made, as a link" \
    test "$(readlink esc2/c/a)" = "$S/outside"
# A hard link whose target climbs out: refused before it is resolved.
restream plain.pks climb.pks "
i = find(b'c/z'); d = entry(i)
d['type'] = 4; d['size'] = 0; d['link'] = b'../outside/victim'; put(i, d)
del recs[i + 1:i + 3]
"
mkdir esc3
ok "hard link out of DIR: exit 1" status_of 1 pk-cat -C esc3 - <climb.pks
ok "hard link out of DIR: said" grep -q "^pk-cat: c/z: entry: bad hard link target$" .se
ok "hard link out of DIR: no link made" test ! -e esc3/c/z
rm -rf esc1 esc2 esc3 c

# --- A damaged pack: the file in it fails, the others are restored.
mkdir -p d
gen_file d/big 3000000 7
printf small >d/small
printf other >d/zz
pk-store --init bad >/dev/null
ok "damaged: backup" backup bad d
pack=$(cd bad && ls -S packs/*/* | head -n 1)
chmod u+w "bad/$pack"
printf '\377' | dd of="bad/$pack" bs=1 seek=$(($(stat -c %s "bad/$pack") / 2)) \
    conv=notrunc 2>/dev/null
mkdir dmg
ok "damaged: exit 1" status_of 1 pk-cat -C dmg bad latest
ok "damaged: the file named, once" sh -c \
    '[ "$(grep -c "^pk-cat: d/big: " .se)" = 1 ]'
ok "damaged: the others restored" sh -c \
    '[ "$(cat dmg/d/small)" = small ] && [ "$(cat dmg/d/zz)" = other ]'
ok "damaged: the file keeps its size" \
    test "$(stat -c %s dmg/d/big)" = 3000000

# --- Not root: no owners set, the rest restored.
if [ "$(id -u)" = 0 ]; then
	mkdir nr nrcache
	cp -a repo nrrepo
	chown -R 65534 nr nrcache nrrepo
	ok "not root: exit 0" env XDG_CACHE_HOME="$S/nrcache" setpriv \
	    --reuid 65534 --regid 65534 --clear-groups \
	    pk-cat -j 2 -C nr nrrepo latest:g/modes
	ok "not root: modes, owned by the user" sh -c '
	    [ "$(stat -c %a:%u nr/g/modes/m4755)" = 4755:65534 ] &&
	    [ "$(stat -c %a nr/g/modes/d1777)" = 1777 ]'
	chmod -R u+rwx nr
	rm -rf nr
fi

# --- The documented tar line keeps every xattr, capabilities included.
if [ -n "$have_xattr" ]; then
	mkdir tx
	ok "tar line: exit 0" pipeline_ok \
	    "pk-cat repo latest:g/files | tar --xattrs --xattrs-include='*' -xpf - -C tx"
	ok "tar line: user.* xattrs" sh -c \
	    'getfattr -e hex -n user.bin tx/g/files/one | grep -qx "user.bin=0x00ff00"'
	if [ -n "$have_cap" ]; then
		ok "tar line: file capability" sh -c \
		    '[ "$(getcap tx/g/files/cap | sed "s/.* //")" = cap_net_raw=ep ]'
	fi
	rm -rf tx
fi
chmod -R u+w g out1 2>/dev/null
