// Runs the real cloud-init/agentshare-run (the in-guest per-run wrapper) against temp inboxes.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const WRAPPER = fileURLToPath(new URL("../../cloud-init/agentshare-run", import.meta.url));
/** Another interpreter to run the wrapper with (e.g. python3.12); default: its own shebang, /usr/bin/python3. */
const PYTHON = process.env.AGENTSHARE_TEST_PYTHON;
/** The wrapper needs python3; without it the tests skip locally and fail under CI. */
export const SKIP = !PYTHON && !existsSync("/usr/bin/python3") && !process.env.CI;
/** Matches the run names of the contract (docs/runs.md). */
export const RUN_NAME = /^run-(\d{8})-(\d{6})(?:-(\d+))?$/;

/** metrics.json as docs/runs.md defines it. */
export interface RunMetrics {
  version: number;
  run_id: string;
  command: string[];
  start: string;
  end: string;
  duration_s: number;
  exit_code: number;
  signal: number | null;
  signal_name: string | null;
  exec_error: string | null;
  user_cpu_s: number;
  sys_cpu_s: number;
  max_rss_kib: number;
  outputs_bytes: number;
  persisted: boolean;
  persist_errors: string[];
}

export interface WrapperResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface Started {
  child: ChildProcess;
  done: Promise<WrapperResult>;
  /** Resolves once the wrapper's stdout contains `text` (CMD is running and has said so). */
  saw(text: string): Promise<void>;
}

/** Starts the wrapper with `args` (`env` adds to ours; an undefined value removes a variable); `prefix` runs it through another program (e.g. setpriv as another
 * user, who may not reach an AGENTSHARE_TEST_PYTHON under /root: that case uses the shebang). */
export function startWrapper(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): Started {
  const interpreter = PYTHON && !prefix.length ? [PYTHON, "-I"] : [];
  const argv = [...prefix, ...interpreter, WRAPPER, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (b: Buffer) => out.push(b));
  child.stderr!.on("data", (b: Buffer) => err.push(b));
  const done = new Promise<WrapperResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }),
    );
  });
  const saw = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => Buffer.concat(out).includes(text) && (resolve(), true);
      if (check()) return;
      child.stdout!.on("data", check);
      void done.then(() => reject(new Error(`wrapper ended before printing ${JSON.stringify(text)}`)));
    });
  return { child, done, saw };
}

/** Runs the wrapper to completion. */
export const runWrapper = (args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []) =>
  startWrapper(args, env, prefix).done;

/** A fresh temp inbox and its remover. */
export async function tempInbox(): Promise<{ inbox: string; cleanup: () => Promise<void> }> {
  const inbox = await mkdtemp(join(tmpdir(), "agentshare-run-"));
  return { inbox, cleanup: () => rm(inbox, { recursive: true, force: true }) };
}

/** Names under <inbox>/runs, sorted. */
export const listRuns = async (inbox: string) => (await readdir(join(inbox, "runs"))).sort();

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

/** metrics.json of the run `current` points at. */
export const currentMetrics = (inbox: string) => readJson<RunMetrics>(join(inbox, "current", "metrics.json"));

/** A python3 program as a command argv (python3 on PATH, as in the guest). */
export const py = (code: string) => ["python3", "-c", code];
