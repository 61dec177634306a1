// The state dir has one mode whichever verb makes it first: 0711 (QEMU must traverse it to an
// agent's seed and disk; nobody else may list it). Through the built CLI, on a fresh state dir.
import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { cli } from "../helpers/cli.js";
import { ensureBuilt } from "./prune-harness.js";

let base = "";
const root = () => join(base, "root");
const state = () => join(base, "var", "state");
const g = () => ["--root", root(), "--state-dir", state(), "--config", join(base, "config.yaml")];
const modeOf = (p: string) => (statSync(p).mode & 0o7777).toString(8);

beforeAll(() => ensureBuilt());
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "state-dir-"));
  writeFileSync(join(base, "config.yaml"), "{}\n");
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

it.each([
  ["provision --dry-run", ["provision", "sd1", "--dry-run", "--no-image", "--no-network", "--kernel", "/k"]],
  ["cron install", ["cron", "install", "--cron-file", "CRONFILE"]],
  ["promote", ["promote", "hello.txt"]],
  ["init --no-mount", ["init", "--no-mount"]],
])("%s creates the state dir 0711, its missing parents 0755", (_label, args) => {
  for (const d of ["global/tools", "global/prompts", "global/configs", "global/content", "staging"])
    mkdirSync(join(root(), d), { recursive: true });
  writeFileSync(join(root(), "staging", "hello.txt"), "hi\n");
  const r = cli([...g(), ...args.map((a) => (a === "CRONFILE" ? join(base, "cron.agentshare") : a))]);
  expect(r.code, r.stderr).toBe(0);
  expect(modeOf(state())).toBe("711");
  expect(modeOf(join(base, "var"))).toBe("755");
});
