#!/bin/sh
# database-dump.sh: backs up a database dump without a temporary file:
#
#   pg_dump shop | pk-walk --name shop.sql - | pk-chunk -r REPO | pk-dedup -r REPO | pk-store REPO
#
# usage: database-dump.sh [-n name] [-t tag]... repository database
#
#   -n name  the file name of the dump in the snapshot (default:
#            database.sql)
#   -t tag   tag the snapshot (default: db:database); repeatable
#
# DUMP_CMD is the command that writes the dump to standard output, run by
# sh -c (default: pg_dump database); for instance DUMP_CMD='mysqldump
# --single-transaction shop' or DUMP_CMD='sqlite3 /srv/app.db .dump'.
# Chunks are content-defined, so tomorrow's dump of a database where little
# changed adds little to the repository.  The passphrase comes from
# PK_PASSPHRASE, or from the file named by PK_PASSPHRASE_FILE.
#
# pk-walk cannot see whether the dump command failed: it only sees its
# input end.  So when the dump command fails, this script stops pk-walk
# before that end; its stream then lacks its END record and pk-store
# writes no snapshot, rather than one holding half a dump.
#
# Exit status: 0 snapshot written; 1 failure (no snapshot); 2 usage.
set -u
prog=database-dump

usage() {
	echo "usage: $prog.sh [-n name] [-t tag]... repository database" >&2
	exit 2
}

# q ARG: ARG quoted for the shell.
q() {
	printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"
}

name='' tags=''
while getopts n:t: opt; do
	case $opt in
	n) name=$OPTARG ;;
	t) tags="$tags -t $(q "$OPTARG")" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
repo=$1 db=$2
[ -n "$name" ] || name=$db.sql
[ -n "$tags" ] || tags="-t $(q "db:$db")"
# shellcheck disable=SC2034 # used in the eval below
dump=${DUMP_CMD:-pg_dump $(q "$db")}
pass=
[ -z "${PK_PASSPHRASE_FILE:-}" ] || pass="--passphrase-file $(q "$PK_PASSPHRASE_FILE")"

st=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX") || exit 1
trap 'rm -rf "$st"' EXIT
trap 'exit 1' HUP INT TERM

echo "$prog: backing up the dump of $db as $name into $repo" >&2
# Each stage's exit status goes to a file: sh has no portable pipefail.
# The first group keeps the pipe to pk-walk open until it has looked at the
# dump's status; pk-walk runs under a shell that first writes its pid (the
# shell's own "Terminated" goes to /dev/null, pk-walk's messages to fd 3).
eval "
{
	sh -c \"\$dump\"
	rc=\$?
	echo \$rc >\"\$st/dump\"
	if [ \$rc -ne 0 ]; then
		n=0
		while [ ! -s \"\$st/walk.pid\" ] && [ \$n -lt 10 ]; do sleep 1; n=\$((n + 1)); done
		kill \$(cat \"\$st/walk.pid\") 2>/dev/null
	fi
} |
{ sh -c 'echo \$\$ >\"\$1\"; exec pk-walk --name \"\$2\" - 2>&3' sh \"\$st/walk.pid\" \"\$name\"; echo \$? >\"\$st/walk\"; } 3>&2 2>/dev/null |
{ pk-chunk -r \"\$repo\"; echo \$? >\"\$st/chunk\"; } |
{ pk-dedup -r \"\$repo\"; echo \$? >\"\$st/dedup\"; } |
{ pk-store $tags $pass \"\$repo\"; echo \$? >\"\$st/store\"; } >\"\$st/id\"
"

failed=
for stage in dump walk chunk dedup store; do
	s=$(cat "$st/$stage" 2>/dev/null)
	case $stage/${s:-none} in
	*/0) ;;
	dump/*) failed="the dump command (exit $s)" ;;
	walk/143) failed="${failed:+$failed, }pk-walk (stopped)" ;;
	*) failed="${failed:+$failed, }pk-$stage (exit ${s:-none})" ;;
	esac
done
id=$(cat "$st/id")
if [ -n "$failed" ]; then
	if [ -n "$id" ]; then
		echo "$prog: FAILED: $failed; snapshot $id was written, but is incomplete" >&2
	else
		echo "$prog: FAILED: $failed; no snapshot written" >&2
	fi
	exit 1
fi
echo "$prog: ok: snapshot $id" >&2
echo "$id"
