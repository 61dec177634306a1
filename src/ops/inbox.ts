// The agent's inbox on the host: its own size-limited ext4 file system. The image
// (<state-dir>/inboxes/NAME.ext4) is loop-mounted at <state-dir>/inboxes/NAME (host-only); its
// inbox/ folder, owned by the agent uid:gid (0770), is bind-mounted at <root>/NAME-inbox, which is
// what virtiofs shares; its trash/ is where prune moves runs, out of the guest's reach but on the
// same file system. Both mounts are nosuid,nodev,noexec,nosymfollow (src/adapters/inbox-fs.ts).
// Never clobbered: an existing inbox keeps its content; nothing the guest put there is followed,
// replaced or re-owned.
import { join } from "node:path";
import { tempNameFor } from "../adapters/fs.js";
import {
  bindInbox,
  growInboxOffline,
  growInboxOnline,
  makeInboxImage,
  missingSafeOptions,
  mountInboxImage,
  remountSafe,
  unmountInbox,
  type FsSpace,
} from "../adapters/inbox-fs.js";
import type { Host } from "../host/host.js";
import type { MountEntry } from "../core/mountinfo.js";
import { checkAgentName } from "../core/names.js";
import { agentPaths, INBOX_SUBDIRS, type AgentPaths, type HostPaths } from "../core/paths.js";
import { formatBytes } from "../core/units.js";
import { DataError, ToolError } from "../errors.js";

export interface InboxResult {
  /** "created": a new file system; "mounted": an existing one mounted again; "already": it was mounted. */
  action: "created" | "mounted" | "already";
  limitBytes: number;
  /** Set when the image was grown to a larger inboxQuota. */
  grownFrom?: number;
  /** Set when an existing inbox's owner differs from the configured uid:gid. */
  ownerMismatch?: string;
  /** Set when the configured quota is smaller than the existing file system (it is never shrunk). */
  warning?: string;
}

type Inbox = Pick<AgentPaths, "name" | "inbox" | "inboxImage" | "inboxFs" | "inboxTrash">;
/** The folder of the file system that the guest gets. */
const SHARED = "inbox";

/** The mount on `path` as the mount table shows it (the topmost one), or undefined. */
export async function mountAt(host: Host, path: string): Promise<MountEntry | undefined> {
  const real = await host.realpath(path).catch(() => undefined);
  if (real === undefined) return undefined;
  return (await host.mountinfo()).filter((e) => e.mountPoint === real).at(-1);
}

/** True when `entry` mounts this agent's image (its `root` folder of it: "/" or "/inbox"). */
async function isOwnImage(host: Host, entry: MountEntry, image: string, root: string): Promise<boolean> {
  if (entry.root !== root) return false;
  const [backing, real] = await Promise.all([
    host.loopBackingFile(entry.source),
    host.realpath(image).catch(() => image),
  ]);
  return backing === real;
}

/** Checks a mount is of this image (`root` of it) and carries the safe flags, remounting once when not. */
async function verifyMount(host: Host, a: Inbox, path: string, root: string): Promise<MountEntry> {
  const entry = await mountAt(host, path);
  if (!entry) throw new ToolError(`${path} is not a mount point after mounting it`);
  if (!(await isOwnImage(host, entry, a.inboxImage, root)))
    throw new DataError(`${path} is a mount point, but not of ${a.inboxImage}`, {
      hint: `see \`findmnt ${path}\`; unmount it, then provision again`,
    });
  if (missingSafeOptions(entry).length === 0) return entry;
  await remountSafe(host.run, path, root !== "/");
  const after = await mountAt(host, path);
  const missing = after ? missingSafeOptions(after) : ["the mount itself"];
  if (missing.length)
    throw new ToolError(`${path} could not be mounted with ${missing.join(",")}`, {
      hint: "the host kernel must support nosymfollow (Linux 5.10 or later); see `agentshare doctor`",
    });
  return after!;
}

/** Refuses an inbox path that is not a directory, or a plain folder with content where a mount must go. */
async function assertPlainMountPoint(host: Host, inbox: string): Promise<void> {
  const st = await host.lstat(inbox);
  if (!st) return;
  if (st.kind !== "dir")
    throw new DataError(
      `${inbox} exists but is not a directory${st.kind === "symlink" ? " (a symlink)" : ""}`,
      {
        hint: "move it out of the way; an inbox must be a real directory",
      },
    );
  if ((await host.readdir(inbox)).length)
    throw new DataError(`${inbox} is a plain folder with content, not a size-limited inbox`, {
      hint: `move it aside (mv ${inbox} ${inbox}.old), provision again, then copy back what you need`,
    });
}

/** Mounts the image (host-only) and binds its inbox/ at the inbox path; each step skipped when done. */
async function mountBoth(host: Host, a: Inbox): Promise<MountEntry> {
  if (!(await mountAt(host, a.inboxFs))) {
    await host.ensureDir(a.inboxFs, 0o700);
    await mountInboxImage(host.run, a.inboxImage, a.inboxFs);
  }
  const fsEntry = await verifyMount(host, a, a.inboxFs, "/");
  const bound = await mountAt(host, a.inbox);
  if (!bound) {
    await assertPlainMountPoint(host, a.inbox);
    await host.ensureDir(a.inbox, 0o755);
    await bindInbox(host.run, join(a.inboxFs, SHARED), a.inbox);
  }
  await verifyMount(host, a, a.inbox, `/${SHARED}`);
  return fsEntry;
}

/** Unmounts the bind, then the file system; each only when it is this agent's. */
async function unmountBoth(host: Host, a: Inbox): Promise<void> {
  for (const [path, root] of [
    [a.inbox, `/${SHARED}`],
    [a.inboxFs, "/"],
  ] as const) {
    const entry = await mountAt(host, path);
    if (!entry) continue;
    if (!(await isOwnImage(host, entry, a.inboxImage, root)))
      throw new DataError(`${path} is a mount point, but not of ${a.inboxImage}; leaving it alone`, {
        hint: `see \`findmnt ${path}\``,
      });
    await unmountInbox(host.run, path);
  }
}

/** A new image: mkfs under a temp name, renamed into place, mounted; inbox/ (uid:gid 0770) and trash/. */
async function createFs(host: Host, a: Inbox, bytes: number, uid: number, gid: number): Promise<void> {
  const tmp = tempNameFor(a.inboxImage);
  try {
    await makeInboxImage(host, tmp, bytes);
    await host.rename(tmp, a.inboxImage);
  } catch (err) {
    await host.rm(tmp, { force: true });
    throw err;
  }
  await host.ensureDir(a.inboxFs, 0o700);
  await mountInboxImage(host.run, a.inboxImage, a.inboxFs);
  await host.rmdir(join(a.inboxFs, "lost+found"));
  await host.ensureDir(a.inboxTrash, 0o700);
  const shared = join(a.inboxFs, SHARED);
  await host.ensureDir(shared, 0o770);
  await host.chown(shared, { uid, gid });
}

/** The subfolders, owned by uid:gid; only missing ones are added, nothing existing is touched. */
async function ensureSubdirs(host: Host, inbox: string, uid: number, gid: number): Promise<void> {
  for (const sub of INBOX_SUBDIRS) {
    const path = join(inbox, sub);
    if (await host.lstat(path)) continue;
    await host.mkdir(path, { mode: 0o770 });
    await host.chmod(path, 0o770);
    await host.chown(path, { uid, gid });
  }
}

/**
 * Makes sure the agent's inbox is its own file system of `limitBytes`, mounted safely, with its
 * subfolders. Idempotent; an image smaller than the limit is grown (online when `vmRunning`, else
 * unmounted, which needs no CAP_SYS_RESOURCE), a larger one kept.
 * Refuses a plain folder with content (an inbox from before limits) and a foreign mount.
 */
export async function ensureInbox(
  host: Host,
  inboxesDir: string,
  a: Inbox,
  o: { uid: number; gid: number; limitBytes: number; vmRunning?: boolean },
): Promise<InboxResult> {
  const img = await host.lstat(a.inboxImage);
  if (img && img.kind !== "file")
    throw new DataError(`${a.inboxImage} is not a regular file`, { hint: "move it out of the way" });
  const bound = await mountAt(host, a.inbox);
  if (bound && !(img && (await isOwnImage(host, bound, a.inboxImage, `/${SHARED}`))))
    throw new DataError(`${a.inbox} is a mount point, but not of ${a.inboxImage}`, {
      hint: `see \`findmnt ${a.inbox}\`; unmount it, then provision again`,
    });
  const wasMounted = bound !== undefined;
  if (!img) {
    await assertPlainMountPoint(host, a.inbox);
    await host.ensureDir(inboxesDir, 0o700);
    await createFs(host, a, o.limitBytes, o.uid, o.gid);
  }
  let fsEntry = await mountBoth(host, a);
  const result: InboxResult = {
    action: !img ? "created" : wasMounted ? "already" : "mounted",
    limitBytes: o.limitBytes,
  };
  const size = (await host.stat(a.inboxImage))?.size ?? 0;
  if (size < o.limitBytes) {
    if (o.vmRunning) await growInboxOnline(host, a.inboxImage, fsEntry.source, o.limitBytes);
    else {
      // Nothing else holds the file system while the VM is stopped: unmount, grow, mount again.
      await unmountBoth(host, a);
      await growInboxOffline(host, a.inboxImage, o.limitBytes);
      fsEntry = await mountBoth(host, a);
    }
    result.grownFrom = size;
  } else if (size > o.limitBytes) {
    result.limitBytes = size;
    result.warning = `${a.name}'s inbox is ${formatBytes(size)}, more than inboxQuota ${formatBytes(o.limitBytes)}: file systems are never shrunk (destroy --purge-inbox and provision again to shrink)`;
  }
  await ensureSubdirs(host, a.inbox, o.uid, o.gid);
  const now = await host.lstat(a.inbox);
  if (now && (now.uid !== o.uid || now.gid !== o.gid))
    result.ownerMismatch = `${a.inbox} is owned by ${now.uid}:${now.gid}, the agent runs as ${o.uid}:${o.gid}`;
  return result;
}

/** What an inbox holds against its limit. `enforced` is false for a folder that is not its own file system. */
export interface InboxSpace extends Partial<FsSpace> {
  enforced: boolean;
  /** Less than 1 MiB or no inode left: the guest's next write fails with ENOSPC. */
  full: boolean;
  problem?: string;
}

const FULL_BELOW = 1024 * 1024;

/** The inbox's space from the file system itself (statfs): constant time, not a walk the guest can defeat. */
export async function inboxSpace(host: Host, a: Inbox): Promise<InboxSpace> {
  const entry = await mountAt(host, a.inbox);
  if (!entry || !(await isOwnImage(host, entry, a.inboxImage, `/${SHARED}`))) {
    const hasImage = (await host.lstat(a.inboxImage)) !== undefined;
    return {
      enforced: false,
      full: false,
      problem: hasImage
        ? "its file system is not mounted: run `agentshare init` (or start the agent) to mount it"
        : "not size-limited (an inbox from before limits): move it aside and provision again",
    };
  }
  const s = await host.statfs(a.inbox);
  const missing = missingSafeOptions(entry);
  const space: InboxSpace = { enforced: true, full: s.availBytes < FULL_BELOW || s.inodesFree === 0, ...s };
  if (missing.length) space.problem = `mounted without ${missing.join(",")}: run \`agentshare init\``;
  return space;
}

/** Mounts every inbox image in <state-dir>/inboxes that is not mounted (after a reboot); their names. */
export async function mountAllInboxes(host: Host, paths: HostPaths): Promise<string[]> {
  const files = await host.readdir(paths.inboxesDir).catch(() => []);
  const mounted: string[] = [];
  for (const f of files.map((e) => e.name).sort()) {
    const name = f.endsWith(".ext4") ? f.slice(0, -".ext4".length) : "";
    if (checkAgentName(name) !== undefined) continue;
    const a = agentPaths(paths, name);
    const was = await mountAt(host, a.inbox);
    await mountBoth(host, a);
    if (!was) mounted.push(name);
  }
  return mounted;
}

/** Unmounts the inbox's file system (when mounted) and deletes its image; the mount point stays. */
export async function removeInboxImage(host: Host, a: Inbox): Promise<boolean> {
  await unmountBoth(host, a);
  const had = (await host.lstat(a.inboxImage)) !== undefined;
  await host.rm(a.inboxImage, { force: true });
  await host.rmdir(a.inboxFs);
  return had;
}
