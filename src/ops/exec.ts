// `exec`: run a command in an agent's VM over SSH, as a new tracked run (agentshare-run) by default.
import { constants } from "node:os";
import type { Duplex, Readable, Writable } from "node:stream";
import type { OpContext } from "./context.js";
import { agentPaths } from "../core/paths.js";
import { buildExecLine, checkShellArgv } from "../core/shell-quote.js";
import { NotFoundError, ToolError, UsageError } from "../errors.js";
import { assertAgentName } from "./agent-name.js";
import { sshConnect, sshExec } from "../adapters/ssh.js";
import { loadAgentKeys } from "../adapters/ssh-keys.js";
import { guestAccess } from "./endpoint.js";
import { readStoredSpec } from "./provision-files.js";

/** The per-run wrapper on the guest's PATH (cloud-init/agentshare-run). */
export const RUN_WRAPPER = "agentshare-run";

export interface ExecRequest {
  name: string;
  argv: readonly string[];
  user: string;
  /** Through agentshare-run (a new run in the inbox) when true; the command as is when false. */
  run: boolean;
  host?: string;
  /** SSH port; default 22, or the forwarded one for `access: loopback`. */
  port?: number;
  /** Opens the TCP connection to the guest's address (a remote host's sshd channel); default: direct. */
  dial?: (host: string, port: number) => Promise<Duplex>;
  timeoutMs?: number;
  /** Pass on SIGINT/SIGTERM/SIGHUP of this process to the remote command. */
  forwardSignals?: boolean;
  /** Closes the session at once (e.g. our stdout went away); the outcome then has `aborted`. */
  abort?: AbortSignal;
}

export interface ExecStreams {
  stdout: Writable;
  stderr: Writable;
  stdin?: Readable;
}

export interface ExecOutcome {
  host: string;
  exitCode: number;
  signal?: string;
  aborted?: boolean;
}

/**
 * The shell line the guest runs (pure): `exec agentshare-run --no-current -- ARGV…` or `exec ARGV…`,
 * quoted for sh. An exec's run leaves `current` on the agent's workload run (docs/runs.md).
 */
export function buildRemoteCommand(argv: readonly string[], run: boolean): string {
  const bad = checkShellArgv(argv);
  if (bad) throw new UsageError(bad, { hint: "agentshare exec NAME -- CMD [ARGS…]" });
  return buildExecLine(run ? [RUN_WRAPPER, "--no-current", "--", ...argv] : argv);
}

/** The exit status a shell reports for a command killed by `signal` ("TERM" → 143); 255 if unknown. */
export function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[`SIG${signal.replace(/^SIG/, "")}`];
  return n === undefined ? 255 : 128 + n;
}

const statusHint = (name: string) =>
  `is the VM running and ready? \`agentshare status ${name}\`; if the host cannot route to the guest, forward a port and pass --address/--port (docs/exec.md)`;

/** The guest's SSH address: --address/--port, else the loopback forward or its DHCP lease. */
async function resolvePeer(
  ctx: Pick<OpContext, "run" | "opts" | "host">,
  req: ExecRequest,
  specFile: string,
): Promise<{ host: string; port: number }> {
  if (req.host !== undefined) return { host: req.host, port: req.port ?? 22 };
  const where = await guestAccess(ctx, req.name, await readStoredSpec(ctx.host, specFile));
  if (where === undefined)
    throw new ToolError(`agent ${req.name} has no IPv4 address yet (no DHCP lease on its libvirt network)`, {
      hint: statusHint(req.name),
    });
  return { host: where.host, port: req.port ?? where.sshPort };
}

/** Checks the agent, loads its keys, finds its address and logs in (host key checked). */
async function connectAgent(ctx: Pick<OpContext, "run" | "opts" | "paths" | "host">, req: ExecRequest) {
  assertAgentName(req.name);
  const ap = agentPaths(ctx.paths, req.name);
  if (!(await ctx.host.lstat(ap.dir)))
    throw new NotFoundError(`no agent ${req.name}: ${ap.dir} does not exist`, {
      hint: `provision it first: \`agentshare provision ${req.name}\` (or check --state-dir)`,
    });
  const keys = await loadAgentKeys(ctx.host, ap.dir);
  const { host, port } = await resolvePeer(ctx, req, ap.spec);
  const peer = {
    host,
    port,
    username: req.user,
    label: `agent ${req.name}`,
    knownHostsPath: keys.knownHostsPath,
    hint: statusHint(req.name),
  };
  const sock = req.dial ? await req.dial(host, port) : undefined;
  const conn = await sshConnect({ ...peer, privateKey: keys.privateKey, hostKeys: keys.hostKeys, sock });
  return { conn, host, where: `${peer.label} at ${host}:${port}`, hint: peer.hint };
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs `req.argv` in agent `req.name` and streams its output into `io` as it arrives. The guest's
 * host key must be the one pinned at provision. NotFoundError when the agent or its keys are
 * missing; ToolError when the guest cannot be reached, refuses the login, offers another host
 * key, or the command outlives `timeoutMs`. A remote signal N gives exit code 128+N.
 */
export async function execInAgent(
  ctx: Pick<OpContext, "run" | "opts" | "paths" | "host">,
  req: ExecRequest,
  io: ExecStreams,
): Promise<ExecOutcome> {
  const command = buildRemoteCommand(req.argv, req.run);
  const { conn, host, where, hint } = await connectAgent(ctx, req);
  try {
    const forwardSignals = req.forwardSignals ? FORWARDED : [];
    const opts = { timeoutMs: req.timeoutMs, where, hint, forwardSignals, abort: req.abort };
    const r = await sshExec(conn, command, io, opts);
    if (r.aborted) return { host, exitCode: r.exitCode ?? 255, aborted: true };
    if (r.timedOut)
      throw new ToolError(
        `the command on ${where} did not finish within ${(req.timeoutMs ?? 0) / 1000} s; it was sent SIGTERM and the session closed`,
        { hint: "raise --timeout, or leave it out for no limit" },
      );
    if (r.signal !== undefined) return { host, exitCode: signalExitCode(r.signal), signal: r.signal };
    return { host, exitCode: r.exitCode ?? 255 };
  } finally {
    conn.end();
  }
}
