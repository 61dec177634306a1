#!/usr/bin/env bash
# Builds the agentshare TEST guest for direct kernel boot, from Debian's packages only:
#   OUTDIR/vmlinuz            Debian's cloud kernel (/boot/vmlinuz-*-cloud-amd64, newest)
#   OUTDIR/initramfs.cpio.gz  busybox-static + the virtio/virtiofs/virtio_net modules + test/guest/{init,udhcpc.script}
#   OUTDIR/kernel-version     the kernel release the modules belong to
# Cached: rebuilds only when the inputs (this script, test/guest/init, kernel release, busybox
# version) change. Needs busybox-static, linux-image-cloud-amd64, cpio (scripts/host-setup.sh).
#
#   bash scripts/build-test-guest.sh OUTDIR [--force]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
init_script="$here/../test/guest/init"
dhcp_script="$here/../test/guest/udhcpc.script"
# Modules to load; their dependencies come from modules.dep, in dependency order.
WANTED=(virtio_pci virtiofs virtio_net)

die() {
  printf 'build-test-guest: error: %s\n' "$*" >&2
  exit 1
}

[ $# -ge 1 ] || die "usage: bash scripts/build-test-guest.sh OUTDIR [--force]"
out=$1
force=${2:-}
[ -z "$force" ] || [ "$force" = --force ] || die "unknown argument '$force' (only --force)"

kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*-cloud-amd64' 2>/dev/null | sort -V | tail -n1)
[ -n "$kernel" ] || die "no /boot/vmlinuz-*-cloud-amd64: apt-get install linux-image-cloud-amd64 (or run scripts/host-setup.sh)"
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep is missing: reinstall linux-image-$kver"
if ! { [ -x /bin/busybox ] && /bin/busybox --list >/dev/null 2>&1; }; then
  die "/bin/busybox missing: apt-get install busybox-static"
fi
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || [ ! -x /usr/bin/file ] ||
  die "/bin/busybox is not static: apt-get install busybox-static"
command -v cpio >/dev/null || die "cpio missing: apt-get install cpio"
[ -r "$kernel" ] || die "$kernel is not readable (run as root)"

inputs=$( (
  cat "$0" "$init_script" "$dhcp_script"
  echo "$kver"
  sha256sum "$kernel" /bin/busybox
) | sha256sum | cut -d' ' -f1)
if [ -z "$force" ] && [ "$(cat "$out/.inputs" 2>/dev/null)" = "$inputs" ] &&
  [ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.cpio.gz" ]; then
  echo "build-test-guest: $out is up to date (kernel $kver)"
  exit 0
fi

# Appends the module path (relative to $moddir) of NAME to `modules`, after its dependencies
# (recursively, each once): the order to insmod them in.
declare -A seen=()
modules=()
resolve() {
  local name=$1 line path dep
  line=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" | head -n1) ||
    die "module $name not found in $moddir/modules.dep (is it built in? check /boot/config-$kver)"
  path=${line%%:*}
  for dep in ${line#*:}; do resolve "$(basename "${dep%%.ko*}")"; done
  [ -z "${seen[$path]:-}" ] || return 0
  seen[$path]=1
  modules+=("$path")
}

# Copies one module into the tree as NAME.ko, decompressing .xz / .zst / .gz.
copy_module() {
  local src=$moddir/$1 dst
  dst=$2/$(basename "${1%%.ko*}").ko
  case "$src" in
    *.ko) cp "$src" "$dst" ;;
    *.ko.xz) xz -dc "$src" >"$dst" ;;
    *.ko.zst) zstd -qdc "$src" >"$dst" ;;
    *.ko.gz) gzip -dc "$src" >"$dst" ;;
    *) die "unknown module file $src" ;;
  esac
}

mkdir -p "$out"
work=$(mktemp -d "$out/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,mnt/global,mnt/inbox,lib/modules}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
install -m 0755 "$init_script" "$root/init"
install -m 0755 "$dhcp_script" "$root/bin/udhcpc.script"

for m in "${WANTED[@]}"; do resolve "$m"; done
: >"$root/lib/modules/load-order"
for path in "${modules[@]}"; do
  copy_module "$path" "$root/lib/modules"
  basename "${path%%.ko*}" >>"$root/lib/modules/load-order"
done

# A fixed mtime keeps the archive identical for identical inputs.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet) | gzip -9n >"$work/initramfs.cpio.gz"
cp "$kernel" "$work/vmlinuz"
echo "$kver" >"$work/kernel-version"
for f in vmlinuz initramfs.cpio.gz kernel-version; do mv -f "$work/$f" "$out/$f"; done
echo "$inputs" >"$out/.inputs"
echo "build-test-guest: built $out (kernel $kver, modules: $(tr '\n' ' ' <"$root/lib/modules/load-order"| sed 's/ $//'))"
