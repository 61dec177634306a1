// Shared by the health-server and attach tests: bundles the guest server (same esbuild
// options as scripts/build.mjs, into a temp dir, so a concurrent `npm run build` that
// wipes dist/ cannot break a running test), starts/kills it, and runs the attach CLI.
import { spawn, type ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const TOKEN = "test-token-0123456789abcdef";

export interface Bundles {
  dir: string;
  server: string;
  cli: string[];
}

const mtime = (p: string) => {
  try {
    return statSync(join(ROOT, p)).mtimeMs;
  } catch {
    return 0;
  }
};

/** True when dist/ holds an attach build at least as new as its sources. */
function distIsCurrent(): boolean {
  const built = mtime("dist/cli/attach.js");
  const sources = [
    "src/cli/attach.ts",
    "src/cli/attach-output.ts",
    "src/ops/attach.ts",
    "src/ops/attach-bulk.ts",
    "src/core/sse.ts",
    "src/core/terminal-filter.ts",
    "src/core/terminal-text.ts",
  ];
  return built > 0 && sources.every((s) => mtime(s) <= built);
}

/** Bundles the server (node18 target) and picks the CLI: dist/cli/main.js when current, else a bundle of attach. */
export async function makeBundles(): Promise<Bundles> {
  const dir = await mkdtemp(join(tmpdir(), "agentshare-sse-"));
  const server = join(dir, "health-server.mjs");
  const common = {
    bundle: true,
    platform: "node",
    format: "esm",
    logLevel: "warning",
    legalComments: "none",
  } as const;
  await build({
    ...common,
    entryPoints: [join(ROOT, "src/guest/health-server.ts")],
    outfile: server,
    target: "node18",
  });
  if (distIsCurrent()) return { dir, server, cli: [join(ROOT, "dist/cli/main.js")] };
  const cli = join(dir, "attach-cli.mjs");
  await build({
    ...common,
    entryPoints: [join(ROOT, "test/unit/attach-harness-cli.ts")],
    outfile: cli,
    target: "node20",
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
  });
  return { dir, server, cli: [cli] };
}

/** A temp inbox with a run dir and `current` pointing at it; returns the run dir. */
export async function makeInbox(
  base: string,
  run = "run-20260101-000000",
): Promise<{ inbox: string; runDir: string }> {
  const inbox = await mkdtemp(join(base, "inbox-"));
  await mkdir(join(inbox, "runs"));
  const runDir = await newRun(inbox, run);
  return { inbox, runDir };
}

/** Creates runs/<run> and re-points `current` at it atomically (as the per-run wrapper does). */
export async function newRun(inbox: string, run: string): Promise<string> {
  const dir = join(inbox, "runs", run);
  await mkdir(dir, { recursive: true });
  const tmp = join(inbox, `.current-${process.pid}-${run}`);
  await symlink(`runs/${run}`, tmp);
  await rename(tmp, join(inbox, "current"));
  return dir;
}

export interface Server {
  proc: ChildProcess;
  port: number;
  url: string;
  stderr: () => string;
}

/** Starts the bundled server and waits for its "listening" line. */
export async function startServer(
  b: Bundles,
  inbox: string,
  port = 0,
  extra: string[] = [],
): Promise<Server> {
  const tokenFile = join(b.dir, "token");
  await writeFile(tokenFile, `${TOKEN}\n`);
  const args = [
    b.server,
    "--inbox",
    inbox,
    "--port",
    String(port),
    "--host",
    "127.0.0.1",
    "--token-file",
    tokenFile,
  ];
  const proc = spawn(process.execPath, [...args, "--agent", "a1", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const actual = await new Promise<number>((resolve, reject) => {
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on("exit", (code) => reject(new Error(`health server exited ${code}: ${err}`)));
  });
  return { proc, port: actual, url: `http://127.0.0.1:${actual}`, stderr: () => err };
}

/** SIGKILLs a process and waits for it to be gone. */
export async function kill(proc: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once("exit", r));
  proc.kill(signal);
  await gone;
}

/** Runs `attach` as a process; stdout goes to `outFile`'s fd via a pipe we collect. */
export function startAttach(b: Bundles, url: string, args: string[]): ChildProcess {
  const tokenFile = join(b.dir, "token");
  return spawn(process.execPath, [...b.cli, "attach", "--url", url, "--token-file", tokenFile, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Collects a child's stdout as bytes. */
export function collect(proc: ChildProcess): { bytes: () => Buffer; size: () => number } {
  const parts: Buffer[] = [];
  let size = 0;
  proc.stdout?.on("data", (d: Buffer) => {
    parts.push(d);
    size += d.length;
  });
  return { bytes: () => Buffer.concat(parts), size: () => size };
}

/** Polls `cond` every 20 ms until true or `ms` pass (then throws with `what`). */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: string | (() => string),
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end)
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const cleanup = (dir: string) => rm(dir, { recursive: true, force: true });
