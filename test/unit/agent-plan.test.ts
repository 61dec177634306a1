// planAgent: which kernel a VM boots (configured, the image's own, or the disk's bootloader) and
// that the seed and the keys reach the documents.
import { XMLParser } from "fast-xml-parser";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { planAgent, type PlanInputs } from "../../src/core/agent-plan.js";
import { BUILTIN_CONFIG } from "../../src/core/config.js";
import { agentPaths, hostPaths } from "../../src/core/paths.js";

const host = hostPaths("/srv/agentshare", "/var/lib/agentshare");
const base: PlanInputs = {
  name: "agent-01",
  config: { ...BUILTIN_CONFIG.agent, image: "debian-12" },
  host,
  agent: agentPaths(host, "agent-01"),
  domainType: "qemu",
  readonlyVirtiofs: false,
  instanceId: "iid-agent-01-x",
  uuid: "6b8a4c7e-1d2f-4a3b-9c8d-0e1f2a3b4c5d",
  token: "t".repeat(64),
  createdAt: "2026-12-01T00:00:00.000Z",
};
const imageKernel = {
  path: "/var/lib/agentshare/images/debian-12.vmlinuz",
  initrd: "/var/lib/agentshare/images/debian-12.initrd.img",
  cmdline: "root=/dev/vda rw console=ttyS0",
};
const os = (i: PlanInputs) =>
  (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" }).parse(planAgent(i).domainXml) as any)
    .domain.os;

describe("planAgent's boot choice", () => {
  it("boots the disk's own bootloader when neither the config nor the image brings a kernel", () => {
    const o = os(base);
    expect(o.kernel).toBeUndefined();
    expect(o.boot).toMatchObject({ "@dev": "hd" });
  });

  it("boots the image's kernel with the image's command line plus the agent's instance id", () => {
    const o = os({ ...base, imageKernel });
    expect([o.kernel, o.initrd]).toEqual([imageKernel.path, imageKernel.initrd]);
    expect(o.cmdline).toBe(
      "root=/dev/vda rw console=ttyS0 agentshare.instance=iid-agent-01-x agentshare.uid=1000 agentshare.gid=1000",
    );
    expect(o.boot).toBeUndefined();
  });

  it("prefers a configured kernel over the image's", () => {
    const o = os({ ...base, imageKernel, config: { ...base.config, kernel: "/k", initrd: null } });
    expect(o.kernel).toBe("/k");
    expect(o.initrd).toBeUndefined();
    expect(o.cmdline).toMatch(/^console=ttyS0 agentshare\.instance=/);
  });

  it("passes tcgCache to the XML as <tb-cache> under qemu; null leaves QEMU's default", () => {
    expect(planAgent(base).domainXml).toContain(
      `<tb-cache unit="MiB">${BUILTIN_CONFIG.agent.tcgCache}</tb-cache>`,
    );
    expect(planAgent({ ...base, config: { ...base.config, tcgCache: null } }).domainXml).not.toContain(
      "<tcg>",
    );
    expect(planAgent({ ...base, domainType: "kvm" }).domainXml).not.toContain("<tcg>");
  });

  it("ignores the image's kernel without an image (kernel-only agents)", () => {
    expect(os({ ...base, imageKernel, config: { ...base.config, image: null } }).kernel).toBeUndefined();
  });

  it("puts the host-made host key and the client key into user-data", () => {
    const keys = {
      clientPublicKey: "ssh-ed25519 AAAAC client",
      hostPrivateKey: "PRIV",
      hostPublicKey: "ssh-ed25519 AAAAH host",
    };
    const doc = yaml.load(planAgent({ ...base, keys }).userData) as any;
    expect(doc.ssh_keys).toEqual({ ed25519_private: "PRIV", ed25519_public: "ssh-ed25519 AAAAH host" });
    expect(doc.users[0].ssh_authorized_keys).toEqual(["ssh-ed25519 AAAAC client"]);
  });
});
