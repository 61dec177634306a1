// The prune lock: exclusive between real processes, waits then reports the holder, and
// recovers a lock left by a dead process.
import { mkdtemp, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, pidAlive } from "../../src/adapters/lock.js";

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "agentshare-lock-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A separate node process that takes the lock file by O_EXCL, holds it `ms`, then removes it. */
const holder = (path: string, ms: number) =>
  execa(process.execPath, [
    "-e",
    `const fs=require("fs");fs.writeFileSync(${JSON.stringify(path)},process.pid+"\\n",{flag:"wx"});console.log("held");setTimeout(()=>fs.rmSync(${JSON.stringify(path)}),${ms});`,
  ]);

describe("acquireLock", () => {
  it("is exclusive; release frees it; release of a lock not ours does nothing", async () => {
    const a = await acquireLock(dir, "k", { waitMs: 0 });
    expect(a.ok).toBe(true);
    const b = await acquireLock(dir, "k", { waitMs: 150, pollMs: 20 });
    expect(b).toMatchObject({ ok: false, holder: process.pid });
    if (a.ok) await a.lock.release();
    const c = await acquireLock(dir, "k", { waitMs: 0 });
    expect(c.ok).toBe(true);
    if (c.ok) await c.lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("waits for a holder in another process that lets go", async () => {
    const p = holder(join(dir, "k.lock"), 400);
    await new Promise((r) => p.stdout?.once("data", r));
    const started = Date.now();
    const r = await acquireLock(dir, "k", { waitMs: 5000, pollMs: 20 });
    expect(r.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(200);
    await p;
  });

  it("breaks the lock of a dead process", async () => {
    const dead = await execa(process.execPath, ["-e", "console.log(process.pid)"]);
    const pid = Number(dead.stdout);
    expect(pidAlive(pid)).toBe(false);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "k.lock"), `${pid}\n`);
    const r = await acquireLock(dir, "k", { waitMs: 0 });
    expect(r.ok).toBe(true);
  });

  it("many processes racing for one lock: exactly one wins at a time", async () => {
    const script = `
      import { acquireLock } from ${JSON.stringify(join(process.cwd(), "src/adapters/lock.ts"))};
      import { appendFileSync } from "node:fs";
      const dir = process.argv[2];
      const r = await acquireLock(dir, "k", { waitMs: 20000, pollMs: 5 });
      appendFileSync(dir + "/log", "in " + process.pid + "\\n");
      await new Promise((res) => setTimeout(res, 30));
      appendFileSync(dir + "/log", "out " + process.pid + "\\n");
      if (r.ok) await r.lock.release();`;
    const file = join(dir, "racer.mts");
    await writeFile(file, script);
    const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
    await Promise.all(Array.from({ length: 6 }, () => execa(tsx, [file, dir])));
    const { readFile } = await import("node:fs/promises");
    const log = (await readFile(join(dir, "log"), "utf8")).trim().split("\n");
    expect(log.length).toBe(12);
    for (let i = 0; i < log.length; i += 2) expect(log[i]!.replace("in", "out")).toBe(log[i + 1]);
  }, 60_000);
});
