#!/bin/sh
# Runs the unit test binaries given as arguments, then every shell test
# tests/t[0-9]*.sh, and prints one summary line: N passed, N failed, N skipped.
# TESTS="t0100 t0200" limits the shell tests to those prefixes.
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
log=tests/scratch/log
rm -rf tests/scratch
mkdir -p tests/scratch
: >"$log"
# A build with SANITIZE= writes its reports to files, one per process: a
# report from a pipeline stage whose exit status no test looks at still
# fails its test.
san=$top/tests/scratch/sanitizer
mkdir -p "$san"
asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}
ubsan=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}
sanitizer() {
	export ASAN_OPTIONS="${asan}log_path=$san/$1"
	export UBSAN_OPTIONS="${ubsan}log_path=$san/$1:print_stacktrace=1:halt_on_error=1"
}
reports() {
	for f in "$san/$1".*; do
		[ -e "$f" ] || continue
		echo "not ok - $1: sanitizer report ${f#$top/}"
		sed 's/^/#   /' "$f" | head -n 40
	done
}
for u in "$@"; do
	echo "# $u"
	set --
	case $u in
	tests/fuzz/fuzz-*)
		# A fuzz target replays its corpus and the golden streams.
		name=${u#tests/fuzz/fuzz-}
		set -- tests/fuzz/corpus/"$name"/* tests/golden/*.pks
		;;
	esac
	sanitizer "${u##*/}"
	# A crash or a non-zero exit is a failure even if no check said so.
	{ ./"$u" "$@" 2>&1; rc=$?; [ $rc -eq 0 ] || echo "not ok - $u exited with status $rc"; } | tee -a "$log"
	reports "${u##*/}" | tee -a "$log"
done
for t in tests/t[0-9]*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "$TESTS" ]; then
		sel=
		for p in $TESTS; do case $name in "$p"*) sel=1 ;; esac; done
		[ -n "$sel" ] || continue
	fi
	echo "# $name"
	sanitizer "$name"
	PK_TOP=$top sh "$t" 2>&1 | tee -a "$log"
	reports "$name" | tee -a "$log"
done
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
skipped=$(grep -c '^skip ' "$log")
if [ "$failed" -gt 0 ]; then
	echo "failures:"
	grep '^not ok ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
