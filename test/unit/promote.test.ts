// promote through the built CLI: sidecar checked by the real sha256sum, traversal and
// symlink refusals, --force, the staging checksum, and a SIGKILL mid-copy of a large file.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { open, readFile, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CLI, auditLines, cli, ensureBuilt, startAppender, tempTree, type Tree } from "./prune-harness.js";

const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
let t: Tree;
let tools = "";
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  t = await tempTree();
  tools = join(t.root, "global", "tools");
});
afterEach(() => t.cleanup());

describe("promote", () => {
  it("publishes with a sidecar that `sha256sum -c --strict` accepts, meta, 0444 and an audit line", async () => {
    await writeFile(join(t.root, "staging", "tool.sh"), "#!/bin/sh\necho hi\n");
    const r = await cli(t, ["promote", "tool.sh", "--json"]);
    expect(r.code).toBe(0);
    const check = execFileSync("sha256sum", ["-c", "--strict", "tool.sh.sha256"], {
      cwd: tools,
      encoding: "utf8",
    });
    expect(check).toBe("tool.sh: OK\n");
    for (const f of ["tool.sh", "tool.sh.sha256", "tool.sh.meta.json"])
      expect((await stat(join(tools, f))).mode & 0o777).toBe(0o444);
    const meta = JSON.parse(await readFile(join(tools, "tool.sh.meta.json"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(meta).toMatchObject({ sha256: sha("#!/bin/sh\necho hi\n"), size: 18, staging_sha256: "absent" });
    expect(typeof meta.promoted_at).toBe("string");
    const [line] = await auditLines(t.stateDir);
    expect(line).toMatchObject({ verb: "promote", result: "ok", sha256: meta.sha256, size: 18 });
    expect((await readdir(tools)).filter((n) => n.startsWith("."))).toEqual([]);
  });

  it("--to puts it in another global folder", async () => {
    await writeFile(join(t.root, "staging", "p.md"), "prompt");
    expect((await cli(t, ["promote", "p.md", "--to", "prompts"])).code).toBe(0);
    expect(await readFile(join(t.root, "global", "prompts", "p.md"), "utf8")).toBe("prompt");
    expect((await cli(t, ["promote", "p.md", "--to", "elsewhere"])).code).toBe(64);
  });

  it.each(["../x", "/etc/passwd", "a/b", "..", ".", ".hidden", "x.sha256", "x.meta.json", "a\\b"])(
    "rejects the name %j with 65",
    async (name) => {
      const r = await cli(t, ["promote", name]);
      expect(r.code).toBe(65);
      expect(r.stderr).toContain("file name");
    },
  );

  it("refuses a symlink (65), a FIFO (65), a directory (65); a missing file is 66", async () => {
    await symlink("/etc/passwd", join(t.root, "staging", "link"));
    execFileSync("mkfifo", [join(t.root, "staging", "fifo")]);
    execFileSync("mkdir", [join(t.root, "staging", "dir")]);
    for (const n of ["link", "fifo", "dir"]) expect((await cli(t, ["promote", n])).code).toBe(65);
    expect((await cli(t, ["promote", "ghost"])).code).toBe(66);
    expect(await readdir(tools)).toEqual([]);
  });

  it("replaces an existing file only with --force", async () => {
    await writeFile(join(t.root, "staging", "f"), "one");
    expect((await cli(t, ["promote", "f"])).code).toBe(0);
    await writeFile(join(t.root, "staging", "f"), "two");
    const r = await cli(t, ["promote", "f"]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("--force");
    expect(await readFile(join(tools, "f"), "utf8")).toBe("one");
    expect((await cli(t, ["promote", "f", "--force"])).code).toBe(0);
    expect(await readFile(join(tools, "f"), "utf8")).toBe("two");
    expect(execFileSync("sha256sum", ["-c", "--strict", "f.sha256"], { cwd: tools, encoding: "utf8" })).toBe(
      "f: OK\n",
    );
  });

  it("checks staging/NAME.sha256 when present: a mismatch is refused and publishes nothing", async () => {
    await writeFile(join(t.root, "staging", "g"), "good");
    await writeFile(join(t.root, "staging", "g.sha256"), `${sha("good")}  g\n`);
    expect((await cli(t, ["promote", "g"])).code).toBe(0);
    expect(JSON.parse(await readFile(join(tools, "g.meta.json"), "utf8"))).toMatchObject({
      staging_sha256: "verified",
    });
    await writeFile(join(t.root, "staging", "h"), "tampered");
    await writeFile(join(t.root, "staging", "h.sha256"), `${sha("original")}  h\n`);
    const r = await cli(t, ["promote", "h"]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("does not match");
    expect((await readdir(tools)).filter((n) => n.startsWith("h") || n.startsWith(".h"))).toEqual([]);
    expect((await auditLines(t.stateDir)).at(-1)).toMatchObject({ verb: "promote", result: "error" });
  });

  it("refuses a file that is still being appended to (75): nothing published, no temp file left", async () => {
    const big = join(t.root, "staging", "growing.log");
    await writeFile(big, Buffer.alloc(60 * 1024 * 1024, 97));
    const writer = await startAppender(big);
    let r;
    try {
      r = await cli(t, ["promote", "growing.log"]);
    } finally {
      expect(await writer.stop()).toBeGreaterThan(0); // it really appended while promote ran
    }
    expect(r.code).toBe(75);
    expect(r.stderr).toContain("staging/growing.log changed while it was being copied");
    expect(r.stderr).toMatch(/its size went from \d+ to \d+ bytes/);
    expect(r.stderr).toContain("hint: something is still writing it");
    expect(await readdir(tools)).toEqual([]);
    expect((await auditLines(t.stateDir)).at(-1)).toMatchObject({ verb: "promote", result: "error" });
    // once the writer is done the same file is published whole
    const done = await cli(t, ["promote", "growing.log"]);
    expect(done.code).toBe(0);
    expect((await stat(join(tools, "growing.log"))).size).toBe((await stat(big)).size);
  }, 60_000);

  it("a SIGKILL mid-copy leaves the old file or the new one in global, never a partial one", async () => {
    const size = 256 * 1024 * 1024;
    await writeFile(join(t.root, "staging", "big"), "old contents");
    expect((await cli(t, ["promote", "big"])).code).toBe(0);
    const fh = await open(join(t.root, "staging", "big"), "w");
    for (let off = 0; off < size; off += 16 * 1024 * 1024)
      await fh.write(Buffer.alloc(16 * 1024 * 1024, off / 1048576), 0, 16 * 1024 * 1024, off);
    await fh.close();
    const newSha = sha(await readFile(join(t.root, "staging", "big")));
    const outcomes: string[] = [];
    for (const delayMs of [0, 30, 120]) {
      const p = execa(
        process.execPath,
        [CLI, "--root", t.root, "--state-dir", t.stateDir, "--config", t.config, "promote", "big", "--force"],
        { reject: false },
      );
      let sawTemp = false;
      for (let i = 0; i < 2000 && !sawTemp; i++) {
        sawTemp = (await readdir(tools)).some((n) => n.startsWith(".big.tmp-"));
        if (!sawTemp) await new Promise((r) => setTimeout(r, 2));
      }
      await new Promise((r) => setTimeout(r, delayMs));
      p.kill("SIGKILL");
      const done = await p;
      const now = sha(await readFile(join(tools, "big")));
      expect([sha("old contents"), newSha]).toContain(now);
      outcomes.push(
        `${sawTemp && done.signal === "SIGKILL" ? "killed" : "finished"}:${now === newSha ? "new" : "old"}`,
      );
    }
    expect(outcomes).toContain("killed:old"); // at least one kill really landed mid-copy
  }, 60_000);
});
