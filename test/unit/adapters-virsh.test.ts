import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NotFoundError, ToolError } from "../../src/errors.js";
import { localRunner } from "../../src/adapters/runner.js";
import * as v from "../../src/adapters/virsh.js";
import { describeWithTools } from "../helpers/tools.js";

// Recorded with libvirt 9.0.0 / QEMU 7.2.22 on this project's machine: see each *.cmd beside it.
const fx = (name: string) => readFileSync(new URL(`../fixtures/virsh/${name}`, import.meta.url), "utf8");
const U = "qemu:///system";

describe("virsh parsers on recorded output", () => {
  it("reads library, API and hypervisor versions", () => {
    expect(v.parseVersion(fx("version.stdout"))).toEqual({
      library: "9.0.0",
      api: "9.0.0",
      hypervisor: { name: "QEMU", version: "7.2.22" },
    });
    expect(v.parseVersion(fx("version-daemon.stdout")).daemon).toBe("9.0.0");
    expect(v.parseVersion(fx("version.stdout")).daemon).toBeUndefined();
    expect(v.versionNumber("9.0.0")).toBe(9_000_000);
    expect(v.versionNumber("11.0.0") > v.versionNumber("9.0.0")).toBe(true);
    expect(() => v.parseVersion("")).toThrow(/libvirt version/);
  });

  it("reads domstate with and without a reason", () => {
    expect(v.parseDomState(fx("domstate-running.stdout"))).toEqual({ state: "running", reason: "booted" });
    expect(v.parseDomState(fx("domstate-plain-running.stdout"))).toEqual({ state: "running" });
    expect(v.parseDomState(fx("domstate-destroyed.stdout"))).toEqual({
      state: "shut off",
      reason: "destroyed",
    });
    expect(v.parseDomState(fx("domstate-poweroff.stdout"))).toEqual({
      state: "shut off",
      reason: "shutdown",
    });
    expect(v.parseDomState(fx("domstate-after-shutdown-request.stdout")).state).toBe("running");
    expect(v.parseDomState("something new (x)\n").state).toBe("unknown");
  });

  it("reads dominfo of a running and a shut-off domain", () => {
    const running = v.parseDomInfo(fx("dominfo-running.stdout"));
    expect(running).toMatchObject({
      id: 3,
      name: "astest-net",
      state: "running",
      vcpus: 1,
      maxMemoryKiB: 262144,
    });
    expect(running).toMatchObject({ persistent: true, autostart: false });
    const off = v.parseDomInfo(fx("dominfo-shutoff.stdout"));
    expect(off.id).toBeUndefined();
    expect(off.state).toBe("shut off");
    expect(off.uuid).toBe(running.uuid);
  });

  it("reads lease addresses from domifaddr", () => {
    expect(v.parseDomIfAddr(fx("domifaddr-lease.stdout"))).toEqual([
      { iface: "vnet0", mac: "52:54:00:d5:01:11", protocol: "ipv4", address: "192.168.122.166", prefix: 24 },
    ]);
    expect(v.parseIPv4Addresses(fx("domifaddr-lease.stdout"))).toEqual(["192.168.122.166"]);
    expect(v.parseDomIfAddr(fx("domifaddr-agent-none.stdout"))).toEqual([]);
  });

  it("carries the interface name to continuation rows of domifaddr", () => {
    // Shape of `--source agent` with several addresses (libvirt prints "-" for repeated name/MAC);
    // not recordable here: the busybox test guest runs no guest agent.
    const out = [
      " Name       MAC address          Protocol     Address",
      "-------------------------------------------------------------------------------",
      " lo         00:00:00:00:00:00    ipv4         127.0.0.1/8",
      " eth0       52:54:00:aa:bb:cc    ipv4         192.168.122.7/24",
      " -          -                    ipv6         fe80::5054:ff:feaa:bbcc/64",
      "",
    ].join("\n");
    const got = v.parseDomIfAddr(out);
    expect(got[2]).toEqual({
      iface: "eth0",
      mac: "52:54:00:aa:bb:cc",
      protocol: "ipv6",
      address: "fe80::5054:ff:feaa:bbcc",
      prefix: 64,
    });
    expect(v.parseIPv4Addresses(out)).toEqual(["127.0.0.1", "192.168.122.7"]);
  });

  it("reads list --name and the list table", () => {
    expect(v.parseListNames(fx("list-all-name.stdout"))).toEqual(["astest-net"]);
    expect(v.parseList(fx("list-all.stdout"))).toEqual([{ id: 3, name: "astest-net", state: "running" }]);
    expect(v.parseList(fx("list-all-shutoff.stdout"))).toEqual([{ name: "astest-net", state: "shut off" }]);
  });

  it("reads net-info", () => {
    expect(v.parseNetInfo(fx("net-info-default.stdout"))).toEqual({
      name: "default",
      active: true,
      persistent: true,
      autostart: true,
      bridge: "virbr0",
    });
  });

  it("tells missing domains, unreachable daemons and stopped domains apart", () => {
    for (const f of ["domstate-missing", "dominfo-missing", "undefine-missing"]) {
      expect(v.isDomainMissing(fx(`${f}.stderr`)), f).toBe(true);
      expect(v.isLibvirtUnreachable(fx(`${f}.stderr`)), f).toBe(false);
    }
    expect(v.isLibvirtUnreachable(fx("unreachable.stderr"))).toBe(true);
    expect(v.isDomainMissing(fx("start-running.stderr"))).toBe(false);
    expect(v.isNotRunning(fx("destroy-shutoff.stderr"))).toBe(true);
    expect(v.isNotRunning(fx("domifaddr-shutoff.stderr"))).toBe(true);
    expect(v.isDomainMissing(fx("net-info-missing.stderr"))).toBe(false);
  });

  it("maps failures to NotFoundError or a ToolError with the libvirtd hint", () => {
    const missing = v.virshError(
      v.domStateArgv(U, "nope"),
      { exitCode: 1, stdout: "", stderr: fx("domstate-missing.stderr") },
      "nope",
    );
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toContain("nope");
    const down = v.virshError(
      v.versionArgv(U),
      { exitCode: 1, stdout: "", stderr: fx("unreachable.stderr") },
      "x",
    );
    expect(down).toBeInstanceOf(ToolError);
    expect((down as ToolError).hint).toBe(v.LIBVIRTD_HINT);
    expect(down.message).toContain("virsh -c qemu:///system version");
  });
});

describe("virsh capabilities parsers on recorded output", () => {
  it("lists the domain types and machines of the host arch", () => {
    const caps = v.parseCapabilities(fx("capabilities.stdout"));
    expect(caps.hostArch).toBe("x86_64");
    expect(caps.domainTypes.sort()).toEqual(["kvm", "qemu"]);
    expect(caps.machines).toContain("q35");
    expect(caps.machines).toContain("pc-q35-7.2");
  });

  it("sees memfd backing and the virtiofs driver", () => {
    const tcg = v.parseDomCapabilities(fx("domcapabilities-qemu.stdout"));
    expect(tcg).toEqual({
      domainType: "qemu",
      emulator: "/usr/bin/qemu-system-x86_64",
      machine: "pc-q35-7.2",
      arch: "x86_64",
      memfd: true,
      virtiofs: true,
    });
    expect(v.parseDomCapabilities(fx("domcapabilities-kvm.stdout")).domainType).toBe("kvm");
  });

  it("reports memfd and virtiofs as missing when the XML lacks them", () => {
    const xml = fx("domcapabilities-qemu.stdout")
      .replace("<value>memfd</value>", "")
      .replace("<value>virtiofs</value>", "");
    expect(v.parseDomCapabilities(xml)).toMatchObject({ memfd: false, virtiofs: false });
    expect(() => v.parseDomCapabilities("<other/>")).toThrow(/domainCapabilities/);
  });
});

describe("virsh argv builders", () => {
  it("puts the connect URI first and names the domain explicitly", () => {
    expect(v.versionArgv(U)).toEqual(["-c", U, "version", "--daemon"]);
    expect(v.dumpXmlArgv(U, "a1")).toEqual(["-c", U, "dumpxml", "--domain", "a1"]);
    expect(v.domStateArgv(U, "a1")).toEqual(["-c", U, "domstate", "--domain", "a1", "--reason"]);
    expect(v.defineArgv(U, "/x/domain.xml")).toEqual(["-c", U, "define", "--file", "/x/domain.xml"]);
    expect(v.domIfAddrArgv("qemu+ssh://h/system", "a1", "lease")).toEqual([
      ...["-c", "qemu+ssh://h/system", "domifaddr", "--domain", "a1", "--source", "lease"],
    ]);
    expect(v.undefineArgv(U, "a1")).toContain("--managed-save");
    expect(v.domCapabilitiesArgv(U, "kvm")).toEqual([
      ...["-c", U, "domcapabilities", "--virttype", "kvm", "--arch", "x86_64", "--machine", "q35"],
    ]);
  });
});

describeWithTools(["virsh"])("virsh against the real tool", () => {
  it("turns an unreachable libvirtd into a ToolError with the host-setup hint", async () => {
    const err = await v
      .getVersion(localRunner, "qemu+unix:///system?socket=/nonexistent/agentshare-sock")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).hint).toBe(v.LIBVIRTD_HINT);
  });
});
