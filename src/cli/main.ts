#!/usr/bin/env node
// The CLI entry: the only place that turns errors into exit codes and messages.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { escapeText, jsonSafe } from "../core/terminal-text.js";
import { AgentshareError, ConfigError, permissionErrorOf } from "../errors.js";
import { COMMANDS } from "./commands.js";
import { addGlobalOptions, closeOpened, exitRequested } from "./context.js";

const EX_USAGE = 64;
const EX_SOFTWARE = 70;

export function buildProgram(): Command {
  const program = addGlobalOptions(new Command("agentshare"))
    .description("One libvirt VM per AI agent, with a read-only global share and a read-write inbox")
    .version(process.env.npm_package_version ?? "0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const register of COMMANDS) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Whether a global flag was given: only words before a `--` count (after it they are a command's, e.g. exec's). */
export function hasGlobalFlag(argv: readonly string[], flag: string): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes(flag);
}

function report(thrown: unknown, argv: readonly string[]): number {
  const json = hasGlobalFlag(argv, "--json");
  const debug = hasGlobalFlag(argv, "--debug");
  if (thrown instanceof CommanderError) {
    if (thrown.exitCode === 0) return 0; // --help, --version
    return EX_USAGE; // commander already printed the message
  }
  const err = permissionErrorOf(thrown) ?? thrown;
  const known = err instanceof AgentshareError;
  const code = known ? err.exitCode : EX_SOFTWARE;
  const message = err instanceof Error ? err.message : String(err);
  const hint = known ? err.hint : "this is a bug in agentshare; rerun with --debug and report the output";
  // messages may carry a server's or guest's words (error bodies, paths): never raw controls
  process.stderr.write(`agentshare: ${escapeText(message, { lines: true })}\n`);
  if (hint) process.stderr.write(`  hint: ${escapeText(hint, { lines: true })}\n`);
  if (debug && thrown instanceof Error && thrown.stack) process.stderr.write(`${thrown.stack}\n`);
  if (json) {
    const problems = err instanceof ConfigError ? err.problems : undefined;
    process.stdout.write(
      `${jsonSafe(JSON.stringify({ ok: false, error: message, hint, exitCode: code, problems }))}\n`,
    );
  }
  return code;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return exitRequested();
  } catch (err) {
    return report(err, argv);
  } finally {
    await closeOpened();
  }
}

const isEntry = (() => {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (isEntry) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`agentshare: internal error: ${String(err)}\n`);
      process.exitCode = EX_SOFTWARE;
    },
  );
}
