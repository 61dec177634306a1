// The one seam between agentshare and outside programs. Adapters take a Runner,
// so the same argv builders work locally (execa) and on a remote host (ssh2).
import { execa } from "execa";
import { ToolError, toolError } from "../errors.js";

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Kills the program when it aborts (the caller gave up). */
  signal?: AbortSignal;
}

export type Runner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** Runs programs on this host. Never throws on a non-zero exit; throws ToolError when the program is missing. */
export const localRunner: Runner = async (file, args, opts = {}) => {
  const r = await execa(file, args, {
    reject: false,
    input: opts.input,
    timeout: opts.timeoutMs,
    env: opts.env,
    cancelSignal: opts.signal,
    stripFinalNewline: false,
  });
  if (
    r.failed &&
    r.exitCode === undefined &&
    (r.cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT"
  ) {
    throw new ToolError(`${file}: not found on PATH`, {
      hint: "install the host prerequisites: `bash scripts/host-setup.sh` (as root), then `agentshare doctor`",
    });
  }
  return { exitCode: r.exitCode, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
};

/** Wraps a runner to report each command line, its exit code and its time (for `--debug`). */
export function tracingRunner(inner: Runner, write: (line: string) => void): Runner {
  return async (file, args, opts) => {
    const t0 = performance.now();
    const r = await inner(file, args, opts);
    const ms = (performance.now() - t0).toFixed(0);
    write(`agentshare: debug: ${[file, ...args].join(" ")} → exit ${r.exitCode ?? "?"} in ${ms} ms\n`);
    return r;
  };
}

/** Runs and returns stdout, or throws a ToolError naming the command line and its stderr. */
export async function runChecked(
  run: Runner,
  file: string,
  args: readonly string[],
  opts: RunOptions & { hint?: string } = {},
): Promise<string> {
  const r = await run(file, args, opts);
  if (r.exitCode !== 0) throw toolError([file, ...args], r, { hint: opts.hint });
  return r.stdout;
}
