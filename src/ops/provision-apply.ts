// The changing half of provision: what to do with an existing agent, and the ordered,
// re-runnable steps that create one. Host-only files go to <state-dir>/agents/NAME (0700).
import { tempNameFor } from "../adapters/fs.js";
import type { Host } from "../host/host.js";
import { createOverlay } from "../adapters/qemu-img.js";
import { writeAgentKeys } from "../adapters/ssh-keys.js";
import { writeSeedIso } from "../adapters/seed-iso.js";
import {
  defineDomain,
  dumpDomainXml,
  getDomState,
  undefineDomain,
  destroyDomain,
} from "../adapters/virsh.js";
import { METADATA_NS } from "../core/domain-xml.js";
import { DataError } from "../errors.js";
import type { OpContext } from "./context.js";
import type { PreparedAgent } from "./agent-spec.js";
import { ensureInbox } from "./inbox.js";
import { storedSpecOf, writeAgentDocuments, type StoredSpec } from "./provision-files.js";

export type ApplyStages = "inbox" | "documents" | "seed" | "disk" | "define";

/** Keys of the agent config whose values differ: what changed since the last provision. */
export function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** A libvirt domain is ours when its metadata carries our namespace and the agent's name. */
export function isOurDomainXml(xml: string, name: string): boolean {
  return xml.includes(METADATA_NS) && xml.includes(`<agentshare:name>${name}</agentshare:name>`);
}

/** Decides what provision does with whatever already exists under this name. */
export async function existingAgentAction(
  ctx: OpContext,
  p: PreparedAgent,
  stored: StoredSpec | undefined,
  recreate: boolean,
): Promise<"create" | "unchanged" | "recreate"> {
  const name = p.inputs.name;
  const state = await getDomState(ctx.run, ctx.opts.connect, name);
  if (stored && state !== undefined) {
    if (stored.specHash === p.plan.specHash) return "unchanged";
    if (recreate) return "recreate";
    const changed = changedKeys(
      stored.config as unknown as Record<string, unknown>,
      p.inputs.config as unknown as Record<string, unknown>,
    );
    throw new DataError(
      `agent ${name} exists with a different spec (changed: ${changed.join(", ") || "domain type or root"})`,
      {
        hint: `pass --recreate to replace its VM (the inbox is kept), or \`agentshare destroy ${name}\` first`,
      },
    );
  }
  if (state !== undefined) {
    const xml = await dumpDomainXml(ctx.run, ctx.opts.connect, name);
    if (!isOurDomainXml(xml, name))
      throw new DataError(`a libvirt domain named ${name} exists and was not created by agentshare`, {
        hint: "pick another agent name, or remove that domain with virsh",
      });
  }
  return "create";
}

async function timed<T>(
  timings: Partial<Record<ApplyStages, number>>,
  stage: ApplyStages,
  fn: () => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  timings[stage] = Math.round(performance.now() - t0);
  return r;
}

/** Removes a half-made or replaced domain (stopping it first); the inbox is never touched. */
async function removeOldDomain(ctx: OpContext, p: PreparedAgent): Promise<void> {
  const state = await getDomState(ctx.run, ctx.opts.connect, p.inputs.name);
  if (state === undefined) return;
  if (state !== "shut off") await destroyDomain(ctx.run, ctx.opts.connect, p.inputs.name);
  await undefineDomain(ctx.run, ctx.opts.connect, p.inputs.name);
}

/** Dot-temp files left by an atomic write that was killed midway. */
async function removeStaleTemps(host: Host, dir: string): Promise<void> {
  for (const { name } of await host.readdir(dir))
    if (/^\..+\.tmp-\d+-[0-9a-f]+$/.test(name)) await host.rm(`${dir}/${name}`, { force: true });
}

/** Creates or re-creates the agent; returns milliseconds per stage. spec.json is written last. */
export async function applyProvision(
  ctx: OpContext,
  p: PreparedAgent,
  recreate: boolean,
): Promise<Partial<Record<ApplyStages, number>>> {
  const a = p.inputs.agent;
  const c = p.inputs.config;
  const timings: Partial<Record<ApplyStages, number>> = {};
  await ctx.host.ensureDir(ctx.paths.agentsDir, 0o711);
  await ctx.host.ensureDir(a.dir, 0o711);
  await removeStaleTemps(ctx.host, a.dir);
  // From here until spec.json is written again the agent counts as half-made, so a crash converges.
  await ctx.host.rm(a.spec, { force: true });
  await removeOldDomain(ctx, p);
  const inbox = await timed(timings, "inbox", () =>
    ensureInbox(ctx.host, ctx.paths.inboxesDir, a, { uid: c.uid, gid: c.gid, limitBytes: p.inboxLimitBytes }),
  );
  for (const w of [inbox.ownerMismatch, inbox.warning]) if (w) ctx.out.warn(w);
  await timed(timings, "documents", async () => {
    await ctx.host.writeFileAtomic(a.token, `${p.inputs.token}\n`, 0o600);
    await writeAgentKeys(ctx.host, a.dir, p.keys);
    await writeAgentDocuments(ctx.host, a.dir, p);
  });
  await timed(timings, "seed", () =>
    writeSeedIso(ctx.host, { userData: p.plan.userData, metaData: p.plan.metaData }, a.seedIso),
  );
  await timed(timings, "disk", async () => {
    await ctx.host.rm(a.disk, { force: true });
    if (!p.plan.imagePath) return;
    const tmp = tempNameFor(a.disk);
    await createOverlay(ctx.run, { base: p.plan.imagePath, overlay: tmp, size: c.disk });
    await ctx.host.rename(tmp, a.disk);
  });
  if (recreate) await ctx.host.rm(a.consoleLog, { force: true });
  await timed(timings, "define", () => defineDomain(ctx.run, ctx.opts.connect, a.domainXml));
  await ctx.host.writeFileAtomic(a.spec, `${JSON.stringify(storedSpecOf(p), null, 2)}\n`, 0o600);
  return timings;
}
