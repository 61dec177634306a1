// ssh2 client: log in with a private key, check the server's host key byte for byte against a
// pinned one (no trust on first use, no fallback), run a command with its output streamed as it
// arrives. sshRunner makes a connection a Runner, so every adapter can run on a remote host.
import { Readable, Writable, type Duplex } from "node:stream";
import ssh2 from "ssh2";
import type { Client, ServerHostKeyAlgorithm } from "ssh2";
import { DataError, ToolError } from "../errors.js";
import { buildExecLine } from "../core/shell-quote.js";
import type { RunResult, Runner } from "./runner.js";
import { connectError, hostKeyMismatch, type SshPeer } from "./ssh-errors.js";
import { sshExec } from "./ssh-exec.js";
import type { PublicKey } from "./ssh-keys.js";

export type { SshPeer } from "./ssh-errors.js";
export { sshExec, type ExecIo, type ExecOptions, type ExecResult } from "./ssh-exec.js";

export interface SshTarget extends SshPeer {
  privateKey: string;
  /** The pinned host keys; the server must offer one of them exactly. */
  hostKeys: readonly PublicKey[];
  /** How long the TCP connect plus SSH handshake may take (default 20 s). */
  readyTimeoutMs?: number;
  /** An open connection to use instead of connecting to host:port (e.g. a channel through a VM host). */
  sock?: Duplex;
}

/** Host key algorithms to ask for, so the server offers the pinned key's type and not another. */
const HOST_KEY_ALGOS: Record<string, ServerHostKeyAlgorithm[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/** The host key algorithms for a set of pinned keys (pure); DataError for a type ssh2 cannot check. */
export function hostKeyAlgorithms(keys: readonly PublicKey[]): ServerHostKeyAlgorithm[] {
  const algos = keys.flatMap((k) => {
    const a = HOST_KEY_ALGOS[k.type];
    if (!a) throw new DataError(`pinned host key type ${k.type} is not supported; use an ed25519 key`);
    return a;
  });
  return [...new Set(algos)];
}

/** Connects and logs in; ToolError when unreachable, refused, or the host key is not the pinned one. */
export function sshConnect(t: SshTarget): Promise<Client> {
  const conn = new ssh2.Client();
  let offered: Buffer | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    if (t.hostKeys.some((k) => k.blob.equals(key))) return true;
    offered = Buffer.from(key);
    return false;
  };
  return new Promise((resolve, reject) => {
    const closed = () => fail(new Error("the server closed the connection during login"));
    const settle = () => {
      conn.removeListener("ready", ready).removeListener("error", fail).removeListener("close", closed);
      conn.on("error", () => undefined); // later errors surface through the open channel
    };
    const fail = (err: Error) => {
      settle();
      conn.end();
      reject(offered ? hostKeyMismatch(t, offered) : connectError(t, err));
    };
    const ready = () => {
      settle();
      resolve(conn);
    };
    conn.once("ready", ready).once("error", fail).once("close", closed);
    conn.connect({
      host: t.host,
      port: t.port,
      username: t.username,
      privateKey: t.privateKey,
      readyTimeout: t.readyTimeoutMs ?? 20_000,
      sock: t.sock as import("node:net").Socket | undefined,
      keepaliveInterval: 15_000, // a guest that vanishes mid-command ends the session in ~1 min
      keepaliveCountMax: 4,
      algorithms: { serverHostKey: hostKeyAlgorithms(t.hostKeys) },
      hostVerifier,
    });
  });
}

/** A Writable that keeps what is written, for the Runner's string results. */
function collector(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString("utf8") };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The argv a Runner call becomes on the remote side: `env K=V … file args…` when env is given. */
export function remoteArgv(file: string, args: readonly string[], env?: Record<string, string>): string[] {
  const pairs = Object.entries(env ?? {});
  const bad = pairs.find(([k]) => !ENV_NAME.test(k));
  if (bad) throw new DataError(`environment variable name ${JSON.stringify(bad[0])} is not a valid name`);
  return pairs.length ? ["env", ...pairs.map(([k, v]) => `${k}=${v}`), file, ...args] : [file, ...args];
}

/**
 * A Runner over an open connection, same contract as localRunner: never throws on a non-zero
 * exit; exitCode undefined when killed by a signal or the time limit; ToolError when the
 * program is not found (exit 127) or the connection fails.
 */
export function sshRunner(conn: Client, where = "the remote host"): Runner {
  return async (file, args, opts = {}): Promise<RunResult> => {
    const out = collector();
    const err = collector();
    const stdin = opts.input === undefined ? undefined : Readable.from([Buffer.from(opts.input)]);
    const command = buildExecLine(remoteArgv(file, args, opts.env));
    const io = { stdout: out.sink, stderr: err.sink, stdin };
    const r = await sshExec(conn, command, io, { timeoutMs: opts.timeoutMs, where });
    const stderr = err.text();
    if (r.exitCode === 127 && /not found|No such file/i.test(stderr))
      throw new ToolError(`${file}: not found on PATH on ${where}`, {
        hint: "install it on that host",
      });
    return { exitCode: r.timedOut ? undefined : r.exitCode, stdout: out.text(), stderr };
  };
}
