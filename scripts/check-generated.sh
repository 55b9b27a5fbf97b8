#!/usr/bin/env bash
# Regenerates libs/proto from proto/ and fails when the committed code differs.
set -euo pipefail
npx buf lint
npx buf generate
changes=$(git status --porcelain -- libs/proto/src/gen)
if [ -n "$changes" ]; then
  echo "libs/proto/src/gen is out of date with proto/ (run: npm run proto:generate, then commit):" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- libs/proto/src/gen >&2
  exit 1
fi
echo "generated code matches proto/"
