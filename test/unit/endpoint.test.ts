// Where the host reaches a guest: the loopback forward needs no libvirt lookup; otherwise the
// DHCP lease (a recorded `virsh domifaddr` table answered by a Runner that stands in for virsh).
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freeLoopbackPorts } from "../../src/adapters/ports.js";
import { tracingRunner, type Runner } from "../../src/adapters/runner.js";
import { guestAccess } from "../../src/ops/endpoint.js";

const lease = readFileSync(join(import.meta.dirname, "../fixtures/virsh/domifaddr-lease.stdout"), "utf8");
const opts = { connect: "qemu:///system" } as Parameters<typeof guestAccess>[0]["opts"];

describe("guestAccess", () => {
  it("uses 127.0.0.1 and the forwarded ports without asking libvirt", async () => {
    const run: Runner = async () => {
      throw new Error("virsh must not be called for a loopback agent");
    };
    expect(
      await guestAccess({ run, opts }, "a1", { healthPort: 8118, forward: { health: 40100, ssh: 40101 } }),
    ).toEqual({
      host: "127.0.0.1",
      healthPort: 40100,
      sshPort: 40101,
    });
  });

  it("otherwise takes the first lease address, the configured health port and SSH on 22", async () => {
    const argv: string[][] = [];
    const run: Runner = async (file, args) => {
      argv.push([file, ...args]);
      return { exitCode: 0, stdout: lease, stderr: "" } as Awaited<ReturnType<Runner>>;
    };
    expect(await guestAccess({ run, opts }, "a1", { healthPort: 9000 })).toEqual({
      host: "192.168.122.166",
      healthPort: 9000,
      sshPort: 22,
    });
    expect(argv[0]).toEqual([
      "virsh",
      "-c",
      "qemu:///system",
      "domifaddr",
      "--domain",
      "a1",
      "--source",
      "lease",
    ]);
    const none: Runner = async () => ({ exitCode: 0, stdout: "", stderr: "" }) as Awaited<ReturnType<Runner>>;
    expect(await guestAccess({ run: none, opts }, "a1", { healthPort: 9000 })).toBeUndefined();
  });
});

describe("freeLoopbackPorts", () => {
  it("returns distinct ports that can be bound on 127.0.0.1", async () => {
    const ports = await freeLoopbackPorts(3);
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      const s = createServer();
      await new Promise<void>((resolve, reject) =>
        s.once("error", reject).listen(port, "127.0.0.1", resolve),
      );
      await new Promise((r) => s.close(r));
    }
  });
});

describe("tracingRunner (--debug)", () => {
  it("reports each command line with its exit code and time, and passes the result through", async () => {
    const lines: string[] = [];
    const inner: Runner = async () =>
      ({ exitCode: 3, stdout: "out", stderr: "" }) as Awaited<ReturnType<Runner>>;
    const r = await tracingRunner(inner, (l) => lines.push(l))("virsh", ["-c", "qemu:///system", "version"]);
    expect(r).toMatchObject({ exitCode: 3, stdout: "out" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^agentshare: debug: virsh -c qemu:\/\/\/system version → exit 3 in \d+ ms\n$/);
  });
});
