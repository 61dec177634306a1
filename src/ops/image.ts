// `image list` and `image rm`: the built image sets under the images dir.
import { writeAudit } from "../adapters/audit.js";
import { imageFiles } from "../core/image-meta.js";
import { checkImageName } from "../core/image-recipe.js";
import { DataError, NotFoundError, UsageError } from "../errors.js";
import type { OpContext } from "./context.js";
import type { Host } from "../host/host.js";
import { imageNames, readImageSet } from "./image-set.js";

export interface ImageListEntry {
  name: string;
  /** Bytes of the qcow2 on the host. */
  size: number;
  builtAt: string;
  kernel: string;
  packages: Record<string, string>;
  path: string;
}

/** The complete image sets in `imagesDir`, by name; an absent or empty dir gives []. */
export async function listImages(host: Host, imagesDir: string): Promise<ImageListEntry[]> {
  const out: ImageListEntry[] = [];
  for (const name of await imageNames(host, imagesDir)) {
    if (checkImageName(name)) continue;
    const set = await readImageSet(host, imagesDir, name).catch((err: unknown) => {
      if (err instanceof DataError) return undefined; // a damaged set is reported by `image build`, not listed
      throw err;
    });
    if (!set) continue;
    const m = set.meta;
    out.push({
      name,
      size: m.sizes.qcow2,
      builtAt: m.builtAt,
      kernel: m.kernelRelease,
      packages: m.packages,
      path: set.files.qcow2,
    });
  }
  return out;
}

/**
 * Removes image `name` (metadata first, so a half-removed set is never listed). Overlays of
 * existing agents still point at the qcow2: remove those agents first. NotFoundError (66) when absent.
 */
export async function removeImage(
  ctx: Pick<OpContext, "paths" | "clock" | "host">,
  name: string,
): Promise<string[]> {
  const bad = checkImageName(name);
  if (bad)
    throw new UsageError(`image name ${JSON.stringify(name)} ${bad}`, {
      hint: "see `agentshare image list`",
    });
  const f = imageFiles(ctx.paths.imagesDir, name);
  const removed: string[] = [];
  for (const p of [f.meta, f.qcow2, f.vmlinuz, f.initrd]) {
    const st = await ctx.host.lstat(p).catch(() => undefined);
    if (!st) continue;
    await ctx.host.rm(p, { force: true });
    removed.push(p);
  }
  if (!removed.length)
    throw new NotFoundError(`no image ${JSON.stringify(name)} in ${ctx.paths.imagesDir}`, {
      hint: "see `agentshare image list`",
    });
  await writeAudit(
    ctx.host,
    ctx.paths.auditLog,
    [{ verb: "image-rm", result: "ok", image: name }],
    ctx.clock,
  );
  return removed;
}
