#!/bin/sh
# The example scripts (examples/) and the demo (scripts/demo.sh), run on
# scratch repositories: ssh is the local stand-in examples/ssh-local, the
# database dump a file, and every restore is compared with its source.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

E=$PK_TOP/examples
PK_SSH=$E/ssh-local
TMPDIR=$S/tmp
mkdir -p "$TMPDIR"
export PK_SSH TMPDIR
unset PK_PASSPHRASE_FILE PK_REMOTE_WALK DUMP_CMD DEMO_DIR

# status_is N COMMAND...: COMMAND exits with N.
status_is() {
	_want=$1; shift
	"$@" >"$S/.cmd.out" 2>"$S/.cmd.err"
	_got=$?
	[ "$_got" -eq "$_want" ] || {
		echo "exit $_got, want $_want"
		cat "$S/.cmd.err"
		return 1
	}
}

# count REPO: the number of snapshots in REPO.
count() { pk-index --json "$1" | grep -c '^{'; }

# last REPO: the JSON line of the latest snapshot.
last() { pk-index --json "$1" | grep '^{' | tail -n 1; }

# restore REPO DIR [SNAPSHOT]: pk-cat | tar into a new DIR; fails when
# either side fails.
restore() {
	rm -rf "$2" && mkdir "$2" || return 1
	{ pk-cat "$1" "${3:-latest}"; echo $? >"$S/.cat.rc"; } | tar -xpf - -C "$2" || return 1
	[ "$(cat "$S/.cat.rc")" = 0 ]
}

# same DIR: DIR is the tree, less the excluded *.tmp files.
same() {
	diff -r --no-dereference -x '*.tmp' tree "$1" || return 1
	[ ! -e "$1/sub/skip.tmp" ] || { echo "$1/sub/skip.tmp: not excluded"; return 1; }
}

# restore_same REPO DIR TREE: restores REPO's latest snapshot into DIR; its
# TREE is the tree.
restore_same() { restore "$1" "$2" && same "$3"; }

mkdir -p tree/sub tree/empty "tree/with space"
gen_file tree/big 3000000 1
gen_file tree/sub/small 1000 2
gen_file tree/sub/skip.tmp 100 3
gen_file "tree/with space/it's" 500 4
ln -s ../big tree/sub/link
ln tree/big tree/sub/hard
gen_file dump.sql 3000000 5
printf '*.tmp\n' >excludes
printf 'wrong\n' >wrong && chmod 600 wrong
mkdir fakebin
printf '#!/bin/sh\n"%s/bin/pk-walk" "$@"\nexit 3\n' "$PK_TOP" >fakebin/pk-walk
chmod +x fakebin/pk-walk
ok "init the repository" pk-store --init repo

# nightly-backup.sh
t_nightly_tagged() { pk-index --json repo | grep -q '"tags":\["nightly"\]'; }
t_nightly_tags() { last repo | grep -q '"tags":\["one","two words"\]'; }
t_nightly_partial() {
	PATH=$S/fakebin:$PATH
	status_is 3 "$E/nightly-backup.sh" -e '*.tmp' -l part.log repo tree
}
ok "nightly: usage, exit 2" status_is 2 "$E/nightly-backup.sh" repo
ok "nightly: unknown option, exit 2" status_is 2 "$E/nightly-backup.sh" -q repo tree
ok "nightly: backup, exit 0" status_is 0 "$E/nightly-backup.sh" -e '*.tmp' -l nightly.log repo tree
ok "nightly: log ends with the snapshot id" grep -q \
    'nightly-backup: ok: snapshot [0-9a-f]\{64\}$' nightly.log
ok "nightly: tagged nightly" t_nightly_tagged
ok "nightly: restores identical, excludes left out" restore_same repo r1 r1/tree
ok "nightly: -E file and -t tags, exit 0" status_is 0 \
    "$E/nightly-backup.sh" -E excludes -t one -t "two words" repo tree
ok "nightly: tags given" t_nightly_tags
ok "nightly: -E restores identical" restore_same repo r1 r1/tree
ok "nightly: not a repository, exit 1" status_is 1 "$E/nightly-backup.sh" -l bad.log norepo tree
ok "nightly: not a repository, message" grep -q 'FAILED: .*; no snapshot written$' bad.log
ok "nightly: missing path, exit 1" status_is 1 "$E/nightly-backup.sh" -l miss.log repo tree nonexistent
ok "nightly: missing path, no snapshot" grep -q 'FAILED: .*; no snapshot written$' miss.log
# An incomplete snapshot, for copy -a below: a file its walker cannot
# read (nobody, when root runs the tests).
mkdir -p unreadable && printf secret >unreadable/secret && chmod 000 unreadable/secret
if [ "$(id -u)" = 0 ]; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
	as_user() { "$@"; }
fi
t_incomplete() {
	as_user pk-walk unreadable 2>/dev/null | pk-chunk | pk-store repo >/dev/null
	[ $? = 3 ]
}
ok "an incomplete snapshot: exit 3" t_incomplete
ok "nightly: a stage exiting 3 is partial, exit 3" t_nightly_partial
ok "nightly: partial message" grep -q 'PARTIAL: snapshot [0-9a-f]\{64\} written' part.log
t_nightly_keep() {
	pk-store --init keep >/dev/null 2>&1 &&
	    "$E/nightly-backup.sh" -l keep.log keep tree &&
	    "$E/nightly-backup.sh" -k -l keep.log keep tree &&
	    [ "$(ls keep/snapshots | wc -l)" = 1 ] &&
	    grep -q 'nightly-backup: removed ' keep.log &&
	    grep -q 'nightly-backup: pk-gc: 1 snapshots, ' keep.log &&
	    pk-index --check=data keep
}
ok "nightly: -k forgets what the policy does not keep (one a day), then collects" t_nightly_keep

# restore-over-ssh.sh
t_ssh_one() {
	cmp tree/sub/small r3/tree/sub/small && [ "$(find r3 -type f | wc -l)" -eq 1 ]
}
t_ssh_prefix() {
	mkdir r3b && status_is 0 "$E/restore-over-ssh.sh" -C r3b repo web2 \
	    "$(last repo | cut -c8-19)" && same r3b/tree
}
mkdir r2 r3
ok "restore-ssh: usage, exit 2" status_is 2 "$E/restore-over-ssh.sh" repo
ok "restore-ssh: restore latest, exit 0" status_is 0 "$E/restore-over-ssh.sh" -C "$S/r2" repo web2
ok "restore-ssh: restores identical" same r2/tree
ok "restore-ssh: one file, exit 0" status_is 0 \
    "$E/restore-over-ssh.sh" -C "$S/r3" repo web2 latest:tree/sub/small
ok "restore-ssh: one file identical, nothing else" t_ssh_one
ok "restore-ssh: snapshot by id prefix" t_ssh_prefix
ok "restore-ssh: unknown snapshot, exit 1" status_is 1 "$E/restore-over-ssh.sh" -C r3 repo web2 ffffffff
ok "restore-ssh: missing directory on the host, exit 1" status_is 1 \
    "$E/restore-over-ssh.sh" -C "$S/nonexistent" repo web2

# pull-remote-host.sh
t_pull() {
	status_is 0 "$E/pull-remote-host.sh" -e '*.tmp' -t pulled repo web1 "$S/tree" &&
	    grep -qx '[0-9a-f]\{64\}' "$S/.cmd.out"
}
t_pull_labels() { last repo | grep '"host":"web1"' | grep -q '"tags":\["pulled"\]'; }
t_pull_nowalk() {
	PK_REMOTE_WALK=pk-walk-nonexistent
	export PK_REMOTE_WALK
	status_is 1 "$E/pull-remote-host.sh" repo web1 tree
}
ok "pull: usage, exit 2" status_is 2 "$E/pull-remote-host.sh" repo web1
ok "pull: pull, exit 0, prints the id" t_pull
ok "pull: snapshot labelled with the host and tag" t_pull_labels
ok "pull: restores identical" restore_same repo r4 "r4/${S#/}/tree"
n=$(count repo)
ok "pull: pk-walk missing on the host, exit 1" t_pull_nowalk
ok "pull: failure writes no snapshot" test "$(count repo)" -eq "$n"

# copy-repository.sh
t_copy_kept() {
	last copy | grep '"host":"web1"' |
	    grep -q "\"tags\":\\[\"copy-of:$(last repo | cut -c8-19)\",\"pulled\"\\]"
}
ok "copy: usage, exit 2" status_is 2 "$E/copy-repository.sh" repo
ok "copy: init an unencrypted destination" pk-store --init --no-encryption copy
ok "copy: latest, exit 0" status_is 0 "$E/copy-repository.sh" repo copy
ok "copy: one snapshot copied" test "$(count copy)" -eq 1
ok "copy: host, tags and copy-of kept" t_copy_kept
t_copy_time() {
	[ "$(last copy | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')" = \
	    "$(last repo | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')" ]
}
ok "copy: the snapshot's time kept" t_copy_time
ok "copy: restores identical" restore_same copy r5 "r5/${S#/}/tree"
ok "copy: again, exit 0" status_is 0 "$E/copy-repository.sh" repo copy
ok "copy: again, nothing copied" test "$(count copy)" -eq 1
ok "copy: -a, exit 3 (a source snapshot is incomplete)" status_is 3 \
    "$E/copy-repository.sh" -a repo copy
ok "copy: -a copied every snapshot once" test "$(count copy)" -eq "$(count repo)"
ok "copy: -a again, exit 0" status_is 0 "$E/copy-repository.sh" -a repo copy
ok "copy: -a again, nothing copied" test "$(count copy)" -eq "$(count repo)"
ok "copy: the destination checks" pk-index --check=data copy
ok "copy: wrong destination passphrase, exit 1" status_is 1 \
    "$E/copy-repository.sh" -P wrong repo repo

# database-dump.sh
t_dump() {
	DUMP_CMD="cat dump.sql"
	export DUMP_CMD
	status_is 0 "$E/database-dump.sh" "$@" repo shop
}
t_dump_restore() { pk-cat repo "latest:$1" | cmp - dump.sql; }
t_dump_names() { last repo | grep '"paths":\["shop.sql"\]' | grep -q '"tags":\["db:shop"\]'; }
t_dump_little() {
	[ "$(last repo | sed 's/.*"stored":\([0-9]*\).*/\1/')" -lt 100000 ]
}
t_dump_fails() {
	DUMP_CMD=$1
	export DUMP_CMD
	status_is 1 "$E/database-dump.sh" repo shop &&
	    grep -q "FAILED: the dump command (exit $2).*; no snapshot written$" "$S/.cmd.err"
}
ok "dump: usage, exit 2" status_is 2 "$E/database-dump.sh" repo
ok "dump: backup, exit 0" t_dump
ok "dump: restores identical" t_dump_restore shop.sql
ok "dump: named and tagged" t_dump_names
ok "dump: -n and the same dump again, exit 0" t_dump -n again.sql
ok "dump: -n restores identical" t_dump_restore again.sql
ok "dump: the same dump again stores little" t_dump_little
n=$(count repo)
ok "dump: dump command fails halfway, exit 1" t_dump_fails "cat dump.sql; exit 4" 4
ok "dump: failed dump writes no snapshot" test "$(count repo)" -eq "$n"
ok "dump: dump command fails at once, exit 1" t_dump_fails "exit 5" 5
ok "dump: still no new snapshot" test "$(count repo)" -eq "$n"
ok "the repository checks after all" pk-index --check=data repo

# browse-and-diff.sh, through a FUSE mount
mkdir -p b/etc/conf.d
echo 'listen 80' >b/etc/web.conf
echo same >b/etc/conf.d/same
pk-store --init brepo
ok "browse: first backup" backup brepo b
echo 'listen 8080' >b/etc/web.conf
echo new >b/etc/conf.d/added
ok "browse: second backup" backup brepo b
(umask 077 && printf '%s\n' "$PK_PASSPHRASE" >pass)
t_browse() {
	( unset PK_PASSPHRASE
	  status_is 0 "$E/browse-and-diff.sh" -p pass -g '^listen' brepo /b/etc/ ) &&
	    grep -q '^[0-9T:-]*/b/etc/web.conf:1:listen 80$' "$S/.cmd.out" &&
	    grep -q '^[0-9T:-]*/b/etc/web.conf:1:listen 8080$' "$S/.cmd.out" &&
	    grep -qx '< listen 80' "$S/.cmd.out" &&
	    grep -qx '> listen 8080' "$S/.cmd.out" &&
	    grep -qx '> new' "$S/.cmd.out" &&
	    ! grep -q same "$S/.cmd.out"
}
ok "browse: usage, exit 2" status_is 2 "$E/browse-and-diff.sh" brepo
ok "browse: grep of every snapshot, diff of the last two, exit 0" t_browse
ok "browse: a directory in neither, exit 1" status_is 1 \
    "$E/browse-and-diff.sh" brepo b/nothing
ok "browse: not a repository, exit 1" status_is 1 \
    "$E/browse-and-diff.sh" nonexistent b/etc
ok "browse: nothing left mounted" sh -c "! grep -q ' $S/tmp/' /proc/mounts"
ok "browse: nor in TMPDIR" sh -c "! ls '$TMPDIR' | grep -q browse"

# scripts/demo.sh, on the small tree
t_demo() {
	cd demo-run && sh "$PK_TOP/scripts/demo.sh" "$S/tree" >out 2>&1 &&
	    tail -n 1 out | grep -q '^demo: OK: '
}
mkdir demo-run
ok "demo: exit 0, ends with OK" t_demo
ok "demo: echoes the pipeline" grep -q \
    '^+ pk-walk .*/tree | pk-chunk -r demo/repo | pk-dedup -r demo/repo | pk-store demo/repo$' demo-run/out
ok "demo: restore in ./demo/restore" diff -r --no-dereference tree "demo-run/demo/restore/${S#/}/tree"
ok "demo: not a directory, exit 1" status_is 1 sh "$PK_TOP/scripts/demo.sh" "$S/nonexistent"
