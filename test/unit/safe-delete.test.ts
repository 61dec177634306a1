// The deletion primitives on real trees: what moveIntoTrash refuses, and that rm removes a
// trash batch full of symlinks, hardlinks and FIFOs without touching what they point to.
import { execFileSync } from "node:child_process";
import { link, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { localRunner } from "../../src/adapters/runner.js";
import { makeTrashBatch, moveIntoTrash, moveProblem, removeTree } from "../../src/adapters/safe-delete.js";
import { openDirNoFollow } from "../../src/adapters/safe-open.js";
import { isRunName } from "../../src/core/run-names.js";

let base = "";
let runs = "";
let outside = "";
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "agentshare-del-"));
  runs = join(base, "inbox", "runs");
  outside = join(base, "outside");
  await mkdir(runs, { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, "keep"), "keep");
});
afterEach(() => rm(base, { recursive: true, force: true }));

describe("moveIntoTrash", () => {
  it("moves only real run directories on the same device", async () => {
    await mkdir(join(runs, "run-20250101-000000"));
    await symlink(outside, join(runs, "run-20250102-000000"));
    await writeFile(join(runs, "run-20250103-000000"), "file");
    await mkdir(join(runs, "not-a-run"));
    const dev = (await stat(runs)).dev;
    const batch = await makeTrashBatch(join(base, "trash"), base, dev, "a");
    const dir = await openDirNoFollow(runs);
    const outcome = async (n: string, d = dev) => moveIntoTrash(dir, n, batch, d, isRunName);
    try {
      expect(await outcome("run-20250101-000000")).toEqual({ moved: true });
      expect(await outcome("run-20250102-000000")).toEqual({ moved: false, why: "is a symlink" });
      expect(await outcome("run-20250103-000000")).toEqual({ moved: false, why: "is not a directory" });
      expect(await outcome("not-a-run")).toMatchObject({ moved: false });
      expect(await outcome("run-20250109-000000")).toEqual({
        moved: false,
        why: "vanished before it could be moved",
        vanished: true,
      });
      await mkdir(join(runs, "run-20250104-000000"));
      expect(await outcome("run-20250104-000000", dev + 1)).toEqual({
        moved: false,
        why: "is on another file system",
      });
    } finally {
      await dir.close();
    }
    expect(await readdir(batch)).toEqual(["run-20250101-000000"]);
    expect((await stat(join(base, "trash"))).mode & 0o777).toBe(0o700);
  });

  it("still moves the right folder when the runs/ path is swapped after opening it", async () => {
    await mkdir(join(runs, "run-20250101-000000"));
    const dir = await openDirNoFollow(runs);
    await mkdir(join(outside, "run-20250101-000000"));
    const dev = (await stat(runs)).dev;
    await (await import("node:fs/promises")).rename(runs, join(base, "inbox", "moved"));
    await symlink(outside, runs);
    const batch = await makeTrashBatch(join(base, "trash"), base, dev, "a");
    expect(await moveIntoTrash(dir, "run-20250101-000000", batch, dev, isRunName)).toEqual({ moved: true });
    await dir.close();
    expect(await readdir(outside)).toEqual(["keep", "run-20250101-000000"]);
    expect(await readdir(join(base, "inbox", "moved"))).toEqual([]);
  });
});

describe("makeTrashBatch", () => {
  it("falls back to a 0700 .agentshare-trash-* folder in the root when the trash is on another device", async () => {
    const shm = await mkdtemp(join("/dev/shm", "agentshare-trash-"));
    try {
      const dev = (await stat(runs)).dev;
      expect((await stat(shm)).dev).not.toBe(dev);
      const batch = await makeTrashBatch(join(shm, "trash"), base, dev, "a");
      expect(batch.startsWith(join(base, ".agentshare-trash-"))).toBe(true);
      expect((await stat(batch)).mode & 0o777).toBe(0o700);
      await expect(makeTrashBatch(join(shm, "trash"), shm, dev, "a")).rejects.toThrow(/same file system/);
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});

describe("removeTree", () => {
  it("removes symlinks, hardlinks and FIFOs, never what they point to", async () => {
    const victim = join(base, "trash-batch", "run-20250101-000000");
    await mkdir(join(victim, "sub"), { recursive: true });
    await symlink(outside, join(victim, "to-dir"));
    await symlink(join(outside, "keep"), join(victim, "sub", "to-file"));
    await link(join(outside, "keep"), join(victim, "hard"));
    execFileSync("mkfifo", [join(victim, "fifo")]);
    const r = await removeTree(localRunner, join(base, "trash-batch"));
    expect(r.ok).toBe(true);
    expect(await readdir(base)).not.toContain("trash-batch");
    expect(await readFile(join(outside, "keep"), "utf8")).toBe("keep");
  });
});

describe("moveProblem", () => {
  const err = (code: string) =>
    Object.assign(new Error(`${code}: raw, rename '/proc/self/fd/9/x'`), { code });
  it("says what went wrong in words, without the errno text or /proc/self/fd paths", () => {
    expect(moveProblem(err("EPERM"), "move")).toBe(
      "cannot be moved out of the inbox: operation not permitted (an immutable or append-only attribute? see lsattr)",
    );
    expect(moveProblem(err("EACCES"), "check")).toMatch(/^cannot be checked: permission denied/);
    expect(moveProblem(err("EWHATEVER"), "move")).toBe("cannot be moved out of the inbox: error EWHATEVER");
  });
});
