#!/bin/sh
# The manual pages are clean for mandoc and match the programs' options.
. "$PK_TOP/tests/lib.sh"
for page in "$PK_TOP"/man/*.[157]; do
	ok "$(basename "$page")" "$PK_TOP/scripts/lint.sh" "$page"
done

# A test skips only for a fact of the machine, never for a missing command:
# the commands the tests run are in scripts/commands, which scripts/deps.sh
# installs and tests/run.sh puts alone on the PATH.
ok "no test looks for a command to skip without it" sh -c \
    '! grep -n "command -v" "$PK_TOP"/tests/t[1-9]*.sh "$PK_TOP"/tests/lib.sh'
ok "the tests run with the PATH of scripts/commands" sh -c \
    'for c in $(awk "!/^#/ && NF == 2 { print \$1 }" "$PK_TOP/scripts/commands"); do
	p=$(command -v "$c") || exit 1
	case $p in /*) [ "$p" = "$PK_TOP/tests/scratch/path/$c" ] || exit 1 ;; esac
    done; ! command -v gcc'
