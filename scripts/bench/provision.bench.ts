// provision, measured two ways, each against a baseline run side by side:
//  1. host-side overhead: `agentshare provision NAME --no-start` (the whole CLI: config, plan,
//     inbox, keys, documents, seed, overlay, define) vs the raw tool calls it makes
//     (`qemu-img create`, `genisoimage`, `virsh define`) on the same inputs, interleaved;
//  2. provision → ready on the built image (TCG, `--access loopback`) vs the guest's own boot
//     time, kernel start to cloud-init's final stage ("Up N seconds" in cloud-init's closing
//     line on the serial console, the guest's uptime: no clock sync between host and guest).
// Needs root, libvirt and an image (`agentshare image build`; copied from the cache). ~4 min.
//   npx tsx scripts/bench/provision.bench.ts [--reps 5] [--boots 2]
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(repo, "dist", "cli", "main.js");
const arg = (flag: string, dflt: number) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPS = arg("--reps", 5);
const BOOTS = arg("--boots", 2);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

function run(argv: string[], check = true): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (check && r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const base = mkdtempSync(join(tmpdir(), "agentshare-bench-prov-"));
chmodSync(base, 0o711);
const root = join(base, "root");
const state = join(base, "state");
const as = (...args: string[]) => run([process.execPath, CLI, "--root", root, "--state-dir", state, ...args]);
const virsh = (...args: string[]) => run(["virsh", "-c", "qemu:///system", ...args], false);

/** The raw calls provision makes for one agent, on files provision itself wrote for another. */
function rawCalls(model: string, i: number): number {
  const dir = join(base, `raw-${i}`);
  mkdirSync(dir, { recursive: true });
  const img = join(state, "images", "debian-12.qcow2");
  const xml = readFileSync(join(state, "agents", model, "domain.xml"), "utf8")
    .replaceAll(`<name>${model}</name>`, `<name>raw-${process.pid}-${i}</name>`)
    .replace(/<uuid>[^<]*<\/uuid>/, "")
    .replaceAll(join(state, "agents", model), dir);
  writeFileSync(join(dir, "domain.xml"), xml);
  for (const f of ["user-data", "meta-data"]) copyFileSync(join(state, "agents", model, f), join(dir, f));
  const t0 = performance.now();
  run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", img, join(dir, "disk.qcow2"), "20G"]);
  run([
    "genisoimage",
    "-quiet",
    "-output",
    join(dir, "seed.iso"),
    "-volid",
    "cidata",
    "-joliet",
    "-rock",
    join(dir, "user-data"),
    join(dir, "meta-data"),
  ]);
  run(["virsh", "-c", "qemu:///system", "define", join(dir, "domain.xml")]);
  const ms = performance.now() - t0;
  virsh("undefine", `raw-${process.pid}-${i}`);
  return ms;
}

/** cloud-init's closing line comes a little after the marker (written by runcmd): wait for it. */
async function guestUptimeAtFinal(consoleLog: string): Promise<string | undefined> {
  for (let i = 0; i < 240; i++) {
    const text = readFileSync(consoleLog, "utf8");
    const up = /Cloud-init v\. \S+ finished at .*Up ([\d.]+) seconds/.exec(text)?.[1];
    if (up) return up;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

async function main() {
  try {
    as("image", "build");
    as("init");
    console.log(`load average at start: ${loadavg()}`);
    // 1. host-side overhead
    const ours: number[] = [];
    const raw: number[] = [];
    const stages: Record<string, number[]> = {};
    for (let i = 0; i < REPS; i++) {
      const name = `bench-${i}`;
      const r = as(
        "--json",
        "provision",
        name,
        "--no-start",
        "--domain-type",
        "qemu",
        "--access",
        "loopback",
      );
      ours.push(r.ms);
      for (const [k, v] of Object.entries(JSON.parse(r.stdout).timings as Record<string, number>))
        (stages[k] ??= []).push(v);
      raw.push(rawCalls(name, i));
      as("destroy", name, "--timeout", "0", "--purge-inbox");
    }
    const [mo, mr] = [median(ours), median(raw)];
    console.log(`provision --no-start (whole CLI), median of ${REPS}: ${mo.toFixed(0)} ms`);
    console.log(`raw qemu-img + genisoimage + virsh define, median of ${REPS}: ${mr.toFixed(0)} ms`);
    console.log(
      `ratio ${(mo / mr).toFixed(2)}; stages (median ms): ${Object.entries(stages)
        .map(([k, v]) => `${k} ${median(v)}`)
        .join(", ")}`,
    );
    // 2. provision → ready vs the guest's own boot
    for (let i = 0; i < BOOTS; i++) {
      const name = `boot-${i}`;
      const r = as(
        "--json",
        "provision",
        name,
        "--domain-type",
        "qemu",
        "--access",
        "loopback",
        "--timeout",
        "600",
      );
      const t = JSON.parse(r.stdout).timings as Record<string, number>;
      const up = await guestUptimeAtFinal(join(state, "agents", name, "console.log"));
      const toReady = (t.start ?? 0) + (t.wait ?? 0);
      const host = Object.entries(t)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
      console.log(
        `boot ${i + 1}: provision total ${(r.ms / 1000).toFixed(1)} s (${host} ms); start+wait ${(toReady / 1000).toFixed(1)} s; ` +
          `guest kernel→cloud-init final ${up ?? "?"} s; ratio ${up ? (toReady / 1000 / Number(up)).toFixed(2) : "?"}; load ${loadavg()}`,
      );
      as("destroy", name, "--timeout", "0", "--purge-inbox");
    }
  } finally {
    for (let i = 0; i < Math.max(REPS, BOOTS); i++)
      for (const n of [`bench-${i}`, `boot-${i}`])
        spawnSync(process.execPath, [
          CLI,
          "--root",
          root,
          "--state-dir",
          state,
          "destroy",
          n,
          "--timeout",
          "0",
        ]);
    await unmountIfMounted(localRunner, join(root, "global-ro"));
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
