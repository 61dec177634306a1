// `agentshare exec` refusals and lookups as a real process: a wrong pinned host key (nothing runs),
// missing agent or keys, an unreachable guest, bad flags, and the guest address from libvirt's
// DHCP lease (a fake `virsh` on PATH: libvirt itself is the vm tier's business).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateKeyPair } from "../../src/adapters/ssh-keys.js";
import {
  assertSshd,
  describeWithSshd,
  freePort,
  REPO,
  runCli,
  startSshServer,
  type SshServer,
} from "./ssh-harness.js";

let s: SshServer;
let tmp: string;
const hostArgs = () => ["--user", "root", "--address", "127.0.0.1", "--port", `${s.port}`];
const text = (b: Buffer) => b.toString("utf8");

/** A `virsh` that records its argv and answers domifaddr with the recorded lease table, address swapped. */
function fakeVirsh(dir: string, address: string | undefined): string {
  const bin = join(dir, "fake-bin");
  mkdirSync(bin, { recursive: true });
  const fixture = readFileSync(join(REPO, "test/fixtures/virsh/domifaddr-lease.stdout"), "utf8");
  const table = fixture.split("\n").filter((l) => !l.startsWith("#") && (address || !l.includes("ipv4")));
  const body = table.join("\n").replace("192.168.122.166", address ?? "");
  writeFileSync(join(dir, "table.txt"), body);
  const script = `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/virsh-argv\ncat ${dir}/table.txt\n`;
  writeFileSync(join(bin, "virsh"), script, { mode: 0o755 });
  return `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`;
}

describeWithSshd()("agentshare exec refuses and explains", () => {
  beforeAll(async () => {
    assertSshd();
    s = await startSshServer();
    tmp = mkdtempSync(join(tmpdir(), "agentshare-exec-"));
  });
  afterAll(async () => {
    await s?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("refuses a guest whose host key is not the pinned one: exit 69, and the command never runs", async () => {
    const marker = join(s.dir, "rw", "ran");
    const cmd = ["--no-run", "--", "touch", marker];
    // a copy of the agent's state with another key pinned
    const state = join(tmp, "state-wrong-pin");
    cpSync(s.stateDir, state, { recursive: true });
    const knownHosts = join(state, "agents", s.agent, "known_hosts");
    writeFileSync(knownHosts, `${generateKeyPair("impostor").publicKey}\n`);
    const r = await runCli(["--state-dir", state, "exec", s.agent, ...hostArgs(), ...cmd]);
    expect(r.code).toBe(69);
    expect(text(r.stderr)).toMatch(
      /host key mismatch for agent sshtest at 127\.0\.0\.1:\d+: it offered ssh-ed25519 SHA256:/,
    );
    expect(text(r.stderr)).toContain(knownHosts);
    expect(text(r.stderr)).toMatch(/hint: .*re-provision/);
    expect(existsSync(marker)).toBe(false);
    // control: with the right pin the same command does run
    const ok = await runCli(["--state-dir", s.stateDir, "exec", s.agent, ...hostArgs(), ...cmd]);
    expect(ok.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it("names a missing agent or missing keys (exit 66)", async () => {
    const none = await runCli([
      "--state-dir",
      join(tmp, "empty"),
      "exec",
      "ghost",
      ...hostArgs(),
      "--",
      "true",
    ]);
    expect(none.code).toBe(66);
    expect(text(none.stderr)).toMatch(/no agent ghost: .*agents\/ghost does not exist/);
    const state = join(tmp, "state-no-keys");
    mkdirSync(join(state, "agents", "bare"), { recursive: true });
    const bare = await runCli(["--state-dir", state, "exec", "bare", ...hostArgs(), "--", "true"]);
    expect(bare.code).toBe(66);
    expect(text(bare.stderr)).toMatch(/agents\/bare\/id_ed25519 does not exist/);
    expect(text(bare.stderr)).toMatch(/hint: .*agentshare provision/);
  });

  it("says when the guest cannot be reached (exit 69) and what to check", async () => {
    const port = `${await freePort()}`;
    const r = await runCli([
      "--state-dir",
      s.stateDir,
      "exec",
      s.agent,
      "--address",
      "127.0.0.1",
      "--port",
      port,
      "--",
      "true",
    ]);
    expect(r.code).toBe(69);
    expect(text(r.stderr)).toMatch(/cannot reach agent sshtest at 127\.0\.0\.1:\d+ over SSH: ECONNREFUSED/);
    expect(text(r.stderr)).toContain("agentshare status sshtest");
  });

  it("rejects bad flags and commands with a usage error (64) or a bad name (65)", async () => {
    const base = ["--state-dir", s.stateDir, "exec", s.agent];
    const cases: Array<[string[], number, RegExp]> = [
      [["--port", "0", "--", "true"], 64, /--port must be a TCP port 1-65535/],
      [["--timeout", "soon", "--", "true"], 64, /--timeout must be a positive number of seconds/],
      [["--user", "a b", "--", "true"], 64, /--user "a b" is not a user name/],
      [["--", ""], 64, /must not be empty/],
      [["--no-run", "--", "-x"], 64, /must be a program, not an option/],
      [[], 64, /missing required argument 'cmd'/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli([...base, ...args]);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(text(r.stderr)).toMatch(message);
    }
    const bad = await runCli(["--state-dir", s.stateDir, "exec", "Bad_Name", "--", "true"]);
    expect(bad.code).toBe(65);
  });

  it("finds the guest by its DHCP lease when --host is not given", async () => {
    const dir = join(tmp, "lease");
    const PATH = fakeVirsh(dir, "127.0.0.1");
    const args = ["--state-dir", s.stateDir, "exec", s.agent, "--user", "root", "--port", `${s.port}`];
    const r = await runCli([...args, "--no-run", "--", "echo", "via lease"], { env: { PATH } });
    expect(text(r.stderr)).toBe("");
    expect(text(r.stdout)).toBe("via lease\n");
    const argv = readFileSync(join(dir, "virsh-argv"), "utf8").trim().split("\n");
    expect(argv).toEqual(["-c", "qemu:///system", "domifaddr", "--domain", s.agent, "--source", "lease"]);
    const noLease = await runCli([...args, "--", "true"], {
      env: { PATH: fakeVirsh(join(tmp, "nolease"), undefined) },
    });
    expect(noLease.code).toBe(69);
    expect(text(noLease.stderr)).toMatch(/agent sshtest has no IPv4 address yet/);
  });
});
