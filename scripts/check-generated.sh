#!/usr/bin/env bash
# Lints proto/, checks it against the released baseline (buf breaking), and fails when
# libs/proto/src/gen differs from what `buf generate` makes of proto/. It generates into a temporary directory and compares, so the check never writes into the tree
# (other checks may read libs/proto at the same time, and the result depends only on the files).
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf lint
# proto/rlsa-v2.binpb is the image of rlsa.v2 as released; a change that would break its clients
# fails here. The baseline moves only by a deliberate `npm run proto:baseline` (a new release).
npx buf breaking --against proto/rlsa-v2.binpb
generated=$(mktemp -d)
trap 'rm -rf "$generated"' EXIT
npx buf generate -o "$generated"
if ! differences=$(diff -rq "$generated/libs/proto/src/gen" libs/proto/src/gen); then
  echo "libs/proto/src/gen is out of date with proto/ (run: npm run proto:generate, then commit):" >&2
  echo "${differences//$generated\//(generated) }" >&2
  exit 1
fi
echo "generated code matches proto/"
