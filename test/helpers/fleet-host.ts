// A stand-in for a remote VM host of the fleet: a real OpenSSH sshd listening on a loopback
// address of its own (127.0.0.2, 127.0.0.3, …), root logins by key, with its own host tree and
// state dir under a temp folder of this machine. The controlling side gets a HostEntry with an
// identity file and a known_hosts file that pins the sshd's host key, exactly as an operator's.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../../src/adapters/ssh-keys.js";
import type { HostEntry } from "../../src/core/fleet.js";
import { freePort } from "../unit/ssh-harness.js";

export interface FakeHost {
  name: string;
  address: string;
  port: number;
  /** Temp folder: host/ (its root and state dir), controller/ (identity, known_hosts), sshd files. */
  dir: string;
  entry: HostEntry;
  /** Stops its sshd (existing sessions end too); start() brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

async function waitListening(address: string, port: number, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, address, () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${address}:${port}:\n${log()}`);
}

/** Starts sshd on `address` (a 127.x address) for host `name`; call stop() in afterAll. */
export async function startFakeHost(
  name: string,
  address: string,
  prefix = "agentshare-fleet-",
): Promise<FakeHost> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}${name}-`));
  const ctl = join(dir, "controller");
  mkdirSync(ctl, { mode: 0o700 });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKey = generateKeyPair(`${name}-host`);
  const client = generateKeyPair(`controller-for-${name}`);
  writeFileSync(join(dir, "ssh_host_ed25519_key"), hostKey.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, "authorized_keys"), `${client.publicKey}\n`);
  writeFileSync(join(ctl, "id_ed25519"), client.privateKey, { mode: 0o600 });
  const port = await freePort();
  const hk = hostKey.publicKey.split(" ").slice(0, 2).join(" ");
  writeFileSync(join(ctl, "known_hosts"), `[${address}]:${port} ${hk}\n`);
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${join(dir, "ssh_host_ed25519_key")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PidFile none",
      "UsePAM no",
      "StrictModes no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "AllowTcpForwarding yes",
      "Subsystem sftp internal-sftp",
      "MaxStartups 50",
      "MaxSessions 50",
      "",
    ].join("\n"),
  );
  const sshd = execFileSync("sh", ["-c", "command -v sshd"], { encoding: "utf8" }).trim();
  let child: ChildProcess | undefined;
  let text = "";
  const log = () => text;
  const start = async () => {
    const c = spawn(sshd, ["-D", "-e", "-f", join(dir, "sshd_config")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    c.stderr?.on("data", (b: Buffer) => (text = (text + b.toString()).slice(-20_000)));
    child = c;
    await waitListening(address, port, c, log);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    // the listener and every session it forked: sshd -D's sessions are its children
    try {
      execFileSync("pkill", ["-KILL", "-P", String(c.pid)], { stdio: "ignore" });
    } catch {
      // no session was open
    }
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
  };
  const entry: HostEntry = {
    name,
    source: "test",
    ssh: { user: "root", address, port },
    identity: join(ctl, "id_ed25519"),
    knownHosts: join(ctl, "known_hosts"),
    root: join(dir, "host", "srv"),
    stateDir: join(dir, "host", "state"),
    connect: "qemu:///system",
    labels: { name },
    maxAgents: null,
    memory: null,
    node: process.execPath,
  };
  await start().catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    name,
    address,
    port,
    dir,
    entry,
    kill,
    start,
    log,
    stop: async () => {
      await kill().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
