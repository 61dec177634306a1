// Cost of the in-guest per-run wrapper (cloud-init/agentshare-run), each against a baseline run side
// by side: start-up (wrapper around `true` vs `true` alone and vs a bare `python3 -I -c pass`) and
// tee throughput (256 MiB through the wrapper vs coreutils `tee` to a file + /dev/null, then `sync FILE`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const WRAPPER = fileURLToPath(new URL("../../cloud-init/agentshare-run", import.meta.url));
const STARTS = 30;
const BYTES = 256 * 1024 * 1024;
const REPS = 5;

/** Wall-clock milliseconds of one run of argv (stdio to /dev/null); throws if it fails. */
function timeMs(argv: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: status ${r.status}, ${r.error ?? ""}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the candidates interleaved `n` times each and returns each one's median in ms. */
function interleaved(n: number, candidates: Record<string, () => string[]>): Record<string, number> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
  for (let i = 0; i < n; i++)
    for (const [k, argv] of Object.entries(candidates)) times[k]!.push(timeMs(argv()));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** 256 MiB through the wrapper vs through `tee FILE >/dev/null; sync FILE` (the wrapper fsyncs its logs). */
function throughput(base: string) {
  const dir = mkdtempSync(join(base, "bench-run-wrapper-"));
  try {
    const inbox = join(dir, "inbox");
    mkdirSync(inbox);
    const produce = `head -c ${BYTES} /dev/zero`;
    const out = join(dir, "tee.out");
    const t = interleaved(REPS, {
      tee: () => ["sh", "-c", `${produce} | tee ${out} >/dev/null; sync ${out}`],
      wrapper: () => [WRAPPER, "--inbox", inbox, "--", "sh", "-c", produce],
    });
    const mibs = (ms: number) => (BYTES / 1048576 / (ms / 1000)).toFixed(0);
    console.log(
      `throughput into ${base}, ${BYTES / 1048576} MiB, median of ${REPS}: tee+sync ${mibs(t.tee!)} MiB/s, ` +
        `agentshare-run ${mibs(t.wrapper!)} MiB/s; time ratio wrapper/tee ${(t.wrapper! / t.tee!).toFixed(2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const dir = mkdtempSync(join(tmpdir(), "bench-run-wrapper-"));
  try {
    const inbox = join(dir, "inbox");
    mkdirSync(inbox);
    const start = interleaved(STARTS, {
      direct: () => ["true"],
      python: () => ["/usr/bin/python3", "-I", "-c", "pass"],
      wrapper: () => [WRAPPER, "--inbox", inbox, "--", "true"],
    });
    console.log(
      `start-up, median of ${STARTS}: true ${start.direct!.toFixed(1)} ms, /usr/bin/python3 -I -c pass ` +
        `${start.python!.toFixed(1)} ms, agentshare-run -- true ${start.wrapper!.toFixed(1)} ms`,
    );
    console.log(
      `  wrapper overhead ${(start.wrapper! - start.direct!).toFixed(1)} ms; ` +
        `ratio to bare python3 start ${(start.wrapper! / start.python!).toFixed(2)}`,
    );
    for (const base of [dir, ...(existsSync("/dev/shm") ? ["/dev/shm"] : [])]) throughput(base);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
