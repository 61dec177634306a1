# Shared by scripts/test.sh and scripts/quickstart.sh (sourced, not run).

# npm ci when node_modules does not match package-lock.json.
ensure_node_modules() {
  local want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -d node_modules ] || [ "$(cat node_modules/.agentshare-lock 2>/dev/null)" != "$want" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > node_modules/.agentshare-lock
  else
    echo "node_modules matches package-lock.json"
  fi
}

step() { printf '\n== %s\n' "$*"; }
