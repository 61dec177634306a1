// prune through the built CLI (real processes, real trees): the policy, what it refuses, the
// hostile shapes a guest can leave in its inbox, the lock, and the exit codes.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatRunName } from "../../src/core/run-names.js";
import {
  auditLines,
  cli,
  ensureBuilt,
  makeRun,
  pointCurrent,
  runsLeft,
  snapshot,
  tempTree,
  type Tree,
} from "./prune-harness.js";

const HOUR = 3600_000;
/** chattr +i (root on ext4 and the like) makes a run that rename(2) refuses to move. */
const hasChattr = process.getuid?.() === 0 && spawnSync("chattr", ["--help"]).error === undefined;
const ago = (hours: number) => formatRunName(new Date(Date.now() - hours * HOUR));
let t: Tree;
let inbox = "";
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  t = await tempTree();
  inbox = join(t.root, "a-inbox");
});
afterEach(() => t.cleanup());

/** Runs named 1…n hours ago; returns their names, newest first. */
async function runs(n: number, where = inbox): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => ago(i + 1));
  for (const name of names) await makeRun(where, name);
  return names;
}

describe("prune: command line", () => {
  it.each([
    [[], 64, "--all"],
    [["a", "--all"], 64, "not both"],
    [["a", "--keep-last", "0"], 64, "--keep-last"],
    [["a", "--max-age", "soon"], 64, "--max-age"],
    [["a", "--max-size", "big"], 64, "--max-size"],
    [["a", "--lock-wait", "abc"], 64, "--lock-wait"],
    [["a", "--lock-wait", "-1"], 64, "--lock-wait"],
    [["Bad_Name"], 65, "agent name"],
    [["ghost"], 66, "does not exist"],
  ])("prune %j exits %i", async (args, code, text) => {
    const r = await cli(t, ["prune", ...args]);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(text);
  });
});

describe("prune: policy", () => {
  it("deletes beyond keep-last and max-age, keeps current, records audit and first-seen", async () => {
    const names = await runs(6);
    await pointCurrent(inbox, names[5] as string);
    const r = await cli(t, ["prune", "a", "--keep-last", "2", "--max-age", "90m", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      inboxes: { runs: { name: string; bytes: number; deleted: boolean }[]; freedBytes: number }[];
    };
    const deleted = out.inboxes[0]!.runs.map((x) => x.name).sort();
    expect(deleted).toEqual([names[2], names[3], names[4]].sort());
    expect(out.inboxes[0]!.runs.every((x) => x.deleted && x.bytes > 0)).toBe(true);
    expect(out.inboxes[0]!.freedBytes).toBe(out.inboxes[0]!.runs.reduce((n, x) => n + x.bytes, 0));
    expect(await runsLeft(inbox)).toEqual([names[5], names[1], names[0]].sort());
    const audit = (await auditLines(t.stateDir)).filter((l) => l.verb === "prune");
    expect(audit.map((l) => l.run).sort()).toEqual(deleted);
    expect(audit.every((l) => l.result === "ok" && l.agent === "a")).toBe(true);
    expect((await stat(join(t.stateDir, "agents", "a"))).mode & 0o777).toBe(0o700);
    const seen = JSON.parse(await readFile(join(t.stateDir, "agents", "a", "runs-seen.json"), "utf8")) as {
      runs: object;
    };
    expect(Object.keys(seen.runs).sort()).toEqual([...names].sort()); // as listed before deleting; dropped at the next scan
    expect(await readdir(join(t.stateDir, "trash"))).toEqual([]);
    const again = await cli(t, ["prune", "a", "--keep-last", "2", "--max-age", "90m"]);
    expect(again.stdout).toContain("deleted 0 runs");
  });

  it("--dry-run deletes nothing and writes nothing", async () => {
    const names = await runs(5);
    const r = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("would delete 4 runs");
    expect(await runsLeft(inbox)).toEqual([...names].sort());
    expect(await auditLines(t.stateDir)).toEqual([]);
  });

  it("uses the config file's retention when no flags are given", async () => {
    await runs(5); // config: keepLast 2, maxAge 30d → all within 30 d: nothing to delete
    expect((await cli(t, ["prune", "a"])).stdout).toContain("deleted 0 runs");
    await writeFile(t.config, "retention:\n  keepLast: 3\n  maxAge: null\n");
    expect((await cli(t, ["prune", "a"])).stdout).toContain("deleted 2 runs");
    expect((await runsLeft(inbox)).length).toBe(3);
  });

  it("a size cap deletes the oldest down to the keep-last floor only", async () => {
    await runs(5);
    const r = await cli(t, ["prune", "a", "--keep-last", "2", "--max-age", "30d", "--max-size", "1"]);
    expect(r.stdout).toContain("deleted 3 runs");
    expect((await runsLeft(inbox)).length).toBe(2);
  });
});

describe("prune: what a guest can leave behind", () => {
  it("refuses an inbox whose runs/ is a symlink, and still prunes the others (--all)", async () => {
    const canary = join(t.base, "canary");
    await runs(4, canary.replace(/canary$/, "canary-holder"));
    await mkdir(inbox);
    await symlink(join(t.base, "canary-holder", "runs"), join(inbox, "runs"));
    const before = await snapshot(join(t.base, "canary-holder"));
    const other = await runs(4, join(t.root, "b-inbox"));
    const r = await cli(t, ["prune", "--all", "--keep-last", "1", "--max-age", "off"]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/a: .*runs is a symlink/);
    expect(await snapshot(join(t.base, "canary-holder"))).toEqual(before);
    expect(await runsLeft(join(t.root, "b-inbox"))).toEqual([other[0]]);
  });

  it("deletes nothing when current points outside runs/ (conservative)", async () => {
    const names = await runs(5);
    await symlink("/etc", join(inbox, "current"));
    const r = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("not a run in runs/");
    expect(await runsLeft(inbox)).toEqual([...names].sort());
  });

  it("handles FIFOs, hardlinks to outside files, a deep tree, symlinks and a file named like a run", async () => {
    const names = await runs(4);
    const old = join(inbox, "runs", names[3] as string);
    execFileSync("mkfifo", [join(old, "fifo")]);
    const outside = join(t.base, "outside.txt");
    await writeFile(outside, "precious");
    await link(outside, join(old, "hardlink"));
    await symlink(t.base, join(old, "escape"));
    let deep = join(names[2] as string);
    for (let i = 0; i < 300; i++) deep = join(deep, "d");
    await mkdir(join(inbox, "runs", deep), { recursive: true });
    await writeFile(join(inbox, "runs", deep, "leaf"), "leaf");
    await writeFile(join(inbox, "runs", "run-20200101-000000"), "a file, not a run");
    await symlink(t.base, join(inbox, "runs", "run-20200102-000000"));
    const r = await cli(t, ["prune", "a", "--keep-last", "2", "--max-age", "off", "--json"]);
    expect(r.code).toBe(0);
    expect(await runsLeft(inbox)).toEqual(
      [names[1], names[0], "run-20200101-000000", "run-20200102-000000"].sort(),
    );
    expect(await readFile(outside, "utf8")).toBe("precious");
    expect((await lstat(join(t.base, "root"))).isDirectory()).toBe(true);
    expect((await lstat(join(inbox, "runs", "run-20200102-000000"))).isSymbolicLink()).toBe(true);
  });

  it("ignores file mtimes (future and ancient) and does not trust a run name from the future", async () => {
    const names = await runs(4); // 1–4 hours old
    await utimes(join(inbox, "runs", names[0] as string), new Date("2100-01-01"), new Date("2100-01-01"));
    await utimes(join(inbox, "runs", names[1] as string), new Date("1971-01-01"), new Date("1971-01-01"));
    await makeRun(inbox, "run-29990101-000000");
    const r = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "1d"]);
    expect(r.stdout).toContain("deleted 0 runs"); // trusting 2999 would age every other run by ~970 years
    expect((await runsLeft(inbox)).length).toBe(5);
  });

  it("ages a run named before the previous scan from when the host first saw it", async () => {
    await runs(3);
    expect((await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "1d"])).code).toBe(0);
    await makeRun(inbox, "run-19900101-000000");
    const r = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "1d"]);
    expect(r.stdout).toContain("deleted 0 runs");
    expect(await runsLeft(inbox)).toContain("run-19900101-000000");
  });
});

/** A process appending to `file` every 10 ms, like a wrapper tee-ing a live run's stdout. */
function startWriter(file: string): { stop: () => Promise<void> } {
  const code = `const fs=require("fs");const fd=fs.openSync(${JSON.stringify(file)},"a");setInterval(()=>fs.writeSync(fd,"line\\n"),10);`;
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

describe("prune: runs still in progress", () => {
  it("never deletes a run without metrics.json whose log is being written, whatever current says", async () => {
    const names = await runs(4); // names[3]: the workload, started 4 h ago and still running
    const workload = join(inbox, "runs", names[3] as string);
    await rm(join(workload, "metrics.json"));
    const writer = startWriter(join(workload, "stdout.log"));
    try {
      await pointCurrent(inbox, names[0] as string); // what an exec re-pointed current to before
      await new Promise((r) => setTimeout(r, 100));
      const r = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off", "--json"]);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { inboxes: { runs: { name: string }[]; unfinished: string[] }[] };
      expect(out.inboxes[0]!.runs.map((x) => x.name).sort()).toEqual([names[1], names[2]].sort());
      expect(out.inboxes[0]!.unfinished).toEqual([names[3]]);
      expect(await runsLeft(inbox)).toEqual([names[0], names[3]].sort());
      const size = (await stat(join(workload, "stdout.log"))).size;
      await new Promise((r) => setTimeout(r, 100));
      expect((await stat(join(workload, "stdout.log"))).size).toBeGreaterThan(size); // still written in place
      const text = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off"]);
      expect(text.stdout).toContain(
        `kept 1 unfinished runs (no metrics.json: may still be running): ${names[3]}`,
      );
    } finally {
      await writer.stop();
    }
  });

  it("deletes an unfinished run the host first saw over 7 days ago when it is not the newest (a crash)", async () => {
    const names = await runs(3);
    for (const n of names) await rm(join(inbox, "runs", n, "metrics.json"));
    await mkdir(join(t.stateDir, "agents", "a"), { recursive: true });
    const old = Date.now() - 8 * 24 * HOUR;
    const seen = Object.fromEntries(names.map((n) => [n, { firstSeen: old, effective: old }]));
    await writeFile(
      join(t.stateDir, "agents", "a", "runs-seen.json"),
      JSON.stringify({ version: 1, lastScan: old, runs: seen }),
    );
    const r = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off"]);
    expect(r.code).toBe(0);
    expect(await runsLeft(inbox)).toEqual([names[0]]); // the newest is kept: the floor
  });

  it.skipIf(!hasChattr && !process.env.CI)(
    "exits 74 naming each run it could not delete, without raw errno text",
    async () => {
      const names = await runs(3);
      const stuck = join(inbox, "runs", names[2] as string);
      execFileSync("chattr", ["+i", stuck]); // rename(2) of an immutable directory fails with EPERM
      try {
        const r = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off"]);
        expect(r.code).toBe(74);
        expect(r.stdout).toContain(`${names[2]}`);
        expect(r.stdout).toMatch(/NOT deleted: cannot be moved out of the inbox: operation not permitted/);
        expect(r.stderr).toContain("1 of 2 runs to delete were NOT deleted");
        expect(`${r.stdout}${r.stderr}`).not.toMatch(/EPERM|\/proc\/self\/fd/);
        expect(await runsLeft(inbox)).toEqual([names[0], names[2]].sort());
      } finally {
        execFileSync("chattr", ["-i", stuck]);
      }
    },
  );
});

describe("prune: trash on another file system", () => {
  it("uses a 0700 trash folder in the root when the state dir is elsewhere (here /dev/shm)", async () => {
    const shm = await mkdtemp(join("/dev/shm", "agentshare-state-"));
    try {
      expect((await stat(shm)).dev).not.toBe((await stat(t.root)).dev);
      const names = await runs(4);
      const r = await cli({ ...t, stateDir: shm }, ["prune", "a", "--keep-last", "1", "--max-age", "off"]);
      expect(r.code).toBe(0);
      expect(await runsLeft(inbox)).toEqual([names[0]]);
      expect((await readdir(t.root)).filter((n) => n.startsWith(".agentshare-trash-"))).toEqual([]);
      expect((await auditLines(shm)).length).toBe(3);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});

describe("prune: the lock", () => {
  it("two prunes started together: one waits or refuses, no error, no double deletion", async () => {
    const names = await runs(300);
    const args = ["prune", "a", "--keep-last", "10", "--max-age", "off", "--json"];
    const [x, y] = await Promise.all([cli(t, args), cli(t, args)]);
    for (const r of [x, y]) expect([0, 75]).toContain(r.code);
    expect([x!.code, y!.code]).toContain(0);
    const deleted = [x, y].flatMap((r) =>
      r!.code === 0
        ? (JSON.parse(r!.stdout) as { inboxes: { runs: { name: string }[] }[] }).inboxes[0]!.runs.map(
            (v) => v.name,
          )
        : [],
    );
    expect(new Set(deleted).size).toBe(deleted.length);
    expect(deleted.sort()).toEqual(names.slice(10).sort());
    expect((await auditLines(t.stateDir)).length).toBe(290);
    expect(await runsLeft(inbox)).toEqual(names.slice(0, 10).sort());
  });

  it("a live holder makes prune exit 75 after --lock-wait; a dead holder's lock is broken", async () => {
    await runs(3);
    await mkdir(join(t.stateDir, "locks"), { recursive: true });
    const lock = join(t.stateDir, "locks", "prune-a.lock");
    await writeFile(lock, `${process.pid}\n`);
    const busy = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off", "--lock-wait", "0.3"]);
    expect(busy.code).toBe(75);
    expect(busy.stderr).toContain(`pid ${process.pid}`);
    expect((await runsLeft(inbox)).length).toBe(3);
    await writeFile(lock, "999999999\n");
    const ok = await cli(t, ["prune", "a", "--keep-last", "1", "--max-age", "off"]);
    expect(ok.code).toBe(0);
    expect((await runsLeft(inbox)).length).toBe(1);
    expect(await readdir(join(t.stateDir, "locks"))).toEqual([]);
  });
});
