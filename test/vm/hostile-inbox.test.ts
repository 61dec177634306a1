// Guest root against the host, for real: the busybox test guest (root inside the VM) runs an attack
// script from global through virtiofs. It plants a setuid-root binary, device nodes and a symlink
// to a host secret in its inbox, then writes past its 64 MiB limit directly and through a deleted
// file it holds open. The host must find those files inert, its disk charged at most the limit,
// and a neighbour agent able to work while the attacker's inbox is full.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";
import { cli, REPO } from "../helpers/cli.js";
import { TEST_GUEST_DIR, testGuestFlags } from "../helpers/test-guest.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

const TOOLS = ["virsh", "qemu-system-x86_64", "genisoimage", "busybox", "setpriv", "mkfs.ext4"];
const guest = TEST_GUEST_DIR;
const MiB = 1024 * 1024;
const QUOTA = 64 * MiB;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Runs as root in the guest (busybox sh). Progress goes to the serial console: the inbox is full.
const ATTACK = `
o=/mnt/inbox/outputs
say() { echo "agentshare-attack: $*" >/dev/console; }
df -k /mnt/inbox >$o/df.txt
cp /bin/busybox $o/rootshell && chown 0:0 $o/rootshell && chmod 4755 $o/rootshell
mknod $o/mem c 1 1 2>/dev/console; say "mknod-rc=$?"
mknod $o/hostdisk b 254 0 2>/dev/console
ln -s /etc/shadow $o/shadow
dd if=/dev/zero of=$o/big bs=1M count=256 2>/dev/null
say "direct-rc=$?"
rm -f $o/big
exec 3>$o/hidden
rm $o/hidden
dd if=/dev/zero bs=1M count=256 >&3 2>/dev/null
say "hidden-rc=$?"
say full
while [ ! -e /mnt/global/tools/release ]; do sleep 0.2; done
exec 3>&-
say released
`;

describeWithTools(TOOLS)("a hostile guest against its inbox (real VM, guest root)", () => {
  let base = "";
  let root = "";
  let state = "";
  const tag = Math.random().toString(36).slice(2, 7);
  const names = { bad: `hos-${tag}-x`, good: `hos-${tag}-n` };
  const g = () => ["--root", root, "--state-dir", state];
  const flags = (test: string) => [
    ...testGuestFlags(),
    "--cmdline",
    `console=ttyS0 agentshare.test=${test}`,
    "--inbox-quota",
    "64M",
  ];
  const inbox = (name: string) => join(root, `${name}-inbox`);
  const consoleLog = (name: string) => join(state, "agents", name, "console.log");
  async function waitConsole(name: string, text: string, ms = 240_000): Promise<string> {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
      const log = await readFile(consoleLog(name), "utf8").catch(() => "");
      if (log.includes(text)) return log;
    }
    throw new Error(`${name} never printed ${JSON.stringify(text)} on its console`);
  }

  beforeAll(() => {
    if (!isRoot()) throw new Error("the vm tier needs root");
    assertTools(TOOLS);
    spawnSync("bash", [join(REPO, "scripts/build-test-guest.sh"), guest], { stdio: "inherit" });
    base = mkdtempSync(join(tmpdir(), "agentshare-hostile-"));
    chmodSync(base, 0o711);
    root = join(base, "root");
    state = join(base, "state");
    expect(cli([...g(), "init"]).code).toBe(0);
    writeFileSync(join(root, "global", "tools", "attack.sh"), ATTACK);
  });

  afterAll(async () => {
    for (const n of Object.values(names)) cli([...g(), "destroy", n, "--timeout", "0", "--purge-inbox"]);
    if (root) await unmountIfMounted(localRunner, join(root, "global-ro"));
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("the guest's writes stop at its limit (directly and through a deleted open file) and a neighbour keeps working", async () => {
    const p = cli([...g(), "provision", names.bad, ...flags("attack"), "--no-wait"]);
    expect(p.code, p.stderr).toBe(0);
    const log = await waitConsole(names.bad, "agentshare-attack: full");
    expect(log).toMatch(/agentshare-attack: direct-rc=[1-9]/); // ENOSPC: dd failed
    expect(log).toMatch(/agentshare-attack: hidden-rc=[1-9]/);
    // The host's disk holds at most the limit for this inbox, whatever the guest did.
    const img = statSync(join(state, "inboxes", `${names.bad}.ext4`));
    expect(img.blocks * 512).toBeLessThanOrEqual(QUOTA);
    // du sees the inbox full from its file system (the deleted file is invisible to any walk).
    const du = cli([...g(), "--json", "du", names.bad, "--check"]);
    expect(du.code).toBe(1);
    expect(JSON.parse(du.stdout)).toMatchObject({ ok: false, inboxes: [{ full: true, enforced: true }] });
    const st = cli([...g(), "--json", "status", names.bad]);
    expect(JSON.parse(st.stdout)).toMatchObject({ inboxFull: true });
    // A neighbour provisions, boots and writes its inbox while the attacker's is full.
    const n = cli([...g(), "provision", names.good, ...flags("basic"), "--json"]);
    expect(n.code, n.stderr).toBe(0);
    expect(JSON.parse(n.stdout)).toMatchObject({ ready: true });
    expect(readFileSync(join(inbox(names.good), "outputs", "hello-from-guest.txt"), "utf8")).toMatch(
      /hello from guest/,
    );
    // The guest saw its limit in df, not the host's disk.
    const df = readFileSync(join(inbox(names.bad), "outputs", "df.txt"), "utf8")
      .trim()
      .split("\n")
      .at(-1)!;
    const kib = Number(df.trim().split(/\s+/)[1]);
    expect(kib).toBeLessThanOrEqual(QUOTA / 1024);
    expect(kib).toBeGreaterThan((QUOTA / 1024) * 0.8);
    writeFileSync(join(root, "global", "tools", "release"), "");
    await waitConsole(names.bad, "agentshare-test: ready");
    const after = cli([...g(), "--json", "du", names.bad, "--check"]);
    expect(after.code, after.stdout).toBe(0); // the deleted file's space came back when it was closed
  });

  it("the setuid-root binary, device nodes and symlink it planted are inert on the host", () => {
    const o = join(inbox(names.bad), "outputs");
    const shell = statSync(join(o, "rootshell"));
    expect([shell.uid, shell.mode & 0o4000]).toEqual([0, 0o4000]); // guest root did set them
    const run = spawnSync(
      "setpriv",
      ["--reuid", "1000", "--regid", "1000", "--clear-groups", join(o, "rootshell"), "id", "-u"],
      {
        encoding: "utf8",
      },
    );
    expect(run.stdout).not.toBe("0\n");
    expect(run.status).not.toBe(0); // noexec: it does not run at all
    // Device nodes: virtiofsd may refuse to create them at all; any that exist must not open.
    for (const dev of ["mem", "hostdisk"])
      if (existsSync(join(o, dev))) expect(() => readFileSync(join(o, dev))).toThrow(/EACCES/);
    expect(() => readFileSync(join(o, "shadow"))).toThrow(/ELOOP/);
    const doctor = JSON.parse(cli([...g(), "--json", "doctor"]).stdout) as {
      checks: { check: string; status: string }[];
    };
    expect(doctor.checks.find((c) => c.check === "inbox limits")).toMatchObject({ status: "pass" });
    expect(existsSync(join(state, "inboxes", `${names.good}.ext4`))).toBe(true);
  });
});
