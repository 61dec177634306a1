// Reading one inbox for prune and du without trusting anything the guest wrote: the runs/
// folder is opened O_NOFOLLOW and listed beneath its fd, `current` is read with readlink,
// sizes come from du (no symlinks, one file system), and ages from the host's own record.
import { dirname, join } from "node:path";
import type { Host, HostDir } from "../host/host.js";
import { DataError, NotFoundError } from "../errors.js";
import { resolveCurrentTarget, type CurrentRun } from "../core/retention.js";
import { isRunName } from "../core/run-names.js";
import { emptyRunsSeen, parseRunsSeen, type RunsSeen } from "../core/runs-seen.js";

export interface InboxScan {
  inbox: string;
  dev: number;
  /** runs/ opened O_NOFOLLOW, or null when the inbox has none. The caller closes it. */
  runsDir: HostDir | null;
  runNames: string[];
  current: CurrentRun;
}

/** Checks the inbox is a real directory and returns its device number. */
export async function inboxDevice(host: Host, inbox: string): Promise<number> {
  const st = await host.lstat(inbox);
  if (!st)
    throw new NotFoundError(`inbox ${inbox} does not exist`, {
      hint: "check the agent name (`agentshare du` lists inboxes)",
    });
  if (st.kind !== "dir")
    throw new DataError(
      `inbox ${inbox} is not a directory${st.kind === "symlink" ? " (it is a symlink)" : ""}`,
    );
  return st.dev;
}

async function readCurrent(host: Host, inbox: string): Promise<CurrentRun> {
  const target = await host.readlink(join(inbox, "current"));
  if (target === undefined) return { kind: "none" };
  if (target === null) return { kind: "unknown", target: "(not a symlink)" };
  return resolveCurrentTarget(target, inbox, isRunName);
}

/** Lists the run directories of an inbox; refuses a symlinked or foreign-device runs/. */
export async function scanInbox(host: Host, inbox: string): Promise<InboxScan> {
  const dev = await inboxDevice(host, inbox);
  const current = await readCurrent(host, inbox);
  let runsDir: HostDir;
  try {
    runsDir = await host.openDirNoFollow(join(inbox, "runs"), `${inbox}/runs`);
  } catch (err) {
    if (err instanceof NotFoundError) return { inbox, dev, runsDir: null, runNames: [], current };
    throw err;
  }
  if (runsDir.dev !== dev) {
    await runsDir.close();
    throw new DataError(`${inbox}/runs is on another file system than the inbox; refusing it`);
  }
  const entries = await runsDir.entries();
  const runNames = entries.filter((e) => e.kind === "dir" && isRunName(e.name)).map((e) => e.name);
  return { inbox, dev, runsDir, runNames, current };
}

/**
 * The runs (of `scan.runNames`) that have a regular metrics.json, i.e. have finished (docs/runs.md).
 * Looked up beneath the runs/ fd without following a symlinked metrics.json; a guest can only
 * make its own run look finished or unfinished.
 */
export async function finishedRuns(scan: InboxScan): Promise<Set<string>> {
  const out = new Set<string>();
  const dir = scan.runsDir;
  if (!dir) return out;
  await Promise.all(
    scan.runNames.map(async (name) => {
      const st = await dir.lstat(`${name}/metrics.json`).catch(() => undefined);
      if (st?.kind === "file") out.add(name);
    }),
  );
  return out;
}

/** Bytes on disk of each run (by name) and of the whole inbox. */
export async function measureInbox(
  host: Host,
  inbox: string,
): Promise<{ total: number; runs: Map<string, number> }> {
  const sizes = await host.measureTree(inbox, 2);
  const prefix = `${join(inbox, "runs")}/`;
  const runs = new Map<string, number>();
  for (const [path, bytes] of sizes) {
    const name = path.startsWith(prefix) ? path.slice(prefix.length) : "";
    if (isRunName(name)) runs.set(name, bytes);
  }
  return { total: sizes.get(inbox) ?? 0, runs };
}

const seenFile = (agentsDir: string, agent: string) => join(agentsDir, agent, "runs-seen.json");

/** The host's record of when it first saw each run of `agent` (empty when there is none). */
export async function loadRunsSeen(host: Host, agentsDir: string, agent: string): Promise<RunsSeen> {
  try {
    return parseRunsSeen(await host.readText(seenFile(agentsDir, agent)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return emptyRunsSeen();
    throw err;
  }
}

/** Stores the record atomically, creating <state-dir>/agents/<agent> (0700) when missing. */
export async function saveRunsSeen(
  host: Host,
  agentsDir: string,
  agent: string,
  seen: RunsSeen,
): Promise<void> {
  await host.ensureStateDir(dirname(agentsDir));
  await host.ensureDir(agentsDir, 0o711);
  await host.ensureDir(join(agentsDir, agent), 0o700);
  await host.writeFileAtomic(seenFile(agentsDir, agent), `${JSON.stringify(seen)}\n`, 0o600);
}

/** Agents with an inbox under `root`: every `<name>-inbox` directory whose name is valid. */
export async function listInboxAgents(
  host: Host,
  root: string,
  isValid: (name: string) => boolean,
): Promise<string[]> {
  const entries = await host.readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT")
      throw new NotFoundError(`root ${root} does not exist`, {
        hint: "run `agentshare init` or pass --root",
      });
    throw err;
  });
  return entries
    .filter((e) => e.kind === "dir" && e.name.endsWith("-inbox"))
    .map((e) => e.name.slice(0, -"-inbox".length))
    .filter(isValid)
    .sort();
}
