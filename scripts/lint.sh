#!/bin/sh
# lint.sh PAGE...: checks the manual pages (make lint).
#
# For every page:
#   - mandoc -Tlint prints nothing at level warning, nor at level style but
#     for messages that depend on which manuals are installed ("referenced
#     manual not found", an outdated mandoc.db);
#   - every ".Xr pk... N" names a page that exists next to it.
# For every section 1 page man/NAME.1 with a program source bin/NAME.c:
#   - every long option of the program's struct option table appears in the
#     page as "Fl -option";
#   - every long option but --help and --version appears in the SYNOPSIS,
#     as "Fl -option", or as its short option when getopt_long takes one;
#   - the SYNOPSIS, as mandoc renders it, is the text of the program's
#     usage message, ignoring case, white space and the word "usage:".
# Prints one line per problem, naming the page; exits 1 if there is any.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
status=0

problem() {
	echo "lint: $1: $2" >&2
	status=1
}

command -v mandoc >/dev/null 2>&1 || {
	echo "lint: mandoc not found (apt-get install mandoc)" >&2
	exit 1
}

# The SYNOPSIS section of an mdoc source, macros as written.
synopsis_src() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /{/^\.Sh /d;p;}' "$1"
}

# The SYNOPSIS as rendered, on one line, lowercase, without blanks.
synopsis_text() {
	mandoc -Tascii "$1" 2>/dev/null | sed 's/.\x08//g' |
	    awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
	    tr 'A-Z' 'a-z' | tr -d ' \t\n'
}

# The usage message of a program source: the string literals from the one
# holding "usage: " to the end of that statement, joined.
usage_text() {
	awk '
	/"usage: / { on = 1 }
	on {
		line = $0
		while (match(line, /"([^"\\]|\\.)*"/)) {
			s = substr(line, RSTART + 1, RLENGTH - 2)
			gsub(/\\n/, " ", s)
			gsub(/\\t/, " ", s)
			gsub(/\\"/, "\"", s)
			gsub(/\\\\/, "\\", s)
			out = out s
			line = substr(line, RSTART + RLENGTH)
		}
		if (line ~ /;/) { on = 0; exit }
	}
	END { print out }' "$1" |
	    sed 's/usage://' | tr 'A-Z' 'a-z' | tr -d ' \t\n'
}

# "name letter" for each entry of the struct option table ("-" when the
# value is not a character).
long_options() {
	sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z0-9-]*\)",[^,]*,[^,]*,[[:space:]]*\([^[:space:]}]*\)[[:space:]]*}.*/\1 \2/p' "$1" |
	    sed "s/ '\\(.\\)'\$/ \\1/; t; s/ .*/ -/"
}

# The getopt_long option string of a program source.
short_options() {
	sed -n 's/.*getopt_long([^,]*,[^,]*,[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
	    head -n 1
}

check_options() {
	page=$1 src=$2 name=${2#"$top"/}
	syn=$(synopsis_src "$page")
	shorts=$(short_options "$src" | tr -d ':')
	long_options "$src" | while read -r opt letter; do
		if ! grep -q "Fl -$opt\\([[:space:]]\\|\$\\)" "$page"; then
			problem "$page" "option --$opt of $name is not documented"
		fi
		case $opt in help|version) continue ;; esac
		if printf '%s\n' "$syn" |
		    grep -q "Fl -$opt\\([[:space:]]\\|\$\\)"; then
			continue
		fi
		if [ "$letter" != "-" ] && case $shorts in *"$letter"*) true ;;
		    *) false ;; esac &&
		    printf '%s\n' "$syn" |
		    grep -q "Fl [A-Za-z0-9]*$letter[A-Za-z0-9]*\\([[:space:]]\\|\$\\)"
		then
			continue
		fi
		problem "$page" "SYNOPSIS does not mention --$opt of $name"
	done
	want=$(usage_text "$src")
	have=$(synopsis_text "$page")
	if [ -z "$want" ]; then
		problem "$page" "no usage message found in $name"
	elif [ "$want" != "$have" ]; then
		problem "$page" "SYNOPSIS differs from the usage message of $name"
		echo "  usage:    $want" >&2
		echo "  SYNOPSIS: $have" >&2
	fi
}

check_xrefs() {
	page=$1
	dir=$(dirname "$page")
	grep -o '^\.Xr pk[a-z0-9-]* [1-9]' "$page" | sort -u |
	while read -r _ name sec; do
		[ -f "$dir/$name.$sec" ] ||
		    problem "$page" "refers to $name($sec), which does not exist"
	done
}

[ $# -gt 0 ] || { echo "usage: lint.sh page..." >&2; exit 2; }

for page in "$@"; do
	if [ ! -f "$page" ]; then
		problem "$page" "missing"
		continue
	fi
	out=$(mandoc -Tlint -W style "$page" 2>&1 |
	    grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
	if [ -n "$out" ]; then
		problem "$page" "mandoc -Tlint:"
		printf '%s\n' "$out" | sed 's/^/  /' >&2
	fi
	check_xrefs "$page"
	case $page in
	*.1)
		src=$top/bin/$(basename "$page" .1).c
		[ -f "$src" ] && check_options "$page" "$src"
		;;
	esac
done 2>&1 | {
	# The checks run in subshells: the messages say whether one failed.
	n=0
	while IFS= read -r line; do
		echo "$line" >&2
		n=$((n + 1))
	done
	[ "$n" -eq 0 ]
}
status=$?
exit $status
