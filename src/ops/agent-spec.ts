// Shared by provision (dry-run and real): name check → config → domain type → plan.
import { randomBytes, randomUUID } from "node:crypto";
import { basename, dirname } from "node:path";
import { probeKvm } from "../adapters/kvm.js";
import { checkQcow2File } from "../adapters/qemu-img.js";
import { makeAgentKeys, type AgentKeyPairs } from "../adapters/ssh-keys.js";
import { planAgent, resolveImagePath, type AgentPlan, type PlanInputs } from "../core/agent-plan.js";
import type { AgentConfig } from "../core/config.js";
import type { HostPaths } from "../core/paths.js";
import { agentPaths } from "../core/paths.js";
import { resolveDomainType } from "../core/domain-type.js";
import { parseSize } from "../core/units.js";
import type { Host } from "../host/host.js";
import type { OpContext } from "./context.js";
import { loadConfig, type LoadedConfig } from "./config-load.js";
import { assertAgentName } from "./agent-name.js";
import { loadGuestPayload } from "./guest-payload.js";
import { readImageSet } from "./image-set.js";

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
  /** Made in memory here; written to the agent's state dir only by a real provision. */
  keys: AgentKeyPairs;
  /** Size of the inbox's file system (inboxQuota). */
  inboxLimitBytes: number;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");

/**
 * An image built by `agentshare image build` (NAME.qcow2 beside NAME.json, NAME.vmlinuz and
 * NAME.initrd.img) has no bootloader: it boots its own kernel. Any other qcow2 boots its disk.
 */
async function imageKernelOf(h: Host, c: AgentConfig, host: HostPaths): Promise<PlanInputs["imageKernel"]> {
  const path = resolveImagePath(c.image, host);
  if (c.kernel || !path?.endsWith(".qcow2")) return undefined;
  const set = await readImageSet(h, dirname(path), basename(path, ".qcow2"));
  return set && { path: set.files.vmlinuz, initrd: set.files.initrd, cmdline: set.meta.cmdline };
}

/** Ports on the VM host's 127.0.0.1 for `access: loopback`, free when provision plans (kept in spec.json afterwards). */
async function pickForward(h: Host): Promise<PlanInputs["forward"]> {
  const [health, ssh] = await h.freeLoopbackPorts(2);
  return { health: health!, ssh: ssh! };
}

/**
 * The agent's name, config and base image checked, touching nothing (not libvirt either). A base
 * image that exists must be a qcow2 image; a missing one is the real provision's prerequisite
 * check (a dry run may plan for an image not built yet).
 */
export async function loadAgentConfig(
  ctx: OpContext,
  opts: Omit<SpecOptions, "libvirtVersion">,
): Promise<LoadedConfig> {
  assertAgentName(opts.name);
  const loaded = await loadConfig({
    configFile: ctx.opts.config,
    profile: opts.profile,
    agentName: opts.name,
    flags: opts.flags,
  });
  const imagePath = resolveImagePath(loaded.config.agent.image, ctx.paths);
  if (imagePath) await checkQcow2File(ctx.host, imagePath);
  return loaded;
}

/** Validates and resolves everything about an agent (with `loaded` from loadAgentConfig); no change on disk. */
export async function prepareAgent(
  ctx: OpContext,
  opts: SpecOptions,
  loaded?: LoadedConfig,
): Promise<PreparedAgent> {
  loaded ??= await loadAgentConfig(ctx, opts);
  const dt = resolveDomainType(loaded.config.agent.domainType, await probeKvm(ctx.host));
  const now = ctx.clock();
  const keys = makeAgentKeys(opts.name);
  const imageKernel = await imageKernelOf(ctx.host, loaded.config.agent, ctx.paths);
  const forward = loaded.config.agent.access === "loopback" ? await pickForward(ctx.host) : undefined;
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
    keys: {
      clientPublicKey: keys.clientPublicKey,
      hostPrivateKey: keys.hostPrivateKey,
      hostPublicKey: keys.hostPublicKey,
    },
    ...(imageKernel ? { imageKernel } : {}),
    ...(forward ? { forward } : {}),
  };
  return {
    inputs,
    plan: planAgent(inputs),
    profile: loaded.profile,
    domainTypeReason: dt.reason,
    keys,
    inboxLimitBytes: parseSize(loaded.config.inboxQuota)!, // validated by loadConfig
  };
}
