// Start-up of the built CLI (dist/cli/main.js) against a baseline build, side by side, alternating
// order, median of REPS: `--version`, `--help`, and `exec --no-run -- true` to a real sshd on
// 127.0.0.1 (started like the tests do, as root). BENCH_STARTUP_BASELINE names the baseline's
// main.js (e.g. the previous commit built in a temp folder); without it, only node itself.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { REPO, TEST_USER, ensureTestUser, startSshServer } from "../../test/unit/ssh-harness.js";

const REPS = Number(process.env.BENCH_STARTUP_REPS ?? 20);
/** Login user: by default the non-root /bin/sh user, so no shell start-up files are timed. */
const USER = process.env.BENCH_EXEC_USER ?? TEST_USER;
const CLIS: Record<string, string> = {
  node: "",
  ...(process.env.BENCH_STARTUP_BASELINE ? { baseline: process.env.BENCH_STARTUP_BASELINE } : {}),
  ours: join(REPO, "dist", "cli", "main.js"),
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg().map((x) => x.toFixed(2));
let retries = 0;

/**
 * Times one run; a failed run is run again and counted: now and then an `exec` of `true` ends with
 * "the SSH connection … ended before the command reported its exit status" (old build and new).
 */
function timeNode(argv: string[]): number {
  for (;;) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, argv, { stdio: ["ignore", "ignore", "pipe"] });
    if (r.status === 0) return performance.now() - t0;
    if (++retries > REPS) throw new Error(`node ${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
}

/** Times `args` for every CLI, REPS rounds, the order reversed every other round. */
function sideBySide(label: string, args: string[]): void {
  const names = Object.keys(CLIS);
  const t: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < REPS; i++)
    for (const n of i % 2 ? [...names].reverse() : names)
      t[n]!.push(timeNode(CLIS[n] ? [CLIS[n]!, ...args] : ["-e", ""]));
  const cells = names.map((n) => `${n} ${median(t[n]!).toFixed(0)} ms`);
  console.log(`${label}, median of ${REPS}: ${cells.join(", ")}`);
}

async function main() {
  for (const [n, p] of Object.entries(CLIS))
    if (p && !existsSync(p)) throw new Error(`${n}: ${p} does not exist (npm run build?)`);
  if (USER === TEST_USER) ensureTestUser();
  const s = await startSshServer("benchstart");
  try {
    console.log(`user ${USER}, load average before ${load().join(" ")}`);
    sideBySide("--version", ["--version"]);
    sideBySide("--help", ["--help"]);
    const target = ["--address", "127.0.0.1", "--port", `${s.port}`, "--user", USER, "--no-run"];
    sideBySide("exec -- true", ["--state-dir", s.stateDir, "exec", s.agent, ...target, "--", "true"]);
    console.log(`load average after ${load().join(" ")}; ${retries} failed runs were run again`);
  } finally {
    await s.stop();
  }
}

await main();
