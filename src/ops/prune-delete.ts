// Applying a prune plan to one inbox: victims are moved into a host-only trash batch, split
// into one part per CPU; each part is measured (du: no symlinks, one device, so sizes are
// counted before deletion, in a tree the guest can no longer reach by path) and removed
// with `rm -rf --one-file-system`, the parts in parallel. One audit line per deleted run,
// all of an inbox's lines appended with one open.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { writeAudit } from "../adapters/audit.js";
import type { OpContext } from "./context.js";
import type { DeleteReason } from "../core/retention.js";
import { agentPaths } from "../core/paths.js";
import { isRunName } from "../core/run-names.js";
import type { InboxScan } from "./prune-scan.js";

export interface PrunedRun {
  name: string;
  bytes: number;
  reason: DeleteReason;
  deleted: boolean;
  /** Why it was not deleted. */
  why?: string;
  /** Not deleted because it was already gone (not a failure). */
  vanished?: boolean;
}

/** rm's last stderr line without its "rm: " prefix, e.g. "cannot remove '…/x': Permission denied". */
const rmProblem = (stderr: string) =>
  (stderr.trim().split("\n").pop() ?? "").replace(/^rm: /, "") || "rm failed without a message";

/** Measures then removes one part of the batch; marks its runs deleted (or why not). */
async function measureAndRemove(ctx: OpContext, part: string, runs: PrunedRun[]): Promise<void> {
  if (!runs.length) return;
  const sizes = await ctx.host.measureTree(part, 1).catch(() => new Map<string, number>());
  for (const r of runs) r.bytes = sizes.get(join(part, r.name)) ?? r.bytes;
  const removal = await ctx.host.removeTree(part);
  for (const r of runs) {
    r.deleted = removal.ok;
    if (!removal.ok)
      r.why = `moved out of the inbox into ${part}, but removing it failed (${rmProblem(removal.stderr)}); the next prune retries`;
  }
  if (!removal.ok) ctx.out.warn(`could not remove ${part} completely; the next prune retries`);
}

/**
 * Where prune reads an inbox and where its trash is. For an inbox that is its own file system,
 * both through the host-only mount of that file system (<state-dir>/inboxes/NAME/{inbox,trash}):
 * rename(2) cannot cross mounts, not even two of one file system, and trash/ is out of the guest's
 * reach. For an inbox from before limits, the inbox path and the state dir's trash.
 */
export async function pruneView(ctx: OpContext, agent: string): Promise<{ inbox: string; trash: string }> {
  const a = agentPaths(ctx.paths, agent);
  const view = join(a.inboxFs, "inbox");
  const [t, v, i] = await Promise.all(
    [a.inboxTrash, view, a.inbox].map((p) => ctx.host.lstat(p).catch(() => undefined)),
  );
  const own =
    t?.kind === "dir" &&
    v?.kind === "dir" &&
    i?.kind === "dir" &&
    t.dev === v.dev &&
    v.dev === i.dev &&
    v.ino === i.ino;
  return own ? { inbox: view, trash: a.inboxTrash } : { inbox: a.inbox, trash: ctx.paths.trash };
}

/** Deletes `runs` (victims of the plan) from the inbox scanned as `scan`, updating each entry. */
export async function deleteRuns(
  ctx: OpContext,
  agent: string,
  scan: InboxScan,
  runs: PrunedRun[],
  trash: string,
): Promise<void> {
  const runsDir = scan.runsDir;
  if (!runsDir || !runs.length) return;
  const batch = await ctx.host.makeTrashBatch(trash, ctx.paths.root, scan.dev, agent);
  const parts = Array.from(
    { length: Math.max(1, Math.min(4, availableParallelism(), runs.length)) },
    (_, i) => join(batch, `${i}`),
  );
  for (const p of parts) await ctx.host.mkdir(p, { mode: 0o700 });
  const moved: PrunedRun[][] = parts.map(() => []);
  const moves = runs.map((r, i) => ({ name: r.name, into: parts[i % parts.length] as string }));
  const outcomes = await runsDir.moveIntoTrash(moves, scan.dev, isRunName);
  runs.forEach((r, i) => {
    const outcome = outcomes[i] ?? { moved: false, why: "not attempted" };
    if (outcome.moved) moved[i % parts.length]?.push(r);
    else {
      r.why = outcome.why;
      if (outcome.vanished) r.vanished = true;
    }
  });
  await Promise.all(parts.map((p, i) => measureAndRemove(ctx, p, moved[i] ?? [])));
  await removeBatch(ctx, batch);
  const records = moved.flat().map((r) => ({
    verb: "prune",
    agent,
    run: r.name,
    bytes: r.bytes,
    reason: r.reason,
    result: r.deleted ? "ok" : "error",
  }));
  await writeAudit(ctx.host, ctx.paths.auditLog, records, ctx.clock);
}

/** Removes the batch folder once its parts are gone: rmdir (no spawn), else rm retries what is left. */
async function removeBatch(ctx: OpContext, batch: string): Promise<void> {
  if (!(await ctx.host.rmdir(batch))) await ctx.host.removeTree(batch);
}
