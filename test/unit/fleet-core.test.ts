// The fleet's pure parts: the hosts map (every problem named with its field), known_hosts
// matching (hashed names made by the real ssh-keygen -H, wildcards, negation, ports, @revoked),
// placement, and the host helper's wire framing against broken or hostile frames.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  parseHosts,
  parseSelector,
  parseSshTarget,
  placeAgent,
  type HostLoad,
} from "../../src/core/fleet.js";
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from "../../src/core/host-wire.js";
import { knownHostKeys } from "../../src/core/known-hosts.js";

describe("hosts in the config", () => {
  it("parses an entry with defaults", () => {
    const problems: string[] = [];
    const [h] = parseHosts(
      { "rack-a": { ssh: "root@rack-a.example:2222", labels: { zone: "a" }, maxAgents: 20 } },
      "config.yaml",
      problems,
    );
    expect(problems).toEqual([]);
    expect(h).toMatchObject({
      name: "rack-a",
      ssh: { user: "root", address: "rack-a.example", port: 2222 },
      identity: "/root/.ssh/id_ed25519",
      knownHosts: "/root/.ssh/known_hosts",
      root: "/srv/agentshare",
      stateDir: "/var/lib/agentshare",
      labels: { zone: "a" },
      maxAgents: 20,
      memory: null,
    });
  });

  it("names every problem with its field", () => {
    const problems: string[] = [];
    const out = parseHosts(
      {
        "Bad Name": { ssh: "root@x" },
        auto: { ssh: "root@x" },
        b: { ssh: "nobody" },
        c: { ssh: "root@x", root: "relative", maxAgents: -1, colour: "red" },
        local: { ssh: "root@x" },
      },
      "f.yaml",
      problems,
    );
    expect(out).toEqual([]);
    expect(problems.join("\n")).toMatch(/hosts.Bad Name: is not a valid host name/);
    expect(problems.join("\n")).toMatch(/hosts.auto: 'auto' is the placement choice/);
    expect(problems.join("\n")).toMatch(/hosts.b.ssh: "nobody" is not user@address/);
    expect(problems.join("\n")).toMatch(/hosts.c.root: "relative"/);
    expect(problems.join("\n")).toMatch(/hosts.c.maxAgents: must be a whole number/);
    expect(problems.join("\n")).toMatch(/hosts.c.colour: unknown key/);
    expect(problems.join("\n")).toMatch(/hosts.local.ssh: unknown key/);
  });

  it("reads ssh targets and label selectors", () => {
    expect(parseSshTarget("ops@[::1]:2200")).toEqual({ user: "ops", address: "::1", port: 2200 });
    expect(parseSshTarget("root@h:99999")).toEqual({ problem: "port 99999 is not between 1 and 65535" });
    expect(parseSelector("zone=a,gpu=yes")).toEqual({ zone: "a", gpu: "yes" });
    expect(parseSelector("zone")).toMatchObject({ problem: expect.stringMatching(/not label=value/) });
  });
});

describe("known_hosts", () => {
  const K1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1";
  const K2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA2";

  it("matches plain names, ports, wildcards and negation", () => {
    const text = [
      "# comment",
      `rack-a.example,10.0.0.1 ${K1}`,
      `[rack-b.example]:2222 ${K2}`,
      `*.lab,!secret.lab ${K1}`,
    ].join("\n");
    expect(knownHostKeys(text, "rack-a.example", 22).keys).toEqual([K1]);
    expect(knownHostKeys(text, "rack-a.example", 2222).keys).toEqual([]);
    expect(knownHostKeys(text, "rack-b.example", 2222).keys).toEqual([K2]);
    expect(knownHostKeys(text, "rack-b.example", 22).keys).toEqual([]);
    expect(knownHostKeys(text, "x.lab", 22).keys).toEqual([K1]);
    expect(knownHostKeys(text, "secret.lab", 22).keys).toEqual([]);
  });

  it("matches names hashed by ssh-keygen -H, and drops @revoked keys", () => {
    const dir = mkdtempSync(join(tmpdir(), "agentshare-kh-"));
    try {
      const file = join(dir, "known_hosts");
      writeFileSync(file, `rack-a.example ${K1}\n[127.0.0.2]:2222 ${K2}\n`);
      execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
      const hashed = readFileSync(file, "utf8");
      expect(hashed).not.toMatch(/rack-a/);
      expect(knownHostKeys(hashed, "rack-a.example", 22).keys).toEqual([K1]);
      expect(knownHostKeys(hashed, "127.0.0.2", 2222).keys).toEqual([K2]);
      expect(knownHostKeys(hashed, "rack-b.example", 22).keys).toEqual([]);
      const revoked = `${hashed}@revoked * ${K1}\n`;
      expect(knownHostKeys(revoked, "rack-a.example", 22)).toEqual({ keys: [], revoked: [K1] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("placement", () => {
  const host = (name: string, o: Partial<HostLoad> = {}): HostLoad => ({
    name,
    labels: {},
    agents: 0,
    maxAgents: null,
    availableMiB: 16_000,
    reservedMiB: 0,
    definedMiB: 0,
    memoryLimitMiB: null,
    ...o,
  });

  it("picks the host with the fewest agents that fits", () => {
    const p = placeAgent(
      [host("a", { agents: 3 }), host("b", { agents: 1 }), host("c", { agents: 1, availableMiB: 9000 })],
      1024,
    );
    expect(p.host).toBe("b"); // b and c tie on agents: b has more room
  });

  it("honours maxAgents, the memory limit, free memory, labels and reachability", () => {
    const p = placeAgent(
      [
        host("full", { agents: 2, maxAgents: 2 }),
        host("limit", { definedMiB: 3500, memoryLimitMiB: 4096 }),
        host("tight", { availableMiB: 2000, reservedMiB: 1024 }),
        host("down", { unavailable: "unreachable: ECONNREFUSED" }),
        host("other-zone", { labels: { zone: "b" } }),
      ],
      1024,
      {},
    );
    expect(p.host).toBe("other-zone");
    const q = placeAgent(
      [
        host("other-zone", { labels: { zone: "b" } }),
        host("tight", { availableMiB: 2000, reservedMiB: 1024 }),
      ],
      1024,
      { zone: "a" },
    );
    expect(q.host).toBeUndefined();
    expect(q.considered.map((n) => n.why).join("\n")).toMatch(/label zone=a does not match \(zone=b\)/);
  });
});

describe("host wire", () => {
  it("carries bytes, Maps and undefined across, in pieces", () => {
    const msg = {
      id: 1,
      r: { data: Buffer.from("héllo\n"), sizes: new Map([["/a", 1]]), gone: undefined, list: [undefined, 2] },
    };
    const frame = encodeFrame(msg);
    const reader = new FrameReader();
    const out = [
      ...reader.push(frame.subarray(0, 5)),
      ...reader.push(frame.subarray(5, 20)),
      ...reader.push(frame.subarray(20)),
    ];
    expect(out).toHaveLength(1);
    const got = out[0] as { r: { data: Buffer; sizes: Map<string, number>; list: unknown[] } };
    expect(got.r.data.toString()).toBe("héllo\n");
    expect(got.r.sizes.get("/a")).toBe(1);
    expect(got.r.list).toEqual([undefined, 2]);
  });

  it("refuses a frame over the limit and a byte range outside the frame", () => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(MAX_FRAME_BYTES, 0);
    expect(() => new FrameReader().push(head)).toThrow(/over the limit/);
    const header = Buffer.from(JSON.stringify({ $b: [0, 100] }));
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(header.length, 0);
    bad.writeUInt32BE(4, 4);
    expect(() => new FrameReader().push(Buffer.concat([bad, header, Buffer.alloc(4)]))).toThrow(
      /outside the frame/,
    );
  });
});
