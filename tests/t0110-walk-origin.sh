#!/bin/sh
# The WALK record: pk-walk says where, when and by whom it walked, and what
# it was given; pk-store records the snapshot as the walk's (host, user,
# start), takes the host's stat cache and known-chunk set, and cuts its stat
# cache off at the walk's start, so that a stream pulled from another host
# or saved to a file and stored later is stored as it was walked.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p t/sub
gen_file t/f1 300000 1
printf small >t/sub/small
me=$(hostname)
user=$(id -un)

# snap KEY: the field KEY of the latest snapshot of repo, from pk-index.
snap() {
	pk-index --json "${2:-repo}" | tail -n 1 |
	    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"
}

# is_snap KEY VALUE [REPO]: the latest snapshot's KEY is VALUE.
is_snap() {
	_v=$(snap "$1" "${3:-repo}")
	[ "$_v" = "$2" ] || { echo "$1: '$_v', want '$2'"; return 1; }
}

# walk_payload FILE: the payload of the first record of a stream, when it
# is an ignorable WALK (type 9, flags 1).
walk_payload() {
	[ "$(od -A n -t u1 -j 32 -N 2 "$1" | tr -s ' ')" = " 9 1" ] ||
	    { echo "no WALK first"; return 1; }
	dd if="$1" bs=1 skip=40 count="$(od -A n -t u4 -j 36 -N 4 "$1")" \
	    2>/dev/null
}

# pull HOST ARGS...: a backup as the backup server pulls one, pk-walk run
# as host HOST (what ssh HOST pk-walk would be) with -r; pk-store told no
# host; pk-walk's report in walk.err.
pull() {
	_h=$1; shift
	pipeline_ok "pk-walk -v -r repo --host $_h t 2>walk.err |
	    pk-chunk | pk-dedup -r repo --host $_h | pk-store $* repo >id"
}

# unchanged N: the last pk-walk -v reported N files not read.
unchanged() {
	grep -q ", $1 unchanged (not read)" walk.err && return 0
	cat walk.err
	return 1
}

pk-store --init --no-encryption repo >/dev/null
sleep 2.1		# files changed within a second of a walk are not cached

pk-walk t >plain.pks
ok "a walk starts with an ignorable WALK record" walk_payload plain.pks
walk_payload plain.pks >walk
ok "... naming this host and user" sh -c "grep -aq '$me' walk && grep -aq '$user' walk"
ok "... and the path as given" grep -aq 't$' walk
echo data | pk-walk --name db.dump - >stdin.pks
walk_payload stdin.pks >walk
ok "standard input: the root is the --name, of kind 1" sh -c \
    "tail -c 12 walk | od -A n -t x1 | tr -d ' \n' | grep -qx '0107000000'\$(printf db.dump | od -A n -t x1 | tr -d ' \n')"
pk-walk --host web1 ./t/ >given.pks
walk_payload given.pks >walk
ok "--host without -r names the host" grep -aq web1 walk
ok "the path is recorded as given, not as stored" grep -aq '\./t/$' walk

# --- A pulled backup is recorded as the host's.
ok "pulled: stored" pull web1
ok "pulled: the snapshot is web1's" is_snap host web1
ok "pulled: and the walking user's" is_snap user "$user"
ok "pulled: its stat cache is web1's" test -s "$(cache_dir repo web1)/stat"
ok "pulled: its known-chunk set too" test -s "$(cache_dir repo web1)/stat.known"
ok "pulled: none for this host" test ! -e "$(cache_dir repo "$me")/stat"
ok "pulled again: stored" pull web1
ok "pulled again: pk-walk -r and pk-store agree on the cache" unchanged 2
restores() { restore repo latest x && same_tree t x/t; }
ok "pulled again: restores" restores
ok "another host's stream is refused web1's chunks" sh -c \
    'pk-walk -r repo --host web1 t | pk-chunk | pk-store --host web2 repo 2>err
    [ $? = 1 ] && grep -q "no snapshot of host web2 holds" err'
ok "--host on pk-store wins over the stream's" pipeline_ok \
    'pk-walk --host web1 t | pk-chunk | pk-store --host other repo >id'
ok "... the snapshot is other's" is_snap host other
ok "... with other's stat cache" test -s "$(cache_dir repo other)/stat"

# --- A stream saved to a file and stored later: the snapshot starts when
# the walk did, and its stat cache leaves out what the walk may have read
# in the middle of a change, however late it is stored.
pk-store --init --no-encryption later >/dev/null
pipeline_ok 'pk-walk t | pk-chunk | pk-store later >/dev/null'
sleep 2.1
printf 'first' >t/late		# written as the walk begins
pk-walk -r later t >saved.pks
touch -r t/sub/small ref	# changed after the walk, with the same size
printf SMALL >t/sub/small	# and mtime: only its ctime tells
touch -r ref t/sub/small
start=$(od -A n -t d8 -j 40 -N 8 saved.pks | tr -d ' ')
sleep 2.1
ok "saved: stored later" pipeline_ok 'pk-chunk <saved.pks | pk-store later >id'
started_with_walk() {
	snap time later | grep -q "^$(date -u -d @"$start" +%Y-%m-%dT%H:%M:%S)" ||
	    { snap time later; date -u -d @"$start"; return 1; }
}
ok "saved: the snapshot starts when the walk did" started_with_walk
ok "saved: the next backup" pipeline_ok \
    'pk-walk -v -r later t 2>walk.err | pk-chunk | pk-store later >id'
ok "saved: reads the files written as the walk began and after" unchanged 1
ok "saved: and stores what changed" sh -c \
    '[ "$(pk-cat later latest:t/sub/small)" = SMALL ] &&
    [ "$(pk-cat later latest:t/late)" = first ]'

# --- Copies keep the original's META, WALK or not.
pk-store --init --no-encryption copy >/dev/null
ok "copy: stored" pipeline_ok 'pk-cat repo latest --stream | pk-store copy >id'
ok "copy: keeps the original's host" is_snap host other copy
same_start() { [ "$(snap time copy)" = "$(snap time)" ]; }
ok "copy: and its start" same_start

# --- A broken WALK record makes no snapshot.
pk-walk t | pk-chunk >bad.pks
printf '\377' | dd of=bad.pks bs=1 seek=51 conv=notrunc 2>/dev/null
ok "a WALK whose nanoseconds are out of range is refused" sh -c \
    'pk-store repo <bad.pks >out 2>err; [ $? = 1 ] && [ ! -s out ] &&
    grep -q "record 0 at byte 32: bad WALK record" err'
