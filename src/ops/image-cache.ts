// The image cache shared between state dirs (tests, CI): <cache>/images/<recipe key>/image.*
// A finished set is copied in after a build and copied out instead of building, so only a
// change of the recipe (packages, customisations, size) costs a new debootstrap.
import { join } from "node:path";
import type { Host } from "../host/host.js";
import { imageFiles, type ImageFiles, type ImageMeta } from "../core/image-meta.js";
import { copySetFiles, installSet, readImageSet, verifySet } from "./image-set.js";

/** The folder of one cache entry. */
export const cacheEntryDir = (cacheDir: string, key: string) => join(cacheDir, "images", key);

/** Copies the cached set for `key` into `staged` and checks its sha256; undefined on a miss. */
export async function loadFromCache(
  host: Host,
  cacheDir: string,
  key: string,
  staged: ImageFiles,
): Promise<ImageMeta | undefined> {
  const hit = await readImageSet(host, cacheEntryDir(cacheDir, key), "image");
  if (!hit || hit.meta.recipeKey !== key) return undefined;
  await copySetFiles(host, hit.files, staged);
  await verifySet(host, staged, hit.meta);
  return hit.meta;
}

/** Stores a finished set under `key` (replacing an older entry); a half-written entry is never visible. */
export async function storeInCache(
  host: Host,
  cacheDir: string,
  key: string,
  files: ImageFiles,
  meta: ImageMeta,
): Promise<string> {
  const parent = join(cacheDir, "images");
  await host.mkdir(parent, { recursive: true, mode: 0o755 });
  const tmp = join(parent, `.${key}.tmp-${process.pid}`);
  await host.rm(tmp, { recursive: true, force: true });
  await host.mkdir(tmp, { mode: 0o755 });
  try {
    const staged = imageFiles(tmp, "image.tmp");
    await copySetFiles(host, files, staged);
    await installSet(host, staged, imageFiles(tmp, "image"), meta);
    const entry = cacheEntryDir(cacheDir, key);
    await host.rm(entry, { recursive: true, force: true });
    await host.rename(tmp, entry);
    return entry;
  } finally {
    await host.rm(tmp, { recursive: true, force: true });
  }
}
