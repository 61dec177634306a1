// The inbox's runs as the guest sees them: `current` resolved safely, and the run list with
// each run's metrics.json summary. Nothing here follows a symlink out of the inbox.
import { constants, promises as fsp } from "node:fs";
import { join } from "node:path";
import { isRunName } from "../core/run-names.js";
import { runExitOf, type RunExit } from "../core/run-exit.js";

const METRICS_MAX = 64 * 1024;

/** The run dir of `name` when it is a real directory (not a symlink) under a real runs/. */
export async function runDir(inbox: string, name: string): Promise<string | undefined> {
  if (!isRunName(name)) return undefined;
  try {
    const runs = await fsp.lstat(join(inbox, "runs"));
    const dir = join(inbox, "runs", name);
    const st = await fsp.lstat(dir);
    return runs.isDirectory() && st.isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The run `current` points to: only a relative `runs/<run name>` counts, else null. */
export async function resolveCurrentRun(inbox: string): Promise<string | null> {
  let target: string;
  try {
    target = await fsp.readlink(join(inbox, "current"));
  } catch {
    return null;
  }
  const m = /^(?:\.\/)?runs\/([^/]+)\/?$/.exec(target);
  const name = m?.[1];
  if (name === undefined || !(await runDir(inbox, name))) return null;
  return name;
}

/** Reads at most `max` bytes of a regular file, refusing symlinks, FIFOs and devices. */
export async function readBounded(path: string, max: number): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    const buf = Buffer.alloc(Math.min(max, st.size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** metrics.json as an object, or null when it is missing, too big, not JSON or not an object. */
function parseMetrics(raw: Buffer | undefined): Record<string, unknown> | null {
  if (!raw || raw.length >= METRICS_MAX) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    return null;
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : null;
}

/** The scalar top-level fields of metrics.json (bounded; nested values and long strings dropped). */
export function summariseMetrics(raw: Buffer | undefined): Record<string, unknown> | null {
  const parsed = parseMetrics(raw);
  if (!parsed) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed).slice(0, 64)) {
    const scalar = typeof v === "number" || typeof v === "boolean" || v === null;
    if (k.length <= 64 && (scalar || (typeof v === "string" && v.length <= 256))) out[k] = v;
  }
  return out;
}

export interface RunSummary {
  run: string;
  current: boolean;
  metrics: Record<string, unknown> | null;
}

/** The newest `limit` runs, newest first, each with its metrics summary (null while running). */
export async function listRuns(inbox: string, limit: number): Promise<RunSummary[]> {
  let names: string[];
  try {
    if (!(await fsp.lstat(join(inbox, "runs"))).isDirectory()) return [];
    names = (await fsp.readdir(join(inbox, "runs"))).filter((n) => isRunName(n));
  } catch {
    return [];
  }
  const current = await resolveCurrentRun(inbox);
  names.sort(compareRuns).reverse();
  const out: RunSummary[] = [];
  for (const run of names.slice(0, limit)) {
    const raw = await readBounded(join(inbox, "runs", run, "metrics.json"), METRICS_MAX);
    out.push({ run, current: run === current, metrics: summariseMetrics(raw) });
  }
  return out;
}

/** Orders run names by time, then by the -N suffix numerically. */
export function compareRuns(a: string, b: string): number {
  const key = (n: string) => [n.slice(0, 19), Number(n.slice(20) || 0)] as const;
  const [ta, na] = key(a);
  const [tb, nb] = key(b);
  return ta < tb ? -1 : ta > tb ? 1 : na - nb;
}

/**
 * How a finished run ended, from its metrics.json: its exit code and whether its output
 * persisted (docs/runs.md); undefined while it runs (no metrics.json) or when unreadable.
 */
export async function readRunExit(dir: string): Promise<RunExit | undefined> {
  const m = parseMetrics(await readBounded(join(dir, "metrics.json"), METRICS_MAX));
  return m ? runExitOf(m) : undefined;
}
