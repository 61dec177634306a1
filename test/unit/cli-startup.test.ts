// Start-up stays cheap: `--version` and every `--help` load commander and the verb files only;
// an op, its adapters and the heavy packages load when a command runs (see src/cli/commands.ts).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { CLI, REPO } from "../helpers/cli.js";
import { ensureBuilt } from "./prune-harness.js";

const PROBE = join(REPO, "test", "helpers", "load-probe.mjs");
const HEAVY = ["execa", "ssh2", "eventsource", "fast-xml-parser", "js-yaml"];
const dir = mkdtempSync(join(tmpdir(), "cli-startup-"));

/** Runs the built CLI under the load probe; returns its exit code and the modules it loaded. */
function loaded(args: string[]): { code: number | null; urls: string[] } {
  const out = join(dir, `${args.join("_").replace(/[^a-z0-9_-]/gi, "")}.txt`);
  const r = spawnSync(process.execPath, ["--import", PROBE, CLI, ...args], {
    env: { ...process.env, LOAD_PROBE_OUT: out },
    encoding: "utf8",
  });
  return { code: r.status, urls: readFileSync(out, "utf8").split("\n").filter(Boolean) };
}

/** What start-up must not load: an op or adapter module, or a heavy package. */
const heavy = (urls: string[]) =>
  urls.filter(
    (u) => /\/dist\/(ops|adapters)\//.test(u) || HEAVY.some((p) => u.includes(`/node_modules/${p}/`)),
  );

/** `[verb, --help]` for every verb and sub-verb (`image build`, `cron install`, …). */
function helpArgs(): string[][] {
  const all: string[][] = [];
  for (const cmd of buildProgram().commands) {
    all.push([cmd.name(), "--help"]);
    for (const sub of cmd.commands) all.push([cmd.name(), sub.name(), "--help"]);
  }
  return all;
}

beforeAll(() => ensureBuilt());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CLI start-up", () => {
  const cases = [["--version"], ["--help"], ...helpArgs()].map((a) => [a.join(" "), a] as const);
  it.each(cases)("`%s` loads no op, adapter or heavy package", (_label, args) => {
    const r = loaded([...args]);
    expect(r.code).toBe(0);
    expect(r.urls.some((u) => u.includes("/node_modules/commander/"))).toBe(true); // the probe sees packages
    expect(heavy(r.urls)).toEqual([]);
  });

  it("a command that runs loads its op and what that needs (the probe sees lazy imports)", () => {
    const state = join(dir, "state");
    const r = loaded(["--state-dir", state, "exec", "nobody", "--address", "127.0.0.1", "--", "true"]);
    expect(r.code).toBe(66); // no such agent
    expect(r.urls.some((u) => u.endsWith("/dist/ops/exec.js"))).toBe(true);
    expect(r.urls.some((u) => u.includes("/node_modules/ssh2/"))).toBe(true);
  });
});
