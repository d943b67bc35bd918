#!/bin/sh
# Round trip: a real tree (/usr/share/doc) and a generated tree with every
# file type and odd name, backed up through pk-walk | pk-chunk | pk-dedup |
# pk-store and restored through pk-cat with GNU tar and with bsdtar, then
# compared with the source byte for byte and metadata for metadata.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

# limited DIRMAX FILEMAX COMMAND...: COMMAND with MAXPATH and MAXFILE set
# (see tree_list in lib.sh; ok runs it in a subshell).
limited() {
	MAXPATH=$1 MAXFILE=$2
	shift 2
	"$@"
}

# gnu_x REPO SNAP DIR / bsd_x REPO SNAP DIR: pk-cat through GNU tar or
# bsdtar into DIR (created); pk-cat's exit code in $S/st.cat, tar's in
# $S/st.tar, tar's messages in $S/tar.err.
gnu_x() {
	mkdir -p "$3"
	{ pk-cat "$1" "$2"; echo $? >"$S/st.cat"; } |
	    tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C "$3" \
	    2>"$S/tar.err"
	echo $? >"$S/st.tar"
}
bsd_x() {
	mkdir -p "$3"
	{ pk-cat "$1" "$2"; echo $? >"$S/st.cat"; } |
	    LC_ALL=C.UTF-8 bsdtar --numeric-owner -xpf - -C "$3" 2>"$S/tar.err"
	echo $? >"$S/st.tar"
}

# extracted: pk-cat and tar both exited 0 and tar said nothing but
# GNU tar's warning about the pax keyword hdrcharset (names that are not
# UTF-8, see tar.h).
extracted() {
	[ "$(cat "$S/st.cat")" = 0 ] || { echo "pk-cat: exit $(cat "$S/st.cat")"; return 1; }
	[ "$(cat "$S/st.tar")" = 0 ] || { echo "tar: exit $(cat "$S/st.tar")"; cut -c 1-160 "$S/tar.err"; return 1; }
	only "$S/tar.err" "unknown extended header keyword .hdrcharset."
}

# REPO: the repository, a local one unless a test that sources this one
# (t1000-s3-roundtrip) names another.
REPO=${REPO:-repo}
pk-store --init "$REPO"

# --- A real tree, walked in place.
if [ -d /usr/share/doc ]; then
	ok "real tree: backup" backup "$REPO" /usr/share/doc
	gnu_x "$REPO" latest real1
	ok "real tree: restore with GNU tar" extracted
	ok "real tree: identical after GNU tar" same_tree /usr/share/doc real1/usr/share/doc
	rm -rf real1
	bsd_x "$REPO" latest real2
	ok "real tree: restore with bsdtar" extracted
	ok "real tree: identical after bsdtar" same_tree /usr/share/doc real2/usr/share/doc
	rm -rf real2
else
	skip "real tree" "no /usr/share/doc"
fi

# --- A generated tree with every kind of file.
gen_tree g
ok "generated tree: backup" backup "$REPO" g

# GNU tar cannot make a path longer than PATH_MAX: it fails on the 21st
# directory of the deep tree (exit 2), makes everything else.
gnu_x "$REPO" latest out1
ok "generated tree: pk-cat exit 0 (GNU tar)" test "$(cat st.cat)" = 0
ok "generated tree: GNU tar fails only on the path over PATH_MAX" only tar.err \
    "^tar: g/deep/[0-9/]*: Cannot mkdir: File name too long$" \
    "^tar: g/deep/[0-9/]*/file: Cannot open: File name too long$" \
    "^tar: Exiting with failure status due to previous errors$" \
    "unknown extended header keyword .hdrcharset."
ok "generated tree: identical after GNU tar, paths up to 3900 bytes" \
    limited 3900 3900 same_tree g out1/g

# bsdtar makes the long path, but then cannot set the owner, mode and
# times of the directories beyond PATH_MAX (it does the same with an
# archive of its own): those are left out of the comparison.
outs="out1 out2"
bsd_x "$REPO" latest out2
ok "generated tree: pk-cat exit 0 (bsdtar)" test "$(cat st.cat)" = 0
ok "generated tree: bsdtar fails only on directories over PATH_MAX" only tar.err \
    "^g/deep/[0-9/]*: Can't set user=0/group=0 for [0-9/]*: No such file or directory$" \
    "^bsdtar: Error exit delayed from previous errors.$"
ok "generated tree: identical after bsdtar, all files, long path included" \
    limited 3900 0 same_tree g out2/g
ok "generated tree: bsdtar: the file beyond PATH_MAX" sh -c \
    "[ \"\$(find out2/g/deep -name file -execdir cat {} +)\" = bottom ]"

# What the listings could hide.
for o in $outs; do
	ok "$o: hard links share one inode" sh -c "
	    [ \$(stat -c %i $o/g/links/h1) = \$(stat -c %i $o/g/links/h2) ] &&
	    [ \$(stat -c %i $o/g/links/h1) = \$(stat -c %i $o/g/files/h3) ]"
	ok "$o: sparse file stays sparse" sh -c \
	    "[ \$(du -k $o/g/files/sparse | cut -f1) -lt 1024 ]"
	ok "$o: fifo" test -p $o/g/special/fifo
	if [ -n "$have_dev" ]; then
		ok "$o: character device 1,3" sh -c \
		    "[ \"\$(stat -c '%F %t,%T' $o/g/special/null)\" = 'character special file 1,3' ]"
	fi
	if [ -n "$have_xattr" ]; then
		ok "$o: xattrs" sh -c "
		    [ \"\$(getfattr --only-values -n user.pk $o/g/files/one)\" = value ] &&
		    getfattr -e hex -n user.bin $o/g/files/one | grep -qx 'user.bin=0x00ff00' &&
		    [ \"\$(getfattr --only-values -n user.dir $o/g/empty)\" = d ]"
	fi
	ok "$o: nanosecond mtime" sh -c \
	    "stat -c %y $o/g/files/text | grep -q '^2020-01-02 03:04:05.123456789 '"
	ok "$o: setuid, sticky, 0000" sh -c "
	    [ \$(stat -c %a $o/g/modes/m4755) = 4755 ] &&
	    [ \$(stat -c %a $o/g/modes/d1777) = 1777 ] &&
	    [ \$(stat -c %a $o/g/modes/m0000) = 0 ]"
	ok "$o: owner 1234:2345" sh -c \
	    "[ \$(stat -c %u:%g $o/g/files/4095) = 1234:2345 ] &&
	     [ \$(stat -c %u:%g $o/g/links/abs) = 1234:2345 ]"
	ok "$o: odd names" sh -c '
	    [ "$(cat "'$o'/g/names/$(printf "new\nline")")" = nl ] &&
	    [ "$(cat "'$o'/g/names/$(printf "x\377y")")" = ff ] &&
	    [ "$(cat "'$o'/g/names/$(printf "%0200d" 1)")" = long ]'
done
rm -rf out1 out2
