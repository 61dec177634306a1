// Host setup and the test guest, each against a baseline run side by side (interleaved):
//  1. a second `scripts/host-setup.sh` run (everything already ok) vs one bare `virsh version`;
//  2. `scripts/build-test-guest.sh` cached vs a forced rebuild;
//  3. a test-guest VM cycle (define → start → ready marker in the inbox → power off → undefine)
//     through our adapters, without a network (baseline) vs with DHCP on the default network.
// Needs root and libvirt (runs host-setup first). ~1 minute.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDomainXml } from "../../src/core/domain-xml.js";
import { READY_MARKER } from "../../src/core/paths.js";
import { ensureReadOnlyBind, unmountIfMounted } from "../../src/adapters/mount.js";
import { localHost } from "../../src/host/local.js";
import { localRunner as run } from "../../src/adapters/runner.js";
import { writeSeedIso } from "../../src/adapters/seed-iso.js";
import * as virsh from "../../src/adapters/virsh.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const guest = join(repo, ".test-out", "guest");
const U = "qemu:///system";
const REPS = 5;
const CYCLES = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

function timeMs(argv: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0] as string, argv.slice(1), { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed with status ${r.status}`);
  return performance.now() - t0;
}

/** Runs the two commands interleaved REPS times; prints both medians and the ratio. */
function pair(label: string, baseline: [string, string[]], candidate: [string, string[]]): void {
  const [b, c]: [number[], number[]] = [[], []];
  for (let i = 0; i < REPS; i++) {
    b.push(timeMs(baseline[1]));
    c.push(timeMs(candidate[1]));
  }
  const [mb, mc] = [median(b), median(c)];
  console.log(
    `${label}, median of ${REPS}: ${baseline[0]} ${fmt(mb)}, ${candidate[0]} ${fmt(mc)}; ratio ${(mc / mb).toFixed(2)}`,
  );
}

/** One define → ready → shut off → undefine cycle of the test guest; returns [ms to ready, ms in all]. */
async function cycle(dir: string, i: number, net: boolean): Promise<[number, number]> {
  const d = join(dir, `c${i}`);
  for (const sub of ["global/tools", "global-ro", "inbox"]) mkdirSync(join(d, sub), { recursive: true });
  writeFileSync(join(d, "global/tools/hello.txt"), "bench\n");
  chownSync(join(d, "inbox"), 4321, 4321);
  await ensureReadOnlyBind(localHost(run), join(d, "global"), join(d, "global-ro"));
  await writeSeedIso(
    localHost(run),
    { userData: "#cloud-config\n", metaData: "instance-id: b\n" },
    join(d, "seed.iso"),
  );
  const name = `agentshare-bench-${process.pid}-${i}`;
  const cmdline = `console=ttyS0 agentshare.instance=iid-${i} agentshare.poweroff=1${net ? " agentshare.net=1" : ""}`;
  const xml = buildDomainXml({
    ...{
      name,
      uuid: crypto.randomUUID(),
      description: "bench",
      memoryMiB: 256,
      vcpus: 1,
      domainType: "qemu",
    },
    kernel: { path: join(guest, "vmlinuz"), initrd: join(guest, "initramfs.cpio.gz"), cmdline },
    ...{ seedIso: join(d, "seed.iso"), globalDir: join(d, "global-ro"), inboxDir: join(d, "inbox") },
    ...{ readonlyGlobal: false, network: net ? "default" : null, consoleLog: join(d, "console.log") },
    metadata: {
      specHash: "0".repeat(64),
      createdAt: new Date().toISOString(),
      command: "",
      instanceId: `iid-${i}`,
    },
  });
  writeFileSync(join(d, "domain.xml"), xml);
  const t0 = performance.now();
  await virsh.defineDomain(run, U, join(d, "domain.xml"));
  await virsh.startDomain(run, U, name);
  while (!existsSync(join(d, "inbox", READY_MARKER))) await new Promise((r) => setTimeout(r, 20));
  const ready = performance.now() - t0;
  while ((await virsh.getDomState(run, U, name)) !== "shut off") await new Promise((r) => setTimeout(r, 20));
  await virsh.undefineDomain(run, U, name);
  const all = performance.now() - t0;
  await unmountIfMounted(run, join(d, "global-ro"));
  return [ready, all];
}

async function vmCycles(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-host-setup-"));
  chmodSync(dir, 0o755); // QEMU runs as libvirt-qemu and must reach the seed ISO
  try {
    const res: Record<string, Array<[number, number]>> = { plain: [], net: [] };
    for (let i = 0; i < CYCLES; i++) {
      res.plain?.push(await cycle(dir, 2 * i, false));
      res.net?.push(await cycle(dir, 2 * i + 1, true));
    }
    const m = (k: string, j: 0 | 1) => median((res[k] ?? []).map((x) => x[j]));
    console.log(
      `test guest cycle, median of ${CYCLES}: no network (baseline) ready ${fmt(m("plain", 0))}, all ${fmt(m("plain", 1))}; ` +
        `with DHCP ready ${fmt(m("net", 0))}, all ${fmt(m("net", 1))}; ratio ready ${(m("net", 0) / m("plain", 0)).toFixed(2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root: it needs libvirt's system URI and bind mounts");
  timeMs(["bash", join(repo, "scripts/host-setup.sh"), "--quiet"]);
  timeMs(["bash", join(repo, "scripts/build-test-guest.sh"), guest]);
  pair(
    "host-setup.sh second run",
    ["`virsh version` (baseline)", ["virsh", "-c", U, "version"]],
    ["host-setup.sh --quiet", ["bash", join(repo, "scripts/host-setup.sh"), "--quiet"]],
  );
  const tmpGuest = mkdtempSync(join(tmpdir(), "bench-guest-"));
  try {
    const script = join(repo, "scripts/build-test-guest.sh");
    pair(
      "build-test-guest.sh",
      ["forced rebuild (baseline)", ["bash", script, tmpGuest, "--force"]],
      ["cached", ["bash", script, tmpGuest]],
    );
  } finally {
    rmSync(tmpGuest, { recursive: true, force: true });
  }
  await vmCycles();
}

await main();
