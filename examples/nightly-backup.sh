#!/bin/sh
# nightly-backup.sh: backs up a list of paths into a pk repository; made to
# run from cron.
#
# usage: nightly-backup.sh [-kx] [-e pattern]... [-E file] [-t tag]...
#                          [-l logfile] repository path...
#
#   -e pattern  skip files whose path or name matches the shell pattern
#               (pk-walk --exclude; '*' also matches '/'); repeatable
#   -E file     skip the patterns listed in file, one a line
#   -x          do not cross file systems below each path
#   -k          after the backup, forget this host's snapshots that a week of
#               dailies, 4 weeklies and a year of monthlies do not keep, and
#               give back the space no snapshot needs (pk-gc)
#   -t tag      tag the snapshot (default: nightly); repeatable
#   -l logfile  append the messages to logfile too (they always go to
#               standard error, which cron mails)
#
# The repository must exist (pk-store --init repository).  Its passphrase
# comes from PK_PASSPHRASE, or from the file named by PK_PASSPHRASE_FILE.
# A crontab line, every night at 02:30:
#
#   30 2 * * * PK_PASSPHRASE_FILE=/root/.pk-passphrase nightly-backup.sh -x -E /etc/pk-excludes -l /var/log/pk-nightly.log /srv/repo /etc /home /var/lib
#
# The pipeline is pk-walk -r | pk-chunk -r | pk-dedup -r | pk-store: pk-walk
# does not read the files the stat cache of the last snapshot knows
# unchanged, pk-chunk uses the repository's chunk sizes and pk-dedup leaves
# out the chunks the repository already has, so a night where little
# changed costs little.
#
# Forgetting (-k) removes snapshot files; pk-gc then marks the packs no
# snapshot needs, and deletes those the night before marked: backups of
# other hosts may run meanwhile, pk-gc takes no lock against them.
#
# Exit status: 0 snapshot written; 3 snapshot written, but some files could
# not be read (see the log); 1 failure (with -k, also when forgetting or
# collecting failed); 2 usage.
set -u
prog=nightly-backup

usage() {
	echo "usage: $prog.sh [-kx] [-e pattern]... [-E file] [-t tag]... [-l logfile] repository path..." >&2
	exit 2
}

# q ARG: ARG quoted for the shell.
q() {
	printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"
}

log=
say() {
	line="$(date '+%Y-%m-%d %H:%M:%S') $prog: $*"
	echo "$line" >&2
	[ -z "$log" ] || echo "$line" >>"$log"
}

st=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX") || exit 1
trap 'rm -rf "$st"' EXIT
trap 'exit 1' HUP INT TERM
: >"$st/excludes"

xdev='' tags='' keep=''
while getopts e:E:kl:t:x opt; do
	case $opt in
	e) printf '%s\n' "$OPTARG" >>"$st/excludes" ;;
	E) cat -- "$OPTARG" >>"$st/excludes" || exit 1 ;;
	k) keep=1 ;;
	l) log=$OPTARG ;;
	t) tags="$tags -t $(q "$OPTARG")" ;;
	x) xdev=-x ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
repo=$1
shift
[ -n "$tags" ] || tags="-t nightly"
pass=
[ -z "${PK_PASSPHRASE_FILE:-}" ] || pass="--passphrase-file $(q "$PK_PASSPHRASE_FILE")"

say "backing up $* into $repo"

# Each stage writes its exit status to a file: sh has no portable pipefail,
# and a pipeline's status is only that of its last command.
eval "
{ pk-walk -r \"\$repo\" $xdev --exclude-from \"\$st/excludes\" \"\$@\"; echo \$? >\"\$st/walk\"; } |
{ pk-chunk -r \"\$repo\"; echo \$? >\"\$st/chunk\"; } |
{ pk-dedup -r \"\$repo\"; echo \$? >\"\$st/dedup\"; } |
{ pk-store $tags $pass \"\$repo\"; echo \$? >\"\$st/store\"; } >\"\$st/id\"
" 2>"$st/err"

# Every message of the stages (unreadable files, errors) goes to the log.
while IFS= read -r line; do say "$line"; done <"$st/err"

failed='' partial=''
for stage in walk chunk dedup store; do
	s=$(cat "$st/$stage" 2>/dev/null)
	case ${s:-none} in
	0) ;;
	3) partial="${partial:+$partial, }pk-$stage" ;;
	*) failed="${failed:+$failed, }pk-$stage (exit ${s:-none})" ;;
	esac
done
id=$(cat "$st/id")

if [ -n "$failed" ]; then
	if [ -n "$id" ]; then
		say "FAILED: $failed; snapshot $id was written, but is incomplete"
	else
		say "FAILED: $failed; no snapshot written"
	fi
	exit 1
fi
# The retention policy, on this host's snapshots only.  An incomplete
# snapshot counts toward no daily, weekly or monthly (pk-forget(1)).
if [ -n "$keep" ]; then
	eval "pk-forget --keep-daily 7 --keep-weekly 4 --keep-monthly 12 \
	    --host \"\$(hostname)\" $pass \"\$repo\"" >"$st/forget" 2>"$st/err"
	s=$?
	while IFS= read -r line; do say "$line"; done <"$st/err"
	while IFS= read -r line; do
		case $line in removed*) say "$line" ;; esac
	done <"$st/forget"
	if [ "$s" != 0 ]; then
		say "FAILED: pk-forget (exit $s); snapshot $id was written"
		exit 1
	fi
	eval "pk-gc $pass \"\$repo\"" >"$st/gc" 2>"$st/err"
	s=$?
	while IFS= read -r line; do say "$line"; done <"$st/err"
	while IFS= read -r line; do say "pk-gc: $line"; done <"$st/gc"
	if [ "$s" != 0 ]; then
		say "FAILED: pk-gc (exit $s); snapshot $id was written"
		exit 1
	fi
fi
if [ -n "$partial" ]; then
	say "PARTIAL: snapshot $id written, but some files could not be read ($partial, see above)"
	exit 3
fi
say "ok: snapshot $id"
exit 0
