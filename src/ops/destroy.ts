// `agentshare destroy NAME`: stop (graceful, then forced), undefine, remove the host-only state.
// The inbox is kept unless purgeInbox; then it is moved into the trash (rename, same file
// system) and removed there without following symlinks or crossing mounts.
import { basename, join } from "node:path";
import { writeAudit } from "../adapters/audit.js";
import {
  destroyDomain,
  dumpDomainXml,
  getDomState,
  shutdownDomain,
  undefineDomain,
} from "../adapters/virsh.js";
import { agentPaths, type AgentPaths } from "../core/paths.js";
import { DataError, NotFoundError, ToolError } from "../errors.js";
import type { OpContext } from "./context.js";
import { assertAgentName } from "./agent-name.js";
import { withAgentLock } from "./agent-lock.js";
import { removeInboxImage } from "./inbox.js";
import { isOurDomainXml } from "./provision-apply.js";

export interface DestroyOptions {
  name: string;
  purgeInbox: boolean;
  /** How long a graceful shutdown may take before the VM is forced off. */
  shutdownTimeoutMs: number;
}

export interface DestroyResult {
  name: string;
  stopped: "graceful" | "forced" | "was-stopped" | "no-domain";
  undefined: boolean;
  inbox: string;
  inboxKept: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops a running domain: ACPI shutdown, polled until shut off, then `virsh destroy` past the timeout. */
export async function stopDomain(
  ctx: OpContext,
  name: string,
  timeoutMs: number,
): Promise<DestroyResult["stopped"]> {
  const uri = ctx.opts.connect;
  const state = await getDomState(ctx.run, uri, name);
  if (state === undefined) return "no-domain";
  if (state === "shut off") return "was-stopped";
  await shutdownDomain(ctx.run, uri, name).catch(() => undefined); // a guest without ACPI ignores it
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    ctx.out.progress(
      `${name}: waiting for the guest to shut down (${Math.ceil((deadline - Date.now()) / 1000)}s)`,
    );
    if ((await getDomState(ctx.run, uri, name)) !== "running") break;
    await sleep(250);
  }
  ctx.out.progressDone();
  const after = await getDomState(ctx.run, uri, name);
  if (after === "shut off" || after === undefined) return "graceful";
  await destroyDomain(ctx.run, uri, name);
  return "forced";
}

/** Unmounts and deletes the inbox's file system, then removes its mount point (or an old plain inbox). */
async function purge(ctx: OpContext, a: AgentPaths): Promise<void> {
  await removeInboxImage(ctx.host, a);
  const inbox = a.inbox;
  const st = await ctx.host.lstat(inbox);
  if (!st) return;
  if (st.kind !== "dir") throw new DataError(`${inbox} is not a directory; leaving it alone`);
  const batch = await ctx.host.makeTrashBatch(ctx.paths.trash, ctx.paths.root, st.dev, "inbox");
  await ctx.host.rename(inbox, join(batch, basename(inbox)));
  const r = await ctx.host.removeTree(batch);
  if (!r.ok)
    throw new ToolError(`could not remove ${batch}: ${r.stderr.trim()}`, {
      hint: `remove it by hand: rm -rf --one-file-system ${batch}`,
    });
}

/** Destroys one agent, holding its lock (see agent-lock.ts). Exits 66 when there is no such agent. */
export async function destroyAgent(ctx: OpContext, o: DestroyOptions): Promise<DestroyResult> {
  assertAgentName(o.name);
  return withAgentLock(ctx, o.name, () => destroyLocked(ctx, o));
}

async function destroyLocked(ctx: OpContext, o: DestroyOptions): Promise<DestroyResult> {
  const a = agentPaths(ctx.paths, o.name);
  const state = await getDomState(ctx.run, ctx.opts.connect, o.name);
  const hasDir = (await ctx.host.lstat(a.dir)) !== undefined;
  if (state === undefined && !hasDir) {
    // An inbox kept by an earlier destroy can still be purged on its own.
    const kept = (await ctx.host.lstat(a.inbox)) ?? (await ctx.host.lstat(a.inboxImage));
    if (!o.purgeInbox || !kept)
      throw new NotFoundError(`no agent named ${o.name}`, {
        hint: kept
          ? `its inbox ${a.inbox} was kept: \`agentshare destroy ${o.name} --purge-inbox\` removes it`
          : "`agentshare list` shows the agents",
      });
  }
  if (state !== undefined && !isOurDomainXml(await dumpDomainXml(ctx.run, ctx.opts.connect, o.name), o.name))
    throw new DataError(`the libvirt domain ${o.name} was not created by agentshare; leaving it alone`);
  const stopped = await stopDomain(ctx, o.name, o.shutdownTimeoutMs);
  if (state !== undefined) await undefineDomain(ctx.run, ctx.opts.connect, o.name);
  // <state-dir>/agents/NAME is host-only (never shared into a VM), so a plain recursive removal is safe.
  await ctx.host.rm(a.dir, { recursive: true, force: true });
  if (o.purgeInbox) await purge(ctx, a);
  await writeAudit(
    ctx.host,
    ctx.paths.auditLog,
    [{ verb: "destroy", agent: o.name, result: "ok", stopped, inboxKept: !o.purgeInbox, inbox: a.inbox }],
    ctx.clock,
  );
  return { name: o.name, stopped, undefined: state !== undefined, inbox: a.inbox, inboxKept: !o.purgeInbox };
}
