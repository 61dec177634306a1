// The host side of "global is read-only in every VM": global-ro is a read-only bind mount of
// global, which guest root cannot undo (libvirt 9.0 refuses <readonly/> on virtiofs).
// Mount state comes from /proc/self/mountinfo (parsed in core/mountinfo.ts).
import { constants, promises as fsp } from "node:fs";
import { join } from "node:path";
import { DataError, ToolError, toolError } from "../errors.js";
import { bindState, parseMountinfo, type BindState, type MountEntry } from "../core/mountinfo.js";
import type { Runner } from "./runner.js";
import type { Host } from "../host/host.js";

/** What the mount functions ask of the host: its tools, its mount table, path lookups, a write probe. */
export type MountHost = Pick<Host, "run" | "mountinfo" | "realpath" | "probeWrite">;

export const bindArgv = (source: string, target: string) => ["--bind", source, target];
export const remountReadOnlyArgv = (target: string) => ["-o", "remount,bind,ro", target];
export const umountArgv = (target: string) => [target];

/** The mount table as this host sees it (`cat /proc/self/mountinfo` through the runner). */
export async function loadMountinfo(run: Runner): Promise<MountEntry[]> {
  const r = await run("cat", ["/proc/self/mountinfo"]);
  if (r.exitCode !== 0) throw toolError(["cat", "/proc/self/mountinfo"], r);
  return parseMountinfo(r.stdout);
}

/** True when `target` is a read-only mount point (and, given `source`, a bind mount of that folder). */
export async function isReadOnlyBind(
  host: Pick<Host, "mountinfo">,
  target: string,
  opts: { source?: string } = {},
): Promise<boolean> {
  const entries = await host.mountinfo();
  const st = bindState(entries, opts.source ?? target, target);
  return st.mounted && st.readOnly && (opts.source === undefined || st.bindOfSource);
}

/** ensureReadOnlyBind for `agentshare init`: "already" when the ro bind was in place, else "mounted". */
export async function bindReadOnly(
  host: MountHost,
  source: string,
  target: string,
): Promise<"mounted" | "already"> {
  return (await ensureReadOnlyBind(host, source, target)) === "already-read-only" ? "already" : "mounted";
}

async function mount(run: Runner, argv: string[]): Promise<void> {
  const r = await run("mount", argv);
  if (r.exitCode !== 0)
    throw toolError(["mount", ...argv], r, { hint: "bind mounts need root: run agentshare as root (sudo)" });
}

export type BindAction = "already-read-only" | "remounted-read-only" | "mounted-read-only";

/**
 * Makes `target` a read-only bind mount of `source`. Idempotent: a ro bind already there is kept,
 * a rw bind of `source` is remounted ro. Refuses (DataError) when something else is mounted on
 * `target`. Then checks it: the mount table must say ro and a write must fail with EROFS.
 */
export async function ensureReadOnlyBind(
  host: MountHost,
  sourcePath: string,
  targetPath: string,
): Promise<BindAction> {
  // mountinfo shows canonical paths: compare those (the folders must exist; ENOENT says which one is missing).
  const [source, target] = [await host.realpath(sourcePath), await host.realpath(targetPath)];
  const run = host.run;
  const before = bindState(await host.mountinfo(), source, target);
  let action: BindAction = "already-read-only";
  if (before.mounted && !before.bindOfSource)
    throw new DataError(`${target} is a mount point, but not a bind mount of ${source}`, {
      hint: `see \`findmnt ${target}\`; unmount it (umount ${target}) and try again`,
    });
  if (!before.mounted) {
    await mount(run, bindArgv(source, target));
    action = "mounted-read-only";
  }
  if (!before.readOnly) {
    await mount(run, remountReadOnlyArgv(target));
    if (before.mounted) action = "remounted-read-only";
  }
  const after = bindState(await host.mountinfo(), source, target);
  assertReadOnly(after, source, target);
  const code = await host.probeWrite(target);
  if (code !== "EROFS")
    throw new ToolError(
      `${target} should refuse writes (EROFS), but a test write gave ${code ?? "success"}`,
      {
        hint: "check the mount with `findmnt " + target + "`",
      },
    );
  return action;
}

function assertReadOnly(st: BindState, source: string, target: string): void {
  if (!st.mounted || !st.bindOfSource || !st.readOnly)
    throw new ToolError(`${target} is not a read-only bind mount of ${source} after mounting it`, {
      hint: `see \`findmnt ${target}\``,
    });
}

/**
 * Tries to create a probe file in `dir` and returns the error code (e.g. "EROFS"), or undefined
 * when the write went through (the probe is removed again). Local file system only.
 */
export async function probeWrite(dir: string): Promise<string | undefined> {
  const probe = join(dir, `.agentshare-ro-probe-${process.pid}`);
  try {
    const fh = await fsp.open(
      probe,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    await fh.close();
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? "EUNKNOWN";
  }
  await fsp.rm(probe, { force: true });
  return undefined;
}

/** Unmounts `target` when it is a mount point; false when it was not mounted. */
export async function unmountIfMounted(run: Runner, target: string): Promise<boolean> {
  const st = bindState(await loadMountinfo(run), target, target);
  if (!st.mounted) return false;
  const r = await run("umount", umountArgv(target));
  if (r.exitCode !== 0)
    throw toolError(["umount", target], r, { hint: "is a VM still using it? destroy it first" });
  return true;
}
