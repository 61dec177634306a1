import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { buildDomainXml } from "../../src/core/domain-xml.js";
import { findXmlIllegal } from "../../src/core/xml-text.js";
import { expectGolden } from "../helpers/golden.js";
import { randomText, rng } from "../helpers/random-text.js";
import { baseDomain, goldenCases } from "../helpers/specs.js";

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  htmlEntities: true,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ["disk", "filesystem"].includes(name),
});

type Parsed = { domain: Record<string, any> };
const parse = (xml: string) => parser.parse(xml) as Parsed;

describe("buildDomainXml", () => {
  it.each(goldenCases)("matches the golden file for $name", ({ name, domain }) => {
    expectGolden(`${name}.xml`, buildDomainXml(domain));
  });

  it("shares memory through memfd and exposes both virtiofs tags", () => {
    const d = parse(buildDomainXml(baseDomain)).domain;
    expect(d.memoryBacking).toMatchObject({ source: { "@type": "memfd" }, access: { "@mode": "shared" } });
    const fs = d.devices.filesystem as any[];
    expect(fs.map((f) => [f.driver["@type"], f.source["@dir"], f.target["@dir"]])).toEqual([
      ["virtiofs", "/srv/agentshare/global-ro", "agentglobal"],
      ["virtiofs", "/srv/agentshare/agent-01-inbox", "agentinbox"],
    ]);
    expect(fs.every((f) => !("readonly" in f))).toBe(true);
    expect(d.devices.serial.log).toMatchObject({ "@file": baseDomain.consoleLog, "@append": "on" });
  });

  it("adds <readonly/> to the global share only when libvirt supports it", () => {
    const fs = parse(buildDomainXml({ ...baseDomain, readonlyGlobal: true })).domain.devices
      .filesystem as any[];
    expect("readonly" in fs[0]).toBe(true);
    expect("readonly" in fs[1]).toBe(false);
  });

  it("attaches the seed as a read-only virtio disk after the overlay (the cloud kernel has no AHCI)", () => {
    const disks = [parse(buildDomainXml(baseDomain)).domain.devices.disk].flat() as any[];
    expect(
      disks.map((x) => [x.target["@dev"], x.target["@bus"], "readonly" in x, x.driver["@type"]]),
    ).toEqual([
      ["vda", "virtio", false, "qcow2"],
      ["vdb", "virtio", true, "raw"],
    ]);
    expect(disks[1].source["@file"]).toBe(baseDomain.seedIso);
  });

  it("with loopback access: no libvirt interface, an isolated user-mode netdev forwarding to 127.0.0.1", () => {
    const fwd = [
      { hostPort: 40000, guestPort: 8118 },
      { hostPort: 40001, guestPort: 22 },
    ];
    const d = parse(buildDomainXml({ ...baseDomain, loopbackForward: fwd })).domain;
    expect(d.devices.interface).toBeUndefined();
    expect(d["@xmlns:qemu"]).toBe("http://libvirt.org/schemas/domain/qemu/1.0");
    const args = ([d["qemu:commandline"]["qemu:arg"]].flat() as any[]).map((a) => a["@value"]);
    expect(args).toEqual([
      "-netdev",
      "user,id=asnet0,restrict=on,hostfwd=tcp:127.0.0.1:40000-:8118,hostfwd=tcp:127.0.0.1:40001-:22",
      "-device",
      "virtio-net-pci,netdev=asnet0,bus=pcie.0,addr=0x1e",
    ]);
    expect(parse(buildDomainXml(baseDomain)).domain["qemu:commandline"]).toBeUndefined();
  });

  it("sizes TCG's translation cache under domain type qemu only (KVM translates nothing)", () => {
    const tcg = (spec: typeof baseDomain) => parse(buildDomainXml(spec)).domain.features.tcg;
    expect(tcg({ ...baseDomain, domainType: "qemu", tcgCacheMiB: 96 })["tb-cache"]).toEqual({
      "@unit": "MiB",
      "#text": "96",
    });
    expect(tcg({ ...baseDomain, domainType: "kvm", tcgCacheMiB: 96 })).toBeUndefined();
    expect(tcg({ ...baseDomain, domainType: "qemu", tcgCacheMiB: undefined })).toBeUndefined();
    expect(parse(buildDomainXml({ ...baseDomain, domainType: "kvm" })).domain.features).toHaveProperty(
      "acpi",
    );
  });

  it("turns on free page reporting on the virtio balloon when asked, else leaves libvirt's default", () => {
    const on = parse(buildDomainXml({ ...baseDomain, freePageReporting: true })).domain.devices;
    expect(on.memballoon).toEqual({ "@model": "virtio", "@freePageReporting": "on" });
    const off = parse(buildDomainXml({ ...baseDomain, freePageReporting: false })).domain.devices;
    expect(off.memballoon).toBeUndefined();
  });

  it("attaches no disk for direct kernel boot without an image", () => {
    const d = parse(
      buildDomainXml({ ...baseDomain, diskPath: undefined, kernel: { path: "/k", cmdline: "x=1" } }),
    ).domain;
    const disks = [d.devices.disk].flat() as any[];
    expect(disks.map((x) => [x["@device"], x.target["@dev"], x.target["@bus"], "readonly" in x])).toEqual([
      ["disk", "vda", "virtio", true],
    ]);
    expect(d.os.kernel).toBe("/k");
    expect(d.os.boot).toBeUndefined();
  });

  it("keeps any user text exactly (2,000 random strings with XML specials)", () => {
    const next = rng(42);
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const [description, command, dir] = [randomText(next), randomText(next), `/srv/${randomText(next, 4)}`];
      if ([description, command, dir].some((s) => findXmlIllegal(s))) continue;
      const spec = {
        ...baseDomain,
        description,
        inboxDir: dir,
        metadata: { ...baseDomain.metadata, command },
      };
      const d = parse(buildDomainXml(spec)).domain;
      expect(d.description ?? "").toBe(description);
      expect(d.metadata["agentshare:agent"]["agentshare:command"] ?? "").toBe(command);
      expect(d.devices.filesystem[1].source["@dir"]).toBe(dir);
      checked++;
    }
    expect(checked).toBeGreaterThan(1500);
  });
});
