// The reads behind `serve`'s runs, files, staging and audit views: an agent's runs with their
// metrics.json, a run's files, one file opened for download, the staging area with each file's
// sha256, and the audit log's last records. Everything under an inbox is guest-written: every
// path is opened one component at a time without following a symlink (adapters/safe-open.ts),
// and metrics fields are copied only when they have the documented type (docs/runs.md).
import { createHash } from "node:crypto";
// Not yet through the host seam (ctx.host): serve's download hands out a local FileHandle, and the
// run-file walk reads through /proc/self/fd paths. Left for the remote-host work (issue 10).
// eslint-disable-next-line no-restricted-imports
import { promises as fsp } from "node:fs";
// eslint-disable-next-line no-restricted-imports
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { readGuestFile } from "../adapters/fs.js";
import { beneath, openDirNoFollow, openFileBeneath, openFileNoFollow } from "../adapters/safe-open.js";
import { agentPaths } from "../core/paths.js";
import { isRunName } from "../core/run-names.js";
import { DataError, NotFoundError } from "../errors.js";
import type { OpContext } from "./context.js";
import { assertAgentName } from "./agent-name.js";
import { listRuns } from "./status.js";

/** One run as the runs view shows it; the metrics fields are null while it runs or when unreadable. */
export interface RunInfo {
  run: string;
  finished: boolean;
  exitCode: number | null;
  signalName: string | null;
  start: string | null;
  end: string | null;
  durationS: number | null;
  maxRssKib: number | null;
  outputsBytes: number | null;
  persisted: boolean | null;
  persistErrors: string[];
}

export interface RunFile {
  /** Relative to the run dir, "/"-separated (e.g. "outputs/report.txt"). */
  path: string;
  size: number;
}

export interface StagingFile {
  name: string;
  size: number;
  sha256: string;
}

/** At most this many runs, files and audit records per answer. */
export const LIST_MAX = 1000;
const FILES_DEPTH = 6;

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown, max = 64) => (typeof v === "string" ? v.slice(0, max) : null);

/** A RunInfo from a run's name and its parsed (untrusted) metrics.json, if any. */
export function runInfoOf(run: string, m: Record<string, unknown> | undefined): RunInfo {
  return {
    run,
    finished: m !== undefined,
    exitCode: m && Number.isInteger(m.exit_code) ? (m.exit_code as number) : null,
    signalName: m ? str(m.signal_name) : null,
    start: m ? str(m.start) : null,
    end: m ? str(m.end) : null,
    durationS: m ? num(m.duration_s) : null,
    maxRssKib: m ? num(m.max_rss_kib) : null,
    outputsBytes: m ? num(m.outputs_bytes) : null,
    persisted: m ? m.persisted !== false : null,
    persistErrors:
      m && Array.isArray(m.persist_errors)
        ? m.persist_errors
            .filter((e): e is string => typeof e === "string")
            .slice(0, 8)
            .map((e) => e.slice(0, 300))
        : [],
  };
}

async function readMetrics(inbox: string, run: string): Promise<Record<string, unknown> | undefined> {
  const raw = await readGuestFile(join(inbox, "runs", run, "metrics.json")).catch(() => undefined);
  if (!raw) return undefined;
  try {
    const doc: unknown = JSON.parse(raw.toString("utf8"));
    return typeof doc === "object" && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const inboxOf = (ctx: OpContext, name: string) => {
  assertAgentName(name);
  return agentPaths(ctx.paths, name).inbox;
};

const checkRun = (run: string) => {
  if (!isRunName(run))
    throw new DataError(`invalid run name ${JSON.stringify(run)}`, {
      hint: "run names look like run-YYYYmmdd-HHMMSS; list them with GET /api/agents/NAME/runs",
    });
};

/** The agent's runs, newest first, each with what its metrics.json says. */
export async function listRunInfos(ctx: OpContext, name: string): Promise<RunInfo[]> {
  const inbox = inboxOf(ctx, name);
  const runs = (await listRuns(ctx.host, inbox).catch(() => [] as string[])).slice(0, LIST_MAX);
  return Promise.all(runs.map(async (r) => runInfoOf(r, await readMetrics(inbox, r))));
}

/** The parts of a relative path, refused when any is empty, ".", ".." or holds a NUL. */
export function pathParts(path: string): string[] {
  const parts = path.split("/");
  if (!path || parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\0")))
    throw new DataError(`invalid file path ${JSON.stringify(path)}`, {
      hint: 'give a path relative to the run dir, without "..", e.g. outputs/report.txt',
    });
  return parts;
}

/** The regular files of a run (its logs, metrics and outputs/…), never through a symlink. */
export async function listRunFiles(ctx: OpContext, name: string, run: string): Promise<RunFile[]> {
  const inbox = inboxOf(ctx, name);
  checkRun(run);
  const runs = await openDirNoFollow(join(inbox, "runs"), `${name}'s runs folder`);
  const out: RunFile[] = [];
  try {
    const dir = await openDirNoFollow(beneath(runs, run), `run ${run}`);
    await walk(dir, "", 0, out);
  } finally {
    await runs.close();
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

async function walk(dir: FileHandle, prefix: string, depth: number, out: RunFile[]): Promise<void> {
  try {
    for (const d of await fsp.readdir(beneath(dir), { withFileTypes: true })) {
      if (out.length >= LIST_MAX) return;
      const rel = prefix ? `${prefix}/${d.name}` : d.name;
      if (d.isFile()) {
        const st = await fsp.lstat(beneath(dir, d.name)).catch(() => undefined);
        if (st?.isFile()) out.push({ path: rel, size: st.size });
      } else if (d.isDirectory() && depth < FILES_DEPTH) {
        const sub = await openDirNoFollow(beneath(dir, d.name)).catch(() => undefined);
        if (sub) await walk(sub, rel, depth + 1, out);
      }
    }
  } finally {
    await dir.close();
  }
}

/** Opens one file of a run for reading, never outside the inbox; the caller closes it. */
export async function openRunFile(
  ctx: OpContext,
  name: string,
  run: string,
  path: string,
): Promise<{ handle: FileHandle; size: number }> {
  const inbox = inboxOf(ctx, name);
  checkRun(run);
  const parts = pathParts(path);
  const handle = await openFileBeneath(inbox, ["runs", run, ...parts], `${run}/${path}`);
  return { handle, size: (await handle.stat()).size };
}

async function sha256Of(path: string): Promise<{ size: number; sha256: string } | undefined> {
  const fh = await openFileNoFollow(path).catch(() => undefined);
  if (!fh) return undefined;
  try {
    const h = createHash("sha256");
    let size = 0;
    for await (const chunk of fh.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      h.update(chunk);
      size += chunk.length;
    }
    return { size, sha256: h.digest("hex") };
  } finally {
    await fh.close();
  }
}

/** The staging area's regular files (symlinks and folders left out), each with its sha256. */
export async function listStaging(ctx: OpContext): Promise<StagingFile[]> {
  const names = await fsp.readdir(ctx.paths.staging).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT")
      throw new NotFoundError(`no staging folder at ${ctx.paths.staging}`, {
        hint: "create the host tree: agentshare init",
      });
    throw err;
  });
  const out: StagingFile[] = [];
  for (const n of names.sort().slice(0, LIST_MAX)) {
    if (n.startsWith(".")) continue;
    const s = await sha256Of(join(ctx.paths.staging, n));
    if (s) out.push({ name: n, ...s });
  }
  return out;
}

/** The audit log's last `limit` records, oldest first (a line that is not JSON is skipped). */
export async function readAuditTail(ctx: OpContext, limit = 200): Promise<Record<string, unknown>[]> {
  const max = 1024 * 1024;
  const fh = await openFileNoFollow(ctx.paths.auditLog).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });
  if (!fh) return [];
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - max);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf.toString("utf8").split("\n");
    if (start > 0) lines.shift(); // a cut first line
    const out: Record<string, unknown>[] = [];
    for (const l of lines.filter(Boolean).slice(-Math.min(limit, LIST_MAX))) {
      try {
        const doc: unknown = JSON.parse(l);
        if (typeof doc === "object" && doc !== null) out.push(doc as Record<string, unknown>);
      } catch {
        // not a record
      }
    }
    return out;
  } finally {
    await fh.close();
  }
}
