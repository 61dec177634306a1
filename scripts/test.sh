#!/usr/bin/env bash
# `npm test`: installs what the tests need (as root: Debian packages, libvirtd), the npm
# dependencies when the lock file changed, builds, then runs every tier: unit, tools, vm, e2e.
# Extra arguments go to vitest (e.g. `npm test -- --project unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.test-out
mkdir -p "$out"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

if [ "$(id -u)" = 0 ]; then
  step "host setup"
  bash scripts/host-setup.sh
else
  echo "test: not root, so host prerequisites are not installed; the vm tiers need root (under CI they fail)" >&2
fi

step "npm dependencies"
ensure_node_modules

step "typecheck, lint, build"
npx tsc -p tsconfig.json --noEmit
npm run --silent lint
npm run --silent build

step "test guest (kernel + initramfs for the vm tier)"
bash scripts/build-test-guest.sh "$out/guest"

step "vitest"
rc=0
npx vitest run --reporter=default --reporter=json --outputFile="$out/vitest.json" "$@" || rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numTotalTests === 0) process.exit(1);
' "$out/vitest.json" || rc=1
exit "$rc"
