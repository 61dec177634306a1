// `agentshare resize NAME --quota SIZE`: grows an agent's inbox file system: online while its VM
// runs (the guest sees the new size in `df /mnt/inbox` at once), offline when it is stopped.
// File systems are never shrunk.
import { writeAudit } from "../adapters/audit.js";
import { getDomState } from "../adapters/virsh.js";
import { MIN_INBOX_BYTES } from "../core/config.js";
import { agentPaths } from "../core/paths.js";
import { formatBytes, parseSize } from "../core/units.js";
import { DataError, NotFoundError, UsageError } from "../errors.js";
import type { OpContext } from "./context.js";
import { assertAgentName } from "./agent-name.js";
import { ensureInbox } from "./inbox.js";
import { readStoredSpec } from "./provision-files.js";

export interface ResizeResult {
  name: string;
  fromBytes: number;
  limitBytes: number;
  action: "grown" | "unchanged";
}

/** Grows NAME's inbox to `quota`; refuses a smaller size, and an agent without an inbox file system. */
export async function resizeInbox(ctx: OpContext, name: string, quota: string): Promise<ResizeResult> {
  assertAgentName(name);
  const bytes = parseSize(quota);
  if (bytes === undefined || bytes < MIN_INBOX_BYTES)
    throw new UsageError(
      `--quota must be a size of at least 32M, such as 20G (got ${JSON.stringify(quota)})`,
    );
  const a = agentPaths(ctx.paths, name);
  const img = await ctx.host.lstat(a.inboxImage);
  if (img?.kind !== "file")
    throw new NotFoundError(`${name} has no inbox file system (${a.inboxImage})`, {
      hint: `provision it first: agentshare provision ${name}`,
    });
  if (bytes < img.size)
    throw new DataError(`${name}'s inbox is ${formatBytes(img.size)}; file systems are never shrunk`, {
      hint: `give a size of at least ${formatBytes(img.size)}, or destroy --purge-inbox and provision again`,
    });
  const stored = await readStoredSpec(ctx.host, a.spec);
  const owner = (await ctx.host.lstat(a.inbox).catch(() => undefined)) ?? { uid: 0, gid: 0 };
  const vmRunning = (await getDomState(ctx.run, ctx.opts.connect, name)) === "running";
  const r = await ensureInbox(ctx.host, ctx.paths.inboxesDir, a, {
    uid: stored?.config.uid ?? owner.uid,
    gid: stored?.config.gid ?? owner.gid,
    limitBytes: bytes,
    vmRunning,
  });
  if (stored && stored.inboxLimitBytes !== bytes)
    await ctx.host.writeFileAtomic(
      a.spec,
      `${JSON.stringify({ ...stored, inboxLimitBytes: bytes }, null, 2)}\n`,
      0o600,
    );
  const action = r.grownFrom === undefined ? "unchanged" : "grown";
  await writeAudit(
    ctx.host,
    ctx.paths.auditLog,
    [{ verb: "resize", agent: name, result: "ok", action, fromBytes: img.size, limitBytes: bytes }],
    ctx.clock,
  );
  return { name, fromBytes: img.size, limitBytes: bytes, action };
}
