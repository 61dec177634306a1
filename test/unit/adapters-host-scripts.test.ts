import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

const script = (name: string) => new URL(`../../scripts/${name}`, import.meta.url).pathname;
const bash = (args: string[]) => spawnSync("bash", args, { encoding: "utf8" });

describeWithTools(["busybox", "cpio", "gzip"])("scripts/build-test-guest.sh", () => {
  let out = "";
  let first = "";
  beforeAll(() => {
    assertTools(["busybox", "cpio", "gzip"]);
    out = join(mkdtempSync(join(tmpdir(), "agentshare-guest-")), "guest");
    const r = bash([script("build-test-guest.sh"), out]);
    expect(r.stderr).toBe("");
    first = r.stdout;
  });
  afterAll(() => rmSync(join(out, ".."), { recursive: true, force: true }));

  const listing = () =>
    execFileSync("sh", ["-c", `gzip -dc '${out}/initramfs.cpio.gz' | cpio -it --quiet`], {
      encoding: "utf8",
    });

  it("builds the kernel and an initramfs with busybox, /init and the virtiofs modules", () => {
    expect(first).toMatch(/built .* \(kernel \S+-cloud-amd64, modules: .*virtiofs/);
    const kver = readFileSync(join(out, "kernel-version"), "utf8").trim();
    expect(statSync(join(out, "vmlinuz")).size).toBe(statSync(`/boot/vmlinuz-${kver}`).size);
    const files = listing().split("\n");
    for (const f of ["init", "bin/busybox", "bin/sh", "bin/udhcpc.script", "lib/modules/load-order"])
      expect(files).toContain(f);
    for (const m of ["fuse", "virtiofs", "virtio_pci", "virtio_ring", "virtio_net"])
      expect(files).toContain(`lib/modules/${m}.ko`);
  });

  it("orders modules after their dependencies", () => {
    const order = execFileSync(
      "sh",
      ["-c", `gzip -dc '${out}/initramfs.cpio.gz' | cpio -i --to-stdout --quiet lib/modules/load-order`],
      {
        encoding: "utf8",
      },
    )
      .trim()
      .split("\n");
    const before = (a: string, b: string) =>
      expect(order.indexOf(a), `${a} before ${b}`).toBeLessThan(order.indexOf(b));
    before("virtio_ring", "virtio");
    before("virtio", "virtio_pci");
    before("fuse", "virtiofs");
    before("virtio", "virtiofs");
    expect(new Set(order).size).toBe(order.length);
  });

  it("is cached, rebuilds when its inputs record changes, and is reproducible", () => {
    const sum = () =>
      execFileSync("sha256sum", [join(out, "initramfs.cpio.gz")], { encoding: "utf8" }).split(" ")[0];
    const before = sum();
    expect(bash([script("build-test-guest.sh"), out]).stdout).toMatch(/is up to date/);
    writeFileSync(join(out, ".inputs"), "stale\n");
    expect(bash([script("build-test-guest.sh"), out]).stdout).toMatch(/built/);
    expect(sum()).toBe(before);
  });

  it("rejects a missing OUTDIR and unknown flags", () => {
    expect(bash([script("build-test-guest.sh")]).stderr).toMatch(/usage/);
    const r = bash([script("build-test-guest.sh"), out, "--bogus"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown argument/);
  });
});

describe("scripts/host-setup.sh arguments", () => {
  it("rejects an unknown flag with the usage", () => {
    const r = bash([script("host-setup.sh"), "--bogus"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/usage: .*--no-network.*\n.*unknown argument '--bogus'/);
  });

  it("refuses to run as a user other than root", () => {
    // As root, drop to nobody for this one run; otherwise we already are not root.
    const drop = isRoot() ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const argv = [...drop, "bash", script("host-setup.sh")];
    const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/must run as root/);
  });
});
