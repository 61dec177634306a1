// The fleet's hosts as ops: what one host reports about itself (`host list`), publishing a file of
// this machine's global to a host (promote's fan-out), and `sync`: making a host's global match
// this machine's by checksum. The controlling machine's global is the source; on each host the
// copy is atomic (temp, fsync, rename) with its sha256 sidecar, exactly as a local promote.
import { join } from "node:path";
import { getLibvirtVersion } from "../adapters/virsh.js";
import { buildSha256Line, parseSha256Line } from "../core/checksum-line.js";
import { formatSshTarget, type HostEntry } from "../core/fleet.js";
import { GLOBAL_SUBDIRS, type GlobalSubdir } from "../core/paths.js";
import { DataError } from "../errors.js";
import type { Host } from "../host/host.js";
import type { OpContext } from "./context.js";
import { provisionedAgentNames } from "./agent-name.js";
import { memAvailableMiB } from "./fleet.js";

export interface HostInfo {
  name: string;
  /** user@address[:port]; null for this machine. */
  ssh: string | null;
  reachable: boolean;
  error?: string;
  libvirt?: string;
  hypervisor?: string;
  memAvailableMiB?: number;
  memTotalMiB?: number;
  agents?: number;
  labels: Record<string, string>;
  maxAgents: number | null;
  memory: number | null;
}

/** What the host says about itself; never throws for an unreachable host (reachable: false, why). */
export async function hostInfo(entry: HostEntry, ctxOf: () => Promise<OpContext>): Promise<HostInfo> {
  const base: HostInfo = {
    name: entry.name,
    ssh: entry.ssh ? formatSshTarget(entry.ssh) : null,
    reachable: false,
    labels: entry.labels,
    maxAgents: entry.maxAgents,
    memory: entry.memory,
  };
  try {
    const ctx = await ctxOf();
    const meminfo = await ctx.host.readText("/proc/meminfo");
    const total = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
    const v = await getLibvirtVersion(ctx.run, ctx.opts.connect);
    return {
      ...base,
      reachable: true,
      libvirt: v.libvirtText,
      ...(v.hypervisorText ? { hypervisor: v.hypervisorText } : {}),
      memAvailableMiB: memAvailableMiB(meminfo),
      ...(total ? { memTotalMiB: Math.floor(Number(total[1]) / 1024) } : {}),
      agents: (await provisionedAgentNames(ctx.host, ctx.paths.agentsDir)).length,
    };
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The published files of a global tree: subdir/name → sha256 from its sidecar (regular files only). */
export async function globalManifest(
  host: Host,
  globalDir: string,
): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  for (const sub of GLOBAL_SUBDIRS) {
    const dir = join(globalDir, sub);
    const entries = await host.readdir(dir).catch(() => []);
    for (const e of entries) {
      if (e.kind !== "file" || e.name.endsWith(".sha256") || e.name.endsWith(".meta.json")) continue;
      if (e.name.startsWith(".")) continue; // temp files of a copy in progress
      const side = await host.readGuestFile(join(dir, `${e.name}.sha256`), 4096).catch(() => undefined);
      const parsed = side ? parseSha256Line(Buffer.from(side).toString("utf8"), e.name) : undefined;
      out.set(`${sub}/${e.name}`, parsed && "hex" in parsed ? parsed.hex : undefined);
    }
  }
  return out;
}

/**
 * Copies `sub/name` of this machine's global (`from`, `fromGlobal`) to `to`'s global: the file by
 * a checked one-pass copy (placed only when its sha256 on arrival is `sha256`), then its sidecar
 * and .meta.json, each atomically, mode 0444.
 */
export async function publishToHost(
  from: Host,
  fromGlobal: string,
  to: Host,
  toGlobal: string,
  rel: string,
  sha256: string,
): Promise<{ size: number }> {
  const [sub, name] = rel.split("/") as [GlobalSubdir, string];
  await to.ensureDir(join(toGlobal, sub), 0o755);
  const src = await from.openFileNoFollow(join(fromGlobal, rel), `global/${rel}`);
  let size: number;
  try {
    const r = await to.copyHashed(src, join(toGlobal, rel), {
      mode: 0o444,
      replace: true,
      label: `global/${rel}`,
      beforePlace: (got) => {
        if (got.sha256 !== sha256)
          throw new DataError(
            `global/${rel} arrived on host ${to.name} as ${got.sha256}, not ${sha256}; not placed`,
          );
      },
    });
    size = r.size;
  } finally {
    await src.close();
  }
  await to.writeFileAtomic(join(toGlobal, `${rel}.sha256`), buildSha256Line(sha256, name), 0o444);
  const meta = await from
    .readGuestFile(join(fromGlobal, `${rel}.meta.json`), 64 * 1024)
    .catch(() => undefined);
  if (meta) await to.writeFileAtomic(join(toGlobal, `${rel}.meta.json`), meta, 0o444);
  return { size };
}

export interface SyncHostResult {
  host: string;
  ok: boolean;
  error?: string;
  /** Files copied because they were missing or differed there. */
  copied: string[];
  /** Files already the same. */
  same: number;
  /** Files only that host has: reported, never removed or kept silently. */
  extra: string[];
}

export interface SyncResult {
  ok: boolean;
  hosts: SyncHostResult[];
}

/** Makes `to`'s global hold every file of this machine's, by checksum; lists what only it has. */
export async function syncHost(
  from: Host,
  fromGlobal: string,
  to: Host,
  toGlobal: string,
): Promise<SyncHostResult> {
  const mine = await globalManifest(from, fromGlobal);
  const theirs = await globalManifest(to, toGlobal);
  const result: SyncHostResult = { host: to.name, ok: true, copied: [], same: 0, extra: [] };
  for (const [rel, sidecar] of mine) {
    // this machine's own file is hashed (its sidecar could be stale); theirs on their side
    const sha = await from.hashFile(join(fromGlobal, rel));
    if (sidecar !== undefined && sidecar !== sha)
      throw new DataError(`global/${rel} here does not match its own .sha256 sidecar; fix it before syncing`);
    const there = theirs.has(rel) ? await to.hashFile(join(toGlobal, rel)).catch(() => undefined) : undefined;
    if (there === sha && theirs.get(rel) === sha) {
      result.same++;
      continue;
    }
    await publishToHost(from, fromGlobal, to, toGlobal, rel, sha);
    result.copied.push(rel);
  }
  result.extra = [...theirs.keys()].filter((rel) => !mine.has(rel)).sort();
  return result;
}
