#!/bin/sh
# Checks that the build dependencies are installed; installs them with
# apt-get when running as root, otherwise prints the command to run.
pkgs="libsodium libzstd libxxhash libarchive libcrypto"
debs="pkg-config libsodium-dev libzstd-dev libxxhash-dev libarchive-dev libssl-dev"
tools="bsdtar:libarchive-tools mandoc:mandoc"
[ "$1" = "--test" ] && tools="$tools"
missing=
command -v pkg-config >/dev/null 2>&1 || missing=pkg-config
if [ -z "$missing" ]; then
	for p in $pkgs; do
		pkg-config --exists "$p" || missing="$missing $p"
	done
fi
for t in $tools; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
[ -z "$missing" ] && exit 0
all="$debs libarchive-tools mandoc"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing $all" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq $all; } >&2 || {
		echo "deps: apt-get failed" >&2; exit 1; }
	exit 0
fi
echo "deps: missing:$missing" >&2
echo "deps: run: sudo apt-get install -y $all" >&2
exit 1
