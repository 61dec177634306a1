// cron install/remove through the built CLI (cron file and unit dir in a temp folder),
// and the pure schedule check and OnCalendar conversion.
import { execFileSync } from "node:child_process";
import { mkdir, readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cronToOnCalendar, shellWord, validateSchedule } from "../../src/adapters/cron.js";
import { cli, ensureBuilt, tempTree, type Tree } from "./prune-harness.js";

let t: Tree;
let env: Record<string, string> = {};
beforeAll(() => ensureBuilt());
beforeEach(async () => {
  t = await tempTree();
  await mkdir(join(t.base, "cron.d"));
  await mkdir(join(t.base, "run-systemd"));
  env = {
    AGENTSHARE_CRON_FILE: join(t.base, "cron.d", "agentshare"),
    AGENTSHARE_UNIT_DIR: join(t.base, "units"),
    AGENTSHARE_SYSTEMD_MARKER: join(t.base, "no-systemd-here"),
  };
});
afterEach(() => t.cleanup());

describe("cron install/remove", () => {
  it("writes a cron.d line running prune --all with this node, script and options; remove deletes it", async () => {
    const r = await cli(t, ["cron", "install", "--schedule", "5 4 * * 1-5"], env);
    expect(r.code).toBe(0);
    const text = await readFile(env.AGENTSHARE_CRON_FILE!, "utf8");
    const line = text.split("\n").find((l) => /^\d/.test(l))!;
    expect(line.startsWith("5 4 * * 1-5 root ")).toBe(true);
    for (const part of [
      process.execPath,
      "--root",
      t.root,
      "--state-dir",
      t.stateDir,
      "--config",
      t.config,
      "prune --all",
      `>>${join(t.stateDir, "prune.log")} 2>&1`,
    ])
      expect(line).toContain(part);
    expect((await stat(env.AGENTSHARE_CRON_FILE!)).mode & 0o777).toBe(0o644);
    // the command line cron would run really works
    const cmd = line.replace(/^(\S+\s+){5}root /, "");
    execFileSync("/bin/sh", ["-c", cmd]);
    expect(await readFile(join(t.stateDir, "prune.log"), "utf8")).toContain("no inboxes");
    expect((await cli(t, ["cron", "remove"], env)).stdout).toContain("removed");
    expect(await readdir(join(t.base, "cron.d"))).toEqual([]);
    expect((await cli(t, ["cron", "remove"], env)).stdout).toContain("nothing to remove");
  });

  it.each([
    "* * * *",
    "61 * * * *",
    "* 24 * * *",
    "* * 0 * *",
    "* * * 13 *",
    "* * * * 8",
    "*/0 * * * *",
    "a b c d e",
  ])("rejects the schedule %j with 64", async (schedule) => {
    const r = await cli(t, ["cron", "install", "--schedule", schedule], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--schedule");
  });

  it("--timer needs systemd; with it, writes a service and a timer", async () => {
    const no = await cli(t, ["cron", "install", "--timer"], env);
    expect(no.code).toBe(69);
    expect(no.stderr).toContain("systemd is not running");
    const yes = await cli(t, ["cron", "install", "--timer", "--schedule", "17 3 * * *"], {
      ...env,
      AGENTSHARE_SYSTEMD_MARKER: join(t.base, "run-systemd"),
    });
    expect(yes.code).toBe(0);
    expect(await readFile(join(env.AGENTSHARE_UNIT_DIR!, "agentshare-prune.timer"), "utf8")).toContain(
      "OnCalendar=*-*-* 03:17:00",
    );
    const service = await readFile(join(env.AGENTSHARE_UNIT_DIR!, "agentshare-prune.service"), "utf8");
    expect(service).toMatch(/ExecStart=.* prune --all/);
    expect(service).toContain(`StandardOutput=append:${join(t.stateDir, "prune.log")}`);
    expect((await cli(t, ["cron", "remove"], env)).stdout).toContain("agentshare-prune.timer");
  });
});

describe("schedule helpers", () => {
  it.each([
    ["17 3 * * *", "*-*-* 03:17:00"],
    ["*/15 * * * *", "*-*-* *:00/15:00"],
    ["0 6 1 1,7 *", "*-01,07-01 06:00:00"],
    ["30 2 * * 1-5", "Mon..Fri *-*-* 02:30:00"],
    ["0 0 1 * 0", undefined],
  ])("cronToOnCalendar(%j) = %j", (cron, want) => expect(cronToOnCalendar(cron)).toBe(want));
  it("accepts names and steps", () => expect(validateSchedule("0 */2 1-15 jan-jun mon,fri")).toEqual([]));
  it("quotes words for sh and escapes %", () => {
    expect(shellWord("/usr/bin/node")).toBe("/usr/bin/node");
    expect(shellWord("it's 50%")).toBe("'it'\\''s 50\\%'");
  });
});
