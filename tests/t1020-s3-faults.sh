#!/bin/sh
# Faults between pk and the S3 gateway, made by tests/s3proxy.py on
# loopback: 500s and 503s, dropped connections, cut-off bodies, delays.
# Backups either succeed and restore exactly, or fail with a clear message
# and no snapshot; restores either restore exactly or fail.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

if ! R=$(s3_place faults); then
	skip "s3 faults" "no S3 gateway (S3_ENDPOINT)"
	exit 0
fi
bucket_path=${R#s3:"$S3_ENDPOINT"/}

# proxy NAME OPTION...: a proxy before the gateway; its place in $P, its
# pid in $S/NAME.pid, its log in $S/NAME.log.
proxy() {
	_n=$1; shift
	rm -f "$S/$_n.port"
	python3 "$PK_TOP/tests/s3proxy.py" --upstream "$S3_ENDPOINT" --port 0 \
	    --port-file "$S/$_n.port" --log "$S/$_n.log" "$@" 2>"$S/$_n.err" &
	echo $! >"$S/$_n.pid"
	_i=0
	while [ ! -s "$S/$_n.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	P=s3:http://127.0.0.1:$(cat "$S/$_n.port")/$bucket_path
}
unproxy() {
	kill "$(cat "$S/$1.pid")" 2>/dev/null
	wait "$(cat "$S/$1.pid")" 2>/dev/null
}
snapshots() {
	pk-index "$R" | grep -c '^[0-9a-f]\{12\} '
}

mkdir -p src/a src/b
gen_file src/a/one 5000000 1
gen_file src/a/two 3000000 2
i=0
while [ $i -lt 40 ]; do
	gen_file "src/b/f$i" $((i * 3000 + 100)) $((i + 10))
	i=$((i + 1))
done

ok "init" pk-store --init "$R"

# Faults of every kind, a quarter of the requests: retries carry it.
export PK_S3_RETRIES=12
proxy soft --seed 7 --fail-rate 0.1 --drop-rate 0.05 --cut-rate 0.05 \
    --delay-rate 0.05 --delay-ms 200
ok "faults: backup succeeds" backup "$P" src
ok "faults: faults were made" sh -c "awk '\$6 != \"-\"' '$S/soft.log' | grep -q ."
restored() {
	rm -rf "$2" && restore "$1" latest "$2" && same_tree src "$2/src"
}
ok "faults: the snapshot restores exactly, without the proxy" restored "$R" o1
ok "faults: restore through them, exactly" restored "$P" o2
ok "faults: check=data through them" pk-index --check=data "$P"
unproxy soft

# Uploads that always fail: the backup fails, naming why, and no snapshot.
export PK_S3_RETRIES=2
n0=$(snapshots)
gen_file src/a/three 2000000 3
proxy hard --hard --only PUT --fail-rate 1 --fail-status 503
hard_backup() {
	backup "$P" src >"$S/hb.out" 2>&1 && return 1
	grep -q 'retries ran out' "$S/hb.out"
}
ok "503 on every PUT: the backup fails, saying the retries ran out" hard_backup
ok "503 on every PUT: no snapshot" test "$(snapshots)" = "$n0"
unproxy hard

proxy drops --hard --only PUT --drop-rate 1
dropped() {
	! backup "$P" src
}
ok "dropped PUTs: the backup fails" dropped
ok "dropped PUTs: no snapshot" test "$(snapshots)" = "$n0"
unproxy drops

proxy cuts --hard --only GET --cut-rate 1
cut_restore() {
	pk-cat "$P" latest:src/a/one >"$S/one" 2>"$S/cut.err" && return 1
	grep -q "$bucket_path" "$S/cut.err"
}
ok "cut GETs: the restore fails, naming the object" cut_restore
unproxy cuts

ok "after all that: check=data ok" pk-index --check=data "$R"
ok "after all that: a backup without faults" backup "$R" src
ok "after all that: it restores" restored "$R" o3
