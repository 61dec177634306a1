// What every command gets: the API object for the global options, and how to print. A command
// turns its flags into one API call's params, makes the call, and prints the result as text or
// --json (the same object). Loaded on every start, so it imports no op or adapter: see commands.ts.
import type { Command } from "commander";
import { createAgentshare, type Agentshare } from "../api/agentshare.js";
import type { ProgressEvent } from "../api/types.js";
import { DEFAULT_ROOT, DEFAULT_STATE_DIR } from "../core/paths.js";
import type { OpOptions } from "../ops/context.js";
import { createOutput, type Output } from "./output.js";

/** The command line's global options: what the API takes, plus how the CLI prints. */
export interface GlobalOptions extends OpOptions {
  json: boolean;
  debug: boolean;
  /** The fleet host (--host, env AGENTSHARE_HOST); undefined: the agent's own, or placement. */
  host?: string;
}

/** A command's view: the API, the output, and the global options. */
export interface Cli {
  api: Agentshare;
  out: Output;
  opts: GlobalOptions;
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
    .option(
      "--host <name>",
      'fleet host to act on: "local", a name from `host list`, or "auto" for provision (env AGENTSHARE_HOST; default: where the agent is)',
      process.env.AGENTSHARE_HOST,
    )
    .option("--json", "print machine-readable JSON on stdout", false)
    .option("--debug", "print stack traces and tool command lines", false);
}

/** Renders the API's progress events as the CLI always has: status line on a terminal, notes and warnings on stderr. */
export function renderProgress(out: Output): (e: ProgressEvent) => void {
  return (e) => {
    if (e.type === "progress") out.progress(e.message);
    else if (e.type === "done") out.progressDone();
    else if (e.type === "note") out.note(e.message);
    else out.warn(e.message);
  };
}

/** Builds the command's view from the root program's options (commands call this in their action). */
export function cliOf(cmd: Command): Cli {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts<GlobalOptions>();
  const opts: GlobalOptions = { ...o, json: Boolean(o.json), debug: Boolean(o.debug) };
  const out = createOutput(opts);
  const api = createAgentshare({
    root: opts.root,
    stateDir: opts.stateDir,
    connect: opts.connect,
    configFile: opts.config,
    host: opts.host,
    onProgress: renderProgress(out),
    trace: opts.debug ? (l) => process.stderr.write(l) : undefined,
  });
  opened.push(api);
  return { api, out, opts };
}

const opened: Agentshare[] = [];

/** Ends what the commands' API objects opened (SSH connections to remote hosts), so the process can exit. */
export async function closeOpened(): Promise<void> {
  await Promise.all(opened.splice(0).map((a) => a.close().catch(() => undefined)));
}

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
