// Boot of the built Debian 12 image under libvirt (TCG), with our cloud-init user-data: the
// image's trimmed cloud-init module lists vs Debian's stock lists (restored through
// user-data) as the baseline, side by side. Needs root, libvirt and a built or cached image
// (`agentshare image build`; this script builds it, from the cache when there is one).
//   npx tsx scripts/bench/image-boot.bench.ts [--rounds N] [--keep DIR]
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";
import { createOutput } from "../../src/cli/output.js";
import { DEFAULT_IMAGE_CACHE, hostPaths } from "../../src/core/paths.js";
import { buildImage } from "../../src/ops/image-build.js";
import { bootImage, type BootResult } from "./image-boot-harness.js";
import { checkConsole, checkDiag } from "./image-boot-spec.js";

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(arg("--rounds") ?? 1);
const keep = arg("--keep");
const s = (ms: number | undefined) => (ms === undefined ? "—" : `${(ms / 1000).toFixed(1)} s`);
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] ?? NaN) : ((v[mid - 1] ?? NaN) + (v[mid] ?? NaN)) / 2;
};

const stateDir = process.env.AGENTSHARE_STATE_DIR ?? "/var/tmp/agentshare-bench-image";
await mkdir(stateDir, { recursive: true });
const ctx = {
  paths: hostPaths("/nonexistent-root", stateDir),
  host: localHost(localRunner),
  run: localRunner,
  out: createOutput({ json: false }),
  clock: () => new Date(),
  opts: { root: "", stateDir, connect: "qemu:///system", json: false, debug: false },
};
const t0 = Date.now();
const img = await buildImage(ctx, {
  name: "debian-12",
  rebuild: false,
  size: "2G",
  cacheDir: process.env.AGENTSHARE_IMAGE_CACHE ?? DEFAULT_IMAGE_CACHE,
});
console.log(
  `image: ${img.files.qcow2} (${img.source}, ${s(Date.now() - t0)}), recipe ${img.meta.recipeKey}, built ${img.meta.builtAt}`,
);

const results: Record<"trimmed" | "stock", BootResult[]> = { trimmed: [], stock: [] };
for (let r = 0; r < rounds; r++)
  for (const variant of ["stock", "trimmed"] as const) {
    const res = await bootImage({
      image: img.files,
      variant,
      vcpus: 2,
      memoryMiB: 512,
      timeoutMs: 240_000,
      keepDir: keep && join(keep, `${variant}-${r}`),
    });
    results[variant].push(res);
    const failed = [...checkDiag(res.diag), ...checkConsole(res.console)];
    const boot = /Startup finished in (.*)$/m.exec(res.diag)?.[1] ?? "?";
    console.log(
      `${variant.padEnd(7)} round ${r + 1}: define ${s(res.defineMs)}, start ${s(res.startMs)}, marker ${s(res.markerMs)}, cloud-init done ${s(res.diagMs)}; guest: ${boot.trim()}; network ${res.network ?? "none"}; checks ${failed.length ? `FAILED: ${failed.join(", ")}` : "all passed"}`,
    );
    const blame = /== cloud-init analyze blame\n-- Boot Record 01 --\n((?:.*\n){5})/.exec(res.diag)?.[1];
    if (blame) console.log(`  slowest cloud-init modules:\n${blame.trimEnd()}`);
  }
/** Seconds cloud-init spent in its modules and stages (`cloud-init analyze blame`): less noisy than wall time. */
const moduleSeconds = (diag: string) =>
  [...(/== cloud-init analyze blame\n([\s\S]*?)\n==/.exec(diag)?.[1] ?? "").matchAll(/([\d.]+)s \(/g)].reduce(
    (sum, x) => sum + Number(x[1]),
    0,
  );
const mm = (v: "trimmed" | "stock") => median(results[v].map((x) => moduleSeconds(x.diag) * 1000));
const m = (v: "trimmed" | "stock") => median(results[v].map((x) => x.markerMs));
console.log(
  `boot → readiness marker, median of ${rounds}: stock modules (baseline) ${s(m("stock"))}, trimmed (image) ${s(m("trimmed"))}; ratio ${(m("trimmed") / m("stock")).toFixed(2)} ×`,
);
console.log(
  `cloud-init module time, median: stock ${s(mm("stock"))}, trimmed ${s(mm("trimmed"))}; ratio ${(mm("trimmed") / mm("stock")).toFixed(2)} ×`,
);
