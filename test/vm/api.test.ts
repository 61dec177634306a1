// The library API against the real libvirt (TCG, the busybox test guest): an ephemeral agent is
// provisioned and ready inside its scope and gone — domain, state, inbox — when the scope ends,
// also when the scope throws; start/stop through the API; a provision aborted while it waits
// for the guest rejects with the signal's reason and leaves an agent a second call converges.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";
import { createAgentshare, type Agentshare, type AgentSettings } from "../../src/index.js";
import { REPO } from "../helpers/cli.js";
import { TEST_GUEST_DIR } from "../helpers/test-guest.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

const TOOLS = ["virsh", "qemu-system-x86_64", "genisoimage", "busybox"];

const domainExists = (n: string) => {
  try {
    execFileSync("virsh", ["-c", "qemu:///system", "domstate", n], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

describeWithTools(TOOLS)("the API on real libvirt", () => {
  let base = "";
  let as: Agentshare;
  const tag = Math.random().toString(36).slice(2, 7);
  const settings: AgentSettings = {
    kernel: join(TEST_GUEST_DIR, "vmlinuz"),
    initrd: join(TEST_GUEST_DIR, "initramfs.cpio.gz"),
    image: null,
    network: null,
    domainType: "qemu",
    memory: 256,
    vcpus: 1,
  };
  const left: string[] = [];

  beforeAll(async () => {
    if (!isRoot()) throw new Error("the vm tier needs root (libvirt's system URI, bind mounts)");
    assertTools(TOOLS);
    execFileSync("bash", [join(REPO, "scripts/build-test-guest.sh"), TEST_GUEST_DIR], { stdio: "inherit" });
    base = mkdtempSync(join(tmpdir(), "agentshare-api-vm-"));
    chmodSync(base, 0o711); // QEMU (libvirt-qemu) must traverse to the seed ISO
    as = createAgentshare({ root: join(base, "root"), stateDir: join(base, "state") });
    await as.init();
  });

  afterAll(async () => {
    for (const n of left)
      await as.destroy(n, { shutdownTimeoutMs: 0, purgeInbox: true }).catch(() => undefined);
    if (base) {
      await unmountIfMounted(localRunner, join(base, "root", "global-ro"));
      rmSync(base, { recursive: true, force: true });
    }
  });

  it("await using: ready inside the scope, destroyed with its inbox when the scope ends", async () => {
    let name = "";
    {
      await using agent = await as.ephemeral({ prefix: `eph${tag}`, settings, timeoutMs: 180_000 });
      name = agent.name;
      left.push(name);
      expect(agent.provisioned).toMatchObject({ action: "created", ready: true, state: "running" });
      expect(await agent.status()).toMatchObject({ name, state: "running", ready: true });
      expect(domainExists(name)).toBe(true);
    }
    expect(domainExists(name)).toBe(false);
    expect(existsSync(join(as.stateDir, "agents", name))).toBe(false);
    expect(existsSync(join(as.root, `${name}-inbox`))).toBe(false);
  });

  it("a scope that throws still destroys its agent", async () => {
    let name = "";
    const boom = new Error("the orchestrator's task failed");
    const run = async () => {
      await using agent = await as.ephemeral({ prefix: `eph${tag}`, settings, timeoutMs: 180_000 });
      name = agent.name;
      left.push(name);
      throw boom;
    };
    await expect(run()).rejects.toBe(boom);
    expect(name).not.toBe("");
    expect(domainExists(name)).toBe(false);
  });

  it("stop and start through the API; an abort during the wait rejects with its reason", async () => {
    const n = `apivm-${tag}`;
    left.push(n);
    const ac = new AbortController();
    const reason = new Error("no time left");
    const events: string[] = [];
    const p = as.provision(n, {
      settings,
      timeoutMs: 180_000,
      signal: ac.signal,
      onProgress: (e) => {
        events.push(e.type);
        if (e.type === "progress" && /waiting for the guest/.test(e.message)) ac.abort(reason);
      },
    });
    await expect(p).rejects.toBe(reason);
    expect(events).toContain("progress");
    // the domain was defined and started before the wait: provision again converges
    const again = await as.provision(n, { settings, timeoutMs: 180_000 });
    expect(["unchanged", "created"]).toContain(again.action);
    expect((await as.stop(n, { shutdownTimeoutMs: 5000 })).action).toBe("stopped");
    expect((await as.stop(n)).action).toBe("already-stopped");
    expect(await as.start(n, { timeoutMs: 180_000 })).toMatchObject({ action: "started", ready: true });
    await as.destroy(n, { shutdownTimeoutMs: 0, purgeInbox: true });
    expect(domainExists(n)).toBe(false);
  });
});
