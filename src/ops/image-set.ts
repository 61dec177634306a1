// Moving a finished image set (qcow2, vmlinuz, initrd, metadata) into place atomically,
// reading it back, and checking it: shared by build, the cache, list and rm.
import { dirname } from "node:path";
import { imageFiles, parseImageMeta, type ImageFiles, type ImageMeta } from "../core/image-meta.js";
import { DataError } from "../errors.js";
import type { Host } from "../host/host.js";

/** sha256 of a file on the host, streamed. */
export const sha256File = (host: Host, path: string): Promise<string> => host.hashFile(path);

/** The metadata of a complete set, or undefined when NAME.json or one of the files is missing. */
export async function readImageSet(
  host: Host,
  dir: string,
  name: string,
): Promise<{ files: ImageFiles; meta: ImageMeta } | undefined> {
  const files = imageFiles(dir, name);
  const text = await host.readText(files.meta).catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = parseImageMeta(text);
  if ("problems" in parsed)
    throw new DataError(`${files.meta} is not valid image metadata:\n  ${parsed.problems.join("\n  ")}`, {
      hint: `rebuild it: agentshare image build ${name} --rebuild`,
    });
  for (const f of [files.qcow2, files.vmlinuz, files.initrd])
    if (!(await host.stat(f).catch(() => undefined))) return undefined;
  return { files, meta: parsed.meta };
}

/** Throws a DataError when a file's sha256 differs from the metadata (a truncated or altered copy). */
export async function verifySet(host: Host, files: ImageFiles, meta: ImageMeta): Promise<void> {
  for (const k of ["qcow2", "vmlinuz", "initrd"] as const) {
    const got = await sha256File(host, files[k]);
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
export async function installSet(
  host: Host,
  staged: ImageFiles,
  final: ImageFiles,
  meta: ImageMeta,
): Promise<void> {
  await host.rm(final.meta, { force: true });
  for (const k of ["qcow2", "vmlinuz", "initrd"] as const) await host.rename(staged[k], final[k]);
  await host.writeFileAtomic(final.meta, `${JSON.stringify(meta, null, 2)}\n`, 0o644);
  await host.fsync(dirname(final.meta));
}

/** Copies a set's three files into `dest` (a staging folder). */
export async function copySetFiles(host: Host, src: ImageFiles, dest: ImageFiles): Promise<void> {
  for (const k of ["qcow2", "vmlinuz", "initrd"] as const) await host.copyFile(src[k], dest[k]);
}

/** Names of the complete-looking sets in `dir` (NAME.json files; dot-files are work in progress). */
export async function imageNames(host: Host, dir: string): Promise<string[]> {
  const entries = await host.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  return entries
    .map((e) => e.name)
    .filter((e) => e.endsWith(".json") && !e.startsWith("."))
    .map((e) => e.slice(0, -".json".length))
    .sort();
}
