// Each inbox is its own ext4 file system in an image file: its size is a hard limit that guest
// root cannot pass (virtiofsd writes as root, and the kernel's quota code lets CAP_SYS_RESOURCE
// past quotas, but not past the end of a file system). The file system is loop-mounted at a
// host-only place; its inbox/ folder is bind-mounted at the inbox path (what virtiofs shares),
// and its trash/ stays out of the guest's reach for prune. Both mounts are
// nosuid,nodev,noexec,nosymfollow: nothing the guest plants runs, opens a device, or steers a
// host path lookup through a symlink. discard hands freed blocks back to the host.
import { promises as fsp } from "node:fs";
import { basename } from "node:path";
import { toolError } from "../errors.js";
import type { MountEntry } from "../core/mountinfo.js";
import type { Runner } from "./runner.js";
import type { FsSpace, Host } from "../host/host.js";

/** Options every inbox mount must carry; the first four are the safety ones doctor checks. */
export const INBOX_SAFE_OPTIONS = ["nosuid", "nodev", "noexec", "nosymfollow"] as const;
export const INBOX_MOUNT_OPTIONS = [...INBOX_SAFE_OPTIONS, "discard"] as const;

/** mkfs.ext4 argv: no reserved blocks (the limit is the same for root), no zeroing up front. */
export const mkfsInboxArgv = (image: string): string[] => [
  "-q",
  "-F",
  "-m",
  "0",
  "-L",
  "agentshare-inbox",
  "-E",
  "lazy_itable_init=1,lazy_journal_init=1",
  image,
];

export const mountInboxArgv = (image: string, target: string): string[] => [
  "-t",
  "ext4",
  "-o",
  ["loop", ...INBOX_MOUNT_OPTIONS].join(","),
  image,
  target,
];

export const remountInboxArgv = (target: string): string[] => [
  "-o",
  ["remount", ...INBOX_MOUNT_OPTIONS].join(","),
  target,
];

export const bindInboxArgv = (source: string, target: string): string[] => ["--bind", source, target];
/** A bind mount takes per-mount flags only through a remount of itself. */
export const remountBindSafeArgv = (target: string): string[] => [
  "-o",
  ["remount", "bind", ...INBOX_SAFE_OPTIONS].join(","),
  target,
];

/** Which of the safety options a mount lacks (empty when it has them all). */
export function missingSafeOptions(entry: MountEntry): string[] {
  return INBOX_SAFE_OPTIONS.filter((o) => !entry.options.includes(o));
}

async function run(r: Runner, file: string, argv: string[], hint: string): Promise<void> {
  const res = await r(file, argv);
  if (res.exitCode !== 0) throw toolError([file, ...argv], res, { hint });
}

/** Makes a sparse image of `bytes` and an empty ext4 in it; the caller renames it into place. */
export async function makeInboxImage(host: Host, image: string, bytes: number): Promise<void> {
  await host.createSparse(image, bytes, 0o600);
  await run(host.run, "mkfs.ext4", mkfsInboxArgv(image), "install e2fsprogs (host-setup)");
}

export async function mountInboxImage(r: Runner, image: string, target: string): Promise<void> {
  await run(
    r,
    "mount",
    mountInboxArgv(image, target),
    "loop mounts need root and a free loop device (`losetup -f`); run agentshare as root",
  );
}

/** Bind-mounts the file system's inbox/ at the inbox path, then gives the bind the safe flags. */
export async function bindInbox(r: Runner, source: string, target: string): Promise<void> {
  await run(r, "mount", bindInboxArgv(source, target), "bind mounts need root");
  await remountSafe(r, target, true);
}

/** Remounts a file system mount (`bind` false) or a bind mount with the safe flags. */
export async function remountSafe(r: Runner, target: string, bind: boolean): Promise<void> {
  const argv = bind ? remountBindSafeArgv(target) : remountInboxArgv(target);
  await run(r, "mount", argv, "the host kernel must support nosymfollow (Linux 5.10 or later)");
}

export async function unmountInbox(r: Runner, target: string): Promise<void> {
  await run(r, "umount", [target], "is the agent's VM still running? stop or destroy it first");
}

/** The image file behind a loop device such as /dev/loop3, from sysfs; undefined if none (the local host's). */
export async function loopBackingFile(device: string): Promise<string | undefined> {
  if (!/^\/dev\/loop\d+$/.test(device)) return undefined;
  try {
    const text = await fsp.readFile(`/sys/block/${basename(device)}/loop/backing_file`, "utf8");
    return text.replace(/\n$/, "");
  } catch {
    return undefined;
  }
}

/**
 * Grows a mounted inbox while its VM runs: the image, the loop device's idea of its size, then
 * ext4 online. The kernel asks for CAP_SYS_RESOURCE (missing in some containers: then EPERM).
 */
export async function growInboxOnline(
  host: Host,
  image: string,
  device: string,
  bytes: number,
): Promise<void> {
  const r = host.run;
  await host.truncate(image, bytes);
  await run(r, "losetup", ["-c", device], "losetup is in util-linux");
  await run(
    r,
    "resize2fs",
    [device],
    "online growth needs CAP_SYS_RESOURCE; stop the agent (its inbox is then grown offline) and resize again",
  );
}

/** Grows an unmounted inbox image: the file, a forced check (resize2fs wants one), then ext4. */
export async function growInboxOffline(host: Host, image: string, bytes: number): Promise<void> {
  const r = host.run;
  await host.truncate(image, bytes);
  const fsck = await r("e2fsck", ["-f", "-p", image]);
  if (fsck.exitCode !== 0 && fsck.exitCode !== 1)
    // 1: errors corrected
    throw toolError(["e2fsck", "-f", "-p", image], fsck, { hint: `check it by hand: e2fsck -f ${image}` });
  await run(r, "resize2fs", [image], "resize2fs is in e2fsprogs");
}

export type { FsSpace };

/** Space of the file system holding `path`, from statfs(2): constant time, whatever is inside (the local host's). */
export async function fsSpace(path: string): Promise<FsSpace> {
  const s = await fsp.statfs(path);
  return {
    sizeBytes: s.blocks * s.bsize,
    usedBytes: (s.blocks - s.bfree) * s.bsize,
    availBytes: s.bavail * s.bsize,
    inodes: s.files,
    inodesFree: s.ffree,
  };
}
