#!/bin/sh
# copy-repository.sh: copies snapshots from one pk repository into another,
# for instance onto a second disk or a second site:
#
#   pk-cat --stream SOURCE latest | pk-store DESTINATION
#
# usage: copy-repository.sh [-a] [-p passphrase-file] [-P passphrase-file]
#                           source destination
#
#   -a       copy every snapshot not copied yet, oldest first (default:
#            only the latest)
#   -p file  the source's passphrase (else PK_PASSPHRASE, else a prompt)
#   -P file  the destination's passphrase (likewise)
#
# Both repositories must exist; the destination may have another
# passphrase, or no encryption.  Chunks are copied as they are, and only
# those the destination lacks are stored: give both repositories the same
# chunk sizes, or the copies will not share chunks with the destination's
# own backups (pk-store warns).  A copy keeps the snapshot's time, host and
# tags (the stream carries them) and gets the tag copy-of:ID (the first 12
# digits of the source id), by which a later run skips what is already
# there.
#
# Exit status: 0 copied (or nothing to copy); 3 copied, but some source
# snapshots lack files that could not be read when they were taken; 1 a
# copy failed (the others are kept); 2 usage.
set -u
prog=copy-repository

usage() {
	echo "usage: $prog.sh [-a] [-p passphrase-file] [-P passphrase-file] source destination" >&2
	exit 2
}

all='' spass='' dpass=''
while getopts ap:P: opt; do
	case $opt in
	a) all=1 ;;
	p) spass=$OPTARG ;;
	P) dpass=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
src=$1 dst=$2

st=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX") || exit 1
trap 'rm -rf "$st"' EXIT
trap 'exit 1' HUP INT TERM

# src_pk TOOL ARGS...: runs a pk tool on the source, with its passphrase
# file when given; dst_pk likewise on the destination.
src_pk() {
	_t=$1; shift
	if [ -n "$spass" ]; then "$_t" --passphrase-file "$spass" "$@"; else "$_t" "$@"; fi
}
dst_pk() {
	_t=$1; shift
	if [ -n "$dpass" ]; then "$_t" --passphrase-file "$dpass" "$@"; else "$_t" "$@"; fi
}

# pk-index --json writes one snapshot a line, oldest first.
src_pk pk-index --json "$src" >"$st/src" || exit 1
dst_pk pk-index --json "$dst" >"$st/dst" || exit 1
grep '^{' "$st/src" >"$st/list"
[ -n "$all" ] || { tail -n 1 "$st/list" >"$st/one"; mv "$st/one" "$st/list"; }
if [ ! -s "$st/list" ]; then
	echo "$prog: $src has no snapshots" >&2
	exit 0
fi

copied=0 skipped=0 partial=0 failed=0
while IFS= read -r line; do
	id=$(printf '%s\n' "$line" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
	host=$(printf '%s\n' "$line" | sed -n 's/.*"host":"\([^"]*\)".*/\1/p')
	short=$(printf %.12s "$id")
	if grep -q "\"copy-of:$short\"" "$st/dst"; then
		skipped=$((skipped + 1))
		continue
	fi
	set -- -t "copy-of:$short"
	echo "$prog: copying $short (from $host)" >&2
	# Each side's exit status goes to a file: sh has no portable pipefail.
	# The read above keeps its own stdin: the pipeline reads from /dev/null.
	{ src_pk pk-cat --stream "$src" "$id"; echo $? >"$st/cat"; } </dev/null |
	    { dst_pk pk-store "$@" "$dst"; echo $? >"$st/store"; } >"$st/id"
	case $(cat "$st/cat")/$(cat "$st/store") in
	0/0) copied=$((copied + 1)) ;;
	[03]/3) copied=$((copied + 1)) partial=$((partial + 1)) ;;
	*)
		echo "$prog: $short: copy failed (pk-cat exit $(cat "$st/cat"), pk-store exit $(cat "$st/store"))" >&2
		failed=$((failed + 1)) ;;
	esac
done <"$st/list"

echo "$prog: $copied copied, $skipped already there, $failed failed" >&2
[ "$failed" -eq 0 ] || exit 1
[ "$partial" -eq 0 ] || exit 3
exit 0
