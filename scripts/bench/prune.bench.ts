// prune of 10,000 run directories (~23 files each) against `rm -rf --one-file-system` of an
// identical copy, run side by side and alternating, median of 3. prune runs in-process (the
// op the CLI calls, keep-last 1, so it deletes 9,999 runs: a rename per run into the trash,
// du then rm per part, all audit lines in one append); `cp -a` makes each fresh copy.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";
import type { OpContext as Context } from "../../src/ops/context.js";
import { createOutput } from "../../src/cli/output.js";
import { hostPaths } from "../../src/core/paths.js";
import { formatRunName } from "../../src/core/run-names.js";
import { prune } from "../../src/ops/prune.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 10_000);
const REPS = 3;
const FILES = ["stdout.log", "stderr.log", "agent.log", "metrics.json", "run.json"];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sh(cmd: string): void {
  const r = spawnSync("sh", ["-c", cmd], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.status}`);
}

/** runs/ with RUNS runs: 5 top files, outputs/ with 10, trace/ with 8 (23 files, 2 folders). */
function makeTemplate(inbox: string): void {
  const t0 = Date.UTC(2025, 0, 1);
  for (let i = 0; i < RUNS; i++) {
    const dir = join(inbox, "runs", formatRunName(new Date(t0 + i * 60_000)));
    mkdirSync(join(dir, "outputs"), { recursive: true });
    mkdirSync(join(dir, "trace"));
    for (const f of FILES) writeFileSync(join(dir, f), "x".repeat(200));
    for (let k = 0; k < 10; k++) writeFileSync(join(dir, "outputs", `out-${k}.txt`), "y".repeat(500));
    for (let k = 0; k < 8; k++) writeFileSync(join(dir, "trace", `t-${k}.json`), "{}");
  }
}

async function timePrune(root: string, state: string): Promise<number> {
  const opts = {
    root,
    stateDir: state,
    connect: "",
    config: join(root, "none.yaml"),
    json: true,
    debug: false,
  };
  writeFileSync(opts.config, "retention:\n  keepLast: 1\n  maxAge: null\n");
  const ctx: Context = {
    opts,
    paths: hostPaths(root, state),
    host: localHost(localRunner),
    run: localRunner,
    out: createOutput(opts),
    clock: () => new Date(),
  };
  const t0 = performance.now();
  const [r] = await prune(ctx, { agents: ["bench"], dryRun: false });
  const ms = performance.now() - t0;
  if (r?.status !== "ok" || r.runs.filter((x) => x.deleted).length !== RUNS - 1)
    throw new Error(`prune failed: ${JSON.stringify(r).slice(0, 300)}`);
  return ms;
}

function timeRm(dir: string): number {
  const t0 = performance.now();
  sh(`rm -rf --one-file-system -- ${dir}`);
  return performance.now() - t0;
}

async function main() {
  // tmpfs by default: this ext4 is mounted with `discard`, which makes every unlink slow and the run long
  const base = mkdtempSync(
    join(process.env.BENCH_DIR ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir()), "bench-prune-"),
  );
  try {
    const template = join(base, "template");
    console.log(`making ${RUNS} runs × 23 files…`);
    makeTemplate(template);
    const times = { prune: [] as number[], rm: [] as number[] };
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? ["prune", "rm"] : ["rm", "prune"];
      for (const which of order) {
        const root = join(base, `r${rep}-${which}`);
        mkdirSync(root);
        sh(`cp -a ${template} ${join(root, "bench-inbox")} && sync`);
        if (which === "prune") times.prune.push(await timePrune(root, join(base, `s${rep}`)));
        else times.rm.push(timeRm(join(root, "bench-inbox", "runs")));
        rmSync(root, { recursive: true, force: true });
      }
    }
    const p = median(times.prune);
    const r = median(times.rm);
    console.log(
      `prune ${RUNS} runs: ${times.prune.map((x) => x.toFixed(0)).join(", ")} ms (median ${p.toFixed(0)})`,
    );
    console.log(
      `rm -rf --one-file-system: ${times.rm.map((x) => x.toFixed(0)).join(", ")} ms (median ${r.toFixed(0)})`,
    );
    console.log(`ratio prune / rm -rf: ${(p / r).toFixed(2)} (goal ≤ 1.3)`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
