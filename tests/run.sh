#!/bin/sh
# Runs the unit test binaries given as arguments, then every shell test
# tests/t[0-9]*.sh, JOBS at a time (2 by default), and prints one summary
# line: N passed, N failed, N skipped; the skips and failures are listed
# above it.  TESTS="t0100 t0200" limits the shell tests to those prefixes.
# With PK_NO_SKIPS=1 (.ci/run) a skip counts as a failure: a test may skip
# only for a fact of the machine, and the machines of .ci/run have them all.
#
# The shell tests run with a PATH of pk's programs and the commands listed
# in scripts/commands, nothing else: a command a test needs and the list
# lacks fails here, not on a fresh machine.
#
# A build with SANITIZE= writes its reports to files, one per process: a
# report from a pipeline stage whose exit status no test looks at still
# fails its test.
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
san=$top/tests/scratch/sanitizer
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

# run.sh --one NAME: one shell test, its output kept whole in its log and
# then printed, so that tests run side by side do not mix their lines.
if [ "${1:-}" = --one ]; then
	sanitizer "$2"
	{ echo "# $2"; PK_TOP=$top sh "tests/$2.sh" 2>&1; reports "$2"; } \
	    >"tests/scratch/logs/$2"
	cat "tests/scratch/logs/$2"
	exit 0
fi

log=tests/scratch/log
rm -rf tests/scratch
mkdir -p tests/scratch/path tests/scratch/logs "$san"
: >"$log"

# Debian's PATH, as scripts/deps.sh checks it.
std="/usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin"
for c in $(awk '!/^#/ && NF == 2 { print $1 }' scripts/commands); do
	found=
	for d in $std; do
		[ -x "$d/$c" ] && { found=$d/$c; break; }
	done
	if [ -n "$found" ]; then
		ln -s "$found" "tests/scratch/path/$c"
	else
		echo "not ok - $c is not installed (scripts/commands; run scripts/deps.sh)" |
		    tee -a "$log"
	fi
done

for u in "$@"; do
	echo "# $u"
	set --
	case $u in
	tests/fuzz/fuzz-*)
		# A fuzz target replays its corpus, a stream decoder the
		# golden streams too.
		name=${u#tests/fuzz/fuzz-}
		set -- tests/fuzz/corpus/"$name"/*
		case $name in stream|tar) set -- "$@" tests/golden/*.pks ;; esac
		;;
	esac
	sanitizer "${u##*/}"
	# A crash or a non-zero exit is a failure even if no check said so.
	{ ./"$u" "$@" 2>&1; rc=$?; [ $rc -eq 0 ] || echo "not ok - $u exited with status $rc"; } | tee -a "$log"
	reports "${u##*/}" | tee -a "$log"
done

for t in tests/t[0-9]*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${TESTS:-}" ]; then
		sel=
		for p in $TESTS; do case $name in "$p"*) sel=1 ;; esac; done
		[ -n "$sel" ] || continue
	fi
	echo "$name"
done | PATH=$top/tests/scratch/path xargs -P "${JOBS:-2}" -I{} \
    sh tests/run.sh --one {} | tee -a "$log"

passed=$(grep -ac '^ok ' "$log")
failed=$(grep -ac '^not ok ' "$log")
skipped=$(grep -ac '^skip ' "$log")
if [ "$skipped" -gt 0 ]; then
	echo "skipped:"
	grep -a '^skip ' "$log"
	if [ -n "${PK_NO_SKIPS:-}" ]; then
		echo "not ok - a test skipped, and PK_NO_SKIPS is set" | tee -a "$log"
		failed=$((failed + 1))
	fi
fi
if [ "$failed" -gt 0 ]; then
	echo "failures:"
	grep -a '^not ok ' "$log"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
