#!/bin/sh
# pull-remote-host.sh: backs up paths of a remote host onto this machine:
# pk-walk runs on the host, over ssh; chunking, deduplication, compression
# and encryption run here, so the host needs only pk-walk and never sees
# the repository or its passphrase.
#
# usage: pull-remote-host.sh [-x] [-e pattern]... [-t tag]...
#                            repository host path...
#
#   -e pattern  skip files whose path or name matches the shell pattern
#               (pk-walk --exclude); repeatable
#   -x          do not cross file systems below each path
#   -t tag      tag the snapshot; repeatable
#
# The pipeline is
#
#   ssh web1 pk-walk /var/www | pk-chunk -r REPO | pk-dedup -r REPO --host web1 |
#       pk-store --host web1 REPO
#
# and the snapshot is labelled with the host's name.  PK_SSH replaces ssh
# (for instance PK_SSH="ssh -i /root/.ssh/backup", or the local stand-in
# examples/ssh-local); PK_REMOTE_WALK names pk-walk on the host when it is
# not on the PATH of a non-interactive ssh session.  The passphrase comes
# from PK_PASSPHRASE, or from the file named by PK_PASSPHRASE_FILE.  To
# pull many hosts, call it once per host (from cron, one line each).
#
# Exit status: 0 snapshot written; 3 snapshot written, but some files could
# not be read on the host; 1 failure; 2 usage.
set -u
prog=pull-remote-host

usage() {
	echo "usage: $prog.sh [-x] [-e pattern]... [-t tag]... repository host path..." >&2
	exit 2
}

# q ARG: ARG quoted for the shell.
q() {
	printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"
}

walkargs='' tags=''
while getopts e:t:x opt; do
	case $opt in
	e) walkargs="$walkargs --exclude $(q "$OPTARG")" ;;
	t) tags="$tags -t $(q "$OPTARG")" ;;
	x) walkargs="$walkargs -x" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || usage
repo=$1 host=$2
shift 2
# shellcheck disable=SC2034 # used in the eval below
ssh=${PK_SSH:-ssh}
pass=
[ -z "${PK_PASSPHRASE_FILE:-}" ] || pass="--passphrase-file $(q "$PK_PASSPHRASE_FILE")"

# The command the host runs, every word quoted for its shell.
remote="${PK_REMOTE_WALK:-pk-walk}$walkargs"
for p; do remote="$remote $(q "$p")"; done

st=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX") || exit 1
trap 'rm -rf "$st"' EXIT
trap 'exit 1' HUP INT TERM

echo "$prog: backing up $host:$* into $repo" >&2
# Each stage's exit status goes to a file: sh has no portable pipefail.
# ssh exits with the remote pk-walk's status, or 255 when ssh itself fails.
eval "
{ \$ssh \"\$host\" \"\$remote\"; echo \$? >\"\$st/walk\"; } |
{ pk-chunk -r \"\$repo\"; echo \$? >\"\$st/chunk\"; } |
{ pk-dedup -r \"\$repo\" --host \"\$host\"; echo \$? >\"\$st/dedup\"; } |
{ pk-store --host \"\$host\" $tags $pass \"\$repo\"; echo \$? >\"\$st/store\"; } >\"\$st/id\"
"

failed='' partial=''
for stage in walk chunk dedup store; do
	s=$(cat "$st/$stage" 2>/dev/null)
	name=pk-$stage
	[ $stage != walk ] || name="ssh $host pk-walk"
	case ${s:-none} in
	0) ;;
	3) partial=1 ;;
	*) failed="${failed:+$failed, }$name (exit ${s:-none})" ;;
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
if [ -n "$partial" ]; then
	echo "$prog: PARTIAL: snapshot $id written, but some files of $host could not be read" >&2
	exit 3
fi
echo "$prog: ok: snapshot $id of $host" >&2
echo "$id"
