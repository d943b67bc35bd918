#!/bin/sh
# usage: scripts/deps.sh [--install]
# Checks that what the build and the tests need is installed: the
# libraries below, and the commands of scripts/commands that are not part
# of every Debian system.  With --install, as root, it installs what is
# missing with apt-get; otherwise it prints the command and fails.
cd "$(dirname "$0")/.." || exit 1
libs="libsodium:libsodium-dev libzstd:libzstd-dev libxxhash:libxxhash-dev
libarchive:libarchive-dev libcrypto:libssl-dev libcurl:libcurl4-openssl-dev
fuse3:libfuse3-dev"
# Debian's own PATH: a command found only in a user's directory (a
# version manager's shims, ~/bin) does not count, as the tests do not see it.
std=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

debs=
for l in $libs; do debs="$debs ${l#*:}"; done
debs="$debs $(awk '!/^#/ && NF == 2 && $2 !~ /^base:/ { print $2 }' scripts/commands | sort -u | tr '\n' ' ')"

missing=
for c in $(awk '!/^#/ && NF == 2 { print $1 }' scripts/commands); do
	PATH=$std command -v "$c" >/dev/null 2>&1 ||
	    missing="$missing $(awk -v c="$c" '$1 == c { sub(/^base:/, "", $2); print $2 }' scripts/commands)"
done
if PATH=$std command -v pkg-config >/dev/null 2>&1; then
	for l in $libs; do
		pkg-config --exists "${l%%:*}" || missing="$missing ${l#*:}"
	done
fi
[ -z "$missing" ] && exit 0
# A package of the base system may still be missing from a container.
for p in $missing; do
	case " $debs " in *" $p "*) ;; *) debs="$debs $p" ;; esac
done
if [ "${1:-}" = --install ] && [ "$(id -u)" = 0 ] &&
    command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$debs" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq $debs; } >&2 || {
		echo "deps: apt-get failed" >&2
		exit 1
	}
	exit 0
fi
echo "deps: missing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	echo "deps: run: make deps (or apt-get install -y$debs)" >&2
else
	echo "deps: run: sudo apt-get install -y$debs" >&2
fi
exit 1
