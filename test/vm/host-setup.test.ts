// Host setup + the busybox test guest + every VM adapter, against the real libvirt under TCG:
// host-setup.sh → build-test-guest.sh → ro bind of global → seed ISO → define → start → the
// guest writes into its inbox → state, info, lease address → destroy → undefine.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildDomainXml, type DomainSpec } from "../../src/core/domain-xml.js";
import { READY_MARKER } from "../../src/core/paths.js";
import { ensureReadOnlyBind, unmountIfMounted } from "../../src/adapters/mount.js";
import { localHost } from "../../src/host/local.js";
import { localRunner as run } from "../../src/adapters/runner.js";
import { writeSeedIso } from "../../src/adapters/seed-iso.js";
import * as virsh from "../../src/adapters/virsh.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

const U = "qemu:///system";
const repo = new URL("../..", import.meta.url).pathname;
const guestDir = join(repo, ".test-out", "guest");
const UID = 4321;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

describeWithTools(["virsh", "qemu-system-x86_64", "genisoimage", "busybox"])(
  "host setup and the test guest (real libvirt)",
  () => {
    let dir = "";
    const domains: string[] = [];
    beforeAll(() => {
      if (!isRoot()) throw new Error("the vm tier needs root (libvirt system URI, bind mounts)");
      execFileSync("bash", [join(repo, "scripts/host-setup.sh"), "--quiet"], { stdio: "inherit" });
      assertTools(["virsh", "qemu-system-x86_64", "genisoimage", "busybox"]);
      execFileSync("bash", [join(repo, "scripts/build-test-guest.sh"), guestDir], { stdio: "inherit" });
      dir = mkdtempSync(join(tmpdir(), "agentshare-vm-setup-"));
      // QEMU runs as libvirt-qemu (Debian's default): it must be able to reach the seed ISO.
      chmodSync(dir, 0o755);
    });
    afterAll(async () => {
      for (const d of domains) {
        await virsh.destroyDomain(run, U, d).catch(() => undefined);
        await virsh.undefineDomain(run, U, d).catch(() => undefined);
      }
      if (dir) {
        for (const n of ["a", "b"]) await unmountIfMounted(run, join(dir, n, "global-ro"));
        rmSync(dir, { recursive: true, force: true });
      }
    });

    /** Lays out global (ro bind), inbox and seed for one guest and returns its domain spec. */
    async function prepare(tag: string, cmdline: string, network: string | null): Promise<DomainSpec> {
      const d = join(dir, tag);
      for (const sub of ["global/tools", "global-ro", "inbox", "state"])
        mkdirSync(join(d, sub), { recursive: true });
      writeFileSync(join(d, "global/tools/hello.txt"), `hello ${tag} ${process.pid}\n`);
      chownSync(join(d, "inbox"), UID, UID);
      await ensureReadOnlyBind(localHost(run), join(d, "global"), join(d, "global-ro"));
      const seedFiles = { userData: "#cloud-config\n", metaData: `instance-id: ${tag}\n` };
      await writeSeedIso(localHost(run), seedFiles, join(d, "state/seed.iso"));
      const name = `agentshare-setup-test-${tag}-${process.pid}`;
      domains.push(name);
      return {
        name,
        uuid: crypto.randomUUID(),
        description: "agentshare vm test: host setup",
        memoryMiB: 256,
        vcpus: 1,
        domainType: "qemu",
        kernel: { path: join(guestDir, "vmlinuz"), initrd: join(guestDir, "initramfs.cpio.gz"), cmdline },
        seedIso: join(d, "state/seed.iso"),
        globalDir: join(d, "global-ro"),
        inboxDir: join(d, "inbox"),
        readonlyGlobal: false,
        network,
        consoleLog: join(d, "state/console.log"),
        metadata: {
          specHash: "0".repeat(64),
          createdAt: new Date().toISOString(),
          command: "",
          instanceId: `iid-${tag}`,
        },
      };
    }

    async function boot(spec: DomainSpec): Promise<void> {
      const xml = join(dir, `${spec.name}.xml`);
      writeFileSync(xml, buildDomainXml(spec));
      await virsh.defineDomain(run, U, xml);
      await virsh.startDomain(run, U, spec.name);
      const marker = join(spec.inboxDir, READY_MARKER);
      await waitFor(`${marker} (console: ${spec.consoleLog})`, 120_000, () =>
        existsSync(marker) ? true : undefined,
      );
    }

    it("reads versions and capabilities from the running daemon", async () => {
      const ver = await virsh.getLibvirtVersion(run, U);
      expect(ver.libvirt).toBeGreaterThanOrEqual(9_000_000);
      expect(ver.hypervisorText).toMatch(/^QEMU \d+\./);
      expect((await virsh.getCapabilities(run, U)).domainTypes).toContain("qemu");
      expect(await virsh.getDomCapabilities(run, U, "qemu")).toMatchObject({ memfd: true, virtiofs: true });
      expect(await virsh.getNetInfo(run, U, "default")).toMatchObject({ active: true, autostart: true });
      expect(await virsh.getNetInfo(run, U, "agentshare-no-such-net")).toBeUndefined();
    });

    it("boots, shares global read-only and the inbox read-write, and gets a lease", async () => {
      const cmd = `console=ttyS0 agentshare.instance=iid-a agentshare.uid=${UID} agentshare.gid=${UID} agentshare.net=1`;
      const spec = await prepare("a", cmd, "default");
      await boot(spec);
      const out = (f: string) => readFileSync(join(spec.inboxDir, "outputs", f), "utf8");
      expect(readFileSync(join(spec.inboxDir, READY_MARKER), "utf8").split("\n")[0]).toBe("iid-a");
      expect(out("global-read.txt")).toBe(`hello a ${process.pid}\n`);
      expect(out("ro-check.txt")).toBe("write-ro: fail\nremount-rw: ok\nwrite-after-remount: fail\n");
      const hello = statSync(join(spec.inboxDir, "outputs/hello-from-guest.txt"));
      expect([hello.uid, hello.gid]).toEqual([UID, UID]);
      expect(existsSync(join(dir, "a/global/.agentshare-ro-probe"))).toBe(false);

      expect(await virsh.getDomStateReason(run, U, spec.name)).toEqual({
        state: "running",
        reason: "booted",
      });
      expect(await virsh.getDomState(run, U, spec.name)).toBe("running");
      expect(await virsh.getDomInfo(run, U, spec.name)).toMatchObject({
        name: spec.name,
        uuid: spec.uuid,
        state: "running",
      });
      expect(await virsh.listDomainNames(run, U)).toContain(spec.name);
      const addrs = await waitFor("a DHCP lease", 30_000, async () => {
        const a = (await virsh.getDomIfAddr(run, U, spec.name, "lease")).filter((x) => x.protocol === "ipv4");
        return a.length ? a : undefined;
      });
      expect(addrs[0]?.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(await virsh.getDomAddresses(run, U, spec.name)).toContain(addrs[0]?.address);

      expect(await virsh.destroyDomain(run, U, spec.name)).toBe(true);
      expect(await virsh.destroyDomain(run, U, spec.name)).toBe(false);
      expect(await virsh.getDomStateReason(run, U, spec.name)).toEqual({
        state: "shut off",
        reason: "destroyed",
      });
      expect(await virsh.getDomIfAddr(run, U, spec.name, "lease")).toEqual([]);
      expect(await virsh.undefineDomain(run, U, spec.name)).toBe(true);
      expect(await virsh.undefineDomain(run, U, spec.name)).toBe(false);
      expect(await virsh.getDomState(run, U, spec.name)).toBeUndefined();
      await expect(virsh.dumpDomainXml(run, U, spec.name)).rejects.toThrow(/no domain named/);
    });

    it("powers itself off when asked, and libvirt records a shutdown", async () => {
      const spec = await prepare("b", "console=ttyS0 agentshare.instance=iid-b agentshare.poweroff=1", null);
      await boot(spec);
      const st = await waitFor("shut off", 60_000, async () => {
        const s = await virsh.getDomStateReason(run, U, spec.name);
        return s?.state === "shut off" ? s : undefined;
      });
      expect(st.reason).toBe("shutdown");
      expect(readFileSync(spec.consoleLog, "utf8")).toContain("agentshare-test: ready iid-b");
      expect(await virsh.undefineDomain(run, U, spec.name)).toBe(true);
    });
  },
);
