// start / stop / restart and the per-agent lock, through the built CLI against the real libvirt
// (TCG, the busybox test guest of scripts/build-test-guest.sh). One VM runs at a time.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";
import { cli, CLI, REPO, type CliResult } from "../helpers/cli.js";
import { TEST_GUEST_DIR, testGuestFlags } from "../helpers/test-guest.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

const TOOLS = ["virsh", "qemu-system-x86_64", "genisoimage", "busybox"];
const guest = TEST_GUEST_DIR;

/** Runs the CLI without blocking the event loop, so several can run at once. */
function cliAsync(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const domains = () =>
  execFileSync("virsh", ["-c", "qemu:///system", "list", "--all", "--name"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

describeWithTools(TOOLS)("start, stop, restart and one operation per agent (real libvirt)", () => {
  let base = "";
  let root = "";
  let state = "";
  const tag = Math.random().toString(36).slice(2, 7);
  const names = { racer: `lct-${tag}-r`, life: `lct-${tag}-l` };
  const g = () => ["--root", root, "--state-dir", state];
  const guestFlags = testGuestFlags();
  const audit = () =>
    readFileSync(join(state, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(() => {
    if (!isRoot()) throw new Error("the vm tier needs root (libvirt's system URI, bind mounts)");
    assertTools(TOOLS);
    execFileSync("bash", [join(REPO, "scripts/build-test-guest.sh"), guest], { stdio: "inherit" });
    base = mkdtempSync(join(tmpdir(), "agentshare-life-"));
    chmodSync(base, 0o711); // QEMU (libvirt-qemu) must traverse to the seed ISO
    root = join(base, "root");
    state = join(base, "state");
    const r = cli([...g(), "init"]);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const n of Object.values(names)) cli([...g(), "destroy", n, "--timeout", "0", "--purge-inbox"]);
    if (root) await unmountIfMounted(localRunner, join(root, "global-ro"));
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("three concurrent provisions of one agent: one creates it, two find it unchanged", async () => {
    const n = names.racer;
    const runs = await Promise.all(
      [1, 2, 3].map(() => cliAsync([...g(), "--json", "provision", n, ...guestFlags, "--no-start"])),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const actions = runs.map((r) => (JSON.parse(r.stdout) as { action: string }).action).sort();
    expect(actions).toEqual(["created", "unchanged", "unchanged"]);
    const dir = join(state, "agents", n);
    const spec = JSON.parse(readFileSync(join(dir, "spec.json"), "utf8")) as { instanceId: string };
    const userData = readFileSync(join(dir, "user-data"), "utf8");
    const token = readFileSync(join(dir, "token"), "utf8").trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(userData).toContain(token);
    expect(userData).toContain(readFileSync(join(dir, "id_ed25519.pub"), "utf8").trim());
    expect(readFileSync(join(dir, "meta-data"), "utf8")).toContain(spec.instanceId);
    expect(domains().filter((d) => d === n)).toHaveLength(1);
    expect(
      audit().filter((a) => a.verb === "provision" && a.agent === n && a.result === "defined"),
    ).toHaveLength(1);
  });

  it("three concurrent starts start it once; three concurrent destroys destroy it once", async () => {
    const n = names.racer;
    const starts = await Promise.all(
      [1, 2, 3].map(() => cliAsync([...g(), "--json", "start", n, "--timeout", "180"])),
    );
    for (const r of starts) expect(r.code, r.stderr).toBe(0);
    const actions = starts.map((r) => (JSON.parse(r.stdout) as { action: string }).action).sort();
    expect(actions).toEqual(["already-running", "already-running", "started"]);
    for (const r of starts) expect(JSON.parse(r.stdout)).toMatchObject({ ready: true });
    const started = audit().filter((a) => a.verb === "start" && a.agent === n);
    expect(started.map((a) => a.result)).toEqual(["ready"]);
    const destroys = await Promise.all(
      [1, 2, 3].map(() => cliAsync([...g(), "--json", "destroy", n, "--timeout", "0", "--purge-inbox"])),
    );
    // the first destroys it; the others wait for it, then find no such agent (66)
    expect(destroys.map((r) => r.code).sort()).toEqual([0, 66, 66]);
    expect(domains()).not.toContain(n);
    expect(audit().filter((a) => a.verb === "destroy" && a.agent === n)).toHaveLength(1);
  });

  it("start waits until ready; a second start says already running", () => {
    const n = names.life;
    const p = cli([...g(), "provision", n, ...guestFlags, "--no-start"]);
    expect(p.code, p.stderr).toBe(0);
    const s = cli([...g(), "--json", "start", n, "--timeout", "180"]);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ name: n, action: "started", state: "running", ready: true });
    const again = cli([...g(), "start", n]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already running, ready/);
  });

  it("stop shuts the VM off; a second stop says already stopped", () => {
    const n = names.life;
    const s = cli([...g(), "--json", "stop", n, "--timeout", "5"]);
    expect(s.code, s.stderr).toBe(0);
    const r = JSON.parse(s.stdout) as { action: string; stopped: string };
    expect(r.action).toBe("stopped");
    expect(["graceful", "forced"]).toContain(r.stopped);
    const st = execFileSync("virsh", ["-c", "qemu:///system", "domstate", n], { encoding: "utf8" }).trim();
    expect(st).toBe("shut off");
    const again = cli([...g(), "stop", n]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^${n}: already stopped$`, "m"));
  });

  it("restart starts a stopped agent and waits; audit has one line per start and stop", () => {
    const n = names.life;
    const r = cli([...g(), "--json", "restart", n, "--stop-timeout", "5", "--timeout", "180"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: "started", stopped: "was-stopped", ready: true });
    const mine = audit().filter((a) => a.agent === n && (a.verb === "start" || a.verb === "stop"));
    expect(mine.map((a) => `${String(a.verb)}:${String(a.result)}`)).toEqual([
      "start:ready",
      "stop:ok",
      "start:ready",
    ]);
    const off = cli([...g(), "stop", n, "--timeout", "0"]);
    expect(off.code, off.stderr).toBe(0);
  });

  it("an unknown agent is 66, a bad name 65, for each verb", () => {
    for (const verb of ["start", "stop", "restart"]) {
      const missing = cli([...g(), verb, `lct-${tag}-none`]);
      expect(missing.code, `${verb}: ${missing.stderr}`).toBe(66);
      expect(missing.stderr).toMatch(/no agent named/);
      const bad = cli([...g(), verb, "Not_A_Name"]);
      expect(bad.code, `${verb}: ${bad.stderr}`).toBe(65);
    }
  });
});
