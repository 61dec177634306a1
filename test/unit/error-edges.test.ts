// Error edges through the built CLI, each a real fault: a libvirt URI whose daemon does not run,
// a state dir QEMU cannot traverse, a user (nobody, via setpriv) who may not write the state dir.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { cli, CLI } from "../helpers/cli.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";
import { ensureBuilt } from "./prune-harness.js";

/** A real fault: libvirt's own client, pointed at a socket no daemon listens on. */
const DOWN = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
const NOBODY = 65534;

let base = "";
const root = () => join(base, "root");
const state = () => join(base, "state");
const g = () => ["--root", root(), "--state-dir", state(), "--config", join(base, "config.yaml")];

beforeAll(() => ensureBuilt());
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "edges-"));
  chmodSync(base, 0o711);
  writeFileSync(join(base, "config.yaml"), "{}\n");
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const dryRun = (name: string, ...extra: string[]) => [
  ...["provision", name, "--dry-run", "--no-image", "--no-network", "--kernel", "/k"],
  ...extra,
];

it("provision takes --wait as well as --no-wait", () => {
  const r = cli([...g(), ...dryRun("e1", "--wait")]);
  expect(r.code, r.stderr).toBe(0);
});

it("list with libvirtd unreachable says so and exits 69 (not `no agents`, 0)", () => {
  for (const withAgent of [false, true]) {
    if (withAgent) expect(cli([...g(), ...dryRun("e1")]).code).toBe(0);
    const r = cli([...g(), "--connect", DOWN, "list"]);
    expect(r.code, r.stdout).toBe(69);
    expect(r.stdout).not.toMatch(/no agents/);
    expect(r.stderr).toMatch(/failed to connect/);
    expect(r.stderr).toMatch(/hint: start libvirtd/);
  }
});

it("attach refuses a bad agent name with 65, as every verb does", () => {
  for (const verb of [["attach"], ["status"], ["destroy"], ["exec"]]) {
    const r = cli([...g(), ...verb, "Bad_Name", ...(verb[0] === "exec" ? ["--", "true"] : [])]);
    expect(r.code, `${verb[0]}: ${r.stderr}`).toBe(65);
    expect(r.stderr).toMatch(/invalid agent name "Bad_Name"/);
  }
});

it("--json after `--` belongs to exec's command, not to agentshare", () => {
  const passed = cli([...g(), "exec", "nosuch", "--", "echo", "--json"]);
  expect(passed.code).toBe(66);
  expect(passed.stdout).toBe("");
  const flag = cli([...g(), "--json", "exec", "nosuch", "--", "echo", "hi"]);
  expect(flag.code).toBe(66);
  expect(JSON.parse(flag.stdout)).toMatchObject({ ok: false, exitCode: 66 });
});

it("provision refuses a state dir QEMU cannot traverse before anything is made, naming the chmod", () => {
  expect(cli([...g(), "init", "--no-mount"]).code).toBe(0);
  chmodSync(base, 0o700);
  const r = cli([...g(), "provision", "e1", "--no-image", "--no-network", "--kernel", "/k"]);
  expect(r.code, r.stderr).toBe(78);
  expect(r.stderr).toContain(`${base} is not searchable by others`);
  expect(r.stderr).toContain(`hint: chmod o+x ${base}`);
  expect(readdirSync(join(state(), "agents"))).toEqual([]);
  const d = cli([...g(), "--json", "doctor"]);
  const checks = (JSON.parse(d.stdout) as { checks: Array<{ check: string; status: string }> }).checks;
  expect(checks.find((c) => c.check === "state dir traversal")?.status).toBe("fail");
});

describeWithTools(["setpriv"])("as a user who may not write the state dir (nobody)", () => {
  const asNobody = (args: string[]) => {
    const r = spawnSync(
      "setpriv",
      [
        ...["--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups"],
        process.execPath,
        CLI,
        ...args,
      ],
      { encoding: "utf8" },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeEach(() => {
    if (!isRoot()) throw new Error("this test runs as root, to become nobody with setpriv");
    assertTools(["setpriv"]);
  });

  it("an unwritable state dir is 77, naming the path and the fix, not an internal error", () => {
    mkdirSync(state(), { mode: 0o700 });
    const r = asNobody([...g(), ...dryRun("e1")]);
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toMatch(
      new RegExp(`permission denied: \\w+ ${state()}/(fleet/agents/e1\\.json|agents) \\(EACCES\\)`),
    );
    expect(r.stderr).toMatch(/hint: run agentshare as root \(sudo\), or give this user access to/);
    expect(r.stderr).not.toMatch(/this is a bug/);
  });

  it("promote publishes nothing when it could not write the audit line (77)", () => {
    for (const d of ["global/tools", "global/prompts", "global/configs", "global/content", "staging"])
      mkdirSync(join(root(), d), { recursive: true });
    writeFileSync(join(root(), "staging", "hello.txt"), "hi\n");
    for (const d of [
      root(),
      join(root(), "global"),
      join(root(), "global", "tools"),
      join(root(), "staging"),
    ])
      chownSync(d, NOBODY, NOBODY);
    chownSync(join(root(), "staging", "hello.txt"), NOBODY, NOBODY);
    mkdirSync(state(), { mode: 0o711 });
    writeFileSync(join(state(), "audit.jsonl"), "", { mode: 0o600 }); // root's, as after any root verb
    const r = asNobody([...g(), "promote", "hello.txt"]);
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toContain(`permission denied: open ${join(state(), "audit.jsonl")}`);
    expect(existsSync(join(root(), "global", "tools", "hello.txt"))).toBe(false);
    expect(readdirSync(join(root(), "global", "tools"))).toEqual([]);
  });
});
