// du: each agent's inbox against its enforced limit. Use and limit come from the inbox's own file
// system (statfs: constant time, nothing the guest writes can slow or fool it); the largest runs,
// only when asked for (--top), from a du walk that follows no symlink and stays on one device.
import type { OpContext } from "./context.js";
import { checkAgentName } from "../core/names.js";
import { agentPaths } from "../core/paths.js";
import { DataError } from "../errors.js";
import { assertAgentName } from "./agent-name.js";
import { inboxSpace } from "./inbox.js";
import { listInboxAgents, measureInbox, scanInbox } from "./prune-scan.js";

export interface InboxUsage {
  agent: string;
  inbox: string;
  /** Bytes in use on the inbox's file system; null when it has none of its own. */
  usedBytes: number | null;
  /** The file system's size: the enforced limit. */
  limitBytes: number | null;
  availBytes: number | null;
  /** True when the inbox is its own mounted file system (the limit holds against guest root). */
  enforced: boolean;
  /** The guest's next write fails with ENOSPC (under 1 MiB or no inode left). */
  full: boolean;
  runs: number;
  /** The largest runs, measured only when `top` > 0. */
  largest: { name: string; bytes: number }[];
  /** Set when part of the inbox could not be examined, or the limit is not enforced. */
  problem?: string;
}

/** What `du --check` flags: a full inbox, or one whose limit is not enforced. */
export const needsAttention = (u: InboxUsage): boolean => u.full || !u.enforced;

/** Measures the named inboxes, or every inbox under the root when `agents` is empty. */
export async function du(ctx: OpContext, agents: readonly string[], top = 0): Promise<InboxUsage[]> {
  for (const a of agents) assertAgentName(a);
  const names = agents.length
    ? agents
    : await listInboxAgents(ctx.host, ctx.paths.root, (n) => checkAgentName(n) === undefined);
  const out: InboxUsage[] = [];
  for (const agent of names) out.push(await usageOf(ctx, agent, top));
  return out;
}

async function usageOf(ctx: OpContext, agent: string, top: number): Promise<InboxUsage> {
  const a = agentPaths(ctx.paths, agent);
  const problems: string[] = [];
  let runs = 0;
  try {
    const scan = await scanInbox(ctx.host, a.inbox);
    runs = scan.runNames.length;
    await scan.runsDir?.close();
  } catch (err) {
    if (!(err instanceof DataError) || /^inbox /.test(err.message)) throw err;
    problems.push(err.message);
  }
  const space = await inboxSpace(ctx.host, a);
  if (space.problem) problems.push(space.problem);
  const largest = top > 0 && space.enforced ? await largestRuns(ctx, a.inbox, top) : [];
  const usage: InboxUsage = {
    agent,
    inbox: a.inbox,
    usedBytes: space.usedBytes ?? null,
    limitBytes: space.sizeBytes ?? null,
    availBytes: space.availBytes ?? null,
    enforced: space.enforced,
    full: space.full,
    runs,
    largest,
  };
  if (problems.length) usage.problem = problems.join("; ");
  return usage;
}

async function largestRuns(ctx: OpContext, inbox: string, top: number) {
  const sizes = await measureInbox(ctx.host, inbox);
  return [...sizes.runs]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1))
    .slice(0, top);
}
