// collect: copies one file out of an agent's inbox into <root>/staging/ for review. The
// path is walked component by component beneath O_NOFOLLOW directory fds, so nothing the
// guest planted (symlinks, swapped folders, FIFOs) can make the host read outside the inbox.
import { join } from "node:path";
import type { OpContext } from "./context.js";
import type { HashCopyResult } from "../host/host.js";
import { agentPaths } from "../core/paths.js";
import { checkFileName, splitRelativePath } from "../core/staging-names.js";
import { formatBytes } from "../core/units.js";
import { DataError, NotFoundError } from "../errors.js";
import { assertAgentName } from "./agent-name.js";
import { inboxDevice } from "./prune-scan.js";
import { checkAuditWritable, record } from "./record.js";

export interface CollectOptions {
  agent: string;
  path: string;
  as?: string;
  force: boolean;
  maxBytes: number;
}

export interface CollectResult extends HashCopyResult {
  agent: string;
  source: string;
  dest: string;
}

function checkInput(opts: CollectOptions): { parts: string[]; name: string } {
  assertAgentName(opts.agent);
  const split = splitRelativePath(opts.path);
  if ("problem" in split)
    throw new DataError(`path ${JSON.stringify(opts.path)} ${split.problem}`, {
      hint: "give a path relative to the inbox, e.g. runs/run-20250101-120000/outputs/report.md",
    });
  const name = opts.as ?? (split.parts[split.parts.length - 1] as string);
  const problem = checkFileName(name);
  if (problem)
    throw new DataError(`staging name ${JSON.stringify(name)} ${problem}`, {
      hint: "choose another name with --as NEWNAME",
    });
  return { parts: split.parts, name };
}

/** Collects one file; never replaces a staging file without `force`. */
export async function collect(ctx: OpContext, opts: CollectOptions): Promise<CollectResult> {
  const { parts, name } = checkInput(opts);
  const { inbox } = agentPaths(ctx.paths, opts.agent);
  const staging = await ctx.host.lstat(ctx.paths.staging);
  if (staging?.kind !== "dir")
    throw new NotFoundError(`${ctx.paths.staging} is not a directory`, {
      hint: "create the host tree first: `agentshare init`",
    });
  await inboxDevice(ctx.host, inbox);
  await checkAuditWritable(ctx);
  const source = join(inbox, ...parts);
  const dest = join(ctx.paths.staging, name);
  const src = await ctx.host.openFileBeneath(inbox, parts, `${opts.agent}-inbox/${parts.join("/")}`);
  try {
    const size = src.size;
    if (size > opts.maxBytes)
      throw new DataError(
        `${opts.agent}-inbox/${parts.join("/")} is ${formatBytes(size)}, over the limit of ${formatBytes(opts.maxBytes)}`,
        { hint: "raise the limit with --max-size" },
      );
    const copied = await ctx.host.copyHashed(src, dest, {
      mode: 0o640,
      replace: opts.force,
      maxBytes: opts.maxBytes,
      label: `${opts.agent}-inbox/${parts.join("/")}`,
    });
    await record(ctx, {
      verb: "collect",
      agent: opts.agent,
      result: "ok",
      source,
      dest,
      sha256: copied.sha256,
      size: copied.size,
    });
    return { ...copied, agent: opts.agent, source, dest };
  } finally {
    await src.close();
  }
}
