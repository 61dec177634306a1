import { describe, expect, it } from "vitest";
import { BUILTIN_CONFIG, resolveConfig } from "../../src/core/config.js";

describe("resolveConfig", () => {
  it("returns the built-in defaults with no layers", () => {
    const r = resolveConfig([]);
    expect(r.problems).toEqual([]);
    expect(r.config).toEqual(BUILTIN_CONFIG);
  });

  it("layers in order: profile < file < agents.NAME < flags", () => {
    const r = resolveConfig(
      [
        { source: "profile", data: { memory: 512, vcpus: 1, tmpSize: "64m" } },
        { source: "file", data: { memory: 2048, agents: { "agent-01": { vcpus: 3 }, other: { vcpus: 9 } } } },
        { source: "flags", data: { memory: "4096" } },
      ],
      "agent-01",
    );
    expect(r.problems).toEqual([]);
    expect(r.config.agent).toMatchObject({ memory: 4096, vcpus: 3, tmpSize: "64m", disk: "20G" });
  });

  it("reports every problem with its source and field path", () => {
    const r = resolveConfig([
      {
        source: "cfg.yaml",
        data: {
          memory: 100,
          vcpus: "many",
          tmpSize: "512",
          domainType: "xen",
          colour: "blue",
          image: "relative/path.qcow2",
          sshKeys: ["not a key", "ssh-ed25519 AAAA ok"],
          retention: { keepLast: 0, maxAge: "forever" },
          healthPort: 70000,
          command: "echo \u0001",
        },
      },
    ]);
    const p = r.problems.join("\n");
    expect(p).toMatch(/cfg\.yaml: memory: must be between 256 and 1048576 MiB \(got 100\)/);
    expect(p).toMatch(/cfg\.yaml: vcpus: must be a whole number/);
    expect(p).toMatch(/cfg\.yaml: tmpSize: must be a number followed by m or g/);
    expect(p).toMatch(/cfg\.yaml: domainType: must be kvm, qemu or auto/);
    expect(p).toMatch(/cfg\.yaml: colour: unknown key/);
    expect(p).toMatch(/cfg\.yaml: image: must be an absolute path/);
    expect(p).toMatch(/cfg\.yaml: sshKeys\[0\]: must be an OpenSSH public key line/);
    expect(p).not.toMatch(/sshKeys\[1\]/);
    expect(p).toMatch(/cfg\.yaml: retention\.keepLast: must be between 1/);
    expect(p).toMatch(/cfg\.yaml: retention\.maxAge: must be a duration/);
    expect(p).toMatch(/cfg\.yaml: healthPort: must be between 1 and 65535/);
    expect(p).toMatch(/cfg\.yaml: command: contains U\+0001 at position 5/);
    expect(r.problems.length).toBe(11);
  });

  it.each([["512m"], ["2g"], ["64m"], ["4g"]])("accepts tmpSize %s", (tmpSize) => {
    expect(resolveConfig([{ source: "f", data: { tmpSize } }]).problems).toEqual([]);
  });

  it.each([["99999999g"], ["4097m"], ["5g"]])("rejects tmpSize %s: over 4 × the VM's 1024 MiB", (tmpSize) => {
    expect(resolveConfig([{ source: "f", data: { tmpSize } }]).problems).toEqual([
      `tmpSize: must be at most 4 × memory (4096m for 1024 MiB): /tmp is a tmpfs in the guest's RAM and swap (got "${tmpSize}")`,
    ]);
  });

  it.each([["512"], ["512M"], ["1.5g"], ["0m"], ["512mb"], ["-1m"], [""]])(
    "rejects tmpSize %j",
    (tmpSize) => {
      expect(resolveConfig([{ source: "f", data: { tmpSize } }]).problems[0]).toMatch(/^f: tmpSize:/);
    },
  );

  it.each([
    [22, "the guest's SSH server"],
    [53, "the guest's DNS resolver"],
    [5355, "LLMNR"],
    [80, "below 1024"],
    [1023, "without CAP_NET_BIND_SERVICE"],
  ])("refuses healthPort %i: %s", (healthPort, why) => {
    const [p, ...rest] = resolveConfig([{ source: "f", data: { healthPort } }]).problems;
    expect(rest).toEqual([]);
    expect(p).toContain(`f: healthPort: ${healthPort} cannot be used`);
    expect(p).toContain(why);
  });

  it.each([[1024], [8118], [65535]])("accepts healthPort %i", (healthPort) => {
    expect(resolveConfig([{ source: "f", data: { healthPort } }]).problems).toEqual([]);
  });

  it("needs an image or a kernel, and a kernel for an initrd", () => {
    const r = resolveConfig([{ source: "f", data: { image: null, initrd: "/boot/initrd.img" } }]);
    expect(r.problems).toEqual([
      "image: set an image, or a kernel for direct kernel boot",
      "initrd: needs kernel to be set as well",
    ]);
  });

  it("rejects a document that is not a mapping", () => {
    expect(resolveConfig([{ source: "f", data: ["memory", 1] }]).problems).toEqual([
      "f: must be a mapping of keys to values",
    ]);
  });

  it.each([[64], ["128"], [null], [16], [2048]])("accepts tcgCache %j", (tcgCache) => {
    const r = resolveConfig([{ source: "f", data: { tcgCache } }]);
    expect(r.problems).toEqual([]);
    expect(r.config.agent.tcgCache).toBe(tcgCache === null ? null : Number(tcgCache));
  });

  it("reports every bad tcgCache / freePageReporting with its field path", () => {
    const bad = (data: Record<string, unknown>) => resolveConfig([{ source: "f", data }]).problems;
    expect(bad({ tcgCache: 8, freePageReporting: "yes" })).toEqual([
      "f: tcgCache: must be between 16 and 2048 MiB (got 8)",
      "f: freePageReporting: must be true or false",
    ]);
    expect(bad({ tcgCache: "64M" })).toEqual(["f: tcgCache: must be a whole number MiB"]);
    expect(bad({ tcgCache: 4096 })).toEqual(["f: tcgCache: must be between 16 and 2048 MiB (got 4096)"]);
  });
});
