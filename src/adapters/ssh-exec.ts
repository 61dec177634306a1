// One command over an open ssh2 connection: output streamed as it arrives, exit code or signal,
// local signals passed on, and a time limit that signals the remote command and stops waiting.
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import type { Client, ClientChannel } from "ssh2";
import { ToolError } from "../errors.js";
import { connectionLost } from "./ssh-errors.js";

export interface ExecIo {
  stdout: Writable;
  stderr: Writable;
  /** Piped to the command; without it the command's stdin is closed at once. */
  stdin?: Readable;
}

export interface ExecOptions {
  timeoutMs?: number;
  /** Names the server in a "connection lost" error, e.g. "agent web1 at 10.0.0.5:22". */
  where?: string;
  hint?: string;
  /** Local signals passed on to the remote command while it runs (e.g. SIGINT from Ctrl-C). */
  forwardSignals?: readonly NodeJS.Signals[];
  /** Stops at once: the session is closed (e.g. when our stdout is a closed pipe). */
  abort?: AbortSignal;
}

/** How the command ended: an exit code, a signal name without SIG ("TERM"), the time limit, or an abort. */
export interface ExecResult {
  exitCode?: number;
  signal?: string;
  timedOut?: boolean;
  aborted?: boolean;
}

/** After the time limit's SIGTERM, how long the command gets to end before we stop waiting. */
const KILL_GRACE_MS = 2000;

interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
}

/**
 * Sends a "signal" request (RFC 4254 6.9; OpenSSH's sshd does killpg). ssh2's ch.signal() drops it
 * once our side sent EOF, which is always the case when the command gets no stdin, although the
 * RFC allows it after EOF; so then the request goes through ssh2's protocol object (ssh2 1.x).
 */
export function sendSignal(ch: ClientChannel, name: string): void {
  const c = ch as unknown as ChannelInternals;
  if (c.outgoing?.state === "open") ch.signal(name);
  else if (c.outgoing?.state === "eof" && c.outgoing.id !== undefined)
    c._client?._protocol?.signal?.(c.outgoing.id, name);
}

function openExec(conn: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    conn.exec(command, (err, ch) =>
      err
        ? reject(new ToolError(`could not start a command over SSH: ${err.message}`, { cause: err }))
        : resolve(ch),
    ),
  );
}

/** Forwards local signals to the channel while it is open; returns the function that stops it. */
function forward(ch: ClientChannel, signals: readonly NodeJS.Signals[]): () => void {
  const handlers = signals.map((s) => [s, () => sendSignal(ch, s.replace(/^SIG/, ""))] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return () => handlers.forEach(([s, h]) => process.removeListener(s, h));
}

/** At `ms`: mark timed out and send TERM; `expired` resolves KILL_GRACE_MS later unless cancelled. */
function timeLimit(ch: ClientChannel, result: ExecResult, ms: number) {
  let grace: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      result.timedOut = true;
      sendSignal(ch, "TERM");
      grace = setTimeout(resolve, KILL_GRACE_MS);
    }, ms);
  });
  return { expired, cancel: () => (clearTimeout(timer), clearTimeout(grace)) };
}

/** Resolves when `signal` aborts (marking the result), never when there is none. */
function aborted(signal: AbortSignal | undefined, result: ExecResult): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      result.aborted = true;
      resolve();
    };
    if (signal?.aborted) stop();
    else signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * Runs `command` (a shell string, run by the remote login shell) and streams its stdout and stderr
 * to `io` byte for byte as they arrive. Resolves when the channel closes (or the time limit's grace
 * ends); ToolError when the connection drops before an exit status came.
 */
export async function sshExec(
  conn: Client,
  command: string,
  io: ExecIo,
  opts: ExecOptions = {},
): Promise<ExecResult> {
  const ch = await openExec(conn, command);
  const result: ExecResult = {};
  ch.on("exit", (code: number | null, signal?: string) => {
    if (typeof code === "number") result.exitCode = code;
    else result.signal = (signal ?? "KILL").replace(/^SIG/, "");
  });
  ch.pipe(io.stdout, { end: false });
  ch.stderr.pipe(io.stderr, { end: false });
  if (io.stdin) io.stdin.pipe(ch);
  else ch.end();
  const stop = forward(ch, opts.forwardSignals ?? []);
  const ended = Promise.all([once(ch, "close"), once(ch, "end"), once(ch.stderr, "end")]);
  const limit = opts.timeoutMs === undefined ? undefined : timeLimit(ch, result, opts.timeoutMs);
  ended.catch(() => undefined); // may settle after we stopped waiting
  try {
    await Promise.race([ended, ...(limit ? [limit.expired] : []), aborted(opts.abort, result)]);
  } finally {
    limit?.cancel();
    stop();
    io.stdin?.unpipe(ch);
    if (result.timedOut || result.aborted) ch.close();
  }
  if (!result.timedOut && !result.aborted && result.exitCode === undefined && result.signal === undefined)
    throw connectionLost(opts.where ?? "the remote host", opts.hint);
  return result;
}
