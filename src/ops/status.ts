// `agentshare list` and `agentshare status NAME`: what libvirt says, whether the guest reported
// ready, its address, and the inbox's size and runs. Inbox reads never follow guest symlinks.
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { measureTree } from "../adapters/du.js";
import { lstatOrUndefined } from "../adapters/fs.js";
import { getDomState } from "../adapters/virsh.js";
import { checkAgentName } from "../core/names.js";
import { agentPaths } from "../core/paths.js";
import type { HostForward } from "../core/agent-plan.js";
import { compareRunNamesNewestFirst, parseRunName, type RunName } from "../core/run-names.js";
import { NotFoundError } from "../errors.js";
import type { Context } from "../cli/context.js";
import { assertAgentName } from "./agent-name.js";
import { readStoredSpec } from "./provision-files.js";
import { guestAccess } from "./endpoint.js";
import { markerMatches } from "./wait-ready.js";

export interface AgentStatus {
  name: string;
  state: string;
  ready: boolean;
  ip: string | null;
  /** With `access: loopback`: the host ports on 127.0.0.1 forwarded to the guest. */
  forward: HostForward | null;
  inbox: string;
  inboxBytes: number | null;
  runs: number;
  latestRun: string | null;
  domainType: string | null;
  instanceId: string | null;
  createdAt: string | null;
}

/** Run folders in the inbox, newest first: names matching the run pattern, real directories only. */
export async function listRuns(inbox: string): Promise<string[]> {
  const runsDir = join(inbox, "runs");
  const st = await lstatOrUndefined(runsDir);
  if (!st?.isDirectory()) return [];
  const runs = (await fsp.readdir(runsDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => parseRunName(d.name))
    .filter((r): r is RunName => r !== undefined);
  return runs.sort(compareRunNamesNewestFirst).map((r) => r.name);
}

/** Status of one agent; `withSize` measures the inbox (a du walk). */
export async function agentStatus(ctx: Context, name: string, withSize = true): Promise<AgentStatus> {
  assertAgentName(name);
  const a = agentPaths(ctx.paths, name);
  const [stored, state] = await Promise.all([
    readStoredSpec(a.spec),
    getDomState(ctx.run, ctx.opts.connect, name),
  ]);
  if (!stored && state === undefined)
    throw new NotFoundError(`no agent named ${name}`, { hint: "`agentshare list` shows the agents" });
  const running = state === "running";
  const ready = running && stored !== undefined && (await markerMatches(a.readyMarker, stored.instanceId));
  const ip = running ? ((await guestAccess(ctx, name, stored).catch(() => undefined))?.host ?? null) : null;
  const hasInbox = (await lstatOrUndefined(a.inbox))?.isDirectory() ?? false;
  const sizes =
    withSize && hasInbox ? await measureTree(ctx.run, a.inbox, 0).catch(() => undefined) : undefined;
  const runs = hasInbox ? await listRuns(a.inbox) : [];
  return {
    name,
    state: state ?? "not defined",
    ready,
    ip,
    forward: stored?.forward ?? null,
    inbox: a.inbox,
    inboxBytes: sizes?.get(a.inbox) ?? null,
    runs: runs.length,
    latestRun: runs[0] ?? null,
    domainType: stored?.domainType ?? null,
    instanceId: stored?.instanceId ?? null,
    createdAt: stored?.createdAt ?? null,
  };
}

/** Every agent with a folder in <state-dir>/agents (the ones agentshare provisioned). */
export async function listAgents(ctx: Context): Promise<AgentStatus[]> {
  const names = await fsp.readdir(ctx.paths.agentsDir).catch(() => [] as string[]);
  const valid = names.filter((n) => checkAgentName(n) === undefined).sort();
  return Promise.all(valid.map((n) => agentStatus(ctx, n).catch(() => undefined))).then((l) =>
    l.filter((s): s is AgentStatus => s !== undefined),
  );
}
