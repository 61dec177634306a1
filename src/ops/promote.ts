// promote: publishes a reviewed file from <root>/staging/ into <root>/global/<sub>/, in one
// pass (read, hash, write a temp file, fsync, rename), with a sha256sum sidecar and a
// .meta.json beside it, all mode 0444. Guests see the old file or the new one, never a mix.
import { userInfo } from "node:os";
import { join } from "node:path";
import type { OpContext } from "./context.js";
import type { HashCopyResult } from "../host/host.js";
import { buildSha256Line, parseSha256Line } from "../core/checksum-line.js";
import type { GlobalSubdir } from "../core/paths.js";
import { checkFileName } from "../core/staging-names.js";
import { DataError, NotFoundError } from "../errors.js";
import { checkAuditWritable, record } from "./record.js";

export interface PromoteOptions {
  file: string;
  to: GlobalSubdir;
  force: boolean;
}

export interface PromoteResult extends HashCopyResult {
  name: string;
  source: string;
  dest: string;
  replaced: boolean;
  stagingChecksum: "verified" | "absent";
}

async function checkDirs(ctx: OpContext, to: GlobalSubdir): Promise<string> {
  for (const dir of [ctx.paths.staging, join(ctx.paths.global, to)]) {
    const st = await ctx.host.lstat(dir);
    if (!st)
      throw new NotFoundError(`${dir} does not exist`, {
        hint: "create the host tree first: `agentshare init`",
      });
    if (st.kind !== "dir")
      throw new DataError(`${dir} is not a directory${st.kind === "symlink" ? " (it is a symlink)" : ""}`);
  }
  return join(ctx.paths.global, to);
}

/** The digest staging/NAME.sha256 promises, or undefined when there is no such file. */
async function expectedDigest(ctx: OpContext, name: string): Promise<string | undefined> {
  const path = join(ctx.paths.staging, `${name}.sha256`);
  const st = await ctx.host.lstat(path);
  if (!st) return undefined;
  const text = st.kind === "file" ? await ctx.host.readGuestFile(path, 4096) : undefined;
  if (!text) throw new DataError(`staging/${name}.sha256 is not a regular file`);
  const parsed = parseSha256Line(Buffer.from(text).toString("utf8"), name);
  if ("problem" in parsed) throw new DataError(`staging/${name}.sha256 ${parsed.problem}`);
  return parsed.hex;
}

/** Promotes one staging file; refuses to replace an existing one without `force`. */
export async function promote(ctx: OpContext, opts: PromoteOptions): Promise<PromoteResult> {
  const problem = checkFileName(opts.file);
  if (problem)
    throw new DataError(`file name ${JSON.stringify(opts.file)} ${problem}`, {
      hint: "give the plain name of a file directly inside <root>/staging/",
    });
  const name = opts.file;
  const source = join(ctx.paths.staging, name);
  const dest = join(await checkDirs(ctx, opts.to), name);
  await checkAuditWritable(ctx);
  try {
    const result = await publish(ctx, opts, name, source, dest);
    await record(ctx, {
      verb: "promote",
      result: "ok",
      source,
      dest,
      sha256: result.sha256,
      size: result.size,
      replaced: result.replaced,
    });
    return result;
  } catch (err) {
    await record(ctx, { verb: "promote", result: "error", source, dest, error: (err as Error).message });
    throw err;
  }
}

async function publish(
  ctx: OpContext,
  opts: PromoteOptions,
  name: string,
  source: string,
  dest: string,
): Promise<PromoteResult> {
  const existing = await ctx.host.lstat(dest);
  if (existing && !opts.force)
    throw new DataError(`global/${opts.to}/${name} already exists`, { hint: "pass --force to replace it" });
  if (existing && existing.kind !== "file")
    throw new DataError(`global/${opts.to}/${name} exists and is not a regular file; remove it by hand`);
  const expected = await expectedDigest(ctx, name);
  const src = await ctx.host.openFileNoFollow(source, `staging/${name}`);
  let copied: HashCopyResult;
  try {
    copied = await ctx.host.copyHashed(src, dest, {
      mode: 0o444,
      replace: opts.force,
      label: `staging/${name}`,
      beforePlace: (r) => {
        if (expected !== undefined && r.sha256 !== expected)
          throw new DataError(
            `staging/${name} does not match staging/${name}.sha256 (${r.sha256} ≠ ${expected})`,
            {
              hint: "the file changed after its checksum was made; check where it came from",
            },
          );
      },
    });
  } finally {
    await src.close();
  }
  await ctx.host.writeFileAtomic(`${dest}.sha256`, buildSha256Line(copied.sha256, name), 0o444);
  const meta = {
    name,
    sha256: copied.sha256,
    size: copied.size,
    promoted_at: ctx.clock().toISOString(),
    promoted_by: process.env.SUDO_USER ?? userInfo().username,
    source,
    staging_sha256: expected === undefined ? "absent" : "verified",
  };
  await ctx.host.writeFileAtomic(`${dest}.meta.json`, `${JSON.stringify(meta, null, 2)}\n`, 0o444);
  return {
    ...copied,
    name,
    source,
    dest,
    replaced: Boolean(existing),
    stagingChecksum: meta.staging_sha256 as "verified" | "absent",
  };
}
