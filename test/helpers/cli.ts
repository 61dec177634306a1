// Runs the built CLI (dist/cli/main.js) as a real process.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";

export const REPO = new URL("../..", import.meta.url).pathname;
export const CLI = join(REPO, "dist", "cli", "main.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `agentshare ARGS` synchronously and returns exit code and output. */
export function cli(args: readonly string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 600_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `agentshare ARGS` asynchronously (for tests that kill it midway). */
export function cliSpawn(args: readonly string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
