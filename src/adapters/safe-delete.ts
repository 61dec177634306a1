// Deleting guest-written directories without ever touching anything outside them:
// each victim is lstat'ed beneath an O_NOFOLLOW fd of its parent (a real directory, same
// device, a run name), renamed into a host-only trash folder on the same file system
// (rename never follows a symlink, so a swapped-in symlink is moved, not its target), and
// the trash batch is removed by GNU `rm -rf --one-file-system`, which walks with
// fd-relative calls and never follows symlinks or crosses mounts. Node's recursive fs.rm
// walks by path name and must not be used on guest-written trees.
import { lstatSync, promises as fsp, renameSync, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DataError } from "../errors.js";
import { ensureDir, ensureStateDir } from "./fs.js";
import type { Runner } from "./runner.js";
import { beneath } from "./safe-open.js";
import type { MoveOutcome } from "../host/host.js";

/** argv for removing `dir` without following symlinks or leaving its file system. */
export const rmTreeArgv = (dir: string): string[] => ["-rf", "--one-file-system", "--", dir];

/**
 * Creates an empty 0700 batch folder for this deletion on the inbox's file system: under
 * `trash` when it is on the same device, else a `.agentshare-trash-*` folder in `root`
 * (host-only, not shared with any VM). Refuses when neither is on the inbox's device.
 */
export async function makeTrashBatch(
  trash: string,
  root: string,
  inboxDev: number,
  label: string,
): Promise<string> {
  await ensureStateDir(dirname(trash));
  await ensureDir(trash, 0o700);
  const st = await fsp.lstat(trash);
  if (!st.isDirectory())
    throw new DataError(`${trash} is not a directory`, { hint: "remove it; prune recreates it" });
  if (st.dev === inboxDev) return fsp.mkdtemp(join(trash, `prune-${label}.`));
  const fallback = await fsp.mkdtemp(join(root, ".agentshare-trash-"));
  if ((await fsp.lstat(fallback)).dev === inboxDev) return fallback;
  await fsp.rmdir(fallback);
  throw new DataError(`neither ${trash} nor ${root} is on the same file system as the inbox`, {
    hint: "a run can only be moved out of reach of the guest by rename(2) within one file system; put --state-dir on the inbox's file system",
  });
}

export type { MoveOutcome };

/** Why an lstat or rename of a victim failed, in words (no /proc/self/fd paths, no raw errno text). */
export function moveProblem(err: unknown, step: "check" | "move"): string {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const what = step === "check" ? "cannot be checked" : "cannot be moved out of the inbox";
  const why: Record<string, string> = {
    EACCES: "permission denied (is the inbox's runs/ writable by this user? prune runs as root from cron)",
    EPERM: "operation not permitted (an immutable or append-only attribute? see lsattr)",
    EBUSY: "it is busy (a mount point inside the inbox?)",
    EXDEV: "it is on another file system than the trash",
    EROFS: "the inbox is on a read-only file system",
    ENOSPC: "no space left on the file system",
    EIO: "an I/O error on the file system",
  };
  return `${what}: ${why[code] ?? (code ? `error ${code}` : (err as Error).message)}`;
}

/**
 * Moves `name` from the directory open as `parent` into `batch`, after checking beneath the
 * fd that it is a real directory on `dev` and that `isVictimName(name)` holds. Synchronous on
 * purpose: it is one lstat(2) and one rename(2), and a prune makes thousands of these pairs,
 * which cost ~3× as much through the libuv thread pool as made directly (same system calls).
 */
export function moveIntoTrash(
  parent: FileHandle,
  name: string,
  batch: string,
  dev: number,
  isVictimName: (n: string) => boolean,
): MoveOutcome {
  if (!isVictimName(name)) return { moved: false, why: "name does not match the run pattern" };
  const src = beneath(parent, name);
  let st: Stats;
  try {
    st = lstatSync(src);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT")
      return { moved: false, why: "vanished before it could be moved", vanished: true };
    return { moved: false, why: moveProblem(e, "check") };
  }
  if (st.isSymbolicLink()) return { moved: false, why: "is a symlink" };
  if (!st.isDirectory()) return { moved: false, why: "is not a directory" };
  if (st.dev !== dev) return { moved: false, why: "is on another file system" };
  try {
    renameSync(src, join(batch, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { moved: false, why: "vanished before it could be moved", vanished: true };
    return { moved: false, why: moveProblem(err, "move") };
  }
  return { moved: true };
}

/** Removes `dir` with rm (retried: a guest still writing into a moved run can make it fail once). */
export async function removeTree(
  run: Runner,
  dir: string,
  attempts = 3,
): Promise<{ ok: boolean; stderr: string }> {
  let stderr = "";
  for (let i = 0; i < attempts; i++) {
    const r = await run("rm", rmTreeArgv(dir));
    if (r.exitCode === 0) return { ok: true, stderr: "" };
    stderr = r.stderr;
  }
  return { ok: false, stderr };
}

/** Removes leftover batches (`<prefix>*`) in `trash` from an interrupted earlier prune. */
export async function sweepTrash(run: Runner, trash: string, prefix: string): Promise<string[]> {
  const names = await fsp.readdir(trash).catch(() => [] as string[]);
  const left: string[] = [];
  for (const n of names.filter((x) => x.startsWith(prefix))) {
    if (!(await removeTree(run, join(trash, n), 1)).ok) left.push(n);
  }
  return left;
}
