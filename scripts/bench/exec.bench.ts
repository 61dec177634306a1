// `agentshare exec` against OpenSSH's own `ssh` client, side by side, alternating order, against the
// same real sshd on 127.0.0.1 (started like the tests do, as root): (1) latency of one `true`,
// median of REPS, for the bundled CLI (node start included) and for connect+exec in-process;
// (2) throughput of BENCH_EXEC_MIB MiB of stdout into /dev/null.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { build } from "esbuild";
import { sshConnect, sshExec } from "../../src/adapters/ssh.js";
import { loadAgentKeys } from "../../src/adapters/ssh-keys.js";
import {
  REPO,
  TEST_USER,
  ensureTestUser,
  startSshServer,
  type SshServer,
} from "../../test/unit/ssh-harness.js";
import { localRunner } from "../../src/adapters/runner.js";
import { localHost } from "../../src/host/local.js";

const host = localHost(localRunner);

const REPS = Number(process.env.BENCH_EXEC_REPS ?? 15);
const MIB = Number(process.env.BENCH_EXEC_MIB ?? 512);
/** Login user: root (bash reads root's ~/.bashrc) or, with BENCH_EXEC_USER=agentshare-sshtest, /bin/sh. */
const USER = process.env.BENCH_EXEC_USER ?? "root";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeArgv(argv: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return performance.now() - t0;
}

/**
 * Bundles the CLI from source into .test-out/ (inside the repo, so node_modules resolves), as
 * dist/ may be stale; a bundle starts a little faster than tsc's many files. With splitting, each
 * command's `import()` stays a chunk of its own (one file would hoist every package import).
 */
async function bundleCli(): Promise<string> {
  const outdir = join(REPO, ".test-out", "bench-exec");
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { agentshare: join(REPO, "src/cli/main.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "warning",
  });
  return join(outdir, "agentshare.mjs");
}

async function inProcess(s: SshServer): Promise<number> {
  const k = await loadAgentKeys(host, s.agentDir);
  const t0 = performance.now();
  const conn = await sshConnect({
    ...{ host: "127.0.0.1", port: s.port, username: USER, label: "bench" },
    ...{ knownHostsPath: k.knownHostsPath, privateKey: k.privateKey, hostKeys: k.hostKeys },
  });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  await sshExec(conn, "exec true", { stdout: sink, stderr: sink });
  conn.end();
  return performance.now() - t0;
}

function report(label: string, base: number[], ours: number[], unit: (ms: number) => string) {
  const b = median(base);
  const o = median(ours);
  console.log(`${label}: ssh ${unit(b)}, agentshare ${unit(o)}, ratio ${(o / b).toFixed(2)} × (time)`);
}

async function main() {
  if (USER === TEST_USER) ensureTestUser();
  const s = await startSshServer("benchexec");
  const dir = mkdtempSync(join(tmpdir(), "bench-exec-"));
  try {
    const cli = await bundleCli();
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, `[127.0.0.1]:${s.port} ${s.keys.hostPublicKey}\n`);
    const ssh = ["ssh", "-i", join(s.agentDir, "id_ed25519"), "-p", `${s.port}`];
    const sshOpts = [
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
    ];
    const base = [...ssh, ...sshOpts, "-o", "HostKeyAlgorithms=ssh-ed25519", `${USER}@127.0.0.1`];
    const ours = [process.execPath, cli, "--state-dir", s.stateDir, "exec", s.agent, "--user", USER];
    const oursArgs = [...ours, "--address", "127.0.0.1", "--port", `${s.port}`, "--no-run", "--"];
    const lat = { ssh: [] as number[], cli: [] as number[], inproc: [] as number[] };
    for (let i = 0; i < REPS; i++) {
      const pair = [
        () => lat.ssh.push(timeArgv([...base, "true"])),
        () => lat.cli.push(timeArgv([...oursArgs, "true"])),
      ];
      for (const f of i % 2 ? pair.reverse() : pair) f();
      lat.inproc.push(await inProcess(s));
    }
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    console.log(`user ${USER}, load average ${loadavg()[0]!.toFixed(2)}`);
    report(`latency of \`true\`, CLI, median of ${REPS}`, lat.ssh, lat.cli, ms);
    report(`latency of \`true\`, ssh2 connect+exec in-process, median of ${REPS}`, lat.ssh, lat.inproc, ms);
    const cmd = `head -c ${MIB}M /dev/zero`;
    const tp = { ssh: [] as number[], cli: [] as number[] };
    for (let i = 0; i < 3; i++) {
      tp.ssh.push(timeArgv([...base, cmd]));
      tp.cli.push(timeArgv([...oursArgs, "sh", "-c", cmd]));
    }
    report(
      `${MIB} MiB stdout to /dev/null, median of 3`,
      tp.ssh,
      tp.cli,
      (t) => `${(MIB / (t / 1000)).toFixed(0)} MiB/s`,
    );
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
