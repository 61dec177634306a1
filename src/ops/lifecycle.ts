// `agentshare start|stop|restart NAME`: the VM of an agent that provision made. Each holds the
// agent's lock (agent-lock.ts) and writes one audit line per start or stop it did.
// start: mounts the inbox, starts the VM and (unless --no-wait) waits for this instance's
// readiness marker; a running agent is a no-op ("already running"). stop: ACPI shutdown, then
// forced off after the timeout; a stopped agent is a no-op ("already stopped").
import { writeAudit } from "../adapters/audit.js";
import { dumpDomainXml, getDomState } from "../adapters/virsh.js";
import { agentPaths } from "../core/paths.js";
import { DataError, NotFoundError } from "../errors.js";
import type { OpContext } from "./context.js";
import { assertAgentName } from "./agent-name.js";
import { withAgentLock } from "./agent-lock.js";
import { stopDomain } from "./destroy.js";
import { isOurDomainXml } from "./provision-apply.js";
import { readStoredSpec, type StoredSpec } from "./provision-files.js";
import { startAndWait, type StartResult } from "./provision-start.js";
import { markerMatches } from "./wait-ready.js";

export interface StartOptions {
  name: string;
  wait: boolean;
  timeoutMs: number;
}

export interface StopOptions {
  name: string;
  /** How long a graceful (ACPI) shutdown may take before the VM is forced off. */
  shutdownTimeoutMs: number;
}

export interface StartAgentResult extends StartResult {
  name: string;
  action: "started" | "already-running";
}

export interface StopAgentResult {
  name: string;
  action: "stopped" | "already-stopped";
  stopped: "graceful" | "forced" | "was-stopped" | "no-domain";
}

export interface RestartAgentResult extends StartAgentResult {
  stopped: StopAgentResult["stopped"];
}

/** The agent's stored spec; NotFoundError (66) when provision never made it, DataError when the domain is not ours. */
async function findAgent(ctx: OpContext, name: string): Promise<{ stored: StoredSpec; state?: string }> {
  assertAgentName(name);
  const stored = await readStoredSpec(ctx.host, agentPaths(ctx.paths, name).spec);
  const state = await getDomState(ctx.run, ctx.opts.connect, name);
  if (!stored)
    throw new NotFoundError(`no agent named ${name}`, {
      hint: "`agentshare list` shows the agents; `agentshare provision NAME` makes one",
    });
  if (state === undefined)
    throw new NotFoundError(`agent ${name} has no libvirt domain (a provision did not finish?)`, {
      hint: `run \`agentshare provision ${name}\` again: it completes a half-made agent`,
    });
  if (!isOurDomainXml(await dumpDomainXml(ctx.run, ctx.opts.connect, name), name))
    throw new DataError(`the libvirt domain ${name} was not created by agentshare; leaving it alone`);
  return { stored, state };
}

const audit = (ctx: OpContext, rec: { verb: string; agent: string; result: string; [k: string]: unknown }) =>
  writeAudit(ctx.host, ctx.paths.auditLog, [rec], ctx.clock);

async function startLocked(ctx: OpContext, o: StartOptions): Promise<StartAgentResult> {
  const { stored, state } = await findAgent(ctx, o.name);
  if (state === "running") {
    const ready = await markerMatches(ctx.host, agentPaths(ctx.paths, o.name).readyMarker, stored.instanceId);
    return { name: o.name, action: "already-running", state, ready };
  }
  let r: StartResult;
  try {
    r = await startAndWait(ctx, stored, o);
  } catch (err) {
    const stage = o.wait ? "wait" : "start";
    await audit(ctx, {
      verb: "start",
      agent: o.name,
      result: "failed",
      stage,
      error: (err as Error).message,
    }).catch(() => undefined);
    throw err;
  }
  await audit(ctx, { verb: "start", agent: o.name, result: r.ready ? "ready" : "started" });
  return { name: o.name, action: "started", ...r };
}

async function stopLocked(ctx: OpContext, o: StopOptions): Promise<StopAgentResult> {
  await findAgent(ctx, o.name);
  const stopped = await stopDomain(ctx, o.name, o.shutdownTimeoutMs);
  if (stopped === "was-stopped" || stopped === "no-domain")
    return { name: o.name, action: "already-stopped", stopped };
  await audit(ctx, { verb: "stop", agent: o.name, result: "ok", stopped });
  return { name: o.name, action: "stopped", stopped };
}

/** Starts an agent's VM (see the file comment); exits 66 for an unknown agent, 65 for a bad name. */
export function startAgent(ctx: OpContext, o: StartOptions): Promise<StartAgentResult> {
  assertAgentName(o.name);
  return withAgentLock(ctx, o.name, () => startLocked(ctx, o));
}

/** Stops an agent's VM: graceful, then forced after `shutdownTimeoutMs`. */
export function stopAgent(ctx: OpContext, o: StopOptions): Promise<StopAgentResult> {
  assertAgentName(o.name);
  return withAgentLock(ctx, o.name, () => stopLocked(ctx, o));
}

/** Stops (when running) and starts again, under one hold of the lock. */
export function restartAgent(ctx: OpContext, o: StartOptions & StopOptions): Promise<RestartAgentResult> {
  assertAgentName(o.name);
  return withAgentLock(ctx, o.name, async () => {
    const { stopped } = await stopLocked(ctx, o);
    return { ...(await startLocked(ctx, o)), stopped };
  });
}
