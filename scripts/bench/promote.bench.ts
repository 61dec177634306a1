// promote of a 1 GiB file (one pass: read, sha256, write, fsync, rename) against
// `sha256sum f && cp f dst` (two passes, no fsync) and the same plus `sync dst`, run side by
// side, alternating order, warm page cache (caches cannot be dropped here), median of 3.
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";
import type { OpContext as Context } from "../../src/ops/context.js";
import { createOutput } from "../../src/cli/output.js";
import { hostPaths } from "../../src/core/paths.js";
import { promote } from "../../src/ops/promote.js";

const SIZE = Number(process.env.BENCH_MIB ?? 1024) * 1024 * 1024;
const REPS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeSh(cmd: string): number {
  const t0 = performance.now();
  const r = spawnSync("sh", ["-c", cmd], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.status}`);
  return performance.now() - t0;
}

function makeFile(path: string): void {
  const chunk = randomBytes(64 * 1024 * 1024);
  const fd = openSync(path, "w");
  for (let off = 0; off < SIZE; off += chunk.length)
    writeSync(fd, chunk, 0, Math.min(chunk.length, SIZE - off));
  closeSync(fd);
}

async function main() {
  const base = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "bench-promote-"));
  try {
    const root = join(base, "root");
    for (const d of ["staging", "global/tools", "out"]) mkdirSync(join(root, d), { recursive: true });
    const opts = {
      root,
      stateDir: join(base, "state"),
      connect: "",
      config: join(base, "c.yaml"),
      json: true,
      debug: false,
    };
    writeFileSync(opts.config, "{}\n");
    const ctx: Context = {
      opts,
      paths: hostPaths(root, opts.stateDir),
      host: localHost(localRunner),
      run: localRunner,
      out: createOutput(opts),
      clock: () => new Date(),
    };
    const src = join(root, "staging", "big.bin");
    makeFile(src);
    const dst = join(root, "out", "big.bin");
    const candidates: Record<string, () => Promise<number>> = {
      promote: async () => {
        const t0 = performance.now();
        await promote(ctx, { file: "big.bin", to: "tools", force: true });
        return performance.now() - t0;
      },
      "sha256sum+cp": async () => timeSh(`sha256sum ${src} >/dev/null && cp ${src} ${dst}`),
      "sha256sum+cp+sync": async () =>
        timeSh(`sha256sum ${src} >/dev/null && cp ${src} ${dst} && sync ${dst}`),
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
    await candidates.promote!(); // warm the page cache once
    for (let rep = 0; rep < REPS; rep++) {
      const names = Object.keys(candidates);
      for (const k of rep % 2 ? names.reverse() : names) {
        rmSync(dst, { force: true }); // untimed removal of the previous copy, for both sides
        for (const f of ["big.bin", "big.bin.sha256", "big.bin.meta.json"])
          rmSync(join(root, "global/tools", f), { force: true });
        spawnSync("sync"); // untimed: nobody pays for the previous candidate's dirty pages
        times[k]!.push(await candidates[k]!());
      }
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    for (const [k, v] of Object.entries(times))
      console.log(`${k}: ${v.map((x) => x.toFixed(0)).join(", ")} ms (median ${m[k]!.toFixed(0)})`);
    console.log(
      `ratio promote / (sha256sum && cp): ${(m.promote! / m["sha256sum+cp"]!).toFixed(2)} (goal ≤ 1.0)`,
    );
    console.log(
      `ratio promote / (sha256sum && cp && sync): ${(m.promote! / m["sha256sum+cp+sync"]!).toFixed(2)}`,
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
