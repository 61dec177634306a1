// The ssh2 adapter against a real OpenSSH sshd on 127.0.0.1: streaming, bytes, exit codes and
// signals, the pinned host key (a wrong one is refused before anything runs), and sshRunner.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import type { Client } from "ssh2";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sshConnect, sshExec, sshRunner, type SshTarget } from "../../src/adapters/ssh.js";
import { generateKeyPair, loadAgentKeys, parsePublicKey } from "../../src/adapters/ssh-keys.js";
import { ToolError } from "../../src/errors.js";
import {
  assertSshd,
  describeWithSshd,
  ensureTestUser,
  freePort,
  startSshServer,
  TEST_USER,
  type SshServer,
} from "./ssh-harness.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);

/** A Writable that keeps every chunk and can wait for some text to have arrived. */
function sink() {
  const chunks: Buffer[] = [];
  let waiter: { text: string; resolve: () => void } | undefined;
  const bytes = () => Buffer.concat(chunks);
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (waiter && bytes().includes(waiter.text)) waiter.resolve();
      cb();
    },
  });
  const until = (text: string) =>
    new Promise<void>((resolve) => {
      waiter = { text, resolve };
      if (bytes().includes(text)) resolve();
    });
  return { stream, bytes, until };
}

let s: SshServer;
let target: SshTarget;
let conn: Client;

describeWithSshd()("ssh adapter with a real sshd", () => {
  beforeAll(async () => {
    assertSshd();
    s = await startSshServer();
    const keys = await loadAgentKeys(host, s.agentDir);
    target = {
      host: "127.0.0.1",
      port: s.port,
      username: "root",
      label: `agent ${s.agent}`,
      knownHostsPath: keys.knownHostsPath,
      privateKey: keys.privateKey,
      hostKeys: keys.hostKeys,
    };
    conn = await sshConnect(target);
  });
  afterAll(async () => {
    conn?.end();
    await s?.stop();
  });

  const exec = async (command: string, stdin?: Readable) => {
    const out = sink();
    const err = sink();
    const r = await sshExec(conn, command, { stdout: out.stream, stderr: err.stream, stdin });
    return { ...r, stdout: out.bytes(), stderr: err.bytes() };
  };

  it("keeps stdout and stderr apart, byte for byte, for binary data", async () => {
    const a = randomBytes(3 * 1024 * 1024 + 7);
    const b = randomBytes(512 * 1024 + 3);
    writeFileSync(join(s.dir, "a.bin"), a);
    writeFileSync(join(s.dir, "b.bin"), b);
    const r = await exec(`cat ${s.dir}/a.bin & cat ${s.dir}/b.bin >&2; wait`);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.equals(a)).toBe(true);
    expect(r.stderr.equals(b)).toBe(true);
  });

  it("reports exit codes and signals", async () => {
    expect((await exec("true")).exitCode).toBe(0);
    expect((await exec("exit 3")).exitCode).toBe(3);
    const killed = await exec("sh -c 'kill -TERM $$'");
    expect(killed.signal).toBe("TERM");
    expect(killed.exitCode).toBeUndefined();
  });

  it("streams output as it arrives, before the command ends", async () => {
    const flag = join(s.dir, "go-on");
    const out = sink();
    const err = sink();
    const cmd = `echo first; while [ ! -e ${flag} ]; do sleep 0.05; done; echo second`;
    const done = sshExec(conn, cmd, { stdout: out.stream, stderr: err.stream });
    await out.until("first\n"); // would hang (test timeout) if output were held back
    expect(out.bytes().toString()).toBe("first\n");
    writeFileSync(flag, "");
    expect((await done).exitCode).toBe(0);
    expect(out.bytes().toString()).toBe("first\nsecond\n");
  });

  it("pipes stdin when given, and closes it otherwise", async () => {
    const data = randomBytes(200_000);
    const r = await exec("cat", Readable.from([data]));
    expect(r.stdout.equals(data)).toBe(true);
    expect((await exec("cat; echo eof")).stdout.toString()).toBe("eof\n");
  });

  it("at the time limit sends the command SIGTERM and stops waiting", async () => {
    // sshd serves "signal" requests only in privilege-separated sessions, i.e. not for root
    ensureTestUser();
    const userConn = await sshConnect({ ...target, username: TEST_USER });
    const out = sink();
    const got = join(s.dir, "rw", "got-term");
    const cmd = `trap 'touch ${got}; exit 7' TERM; sleep 30 & wait`;
    const t0 = Date.now();
    const io = { stdout: out.stream, stderr: out.stream };
    const r = await sshExec(userConn, cmd, io, { timeoutMs: 500 }).finally(() => userConn.end());
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(existsSync(got)).toBe(true);
  });

  it("refuses a server whose host key is not the pinned one, before anything runs", async () => {
    const marker = join(s.dir, "must-not-exist");
    const other = parsePublicKey(generateKeyPair("someone-else").publicKey);
    const err = await sshConnect({ ...target, hostKeys: [other] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect((err as Error).message).toMatch(/host key mismatch for agent sshtest at 127\.0\.0\.1/);
    expect((err as Error).message).toContain(target.knownHostsPath);
    expect((err as ToolError).exitCode).toBe(69);
    expect(existsSync(marker)).toBe(false);
  });

  it("says why it cannot log in: closed port, refused key", async () => {
    const port = await freePort();
    await expect(sshConnect({ ...target, port, hint: "check it" })).rejects.toThrow(
      /cannot reach agent sshtest at 127\.0\.0\.1:\d+ over SSH: ECONNREFUSED/,
    );
    const stranger = generateKeyPair("stranger").privateKey;
    await expect(sshConnect({ ...target, privateKey: stranger })).rejects.toThrow(
      /login as root .* was refused/,
    );
  });

  it("sshRunner runs programs like localRunner does", async () => {
    const run = sshRunner(conn, "test sshd");
    const r = await run("uname", ["-a"]);
    expect(r).toEqual({
      exitCode: 0,
      stdout: execFileSync("uname", ["-a"], { encoding: "utf8" }),
      stderr: "",
    });
    expect(await run("sh", ["-c", 'printf %s "$X"; exit 4'], { env: { X: "a b$c" } })).toMatchObject({
      exitCode: 4,
      stdout: "a b$c",
    });
    expect((await run("tr", ["a-z", "A-Z"], { input: "hello\n" })).stdout).toBe("HELLO\n");
    // as root sshd refuses the TERM (see the time limit test), so keep the orphaned sleep short
    expect((await run("sleep", ["3"], { timeoutMs: 200 })).exitCode).toBeUndefined();
    await expect(run("no-such-program-xyz", [])).rejects.toThrow(
      /no-such-program-xyz: not found on PATH on test sshd/,
    );
  });
});
