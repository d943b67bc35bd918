#!/bin/sh
# The round trip of t0200 (a real tree and the generated tree with every
# file type, through GNU tar and bsdtar, compared byte for byte and
# metadata for metadata) with the repository on the S3 gateway.
. "${PK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"

if ! REPO=$(s3_place roundtrip); then
	skip "s3 round trip" "no S3 gateway (S3_ENDPOINT)"
	exit 0
fi
export REPO
. "$PK_TOP/tests/t0200-roundtrip.sh"
