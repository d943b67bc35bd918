#!/bin/sh
# bench.sh: measures pk against restic, borg and casync on the same data, in
# the same run, and the machine's ceiling for pk's pipeline.
#
# usage: scripts/bench.sh    (run by `make bench` after the build)
#
# It builds its datasets deterministically in a scratch directory: a copy of
# parts of /usr (the real tree), a few large files from tests/gen (text that
# compresses, noise that does not), and, for the changed-tree backup, the
# same tree with about 1% of its files modified in place, 0.5% removed and
# 0.5% added.  Each tool backs up the same tree at the same path, so every
# file cache sees unchanged files unchanged.  The data stays warm in the page
# cache; tools alternate within each repetition; the short cases are the
# median of BENCH_RUNS repetitions.  A peer that is not installed is 'n/a'
# (`make bench-deps` installs them); a command that exits non-zero is
# 'failed', and its log is kept.  Results: one table on standard output,
# BENCH_DIR/results-DATE.md and BENCH_DIR/latest.md.
#
# With an S3 gateway (S3_ENDPOINT and its keys), pk and restic also back the
# same tree up into a bucket each there, the first time, unchanged, and
# changed, and restore it whole and one file, each through its own
# tests/s3proxy.py, which counts the requests and the bytes of each case.
#
# The restore part restores the tree into a directory, BENCH_RUNS times
# each, alternating: pk-cat -C, tar -xpf of pk-cat's archive of it from
# the page cache (the floor), pk-cat | tar -xpf, and restic restore.
#
# The mount part mounts the repositories of the tree part (pk-mount, restic
# mount, borg mount) and times the first listing of the latest snapshot, a
# find over it against one over the source tree, a cat of the large files
# against pk-cat's, and 4 KiB random reads, cold and warm; it runs after the
# tree part, and only with it.
#
# The ceiling part measures the CPU per byte of each piece of work pk's
# pipeline does on one core (reading, a pipe hop, pk-dedup passing a stream
# from pipe to pipe, hashing, zstd, AEAD, writing), and of each stage on one
# core from a saved stream; it runs each stage again with two threads on two
# cores (-j 2 where the tool takes -j), and from those computes the
# pipeline's bound on 1 to 32 cores (each stage's speedup by Amdahl's law
# fitted to its two-thread speedup), checked against the whole pipeline run
# on one core and on two; and, from one more run of the pipeline under
# strace, the bytes each stage copies through read and write calls and
# moves with splice, per byte of the tree.
#
# The lifecycle part backs up a generated tree that changes about 2% a day,
# 30 times, then forgets the snapshots that --keep-daily 7 --keep-weekly 4
# does not keep: pk-forget and pk-gc against restic forget --prune, the
# repositories after against fresh ones that hold only the kept snapshots,
# and pk-gc's memory at about 1x, 4x and 16x the chunks.
#
# Environment:
#   BENCH_DIR    scratch directory (default ./bench), emptied on each run
#                except for earlier results-*.md
#   BENCH_QUICK  1: a small dataset (about 100 MB), to test the benchmark
#   BENCH_SIZE   size cap of the tree copied from /usr (default 1500M)
#   BENCH_BIG    size of each of the three large files (default 200M)
#   BENCH_SCALE  the 1x of the scale test, 4x and 16x follow (default 256M)
#   BENCH_RUNS   repetitions of the short cases (default 3)
#   BENCH_SRC    the directories copied (default /usr/bin /usr/include
#                /usr/lib/*-linux-gnu* /usr/share, those that exist)
#   BENCH_TOOLS  the tools compared (default: pk restic borg casync)
#   BENCH_PARTS  the parts run (default: all): tree (the tree and the large
#                files, backed up and restored, and the S3 part), restore
#                (the tree restored into a directory: pk-cat -C, tar -xpf
#                from the page cache, pk-cat | tar, restic), ceiling
#                (the cost of each primitive and stage, the stages on two
#                cores, the bound on more), scale (1x, 4x, 16x), small
#                (many small files), lifecycle (forgetting and garbage
#                collection), mount (browsing the tree part's repositories
#                mounted: pk-mount, restic mount, borg mount)
#   BENCH_KEEP   1: keep the datasets and repositories afterwards (the logs
#                and results are always kept), the S3 buckets too
#   S3_ENDPOINT  the S3 part's gateway, http://HOST:PORT (unset: the part is
#                skipped), with S3_ACCESS_KEY, S3_SECRET_KEY and S3_REGION
#                (default us-east-1); the part makes buckets pk-bench-*
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top/bin:$PATH
export PATH
LC_ALL=C
export LC_ALL

started=$(date +%s)

die() {
	echo "bench: $*" >&2
	exit 1
}

say() {
	echo "bench: [$(($(date +%s) - started)) s] $*" >&2
}

# q ARG: ARG quoted for the shell, when it needs it.
q() {
	case $1 in
	*[!A-Za-z0-9_./:=+@%,-]* | '') printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf %s "$1" ;;
	esac
}

# bytes_of SIZE: 1500M, 2G, 64K or plain bytes, in bytes.
bytes_of() {
	awk -v s="$1" 'BEGIN {
		n = s + 0; u = substr(s, length(s)); m = 1
		if (u == "K" || u == "k") m = 1024
		if (u == "M" || u == "m") m = 1048576
		if (u == "G" || u == "g") m = 1073741824
		if (n <= 0) exit 1
		printf "%.0f\n", n * m }' || die "$1: not a size"
}

# calc EXPRESSION: evaluates a floating-point expression with awk.
calc() {
	awk "BEGIN { print ($*) }"
}

# --- configuration ----------------------------------------------------------

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	quick=1
	size=$(bytes_of "${BENCH_SIZE:-64M}")
	big=$(bytes_of "${BENCH_BIG:-8M}")
	scale=$(bytes_of "${BENCH_SCALE:-8M}")
else
	quick=0
	size=$(bytes_of "${BENCH_SIZE:-1500M}")
	big=$(bytes_of "${BENCH_BIG:-200M}")
	scale=$(bytes_of "${BENCH_SCALE:-256M}")
fi
runs=${BENCH_RUNS:-3}
allparts="tree restore mount ceiling scale small lifecycle"
parts=
for p in ${BENCH_PARTS:-$allparts}; do
	case " $allparts " in
	*" $p "*) parts="$parts $p" ;;
	*) die "BENCH_PARTS: $p: not one of $allparts" ;;
	esac
done
[ -n "$parts" ] || die "BENCH_PARTS: no part named"
parts="$parts "
part() {
	case $parts in *" $1 "*) return 0 ;; esac
	return 1
}
# pk-store's default compression level, which the ceiling assumes, and the
# others a first backup of the tree runs at once each, for the curve of
# rate against repository size.
level=3 curvelevels="1 2 4 5 6"
case $runs in '' | *[!0-9]* | 0) die "BENCH_RUNS=$runs: need a number of runs" ;; esac
B=${BENCH_DIR:-$PWD/bench}
mkdir -p "$B" || die "$B: cannot create it"
B=$(cd -P "$B" && pwd -P) || die "$B: cannot enter it"
case $B in
/ | /usr | /usr/* | "$top") die "BENCH_DIR=$B: pick a scratch directory" ;;
esac
# Only a directory the benchmark made (or an empty one) is emptied.
[ -e "$B/.pk-bench" ] || [ -z "$(ls -A "$B")" ] ||
	die "BENCH_DIR=$B: not empty and not made by the benchmark: pick another"
: >"$B/.pk-bench" || die "$B: cannot write in it"
src=
for d in ${BENCH_SRC:-/usr/bin /usr/include /usr/lib/*-linux-gnu* /usr/share}; do
	[ -d "$d" ] && src="$src $d"
done
[ -n "$src" ] || die "none of the source directories exists (BENCH_SRC)"
TIME=/usr/bin/time
[ -x $TIME ] && $TIME -f %M true 2>/dev/null ||
	die "GNU time is needed as $TIME (make bench-deps installs it)"
! part ceiling || command -v taskset >/dev/null 2>&1 ||
	die "taskset (util-linux) is needed by the ceiling part"
gen=$top/tests/gen
if [ ! -x "$gen" ] || [ "$top/tests/gen.c" -nt "$gen" ]; then
	make -s -C "$top" tests/gen >&2 || die "cannot build tests/gen"
fi
for t in pk-walk pk-chunk pk-dedup pk-store pk-index pk-cat; do
	[ -x "$top/bin/$t" ] || die "$top/bin/$t is not built (run make)"
done
ncpu=$(nproc)

tools= have=
for t in ${BENCH_TOOLS:-pk restic borg casync}; do
	case $t in
	pk) tools="$tools pk" ;;
	restic | borg | casync) tools="$tools $t"
		command -v "$t" >/dev/null 2>&1 && have="$have $t" ;;
	*) die "BENCH_TOOLS: $t: not one of pk restic borg casync" ;;
	esac
done
case " $tools " in *" pk "*) ;; *) die "BENCH_TOOLS must include pk" ;; esac
have=" pk $have "

# The S3 part: pk and restic, those of the tools that are installed.
s3why= s3tools= s3run=
if ! part tree; then
	s3why="it backs up the tree, and the tree part is not run (BENCH_PARTS)"
elif [ -z "${S3_ENDPOINT:-}" ] || [ -z "${S3_ACCESS_KEY:-}" ] || [ -z "${S3_SECRET_KEY:-}" ]; then
	s3why="S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY are not all set"
elif ! command -v python3 >/dev/null 2>&1; then
	s3why="python3, which runs tests/s3proxy.py, is not installed (make bench-deps)"
else
	for t in $tools; do
		case $t in pk | restic) s3tools="$s3tools $t" ;; esac
	done
	S3_REGION=${S3_REGION:-us-east-1}
	s3bucket=pk-bench-$(date +%s)-$$
	AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
	AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
	AWS_DEFAULT_REGION=$S3_REGION
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
fi

# Everything the tools write stays in the scratch directory: their caches
# (restic, borg) and key material live under $B/home.
W=$B/work
L=$B/logs
rm -rf "$B/tree" "$B/big" "$B/small" "$B/history" "$W" "$L" "$B/repo" "$B/restore" "$B/home" ||
	die "$B: cannot empty it"
mkdir -p "$W" "$L" "$B/repo" "$B/restore" "$B/home" || die "$B: cannot fill it"
HOME=$B/home
XDG_CACHE_HOME=$B/home/.cache
PK_PASSPHRASE=bench
RESTIC_PASSWORD=bench
RESTIC_CACHE_DIR=$B/home/.cache/restic
BORG_PASSPHRASE=bench
BORG_BASE_DIR=$B/home
BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export HOME XDG_CACHE_HOME PK_PASSPHRASE RESTIC_PASSWORD RESTIC_CACHE_DIR \
	BORG_PASSPHRASE BORG_BASE_DIR BORG_RELOCATED_REPO_ACCESS_IS_OK

# --- measuring --------------------------------------------------------------

# measure ID STAGE...: runs the stages (shell command lines) as one pipeline
# in $mdir, each under GNU time, after a sync so that no earlier writes are
# flushed during it, and appends to $L/ID.res one line: wall
# seconds, peak RSS in KiB (the largest stage), CPU seconds (user + system,
# summed over the stages); or 'failed' when a stage exits non-zero, is
# killed, or the check in $mcheck (a command line) fails afterwards.  A stage
# written @COMMAND runs untimed and is not counted (a data source).  Each
# stage's own figures go to $L/ID.stages (every run's to ID.stages.all), its
# messages to $L/ID.err.  With $mcount set to the log of a tests/s3proxy.py,
# the line also has the requests logged during the run, the bytes of their
# bodies sent and received.
mdir=$B
mcheck=
mcount=
measure() {
	_id=$1
	shift
	_n=0 _cmd=
	rm -f "$L/$_id".t*
	for _s; do
		_n=$((_n + 1))
		case $_s in
		@*) _s=${_s#@}; : >"$L/$_id.t$_n.skip" ;;
		*) _s="$TIME -f '%e %M %U %S %x' -o $(q "$L/$_id.t$_n") $_s" ;;
		esac
		_cmd="${_cmd:+$_cmd | }$_s"
	done
	echo "+ $*" >>"$L/$_id.err"
	sync
	[ -n "$mcount" ] && _c0=$(s3settle "$mcount")
	_t0=$(date +%s.%N)
	(cd "$mdir" && eval "$_cmd") >"$L/$_id.out" 2>>"$L/$_id.err"
	_t1=$(date +%s.%N)
	_ok=1 _i=1
	: >"$L/$_id.stages"
	while [ $_i -le $_n ]; do
		_f=$L/$_id.t$_i
		if [ -e "$_f.skip" ]; then
			:
		elif [ ! -s "$_f" ] || grep -q 'terminated by signal' "$_f" ||
			[ "$(tail -n 1 "$_f" | awk '{ print $5 }')" != 0 ]; then
			_ok=0
			echo "$_i failed" >>"$L/$_id.stages"
		else
			tail -n 1 "$_f" | awk -v i=$_i '{ print i, $1, $2, $3 + $4 }' \
				>>"$L/$_id.stages"
		fi
		_i=$((_i + 1))
	done
	awk '{ print "run", $0 }' "$L/$_id.stages" >>"$L/$_id.stages.all"
	if [ $_ok = 1 ] && [ -n "$mcheck" ] && ! (cd "$mdir" && eval "$mcheck") \
		>>"$L/$_id.err" 2>&1; then
		echo "check failed: $mcheck" >>"$L/$_id.err"
		_ok=0
	fi
	if [ $_ok = 1 ]; then
		_x=
		[ -n "$mcount" ] && _x=$(s3settle "$mcount" >/dev/null &&
			awk -v n="$_c0" 'NR > n { r++; i += $4; o += $5 }
				END { printf " %d %d %d", r, i, o }' "$mcount")
		awk -v t0="$_t0" -v t1="$_t1" -v x="$_x" '
			$2 == "failed" { next }
			{ if ($3 > rss) rss = $3; cpu += $4 }
			END { printf "%.3f %d %.2f%s\n", t1 - t0, rss, cpu, x }' \
			"$L/$_id.stages" >>"$L/$_id.res"
		set -- $(tail -n 1 "$L/$_id.res")
		say "$_id: $1 s, peak RSS $(($2 / 1024)) MiB, CPU $3 s${4:+, $4 requests, $5 bytes sent, $6 received}"
	else
		echo failed >>"$L/$_id.res"
		echo "$_id" >>"$L/failures"
		say "$_id: FAILED (see $L/$_id.err)"
	fi
	mcheck=
	mcount=
	return 0
}

# s3settle LOG: the lines of the proxy's LOG once no line came for 0.2 s: a
# request is logged after its answer, which its client may have read first.
s3settle() {
	_a=$(wc -l <"$1")
	while sleep 0.2; do
		_b=$(wc -l <"$1")
		[ "$_a" = "$_b" ] && break
		_a=$_b
	done
	echo "$_a"
}

# rotate N WORD...: the words, starting with the (N mod count)th, so that no
# tool always runs first.
rotate() {
	_k=$1
	shift
	_c=$#
	_k=$((_k % _c))
	_out=
	_i=0
	for _w; do
		[ $_i -ge $_k ] && _out="$_out $_w"
		_i=$((_i + 1))
	done
	_i=0
	for _w; do
		[ $_i -lt $_k ] && _out="$_out $_w"
		_i=$((_i + 1))
	done
	echo $_out
}

installed() {
	case $have in *" $1 "*) return 0 ;; esac
	return 1
}

# fsum DIR: "FILES BYTES" of the regular files under DIR, counting each name.
fsum() {
	find "$1" -type f -printf '%s\n' | awk '{ n++; s += $1 } END { print n + 0, s + 0 }'
}

# dsize DIR...: the bytes of the regular files under DIR, a hard-linked file
# once: the data a backup reads.
dsize() {
	find "$@" -type f -printf '%i %s\n' | sort -u | awk '{ s += $2 } END { print s + 0 }'
}

# --- the tools --------------------------------------------------------------
# Each repository lives in $B/repo/SET/TOOL; casync's is a chunk store and its
# indexes side by side.  Those of the set s3 are on the S3 gateway, at
# prefix tree of TOOL's bucket, through TOOL's proxy.

repo() {
	case $1 in
	s3) echo "s3:http://127.0.0.1:$(cat "$W/s3proxy-$2.port")/$s3bucket-$2/tree" ;;
	*) echo "$B/repo/$1/$2" ;;
	esac
}

init_repo() { # TOOL SET
	_r=$(repo "$2" "$1")
	[ "$2" = s3 ] || mkdir -p "$(dirname "$_r")"
	case $1 in
	pk) pk-store --init "$_r" ;;
	restic) restic init -q -r "$_r" ;;
	borg) borg init --encryption=repokey-blake2 "$_r" ;;
	casync) mkdir -p "$_r" ;;
	esac >>"$L/$1.init.err" 2>&1 || {
		say "$1: cannot create a repository in $_r (see $L/$1.init.err)"
		echo "$1.init" >>"$L/failures"
		return 1
	}
}

# backup TOOL SET ID NAME PATH: backs up PATH as snapshot NAME, the way a
# daily backup runs: pk-walk -r with the stat cache pk-store wrote last time;
# casync with its file cache (--cache), as restic and borg have theirs by
# default.
backup() {
	_r=$(q "$(repo "$2" "$1")")
	case $1 in
	pk) measure "$3" "pk-walk -r $_r $(q "$5")" "pk-chunk -r $_r" "pk-dedup -r $_r" \
		"pk-store $_r" ;;
	restic) measure "$3" "restic -r $_r backup -q $(q "$5")" ;;
	borg) measure "$3" "borg create $_r::$4 $(q "$5")" ;;
	casync) measure "$3" "casync make --store=$_r/default.castr --cache=$(q "$B/home/casync-$2") $_r/$4.caidx $(q "$5")" ;;
	esac
}

# backup_stdin TOOL SET ID NAME STAGE: backs up what STAGE writes, as one file.
backup_stdin() {
	_r=$(q "$(repo "$2" "$1")")
	case $1 in
	pk) measure "$3" "$5" "pk-walk --name $4 -" "pk-chunk -r $_r" \
		"pk-dedup -r $_r" "pk-store $_r" ;;
	restic) measure "$3" "$5" "restic -r $_r backup -q --stdin --stdin-filename $4" ;;
	borg) measure "$3" "$5" "borg create --stdin-name $4 $_r::$4 -" ;;
	casync) ;; # casync make reads files and directories, not a pipe
	esac
}

# warm PATH...: reads every file under the paths once, untimed.  The page
# cache of a virtual machine may be trimmed of what was not read for a
# minute or so; a restore then reads the repository warm, as the floor
# reads its archive.
warm() {
	find "$@" -type f -exec cat {} + >/dev/null 2>&1
}

# restore TOOL SET ID NAME DIR: restores snapshot NAME (pk, restic: the
# latest) into the empty directory DIR, from a warm repository and cache.
restore() {
	_r=$(q "$(repo "$2" "$1")")
	_d=$(q "$5")
	case $2 in
	s3) warm "$HOME" ;;
	*) warm "$(repo "$2" "$1")" "$HOME" ;;
	esac
	case $1 in
	pk) measure "$3" "pk-cat $_r latest" "tar -xpf - -C $_d" ;;
	restic) measure "$3" "restic -r $_r restore -q latest --target $_d" ;;
	borg) mdir=$5 measure "$3" "borg extract $_r::$4"; mdir=$B ;;
	casync) measure "$3" "casync extract --store=$_r/default.castr $_r/$4.caidx $_d" ;;
	esac
}

# restore_one TOOL SET ID NAME PATH OUT: restores the file at absolute PATH
# of snapshot NAME into the file OUT (casync: into the directory OUT.d).
restore_one() {
	_r=$(q "$(repo "$2" "$1")")
	_o=$(q "$6")
	case $1 in
	pk) measure "$3" "pk-cat $_r latest:$(q "$5") >$_o" ;;
	restic) measure "$3" "restic -r $_r dump -q latest $(q "$5") >$_o" ;;
	borg) measure "$3" "borg extract --stdout $_r::$4 $(q "${5#/}") >$_o" ;;
	casync) measure "$3" "casync extract --store=$_r/default.castr $_r/$4.caidx $(q "$6.d") $(q "${5#"$B"/tree/}")" ;;
	esac
}

# restore_floor SET ID DIR FILES BYTES: the restore floor, tar -xpf of the
# archive of the latest snapshot of SET from a file in the page cache, into
# an empty directory $B/restore/floor-SET.N, one run like the restores.  It
# runs twice, right before and right after pk's restore, which is measured
# against the mean of the two: the floor moves with what the disk did just
# before.  The archive is the one pk's restore extracts, pk-cat's, saved on
# the first run (tar -cf of DIR if pk-cat fails; the source goes to
# $L/ID.from), untimed and read once to warm it.  The files stay until all
# restores are done: on ext4, new files are slower to create while many
# were just deleted, which would charge a run with the deletes before it.
restore_floor() {
	_a=$W/floor-$1.tar
	_d=$B/restore/floor-$1.$(($(cat "$L/$2.res" 2>/dev/null | wc -l) + 1))
	if [ ! -e "$_a" ]; then
		echo "pk-cat's archive" >"$L/$2.from"
		pk-cat "$(repo "$1" pk)" latest >"$_a" 2>>"$L/$2.err" || {
			echo "tar -cf of the files" >"$L/$2.from"
			tar -cf "$_a" -C "$(dirname "$3")" "$(basename "$3")" 2>>"$L/$2.err"
		}
		cat "$_a" >/dev/null
	fi
	mkdir -p "$_d"
	mcheck="[ \"\$(fsum $(q "$_d"))\" = '$4 $5' ]"
	measure "$2" "tar -xpf $(q "$_a") -C $(q "$_d")"
}

version_of() {
	case $1 in
	pk) pk-store --version 2>&1 | head -n 1 ;;
	restic) restic version 2>&1 | awk '{ print $1, $2 }' ;;
	borg) borg --version 2>&1 ;;
	casync) casync --version 2>&1 ;;
	esac
}

# s3proxy_start TOOL: starts TOOL's counting proxy before the gateway, a
# tests/s3proxy.py with no faults: its port in $W/s3proxy-TOOL.port, its log
# in $L/TOOL.s3proxy.log, its summary (when stopped) in $L/TOOL.s3proxy.err.
s3proxy_start() {
	rm -f "$W/s3proxy-$1.port"
	: >>"$L/$1.s3proxy.log"
	python3 "$top/tests/s3proxy.py" --upstream "$S3_ENDPOINT" --port 0 \
		--port-file "$W/s3proxy-$1.port" --log "$L/$1.s3proxy.log" \
		2>>"$L/$1.s3proxy.err" &
	echo $! >"$W/s3proxy-$1.pid"
	_i=0
	while [ ! -s "$W/s3proxy-$1.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -s "$W/s3proxy-$1.port" ] && return 0
	say "$1: the proxy did not start (see $L/$1.s3proxy.err)"
	echo "$1.s3proxy" >>"$L/failures"
	return 1
}

# s3proxy_stop: stops the proxies that run.
s3proxy_stop() {
	for _p in "$W"/s3proxy-*.pid; do
		[ -e "$_p" ] || continue
		kill "$(cat "$_p")" 2>/dev/null
		wait "$(cat "$_p")" 2>/dev/null
		rm -f "$_p"
	done
}
trap s3proxy_stop EXIT
trap 's3proxy_stop; exit 130' INT TERM

# s3curl CURL-ARG...: curl signing for the gateway, the keys in its config
# (not its command line), read from standard input after the config's own
# lines there.  The gateway wants the payload's hash header, which curl
# signs only when given it.
s3curl() {
	{
		printf 'user = "%s:%s"\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY"
		cat
	} | curl -sS -f --aws-sigv4 "aws:amz:$S3_REGION:s3" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -K - "$@"
}

# s3_wipe BUCKET: removes BUCKET from the gateway, its objects first, a
# listing of up to 1000 at a time.
s3_wipe() {
	_u=$S3_ENDPOINT/$1
	while :; do
		s3curl "$_u/?max-keys=1000" </dev/null >"$W/s3.list" || return 1
		sed 's/<Key>/\n<Key>/g' "$W/s3.list" |
			sed -n 's/^<Key>\([^<]*\)<\/Key>.*/\1/p' >"$W/s3.keys"
		[ -s "$W/s3.keys" ] || break
		awk -v u="$_u" '{ print "url = \"" u "/" $0 "\"" }' "$W/s3.keys" |
			s3curl -X DELETE >/dev/null || return 1
	done
	s3curl -X DELETE "$_u" </dev/null >/dev/null
}

# --- datasets ---------------------------------------------------------------

load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "scratch directory $B; tools:$tools (installed:$have)"
if part tree || part restore || part ceiling; then
	say "building the tree: up to $((size / 1048576)) MiB of$src"
	# Every regular file of the sources in name order, sampled evenly until the
	# size cap (a file is taken while the bytes taken stay within the cap's share
	# of the bytes seen); links and other entries sampled in the same share by
	# count; then the directories that lead to what was taken.
	find $src -xdev \( -type f ! -readable \) -prune -o \
		\( -type d ! \( -readable -executable \) \) -prune -o -printf '%p\t%y\t%s\n' 2>/dev/null |
		sort >"$W/source.list"
	awk -F '\t' -v cap="$size" '
		NF != 3 { next }
		FNR == 1 { pass++ }
		pass == 1 { if ($2 == "f") total += $3; next }
		pass == 2 {
			if (!started) { r = total > 0 ? cap / total : 1; started = 1 }
			if ($2 == "d") next
			if ($2 == "f") {
				seen += $3
				if (taken + $3 > seen * r) next
				taken += $3
			} else {
				nseen++
				if (ntaken + 1 > nseen * r) next
				ntaken++
			}
			want[$1] = 1
			p = $1
			while (sub(/\/[^\/]*$/, "", p) && p != "")
				want[p] = 1
			next
		}
		want[$1] { print substr($1, 2) }
	' "$W/source.list" "$W/source.list" "$W/source.list" >"$W/tree.list"
	mkdir "$B/tree" || die "$B/tree: cannot create it"
	tar -C / --no-recursion --verbatim-files-from -cf - -T "$W/tree.list" 2>"$L/copy.err" |
		tar -xpf - -C "$B/tree" 2>>"$L/copy.err"
	[ -s "$L/copy.err" ] && say "some files could not be copied (see $L/copy.err)"
	set -- $(fsum "$B/tree")
	tree_files=$1
	tree_sum=$2
	tree_bytes=$(dsize "$B/tree")
	[ "$tree_files" -gt 0 ] || die "the tree is empty"
	say "tree: $tree_files files, $((tree_bytes / 1000000)) MB"

	# The large files (the restore part needs the tree only).
	mkdir "$B/big" || die "$B/big: cannot create it"
	if part tree || part ceiling; then
		"$gen" "$big" 1 text >"$B/big/text-1" &&
			"$gen" "$big" 2 text >"$B/big/text-2" &&
			"$gen" "$big" 3 >"$B/big/random" || die "cannot write the large files"
		say "large files: 3 x $((big / 1000000)) MB"
	fi
	big_bytes=$(dsize "$B/big")

	# The file restored alone: the first in name order of 1 to 8 MiB, else the
	# largest.
	one=$(find "$B/tree" -type f -size +1024k -size -8193k | sort | sed -n 1p)
	[ -n "$one" ] ||
		one=$(find "$B/tree" -type f -printf '%s %p\n' | sort -k1,1nr -k2 | sed -n '1s/^[0-9]* //p')
	one_bytes=$(stat -c %s "$one")
	say "single file: ${one#"$B"/} ($one_bytes bytes)"

	# Read everything once so that every tool starts from a warm page cache.
	tar -cf - -C "$B" tree big | cat >/dev/null
fi

if part tree; then
	for t in $tools; do
		installed $t || continue
		init_repo $t tree
	done
fi

# --- backups and restores of the tree ---------------------------------------

# size TOOL SET ID...: the repository's size on disk, or 'failed' unless
# every backup ID into it succeeded.
size() {
	_t=$1 _r=$(repo $2 $1) _o=$L/$1.$3.res
	shift 3
	for _id; do
		[ -s "$L/$_t.$_id.res" ] && ! grep -q failed "$L/$_t.$_id.res" ||
			{ echo failed >"$_o"; return; }
	done
	du -s -B1 "$_r" | cut -f1 >"$_o"
}

if part tree; then
	say "first backup of the tree"
	for t in $tools; do
		installed $t && backup $t tree $t.first first "$B/tree"
	done
	for t in $tools; do
		installed $t && size $t tree size1 first
	done
	for l in $curvelevels; do
		say "first backup of the tree, pk at -l $l"
		init_repo pk treel$l || continue
		_r=$(q "$(repo treel$l pk)")
		measure pk.firstl$l "pk-walk --no-cache $(q "$B/tree")" "pk-chunk -r $_r" \
			"pk-dedup -r $_r" "pk-store --no-cache -l $l $_r"
		size pk treel$l sizel$l firstl$l
		rm -rf "$(repo treel$l pk)"
	done

	say "re-backup of the unchanged tree, $runs runs"
	i=1
	while [ $i -le "$runs" ]; do
		for t in $(rotate $i $tools); do
			installed $t && backup $t tree $t.again again-$i "$B/tree"
		done
		i=$((i + 1))
	done
	last=again-$runs

	say "single-file restore, $runs runs"
	pk-index --export-key "$W/pk.key" "$(repo tree pk)" >>"$L/pk.onekey.err" 2>&1
	lastfile=$(pk-index --key-file "$W/pk.key" --json "$(repo tree pk)" latest 2>>"$L/pk.onelast.err" |
		sed -n 's/^\[*{"path":"\([^"]*\)","type":"reg".*/\1/p' | tail -n 1)
	i=1
	while [ $i -le "$runs" ]; do
		for t in $(rotate $i $tools); do
			installed $t || continue
			o=$B/restore/one-$t
			rm -rf "$o" "$o.d"
			case $t in
			casync) mcheck="cmp $(q "$o.d/$(basename "$one")") $(q "$one")" ;;
			*) mcheck="cmp $(q "$o") $(q "$one")" ;;
			esac
			restore_one $t tree $t.one $last "$one" "$o"
			rm -rf "$o" "$o.d"
		done
		# The harness's own time (a shell, GNU time, the clock), which these
		# short runs are reported without.
		measure harness.one "true"
		# pk again with a key file, as scripts that restore often open it:
		# no Argon2id.
		o=$B/restore/one-pk
		mcheck="cmp $(q "$o") $(q "$one")"
		measure pk.onekey "pk-cat --key-file $(q "$W/pk.key") $(q "$(repo tree pk)") latest:$(q "$one") >$(q "$o")"
		# And the last file of the catalog, which a reader that scans the
		# catalog from its start would reach last.
		mcheck="cmp $(q "$o") $(q "/$lastfile")"
		measure pk.onelast "pk-cat --key-file $(q "$W/pk.key") $(q "$(repo tree pk)") latest:$(q "$lastfile") >$(q "$o")"
		rm -f "$o"
		i=$((i + 1))
	done
fi

# --- the tree on S3 ---------------------------------------------------------
# pk and restic back the tree up into a bucket each on the gateway, each
# through its own counting proxy, then restore one file and the whole tree;
# the changed tree follows the local backups of it.  The restored trees stay
# until the local restores are done too.

if [ -n "$s3why" ]; then
	say "S3: skipped: $s3why"
elif [ -n "$s3tools" ]; then
	for t in $s3tools; do
		installed $t || continue
		if s3proxy_start $t && init_repo $t s3; then
			s3run="$s3run $t"
		else
			for c in first again one restore changed; do echo failed >"$L/$t.s3.$c.res"; done
		fi
	done
fi
if [ -n "$s3run" ]; then
	say "S3: first backup of the tree, into $s3bucket-TOOL at $S3_ENDPOINT"
	for t in $s3run; do
		mcount=$L/$t.s3proxy.log
		backup $t s3 $t.s3.first first "$B/tree"
	done
	say "S3: re-backup of the unchanged tree, $runs runs"
	i=1
	while [ $i -le "$runs" ]; do
		for t in $(rotate $i $s3run); do
			mcount=$L/$t.s3proxy.log
			backup $t s3 $t.s3.again again-$i "$B/tree"
		done
		i=$((i + 1))
	done
	say "S3: single-file restore, caches warm, $runs runs"
	i=1
	while [ $i -le "$runs" ]; do
		for t in $(rotate $i $s3run); do
			o=$B/restore/s3-one-$t
			rm -f "$o"
			mcheck="cmp $(q "$o") $(q "$one")"
			mcount=$L/$t.s3proxy.log
			restore_one $t s3 $t.s3.one $last "$one" "$o"
			rm -f "$o"
		done
		i=$((i + 1))
	done
	say "S3: full restore of the tree"
	for t in $s3run; do
		d=$B/restore/s3-$t
		mkdir -p "$d"
		mcheck="[ \"\$(fsum $(q "$d"))\" = '$tree_files $tree_sum' ]"
		mcount=$L/$t.s3proxy.log
		restore $t s3 $t.s3.restore $last "$d"
	done
fi

if part tree; then
	say "restore floor: tar -x of the tree from a tar file in the page cache"
	restore_floor tree floor.restore "$B/tree" "$tree_files" "$tree_sum"
	say "full restore of the tree"
	for t in $tools; do
		installed $t || continue
		d=$B/restore/tree-$t
		mkdir -p "$d"
		mcheck="[ \"\$(fsum $(q "$d"))\" = '$tree_files $tree_sum' ]"
		restore $t tree $t.restore $last "$d"
		[ $t = pk ] && restore_floor tree floor.restore "$B/tree" "$tree_files" "$tree_sum"
	done
	# pk-cat alone, which a restore waits for when tar does not.
	measure pk.catnull "pk-cat $(q "$(repo tree pk)") latest >/dev/null"
	# Every restored tree stays until all have run: on some file systems
	# (ext4) creating files right after many were deleted is much slower, which
	# would charge each restore with the deletes of the one before it.
	rm -rf "$B"/restore/floor-tree.* "$B"/restore/tree-* "$B"/restore/s3-* "$W/floor-tree.tar"
fi

# --- restores into a directory ----------------------------------------------
# The tree backed up once by pk and restic into repositories of their own
# (set rs), then restored BENCH_RUNS times by each way, alternating, every
# restore into a new directory kept until all have run (see above).

# rs_restore WAY RUN: one restore of set rs by WAY into its own directory.
rs_restore() {
	_d=$B/restore/rs-$1.$2
	mkdir -p "$_d"
	mcheck="[ \"\$(fsum $(q "$_d"))\" = '$tree_files $tree_sum' ]"
	case $1 in
	pkdir) warm "$(repo rs pk)" "$HOME"
		measure pk.rsdir "pk-cat -C $(q "$_d") $(q "$(repo rs pk)") latest" ;;
	pktar) warm "$(repo rs pk)" "$HOME"
		measure pk.rstar "pk-cat $(q "$(repo rs pk)") latest" "tar -xpf - -C $(q "$_d")" ;;
	floor) measure floor.rs "tar -xpf $(q "$W/floor-rs.tar") -C $(q "$_d")" ;;
	restic) restore restic rs restic.rs latest "$_d" ;;
	esac
}

if part restore; then
	say "restore part: backing up the tree for it"
	rs_ways="pkdir floor pktar"
	for t in pk restic; do
		installed $t && init_repo $t rs && backup $t rs $t.rsbackup first "$B/tree"
	done
	installed restic && rs_ways="$rs_ways restic"
	pk-cat "$(repo rs pk)" latest >"$W/floor-rs.tar" 2>>"$L/floor.rs.err" &&
		cat "$W/floor-rs.tar" >/dev/null
	say "restore part: $(echo $rs_ways), $runs runs"
	i=1
	while [ $i -le "$runs" ]; do
		for w in $(rotate $i $rs_ways); do
			rs_restore $w $i
		done
		i=$((i + 1))
	done
	rm -rf "$B"/restore/rs-* "$W/floor-rs.tar" "$(repo rs pk)" "$(repo rs restic)"
fi

# --- the changed tree -------------------------------------------------------

if part tree; then
	say "changing the tree: 1% of files modified in place, 0.5% removed, 0.5% added"
	find "$B/tree" -type f | sort >"$W/v1.files"
	awk 'NR % 100 == 1' "$W/v1.files" >"$W/modified"
	awk 'NR % 200 == 51' "$W/v1.files" >"$W/removed"
	awk 'NR % 200 == 151' "$W/v1.files" >"$W/added"
	n=0
	while IFS= read -r f; do
		n=$((n + 1))
		m=$(stat -c %a "$f")
		[ -w "$f" ] || chmod u+w "$f"
		"$gen" "$(stat -c %s "$f")" "$((1000 + n))" >"$f" || die "$f: cannot modify it"
		chmod "$m" "$f"
	done <"$W/modified"
	while IFS= read -r f; do
		rm -f "$f" || die "$f: cannot remove it"
	done <"$W/removed"
	while IFS= read -r f; do
		n=$((n + 1))
		"$gen" "$(stat -c %s "$f")" "$((1000 + n))" text >"$f.new" || die "$f.new: cannot write it"
	done <"$W/added"
	tree2_bytes=$(dsize "$B/tree")
	tar2_bytes=$(tar -cf - -C "$B" tree | wc -c)
	say "changed tree: $(wc -l <"$W/modified") modified, $(wc -l <"$W/removed") removed, $(wc -l <"$W/added") added"

	say "backup of the changed tree"
	for t in $tools; do
		installed $t && backup $t tree $t.changed changed "$B/tree"
	done
	if [ -n "$s3run" ]; then
		say "S3: backup of the changed tree"
		for t in $s3run; do
			mcount=$L/$t.s3proxy.log
			backup $t s3 $t.s3.changed changed "$B/tree"
		done
		s3proxy_stop
	fi

	for t in $tools; do
		installed $t && size $t tree size first again changed
	done

	say "tar stream piped in"
	for t in $tools; do
		installed $t && backup_stdin $t tree $t.tar tree.tar "tar -cf - -C $(q "$B") tree"
	done
	if installed pk; then
		pk-index --json "$(repo tree pk)" >"$W/pk-snapshots.json" 2>>"$L/pk-index.err" ||
			echo pk.index >>"$L/failures"
		pk_chunks=$(grep -o '"new_chunks":[0-9]*' "$W/pk-snapshots.json" |
			awk -F: '{ s += $2 } END { print s + 0 }')
		pk_index_bytes=$(stat -c %s "$(repo tree pk)/chunkindex" 2>/dev/null || echo 0)
	fi
fi

# --- the large files --------------------------------------------------------

if part tree; then
	say "large files: backup and restore"
	for t in $tools; do
		installed $t || continue
		init_repo $t big || { echo failed >"$L/$t.bigbackup.res"; continue; }
		backup $t big $t.bigbackup first "$B/big"
		size $t big bigsize bigbackup
	done
	say "restore floor: tar -x of the large files from a tar file in the page cache"
	restore_floor big floor.bigrestore "$B/big" 3 "$big_bytes"
	for t in $tools; do
		installed $t || continue
		d=$B/restore/big-$t
		mkdir -p "$d"
		mcheck="[ \"\$(fsum $(q "$d"))\" = '3 $big_bytes' ]"
		restore $t big $t.bigrestore first "$d"
		[ $t = pk ] && restore_floor big floor.bigrestore "$B/big" 3 "$big_bytes"
	done
	measure pk.bigcatnull "pk-cat $(q "$(repo big pk)") latest >/dev/null"
	rm -rf "$B"/restore/floor-big.* "$B"/restore/big-* "$W/floor-big.tar"
fi

# --- browsing a mounted repository -----------------------------------------
# Each tool mounts its repository of the tree (the changed tree, the last
# backup) and then of the large files, in the foreground of a background
# process: the time from the mount command to the first listing of the
# latest snapshot, a find that stats every entry over the mounted tree (the
# source tree's is the floor), a cat of the large files to /dev/null, 4 KiB
# random reads in the first 32 MiB of the file of noise (cold: right after
# the mount; warm: other offsets of the same chunks, which the tools' own
# caches hold, not the kernel's), and the mount's peak RSS.

# mount_cmd TOOL SET NAME DIR: the command that mounts TOOL's repository of
# SET on DIR and stays in the foreground (borg: the archive NAME).
mount_cmd() {
	_r=$(q "$(repo $2 $1)")
	case $1 in
	pk) echo "pk-mount -f $_r $(q "$4")" ;;
	restic) echo "restic -r $_r mount $(q "$4")" ;;
	borg) echo "borg mount -f $_r::$3 $(q "$4")" ;;
	esac
}

# mount_root TOOL DIR [ID]: where the / of the latest snapshot, or of the
# snapshot ID (borg: the archive mounted), is in the mount.
mount_root() {
	case $1:${3:-} in
	pk:) echo "$2/latest" ;;
	restic:) echo "$2/snapshots/latest" ;;
	pk:* | restic:*) echo "$2/ids/$3" ;;
	borg:*) echo "$2" ;;
	esac
}

# tree_id TOOL: the id of the last snapshot of the tree in TOOL's repository
# (the last backup there is the tar stream); pk's in full, restic's short.
tree_id() {
	case $1 in
	pk) pk-index --json "$(repo tree pk)" ;;
	restic) restic -r "$(repo tree restic)" snapshots --json ;;
	esac 2>>"$L/$1.mount.err" | python3 -c '
import json, sys
want, key = sys.argv[1:]
ids = [s[key] for s in json.load(sys.stdin) if s["paths"] in ([want], [want.lstrip("/")])]
print(ids[-1] if ids else "")' "$B/tree" "$([ $1 = pk ] && echo id || echo short_id)"
}

# mount_up TOOL SET NAME ID: mounts on $W/mnt, its pid in $mpid, and adds to
# $L/ID.res the seconds until the latest snapshot's root lists (60 at most).
mpid=
mount_up() {
	mkdir -p "$W/mnt"
	_t0=$(date +%s.%N)
	sh -c "exec $(mount_cmd $1 $2 $3 "$W/mnt")" >>"$L/$4.err" 2>&1 &
	mpid=$!
	_i=0
	until [ -n "$(ls -A "$(mount_root $1 "$W/mnt")" 2>/dev/null)" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 6000 ] || ! kill -0 $mpid 2>/dev/null; then
			echo failed >>"$L/$4.res"
			echo "$4" >>"$L/failures"
			say "$4: FAILED (see $L/$4.err)"
			return 1
		fi
		sleep 0.01
	done
	_t1=$(date +%s.%N)
	echo "$(calc "$_t1 - $_t0") 0 0" >>"$L/$4.res"
	say "$4: mounted and listed in $(calc "$_t1 - $_t0") s"
}

# mount_down TOOL ID: the mount's peak RSS into $L/ID.res, then unmounts it.
mount_down() {
	_k=$(awk '/^VmHWM:/ { print $2 }' /proc/$mpid/status 2>/dev/null)
	[ -n "$_k" ] && echo "0 $_k 0" >>"$L/$2.res"
	fusermount3 -u "$W/mnt" 2>>"$L/$2.err" || fusermount -u "$W/mnt" 2>>"$L/$2.err" ||
		kill $mpid
	wait $mpid 2>/dev/null
	mpid=
}

# randreads FILE ID: 4 KiB reads at 2000 random offsets in the first 32 MiB
# of FILE, twice (other offsets the second time): each pass's p50 and p99
# latency into $L/ID.{c,w}{50,99}.res, in seconds.
randreads() {
	python3 - "$1" >"$L/$2.rand" 2>>"$L/$2.err" <<'PY' || { echo failed >"$L/$2.c50.res"; return 0; }
import os, random, sys, time
f = os.open(sys.argv[1], os.O_RDONLY)
span = min(32 << 20, os.fstat(f).st_size) - 4096
for seed in (1, 2):
    rnd, lat = random.Random(seed), []
    for i in range(2000):
        off = rnd.randrange(span)
        t = time.perf_counter()
        if len(os.pread(f, 4096, off)) != 4096:
            sys.exit("short read")
        lat.append(time.perf_counter() - t)
    lat.sort()
    print(lat[len(lat) // 2], lat[len(lat) * 99 // 100])
PY
	sed -n 1p "$L/$2.rand" | awk '{ print $1, 0, 0 }' >>"$L/$2.c50.res"
	sed -n 1p "$L/$2.rand" | awk '{ print $2, 0, 0 }' >>"$L/$2.c99.res"
	sed -n 2p "$L/$2.rand" | awk '{ print $1, 0, 0 }' >>"$L/$2.w50.res"
	sed -n 2p "$L/$2.rand" | awk '{ print $2, 0, 0 }' >>"$L/$2.w99.res"
}

if part mount && ! part tree; then
	say "mount: skipped: it mounts the tree part's repositories, and the tree part is not run"
elif part mount; then
	say "mount: the tree's repositories, mounted"
	tpath=${B#/}/tree bpath=${B#/}/big
	measure floor.mfind "find $(q "$B/tree") -printf '%s\n' >/dev/null"
	for t in $tools; do
		installed $t || continue
		[ $t = casync ] && continue
		_id=
		[ $t = borg ] || _id=$(tree_id $t)
		mount_up $t tree changed $t.mup || { kill $mpid 2>/dev/null; continue; }
		_root=$(mount_root $t "$W/mnt" ${_id:-none})
		mcheck="[ \"\$(find $(q "$_root/$tpath") -type f | wc -l)\" = $(find "$B/tree" -type f | wc -l) ]"
		measure $t.mfind "find $(q "$_root/$tpath") -printf '%s\n' >/dev/null"
		mount_down $t $t.mrss
	done
	for t in $tools; do
		installed $t || continue
		[ $t = casync ] && continue
		mount_up $t big first $t.mbigup || { kill $mpid 2>/dev/null; continue; }
		_root=$(mount_root $t "$W/mnt")
		randreads "$_root/$bpath/random" $t.mrand
		mcheck="cmp $(q "$_root/$bpath/random") $(q "$B/big/random")"
		measure $t.mcat "cat $(q "$_root/$bpath")/* >/dev/null"
		mount_down $t $t.mbigrss
	done
fi

# --- the machine's ceiling for pk -------------------------------------------
# Single-core cost per byte of each piece of work pk's pipeline does.

if part ceiling; then
	say "ceiling: cost of each primitive on one core"
	tq=$(q "$B")
	# The cheap ones run BENCH_RUNS times, alternating, and count by their median.
	i=1
	while [ $i -le "$runs" ]; do
		measure prim.read "tar -cf - -C $tq tree" "wc -c"
		measure prim.zstd "tar -cf - -C $tq tree" "zstd -$level -T1 -c" "wc -c"
		i=$((i + 1))
	done
	tar_bytes=$(cat "$L/prim.read.out" 2>/dev/null)
	tar_bytes=${tar_bytes:-0}
	zstd_bytes=$(cat "$L/prim.zstd.out" 2>/dev/null)
	zstd_bytes=${zstd_bytes:-0}
	# A pipe hop: cat FILE... | cat, less cat FILE... >/dev/null, over at least
	# 1 GiB (64 MiB quick).
	k=$(((quick ? 67108864 : 1073741824) / big + 1))
	files=
	i=0
	while [ $i -lt $k ]; do files="$files big/random"; i=$((i + 1)); done
	hop_bytes=$((k * big))
	i=1
	while [ $i -le "$runs" ]; do
		measure prim.cat0 "cat $files >/dev/null"
		measure prim.cat1 "cat $files" "cat >/dev/null"
		i=$((i + 1))
	done
	# Saved streams go through cat: writing a new file costs more than the pipe
	# the stage writes to in a backup.  The stages that take seconds count by
	# their median too.
	i=1
	while [ $i -le "$runs" ]; do
		measure prim.walk "pk-walk $tq/tree" "cat >$(q "$W/walk.stream")"
		measure prim.chunk "pk-chunk <$(q "$W/walk.stream")" "cat >$(q "$W/chunk.stream")"
		i=$((i + 1))
	done
	stream_bytes=$(($(stat -c %s "$W/chunk.stream" 2>/dev/null || echo 0)))

	# The scaling of each stage: on one core with one thread (its cost per
	# byte), and on two cores with two threads where it takes -j, the same
	# command where it does not (a single-threaded stage); from the saved
	# streams to /dev/null, alternating; pk-store into a new repository each
	# time.
	say "ceiling: each stage on one core and on two"
	# The first two processors this shell may run on, as taskset names them.
	cpus=$(taskset -cp $$ 2>/dev/null | sed 's/.*: *//' | awk -F, '{
		for (i = 1; i <= NF && n < 2; i++) {
			a = $i; b = $i
			if (split($i, r, "-") == 2) { a = r[1]; b = r[2] }
			for (c = a + 0; c <= b + 0 && n < 2; c++) l = l (n++ ? "," : "") c
		}
		print l }')
	cpu1=${cpus%%,*}
	case $cpus in *,*) ns="1 2" ;; *) ns=1 ;; esac
	# pinned N TOOL ARGS: the command line of TOOL ARGS on the first N (1 or
	# 2) of those processors, with -j N where TOOL takes -j.
	pinned() {
		_pc=$cpu1
		[ "$1" = 1 ] || _pc=$cpus
		_pn=$1 _pt=$2 _pj=
		shift 2
		"$_pt" --help 2>&1 | grep -q -e '-j' && _pj=" -j $_pn"
		echo "taskset -c $_pc $_pt$_pj $*"
	}
	i=1
	while [ $i -le "$runs" ]; do
		for n in $(rotate $i $ns); do
			measure cores$n.walk "$(pinned $n pk-walk "$tq/tree" '>/dev/null')"
		done
		for n in $(rotate $i $ns); do
			measure cores$n.chunk "$(pinned $n pk-chunk "<$(q "$W/walk.stream") >/dev/null")"
		done
		for n in $(rotate $i $ns); do
			measure cores$n.dedup "$(pinned $n pk-dedup "<$(q "$W/chunk.stream") >/dev/null")"
		done
		i=$((i + 1))
	done
	i=1
	while [ $i -le "$runs" ]; do
		for l in 0 $level; do
			for n in $(rotate $i $ns); do
				pk-store --init "$W/r$l" >>"$L/pk.init.err" 2>&1
				measure cores$n.store$l "$(pinned $n pk-store "-l $l $(q "$W/r$l") <$(q "$W/chunk.stream")")"
				rm -rf "$W/r$l"
			done
		done
		i=$((i + 1))
	done
	# A pk hop: pk-dedup forwarding the chunk stream from a pipe to a pipe
	# (without -r it drops only the chunks seen earlier in the stream, as
	# into a new repository), its own CPU.
	i=1
	while [ $i -le "$runs" ]; do
		measure hop.dedup "cat $(q "$W/chunk.stream")" "pk-dedup" "cat >/dev/null"
		i=$((i + 1))
	done
	rm -f "$W/walk.stream" "$W/chunk.stream"
	# The model's check: the whole pipeline at the default level, into a new
	# repository each time, on one core and on two, alternating.
	say "ceiling: the pipeline on one core and on two, $runs runs"
	rq=$(q "$W/rp")
	i=1
	while [ $i -le "$runs" ]; do
		for n in $(rotate $i $ns); do
			pk-store --init "$W/rp" >>"$L/pk.init.err" 2>&1
			measure cores$n.pipe "$(pinned $n pk-walk --no-cache "$tq/tree")" \
				"$(pinned $n pk-chunk -r "$rq")" "$(pinned $n pk-dedup -r "$rq")" \
				"$(pinned $n pk-store --no-cache -l $level "$rq")"
			rm -rf "$W/rp"
		done
		i=$((i + 1))
	done
	# Copies per byte: the pipeline once more under strace, which counts the
	# bytes each stage moves through read and write calls (each a copy
	# between the kernel and the stage) and through splice (moved, not
	# copied).  Slowed by the tracing; only the counts are used.
	if command -v strace >/dev/null 2>&1; then
		pk-store --init "$W/rp" >>"$L/pk.init.err" 2>&1
		(cd "$B" && env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -qq -s 0 -o "$W/copies.trace" \
			-e trace=execve,read,write,pread64,pwrite64,readv,writev,splice,vmsplice \
			sh -c "pk-walk --no-cache $tq/tree | pk-chunk -r $rq | pk-dedup -r $rq |
				pk-store --no-cache -l $level $rq >/dev/null") 2>>"$L/copies.err"
		awk '
			/execve\(/ { if (match($0, /execve\("[^"]*"/)) {
				n = split(substr($0, RSTART + 8, RLENGTH - 9), a, "/"); who[$1] = a[n] } next }
			/ = [0-9]+$/ && ($1 in who) {
				k = $2 == "<..." ? $3 : substr($2, 1, index($2, "(") - 1)
				c = k ~ /splice/ ? "moved" : "copied"
				b[who[$1] "\t" c] += $NF }
			END { for (x in b) print x "\t" b[x] }' "$W/copies.trace" >"$W/copies.tab" 2>/dev/null
		rm -rf "$W/rp" "$W/copies.trace"
	fi
	dd_bytes=$((big < 268435456 ? big : 268435456))
	measure prim.write "dd if=big/random of=$(q "$W/dd") bs=1M count=$((dd_bytes / 1048576)) conv=fsync status=none"
	dd_bytes=$(($(stat -c %s "$W/dd" 2>/dev/null || echo 0)))
	rm -f "$W/dd"
	# openssl speed: thousands of bytes per second, on 1 MiB buffers.
	speed() {
		openssl speed -seconds "$((quick ? 1 : 3))" -bytes 1048576 -evp "$1" 2>/dev/null |
			tail -n 1 | awk '{ v = $NF; sub(/k$/, "", v); if (v + 0 > 0) print v * 1000 }'
	}
	sha_rate=$(speed sha256)
	aead_rate=$(speed chacha20-poly1305)
fi

# --- scale ------------------------------------------------------------------

if part scale; then
	say "scale: $((scale / 1048576)) MiB, 4x and 16x, generated data piped in"
	for m in 1 4 16; do
		for t in $(rotate $m $tools); do
			installed $t || continue
			[ $t = casync ] && continue
			rm -rf "$(repo scale $t)"
			init_repo $t scale || { echo failed >"$L/$t.scale$m.res"; continue; }
			backup_stdin $t scale $t.scale$m data "@$(q "$gen") $((m * scale)) $((50 + m))"
			if [ $t = pk ]; then
				c=$(pk-index --json "$(repo scale pk)" 2>>"$L/pk-index.err" |
					grep -o '"new_chunks":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }')
				echo "$c $(stat -c %s "$(repo scale pk)/chunkindex" 2>/dev/null || echo 0)" \
					>"$L/pk.scale$m.index"
			fi
			rm -rf "$(repo scale $t)"
		done
	done
fi

# --- many small files -------------------------------------------------------
# The daily re-backup of a tree of many small files where little changed:
# 200,000 files (20,000 quick) of 0 to 16 KiB, 16384 * u^3 bytes with u
# uniform (median 2 KiB, mean 4 KiB), 250 to a directory, and three large
# files.  Each tool backs it up once, then again unchanged, then after 1% of
# the small files were rewritten in place; pk also re-reads the unchanged
# tree without its stat cache.  The floor is find printing what a stat cache
# compares.  restic and borg take up to half a minute per run on 200,000
# files: the peers run each re-backup once, which keeps this part within
# about 5 minutes on 2 cores.

if [ $quick = 1 ]; then
	sm_n=20000
	sm_big=$(bytes_of 5M)
else
	sm_n=200000
	sm_big=$(bytes_of 50M)
fi
S=$B/small

# sm_write LIST SEED: writes each file "SIZE PATH" of LIST (PATH under $S)
# with SIZE bytes of a 4 MiB pool of tests/gen text of that SEED, from an
# offset drawn by a Park-Miller generator of that SEED: one process for all
# the files.
sm_write() {
	"$gen" 4194304 "$2" text | awk -v x="$2" -v dir="$S" '
		BEGIN {
			RS = "\001"
			getline pool <"/dev/stdin"
			RS = "\n"
			p = length(pool) - 16384
		}
		{
			x = x * 16807 % 2147483647
			f = dir "/" $2
			printf "%s", substr(pool, 1 + x % p, $1) >f
			close(f)
		}' "$1"
}

if part small; then
	say "many small files: $sm_n files of 0 to 16 KiB and three of $((sm_big / 1048576)) MiB"
	# "SIZE PATH" of each small file, in name order.
	awk -v n=$sm_n 'BEGIN {
		x = 20240601
		for (i = 0; i < n; i++) {
			x = x * 16807 % 2147483647
			u = x / 2147483647
			d = int(i / 250)
			printf "%d d%02d/d%02d/f%03d\n", 16384 * u * u * u, d / 25, d % 25, i % 250
		}
	}' >"$W/small.list"
	mkdir "$S" "$S/large" || die "$S: cannot create it"
	awk '{ sub(/\/[^\/]*$/, "", $2); print $2 }' "$W/small.list" | uniq |
		(cd "$S" && xargs mkdir -p) || die "$S: cannot create its directories"
	sm_write "$W/small.list" 7 || die "$S: cannot write the small files"
	"$gen" "$sm_big" 11 text >"$S/large/text-1" &&
		"$gen" "$sm_big" 12 text >"$S/large/text-2" &&
		"$gen" "$sm_big" 13 >"$S/large/random" || die "$S: cannot write the large files"
	set -- $(fsum "$S")
	sm_files=$1
	sm_bytes=$2
	sm_small_bytes=$(awk '{ s += $1 } END { print s + 0 }' "$W/small.list")
	say "small files: $sm_files files, $((sm_bytes / 1000000)) MB"
	# pk's stat cache, like borg's files cache, leaves out files changed in the
	# second before a backup starts: the changes are older than that, as they
	# would be in a daily backup.  The files, just written, are in the page
	# cache; one find warms the inodes.
	sleep 2
	find "$S" -printf '%s %T@\n' >/dev/null

	for t in $tools; do
		installed $t && init_repo $t small
	done
	say "many small files: first backup"
	for t in $tools; do
		installed $t && backup $t small $t.small.first first "$S"
	done

	say "many small files: re-backup of the unchanged tree, $runs runs (restic, borg, casync: 1)"
	sm_r=$(q "$(repo small pk)")
	i=1
	while [ $i -le "$runs" ]; do
		measure floor.small "find $(q "$S") -printf '%s %T@\n' >/dev/null"
		for t in $(rotate $i $tools); do
			installed $t || continue
			[ $t = pk ] || [ $i = 1 ] || continue
			backup $t small $t.small.again again-$i "$S"
		done
		measure pk.small.nocache "pk-walk --no-cache $(q "$S")" "pk-chunk -r $sm_r" \
			"pk-dedup" "pk-store --no-cache $sm_r"
		i=$((i + 1))
	done

	say "many small files: backup after 1% of the small files changed, $runs runs (restic, borg, casync: 1)"
	i=1
	while [ $i -le "$runs" ]; do
		# Another 1% in each run, rewritten in place with new content of the
		# same size.
		awk -v k=$((i % 100)) 'NR % 100 == k' "$W/small.list" >"$W/small.changed"
		sm_write "$W/small.changed" $((100 + i)) || die "$S: cannot change the small files"
		sleep 2
		for t in $(rotate $i $tools); do
			installed $t || continue
			[ $t = pk ] || [ $i = 1 ] || continue
			backup $t small $t.small.changed changed-$i "$S"
		done
		i=$((i + 1))
	done
	sm_changed=$(wc -l <"$W/small.changed")
fi

# --- lifecycle: forgetting and garbage collection ---------------------------
# A month of daily backups of a tree that changes about 2% a day, then a
# retention policy, --keep-daily 7 --keep-weekly 4: pk forgets with
# pk-forget and collects with pk-gc --grace 0, restic forgets the same
# snapshots with forget --prune.  The tree: 4000 files (500 quick) of 4 to
# 244 KiB, 4096 + 245760 * u^2 bytes with u uniform (mean 84 KiB), 50 to a
# directory, each from tests/gen with a seed of its own, text but every
# fourth noise.  Day 1 backs up the tree as made; before each of days 2 to
# 30, files drawn by a Park-Miller generator seeded with the day are
# rewritten in place with new content of the same size until 1.5% of the
# bytes are new, removed until 0.25% are gone, and added (sizes drawn as
# above) until 0.25% more are there.  pk-store cannot date a snapshot back,
# so the policy is applied here, as restic applies it, with snapshot d taken
# on 2026-01-01 + d days, and both tools forget the other snapshots by id.
# Each day is backed up into pk's and restic's repositories, into two more of
# pk's with smaller chunks (about 4 and 16 times as many), where pk-gc's
# memory is measured, and, on the days the policy keeps, into a fresh
# repository of each tool, the size a collection should come near.  The
# forgetting and the collection run BENCH_RUNS times, each on a copy of the
# repositories and caches as they were after day 30.

if [ $quick = 1 ]; then
	lc_n=500
else
	lc_n=4000
fi
lc_days=30
H=$B/history
lc_tools=
for t in $tools; do
	case $t in pk | restic) lc_tools="$lc_tools $t" ;; esac
done

# lc_write LIST: writes each file "SIZE PATH SEED KIND" of LIST (PATH under
# $H) with SIZE bytes of tests/gen of that SEED, text or noise.
lc_write() {
	while read -r _s _p _x _k; do
		case $_k in
		text) "$gen" "$_s" "$_x" text ;;
		*) "$gen" "$_s" "$_x" ;;
		esac >"$H/$_p" || return 1
	done <"$1"
}

# lc_day DAY: draws the changes before DAY from $W/lc.list, "SIZE PATH SEED
# KIND" of each file of the tree: the files to write in $W/lc.write, those
# to remove in $W/lc.remove, the tree after in $W/lc.list.new, and "DAY
# REWRITTEN BYTES REMOVED BYTES ADDED BYTES" appended to $W/lc.changes.
lc_day() {
	: >"$W/lc.write"
	: >"$W/lc.remove"
	awk -v day="$1" -v wr="$W/lc.write" -v rm="$W/lc.remove" -v nl="$W/lc.list.new" \
		-v ch="$W/lc.changes" '
		function draw() {
			x = x * 16807 % 2147483647
			return x / 2147483647
		}
		{ s[NR] = $1; p[NR] = $2; seed[NR] = $3; k[NR] = $4; total += $1 }
		END {
			n = NR
			x = 1000003 * day % 2147483647
			while (rb < total * 0.015) {
				i = 1 + int(draw() * n)
				if (i in used) continue
				used[i] = 1
				seed[i] = 7000000 + 10000 * day + nr++
				rb += s[i]
				print s[i], p[i], seed[i], k[i] >wr
			}
			while (db < total * 0.0025) {
				i = 1 + int(draw() * n)
				if (i in used) continue
				used[i] = gone[i] = 1
				nd++
				db += s[i]
				print p[i] >rm
			}
			while (ab < total * 0.0025) {
				u = draw()
				z = 4096 + int(245760 * u * u)
				d = p[1 + int(draw() * n)]
				sub(/\/[^\/]*$/, "", d)
				na++
				add[na] = sprintf("%d %s/n%02d-%03d %d %s", z, d, day, na,
					7000000 + 10000 * day + 5000 + na, na % 4 ? "text" : "noise")
				ab += z
				print add[na] >wr
			}
			for (i = 1; i <= n; i++)
				if (!(i in gone))
					print s[i], p[i], seed[i], k[i] >nl
			for (i = 1; i <= na; i++)
				print add[i] >nl
			print day, nr, rb, nd, db, na, ab >>ch
		}' "$W/lc.list"
}

# lc_avg TIMES: the average chunk size, a power of two, that cuts the tree
# into about TIMES as many chunks as pk's defaults do, with the minimum and
# maximum in the defaults' proportions (avg/2, avg*8).  The count is drawn
# as the chunker cuts: a file no longer than the minimum is one chunk; past
# the minimum a cut comes at each byte with probability 1/(4 avg), past the
# average with 4/avg, at the maximum for sure.
lc_avg() {
	awk -v t="$1" '
		function draw() {
			x = x * 16807 % 2147483647
			return x / 2147483647
		}
		function est(a,  lo, hi, ps, pl, q, i, r, c, l, u) {
			lo = a / 2; hi = a * 8; ps = 1 / (4 * a); pl = 4 / a
			q = 1 - exp(-(a - lo) * ps)
			x = 20260102
			for (i = 1; i <= NR; i++) {
				for (r = s[i]; r > 0; r -= l) {
					c++
					if (r <= lo) break
					u = draw()
					if (u < q) l = lo - log(1 - u) / ps
					else l = a - log(1 - draw()) / pl
					if (l > hi) l = hi
				}
			}
			return c
		}
		{ s[NR] = $1 }
		END {
			b = est(1048576)
			for (a = 1048576; a >= 256; a /= 2) {
				e = est(a) / b
				d = log(e / t)
				if (d < 0) d = -d
				if (best == "" || d < bd) { best = a; bd = d }
				if (e > 2 * t) break
			}
			print best
		}' "$W/lc.list"
}

# lc_backup TOOL SET DAY: backs the history up into SET's repository of
# TOOL, and appends "DAY ID" to $W/lc.SET.TOOL.ids.  Day 1 counts as
# TOOL.SET.first, the others as TOOL.SET.daily.
lc_backup() {
	_r=$(q "$(repo $2 $1)")
	_id=$1.$2.daily
	[ "$3" = 1 ] && _id=$1.$2.first
	case $1 in
	pk) measure $_id "pk-walk -r $_r $(q "$H")" "pk-chunk -r $_r" "pk-dedup -r $_r" "pk-store $_r"
		_s=$(tail -n 1 "$L/$_id.out") ;;
	restic) measure $_id "restic -r $_r backup -q --json $(q "$H")"
		_s=$(sed -n 's/.*"snapshot_id":"\([0-9a-f]*\)".*/\1/p' "$L/$_id.out" | tail -n 1) ;;
	esac
	[ "$(tail -n 1 "$L/$_id.res")" != failed ] && [ -n "$_s" ] && echo "$3 $_s" >>"$W/lc.$2.$1.ids"
}

# lc_forgotten SET TOOL: the ids of SET's snapshots of TOOL that the policy
# does not keep, on one line.
lc_forgotten() {
	awk 'NR == FNR { keep[$1] = $2; next } keep[$1] == 0 { printf " %s", $2 }' \
		"$W/lc.keep" "$W/lc.$1.$2.ids"
}

# lc_chunks SET: the chunks stored in SET's repository of pk.
lc_chunks() {
	pk-index --json "$(repo $1 pk)" 2>>"$L/pk-index.err" |
		grep -o '"new_chunks":[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }'
}

# lc_reset SET: puts back SET's repositories and the caches of this part as
# they were after the last day, warm in the page cache.
lc_reset() {
	rm -rf "$B/repo/$1" "$lc_home" &&
		cp -a "$W/lc.orig/repo/$1" "$B/repo/$1" && cp -a "$W/lc.orig/home" "$lc_home" ||
		die "$B/repo/$1: cannot put the repositories back"
	warm "$B/repo/$1" "$lc_home"
}

# lc_forget SET ID: pk-forget of the snapshots the policy does not keep
# from SET's repository of pk, measured as ID.
lc_forget() {
	measure $2 "pk-forget $(q "$(repo $1 pk)")$(lc_forgotten $1 pk)"
}

# lc_check SET TOOL: checks SET's repository of TOOL, every blob read, and
# that it holds the snapshots the policy keeps, no other.
lc_check() {
	_r=$(q "$(repo $1 $2)")
	case $2 in
	pk) echo "pk-index --check=data $_r >/dev/null && [ \"\$(pk-index --json $_r | grep -o '\"id\":' | wc -l)\" = $lc_kept ]" ;;
	restic) echo "restic -r $_r check -q --read-data && [ \"\$(restic -r $_r snapshots --json | grep -o '\"id\":' | wc -l)\" = $lc_kept ]" ;;
	esac
}

if part lifecycle; then
	say "lifecycle: a tree of $lc_n files, $lc_days daily backups with about 2% changed each day"
	# The snapshots the policy keeps: newest first, each rule keeps one
	# whose day (ISO week) differs from the last it kept, while its count
	# lasts.
	d=1
	while [ $d -le $lc_days ]; do
		echo "$d $(date -u -d "2026-01-01 + $d days" '+%F %G-%V')"
		d=$((d + 1))
	done | sort -k1,1nr | awk '{
		k = 0
		if ($2 != ld && nd < 7) { k = 1; ld = $2; nd++ }
		if ($3 != lw && nw < 4) { k = 1; lw = $3; nw++ }
		print $1, k
	}' | sort -n >"$W/lc.keep"
	lc_kept=$(awk '$2 { n++ } END { print n + 0 }' "$W/lc.keep")
	lc_keptdays=$(awk '$2 { printf "%s%s", (n++ ? ", " : ""), $1 }' "$W/lc.keep")
	say "lifecycle: the policy keeps days $lc_keptdays"
	# The tree of day 1, in name order.
	awk -v n=$lc_n 'BEGIN {
		x = 20260101
		for (i = 0; i < n; i++) {
			x = x * 16807 % 2147483647
			u = x / 2147483647
			printf "%d d%02d/f%04d %d %s\n", 4096 + int(245760 * u * u), i / 50, i,
				5000000 + i, i % 4 ? "text" : "noise"
		}
	}' >"$W/lc.list"
	mkdir "$H" || die "$H: cannot create it"
	awk '{ sub(/\/[^\/]*$/, "", $2); print $2 }' "$W/lc.list" | uniq |
		(cd "$H" && xargs mkdir -p) || die "$H: cannot create its directories"
	lc_write "$W/lc.list" || die "$H: cannot write the files"
	set -- $(fsum "$H")
	lc_files=$1
	lc_bytes=$2
	say "lifecycle: tree: $lc_files files, $((lc_bytes / 1000000)) MB"
	lc_avg4=$(lc_avg 4)
	lc_avg16=$(lc_avg 16)
	# The tools' caches of this part, copied with the repositories.
	lc_home=$B/home/lc
	mkdir -p "$lc_home"
	XDG_CACHE_HOME=$lc_home/cache
	RESTIC_CACHE_DIR=$lc_home/restic
	: >"$W/lc.changes"
	for s in lc lcfresh; do
		for t in $lc_tools; do
			installed $t && init_repo $t $s
		done
	done
	for m in 4 16; do
		eval a=\$lc_avg$m
		mkdir -p "$(dirname "$(repo lc$m pk)")"
		pk-store --init --min $((a / 2)) --avg $a --max $((a * 8)) "$(repo lc$m pk)" \
			>>"$L/pk.init.err" 2>&1 || echo pk.init >>"$L/failures"
	done
	d=1
	while [ $d -le $lc_days ]; do
		if [ $d -gt 1 ]; then
			lc_day $d
			(cd "$H" && xargs rm -f <"$W/lc.remove") &&
				lc_write "$W/lc.write" && mv "$W/lc.list.new" "$W/lc.list" ||
				die "$H: cannot change the tree"
		fi
		for t in $(rotate $d $lc_tools); do
			installed $t && lc_backup $t lc $d
		done
		lc_backup pk lc4 $d
		lc_backup pk lc16 $d
		if [ "$(awk -v d=$d '$1 == d { print $2 }' "$W/lc.keep")" = 1 ]; then
			for t in $lc_tools; do
				installed $t && lc_backup $t lcfresh $d
			done
		fi
		d=$((d + 1))
	done
	lc_changed=$(awk '{ n++; b += $3 + $5 + $7 } END { printf "%.2f", n ? 100 * b / n / t : 0 }' \
		t="$lc_bytes" "$W/lc.changes")
	say "lifecycle: $((lc_days - 1)) days changed, $lc_changed% of the bytes a day on average"
	for s in lc lc4 lc16; do
		lc_chunks $s >"$L/pk.$s.chunks"
	done
	# The repositories and caches after day 30, which each run starts from,
	# and the key of each pk repository, for pk-gc --key-file.
	mkdir -p "$W/lc.orig/repo" || die "$W/lc.orig: cannot create it"
	for s in lc lc4 lc16; do
		cp -a "$B/repo/$s" "$W/lc.orig/repo/$s" || die "$W/lc.orig: cannot copy the repositories"
		pk-index --export-key "$W/lc.$s.key" "$(repo $s pk)" >>"$L/pk.lckey.err" 2>&1 ||
			echo pk.lckey >>"$L/failures"
	done
	cp -a "$lc_home" "$W/lc.orig/home" || die "$W/lc.orig: cannot copy the caches"
	for t in $lc_tools; do
		installed $t || continue
		du -s -B1 "$(repo lc $t)" | cut -f1 >"$L/$t.lc.before.res"
		du -s -B1 "$(repo lcfresh $t)" | cut -f1 >"$L/$t.lc.fresh.res"
		n=$(wc -l <"$W/lc.lc.$t.ids")
		if [ "$n" != $lc_days ]; then
			say "lifecycle: $t: $n snapshots out of $lc_days, nothing to compare"
			echo failed >"$L/$t.lc.all.res"
			echo "$t.lc.all" >>"$L/failures"
			echo "only $n snapshots out of $lc_days were made" >>"$L/$t.lc.all.err"
		fi
	done
	say "lifecycle: forget $((lc_days - lc_kept)) snapshots and collect, $runs runs"
	i=1
	while [ $i -le "$runs" ]; do
		lc_reset lc
		for t in $(rotate $i $lc_tools); do
			installed $t || continue
			grep -q failed "$L/$t.lc.all.res" 2>/dev/null && continue
			_r=$(q "$(repo lc $t)")
			case $t in
			pk)
				lc_forget lc pk.lc.forget
				mcheck=$(lc_check lc pk)
				measure pk.lc.gc "pk-gc --grace 0 $_r"
				# The two as one: the sum of the times, the larger RSS.
				{ tail -n 1 "$L/pk.lc.forget.res"; tail -n 1 "$L/pk.lc.gc.res"; } |
					awk '$1 == "failed" { f = 1 } { w += $1; if ($2 > r) r = $2; c += $3 }
						END { if (f) print "failed"; else printf "%.3f %d %.2f\n", w, r, c }' \
					>>"$L/pk.lc.all.res"
				;;
			restic)
				mcheck=$(lc_check lc restic)
				measure restic.lc.all "restic -r $_r forget -q --prune$(lc_forgotten lc restic)"
				;;
			esac
		done
		i=$((i + 1))
	done
	for t in $lc_tools; do
		installed $t || continue
		case $(tail -n 1 "$L/$t.lc.all.res" 2>/dev/null) in
		'' | failed) echo failed >"$L/$t.lc.after.res" ;;
		*) du -s -B1 "$(repo lc $t)" | cut -f1 >"$L/$t.lc.after.res" ;;
		esac
	done
	# pk-gc with the passphrase spends 32 MiB on Argon2id; with a key file,
	# its peak RSS is what the collection itself takes.
	say "lifecycle: pk-gc with a key file, and with about 4x and 16x the chunks (average $lc_avg4 and $lc_avg16 bytes)"
	for s in lc lc4 lc16; do
		if [ $s != lc ]; then
			lc_reset $s
			lc_forget $s pk.$s.forget
			mcheck=$(lc_check $s pk)
			measure pk.$s.gc "pk-gc --grace 0 $(q "$(repo $s pk)")"
		fi
		lc_reset $s
		lc_forget $s pk.$s.forgetkey
		mcheck=$(lc_check $s pk)
		measure pk.$s.gckey "pk-gc --grace 0 --key-file $(q "$W/lc.$s.key") $(q "$(repo $s pk)")"
	done
	rm -rf "$W/lc.orig"
	XDG_CACHE_HOME=$B/home/.cache
	RESTIC_CACHE_DIR=$B/home/.cache/restic
fi

# --- the report -------------------------------------------------------------

# stat_of ID FIELD: the median of FIELD (1 wall, 2 RSS KiB, 3 CPU) over the
# runs of ID; 'failed' if any run failed; 'n/a' if it never ran.
stat_of() {
	[ -s "$L/$1.res" ] || { echo n/a; return; }
	grep -q failed "$L/$1.res" && { echo failed; return; }
	awk -v f="$2" '{ print $f }' "$L/$1.res" | sort -g |
		awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# value TOOL CASE KIND [BYTES]: one cell's number, or n/a, or failed.
#   rate: BYTES / wall in MB/s; s: wall seconds; ms: wall milliseconds;
#   us: wall microseconds;
#   msnet: the same less the harness's own (a true timed the same way);
#   rss: peak RSS in MB; cpu: CPU seconds; size: stored bytes in MB;
#   req, sent, recv: the requests, the bytes of their bodies sent and
#   received (the S3 cases).
value() {
	installed $1 || { echo n/a; return; }
	case $3 in
	rate) v=$(stat_of $1.$2 1) ;;
	s | ms | us | msnet) v=$(stat_of $1.$2 1) ;;
	rss) v=$(stat_of $1.$2 2) ;;
	cpu) v=$(stat_of $1.$2 3) ;;
	size) v=$(cat "$L/$1.$2.res" 2>/dev/null || echo failed) ;;
	req) v=$(stat_of $1.$2 4) ;;
	sent) v=$(stat_of $1.$2 5) ;;
	recv) v=$(stat_of $1.$2 6) ;;
	esac
	case $v in n/a | failed) echo $v; return ;; esac
	case $3 in
	rate) calc "$v > 0 ? $4 / 1e6 / $v : 0" ;;
	s | cpu | req | sent | recv) echo "$v" ;;
	ms) calc "$v * 1000" ;;
	us) calc "$v * 1e6" ;;
	msnet) h=$(stat_of harness.one 1)
		case $h in n/a | failed) h=0 ;; esac
		calc "($v - $h) * 1000" ;;
	rss) calc "$v * 1024 / 1e6" ;;
	size) calc "$v / 1e6" ;;
	esac
}

# fmt VALUE UNIT: VALUE to three figures and UNIT; UNIT requests: as a
# count; UNIT bytes: in B, kB, MB or GB.
fmt() {
	case $1 in
	n/a | failed) echo "$1" ;;
	*) awk -v v="$1" -v u="$2" 'BEGIN {
		if (u == "bytes") {
			u = "B"
			if (v >= 1e9) { v /= 1e9; u = "GB" }
			else if (v >= 1e6) { v /= 1e6; u = "MB" }
			else if (v >= 1e3) { v /= 1e3; u = "kB" }
			else { printf "%.0f B\n", v; exit }
		}
		if (u == "requests") { printf "%g\n", v; exit }
		if (v >= 100) f = "%.0f"; else if (v >= 10) f = "%.1f"; else f = "%.2f"
		printf(f "%s\n", v, u == "" ? "" : " " u) }' ;;
	esac
}

# table_head: the header of a table of rows, a column per tool.
table_head() {
	printf '| measure |'
	for t in $tools; do printf ' %s |' $t; done
	echo ' pk vs peers |'
	printf '| --- |'
	for t in $tools; do printf ' ---: |'; done
	echo ' --- |'
}

# row LABEL CASE KIND UNIT [BYTES]: one table row, with pk's ratio to each
# peer: how many times better pk does (higher rate; lower time, memory, CPU,
# size); below 1 the peer does better.  $pkcase, when set, is pk's case
# instead of CASE.
pkcase=
row() {
	_line="| $1 |"
	_pk=$(value pk ${pkcase:-$2} $3 ${5:-})
	_ratios=
	for _t in $tools; do
		_v=$_pk
		[ $_t = pk ] || _v=$(value $_t $2 $3 ${5:-})
		_line="$_line $(fmt "$_v" "$4") |"
		[ $_t = pk ] && continue
		case $_pk$_v in *n/a* | *failed*) continue ;; esac
		_x=$(awk -v a="$_pk" -v b="$_v" -v k="$3" 'BEGIN {
			if (k == "rate") { n = a; d = b } else { n = b; d = a }
			if (d <= 0 || n <= 0) exit
			x = n / d; printf(x >= 10 ? "%.0fx" : x >= 1 ? "%.1fx" : "%.2fx", x) }')
		[ -n "$_x" ] && _ratios="${_ratios:+$_ratios, }$_x $_t"
	done
	echo "$_line ${_ratios:-—} |"
}

mb() {
	calc "$1 / 1e6" | awk '{ printf "%.0f", $1 }'
}

# cost ID STAGE BYTES: nanoseconds of CPU per byte of that stage of ID (the
# median over its runs; STAGE 0: all stages summed); empty if a run failed.
cost() {
	[ -s "$L/$1.stages.all" ] || return 0
	grep -q failed "$L/$1.stages.all" && return 0
	awk -v s="$2" -v b="$3" '
		$2 == 1 { n++ }
		s == 0 || $2 == s { c[n] += $5 }
		END { if (b > 0) for (i = 1; i <= n; i++) print c[i] * 1e9 / b }' \
		"$L/$1.stages.all" | sort -g |
		awk '{ a[NR] = $1 } END { if (NR) printf "%.3f\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

stamp=$(date +%Y%m%d-%H%M%S)
out=$B/results-$stamp.md
{
	echo "# pk benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	[ $quick = 1 ] && echo "**Quick mode (BENCH_QUICK=1): a small dataset; the figures test the benchmark, not the tools.**" && echo
	[ "$parts" = " $allparts " ] || { echo "**Parts run (BENCH_PARTS): $(echo $parts); the others are left out.**"; echo; }
	if part tree; then
		echo "Data: a copy of$src, $tree_files files, $(mb $tree_bytes) MB of file data;"
		echo "three large files of $(mb $big) MB (two of text from tests/gen, one of noise);"
		echo "the changed tree: $(wc -l <"$W/modified") files modified in place, $(wc -l <"$W/removed") removed, $(wc -l <"$W/added") added"
		echo "($(mb $tree2_bytes) MB); single file: $(mb $one_bytes) MB.  Warm page cache; tools alternate;"
		echo "re-backup and single-file restore are the median of $runs runs; peak RSS is the largest stage of a"
		h=$(stat_of harness.one 1)
		case $h in n/a | failed) ;; *) h=$(fmt "$(calc "$h * 1000")" ms) ;; esac
		echo "pipeline, CPU the user + system seconds of all its stages.  Single-file restores are less the harness's own"
		echo "time, $h (a shell and GNU time running true, the median of $runs runs)."
		echo
		table_head
		row "first backup, tree" first rate MB/s $tree_bytes
		row "  peak RSS" first rss MB
		row "  CPU" first cpu s
		row "re-backup, unchanged tree" again s s
		row "  peak RSS" again rss MB
		row "  CPU" again cpu s
		row "backup of the changed tree" changed s s
		row "  peak RSS" changed rss MB
		row "  CPU" changed cpu s
		row "full restore, tree" restore rate MB/s $tree_bytes
		row "  peak RSS" restore rss MB
		row "  CPU" restore cpu s
		row "single-file restore" one msnet ms
		pkcase=onekey
		row "  pk with a key file" one msnet ms
		pkcase=
		row "  peak RSS" one rss MB
		row "tar stream piped in" tar rate MB/s $tar2_bytes
		row "  peak RSS" tar rss MB
		row "  CPU" tar cpu s
		row "repository after the three backups" size size MB
		row "first backup, large files" bigbackup rate MB/s $big_bytes
		row "  peak RSS" bigbackup rss MB
		row "  CPU" bigbackup cpu s
		row "full restore, large files" bigrestore rate MB/s $big_bytes
		row "repository, large files" bigsize size MB
		echo
		echo "pk vs peers: how many times better pk does (higher MB/s; lower time, memory, CPU, size); below 1x the peer does better."
		echo "n/a: not installed, or no such mode (casync make reads no pipe).  Repository sizes are on disk (du), without the"
		echo "local caches of restic, borg, casync and pk.  Commands: pk-walk -r | pk-chunk -r | pk-dedup -r | pk-store (-j $ncpu, -l $level, the default);"
		echo "restic backup / restore / dump (repository v2, compression auto); borg create / extract, repokey-blake2, lz4;"
		echo "casync make --cache / extract (zstd, no encryption); restore by pk is pk-cat REPO latest | tar -xpf -."
		echo
		# floor_line LABEL ID PKID BYTES CATID: the restore floor ID, its
		# archive, pk's restore PKID in times the floor's wall time, and what
		# sets it: tar's own CPU time in the floor and behind pk-cat, and
		# pk-cat alone (CATID).
		floor_line() {
			_f=$(stat_of $2 1)
			_p=$(value pk $3 s)
			case $_f in
			n/a | failed) _fr=$_f ;;
			*) _fr=$(calc "$_f > 0 ? $4 / 1e6 / $_f : 0") ;;
			esac
			printf '%s (%s; the mean of a run right before pk'"'"'s restore and one right after, %s): %s (%s); ' "$1" \
				"$(cat "$L/$2.from" 2>/dev/null || echo n/a)" \
				"$(awk '{ printf "%s%.2f s", (NR > 1 ? " and " : ""), $1 }' "$L/$2.res" 2>/dev/null)" \
				"$(fmt "$_f" s)" "$(fmt "$_fr" MB/s)"
			case $_f$_p in
			*n/a* | *failed*) echo "pk's full restore: $_p." ;;
			*) awk -v p="$_p" -v f="$_f" 'BEGIN {
				x = f > 0 ? p / f : 0
				printf(x >= 10 ? "pk'"'"'s full restore is %.0fx that.\n" : "pk'"'"'s full restore is %.2fx that.\n", x) }' ;;
			esac
			_ft=$(awk '{ s += $3; n++ } END { if (n) print s / n }' "$L/$2.res" 2>/dev/null)
			_pt=$(awk '$1 == 2 && $2 != "failed" { print $4 }' "$L/pk.$3.stages" 2>/dev/null)
			printf '  tar -x itself took %s of CPU in the floor (mean) and %s behind pk-cat; pk-cat alone, to /dev/null: %s, %s, CPU %s.\n' \
				"$(fmt "${_ft:-n/a}" s)" "$(fmt "${_pt:-n/a}" s)" "$(fmt "$(value pk $5 s)" s)" \
				"$(fmt "$(value pk $5 rate $4)" MB/s)" "$(fmt "$(value pk $5 cpu)" s)"
		}
		floor_line "Restore floor: tar -xpf of the tree from a tar file in the page cache" \
			floor.restore restore $tree_bytes catnull
		floor_line "Restore floor of the large files, the same way" floor.bigrestore bigrestore $big_bytes bigcatnull
		printf 'Single-file restore by pk with a key file of the last file of the catalog (%s, %s bytes), as above: %s.\n' \
			"${lastfile:-n/a}" "$(stat -c %s "/$lastfile" 2>/dev/null || echo n/a)" \
			"$(fmt "$(value pk onelast msnet)" ms)"
		printf 'After their first backups of the tree, the repositories of restic: %s, borg: %s, casync: %s.\n' \
			"$(fmt "$(value restic size1 size)" MB)" \
			"$(fmt "$(value borg size1 size)" MB)" "$(fmt "$(value casync size1 size)" MB)"
		echo
		echo "pk's first backup of the tree at each zstd level (-l; $level is the default, the median above;"
		echo "the others one run each): its rate, and its repository against restic's."
		echo
		echo "| level | first backup | vs restic's rate | repository | vs restic's size |"
		echo "| ---: | ---: | ---: | ---: | ---: |"
		rr=$(value restic first rate $tree_bytes) rs=$(value restic size1 size)
		for l in $(echo $level $curvelevels | tr ' ' '\n' | sort -n); do
			if [ $l = $level ]; then
				lr=$(value pk first rate $tree_bytes) ls=$(value pk size1 size)
			else
				lr=$(value pk firstl$l rate $tree_bytes) ls=$(value pk sizel$l size)
			fi
			printf '| %s | %s | %s | %s | %s |\n' $l "$(fmt "$lr" MB/s)" \
				"$(awk -v a="$lr" -v b="$rr" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "n/a" }')" \
				"$(fmt "$ls" MB)" \
				"$(awk -v a="$ls" -v b="$rs" 'BEGIN { if (a > 0 && b > 0) printf "%.3fx", a / b; else print "n/a" }')"
		done
		echo

		if installed pk && [ -s "$L/pk.first.stages" ]; then
			echo "## pk stage by stage, first backup of the tree"
			echo
			echo "| stage | CPU s | ns/byte | peak RSS MB |"
			echo "| --- | ---: | ---: | ---: |"
			i=1
			for s in pk-walk pk-chunk pk-dedup pk-store; do
				awk -v s=$i -v n=$s -v b=$tree_bytes '$1 == s {
					if ($2 == "failed") print "| " n " | failed | | |"
					else printf "| %s | %.2f | %.2f | %.0f |\n", n, $4, $4 * 1e9 / b, $3 * 1024 / 1e6 }' \
					"$L/pk.first.stages"
				i=$((i + 1))
			done
			echo
		fi
	fi

	if part mount && part tree; then
		echo "## Browsing a mounted repository"
		echo
		echo "pk-mount, restic mount and borg mount (llfuse) of each tool's repository of the tree part: the time from the"
		echo "mount command to the first listing of the latest snapshot; find -printf '%s' (a stat of every entry) over the"
		echo "changed tree in the mount, cold; the mount's peak RSS after it; then of the large files' repository: 4 KiB"
		echo "reads at 2000 random offsets in the first 32 MiB of the file of noise right after mounting (cold), then at"
		echo "2000 others (warm: the same chunks, in the tool's own cache), and a cat of the three files to /dev/null."
		echo "One run each."
		echo
		table_head
		row "mounted, first listing of latest" mup ms ms
		row "find over the mounted tree" mfind s s
		row "  peak RSS of the mount after it" mrss rss MB
		row "4 KiB random read, p50, cold" mrand.c50 us µs
		row "4 KiB random read, p99, cold" mrand.c99 us µs
		row "4 KiB random read, p50, warm" mrand.w50 us µs
		row "4 KiB random read, p99, warm" mrand.w99 us µs
		row "cat of the large files, mounted" mcat rate MB/s $big_bytes
		row "  peak RSS of the mount after it" mbigrss rss MB
		echo
		printf 'The same find over the source tree: %s.  pk-cat of the large files to /dev/null (above): %s.\n' \
			"$(fmt "$(stat_of floor.mfind 1)" s)" "$(fmt "$(value pk bigcatnull rate $big_bytes)" MB/s)"
		echo
	fi

	if part restore; then
		echo "## Restore into a directory"
		echo
		echo "The tree ($tree_files files, $(mb $tree_bytes) MB) restored into a new directory, the median of $runs runs"
		echo "of each, alternating; the repositories and the floor's archive warm in the page cache.  The floor is"
		echo "tar -xpf of pk-cat's archive of the tree from a file in the page cache.  x: the way's wall time over"
		echo "pk-cat -C's (above 1: pk-cat -C is faster)."
		echo
		echo "| restore | wall | files/s | MB/s | CPU | x |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: |"
		rs_pk=$(stat_of pk.rsdir 1)
		for w in pk.rsdir:"pk-cat -C DIR REPO latest" floor.rs:"tar -xpf ARCHIVE (the floor)" \
			pk.rstar:"pk-cat REPO latest \| tar -xpf -" restic.rs:"restic restore latest --target DIR"; do
			id=${w%%:*}
			v=$(stat_of $id 1)
			case $v in
			n/a | failed) echo "| ${w#*:} | $v | | | | |"; continue ;;
			esac
			x=—
			case $rs_pk in n/a | failed) ;; *) [ $id = pk.rsdir ] || x=$(calc "$v / $rs_pk" | awk '{ printf "%.2fx", $1 }') ;; esac
			echo "| ${w#*:} | $(fmt "$v" s) | $(fmt "$(calc "$tree_files / $v")" "") | $(fmt "$(calc "$tree_bytes / 1e6 / $v")" "") | $(fmt "$(stat_of $id 3)" s) | $x |"
		done
		echo
		echo "Goals: pk-cat -C faster than the floor (x above 1) and twice as fast as restic restore (x 2 or more)."
		echo
	fi

	if part ceiling; then
		echo "## The machine's ceiling for pk"
		echo
		echo "Single-core cost per byte of each piece of work, on this data (ns/byte of CPU, and the MB/s one core"
		echo "would reach)."
		echo
		echo "| primitive | how | ns/byte | MB/s on one core |"
		echo "| --- | --- | ---: | ---: |"
		c_read=$(cost prim.read 1 "$tree_bytes")
		c_zstd=$(cost prim.zstd 2 "$tar_bytes")
		c_cat0=$(cost prim.cat0 1 "$hop_bytes")
		c_cat1=$(cost prim.cat1 0 "$hop_bytes")
		c_hop=$(calc "(${c_cat1:-0} - ${c_cat0:-0}) > 0.001 ? ${c_cat1:-0} - ${c_cat0:-0} : 0.001")
		c_walk=$(cost prim.walk 1 "$tree_bytes")
		c_chunk=$(cost prim.chunk 1 "$tree_bytes")
		c_dedup=$(cost cores1.dedup 1 "$tree_bytes")
		c_store0=$(cost cores1.store0 1 "$tree_bytes")
		c_storel=$(cost cores1.store$level 1 "$tree_bytes")
		c_pkhop=$(cost hop.dedup 2 "$stream_bytes")
		c_sha=$([ -n "$sha_rate" ] && calc "1e9 / $sha_rate")
		c_aead=$([ -n "$aead_rate" ] && calc "1e9 / $aead_rate")
		w_wall=$(stat_of prim.write 1)
		ratio=$(calc "${zstd_bytes:-0} > 0 ? $tar_bytes / $zstd_bytes : 1")
		prow() {
			if [ -n "$3" ]; then
				awk -v c="$3" -v a="$1" -v h="$2" 'BEGIN {
					printf("| %s | %s | %.2f | %.0f |\n", a, h, c, c > 0 ? 1000 / c : 0) }'
			else
				echo "| $1 | $2 | failed | |"
			fi
		}
		prow "read" "tar -c of the tree, tar's CPU" "$c_read"
		prow "pipe hop" "cat \| cat, less cat" "$c_hop"
		prow "pk hop (pk-dedup pipe to pipe)" "cat \| pk-dedup \| cat, pk-dedup's CPU per byte of the chunk stream" "$c_pkhop"
		prow "chunking + id hash" "pk-chunk on a saved pk-walk stream" "$c_chunk"
		prow "id hash" "openssl speed -evp sha256, 1 MiB" "$c_sha"
		prow "zstd -$level" "zstd -$level -T1 of a tar of the tree (ratio $(printf %.2f "$ratio"))" "$c_zstd"
		prow "AEAD" "openssl speed -evp chacha20-poly1305, 1 MiB" "$c_aead"
		case $w_wall in
		n/a | failed) echo "| write | dd with fsync | failed | |" ;;
		*) awk -v b=$dd_bytes -v w="$w_wall" 'BEGIN { printf "| write | dd of %d MiB with fsync (wall) | %.2f | %.0f |\n", b / 1048576, w * 1e9 / b, b / 1e6 / w }' ;;
		esac
		prow "pk-walk" "pk-walk of the tree to a pipe" "$c_walk"
		prow "pk-dedup" "pk-dedup of the chunk stream, new repository" "$c_dedup"
		prow "pk-store -l 0 -j 1" "seal (AEAD, MAC), pack, write, index" "$c_store0"
		prow "pk-store -l $level -j 1" "the same with zstd -$level" "$c_storel"
		echo
		# Work that must be done per byte of the tree: read it, chunk and hash
		# it, compress it, seal what compression leaves, and 3 pipe hops.  The
		# stages that run on one thread each: pk-walk (read, a hop), pk-chunk
		# (chunk, hash, a hop) and pk-dedup (a hop); pk-store seals on -j
		# threads.  Writing is bounded by the device, at the compressed size.
		awk -v n=$ncpu -v lv=$level -v rd="${c_read:-0}" -v hop="$c_hop" -v ch="${c_chunk:-0}" \
			-v z="${c_zstd:-0}" -v ae="${c_aead:-0}" -v r="$ratio" \
			-v w="$w_wall" -v wb="$dd_bytes" -v tb="$tree_bytes" \
			-v pkw="$(stat_of pk.first 1)" 'BEGIN {
			sum = rd + 3 * hop + ch + z + ae / r
			cpu = n * 1000 / sum
			st = rd + hop; who = "pk-walk (read + hop)"
			if (ch + hop > st) { st = ch + hop; who = "pk-chunk (chunk + hash + hop)" }
			stage = 1000 / st
			disk = (w + 0 > 0) ? wb / 1e6 / w * r : 0
			best = cpu < stage ? cpu : stage
			lim = cpu < stage ? "all " n " cores busy" : "the slowest single-threaded stage"
			if (disk > 0 && disk < best) { best = disk; lim = "the disk" }
			printf "Work per byte of the tree: read + chunk and hash + zstd -%d + AEAD of the compressed bytes + 3 pipe hops\n", lv
			printf "= %.2f ns/byte: %d cores allow %.0f MB/s; the slowest single-threaded stage, %s, %.2f ns/byte,\n", sum, n, cpu, who, st
			printf "allows %.0f MB/s; the disk (writes of the compressed data, fsync) %.0f MB/s.\n", stage, disk
			printf "**Ceiling: %.0f MB/s**, set by %s.", best, lim
			if (pkw + 0 > 0) {
				printf "  pk, first backup of the tree: %.0f MB/s, %.0f%% of the ceiling.", tb / 1e6 / pkw, 100 * tb / 1e6 / pkw / best
				if (tb / 1e6 / pkw > best)
					printf "  (Above 100%%: the primitives were measured under more load than the backup; see the load average.)"
			}
			printf "\n"
		}'
		# What the stages cost with no compression at all, each measured on
		# its own: no compression level can make a backup faster than this.
		awk -v n=$ncpu -v wk="${c_walk:-0}" -v ch="${c_chunk:-0}" -v dd="${c_dedup:-0}" \
			-v s0="${c_store0:-0}" -v rs="$(value restic first rate $tree_bytes)" 'BEGIN {
			sum = wk + ch + dd + s0
			if (wk + 0 <= 0 || ch + 0 <= 0 || dd + 0 <= 0 || s0 + 0 <= 0) exit
			printf "\nWith no compression (-l 0), pk-walk + pk-chunk + pk-dedup + pk-store cost %.2f ns/byte, measured stage by stage:\n", sum
			printf "%d cores allow at most %.0f MB/s at any level", n, n * 1000 / sum
			if (rs + 0 > 0)
				printf "; three times restic'"'"'s first backup would be %.0f MB/s", 3 * rs
			printf ".\n"
		}'
		echo
		# The scaling table: a line per stage, tab-separated: its name, its
		# threads, its CPU ns/byte on one core, its median wall seconds and
		# peak RSS (KiB) with two threads on two cores, its peak RSS on one,
		# its median wall seconds on one.
		for k in walk chunk dedup store0 store$level; do
			case $k in
			store*) t=pk-store; name="pk-store -l ${k#store}" ;;
			*) t=pk-$k; name=pk-$k ;;
			esac
			j="1 (no -j)"
			$t --help 2>&1 | grep -q -e '-j' && j="-j 1; -j 2"
			c=$(cost cores1.$k 1 "$tree_bytes")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$k" "$name" "$j" "${c:-failed}" \
				"$(stat_of cores2.$k 1)" "$(stat_of cores1.$k 2)" "$(stat_of cores2.$k 2)" \
				"$(stat_of cores1.$k 1)"
		done >"$W/cores.tab"
		echo "Scaling: each stage on one core with one thread (taskset, -j 1 where it takes -j; its CPU per byte, and the"
		echo "MB/s that makes), and on two cores with two threads (-j 2 where it takes -j, else the same command; wall,"
		echo "median of $runs runs), from the saved streams to /dev/null; the speedup of two threads over one (wall against"
		echo "wall, so that waiting for the disk counts alike), and the serial fraction fitted to it; peak RSS with one"
		echo "thread and two (goal: under 64 MiB a stage)."
		echo
		awk -F '\t' -v tb="$tree_bytes" -v lv="$level" -v runs="$runs" \
			-v w1="$(stat_of cores1.pipe 1)" -v w2="$(stat_of cores2.pipe 1)" \
			-v p1="$(cost cores1.pipe 0 "$tree_bytes")" -v p2="$(cost cores2.pipe 0 "$tree_bytes")" '
		function num(v) { return v != "" && v != "n/a" && v != "failed" }
		function mib(k) { return num(k) ? sprintf("%.0f", k / 1024) : k }
		function rate(v) { return v == "failed" ? v : v == "n/a" ? v : sprintf("%.0f MB/s", v) }
		# bound(SET, N): the bound of the model for the stages of SET on N cores;
		# what sets it in lim, the summed CPU per byte in cpu.
		function bound(set, n,    i, k, sum, b, r, who) {
			sum = 0
			for (i = 1; i <= 4; i++) {
				k = stage[set, i]
				if (!(k in c)) return -1
				sum += c[k]
			}
			b = n * 1000 / sum; who = "the cores"
			for (i = 1; i <= 4; i++) {
				k = stage[set, i]
				r = 1000 / c[k] / (f[k] + (1 - f[k]) / n)
				if (r < b) { b = r; who = name[k] }
			}
			lim = who; cpu = sum
			return b
		}
		{
			name[$1] = $2
			if (!num($4) || $4 <= 0) c1 = "failed"
			else { c[$1] = $4; c1 = sprintf("%.2f", $4) }
			r1 = num($4) && $4 > 0 ? 1000 / $4 : "failed"
			r2 = num($5) && $5 > 0 ? tb / 1e6 / $5 : $5
			# The speedup compares wall with wall: a stage that waits
			# for the disk waits on one core as on two.
			if (num(r1) && num(r2) && num($8) && $8 > 0) {
				s = $8 / $5; f[$1] = 2 / s - 1
				if (f[$1] < 0) f[$1] = 0
				if (f[$1] > 1) f[$1] = 1
				sx = sprintf("%.2fx", s); fx = sprintf("%.2f", f[$1])
			} else {
				# Not measured on two cores: taken as serial.
				f[$1] = 1; sx = num(r1) ? r2 : "failed"; fx = sx
			}
			g = num($6) ? $6 : -1
			if (num($7) && $7 > g) g = $7
			g = g < 0 ? "n/a" : g < 65536 ? "met" : "missed"
			row[NR] = sprintf("| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |", $2, $3, c1,
				rate(r1), rate(r2), sx, fx, mib($6), mib($7), g)
			nr = NR
		}
		END {
			print "| stage | threads | ns/byte, 1 core | 1 thread, 1 core | 2 threads, 2 cores | speedup | serial fraction | peak RSS MiB, 1 / 2 | under 64 MiB |"
			print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
			for (i = 1; i <= nr; i++) print row[i]
			print ""
			split("walk chunk dedup store" lv, a, " ")
			for (i = 1; i <= 4; i++) stage["l", i] = a[i]
			split("walk chunk dedup store0", a, " ")
			for (i = 1; i <= 4; i++) stage["0", i] = a[i]
			print "Model: a stage on N cores runs at its one-core rate times Amdahl'"'"'s speedup 1 / (f + (1 - f) / N), with"
			print "its serial fraction f = 2 / s - 1 fitted to its two-thread speedup s (clamped to 0..1); the pipeline'"'"'s bound"
			print "on N cores is the smaller of N cores over the summed CPU per byte of its four stages, and the slowest"
			print "stage'"'"'s rate on N cores (a stage uses at most N).  The stages are measured alone, from a file to /dev/null:"
			print "the bound leaves out the pipes between them, which the check below shows."
			print ""
			print "| cores | bound at -l " lv " | set by | bound at -l 0 | set by |"
			print "| ---: | ---: | --- | ---: | --- |"
			split("1 2 4 8 16 32", ncores, " ")
			for (i = 1; i <= 6; i++) {
				n = ncores[i]
				bl = bound("l", n); ll = lim
				b0 = bound("0", n); l0 = lim
				printf "| %d | %s | %s | %s | %s |\n", n, (bl < 0 ? "failed" : rate(bl)), (bl < 0 ? "" : ll),
					(b0 < 0 ? "failed" : rate(b0)), (b0 < 0 ? "" : l0)
			}
			print ""
			print "The check: the whole pipeline, pk-walk --no-cache | pk-chunk | pk-dedup | pk-store --no-cache -l " lv ","
			print "into a new repository, on one core and on two (taskset on each stage, -j as above), median of " runs " runs;"
			print "its CPU per byte, all stages, against the model'"'"'s sum:"
			print ""
			print "| cores | measured | model'"'"'s bound | measured / bound | CPU ns/byte | model'"'"'s CPU ns/byte |"
			print "| ---: | ---: | ---: | ---: | ---: | ---: |"
			for (n = 1; n <= 2; n++) {
				w = n == 1 ? w1 : w2
				p = n == 1 ? p1 : p2
				m = num(w) && w > 0 ? tb / 1e6 / w : w
				b = bound("l", n)
				printf "| %d | %s | %s | %s | %s | %s |\n", n, rate(m), (b < 0 ? "failed" : rate(b)),
					(num(m) && b > 0 ? sprintf("%.2f", m / b) : "n/a"),
					(num(p) ? sprintf("%.2f", p) : num(w) ? "failed" : w), (b < 0 ? "failed" : sprintf("%.2f", cpu))
			}
		}' "$W/cores.tab"
		echo
		if [ -s "$W/copies.tab" ]; then
			echo "Copies: the bytes each stage passed through read and write calls (each a copy between the kernel and"
			echo "the stage) and through splice (moved between pipes, not copied), per byte of the tree, in one run of the"
			echo "pipeline at -l $level into a new repository.  Not counted: the copies within a stage, one each in pk-chunk"
			echo "(the data into its chunk buffer) and pk-store (a new chunk into its seal job)."
			echo
			echo "| stage | copied, per byte | moved, per byte |"
			echo "| --- | ---: | ---: |"
			awk -F '\t' -v tb="$tree_bytes" '
				{ v[$1 "\t" $2] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
				END {
					split("pk-walk pk-chunk pk-dedup pk-store", st, " ")
					for (i = 1; i <= 4; i++) {
						c = v[st[i] "\tcopied"] + 0; m = v[st[i] "\tmoved"] + 0
						tc += c; tm += m
						printf "| %s | %.2f | %.2f |\n", st[i], c / tb, m / tb
					}
					printf "| all | %.2f | %.2f |\n", tc / tb, tm / tb
				}' "$W/copies.tab"
			echo
		fi
	fi

	if part scale; then
		echo "## Scale: backup of generated noise piped in, at 1x, 4x and 16x"
		echo
		printf '| data |'
		for t in $tools; do [ $t = casync ] || printf ' %s s | %s MB/s | %s RSS MB |' $t $t $t; done
		echo ' pk chunks | pk chunk index bytes/chunk |'
		printf '| ---: |'
		for t in $tools; do [ $t = casync ] || printf ' ---: | ---: | ---: |'; done
		echo ' ---: | ---: |'
		for m in 1 4 16; do
			printf '| %s MB |' "$(mb $((m * scale)))"
			for t in $tools; do
				[ $t = casync ] && continue
				printf ' %s | %s | %s |' "$(fmt "$(value $t scale$m s)" '')" \
					"$(fmt "$(value $t scale$m rate $((m * scale)))" '')" \
					"$(fmt "$(value $t scale$m rss)" '')"
			done
			if [ -s "$L/pk.scale$m.index" ]; then
				awk '{ printf(" %d | %s |\n", $1, $1 > 0 ? sprintf("%.0f", $2 / $1) : "-") }' "$L/pk.scale$m.index"
			else
				echo ' n/a | n/a |'
			fi
		done
		echo
		if installed pk && part tree; then
			per=$(awk -v b="$pk_index_bytes" -v c="$pk_chunks" 'BEGIN { if (c > 0) printf "%.0f", b / c; else printf "-" }')
			echo "pk's chunk index for the tree's repository: $pk_index_bytes bytes for $pk_chunks chunks ($per bytes/chunk)."
			echo
		fi
	fi

	if part small; then
		echo "## Many small files: the daily re-backup"
		echo
		echo "Data: $sm_files files, $(mb $sm_bytes) MB: $sm_n of 0 to 16 KiB (median 2 KiB, $(mb $sm_small_bytes) MB), 250 to a directory,"
		echo "cut from tests/gen text, and three of $(mb $sm_big) MB (two of text, one of noise).  Each tool backs the tree up"
		echo "once, then again unchanged, then after $sm_changed small files (1%) were rewritten in place (same sizes, new times,"
		echo "another 1% in each run), with its file cache (pk: pk-walk -r, the stat cache); pk also re-reads the unchanged"
		echo "tree without it (pk-walk --no-cache | pk-chunk -r | pk-dedup | pk-store --no-cache).  Warm page cache; pk's"
		echo "re-backups are the median of $runs runs, those of restic, borg and casync a single run (to keep this part within"
		echo "about 5 minutes); files/s is the tree's files over the wall time."
		sm_floor=$(stat_of floor.small 1)
		case $sm_floor in
		n/a | failed) sm_floor_rate=$sm_floor ;;
		*) sm_floor_rate=$(calc "$sm_floor > 0 ? $sm_files / $sm_floor : 0") ;;
		esac
		printf '%s\n' "The floor: find -printf '%s %T@\\n' over the tree (what a stat cache compares), median of $runs runs:" \
			"$(fmt "$sm_floor" s), $(fmt "$sm_floor_rate" files/s); x find is a re-backup's wall time over find's."
		echo
		table_head
		# files/s through row's rate: files * 1e6 counted as bytes, in MB/s.
		sm_f=$((sm_files * 1000000))
		row "first backup" small.first s s
		row "  files/s" small.first rate files/s $sm_f
		row "  peak RSS" small.first rss MB
		row "re-backup, unchanged" small.again s s
		row "  files/s" small.again rate files/s $sm_f
		row "  peak RSS" small.again rss MB
		printf '| %s |' "  x find"
		for t in $tools; do
			v=$(value $t small.again s)
			case $v in
			n/a | failed) printf ' %s |' "$v" ;;
			*) case $sm_floor in
				n/a | failed) printf ' %s |' "$sm_floor" ;;
				*) awk -v a="$v" -v f="$sm_floor" 'BEGIN {
					x = f > 0 ? a / f : 0
					printf(x >= 10 ? " %.0fx |" : " %.2fx |", x) }' ;;
				esac ;;
			esac
		done
		echo ' — |'
		row "re-backup, unchanged, no stat cache" small.nocache s s
		row "  files/s" small.nocache rate files/s $sm_f
		row "  peak RSS" small.nocache rss MB
		row "backup after 1% changed" small.changed s s
		row "  files/s" small.changed rate files/s $sm_f
		row "  peak RSS" small.changed rss MB
		echo
		echo "The goal: pk's re-backup of the unchanged tree, the whole pipeline, within 1.5x of find."
		echo "n/a: not installed, or not measured (the re-backup without a file cache is pk's alone)."
		echo
	fi

	if [ -n "$s3why" ] && part tree; then
		echo "S3: not measured: $s3why."
		echo
	elif [ -n "$s3tools" ]; then
		echo "## S3: the tree on an object store"
		echo
		echo "Data: the tree above ($tree_files files, $(mb $tree_bytes) MB), the same changed tree, the same single file."
		echo "pk and restic each in a bucket of its own on the gateway at $S3_ENDPOINT, each through its own"
		echo "tests/s3proxy.py on loopback (no faults), which logs every request: a case's requests are those logged"
		echo "while it ran, its bytes sent and received the bodies of those requests and of their answers (no headers)."
		echo "Re-backup and single-file restore are the median of $runs runs (their requests and bytes too), the other"
		echo "cases one run; single-file restores are less the harness's own time, as above.  The local caches are warm:"
		echo "pk's work directory, restic's cache.  Commands as above: pk-walk -r REPO | pk-chunk -r REPO | pk-dedup -r REPO"
		echo "| pk-store REPO; pk-cat REPO latest | tar -xpf -; pk-cat REPO latest:PATH; restic backup, restore latest --target,"
		echo "dump latest PATH."
		echo
		# goal_rate CASE: pk's rate at least 1.5x restic's.
		goal_rate() {
			_p=$(value pk s3.$1 rate $tree_bytes) _v=$(value restic s3.$1 rate $tree_bytes)
			case $_p$_v in
			*n/a* | *failed*) echo "1.5x restic or more: n/a" ;;
			*) awk -v p="$_p" -v v="$_v" 'BEGIN {
				print "1.5x restic or more: " (v > 0 && p >= 1.5 * v ? "met" : "missed") }' ;;
			esac
		}
		# goal_req CASE N: pk's requests under N.
		goal_req() {
			_p=$(value pk s3.$1 req)
			case $_p in
			n/a | failed) echo "under $2: n/a" ;;
			*) awk -v p="$_p" -v n="$2" 'BEGIN { print "under " n ": " (p < n ? "met" : "missed") }' ;;
			esac
		}
		# s3row LABEL CASE KIND UNIT BYTES GOAL: row, and the goal.
		s3row() {
			echo "$(row "$1" "$2" "$3" "$4" "$5") $6 |"
		}
		_tools=$tools
		tools=$s3tools
		table_head | awk 'NR == 1 { $0 = $0 " goal |" } NR == 2 { $0 = $0 " --- |" } { print }'
		s3row "first backup, tree" s3.first rate MB/s $tree_bytes "$(goal_rate first)"
		s3row "  peak RSS" s3.first rss MB '' ''
		s3row "  requests" s3.first req requests '' ''
		s3row "  sent" s3.first sent bytes '' ''
		s3row "  received" s3.first recv bytes '' ''
		s3row "re-backup, unchanged tree" s3.again s s '' ''
		s3row "  peak RSS" s3.again rss MB '' ''
		s3row "  requests" s3.again req requests '' "$(goal_req again 10)"
		s3row "  sent" s3.again sent bytes '' ''
		s3row "  received" s3.again recv bytes '' ''
		s3row "backup of the changed tree" s3.changed s s '' ''
		s3row "  peak RSS" s3.changed rss MB '' ''
		s3row "  requests" s3.changed req requests '' ''
		s3row "  sent" s3.changed sent bytes '' ''
		s3row "  received" s3.changed recv bytes '' ''
		s3row "full restore, tree" s3.restore rate MB/s $tree_bytes "$(goal_rate restore)"
		s3row "  peak RSS" s3.restore rss MB '' ''
		s3row "  requests" s3.restore req requests '' ''
		s3row "  sent" s3.restore sent bytes '' ''
		s3row "  received" s3.restore recv bytes '' ''
		s3row "single-file restore" s3.one msnet ms '' ''
		s3row "  peak RSS" s3.one rss MB '' ''
		s3row "  requests" s3.one req requests '' "$(goal_req one 5)"
		s3row "  sent" s3.one sent bytes '' ''
		s3row "  received" s3.one recv bytes '' ''
		tools=$_tools
		echo
		echo "The goals: pk's first backup and full restore at least 1.5x restic's rate; an unchanged re-backup in"
		echo "under 10 requests; one file out in under 5 requests, the cache warm.  pk vs peers: as above (requests and"
		echo "bytes: restic's over pk's).  The proxy, in Python, shares the cores with the tool and the gateway."
		echo
	fi

	if part lifecycle; then
		echo "## Lifecycle: forgetting and garbage collection"
		echo
		awk -v n=$((lc_days - 1)) -v t="$lc_bytes" '
			{ r += $2; rb += $3; d += $4; db += $5; a += $6; ab += $7 }
			END {
				if (n < 1) n = 1
				printf "Data: a generated tree of %d files, %.0f MB (tests/gen, 50 to a directory, 4 to 244 KiB,", nf, t / 1e6
				printf " text but every\nfourth file noise), backed up once a day for %d days.  Before each of days 2 to %d,", n + 1, n + 1
				printf " on average %.0f files\n(%.1f MB) were rewritten in place with new content, %.0f removed (%.1f MB)", r / n, rb / n / 1e6, d / n, db / n / 1e6
				printf " and %.0f added (%.1f MB): %.1f%% of the\nbytes a day.", a / n, ab / n / 1e6, 100 * (rb + db + ab) / n / t
			}' nf="$lc_files" "$W/lc.changes"
		echo "  The policy --keep-daily 7 --keep-weekly 4, with snapshot d taken on 2026-01-01 + d"
		echo "days, keeps days $lc_keptdays; both tools forget the other $((lc_days - lc_kept)) by id (pk-store cannot date a"
		echo "snapshot back).  pk: pk-forget REPO ID..., then pk-gc --grace 0 REPO (no backup runs); restic: forget ID..."
		echo "--prune.  Both at their defaults: pk-gc and restic prune repack partly used packs while more than 5% of the"
		echo "repository is unused.  Forgetting and collecting are the median of $runs runs, each on a copy of the"
		echo "repositories and caches as they were after day $lc_days, warm in the page cache, tools alternating; each run"
		echo "is checked after (pk-index --check=data, restic check --read-data, the kept snapshots there).  The daily"
		echo "backup is the median of the $((lc_days - 1)) backups after a change.  The fresh repository holds the kept days only,"
		echo "each backed up into it on its day."
		echo
		_tools=$tools
		tools=$lc_tools
		table_head | awk 'NR == 1 { $0 = $0 " goal |" } NR == 2 { $0 = $0 " --- |" } { print }'
		# The goals: pk's forget and collect 3x restic's or faster,
		# pk-gc's peak RSS under 64 MiB, the collected repository within
		# 1.15x of the fresh one.
		_p=$(value pk lc.all s) _v=$(value restic lc.all s)
		case $_p$_v in
		*n/a* | *failed*) _g="3x restic or faster: n/a" ;;
		*) _g=$(awk -v p="$_p" -v v="$_v" 'BEGIN { print "3x restic or faster: " (p > 0 && v >= 3 * p ? "met" : "missed") }') ;;
		esac
		echo "$(row "forget + collect" lc.all s s) $_g |"
		pkcase=lc.forget
		echo "$(row "  pk-forget" lc.pkonly s s) |"
		pkcase=lc.gc
		echo "$(row "  pk-gc" lc.pkonly s s) |"
		_p=$(stat_of pk.lc.gc 2)
		case $_p in
		n/a | failed) _g="pk-gc under 64 MiB: n/a" ;;
		*) _g=$(awk -v p="$_p" 'BEGIN { print "pk-gc under 64 MiB: " (p < 65536 ? "met" : "missed") }') ;;
		esac
		echo "$(row "  peak RSS (pk: pk-gc)" lc.all rss MB) $_g |"
		pkcase=
		echo "$(row "  CPU" lc.all cpu s) |"
		echo "$(row "daily backup, 2% changed" lc.daily s s) |"
		echo "$(row "  peak RSS" lc.daily rss MB) |"
		echo "$(row "repository, $lc_days snapshots" lc.before size MB) |"
		echo "$(row "repository after collection" lc.after size MB) |"
		echo "$(row "fresh repository, the $lc_kept kept" lc.fresh size MB) |"
		_line="| after collection / fresh |"
		_g=
		for _t in $tools; do
			_a=$(value $_t lc.after size) _f=$(value $_t lc.fresh size)
			case $_a$_f in
			*n/a* | *failed*) _x=n/a ;;
			*) _x=$(awk -v a="$_a" -v f="$_f" 'BEGIN { if (f > 0) printf "%.2fx", a / f; else print "n/a" }') ;;
			esac
			_line="$_line $_x |"
			[ $_t = pk ] && case $_x in
				n/a) _g="within 1.15x: n/a" ;;
				*) _g=$(awk -v x="${_x%x}" 'BEGIN { print "within 1.15x: " (x <= 1.15 ? "met" : "missed") }') ;;
				esac
		done
		echo "$_line — | $_g |"
		tools=$_tools
		echo
		echo "pk-forget and pk-gc: pk's two steps, n/a for restic, which does both in one command.  Peak RSS: pk-gc's"
		echo "for pk, restic's for restic; both unlock the repository with the passphrase, pk with Argon2id (32 MiB),"
		echo "restic with scrypt, which count in it, and pk's includes the files it maps (page cache, shared).  Repository"
		echo "sizes on disk (du), without the local caches."
		echo
		if [ -s "$L/pk.lc.gc.out" ]; then
			echo "What pk-gc printed in the last run:"
			echo
			sed 's/^/    /' "$L/pk.lc.gc.out"
			echo
		fi
		echo "pk-gc's memory as the chunks grow: the same history backed up, day by day, into two more pk repositories"
		echo "with smaller chunks (pk-store --init --avg, --min avg/2 and --max avg*8 as the defaults), the same $((lc_days - lc_kept))"
		echo "snapshots forgotten, then pk-gc --grace 0, once with a key file (--key-file, from pk-index --export-key) and"
		echo "once with the passphrase, which spends 32 MiB on Argon2id to unwrap the key (1x: the runs above, and one"
		echo "with a key file).  Time with the key file."
		echo
		echo "| chunks | average chunk | pk-gc s | peak RSS MB, key file | peak RSS MB, passphrase | goal |"
		echo "| ---: | ---: | ---: | ---: | ---: | --- |"
		_c1=$(cat "$L/pk.lc.chunks" 2>/dev/null || echo 0)
		for m in 1 4 16; do
			case $m in
			1) _s=lc _a=1048576 ;;
			*) _s=lc$m; eval _a=\$lc_avg$m ;;
			esac
			_c=$(cat "$L/pk.$_s.chunks" 2>/dev/null || echo 0)
			_k=$(stat_of pk.$_s.gc 2)
			case $_k in
			n/a | failed) _g="under 64 MiB: n/a" ;;
			*) _g=$(awk -v k="$_k" 'BEGIN { print "under 64 MiB: " (k < 65536 ? "met" : "missed") }') ;;
			esac
			awk -v c="$_c" -v c1="$_c1" -v a="$_a" -v s="$(fmt "$(value pk $_s.gckey s)" '')" \
				-v rk="$(fmt "$(value pk $_s.gckey rss)" '')" -v r="$(fmt "$(value pk $_s.gc rss)" '')" \
				-v g="$_g" 'BEGIN {
				printf "| %d (%s) | %s KiB | %s | %s | %s | %s |\n", c,
					(c1 > 0 ? sprintf("%.1fx", c / c1) : "-"), a / 1024, s, rk, r, g }'
		done
		echo
		# How the peak RSS grows with the chunks, the key file's, where
		# Argon2id does not hide it.
		_r1=$(stat_of pk.lc.gckey 2) _r16=$(stat_of pk.lc16.gckey 2)
		_c16=$(cat "$L/pk.lc16.chunks" 2>/dev/null || echo 0)
		case $_r1$_r16 in
		*n/a* | *failed*) ;;
		*) awk -v a="$_r1" -v b="$_r16" -v c1="$_c1" -v c16="$_c16" 'BEGIN {
			if (c16 <= c1) exit
			printf "From %d to %d chunks, pk-gc'"'"'s peak RSS with a key file went from %.1f to %.1f MB: %.0f bytes more", c1, c16, a * 1024 / 1e6, b * 1024 / 1e6, (b - a) * 1024 / (c16 - c1)
			printf "\nfor each chunk more (flat would be about 0).\n\n" }' ;;
		esac
	fi

	if [ -s "$L/failures" ]; then
		echo "## Failures"
		echo
		sort -u "$L/failures" | while read -r f; do
			echo "- $f: $(grep -v '^+ ' "$L/$f.err" 2>/dev/null | tail -n 2 | tr '\n' ' ' | cut -c1-300)"
		done
		echo
	fi

	echo "## The machine"
	echo
	echo "- cores: $ncpu; CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p)"
	echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); kernel: $(uname -sr)"
	echo "- load average (1, 5, 15 min) at the start: $load0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- file system of $B: $(df -T "$B" | awk 'NR == 2 { print $2 }')"
	for t in $tools; do
		installed $t && echo "- $t: $(version_of $t)"
	done
	echo "- tar: $(tar --version | sed -n 1p); zstd: $(zstd --version 2>&1 | sed -n 1p); openssl: $(openssl version 2>&1)"
	echo "- benchmark time: $(($(date +%s) - started)) s; logs in $L"
} >"$out"
cp "$out" "$B/latest.md"
cat "$out"
say "results in $out and $B/latest.md"
if [ "${BENCH_KEEP:-0}" = 1 ]; then
	rm -rf "$B/restore"
	for t in $s3run; do say "S3: keeping the bucket $s3bucket-$t"; done
else
	say "removing the datasets and repositories (BENCH_KEEP=1 keeps them)"
	for t in $s3run; do
		s3_wipe "$s3bucket-$t" 2>>"$L/s3.wipe.err" ||
			say "S3: cannot remove the bucket $s3bucket-$t (see $L/s3.wipe.err)"
	done
	rm -rf "$B/tree" "$B/big" "$B/small" "$B/history" "$W" "$B/repo" "$B/restore" "$B/home"
fi
