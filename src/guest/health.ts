// GET /health: who this is, which run is current, whether the shares are mounted as they
// should be, and how full /tmp and the inbox are.
import { promises as fsp } from "node:fs";
import { checkMount, parseMountinfo, type MountCheck } from "./mountinfo.js";
import { resolveCurrentRun } from "./runs.js";
import type { ServerOptions } from "./options.js";

export interface Usage {
  path: string;
  totalBytes: number;
  freeBytes: number;
  usedBytes: number;
}

async function usageOf(path: string): Promise<Usage | null> {
  try {
    const s = await fsp.statfs(path);
    const total = s.blocks * s.bsize;
    return { path, totalBytes: total, freeBytes: s.bavail * s.bsize, usedBytes: total - s.bfree * s.bsize };
  } catch {
    return null;
  }
}

export interface Health {
  ok: boolean;
  agent: string;
  run: string | null;
  uptimeSeconds: number;
  serverUptimeSeconds: number;
  mounts: { global: MountCheck; inbox: MountCheck };
  usage: { tmp: Usage | null; inbox: Usage | null };
}

/** Builds the /health document; `mountinfo` is the text of /proc/self/mountinfo. */
export async function buildHealth(o: ServerOptions, mountinfo: string, osUptime: number): Promise<Health> {
  const entries = parseMountinfo(mountinfo);
  const mounts = { global: checkMount(entries, o.global, "ro"), inbox: checkMount(entries, o.inbox, "rw") };
  return {
    ok: mounts.global.ok && mounts.inbox.ok,
    agent: o.agent,
    run: await resolveCurrentRun(o.inbox),
    uptimeSeconds: Math.round(osUptime),
    serverUptimeSeconds: Math.round(process.uptime()),
    mounts,
    usage: { tmp: await usageOf("/tmp"), inbox: await usageOf(o.inbox) },
  };
}

/** Reads /proc/self/mountinfo ("" where there is none). */
export async function readMountinfo(): Promise<string> {
  return fsp.readFile("/proc/self/mountinfo", "utf8").catch(() => "");
}
