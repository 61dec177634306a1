// The host seam is complete: init (without the bind mount), promote, collect, du and prune run
// against a rooted host (src/host/rooted.ts: every host path /x is <base>/x, and it runs no tools),
// with --root and --state-dir under a top-level folder that does not exist on this machine. An op
// that did host work around ctx.host would read or write that real path instead (and fail, or
// leave it behind); one that ran a tool on a host path would hit the rooted host's refusal.
// No mocks: both hosts are real implementations on real files.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localRunner } from "../../src/adapters/runner.js";
import { hostPaths } from "../../src/core/paths.js";
import { localHost } from "../../src/host/local.js";
import { rootedHost } from "../../src/host/rooted.js";
import { collect } from "../../src/ops/collect.js";
import type { OpContext } from "../../src/ops/context.js";
import { du } from "../../src/ops/du.js";
import { initTree } from "../../src/ops/init.js";
import { promote } from "../../src/ops/promote.js";
import { prune } from "../../src/ops/prune.js";
import { makeRun, pointCurrent, runsLeft } from "./prune-harness.js";

const RUNS = ["run-20260101-000001", "run-20260101-000002", "run-20260101-000003"];

describe("ops against a rooted host", () => {
  // a top-level folder no one has: the ops' host paths, which must never appear on this machine
  const fake = `/seam-rooted-${randomBytes(6).toString("hex")}`;
  const root = `${fake}/srv`;
  const stateDir = `${fake}/state`;
  let base = "";
  let controller = "";
  const said: string[] = [];
  let ctx: OpContext;
  /** Where the rooted host keeps a host path. */
  const at = (p: string) => join(base, p);

  beforeAll(async () => {
    expect(existsSync(fake)).toBe(false);
    base = await mkdtemp(join(tmpdir(), "agentshare-rooted-"));
    // the config file is read where agentshare runs (controller-files.ts), not on the host
    controller = await mkdtemp(join(tmpdir(), "agentshare-controller-"));
    const config = join(controller, "config.yaml");
    await writeFile(config, "retention:\n  keepLast: 1\n  maxAge: null\n");
    const host = rootedHost(base, localHost(localRunner));
    const note = (s: string) => void said.push(s);
    ctx = {
      opts: { root, stateDir, connect: "qemu:///system", config },
      paths: hostPaths(root, stateDir),
      host,
      run: host.run,
      out: { warn: (s) => note(`warn: ${s}`), note, progress: () => {}, progressDone: () => {} },
      clock: () => new Date(),
    };
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
    await rm(controller, { recursive: true, force: true });
  });

  it("init makes the host tree under the base", async () => {
    const r = await initTree({
      paths: ctx.paths,
      host: ctx.host,
      mount: false,
      isRoot: false,
      bindReadOnly: () => Promise.reject(new Error("--no-mount: never called")),
    });
    expect(r.created).toContain(join(root, "global", "content"));
    expect(r.created).toContain(stateDir);
    for (const d of ["global/content", "global-ro", "staging"])
      expect(existsSync(at(join(root, d)))).toBe(true);
    expect(existsSync(at(join(stateDir, "locks")))).toBe(true);
  });

  it("promote publishes staging → global with its sidecars and an audit line", async () => {
    const body = "the reviewed tool\n";
    await writeFile(at(join(root, "staging", "tool.sh")), body);
    const r = await promote(ctx, { file: "tool.sh", to: "tools", force: false });
    expect(r.dest).toBe(join(root, "global", "tools", "tool.sh"));
    const sha = createHash("sha256").update(body).digest("hex");
    expect(r.sha256).toBe(sha);
    expect(await readFile(at(r.dest), "utf8")).toBe(body);
    expect(await readFile(at(`${r.dest}.sha256`), "utf8")).toBe(`${sha}  tool.sh\n`);
    expect(JSON.parse(await readFile(at(`${r.dest}.meta.json`), "utf8")).sha256).toBe(sha);
  });

  it("collect copies a file out of an inbox into staging", async () => {
    const inbox = at(join(root, "a1-inbox"));
    for (const run of RUNS) await makeRun(inbox, run);
    await pointCurrent(inbox, RUNS[2] as string);
    await writeFile(join(inbox, "runs", RUNS[0] as string, "outputs", "report.md"), "# found\n");
    const r = await collect(ctx, {
      agent: "a1",
      path: `runs/${RUNS[0]}/outputs/report.md`,
      force: false,
      maxBytes: 1 << 20,
    });
    expect(r.dest).toBe(join(root, "staging", "report.md"));
    expect(await readFile(at(r.dest), "utf8")).toBe("# found\n");
  });

  it("du lists the inbox and its runs, and says its limit is not enforced", async () => {
    const [u] = await du(ctx, [], 0);
    expect(u).toMatchObject({ agent: "a1", inbox: join(root, "a1-inbox"), runs: 3, enforced: false });
  });

  it("prune deletes all but the last run through the trash, under its lock", async () => {
    const [r] = await prune(ctx, { agents: ["a1"], dryRun: false });
    expect(r?.status).toBe("ok");
    expect(r?.runs.map((x) => [x.name, x.deleted])).toEqual([
      [RUNS[0], true],
      [RUNS[1], true],
    ]);
    expect(r?.freedBytes).toBeGreaterThan(0); // measured in the trash (du, through the host)
    expect(await runsLeft(at(join(root, "a1-inbox")))).toEqual([RUNS[2]]);
    expect(existsSync(at(join(stateDir, "agents", "a1", "runs-seen.json")))).toBe(true);
  });

  it("left every trace under the base and none at the real paths", async () => {
    expect(said.filter((s) => s.startsWith("warn:"))).toEqual([]);
    expect(existsSync(fake)).toBe(false);
    const audit = (await readFile(at(join(stateDir, "audit.jsonl")), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { verb: string; result: string });
    expect(audit.map((a) => `${a.verb}:${a.result}`)).toEqual([
      "promote:ok",
      "collect:ok",
      "prune:ok",
      "prune:ok",
    ]);
  });

  it("the rooted host runs no tools, so a tool on a host path cannot slip past the seam", async () => {
    await expect(ctx.run("ls", [root])).rejects.toThrow(/runs no tools/);
  });

  it("streams a file opened without following symlinks, and refuses a symlink", async () => {
    const dir = join(root, "staging");
    await writeFile(at(join(dir, "big.bin")), Buffer.alloc(3 << 20, 7));
    const f = await ctx.host.openFileNoFollow(join(dir, "big.bin"), "staging/big.bin");
    try {
      let n = 0;
      for await (const c of f.chunks()) n += c.filter((b) => b === 7).length;
      expect([f.size, n]).toEqual([3 << 20, 3 << 20]);
    } finally {
      await f.close();
    }
    await symlink(at(join(dir, "big.bin")), at(join(dir, "link.bin")));
    await expect(ctx.host.openFileNoFollow(join(dir, "link.bin"), "staging/link.bin")).rejects.toThrow(
      /staging\/link.bin is a symlink/,
    );
  });

  it("refuses a relative host path", async () => {
    await expect(ctx.host.lstat("relative/path")).rejects.toThrow(/not absolute/);
  });
});
