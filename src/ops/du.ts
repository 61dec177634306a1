// du: how much space each agent's inbox uses, its runs and the largest of them, against
// the configured quota. Sizes are bytes on disk from du: no symlinks followed, one device.
import type { Context } from "../cli/context.js";
import { checkAgentName } from "../core/names.js";
import { agentPaths } from "../core/paths.js";
import { parseSize } from "../core/units.js";
import { DataError } from "../errors.js";
import { assertAgentName } from "./agent-name.js";
import { listInboxAgents, measureInbox, scanInbox } from "./prune-scan.js";
import { configFor } from "./retention-config.js";

export interface InboxUsage {
  agent: string;
  inbox: string;
  totalBytes: number;
  runs: number;
  largest: { name: string; bytes: number }[];
  quotaBytes: number | null;
  overQuota: boolean;
  /** Set when part of the inbox could not be examined (e.g. runs/ is a symlink). */
  problem?: string;
}

/** Measures the named inboxes, or every inbox under the root when `agents` is empty. */
export async function du(ctx: Context, agents: readonly string[], top = 5): Promise<InboxUsage[]> {
  for (const a of agents) {
    assertAgentName(a);
  }
  const names = agents.length
    ? agents
    : await listInboxAgents(ctx.paths.root, (n) => checkAgentName(n) === undefined);
  const out: InboxUsage[] = [];
  for (const agent of names) out.push(await usageOf(ctx, agent, top));
  return out;
}

async function usageOf(ctx: Context, agent: string, top: number): Promise<InboxUsage> {
  const { inbox } = agentPaths(ctx.paths, agent);
  let runs = 0;
  let problem: string | undefined;
  try {
    const scan = await scanInbox(inbox);
    runs = scan.runNames.length;
    await scan.runsDir?.close();
  } catch (err) {
    if (!(err instanceof DataError) || /^inbox /.test(err.message)) throw err;
    problem = err.message;
  }
  const sizes = await measureInbox(ctx.run, inbox);
  const quota = (await configFor(ctx, agent)).inboxQuota;
  const quotaBytes = quota === null ? null : (parseSize(quota) ?? null);
  const largest = [...sizes.runs]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1))
    .slice(0, top);
  const usage: InboxUsage = {
    agent,
    inbox,
    totalBytes: sizes.total,
    runs,
    largest,
    quotaBytes,
    overQuota: quotaBytes !== null && sizes.total > quotaBytes,
  };
  if (problem) usage.problem = problem;
  return usage;
}
