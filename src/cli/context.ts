// What every command gets: resolved global options, paths, a runner, output helpers.
// Loaded on every start, so it imports no op or adapter: see commands.ts.
import type { Command } from "commander";
import type { Runner } from "../adapters/runner.js";
import { lazyLocalHost } from "../host/lazy.js";
import { UsageError } from "../errors.js";
import { checkHostDir, DEFAULT_ROOT, DEFAULT_STATE_DIR, hostPaths } from "../core/paths.js";
import type { OpContext, OpOptions } from "../ops/context.js";
import { createOutput, type Output } from "./output.js";

/** The command line's global options: what ops read, plus how the CLI prints. */
export interface GlobalOptions extends OpOptions {
  json: boolean;
  debug: boolean;
}

/** An op's context with the CLI's own output (results, text or --json) and options. */
export interface Context extends OpContext {
  opts: GlobalOptions;
  out: Output;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .option(
      "--root <dir>",
      "host tree root (env AGENTSHARE_ROOT)",
      process.env.AGENTSHARE_ROOT ?? DEFAULT_ROOT,
    )
    .option(
      "--state-dir <dir>",
      "host-only state (env AGENTSHARE_STATE_DIR)",
      process.env.AGENTSHARE_STATE_DIR ?? DEFAULT_STATE_DIR,
    )
    .option(
      "--connect <uri>",
      "libvirt connection URI (env AGENTSHARE_CONNECT)",
      process.env.AGENTSHARE_CONNECT ?? "qemu:///system",
    )
    .option(
      "--config <file>",
      "config file (default /etc/agentshare/config.yaml, env AGENTSHARE_CONFIG)",
      process.env.AGENTSHARE_CONFIG,
    )
    .option("--json", "print machine-readable JSON on stdout", false)
    .option("--debug", "print stack traces and tool command lines", false);
}

/** Builds the context from the root program's options (commands call this in their action). */
export function contextOf(cmd: Command): Context {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts<GlobalOptions>();
  const opts: GlobalOptions = { ...o, json: Boolean(o.json), debug: Boolean(o.debug) };
  for (const [flag, value] of [
    ["--root", opts.root],
    ["--state-dir", opts.stateDir],
  ] as const) {
    const rule = checkHostDir(value);
    if (rule)
      throw new UsageError(`${flag} ${JSON.stringify(value)} ${rule}`, {
        hint: `pass ${flag} /an/absolute/path`,
      });
  }
  const run = localRun(opts.debug);
  return {
    opts,
    paths: hostPaths(opts.root, opts.stateDir),
    host: lazyLocalHost(run),
    run,
    out: createOutput(opts),
    clock: () => new Date(),
  };
}

/** The local runner (execa), imported on its first call rather than on every start; `--debug` traces it. */
const localRun =
  (debug: boolean): Runner =>
  async (file, args, opts) => {
    const { localRunner, tracingRunner } = await import("../adapters/runner.js");
    const run = debug ? tracingRunner(localRunner, (l) => process.stderr.write(l)) : localRunner;
    return run(file, args, opts);
  };

let requestedExit = 0;

/** Wraps a command action; a returned number becomes the exit code (decided in main.ts). */
export function act<A extends unknown[]>(
  fn: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await fn(...args);
    if (typeof code === "number") requestedExit = code;
  };
}

export const exitRequested = () => requestedExit;
