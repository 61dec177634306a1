import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { localRunner } from "../../src/adapters/runner.js";
import * as vfs from "../../src/adapters/virtiofsd.js";
import { describeWithTools } from "../helpers/tools.js";

// Recorded from Debian 12's qemu-system-common 7.2 on this project's machine: see the *.cmd files.
const fx = (name: string) => readFileSync(new URL(`../fixtures/virtiofsd/${name}`, import.meta.url), "utf8");

describe("virtiofsd parsers", () => {
  it("reads the C virtiofsd's version", () => {
    expect(vfs.parseVirtiofsdVersion(fx("qemu-7.2-version.stdout"))).toEqual({
      flavor: "qemu",
      version: "7.2.22",
    });
  });

  it("reads the Rust virtiofsd's version line", () => {
    // Shape printed by the Rust daemon's argument parser ("NAME VERSION"); no Rust virtiofsd on Debian 12.
    expect(vfs.parseVirtiofsdVersion("virtiofsd 1.13.1\n")).toEqual({ flavor: "rust", version: "1.13.1" });
    expect(vfs.parseVirtiofsdVersion("usage: something else\n")).toBeUndefined();
  });

  it("reads the binary from a vhost-user descriptor of type fs only", () => {
    expect(vfs.parseVhostUserDescriptor(fx("50-qemu-virtiofsd.json"))).toBe("/usr/lib/qemu/virtiofsd");
    expect(
      vfs.parseVhostUserDescriptor('{"type":"gpu","binary":"/usr/lib/qemu/vhost-user-gpu"}'),
    ).toBeUndefined();
    expect(vfs.parseVhostUserDescriptor("{not json")).toBeUndefined();
  });
});

describeWithTools(["qemu-system-x86_64"])("virtiofsd on this host", () => {
  it("finds the daemon libvirt uses and reads its version", async () => {
    const found = await vfs.getVirtiofsd(localRunner);
    expect(found.path).toMatch(/virtiofsd$/);
    expect(found.version).toMatch(/^\d+\.\d+/);
  });
});
