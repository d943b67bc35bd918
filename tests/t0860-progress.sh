#!/bin/sh
# The progress line: pk-store for a backup and pk-cat for a restore draw
# one line on standard error when it is a terminal (a pty made by script(1)
# here), with --progress into a file too, never with --no-progress; the
# other stages draw nothing.  The percentage comes from the TOTAL record
# that pk-walk's scan writes and pk-chunk and pk-dedup pass on; a stream
# without one shows the line without it.  Every run ends with a last line,
# so a short one shows it too.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p t/sub t/skip
gen_file t/f1 3000000 1
gen_file t/sub/f2 1000000 2
printf small >t/small
ln t/f1 t/sub/hard
printf x >t/skip/not
# 6 entries: t, t/f1, t/small, t/sub, t/sub/f2, t/sub/hard; 4000005 bytes
# (the hard link's once); t/skip is excluded.
walk="pk-walk --exclude skip t"
pk-store --init --no-encryption repo >/dev/null

# pty OUT COMMAND: runs COMMAND under a pseudo-terminal, its standard
# output and error, with carriage returns as newlines, in OUT.
pty() {
	_o=$1; shift
	script -qec "$*" /dev/null </dev/null >"$_o.raw" 2>&1
	_st=$?
	tr '\r' '\n' <"$_o.raw" >"$_o"
	return $_st
}

# has FILE PATTERN: a line of FILE matches PATTERN (grep -E).
has() {
	grep -aEq "$2" "$1" && return 0
	echo "no line matches '$2' in:"
	cat -A "$1" | head -n 20
	return 1
}

# hasnt FILE PATTERN: no line of FILE matches PATTERN.
hasnt() {
	grep -aEq "$2" "$1" || return 0
	echo "a line matches '$2' in:"
	cat -A "$1" | head -n 20
	return 1
}

rate='[0-9.]+ (B|KiB|MiB|GiB)/s'
# The last line keeps the spaces that wipe a longer line drawn before it.
full="^pk-store: 100% 6/6 files, 3\\.8/3\\.8 MiB, $rate *\$"

# --- A backup under a terminal.
ok "backup on a terminal" pty b "$walk | pk-chunk | pk-dedup | pk-store repo"
ok "... draws pk-store's line: files, bytes, percent" has b "$full"
ok "... the other stages draw nothing" hasnt b '^pk-(walk|chunk|dedup):'
ok "... and the line is ended before the snapshot id" has b '^[0-9a-f]{64}$'
ok "... in 80 columns" sh -c "awk 'length > 79 { exit 1 }' b"
first=$(grep -aEo '^[0-9a-f]{64}$' b)
ok "a re-backup with -r counts the files not read" pty b2 \
    "pk-walk -r repo --exclude skip t | pk-chunk | pk-dedup -r repo | pk-store repo"
ok "... as done" has b2 "$full"
ok "the TOTAL record passes pk-chunk and pk-dedup" sh -c \
    "$walk | pk-chunk | pk-dedup | od -A n -t x1 -v | tr -d ' \n' |
    grep -q '0a01000010000000060000000000000005093d0000000000'"

# The scan skips what the walk skips: tagged directories' other files.
mkdir -p tg/c tg/d
printf 'Signature: 8a477f597d28d172789f06886806bc55' >tg/c/CACHEDIR.TAG
printf junk >tg/c/junk
printf keep >tg/d/keep
: >tg/d/.nobackup
ok "tagged directories: stored" pipeline_ok "pk-walk --exclude-caches \
    --exclude-if-present .nobackup tg | pk-chunk | pk-store --progress repo >id 2>err"
tr '\r' '\n' <err >err.lines
ok "... the total counts what the walk writes" has err.lines \
    "^pk-store: 100% 5/5 files, 43/43 B, $rate *\$"

# --- Off a terminal, nothing; --progress forces it, into a file.
ok "backup off a terminal" pipeline_ok "$walk | pk-chunk | pk-store repo >id 2>err"
ok "... says nothing on standard error" test ! -s err
ok "backup with --progress" pipeline_ok \
    "$walk | pk-chunk | pk-store --progress repo >id 2>err"
tr '\r' '\n' <err >err.lines
ok "... draws the line into the file" has err.lines "$full"
ok "--no-progress on a terminal" pty nb "$walk | pk-chunk | pk-store --no-progress repo"
ok "... draws nothing" hasnt nb '^pk-'
ok "-v on a terminal" pty v "$walk | pk-chunk | pk-store -v repo"
ok "... logs its summary line" has v '^pk-store: snapshot [0-9a-f]{12}: [0-9]+ files'
ok "... and draws no progress line" hasnt v '%|/s$'

# --- Without a TOTAL record: the line without a percentage.
ok "standard input: stored with --progress" pipeline_ok \
    "cat t/f1 | pk-walk --name f1 - | pk-chunk | pk-store --progress repo >id 2>err"
tr '\r' '\n' <err >err.lines
ok "... the line has files and bytes, no percentage" has err.lines \
    "^pk-store: 1 files, 2\\.9 MiB, $rate *\$"
ok "... and no % at all" hasnt err.lines '%'

# --- Restores.
ok "restore to a pipe on a terminal" pty r "pk-cat repo $first | tar -xf - -C ."
ok "... draws pk-cat's line: files, bytes, percent" has r \
    "^pk-cat: 100% 6/6 files, 3\\.8/3\\.8 MiB, $rate *\$"
rm -rf x && mkdir x
ok "restore of a path on a terminal" pty rp "pk-cat repo $first:t/sub | tar -xf - -C x"
ok "... draws the line without a percentage" has rp \
    "^pk-cat: 3 files, [0-9.]+ (KiB|MiB), $rate *\$"
ok "a file to the terminal itself" pty cat "pk-cat repo $first:t/small"
ok "... is the file's bytes, no line" sh -c '[ "$(cat cat.raw)" = small ]'
ok "restore off a terminal says nothing" sh -c \
    "pk-cat repo $first 2>err >/dev/null && test ! -s err"
ok "restore with --progress into a file" sh -c \
    "pk-cat --progress repo $first 2>err >/dev/null"
tr '\r' '\n' <err >err.lines
ok "... draws the line into it" has err.lines \
    "^pk-cat: 100% 6/6 files, 3\\.8/3\\.8 MiB, $rate *\$"
ok "--no-progress restore on a terminal" pty nr \
    "pk-cat --no-progress repo $first | cat >/dev/null"
ok "... draws nothing" hasnt nr '^pk-'
pk-store --init --no-encryption repo2 >/dev/null
ok "a copy on a terminal" pty cp "pk-cat repo $first --stream | pk-store repo2"
ok "... shows the percentage from pk-cat --stream's TOTAL" has cp "$full"
