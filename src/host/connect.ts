// Opening a remote host of the fleet: SSH login with the entry's identity, the host key checked
// against the entry's known_hosts (no trust on first use: a host the file does not vouch for, or
// one offering another key, is refused before anything runs), the host helper placed on the host
// over SFTP when its checksum there is not this build's, then started (src/host/remote.ts).
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Client, SFTPWrapper } from "ssh2";
import { PACKAGE_ROOT, readControllerFile, readPackageBytes } from "../adapters/controller-files.js";
import { runChecked } from "../adapters/runner.js";
import { sshConnect, sshRunner } from "../adapters/ssh.js";
import { parsePublicKey } from "../adapters/ssh-keys.js";
import type { HostEntry } from "../core/fleet.js";
import { knownHostKeys, knownHostsName } from "../core/known-hosts.js";
import { ToolError } from "../errors.js";
import { openRemoteHost, type RemoteHost } from "./remote.js";

/** The bundled helper (scripts/build.mjs). */
export const HOST_HELPER_BUNDLE = join(PACKAGE_ROOT, "dist", "host", "host-helper.mjs");

export interface HostConnection {
  entry: HostEntry;
  conn: Client;
  host: RemoteHost;
  /** Ends the helper and the SSH connection. */
  close(): Promise<void>;
  /** Resolves when the SSH connection has ended (for whatever reason). */
  closed: Promise<void>;
}

/** The pinned keys for the entry's address, from its known_hosts; ToolError when it has none. */
export async function pinnedHostKeys(entry: HostEntry) {
  const ssh = entry.ssh;
  if (!ssh) throw new ToolError(`host ${entry.name} has no ssh address`);
  const text = (await readControllerFile(entry.knownHosts, "known_hosts file")).toString("utf8");
  const found = knownHostKeys(text, ssh.address, ssh.port);
  if (!found.keys.length)
    throw new ToolError(
      `${entry.knownHosts} has no host key for ${knownHostsName(ssh.address, ssh.port)} (host ${entry.name}); refusing to connect`,
      {
        hint: `check the host's key out of band (on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then add its line to ${entry.knownHosts}; agentshare never trusts a key on first use`,
      },
    );
  return found.keys.map((k, i) => parsePublicKey(k, `${entry.knownHosts} key ${i + 1}`));
}

function sftpOf(conn: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => conn.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

/** Puts the helper at `path` on the host over SFTP (temp name, then rename), mode 0700. */
async function pushHelper(
  conn: Client,
  dir: string,
  path: string,
  bytes: Buffer,
  where: string,
): Promise<void> {
  const run = sshRunner(conn, where);
  await runChecked(run, "mkdir", ["-p", "-m", "0700", dir]);
  const sftp = await sftpOf(conn);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(tmp, bytes, { mode: 0o700 }, (err) => (err ? reject(err) : resolve())),
    );
    await runChecked(run, "mv", ["-f", "--", tmp, path]);
  } finally {
    sftp.end();
  }
}

/** Logs in to the host, makes sure this build's helper is there, starts it. */
export async function connectHost(
  entry: HostEntry,
  o: { readyTimeoutMs?: number } = {},
): Promise<HostConnection> {
  const ssh = entry.ssh;
  if (!ssh) throw new ToolError(`host ${entry.name} is the local machine; it needs no connection`);
  const hostKeys = await pinnedHostKeys(entry);
  const privateKey = (await readControllerFile(entry.identity, "SSH identity")).toString("utf8");
  const where = `host ${entry.name}`;
  const conn = await sshConnect({
    host: ssh.address,
    port: ssh.port,
    username: ssh.user,
    label: where,
    knownHostsPath: entry.knownHosts,
    privateKey,
    hostKeys,
    readyTimeoutMs: o.readyTimeoutMs,
    hint: `is ${entry.name} up, and does sshd listen at ${ssh.address}:${ssh.port}? (\`agentshare host list\`)`,
    mismatchHint: `the host's key changed, or something else answers at ${ssh.address}:${ssh.port}: check the key out of band before you replace its line in ${entry.knownHosts}`,
    authHint: `${ssh.user}@${ssh.address} must accept the key ${entry.identity}.pub (its ~/.ssh/authorized_keys)`,
  });
  const closed = new Promise<void>((resolve) => conn.once("close", () => resolve()));
  try {
    const bytes = await readPackageBytes(HOST_HELPER_BUNDLE);
    const sha = createHash("sha256").update(bytes).digest("hex");
    const dir = join(entry.stateDir, "helper");
    const path = join(dir, `host-helper-${sha.slice(0, 16)}.mjs`);
    const check = await sshRunner(conn, where)("sha256sum", ["--", path]);
    if (check.exitCode !== 0 || !check.stdout.startsWith(sha))
      await pushHelper(conn, dir, path, bytes, where);
    const host = await openRemoteHost({ name: entry.name, conn, helperPath: path, node: entry.node });
    return {
      entry,
      conn,
      host,
      closed,
      close: async () => {
        await host.close().catch(() => undefined);
        conn.end();
      },
    };
  } catch (err) {
    conn.end();
    throw err;
  }
}
