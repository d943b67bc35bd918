#!/bin/sh
# bench-deps.sh: installs what `make bench` compares pk with and measures
# with, from Debian's packages: the peers restic, borg (with llfuse, for borg
# mount) and casync, GNU time, hyperfine, the zstd and openssl command-line
# tools, and for the S3 part python3 (the counting proxy, tests/s3proxy.py)
# and curl (which removes the part's buckets).  `make bench` itself installs nothing: a peer that is
# missing is reported as n/a.
#
# usage: scripts/bench-deps.sh    (run by `make bench-deps`; needs root for
# apt-get, otherwise prints the command to run)
debs="restic borgbackup python3-llfuse casync hyperfine time zstd openssl python3 curl"
missing=
for d in $debs; do
	dpkg-query -W -f '${Status}\n' "$d" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $d"
done
if [ -z "$missing" ]; then
	echo "bench-deps: installed:$(printf ' %s' $debs)"
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "bench-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing || {
		echo "bench-deps: apt-get failed" >&2
		exit 1
	}
	exit 0
fi
echo "bench-deps: missing:$missing" >&2
echo "bench-deps: run: sudo apt-get install -y$missing" >&2
exit 1
