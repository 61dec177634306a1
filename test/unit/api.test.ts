// The library API in-process (src/index.ts): options and their env defaults, one schema with
// the CLI's --json, the error classes, abort and progress, attach as an AsyncIterable against
// the real guest server (through a counting TCP proxy, so the pause-and-resume of a slow
// consumer is seen), and exec against a real sshd. Fakes stand only at the tool boundary: a
// Runner that records or blocks, where a test needs a tool that never answers.
import { createHash } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, connect, type Server as NetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AgentshareError,
  createAgentshare,
  DataError,
  NotFoundError,
  UsageError,
  type AttachEvent,
  type ProgressEvent,
  type Runner,
} from "../../src/index.js";
import { withAgentLock } from "../../src/ops/agent-lock.js";
import { hostPaths } from "../../src/core/paths.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";
import { cli, ensureBuilt, tempTree, type Tree } from "./prune-harness.js";
import {
  makeBundles,
  makeInbox,
  startServer,
  TOKEN,
  type Bundles,
  type Server,
} from "./health-server-harness.js";
import {
  assertSshd,
  describeWithSshd,
  ensureTestUser,
  startSshServer,
  TEST_USER,
  type SshServer,
} from "./ssh-harness.js";

let t: Tree;
beforeEach(async () => {
  t = await tempTree();
});
afterEach(() => t.cleanup());

const apiOf = (extra: Parameters<typeof createAgentshare>[0] = {}) =>
  createAgentshare({ root: t.root, stateDir: t.stateDir, configFile: t.config, ...extra });

const DRY = ["--dry-run", "--no-image", "--no-network", "--kernel", "/boot/vmlinuz-x", "--memory", "512"];
const drySettings = { image: null, network: null, kernel: "/boot/vmlinuz-x", memory: 512 };

describe("options", () => {
  it("take the CLI's env vars as defaults, and explicit options over them", () => {
    const env = { AGENTSHARE_ROOT: "/r", AGENTSHARE_STATE_DIR: "/s", AGENTSHARE_CONNECT: "test:///default" };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const a = createAgentshare();
      expect([a.root, a.stateDir, a.connect]).toEqual(["/r", "/s", "test:///default"]);
      const b = createAgentshare({ root: "/other" });
      expect([b.root, b.stateDir]).toEqual(["/other", "/s"]);
      expect(b.paths.global).toBe("/other/global");
    } finally {
      process.env = saved;
    }
  });

  it("a relative stateDir is a UsageError (64) naming it", () => {
    let err: unknown;
    try {
      createAgentshare({ stateDir: "state" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as AgentshareError).exitCode).toBe(64);
    expect((err as Error).message).toMatch(/stateDir "state" must be an absolute path/);
  });
});

describe("one schema with the CLI's --json", () => {
  it("provision (dry run): the API's result is what `--json provision` prints", async () => {
    const viaApi = await apiOf().provision("same-01", { dryRun: true, settings: drySettings });
    const r = await cli(t, ["--json", "provision", "same-02", ...DRY]);
    expect(r.code, r.stderr).toBe(0);
    const viaCli = JSON.parse(r.stdout) as typeof viaApi;
    const norm = (o: object, n: string) => JSON.parse(JSON.stringify(o).replaceAll(n, "NAME")) as unknown;
    expect(norm(viaApi, "same-01")).toEqual(norm(viaCli, "same-02"));
    expect(viaApi.action).toBe("dry-run");
  });

  it("promote and du: the same objects, ok fields included", async () => {
    await writeFile(join(t.root, "staging", "a.sh"), "echo a\n");
    await writeFile(join(t.root, "staging", "b.sh"), "echo a\n");
    const api = apiOf();
    const p = await api.promote("a.sh");
    const r = await cli(t, ["--json", "promote", "b.sh"]);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as typeof p;
    expect(p.ok).toBe(true);
    expect(Object.keys(p).sort()).toEqual(Object.keys(c).sort());
    expect(p.sha256).toBe(c.sha256);
    expect(p.sha256).toBe(createHash("sha256").update("echo a\n").digest("hex"));
    const du = await api.du();
    const d = await cli(t, ["--json", "du"]);
    expect(JSON.parse(d.stdout)).toEqual(du);
  });
});

describe("errors", () => {
  it("a bad agent name is a DataError with exit code 65 from every verb that takes one", async () => {
    const api = apiOf();
    const bad = "Bad Name";
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["provision", () => api.provision(bad, { dryRun: true })],
      ["status", () => api.status(bad)],
      ["start", () => api.start(bad)],
      ["stop", () => api.stop(bad)],
      ["restart", () => api.restart(bad)],
      ["destroy", () => api.destroy(bad)],
      ["exec", () => api.exec(bad, ["true"])],
      ["collect", () => api.collect(bad, "x")],
      ["resize", () => api.resize(bad, "1G")],
      ["prune", () => api.prune({ agents: [bad] })],
      [
        "attach",
        async () => {
          for await (const _ of api.attach(bad)) break;
        },
      ],
    ];
    for (const [verb, call] of calls) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, verb).toBeInstanceOf(DataError);
      expect((err as AgentshareError).exitCode, verb).toBe(65);
      expect((err as AgentshareError).hint, verb).toBeTruthy();
    }
  });

  it("an agent that does not exist is a NotFoundError (66)", async () => {
    const err = await apiOf()
      .status("nobody-here")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as AgentshareError).exitCode).toBe(66);
  });
});

describe("abort and progress", () => {
  it("an aborted signal rejects with its reason before any tool runs", async () => {
    const ran: string[] = [];
    const runner: Runner = async (file, args) => {
      ran.push([file, ...args].join(" "));
      return { exitCode: 0, stdout: "", stderr: "" };
    };
    const ac = new AbortController();
    const reason = new Error("caller gave up");
    ac.abort(reason);
    const err = await apiOf({ runner })
      .list({ signal: ac.signal })
      .catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(ran).toEqual([]);
  });

  it("abort while a tool runs: the tool gets the signal and the call rejects with the reason", async () => {
    let sawSignal = false;
    // a virsh that never answers until it is told to stop: the fault cannot be produced for real
    const runner: Runner = (_file, _args, opts) =>
      new Promise((_resolve, reject) => {
        opts?.signal?.addEventListener("abort", () => {
          sawSignal = true;
          reject(new Error("killed"));
        });
      });
    const ac = new AbortController();
    const pending = apiOf({ runner }).list({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error("timeout of the orchestrator")), 100);
    await expect(pending).rejects.toThrow("timeout of the orchestrator");
    expect(sawSignal).toBe(true);
  });

  it("the local runner kills a real process on abort", async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 200);
    const r = await localRunner("sleep", ["30"], { signal: ac.signal }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r).toBeDefined();
  });

  it("onProgress gets the events the CLI shows: waiting for another operation on the agent", async () => {
    const events: ProgressEvent[] = [];
    const api = apiOf();
    const ctx = {
      opts: { root: t.root, stateDir: t.stateDir, connect: "qemu:///system", config: t.config },
      paths: hostPaths(t.root, t.stateDir),
      host: localHost(localRunner),
      run: localRunner,
      out: { warn() {}, note() {}, progress() {}, progressDone() {} },
      clock: () => new Date(),
    };
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = withAgentLock(ctx, "busy-01", async () => {
      locked();
      await held;
    });
    await isLocked;
    const stop = api.stop("busy-01", { onProgress: (e) => events.push(e) });
    await new Promise((r) => setTimeout(r, 1500));
    release();
    await holder;
    await expect(stop).rejects.toBeInstanceOf(NotFoundError);
    expect(events.some((e) => e.type === "note" && /working on this agent; waiting/.test(e.message))).toBe(
      true,
    );
  });
});

/** A TCP proxy in front of the server that counts the connections it is asked to make. */
async function countingProxy(
  port: number,
): Promise<{ url: string; connections: () => number; close: () => void }> {
  let n = 0;
  const srv: NetServer = createServer((c) => {
    n++;
    const up = connect(port, "127.0.0.1");
    c.pipe(up).pipe(c);
    const end = () => (c.destroy(), up.destroy());
    c.on("error", end);
    up.on("error", end);
    c.on("close", end);
    up.on("close", end);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const addr = srv.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, connections: () => n, close: () => srv.close() };
}

describe("attach as an AsyncIterable (real guest server)", () => {
  let b: Bundles;
  let s: Server;
  let dir = "";
  let runDir = "";
  const LINES = 40_000;
  let expected = "";

  beforeAll(async () => {
    ensureBuilt();
    b = await makeBundles();
    dir = await mkdtemp(join(tmpdir(), "agentshare-api-attach-"));
    const made = await makeInbox(dir);
    runDir = made.runDir;
    expected = Array.from({ length: LINES }, (_, i) => `line ${i} ${"x".repeat(40)}\n`).join("");
    await writeFile(join(runDir, "stdout.log"), expected);
    s = await startServer(b, made.inbox);
  });
  afterAll(async () => {
    s?.proc.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    await rm(b.dir, { recursive: true, force: true });
  });

  it("a slow consumer with a small buffer gets every byte once; the lagging connection was paused and resumed", async () => {
    const proxy = await countingProxy(s.port);
    try {
      const api = apiOf();
      const chunks: Buffer[] = [];
      const ids = new Set<string>();
      let n = 0;
      let ended = false;
      for await (const ev of api.attach("a1", {
        endpoint: { url: proxy.url, token: TOKEN },
        follow: false,
        bufferBytes: 64 * 1024,
      })) {
        if (ev.type === "data") {
          expect(ids.has(ev.id)).toBe(false);
          ids.add(ev.id);
          chunks.push(Buffer.from(ev.bytes));
          if (++n % 20 === 0) await new Promise((r) => setTimeout(r, 5)); // a consumer slower than the wire
        }
        if (ev.type === "end") ended = true;
      }
      expect(ended).toBe(true);
      expect(Buffer.concat(chunks).toString("utf8")).toBe(expected);
      expect(proxy.connections()).toBeGreaterThan(1);
    } finally {
      proxy.close();
    }
  });

  it("resumes after any event id: the rest, nothing before it again", async () => {
    const api = apiOf();
    const endpoint = { url: s.url, token: TOKEN };
    const first: Buffer[] = [];
    let cut = "";
    for await (const ev of api.attach("a1", { endpoint, follow: false })) {
      if (ev.type !== "data") continue;
      first.push(Buffer.from(ev.bytes));
      if (first.length === 3) {
        cut = ev.id;
        break; // the consumer leaves mid-stream
      }
    }
    expect(cut).not.toBe("");
    const rest: Buffer[] = [];
    const kinds: AttachEvent["type"][] = [];
    for await (const ev of api.attach("a1", { endpoint, follow: false, after: cut })) {
      kinds.push(ev.type);
      if (ev.type === "data") rest.push(Buffer.from(ev.bytes));
    }
    expect(Buffer.concat([...first, ...rest]).toString("utf8")).toBe(expected);
    expect(kinds.at(-1)).toBe("end");
  });

  it("follows a live run: bytes written later arrive; abort ends the loop with the signal's reason", async () => {
    const api = apiOf();
    const ac = new AbortController();
    const got: Buffer[] = [];
    const tail = "late line\n";
    const loop = (async () => {
      for await (const ev of api.attach("a1", {
        endpoint: { url: s.url, token: TOKEN },
        from: "end",
        signal: ac.signal,
      })) {
        if (ev.type !== "data") continue;
        got.push(Buffer.from(ev.bytes));
        if (Buffer.concat(got).toString().includes(tail)) ac.abort(new Error("done here"));
      }
    })().catch((e: unknown) => e); // it ends while this test is still writing
    await new Promise((r) => setTimeout(r, 500));
    await appendFile(join(runDir, "stdout.log"), tail);
    expect(await loop).toMatchObject({ message: "done here" });
    expect(Buffer.concat(got).toString()).toBe(tail);
  });
});

describeWithSshd()("exec (real sshd on loopback)", () => {
  let srv: SshServer;
  beforeAll(async () => {
    assertSshd();
    ensureTestUser();
    srv = await startSshServer();
  });
  afterAll(() => srv?.stop());

  it("streams stdout and stderr to callbacks, passes stdin, resolves with the exit code", async () => {
    const api = createAgentshare({ root: "/nonexistent-root", stateDir: srv.stateDir });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const r = await api.exec(srv.agent, ["sh", "-c", "cat; echo oops >&2; exit 7"], {
      user: TEST_USER,
      run: false,
      address: "127.0.0.1",
      port: srv.port,
      stdin: "from the orchestrator\n",
      onStdout: (c) => out.push(Buffer.from(c)),
      onStderr: (c) => err.push(Buffer.from(c)),
    });
    expect(r).toMatchObject({ name: srv.agent, exitCode: 7, host: "127.0.0.1" });
    expect(Buffer.concat(out).toString()).toBe("from the orchestrator\n");
    expect(Buffer.concat(err).toString()).toBe("oops\n");
  });

  it("through the run wrapper: a new run in the inbox with the command's output", async () => {
    const api = createAgentshare({ root: "/nonexistent-root", stateDir: srv.stateDir });
    let err = "";
    const r = await api.exec(srv.agent, ["sh", "-c", "echo in-a-run"], {
      user: "root", // the inbox is root's here, and the wrapper checks its owner
      address: "127.0.0.1",
      port: srv.port,
      onStderr: (c) => (err += Buffer.from(c).toString()),
    });
    expect(r.exitCode, err).toBe(0);
    const { readdirSync } = await import("node:fs");
    const runs = readdirSync(join(srv.inbox, "runs")).filter((n) => n.startsWith("run-"));
    expect(runs.length).toBeGreaterThan(0);
    const logs = await Promise.all(
      runs.map((n) => readFile(join(srv.inbox, "runs", n, "stdout.log"), "utf8").catch(() => "")),
    );
    expect(logs).toContain("in-a-run\n");
  });
});
