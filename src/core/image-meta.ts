// A built image set under the images dir: NAME.qcow2, NAME.vmlinuz, NAME.initrd.img and
// NAME.json (this metadata, written last: its presence means the set is complete). Pure.
import { join } from "node:path";

export interface ImageFiles {
  qcow2: string;
  vmlinuz: string;
  initrd: string;
  meta: string;
}

/** The four files of image `name` in `dir`, in the order they are installed (metadata last). */
export function imageFiles(dir: string, name: string): ImageFiles {
  return {
    qcow2: join(dir, `${name}.qcow2`),
    vmlinuz: join(dir, `${name}.vmlinuz`),
    initrd: join(dir, `${name}.initrd.img`),
    meta: join(dir, `${name}.json`),
  };
}

export interface ImageMeta {
  name: string;
  builtAt: string;
  suite: string;
  mirror: string;
  recipeKey: string;
  cmdline: string;
  kernelRelease: string;
  /** Versions of the packages that matter to a guest: kernel, cloud-init, nodejs. */
  packages: Record<string, string>;
  /** Bytes on the host (qcow2, vmlinuz, initrd) and the disk's virtual size. */
  sizes: { qcow2: number; virtual: number; vmlinuz: number; initrd: number };
  sha256: { qcow2: string; vmlinuz: string; initrd: string };
  /** Seconds per build stage. */
  stages: Record<string, number>;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function checkRecord(
  v: unknown,
  keys: readonly string[],
  type: "string" | "number",
  field: string,
  bad: string[],
) {
  if (!isObj(v)) return bad.push(`${field}: must be an object`);
  for (const k of keys) if (typeof v[k] !== type) bad.push(`${field}.${k}: must be a ${type}`);
}

/** Every problem with a parsed metadata document, each with its field path; empty when valid. */
export function validateImageMeta(doc: unknown): string[] {
  const bad: string[] = [];
  if (!isObj(doc)) return ["metadata: must be a JSON object"];
  for (const k of ["name", "builtAt", "suite", "mirror", "recipeKey", "cmdline", "kernelRelease"])
    if (typeof doc[k] !== "string") bad.push(`${k}: must be a string`);
  if (typeof doc.builtAt === "string" && Number.isNaN(Date.parse(doc.builtAt)))
    bad.push("builtAt: must be an ISO date");
  checkRecord(doc.sizes, ["qcow2", "virtual", "vmlinuz", "initrd"], "number", "sizes", bad);
  checkRecord(doc.sha256, ["qcow2", "vmlinuz", "initrd"], "string", "sha256", bad);
  if (!isObj(doc.packages) || Object.values(doc.packages).some((v) => typeof v !== "string"))
    bad.push("packages: must map package names to version strings");
  if (!isObj(doc.stages) || Object.values(doc.stages).some((v) => typeof v !== "number"))
    bad.push("stages: must map stage names to seconds");
  return bad;
}

/** Parses NAME.json; returns the metadata or the list of problems. */
export function parseImageMeta(text: string): { meta: ImageMeta } | { problems: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { problems: [`not JSON: ${(err as Error).message}`] };
  }
  const problems = validateImageMeta(doc);
  return problems.length ? { problems } : { meta: doc as ImageMeta };
}

/** Versions of `names` from a dpkg status file (/var/lib/dpkg/status): installed packages only. */
export function parseDpkgStatus(text: string, names: readonly string[]): Record<string, string> {
  const wanted = new Set(names);
  const found: Record<string, string> = {};
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (f: string) => new RegExp(`^${f}: (.*)$`, "m").exec(stanza)?.[1]?.trim();
    const pkg = field("Package");
    if (!pkg || !wanted.has(pkg)) continue;
    if (!/\binstalled$/.test(field("Status") ?? "")) continue;
    const version = field("Version");
    if (version) found[pkg] = version;
  }
  return found;
}

/** The newest kernel release among /boot file names like `vmlinuz-6.1.0-37-cloud-amd64`. */
export function pickKernelRelease(bootEntries: readonly string[]): string | undefined {
  const releases = bootEntries
    .filter((e) => e.startsWith("vmlinuz-"))
    .map((e) => e.slice("vmlinuz-".length))
    .filter((r) => bootEntries.includes(`initrd.img-${r}`));
  return releases.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).at(-1);
}
