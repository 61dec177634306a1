// `agentshare provision / status / list / destroy / doctor` against the real libvirt: real VMs
// under QEMU (TCG), direct kernel boot of Debian's cloud kernel with the test initramfs
// (scripts/build-test-guest.sh). The guest mounts both shares and proves the host enforces
// read-only global, even after `mount -o remount,rw` by guest root.
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";
import { cli, cliSpawn, REPO } from "../helpers/cli.js";
import { TEST_GUEST_DIR, testGuestFlags } from "../helpers/test-guest.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

const TOOLS = ["virsh", "qemu-system-x86_64", "genisoimage", "busybox", "virt-xml-validate"];
const guest = TEST_GUEST_DIR;
const UID = 1234;
const GID = 2345;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithTools(TOOLS)("provision on the real libvirt (TCG, test guest)", () => {
  let base = "";
  let root = "";
  let state = "";
  const tag = Math.random().toString(36).slice(2, 7);
  const names = { main: `vmt-${tag}-a`, kill: `vmt-${tag}-k` };
  const g = () => ["--root", root, "--state-dir", state];
  const guestFlags = () => [...testGuestFlags(), "--uid", String(UID), "--gid", String(GID)];
  const provision = (name: string, ...extra: string[]) =>
    cli([...g(), "provision", name, ...guestFlags(), ...extra]);
  const inbox = (name: string) => join(root, `${name}-inbox`);

  beforeAll(() => {
    if (!isRoot()) throw new Error("the vm tier needs root (libvirt's system URI, bind mounts)");
    assertTools(TOOLS);
    execFileSync("bash", [join(REPO, "scripts/build-test-guest.sh"), guest], { stdio: "inherit" }); // cached: ~60 ms
    base = mkdtempSync(join(tmpdir(), "agentshare-vm-"));
    chmodSync(base, 0o711); // QEMU (libvirt-qemu) must traverse to the seed ISO
    root = join(base, "root");
    state = join(base, "state");
    const r = cli([...g(), "init"]);
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(root, "global", "tools", "hello.txt"), `hello-global-${tag}\n`);
  });

  afterAll(async () => {
    for (const n of Object.values(names)) cli([...g(), "destroy", n, "--timeout", "0", "--purge-inbox"]);
    if (root) await unmountIfMounted(localRunner, join(root, "global-ro"));
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("boots a VM that mounts both shares, reads global, writes the inbox as uid:gid, cannot write global", () => {
    const r = provision(names.main, "--json");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ action: "created", ready: true, state: "running", domainType: "qemu" });
    const o = join(inbox(names.main), "outputs");
    expect(readFileSync(join(o, "global-read.txt"), "utf8")).toBe(`hello-global-${tag}\n`);
    const st = statSync(join(o, "hello-from-guest.txt"));
    expect([st.uid, st.gid]).toEqual([UID, GID]);
    const ro = readFileSync(join(o, "ro-check.txt"), "utf8");
    expect(ro).toMatch(/^write-ro: fail$/m);
    expect(ro).toMatch(/^write-after-remount: fail$/m); // guest root remounted rw: the host still refuses
    expect(readdirSync(join(root, "global", "tools"))).toEqual(["hello.txt"]); // the guest's probe files never landed
    const ib = statSync(inbox(names.main));
    expect([ib.uid, ib.gid, ib.mode & 0o777]).toEqual([UID, GID, 0o770]);
    // the generated domain XML is kept and is valid for libvirt's own schema
    const xml = join(state, "agents", names.main, "domain.xml");
    const v = spawnSync("virt-xml-validate", [xml, "domain"], { encoding: "utf8" });
    expect(`${v.stdout}${v.stderr}`).toMatch(/validates/);
    expect(v.status).toBe(0);
  });

  it("reports the agent in list and status", () => {
    const s = cli([...g(), "--json", "status", names.main]);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ name: names.main, state: "running", ready: true });
    const l = cli([...g(), "--json", "list"]);
    expect(JSON.parse(l.stdout).map((a: { name: string }) => a.name)).toContain(names.main);
  });

  it("is idempotent: same spec is a no-op, a changed spec is refused unless --recreate", () => {
    writeFileSync(join(inbox(names.main), "outputs", "keep-me.txt"), "precious\n");
    const same = provision(names.main, "--json");
    expect(same.code, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout).action).toBe("unchanged");
    const changed = provision(names.main, "--memory", "320");
    expect(changed.code).toBe(65);
    expect(changed.stderr).toMatch(/different spec \(changed: memory\)/);
    expect(changed.stderr).toMatch(/--recreate/);
    const re = provision(names.main, "--memory", "320", "--recreate", "--json");
    expect(re.code, re.stderr).toBe(0);
    expect(JSON.parse(re.stdout)).toMatchObject({ action: "recreated", ready: true });
    expect(readFileSync(join(inbox(names.main), "outputs", "keep-me.txt"), "utf8")).toBe("precious\n");
  });

  it("doctor passes its required checks on this host (TCG fallback reported)", () => {
    const d = cli([...g(), "--json", "doctor"]);
    const r = JSON.parse(d.stdout);
    expect(d.code, JSON.stringify(r.checks.filter((c: { status: string }) => c.status === "fail"))).toBe(0);
    const byName = Object.fromEntries(
      r.checks.map((c: { check: string; status: string }) => [c.check, c.status]),
    );
    expect(byName).toMatchObject({
      libvirtd: "pass",
      "virtiofs driver": "pass",
      "memfd memory": "pass",
      "global read-only": "pass",
    });
    expect(["pass", "warn"]).toContain(byName.kvm);
  });

  it("destroy keeps the inbox; destroying a missing agent exits 66", () => {
    const d = cli([...g(), "destroy", names.main, "--timeout", "1"]);
    expect(d.code, d.stderr).toBe(0);
    expect(readFileSync(join(inbox(names.main), "outputs", "keep-me.txt"), "utf8")).toBe("precious\n");
    expect(existsSync(join(state, "agents", names.main))).toBe(false);
    expect(
      execFileSync("virsh", ["-c", "qemu:///system", "list", "--all", "--name"], { encoding: "utf8" }),
    ).not.toContain(names.main);
    expect(cli([...g(), "destroy", names.main]).code).toBe(66);
  });

  it("converges after provision is SIGKILLed at any point", async () => {
    for (const delay of [30, 120, 250, 400, 700, 1200]) {
      const child = cliSpawn([...g(), "provision", names.kill, ...guestFlags()]);
      await sleep(delay);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const again = provision(names.kill, "--json");
      expect(again.code, `after SIGKILL at ${delay} ms: ${again.stderr}`).toBe(0);
      expect(JSON.parse(again.stdout).ready).toBe(true);
      const defined = execFileSync("virsh", ["-c", "qemu:///system", "list", "--all", "--name"], {
        encoding: "utf8",
      });
      expect(defined.split("\n").filter((n) => n === names.kill)).toHaveLength(1);
      expect(readdirSync(join(state, "agents", names.kill)).filter((f) => f.includes(".tmp-"))).toEqual([]);
      const d = cli([...g(), "destroy", names.kill, "--timeout", "0"]);
      expect(d.code, d.stderr).toBe(0);
    }
  });

  it("rejects a bad agent name with 65 and creates nothing", () => {
    const r = cli([...g(), "provision", "Bad_Name", ...guestFlags()]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/invalid agent name "Bad_Name"/);
    expect(existsSync(join(state, "agents", "Bad_Name"))).toBe(false);
    expect(existsSync(join(root, "Bad_Name-inbox"))).toBe(false);
  });
});
