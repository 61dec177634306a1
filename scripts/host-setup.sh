#!/usr/bin/env bash
# Host setup for agentshare (Debian 12, as root; safe to run again: a second run changes nothing).
# Installs the Debian packages that are missing, gives /dev/kvm the usual udev permissions,
# starts virtlogd + libvirtd (systemd when present, the daemons directly otherwise) and makes
# sure libvirt's `default` NAT network is defined, active and autostarted.
#
#   bash scripts/host-setup.sh [--no-network] [--quiet]
#
# Prints one line per step: what it did, or "already ok". Exits non-zero with a message on failure.
set -euo pipefail

URI=qemu:///system
PACKAGES=(qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libxml2-utils genisoimage chromium
  cloud-init dnsmasq-base iptables busybox-static linux-image-cloud-amd64 cpio netcat-openbsd openssh-server
  debootstrap e2fsprogs)
DAEMON_TIMEOUT=${AGENTSHARE_DAEMON_TIMEOUT:-30}
network=1
quiet=0

usage() { echo "usage: bash scripts/host-setup.sh [--no-network] [--quiet]" >&2; }
say() { [ "$quiet" = 1 ] || printf 'host-setup: %-16s %s\n' "$1" "$2"; }
die() {
  printf 'host-setup: error: %s\n' "$*" >&2
  exit 1
}

for arg in "$@"; do
  case "$arg" in
    --no-network) network=0 ;;
    --quiet) quiet=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      die "unknown argument '$arg'"
      ;;
  esac
done

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts libvirtd): sudo bash scripts/host-setup.sh"

# Debian packages: apt-get update only when something is missing.
installed() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]; }
step_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    say packages "already ok (${#PACKAGES[@]} installed)"
    return
  fi
  say packages "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
  say packages "installed ${missing[*]}"
}

# /dev/kvm root:0600 (no udev) makes libvirt re-probe QEMU on every call (70-100 s per define).
step_kvm() {
  if [ ! -c /dev/kvm ]; then
    say /dev/kvm "absent (guests will use TCG: domain type qemu)"
    return
  fi
  local group mode
  group=$(stat -c %G /dev/kvm)
  mode=$(stat -c %a /dev/kvm)
  if [ "$group" = kvm ] && [ $((0$mode & 060)) -eq $((060)) ]; then
    say /dev/kvm "already ok (root:kvm $mode)"
    return
  fi
  getent group kvm >/dev/null || die "group kvm does not exist: is qemu-system-x86 installed?"
  chgrp kvm /dev/kvm
  chmod 660 /dev/kvm
  say /dev/kvm "set root:kvm 660 (was $group $mode)"
}

libvirt_answers() { virsh -c "$URI" version >/dev/null 2>&1; }

start_daemon() {
  local name=$1
  if pgrep -x "$name" >/dev/null; then
    say "$name" "already running"
    return
  fi
  "$name" -d || die "$name -d failed; see its log under /var/log/libvirt/"
  say "$name" "started ($name -d)"
}

step_daemons() {
  if [ -d /run/systemd/system ]; then
    local unit
    for unit in virtlogd libvirtd; do
      if systemctl is-active --quiet "$unit"; then
        say "$unit" "already running (systemd)"
      else
        systemctl enable --now "$unit" >/dev/null 2>&1 || die "systemctl enable --now $unit failed"
        say "$unit" "started (systemd)"
      fi
    done
  else
    start_daemon virtlogd
    start_daemon libvirtd
  fi
  local waited=0
  until libvirt_answers; do
    [ "$waited" -lt "$((DAEMON_TIMEOUT * 10))" ] ||
      die "libvirtd does not answer \`virsh -c $URI version\` after ${DAEMON_TIMEOUT}s; see /var/log/libvirt/libvirtd.log"
    sleep 0.1
    waited=$((waited + 1))
  done
  say libvirt "answers ($(virsh -c "$URI" version 2>/dev/null | sed -n 's/^Running hypervisor: //p'))"
}

net_field() { virsh -c "$URI" net-info default 2>/dev/null | sed -n "s/^$1: *//p"; }

step_network() {
  if [ "$network" = 0 ]; then
    say network "skipped (--no-network)"
    return
  fi
  if ! virsh -c "$URI" net-info default >/dev/null 2>&1; then
    local xml=/usr/share/libvirt/networks/default.xml
    [ -f "$xml" ] || die "$xml is missing: apt-get install libvirt-daemon-config-network"
    virsh -c "$URI" net-define "$xml" >/dev/null || die "virsh net-define $xml failed"
    say network "defined default"
  fi
  if [ "$(net_field Active)" = yes ]; then
    say network "default already active"
  else
    local err
    err=$(virsh -c "$URI" net-start default 2>&1) ||
      die "virsh net-start default failed (needs dnsmasq-base and a working iptables): $err"
    say network "started default"
  fi
  if [ "$(net_field Autostart)" = yes ]; then
    say network "default already autostarted"
  else
    virsh -c "$URI" net-autostart default >/dev/null || die "virsh net-autostart default failed"
    say network "default set to autostart"
  fi
}

step_packages
step_kvm
step_daemons
step_network
