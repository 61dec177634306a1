// Host memory per idle agent under TCG (issue 13 goal 3), side by side in one session: agents of
// the default profile (1024 MiB, 2 vCPUs, the built image, `--access loopback`) with QEMU's own
// translation cache (no <tb-cache>: today's XML) and with the variants named, each agent's QEMU
// VmRSS (and virtiofsd's) from /proc after IDLE seconds idle; provision → ready per agent and the
// CPU time QEMU used for it (a small cache re-translates: more CPU, whatever the load); exec
// latency (`exec --no-run -- true` and a Python import) per agent, alternating, median of REPS;
// VmRSS again after a 300 MB burst in the guest has ended (free page reporting returns it or not).
// At most 4 VMs at once (one round = one agent per variant, booted one after another, the order
// rotated per round). Needs root, libvirt and the image (`agentshare image build`, cached).
//   npx tsx scripts/bench/density.bench.ts [--rounds 1] [--idle 90] [--reps 5] [--variants default,64+fpr,128+fpr,128]
// A variant is `default` (QEMU's cache, no free page reporting), `N` (tb-cache N MiB) or `N+fpr`.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unmountIfMounted } from "../../src/adapters/mount.js";
import { localRunner } from "../../src/adapters/runner.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(repo, "dist", "cli", "main.js");
const opt = (flag: string, dflt: string) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const ROUNDS = Number(opt("--rounds", "1"));
const IDLE_S = Number(opt("--idle", "90"));
const REPS = Number(opt("--reps", "5"));
const VARIANTS = opt("--variants", "default,64+fpr,128+fpr,128").split(",");
if (VARIANTS.length > 4) throw new Error("at most 4 variants: at most 4 VMs at once");
const PY = "import json, email.parser, http.client, decimal, argparse";

/** 300 MB touched, then freed when the process ends. */
const BURST = "b = bytearray(300 * 1000 * 1000); b[::4096] = b'x' * len(b[::4096])";
const BURST_SETTLE_S = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const MB = (kib: number) => (kib / 1000) * 1.024; // kB in /proc are KiB; figures in MB (10^6)
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(argv: string[], check = true): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  const ms = performance.now() - t0;
  if (check && r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const base = mkdtempSync(join(tmpdir(), "agentshare-bench-dense-"));
chmodSync(base, 0o711);
const root = join(base, "root");
const state = join(base, "state");
const as = (...args: string[]) => run([process.execPath, CLI, "--root", root, "--state-dir", state, ...args]);

/** A config file per variant: `default` is today's XML (no tb-cache, balloon as libvirt adds it). */
function configFor(variant: string): string {
  const m = /^(default|\d+)(\+fpr)?$/.exec(variant);
  if (!m) throw new Error(`variant ${variant}: want default, N or N+fpr`);
  const f = join(base, `config-${variant}.yaml`);
  const cache = m[1] === "default" ? "null" : m[1];
  writeFileSync(f, `tcgCache: ${cache}\nfreePageReporting: ${m[2] ? "true" : "false"}\n`);
  return f;
}

const kibIn = (text: string, k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);

/** VmRSS and its parts (KiB) of one process; Pss shares the QEMU binary's pages among the QEMUs. */
function rssOf(pid: number): { rss: number; anon: number; shmem: number; pss: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const pss = kibIn(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"), "Pss");
  return { rss: kibIn(s, "VmRSS"), anon: kibIn(s, "RssAnon"), shmem: kibIn(s, "RssShmem"), pss };
}

/** All virtiofsd processes serving this bench's shares (2 shares per agent, 2 processes each). */
function virtiofsdRss(): number {
  let total = 0;
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      if (cmd.includes("virtiofsd") && cmd.includes(`source=${root}/`)) total += rssOf(Number(p)).rss;
    } catch {
      /* gone */
    }
  }
  return total;
}

/** CPU seconds QEMU has used so far (user + system): the boot's cost whatever the load beside it. */
function cpuSecondsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in USER_HZ ticks
}

const qemuPid = (name: string) => Number(readFileSync(`/run/libvirt/qemu/${name}.pid`, "utf8").trim());

/** The guest's own view: MemTotal − MemAvailable, in MB. */
function guestUsedMB(name: string): number {
  const mi = as("exec", name, "--no-run", "--", "cat", "/proc/meminfo").stdout;
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(mi)?.[1] ?? 0);
  return MB(kib("MemTotal") - kib("MemAvailable"));
}

interface Row {
  variant: string;
  bootS: number[];
  bootCpuS: number[];
  idle: ReturnType<typeof rssOf>[];
  fsd: number[];
  guestMB: number[];
  afterExec: number[];
  afterBurst: number[];
  trueMs: number[];
  pyMs: number[];
}

async function round(r: number, rows: Map<string, Row>) {
  const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
  const names = new Map<string, string>();
  for (const v of order) {
    const name = `dense-${r}-${v.replace("+", "-")}`;
    names.set(v, name);
    const p = as(
      "--config",
      configFor(v),
      "--json",
      "provision",
      name,
      "--domain-type",
      "qemu",
      "--access",
      "loopback",
    );
    const t = JSON.parse(p.stdout).timings as Record<string, number>;
    const cpu = cpuSecondsOf(qemuPid(name));
    rows.get(v)!.bootS.push(((t.start ?? 0) + (t.wait ?? 0)) / 1000);
    rows.get(v)!.bootCpuS.push(cpu);
    console.log(
      `round ${r + 1}: ${v} ready, start+wait ${((t.start! + t.wait!) / 1000).toFixed(1)} s, QEMU CPU ${cpu.toFixed(1)} s; load ${loadavg()}`,
    );
  }
  await sleep(IDLE_S * 1000);
  for (const v of order) {
    const name = names.get(v)!;
    const row = rows.get(v)!;
    row.idle.push(rssOf(qemuPid(name)));
    row.fsd.push(virtiofsdRss() / order.length);
  }
  for (const v of order) rows.get(v)!.guestMB.push(guestUsedMB(names.get(v)!));
  const times = new Map<string, { t: number[]; p: number[] }>(order.map((v) => [v, { t: [], p: [] }]));
  for (let i = 0; i < REPS; i++)
    for (const v of i % 2 ? [...order].reverse() : order) {
      const name = names.get(v)!;
      times.get(v)!.t.push(as("exec", name, "--no-run", "--", "true").ms);
      times.get(v)!.p.push(as("exec", name, "--no-run", "--", "python3", "-c", PY).ms);
    }
  for (const v of order) {
    const row = rows.get(v)!;
    row.trueMs.push(median(times.get(v)!.t));
    row.pyMs.push(median(times.get(v)!.p));
    row.afterExec.push(rssOf(qemuPid(names.get(v)!)).rss);
  }
  // a workload that peaks and ends: do the pages it freed go back to the host?
  for (const v of order) as("exec", names.get(v)!, "--no-run", "--", "python3", "-c", BURST);
  await sleep(BURST_SETTLE_S * 1000);
  for (const v of order) rows.get(v)!.afterBurst.push(rssOf(qemuPid(names.get(v)!)).rss);
  for (const name of names.values()) as("destroy", name, "--timeout", "0", "--purge-inbox");
}

function report(rows: Map<string, Row>) {
  const f = (xs: number[], d = 0) => xs.map((x) => x.toFixed(d)).join(" / ");
  console.log(`\nper variant (one figure per round):`);
  for (const row of rows.values()) {
    const total = row.idle.map((x, i) => MB(x.rss + (row.fsd[i] ?? 0)));
    const per24 = total.map((t) => Math.floor((24 * 1024 ** 3) / (t * 1e6)));
    console.log(
      `${row.variant}: idle QEMU VmRSS ${f(row.idle.map((x) => MB(x.rss)))} MB (anon ${f(row.idle.map((x) => MB(x.anon)))}, ` +
        `guest RAM shmem ${f(row.idle.map((x) => MB(x.shmem)))}; Pss ${f(row.idle.map((x) => MB(x.pss)))}); virtiofsd ×2 ${f(row.fsd.map(MB))} MB; ` +
        `guest used ${f(row.guestMB)} MB; after exec ${f(row.afterExec.map(MB))} MB; ` +
        `${BURST_SETTLE_S} s after a 300 MB burst ${f(row.afterBurst.map(MB))} MB; ` +
        `agents per 24 GiB ${per24.join(" / ")}; start+wait ${f(row.bootS, 1)} s (QEMU CPU ${f(row.bootCpuS, 1)} s); ` +
        `exec true ${f(row.trueMs)} ms; exec python3 imports ${f(row.pyMs)} ms`,
    );
  }
}

async function main() {
  const rows = new Map<string, Row>(
    VARIANTS.map((v) => [
      v,
      {
        variant: v,
        bootS: [],
        bootCpuS: [],
        idle: [],
        fsd: [],
        guestMB: [],
        afterExec: [],
        afterBurst: [],
        trueMs: [],
        pyMs: [],
      },
    ]),
  );
  try {
    as("image", "build");
    as("init");
    console.log(`variants ${VARIANTS.join(", ")}; idle ${IDLE_S} s; load average at start: ${loadavg()}`);
    for (let r = 0; r < ROUNDS; r++) await round(r, rows);
    report(rows);
  } finally {
    for (let r = 0; r < ROUNDS; r++)
      for (const v of VARIANTS)
        spawnSync(process.execPath, [
          ...[CLI, "--root", root, "--state-dir", state],
          ...["destroy", `dense-${r}-${v.replace("+", "-")}`, "--timeout", "0", "--purge-inbox"],
        ]);
    await unmountIfMounted(localRunner, join(root, "global-ro"));
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
