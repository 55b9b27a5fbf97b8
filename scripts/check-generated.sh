#!/usr/bin/env bash
# Lints proto/, checks it against the released baseline (buf breaking), regenerates libs/proto
# from proto/ and fails when the committed code differs.
set -euo pipefail
npx buf lint
# proto/rlsa-v2.binpb is the image of rlsa.v2 as released; a change that would break its clients
# fails here. The baseline moves only by a deliberate `npm run proto:baseline` (a new release).
npx buf breaking --against proto/rlsa-v2.binpb
npx buf generate
changes=$(git status --porcelain -- libs/proto/src/gen)
if [ -n "$changes" ]; then
  echo "libs/proto/src/gen is out of date with proto/ (run: npm run proto:generate, then commit):" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- libs/proto/src/gen >&2
  exit 1
fi
echo "generated code matches proto/"
