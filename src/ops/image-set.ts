// Moving a finished image set (qcow2, vmlinuz, initrd, metadata) into place atomically,
// reading it back, and checking it: shared by build, the cache, list and rm.
import { createReadStream, promises as fsp } from "node:fs";
import { createHash } from "node:crypto";
import { fsyncDir, writeFileAtomic } from "../adapters/fs.js";
import { imageFiles, parseImageMeta, type ImageFiles, type ImageMeta } from "../core/image-meta.js";
import { DataError } from "../errors.js";

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** The metadata of a complete set, or undefined when NAME.json or one of the files is missing. */
export async function readImageSet(
  dir: string,
  name: string,
): Promise<{ files: ImageFiles; meta: ImageMeta } | undefined> {
  const files = imageFiles(dir, name);
  const text = await fsp.readFile(files.meta, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = parseImageMeta(text);
  if ("problems" in parsed)
    throw new DataError(`${files.meta} is not valid image metadata:\n  ${parsed.problems.join("\n  ")}`, {
      hint: `rebuild it: agentshare image build ${name} --rebuild`,
    });
  for (const f of [files.qcow2, files.vmlinuz, files.initrd])
    if (!(await fsp.stat(f).catch(() => undefined))) return undefined;
  return { files, meta: parsed.meta };
}

/** Throws a DataError when a file's sha256 differs from the metadata (a truncated or altered copy). */
export async function verifySet(files: ImageFiles, meta: ImageMeta): Promise<void> {
  for (const k of ["qcow2", "vmlinuz", "initrd"] as const) {
    const got = await sha256File(files[k]);
    if (got !== meta.sha256[k])
      throw new DataError(`${files[k]}: sha256 ${got} does not match its metadata (${meta.sha256[k]})`, {
        hint: "the copy is damaged: remove it and build again with --rebuild",
      });
  }
}

/**
 * Installs the set staged at `staged` (same file system) under `final`: the old metadata goes
 * first, the new metadata last, so a set is only ever listed or reused when it is complete.
 */
export async function installSet(staged: ImageFiles, final: ImageFiles, meta: ImageMeta): Promise<void> {
  await fsp.rm(final.meta, { force: true });
  for (const k of ["qcow2", "vmlinuz", "initrd"] as const) await fsp.rename(staged[k], final[k]);
  await writeFileAtomic(final.meta, `${JSON.stringify(meta, null, 2)}\n`);
  await fsyncDir(final.meta.slice(0, final.meta.lastIndexOf("/")) || "/");
}

/** Copies a set's three files into `dest` (a staging folder). */
export async function copySetFiles(src: ImageFiles, dest: ImageFiles): Promise<void> {
  for (const k of ["qcow2", "vmlinuz", "initrd"] as const) await fsp.copyFile(src[k], dest[k]);
}

/** Names of the complete-looking sets in `dir` (NAME.json files; dot-files are work in progress). */
export async function imageNames(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  return entries
    .filter((e) => e.endsWith(".json") && !e.startsWith("."))
    .map((e) => e.slice(0, -".json".length))
    .sort();
}
