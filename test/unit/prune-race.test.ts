// prune against a hostile guest: a separate process swaps run directories, their subfolders
// and runs/ itself for symlinks to canary folders outside the inbox while prune runs.
// Over 100 trials the canaries are never touched and current's run and the keep-last
// floor always survive.
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatRunName } from "../../src/core/run-names.js";
import { prune } from "../../src/ops/prune.js";
import { REPO, contextFor, makeRun, pointCurrent, snapshot, tempTree, type Tree } from "./prune-harness.js";

const TRIALS = 100;
const RUNS = 8;
const CURRENT = 5;
const ADVERSARY = join(REPO, "test", "unit", "prune-adversary.mjs");
let t: Tree;
let canary = "";
let canaryRuns = "";

beforeAll(async () => {
  t = await tempTree();
  canary = join(t.base, "canary");
  canaryRuns = join(t.base, "canary-runs");
  await mkdir(join(canary, "deep"), { recursive: true });
  for (const f of ["precious.txt", "deep/precious2.txt"]) await writeFile(join(canary, f), `keep ${f}`);
  // run-named folders: if prune ever followed a symlinked runs/, these would be its victims
  for (let d = 1; d <= 5; d++) await makeRun(join(t.base, "holder"), `run-2000010${d}-000000`);
  await rename(join(t.base, "holder", "runs"), canaryRuns);
});
afterAll(() => t.cleanup());

async function trial(
  i: number,
  before: { canary: string[]; runs: string[] },
): Promise<{ status: string; ops: number }> {
  const inbox = join(t.root, `race${i}-inbox`);
  const now = Date.now();
  const names = Array.from({ length: RUNS }, (_, k) => formatRunName(new Date(now - (k + 1) * 3600_000)));
  for (const n of names) await makeRun(inbox, n, 10);
  await pointCurrent(inbox, names[CURRENT] as string);
  const adv = execa(process.execPath, [ADVERSARY, inbox, canary, canaryRuns], {
    reject: false,
    buffer: true,
  });
  await new Promise<void>((resolve) => adv.stdout?.once("data", () => resolve()));
  const [r] = await prune(contextFor(t), {
    agents: [`race${i}`],
    dryRun: false,
    keepLast: 2,
    maxAge: null,
    maxSize: null,
  });
  adv.kill("SIGTERM");
  const done = await adv;
  expect(await snapshot(canary)).toEqual(before.canary);
  expect(await snapshot(canaryRuns)).toEqual(before.runs);
  for (const keep of [names[0], names[1], names[CURRENT]] as string[]) {
    expect((await stat(join(inbox, "runs", keep))).isDirectory()).toBe(true);
    expect(await readFile(join(inbox, "runs", keep, "outputs", "result.txt"), "utf8")).toBe("x".repeat(10));
  }
  // a run swapped for a symlink (or a file) mid-prune is left alone and reported: exit 74
  expect(["ok", "refused", "incomplete"], JSON.stringify(r)).toContain(r?.status);
  for (const x of r?.runs ?? [])
    if (!x.deleted && !x.vanished)
      expect(["is a symlink", "is not a directory"], JSON.stringify(x)).toContain(x.why);
  return { status: r?.status ?? "none", ops: Number(/ops (\d+)/.exec(String(done.stdout))?.[1] ?? 0) };
}

describe("prune vs a racing hostile guest", () => {
  it(`never touches the canaries, current or the keep-last floor (${TRIALS} trials)`, async () => {
    const before = { canary: await snapshot(canary), runs: await snapshot(canaryRuns) };
    expect(before.canary.length).toBe(3);
    expect(before.runs.length).toBe(40);
    const statuses: Record<string, number> = {};
    let ops = 0;
    for (let i = 0; i < TRIALS; i++) {
      const r = await trial(i, before);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      ops += r.ops;
    }
    expect(ops).toBeGreaterThan(TRIALS * 10); // the adversary really raced
    expect(statuses.ok ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
