// A real OpenSSH server on 127.0.0.1 for the ssh/exec tests: host key and client key made by
// generateAgentKeys, logins as root by key, PATH and AGENTSHARE_INBOX set for sessions so the
// real cloud-init/agentshare-run wrapper writes its runs into a temp inbox.
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe } from "vitest";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";
import { generateAgentKeys, type AgentKeysForGuest } from "../../src/adapters/ssh-keys.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);

export const REPO = new URL("../..", import.meta.url).pathname;

/** Tools the sshd tests need; they also need root (sshd switches users; useradd). */
export const SSH_TOOLS = ["sshd", "useradd"] as const;

/** `describe` when root with sshd and useradd, or under CI (where anything missing must fail); else skip. */
export function describeWithSshd() {
  if (!isRoot() && !process.env.CI) {
    console.warn("skipping: the sshd tests need root (sshd logs in as other users)");
    return describe.skip;
  }
  return describeWithTools(SSH_TOOLS);
}

/** Throws unless root and the tools are there (call in beforeAll). */
export function assertSshd(): void {
  assertTools(SSH_TOOLS);
  if (!isRoot()) throw new Error("the sshd tests need root: run them as root (scripts/test.sh does)");
}

/** A non-root login for what sshd refuses root: it runs "signal" requests only for privilege-separated (non-root) sessions. */
export const TEST_USER = "agentshare-sshtest";

/** Creates TEST_USER (system user, home /, shell /bin/sh, password `*` so not locked) unless it exists. Needs root. */
export function ensureTestUser(): void {
  try {
    execFileSync("id", ["-u", TEST_USER], { stdio: "ignore" });
  } catch {
    const args = ["--system", "--no-create-home", "--home-dir", "/", "--shell", "/bin/sh", "--password", "*"];
    execFileSync("useradd", [...args, TEST_USER], { stdio: "inherit" });
  }
}

export interface SshServer {
  /** Temp tree (0755): state/agents/<agent>/ (keys), inbox/, bin/, rw/ (1777), sshd_config. */
  dir: string;
  stateDir: string;
  agentDir: string;
  agent: string;
  inbox: string;
  port: number;
  keys: AgentKeysForGuest;
  /** What sshd printed (with -e), for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on (at the time of the call). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const addr = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}

async function waitListening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}:\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}:\n${log()}`);
}

function sshdConfig(dir: string, port: number, hostKeyFile: string): string {
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyFile}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PidFile none",
    "UsePAM no",
    "StrictModes no",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "MaxStartups 50",
    "MaxSessions 50",
    `SetEnv PATH=${join(dir, "bin")}:/usr/local/bin:/usr/bin:/bin AGENTSHARE_INBOX=${join(dir, "inbox")}`,
    "",
  ].join("\n");
}

/** Starts sshd with keys made by generateAgentKeys for agent `agent`; call stop() in afterAll. */
export async function startSshServer(agent = "sshtest", extraConfig: string[] = []): Promise<SshServer> {
  const dir = mkdtempSync(join(tmpdir(), "agentshare-ssh-"));
  const stateDir = join(dir, "state");
  const agentDir = join(stateDir, "agents", agent);
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o755); // TEST_USER's sshd reads authorized_keys from here
  mkdirSync(join(dir, "inbox"));
  mkdirSync(join(dir, "rw"));
  chmodSync(join(dir, "rw"), 0o1777);
  mkdirSync(join(dir, "bin"));
  symlinkSync(join(REPO, "cloud-init", "agentshare-run"), join(dir, "bin", "agentshare-run"));
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation dir
  const keys = await generateAgentKeys(host, agentDir, agent);
  const hostKeyFile = join(dir, "ssh_host_ed25519_key");
  writeFileSync(hostKeyFile, keys.hostPrivateKey, { mode: 0o600 });
  writeFileSync(join(dir, "authorized_keys"), `${keys.clientPublicKey}\n`);
  const port = await freePort();
  writeFileSync(join(dir, "sshd_config"), sshdConfig(dir, port, hostKeyFile) + extraConfig.join("\n"));
  const sshd = execFileSync("sh", ["-c", "command -v sshd"], { encoding: "utf8" }).trim();
  const child = spawn(sshd, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let text = "";
  child.stderr?.on("data", (b: Buffer) => (text += b.toString()));
  const log = () => text;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  await waitListening(port, child, log).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { dir, stateDir, agentDir, agent, inbox: join(dir, "inbox"), port, keys, log, stop };
}

/** `node --import tsx src/cli/main.ts`: the CLI from source, so the tests need no build. */
export const CLI_ARGV = ["--import", "tsx", join(REPO, "src/cli/main.ts")];

/** Runs `agentshare ARGS` from source (node --import tsx) as a real process; stdout/stderr as bytes. */
export async function runCli(
  args: readonly string[],
  opts: { input?: string | Buffer; env?: Record<string, string> } = {},
) {
  const r = await execa(process.execPath, [...CLI_ARGV, ...args], {
    reject: false,
    encoding: "buffer",
    stripFinalNewline: false,
    ...(opts.input === undefined ? { stdin: "ignore" as const } : { input: opts.input }),
    timeout: 60_000,
    env: { AGENTSHARE_ROOT: "/nonexistent-root", ...opts.env },
  });
  return { code: r.exitCode, stdout: Buffer.from(r.stdout), stderr: Buffer.from(r.stderr) };
}
