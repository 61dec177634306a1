// `agentshare list` and `agentshare status NAME`: what libvirt says, whether the guest reported
// ready, its address, and the inbox's size and runs. Inbox reads never follow guest symlinks.
import { join } from "node:path";
import type { Host } from "../host/host.js";
import { getDomState, listDomainNames } from "../adapters/virsh.js";
import { runExitOf, type RunExit } from "../core/run-exit.js";
import { agentPaths } from "../core/paths.js";
import type { HostForward } from "../core/agent-plan.js";
import { compareRunNamesNewestFirst, parseRunName, type RunName } from "../core/run-names.js";
import { NotFoundError } from "../errors.js";
import type { OpContext } from "./context.js";
import { assertAgentName, provisionedAgentNames } from "./agent-name.js";
import { readStoredSpec } from "./provision-files.js";
import { guestAccess } from "./endpoint.js";
import { markerMatches } from "./wait-ready.js";
import { inboxSpace } from "./inbox.js";

/**
 * A finished run's exit code and whether it persisted, from its metrics.json (read without
 * following symlinks, at most 64 KiB); undefined while it runs or when the file is not readable JSON.
 * A metrics.json from before `persisted` existed counts as persisted.
 */
export async function readRunMetrics(
  host: Pick<Host, "readGuestFile">,
  inbox: string,
  run: string,
): Promise<RunExit | undefined> {
  const raw = await host
    .readGuestFile(join(inbox, "runs", run, "metrics.json"), 64 * 1024)
    .catch(() => undefined);
  if (!raw) return undefined;
  try {
    const doc: unknown = JSON.parse(Buffer.from(raw).toString("utf8"));
    return typeof doc === "object" && doc !== null ? runExitOf(doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface AgentStatus {
  name: string;
  /** The fleet host it is on ("local" for this machine), as the API reports it. */
  host?: string;
  state: string;
  ready: boolean;
  ip: string | null;
  /** With `access: loopback`: the host ports on 127.0.0.1 forwarded to the guest. */
  forward: HostForward | null;
  inbox: string;
  /** Bytes in use on the inbox's file system, and its size (the enforced limit); null without one. */
  inboxBytes: number | null;
  inboxLimitBytes: number | null;
  /** The guest's next write to its inbox fails with ENOSPC. */
  inboxFull: boolean;
  runs: number;
  latestRun: string | null;
  /** The latest run's exit code from its metrics.json; null while it runs or when unreadable. */
  latestExitCode: number | null;
  /** false when the latest run reported that its logs or metrics were not all written. */
  latestPersisted: boolean | null;
  domainType: string | null;
  instanceId: string | null;
  createdAt: string | null;
}

/** Run folders in the inbox, newest first: names matching the run pattern, real directories only. */
export async function listRuns(host: Pick<Host, "lstat" | "readdir">, inbox: string): Promise<string[]> {
  const runsDir = join(inbox, "runs");
  const st = await host.lstat(runsDir);
  if (st?.kind !== "dir") return [];
  const runs = (await host.readdir(runsDir))
    .filter((d) => d.kind === "dir")
    .map((d) => parseRunName(d.name))
    .filter((r): r is RunName => r !== undefined);
  return runs.sort(compareRunNamesNewestFirst).map((r) => r.name);
}

/** Status of one agent; `withSize` measures the inbox (a du walk). */
export async function agentStatus(ctx: OpContext, name: string, withSize = true): Promise<AgentStatus> {
  assertAgentName(name);
  const a = agentPaths(ctx.paths, name);
  const [stored, state] = await Promise.all([
    readStoredSpec(ctx.host, a.spec),
    getDomState(ctx.run, ctx.opts.connect, name),
  ]);
  if (!stored && state === undefined)
    throw new NotFoundError(`no agent named ${name}`, { hint: "`agentshare list` shows the agents" });
  const running = state === "running";
  const ready =
    running && stored !== undefined && (await markerMatches(ctx.host, a.readyMarker, stored.instanceId));
  const ip = running ? ((await guestAccess(ctx, name, stored).catch(() => undefined))?.host ?? null) : null;
  const hasInbox = (await ctx.host.lstat(a.inbox))?.kind === "dir";
  const space = withSize && hasInbox ? await inboxSpace(ctx.host, a) : undefined;
  const runs = hasInbox ? await listRuns(ctx.host, a.inbox) : [];
  const latest = runs[0] ? await readRunMetrics(ctx.host, a.inbox, runs[0]) : undefined;
  return {
    name,
    state: state ?? "not defined",
    ready,
    ip,
    forward: stored?.forward ?? null,
    inbox: a.inbox,
    inboxBytes: space?.usedBytes ?? null,
    inboxLimitBytes: space?.sizeBytes ?? null,
    inboxFull: space?.full ?? false,
    runs: runs.length,
    latestRun: runs[0] ?? null,
    latestExitCode: latest?.exitCode ?? null,
    latestPersisted: latest?.persisted ?? null,
    domainType: stored?.domainType ?? null,
    instanceId: stored?.instanceId ?? null,
    createdAt: stored?.createdAt ?? null,
  };
}

/**
 * Every agent with a folder in <state-dir>/agents (the ones agentshare provisioned). libvirt is
 * asked first, so an unreachable libvirtd is a ToolError (69), never an empty list; only a folder
 * that is no agent (no spec, no domain) is left out.
 */
export async function listAgents(ctx: OpContext): Promise<AgentStatus[]> {
  await listDomainNames(ctx.run, ctx.opts.connect);
  const valid = await provisionedAgentNames(ctx.host, ctx.paths.agentsDir);
  const all = await Promise.all(
    valid.map((n) =>
      agentStatus(ctx, n).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }),
    ),
  );
  return all.filter((s): s is AgentStatus => s !== undefined);
}
