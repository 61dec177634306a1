// collect through the built CLI: a file out of an inbox into staging, refusing every
// symlink on the way, non-regular files, oversize files and overwrites without --force.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { auditLines, cli, ensureBuilt, startAppender, tempTree, type Tree } from "./prune-harness.js";

let t: Tree;
let inbox = "";
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  t = await tempTree();
  inbox = join(t.root, "a-inbox");
  await mkdir(join(inbox, "runs", "run-20250101-000000", "outputs"), { recursive: true });
  await writeFile(join(inbox, "runs", "run-20250101-000000", "outputs", "report.md"), "# report\n");
  await writeFile(join(t.base, "secret"), "host secret");
});
afterEach(() => t.cleanup());

describe("collect", () => {
  it("copies a nested file into staging, with an audit line carrying its sha256", async () => {
    const r = await cli(t, ["collect", "a", "runs/run-20250101-000000/outputs/report.md"]);
    expect(r.code).toBe(0);
    expect(await readFile(join(t.root, "staging", "report.md"), "utf8")).toBe("# report\n");
    const [line] = await auditLines(t.stateDir);
    expect(line).toMatchObject({
      verb: "collect",
      agent: "a",
      result: "ok",
      sha256: createHash("sha256").update("# report\n").digest("hex"),
    });
  });

  it("--as renames; an existing staging file needs --force", async () => {
    expect(
      (await cli(t, ["collect", "a", "runs/run-20250101-000000/outputs/report.md", "--as", "r1.md"])).code,
    ).toBe(0);
    await writeFile(join(inbox, "runs", "run-20250101-000000", "outputs", "report.md"), "changed");
    const again = await cli(t, [
      "collect",
      "a",
      "runs/run-20250101-000000/outputs/report.md",
      "--as",
      "r1.md",
    ]);
    expect(again.code).toBe(65);
    expect(again.stderr).toContain("--force");
    expect(await readFile(join(t.root, "staging", "r1.md"), "utf8")).toBe("# report\n");
    expect(
      (
        await cli(t, [
          "collect",
          "a",
          "runs/run-20250101-000000/outputs/report.md",
          "--as",
          "r1.md",
          "--force",
        ])
      ).code,
    ).toBe(0);
    expect(await readFile(join(t.root, "staging", "r1.md"), "utf8")).toBe("changed");
  });

  it("refuses a symlink anywhere on the path, a FIFO, '..', a bad --as; missing is 66", async () => {
    await symlink(join(t.base), join(inbox, "escape"));
    await symlink(join(t.base, "secret"), join(inbox, "secret-link"));
    await mkdir(join(inbox, "d"));
    await symlink("..", join(inbox, "d", "up"));
    execFileSync("mkfifo", [join(inbox, "fifo")]);
    const cases: [string[], number][] = [
      [["a", "escape/secret"], 65],
      [["a", "secret-link"], 65],
      [["a", "d/up/escape/secret"], 65],
      [["a", "fifo"], 65],
      [["a", "../secret"], 65],
      [["a", "/etc/passwd"], 65],
      [["a", "runs"], 65],
      [["a", "runs/run-20250101-000000/outputs/report.md", "--as", "../x"], 65],
      [["a", "nothing-here"], 66],
      [["zz", "x"], 66],
      [["Bad", "x"], 65],
    ];
    for (const [args, code] of cases)
      expect({ args, code: (await cli(t, ["collect", ...args])).code }).toEqual({ args, code });
    expect(await readdir(join(t.root, "staging"))).toEqual([]);
  });

  it("refuses a log that is still being appended to (75): nothing in staging, no temp file", async () => {
    const log = join(inbox, "runs", "run-20250101-000000", "stdout.log");
    await writeFile(log, Buffer.alloc(60 * 1024 * 1024, 97));
    const writer = await startAppender(log);
    let r;
    try {
      r = await cli(t, ["collect", "a", "runs/run-20250101-000000/stdout.log"]);
    } finally {
      expect(await writer.stop()).toBeGreaterThan(0);
    }
    expect(r.code).toBe(75);
    expect(r.stderr).toContain(
      "a-inbox/runs/run-20250101-000000/stdout.log changed while it was being copied",
    );
    expect(await readdir(join(t.root, "staging"))).toEqual([]);
    expect(await auditLines(t.stateDir)).toEqual([]);
  }, 60_000);

  it("refuses a file over --max-size", async () => {
    await writeFile(join(inbox, "big"), Buffer.alloc(4096));
    const r = await cli(t, ["collect", "a", "big", "--max-size", "1K"]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("--max-size");
    expect((await cli(t, ["collect", "a", "big", "--max-size", "4K"])).code).toBe(0);
  });

  it("prints a guest-chosen file name escaped, in the success line and in an error", async () => {
    const name = "r\x1b]0;owned\x07\x1b[2J.md";
    await writeFile(join(inbox, name), "x");
    const r = await cli(t, ["collect", "a", name, "--as", "ok.md"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\x1b");
    expect(r.stdout).toContain("r\\x1b]0;owned\\x07\\x1b[2J.md");
    await symlink(join(t.base, "secret"), join(inbox, `${name}.lnk`));
    const bad = await cli(t, ["collect", "a", `${name}.lnk`, "--as", "ok2.md"]);
    expect(bad.code).toBe(65);
    expect(bad.stderr).not.toContain("\x1b");
    expect(bad.stderr).toMatch(/\\x1b\]0;owned|\\u001b\]0;owned/);
  });
});
