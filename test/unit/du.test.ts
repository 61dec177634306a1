// du through the built CLI: sizes without following symlinks, runs and the largest, quota check.
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { walkTreeSizes } from "../../src/adapters/tree-size.js";
import { parseDuNull } from "../../src/adapters/du.js";
import { cli, ensureBuilt, makeRun, tempTree, type Tree } from "./prune-harness.js";

interface Usage {
  agent: string;
  totalBytes: number;
  runs: number;
  largest: { name: string; bytes: number }[];
  overQuota: boolean;
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
  it("reports totals, runs and the largest runs without following symlinks", async () => {
    const r = await cli(t, ["du", "--json"]);
    expect(r.code).toBe(0);
    const usage = (JSON.parse(r.stdout) as { inboxes: Usage[] }).inboxes;
    expect(usage.map((u) => u.agent)).toEqual(["a", "b"]);
    const a = usage[0]!;
    expect(a.runs).toBe(2);
    expect(a.largest[0]!.name).toBe("run-20250102-000000");
    expect(a.largest[0]!.bytes).toBeGreaterThanOrEqual(1_000_000);
    expect(a.totalBytes).toBeLessThan(2_000_000); // the 5 MB behind the symlinks is not counted
    expect(a.overQuota).toBe(true);
    expect(usage[1]!.overQuota).toBe(false);
  });

  it("--check exits 1 when an inbox is over quota, 0 otherwise", async () => {
    const over = await cli(t, ["du", "a", "--check"]);
    expect(over.code).toBe(1);
    expect(over.stderr).toContain("over its quota");
    expect((await cli(t, ["du", "b", "--check"])).code).toBe(0);
    expect((await cli(t, ["du", "ghost"])).code).toBe(66);
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
