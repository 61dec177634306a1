// Shared helpers of the file-verb tests (promote, collect, prune, du, cron): a temp host
// tree, the built CLI run as a real process, and run directories made like the guest makes them.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile, lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { OpContext as Context } from "../../src/ops/context.js";
import { createOutput } from "../../src/cli/output.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";
import { hostPaths } from "../../src/core/paths.js";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The CLI under test: dist/cli/main.js (built on first use), or AGENTSHARE_CLI. */
export const CLI = process.env.AGENTSHARE_CLI ?? join(REPO, "dist", "cli", "main.js");

export function ensureBuilt(): void {
  if (!existsSync(CLI)) execFileSync("npm", ["run", "build"], { cwd: REPO, stdio: "inherit" });
}

/** Every mount point under `dir`, the latest (deepest) first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(`${dir}/`))
    .reverse();
}

export interface Tree {
  base: string;
  root: string;
  stateDir: string;
  config: string;
  cleanup(): Promise<void>;
}

/** A temp host tree (global/*, staging, state dir) and a config file with the given YAML. */
export async function tempTree(configYaml = "retention:\n  keepLast: 2\n  maxAge: 30d\n"): Promise<Tree> {
  const base = await mkdtemp(join(tmpdir(), "agentshare-files-"));
  const root = join(base, "root");
  const stateDir = join(base, "state");
  for (const d of ["global/tools", "global/prompts", "global/configs", "global/content", "staging"])
    await mkdir(join(root, d), { recursive: true });
  await mkdir(stateDir, { recursive: true });
  const config = join(base, "config.yaml");
  await writeFile(config, configYaml);
  const cleanup = async () => {
    for (const m of mountsUnder(base)) execFileSync("umount", [m]); // inboxes a real provision mounted
    await rm(base, { recursive: true, force: true });
  };
  return { base, root, stateDir, config, cleanup };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with --root/--state-dir/--config of `t`. */
export async function cli(
  t: Tree,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const r = await execa(
    process.execPath,
    [CLI, "--root", t.root, "--state-dir", t.stateDir, "--config", t.config, ...args],
    {
      reject: false,
      env,
    },
  );
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A Context like the CLI builds, for calling an op in-process. */
export function contextFor(t: Tree): Context {
  const opts = {
    root: t.root,
    stateDir: t.stateDir,
    connect: "qemu:///system",
    config: t.config,
    json: true,
    debug: false,
  };
  return {
    opts,
    paths: hostPaths(t.root, t.stateDir),
    host: localHost(localRunner),
    run: localRunner,
    out: createOutput(opts),
    clock: () => new Date(),
  };
}

/** Creates runs/<name> with a few files and a subfolder, as the run wrapper does. */
export async function makeRun(inbox: string, name: string, bytes = 100): Promise<string> {
  const dir = join(inbox, "runs", name);
  await mkdir(join(dir, "outputs"), { recursive: true });
  await mkdir(join(dir, "trace"), { recursive: true });
  for (const f of ["stdout.log", "stderr.log", "agent.log", "metrics.json", "outputs/result.txt"])
    await writeFile(join(dir, f), "x".repeat(bytes));
  return dir;
}

/** Points `current` at runs/<name> (relative, like the run wrapper). */
export const pointCurrent = (inbox: string, name: string) => symlink(`runs/${name}`, join(inbox, "current"));

/** Names of the runs left in an inbox. */
export const runsLeft = async (inbox: string) => (await readdir(join(inbox, "runs"))).sort();

/** A listing of every path under `dir` with its content (files) or link target, to compare before/after. */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      if (st.isDirectory()) {
        out.push(`${rel}${name}/`);
        await walk(p, `${rel}${name}/`);
      } else out.push(`${rel}${name}=${st.isFile() ? await readFile(p, "utf8") : "?"}`);
    }
  };
  await walk(dir, "");
  return out;
}

/** Audit lines as objects. */
export async function auditLines(stateDir: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(stateDir, "audit.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A child process appending 64 KiB to `file` every millisecond until stopped; resolves once it has written. */
export async function startAppender(file: string): Promise<{ stop: () => Promise<number> }> {
  const code =
    `const fs=require("fs");const fd=fs.openSync(${JSON.stringify(file)},"a");const b=Buffer.alloc(65536,120);` +
    `let n=0;fs.writeSync(fd,b);process.stdout.write("go\\n");` +
    `setInterval(()=>{fs.writeSync(fd,b);n++},1);process.on("SIGTERM",()=>{console.log(n);process.exit(0)});`;
  const child = execa(process.execPath, ["-e", code], { reject: false });
  await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()));
  return {
    stop: async () => {
      child.kill("SIGTERM");
      return Number((await child).stdout.toString().trim().split("\n").pop());
    },
  };
}
