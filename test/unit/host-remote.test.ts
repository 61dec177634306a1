// The remote host (src/host/remote.ts + the helper, src/host/helper.ts, from dist/) against a real
// sshd on 127.0.0.2 standing in for a VM host: the ops run through it exactly as through the local
// host, with the guest-tree guarantees held on the far side (a guest-planted symlink is refused,
// prune stays on the inbox's file system), locks released when the connection dies, host keys
// pinned (a changed key or a host the known_hosts file does not vouch for is refused before
// anything runs), and a lost connection is a ToolError naming the host. No mocks.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateKeyPair } from "../../src/adapters/ssh-keys.js";
import { hostPaths } from "../../src/core/paths.js";
import { connectHost, type HostConnection } from "../../src/host/connect.js";
import { collect } from "../../src/ops/collect.js";
import type { OpContext } from "../../src/ops/context.js";
import { du } from "../../src/ops/du.js";
import { initTree } from "../../src/ops/init.js";
import { promote } from "../../src/ops/promote.js";
import { prune } from "../../src/ops/prune.js";
import { startFakeHost, type FakeHost } from "../helpers/fleet-host.js";
import { ensureBuilt, makeRun, pointCurrent, runsLeft } from "./prune-harness.js";
import { assertSshd, describeWithSshd } from "./ssh-harness.js";

const RUNS = ["run-20260101-000001", "run-20260101-000002", "run-20260101-000003"];

describeWithSshd()("ops against a remote host over SSH (sshd on 127.0.0.2)", () => {
  let fake: FakeHost;
  let hc: HostConnection;
  let ctx: OpContext;
  let controller = "";
  const said: string[] = [];

  beforeAll(async () => {
    assertSshd();
    ensureBuilt(); // the helper is pushed from dist/host/host-helper.mjs
    fake = await startFakeHost("rack-a", "127.0.0.2");
    hc = await connectHost(fake.entry);
    controller = await mkdtemp(join(tmpdir(), "agentshare-controller-"));
    const config = join(controller, "config.yaml");
    await writeFile(config, "retention:\n  keepLast: 1\n  maxAge: null\n");
    const { root, stateDir } = fake.entry;
    const note = (s: string) => void said.push(s);
    ctx = {
      opts: { root, stateDir, connect: "qemu:///system", config },
      paths: hostPaths(root, stateDir),
      host: hc.host,
      run: hc.host.run,
      out: { warn: (s) => note(`warn: ${s}`), note, progress: () => {}, progressDone: () => {} },
      clock: () => new Date(),
    };
  });

  afterAll(async () => {
    await hc?.close();
    await fake?.stop();
    await rm(controller, { recursive: true, force: true });
  });

  it("the helper runs on the host as root, from the host's state dir", async () => {
    expect(hc.host.info).toMatchObject({ protocol: 1, uid: 0 });
    expect((await stat(join(fake.entry.stateDir, "helper"))).mode & 0o777).toBe(0o700);
  });

  it("init makes the host tree on the host", async () => {
    const r = await initTree({
      paths: ctx.paths,
      host: ctx.host,
      mount: false,
      isRoot: true,
      bindReadOnly: () => Promise.reject(new Error("--no-mount: never called")),
    });
    expect(r.created).toContain(join(fake.entry.root, "global", "tools"));
    expect(existsSync(join(fake.entry.root, "staging"))).toBe(true);
  });

  it("promote publishes on the host with its sidecar, 0444, and an audit line there", async () => {
    const body = Buffer.alloc(5 * 1024 * 1024 + 17, "x"); // several chunks each way
    await writeFile(join(fake.entry.root, "staging", "tool.sh"), body);
    const r = await promote(ctx, { file: "tool.sh", to: "tools", force: false });
    const sha = createHash("sha256").update(body).digest("hex");
    expect([r.sha256, r.size]).toEqual([sha, body.length]);
    expect((await readFile(r.dest)).equals(body)).toBe(true);
    expect((await stat(r.dest)).mode & 0o777).toBe(0o444);
    expect(await readFile(`${r.dest}.sha256`, "utf8")).toBe(`${sha}  tool.sh\n`);
    expect(await readFile(join(fake.entry.stateDir, "audit.jsonl"), "utf8")).toMatch(/"verb":"promote"/);
  });

  it("promote refuses a staging file whose checksum file disagrees, and publishes nothing", async () => {
    await writeFile(join(fake.entry.root, "staging", "bad.sh"), "one\n");
    await writeFile(join(fake.entry.root, "staging", "bad.sh.sha256"), `${"0".repeat(64)}  bad.sh\n`);
    await expect(promote(ctx, { file: "bad.sh", to: "tools", force: false })).rejects.toThrow(
      /does not match/,
    );
    expect(existsSync(join(fake.entry.root, "global", "tools", "bad.sh"))).toBe(false);
  });

  it("collect copies an inbox file into staging on the host, and refuses a guest's symlink", async () => {
    const inbox = join(fake.entry.root, "a1-inbox");
    for (const run of RUNS) await makeRun(inbox, run);
    await pointCurrent(inbox, RUNS[2] as string);
    await writeFile(join(inbox, "runs", RUNS[0] as string, "outputs", "report.md"), "# found\n");
    const r = await collect(ctx, {
      agent: "a1",
      path: `runs/${RUNS[0]}/outputs/report.md`,
      force: false,
      maxBytes: 1 << 20,
    });
    expect(await readFile(r.dest, "utf8")).toBe("# found\n");
    // a guest plants a symlink to a host secret: collect must not follow it
    await writeFile(join(fake.dir, "secret"), "host secret\n");
    await symlink(join(fake.dir, "secret"), join(inbox, "runs", RUNS[0] as string, "outputs", "steal.md"));
    await expect(
      collect(ctx, {
        agent: "a1",
        path: `runs/${RUNS[0]}/outputs/steal.md`,
        force: false,
        maxBytes: 1 << 20,
      }),
    ).rejects.toThrow(/symlink/);
    expect(existsSync(join(fake.entry.root, "staging", "steal.md"))).toBe(false);
  });

  it("du measures the inbox on the host", async () => {
    const [u] = await du(ctx, [], 0);
    expect(u).toMatchObject({ agent: "a1", runs: 3 });
  });

  it("prune deletes old runs on the host and does not follow a guest's symlinked run", async () => {
    const inbox = join(fake.entry.root, "a1-inbox");
    const outside = join(fake.dir, "outside");
    await mkdir(outside);
    await writeFile(join(outside, "keep.txt"), "not the guest's\n");
    await symlink(outside, join(inbox, "runs", "run-20250101-000000"));
    const [r] = await prune(ctx, { agents: ["a1"], dryRun: false });
    expect(r?.status).toBe("ok");
    // the real runs went; the guest's symlink is left where it is, and what it points to untouched
    expect(await runsLeft(inbox)).toEqual(["run-20250101-000000", RUNS[2]]);
    expect(await readFile(join(outside, "keep.txt"), "utf8")).toBe("not the guest's\n");
  });

  it("a lock held by a connection that dies is released on the host", async () => {
    const locks = join(fake.entry.stateDir, "locks");
    const other = await connectHost(fake.entry);
    const a = await other.host.acquireLock(locks, "agent-x", { waitMs: 0 });
    expect(a.ok).toBe(true);
    const busy = await hc.host.acquireLock(locks, "agent-x", { waitMs: 0 });
    expect(busy.ok).toBe(false);
    other.conn.destroy(); // the SSH connection drops: the helper's stdin ends
    const b = await hc.host.acquireLock(locks, "agent-x", { waitMs: 5000 });
    expect(b.ok).toBe(true);
    if (b.ok) await b.lock.release();
  });

  it("runs tools on the host and connects to a port there", async () => {
    const r = await hc.host.run("sh", ["-c", "echo $((6*7))"]);
    expect(r).toMatchObject({ exitCode: 0, stdout: "42\n" });
    const [port] = await hc.host.freeLoopbackPorts(1);
    expect(port).toBeGreaterThan(0);
    // sshd's own port, through the host's loopback: what attach and exec use for a guest's forward
    const sock = await hc.host.connectTcp(fake.address, fake.port);
    const banner = await new Promise<string>((resolve) =>
      sock.once("data", (b: Buffer) => resolve(b.toString())),
    );
    sock.destroy();
    expect(banner).toMatch(/^SSH-2.0-OpenSSH/);
  });

  it("refuses a host whose key is not the pinned one, and one known_hosts does not vouch for", async () => {
    const other = generateKeyPair("impostor").publicKey.split(" ").slice(0, 2).join(" ");
    const kh = join(controller, "known_hosts-wrong");
    await writeFile(kh, `[${fake.address}]:${fake.port} ${other}\n`);
    await expect(connectHost({ ...fake.entry, knownHosts: kh })).rejects.toThrow(
      /host key mismatch for host rack-a/,
    );
    const empty = join(controller, "known_hosts-empty");
    await writeFile(empty, `[${fake.address}]:1 ${other}\n`);
    await expect(connectHost({ ...fake.entry, knownHosts: empty })).rejects.toThrow(
      /has no host key for \[127.0.0.2\]/,
    );
  });

  it("a connection lost mid-call is a ToolError naming the host", async () => {
    const other = await connectHost(fake.entry);
    await fake.kill();
    try {
      const err = await other.host.readdir("/").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ exitCode: 69 });
      expect(String(err)).toMatch(/host rack-a/);
    } finally {
      await other.close();
      await fake.start();
      await hc.close();
      hc = await connectHost(fake.entry);
      ctx.host = hc.host;
      ctx.run = hc.host.run;
    }
  });

  it("said no warnings", () => {
    expect(said.filter((s) => s.startsWith("warn:"))).toEqual([]);
  });
});
