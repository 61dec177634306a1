// The wrapper on a real full file system (a tmpfs of a few hundred KiB, mounted for the test, as
// root): a run whose logs or metrics could not all be written never looks successful.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isRoot } from "../helpers/tools.js";
import { runWrapper, SKIP, type RunMetrics } from "./run-wrapper-harness.js";

const needRoot = !isRoot() && !process.env.CI;
let base = "";
let inbox = "";

/** Mounts a tmpfs of `kib` KiB at `dir` (real ENOSPC once it is full). */
function mountSmall(dir: string, kib: number): void {
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0755`, "tmpfs", dir]);
}

const runDirs = async () => (await readdir(join(inbox, "runs"))).sort();
const metricsOf = async (run: string): Promise<RunMetrics> =>
  JSON.parse(await readFile(join(inbox, "runs", run, "metrics.json"), "utf8")) as RunMetrics;

describe.skipIf(SKIP || needRoot)("agentshare-run on a full inbox", () => {
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), "agentshare-full-"));
    inbox = join(base, "inbox");
    await mkdir(inbox);
    mountSmall(inbox, 512);
  });
  afterEach(async () => {
    execFileSync("umount", [inbox]);
    await rm(base, { recursive: true, force: true });
  });

  it("a command whose output fills the inbox exits 74 with persisted: false and the error", async () => {
    const r = await runWrapper(["--inbox", inbox, "--", "sh", "-c", "head -c 2000000 /dev/zero; exit 0"]);
    expect(r.code).toBe(74);
    expect(r.stderr.toString()).toMatch(/cannot write stdout\.log: No space left on device/);
    const [run] = await runDirs();
    const m = await metricsOf(run!);
    expect(m.exit_code).toBe(0); // CMD's own code is kept
    expect(m.persisted).toBe(false);
    expect(m.persist_errors.join("\n")).toMatch(/^stdout\.log: No space left on device after \d+ bytes$/m);
    expect(r.stdout.length).toBe(2_000_000); // the caller still got every byte
  });

  it("a failing command keeps its own exit code when its logs are lost too", async () => {
    const r = await runWrapper(["--inbox", inbox, "--", "sh", "-c", "head -c 2000000 /dev/zero >&2; exit 5"]);
    expect(r.code).toBe(5);
    const m = await metricsOf((await runDirs())[0]!);
    expect([m.exit_code, m.persisted]).toEqual([5, false]);
    expect(m.persist_errors.join("\n")).toMatch(/stderr\.log: No space left/);
  });

  it("metrics.json is still written when the command filled the inbox through another file", async () => {
    // CMD fills the file system itself (not through its logs); metrics.json goes into reserved space.
    const r = await runWrapper([
      "--inbox",
      inbox,
      "--",
      "sh",
      "-c",
      'head -c 2000000 /dev/zero > "$AGENTSHARE_OUTPUTS/fill" 2>/dev/null; exit 0',
    ]);
    expect(r.code).toBe(0);
    const run = (await runDirs())[0]!;
    const m = await metricsOf(run);
    expect([m.exit_code, m.persisted]).toEqual([0, true]);
    expect(m.outputs_bytes).toBeGreaterThan(400_000); // it really filled the file system
    expect((await readdir(join(inbox, "runs", run))).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("a run cannot start in a full inbox: exit 2, a hint, and no half-made run", async () => {
    await mkdir(join(inbox, "runs"));
    await writeFile(join(inbox, "filler"), Buffer.alloc(0));
    execFileSync("sh", ["-c", `head -c 2000000 /dev/zero > ${join(inbox, "filler")} 2>/dev/null || true`]);
    const r = await runWrapper(["--inbox", inbox, "--", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr.toString()).toMatch(/No space left on device.*inbox is full/);
    expect(await runDirs()).toEqual([]);
  });
});
