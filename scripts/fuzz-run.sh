#!/bin/sh
# usage: scripts/fuzz-run.sh SECONDS NAME...
# Runs the libFuzzer target tests/fuzz/lf-NAME of each NAME for SECONDS,
# one after another, one process at a time, each input limited to
# FUZZ_TIMEOUT seconds (10) and FUZZ_RSS_MB of memory (2048).  Each starts
# from its corpus tests/fuzz/corpus/NAME, fuzzes a copy of it, then merges
# the inputs that add coverage back into it (-merge=1).  It runs in
# libFuzzer's fork mode, one job, so that a crash or a timeout does not end
# it: an input that crashes is saved in the corpus as crash-SHA1, one that
# times out as slow-SHA1, and make check leaves both out until they are
# fixed.  Prints, per target, the CPU time it ran, the inputs run and
# whether it ran clean; the log of each run is in tests/fuzz/work/NAME.log.
cd "$(dirname "$0")/.." || exit 1
secs=${1:?usage: fuzz-run.sh SECONDS NAME...}
shift
timeout=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
work=tests/fuzz/work
hz=$(getconf CLK_TCK)
# Targets that read files write them under TMPDIR: memory, when there is
# some, rather than a disk they would sync to.
[ -z "$TMPDIR" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm

# CPU time of the children waited for so far, in clock ticks.
cpu() {
	awk '{ print $16 + $17 }' /proc/$$/stat
}

status=0
for name in "$@"; do
	lf=tests/fuzz/lf-$name
	corpus=tests/fuzz/corpus/$name
	[ -x "$lf" ] || { echo "fuzz-run: $lf: not built (make fuzz)" >&2; exit 1; }
	rm -rf "${work:?}/$name"
	mkdir -p "$work/$name" "$corpus"
	for f in "$corpus"/*; do
		case ${f##*/} in
		crash-*|slow-*|\*) ;;
		*) cp "$f" "$work/$name/" ;;
		esac
	done
	log=$work/$name.log
	t0=$(cpu)
	"$lf" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
	    -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb="$rss" \
	    -artifact_prefix="$work/$name-" "$work/$name" >"$log" 2>&1
	t1=$(cpu)
	runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1)
	# The corpus stays small: the fewest inputs that reach the code that
	# it and this run's finds reach (-merge=1 into an empty directory;
	# edges, not how often each runs, which would keep several times
	# more), in files named by their SHA-1, and the files with other
	# names (seeds, hand-made inputs, known crashes) kept as they are.
	rm -rf "$work/$name.min"
	mkdir -p "$work/$name.min"
	if "$lf" -merge=1 -use_counters=0 -timeout="$timeout" \
	    -rss_limit_mb="$rss" "$work/$name.min" "$work/$name" >>"$log" 2>&1
	then
		for f in "$corpus"/*; do
			n=${f##*/}
			case $n in
			*[!0-9a-f]*) ;;
			*) [ ${#n} -eq 40 ] && rm -f "$f" ;;
			esac
		done
		named=$(for f in "$corpus"/*; do
			[ -f "$f" ] && sha1sum <"$f"
		done | cut -c1-40)
		for f in "$work/$name.min"/*; do
			case $named in *"${f##*/}"*) ;; *) cp "$f" "$corpus/" ;; esac
		done
	fi
	found=
	for a in "$work/$name"-*; do
		[ -f "$a" ] || continue
		h=${a##*-}
		case ${a#"$work/$name"-} in
		timeout-*|slow-unit-*) to=$corpus/slow-$h ;;
		*) to=$corpus/crash-$h ;;
		esac
		mv "$a" "$to"
		found="$found ${to##*/}"
	done
	cs=$(( (t1 - t0) / hz ))
	if [ -z "$found" ]; then
		echo "fuzz-run: $name: clean, ${cs} s CPU, ${runs:-?} runs"
	else
		echo "fuzz-run: $name: ${cs} s CPU, ${runs:-?} runs, not clean:" \
		    "$found; see $log"
		status=1
	fi
	echo "fuzz-run: $name: corpus $(ls "$corpus" | wc -l) files," \
	    "$(du -sk "$corpus" | cut -f1) KiB"
done
exit $status
