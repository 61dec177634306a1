// du through the built CLI on inboxes that are plain folders (from before limits); test/unit/inbox-fs.test.ts
// has du on real inbox file systems.
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { walkTreeSizes } from "../../src/adapters/tree-size.js";
import { parseDuNull } from "../../src/adapters/du.js";
import { cli, ensureBuilt, makeRun, tempTree, type Tree } from "./prune-harness.js";

interface Usage {
  agent: string;
  usedBytes: number | null;
  limitBytes: number | null;
  enforced: boolean;
  full: boolean;
  runs: number;
  largest: { name: string; bytes: number }[];
  problem?: string;
}
let t: Tree;
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  t = await tempTree("inboxQuota: 100K\n");
  const a = join(t.root, "a-inbox");
  await makeRun(a, "run-20250101-000000", 10);
  await makeRun(a, "run-20250102-000000", 200_000);
  await makeRun(join(t.root, "b-inbox"), "run-20250101-000000", 10);
  await mkdir(join(t.base, "big"));
  await writeFile(join(t.base, "big", "f"), Buffer.alloc(5_000_000, 1));
  await symlink(join(t.base, "big"), join(a, "outputs-link"));
  await symlink(join(t.base, "big"), join(a, "runs", "run-20250103-000000"));
});
afterEach(() => t.cleanup());

describe("du", () => {
  it("an inbox that is not its own file system has no enforced limit, and says so", async () => {
    const r = await cli(t, ["du", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; inboxes: Usage[] };
    expect(out.inboxes.map((u) => u.agent)).toEqual(["a", "b"]);
    const a = out.inboxes[0]!;
    expect(a).toMatchObject({ runs: 2, enforced: false, full: false, usedBytes: null, limitBytes: null });
    expect(a.problem).toMatch(/not size-limited/);
    expect(a.largest).toEqual([]); // nothing walks a tree whose size no file system bounds
  });

  it("--check exits 1 for an inbox without an enforced limit, and --json says ok: false", async () => {
    const r = await cli(t, ["--json", "du", "b", "--check"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false });
    expect(r.stderr).toMatch(/b's inbox has no enforced limit/);
    expect((await cli(t, ["du", "ghost"])).code).toBe(66);
    const top = await cli(t, ["du", "--top", "abc"]);
    expect(top.code).toBe(64);
    expect(top.stderr).toMatch(/--top "abc" must be a whole number/);
  });

  it("the in-process walk agrees with GNU du", async () => {
    const inbox = join(t.root, "a-inbox");
    const { execFileSync } = await import("node:child_process");
    const du = parseDuNull(
      execFileSync("du", ["-x", "-B1", "-0", "--max-depth=2", "--", inbox], { encoding: "utf8" }),
    );
    expect(Object.fromEntries(await walkTreeSizes(inbox, 2))).toEqual(Object.fromEntries(du));
  });
});
