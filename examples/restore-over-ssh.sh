#!/bin/sh
# restore-over-ssh.sh: restores a snapshot onto another host: pk-cat writes
# it as a tar stream, which tar extracts on the host, over ssh.
#
# usage: restore-over-ssh.sh [-C directory] [-p passphrase-file]
#                            repository host [snapshot[:path]]
#
#   -C directory  where to extract on the host (default: /)
#   -p file       read the repository passphrase from file (else
#                 PK_PASSPHRASE, else a prompt)
#
# snapshot is "latest" (the default) or a prefix of a snapshot id, as
# pk-index lists them; ":path" restores one file or directory of it.  The
# pipeline is
#
#   pk-cat repository latest |
#       ssh host "tar --xattrs --xattrs-include='*' -xpf - -C /"
#
# GNU tar on the host restores every extended attribute with these options
# (with --xattrs alone, only user.*: file capabilities would be lost).
# PK_SSH replaces ssh (for instance PK_SSH="ssh -p 2222", or the local
# stand-in examples/ssh-local).  Run it as root on the host (ssh root@host)
# to restore owners.
#
# Exit status: 0 restored; 3 restored, but some files of the snapshot had
# not been read when it was taken; 1 failure; 2 usage.
set -u
prog=restore-over-ssh

usage() {
	echo "usage: $prog.sh [-C directory] [-p passphrase-file] repository host [snapshot[:path]]" >&2
	exit 2
}

# q ARG: ARG quoted for the shell (the remote one, here).
q() {
	printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"
}

dir=/
pass=
while getopts C:p: opt; do
	case $opt in
	C) dir=$OPTARG ;;
	p) pass=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
repo=$1 host=$2 snap=${3:-latest}
ssh=${PK_SSH:-ssh}

st=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX") || exit 1
trap 'rm -rf "$st"' EXIT
trap 'exit 1' HUP INT TERM

echo "$prog: restoring $repo $snap onto $host:$dir" >&2
# --tar: a tar stream even when snapshot:path names a single file.
# Each side's exit status goes to a file: sh has no portable pipefail.
{
	if [ -n "$pass" ]; then
		pk-cat --tar --passphrase-file "$pass" "$repo" "$snap"
	else
		pk-cat --tar "$repo" "$snap"
	fi
	echo $? >"$st/cat"
} | {
	$ssh "$host" "tar --xattrs --xattrs-include='*' -xpf - -C $(q "$dir")"
	echo $? >"$st/ssh"
}

cat=$(cat "$st/cat") rssh=$(cat "$st/ssh")
case $cat/$rssh in
0/0)
	echo "$prog: ok: $snap restored onto $host:$dir" >&2
	exit 0 ;;
3/0)
	echo "$prog: restored, but the snapshot lacks files that could not be read when it was taken" >&2
	exit 3 ;;
esac
[ "$cat" = 0 ] || [ "$cat" = 3 ] || echo "$prog: pk-cat failed (exit $cat)" >&2
[ "$rssh" = 0 ] || echo "$prog: ssh $host tar failed (exit $rssh)" >&2
echo "$prog: FAILED: $host:$dir may hold a partial restore" >&2
exit 1
