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

# The filters never open a repository: they link the code that reads its
# config (pk-chunk -r, the cache paths of -r) and none that opens it, nor
# any of packs, indexes, catalogs or snapshots.
for t in pk-walk pk-chunk pk-dedup; do
	ok "$t links none of the repository's code" sh -c \
	    "! nm '$PK_TOP/bin/$t' | grep -E ' T pk_(repo_open|box|key|catalog|index|pack|snapshot|blob)'"
done

# Only pk-mount links libfuse3: the other tools run where FUSE is not.
ok "pk-mount links libfuse3" sh -c "nm '$PK_TOP/bin/pk-mount' | grep -q ' U fuse_new'"
for t in pk-walk pk-chunk pk-dedup pk-store pk-index pk-cat pk-forget pk-gc pk-key; do
	ok "$t does not link libfuse3" sh -c "! nm '$PK_TOP/bin/$t' | grep -q ' U fuse_'"
done

# The library's floors (Makefile's LIBDIRS) use only those before them.
floors=$(sed -n 's/^LIBDIRS = //p' "$PK_TOP/Makefile")
for f in $floors; do
	above=$(echo $floors | sed "s/.*\<$f\>//")
	ok "lib/$f includes no header of a floor above it" sh -c '
	    f=$1; shift
	    for a in "$@"; do
		for h in "$PK_TOP/lib/$a"/*.h; do
		    if grep -l "#include \"$(basename "$h")\"" "$PK_TOP/lib/$f"/*.[ch]; then
			echo "includes lib/$a/$(basename "$h")"; exit 1
		    fi
		done
	    done' sh "$f" $above
done
