// Shared by provision (dry-run and real): name check → config → domain type → plan.
import { randomBytes, randomUUID } from "node:crypto";
import { probeKvm } from "../adapters/kvm.js";
import { planAgent, type AgentPlan, type PlanInputs } from "../core/agent-plan.js";
import { checkAgentName } from "../core/names.js";
import { agentPaths } from "../core/paths.js";
import { resolveDomainType } from "../core/domain-type.js";
import { DataError } from "../errors.js";
import type { Context } from "../cli/context.js";
import { loadConfig } from "./config-load.js";
import { loadGuestPayload } from "./guest-payload.js";

export interface SpecOptions {
  name: string;
  profile?: string;
  flags?: Record<string, unknown>;
  /** libvirt's version as a number (9000000 = 9.0.0); 0 when unknown. */
  libvirtVersion: number;
}

export interface PreparedAgent {
  inputs: PlanInputs;
  plan: AgentPlan;
  profile: string;
  domainTypeReason: string;
}

/** Throws DataError (65) naming the rule when the agent name is invalid; touches nothing. */
export function assertAgentName(name: string): void {
  const rule = checkAgentName(name);
  if (rule)
    throw new DataError(`invalid agent name ${JSON.stringify(name)}: ${rule}`, {
      hint: "agent names are hostnames: lowercase letters, digits and '-', starting with a letter, e.g. agent-01",
    });
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");

/** Validates and resolves everything about an agent; no change on disk. */
export async function prepareAgent(ctx: Context, opts: SpecOptions): Promise<PreparedAgent> {
  assertAgentName(opts.name);
  const loaded = await loadConfig({
    configFile: ctx.opts.config,
    profile: opts.profile,
    agentName: opts.name,
    flags: opts.flags,
  });
  const dt = resolveDomainType(loaded.config.agent.domainType, await probeKvm());
  const now = ctx.clock();
  const inputs: PlanInputs = {
    name: opts.name,
    config: loaded.config.agent,
    host: ctx.paths,
    agent: agentPaths(ctx.paths, opts.name),
    domainType: dt.type,
    readonlyVirtiofs: opts.libvirtVersion >= 11_000_000,
    instanceId: `iid-${opts.name}-${stamp(now)}-${randomBytes(3).toString("hex")}`,
    uuid: randomUUID(),
    token: randomBytes(32).toString("hex"),
    createdAt: now.toISOString(),
    guest: await loadGuestPayload(),
  };
  return { inputs, plan: planAgent(inputs), profile: loaded.profile, domainTypeReason: dt.reason };
}
