#!/bin/sh
# Repositories on the S3 gateway: init (the bucket made), backup, restore,
# single files, the requests an unchanged backup and a single file cost,
# copies between a local and an S3 repository both ways, four writers at
# once, checks, and the errors a user meets: wrong keys, a missing bucket,
# a place that holds a repository already, a bad place.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

if ! R=$(s3_place main); then
	skip "s3" "no S3 gateway (S3_ENDPOINT)"
	exit 0
fi

mkdir -p src/d src/e
gen_file src/d/big 3000000 1
gen_file src/d/small 1000 2
gen_file src/e/other 200000 3
ln -s ../d/small src/e/link
echo hello >src/hello

# restored REPO SNAP DIR: the snapshot restores to a copy of src.
restored() {
	rm -rf "$3" && restore "$1" "$2" "$3" && same_tree src "$3/src"
}
# traced FILE COMMAND...: COMMAND with libcurl's trace in FILE.
traced() {
	_f=$1; shift
	PK_S3_TRACE=1 "$@" 2>"$_f"
}

ok "init: makes the bucket" pk-store --init "$R"
again() {
	pk-store --init "$R" 2>"$S/e" && return 1
	grep -q 'holds a repository already' "$S/e"
}
ok "init: again, refused: the place holds a repository" again
ok "backup" backup "$R" src
ok "restore: identical" restored "$R" latest out
ok "one file" sh -c "pk-cat '$R' latest:src/d/big | cmp - src/d/big"
ok "check=data: ok" pk-index --check=data "$R"
ok "list: one snapshot" sh -c "pk-index '$R' | grep -c src | grep -qx 1"

# The requests of a nightly backup of an unchanged tree, the caches warm:
# a handful, not one per file or chunk.  Each filter reads the config, and
# pk-walk and pk-dedup list gc/ for the generation their caches must have;
# pk-store reads the config, lists keys/ (its key object is kept in the
# work directory), stores and removes its lease, lists gc/ for marks,
# index/ and packs/, and stores the snapshot: 13.
ok "again with -r" sh -c "pk-walk -r '$R' src | pk-chunk -r '$R' |
    pk-dedup -r '$R' | pk-store '$R' >/dev/null"
unchanged() {
	{ traced "$S/t.walk" pk-walk -r "$R" src; } |
	    { traced "$S/t.chunk" pk-chunk -r "$R"; } |
	    { traced "$S/t.dedup" pk-dedup -r "$R"; } |
	    traced "$S/t.store" pk-store "$R" >/dev/null || return 1
	n=0
	for f in walk chunk dedup store; do
		n=$((n + $(s3_requests "$S/t.$f")))
	done
	echo "$n requests"
	[ "$n" -le 13 ]
}
ok "unchanged backup with -r: 13 requests at most" unchanged
one_file() {
	traced "$S/t.cat" pk-cat "$R" latest:src/e/other >"$S/one" &&
	    cmp "$S/one" src/e/other || return 1
	n=$(s3_requests "$S/t.cat")
	echo "$n requests"
	[ "$n" -le 6 ]
}
# The config, the listing of keys/, and what the file needs.
ok "one file, cache warm: 6 requests at most" one_file

# Copies, with pk-cat --stream | pk-store, both ways.
ok "copy: S3 to local" sh -c "pk-store --init local &&
    pk-cat --stream '$R' latest | pk-store local >/dev/null"
ok "copy: ... restores" restored local latest out2
R2=$(s3_place copy)
ok "copy: local to S3" sh -c "pk-store --init '$R2' &&
    pk-cat --stream local latest | pk-store '$R2' >/dev/null"
ok "copy: ... restores" restored "$R2" latest out3

# Four writers at once into one bucket, each with its own tree.
R4=$(s3_place four)
writers() {
	pk-store --init "$R4" || return 1
	for i in 1 2 3 4; do
		mkdir -p "w$i/src"
		gen_file "w$i/src/f" 400000 "1$i"
		cp src/d/big "w$i/src/shared"
		( cd "w$i" && pk-walk src | pk-chunk -r "$R4" |
		    pk-store --no-cache "$R4" >"$S/w$i.id" ) &
	done
	wait
	for i in 1 2 3 4; do
		grep -Eqx '[0-9a-f]{64}' "$S/w$i.id" || { echo "writer $i"; return 1; }
		rm -rf "$S/o$i"
		restore "$R4" "$(cat "$S/w$i.id")" "$S/o$i" &&
		    cmp "$S/o$i/src/f" "w$i/src/f" &&
		    cmp "$S/o$i/src/shared" src/d/big || return 1
	done
	pk-index --check=data "$R4"
}
ok "four writers at once: each restores, check=data ok" writers

# Errors: one clear line and a failure, never a snapshot.
ok "wrong secret: refused" status_of 1 env AWS_SECRET_ACCESS_KEY=wrong \
    pk-cat "$R" latest:src/hello
ok "wrong secret: says access denied" grep -q 'access denied' "$S/.se"
nokeys() {
	env -u AWS_ACCESS_KEY_ID pk-index "$R" 2>"$S/e" && return 1
	grep -q 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set' "$S/e"
}
ok "no keys: says which variables" nokeys
nobucket() {
	pk-index "s3:$S3_ENDPOINT/pkt-no-such-bucket-$$/x" 2>"$S/e" && return 1
	grep -q 'no such bucket' "$S/e"
}
ok "missing bucket: says so" nobucket
noplace() {
	pk-index "s3:ftp://host/b" 2>"$S/e" && return 1
	grep -q 'not s3:http' "$S/e"
}
ok "bad place: says the form" noplace

# Keys on S3: a key file added opens the repository; once its key is
# removed it opens it no more, though the work directory keeps a copy of
# the key object; a passphrase added opens it.
keys_s3() {
	pk-key add --key-file "$S/s3.key" "$R" >"$S/s3.keyid" || return 1
	env -u PK_PASSPHRASE PK_KEY_FILE="$S/s3.key" pk-index "$R" >/dev/null ||
	    return 1
	pk-key remove "$R" "$(cat "$S/s3.keyid")" || return 1
	env -u PK_PASSPHRASE PK_KEY_FILE="$S/s3.key" pk-index "$R" \
	    >/dev/null 2>"$S/e" && return 1
	grep -q 'was removed from the repository' "$S/e" || return 1
	printf 'a second passphrase\n' >"$S/s3.pass" && chmod 600 "$S/s3.pass"
	pk-key add --new-passphrase-file "$S/s3.pass" "$R" >/dev/null &&
	    env -u PK_PASSPHRASE pk-index --passphrase-file "$S/s3.pass" "$R" \
	    >/dev/null && [ "$(pk-key list "$R" | grep -c ' passphrase ')" = 2 ]
}
ok "keys: a key file added opens, removed opens no more" keys_s3

# pk-forget on S3: a snapshot forgotten, the others still restore.
forget_s3() {
	backup "$R" src || return 1
	n=$(pk-index "$R" | grep -c '^[0-9a-f]\{12\} ')
	pk-forget --keep-last 1 "$R" >/dev/null || return 1
	[ "$(pk-index "$R" | grep -c '^[0-9a-f]\{12\} ')" = 1 ] &&
	    [ "$n" -gt 1 ] && restored "$R" latest out4 &&
	    pk-index --check "$R" >/dev/null
}
ok "forget: keep the last, the kept one restores" forget_s3

# pk-gc on S3: with a backup running when it marks, the mark waits for it;
# then the sweep deletes the forgotten snapshot's data, the rest restores.
RG=$(s3_place gc)
gc_s3() {
	pk-store --init "$RG" >/dev/null || return 1
	mkdir -p g/src && gen_file g/src/old 800000 61 && gen_file g/src/kept 300000 62
	( cd g && pk-walk src | pk-chunk -r "$RG" | pk-store --no-cache "$RG" >"$S/g1.id" ) &&
	    rm g/src/old && gen_file g/src/new 500000 63 &&
	    ( cd g && pk-walk src | pk-chunk -r "$RG" | pk-store --no-cache "$RG" >"$S/g2.id" ) &&
	    pk-forget "$RG" "$(cat "$S/g1.id")" >/dev/null || return 1
	# A backup that stalls in the middle while pk-gc marks.
	( cd g && pk-walk src | pk-chunk -r "$RG" ) >"$S/g.stream"
	rm -f "$S/gfifo" "$S/ggo" && mkfifo "$S/gfifo"
	{ head -c 1000 "$S/g.stream"; while [ ! -e "$S/ggo" ]; do sleep 0.1; done
	    tail -c +1001 "$S/g.stream"; } >"$S/gfifo" &
	pk-store --no-cache "$RG" <"$S/gfifo" >"$S/g3.id" &
	_p=$!
	sleep 2
	pk-gc --grace 0 "$RG" >"$S/gc.out" 2>&1
	grep -q "^waiting: .* store on host" "$S/gc.out" || { cat "$S/gc.out"; touch "$S/ggo"; return 1; }
	touch "$S/ggo"
	wait $_p || return 1
	pk-gc --grace 0 "$RG" >"$S/gc.out" 2>&1 || { cat "$S/gc.out"; return 1; }
	grep -q "^deleted 1 packs, " "$S/gc.out" || { cat "$S/gc.out"; return 1; }
	pk-index --check=data "$RG" >/dev/null || return 1
	for i in 2 3; do
		rm -rf "$S/go$i" && restore "$RG" "$(cat "$S/g$i.id")" "$S/go$i" &&
		    cmp "$S/go$i/src/kept" g/src/kept &&
		    cmp "$S/go$i/src/new" g/src/new || return 1
	done
}
ok "gc: a mark waits for a running backup, then sweeps; the rest restores" gc_s3
