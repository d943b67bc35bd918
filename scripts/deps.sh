#!/bin/sh
# Checks that what the build and the tests need is installed.  As root it
# installs what is missing with apt-get; otherwise it prints the command.
libs="libsodium libzstd libxxhash libarchive libcrypto"
# command:package pairs: the tests use bsdtar, setfattr, mandoc and strace.
tools="cc:build-essential pkg-config:pkg-config bsdtar:libarchive-tools setfattr:attr mandoc:mandoc strace:strace"
debs="build-essential pkg-config libsodium-dev libzstd-dev libxxhash-dev libarchive-dev libssl-dev libarchive-tools attr mandoc strace"

missing=
for t in $tools; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
if command -v pkg-config >/dev/null 2>&1; then
	for l in $libs; do
		pkg-config --exists "$l" || missing="$missing $l"
	done
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing $debs" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq $debs; } >&2 || {
		echo "deps: apt-get failed" >&2
		exit 1
	}
	exit 0
fi
echo "deps: missing:$missing" >&2
echo "deps: run: sudo apt-get install -y $debs" >&2
exit 1
