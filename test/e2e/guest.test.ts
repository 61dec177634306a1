// The whole product in a real cloud-init guest under QEMU (TCG): the image agentshare builds
// (taken from the cache under /var/cache/agentshare, built when missing), provision with a
// workload, attach to its logs, promote + exec, /tmp, prune, doctor, destroy. The guest is reached
// through ports forwarded to 127.0.0.1 (`--access loopback`), so no traffic leaves the host.
import { spawn } from "node:child_process";
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";
import { cli, CLI } from "../helpers/cli.js";
import { assertTools, describeWithTools, isRoot } from "../helpers/tools.js";
import { validateDomainXml, validateUserData } from "../helpers/validators.js";

const TOOLS = [
  "virsh",
  "qemu-system-x86_64",
  "genisoimage",
  "debootstrap",
  "mkfs.ext4",
  "virt-xml-validate",
  "cloud-init",
];
const N = 30;
// Numbered lines on both streams for ~6 s, so attach can follow the run while it is live.
const COMMAND = `i=1; while [ $i -le ${N} ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.2; done`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DataEvent {
  event: string;
  stream?: string;
  text?: string;
  base64?: string;
  run?: string;
}

/** The bytes per stream of `attach --json` output (one JSON object per line). */
function byStream(jsonLines: string): Record<string, string> {
  const out: Record<string, string> = { stdout: "", stderr: "" };
  for (const line of jsonLines.split("\n").filter(Boolean)) {
    const ev = JSON.parse(line) as DataEvent;
    if (ev.event !== "data" || !ev.stream) continue;
    out[ev.stream] += ev.text ?? Buffer.from(ev.base64 ?? "", "base64").toString("utf8");
  }
  return out;
}

const numbered = (prefix: string) => Array.from({ length: N }, (_, i) => `${prefix} ${i + 1}\n`).join("");

describeWithTools(TOOLS)("the whole product in a real cloud-init guest (TCG)", () => {
  let base = "";
  let root = "";
  let state = "";
  const tag = Math.random().toString(36).slice(2, 6);
  const name = `e2e-${tag}`;
  const g = () => ["--root", root, "--state-dir", state];
  const as = (...args: string[]) => cli([...g(), ...args]);
  const inbox = () => join(root, `${name}-inbox`);
  const runsNow = () => readdirSync(join(inbox(), "runs")).sort();
  let bootRun = "";

  /** Waits for the run's metrics.json (the wrapper writes it when the command ends). */
  async function metricsOf(run: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const f = join(inbox(), "runs", run, "metrics.json");
    for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(250)) {
      try {
        return JSON.parse(readFileSync(f, "utf8")) as Record<string, unknown>;
      } catch {
        /* not written yet */
      }
    }
    throw new Error(`no ${f} within ${timeoutMs} ms`);
  }

  beforeAll(() => {
    if (!isRoot())
      throw new Error("the e2e tier needs root (libvirt's system URI, debootstrap, bind mounts)");
    assertTools(TOOLS);
    base = mkdtempSync(join(tmpdir(), "agentshare-e2e-"));
    chmodSync(base, 0o711); // QEMU (libvirt-qemu) must reach the overlay, the seed and the kernel
    root = join(base, "root");
    state = join(base, "state");
    const img = as("--json", "image", "build");
    expect(img.code, img.stderr).toBe(0);
    expect(["cache", "built", "existing"]).toContain(JSON.parse(img.stdout).source);
    const init = as("init");
    expect(init.code, init.stderr).toBe(0);
  });

  afterAll(async () => {
    if (!base) return;
    cli([...g(), "destroy", name, "--timeout", "0", "--purge-inbox"]);
    await unmountIfMounted(localRunner, join(root, "global-ro"));
    rmSync(base, { recursive: true, force: true });
  });

  it("provision --wait boots the image and reports ready", () => {
    const r = as(
      "--json",
      "provision",
      name,
      "--access",
      "loopback",
      "--domain-type",
      "qemu",
      "--memory",
      "1024",
      "--vcpus",
      "2",
      "--tmp-size",
      "256m",
      "--inbox-quota",
      "64M",
      "--command",
      COMMAND,
      "--timeout",
      "600",
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: "created", ready: true, state: "running" });
    const s = as("--json", "status", name);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ ready: true, ip: "127.0.0.1", runs: 1 });
    bootRun = runsNow()[0]!;
    expect(bootRun).toMatch(/^run-\d{8}-\d{6}/);
  });

  it("kept documents pass libvirt's and cloud-init's own validators", async () => {
    const dir = join(state, "agents", name);
    await validateDomainXml(join(dir, "domain.xml"));
    await validateUserData(join(dir, "user-data"));
  });

  it("attach -c follows the boot run: every stdout and stderr line, as in the inbox's files", async () => {
    const child = spawn(process.execPath, [CLI, ...g(), "--json", "attach", "-c", name, "--from", "start"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")));
    const want = { stdout: numbered("out"), stderr: numbered("err") };
    const t0 = Date.now();
    while (Date.now() - t0 < 120_000) {
      const got = byStream(out);
      if (got.stdout === want.stdout && got.stderr === want.stderr) break;
      if (child.exitCode !== null) break;
      await sleep(200);
    }
    child.kill("SIGTERM");
    expect(byStream(out), err).toEqual(want);
    // the follow output equals what the wrapper wrote into the host inbox
    await metricsOf(bootRun);
    const dir = join(inbox(), "runs", bootRun);
    expect(readFileSync(join(dir, "stdout.log"), "utf8")).toBe(want.stdout);
    expect(readFileSync(join(dir, "stderr.log"), "utf8")).toBe(want.stderr);
  });

  it("attach --no-follow prints the finished run and exits; one stream piped is byte-identical", () => {
    const c = as("--json", "attach", "-c", name, "--no-follow");
    expect(c.code, c.stderr).toBe(0);
    expect(byStream(c.stdout)).toEqual({ stdout: numbered("out"), stderr: numbered("err") });
    const e = as("attach", name, "stderr", "--no-follow");
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toBe(readFileSync(join(inbox(), "runs", bootRun, "stderr.log"), "utf8"));
  });

  it("keeps the run's files, metrics.json with exit code 0, and current pointing at it", async () => {
    const dir = join(inbox(), "runs", bootRun);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(["stdout.log", "stderr.log", "metrics.json"]));
    const m = await metricsOf(bootRun);
    expect(m).toMatchObject({ run_id: bootRun, exit_code: 0 });
    expect(Number(m.duration_s)).toBeGreaterThan(4); // 30 × 0.2 s of sleeps
    expect(readlinkSync(join(inbox(), "current"))).toBe(`runs/${bootRun}`);
  });

  it("a promoted tool is readable in the guest, and the guest cannot write it", () => {
    const body = `#!/bin/sh\necho tool-${tag}\n`;
    writeFileSync(join(root, "staging", "e2e-tool.sh"), body);
    const p = as("promote", "e2e-tool.sh");
    expect(p.code, p.stderr).toBe(0);
    const cat = as("exec", name, "--no-run", "--", "cat", "/mnt/global/tools/e2e-tool.sh");
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout).toBe(body);
    const w = as("exec", name, "--no-run", "--", "sh", "-c", "echo x > /mnt/global/tools/e2e-tool.sh");
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/Read-only file system/);
    expect(readFileSync(join(root, "global", "tools", "e2e-tool.sh"), "utf8")).toBe(body);
  });

  it("exec runs a command as a new run and exits with its exit code", async () => {
    const before = runsNow();
    const r = as("exec", name, "--", "sh", "-c", "echo in-a-run; exit 3");
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe("in-a-run\n");
    const added = runsNow().filter((x) => !before.includes(x));
    expect(added).toHaveLength(1);
    expect(await metricsOf(added[0]!)).toMatchObject({ exit_code: 3 });
    expect(readlinkSync(join(inbox(), "current"))).toBe(`runs/${bootRun}`); // exec's runs leave current alone
  });

  it("a run that fills the inbox ends with persisted: false and a non-zero exit through exec", async () => {
    const before = runsNow();
    // Fill the inbox, then print 900 kB (under spawnSync's 1 MiB buffer): closing the fill frees a few blocks at most (64 KiB seen).
    const fill = `head -c 80M /dev/zero > "$AGENTSHARE_OUTPUTS/fill" 2>/dev/null; head -c 900000 /dev/zero | tr '\\0' x`;
    const r = as("exec", name, "--", "sh", "-c", fill);
    expect(r.code, `${r.stderr}\n${as("--json", "du", name).stdout}`).toBe(74); // CMD exited 0; its output did not persist
    expect(r.stdout).toBe("x".repeat(900_000)); // the caller still gets every byte
    expect(r.stderr).toMatch(/did not persist: stdout\.log: No space left on device/);
    const added = runsNow().filter((x) => !before.includes(x));
    expect(added).toHaveLength(1);
    const m = await metricsOf(added[0]!);
    expect(m).toMatchObject({ exit_code: 0, persisted: false });
    const st = JSON.parse(as("--json", "status", name).stdout);
    expect(st).toMatchObject({ inboxFull: true, latestRun: added[0], latestPersisted: false });
    const rm = as("exec", name, "--no-run", "--", "sh", "-c", `rm /mnt/inbox/runs/${added[0]}/outputs/fill`);
    expect(rm.code, rm.stderr).toBe(0);
    expect(JSON.parse(as("--json", "status", name).stdout)).toMatchObject({ inboxFull: false });
  });

  it("/tmp in the guest is a tmpfs of the configured size, noexec and nosuid", () => {
    const r = as("exec", name, "--no-run", "--", "sh", "-c", "grep ' /tmp ' /proc/mounts");
    expect(r.code, r.stderr).toBe(0);
    const [, , fstype, options = ""] = r.stdout.trim().split(/\s+/);
    expect(fstype).toBe("tmpfs");
    expect(options.split(",")).toEqual(expect.arrayContaining(["nosuid", "noexec", "nodev", "size=262144k"]));
  });

  it("prune keeps current; doctor passes; destroy keeps the inbox", () => {
    const current = readlinkSync(join(inbox(), "current")).replace("runs/", "");
    const newest = [...runsNow()].sort().at(-1)!;
    const p = as("--json", "prune", name, "--keep-last", "1", "--max-age", "off");
    expect(p.code, p.stderr).toBe(0);
    expect(runsNow().sort()).toEqual([...new Set([current, newest])].sort()); // current, and the keep-last run
    const d = as("doctor");
    expect(d.code, d.stdout + d.stderr).toBe(0);
    const x = as("destroy", name);
    expect(x.code, x.stderr).toBe(0);
    expect(readdirSync(inbox())).toEqual(expect.arrayContaining(["runs", "current"]));
    expect(as("status", name).code).toBe(66);
  });
});

describe("e2e helpers", () => {
  it("byStream splits attach --json output by stream and decodes base64 chunks", () => {
    const lines = [
      { event: "run", run: "run-1" },
      { event: "data", stream: "stdout", text: "a\n" },
      { event: "data", stream: "stderr", base64: Buffer.from("b\n").toString("base64") },
      { event: "data", stream: "stdout", text: "c\n" },
    ]
      .map((o) => JSON.stringify(o))
      .join("\n");
    expect(byStream(lines)).toEqual({ stdout: "a\nc\n", stderr: "b\n" });
  });
});
