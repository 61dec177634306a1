#!/usr/bin/env bash
# The main job end to end on a fresh Debian 12 machine, as root, on defaults:
# host setup (packages, /dev/kvm, libvirtd, the default network) → npm ci + build → the guest
# image (built offline with debootstrap, or taken from the cache) → init → provision agent-01
# with a demo workload → wait until ready → a few seconds of its live log → what to try next.
# Safe to run again: every step reuses what is already there.
#
#   bash scripts/quickstart.sh [--name agent-01] [--seconds 10]
#
# The agent is reached through ports forwarded to 127.0.0.1 (`--access loopback`): it works
# where the host cannot, or must not, route to the guest's network, and the guest itself has no
# network access. Leave the flag out to put agents on libvirt's `default` NAT network instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

name=agent-01
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=${2:?--name needs a value}; shift 2 ;;
    --seconds) seconds=${2:?--seconds needs a value}; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "quickstart: unknown argument '$1' (try --help)" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "quickstart: run as root (it installs packages and starts libvirtd): sudo bash scripts/quickstart.sh" >&2; exit 77; }

t0=$(date +%s)
agentshare() { node dist/cli/main.js "$@"; }

step "host setup"
bash scripts/host-setup.sh

step "npm dependencies and build"
ensure_node_modules
npm run --silent build

step "guest image (offline, from Debian's packages; cached under /var/cache/agentshare)"
agentshare image build

step "host tree"
agentshare init

# A demo workload: a numbered line a second on stdout, every fifth on stderr too.
demo='i=0; while :; do i=$((i+1)); echo "tick $i $(date -u +%T) load $(cut -d" " -f1 /proc/loadavg)"; if [ $((i % 5)) -eq 0 ]; then echo "tick $i: a line on stderr" >&2; fi; sleep 1; done'

step "provision $name (waits until the guest reports ready; under TCG about a minute)"
agentshare provision "$name" --access loopback --command "$demo"

step "live log of $name for ${seconds} s (agentshare attach -c $name)"
timeout --foreground "${seconds}s" node dist/cli/main.js attach -c "$name" --tail 5 || [ $? -eq 124 ]

agentshare status "$name"
cat <<EOF

quickstart: done in $(( $(date +%s) - t0 )) s. Try next (agentshare = node $(pwd)/dist/cli/main.js, or npm link):
  agentshare attach -c $name                      # follow its log live (Ctrl-C to stop)
  agentshare exec $name -- uname -a               # a command in the VM, as a new run in its inbox
  cp my-tool.sh /srv/agentshare/staging/ && agentshare promote my-tool.sh
  agentshare exec $name -- cat /mnt/global/tools/my-tool.sh
  agentshare du; agentshare prune $name --keep-last 5 --dry-run
  agentshare doctor; agentshare list
  agentshare destroy $name                        # the inbox /srv/agentshare/$name-inbox is kept
EOF
