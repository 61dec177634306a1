// `image build`: debootstrap → customise → kernel extract → mkfs → convert, in a dot-work dir
// under the images dir; the finished set is renamed into place (metadata last), so an
// interrupted build never leaves a broken image under the final name. Idempotent: an existing
// complete set is reused unless `rebuild`, and a cached set with the same recipe key is copied.
import { writeAudit } from "../adapters/audit.js";
import { imageFiles, type ImageFiles, type ImageMeta } from "../core/image-meta.js";
import { buildImageRecipe, checkImageName, recipeKey } from "../core/image-recipe.js";
import { parseSize } from "../core/units.js";
import { UsageError } from "../errors.js";
import type { OpContext } from "./context.js";
import { loadFromCache, storeInCache } from "./image-cache.js";
import { buildFresh } from "./image-fresh.js";
import { installSet, readImageSet } from "./image-set.js";
import { startStages } from "./image-stages.js";
import { removeStaleWorkDirs, removeWorkDir, workDirFor } from "./image-work.js";

export interface BuildImageOptions {
  name: string;
  rebuild: boolean;
  mirror?: string;
  size: string;
  /** Cache folder, or null for no cache. */
  cacheDir: string | null;
}

export interface BuildImageResult {
  name: string;
  source: "existing" | "cache" | "built";
  files: ImageFiles;
  meta: ImageMeta;
  /** Seconds per stage of this run, and in all. */
  stages: Record<string, number>;
  totalSeconds: number;
  cacheEntry?: string;
  removedStale: string[];
  /** An existing image built from another recipe (older agentshare, other --size): --rebuild updates it. */
  outdated?: boolean;
}

const MIN_SIZE = 1024 ** 3;

/** Checks the options; throws a UsageError naming the bad flag. */
export function checkBuildOptions(o: BuildImageOptions): { sizeBytes: number } {
  const bad = checkImageName(o.name);
  if (bad)
    throw new UsageError(`image name ${JSON.stringify(o.name)} ${bad}`, {
      hint: "e.g. agentshare image build debian-12",
    });
  const sizeBytes = parseSize(o.size);
  if (sizeBytes === undefined || sizeBytes < MIN_SIZE)
    throw new UsageError(
      `--size ${JSON.stringify(o.size)} must be a size of at least 1G (the tree is ~700 MB)`,
      {
        hint: "e.g. --size 2G",
      },
    );
  if (o.mirror !== undefined && !/^https?:\/\/[^\s]+$/.test(o.mirror))
    throw new UsageError(`--mirror ${JSON.stringify(o.mirror)} must be an http:// or https:// URL`, {
      hint: "e.g. --mirror http://deb.debian.org/debian",
    });
  return { sizeBytes };
}

/** Builds (or reuses) image `o.name` in ctx.paths.imagesDir. */
export async function buildImage(ctx: OpContext, o: BuildImageOptions): Promise<BuildImageResult> {
  const { sizeBytes } = checkBuildOptions(o);
  const recipe = buildImageRecipe(sizeBytes);
  const key = recipeKey(recipe);
  const dir = ctx.paths.imagesDir;
  await ctx.host.ensureStateDir(ctx.paths.stateDir);
  await ctx.host.ensureDir(dir, 0o755);
  const removedStale = await removeStaleWorkDirs(ctx.host, dir);
  const final = imageFiles(dir, o.name);
  const base = { name: o.name, files: final, removedStale };
  const existing = o.rebuild ? undefined : await readImageSet(ctx.host, dir, o.name);
  if (existing) {
    const outdated = existing.meta.recipeKey !== key;
    return { ...base, source: "existing", meta: existing.meta, stages: {}, totalSeconds: 0, outdated };
  }

  const work = workDirFor(dir, o.name);
  await removeWorkDir(ctx.host, work);
  await ctx.host.mkdir(work, { mode: 0o700 });
  const stages = startStages(ctx.out, `image ${o.name}`);
  try {
    const staged = imageFiles(work, "out");
    const cached =
      o.rebuild || !o.cacheDir
        ? undefined
        : await stages.run("cache", () => loadFromCache(ctx.host, o.cacheDir ?? "", key, staged));
    const meta = cached
      ? { ...cached, name: o.name }
      : await buildFresh(ctx, { o, recipe, key, work, staged, stages });
    await installSet(ctx.host, staged, final, meta);
    const source = cached ? ("cache" as const) : ("built" as const);
    const cacheEntry =
      source === "built" && o.cacheDir ? await cacheQuietly(ctx, o.cacheDir, key, final, meta) : undefined;
    await writeAudit(
      ctx.host,
      ctx.paths.auditLog,
      [{ verb: "image-build", result: "ok", image: o.name, source, recipeKey: key }],
      ctx.clock,
    );
    return { ...base, source, meta, stages: stages.done(), totalSeconds: stages.total(), cacheEntry };
  } finally {
    stages.stop();
    await removeWorkDir(ctx.host, work);
  }
}

async function cacheQuietly(
  ctx: OpContext,
  cacheDir: string,
  key: string,
  files: ImageFiles,
  meta: ImageMeta,
) {
  try {
    return await storeInCache(ctx.host, cacheDir, key, files, meta);
  } catch (err) {
    ctx.out.warn(`could not store the image in the cache ${cacheDir}: ${(err as Error).message}`);
    return undefined;
  }
}
