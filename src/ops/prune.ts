// prune: deletes old runs from agents' inboxes by the retention policy (core/retention.ts),
// one inbox at a time under its lock, moving each victim into host-only trash first
// (adapters/safe-delete.ts). Idempotent: a second prune right after the first deletes nothing.
import type { OpContext } from "./context.js";
import { agentPaths } from "../core/paths.js";
import { mayBeActive, planRetention, type RetentionPolicy } from "../core/retention.js";
import { updateRunsSeen } from "../core/runs-seen.js";
import { AgentshareError } from "../errors.js";
import { finishedRuns, loadRunsSeen, measureInbox, saveRunsSeen, scanInbox } from "./prune-scan.js";
import { deleteRuns, pruneView, type PrunedRun } from "./prune-delete.js";
import { checkPolicyFlags, policyFor, type PolicyFlags } from "./prune-policy.js";

export type { PrunedRun };

export interface PruneOptions extends PolicyFlags {
  agents: string[];
  dryRun: boolean;
  lockWaitMs?: number;
}

export interface InboxResult {
  agent: string;
  /** "incomplete": some victims could not be deleted (each says why); exit code 74. */
  status: "ok" | "incomplete" | "busy" | "refused" | "missing" | "error";
  message?: string;
  exitCode?: number;
  policy?: RetentionPolicy;
  runs: PrunedRun[];
  kept: number;
  /** Runs kept only because they may still be active (no metrics.json, first seen < 7 days ago). */
  unfinished?: string[];
  freedBytes: number;
}

/** Prunes each named agent's inbox; one inbox's problem is reported and the others continue. */
export async function prune(ctx: OpContext, opts: PruneOptions): Promise<InboxResult[]> {
  checkPolicyFlags(opts);
  const results: InboxResult[] = [];
  for (const agent of opts.agents) {
    try {
      results.push(await pruneOne(ctx, agent, opts));
    } catch (err) {
      if (!(err instanceof AgentshareError)) throw err;
      const status = err.exitCode === 66 ? "missing" : err.exitCode === 65 ? "refused" : "error";
      results.push({
        agent,
        status,
        message: err.message,
        exitCode: err.exitCode,
        runs: [],
        kept: 0,
        freedBytes: 0,
      });
    }
  }
  return results;
}

async function pruneOne(ctx: OpContext, agent: string, opts: PruneOptions): Promise<InboxResult> {
  const policy = await policyFor(ctx, agent, opts);
  const base: InboxResult = { agent, status: "ok", policy, runs: [], kept: 0, freedBytes: 0 };
  if (opts.dryRun) return planAndApply(ctx, agent, policy, base, true);
  const attempt = await ctx.host.acquireLock(ctx.paths.locksDir, `prune-${agent}`, {
    waitMs: opts.lockWaitMs ?? 5000,
  });
  if (!attempt.ok) {
    const who = attempt.holder === undefined ? "another prune" : `another prune (pid ${attempt.holder})`;
    return {
      ...base,
      status: "busy",
      exitCode: 75,
      message: `${who} is working on this inbox; try again later (lock ${attempt.path})`,
    };
  }
  try {
    // agent names have no ".": no other agent's batches match
    for (const trash of [ctx.paths.trash, agentPaths(ctx.paths, agent).inboxTrash])
      await ctx.host.sweepTrash(trash, `prune-${agent}.`);
    return await planAndApply(ctx, agent, policy, base, false);
  } finally {
    await attempt.lock.release();
  }
}

async function planAndApply(
  ctx: OpContext,
  agent: string,
  policy: RetentionPolicy,
  base: InboxResult,
  dryRun: boolean,
) {
  const { inbox, trash } = await pruneView(ctx, agent);
  const scan = await scanInbox(ctx.host, inbox);
  try {
    const now = ctx.clock().getTime();
    const seen = updateRunsSeen(await loadRunsSeen(ctx.host, ctx.paths.agentsDir, agent), scan.runNames, now);
    const finished = await finishedRuns(scan);
    // sizes are needed up front only for the size cap and a dry run; deletion measures in the trash
    const needSizes = scan.runNames.length > 0 && (policy.maxSizeBytes !== null || dryRun);
    const sizes = needSizes ? await runSizes(ctx, inbox) : new Map<string, number>();
    const planRuns = scan.runNames.map((name) => ({
      name,
      effective: seen.runs[name]?.effective ?? 0,
      size: sizes.get(name) ?? 0,
      active: mayBeActive(finished.has(name), seen.runs[name]?.firstSeen ?? now, now),
    }));
    const plan = planRetention(planRuns, scan.current, policy);
    if (!dryRun) await saveRunsSeen(ctx.host, ctx.paths.agentsDir, agent, seen);
    const runs: PrunedRun[] = plan.delete.map((v) => ({
      name: v.name,
      reason: v.reason,
      bytes: sizes.get(v.name) ?? 0,
      deleted: false,
    }));
    const unfinished = plan.keep.filter((k) => k.reason === "active").map((k) => k.name);
    const result: InboxResult = { ...base, runs, kept: plan.keep.length, unfinished };
    if (scan.current.kind === "unknown")
      result.message = `current points to ${JSON.stringify(scan.current.target)}, not a run in runs/: nothing deleted (conservative)`;
    if (!dryRun && runs.length) {
      await deleteRuns(ctx, agent, scan, runs, trash);
      markIncomplete(result);
    }
    result.freedBytes = runs.filter((r) => r.deleted || dryRun).reduce((n, r) => n + r.bytes, 0);
    return result;
  } finally {
    await scan.runsDir?.close();
  }
}

/** Status "incomplete" (exit 74) when some victims were not deleted; one that vanished by itself is gone anyway. */
function markIncomplete(result: InboxResult): void {
  const failed = result.runs.filter((r) => !r.deleted && !r.vanished);
  if (!failed.length) return;
  result.status = "incomplete";
  result.exitCode = 74;
  result.message = `${failed.length} of ${result.runs.length} runs to delete were NOT deleted (each is listed with the reason); fix that and prune again`;
}

/** Sizes of the runs before planning; unknown (0) on failure, which only makes the size cap delete less. */
async function runSizes(ctx: OpContext, inbox: string): Promise<Map<string, number>> {
  try {
    return (await measureInbox(ctx.host, inbox)).runs;
  } catch (err) {
    ctx.out.warn(
      `${inbox}: sizes unknown (${(err as Error).message.split("\n")[0]}); the size cap deletes nothing this time`,
    );
    return new Map();
  }
}
