// Finds the virtiofsd libvirt will use and reads its version: the C one shipped with QEMU ≤ 7.2
// (/usr/lib/qemu/virtiofsd on Debian 12) or the Rust one (/usr/libexec/virtiofsd, ≥ 1.13 allows
// libvirt's <readonly/> on virtiofs from libvirt 11.0).
import { NotFoundError, toolError } from "../errors.js";
import { localRunner, type Runner } from "./runner.js";

/** vhost-user descriptor folders libvirt reads to find the virtiofsd it starts (QEMU's interop spec). */
export const VHOST_USER_DIRS = ["/etc/qemu/vhost-user", "/usr/share/qemu/vhost-user"] as const;
/** Where distributions install virtiofsd, tried after the descriptors (then PATH). */
export const VIRTIOFSD_PATHS = [
  "/usr/libexec/virtiofsd",
  "/usr/lib/qemu/virtiofsd",
  "/usr/lib/virtiofsd",
] as const;

export interface VirtiofsdVersion {
  /** "qemu": the C daemon from QEMU's tree; "rust": the standalone Rust daemon. */
  flavor: "qemu" | "rust";
  version: string;
}

export const versionArgv = () => ["--version"];

/**
 * Parses `virtiofsd --version`: the C daemon prints "virtiofsd version 7.2.22 (Debian …)" and a
 * QEMU copyright line; the Rust one prints "virtiofsd 1.13.1".
 */
export function parseVirtiofsdVersion(stdout: string): VirtiofsdVersion | undefined {
  const m = /^virtiofsd(?:\s+version)?\s+v?(\d+\.\d+(?:\.\d+)?)/m.exec(stdout);
  if (!m?.[1]) return undefined;
  const flavor = /QEMU|Fabrice Bellard|FUSE kernel interface/.test(stdout) ? "qemu" : "rust";
  return { flavor, version: m[1] };
}

/** The binary of a vhost-user descriptor (e.g. 50-qemu-virtiofsd.json) of type "fs", else undefined. */
export function parseVhostUserDescriptor(json: string): string | undefined {
  try {
    const d = JSON.parse(json) as { type?: unknown; binary?: unknown };
    return d.type === "fs" && typeof d.binary === "string" && d.binary.startsWith("/") ? d.binary : undefined;
  } catch {
    return undefined;
  }
}

async function fromDescriptors(run: Runner): Promise<string | undefined> {
  const r = await run("sh", ["-c", `ls ${VHOST_USER_DIRS.map((d) => `${d}/*.json`).join(" ")} 2>/dev/null`]);
  const files = r.stdout.split("\n").filter((f) => f.endsWith(".json"));
  files.sort((a, b) => a.slice(a.lastIndexOf("/")).localeCompare(b.slice(b.lastIndexOf("/"))));
  for (const f of files) {
    const bin = parseVhostUserDescriptor((await run("cat", [f])).stdout);
    if (bin && (await run("test", ["-x", bin])).exitCode === 0) return bin;
  }
  return undefined;
}

/** The virtiofsd libvirt would use (vhost-user descriptors, then the known paths, then PATH), or undefined. */
export async function findVirtiofsd(run: Runner = localRunner): Promise<string | undefined> {
  const described = await fromDescriptors(run);
  if (described) return described;
  const script = [
    ...VIRTIOFSD_PATHS.map((p) => `[ -x ${p} ] && { echo ${p}; exit 0; }`),
    "command -v virtiofsd",
  ].join("; ");
  const r = await run("sh", ["-c", script]);
  const found = r.stdout.trim().split("\n")[0];
  return r.exitCode === 0 && found ? found : undefined;
}

/** Path and version of the host's virtiofsd; NotFoundError when there is none. */
export async function getVirtiofsd(run: Runner = localRunner): Promise<{ path: string } & VirtiofsdVersion> {
  const path = await findVirtiofsd(run);
  if (!path)
    throw new NotFoundError(`virtiofsd not found (looked in ${VIRTIOFSD_PATHS.join(", ")} and on PATH)`, {
      hint: "on Debian 12 it comes with qemu-system-x86 (qemu-system-common): bash scripts/host-setup.sh",
    });
  const r = await run(path, versionArgv());
  const v = parseVirtiofsdVersion(`${r.stdout}\n${r.stderr}`);
  if (!v)
    throw toolError([path, ...versionArgv()], r, {
      hint: "cannot read its version; reinstall qemu-system-common",
    });
  return { path, ...v };
}
