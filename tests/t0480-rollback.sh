#!/bin/sh
# Whoever can write a repository can remove its newest snapshots or put
# back an older copy of it, and every file left still checks.  The newest
# snapshot each user has seen is kept in that user's cache, and pk-index
# says so when it is gone and nothing newer is there.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

pk-store --init repo >/dev/null 2>&1
mkdir d
gen_file d/a 100000 1
newest() { echo "$XDG_CACHE_HOME/pk/$(awk '$1 == "id" { print $2 }' repo/config)/newest"; }
# gone: the last command failed and named the newest snapshot seen ($1).
gone() {
	grep -q "^pk-index: snapshot $(cut -c 1-12 "$1") (ended [0-9 :-]* UTC), the newest seen here, is gone and no newer snapshot is in the repository" "$S/.se" ||
	    { cat "$S/.se"; return 1; }
}

ok "first backup" backup repo d
cp id id1
ok "pk-store notes its snapshot as the newest seen" sh -c \
    "grep -Eqx '[0-9]+\.[0-9]{9} $(cat id1) $S/repo' '$(newest)'"
cp -a repo repo.old
gen_file d/b 100000 2
ok "second backup" backup repo d
cp id id2
ok "... and moves the note forward" grep -q "$(cat id2)" "$(newest)"

# The repository put back as it was before the second backup.
rm -rf repo && cp -a repo.old repo
ok "rolled back: every file still checks, but --check fails" status_of 1 pk-index --check repo
ok "... naming the snapshot that is gone" gone id2
ok "... and so does the listing" status_of 1 pk-index repo
ok "... which still lists what is there" grep -q "^$(cut -c 1-12 id1) " "$S/.so"
ok "the note does not move back" grep -q "$(cat id2)" "$(newest)"

# A new snapshot after the rollback is newer than the one that is gone.
gen_file d/c 100000 3
ok "a backup into the older copy" backup repo d
ok "... after which the check passes" status_of 0 pk-index --check repo

# Removing the newest snapshot sets it off; an older one does not.
rm "repo/snapshots/$(cat id1)"
ok "an older snapshot removed: the check still passes" status_of 0 pk-index --check repo
rm "repo/snapshots/$(cat id)"
ok "the newest removed: the check fails" status_of 1 pk-index --check repo
ok "... naming it" gone id
ok "... and says which file to delete if that was on purpose" grep -q "delete $(newest))" "$S/.se"
rm "$(newest)"
ok "the note deleted: the check passes" status_of 0 pk-index --check repo

# A copy of the repository elsewhere, a mirror that lags, has a note of
# its own.
ok "a backup" backup repo d
cp -a repo mirror
ok "another backup" backup repo d
ok "its copy, one snapshot behind, checks" status_of 0 pk-index --check mirror
ok "... and both places are noted" sh -c "grep -c ' $S/repo\$' '$(newest)' && grep -c ' $S/mirror\$' '$(newest)'"
rm -rf mirror
ok "the repository put back from its copy: the check fails" sh -c \
    "rm -rf repo && cp -a '$S/repo.old' repo && ! pk-index --check repo"

# The note belongs to the user: another cache knows nothing of it.
ok "another user's cache notices nothing" sh -c \
    "XDG_CACHE_HOME='$S/other' pk-index --check repo"

# A damaged note is said and replaced, never trusted.
echo "not a note" >"$(newest)"
ok "a damaged note: said" sh -c "pk-index repo 2>&1 >/dev/null | grep -q 'newest: not a list of times, snapshot ids and places'"
ok "... and replaced" grep -Eqx "[0-9]+\.[0-9]{9} [0-9a-f]{64} $S/repo" "$(newest)"
