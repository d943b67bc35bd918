#!/bin/sh
# Checks that clang can build libFuzzer targets (make fuzz): clang itself,
# and libFuzzer with the sanitizer runtimes, which Debian packages apart
# (libclang-rt-dev).  As root it installs what is missing with apt-get;
# otherwise it prints the command.
debs="clang libclang-rt-dev"

t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *p, unsigned long n);\n%s\n' \
    'int LLVMFuzzerTestOneInput(const char *p, unsigned long n) { return 0; }' \
    >"$t/t.c"
builds() {
	command -v clang >/dev/null 2>&1 &&
	    clang -fsanitize=fuzzer,address,undefined -o "$t/t" "$t/t.c" \
	    >/dev/null 2>&1
}
builds && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "fuzz-deps: installing $debs" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq $debs; } >&2 || {
		echo "fuzz-deps: apt-get failed" >&2
		exit 1
	}
	builds && exit 0
	echo "fuzz-deps: clang still cannot build a libFuzzer target" >&2
	exit 1
fi
echo "fuzz-deps: clang cannot build a libFuzzer target" >&2
echo "fuzz-deps: run: sudo apt-get install -y $debs" >&2
exit 1
