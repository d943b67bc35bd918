#!/bin/sh
# browse-and-diff.sh: looks into old backups without restoring them, through
# a read-only mount of every snapshot (pk-mount):
#
#   pk-mount REPOSITORY MOUNTPOINT
#   grep -r PATTERN MOUNTPOINT/snapshots/*/DIR
#   diff -r MOUNTPOINT/snapshots/OLDER/DIR MOUNTPOINT/snapshots/NEWEST/DIR
#   fusermount3 -u MOUNTPOINT
#
# usage: browse-and-diff.sh [-d days] [-g pattern] [-p passphrase-file]
#                           repository dir
#
#   -d days     compare with the newest snapshot started at least this many
#               days before the newest one (default 7: last week's); when
#               none is that old, with the oldest
#   -g pattern  first, the lines of DIR that match PATTERN (grep -E) in
#               every snapshot, each after the snapshot's time
#   -p file     the passphrase (else PK_PASSPHRASE, else a prompt)
#
# DIR is a path as stored (etc, home/u/.config), in the newest snapshot
# and the older one.  The mount lives in a temporary directory and is
# unmounted whatever happens.
#
# Exit status: 0 done (the differences, if any, printed); 1 failed: the
# repository could not be mounted, or DIR is in neither snapshot; 2 usage.
set -u
prog=browse-and-diff

usage() {
	echo "usage: $prog.sh [-d days] [-g pattern] [-p passphrase-file] repository dir" >&2
	exit 2
}

days=7 pattern='' pass=''
while getopts d:g:p: opt; do
	case $opt in
	d) days=$OPTARG ;;
	g) pattern=$OPTARG ;;
	p) pass=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
case $days in ''|*[!0-9]*) usage ;; esac
repo=$1
dir=$(echo "$2" | sed 's|^/*||; s|/*$||')
[ -n "$dir" ] || dir=.

mnt=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX") || exit 1
mounted=
trap '[ -z "$mounted" ] || fusermount3 -u "$mnt"; rmdir "$mnt"' EXIT
trap 'exit 1' HUP INT TERM

# Without -f, pk-mount returns once the file system is mounted.
if [ -n "$pass" ]; then
	pk-mount --passphrase-file "$pass" "$repo" "$mnt" || exit 1
else
	pk-mount "$repo" "$mnt" || exit 1
fi
mounted=1

# Snapshot names are local start times, 2026-12-06T03:01:42 (and -2, -3
# for a second snapshot in the same second): they sort by time.
names=$(ls "$mnt/snapshots" | LC_ALL=C sort)
[ -n "$names" ] || { echo "$prog: $repo: no snapshot" >&2; exit 1; }
newest=$(echo "$names" | tail -n 1)
when=$(date -d "$(echo "$newest" | cut -c 1-19 | tr T ' ')" +%s) || exit 1
cutoff=$(date -d "@$((when - days * 86400))" +%Y-%m-%dT%H:%M:%S)
older=$(echo "$names" | awk -v c="$cutoff" -v n="$newest" \
    '$0 != n && substr($0, 1, 19) <= c { o = $0 } END { print o }')
[ -n "$older" ] || older=$(echo "$names" | head -n 1)

if [ -n "$pattern" ]; then
	echo "$prog: lines of $dir matching $pattern, in every snapshot:"
	# grep's status 1 (no line) is no failure.
	(cd "$mnt/snapshots" && grep -r -n -E -e "$pattern" -- */"$dir")
	[ $? -le 1 ] || exit 1
fi

a=$mnt/snapshots/$older/$dir b=$mnt/snapshots/$newest/$dir
# -N: a DIR in one snapshot only is compared with an empty one.
[ -e "$a" ] || [ -e "$b" ] ||
    { echo "$prog: $dir: in neither $older nor $newest" >&2; exit 1; }
echo "$prog: changes in $dir from $older to $newest:"
(cd "$mnt/snapshots" && diff -r -N "${a#$mnt/snapshots/}" "${b#$mnt/snapshots/}")
[ $? -le 1 ] || exit 1
exit 0
