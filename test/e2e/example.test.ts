// examples/orchestrator.ts against the real guest: two ephemeral agents from the image agentshare
// builds, a task in each with its output streamed, the file each made collected into staging,
// and both destroyed when their scope ends (no domain, no state, no inbox left).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { localRunner } from "../../src/adapters/runner.js";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { cli, REPO } from "../helpers/cli.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";

const TOOLS = ["virsh", "qemu-system-x86_64", "genisoimage", "debootstrap", "mkfs.ext4"];

describeWithTools(TOOLS)("examples/orchestrator.ts (real cloud-init guests)", () => {
  let base = "";
  let root = "";
  let state = "";
  const g = () => ["--root", root, "--state-dir", state];

  beforeAll(() => {
    if (!isRoot()) throw new Error("the e2e tier needs root (libvirt's system URI, bind mounts)");
    assertTools(TOOLS);
    base = mkdtempSync(join(tmpdir(), "agentshare-example-"));
    chmodSync(base, 0o711); // QEMU (libvirt-qemu) must reach the overlays and seeds
    root = join(base, "root");
    state = join(base, "state");
    const img = cli([...g(), "image", "build"]);
    expect(img.code, img.stderr).toBe(0);
    const init = cli([...g(), "init"]);
    expect(init.code, init.stderr).toBe(0);
  });

  afterAll(async () => {
    if (!base) return;
    // whatever a failed run left behind
    for (const d of existsSync(join(state, "agents")) ? readdirSync(join(state, "agents")) : [])
      cli([...g(), "destroy", d, "--timeout", "0", "--purge-inbox"]);
    await unmountIfMounted(localRunner, join(root, "global-ro"));
    rmSync(base, { recursive: true, force: true });
  });

  it("two agents do the task, their results are collected, and both are gone afterwards", () => {
    const settings = {
      access: "loopback",
      domainType: "qemu",
      memory: 1024,
      vcpus: 1,
      tmpSize: "256m",
      inboxQuota: "64M",
    };
    const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "examples", "orchestrator.ts")], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 1_200_000,
      env: {
        ...process.env,
        AGENTSHARE_ROOT: root,
        AGENTSHARE_STATE_DIR: state,
        AGENTS: "2",
        AGENT_SETTINGS: JSON.stringify(settings),
      },
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const results = r.stdout
      .split("\n")
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            agent: string;
            run: string;
            exitCode: number;
            collected: string;
            sha256: string;
          },
      );
    expect(results).toHaveLength(2);
    for (const x of results) {
      expect(x.exitCode).toBe(0);
      expect(x.run).toMatch(/^run-\d{8}-\d{6}/);
      // the task's lines came through, prefixed with the agent's name
      for (const i of [1, 2, 3]) expect(r.stderr).toContain(`${x.agent}: step ${i} on `);
      const body = readFileSync(x.collected);
      expect(body.toString()).toMatch(/^done by \S+\n$/);
      expect(createHash("sha256").update(body).digest("hex")).toBe(x.sha256);
      expect(x.collected).toBe(join(root, "staging", `${x.agent}-result.txt`));
      // destroyed at the end of its scope: no domain, no state, no inbox
      expect(spawnSync("virsh", ["-c", "qemu:///system", "domstate", x.agent]).status).not.toBe(0);
      expect(existsSync(join(state, "agents", x.agent))).toBe(false);
      expect(existsSync(join(root, `${x.agent}-inbox`))).toBe(false);
    }
    expect(new Set(results.map((x) => x.agent)).size).toBe(2);
  });
});
