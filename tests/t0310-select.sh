#!/bin/sh
# Choosing snapshots with --host, --tag and --path: `latest` is the newest
# snapshot that passes them, in pk-cat and pk-index; pk-index lists only
# those; pk-forget looks only at those; an id names its snapshot whatever
# they say.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

mkdir -p etc/ssh home/u
echo web1-passwd >etc/passwd
echo sshd >etc/ssh/sshd_config
echo notes >home/u/notes

# store PATHS ARGS...: a backup of PATHS (split on spaces) with pk-store
# ARGS.
store() {
	_paths=$1; shift
	pk-walk $_paths | pk-chunk | pk-store "$@" r >>ids 2>>err
}

pk-store --init --no-encryption r
ok "etc from web1" store etc --host web1 -t daily
echo web2-passwd >etc/passwd
ok "etc from web2" store etc --host web2
ok "home and etc from web2, tagged" store "home etc" --host web2 -t weekly
ok "home alone from web1" store home --host web1 -t daily
id_web1=$(sed -n 1p ids)

ok "latest is the newest of all" sh -c \
    'pk-index r latest | grep -q "home/u/notes" && ! pk-index r latest | grep -q passwd'
ok "latest --host web1 --path etc: the first snapshot" sh -c \
    'pk-cat --host web1 --path etc r latest:etc/passwd >out && grep -qx web1-passwd out'
ok "latest --host web2: the newest of web2" sh -c \
    'pk-cat --host web2 r latest:home/u/notes >out && grep -qx notes out'
ok "--path /etc/ is etc" sh -c \
    'pk-cat --path /etc/ --host web1 r latest:etc/passwd | grep -qx web1-passwd'
ok "--path ./etc/./ is etc too, as pk-walk stores it" sh -c \
    'pk-cat --path ./etc/./ --host web1 r latest:etc/passwd | grep -qx web1-passwd'
ok "--path twice: snapshots holding both" sh -c \
    'pk-cat --path home --path etc r latest:etc/passwd | grep -qx web2-passwd'
ok "--tag daily: the newest tagged daily" sh -c \
    'pk-index --tag daily r latest >out && grep -q home/u/notes out'
ok "--tag twice: any of them" sh -c \
    'pk-index --tag weekly --tag nosuch r latest | grep -q etc/ssh/sshd_config'
ok "--host twice: any of them" sh -c \
    'pk-cat --host web2 --host web1 --path etc r latest:etc/passwd | grep -qx web2-passwd'
ok "nothing passes: exit 1, said" status_of 1 pk-cat --host web3 r latest
ok "... names the count" grep -qx \
    "pk-cat: latest: no snapshot of the 4 has the host, tag and paths asked for" "$S/.se"
ok "an id names its snapshot whatever the filters" sh -c \
    "pk-cat --host web2 r $(echo "$id_web1" | cut -c 1-12):etc/passwd | grep -qx web1-passwd"

ok "pk-index lists only what passes" sh -c \
    'pk-index --host web1 r >out && [ $(wc -l <out) -eq 3 ] && ! grep -q web2 out'
ok "pk-index --json too" sh -c \
    'pk-index --json --host web2 --tag weekly r >out && [ $(grep -c "\"id\"" out) -eq 1 ]'
ok "pk-index: nothing passes, an empty list, exit 0" sh -c \
    'pk-index --host nosuch r >out && [ ! -s out ]'
ok "pk-index --export-known of latest --host web1" sh -c \
    'pk-index --export-known k --host web1 r latest && [ -s k ]'
ok "pk-index --check with a filter: a usage error" status_of 2 \
    pk-index --check --host web1 r
ok "... says so" grep -q -- "--host goes with listing, exports, --diff and --find only" "$S/.se"

ok "pk-forget --path home --keep-last 1 removes the older home snapshot" sh -c \
    'pk-forget --path home --group-by "" --keep-last 1 r >out && [ $(pk-index r | wc -l) -eq 4 ]'
ok "... and kept the etc-only ones" sh -c \
    'pk-cat --host web1 --path etc r latest:etc/passwd | grep -qx web1-passwd'
ok "pk-forget --path with ids: a usage error" status_of 2 \
    pk-forget --path etc r abcd
ok "... says so" grep -q -- "--path goes with keep options only" "$S/.se"

# A copy keeps the original's host: in the target, latest --host finds
# it even when the target has newer snapshots of its own.
pk-store --init --no-encryption c
pk-walk etc | pk-chunk | pk-store --host mine c >/dev/null 2>&1
ok "copy web1's snapshot" sh -c \
    "pk-cat --stream r $(echo "$id_web1" | cut -c 1-12) | pk-store c >/dev/null"
ok "latest --host web1 in the copy" sh -c \
    'pk-cat --host web1 c latest:etc/passwd | grep -qx web1-passwd'

# pk-store --json: the snapshot it wrote, as pk-index --json lists it.
ok "pk-store --json: one JSON object" sh -c \
    'pk-walk etc | pk-chunk | pk-store --json --host web9 -t j r >js &&
     [ $(wc -l <js) -eq 1 ] && python3 -c "
import json, sys
s = json.load(open(\"js\"))
assert s[\"host\"] == \"web9\" and s[\"tags\"] == [\"j\"] and s[\"paths\"] == [\"etc\"]
assert s[\"files\"] == 2 and s[\"dirs\"] == 2 and s[\"errors\"] == 0 and s[\"seconds\"] >= 0
assert s[\"bytes\"] == $(cat etc/passwd etc/ssh/sshd_config | wc -c)
assert len(s[\"id\"]) == 64"'
ok "... the same object pk-index lists" sh -c \
    'pk-index --json --host web9 r >listed && python3 -c "
import json
assert json.load(open(\"listed\")) == [json.load(open(\"js\"))]"'
