// The busybox test guest (scripts/build-test-guest.sh) as provision flags: direct kernel boot,
// no disk, no network, TCG, small. Tests add their own uid/gid, cmdline or quota.
import { join } from "node:path";
import { REPO } from "./cli.js";

export const TEST_GUEST_DIR = join(REPO, ".test-out", "guest");

export const testGuestFlags = (): string[] => [
  "--kernel",
  join(TEST_GUEST_DIR, "vmlinuz"),
  "--initrd",
  join(TEST_GUEST_DIR, "initramfs.cpio.gz"),
  "--no-image",
  "--no-network",
  "--domain-type",
  "qemu",
  "--memory",
  "256",
  "--vcpus",
  "1",
  "--timeout",
  "180",
];
