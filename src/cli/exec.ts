// `agentshare exec NAME [--user agent] [--no-run] [--timeout S] [--address ADDR] [--port 22] -- CMD [ARGS…]`:
// run a command in an agent's VM over SSH; its stdout/stderr pass through byte for byte and its
// exit code becomes ours.
import type { Command } from "commander";
import { parseDuration } from "../core/units.js";
import { UsageError } from "../errors.js";
import type { ExecRequest } from "../ops/exec.js";
import { act, cliOf } from "./context.js";

/** What a shell reports for a writer killed by SIGPIPE: our output's reader went away. */
const EXIT_SIGPIPE = 141;

interface ExecFlags {
  user: string;
  run: boolean;
  timeout?: string;
  address?: string;
  port?: string;
  stdin?: boolean;
}

/** Validates the flags into the op's request; UsageError naming the bad flag. */
export function parseExecFlags(name: string, argv: readonly string[], f: ExecFlags): ExecRequest {
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/i.test(f.user))
    throw new UsageError(`--user ${JSON.stringify(f.user)} is not a user name`, {
      hint: "e.g. --user agent",
    });
  const port = f.port === undefined ? undefined : /^\d{1,5}$/.test(f.port) ? Number(f.port) : NaN;
  if (port !== undefined && !(port >= 1 && port <= 65535))
    throw new UsageError(`--port must be a TCP port 1-65535, got ${JSON.stringify(f.port)}`);
  if (f.address !== undefined && !/^[A-Za-z0-9.:_%-]+$/.test(f.address))
    throw new UsageError(`--address ${JSON.stringify(f.address)} is not a host name or IP address`);
  return { name, argv, user: f.user, run: f.run, host: f.address, port, timeoutMs: parseTimeout(f.timeout) };
}

/** `--timeout 30`, `90s`, `5m` → milliseconds; undefined means no limit. */
function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = /^\d+$/.test(text) ? Number(text) : parseDuration(text);
  if (seconds === undefined || seconds <= 0)
    throw new UsageError(
      `--timeout must be a positive number of seconds (30) or a duration (90s, 5m), got ${text}`,
    );
  return seconds * 1000;
}

export function registerExec(program: Command): void {
  program
    .command("exec")
    .description("run a command in an agent's VM over SSH (as a new run in its inbox unless --no-run)")
    .argument("<name>", "agent name")
    .argument("<cmd...>", "the command and its arguments, after `--`")
    .option("--user <user>", "user to log in as in the guest", "agent")
    .option("--no-run", "run the command as is, not through agentshare-run (no run dir in the inbox)")
    .option(
      "--timeout <s>",
      "give up after this long (seconds, or 90s/5m): the command gets SIGTERM, exit 69",
    )
    .option(
      "--address <addr>",
      "the guest's SSH address as its VM host sees it, instead of its own (e.g. a forwarded port)",
    )
    .option("--port <port>", "SSH port (default 22, or the forwarded port with access: loopback)")
    .option("--stdin", "pass this process's stdin to the command (by default it gets none)")
    .addHelpText("after", "\nExample: agentshare exec web1 -- python3 task.py --fast")
    .action(
      act(async (name: string, argv: string[], f: ExecFlags, cmd: Command) => {
        const { api } = cliOf(cmd);
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.stdout.on("error", stop); // e.g. EPIPE from `| head`: end the session, like ssh does
        const req = parseExecFlags(name, argv, f);
        const stdin = f.stdin ? process.stdin : undefined;
        try {
          const r = await api.exec(name, argv, {
            user: req.user,
            run: req.run,
            address: req.host,
            port: req.port,
            timeoutMs: req.timeoutMs,
            forwardSignals: true,
            signal: ac.signal,
            stdout: process.stdout,
            stderr: process.stderr,
            stdin,
          });
          return r.exitCode;
        } catch (err) {
          if (ac.signal.aborted) return EXIT_SIGPIPE;
          throw err;
        } finally {
          process.stdout.removeListener("error", stop);
          if (stdin) stdin.destroy(); // the command may end before our stdin does
        }
      }),
    );
}
