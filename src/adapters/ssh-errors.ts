// Turns ssh2 connection failures into ToolErrors that say what went wrong and what to check.
import { ToolError } from "../errors.js";
import { blobType, fingerprint } from "./ssh-keys.js";

/** Who is being connected to, for messages. */
export interface SshPeer {
  host: string;
  port: number;
  username: string;
  /** e.g. "agent web1". */
  label: string;
  knownHostsPath: string;
  /** What to check when the peer cannot be reached. */
  hint?: string;
  /** What to do when its host key is not the pinned one (default: an agent's advice). */
  mismatchHint?: string;
  /** What to do when the login is refused (default: an agent's advice). */
  authHint?: string;
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "EPIPE",
]);

/** The error for a host key that is not the pinned one: never accepted, whatever the reason. */
export function hostKeyMismatch(peer: SshPeer, offered: Buffer): ToolError {
  const type = blobType(offered) ?? "unknown type";
  return new ToolError(
    `host key mismatch for ${peer.label} at ${peer.host}:${peer.port}: it offered ${type} ${fingerprint(offered)}, ` +
      `which is not the key pinned in ${peer.knownHostsPath}; refusing to connect (nothing was run)`,
    {
      hint:
        peer.mismatchHint ??
        "something other than this agent's VM answers at that address (a wrong --host, an address reused by " +
          "another VM, or an interception), or the VM was not booted from this provision's seed ISO; " +
          "re-provision the agent to make and pin new keys — do not edit known_hosts to get past this",
    },
  );
}

/** Classifies an error from connect: unreachable, handshake timeout, login refused, or other. */
export function connectError(peer: SshPeer, err: Error & { code?: string; level?: string }): ToolError {
  const where = `${peer.label} at ${peer.host}:${peer.port}`;
  const opts = { cause: err, hint: peer.hint };
  if ((err.code && UNREACHABLE.has(err.code)) || err.level === "client-timeout")
    return new ToolError(`cannot reach ${where} over SSH: ${err.code ?? err.message}`, opts);
  if (err.level === "client-dns") return new ToolError(`cannot resolve ${peer.host}: ${err.message}`, opts);
  if (err.level === "client-authentication")
    return new ToolError(`SSH login as ${peer.username} to ${where} was refused: the key was not accepted`, {
      cause: err,
      hint:
        peer.authHint ??
        `the guest's ~${peer.username}/.ssh/authorized_keys must hold the agent's id_ed25519.pub (set at provision); check --user`,
    });
  return new ToolError(`SSH to ${where} failed: ${err.message}`, opts);
}

/** The error for a connection that dropped before the remote command reported how it ended. */
export const connectionLost = (where: string, hint?: string): ToolError =>
  new ToolError(`the SSH connection to ${where} ended before the command reported its exit status`, { hint });
