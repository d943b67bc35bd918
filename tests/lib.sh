# lib.sh: shared helpers for the shell tests.  Source it first:
#   . "$PK_TOP/tests/lib.sh"
# Each test gets its own scratch directory ($S), the built tools on PATH,
# a fixed passphrase, and a cache directory inside $S.  Nothing is written
# outside $S.
set -u
: "${PK_TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
T=$(basename "$0" .sh)
S=$PK_TOP/tests/scratch/$T
rm -rf "$S"
mkdir -p "$S"
PATH=$PK_TOP/bin:$PATH
PK_PASSPHRASE="correct horse battery staple"
XDG_CACHE_HOME=$S/cache
HOME=$S/home
mkdir -p "$HOME"
export PATH PK_PASSPHRASE XDG_CACHE_HOME HOME
cd "$S" || exit 1

# ok NAME COMMAND...: runs COMMAND, one result line.
ok() {
	_name=$1; shift
	if ( "$@" ) >"$S/.out" 2>&1; then
		echo "ok - $T: $_name"
	else
		echo "not ok - $T: $_name"
		sed 's/^/#   /' "$S/.out" | tail -n 20
	fi
}

# fails NAME COMMAND...: passes when COMMAND exits non-zero.
fails() {
	_name=$1; shift
	if ( "$@" ) >"$S/.out" 2>&1; then
		echo "not ok - $T: $_name (should have failed)"
		sed 's/^/#   /' "$S/.out" | tail -n 20
	else
		echo "ok - $T: $_name"
	fi
}

# skip NAME REASON
skip() {
	echo "skip - $T: $1 ($2)"
}

# gen_file PATH BYTES SEED: deterministic pseudo-random bytes.
gen_file() {
	"$PK_TOP/tests/gen" "$2" "$3" >"$1"
}

# A pipeline's exit codes: fail when any stage failed.
pipeline_ok() {
	bash -o pipefail -c "$*"
}
