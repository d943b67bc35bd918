#!/bin/sh
# The manual pages are clean for mandoc and match the programs' options.
. "$PK_TOP/tests/lib.sh"
for page in "$PK_TOP"/man/*.[157]; do
	ok "$(basename "$page")" "$PK_TOP/scripts/lint.sh" "$page"
done
