#!/usr/bin/env bash
# Runs every benchmark (scripts/bench/*.bench.ts), or the ones named: `npm run bench -- sse prune`.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d dist ] || npm run build
names=("$@")
for f in scripts/bench/*.bench.ts; do
  n=$(basename "$f" .bench.ts)
  if [ ${#names[@]} -gt 0 ] && [[ ! " ${names[*]} " == *" $n "* ]]; then continue; fi
  echo "== bench $n"
  npx tsx "$f"
done
