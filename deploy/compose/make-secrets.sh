#!/usr/bin/env bash
# Makes what deploy/compose/compose.yaml mounts: a CA, the aggregator's server certificate (for the
# names the parties use), a client certificate and a token per node, and the aggregator's tokens file
# (hashes only). Run from anywhere; writes deploy/compose/secrets/ (git-ignored by its own .gitignore),
# or $RLSA_SECRETS_DIR.
#   deploy/compose/make-secrets.sh [extra-host ...]     e.g. the aggregator's public DNS name
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${RLSA_SECRETS_DIR:-$here/secrets}"
rlsa() { node "$repo/apps/cli/bin/rlsa.mjs" "$@"; }

umask 077
mkdir -p "$out"
printf '*\n' > "$out/.gitignore"
[ -f "$out/ca.crt" ] || rlsa pki init --dir "$out" --days 3650
hosts="aggregator,localhost,127.0.0.1"
for extra in "$@"; do hosts="$hosts,$extra"; done
# Certificates in parallel (separate files); tokens one after the other (one tokens file).
[ -f "$out/aggregator.crt" ] || rlsa pki issue --dir "$out" --name aggregator --host "$hosts" &
# The operator's certificate too: under mTLS an admin token works only with the certificate of its subject.
for node in node-1 node-2 reference operator; do
  [ -f "$out/$node.crt" ] || rlsa pki issue --dir "$out" --name "$node" --client &
done
for job in $(jobs -p); do wait "$job"; done
# The token goes to the node's file only; the aggregator's file gets its SHA-256 and grants: the
# trainers are nodes of the demo run, the reference its reference slot (a node grant never takes it).
for node in node-1 node-2; do
  [ -f "$out/$node.token" ] || rlsa tokens add "$node" --grant node:demo --file "$out/tokens.yaml" > "$out/$node.token"
done
[ -f "$out/reference.token" ] || rlsa tokens add reference --grant reference:demo --file "$out/tokens.yaml" > "$out/reference.token"
[ -f "$out/operator.token" ] || rlsa tokens add operator --admin --file "$out/tokens.yaml" > "$out/operator.token"

# Compose mounts file secrets with their host owner and mode, and the containers run as uid 10001.
chmod 0444 "$out"/*.crt "$out/tokens.yaml"
# The CA key stays with the operator (root or you, 0600): no container needs it.
mounted=()
for name in aggregator node-1 node-2 reference; do mounted+=("$out/$name.key"); done
for name in node-1 node-2 reference; do mounted+=("$out/$name.token"); done
if [ "$(id -u)" = 0 ]; then
  chown 10001:10001 "${mounted[@]}"
  chmod 0400 "${mounted[@]}"
else
  echo "note: the containers run as uid 10001; give them their keys and tokens with:" >&2
  echo "  sudo chown 10001:10001 ${mounted[*]}" >&2
fi
echo "secrets in $out (the CA key ca.key is there too: move it offline once all certificates are issued)" >&2
