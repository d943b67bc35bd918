#!/bin/sh
# Command lines: every tool answers --help with its usage on standard
# output and exit 0, and a bad command line with one line that says what
# was wrong, then its usage, on standard error, and exit 2, before it
# touches anything.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

# bad REASON COMMAND...: exits 2, "TOOL: REASON" first on stderr, then the
# usage; nothing on stdout.
bad() {
	_why=$1; shift
	status_of 2 "$@" || return 1
	[ ! -s "$S/.so" ] || { echo "stdout:"; cat "$S/.so"; return 1; }
	head -n 1 "$S/.se" | grep -qxF "$1: $_why" &&
	    sed -n 2p "$S/.se" | grep -q "^usage: $1 " ||
	    { echo "stderr:"; cat "$S/.se"; return 1; }
}

# documented PAGE HELP: every option the OPTIONS section of the manual
# page lists is in the help text, so the two cannot drift apart.
documented() {
	sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$1" |
	    sed -n 's/^\.It Fl \([-a-zA-Z]*\).*/-\1/p' | sort -u >"$S/.opts"
	[ -s "$S/.opts" ] || { echo "$1: no options found"; return 1; }
	while read -r o; do
		grep -qe "^  .*$o\b" "$2" || { echo "$2 lacks $o"; return 1; }
	done <"$S/.opts"
}

for t in pk-walk pk-chunk pk-dedup pk-store pk-index pk-cat pk-forget pk-gc pk-key \
    pk-mount; do
	ok "$t --help: usage on stdout, exit 0" sh -c \
	    "$t --help >out && head -n 1 out | grep -q '^usage: $t '"
	ok "$t -h: the same" sh -c "$t -h >out-h && cmp out out-h"
	ok "$t --help: an options section" grep -qx "options:" out
	ok "$t --help: every option of $t(1)" documented "$PK_TOP/man/$t.1" out
	ok "$t --bogus: said, exit 2" bad \
	    "--bogus: unknown option, or its value is missing" $t --bogus
done

ok "pk-walk: no path" bad "no path named (- for standard input)" pk-walk
ok "pk-walk --host empty" bad "--host: empty or longer than 4096 bytes" pk-walk --host '' .
ok "pk-chunk: an operand" bad "x: extra operand (pk-chunk is a filter)" pk-chunk x
ok "pk-chunk: a size too big" status_of 2 pk-chunk --max 5G
ok "... says so" grep -qx "pk-chunk: 5G: not a size below 4G" "$S/.se"
ok "pk-chunk: sizes that break the rule" status_of 2 pk-chunk --min 1M --avg 1M
ok "... quotes the rule" grep -q "^pk-chunk: chunk sizes 1048576, 1048576, 8388608: need 64 <= min < avg < max <= 16M" "$S/.se"
ok "pk-dedup: -r and --known" bad "-r and --known exclude each other" pk-dedup -r r --known k
ok "pk-dedup --host without -r" bad "--host goes with -r only" pk-dedup --host h
ok "pk-store: no repository" bad "no repository named" pk-store
ok "pk-store: two" bad "b: extra operand" pk-store a b
ok "pk-store: --min without --init" bad "--min goes with --init only" pk-store --min 1M r
ok "pk-store: --init with --host" bad "--host does not go with --init" pk-store --init --host h r
ok "pk-store: --init with a key file" bad "--key-file does not go with --init" pk-store --init --key-file k r
ok "pk-store: --cache and --no-cache" bad "--cache and --no-cache exclude each other" pk-store --cache c --no-cache r
ok "pk-store: a level too high" status_of 2 pk-store -l 20 r
ok "pk-mount: no repository" bad "no repository named" pk-mount
ok "pk-mount: no mount point" bad "no mount point named" pk-mount r
ok "pk-mount: three operands" bad "c: extra operand" pk-mount a b c
ok "pk-mount: a cache too small" bad "cache_size=1: not a size from 1M to 1T" pk-mount -o cache_size=1 r m
ok "pk-mount: readahead out of range" bad "readahead=99: not a count of threads from 0 to 64" pk-mount -o ro,readahead=99 r m
ok "pk-index: no repository" bad "no repository named" pk-index
ok "pk-index: --check and --export-known" bad "--check and --export-known exclude each other" pk-index --check --export-known k r
ok "pk-index --check with a snapshot" bad "s: extra operand" pk-index --check r s
ok "pk-index --export-cache without a snapshot" bad "no snapshot named" pk-index --export-cache c r
ok "pk-index --json --check" bad "--json goes with listing, --diff and --find only" pk-index --json --check r
ok "pk-index --check=other" bad "--check=other: only 'data' is known" pk-index --check=other r
ok "pk-cat: no snapshot" bad "no snapshot named" pk-cat r
ok "pk-cat: three operands" bad "c: extra operand" pk-cat a b c
ok "pk-forget: no repository" bad "no repository named" pk-forget
ok "pk-forget: no keep option" bad "no keep option: the policy would remove every snapshot" pk-forget r
ok "pk-forget: ids and a policy" bad "snapshot ids and keep options exclude each other" pk-forget --keep-last 1 r abcd
ok "pk-forget: --tag with ids" bad "--tag goes with keep options only" pk-forget --tag t r abcd
ok "pk-forget: a bad count" bad "--keep-daily x: not a count from 0 to 1000000" pk-forget --keep-daily x r
ok "pk-gc: no repository" bad "no repository named" pk-gc
ok "pk-gc: two" bad "b: extra operand" pk-gc a b
ok "pk-gc: a bad grace" bad "--grace 3x: not a duration (30m, 2h, 1d)" pk-gc --grace 3x r
ok "pk-gc: a bad share" bad "--max-unused 101: not a percentage from 0 to 100" pk-gc --max-unused 101 r
ok "pk-key: no command" bad "no command named (list, add, passwd, remove)" pk-key
ok "pk-key: an unknown command" bad "rotate: not a command (list, add, passwd, remove)" pk-key rotate r
ok "pk-key: no repository" bad "no repository named" pk-key list
ok "pk-key remove: no id" bad "no key id named" pk-key remove r
ok "pk-key list: two" bad "b: extra operand" pk-key list r b
ok "pk-key add --json" bad "--json goes with list only" pk-key add --json r
ok "pk-key list --key-file" bad "--key-file goes with add only (the key file it writes; PK_KEY_FILE opens)" pk-key list --key-file k r
ok "pk-key remove --new-passphrase-file" bad "--new-passphrase-file goes with add and passwd only" pk-key remove --new-passphrase-file p r abcd
ok "pk-key add: a new passphrase and a key file" bad "--new-passphrase-file and --key-file exclude each other" pk-key add --new-passphrase-file p --key-file k r
ok "nothing was created" sh -c '! ls r k c 2>/dev/null'
